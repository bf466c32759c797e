"""Backpropagation as courses teach it (cs231n, micrograd): the computational graph of an
expression, its forward values, local gradients, and the backward pass node by node.

Stage: derivatives, numbers at a point. ``graph(expr)`` stages an expression as a course stages
it: every operation is a node with a name (``q = x + y``, ``f = z·q``), n-ary sums and products
are folded into binary ones in the order they print, a sum of terms with a minus is a
subtraction (``f = y − x``), a factor with a negative power a division (``f = x/y``), and the
unary "gates" of cs231n have a node each: ``−u`` (×−1), ``u + c``, ``c·u``, ``1/u``, ``eᵘ``,
``uⁿ``, σ(u), … (``1/(1 + e^−(w₀x₀ + w₁x₁ + w₂))`` is the classic sigmoid neuron, staged as
w₀·x₀, w₁·x₁, two additions, ×−1, exp, +1 and 1/x). The same subexpression is one node, used
twice: its gradient is the sum of what it receives (``Pass`` shows the sum).

``backprop(expr, point)`` runs both passes at a point and returns a ``Backprop`` record:

- reverse mode (the default): each node's value, its local gradients ∂node/∂operand (a formula in
  the operands' names and its value), and the gradient ∂f/∂node it receives, in reverse
  topological order, ending in the gradient of every input;
- ``mode="forward"``: dual numbers, the tangent of each node for one input direction
  (``wrt="x"``, or ``direction={"x": 1, "y": 2}``), ending in the directional derivative;
- ``order=2``: the backward pass itself recorded as a graph (the gradient nodes ``dq = …``, as a
  nested ``GradientTape`` or torch's ``create_graph=True`` record it), and backprop through it:
  the gradient of ∂f/∂w node by node, which ends in the row ∂²f/∂w∂· of the Hessian.

Every number is exact until it is printed: nodes are links in the sense of ``symgrad.precise``
(each defined in terms of the ones before), evaluated with ball arithmetic
(``symgrad.evaluate``), so every digit shown is right; the gradient is also compared with
symgrad's own symbolic gradient at the point (``Backprop.check``). ``tests/test_backprop.py``
compares with torch autograd (a fixture recorded from torch 2.13, and live where torch is
installed).

To stage a new kind of node: add a branch to ``_Stager.stage`` that returns ``self.node(kind,
expression, operands)``; its local gradients come from ``sympy.diff`` of the expression in the
operands' symbols (written in the node's own name where the derivative repeats it: eᵘ → the node).

>>> result = backprop("(x + y) z", {"x": -2, "y": 5, "z": -4})
>>> [(n.name, n.text, value) for n, value in zip(result.graph.nodes, result.values)]
[('x', 'x', -2.0), ('y', 'y', 5.0), ('z', 'z', -4.0), ('q', 'x + y', 3.0), ('f', 'q·z', -12.0)]
>>> result.gradient
{'x': -4.0, 'y': -4.0, 'z': 3.0}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sympy as sp

from symgrad.errors import InputError
from symgrad.records import field, record

MAX_NODES = 400
"""Nodes in one graph: a course draws a dozen; a few hundred is already unreadable as a table,
and every value is evaluated exactly, link by link."""

MODES = ("reverse", "forward")

NAMES = tuple("qrstuvwabcdghkmnp")
"""Names of the intermediate nodes, in order (cs231n calls x + y q); f is the output. Letters that
are inputs, or the first letter of an input's name (w for w₀), are skipped; then q1, q2, …"""


@record
class Node:
    """One node of the graph.

    ``kind`` is ``input`` or the operation (``add``, ``sub``, ``mul``, ``div``, ``neg``, ``shift``,
    ``scale``, ``reciprocal``, ``power``, ``exp``, ``function``…); ``expression`` is the operation in
    the operands' symbols (an input: its own symbol); ``operands`` index the nodes it reads, and
    ``local[k]`` is ∂node/∂operand k as a formula in the operands' (and the node's own) symbols.
    """

    name: str
    symbol: sp.Symbol
    kind: str
    expression: sp.Basic
    operands: tuple[int, ...] = ()
    local: tuple[sp.Basic, ...] = ()

    @property
    def text(self) -> str:
        """The operation as a line of text: ``x + y``."""
        from symgrad.printing.oneline import oneline

        return oneline(self.expression, as_built=self.as_built)

    @property
    def as_built(self) -> bool:
        """Print the operation in the order of its operands (a subtraction stays y − x)."""
        return self.kind in ("sub", "shift")


@record
class Graph:
    """The staged graph: ``nodes`` in forward (topological) order, inputs first; the last is the output."""

    expr: sp.Basic
    nodes: tuple[Node, ...]
    inputs: tuple[int, ...]
    output: int

    def index(self, name: str) -> int:
        for k, node in enumerate(self.nodes):
            if node.name == name:
                return k
        raise KeyError(name)

    def consumers(self) -> list[list[tuple[int, int]]]:
        """For each node, the (consumer, operand position) pairs that read it."""
        out: list[list[tuple[int, int]]] = [[] for _ in self.nodes]
        for c, node in enumerate(self.nodes):
            for pos, j in enumerate(node.operands):
                out[j].append((c, pos))
        return out


@record
class Term:
    """One product of the chain rule: the upstream (or, forward, the operand's tangent) quantity
    times a local gradient ``local`` of ``node`` by operand ``operand``."""

    node: int
    operand: int
    position: int
    upstream: float | None
    local: float | None


@record
class Step:
    """One node's line of a pass: ∂f/∂node (reverse) or the node's tangent (forward) as the sum of
    its ``terms``, and the ``value`` it comes to."""

    node: int
    terms: tuple[Term, ...]
    value: float | None
    note: str | None = None


@record
class Backprop:
    """Both passes at a point (see the module docstring).

    ``values``, ``locals`` (per node, per operand) and ``gradients`` (∂f/∂node, or in forward mode
    the tangent of each node) are floats, or None where there is no value (``notes`` says why).
    ``steps`` lists the pass in the order it runs: reverse topological order (reverse mode) or
    forward order (forward mode). ``second``: with ``order=2``, the pass through the gradient
    graph of ∂f/∂``wrt``.
    """

    graph: Graph
    point: dict[str, sp.Basic]
    mode: str
    values: tuple[float | None, ...]
    locals: tuple[tuple[float | None, ...], ...]
    gradients: tuple[float | None, ...]
    steps: tuple[Step, ...]
    direction: dict[str, sp.Basic] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    symbolic: dict[str, sp.Basic] = field(default_factory=dict)
    check: str = "unverified"
    wrt: str | None = None
    second: Backprop | None = None
    title: str = ""

    @property
    def output(self) -> Node:
        return self.graph.nodes[self.graph.output]

    @property
    def gradient(self) -> dict[str, float | None]:
        """∂f/∂input for every input (reverse mode), in the inputs' order."""
        return {self.graph.nodes[k].name: self.gradients[k] for k in self.graph.inputs}

    @property
    def derivative(self) -> float | None:
        """The output's tangent: the directional derivative (forward mode)."""
        return self.gradients[self.graph.output]

    def to_json(self) -> dict[str, Any]:
        """The JSON contract (README "Backprop"): ``nodes`` in forward order and ``gradient``."""
        nodes = []
        key = "gradient" if self.mode == "reverse" else "tangent"
        for k, node in enumerate(self.graph.nodes):
            names = [self.graph.nodes[j].name for j in node.operands]
            entry: dict[str, Any] = {
                "name": node.name,
                "kind": node.kind,
                "expression": str(node.expression),
                "value": self.values[k],
                "local": dict(zip(names, self.locals[k])),
                "formulas": {n: str(f) for n, f in zip(names, node.local)},
                key: self.gradients[k],
            }
            nodes.append(entry)
        data: dict[str, Any] = {"mode": self.mode, "output": self.output.name, "nodes": nodes}
        if self.mode == "reverse":
            data["gradient"] = self.gradient
        else:
            data["direction"] = {k: _number(v) for k, v in self.direction.items()}
            data["derivative"] = self.derivative
        if self.symbolic:
            data["symbolic"] = {k: str(v) for k, v in self.symbolic.items()}
            data["check"] = self.check
        if self.notes:
            data["notes"] = list(self.notes)
        if self.second is not None:
            second = self.second.to_json()
            second.pop("mode", None)
            data["second"] = {"wrt": self.wrt, **second}
        return data


def _number(value: sp.Basic) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# staging ------------------------------------------------------------------------------------------
class _Names:
    """Node names that never collide with an input's (q, r, s, … skipping x, w for w₀, …)."""

    def __init__(self, taken: Sequence[str], output: str | None = None) -> None:
        self.taken = set(taken) | ({output} if output else set())
        self.first = {t[0] for t in taken if t}
        self.pool = [n for n in NAMES if n not in self.taken and n not in self.first]
        self.count = 0

    def take(self, wanted: str | None = None) -> str:
        if wanted is not None and wanted not in self.taken:
            self.taken.add(wanted)
            return wanted
        while self.pool:
            name = self.pool.pop(0)
            if name not in self.taken:
                self.taken.add(name)
                return name
        while True:
            self.count += 1
            name = f"q{self.count}"
            if name not in self.taken:
                self.taken.add(name)
                return name


class _Stager:
    """Builds the nodes of a graph from SymPy expressions (see the module docstring)."""

    def __init__(self, names: _Names) -> None:
        self.names = names
        self.nodes: list[Node] = []
        self.memo: dict[sp.Basic, int] = {}

    def leaf(self, symbol: sp.Symbol, name: str, kind: str = "input", stands_for: sp.Basic | None = None) -> int:
        self.nodes.append(Node(name, symbol, kind, symbol))
        index = len(self.nodes) - 1
        self.memo[symbol if stands_for is None else stands_for] = index
        return index

    def node(self, kind: str, build: Any, operands: Sequence[int], key: sp.Basic | None = None) -> int:
        """A new node ``build(*operand symbols)`` (or the existing one for the same ``key``)."""
        if key is not None and key in self.memo:
            return self.memo[key]
        if len(self.nodes) >= MAX_NODES:
            raise InputError(f"the graph has more than {MAX_NODES} nodes: too many to show node by node",
                             suggestion="backprop is for expressions of the size a course draws; use symgrad grad for "
                                        "larger ones")
        symbols = [self.nodes[j].symbol for j in operands]
        expression = build(*symbols)
        name = self.names.take()
        symbol = sp.Symbol(name, real=True)
        local = tuple(_local(kind, expression, s, symbol) for s in symbols)
        self.nodes.append(Node(name, symbol, kind, expression, tuple(operands), local))
        index = len(self.nodes) - 1
        if key is not None:
            self.memo[key] = index
        return index

    # the staging rules
    def stage(self, e: sp.Basic) -> int:
        """The node computing ``e`` (which is not constant)."""
        if e in self.memo:
            return self.memo[e]
        if isinstance(e, sp.Add):
            return self._sum(e)
        if isinstance(e, sp.Mul):
            return self._product(e)
        if isinstance(e, sp.Pow):
            return self._power(e)
        if isinstance(e, sp.exp):
            u = self.stage(e.args[0])
            return self.node("exp", sp.exp, [u], key=e)
        if isinstance(e, (sp.Function, sp.Max, sp.Min)) and not isinstance(e, sp.core.function.AppliedUndef):
            return self._function(e)
        raise InputError(f"backprop cannot stage {_kind(e)} as a node of a graph",
                         suggestion="backprop stages sums, products, powers and functions such as exp, ln, sin, σ, "
                                    "tanh, relu")

    def _sum(self, e: sp.Add) -> int:
        constant = sp.Add(*[t for t in e.args if not t.free_symbols])
        terms = [t for t in e.as_ordered_terms() if t.free_symbols]
        plus = [t for t in terms if not t.could_extract_minus_sign()]
        minus = [-t for t in terms if t.could_extract_minus_sign()]
        if not plus and not (constant > 0):
            # −a − b − c is −(a + b + c): a sum, then one ×(−1) gate, as cs231n stages e^−(w·x + b)
            inner = self.stage(-e)
            return self.node("neg", lambda u: -u, [inner], key=e)
        acc: int | None = None
        built: sp.Basic = sp.Integer(0)
        for t in plus:
            k = self.stage(t)
            built = built + t
            acc = k if acc is None else self.node("add", lambda a, b: sp.Add(a, b, evaluate=False), [acc, k], key=built)
        for t in minus:
            k = self.stage(t)
            built = built - t
            if acc is None:
                c = constant
                acc = self.node("sub", lambda b, c=c: sp.Add(c, -b, evaluate=False), [k], key=built + constant)
                built = built + constant
                constant = sp.Integer(0)
            else:
                acc = self.node("sub", lambda a, b: sp.Add(a, -b, evaluate=False), [acc, k], key=built)
        assert acc is not None
        if constant != 0:
            acc = self.node("shift", lambda a, c=constant: sp.Add(a, c, evaluate=False), [acc], key=e)
        self.memo[e] = acc
        return acc

    def _product(self, e: sp.Mul) -> int:
        coeff = sp.Mul(*[f for f in e.args if not f.free_symbols])
        factors = [f for f in e.as_ordered_factors() if f.free_symbols]
        over = [f for f in factors if _negative_power(f)]
        up = [f for f in factors if not _negative_power(f)]
        acc: int | None = None
        built: sp.Basic = sp.Integer(1)
        for k, f in enumerate(up):
            node = self.stage(f)
            if k == 0 and coeff != 1:
                # the coefficient scales the first factor, as the product prints (2·x·y: 2·x first)
                built = coeff * f
                if coeff == -1:
                    node = self.node("neg", lambda u: -u, [node], key=built)
                else:
                    node = self.node("scale", lambda u, c=coeff: sp.Mul(c, u, evaluate=False), [node], key=built)
                acc = node
                continue
            built = built * f
            acc = node if acc is None else self.node("mul", lambda a, b: sp.Mul(a, b, evaluate=False), [acc, node],
                                                     key=built)
        if not over:
            assert acc is not None
            self.memo[e] = acc
            return acc
        den: int | None = None
        den_built: sp.Basic = sp.Integer(1)
        for f in over:
            base = 1 / f
            node = self.stage(base)
            den_built = den_built * base
            den = node if den is None else self.node("mul", lambda a, b: sp.Mul(a, b, evaluate=False), [den, node],
                                                     key=den_built)
        assert den is not None
        if acc is None:
            if coeff == 1:
                out = self.node("reciprocal", lambda d: 1 / d, [den], key=e)
            else:
                out = self.node("div", lambda d, c=coeff: sp.Mul(c, 1 / d, evaluate=False), [den], key=e)
        else:
            out = self.node("div", lambda a, d: sp.Mul(a, sp.Pow(d, -1, evaluate=False), evaluate=False), [acc, den],
                            key=e)
        return out

    def _power(self, e: sp.Pow) -> int:
        base, exponent = e.args
        if not exponent.free_symbols:
            if exponent == -1:
                return self.node("reciprocal", lambda u: 1 / u, [self.stage(base)], key=e)
            if exponent.is_negative:
                inner = self.stage(base ** -exponent)
                return self.node("reciprocal", lambda u: 1 / u, [inner], key=e)
            u = self.stage(base)
            if exponent == sp.Rational(1, 2):
                return self.node("sqrt", sp.sqrt, [u], key=e)
            return self.node("power", lambda a, n=exponent: a**n, [u], key=e)
        if not base.free_symbols:
            return self.node("exponential", lambda a, b=base: b**a, [self.stage(exponent)], key=e)
        b, k = self.stage(base), self.stage(exponent)
        return self.node("power", lambda a, n: sp.Pow(a, n, evaluate=False), [b, k], key=e)

    def _function(self, e: sp.Basic) -> int:
        varying = [a for a in e.args if getattr(a, "free_symbols", None)]
        if any(not isinstance(a, sp.Expr) for a in e.args):
            raise InputError(f"backprop cannot stage {_kind(e)} as a node of a graph")
        operands = [self.stage(a) for a in dict.fromkeys(varying)]
        position = {a: k for k, a in enumerate(dict.fromkeys(varying))}

        def build(*symbols: sp.Symbol) -> sp.Basic:
            return e.func(*[symbols[position[a]] if a in position else a for a in e.args])

        return self.node("function", build, operands, key=e)


def _negative_power(f: sp.Basic) -> bool:
    return isinstance(f, sp.Pow) and f.exp.is_number and bool(f.exp.is_negative)


def _local(kind: str, expression: sp.Basic, operand: sp.Symbol, own: sp.Symbol) -> sp.Basic:
    """∂expression/∂operand, written in the node's own name where it repeats the node's
    operation (the local gradient of eᵘ is the node itself, of σ(u) the node times 1 − the node,
    of √u 1/(2·the node))."""
    d = sp.diff(expression, operand)
    if d.has(sp.Derivative, sp.Subs):
        raise InputError(f"backprop has no local gradient for {_kind(expression)}")
    if kind in ("exp", "function", "sqrt", "exponential"):
        d = d.subs(expression, own)
    return d


def _kind(e: sp.Basic) -> str:
    from symgrad.printing.oneline import oneline

    text = oneline(e)
    return f"{text} ({type(e).__name__})" if len(text) < 60 else type(e).__name__


def _check_stageable(e: sp.Basic) -> None:
    from sympy.core.function import AppliedUndef

    if isinstance(e, (sp.Tuple, tuple, list)) or not isinstance(e, sp.Expr):
        raise InputError("backprop takes one expression with one value (a scalar output), not a list",
                         suggestion="give one formula: backprop follows a single output back to its inputs")
    bad = [a for a in sp.preorder_traversal(e) if isinstance(a, (sp.Sum, sp.Indexed, sp.Piecewise, sp.Derivative,
                                                                    sp.Integral, AppliedUndef))]
    if bad:
        raise InputError(f"backprop cannot stage {_kind(bad[0])}: it draws graphs of operations on numbers",
                         suggestion="write the sum or function out, e.g. (y1 - w x1)^2 + (y2 - w x2)^2")
    if not e.free_symbols:
        raise InputError("the expression is a constant: its graph has no inputs to send gradients to",
                         suggestion="give a function of one or more variables, like (x + y) z")


def graph(expr: Any, output: str = "f") -> Graph:
    """The computational graph of ``expr`` (text or SymPy), staged as a course stages it.

    ``output`` names the last node (``f``; a definition ``loss(w) = …`` names it ``loss``).

    >>> g = graph("1/(1 + e^-(w0 x0 + w1 x1 + w2))")
    >>> [f"{n.name} = {n.text}" for n in g.nodes if n.kind != "input"]
    ['q = w₀·x₀', 'r = w₁·x₁', 's = q + r', 't = s + w₂', 'u = -t', 'v = e^u', 'a = v + 1', 'f = 1/a']
    """
    from symgrad import expressions

    e = expressions.as_expr(expr)
    _check_stageable(e)
    variables = expressions.variables(e)
    taken = [v.name for v in variables]
    if output in taken:
        output = next(n for n in ("f", "out", "y", "L", "F") if n not in taken)
    stager = _Stager(_Names(taken, output))
    for v in variables:
        stager.leaf(v, v.name)
    last = stager.stage(e)
    if last >= len(variables):
        # the output gets its own name (f), as the course writes f = q·z
        node = stager.nodes[last]
        renamed = sp.Symbol(output, real=True)
        stager.nodes[last] = Node(output, renamed, node.kind, node.expression, node.operands,
                                  tuple(loc.subs(node.symbol, renamed) for loc in node.local))
    nodes, last = _pruned(stager.nodes, last, len(variables))
    return Graph(e, nodes, tuple(range(len(variables))), last)


# the passes ----------------------------------------------------------------------------------------
def backprop(
    expr: Any,
    point: Mapping[str, object] | str,
    *,
    mode: str = "reverse",
    wrt: str | None = None,
    direction: Mapping[str, object] | str | None = None,
    order: int = 1,
    output: str = "f",
    check: bool = True,
) -> Backprop:
    """Both passes of ``expr``'s graph at ``point`` (``{"x": -2}`` or ``"x=-2, y=5"``); see the module docstring.

    ``mode`` is ``reverse`` or ``forward``; ``wrt`` (forward: the input whose tangent is 1, the
    others 0; default the first input; ``order=2``: the input of ∂f/∂wrt) or ``direction``
    (forward: a tangent for every input, ``{"x": 1, "y": -1}``). ``check`` also evaluates
    symgrad's own gradient at the point and compares.

    >>> r = backprop("x w + b", "x=2, w=1, b=0.5", order=2, wrt="w")
    >>> r.gradient, r.second.output.name, r.second.gradient
    ({'b': 1.0, 'w': 2.0, 'x': 1.0}, 'dw', {'b': 0.0, 'w': 0.0, 'x': 1.0})
    """
    from symgrad import evaluate as evaluation
    from symgrad import expressions

    if mode not in MODES:
        raise InputError(f"unknown mode '{mode}'", suggestion="reverse (backpropagation) or forward (dual numbers)")
    if order not in (1, 2):
        raise InputError(f"backprop shows first and second order, not order {order}",
                         suggestion="--order 2 backpropagates through the backward pass once more")
    if order == 2 and mode == "forward":
        raise InputError("--order 2 is reverse over reverse: it backpropagates through the backward pass",
                         suggestion="leave out --mode forward")
    if mode == "reverse" and order == 1 and (wrt is not None or direction is not None):
        raise InputError("--wrt and --direction choose the input of --mode forward or of --order 2",
                         suggestion="the backward pass gives the gradient of every input at once; leave them out")
    if mode == "reverse" and direction is not None:
        raise InputError("--direction is for --mode forward", suggestion="--order 2 takes --wrt")
    g = graph(expr, output)
    e = g.expr
    exact = evaluation.parse_point(point, e)
    inputs = [g.nodes[k].symbol for k in g.inputs]
    missing = [s for s in inputs if s not in exact]
    if missing:
        names = ", ".join(s.name for s in missing)
        raise InputError(f"the point gives no value for {names}: every input of the graph needs one",
                         suggestion=f"add {missing[0].name}=… to --at")
    notes = tuple(expressions.point_notes(exact, e))
    shown = {s.name: v for s, v in exact.items()}
    if mode == "forward":
        seeds = _direction(g, e, wrt, direction)
        result = _forward(g, exact, seeds)
        result = _with(result, point=shown, notes=notes + result.notes,
                       direction={g.nodes[k].name: seeds[k] for k in g.inputs})
        if check:
            result = _check_forward(result, e, exact, seeds)
        return result
    result = _reverse(g, exact)
    result = _with(result, point=shown, notes=notes + result.notes)
    if check:
        result = _check_reverse(result, e, exact)
    if order == 2:
        target = _input(g, e, wrt)
        second = _reverse(_gradient_graph(g, target), exact)
        result = _with(result, wrt=g.nodes[target].name, second=_with(second, point=shown))
    return result


def _with(result: Backprop, **changes: Any) -> Backprop:
    fields = {name: getattr(result, name) for name in result.__record_fields__}  # type: ignore[attr-defined]
    fields.update(changes)
    return Backprop(**fields)


def _input(g: Graph, e: sp.Basic, name: str | None) -> int:
    from symgrad import expressions

    if name is None:
        return g.inputs[0]
    symbol = expressions.resolve_variable(name, e)
    for k in g.inputs:
        if g.nodes[k].symbol == symbol:
            return k
    raise InputError(f"{name} is not an input of the graph",
                     suggestion="the inputs are " + ", ".join(g.nodes[k].name for k in g.inputs))


def _direction(g: Graph, e: sp.Basic, wrt: str | None,
               direction: Mapping[str, object] | str | None) -> dict[int, sp.Basic]:
    from symgrad import evaluate as evaluation

    if direction is not None and wrt is not None:
        raise InputError("give either --wrt (one input) or --direction (a tangent for each input), not both")
    if direction is None:
        seed = _input(g, e, wrt)
        return {k: sp.Integer(1 if k == seed else 0) for k in g.inputs}
    given = evaluation.parse_point(direction, e)
    return {k: given.get(g.nodes[k].symbol, sp.Integer(0)) for k in g.inputs}


class _Evaluator:
    """Values of quantities defined as links (each in terms of the ones before), right to every digit.

    All of them at once: two passes of ball arithmetic over the links (``symgrad.precise``), in
    the order they were defined (each definition only reads earlier ones), at two precisions; a
    value whose ball is narrow (2⁻⁶⁴ of it) at both and whose balls agree is its float. Anything
    else (cancellation, a pole, outside the domain, beyond 10³⁰⁰) goes to ``symgrad.evaluate``
    with the links it needs, which settles it at a rising precision or says why there is no value.
    """

    PRECISIONS = (192, 288)

    def __init__(self, point: Mapping[sp.Symbol, sp.Basic]) -> None:
        self.point = dict(point)
        self.definitions: dict[sp.Symbol, sp.Basic] = {}
        self.notes: list[str] = []
        self.undefined: set[sp.Basic] = set()
        """Requests with no value at all (a pole, outside the domain), not merely beyond a float."""

    def define(self, symbol: sp.Symbol, definition: sp.Basic) -> None:
        self.definitions[symbol] = sp.sympify(definition)

    def values(self, requests: Sequence[tuple[sp.Basic, str]]) -> list[float | None]:
        """The value of each (expression, what it is called in a note)."""
        passes = [self._pass(p) for p in self.PRECISIONS]
        out: list[float | None] = []
        for expr, what in requests:
            value = self._fast(sp.sympify(expr), passes)
            out.append(value if value is not None else self._slow(sp.sympify(expr), what))
        return out

    def _pass(self, precision: int) -> dict[sp.Basic, Any]:
        from symgrad.precise import evaluate_ball

        env: dict[sp.Basic, Any] = dict(self.point)
        for symbol, definition in self.definitions.items():
            try:
                env[symbol] = evaluate_ball(definition, env, precision)
            except Exception:
                continue  # not in env: whatever reads it fails too, and takes the slow path
        return env

    @staticmethod
    def _fast(expr: sp.Basic, passes: Sequence[Mapping[sp.Basic, Any]]) -> float | None:
        import mpmath

        if expr.free_symbols and not isinstance(expr, sp.Symbol):
            return None
        balls = []
        for env in passes:
            if expr.free_symbols:
                ball = env.get(expr)
                if ball is None or not isinstance(ball, tuple):
                    return None
            else:
                return None
            balls.append(ball)
        (m1, r1), (m2, r2) = balls
        if isinstance(m1, mpmath.mpc) or isinstance(m2, mpmath.mpc):
            return None
        if not (mpmath.isfinite(r1) and mpmath.isfinite(r2) and mpmath.isfinite(m2)):
            return None
        if abs(m1 - m2) > r1 + r2:
            return None
        if m2 == 0 and r2 == 0:
            return 0.0
        if r2 > abs(m2) * mpmath.ldexp(1, -64) or not abs(m2) < mpmath.mpf("1e300") or abs(m2) < mpmath.mpf("1e-300"):
            return None
        return float(m2)

    def _slow(self, expr: sp.Basic, what: str) -> float | None:
        from symgrad import evaluate as evaluation

        if not expr.free_symbols:
            outcome = evaluation.evaluate(expr, {}, what=what)
        else:
            outcome = evaluation.evaluate(expr, self.point, what=what, links=self._links(expr))
        if outcome.note:
            self.notes.append(outcome.note)
            if outcome.value is None and any(w in outcome.note for w in ("does not exist", "not real", "is undefined")):
                self.undefined.add(expr)
        return outcome.value

    def _links(self, expr: sp.Basic) -> list[tuple[sp.Symbol, sp.Basic]]:
        """The definitions ``expr`` needs, outermost first (each refers only to those after it)."""
        order: list[sp.Symbol] = []
        seen: set[sp.Symbol] = set()
        stack = sorted(expr.free_symbols, key=str)
        while stack:  # iteratively: a chain of links may be deeper than Python's recursion
            symbol = stack.pop()
            if symbol in seen or symbol not in self.definitions:
                continue
            seen.add(symbol)
            stack.extend(sorted(self.definitions[symbol].free_symbols, key=str))
        for symbol in self.definitions:  # definition order: every definition reads only earlier ones
            if symbol in seen:
                order.append(symbol)
        return [(s, self.definitions[s]) for s in reversed(order)]


def _define_forward(g: Graph, ev: _Evaluator) -> list[list[sp.Symbol]]:
    """Each node and each local gradient as a link; the local gradients' symbols, per node."""
    for node in g.nodes:
        if node.kind != "input":
            ev.define(node.symbol, node.expression)
    local_symbols = []
    for k, node in enumerate(g.nodes):
        row = []
        for pos, formula in enumerate(node.local):
            symbol = sp.Symbol(f"local_{k}_{pos}", real=True)
            ev.define(symbol, formula)
            row.append(symbol)
        local_symbols.append(row)
    return local_symbols


def _forward_values(g: Graph, ev: _Evaluator, local_symbols: Sequence[Sequence[sp.Symbol]],
                    values: Sequence[float | None],
                    flat_locals: Sequence[float | None]) -> list[tuple[float | None, ...]]:
    """The local gradients per node; a node without a value has none (nothing flows through it)."""
    out: list[tuple[float | None, ...]] = []
    k_flat = 0
    for node in g.nodes:
        row = tuple(flat_locals[k_flat:k_flat + len(node.operands)])
        k_flat += len(node.operands)
        undefined = node.kind != "input" and node.symbol in ev.undefined
        out.append((None,) * len(row) if undefined else row)
    return out


def _requests(g: Graph, local_symbols: Sequence[Sequence[sp.Symbol]],
              ) -> tuple[list[tuple[sp.Basic, str]], list[tuple[sp.Basic, str]]]:
    nodes = [(node.symbol, node.name) for node in g.nodes]
    locals_ = [(local_symbols[k][pos], f"∂{node.name}/∂{g.nodes[j].name}")
               for k, node in enumerate(g.nodes) for pos, j in enumerate(node.operands)]
    return nodes, locals_


def _reverse(g: Graph, point: Mapping[sp.Symbol, sp.Basic]) -> Backprop:
    ev = _Evaluator(point)
    local_symbols = _define_forward(g, ev)
    consumers = g.consumers()
    out = g.output
    adjoint = {k: sp.Symbol(f"d_{g.nodes[k].name}", real=True) for k in range(len(g.nodes))}
    label = g.nodes[out].name
    for k in reversed(range(len(g.nodes))):
        total = sp.Integer(1) if k == out else sp.Add(*[adjoint[c] * local_symbols[c][pos] for c, pos in consumers[k]])
        ev.define(adjoint[k], total)
    node_requests, local_requests = _requests(g, local_symbols)
    grad_requests = [(adjoint[k], f"∂{label}/∂{g.nodes[k].name}") for k in range(len(g.nodes))]
    numbers = ev.values(node_requests + local_requests + grad_requests)
    n, m = len(node_requests), len(local_requests)
    values = numbers[:n]
    locals_ = _forward_values(g, ev, local_symbols, values, numbers[n:n + m])
    raw = numbers[n + m:]
    grads: list[float | None] = [None] * len(g.nodes)
    steps: list[Step] = []
    for k in reversed(range(len(g.nodes))):
        if k == out:
            grads[k] = 1.0
            steps.append(Step(k, (), 1.0))
            continue
        terms = tuple(Term(c, k, pos, grads[c], locals_[c][pos]) for c, pos in consumers[k])
        blocked = any(t.upstream is None or t.local is None for t in terms)
        grads[k] = None if blocked else raw[k]
        steps.append(Step(k, terms, grads[k]))
    return Backprop(g, {}, "reverse", tuple(values), tuple(locals_), tuple(grads), tuple(steps),
                    notes=tuple(dict.fromkeys(ev.notes)))


def _forward(g: Graph, point: Mapping[sp.Symbol, sp.Basic], seeds: Mapping[int, sp.Basic]) -> Backprop:
    ev = _Evaluator(point)
    local_symbols = _define_forward(g, ev)
    tangent = {k: sp.Symbol(f"t_{g.nodes[k].name}", real=True) for k in range(len(g.nodes))}
    for k, node in enumerate(g.nodes):
        if node.kind == "input":
            ev.define(tangent[k], seeds[k])
        else:
            ev.define(tangent[k], sp.Add(*[local_symbols[k][pos] * tangent[j] for pos, j in enumerate(node.operands)]))
    node_requests, local_requests = _requests(g, local_symbols)
    tangent_requests = [(tangent[k], f"the tangent of {node.name}") for k, node in enumerate(g.nodes)]
    numbers = ev.values(node_requests + local_requests + tangent_requests)
    n, m = len(node_requests), len(local_requests)
    values = numbers[:n]
    locals_ = _forward_values(g, ev, local_symbols, values, numbers[n:n + m])
    raw = numbers[n + m:]
    tangents: list[float | None] = []
    steps: list[Step] = []
    for k, node in enumerate(g.nodes):
        terms = tuple(Term(k, j, pos, tangents[j], locals_[k][pos]) for pos, j in enumerate(node.operands))
        blocked = any(t.upstream is None or t.local is None for t in terms)
        tangents.append(None if blocked else raw[k])
        steps.append(Step(k, terms, tangents[-1]))
    return Backprop(g, {}, "forward", tuple(values), tuple(locals_), tuple(tangents), tuple(steps),
                    notes=tuple(dict.fromkeys(ev.notes)))


def adjoints(g: Graph) -> dict[int, sp.Basic]:
    """∂f/∂node for every node, as a formula in the nodes' symbols (the backward pass, symbolically)."""
    consumers = g.consumers()
    adj: dict[int, sp.Basic] = {g.output: sp.Integer(1)}
    for k in reversed(range(g.output)):
        adj[k] = sp.Add(*[adj[c] * g.nodes[c].local[pos] for c, pos in consumers[k] if c in adj])
    return adj


def in_inputs(g: Graph, expr: sp.Basic) -> sp.Basic:
    """A formula in the nodes' symbols written out in the inputs."""
    for node in reversed(g.nodes):
        if node.kind != "input":
            expr = expr.subs(node.symbol, node.expression)
    return expr


def _gradient_graph(g: Graph, target: int) -> Graph:
    """The backward pass of ``g`` recorded as a graph whose output is ∂f/∂(input ``target``):
    the forward nodes, then one node per operation of the pass (``dq = …``), staged as ``graph``
    stages any expression; its leaves are the inputs and the forward nodes."""
    taken = [n.name for n in g.nodes]
    names = _Names(taken)
    stager = _Stager(names)
    for node in g.nodes:
        stager.nodes.append(node)
        stager.memo[node.symbol] = len(stager.nodes) - 1
    consumers = g.consumers()
    adj: dict[int, sp.Basic] = {g.output: sp.Integer(1)}
    named: dict[int, int] = {}
    needed = _feeds(g, target)
    for k in reversed(range(g.output)):
        if k not in needed:
            continue
        total = sp.Add(*[adj[c] * g.nodes[c].local[pos] for c, pos in consumers[k] if c in adj])
        if not total.free_symbols:
            adj[k] = total
            continue
        index = stager.stage(total)
        if index >= len(g.nodes) and index not in named.values():
            # a node of the backward pass: named after the gradient it holds (dq = ∂f/∂q)
            wanted = "d" + g.nodes[k].name
            old = stager.nodes[index]
            name = names.take(wanted)
            symbol = sp.Symbol(name, real=True)
            stager.nodes[index] = Node(name, symbol, old.kind, old.expression, old.operands,
                                       tuple(loc.subs(old.symbol, symbol) for loc in old.local))
            for j in range(index + 1, len(stager.nodes)):
                later = stager.nodes[j]
                if index in later.operands:
                    stager.nodes[j] = Node(later.name, later.symbol, later.kind,
                                           later.expression.subs(old.symbol, symbol), later.operands,
                                           tuple(loc.subs(old.symbol, symbol) for loc in later.local))
            stager.memo[symbol] = index
            named[k] = index
            adj[k] = symbol
        else:
            adj[k] = stager.nodes[index].symbol
    result = adj[target]
    if not result.free_symbols:
        raise InputError(f"∂f/∂{g.nodes[target].name} is the constant {result}: its gradient is 0 everywhere",
                         suggestion="the second-order pass needs a gradient that depends on the inputs")
    last = stager.memo[result]
    if last not in named.values():
        # ∂f/∂w is an input or a forward node itself (∂(x·w + b)/∂w = x): a copy names it dw
        name = names.take("d" + g.nodes[target].name)
        stager.nodes.append(Node(name, sp.Symbol(name, real=True), "copy", result, (last,), (sp.Integer(1),)))
        last = len(stager.nodes) - 1
    nodes, last = _pruned(stager.nodes, last, len(g.inputs))
    return Graph(g.expr, nodes, g.inputs, last)


def _pruned(nodes: Sequence[Node], output: int, inputs: int) -> tuple[tuple[Node, ...], int]:
    """The inputs and the nodes that feed ``output``, renumbered (in forward order)."""
    feeds = {output}
    for k in range(output, -1, -1):
        if k in feeds:
            feeds.update(nodes[k].operands)
    keep = [k for k in range(output + 1) if k < inputs or k in feeds]
    new = {old: k for k, old in enumerate(keep)}
    out = tuple(Node(n.name, n.symbol, n.kind, n.expression, tuple(new[j] for j in n.operands), n.local)
                for n in (nodes[k] for k in keep))
    return out, new[output]


def _feeds(g: Graph, target: int) -> set[int]:
    """Nodes whose gradient the gradient of ``target`` needs: ``target`` and every node on a path from
    it to the output."""
    reach = {target}
    for k, node in enumerate(g.nodes):
        if any(j in reach for j in node.operands):
            reach.add(k)
    return reach


def _check_reverse(result: Backprop, e: sp.Basic, point: Mapping[sp.Symbol, sp.Basic]) -> Backprop:
    """symgrad's own gradient of ``e``, and whether it has the same values at the point."""
    from symgrad import calculus

    g = result.graph
    variables = [g.nodes[k].symbol for k in g.inputs]
    symbolic = calculus.gradient(e, variables)
    verdict = _compare(list(result.gradient.values()), _at(point, symbolic, "symgrad's gradient"))
    return _with(result, symbolic={v.name: d for v, d in zip(variables, symbolic)}, check=verdict)


def _check_forward(result: Backprop, e: sp.Basic, point: Mapping[sp.Symbol, sp.Basic],
                   seeds: Mapping[int, sp.Basic]) -> Backprop:
    from symgrad import calculus

    g = result.graph
    variables = [g.nodes[k].symbol for k in g.inputs]
    symbolic = calculus.gradient(e, variables)
    along = sp.Add(*[d * seeds[k] for d, k in zip(symbolic, g.inputs)])
    value = _at(point, [along], "symgrad's directional derivative")
    return _with(result, symbolic={"derivative": along}, check=_compare([result.derivative], value))


def _at(point: Mapping[sp.Symbol, sp.Basic], exprs: Sequence[sp.Basic], what: str) -> list[float | None]:
    """Values of ``exprs`` at ``point`` (shared subexpressions evaluated once), for the check."""
    ev = _Evaluator(point)
    symbols = [sp.Symbol(f"check_{k}", real=True) for k in range(len(exprs))]
    for symbol, expr in zip(symbols, exprs):
        ev.define(symbol, expr)
    return ev.values([(symbol, what) for symbol in symbols])


def _compare(ours: Sequence[float | None], theirs: Sequence[float | None]) -> str:
    """``agrees`` (the same values, to rounding), ``mismatch``, or ``unverified`` (a value missing on
    one side, or none to compare at all)."""
    verdict, compared = "agrees", 0
    for a, b in zip(ours, theirs):
        if a is None or b is None:
            if a is not None or b is not None:
                verdict = "unverified"
            continue
        compared += 1
        if abs(a - b) > 1e-12 * max(1.0, abs(a), abs(b)):
            return "mismatch"
    return verdict if compared else "unverified"

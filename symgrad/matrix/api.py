"""The library entry points of matrix calculus: text (or a parsed expression) in, checked results out.

Stage: public API of ``symgrad.matrix`` (the commands ``grad``, ``jacobian``, ``hessian`` and
``export`` with ``--shape`` are thin layers over these). Every result is a frozen record with
``to_json()`` in the documented contract: ``result``/``gradient`` are the matrix-form results as
text in SymPy's ``str()`` notation that ``symgrad.matrix.parse`` reads back with the same shapes,
``value`` (with ``at``) nested lists in the variable's shape, ``check`` how the result was checked
against ``sympy.diff`` of the component expansion, and ``steps`` the step tree (``shape`` on each
node). A result whose check is ``mismatch`` is returned, flagged, never hidden (``strict=True``
raises instead).

>>> g = gradient("x^T A x", "x", "A: n×n")
>>> g.result, g.check
('(A + A.T)*x', 'exact')
>>> gradient("‖W x + b - y‖²", "W", "W: m×n, x: n").result
'2*(W*x + b - y)*x.T'
>>> jacobian("softmax(z)", "z", "z: n").result
'diag(softmax(z)) - softmax(z)*softmax(z).T'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from symgrad.errors import ComputeError, InputError
from symgrad.matrix import expr as mx
from symgrad.matrix.expand import Check, check_gradient, check_hessian, check_jacobian
from symgrad.matrix.expr import Node, Var
from symgrad.matrix.notation import MatrixParsed, parse
from symgrad.records import field, record

LAYOUT = ("denominator layout: a gradient has the shape of its variable (∇_W f is m×n like W, ∇_x f a column "
          "like x); a Jacobian ∂f/∂x has one row per component of f (J_ij = ∂f_i/∂x_j, so ∂(Wx)/∂x = W)")
"""Said once in every matrix result."""

Source = str | MatrixParsed
_ORDER = {"exact": 0, "numeric": 1, "unverified": 2, "mismatch": 3}


class MatrixStepsDisagree(ComputeError):
    """A matrix-form result disagrees with ``sympy.diff`` of its components (a bug in a rule)."""


def _parsed(expr: Source, shapes: Any) -> MatrixParsed:
    if isinstance(expr, MatrixParsed):
        return expr
    if not isinstance(expr, str):
        raise InputError(f"a matrix expression is text such as \"x^T A x\", not {type(expr).__name__}")
    return parse(expr, shapes)


def _wrt(parsed: MatrixParsed, wrt: str | Sequence[str] | None) -> list[Var]:
    variables = parsed.expr.variables()
    by = {v.name: v for v in variables}
    if wrt is None:
        if not variables:
            raise InputError("the expression has no vector or matrix variable",
                             suggestion="declare shapes (\"x: n\") or use symgrad.derive for numbers")
        order = {n: i for i, n in enumerate(parsed.order)}
        return sorted(variables, key=lambda v: order.get(v.name, 0))
    names = [w.strip() for w in wrt.split(",")] if isinstance(wrt, str) else [str(w) for w in wrt]
    out = []
    from symgrad.matrix.shapes import _name

    for raw in names:
        name = _name(raw)
        if name not in by:
            if name in parsed.order:
                raise InputError(f"{name} is a number in this expression: symgrad's matrix results are by vectors "
                                 "and matrices",
                                 suggestion=f"declare {name}'s shape, or use symgrad.derive for ∂/∂{name}")
            raise InputError(f"{name} does not occur in the expression",
                             suggestion="the variables are " + ", ".join(v.name for v in variables))
        out.append(by[name])
    return out


def _value(node: Node, parsed: MatrixParsed, at: Any) -> Any:
    if at is None:
        return None
    from symgrad.matrix.numeric import parse_point, value

    return value(node, parse_point(at, parsed))


def _shapes_json(parsed: MatrixParsed) -> dict[str, str]:
    out = {}
    for v in parsed.expr.variables():
        out[v.name] = mx.shape_of(v) if v.declared != "matrix" else f"{v.nrows}×{v.ncols}"
        if v.symmetric:
            out[v.name] += " symmetric"
    return out


def _strict(check: Check, what: str, strict: bool) -> None:
    if strict and check.kind == "mismatch":
        raise MatrixStepsDisagree(f"{what}: {check.note}",
                                  suggestion="this is a bug in a rule of symgrad's matrix engine; please report it")


def _worst(checks: Sequence[Check]) -> str:
    return max((c.kind for c in checks), key=lambda k: _ORDER[k], default="exact")


@record
class MatrixPartial:
    """One gradient: by ``var``, its matrix form, how it was worked (``step``) and checked, its value."""

    var: Var
    result: Node
    step: Any
    check: Check
    value: Any = None

    def to_json(self, steps: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"wrt": self.var.name, "result": mx.text(self.result), "shape": mx.shape_of(self.var),
                               "check": self.check.kind, "check_detail": self.check.to_json()}
        if self.value is not None:
            out["value"] = self.value
        if steps:
            out["steps"] = self.step.to_json()
            out["differential"] = self.step.differential.to_json()
        return out


def _base_json(parsed: MatrixParsed) -> dict[str, Any]:
    return {"input": parsed.text, "expression": mx.text(parsed.expr), "shapes": _shapes_json(parsed),
            "layout": LAYOUT, "notes": list(parsed.notes)}


@record
class GradientResult:
    """The gradients of a number by vectors/matrices (``grad --wrt W,b``)."""

    parsed: MatrixParsed
    partials: tuple[MatrixPartial, ...]

    @property
    def result(self) -> str:
        """The first (usually only) gradient as text."""
        return mx.text(self.partials[0].result)

    @property
    def check(self) -> str:
        return _worst([p.check for p in self.partials])

    def __getitem__(self, name: str) -> MatrixPartial:
        for p in self.partials:
            if p.var.name == name:
                return p
        raise KeyError(name)

    def to_json(self, steps: bool = True) -> dict[str, Any]:
        out = _base_json(self.parsed)
        out["wrt"] = [p.var.name for p in self.partials]
        out["gradient"] = {p.var.name: mx.text(p.result) for p in self.partials}
        if len(self.partials) == 1:
            out["result"] = self.result
        out["check"] = self.check
        if any(p.value is not None for p in self.partials):
            out["value"] = {p.var.name: p.value for p in self.partials}
        out["partials"] = [p.to_json(steps) for p in self.partials]
        return out


def gradient(expr: Source, wrt: str | Sequence[str] | None = None, shapes: Any = None, *, at: Any = None,
             steps: bool = True, strict: bool = False) -> GradientResult:
    """∇ of a number by each variable in ``wrt`` (default: every vector/matrix, in reading order).

    ``steps=False`` skips the scalar engine's worked derivations inside the entrywise steps (the
    matrix steps and the check stay). ``at``: a point (``"x=[1,2], A=[[1,2],[3,4]]"``) for values.
    """
    from symgrad.matrix.differential import gradient_steps

    parsed = _parsed(expr, shapes)
    if not parsed.expr.is_scalar or mx._chain_piece(parsed.expr):
        raise InputError(f"the gradient is for a number; {mx.text(parsed.expr)} has shape {mx.shape_of(parsed.expr)}",
                         suggestion="use jacobian for a vector function")
    out = []
    for var in _wrt(parsed, wrt):
        step = gradient_steps(parsed.expr, var, scalar_steps=steps)
        check = check_gradient(parsed.expr, var, step.result)
        _strict(check, f"∇_{var.name}", strict)
        out.append(MatrixPartial(var, step.result, step, check, _value(step.result, parsed, at)))
    return GradientResult(parsed, tuple(out))


@record
class JacobianResult:
    """∂f/∂x of a vector function (one row per component of f)."""

    parsed: MatrixParsed
    var: Var
    matrix: Node
    step: Any
    check_detail: Check
    value: Any = None
    kind: str = "jacobian"

    @property
    def result(self) -> str:
        return mx.text(self.matrix)

    @property
    def check(self) -> str:
        return self.check_detail.kind

    def to_json(self, steps: bool = True) -> dict[str, Any]:
        out = _base_json(self.parsed)
        shape = self.matrix.shape
        out.update({"wrt": self.var.name, "result": self.result, "shape": f"{shape[0]}×{shape[1]}",
                    "check": self.check, "check_detail": self.check_detail.to_json()})
        if self.value is not None:
            out["value"] = self.value
        if steps:
            out["steps"] = self.step.to_json()
        return out


def jacobian(expr: Source, wrt: str | None = None, shapes: Any = None, *, at: Any = None, steps: bool = True,
             strict: bool = False) -> JacobianResult:
    """∂f/∂x for a vector function f of a vector x: d f = J dx ⇒ J (``∂(Wx)/∂x = W``)."""
    from symgrad.matrix.differential import jacobian_steps

    parsed = _parsed(expr, shapes)
    var = _wrt(parsed, wrt)[0] if wrt is not None or len(parsed.expr.variables()) == 1 else _single(parsed)
    step = jacobian_steps(parsed.expr, var, scalar_steps=steps)
    check = check_jacobian(parsed.expr, var, step.result)
    _strict(check, f"∂f/∂{var.name}", strict)
    value = _value(step.result, parsed, at)
    if value is not None and not isinstance(value, list):
        value = [[value]]
    elif value is not None and value and not isinstance(value[0], list):
        value = [[v] for v in value] if step.result.shape[1] == 1 and step.result.shape[0] != 1 else [value]
    return JacobianResult(parsed, var, step.result, step, check, value)


def _single(parsed: MatrixParsed) -> Var:
    vs = [v for v in parsed.expr.variables() if v.kind == "vector"]
    if len(vs) == 1:
        return vs[0]
    raise InputError("say which variable: the expression has " + ", ".join(v.name for v in parsed.expr.variables()),
                     suggestion="give wrt (--wrt x)")


@record
class HessianResult:
    """∇²f of a number by a vector (symmetric for a smooth f)."""

    parsed: MatrixParsed
    var: Var
    matrix: Node
    step: Any
    check_detail: Check
    value: Any = None

    @property
    def result(self) -> str:
        return mx.text(self.matrix)

    @property
    def check(self) -> str:
        return self.check_detail.kind

    def to_json(self, steps: bool = True) -> dict[str, Any]:
        out = _base_json(self.parsed)
        n = self.var.shape[0]
        out.update({"wrt": self.var.name, "result": self.result, "gradient": mx.text(self.step.gradient.result),
                    "shape": f"{n}×{n}", "check": self.check, "check_detail": self.check_detail.to_json()})
        if self.value is not None:
            out["value"] = self.value
        if steps:
            out["steps"] = self.step.to_json()
        return out


def hessian(expr: Source, wrt: str | None = None, shapes: Any = None, *, at: Any = None, steps: bool = True,
            strict: bool = False) -> HessianResult:
    """∇²_x f = ∂(∇f)/∂x for a number f and a vector x (``∇²ₓ xᵀAx = A + Aᵀ``)."""
    from symgrad.matrix.differential import hessian_steps

    parsed = _parsed(expr, shapes)
    var = _wrt(parsed, wrt)[0] if wrt is not None else _single(parsed)
    step = hessian_steps(parsed.expr, var, scalar_steps=steps)
    check = check_hessian(parsed.expr, var, step.result)
    _strict(check, f"∇²_{var.name}", strict)
    value = _value(step.result, parsed, at)
    if value is not None and not isinstance(value, list):
        value = [[value]]
    return HessianResult(parsed, var, step.result, step, check, value)


@record
class NetworkResult:
    """A network's gradients in backprop form: the intermediates named once, the δs, ∂L/∂W = δ hᵀ."""

    parsed: MatrixParsed
    loss: str
    names: tuple[tuple[str, Node], ...]
    deltas: tuple[tuple[str, Node], ...]
    backprop: tuple[tuple[str, Node], ...]
    """(parameter, its gradient in the names and δs)."""
    gradients: GradientResult
    """The same gradients written out, each with its steps and check."""

    @property
    def check(self) -> str:
        return self.gradients.check

    def to_json(self, steps: bool = True) -> dict[str, Any]:
        out = _base_json(self.parsed)
        out["loss"] = self.loss
        out["names"] = {n: mx.text(d) for n, d in self.names}
        out["deltas"] = {n: mx.text(d) for n, d in self.deltas}
        out["backprop"] = {n: mx.text(g) for n, g in self.backprop}
        out["gradient"] = {p.var.name: mx.text(p.result) for p in self.gradients.partials}
        out["check"] = self.check
        out["partials"] = [p.to_json(steps) for p in self.gradients.partials]
        return out


def backprop_network(expr: Source, shapes: Any = None, *, params: Sequence[str] | None = None, at: Any = None,
                     steps: bool = True, strict: bool = False) -> NetworkResult:
    """The four (or 2·layers) gradients of a network loss in backprop form (see ``symgrad.matrix.network``).

    >>> r = backprop_network("cross_entropy(softmax(W2 relu(W1 x + b1) + b2), y)", "W1: m×n, W2: k×m, x: n")
    >>> dict((n, str(d)) for n, d in r.deltas), dict((n, str(g)) for n, g in r.backprop)["W1"], r.check
    ({'delta2': 'p - y', 'delta1': '(W2.T*delta2).*Heaviside(z1)'}, 'delta1*x.T', 'exact')
    """
    from symgrad.matrix.network import backprop

    parsed = _parsed(expr, shapes)
    info = backprop(parsed, list(params) if params else None)
    wanted = list(info["gradients"])
    grads = gradient(parsed, wanted, at=at, steps=steps, strict=strict)
    # the δ form, written out, is the gradient the engine found: checked like it
    for name, g in info["gradients"].items():
        written = mx.unname(g)
        check = check_gradient(parsed.expr, grads[name].var, written)
        if check.kind == "mismatch":
            raise MatrixStepsDisagree(f"the backprop form of ∂L/∂{name} disagrees with sympy.diff: {check.note}")
    named = info["named"]
    return NetworkResult(parsed, info["structure"].loss, named.names, tuple(info["deltas"].items()),
                         tuple(info["gradients"].items()), grads)


def evaluate(expr: Source, at: Any, shapes: Any = None) -> Any:
    """The expression's value at a point, as nested lists in its shape."""
    parsed = _parsed(expr, shapes)
    return _value(parsed.expr, parsed, at)


@record
class CompiledMatrix:
    """Generated ``f`` and ``grad_f`` (arrays in, arrays of the variables' shapes out) and their source."""

    source: str
    f: Any
    grad_f: Any
    wrt: tuple[str, ...]
    arguments: tuple[str, ...]
    backend: str
    parsed: MatrixParsed = field(default=None)

    def check(self, seed: int = 7) -> Any:
        """``grad_f`` against central finite differences (NumPy backend) at a seeded random point."""
        from symgrad.matrix.numeric import check_module

        return check_module({"f": self.f, "grad_f": self.grad_f}, self.parsed, self.wrt, seed)


def compile_matrix(expr: Source, wrt: str | Sequence[str] | None = None, shapes: Any = None,
                   backend: str = "numpy") -> CompiledMatrix:
    """Compile a matrix expression: ``f(args)`` and ``grad_f(args)`` for NumPy, JAX or torch."""
    from symgrad.matrix.numeric import _arguments, load, module_source
    from symgrad.numeric.codegen import require

    parsed = _parsed(expr, shapes)
    names = [v.name for v in _wrt(parsed, wrt)]
    require(backend)
    source = module_source(parsed, names, backend)
    ns = load(source)
    variables, scalars = _arguments(parsed)
    return CompiledMatrix(source, ns["f"], ns["grad_f"], tuple(names), tuple([v.name for v in variables] + scalars),
                          backend, parsed)


def export_source(expr: Source, wrt: str | Sequence[str] | None = None, shapes: Any = None,
                  backend: str = "numpy") -> str:
    """The module source ``compile_matrix`` runs (for ``symgrad export`` with ``--shape``)."""
    from symgrad.matrix.numeric import module_source

    parsed = _parsed(expr, shapes)
    return module_source(parsed, [v.name for v in _wrt(parsed, wrt)], backend)


def wrt_names(expr: Source, wrt: str | Sequence[str] | None = None, shapes: Any = None) -> list[str]:
    """The variables a result is by: ``wrt`` checked against the expression (default: every
    vector/matrix, in reading order)."""
    return [v.name for v in _wrt(_parsed(expr, shapes), wrt)]


def shapes_json(expr: Source, shapes: Any = None) -> dict[str, str]:
    """Each vector/matrix name's shape as the JSON writes it: ``"n"``, ``"m×n"``, ``"n×n symmetric"``."""
    return _shapes_json(_parsed(expr, shapes))


def point_values(at: str | Mapping[str, Any], expr: Source, shapes: Any = None) -> Any:
    from symgrad.matrix.numeric import parse_point

    return parse_point(at, _parsed(expr, shapes))

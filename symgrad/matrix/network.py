"""A layered network's gradients in backprop form: z₁ = W₁x + b₁, h = σ(z₁), z₂ = W₂h + b₂, p, δ.

Stage: the matrix step engine, applied to networks. ``layers`` recognises the structure of a loss
written as one expression (cross_entropy(softmax(W₂ act(W₁x + b₁) + b₂), y) or ‖W₂ act(W₁x + b₁) +
b₂ − y‖², any number of layers, any entrywise activation), ``name`` rewrites the expression with
the intermediates as ``Named`` nodes (introduced once, as the scalar chain steps name u, v, w),
and the reverse-mode read-off of ``differential`` gives each parameter's gradient with the weight
met at each pre-activation zₗ named δₗ (δ₂ = p − y, δ₁ = (W₂ᵀδ₂) ⊙ act′(z₁), ∂L/∂W₁ = δ₁xᵀ). Every
gradient is checked, with the names written out, against ``sympy.diff`` of the components.

To support another loss: its case in ``_loss``.
"""

from __future__ import annotations

from typing import Any

from symgrad.errors import InputError
from symgrad.matrix import expr as mx
from symgrad.matrix.expr import Node, Var
from symgrad.records import field, record


@record
class Layer:
    weight: Var
    bias: Var | None
    inner: Node
    """What the layer multiplies: the input x, or the activation of the layer below."""
    activation: mx.Map | None = None
    """The entrywise function applied to this layer's pre-activation (None for the output layer)."""


@record
class Structure:
    loss: str
    """``softmax_cross_entropy`` or ``squared_error``."""
    layers: tuple[Layer, ...]
    """From the input up."""
    labels: Node
    input: Node


def _affine(n: Node) -> tuple[Var, Var | None, Node] | None:
    """W v + b (or W v) -> (W, b, v)."""
    bias = None
    if isinstance(n, mx.Add) and len(n.terms) == 2:
        a, b = n.terms
        if isinstance(b, Var) and isinstance(a, mx.Mul):
            bias, n = b, a
        elif isinstance(a, Var) and isinstance(b, mx.Mul):
            bias, n = a, b
        else:
            return None
    if isinstance(n, mx.Mul) and n.coefficient is None and len(n.chain) >= 2 and isinstance(n.chain[0], Var) \
            and n.chain[0].kind == "matrix":
        rest = n.chain[1:]
        inner = rest[0] if len(rest) == 1 else mx.Mul(tuple(rest))
        return n.chain[0], bias, inner
    return None


def _loss(f: Node) -> tuple[str, Node, Node]:
    if isinstance(f, mx.SoftmaxCE):
        return "softmax_cross_entropy", f.logits, f.labels
    core = f
    if isinstance(core, mx.Mul) and core.coefficient is not None and len(core.chain) == 1:
        core = core.chain[0]
    if isinstance(core, mx.Map) and len(core.args) == 1 and isinstance(core.args[0], mx.SqNorm):
        core = core.args[0]
    if isinstance(core, mx.SqNorm) and isinstance(core.arg, mx.Add):
        terms = list(core.arg.terms)
        for i, t in enumerate(terms):
            c, rest = mx.split_coefficient(t)
            if isinstance(c, mx.Const) and c.value == -1 and isinstance(rest, Var):
                others = terms[:i] + terms[i + 1:]
                return "squared_error", mx.add(*others), rest
    raise InputError("this is not a network loss symgrad recognises",
                     suggestion="write cross_entropy(softmax(W2 relu(W1 x + b1) + b2), y) or "
                                "‖W2 σ(W1 x + b1) + b2 − y‖²")


def layers(f: Node) -> Structure:
    """The layers of a network loss, from the input up."""
    loss, out, labels = _loss(f)
    found: list[Layer] = []
    node = out
    activation: mx.Map | None = None
    while True:
        aff = _affine(node)
        if aff is None:
            raise InputError(f"{mx.text(node)} is not a layer W v + b",
                             suggestion="each layer is W v + b, its input an entrywise function of the layer "
                             "below, or the input x")
        w, b, inner = aff
        found.append(Layer(w, b, inner, activation))
        if isinstance(inner, mx.Map) and len(inner.args) == 1 and _affine(inner.args[0]) is not None:
            activation = inner
            node = inner.args[0]
            continue
        break
    found.reverse()
    return Structure(loss, tuple(found), labels, found[0].inner)


@record
class NamedNetwork:
    expr: Node
    """The loss with its intermediates as ``Named`` nodes."""
    names: tuple[tuple[str, Node], ...]
    """(name, definition in the names before it), from the input up: z1, h, z2, p."""
    deltas: dict[str, str] = field(default_factory=dict)
    """Pre-activation name -> the name of its δ (z1 -> delta1)."""
    output: str = ""


def name(structure: Structure) -> NamedNetwork:
    """z₁, h, z₂, (p): every layer's pre-activation and activation named once."""
    count = len(structure.layers)
    names: list[tuple[str, Node]] = []
    deltas: dict[str, str] = {}
    below: Node = structure.input
    for k, layer in enumerate(structure.layers, 1):
        pre = mx.mul(layer.weight, below)
        if layer.bias is not None:
            pre = mx.add(pre, layer.bias)
        z = mx.Named(f"z{k}", pre)
        names.append((z.name, pre))
        deltas[z.name] = f"delta{k}"
        if layer.activation is not None:
            act = mx.emap(layer.activation.body, [z])
            hname = "h" if count == 2 else f"h{k}"
            h = mx.Named(hname, act)
            names.append((hname, act))
            below = h
        else:
            below = z
    out: Node = below
    if structure.loss == "softmax_cross_entropy":
        loss: Node = mx.SoftmaxCE(out, structure.labels)
        names.append(("p", mx.Softmax(out)))
    else:
        loss = mx.SqNorm(mx.sub(out, structure.labels))
    return NamedNetwork(loss, tuple(names), deltas, out.name if isinstance(out, mx.Named) else "")


def scale_like(original: Node, named: Node) -> Node:
    """Put back a constant factor the loss had outside its core (½‖…‖²)."""
    if isinstance(original, mx.Mul) and original.coefficient is not None and len(original.chain) == 1:
        return mx.mul(original.coefficient, named)
    return named


def relabel(n: Node, names: dict[Node, str]) -> Node:
    """Write ``n`` in the intermediate names: a subexpression equal to a definition becomes its name."""
    def fn(m: Node) -> Node | None:
        if not isinstance(m, mx.Named) and m in names:
            return mx.Named(names[m], m)
        return None

    return mx.transform(n, fn)


def backprop(parsed: Any, params: list[str] | None = None) -> dict[str, Any]:
    """The structure, the names and, per parameter, its gradient in δ form and written out."""
    from symgrad.matrix.differential import _Ids, differentiate, terms, tidy

    f = parsed.expr
    structure = layers(f)
    named = name(structure)
    loss = scale_like(f, named.expr)
    wanted = params or [v.name for layer in structure.layers for v in (layer.weight, layer.bias) if v is not None]
    by = {v.name: v for v in f.variables()}
    out: dict[str, Any] = {"structure": structure, "named": named, "loss": loss, "gradients": {}, "deltas": {}}
    definitions = {d: n for n, d in named.names}
    p_node = dict(named.names).get("p")
    for pname in wanted:
        if pname not in by:
            raise InputError(f"{pname} is not a variable of the network")
        var = by[pname]
        ids = _Ids()
        df = differentiate(loss, var, ids, scalar_steps=False)
        parts = []
        for t in terms(df.result):
            if not mx.has_d(t):
                continue
            adj = _DeltaAdjoint(named.deltas)
            parts.append(adj.run(t, mx.ONE))
            for zname, g in adj.delta_defs.items():
                if named.deltas[zname] not in out["deltas"]:
                    shown = tidy(g)
                    if p_node is not None:
                        shown = mx.replace(shown, {p_node: mx.Named("p", p_node)})
                    out["deltas"][named.deltas[zname]] = shown
        g = tidy(mx.add(*parts))
        out["gradients"][pname] = g
    out["definitions"] = definitions
    return out


class _DeltaAdjoint:
    """The reverse-mode read-off, naming the weight at each pre-activation zₗ δₗ."""

    def __init__(self, deltas: dict[str, str]) -> None:
        from symgrad.matrix.differential import _Adjoint

        self.deltas = deltas
        self.delta_defs: dict[str, Node] = {}
        base = _Adjoint()
        outer = self

        class Inner(type(base)):  # type: ignore[misc]
            def run(self, n: Node, g: Node) -> Node:
                if isinstance(n, mx.Named) and n.name[1:] in outer.deltas:  # dzₗ: the weight here is δₗ
                    outer.delta_defs.setdefault(n.name[1:], g)
                    g = mx.Named(outer.deltas[n.name[1:]], g)
                    return super().run(n.definition, g)
                return super().run(n, g)

        self.inner = Inner()

    def run(self, n: Node, g: Node) -> Node:
        return self.inner.run(n, g)

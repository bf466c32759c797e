"""The differential form: d f as matrix calculus teaches it, then the gradient (or Jacobian) read off.

Stage: the matrix step engine. ``differentiate(f, X)`` builds a tree of rule records (one class
per identity: the product rule for differentials, d(Xᵀ) = (dX)ᵀ, d(X⁻¹) = −X⁻¹ dX X⁻¹,
d det X = det X·tr(X⁻¹dX), d ln det X = tr(X⁻¹dX), d tr = tr d, dσ(z) = σ′(z) ⊙ dz, …); like the
scalar engine's rules (``symgrad.steps.rules``), each record's ``combine`` rebuilds its
differential from its substeps', so the tree is the single source of truth. Entrywise functions
take their derivative from the scalar step engine (``symgrad.steps.derive``: σ′ = σ(1 − σ),
tanh′ = 1 − tanh², the derivative table), whose worked derivation is kept in the step.

From d f (a number, linear in dX) the gradient is read off term by term (``to_gradient``): each
term is brought to the form tr(Gᵢᵀ dX) (gᵢᵀdx for a vector) by the identities named in its
``TermStep`` (a number is its own transpose and its own trace, trace cyclicity, an elementwise
product moves across the inner product, sum(dz) = 𝟙ᵀdz), then d f = tr(Gᵀ dX) ⇒ ∇f = G, in
denominator layout: the gradient has the shape of the variable. ``to_jacobian`` reads
d f = J dx ⇒ ∂f/∂x = J (one row per component of f, so ∂(Wx)/∂x = W). The reading off is
reverse mode (``adjoint``): the weight G travels from f to dX, and where it passes a named
intermediate (z₁ in a network) it is that intermediate's δ.

To add a node's rule: a ``DStep`` subclass with ``RULE``, ``TITLE``, ``IDENTITY`` and ``combine``,
its case in ``_d``, and (if dX can sit inside it) its case in ``adjoint`` and ``_jac``.

>>> from symgrad.matrix.notation import parse
>>> p = parse("x^T A x", "A: n×n")
>>> g = gradient_steps(p.expr, p.var("x"))
>>> str(g.differential.result), str(g.result)
('d(x).T*A*x + x.T*A*d(x)', '(A + A.T)*x')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import sympy as sp

from symgrad.errors import InputError, Unsupported
from symgrad.matrix import expr as mx
from symgrad.matrix.expr import D, Node, Var
from symgrad.records import record


# records --------------------------------------------------------------------------------------
@record(kw_only=True)
class MatrixStep:
    """A step of a matrix derivation: ``expr`` and what the rule made of it (``result``)."""

    RULE: ClassVar[str] = "matrix_step"
    TITLE: ClassVar[str] = "Step"
    IDENTITY: ClassVar[str] = ""

    expr: Node
    result: Node
    substeps: tuple[MatrixStep, ...] = ()
    id: int = 0

    @property
    def rule(self) -> str:
        return self.RULE

    @property
    def title(self) -> str:
        return self.TITLE

    @property
    def identity(self) -> str:
        return self.IDENTITY

    def combine(self, results: Sequence[Node]) -> Node:
        """The result from the substeps' results (a leaf's result is its own)."""
        return self.result

    def data(self) -> dict[str, Any]:
        return {}

    def walk(self) -> list[MatrixStep]:
        out: list[MatrixStep] = []
        stack: list[MatrixStep] = [self]
        while stack:
            s = stack.pop()
            out.append(s)
            stack.extend(reversed(s.substeps))
        return out

    def to_json(self) -> dict[str, Any]:
        """``{"id", "rule", "title", "identity", "expression", "result", "shape", …, "substeps"}``;
        ``shape`` is the shape of ``expression`` (``"m×n"``, ``"n"`` for a vector, ``"1"`` a number)."""
        out: dict[str, Any] = {"id": self.id, "rule": self.rule, "title": self.title}
        if self.identity:
            out["identity"] = self.identity
        out.update({"expression": mx.text(self.expr), "result": mx.text(self.result), "shape": mx.shape_of(self.expr)})
        for key, value in self.data().items():
            out[key] = value
        out["substeps"] = [s.to_json() for s in self.substeps]
        return out


class DStep(MatrixStep):
    """d(expr) = result."""

    RULE = "d"


@record(kw_only=True)
class DConstant(DStep):
    RULE, TITLE, IDENTITY = "d_constant", "Constant", "dA = 0 (A does not depend on the variable)"


@record(kw_only=True)
class DVariable(DStep):
    RULE, TITLE, IDENTITY = "d_variable", "Variable", "d(X) = dX"


@record(kw_only=True)
class DSum(DStep):
    RULE, TITLE, IDENTITY = "d_sum", "Sum rule", "d(A + B) = dA + dB"

    def combine(self, results: Sequence[Node]) -> Node:
        return mx.add(*results)


@record(kw_only=True)
class DProduct(DStep):
    """d(ABC) = dA·BC + A·dB·C + AB·dC (the order of the factors stays)."""

    RULE, TITLE, IDENTITY = "d_product", "Product rule for differentials", "d(AB) = dA·B + A·dB"
    factors: tuple[Node, ...]
    varying: tuple[int, ...]

    def combine(self, results: Sequence[Node]) -> Node:
        f = list(self.factors)
        return mx.add(*[mx.mul(*(f[:i] + [r] + f[i + 1:])) for i, r in zip(self.varying, results)])


@record(kw_only=True)
class DTranspose(DStep):
    RULE, TITLE, IDENTITY = "d_transpose", "Transpose", "d(Xᵀ) = (dX)ᵀ"

    def combine(self, results: Sequence[Node]) -> Node:
        return mx.transpose(results[0])


@record(kw_only=True)
class DInverse(DStep):
    RULE, TITLE, IDENTITY = "d_inverse", "Inverse", "d(X⁻¹) = −X⁻¹ dX X⁻¹"

    def combine(self, results: Sequence[Node]) -> Node:
        return mx.mul(mx.Const(sp.S.NegativeOne), self.expr, results[0], self.expr)


@record(kw_only=True)
class DDet(DStep):
    RULE, TITLE, IDENTITY = "d_det", "Determinant (Jacobi's formula)", "d det X = det X · tr(X⁻¹dX)"

    def combine(self, results: Sequence[Node]) -> Node:
        a = self.expr.arg  # type: ignore[attr-defined]
        return mx.mul(self.expr, mx.Trace(mx.mul(mx.inverse(a), results[0])))


@record(kw_only=True)
class DLogDet(DStep):
    RULE, TITLE, IDENTITY = "d_log_det", "Log-determinant", "d ln det X = tr(X⁻¹dX)"
    matrix: Node

    def combine(self, results: Sequence[Node]) -> Node:
        return mx.Trace(mx.mul(mx.inverse(self.matrix), results[0]))


@record(kw_only=True)
class DTrace(DStep):
    RULE, TITLE, IDENTITY = "d_trace", "Trace", "d tr X = tr dX"

    def combine(self, results: Sequence[Node]) -> Node:
        return mx.Trace(results[0])


@record(kw_only=True)
class DEntrywise(DStep):
    """d F(a, b, …) = ∂F/∂a ⊙ da + ∂F/∂b ⊙ db entry by entry (for numbers: the chain rule)."""

    RULE = "d_elementwise"
    partials: tuple[sp.Expr, ...]
    """∂body/∂_aᵢ of the map's body, for each argument that varies (``varying``)."""
    varying: tuple[int, ...]
    derivations: tuple[Any, ...] = ()
    """The scalar step engine's worked derivation of each partial (``symgrad.steps.Derivation``)."""
    names: tuple[str, ...] = ()
    """The name each argument has in ``derivations`` (u, v, …)."""

    @property
    def title(self) -> str:
        return "Chain rule" if self.expr.is_scalar else "Elementwise chain rule"

    @property
    def identity(self) -> str:
        return "d f(u) = f′(u) du" if self.expr.is_scalar else "dσ(z) = σ′(z) ⊙ dz (entry by entry)"

    def combine(self, results: Sequence[Node]) -> Node:
        m: mx.Map = self.expr  # type: ignore[assignment]
        args = list(m.args)
        terms = []
        for c, _i, r in zip(self.partials, self.varying, results):
            terms.append(mx.emap(c * mx.slot(len(args)), args + [r]))
        return mx.add(*terms)

    def data(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.derivations:
            out["scalar"] = [{"wrt": n, "result": str(d.result), "check": d.check,
                              "steps": [s.to_json() for s in d.steps]} for n, d in zip(self.names, self.derivations)]
        return out


@record(kw_only=True)
class DSoftmax(DStep):
    RULE, TITLE, IDENTITY = "d_softmax", "Softmax", "d softmax(z) = (diag(p) − ppᵀ) dz with p = softmax(z)"

    def combine(self, results: Sequence[Node]) -> Node:
        p = self.expr
        return mx.mul(mx.add(mx.Diag(p), mx.neg(mx.mul(p, mx.transpose(p)))), results[0])

    def data(self) -> dict[str, Any]:
        return {"derivation": "symgrad softmax N: ∂pᵢ/∂zⱼ = pᵢ(δᵢⱼ − pⱼ)"}


@record(kw_only=True)
class DSoftmaxCE(DStep):
    RULE, TITLE = "d_softmax_cross_entropy", "Softmax cross-entropy"
    IDENTITY = "d[ln Σₖ e^zₖ − yᵀz] = (softmax(z) − y)ᵀ dz − zᵀdy"
    varying: tuple[int, ...]

    def combine(self, results: Sequence[Node]) -> Node:
        e: mx.SoftmaxCE = self.expr  # type: ignore[assignment]
        terms = []
        for i, r in zip(self.varying, results):
            if i == 0:
                terms.append(mx.mul(mx.transpose(mx.sub(mx.Softmax(e.logits), e.labels)), r))
            else:
                terms.append(mx.neg(mx.mul(mx.transpose(e.logits), r)))
        return mx.add(*terms)


@record(kw_only=True)
class DNorm(DStep):
    RULE, TITLE, IDENTITY = "d_norm", "Norm", "d‖x‖ = xᵀdx / ‖x‖"

    def combine(self, results: Sequence[Node]) -> Node:
        a = self.expr.arg  # type: ignore[attr-defined]
        inner = mx.mul(mx.transpose(a), results[0]) if a.kind in ("vector", "scalar") else mx.Trace(
            mx.mul(mx.transpose(a), results[0]))
        return mx.mul(mx.inverse(self.expr), inner)


@record(kw_only=True)
class DSqNorm(DStep):
    RULE, TITLE, IDENTITY = "d_squared_norm", "Squared norm", "d‖x‖² = d(xᵀx) = 2xᵀdx"

    def combine(self, results: Sequence[Node]) -> Node:
        a = self.expr.arg  # type: ignore[attr-defined]
        two = mx.Const(sp.Integer(2))
        if a.kind in ("vector", "scalar"):
            return mx.mul(two, mx.transpose(a), results[0])
        return mx.mul(two, mx.Trace(mx.mul(mx.transpose(a), results[0])))


@record(kw_only=True)
class DSumEntries(DStep):
    RULE, TITLE, IDENTITY = "d_sum_entries", "Sum of the entries", "d sum(X) = sum(dX)"

    def combine(self, results: Sequence[Node]) -> Node:
        return mx.Sum(results[0])


@record(kw_only=True)
class DDiag(DStep):
    RULE, TITLE, IDENTITY = "d_diag", "Diagonal", "d diag(x) = diag(dx)"

    def combine(self, results: Sequence[Node]) -> Node:
        return mx.Diag(results[0]) if isinstance(self.expr, mx.Diag) else mx.DiagPart(results[0])


@record(kw_only=True)
class DNamed(DStep):
    RULE, TITLE, IDENTITY = "d_named", "Intermediate", "dz for the intermediate z"

    def combine(self, results: Sequence[Node]) -> Node:
        # kept as the named differential dz, so that the read-off knows where it passes z
        return mx.Named("d" + self.expr.name, results[0])  # type: ignore[attr-defined]

    def data(self) -> dict[str, Any]:
        return {"name": self.expr.name}  # type: ignore[attr-defined]


@record(kw_only=True)
class TermStep(MatrixStep):
    """One term of d f brought to the form tr(Gᵀ dX) (gᵀdx): ``result`` is G."""

    RULE, TITLE = "term", "Read off one term"
    identities: tuple[str, ...] = ()

    @property
    def identity(self) -> str:
        return "; ".join(self.identities)

    def data(self) -> dict[str, Any]:
        return {"identities": list(self.identities)}


@record(kw_only=True)
class GradientStep(MatrixStep):
    """d f = tr(Gᵀ dX) ⇒ ∇_X f = G (denominator layout: the gradient has the shape of X)."""

    RULE, TITLE = "gradient", "From the differential to the gradient"
    var: Var
    before: Node
    differential: DStep

    @property
    def identity(self) -> str:
        if self.var.kind in ("vector", "scalar"):
            return f"df = gᵀd{self.var.name} ⇒ ∇_{self.var.name} f = g"
        return f"df = tr(Gᵀd{self.var.name}) ⇒ ∇_{self.var.name} f = G"

    def combine(self, results: Sequence[Node]) -> Node:
        return tidy(mx.add(*results))

    def data(self) -> dict[str, Any]:
        return {"wrt": self.var.name, "before": mx.text(self.before)}


@record(kw_only=True)
class JacobianStep(MatrixStep):
    """d f = J dx ⇒ ∂f/∂x = J (one row per component of f)."""

    RULE, TITLE = "jacobian", "From the differential to the Jacobian"
    var: Var
    before: Node
    differential: DStep

    @property
    def identity(self) -> str:
        return f"df = J d{self.var.name} ⇒ ∂f/∂{self.var.name} = J"

    def data(self) -> dict[str, Any]:
        return {"wrt": self.var.name, "before": mx.text(self.before)}


# the differential ------------------------------------------------------------------------------
class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def new(self) -> int:
        self.n += 1
        return self.n


def differentiate(f: Node, var: Var, ids: _Ids | None = None, *, scalar_steps: bool = True) -> DStep:
    """The step tree of d f with respect to ``var`` (every other variable held constant)."""
    from symgrad.budget import deep_recursion

    with deep_recursion():
        return _d(f, var, ids or _Ids(), scalar_steps)


def _d(n: Node, x: Var, ids: _Ids, scalar_steps: bool) -> DStep:
    from symgrad.budget import check

    check()
    sid = ids.new()
    if not mx.depends(n, x):
        return DConstant(expr=n, result=mx.zero_like(n), id=sid)
    if n == x:
        return DVariable(expr=n, result=D(x), id=sid)

    def sub(m: Node) -> DStep:
        return _d(m, x, ids, scalar_steps)

    def made(cls: type, subs: Sequence[DStep], **kw: Any) -> DStep:
        step = cls(expr=n, result=mx.ZERO, substeps=tuple(subs), id=sid, **kw)
        return _with_result(step, step.combine([s.result for s in subs]))

    if isinstance(n, mx.Add):
        return made(DSum, [sub(t) for t in n.terms if mx.depends(t, x)])
    if isinstance(n, mx.Mul):
        varying = tuple(i for i, f in enumerate(n.factors) if mx.depends(f, x))
        return made(DProduct, [sub(n.factors[i]) for i in varying], factors=n.factors, varying=varying)
    if isinstance(n, mx.Transpose):
        return made(DTranspose, [sub(n.arg)])
    if isinstance(n, mx.Inverse):
        return made(DInverse, [sub(n.arg)])
    if isinstance(n, mx.Det):
        return made(DDet, [sub(n.arg)])
    if isinstance(n, mx.Trace):
        return made(DTrace, [sub(n.arg)])
    if isinstance(n, mx.Map):
        if n.body == sp.log(mx.slot(0)) and isinstance(n.args[0], mx.Det):
            return made(DLogDet, [sub(n.args[0].arg)], matrix=n.args[0].arg)
        return _entrywise(n, x, sid, [sub(a) if mx.depends(a, x) else None for a in n.args], scalar_steps)
    if isinstance(n, mx.Softmax):
        return made(DSoftmax, [sub(n.arg)])
    if isinstance(n, mx.SoftmaxCE):
        varying = tuple(i for i, a in enumerate((n.logits, n.labels)) if mx.depends(a, x))
        return made(DSoftmaxCE, [sub((n.logits, n.labels)[i]) for i in varying], varying=varying)
    if isinstance(n, mx.Norm):
        return made(DNorm, [sub(n.arg)])
    if isinstance(n, mx.SqNorm):
        return made(DSqNorm, [sub(n.arg)])
    if isinstance(n, mx.Sum):
        return made(DSumEntries, [sub(n.arg)])
    if isinstance(n, (mx.Diag, mx.DiagPart)):
        return made(DDiag, [sub(n.arg)])
    if isinstance(n, mx.Named):
        return made(DNamed, [sub(n.definition)])
    raise Unsupported(f"symgrad has no differential rule for {type(n).__name__} yet")


def _with_result(step: DStep, result: Node) -> DStep:
    from symgrad.records import replace

    return replace(step, result=result)


_NAMES = ("u", "v", "w", "t", "s", "r", "q")


def _entrywise(n: mx.Map, x: Var, sid: int, subs: list[DStep | None], scalar_steps: bool) -> DStep:
    """d F(args) entry by entry, each ∂F/∂argᵢ worked out by the scalar step engine."""
    from symgrad.steps import derive

    varying = tuple(i for i, s in enumerate(subs) if s is not None)
    taken = {s.name for s in n.body.free_symbols} | {a.name for a in n.args if isinstance(a, Var)}
    names: list[str] = []
    for a in n.args:
        wanted = a.name if isinstance(a, Var) and a.name not in names else None
        spare = _NAMES + tuple(f"u{k}" for k in range(1, 99))
        name = wanted or next(c for c in spare if c not in taken and c not in names)
        names.append(name)
    symbols = [sp.Symbol(nm, real=True) for nm in names]
    shown = n.body.xreplace({mx.slot(i): s for i, s in enumerate(symbols)})
    back = {s: mx.slot(i) for i, s in enumerate(symbols)}
    partials, derivations = [], []
    for i in varying:
        if scalar_steps:
            d = derive(shown, wrt=symbols[i])
            if d.check == "mismatch":
                raise Unsupported(f"the scalar steps for d/d{names[i]} [{shown}] disagree with SymPy")
            derivations.append(d)
            partials.append(d.result.xreplace(back))
        else:
            partials.append(sp.diff(n.body, mx.slot(i)))
    step = DEntrywise(expr=n, result=mx.ZERO, substeps=tuple(s for s in subs if s is not None), id=sid,
                      partials=tuple(partials), varying=varying, derivations=tuple(derivations),
                      names=tuple(names[i] for i in varying))
    return _with_result(step, step.combine([s.result for s in step.substeps]))


# reading off the gradient (reverse mode) -----------------------------------------------------------
class _Adjoint:
    """Carries the weight G from the differential's root to dX, noting the identities used and the
    weight met at each named intermediate (its δ)."""

    def __init__(self) -> None:
        self.identities: list[str] = []
        self.at_named: dict[str, list[Node]] = {}

    def say(self, identity: str) -> None:
        if identity not in self.identities:
            self.identities.append(identity)

    def run(self, n: Node, g: Node) -> Node:
        from symgrad.budget import check

        check()
        if isinstance(n, D):
            return g
        if isinstance(n, mx.Add):
            parts = [self.run(t, g) for t in n.terms if mx.has_d(t)]
            return mx.add(*parts)
        if isinstance(n, mx.Transpose):
            if n.is_scalar or (g.is_scalar and not mx._chain_piece(g)):
                self.say("a number is its own transpose: (dx)ᵀv = vᵀdx")
            else:
                self.say("a transpose moves to the weight: ⟨G, Mᵀ⟩ = ⟨Gᵀ, M⟩")
            return self.run(n.arg, mx.transpose(g))
        if isinstance(n, mx.Mul):
            factors = list(n.factors)
            k = next(i for i, f in enumerate(factors) if mx.has_d(f))
            f = factors[k]
            c = n.coefficient
            if c is not None and k == 0 and len(factors) > 1:
                # the weight of a number s in s·P is ⟨G, P⟩
                rest = mx.mul(*factors[1:])
                return self.run(f, _inner(g, rest, self))
            left = factors[:k]
            right = factors[k + 1:]
            lt = mx.transpose(mx.mul(*left)) if left else mx.ONE
            rt = mx.transpose(mx.mul(*right)) if right else mx.ONE
            matrix = any(isinstance(m, D) and m.var.kind == "matrix" for m in f.walk())
            if right and matrix and not f.is_scalar:
                self.say("trace cyclicity: tr(A dX B) = tr(BA dX)" if left else "trace cyclicity: tr(dX B) = tr(B dX)")
            return self.run(f, mx.mul(lt, g, rt))
        if isinstance(n, mx.Map):
            total: list[Node] = []
            args = list(n.args)
            elementwise = not n.is_scalar
            for i, a in enumerate(args):
                if not mx.has_d(a):
                    continue
                c = sp.diff(n.body, mx.slot(i))
                weight = mx.emap(c * mx.slot(len(args)), args + [g])
                if elementwise and mx.is_number(a):
                    # a number in every entry (b in σ(Xw + b)): its weight is the sum over the entries
                    self.say("a number in every entry: ⟨G, a·db⟩ = sum(G ⊙ a)·db")
                    weight = _summed(weight)
                elif elementwise:
                    self.say("an elementwise product moves across: ⟨G, a ⊙ dz⟩ = ⟨G ⊙ a, dz⟩")
                total.append(self.run(a, weight))
            return mx.add(*total)
        if isinstance(n, mx.Trace):
            self.say("a number is its own trace: df = tr(M dX) ⇒ the gradient is Mᵀ")
            return self.run(n.arg, mx.mul(g, mx.Identity(n.arg.shape[0])))
        if isinstance(n, mx.Sum):
            self.say("sum(dz) = 𝟙ᵀdz")
            return self.run(n.arg, mx.mul(g, mx.Ones(*n.arg.shape)))
        if isinstance(n, mx.Diag):
            self.say("⟨G, diag(dx)⟩ = diag(G)ᵀdx")
            return self.run(n.arg, mx.diag(g))
        if isinstance(n, mx.DiagPart):
            return self.run(n.arg, mx.Diag(g))
        if isinstance(n, mx.Named):
            self.at_named.setdefault(n.name, []).append(g)
            return self.run(n.definition, g)
        raise Unsupported(f"symgrad cannot read the gradient off a differential containing {type(n).__name__}")


def _summed(n: Node) -> Node:
    """sum(N) of the entries (c·sum(N′) for N = c·N′; a number is its own sum)."""
    if mx.is_number(n):
        return n
    c, rest = mx.split_coefficient(n)
    return mx.mul(c, mx.Sum(rest))


def _inner(g: Node, p: Node, adj: _Adjoint) -> Node:
    """⟨G, P⟩ = tr(GᵀP), a number (just G·P when both are numbers; sum(G) for P = 𝟙)."""
    if p.is_scalar and not mx._chain_piece(p):
        return mx.mul(g, p)
    if p.is_scalar:
        return mx.mul(g, p)
    c, rest = mx.split_coefficient(p)
    if isinstance(rest, mx.Ones):
        adj.say("⟨G, s·𝟙⟩ = s·sum(G)")
        return mx.mul(c, _summed(g))
    adj.say("⟨G, s·P⟩ = s·tr(GᵀP)")
    return mx.Trace(mx.mul(mx.transpose(g), p))


def terms(n: Node) -> list[Node]:
    """The terms of a sum (a sum of numbers is one scalar ``Map``: its body's terms)."""
    if isinstance(n, mx.Add):
        return list(n.terms)
    if isinstance(n, mx.Map) and n.is_scalar and n.body.is_Add:
        return [mx.emap(t, n.args) for t in n.body.args]
    return [n]


def to_gradient(df: DStep, var: Var, ids: _Ids) -> GradientStep:
    """d f (a number) -> ∇f with one ``TermStep`` per term of d f."""
    if not df.expr.is_scalar or mx._chain_piece(df.expr):
        raise InputError(f"the gradient is for a number; {mx.text(df.expr)} has shape {mx.shape_of(df.expr)}",
                         suggestion="use jacobian for a vector function")
    steps: list[MatrixStep] = []
    parts: list[Node] = []
    for t in terms(df.result):
        if not mx.has_d(t):
            continue
        adj = _Adjoint()
        g = adj.run(t, mx.ONE)
        if g.shape != var.shape:
            g = _fit(g, var)
        steps.append(TermStep(expr=t, result=g, identities=tuple(adj.identities), id=ids.new()))
        parts.append(g)
    before = mx.add(*parts) if parts else mx.Zero(*var.shape)
    result = tidy(before)
    return GradientStep(expr=df.expr, result=result, substeps=tuple(steps), id=ids.new(), var=var, before=before,
                        differential=df)


def _fit(g: Node, var: Var) -> Node:
    """A 1×1 weight for a 1×1 variable, or a transposed one: the variable's shape."""
    if g.shape == (var.shape[1], var.shape[0]):
        return mx.transpose(g)
    return g


def gradient_steps(f: Node, var: Var, *, scalar_steps: bool = True) -> GradientStep:
    """d f and ∇_var f, with all their steps."""
    ids = _Ids()
    df = differentiate(f, var, ids, scalar_steps=scalar_steps)
    return to_gradient(df, var, ids)


# reading off the Jacobian (forward) ---------------------------------------------------------------
def _jac(n: Node, var: Var) -> Node:
    if isinstance(n, D):
        return mx.Identity(var.shape[0])
    if isinstance(n, mx.Add):
        return mx.add(*[_jac(t, var) for t in n.terms if mx.has_d(t)])
    if isinstance(n, mx.Named):
        return _jac(n.definition, var)
    if n.is_scalar and not mx._chain_piece(n) and not isinstance(n, mx.Map):
        adj = _Adjoint()
        return mx.transpose(_fit(adj.run(n, mx.ONE), var))
    if isinstance(n, mx.Mul):
        factors = list(n.factors)
        k = next(i for i, f in enumerate(factors) if mx.has_d(f))
        f = factors[k]
        if n.coefficient is not None and k == 0 and len(factors) > 1:
            adj = _Adjoint()
            g = _fit(adj.run(f, mx.ONE), var)
            return mx.mul(mx.mul(*factors[1:]), mx.transpose(g))
        right = factors[k + 1:]
        if right and not mx.mul(*right).is_scalar:
            raise Unsupported("this Jacobian is not a matrix (the variable is a matrix or sits inside a product "
                              "from the left): symgrad gives Jacobians of vector functions of vectors")
        return mx.mul(*(factors[:k] + right + [_jac(f, var)]))
    if isinstance(n, mx.Map):
        args = list(n.args)
        out = []
        for i, a in enumerate(args):
            if mx.has_d(a):
                c = sp.diff(n.body, mx.slot(i))
                if mx.is_number(a) and not mx.is_number(n):
                    out.append(mx.mul(mx.emap(c, args), _jac(a, var)))  # a number in every entry: a column
                    continue
                out.append(mx.mul(mx.diag(mx.emap(c, args)), _jac(a, var)))
        return mx.add(*out)
    raise Unsupported(f"symgrad cannot read a Jacobian off a differential containing {type(n).__name__}")


def to_jacobian(df: DStep, var: Var, ids: _Ids) -> JacobianStep:
    """d f = J dx ⇒ ∂f/∂x = J."""
    if var.kind not in ("vector", "scalar"):
        raise Unsupported(f"the Jacobian by the matrix {var.name} has four indices: symgrad gives the differential "
                          f"d f = {mx.text(df.result)} instead",
                          suggestion="take the Jacobian by a vector, or the gradient of a number by a matrix")
    if df.expr.kind not in ("vector", "scalar"):
        raise Unsupported(f"{mx.text(df.expr)} is a {mx.shape_of(df.expr)} matrix: its Jacobian has more than two "
                          "indices", suggestion="take the Jacobian of a vector function")
    before = _jac(df.result, var) if mx.has_d(df.result) else mx.Zero(df.expr.shape[0], var.shape[0])
    return JacobianStep(expr=df.expr, result=tidy(before), id=ids.new(), var=var, before=before, differential=df)


def jacobian_steps(f: Node, var: Var, *, scalar_steps: bool = True) -> JacobianStep:
    ids = _Ids()
    return to_jacobian(differentiate(f, var, ids, scalar_steps=scalar_steps), var, ids)


# tidying -------------------------------------------------------------------------------------------
def tidy(n: Node) -> Node:
    """A result in the form people write: common factors pulled out of sums (Ax + Aᵀx = (A + Aᵀ)x),
    entrywise bodies in their shortest form (σ(z)·y − … ⇒ σ(z) − y)."""
    return mx.transform(n, _tidy_node)


def _tidy_node(n: Node) -> Node | None:
    if isinstance(n, mx.Map):
        body = _shortest(n.body)
        return mx.emap(body, n.args) if body != n.body else None
    if isinstance(n, mx.Add):
        return _factor(n)
    return None


def _shortest(body: sp.Expr) -> sp.Expr:
    from symgrad.steps.simplify import final_form

    candidates = [body]
    for make in (lambda b: sp.expand(b), lambda b: sp.factor_terms(sp.expand(b)), final_form):
        try:
            candidates.append(make(body))
        except Exception:
            continue
    return min(candidates, key=lambda e: (sp.count_ops(e), e.could_extract_minus_sign(), candidates.index(e)))


def _factor(n: mx.Add) -> Node | None:
    """Pull a factor shared by two or more terms out of a sum, on the right (A x + B x = (A + B) x)
    or on the left (x A + x B = x (A + B))."""
    ts = list(n.terms)
    for side in (-1, 0):
        groups: dict[Node, list[int]] = {}
        for i, t in enumerate(ts):
            chain = _chain_of(t)
            if len(chain) >= 1:
                groups.setdefault(chain[side], []).append(i)
        for f, idx in groups.items():
            if len(idx) < 2 or f.is_scalar:
                continue
            rests = []
            for i in idx:
                c, chain = _split(ts[i])
                rest_chain = chain[:-1] if side == -1 else chain[1:]
                if not rest_chain:
                    rest_chain = [mx.Identity(f.shape[0] if side == -1 else f.shape[1])]
                rests.append(mx.mul(c, *rest_chain))
            if len(rests) == 2 and all(isinstance(r, mx.Identity) for r in rests):
                continue
            inner = mx.add(*rests)
            pulled = mx.mul(inner, f) if side == -1 else mx.mul(f, inner)
            others = [t for i, t in enumerate(ts) if i not in idx]
            return mx.add(pulled, *others) if others else pulled
    return None


def _split(t: Node) -> tuple[Node, list[Node]]:
    if isinstance(t, mx.Mul):
        c = t.coefficient
        return (c if c is not None else mx.ONE), list(t.chain)
    return mx.ONE, [t]


def _chain_of(t: Node) -> list[Node]:
    return _split(t)[1]


@record(kw_only=True)
class HessianStep(MatrixStep):
    """∇²f = ∂(∇f)/∂x: the gradient's differential read off as a Jacobian (symmetric for a smooth f)."""

    RULE, TITLE = "hessian", "From the gradient to the Hessian"
    IDENTITY = "d(∇f) = H dx ⇒ ∇²f = H"
    var: Var
    gradient: GradientStep
    jacobian: JacobianStep

    def data(self) -> dict[str, Any]:
        return {"wrt": self.var.name, "gradient": mx.text(self.gradient.result)}


def hessian_steps(f: Node, var: Var, *, scalar_steps: bool = True) -> HessianStep:
    """∇²_x f for a number f and a vector x: d(∇f) = H dx."""
    if var.kind not in ("vector", "scalar"):
        raise Unsupported(f"the Hessian by the matrix {var.name} has four indices",
                          suggestion="take the Hessian by a vector (flatten the matrix into one)")
    ids = _Ids()
    g = to_gradient(differentiate(f, var, ids, scalar_steps=scalar_steps), var, ids)
    dg = differentiate(g.result, var, ids, scalar_steps=scalar_steps)
    j = to_jacobian(dg, var, ids)
    return HessianStep(expr=f, result=j.result, substeps=(g, j), id=ids.new(), var=var, gradient=g, jacobian=j)

"""The worked derivation of the softmax Jacobian and of the cross-entropy gradient, for N classes.

Stage: expression -> result (the classic derivation ``symgrad softmax N`` shows; the functions
themselves are ``symgrad.vocabulary.softmax``). ``softmax_derivation(n)`` derives ∂pᵢ/∂aⱼ with the
quotient rule, the two cases, J = diag(p) − p pᵀ, J for n classes and the cross-entropy gradient
p − y. To add a step, add an ``Equalities`` line to the derivation.

>>> softmax_derivation(2).cross_entropy_gradient
(p1 - y1, p2 - y2)
"""

from __future__ import annotations

import sympy as sp

from symgrad.errors import InputError
from symgrad.records import record
from symgrad.vocabulary.softmax import MAX_CLASSES, build_softmax, softmax_component

LOGITS_FORM_CLASSES = 100
"""Classes up to which ``softmax N --format json`` also writes the Jacobian in the logits (10 MB)."""


@record
class Equalities:
    """One step of a worked derivation: a title and ``lhs = chain[0] = chain[1] = …``."""

    title: str
    lhs_plain: str
    lhs_latex: str
    chain: tuple[sp.Basic, ...]


@record
class SoftmaxDerivation:
    """The derivation of the softmax Jacobian and of the cross-entropy gradient, for ``classes`` classes."""

    classes: int
    logits: tuple[sp.Symbol, ...]
    probabilities: tuple[sp.Symbol, ...]
    labels: tuple[sp.Symbol, ...]
    steps: tuple[Equalities, ...]
    jacobian: tuple[tuple[sp.Expr, ...], ...]
    jacobian_in_logits: tuple[tuple[sp.Expr, ...], ...]
    cross_entropy_steps: tuple[Equalities, ...]
    cross_entropy_gradient: tuple[sp.Expr, ...]

    def to_json(self) -> dict[str, object]:
        """The keys of ``symgrad softmax N --format json`` (besides ``command``)."""
        n = self.classes
        return {
            "classes": n,
            "logits": [a.name for a in self.logits],
            "probabilities": [str(softmax_component(k, *self.logits)) for k in range(1, n + 1)],
            "definition": "p_i = exp(a_i)/Sum(exp(a_k), (k, 1, N))",
            "cases": {"i = j": "p_i*(1 - p_i)", "i != j": "-p_i*p_j"},
            "formula": "J = diag(p) - p p^T",
            "jacobian": _matrix_text(self.jacobian),
            # N² entries of 2N logits each: past LOGITS_FORM_CLASSES that is N³ characters (89 MB
            # at 200 classes); "probabilities" says what each p in "jacobian" stands for
            "jacobian_in_logits": _matrix_text(self.jacobian_in_logits) if n <= LOGITS_FORM_CLASSES else None,
            "cross_entropy_gradient": [str(g) for g in self.cross_entropy_gradient],
            "steps": [
                {"title": s.title, "lhs": s.lhs_plain, "chain": [str(c) for c in s.chain]}
                for s in self.steps + self.cross_entropy_steps
            ],
        }


def softmax_derivation(classes: int) -> SoftmaxDerivation:
    """The classic derivation of ∂pᵢ/∂aⱼ (quotient rule, cases i = j and i ≠ j, J = diag(p) − p pᵀ), J for
    ``classes`` classes, and the cross-entropy gradient p − y.

    >>> d = softmax_derivation(2)
    >>> d.jacobian
    ((p1*(1 - p1), -p1*p2), (-p1*p2, p2*(1 - p2)))
    >>> d.cross_entropy_gradient
    (p1 - y1, p2 - y2)
    """
    if not isinstance(classes, int) or classes < 2:
        raise InputError(f"softmax needs at least 2 classes, not {classes}")
    if classes > MAX_CLASSES:
        raise InputError(f"{classes} classes is more than the limit of {MAX_CLASSES}")
    i, j, k = sp.symbols("i j k", integer=True, positive=True)
    n = sp.Symbol("N", integer=True, positive=True)
    a = sp.IndexedBase(sp.Symbol("a", real=True))
    p = sp.IndexedBase(sp.Symbol("p", real=True))
    y = sp.IndexedBase(sp.Symbol("y", real=True))
    total = sp.Sum(sp.exp(a[k]), (k, 1, n))
    ea_i, ea_j = sp.exp(a[i]), sp.exp(a[j])

    def frac(num: sp.Expr, den: sp.Expr) -> sp.Expr:
        return sp.Mul(num, sp.Pow(den, -1, evaluate=False), evaluate=False)

    def prod(*factors: sp.Expr) -> sp.Expr:
        return sp.Mul(*factors, evaluate=False)

    def minus(left: sp.Expr, right: sp.Expr) -> sp.Expr:
        return sp.Add(left, sp.Mul(-1, right, evaluate=False), evaluate=False)

    dp = ("∂pᵢ/∂aⱼ", r"\frac{\partial p_{i}}{\partial a_{j}}")
    steps = (
        Equalities("softmax turns logits into probabilities", "pᵢ", "p_{i}", (frac(ea_i, total),)),
        Equalities("quotient rule with g = e^aᵢ and h = Σₖ e^aₖ, where ∂h/∂aⱼ = e^aⱼ", *dp,
                  (frac(minus(prod(sp.Derivative(ea_i, a[j]), total), prod(ea_i, ea_j)), sp.Pow(total, 2,
                                                                                                evaluate=False)),)),
        Equalities("case i = j: ∂e^aᵢ/∂aⱼ = e^aᵢ", *dp,
                  (frac(minus(prod(ea_i, total), prod(ea_i, ea_i)), sp.Pow(total, 2, evaluate=False)),
                   prod(frac(ea_i, total), frac(minus(total, ea_i), total)),
                   prod(p[i], minus(sp.S.One, p[i])))),
        Equalities("case i ≠ j: ∂e^aᵢ/∂aⱼ = 0", *dp,
                  (frac(minus(prod(sp.S.Zero, total), prod(ea_i, ea_j)), sp.Pow(total, 2, evaluate=False)),
                   sp.Mul(-1, prod(frac(ea_i, total), frac(ea_j, total)), evaluate=False),
                   sp.Mul(-1, prod(p[i], p[j]), evaluate=False))),
        Equalities("both cases at once (δᵢⱼ = 1 if i = j, else 0): J = diag(p) − p pᵀ", *dp,
                  (prod(p[i], minus(sp.KroneckerDelta(i, j), p[j])),)),
    )
    logits = tuple(sp.Symbol(f"a{m}", real=True) for m in range(1, classes + 1))
    probs = tuple(sp.Symbol(f"p{m}", real=True) for m in range(1, classes + 1))
    labels = tuple(sp.Symbol(f"y{m}", real=True) for m in range(1, classes + 1))
    comps = build_softmax(*logits)
    # the entries of fdiff, built from the N components once: fdiff makes a new N-argument
    # component per entry (hashing N logits each time: N³ for the matrix)
    jac, jac_logits = _jacobian(probs), _jacobian(tuple(comps))
    dl = ("∂L/∂aⱼ", r"\frac{\partial L}{\partial a_{j}}")
    ce_steps = (
        Equalities("cross-entropy of the probabilities against labels y", "L", "L",
                  (sp.Mul(-1, sp.Sum(prod(y[i], sp.log(p[i])), (i, 1, n)), evaluate=False),)),
        Equalities("chain rule: ∂ ln pᵢ/∂aⱼ = (1/pᵢ) ∂pᵢ/∂aⱼ = δᵢⱼ − pⱼ", *dl,
                  (sp.Mul(-1, sp.Sum(prod(y[i], minus(sp.KroneckerDelta(i, j), p[j])), (i, 1, n)), evaluate=False),
                   sp.Add(sp.Mul(-1, y[j], evaluate=False), prod(p[j], sp.Sum(y[i], (i, 1, n))), evaluate=False))),
        Equalities("the labels are a distribution, Σᵢ yᵢ = 1", *dl, (minus(p[j], y[j]),)),
    )
    grad = tuple(probs[m] - labels[m] for m in range(classes))
    return SoftmaxDerivation(classes, logits, probs, labels, steps, jac, jac_logits, ce_steps, grad)


def _jacobian(p: tuple[sp.Expr, ...]) -> tuple[tuple[sp.Expr, ...], ...]:
    """diag(p) − p pᵀ entry by entry, in time linear in its N² entries.

    The entries are what SymPy builds for pᵢ(1 − pᵢ) and −pᵢpⱼ (the same objects), but the N² − N
    off-diagonal products skip SymPy's general ``Mul`` constructor (about 30 µs each): −pᵢpⱼ is
    −1 times the two factors in SymPy's canonical order, and the same object as −pⱼpᵢ.

    >>> p1, p2, p10 = sp.symbols("p1 p2 p10", real=True)
    >>> _jacobian((p1, p2, p10))[2] == (-p10 * p1, -p10 * p2, p10 * (1 - p10))
    True
    """
    from functools import cmp_to_key

    n = len(p)
    rank = {id(f): r for r, f in enumerate(sorted(p, key=cmp_to_key(sp.Basic.compare)))}
    rows: list[list[sp.Expr]] = [[sp.S.Zero] * n for _ in range(n)]
    minus_one = sp.S.NegativeOne
    for r in range(n):
        rows[r][r] = p[r] * (1 - p[r])
        for c in range(r + 1, n):
            first, second = (p[r], p[c]) if rank[id(p[r])] < rank[id(p[c])] else (p[c], p[r])
            rows[r][c] = rows[c][r] = sp.Mul._from_args((minus_one, first, second), is_commutative=True)
    return tuple(tuple(row) for row in rows)


def _matrix_text(matrix: tuple[tuple[sp.Expr, ...], ...]) -> list[list[str]]:
    """``str`` of every entry of a ``_jacobian`` matrix, in time linear in the text.

    An off-diagonal entry −a·b of two names or function calls prints as "-a*b", so it is put
    together from the text of a and b (each printed once); the rest go through ``str``.

    >>> p1, p2 = sp.symbols("p1 p2", real=True)
    >>> _matrix_text(_jacobian((p1, p2)))
    [['p1*(1 - p1)', '-p1*p2'], ['-p1*p2', 'p2*(1 - p2)']]
    """
    names: dict[int, str] = {}
    done: dict[int, str] = {}

    def name(factor: sp.Basic) -> str:
        text = names.get(id(factor))
        if text is None:
            text = names[id(factor)] = str(factor)
        return text

    def text(entry: sp.Expr) -> str:
        known = done.get(id(entry))
        if known is not None:
            return known
        args = entry.args
        if (entry.is_Mul and len(args) == 3 and args[0] is sp.S.NegativeOne
                and all(a.is_Symbol or isinstance(a, sp.Function) for a in args[1:])):
            result = f"-{name(args[1])}*{name(args[2])}"
        else:
            result = str(entry)
        done[id(entry)] = result
        return result

    return [[text(e) for e in row] for row in matrix]

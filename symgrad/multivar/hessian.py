"""The Hessian: every second partial derivative, computed sparsely and symmetrically.

Stage: expression -> result (many variables). ``sparse_gradient`` differentiates each term of a
sum only by the variables that term contains, and ``hessian`` differentiates each gradient entry
only by the variables *it* contains, and only on and above the diagonal: a mixed partial is derived
once and its mirror is stated by symmetry. On the 200-variable Rosenbrock function that is about a
thousand small derivatives instead of SymPy's 40 000 large ones.

At a point, ``numeric_hessian`` gives the numeric matrix, its eigenvalues (mpmath, 40 digits) and
its definiteness; ``classify`` turns eigenvalues into minimum / maximum / saddle / inconclusive.
To add a property of the matrix at a point (a condition number, say): compute it in
``numeric_hessian`` from the eigenvalues and add a field to ``NumericHessian``.

>>> h = hessian("x^3 y + y^2")
>>> h.matrix
((6*x*y, 3*x**2), (3*x**2, 2))
>>> numeric_hessian(h, {"x": 1, "y": 0}).definiteness
'indefinite'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from symgrad.records import field, record

import sympy as sp

from symgrad.budget import check
from symgrad.calculus import ExprLike, Value, VarLike, as_expr, evaluate, parse_point, resolve_variables, tidy

ZERO_TOLERANCE = 1e-25
"""An eigenvalue within this (relative to the largest) of zero counts as zero: the matrix is computed
to 40 digits, so only a true zero (a singular Hessian) lands below it."""

EIGEN_DIGITS = 40

EXACT_EIGEN_LIMIT = 12
"""Matrices up to this size get 40-digit eigenvalues; larger ones use double precision."""

FLOAT_ZERO_TOLERANCE = 1e-9


def sparse_gradient(expr: ExprLike, variables: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """∂f/∂v for each v, differentiating each term of a sum only by the variables it contains.

    Equal to ``[sympy.diff(f, v) for v in variables]``, and much faster when each term involves
    few of many variables (Rosenbrock, sums of squares, separable losses).

    >>> x, y, z = sp.symbols("x y z", real=True)
    >>> sparse_gradient(x**2 + x*y + sp.sin(z), [x, y, z])
    [2*x + y, x, cos(z)]
    """
    e = as_expr(expr)
    wanted = set(variables)
    pieces: dict[sp.Symbol, list[sp.Expr]] = {v: [] for v in variables}
    for count, term in enumerate(sp.Add.make_args(e)):
        if count % 64 == 0:
            check("the gradient")
        for v in term.free_symbols & wanted:
            pieces[v].append(partial(term, v))  # type: ignore[arg-type, index]
    result = [tidy(sp.Add(*pieces[v])) for v in variables]
    if e.has(sp.Sum):
        from symgrad.multivar.sums import tidy_sums

        result = [tidy_sums(g, e) for g in result]
    return result


def partial(expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """∂expr/∂var by the sum, product, power and chain rules, as ``sympy.diff`` computes it.

    It skips the bookkeeping of SymPy's ``Derivative`` (which queries assumptions at every node
    and dominates the cost on many small terms); anything beyond sums, products, constant powers
    and one-argument functions goes to ``sympy.diff``.

    >>> x, y = sp.symbols("x y", real=True)
    >>> partial(100*(y - x**2)**2, x)
    -400*x*(-x**2 + y)
    """
    if not expr.has_free(var):
        return sp.S.Zero
    if expr == var:
        return sp.S.One
    if expr.is_Add:
        return sp.Add(*[partial(a, var) for a in expr.args])
    if expr.is_Mul:
        args = list(expr.args)
        terms = []
        for k, factor in enumerate(args):
            d = partial(factor, var)
            if d is not sp.S.Zero:
                terms.append(sp.Mul(*args[:k], d, *args[k + 1:]))
        return sp.Add(*terms)
    if expr.is_Pow and not expr.exp.has_free(var):
        base, exponent = expr.args
        return sp.Mul(exponent, sp.Pow(base, exponent - 1), partial(base, var))
    if isinstance(expr, sp.Function) and len(expr.args) == 1 and not isinstance(expr, sp.core.function.AppliedUndef):
        return sp.Mul(expr.fdiff(1), partial(expr.args[0], var))
    return expr.diff(var)


@record
class HessianEntry:
    """One distinct second partial ∂²f/∂xᵢ∂xⱼ (i ≤ j), derived once from the gradient entry ∂f/∂xᵢ.

    ``derivation`` is the step engine's derivation of ∂/∂xⱼ (∂f/∂xᵢ) when steps were asked for.
    """

    row: int
    col: int
    expr: sp.Expr
    derivation: object | None = None

    @property
    def mixed(self) -> bool:
        return self.row != self.col


@record
class Hessian:
    """The Hessian of ``expr`` in ``variables``: the full symmetric ``matrix`` and its distinct nonzero ``entries``."""

    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    gradient: tuple[sp.Expr, ...]
    entries: tuple[HessianEntry, ...]
    gradient_derivations: tuple[object | None, ...] = field(default=())

    @property
    def matrix(self) -> tuple[tuple[sp.Expr, ...], ...]:
        """All n×n entries; the mirror of each mixed partial is the same expression (symmetry)."""
        n = len(self.variables)
        rows = [[sp.S.Zero] * n for _ in range(n)]
        for entry in self.entries:
            rows[entry.row][entry.col] = entry.expr
            rows[entry.col][entry.row] = entry.expr
        return tuple(tuple(r) for r in rows)

    def to_matrix(self) -> sp.ImmutableMatrix:
        """The Hessian as a SymPy matrix.

        >>> hessian("x y").to_matrix()
        Matrix([
        [0, 1],
        [1, 0]])
        """
        return sp.ImmutableMatrix(self.matrix)

    @property
    def zero_count(self) -> int:
        """How many of the n² entries are zero."""
        n = len(self.variables)
        nonzero = sum(1 if e.row == e.col else 2 for e in self.entries)
        return n * n - nonzero


def hessian(expr: ExprLike, wrt: Iterable[VarLike] | str | None = None, *, steps: bool = False) -> Hessian:
    """The Hessian of ``expr`` with respect to ``wrt`` (default: every variable, in natural order).

    Each gradient entry is differentiated only by the variables it contains, and only for j ≥ i;
    the entry below the diagonal is the mirror, by symmetry of mixed partials (Schwarz).
    With ``steps=True`` each distinct entry carries the step engine's derivation (when
    ``symgrad.steps`` is available).

    >>> h = hessian("100(y - x^2)^2 + (1 - x)^2")
    >>> h.matrix
    ((1200*x**2 - 400*y + 2, -400*x), (-400*x, 200))
    >>> [(e.row, e.col) for e in h.entries]
    [(0, 0), (0, 1), (1, 1)]
    """
    e = as_expr(expr)
    variables = tuple(resolve_variables(wrt, e))
    grad = sparse_gradient(e, variables)
    index = {v: k for k, v in enumerate(variables)}
    entries: list[HessianEntry] = []
    for i, g in enumerate(grad):
        check("the Hessian")
        columns = sorted((index[v] for v in g.free_symbols if v in index and index[v] >= i))  # type: ignore[index]
        if not columns:
            continue
        seconds = sparse_gradient(g, [variables[j] for j in columns])  # only the variables g contains
        for j, second in zip(columns, seconds):
            if second != 0:
                entries.append(HessianEntry(i, j, second))
    entries.sort(key=lambda entry: (entry.row, entry.col))
    grad_derivations: tuple[object | None, ...] = ()
    if steps:
        entries, grad_derivations = _with_steps(e, variables, entries)
    return Hessian(e, variables, tuple(grad), tuple(entries), grad_derivations)


def _with_steps(
    expr: sp.Expr, variables: tuple[sp.Symbol, ...], entries: list[HessianEntry]
) -> tuple[list[HessianEntry], tuple[object | None, ...]]:
    """Attach the step engine's derivations: one per gradient entry, one per distinct second partial."""
    from symgrad.multivar.steps import derive_or_none

    grad_derivations = tuple(derive_or_none(expr, v) for v in variables)
    with_steps = []
    for entry, first in zip(entries, [grad_derivations[en.row] for en in entries]):
        check("the Hessian's steps")
        base = getattr(first, "result", None)
        derivation = derive_or_none(base, variables[entry.col]) if base is not None else None
        with_steps.append(HessianEntry(entry.row, entry.col, entry.expr, derivation))
    return with_steps, grad_derivations


# at a point ------------------------------------------------------------------------------------
@record
class NumericHessian:
    """The Hessian at a point: ``values`` (None where undefined), ``eigenvalues`` and ``definiteness``.

    ``eigenvalues`` and ``definiteness`` are None when some entry has no value there (``note`` says why).
    """

    point: tuple[tuple[sp.Symbol, sp.Expr], ...]
    values: tuple[tuple[float | None, ...], ...]
    eigenvalues: tuple[float, ...] | None
    definiteness: str | None
    note: str | None = None


def numeric_hessian(h: Hessian, point: Mapping[sp.Symbol, sp.Expr] | Mapping[str, object] | str) -> NumericHessian:
    """Evaluate ``h`` at ``point`` (a mapping or text like ``"x=1, y=1"``), with eigenvalues.

    >>> r = numeric_hessian(hessian("100(y - x^2)^2 + (1 - x)^2"), "x=1, y=1")
    >>> r.values
    ((802.0, -400.0), (-400.0, 200.0))
    >>> r.definiteness
    'positive definite'
    """
    at = _as_point(point, h.expr, h.variables)
    n = len(h.variables)
    rows: list[list[float | None]] = [[0.0] * n for _ in range(n)]
    exact: list[list[sp.Expr]] = [[sp.S.Zero] * n for _ in range(n)]
    notes: list[str] = []
    for entry in h.entries:
        check("evaluating the Hessian")
        label = "∂²f/∂%s∂%s" % (h.variables[entry.row], h.variables[entry.col])
        # only the coordinates the entry uses: substituting all n of them n² times is quadratic
        local = {s: at[s] for s in entry.expr.free_symbols if s in at}
        if len(local) < len(entry.expr.free_symbols):
            local = at
        value: Value = evaluate(entry.expr, local, what=label)
        rows[entry.row][entry.col] = rows[entry.col][entry.row] = value.value
        exact[entry.row][entry.col] = exact[entry.col][entry.row] = entry.expr.xreplace(local)
        if value.note:
            notes.append(value.note)
    values = tuple(tuple(r) for r in rows)
    if notes:
        return NumericHessian(tuple(at.items()), values, None, None, "; ".join(notes))
    eigs = symmetric_eigenvalues(exact)
    return NumericHessian(tuple(at.items()), values, eigs, definiteness(eigs))


def _as_point(point: Mapping[sp.Symbol, sp.Expr] | Mapping[str, object] | str, expr: sp.Expr,
              variables: Sequence[sp.Symbol]) -> dict[sp.Symbol, sp.Expr]:
    if isinstance(point, str) or any(not isinstance(k, sp.Symbol) for k in point):
        return parse_point(point, expr)  # type: ignore[arg-type]
    return dict(point)  # type: ignore[arg-type]


def symmetric_eigenvalues(matrix: Sequence[Sequence[sp.Expr | float]]) -> tuple[float, ...]:
    """Eigenvalues of a real symmetric matrix, ascending, computed to 40 digits (exact zeros stay 0).

    Past ``EXACT_EIGEN_LIMIT`` rows, 40-digit arithmetic is too slow; NumPy's double precision is
    used (when installed) and an eigenvalue within 10⁻⁹ of the largest counts as zero.

    >>> symmetric_eigenvalues([[2, 0], [0, -3]])
    (-3.0, 2.0)
    """
    import mpmath

    n = len(matrix)
    if n == 0:
        return ()
    if n > EXACT_EIGEN_LIMIT:
        try:
            import numpy as np
        except ImportError:
            pass
        else:
            check("the eigenvalues")
            floats = np.array([[float(sp.N(v)) if isinstance(v, sp.Basic) else float(v) for v in row] for row in matrix])
            values = np.linalg.eigvalsh(floats)
            scale = max(1.0, float(np.max(np.abs(values))))
            return tuple(0.0 if abs(v) <= FLOAT_ZERO_TOLERANCE * scale else float(v) for v in sorted(values))
    with mpmath.workdps(EIGEN_DIGITS):
        m = mpmath.matrix(n, n)
        for i in range(n):
            for j in range(n):
                entry = matrix[i][j]
                m[i, j] = mpmath.mpf(str(sp.N(entry, EIGEN_DIGITS))) if isinstance(entry, sp.Basic) else mpmath.mpf(entry)
        check("the eigenvalues")
        eigs = mpmath.eigsy(m, eigvals_only=True)
        values = sorted(eigs[k] for k in range(n))
        scale = max([mpmath.mpf(1)] + [abs(v) for v in values])
        return tuple(0.0 if abs(v) <= ZERO_TOLERANCE * scale else float(v) for v in values)


def definiteness(eigenvalues: Sequence[float]) -> str:
    """'positive definite', 'negative definite', 'indefinite', 'positive semidefinite',
    'negative semidefinite' or 'zero', from the signs of the eigenvalues.

    >>> definiteness([1.0, 3.0]), definiteness([-1.0, 2.0]), definiteness([0.0, 2.0])
    ('positive definite', 'indefinite', 'positive semidefinite')
    """
    pos = any(v > 0 for v in eigenvalues)
    neg = any(v < 0 for v in eigenvalues)
    zero = any(v == 0 for v in eigenvalues)
    if pos and neg:
        return "indefinite"
    if pos:
        return "positive semidefinite" if zero else "positive definite"
    if neg:
        return "negative semidefinite" if zero else "negative definite"
    return "zero"


KINDS = {
    "positive definite": "minimum",
    "negative definite": "maximum",
    "indefinite": "saddle",
}


def classify(eigenvalues: Sequence[float]) -> str:
    """The kind of a critical point from its Hessian's eigenvalues (the second-derivative test).

    A singular semidefinite Hessian decides nothing: 'inconclusive' (x⁴ + y⁴ at the origin is a
    minimum, x⁴ − y⁴ a saddle, with the same zero Hessian).

    >>> classify([6.0, 2.0]), classify([-6.0, 2.0]), classify([-1.0, -2.0]), classify([0.0, 0.0])
    ('minimum', 'saddle', 'maximum', 'inconclusive')
    """
    return KINDS.get(definiteness(eigenvalues), "inconclusive")

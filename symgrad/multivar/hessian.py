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
from typing import Any

import sympy as sp

from symgrad.budget import check
from symgrad.differentiate import tidy
from symgrad.evaluate import Value, evaluate, parse_point
from symgrad.expressions import ExprLike, VarLike, as_expr, resolve_variables
from symgrad.records import field, record

EXACT_EIGEN_LIMIT = 12
"""Matrices up to this size get exact signs (or certified ones); larger ones use double precision."""

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
            pieces[v].append(partial(term, v))
    result = [tidy(sp.Add(*pieces[v])) for v in variables]
    if e.has(sp.Sum):
        from symgrad.vocabulary.sums import tidy_sums

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
    if (isinstance(expr, sp.Function) and len(expr.args) == 1 and not isinstance(expr, sp.core.function.AppliedUndef)
            and type(expr)._eval_derivative is sp.Function._eval_derivative):
        return sp.Mul(expr.fdiff(1), partial(expr.args[0], var))
    # sign, Abs, Heaviside… define their own derivative (fdiff would leave ∂(sign(x))/∂x unevaluated)
    return expr.diff(var)


def away_from_jumps(expr: sp.Expr) -> tuple[sp.Expr, tuple[sp.Expr, ...]]:
    """``expr`` without its DiracDelta terms, and their arguments. SymPy writes the derivative of a
    jump as a delta (sign′(u) = 2δ(u), H′(u) = δ(u)), which is 0 wherever u ≠ 0; at u = 0 the
    derivative may not exist. A teacher writes 0 and says where it may fail: so does the Hessian.

    >>> x = sp.Symbol("x", real=True)
    >>> away_from_jumps(partial(sp.sign(x) * x**2, x))
    (2*x*sign(x), (x,))
    """
    deltas = expr.atoms(sp.DiracDelta)
    if not deltas:
        return expr, ()
    return expr.xreplace({d: sp.S.Zero for d in deltas}), tuple(sorted({d.args[0] for d in deltas}, key=str))


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
    jumps: tuple[sp.Expr, ...] = field(default=())
    """Arguments u of the jumps in f's first or second derivatives (sign(u), H(u), |u|′): the
    entries hold where every u ≠ 0; where one is 0 the Hessian may not exist, and it is not
    evaluated there (``away_from_jumps``)."""

    @property
    def jump_note(self) -> str | None:
        """The note that says where the entries do not hold, if anywhere."""
        if not self.jumps:
            return None
        where = " and ".join(f"{oneline_of(u)} ≠ 0" for u in self.jumps)
        return (f"these second derivatives hold where {where}: where one is 0 the derivatives jump or have a "
                "kink, and the Hessian may not exist (SymPy's δ terms, 0 everywhere else, are left out)")

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
        nonzero = sum(1 if e.row == e.col else 2 for e in self.entries if e.expr != 0)
        return n * n - nonzero

    @property
    def sparse_count(self) -> int:
        """How many of the n² entries are zero because gradient entry i does not contain variable j
        (zero without any work; other zeros, such as |x|″ away from 0, have reasons of their own)."""
        return sum(1 for g in self.gradient for v in self.variables if not g.has(v))


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
    jumps: set[sp.Expr] = set()
    grad = []
    for g in sparse_gradient(e, variables):
        g, where = away_from_jumps(g)
        grad.append(g)
        jumps.update(where)
    index = {v: k for k, v in enumerate(variables)}
    entries: list[HessianEntry] = []
    for i, g in enumerate(grad):
        check("the Hessian")
        columns = sorted(index[v] for v in g.free_symbols if v in index and index[v] >= i)
        if not columns:
            continue
        seconds = sparse_gradient(g, [variables[j] for j in columns])  # only the variables g contains
        for j, second in zip(columns, seconds):
            second, where = away_from_jumps(second)
            jumps.update(where)
            if second != 0 or where:  # 0 where the jump is not: said, not left out
                entries.append(HessianEntry(i, j, second))
    entries.sort(key=lambda entry: (entry.row, entry.col))
    grad_derivations: tuple[object | None, ...] = ()
    if steps:
        entries, grad_derivations = _with_steps(e, variables, entries)
    return Hessian(e, variables, tuple(grad), tuple(entries), grad_derivations, tuple(sorted(jumps, key=str)))


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
class Spectrum:
    """The eigenvalues of a symmetric matrix at a point and its definiteness, with how the signs
    were decided.

    ``method`` is ``exact`` (the signs of the characteristic polynomial's exact coefficients:
    Descartes' rule of signs counts the positive and negative roots exactly, since a symmetric
    matrix has only real eigenvalues) or ``numeric`` (eigenvalues with a certified error bound,
    Weyl's inequality; those within ``tolerance`` of zero count as zero). ``eigenvalues`` are
    ascending floats (None for one beyond the float range); ``how`` says it in words.
    """

    eigenvalues: tuple[float | None, ...]
    definiteness: str
    method: str
    how: str
    tolerance: float | None = None


@record
class NumericHessian:
    """The Hessian at a point: ``values`` (None where undefined), ``eigenvalues`` and ``definiteness``.

    ``eigenvalues`` and ``definiteness`` are None when some entry has no value there (``note`` says
    why); ``method`` (``exact`` or ``numeric``) and ``how`` say how the definiteness was decided.
    """

    point: tuple[tuple[sp.Symbol, sp.Expr], ...]
    values: tuple[tuple[float | None, ...], ...]
    eigenvalues: tuple[float | None, ...] | None
    definiteness: str | None
    note: str | None = None
    method: str | None = None
    how: str | None = None


def numeric_hessian(h: Hessian, point: Mapping[sp.Symbol, sp.Expr] | Mapping[str, object] | str) -> NumericHessian:
    """Evaluate ``h`` at ``point`` (a mapping or text like ``"x=1, y=1"``), with eigenvalues.

    >>> r = numeric_hessian(hessian("100(y - x^2)^2 + (1 - x)^2"), "x=1, y=1")
    >>> r.values
    ((802.0, -400.0), (-400.0, 200.0))
    >>> r.definiteness, r.method
    ('positive definite', 'exact')
    >>> numeric_hessian(hessian("x^2 - 1e-50 y^2"), "x=1, y=1").definiteness
    'indefinite'
    """
    at = _as_point(point, h.expr, h.variables)
    n = len(h.variables)
    rows: list[list[float | None]] = [[0.0] * n for _ in range(n)]
    exact: list[list[sp.Expr]] = [[sp.S.Zero] * n for _ in range(n)]
    notes: list[str] = []
    defined = True
    kinks = jumps_at(h.jumps, at)
    if kinks:
        where = ", ".join(oneline_of(u) for u in kinks)
        text = ", ".join(f"{k}={v}" for k, v in at.items())
        return NumericHessian(tuple(at.items()), tuple(tuple(None for _ in range(n)) for _ in range(n)), None, None,
                              f"the Hessian is not evaluated at {text}: the derivatives jump or have a kink where "
                              f"{where} = 0, and there the second derivatives may not exist")
    outside = outside_domain(h.expr, at)
    if outside:
        return NumericHessian(tuple(at.items()), tuple(tuple(None for _ in range(n)) for _ in range(n)), None, None,
                              f"the Hessian does not exist at {', '.join(f'{k}={v}' for k, v in at.items())}, "
                              f"because {outside}")
    for entry in h.entries:
        check("evaluating the Hessian")
        label = "∂²f/∂%s∂%s" % (h.variables[entry.row], h.variables[entry.col])
        # only the coordinates the entry uses: substituting all n of them n² times is quadratic
        local = {s: at[s] for s in entry.expr.free_symbols if s in at}
        if len(local) < len(entry.expr.free_symbols):
            local = at
        value: Value = evaluate(entry.expr, local, what=label, where=at)
        rows[entry.row][entry.col] = rows[entry.col][entry.row] = value.value
        if entry.expr.has(sp.Derivative, sp.Subs) or entry.expr.atoms(sp.core.function.AppliedUndef):
            defined = False  # an unknown function: no value (the note says so)
        else:
            exact[entry.row][entry.col] = exact[entry.col][entry.row] = entry.expr.xreplace(local)
        if value.note:
            notes.append(value.note)
        if value.value is None and value.note and "too large" not in value.note:
            defined = False
    values = tuple(tuple(r) for r in rows)
    note = "; ".join(notes) if notes else None
    spec = spectrum(exact) if defined else None
    if spec is None:
        return NumericHessian(tuple(at.items()), values, None, None, note)
    if any(v is None for v in spec.eigenvalues):
        note = "; ".join(filter(None, [note, "an eigenvalue is beyond the float range (null)"]))
    return NumericHessian(tuple(at.items()), values, spec.eigenvalues, spec.definiteness, note, spec.method, spec.how)


def outside_domain(expr: sp.Expr, point: Mapping[sp.Symbol, sp.Expr]) -> str | None:
    """Why ``expr`` itself has no value at ``point`` (not real, a pole), or None: its derivatives'
    formulas may have values there (ln(x)·y″ = −y/x² at x = −1), but there is no f to differentiate.
    A jump is not a hole in the domain (sign(0) = 0): the entries' own notes deal with jumps.

    >>> x = sp.Symbol("x", real=True)
    >>> outside_domain(sp.log(x), {x: sp.Integer(-1)})
    'the function is not real at x=-1 (outside its domain)'
    >>> outside_domain(x**2, {x: sp.Integer(-1)}) is None
    True
    """
    from symgrad.evaluate import evaluate

    if expr.atoms(sp.core.function.AppliedUndef) or expr.has(sp.Derivative, sp.Subs):
        return None  # an unknown function: its entries say they have no value
    local = {s: point[s] for s in expr.free_symbols if s in point}
    own = evaluate(expr, local, what="the function", where=point)
    if own.value is None and own.note and ("not real" in own.note or "division by zero" in own.note):
        return own.note
    return None


def jumps_at(jumps: Sequence[sp.Expr], point: Mapping[sp.Symbol, sp.Expr]) -> list[sp.Expr]:
    """The arguments among ``jumps`` (``Hessian.jumps``) that are 0 at ``point``, or may be (SymPy
    cannot tell): there the derivatives are not evaluated.

    >>> x = sp.Symbol("x", real=True)
    >>> jumps_at([x, x - 1], {x: sp.Integer(1)})
    [x - 1]
    """
    found = []
    for u in jumps:
        value = u.xreplace(dict(point))
        if not value.free_symbols and value.is_zero is not False:
            found.append(u)
    return found


def oneline_of(expr: sp.Basic) -> str:
    from symgrad.printing.oneline import oneline

    return oneline(expr)


def _as_point(point: Mapping[sp.Symbol, sp.Expr] | Mapping[str, object] | str, expr: sp.Expr,
              variables: Sequence[sp.Symbol]) -> dict[sp.Symbol, sp.Expr]:
    if isinstance(point, str) or any(not isinstance(k, sp.Symbol) for k in point):
        return parse_point(point, expr)
    return dict(point)


class NoSpectrum(Exception):
    """A matrix entry is not a real number (undefined or complex at the point)."""


def spectrum(matrix: Sequence[Sequence[sp.Expr | float]]) -> Spectrum | None:
    """Eigenvalues and definiteness of a real symmetric matrix of numbers; None where an entry is
    not a real number.

    Exact entries (rational, algebraic, or polynomials in constants such as π) up to
    ``EXACT_EIGEN_LIMIT`` rows: the signs are those of the exact characteristic polynomial
    (``_exact_counts``), so a Hessian with an eigenvalue of −2·10⁻⁵⁰ is indefinite, and a singular
    one is singular, proved. Otherwise the eigenvalues carry an error bound (``_certified``) that
    shrinks as the precision rises; one that stays within it of zero counts as zero, and ``how``
    says so with the tolerance. Past ``EXACT_EIGEN_LIMIT`` rows: double precision (NumPy).

    >>> spectrum([[1, 1], [1, 1]]).eigenvalues, spectrum([[1, 1], [1, 1]]).definiteness
    ((0.0, 2.0), 'positive semidefinite')
    """
    n = len(matrix)
    if n == 0:
        return Spectrum((), "zero", "exact", "an empty matrix")
    try:
        if n > EXACT_EIGEN_LIMIT:
            big = _double_precision(matrix)
            if big is not None:
                return big
        counts = _exact_counts(matrix) if n <= EXACT_EIGEN_LIMIT else None
        eigs, radii, bound = _certified(matrix, counts)
    except NoSpectrum:
        return None
    if counts is not None:
        negative, zero, positive = counts
        how = "decided exactly: the signs of the characteristic polynomial's coefficients (Descartes' rule)"
        return Spectrum(eigs, _definiteness(negative, zero, positive), "exact", how)
    negative = sum(1 for v, r in zip(eigs, radii) if v is not None and v < 0 and r is not None)
    positive = sum(1 for v, r in zip(eigs, radii) if v is not None and v > 0 and r is not None)
    zero = n - negative - positive
    how = "decided numerically: the eigenvalues' signs are certain"
    if zero:
        how = (f"decided numerically: {zero} eigenvalue{'s' if zero > 1 else ''} within {_sci(bound)} of zero "
               "(the error bound at the highest precision tried) counted as zero")
    return Spectrum(eigs, _definiteness(negative, zero, positive), "numeric", how, float(bound) if zero else None)


def _sci(value: object) -> str:
    import mpmath

    return mpmath.nstr(value, 2, min_fixed=0, max_fixed=0) if value else "0"


def _definiteness(negative: int, zero: int, positive: int) -> str:
    return definiteness([-1.0] * negative + [0.0] * zero + [1.0] * positive)


def _exact_counts(matrix: Sequence[Sequence[sp.Expr | float]]) -> tuple[int, int, int] | None:
    """(negative, zero, positive) eigenvalue counts from the exact characteristic polynomial, or
    None when its coefficients are not exact or a sign cannot be certified.

    The entries go into SymPy's smallest exact domain (ℚ, ℚ(√2), ℤ[π], …) where zero means zero;
    each nonzero coefficient's sign comes from ``symgrad.precise`` (certain once settled). The
    polynomial's roots are all real, so Descartes' rule is exact: the positive roots are the sign
    changes of its coefficients, zero has the multiplicity of its trailing zeros, the rest are negative.

    >>> _exact_counts([[2, 0], [0, -sp.Rational(2, 10**50)]])
    (1, 0, 1)
    """
    from itertools import pairwise

    from sympy.polys.constructor import construct_domain
    from sympy.polys.matrices import DomainMatrix

    from symgrad.precise import NoValue, Undefined, settle

    n = len(matrix)
    flat = []
    for row in matrix:
        for v in row:
            v = sp.Rational(v) if isinstance(v, float) else sp.sympify(v)
            if v.is_Float:
                v = sp.Rational(v)  # a Float is an exact binary fraction
            if not v.is_number or v.has(sp.Float, sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I):
                return None
            flat.append(v)
    try:
        domain, elements = construct_domain(flat, extension=True)
    except Exception:
        return None
    if domain.is_EX or domain.is_EXRAW:
        return None
    check("the characteristic polynomial")
    coefficients = DomainMatrix([elements[i * n:(i + 1) * n] for i in range(n)], (n, n), domain).charpoly()
    signs = []
    for c in coefficients:
        if not c:
            signs.append(0)
            continue
        value = domain.to_sympy(c)
        if value.is_Rational:
            signs.append(1 if value > 0 else -1)
            continue
        try:
            outcome = settle(value)
        except (Undefined, NoValue):
            return None
        if outcome.status != "settled":
            return None
        signs.append(1 if outcome.value > 0 else -1)
    zero = 0
    while signs and signs[-1] == 0:
        signs.pop()
        zero += 1
    nonzero = [s for s in signs if s]
    positive = sum(1 for a, b in pairwise(nonzero) if a != b)
    return n - zero - positive, zero, positive


def _certified(matrix: Sequence[Sequence[sp.Expr | float]],
               counts: tuple[int, int, int] | None) -> tuple[tuple[float | None, ...], list[Any], Any]:
    """The eigenvalues (ascending) with error bounds, at a rising precision until every sign is
    certain (or matches ``counts``, whose zeros are then exactly 0.0).

    Weyl's inequality: a symmetric perturbation E moves each eigenvalue by at most ‖E‖₂ ≤ ‖E‖_F,
    so the entries' radii (``symgrad.precise.evaluate_ball``) and the solver's rounding (a few
    units of the working precision times ‖A‖_F, Jacobi's method being backward stable) bound
    each eigenvalue's error. Returns the floats, each radius (None where the sign is not
    certain) and the largest radius of the last pass."""
    import mpmath

    from symgrad.precise import NoValue, Undefined, evaluate_ball

    n = len(matrix)
    precision = 128
    while True:
        check("the eigenvalues")
        with mpmath.workprec(precision):
            m = mpmath.matrix(n, n)
            err = mpmath.mpf(0)
            for i in range(n):
                for j in range(n):
                    v = matrix[i][j]
                    try:
                        mid, rad = evaluate_ball(sp.Float(v) if isinstance(v, float) else sp.sympify(v), {}, precision)
                    except (Undefined, NoValue):
                        raise NoSpectrum from None
                    if not mpmath.isfinite(rad) or isinstance(mid, mpmath.mpc) and abs(mid.imag) > rad:
                        if mpmath.isfinite(rad):
                            raise NoSpectrum
                        rad = mpmath.inf
                    m[i, j] = mid.real if isinstance(mid, mpmath.mpc) else mid
                    err += rad**2
            norm = mpmath.sqrt(sum(m[i, j] ** 2 for i in range(n) for j in range(n)))
            values = sorted(mpmath.eigsy(m, eigvals_only=True)[k] for k in range(n)) if n else []
            bound = mpmath.sqrt(err) + mpmath.ldexp(16 * n, -precision) * norm
        certain = [abs(v) > bound for v in values]
        if counts is not None:
            negative, zero, positive = counts
            done = sum(certain) >= negative + positive and mpmath.isfinite(bound)
        else:
            done = all(certain)
        if done or precision >= 4096:
            break
        precision *= 2
    if counts is not None:
        # the exact counts decide which are zero: the |zero| eigenvalues nearest to 0
        negative, zero, positive = counts
        order = sorted(range(n), key=lambda k: abs(values[k]))
        zeros = set(order[:zero])
        values = [mpmath.mpf(0) if k in zeros else v for k, v in enumerate(values)]
        certain = [True] * n
    floats = tuple(_finite_float(v) for v in values)
    radii = [bound if c else None for c in certain]
    if counts is None:
        floats = tuple(f if c else 0.0 for f, c in zip(floats, certain))
    return floats, radii, bound


def _finite_float(v: object) -> float | None:
    import math

    value = float(v)  # type: ignore[arg-type]
    return value if math.isfinite(value) else None


def _double_precision(matrix: Sequence[Sequence[sp.Expr | float]]) -> Spectrum | None:
    """Past ``EXACT_EIGEN_LIMIT`` rows, with NumPy (when installed): double precision, and an
    eigenvalue within ``FLOAT_ZERO_TOLERANCE`` of the largest counts as zero (``how`` says so)."""
    try:
        import numpy as np
    except ImportError:
        return None
    from symgrad.evaluate import evaluate

    check("the eigenvalues")
    rows = []
    for row in matrix:
        out = []
        for v in row:
            if isinstance(v, (int, float)) or (isinstance(v, sp.Basic) and v.is_Rational and v.q < 2**53 > abs(v.p)):
                out.append(float(v))  # exact small numbers (most of a sparse Hessian's entries are 0)
                continue
            value = evaluate(sp.sympify(v), {}).value
            if value is None:
                raise NoSpectrum
            out.append(value)
        rows.append(out)
    values = np.linalg.eigvalsh(np.array(rows))
    scale = max(1.0, float(np.max(np.abs(values))))
    eigs = tuple(0.0 if abs(v) <= FLOAT_ZERO_TOLERANCE * scale else float(v) for v in sorted(values))
    negative = sum(1 for v in eigs if v < 0)
    positive = sum(1 for v in eigs if v > 0)
    zero = len(eigs) - negative - positive
    how = (f"decided numerically in double precision: eigenvalues within {FLOAT_ZERO_TOLERANCE:g} × "
           f"max(1, the largest |eigenvalue|) count as zero")
    return Spectrum(eigs, _definiteness(negative, zero, positive), "numeric", how, FLOAT_ZERO_TOLERANCE * scale)


def symmetric_eigenvalues(matrix: Sequence[Sequence[sp.Expr | float]]) -> tuple[float, ...]:
    """Eigenvalues of a real symmetric matrix, ascending (exact zeros are 0.0; ``spectrum`` also
    says how their signs were decided).

    >>> symmetric_eigenvalues([[2, 0], [0, -3]])
    (-3.0, 2.0)
    """
    spec = spectrum(matrix)
    if spec is None:
        raise ValueError("the matrix has an entry that is not a real number")
    return tuple(0.0 if v is None else v for v in spec.eigenvalues)


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

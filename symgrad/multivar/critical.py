"""Critical points: solve ∇f = 0, then classify each real point by its Hessian's eigenvalues.

Stage: expression -> result (many variables). ``critical_points`` solves the gradient system with
SymPy's ``solve`` (under the caller's time budget), says when the answer is incomplete (equations
that are not polynomial: SymPy may miss solutions, and periodic functions have infinitely many) or
infinite (a whole curve of critical points), drops complex solutions (counted) and classifies each
real point with the second-derivative test (``hessian.classify``): minimum, maximum, saddle, or
inconclusive when the Hessian is singular and semidefinite. To add a test (higher-order terms for
the inconclusive cases, say), refine ``_classify_point``.

>>> result = critical_points("x^3 - 3x + y^2")
>>> [(p.coordinates, p.kind) for p in result.points]
[((-1, 0), 'saddle'), ((1, 0), 'minimum')]
>>> result.complete
True
"""

from __future__ import annotations

from collections.abc import Iterable

import sympy as sp

from symgrad.budget import check
from symgrad.errors import Unsupported
from symgrad.expressions import ExprLike, VarLike, as_expr, resolve_variables
from symgrad.multivar.hessian import KINDS, Hessian, hessian, jumps_at, sparse_gradient, spectrum
from symgrad.records import record

MAX_POINTS = 200
"""More critical points than this are listed only up to here (the note says so)."""


@record
class CriticalPoint:
    """One real solution of ∇f = 0 with its exact coordinates, Hessian eigenvalues and kind."""

    variables: tuple[sp.Symbol, ...]
    coordinates: tuple[sp.Expr, ...]
    kind: str
    eigenvalues: tuple[float | None, ...] | None
    value: sp.Expr | None = None
    note: str | None = None
    method: str | None = None
    """How the Hessian's signs were decided: ``exact`` or ``numeric`` (``hessian.Spectrum``)."""

    @property
    def point(self) -> dict[sp.Symbol, sp.Expr]:
        return dict(zip(self.variables, self.coordinates))

    def to_json(self) -> dict[str, object]:
        """Every number finite or null: a coordinate, eigenvalue or value beyond a float is null,
        and ``note`` says so (the exact coordinates are in ``point``)."""
        numeric = {v.name: _float(c) for v, c in zip(self.variables, self.coordinates)}
        value = _float(self.value) if self.value is not None else None
        notes = [self.note] if self.note else []
        beyond = [name for name, c in zip(numeric, self.coordinates) if numeric[name] is None]
        if beyond:
            notes.append(f"{', '.join(beyond)} {'is' if len(beyond) == 1 else 'are'} beyond the float range: "
                         "null in numeric (exact in point)")
        if self.value is not None and value is None:
            notes.append("f there is beyond the float range: value null")
        if self.eigenvalues is not None and any(v is None for v in self.eigenvalues):
            notes.append("an eigenvalue is beyond the float range: null")
        data: dict[str, object] = {
            "point": {v.name: str(c) for v, c in zip(self.variables, self.coordinates)},
            "numeric": numeric,
            "kind": self.kind,
            "eigenvalues": list(self.eigenvalues) if self.eigenvalues is not None else None,
            "value": value,
        }
        if self.method:
            data["method"] = self.method
        if notes:
            data["note"] = "; ".join(notes)
        return data


@record
class CriticalPoints:
    """All critical points found, and how much of the solution set they are.

    ``complete``: every critical point is listed (a polynomial system solved exactly).
    ``infinite``: there are infinitely many (``families`` holds curves given by SymPy).
    ``complex_count``: solutions dropped because they are not real.
    """

    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    gradient: tuple[sp.Expr, ...]
    points: tuple[CriticalPoint, ...]
    complete: bool
    infinite: bool
    families: tuple[dict[sp.Symbol, sp.Expr], ...] = ()
    complex_count: int = 0
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The keys of ``symgrad critical --format json`` (besides input, expression, command)."""
        return {
            "variables": [v.name for v in self.variables],
            "gradient": [str(g) for g in self.gradient],
            "points": [p.to_json() for p in self.points],
            "complete": self.complete,
            "infinite": self.infinite,
            "families": [{k.name: str(v) for k, v in fam.items()} for fam in self.families],
            "complex_solutions": self.complex_count,
            "notes": list(self.notes),
        }


def critical_points(expr: ExprLike, wrt: Iterable[VarLike] | str | None = None) -> CriticalPoints:
    """Solve ∇f = 0 and classify each real solution (minimum, maximum, saddle, inconclusive).

    >>> [p.kind for p in critical_points("x^4 + y^4").points]
    ['inconclusive']
    >>> critical_points("x + y").points
    ()
    """
    e = as_expr(expr)
    variables = tuple(resolve_variables(wrt, e))
    grad = tuple(sparse_gradient(e, variables))
    notes: list[str] = []
    if all(g == 0 for g in grad):
        notes.append("the gradient is zero everywhere: every point is critical (f does not depend on these variables)")
        return CriticalPoints(e, variables, grad, (), False, True, ({},), 0, tuple(notes))
    polynomial = all(g.is_polynomial(*variables) for g in grad)
    equations = [g for g in grad if g != 0]
    try:
        solutions = sp.solve(equations, list(variables), dict=True)
    except NotImplementedError as exc:
        raise Unsupported(f"SymPy cannot solve ∇f = 0 for this function ({exc})",
                          suggestion="try symgrad descend to find a minimum numerically") from None
    check("solving ∇f = 0")
    complete = polynomial
    if not polynomial:
        if any(_periodic(g) for g in grad):
            notes.append("the gradient has periodic functions, so there may be infinitely many critical points; "
                         "these are the ones SymPy's solver lists")
        else:
            notes.append("the equations are not polynomial, so SymPy's solver may miss solutions: the list may be "
                         "incomplete")

    h = hessian(e, variables)
    points: list[CriticalPoint] = []
    families: list[dict[sp.Symbol, sp.Expr]] = []
    complex_count = 0
    for sol in solutions:
        check("classifying the critical points")
        coords = tuple(sol.get(v, v) for v in variables)
        if any(c.free_symbols & set(variables) for c in coords):
            families.append({v: sol.get(v, v) for v in variables})
            continue
        if any(c.free_symbols for c in coords):  # an unknown parameter of the function
            families.append(dict(zip(variables, coords)))
            continue
        real = _real_coordinates(coords)
        if real is None:
            complex_count += 1
            continue
        points.append(_classify_point(h, variables, real))
    infinite = bool(families)
    if families:
        complete = False
        notes.append("some critical points form curves or surfaces (infinitely many): see the families")
    if complex_count:
        notes.append(f"{complex_count} complex solution{'s' if complex_count > 1 else ''} of ∇f = 0 left out (not real "
                     f"points)")
    points.sort(key=lambda p: tuple(_sort_key(c) for c in p.coordinates))
    if len(points) > MAX_POINTS:
        notes.append(f"{len(points)} critical points; the first {MAX_POINTS} are listed")
        points = points[:MAX_POINTS]
    return CriticalPoints(e, variables, grad, tuple(points), complete and not infinite, infinite,
                          tuple(families), complex_count, tuple(notes))


def _sort_key(c: sp.Expr) -> float:
    """A coordinate's place in the list, also beyond a float (1e400 after 1e300)."""
    number = _float(c)
    if number is not None:
        return number
    from symgrad.magnitude import log10_abs

    size = log10_abs(c)
    sign = -1.0 if (c.is_negative or False) else 1.0
    return sign * float("inf") if size is None or size > 0 else 0.0


def _periodic(expr: sp.Expr) -> bool:
    return bool(expr.atoms(sp.sin, sp.cos, sp.tan, sp.sec, sp.csc, sp.cot))


def _real_coordinates(coords: tuple[sp.Expr, ...]) -> tuple[sp.Expr, ...] | None:
    """The coordinates if all are real. An exact root written with I (Cardano's form of a real
    root) is real when its imaginary part is 0 within a bound that shrinks with the precision, and
    complex when that part is certainly not 0 (``symgrad.precise``): 10⁻⁴⁰·i is complex."""
    from symgrad.precise import NoValue, Undefined, settle

    out = []
    for c in coords:
        if c.is_real is False:
            return None
        if c.is_real is None:
            try:
                outcome = settle(c)
            except (Undefined, NoValue):
                return None
            if outcome.status == "not real":
                return None
            if outcome.status == "unsettled":
                re_part, im_part = sp.N(c, 30).as_real_imag()
                if abs(im_part) > 1e-25:
                    return None
            c = sp.re(c) if not c.is_real else c
        out.append(c)
    return tuple(out)


def _classify_point(h: Hessian, variables: tuple[sp.Symbol, ...], coords: tuple[sp.Expr, ...]) -> CriticalPoint:
    point = dict(zip(variables, coords))
    value = h.expr.xreplace(point)
    if jumps_at(h.jumps, point):
        return CriticalPoint(variables, coords, "inconclusive", None, value,
                             "the derivatives jump or have a kink here, where the Hessian may not exist: "
                             "the second-derivative test does not apply")
    matrix = [[entry.xreplace(point) for entry in row] for row in h.matrix]
    spec = spectrum(matrix)
    if spec is None:
        return CriticalPoint(variables, coords, "inconclusive", None, value, "the Hessian is undefined at this point")
    kind = KINDS.get(spec.definiteness, "inconclusive")
    note = None
    if kind == "inconclusive":
        note = f"the Hessian is singular here ({spec.how}), so the second-derivative test decides nothing"
    return CriticalPoint(variables, coords, kind, spec.eigenvalues, value, note, spec.method)


def _float(value: sp.Expr | None) -> float | None:
    """A coordinate or value as a float, right to its last digit (``symgrad.evaluate``); None
    where it is not a real number or is beyond the float range."""
    if value is None:
        return None
    from symgrad.evaluate import evaluate

    return evaluate(value, {}).value

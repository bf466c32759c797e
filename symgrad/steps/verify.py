"""Do two expressions agree? Cheap exact tests first, then numbers at a few points.

Stage: step engine (self-check), also used by ``symgrad check`` to judge an answer. ``compare``
never simplifies wholesale (that can take minutes): it tries ``==``, then the same after writing
sign(u) as u/|u|, then ``expand``/``cancel`` on small differences, and otherwise evaluates both
sides to 30 digits at fixed, deliberately unremarkable points. Unknown functions f, g, h are
replaced by concrete ones for the numeric test. Runs under the time budget.

To add a test: put it in ``_exact`` (cheap, certain) or extend the points in ``_points``.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> compare(sp.sec(x)**2, sp.tan(x)**2 + 1).kind
'numeric'
>>> verdict = compare(sp.cos(x), sp.sin(x))
>>> verdict.kind, sorted(verdict.point)
('different', ['x'])
"""

from __future__ import annotations

import cmath
from collections.abc import Sequence

from symgrad.records import field, record

import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.budget import check

SMALL = 400
"""Tree size up to which ``expand``/``cancel`` are tried: beyond it they may swell."""

_VALUES = (0.37, -0.61, 1.43, -1.87, 0.83, 2.71, -0.29, 3.17, 0.59, -2.33)
"""Sample values: irrational-looking, both signs, inside and outside (−1, 1) for asin/asec."""


@record
class Agreement:
    """The verdict: ``exact`` (proved), ``numeric`` (equal at every sample point), ``different``
    (``point`` is where they differ, with both values), or ``unknown`` (no usable point)."""

    kind: str
    point: dict[str, float] = field(default_factory=dict)
    left: float | None = None
    right: float | None = None

    @property
    def equal(self) -> bool:
        return self.kind in ("exact", "numeric")


def _size(expr: sp.Basic) -> int:
    return sum(1 for _ in sp.preorder_traversal(expr))


def _normal(expr: sp.Basic) -> sp.Basic:
    """sign(u) as u/|u|: the engine's form of |u|′."""
    if expr.has(sp.sign):
        expr = expr.replace(lambda e: isinstance(e, sp.sign), lambda e: e.args[0] / sp.Abs(e.args[0]))
    return expr


def _exact(a: sp.Basic, b: sp.Basic) -> bool:
    if a == b:
        return True
    a, b = _normal(a), _normal(b)
    if a == b:
        return True
    diff = a - b
    if diff == 0:
        return True
    if _size(diff) > SMALL:
        return False
    check("comparing the result with SymPy's")
    if sp.expand(diff) == 0:
        return True
    if not diff.has(sp.Abs, sp.Heaviside, sp.DiracDelta, sp.Max, sp.Min, sp.Derivative, sp.Subs):
        try:
            return sp.cancel(diff) == 0
        except (sp.PolynomialError, ValueError, TypeError):  # cancel refuses some generators
            return False
    return False


def _concrete(expr: sp.Basic) -> sp.Basic:
    """Unknown functions (f, g, h) -> fixed concrete ones, so both sides can be evaluated."""
    funcs = {a.func for a in expr.atoms(AppliedUndef)}
    if not funcs:
        return expr
    t = sp.Dummy("t")
    shapes = [sp.sin(t) + t**2 / 3, sp.exp(t / 2) + sp.cos(t), sp.atan(t) + t**3 / 5]
    for i, f in enumerate(sorted(funcs, key=str)):
        expr = expr.replace(f, sp.Lambda(t, shapes[i % len(shapes)]))
    return expr.doit()


def _points(symbols: list[sp.Symbol], count: int) -> list[dict[sp.Symbol, sp.Float]]:
    points = []
    for k in range(count):
        points.append({s: sp.Float(_VALUES[(k + 3 * i) % len(_VALUES)], 30) for i, s in enumerate(symbols)})
    return points


def _whole_limits(point: dict[sp.Symbol, sp.Float], *exprs: sp.Basic | None) -> dict[sp.Symbol, sp.Basic]:
    """The point with the limits of the sums in ``exprs`` (n in Σᵢ₌₁ⁿ) at whole numbers 2…5, the
    same on every side of a comparison: a sum to n = 1.43 means nothing, and SymPy's evalf of it
    takes seconds (Euler–Maclaurin with thousands of derivatives)."""
    limits = {s for e in exprs if e is not None and e.has(sp.Sum) for total in e.atoms(sp.Sum)
              for _, lo, hi in total.limits for s in lo.free_symbols | hi.free_symbols}
    if not limits:
        return point
    return {s: sp.Integer(2 + int(abs(float(v)) * 100) % 4) if s in limits else v for s, v in point.items()}


def _value(expr: sp.Basic, point: dict[sp.Symbol, sp.Float]) -> complex | None:
    try:
        # substituting Floats evaluates while the tree is rebuilt: far cheaper than evalf(subs=…)
        v = expr.xreplace(point)
        if v.has(sp.Sum):  # a sum of a few terms (``_whole_limits``): written out, not summed by evalf's series
            v = v.doit()
        if not v.is_Number:
            v = v.evalf(30)
            # huge arguments (tan of 1e40) need more digits than 30: a value that moves when
            # the precision doubles is no evidence either way
            w = expr.xreplace(point)
            w = (w.doit() if w.has(sp.Sum) else w).evalf(60)
            if w.is_number and v.is_number and not w.has(sp.zoo, sp.nan) and not v.has(sp.zoo, sp.nan):
                if abs(complex(w) - complex(v)) > 1e-15 * max(1.0, abs(complex(w))):
                    return None
    except (ZeroDivisionError, ValueError, TypeError, ArithmeticError):
        return None
    if not v.is_number or v.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        return None
    try:
        value = complex(v)
    except (TypeError, ValueError, OverflowError):
        return None
    # beyond a float (x^(π¹⁰⁰) at x = 1.7): inf − inf would say "different"; no evidence either way
    return value if cmath.isfinite(value) else None


def _real(v: complex | None) -> bool:
    return v is not None and abs(v.imag) <= 1e-20 * max(1.0, abs(v))


def compare(a: sp.Basic, b: sp.Basic, domain: sp.Basic | None = None, samples: int = 10, needed: int = 3) -> Agreement:
    """Whether ``a`` and ``b`` are the same function: exact tests, then up to ``samples`` points
    until ``needed`` of them agree. Points outside the real domain of either side, or of
    ``domain`` (the function that was differentiated), are skipped: acosh′ may be written
    1/√(x² − 1) or 1/(√(x − 1)·√(x + 1)), which differ only where acosh is not real."""
    if _exact(a, b):
        return Agreement("exact")
    ca, cb = _concrete(a), _concrete(b)
    cd = _concrete(domain) if domain is not None else None
    free = ca.free_symbols | cb.free_symbols | (cd.free_symbols if cd is not None else set())
    symbols = sorted(free, key=lambda s: s.name)
    # real analysis: |u| is differentiated as u′·u/|u|, which needs u itself real; |sec⁻¹ y| is
    # real at y = 0.5 while sec⁻¹ 0.5 is not, so such points are outside the formula's domain
    inside_abs = [a.args[0] for a in cd.atoms(sp.Abs)] if cd is not None else []
    agreeing = 0
    for point in _points(symbols, samples):  # type: ignore[arg-type]
        check("comparing at sample points")
        point = _whole_limits(point, ca, cb, cd)  # type: ignore[assignment]
        if cd is not None and not _real(_value(cd, point)):
            continue
        if any(not _real(_value(u, point)) for u in inside_abs):
            continue
        va, vb = _value(ca, point), _value(cb, point)
        if va is None or vb is None:
            continue
        if not (_real(va) and _real(vb)):
            continue  # outside the real domain: branch choices may differ there
        if abs(va.real - vb.real) <= 1e-12 * max(1.0, abs(va.real), abs(vb.real)):
            agreeing += 1
            if agreeing >= needed:
                break
            continue
        return Agreement("different", {s.name: float(v) for s, v in point.items()}, va.real, vb.real)
    return Agreement("numeric" if agreeing >= needed else "unknown")


LARGEST_LINK = sp.Float("1e300")
"""Links larger than this end the evaluation at a point: the next link could be exp of it, and
exp(10³⁰⁰) already has a 300-digit exponent (a chain of exp's 100 deep would take mpmath forever)."""


def _precision(digits: int) -> int:
    return int(digits * 3.33) + 16


def _number(expr: sp.Basic, digits: int, values: dict[sp.Symbol, sp.Float]) -> sp.Float | None:
    """``expr`` at ``values`` as a real Float, or None where it is not a real number (or cannot
    be pinned down to ``digits`` digits: ``symgrad.precise.settle``, ball arithmetic at a rising
    precision, so 1 − tanh²u near u = 40, which 30-digit Floats would round to 0, keeps its digits).
    Only the values ``expr`` uses are passed."""
    from symgrad.precise import NoValue, Undefined, settle

    relevant = {s: values[s] for s in expr.free_symbols if s in values}
    try:
        outcome = settle(expr, relevant, max_precision=max(4 * _precision(digits), 1024))
    except (Undefined, NoValue):
        return None
    if outcome.status == "tiny":
        return sp.Float(0, digits)
    if outcome.status != "settled":
        return None
    return sp.Float(outcome.value, digits)


def linked_value(expr: sp.Basic, values: dict[sp.Symbol, sp.Float], digits: int = 30) -> sp.Float | None:
    """An answer written in the names of a chain's links (a sum of products of small factors) at
    ``values`` (``link_values``), each name standing for its value. Ball arithmetic over the whole
    answer at once, with every shared factor evaluated once: linear in the number of factors. None
    where it is not a real number, or where its digits cannot be pinned down (terms that cancel
    beyond every precision tried).

    >>> u, x = sp.symbols("u x")
    >>> at = {u: sp.Float(40, 30), x: sp.Float(0, 30)}
    >>> float(linked_value(40 * (1 - sp.tanh(u)**2) * sp.cos(x), at))  # Floats put in first: 0.0
    2.8877622205526644e-33
    """
    check("evaluating the answer factor by factor")
    return _number(expr, digits, values)


@record
class LinkValues:
    """The value of every link of a deep chain at one point (``link_values``), or why there is none:
    ``problem`` is "not real" (a link is outside its domain) or "too large" (beyond ``LARGEST_LINK``)."""

    values: dict[sp.Symbol, sp.Float] | None
    problem: str | None = None


def link_values(links: Sequence[tuple[sp.Symbol, sp.Basic]], point: dict[sp.Symbol, sp.Float],
                digits: int = 30) -> LinkValues:
    """``point`` with the value of every link (``Derivation.links``), innermost first, at a
    working precision of ``digits`` digits and some guard bits (ball arithmetic, ``symgrad.precise``:
    the values are the midpoints). One small evaluation per link: linear in the depth of the chain.

    >>> u, v, x = sp.symbols("u v x")
    >>> float(link_values([(u, sp.sin(x))], {x: sp.Float(0.5)}).values[u])
    0.479425538604203
    >>> link_values([(u, sp.log(x))], {x: sp.Float(-1)}).problem
    'not real'
    >>> link_values([(u, sp.exp(v)), (v, sp.exp(x))], {x: sp.Float(800)}).problem
    'too large'
    """
    import mpmath

    from symgrad.precise import NoValue, Stopped, Undefined, evaluate_ball, link_guard

    guard = link_guard(mpmath.mpf(LARGEST_LINK._mpf_))
    found: dict[sp.Symbol, object] = {}

    def keep(name: sp.Symbol, ball: object) -> str | None:
        check("evaluating the links of the chain")
        reason = guard(name, ball)  # type: ignore[arg-type]
        found[name] = ball
        return reason

    try:
        evaluate_ball(sp.S.Zero, point, _precision(digits), tuple(links), on_link=keep)
    except (Undefined, NoValue):
        return LinkValues(None, "not real")
    except Stopped as stop:
        return LinkValues(None, str(stop))
    values = dict(point)
    for name, (mid, rad) in found.items():  # type: ignore[misc]
        if not mpmath.isfinite(rad):
            return LinkValues(None, "not real")
        values[name] = sp.Float(mid.real if isinstance(mid, mpmath.mpc) else mid, digits)
    return LinkValues(values)


def chain_rule_reference(links: Sequence[tuple[sp.Symbol, sp.Basic]], function: sp.Basic,
                         var: sp.Symbol) -> sp.Expr | None:
    """The derivative of ``function`` by ``var``, where ``function`` and ``links`` are written in
    the names of a deep chain's links (``Derivation.links``): by the chain rule, with SymPy's own
    ``diff`` of every link by the name inside it. d/dx F(u) = F′(u)·du/dx, du/dx = G′(v)·dv/dx, …,
    each chain's factors multiplied once, so it is linear in the depth. None when a link holds
    more than one of the names and ``var``: the chain rule is then a sum, not a product.

    >>> x, u, v = sp.symbols("x u v")
    >>> chain_rule_reference([(u, sp.sin(v)), (v, sp.exp(2 * x))], sp.cos(u) + x**2, x)
    2*x - 2*exp(2*x)*sin(u)*cos(v)
    """
    named = {u for u, _ in links}
    inward: dict[sp.Symbol, tuple[sp.Expr, sp.Symbol]] = {}
    for u, definition in links:
        inner = definition.free_symbols & (named | {var})
        if len(inner) != 1:
            return None
        (s,) = inner
        inward[u] = (_link_diff(definition, s), s)
    terms = []
    for s in sorted(function.free_symbols & (named | {var}), key=lambda t: t.name):
        check("the chain rule, link by link")
        factors = [sp.diff(function, s)]
        while s in inward:
            factor, s = inward[s]
            factors.append(factor)
        if s != var:
            return None
        terms.append(sp.Mul(*factors))
    return sp.Add(*terms)


def _link_diff(definition: sp.Basic, s: sp.Symbol) -> sp.Expr:
    """``sympy.diff(definition, s)``; for F(s) itself SymPy's own table entry ``F.fdiff()``, which is
    what ``diff`` multiplies by ds/ds = 1, without the ``Derivative`` machinery (ten times slower)."""
    if (isinstance(definition, sp.Function) and definition.args == (s,)
            and type(definition)._eval_derivative is sp.Function._eval_derivative):
        return definition.fdiff(1)
    return sp.diff(definition, s)


def compare_linked(result: sp.Basic, links: Sequence[tuple[sp.Symbol, sp.Basic]], function: sp.Basic,
                   var: sp.Symbol, samples: int = 10, needed: int = 3,
                   reference: sp.Basic | None = None) -> Agreement:
    """Whether ``result``, written in the names of ``links``, is the derivative of ``function`` by
    ``var`` (``function`` is written in the names too: each chain's top replaced by its outermost
    name). Used for chains too deep to write out (``derive(…, name_links=True)``); every test is
    linear in the depth.

    ``exact``: ``result`` is what the chain rule gives with SymPy's ``diff`` of each link
    (``chain_rule_reference``). Otherwise ``numeric`` or ``different`` by high-precision central
    differences of ``function`` at sample points (50 digits, step 10⁻¹⁵, so both the truncation
    and the rounding error stay below 10⁻²⁵), each evaluation going link by link. ``reference``:
    ``chain_rule_reference`` if the caller has it already.

    >>> x = sp.Symbol("x", real=True)
    >>> u = sp.Symbol("u", real=True)
    >>> compare_linked(sp.cos(u) * sp.cos(x), [(u, sp.sin(x))], sp.sin(u), x).kind
    'exact'
    >>> compare_linked(sp.cos(u) * (1 - sp.sin(x)**2) / sp.cos(x), [(u, sp.sin(x))], sp.sin(u), x).kind
    'numeric'
    >>> compare_linked(sp.cos(u), [(u, sp.sin(x))], sp.sin(u), x).kind
    'different'
    """
    if reference is None:
        reference = chain_rule_reference(links, function, var)
    if reference is not None:
        reference, result = _normal(reference), _normal(result)
        if reference == result:
            return Agreement("exact")
        difference = reference - result
        if _size(difference) <= SMALL and sp.expand(difference) == 0:
            return Agreement("exact")
    return _compare_by_differences(result, links, function, var, samples, needed)


def _compare_by_differences(result: sp.Basic, links: Sequence[tuple[sp.Symbol, sp.Basic]], function: sp.Basic,
                            var: sp.Symbol, samples: int, needed: int) -> Agreement:
    digits = 50
    named = {u for u, _ in links}
    symbols = sorted((s for s in function.free_symbols | result.free_symbols if s not in named),
                     key=lambda s: s.name)
    if var not in symbols:
        symbols.append(var)
    h = sp.Float("1e-15", digits)
    agreeing = 0
    for k in range(samples):
        check("comparing at sample points")
        point = {s: sp.Float(_VALUES[(k + 3 * i) % len(_VALUES)], digits) for i, s in enumerate(symbols)}
        here = link_values(links, point, digits).values
        ahead = link_values(links, {**point, var: point[var] + h}, digits).values
        behind = link_values(links, {**point, var: point[var] - h}, digits).values
        if here is None or ahead is None or behind is None:
            continue
        slope = linked_value(result, here, digits)
        up, down = _number(function, digits, ahead), _number(function, digits, behind)
        if slope is None or up is None or down is None:
            continue
        estimate = (up - down) / (2 * h)
        if abs(slope - estimate) <= 1e-12 * max(1, abs(slope), abs(estimate)):
            agreeing += 1
            if agreeing >= needed:
                break
            continue
        return Agreement("different", {s.name: float(v) for s, v in point.items()}, float(slope), float(estimate))
    return Agreement("numeric" if agreeing >= needed else "unknown")

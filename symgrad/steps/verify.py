"""Do two expressions agree? Exact tests first, then piece by piece between their kinks, then
numbers at sample points spread over the whole domain.

Stage: step engine (self-check), also used by ``symgrad check`` to judge an answer. ``compare``
never simplifies wholesale (that can take minutes). In order:

1. Exact tests: ``==``, the same after writing sign(u) as u/|u|, ``expand``/``cancel`` of a small
   difference. A difference that expands to a nonzero number is a proof the other way: 2x + 10⁻²⁰
   is not 2x anywhere. (``thorough``, once the sample points agree: also ``cancel`` after writing
   trigonometric, hyperbolic and ML functions as exponentials, so sec²x = tan²x + 1 and
   σ(x) = 1/(1 + e⁻ˣ) are proved.)
2. Pieces (``symgrad.steps.pieces``): |u|, sign, H, relu, max/min, Piecewise and floor are
   replaced by their branches; agreeing exactly under every combination of branches is agreeing
   everywhere (|x|/x and sign(x)).
3. Sample points: random 38-digit rationals from a fixed seed (never on a grid, so sin(100πx)
   cannot hide between the points), of every magnitude from 10⁻⁹ to 10⁷ and both signs, plus
   points on both sides of every kink and jump of the switches (their real roots along each
   variable, located exactly), near them and far from them, and (``thorough``) on both sides of
   where the real domain may end (√, ln, asin … of a function of one variable). At each point
   both sides follow the branch the point is on and are evaluated to 50 digits by SymPy's
   adaptive ``evalf``; values closer than 10⁻³⁵ are told apart by evaluating their difference
   adaptively (cancelling to up to ``SEARCH`` digits: a difference of 10⁻³⁰⁰ still counts).
   Points outside the real domain of either side, or of ``domain`` (the function that was
   differentiated), are skipped. Every piece a point lands on needs points of its own; if some
   branch of a switch is never reached, the verdict is ``unknown``, not equal. When the points
   agree but no exact test proved it, the difference written as exponentials and cancelled is
   evaluated at the points too: what cancelled symbolically cannot hide a tiny remainder.

Unknown functions f, g, h are replaced by concrete ones, sums over data by sums of 3 and 4 terms
with random data. Runs under the time budget.

To add a test: an exact one in ``_exact``; a new kind of kink or jump in ``pieces._KINDS``; more
kinds of points in ``_spread``.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> compare(sp.sec(x)**2, sp.tan(x)**2 + 1).kind
'numeric'
>>> verdict = compare(sp.cos(x), sp.sin(x))
>>> verdict.kind, sorted(verdict.point)
('different', ['x'])
>>> compare(sp.Abs(x) / x, sp.sign(x)).kind
'exact'
>>> compare(2 * x + sp.Heaviside(x - 10), 2 * x, thorough=True).point["x"] > 10
True
"""

from __future__ import annotations

import cmath
import itertools
import random
from collections.abc import Sequence
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.budget import check
from symgrad.records import field, record

SMALL = 400
"""Tree size up to which ``expand``/``cancel`` are tried: beyond it they may swell."""


_VALUES = (0.37, -0.61, 1.43, -1.87, 0.83, 2.71, -0.29, 3.17, 0.59, -2.33)
"""Sample values of the deep-chain comparison (``compare_linked``), which needs few and cheap ones."""


DIGITS = 50
"""Digits of every value at a sample point."""


CLOSE = sp.Float("1e-35", 20)
"""Values nearer than this (relative) are told apart by evaluating their difference adaptively."""


SEARCH = 400
"""Digits the difference of two nearly equal values is worked out to where its terms cancel: an
answer that differs by 10⁻³⁰⁰ behind a rewritten identity (σ(x) − 1/(1 + e⁻ˣ) + …) is seen."""


SEED = 20240613
"""The sample points are random but the same on every run: a verdict never depends on luck."""


MAX_POINTS = 72
"""Sample points at most (``thorough``), kinks included; the self-check uses fewer."""


MAX_BOXES = 64
"""Combinations of intervals between kinks (one interval per variable) that all get points."""


_COMPLEX = "complex"
"""What ``_evaluate`` returns for a value that is not a real number."""


@record
class Agreement:
    """The verdict: ``exact`` (proved), ``numeric`` (equal at every sample point), ``different``
    (``point`` is where they differ, with both values and their ``difference`` left − right, as
    text to 6 digits: it may be far below a float, 10⁻³⁰⁰⁰⁰⁰⁰), or ``unknown``
    (no usable point, or a piece no point reached). ``left``/``right`` are None where that side
    is not a real number, and text where it is beyond a float. ``method`` says how a difference was found: ``exact``
    when it was proved
    (the difference is a nonzero number on the piece the point is on), else ``numeric``.
    ``reason``: how the verdict was reached, in words."""

    kind: str
    point: dict[str, float] = field(default_factory=dict)
    left: float | str | None = None
    right: float | str | None = None
    difference: str | None = None
    method: str = "numeric"
    reason: str = ""

    @property
    def equal(self) -> bool:
        return self.kind in ("exact", "numeric")


def _size(expr: sp.Basic) -> int:
    return sum(1 for _ in sp.preorder_traversal(expr))


MAX_EXPANDED_TERMS = 2000
"""Terms ``expand`` may write out: (x + 1)¹⁰⁰⁰⁰⁰⁰ is small as a tree and a million terms expanded."""


def _expandable(expr: sp.Basic) -> bool:
    """Whether ``expand`` stays small: every power of a sum has few terms once multiplied out.

    >>> x = sp.Symbol("x")
    >>> _expandable((x + 1)**3 - x), _expandable((x + 1)**10**6)
    (True, False)
    """
    from math import comb

    for node in sp.preorder_traversal(expr):
        if node.is_Pow and node.base.is_Add and node.exp.is_Integer:
            n, k = abs(int(node.exp)), len(node.base.args)
            if n > MAX_EXPANDED_TERMS or comb(n + k - 1, k - 1) > MAX_EXPANDED_TERMS:
                return False
    return True


MAX_CANCEL_DEGREE = 60
"""Largest multiple k in exp(k·x) that ``cancel`` may meet: it writes exp(k·x) as exp(x)ᵏ, and
exp(−10⁴(x − 1)²) would become a polynomial of degree 20 000 (minutes)."""


def _cancellable(expr: sp.Basic) -> bool:
    """Whether ``cancel`` stays cheap: no exponential (or trigonometric, hyperbolic function, which
    become exponentials) of a large multiple of a variable.

    >>> x = sp.Symbol("x")
    >>> _cancellable(sp.exp(2 * x) / (sp.exp(x) + 1)), _cancellable(sp.exp(-10**4 * (x - 1)**2))
    (True, False)
    """
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.exp, *_EXP_FORMS)) and node.args[0].free_symbols:
            arg = node.args[0]
            if _expandable(arg):
                arg = sp.expand(arg)
            for term in sp.Add.make_args(arg):
                coefficient = term.as_coeff_Mul()[0]
                if coefficient.is_Rational and max(abs(coefficient.p), coefficient.q) > MAX_CANCEL_DEGREE:
                    return False
                if not coefficient.is_Rational and abs(coefficient) > MAX_CANCEL_DEGREE:
                    return False
    return True


def _normal(expr: sp.Basic) -> sp.Basic:
    """sign(u) as u/|u|: the engine's form of |u|′."""
    if expr.has(sp.sign):
        expr = expr.replace(lambda e: isinstance(e, sp.sign), lambda e: e.args[0] / sp.Abs(e.args[0]))
    return expr


_EXP_FORMS = (sp.sin, sp.cos, sp.tan, sp.sec, sp.csc, sp.cot, sp.sinh, sp.cosh, sp.tanh, sp.sech,
              sp.csch, sp.coth)


def _exact(a: sp.Basic, b: sp.Basic) -> bool:
    """Proved equal by cheap exact tests (never wholesale simplification)."""
    if a == b:
        return True
    a, b = _normal(a), _normal(b)
    if a == b:
        return True
    diff = a - b
    if diff == 0:
        return True
    if _size(diff) > SMALL or not _expandable(diff):
        return False
    check("comparing the result with SymPy's")
    if sp.expand(diff) == 0:
        return True
    if not diff.has(sp.Abs, sp.Heaviside, sp.DiracDelta, sp.Max, sp.Min, sp.Derivative, sp.Subs) and _cancellable(diff):
        try:
            if sp.cancel(diff) == 0:
                return True
        except (sp.PolynomialError, ValueError, TypeError):  # cancel refuses some generators
            pass
    return False


def _as_exponentials(diff: sp.Basic) -> sp.Expr | None:
    """The difference with trigonometric, hyperbolic and ML functions written as exponentials, then
    ``cancel``: 0 proves it is 0; anything else is the same function with the cancellation done
    symbolically (sin²x + cos²x − 1 + 10⁻²⁰⁰ sin x becomes the 10⁻²⁰⁰ term alone), which sample
    points can evaluate without losing it. None when the rewriting does not apply or swells."""
    from symgrad.vocabulary.functions import sigmoid, softplus
    from symgrad.vocabulary.softmax import softmax_component

    kinds = (*_EXP_FORMS, sigmoid, softplus, softmax_component)
    if not diff.has(*kinds) or diff.has(sp.Sum, sp.Derivative, sp.Subs, AppliedUndef):
        return None
    check("comparing as exponentials")
    try:
        if not _cancellable(diff):
            return None
        rewritten = diff.rewrite(sp.exp)
        if _size(rewritten) > SMALL or not _expandable(rewritten):
            return None
        return sp.cancel(sp.expand(rewritten))
    except (sp.PolynomialError, ValueError, TypeError, NotImplementedError, RecursionError):
        return None


def _nonzero_constant(a: sp.Basic, b: sp.Basic) -> sp.Expr | None:
    """a − b when it expands to a number that is not 0 (a proof that they differ everywhere)."""
    diff = _normal(a) - _normal(b)
    if _size(diff) > SMALL or not _expandable(diff):
        return None
    check("comparing the result with SymPy's")
    d = sp.expand(diff)
    if d.free_symbols or not d.is_number:
        return None
    return d if d.is_zero is False else None


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


def _counts(exprs: Sequence[sp.Basic]) -> list[sp.Symbol]:
    """The symbols that bound a sum over data (n in sum(…, i, 1, n)): numbers of rows."""
    found: set[sp.Symbol] = set()
    for e in exprs:
        for s in e.atoms(sp.Sum):
            for limit in s.limits:
                for bound in limit[1:]:
                    found |= {v for v in bound.free_symbols if isinstance(v, sp.Symbol)}
    return sorted(found, key=lambda s: s.name)


def _instances(exprs: Sequence[sp.Basic], thorough: bool) -> list[tuple[dict[sp.Symbol, sp.Integer], list[sp.Basic]]]:
    """Sums over data written out for 3 (and 4) rows, each value of the data a symbol of its own
    (named ``x[2]``); without sums, the expressions as they are."""
    if not any(e.has(sp.Sum) for e in exprs):
        return [({}, list(exprs))]
    counts = _counts(exprs)
    out = []
    for n in ((3, 4) if thorough else (3,)):
        rows = {c: sp.Integer(n) for c in counts}
        written = [e.xreplace(rows).replace(lambda s: isinstance(s, sp.Sum), lambda s: s.doit()) for e in exprs]
        data = sorted(set().union(*(e.atoms(sp.Indexed) for e in written)), key=str)
        names = {d: sp.Symbol(str(d), real=True) for d in data}  # "x[2]": no name the parser makes
        out.append((rows, [e.xreplace(names) for e in written]))
        if not counts:
            break
    return out


def _evaluate(expr: sp.Basic, point: dict[sp.Symbol, sp.Rational], digits: int = DIGITS,
              search: int | None = None) -> sp.Expr | str | None:
    """``expr`` at ``point``: an accurate real number, ``_COMPLEX``, or None (undefined there, too
    large to evaluate, or not accurate to most of its digits). ``search``: digits ``evalf`` may work
    with where terms cancel (SymPy's default is 100)."""
    from symgrad.steps.pieces import too_large

    if too_large(expr, point):
        return None
    try:
        v = expr.evalf(digits, subs=point) if search is None else expr.evalf(digits, subs=point, maxn=search)
    except (ZeroDivisionError, ValueError, TypeError, ArithmeticError, RecursionError):
        return None
    if v.is_Rational:
        return v
    if v.is_Float:
        return v if v.is_finite and v._prec >= 0.75 * sp.core.evalf.dps_to_prec(digits) else None
    if not v.is_number or v.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        return None
    try:
        z = complex(v)
    except (TypeError, ValueError, OverflowError):
        return None
    if not cmath.isfinite(z):
        return None
    return _COMPLEX if abs(z.imag) > 1e-30 * max(1.0, abs(z.real)) else None


def _float(v: object) -> float | str | None:
    """A value for the verdict: a float, or text where it is beyond a float (10³⁶¹⁷²⁷)."""
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if cmath.isfinite(f) and (f != 0 or v == 0):
        return f
    text = _text(v)
    return text.lstrip("+") if text is not None else None


# sample points -----------------------------------------------------------------------------------
_CLASSES = ("ordinary", "ordinary", "small", "ordinary", "large", "ordinary", "tiny", "ordinary", "huge",
            "small", "ordinary", "large")
"""Magnitudes of the base points, in the order they are used: homework values first."""


def _rational(value: float | sp.Float, rng: random.Random) -> sp.Rational:
    """``value`` with random digits appended: a 38-digit rational on no grid a formula could have."""
    mantissa, exponent = f"{float(value):.15e}".split("e")
    return sp.Rational(f"{mantissa}{rng.randrange(10**22):022d}e{exponent}")


def _spread(rng: random.Random, kind: str) -> sp.Rational:
    """A random value of one magnitude class, either sign."""
    if kind == "ordinary":
        v = rng.uniform(0.05, 4.0)
    else:
        low, high = {"small": (-4, -1), "tiny": (-9, -5), "large": (1, 3), "huge": (4, 7)}[kind]
        v = 10 ** rng.uniform(low, high)
    return _rational(v if rng.random() < 0.5 else -v, rng)


def _offsets(rng: random.Random, root: sp.Float, room: float | None, side: int) -> list[sp.Rational]:
    """Values just beside ``root`` (``side`` +1 or −1), a bit further and, on an unbounded side, far:
    at most ``room`` away (half the interval up to the next root)."""
    scale = 1 + abs(float(root))
    steps = [scale * 10 ** rng.uniform(-7, -4), scale * rng.uniform(0.05, 0.5)]
    if room is None:
        steps += [scale * 10 ** rng.uniform(1, 3), scale * 10 ** rng.uniform(4, 6)]
    out = []
    for step in steps:
        if room is not None:
            step = min(step, room * rng.uniform(0.3, 0.9))
        out.append(sp.Rational(root) + side * _rational(step, rng))
    return out


def _interval_values(rng: random.Random, roots: Sequence[sp.Float]) -> list[list[sp.Rational]]:
    """For the intervals between consecutive ``roots`` (and beyond the first and the last), values
    inside each: near both ends, in the middle, and far out on the unbounded ones."""
    if not roots:
        return []
    intervals: list[list[sp.Rational]] = []
    for k in range(len(roots) + 1):
        left = roots[k - 1] if k > 0 else None
        right = roots[k] if k < len(roots) else None
        width = float(right - left) if left is not None and right is not None else None
        room = None if width is None else width / 2
        values: list[sp.Rational] = []
        if left is not None:
            values += _offsets(rng, left, room, +1)
        if right is not None:
            values += _offsets(rng, right, room, -1)
        # a step into the interval first (readable counterexamples), then beside the kink, then far
        values.sort(key=lambda v: (0 if 0.04 < min(abs(float(v - r)) / (1 + abs(float(r))) for r in roots) < 1
                                   else 1, abs(float(v))))
        intervals.append(values)
    return intervals


def _simplex(rng: random.Random, group: Sequence[sp.Symbol]) -> dict[sp.Symbol, sp.Rational]:
    """Random positive values for all but the last of ``group``, summing to less than 1 (the last is
    1 minus the others)."""
    weights = [_rational(rng.expovariate(1.0) + 1e-3, rng) for _ in group]
    total = sum(weights)
    return {s: w / total for s, w in zip(group[:-1], weights[:-1])}


def _base_points(rng: random.Random, symbols: Sequence[sp.Symbol], count: int,
                 groups: Sequence[Sequence[sp.Symbol]]) -> list[dict[sp.Symbol, sp.Rational]]:
    grouped = {s for g in groups for s in g[:-1]}
    free = [s for s in symbols if s not in grouped]
    points = []
    for k in range(count):
        # the first points are of homework size in every variable (readable counterexamples), the
        # others mix magnitudes across the variables
        point = {s: _spread(rng, "ordinary" if k < 3 else _CLASSES[(k + 5 * i) % len(_CLASSES)])
                 for i, s in enumerate(free)}
        for g in groups:
            point.update(_simplex(rng, g))
        points.append(point)
    return points


@record
class _Plan:
    points: list[dict[sp.Symbol, sp.Rational]]
    complete: bool
    """Every kink along every variable is located, and every combination of intervals has points."""
    kinks: dict[str, tuple[sp.Float, ...]]


def _plan(symbols: Sequence[sp.Symbol], nodes: Sequence[sp.Basic], samples: int, thorough: bool,
          groups: Sequence[Sequence[sp.Symbol]], exprs: Sequence[sp.Basic] = ()) -> _Plan:
    """The sample points: ``samples`` spread points, then points on both sides of every kink, then
    (``thorough``) on both sides of where the real domain of ``exprs`` may end."""
    from symgrad.steps.pieces import breakpoints

    rng = random.Random(SEED)
    base = _base_points(rng, symbols, samples, groups)
    edges = _edge_points(rng, symbols, exprs, groups) if thorough else []
    if not nodes:
        return _Plan(base + edges, True, {})
    grouped = {s for g in groups for s in g[:-1]}
    complete = True
    per_var: dict[sp.Symbol, list[list[sp.Rational]]] = {}
    kinks: dict[str, tuple[sp.Float, ...]] = {}
    for s in symbols:
        found = breakpoints(nodes, s)
        complete = complete and found.complete and not (found.roots and s in grouped)
        if found.roots and s not in grouped:
            per_var[s] = _interval_values(rng, found.roots)
            kinks[s.name] = found.roots
    points: list[dict[sp.Symbol, sp.Rational]] = []
    kinked = list(per_var)
    boxes = list(itertools.product(*(range(len(per_var[s])) for s in kinked)))
    if len(boxes) > MAX_BOXES:
        complete = False
        boxes = rng.sample(boxes, MAX_BOXES)
    filler = _base_points(rng, symbols, max(len(boxes), 1) * 3, groups)
    for j in range(3 if thorough else 2):
        for box_index, box in enumerate(boxes):
            point = dict(filler[(3 * box_index + j) % len(filler)])
            for s, interval in zip(kinked, box):
                values = per_var[s][interval]
                point[s] = values[j % len(values)]
            points.append(point)
    points += _targeted(rng, nodes, base[:2], symbols)
    # the first few spread points, then every interval, then the rest of the spread
    ordered = base[:3] + points + base[3:]
    return _Plan(ordered[:MAX_POINTS if thorough else MAX_POINTS // 2] + edges, complete, kinks)


def _edge_points(rng: random.Random, symbols: Sequence[sp.Symbol], exprs: Sequence[sp.Basic],
                 groups: Sequence[Sequence[sp.Symbol]]) -> list[dict[sp.Symbol, sp.Rational]]:
    """Points on both sides of where the domain may end along each variable (``domain_edges``)."""
    from symgrad.steps.pieces import domain_edges

    grouped = {s for g in groups for s in g[:-1]}
    out: list[dict[sp.Symbol, sp.Rational]] = []
    for s in symbols:
        if s in grouped:
            continue
        edges = domain_edges(exprs, s)
        if not edges:
            continue
        values = [v for interval in _interval_values(rng, edges) for v in interval]
        fill = _base_points(rng, symbols, len(values), groups)
        out += [{**p, s: v} for p, v in zip(fill, values)]
    return out[:48]


def _targeted(rng: random.Random, nodes: Sequence[sp.Basic], bases: Sequence[dict[sp.Symbol, sp.Rational]],
              symbols: Sequence[sp.Symbol]) -> list[dict[sp.Symbol, sp.Rational]]:
    """For switches of several variables (|x − y|): from a few base points, along each variable,
    points on both sides of where the switch changes branch."""
    from symgrad.steps.pieces import _functions, _real_roots, all_pieces, switches

    out: list[dict[sp.Symbol, sp.Rational]] = []
    for node in nodes:
        for f in _functions(node, node.args):
            if len(f.free_symbols & set(symbols)) < 2:
                continue
            inner = switches(f)
            variants = all_pieces([f], inner) if inner else iter([[f]])
            for (g,) in itertools.islice(variants or iter(()), 4):
                for base in bases:
                    for s in sorted(g.free_symbols & set(symbols), key=lambda v: v.name):
                        check("placing points around the kinks")
                        h = g.xreplace({v: base[v] for v in g.free_symbols if v != s and v in base})
                        if h.free_symbols != {s}:
                            continue
                        found = _real_roots(h, s)
                        for root in (found[0] if found else [])[:4]:
                            for side in (1, -1):
                                for value in _offsets(rng, root, None, side)[:2]:
                                    out.append({**base, s: value})
    return out[:24]


# the comparison ----------------------------------------------------------------------------------
def _on_distributions(exprs: Sequence[sp.Basic | None], groups: Sequence[Sequence[sp.Symbol]]) -> list[sp.Basic | None]:
    """The last symbol of each distribution replaced by 1 minus the others."""
    if not groups:
        return list(exprs)
    last = {g[-1]: 1 - sp.Add(*g[:-1]) for g in groups}
    return [None if e is None else e.xreplace(last) for e in exprs]


class Screen:
    """A quick necessary test against one expression: its values at a few sample points where it
    (and ``domain``) are real. ``admits(other)`` is False when ``other`` differs at one of them;
    True does not mean equal (``compare`` decides). The mistake finder screens its hypotheses so.

    >>> x = sp.Symbol("x", real=True)
    >>> screen = Screen(sp.cos(x))
    >>> screen.admits(sp.cos(-x)), screen.admits(sp.sin(x))
    (True, False)
    """

    def __init__(self, expr: sp.Basic, domain: sp.Basic | None = None,
                 distributions: Sequence[Sequence[sp.Symbol]] = (), count: int = 4) -> None:
        self.groups = [tuple(g) for g in distributions if len(g) >= 2]
        e, d = _on_distributions([expr, domain], self.groups)
        (self.rows, (e, *rest)), = _instances([_concrete(e)] + ([_concrete(d)] if d is not None else []), False)[:1]
        d = rest[0] if rest else None
        eliminated = {g[-1] for g in self.groups}
        symbols = sorted((s for s in e.free_symbols | (d.free_symbols if d is not None else set())
                          if s not in eliminated), key=lambda s: s.name)
        self.points: list[tuple[dict[sp.Symbol, sp.Rational], sp.Expr]] = []
        for point in _base_points(random.Random(SEED), symbols, 3 * count, self.groups):
            check("comparing at sample points")
            if d is not None and _evaluate(d, point, 20) in (None, _COMPLEX):
                continue
            value = _evaluate(e, point)
            if value is not None and value is not _COMPLEX:
                self.points.append((point, value))
                if len(self.points) >= count:
                    break

    def admits(self, other: sp.Basic) -> bool:
        (o,) = _on_distributions([other], self.groups)
        o = _concrete(o)
        if self.rows or o.has(sp.Sum):
            o = _instances([o], False)[0][1][0]
        for point, value in self.points:
            v: Any = _evaluate(o, point)
            if v is None or v is _COMPLEX:
                continue
            if abs(v - value) > CLOSE * max(abs(v), abs(value)):
                return False
        return True


def compare(a: sp.Basic, b: sp.Basic, domain: sp.Basic | None = None, samples: int = 10, needed: int = 3, *,
            thorough: bool = False, distributions: Sequence[Sequence[sp.Symbol]] = ()) -> Agreement:
    """Whether ``a`` and ``b`` are the same function (see the module docstring for how).

    Points outside the real domain of either side, or of ``domain`` (the function that was
    differentiated), are skipped: acosh′ may be written 1/√(x² − 1) or 1/(√(x − 1)·√(x + 1)), which
    differ only where acosh is not real. ``samples`` spread points are used (more around kinks);
    without kinks, the comparison stops after ``needed`` agreeing points unless ``thorough``.
    ``thorough`` (``symgrad check``) uses every point, then tries the exponential forms, and calls a
    side that is complex where the other is real different. ``distributions``: groups of symbols
    that are a probability distribution (positive, summing to 1), as cross-entropy's labels are.
    """
    groups = [tuple(g) for g in distributions if len(g) >= 2]
    a, b, domain = _on_distributions([a, b, domain], groups)
    if _exact(a, b):
        return Agreement("exact", reason="proved symbolically")
    constant = _nonzero_constant(a, b)
    exprs = [_concrete(a), _concrete(b)] + ([_concrete(domain)] if domain is not None else [])
    verdicts = []
    written: list[str] = []
    for rows, (ca, cb, *rest) in _instances(exprs, thorough):
        verdict = _compare_at_points(ca, cb, rest[0] if rest else None, samples, needed, thorough, groups, constant)
        if rows:
            written.append(", ".join(f"{s} = {n}" for s, n in rows.items()))
            if verdict.point:
                verdict = Agreement(verdict.kind, {**{s.name: float(n) for s, n in rows.items()}, **verdict.point},
                                    verdict.left, verdict.right, verdict.difference, verdict.method, verdict.reason)
        if verdict.kind == "different":
            return verdict
        verdicts.append(verdict)
    if any(v.kind == "unknown" for v in verdicts):
        return next(v for v in verdicts if v.kind == "unknown")
    # a sum over n rows, equal for 3 and 4 rows of random data: evidence, not a proof for every n
    kind = "exact" if all(v.kind == "exact" for v in verdicts) and not written else "numeric"
    if kind == "numeric" and thorough and not written:
        # tried only once the points agree: a wrong answer is told quickly, a right one proved
        remainder = _as_exponentials(_normal(a) - _normal(b))
        if remainder == 0:
            return Agreement("exact", reason="proved symbolically (as exponentials)")
        if remainder is not None and remainder.free_symbols:
            # the same points again, each also asking the remainder, in which nothing cancels
            ca, cb, *rest = exprs
            again = _compare_at_points(ca, cb, rest[0] if rest else None, samples, needed, thorough, groups,
                                       constant, _concrete(remainder))
            if again.kind == "different":
                return again
    rows_note = f" (sums written out with {' and '.join(written)} rows of random data)" if written else ""
    return Agreement(kind, reason=verdicts[0].reason + rows_note)


@record
class _Piece:
    """The pieces of both sides on one combination of branches, and what the points said."""

    left: sp.Basic
    right: sp.Basic
    exact: bool
    agreeing: int = 0


def _compare_at_points(a: sp.Basic, b: sp.Basic, domain: sp.Basic | None, samples: int, needed: int,
                       thorough: bool, groups: Sequence[Sequence[sp.Symbol]], constant: sp.Expr | None,
                       remainder: sp.Basic | None = None) -> Agreement:
    from symgrad.steps.pieces import all_pieces, switches

    if any(e is not None and e.has(sp.Sum, sp.Integral, sp.Derivative, sp.Subs) for e in (a, b, domain)):
        return Agreement("unknown", reason="a sum, integral or derivative is left that cannot be evaluated")
    nodes = switches(a, b)
    if nodes:
        combinations = all_pieces([a, b], nodes)
        if combinations is not None and all(_exact(p, q) for p, q in combinations):
            return Agreement("exact", reason="proved symbolically on each side of every kink")
    free = a.free_symbols | b.free_symbols | (domain.free_symbols if domain is not None else set())
    eliminated = {g[-1] for g in groups}
    symbols = sorted((s for s in free if s not in eliminated), key=lambda s: s.name)
    plan = _plan(symbols, nodes, samples, thorough, groups, [e for e in (a, b, domain) if e is not None])
    sampler = _Sampler(a, b, nodes, domain, groups, constant, remainder, thorough)
    agreeing = 0
    for point in plan.points:
        outcome = sampler.visit(point)
        if isinstance(outcome, Agreement):
            return outcome
        agreeing += outcome is True
        if not thorough and agreeing >= (2 * needed if nodes else needed) and (
                not nodes or all(len(got) >= 2 for got in sampler.seen)):
            break  # the self-check: a few agreeing points (on both sides of the kinks) suffice
    if thorough:
        more = sampler.more_points(needed, agreeing)
        if isinstance(more, Agreement):
            return more
        agreeing = more
    if agreeing < min(needed, 2 if nodes else needed) or not sampler.pieces:
        return Agreement("unknown", reason="no sample point where both are real numbers")
    return _verdict(a, b, nodes, sampler.pieces, sampler.seen, plan, needed, thorough)


class _Sampler:
    """Compares the two sides at one sample point after another, keeping what the points said:
    the pieces reached (one per combination of branches), the first point in each, and which
    branch of each kink was seen."""

    def __init__(self, a: sp.Basic, b: sp.Basic, nodes: Sequence[sp.Basic], domain: sp.Basic | None,
                 groups: Sequence[Sequence[sp.Symbol]], constant: sp.Expr | None, remainder: sp.Basic | None,
                 thorough: bool) -> None:
        self.a, self.b, self.nodes, self.domain = a, b, nodes, domain
        self.groups, self.constant, self.remainder = groups, constant, remainder
        self.inside_abs = [u.args[0] for u in domain.atoms(sp.Abs)] if domain is not None else []
        floats = [f._prec for e in (a, b) for f in e.atoms(sp.Float)]
        self.tolerance = CLOSE if not floats else sp.Float(2) ** (8 - min(floats))
        self.strict = thorough and not floats
        self.pieces: dict[tuple[int, ...], _Piece] = {}
        self.first: dict[tuple[int, ...], dict[sp.Symbol, sp.Rational]] = {}
        self.seen: list[set[int]] = [set() for _ in nodes]

    def visit(self, point: dict[sp.Symbol, sp.Rational],
              want: tuple[int, ...] | None = None) -> Agreement | bool | None:
        """One sample point: a ``different`` verdict, True (agrees), or None (says nothing)."""
        from symgrad.steps.pieces import pieces_at

        check("comparing at sample points")
        found = pieces_at([self.a, self.b], self.nodes, point)
        if found is None:
            return None  # on a kink: neither side need be defined there
        key, (pa, pb) = found
        if want is not None and key != want:
            return None
        if self.domain is not None and _evaluate(self.domain, point, 20) in (None, _COMPLEX):
            return None
        if any(_evaluate(u, point, 20) in (None, _COMPLEX) for u in self.inside_abs):
            return None  # |u|′ = u′·u/|u| needs u itself real
        piece = self.pieces.get(key)
        if piece is None:
            piece = self.pieces[key] = _Piece(pa, pb, bool(self.nodes) and _exact(pa, pb))
            self.first[key] = point
        va = vb = None
        if piece.exact:
            outcome: bool | None = True
        else:
            va, vb = _evaluate(pa, point), _evaluate(pb, point)
            outcome = _agree(pa, pb, va, vb, point, self.tolerance, self.strict)
        if outcome is False:
            # evalf can be wrong about its own accuracy (tan of 10¹¹⁷): a difference counts only if
            # both values stay where they are at twice the digits
            va2, vb2 = _evaluate(pa, point, 2 * DIGITS), _evaluate(pb, point, 2 * DIGITS)
            if not (_steady(va, va2) and _steady(vb, vb2)):
                return None
            outcome = _agree(pa, pb, va2, vb2, point, self.tolerance, self.strict)
        if outcome and self.remainder is not None and not piece.exact:
            r = _real_value(self.remainder, point)
            if r is not None and r != 0:  # a − b, written without the cancellation, is not 0 here
                return _difference(pa, pb, va, vb, point, self.groups, self.constant, r)
        if outcome is None:
            return None
        if not outcome:
            return _difference(pa, pb, va, vb, point, self.groups, self.constant)
        for i, c in enumerate(key):
            self.seen[i].add(c)
        self.pieces[key] = _Piece(piece.left, piece.right, piece.exact, piece.agreeing + 1)
        return True

    def more_points(self, needed: int, agreeing: int) -> Agreement | int:
        """The thorough check's extra points: a verdict, or the new count of agreeing points."""
        # a piece reached by a single point (a narrow interval between kinks) gets more of its own
        rng = random.Random(SEED + 1)
        for key in list(self.pieces):
            for _ in range(8):
                if self.pieces[key].exact or self.pieces[key].agreeing >= 3:
                    break
                outcome = self.visit(_nearby(rng, self.first[key]), key)
                if isinstance(outcome, Agreement):
                    return outcome
                agreeing += outcome is True
        # a narrow domain (asin(10⁴x − 3)) reached by few points: more around the ones that were
        starts = list(self.first.values())
        for k in range(4 * needed):
            if agreeing >= needed or not starts:
                break
            outcome = self.visit(_nearby(rng, starts[k % len(starts)], wide=True))
            if isinstance(outcome, Agreement):
                return outcome
            agreeing += outcome is True
        return agreeing


def _nearby(rng: random.Random, point: dict[sp.Symbol, sp.Rational], wide: bool = False) -> dict[sp.Symbol,
                                                                                                 sp.Rational]:
    """A point a small random step from ``point`` in every coordinate (``wide``: up to 10 %)."""
    out = {}
    for s, v in point.items():
        step = (abs(float(v)) + 1e-3) * 10 ** rng.uniform(-6, -1 if wide else -2) * (1 if rng.random() < 0.5 else -1)
        out[s] = v + _rational(step, rng)
    return out


def _agree(pa: sp.Basic, pb: sp.Basic, va: Any, vb: Any, point: dict[sp.Symbol, sp.Rational],
           tolerance: sp.Float, strict: bool) -> bool | None:
    """Whether the two values at ``point`` agree; None when the point says nothing (a side is
    undefined there, or both are outside the real domain)."""
    if va is None or vb is None:
        return None
    if va is _COMPLEX or vb is _COMPLEX:
        # outside the real domain branch choices may differ; ``strict``: a complex answer where the
        # derivative is real is not that derivative
        return None if (va is _COMPLEX and vb is _COMPLEX) or not strict else False
    if va == vb and not strict:
        return True
    scale = max(abs(va), abs(vb))
    if abs(va - vb) > tolerance * scale:
        return False
    if not strict or (va.is_Rational and vb.is_Rational):
        return True
    # nearly equal: is the difference itself 0? evalf cancels its terms to up to SEARCH digits
    d = _evaluate(pa - pb, point, search=SEARCH)
    return d is None or d is _COMPLEX or d == 0


def _steady(low: Any, high: Any) -> bool:
    """The same value at two precisions (or the same kind of non-value)."""
    if low is _COMPLEX or high is _COMPLEX:
        return low is high
    if low is None or high is None:
        return False
    return bool(abs(low - high) <= CLOSE * abs(high))


def _real_value(expr: sp.Basic, point: dict[sp.Symbol, sp.Rational]) -> sp.Expr | None:
    """``expr`` at ``point`` when it is an accurately known real number (exponential forms carry I:
    their imaginary part must vanish), else None."""
    from symgrad.steps.pieces import too_large

    if too_large(expr, point):
        return None
    try:
        value = expr.evalf(DIGITS, subs=point)
        re_part, im_part = value.as_real_imag()
        re_part, im_part = re_part.evalf(DIGITS), im_part.evalf(DIGITS)
    except (ZeroDivisionError, ValueError, TypeError, ArithmeticError, RecursionError):
        return None
    if not (re_part.is_Float or re_part.is_Rational) or not (im_part.is_Float or im_part.is_Rational):
        return None
    if re_part.is_Float and (not re_part.is_finite or re_part._prec < 30):
        return None
    if im_part != 0 and not (im_part.is_Float and im_part._prec < 30) and abs(im_part) > CLOSE * abs(re_part):
        return None
    return re_part


def _difference(pa: sp.Basic, pb: sp.Basic, va: object, vb: object, point: dict[sp.Symbol, sp.Rational],
                groups: Sequence[Sequence[sp.Symbol]], constant: sp.Expr | None,
                known: sp.Expr | None = None) -> Agreement:
    """The ``different`` verdict at ``point``: the values, their difference (``known``, if it is),
    and how it is known."""
    shown = {s.name: float(v) for s, v in point.items()}
    for g in groups:
        shown[g[-1].name] = float(1 - sum(point[s] for s in g[:-1]))
    proved = constant if constant is not None else _nonzero_constant(pa, pb)
    d = proved if proved is not None else known if known is not None else (
        _evaluate(pa - pb, point, search=SEARCH) if va is not _COMPLEX and vb is not _COMPLEX else None)
    left = None if va is _COMPLEX else _float(va)
    right = None if vb is _COMPLEX else _float(vb)
    if proved is not None:
        reason = f"the two differ by the constant {proved}" if constant is not None else \
            f"on the piece this point is on they differ by the constant {proved}"
    else:
        reason = "they differ at this point" if left is not None and right is not None else \
            "one side is not a real number where the other is"
    return Agreement("different", shown, left, right, _text(d), "exact" if proved is not None else "numeric", reason)


def _text(value: object) -> str | None:
    """A number to 6 digits, signed, in any range (10⁻³⁰⁰³⁹⁷² is not a float)."""
    import mpmath

    if value is None or value is _COMPLEX:
        return None
    try:
        number = sp.Float(value, 20)
    except (TypeError, ValueError):
        return None
    if not number.is_Float:
        return None
    text = mpmath.nstr(mpmath.mpf(number._mpf_), 6)
    return text if text.startswith("-") else "+" + text


def _verdict(a: sp.Basic, b: sp.Basic, nodes: Sequence[sp.Basic], pieces: dict[tuple[int, ...], _Piece],
             seen: list[set[int]], plan: _Plan, needed: int, thorough: bool) -> Agreement:
    """Every point agreed: exact, numeric, or unknown when a branch was never reached."""
    from symgrad.printing.oneline import oneline
    from symgrad.steps.pieces import _choices

    count = sum(p.agreeing for p in pieces.values())
    if not nodes:
        return Agreement("numeric", reason=f"equal at {count} sample points to {DIGITS - 15} digits")
    thin = [p for p in pieces.values() if not p.exact and p.agreeing < 2]
    if thin and thorough:
        return Agreement("unknown", reason="too few sample points on some piece between the kinks")
    if not plan.complete:
        for node, got in zip(nodes, seen):
            options = _choices(node)
            if options is not None and len(got) < len(options):
                return Agreement("unknown", reason=f"no sample point reached every side of {oneline(node)}: "
                                                   "where its kinks are could not be worked out")
    where = "; ".join(f"{name} = " + ", ".join(f"{float(r):.6g}" for r in roots[:6]) + (" …" if len(roots) > 6 else "")
                      for name, roots in plan.kinks.items())
    at = f" (at {where})" if where else ""
    if plan.complete and all(p.exact for p in pieces.values()):
        return Agreement("exact", reason=f"proved symbolically on every piece between the kinks{at}")
    return Agreement("numeric", reason=f"equal at {count} sample points to {DIGITS - 15} digits, "
                                       f"on both sides of every kink{at}")

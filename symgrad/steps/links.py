"""A deep chain, link by link: values at a point, the chain rule as a reference, and the check.

Stage: step engine (self-check of the answers written in the names of a chain's links, and
their values at a point). A chain n functions deep written out has about n²/2 nested functions;
in the names of its links (``Derivation.links``: u = sin(v), v = sin(w), …) it has n, and every
function here stays linear in the depth: ``link_values`` evaluates each link once, innermost
first; ``chain_rule_reference`` multiplies SymPy's derivative of each link; ``compare_linked``
checks an answer against it, or else against 50-digit central differences.

>>> x, u = sp.symbols("x u", real=True)
>>> compare_linked(sp.cos(u) * sp.cos(x), [(u, sp.sin(x))], sp.sin(u), x).kind
'exact'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from symgrad.budget import check
from symgrad.records import record
from symgrad.steps.verify import _VALUES, SMALL, Agreement, _normal, _size

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
    found: dict[sp.Symbol, Any] = {}

    def keep(name: sp.Symbol, ball: Any) -> str | None:
        check("evaluating the links of the chain")
        reason = guard(name, ball)
        found[name] = ball
        return reason

    try:
        evaluate_ball(sp.S.Zero, point, _precision(digits), tuple(links), on_link=keep)
    except (Undefined, NoValue):
        return LinkValues(None, "not real")
    except Stopped as stop:
        return LinkValues(None, str(stop))
    values = dict(point)
    for name, (mid, rad) in found.items():
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

"""Values at a point, right to the digits shown: ball arithmetic at a rising working precision.

Stage: numbers (used by ``symgrad.evaluate`` and the link-by-link evaluation of deep chains in
``steps.verify``). SymPy's ``evalf`` is adaptive only where its own table has a rule (sums,
products, powers, sin, cos, exp, log); any other function (tanh, σ, cosh, …) gets its argument at
evalf's default working precision (333 bits) and then claims full accuracy for its value. So
``1 - sigmoid(400)`` comes out as rounding noise (1.3e-141 for 1.9e-174), and so does everything
built on it.

Here a numeric SymPy expression is evaluated by mpmath node by node at one working precision, and
every value carries a radius: how far from the true value it may be (a *ball*). Rounding adds a
few units in the last place; a sum adds its terms' radii, so cancellation shows as a radius that
is large next to the sum; a function's radius is how far its value moves when its arguments move
across their balls (evaluated at both ends of each, which also sees a jump of sign or Heaviside).
The evaluation is repeated at higher precision until the radius is below 2⁻⁶⁴ of the value, then
once more at another precision, and the two must agree (``settle``). A ball that stays around 0
until it is smaller than half the smallest float is a 0 that says so (``tiny``): 1 − tanh²(10⁵) is
5·10⁻⁸⁶⁸⁵⁹ and ``exactly`` 0 as a float. Past ``MAX_PRECISION`` it gives up (``unsettled``).

To support a new SymPy function: if mpmath has it under the same name, ``_eval_mpmath`` or
SymPy's ``MPMATH_TRANSLATIONS``, nothing is needed; otherwise add it to ``_special`` (or give
the class an ``_eval_mpmath``). Functions with neither fall back to their own ``_eval_evalf`` at
the working precision, still inside the ball bookkeeping.

>>> import sympy as sp
>>> from symgrad.vocabulary.functions import sigmoid
>>> result = settle(sigmoid(400) * (1 - sigmoid(400)))
>>> result.status, float(result.value)
('settled', 1.9151695967140057e-174)
>>> settle(1 - sp.tanh(10**5)**2).status
'tiny'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import mpmath
import sympy as sp

from symgrad.records import record

TARGET_BITS = 64
"""Relative accuracy a value must reach: more than a float's 53 bits, so the float is right."""

START_PRECISION = 128
MAX_PRECISION = 16384
"""Working precision (bits) to start with and to give up at (about 4 900 digits)."""

TINY = mpmath.ldexp(1, -1076)
"""Half the smallest positive float: every number inside ±TINY rounds to a float zero."""

_ROUNDING_ULPS = 4
"""Units in the last place charged per operation (mpmath rounds each to within one)."""


class Undefined(Exception):
    """The expression has no value at the point: a division by zero or a function's pole, met
    with exact arguments (not a rounding artefact)."""


class NoValue(Exception):
    """A free symbol without a value (the caller forgot part of the point)."""


Ball = tuple[Any, Any]
"""(midpoint: mpf or mpc, radius: mpf ≥ 0, possibly +inf)."""


@record
class Settled:
    """The outcome of ``settle``.

    ``status``: ``settled`` (``value`` is right to ``TARGET_BITS``), ``tiny`` (|value| < ``bound``,
    below half the smallest float: it is 0 as a float), ``not real`` (the imaginary part is
    certainly nonzero), ``unsettled`` (no precision up to ``MAX_PRECISION`` pinned it down:
    cancellation beyond ``bits`` bits, or a function mpmath cannot evaluate), or ``stopped``
    (``on_link`` gave ``detail`` as the reason). A pole met exactly raises ``Undefined``.
    ``value`` is an mpmath number (the real part for ``settled``), ``bound`` an upper bound of |value|.
    """

    status: str
    value: Any = None
    bound: Any = None
    bits: int = 0
    detail: str = ""


def settle(expr: sp.Basic, env: Mapping[sp.Symbol, Any] | None = None,
           links: tuple[tuple[sp.Symbol, sp.Basic], ...] = (),
           max_precision: int = MAX_PRECISION,
           on_link: Callable[[sp.Symbol, Ball], str | None] | None = None) -> Settled:
    """``expr`` (a number, or an expression in the symbols of ``env`` and of ``links``) to
    ``TARGET_BITS`` of relative accuracy, confirmed at two precisions.

    ``env`` maps symbols to exact SymPy numbers (the point); ``links`` are ``(name, definition)``
    pairs, outermost first (``Derivation.links``), evaluated innermost first at each precision.
    ``on_link(name, ball)`` may return a reason to stop (a link too large, or not real), which
    becomes ``Settled("stopped", detail=reason)``.

    >>> x = sp.Symbol("x")
    >>> float(settle(sp.exp(x) - 1, {x: sp.Rational(1, 10**200)}).value)
    1e-200
    >>> settle(sp.sqrt(x), {x: -1}).status
    'not real'
    """
    env = dict(env or {})
    precision = START_PRECISION
    confirmed: Ball | None = None
    last: Ball = (mpmath.mpf(0), mpmath.inf)
    while precision <= max_precision:
        try:
            ball = evaluate_ball(expr, env, precision, links, on_link)
        except Stopped as stop:
            return Settled("stopped", detail=str(stop))
        mid, rad = ball
        last = ball
        if isinstance(mid, mpmath.mpc) and mpmath.isfinite(rad) and abs(mid.imag) > rad:
            return Settled("not real", mid)
        real = mid.real if isinstance(mid, mpmath.mpc) else mid
        with mpmath.workprec(precision):
            if mpmath.isfinite(rad) and mpmath.isfinite(real) and abs(real) <= rad and abs(real) + rad < TINY:
                if confirmed is not None or rad == 0:
                    return Settled("tiny", real, abs(real) + rad, precision)
                confirmed = ball
                precision += max(32, precision // 2)
                continue
            if mpmath.isfinite(rad) and mpmath.isfinite(real) and rad <= abs(real) * mpmath.ldexp(1, -TARGET_BITS):
                if rad == 0 or (confirmed is not None and _agree(confirmed, (real, rad))):
                    return Settled("settled", real, abs(real) + rad, precision)
                confirmed = (real, rad)
                precision += max(32, precision // 2)
                continue
            confirmed = None
            precision = _next_precision(precision, real, rad)
    mid, rad = last
    real = mid.real if isinstance(mid, mpmath.mpc) else mid
    return Settled("unsettled", real, abs(real) + rad if mpmath.isfinite(rad) else None, max_precision)


def _agree(a: Ball, b: Ball) -> bool:
    """Two settled balls of two precisions overlap and agree to the target accuracy."""
    (ma, ra), (mb, rb) = a, b
    return abs(ma - mb) <= ra + rb and abs(ma - mb) <= abs(mb) * mpmath.ldexp(1, -TARGET_BITS + 2)


def _next_precision(precision: int, real: Any, rad: Any) -> int:
    """Double, or more when the accuracy missing is known to be more than doubling gives: a ball
    around 0 of radius r needs log₂(r/TINY) more bits to be either resolved or below TINY."""
    if not (mpmath.isfinite(rad) and rad > 0 and mpmath.isfinite(real)):
        return 2 * precision
    if abs(real) <= rad:
        return precision + max(precision, int(mpmath.log(rad / TINY, 2)) + 16)
    have = int(mpmath.log(abs(real) / rad, 2))
    return max(2 * precision, precision + TARGET_BITS - have + 32)


class Stopped(Exception):
    """``on_link`` asked to stop (its reason is the message)."""


def link_guard(largest: Any) -> Callable[[sp.Symbol, Ball], str | None]:
    """An ``on_link`` for deep chains: stop at a link that is certainly not real ("not real"), or
    certainly beyond ``largest`` in size ("too large": the next link could be exp of it)."""

    def guard(name: sp.Symbol, ball: Ball) -> str | None:
        mid, rad = ball
        if not mpmath.isfinite(rad):
            return None
        if isinstance(mid, mpmath.mpc) and abs(mid.imag) > rad:
            return "not real"
        if abs(mid) - rad > largest:
            return "too large"
        return None

    return guard


def evaluate_ball(expr: sp.Basic, env: Mapping[sp.Symbol, Any], precision: int,
                  links: tuple[tuple[sp.Symbol, sp.Basic], ...] = (),
                  on_link: Callable[[sp.Symbol, Ball], str | None] | None = None) -> Ball:
    """One pass: ``expr`` as a ball at ``precision`` bits (``links`` evaluated first, innermost
    first; ``env`` values are exact SymPy numbers or balls)."""
    with mpmath.workprec(precision):
        walker = _Walker(precision)
        for symbol, value in env.items():
            walker.values[symbol] = value if isinstance(value, tuple) else walker.ball(sp.sympify(value))
        for name, definition in reversed(links):
            ball = walker.ball(definition)
            if on_link is not None:
                reason = on_link(name, ball)
                if reason:
                    raise Stopped(reason)
            walker.values[name] = ball
        return walker.ball(expr)


_NAN_BALL: Ball = (mpmath.mpf(0), mpmath.inf)
_NOT_NUMBERS = (sp.zoo, sp.nan, sp.oo, -sp.oo)


class _Walker:
    """Evaluates SymPy nodes to balls at the current mpmath precision (one pass)."""

    def __init__(self, precision: int) -> None:
        self.precision = precision
        self.eps = mpmath.ldexp(_ROUNDING_ULPS, -precision)
        self.values: dict[sp.Basic, Ball] = {}
        self.memo: dict[sp.Basic, Ball] = {}
        self.count = 0

    def ball(self, node: sp.Basic) -> Ball:
        found = self.memo.get(node)
        if found is not None:
            return found
        self.count += 1
        if self.count % 256 == 0:
            from symgrad.budget import check

            check("evaluating at the point")
        result = self._node(node)
        self.memo[node] = result
        return result

    # -- leaves ------------------------------------------------------------------------------
    def _node(self, node: sp.Basic) -> Ball:
        if node in self.values:
            return self.values[node]
        if node.is_Integer:
            value = mpmath.mpf(int(node))
            return value, (0 if mpmath.mpf(int(node)) == int(node) else abs(value) * self.eps)
        if node.is_Rational:
            value = mpmath.mpf(int(node.p)) / int(node.q)
            return value, abs(value) * self.eps
        if node.is_Float:
            value = mpmath.mpf(node._mpf_)
            return value, (0 if node._prec <= self.precision else abs(value) * self.eps)
        if node is sp.S.ImaginaryUnit:
            return mpmath.mpc(0, 1), 0
        if node.is_NumberSymbol:
            value = mpmath.mpf(node._as_mpf_val(self.precision + 10))
            return value, abs(value) * self.eps
        if node.is_Symbol:
            raise NoValue(str(node))
        if node in _NOT_NUMBERS:
            raise Undefined(f"{node} is not a number")
        if node.is_Add:
            return self._add(node)
        if node.is_Mul:
            return self._mul(node)
        if node.is_Pow:
            return self._function(lambda b, e: _power(b, e), node.args)
        return self._apply(node)

    def _add(self, node: sp.Basic) -> Ball:
        balls = [self.ball(a) for a in node.args]
        total = mpmath.fsum(m for m, _ in balls)
        rad = mpmath.fsum(r for _, r in balls) + abs(total) * self.eps
        return total, rad

    def _mul(self, node: sp.Basic) -> Ball:
        balls = [self.ball(a) for a in node.args]
        product = mpmath.fprod(m for m, _ in balls)
        if any(not mpmath.isfinite(r) for _, r in balls):
            return product, mpmath.inf
        # |Π(mᵢ + δᵢ) − Π mᵢ| ≤ Π(|mᵢ| + rᵢ) − Π|mᵢ|
        upper = mpmath.fprod(abs(m) + r for m, r in balls)
        rad = max(upper - mpmath.fprod(abs(m) for m, _ in balls), 0) + abs(product) * self.eps
        return product, rad

    # -- functions ---------------------------------------------------------------------------
    def _apply(self, node: sp.Basic) -> Ball:
        special = _special(node)
        if special is not None:
            if special is _DELTA:
                return self._delta(node)
            return self._function(special, node.args)
        rule = _mpmath_rule(node)
        if rule is not None:
            func, args = rule
            return self._function(func, args)
        return self._fallback(node)

    def _function(self, func: Callable[..., Any], args: tuple[sp.Basic, ...]) -> Ball:
        """``func`` at the midpoints, and its radius from its values at both ends of each
        argument's ball (the argument's own error carried through, jumps included)."""
        balls = [self.ball(a) for a in args]
        mids = [m for m, _ in balls]
        exact = all(r == 0 for _, r in balls)
        try:
            value = func(*mids)
        except (ZeroDivisionError, ValueError, OverflowError) as exc:
            if exact:
                raise Undefined(str(exc) or type(exc).__name__) from None
            return _NAN_BALL
        if not _finite(value):
            if exact:
                raise Undefined("a pole")
            return _NAN_BALL
        rad = abs(value) * self.eps
        for k, (m, r) in enumerate(balls):
            if r == 0:
                continue
            if not mpmath.isfinite(r):
                return value, mpmath.inf
            steps = [r, -r] if not isinstance(m, mpmath.mpc) else [r, -r, mpmath.mpc(0, r), mpmath.mpc(0, -r)]
            spread = mpmath.mpf(0)
            for step in steps:
                moved = list(mids)
                moved[k] = m + step
                try:
                    other = func(*moved)
                except (ZeroDivisionError, ValueError, OverflowError):
                    return value, mpmath.inf
                if not _finite(other):
                    return value, mpmath.inf
                spread = max(spread, abs(other - value))
            rad += spread
        return value, rad

    def _delta(self, node: sp.Basic) -> Ball:
        """DiracDelta(u) (and its derivatives) is 0 away from u = 0, not a number at 0."""
        m, r = self.ball(node.args[0])
        if m == 0 and r == 0:
            raise Undefined("the delta function is not a number at 0")
        return mpmath.mpf(0), (0 if abs(m) > r else mpmath.inf)

    def _fallback(self, node: sp.Basic) -> Ball:
        """A function mpmath does not know by name: its own ``_eval_evalf`` with Float arguments
        at the working precision (inside the ball bookkeeping); anything else (an unevaluated
        Derivative, a Sum) through SymPy's evalf, trusted only as far as evalf says."""
        if isinstance(node, sp.Function) and not isinstance(node, sp.core.function.AppliedUndef) and node.args:
            dps = mpmath.libmp.prec_to_dps(self.precision)

            def through_sympy(*values: Any) -> Any:
                args = [a if a.is_Integer else _to_sympy(v, dps) for a, v in zip(node.args, values)]
                result = node.func(*args)
                if not result.is_Number:
                    result = result._eval_evalf(self.precision) if hasattr(result, "_eval_evalf") else None
                    if result is None:
                        raise ValueError(f"{node.func} has no numeric value")
                return _to_mp(result, self.precision)

            return self._function(through_sympy, node.args)
        dps = mpmath.libmp.prec_to_dps(self.precision)
        try:
            value = node.evalf(dps, strict=True, maxn=2 * dps)
        except Exception:
            return _NAN_BALL
        if not value.is_number or value.free_symbols:
            raise NoValue(str(node))
        mid = _to_mp(value, self.precision)
        return mid, abs(mid) * self.eps * 16


def _to_sympy(value: Any, dps: int) -> sp.Expr:
    if isinstance(value, mpmath.mpc):
        return sp.Float(value.real, dps) + sp.I * sp.Float(value.imag, dps)
    return sp.Float(value, dps)


def _finite(value: Any) -> bool:
    if isinstance(value, mpmath.mpc):
        return bool(mpmath.isfinite(value.real) and mpmath.isfinite(value.imag))
    return isinstance(value, mpmath.mpf) and bool(mpmath.isfinite(value)) or isinstance(value, int)


def _to_mp(value: sp.Basic, precision: int) -> Any:
    if value.is_Float or value.is_Rational:
        return mpmath.mpf(value._as_mpf_val(precision)) if value.is_Float else mpmath.mpf(int(value.p)) / int(value.q)
    re_part, im_part = value.as_real_imag()
    if not all(part.is_Float or part.is_Rational for part in (re_part, im_part)):
        raise ValueError(f"{value} is not a number")
    if im_part == 0:
        return _to_mp(re_part, precision)
    return mpmath.mpc(_to_mp(re_part, precision), _to_mp(im_part, precision))


def _power(base: Any, exponent: Any) -> Any:
    """SymPy's principal power: a negative base to a non-integer power is complex."""
    if base == 0 and (exponent.real if isinstance(exponent, mpmath.mpc) else exponent) < 0:
        raise ZeroDivisionError("0 to a negative power")
    if isinstance(exponent, mpmath.mpf) and exponent == int(exponent) and abs(exponent) < 2**63:
        return mpmath.power(base, int(exponent))
    return mpmath.power(base, exponent)


def _heaviside(u: Any, *h0: Any) -> Any:
    if isinstance(u, mpmath.mpc):
        raise ValueError("Heaviside of a complex number")
    if u > 0:
        return mpmath.mpf(1)
    if u < 0:
        return mpmath.mpf(0)
    if h0:
        return h0[0]
    raise ValueError("Heaviside has a jump at 0")


def _sign(u: Any) -> Any:
    if u == 0:
        return mpmath.mpf(0)
    return u / abs(u)


def _real_only(func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*values: Any) -> Any:
        if any(isinstance(v, mpmath.mpc) for v in values):
            raise ValueError("a complex argument")
        return func(*values)

    return wrapped


_DELTA = object()


def _special(node: sp.Basic) -> Any:
    """Functions SymPy evaluates its own way (not by an mpmath function of the same name)."""
    from symgrad.vocabulary.functions import relu

    if isinstance(node, sp.Abs):
        return abs
    if isinstance(node, sp.sign):
        return _sign
    if isinstance(node, sp.Heaviside):
        return _heaviside
    if isinstance(node, sp.DiracDelta):
        return _DELTA
    if isinstance(node, sp.Max):
        return _real_only(max)
    if isinstance(node, sp.Min):
        return _real_only(min)
    if isinstance(node, relu):
        return _real_only(lambda u: max(u, mpmath.mpf(0)))
    if isinstance(node, sp.floor):
        return _real_only(mpmath.floor)
    if isinstance(node, sp.ceiling):
        return _real_only(mpmath.ceil)
    if isinstance(node, sp.exp):
        return mpmath.exp
    if isinstance(node, sp.log):
        return _log
    return None


def _log(u: Any, *base: Any) -> Any:
    if u == 0:
        raise ZeroDivisionError("log of 0")
    return mpmath.log(u) if not base else mpmath.log(u) / mpmath.log(base[0])


def _mpmath_rule(node: sp.Basic) -> tuple[Callable[..., Any], tuple[sp.Basic, ...]] | None:
    """How SymPy's own ``Function._eval_evalf`` would evaluate ``node`` with mpmath, if it would."""
    if not isinstance(node, sp.Function) or isinstance(node, sp.core.function.AppliedUndef):
        return None
    custom = getattr(node, "_eval_mpmath", None)
    if custom is not None:
        return custom()
    from sympy.core.function import MPMATH_TRANSLATIONS

    name = node.func.__name__
    func = getattr(mpmath, name, None) or getattr(mpmath, MPMATH_TRANSLATIONS.get(name, "") or "_", None)
    if func is None or not callable(func):
        return None
    return func, node.args

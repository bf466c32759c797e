"""Size checks before the work: how large the numbers in an expression are, without computing them.

Stage: a guard shared by parsing (numbers the user writes) and evaluation (values at a point).
SymPy evaluates numeric subexpressions eagerly: building ``exp(e^e^e^e)`` asks mpmath for it with
millions of digits, and ``2^(10^1000)`` is one endless big-integer power in C that no timer can
interrupt. Here each numeric node gets an estimate of log10|value| from floats alone, and
``explosive`` names the first place where the work would explode:

- a function's argument (or a power's effective exponent e·ln b) beyond 10^``MAX_ARGUMENT_DIGITS``:
  evaluating it needs that many digits of precision;
- an exact power of rationals with more than ``MAX_EXACT_BITS`` bits.

To support a new function: add its growth to ``_GROWTH`` (how log10|f(a)| follows from a); an
unknown function is assumed to grow no faster than its largest argument.

Estimates cannot see what SymPy's rewriting makes of an expression while it builds or
substitutes: exp(x + 10^8 ln 3) becomes exp(x)·3^(10^8), 3^(10^9 x + 10^9)·3^(-10^9 x) becomes
3^(10^9). So the last check sits where every exact power is computed: inside ``guard()`` (the
parser and every command run in it), SymPy's ``Rational._eval_power`` refuses a result of more
than ``MAX_EXACT_BITS`` bits by raising ``TooLarge`` — before the C-level power that no timer
could interrupt.

>>> import sympy as sp
>>> explosive(sp.exp(sp.Integer(10) ** 6, evaluate=False)) is None
True
>>> explosive(sp.Pow(2, sp.Integer(10) ** 1000, evaluate=False))
'2^(a number of about 10^1000) would have about 10^999 digits'
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

MAX_ARGUMENT_DIGITS = 1000
"""Digits in a function's argument (or a power's exponent times ln of its base): sin(1e1000)
needs 3 300 bits of precision, fine; exp(e^e^e^e) needs 5.5 million, and takes minutes."""

MAX_EXACT_BITS = 100_000
"""Bits of an exact power of rationals, as in the parser: 2^1000 is fine, 2^(10^1000) is not."""

class TooLarge(BaseException):
    """SymPy was about to compute an exact number too large to work with (inside ``guard()``).

    A ``BaseException``, like the time budget's interruption, so that SymPy's ``except Exception``
    blocks cannot swallow it; the parser and ``symgrad.budget.run_guarded`` turn it into
    ``BudgetExceeded`` (exit 1).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_guarding = threading.local()
_installed = False


@contextmanager
def guard() -> Iterator[None]:
    """Inside the block, an exact power of more than ``MAX_EXACT_BITS`` bits raises ``TooLarge``.

    >>> import sympy as sp
    >>> with guard():
    ...     sp.Integer(3) ** (sp.Integer(10) ** 8)
    Traceback (most recent call last):
    ...
    symgrad.magnitude.TooLarge: 3^100000000 is too large to compute exactly (about 47,712,125 digits; the limit is
    30,102)
    >>> sp.Integer(3) ** 5  # outside the block: SymPy as it is
    243
    """
    depth = getattr(_guarding, "depth", 0)
    _guarding.depth = depth + 1
    if "sympy" in sys.modules:
        install_guard()
    try:
        yield
    finally:
        _guarding.depth = depth


def install_guard() -> None:
    """Wrap SymPy's exact powers of rationals with the size check of ``guard`` (once per process).

    Outside ``guard()`` the wrapper only reads one thread-local counter: SymPy behaves as it does
    without symgrad, in the caller's own code too.
    """
    global _installed
    if _installed:
        return
    import sympy as sp

    for cls in (sp.Rational, sp.Integer):
        original = cls.__dict__["_eval_power"]

        def guarded(self: Any, expt: Any, _original: Any = original) -> Any:
            if getattr(_guarding, "depth", 0) and isinstance(expt, sp.Rational):
                _check_exact_power(self, expt)
            return _original(self, expt)

        guarded.__doc__ = original.__doc__
        cls._eval_power = guarded
    _installed = True


def _check_exact_power(base: Any, expt: Any) -> None:
    p, q = abs(int(base.p)), int(base.q)
    if max(p, q) <= 1 or int(expt.p) == 0:
        return
    n, d = abs(int(expt.p)), int(expt.q)
    lg_bits = math.log2(_log2_int(max(p, q))) + _log2_int(n) - _log2_int(d)  # log2 of the result's bits
    if lg_bits > math.log2(MAX_EXACT_BITS):
        lg_digits = (lg_bits + math.log2(math.log10(2))) * math.log10(2)
        shown = f"{_wrap(describe(base))}^{_wrap(describe(expt))}"
        raise TooLarge(f"{shown} is too large to compute exactly (about {_count(lg_digits)} digits; "
                       f"the limit is {int(MAX_EXACT_BITS * math.log10(2)):,})")


def _log2_int(n: int) -> float:
    return math.log2(n) if n.bit_length() < 1000 else n.bit_length() - 1.0


_LN10 = math.log(10)
_BIG = 300.0  # beyond 10^300 a float overflows: work with the logarithm only

Estimate = tuple[int, float, bool]
"""(sign, log10|value|, exact): sign is -1, 0 or 1; log10 is -inf for zero and may be inf; exact
when the value is a rational number that SymPy would compute exactly."""


def log10_abs(expr: Any, point: Mapping[Any, Any] | None = None) -> float | None:
    """An estimate of log10|expr| (with ``point`` substituted), or None when it cannot be told.

    >>> import sympy as sp
    >>> round(log10_abs(sp.exp(sp.Integer(1000), evaluate=False)), 1)
    434.3
    >>> x = sp.Symbol("x")
    >>> round(log10_abs(x**3, {x: 10}), 6)
    3.0
    """
    found = _estimate(expr, dict(point or {}), {}, [])
    return None if found is None else found[1]


def explosive(expr: Any, point: Mapping[Any, Any] | None = None) -> str | None:
    """Why evaluating ``expr`` (at ``point``) would explode, or None when it is safe to try.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> explosive(sp.sin(sp.exp(x)), {x: sp.Integer(10) ** 5})
    'sin(e^x) would need 43,429 digits of precision'
    """
    problems: list[str] = []
    _estimate(expr, dict(point or {}), {}, problems)
    real = [p for p in problems if p != _DOUBT]
    return real[0] if real else None


_DOUBT = "doubt: an exact power whose cost a size check cannot bound"


def certain(expr: Any, point: Mapping[Any, Any] | None = None) -> bool:
    """Whether the size checks can vouch for evaluating ``expr`` at ``point`` in-process.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> certain(x**2, {x: sp.Rational(3, 2)}), certain(x**y, {x: sp.Rational(3, 2), y: sp.Rational(7, 5)})
    (True, False)
    """
    problems: list[str] = []
    found = _estimate(expr, dict(point or {}), {}, problems)
    return found is not None and not problems


def too_large(expr: Any, *, as_argument: bool = False) -> str | None:
    """``explosive``, and with ``as_argument`` also refuse a value too large to pass to a function.

    >>> import sympy as sp
    >>> too_large(sp.Integer(10) ** 2000, as_argument=True)
    'a number of about 10^2000 is too large to compute with (the limit is 10^1000)'
    """
    problem = explosive(expr)
    if problem or not as_argument:
        return problem
    found = log10_abs(expr)
    if found is not None and found > MAX_ARGUMENT_DIGITS:
        return f"{describe(expr)} is too large to compute with (the limit is 10^{MAX_ARGUMENT_DIGITS})"
    return None


def describe(expr: Any) -> str:
    """A short name for a number in messages: the expression if short, else its size.

    >>> import sympy as sp
    >>> describe(sp.pi / 4), describe(sp.Integer(10) ** 100)
    ('π/4', 'a number of about 10^100')
    """
    from symgrad.printing.oneline import oneline

    try:
        text = oneline(expr)
    except ValueError:  # an integer past Python's int-to-str limit (sys.get_int_max_str_digits)
        text = ""
    if text and len(text) <= 40:
        return text
    found = log10_abs(expr)
    if found is None or not math.isfinite(found):
        return "a very large number"
    return f"a number of about 10^{found:.0f}"


def _wrap(text: str) -> str:
    """Parentheses around a piece of a message unless it is one name or number."""
    return text if text.replace(".", "").replace("-", "").isalnum() else f"({text})"


def _count(lg: float) -> str:
    """10^lg in words for messages: '1,000', '10^1656520', 'astronomically many'."""
    if not math.isfinite(lg):
        return "astronomically many"
    if lg < 15:
        return f"{10**lg:,.0f}"
    if lg < 1e15:
        return f"10^{lg:.0f}"
    return f"10^(10^{math.log10(lg):.0f})"


def _value(est: Estimate) -> float:
    """The float value of an estimate (±inf when it is beyond floats)."""
    sign, lg, _ = est
    if sign == 0 or lg == -math.inf:
        return 0.0
    if lg > _BIG:
        return sign * math.inf
    return sign * 10.0**lg


def _from_float(v: float, exact: bool = False) -> Estimate:
    if v == 0 or v != v:
        return (0, -math.inf, exact)
    if math.isinf(v):
        return (1 if v > 0 else -1, math.inf, False)
    return (1 if v > 0 else -1, math.log10(abs(v)), exact)


def _estimate(node: Any, point: dict[Any, Any], memo: dict[int, Estimate | None],
              problems: list[str]) -> Estimate | None:
    """Estimate every numeric node bottom-up, without recursion (trees may be hundreds deep)."""
    import sympy as sp

    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        key = id(current)
        if key in memo:
            continue
        if not expanded and current.args and not isinstance(current, sp.Symbol):
            stack.append((current, True))
            stack.extend((arg, False) for arg in current.args if id(arg) not in memo)
            continue
        memo[key] = _node(current, point, memo, problems)
    return memo.get(id(node))


def _node(node: Any, point: dict[Any, Any], memo: dict[int, Estimate | None], problems: list[str]) -> Estimate | None:
    import sympy as sp

    if isinstance(node, sp.Symbol):
        if node not in point:
            return None
        value = point[node]
        if isinstance(value, sp.Basic):
            return _estimate(value, {}, {}, problems)
        return _from_float(float(value), isinstance(value, int))
    if node.is_Rational:
        if node.is_zero:
            return (0, -math.inf, True)
        p, q = int(node.p), int(node.q)
        return (1 if p > 0 else -1, _log10_int(abs(p)) - _log10_int(q), True)
    if node.is_Float:
        sign, man, exp, bc = node._mpf_
        if man == 0:
            return (0, -math.inf, False)
        bits = exp + bc  # may be an integer too large for a float (e^(1e1000) evaluated)
        lg = bits * math.log10(2) if abs(bits) < 2**1000 else (math.inf if bits > 0 else -math.inf)
        return (-1 if sign else 1, lg, False)
    if isinstance(node, sp.NumberSymbol):
        return _from_float(float(node))
    if node.is_Atom:  # zoo, nan, oo, I: not a real size to reason about
        return None
    args = [memo.get(id(a)) for a in node.args]
    if node.is_Add or node.is_Mul:
        if any(a is None for a in args):
            return None
        known: list[Estimate] = args  # type: ignore[assignment]
        exact = all(a[2] for a in known)
        if node.is_Add:
            if all(a[1] <= _BIG for a in known):
                return _from_float(math.fsum(_value(a) for a in known), exact)
            top = max(known, key=lambda a: a[1])
            return (top[0], top[1] + math.log10(len(known)), exact)
        sign, lg = 1, 0.0
        for a in known:
            if a[0] == 0:
                return (0, -math.inf, exact)
            sign, lg = sign * a[0], lg + a[1]
        return (sign, lg, exact)
    if node.is_Pow:
        return _pow(node, args[0], args[1], problems)
    if isinstance(node, sp.exp):
        return _exp(node, args[0], problems)
    return _function(node, args, problems)


def _log10_int(n: int) -> float:
    return math.log10(n) if n.bit_length() < 1000 else (n.bit_length() - 1) * math.log10(2)


def _exp(node: Any, arg: Estimate | None, problems: list[str]) -> Estimate | None:
    if arg is None:
        return None
    if arg[1] > MAX_ARGUMENT_DIGITS:
        digits = _count(arg[1] - math.log10(_LN10))
        problems.append(f"e^({describe(node.args[0])}) is too large to compute with (a number with {digits} digits)")
        return (1, math.inf if arg[0] > 0 else -math.inf, False)
    return (1, _value(arg) / _LN10, False)


def _pow(node: Any, base: Estimate | None, exponent: Estimate | None, problems: list[str]) -> Estimate | None:
    if base is None or exponent is None:
        return None
    b, e = node.args
    if base[0] == 0 or base[1] == -math.inf:  # 0^e: zero, or a division by zero the evaluation reports
        return (0, -math.inf, base[2]) if exponent[0] > 0 else None
    ev = _value(exponent)
    exact = base[2] and exponent[2]
    if exact and not (e.is_Integer or (e.is_Rational and abs(int(e.p)) <= 1000 and int(e.q) <= 1000)):
        # a rational to a rational power computed from a point (y^(b²θ¹⁰)): SymPy works with the
        # exponent's numerator exactly, and a float estimate cannot bound that
        problems.append(_DOUBT)
    if exact:  # SymPy computes rational^integer exactly: bound the digits of the result
        size = max(abs(base[1]), math.log10(2))
        lg_digits = exponent[1] + math.log10(size)
        if lg_digits > math.log10(MAX_EXACT_BITS * math.log10(2)):
            problems.append(f"{_wrap(describe(b))}^{_wrap(describe(e))} would have about {_count(lg_digits)} digits")
            return (1, math.inf, False)
    elif base[1] != 0 and exponent[1] + math.log10(abs(base[1]) * _LN10) > MAX_ARGUMENT_DIGITS:
        problems.append(f"{_wrap(describe(b))}^{_wrap(describe(e))} is too large to compute with")
        return (1, math.inf if (ev > 0) == (base[1] > 0) else -math.inf, False)
    sign = base[0] if base[0] > 0 or (e.is_Integer and int(e) % 2) else 1
    return (sign, base[1] * ev, exact)


_BOUNDED = frozenset(
    ["sin", "cos", "tanh", "sigmoid", "atan", "acot", "erf", "erfc", "Heaviside", "sign", "asin", "acos", "asec",
     "acsc", "sech", "csch", "coth", "sinc"]
)
_GROWTH = {"sinh": "exp", "cosh": "exp", "log": "log", "asinh": "log", "acosh": "log", "gamma": "exp",
           "factorial": "exp"}


def _function(node: Any, args: list[Estimate | None], problems: list[str]) -> Estimate | None:
    name = type(node).__name__
    for arg, expr in zip(args, node.args):
        if arg is not None and arg[1] > MAX_ARGUMENT_DIGITS:
            digits = _count(math.log10(arg[1]) if math.isfinite(arg[1]) else arg[1])
            problems.append(f"{name}({describe(expr)}) would need {digits} digits of precision")
            return (1, 0.0, False)
    if any(a is None for a in args):
        return None
    known: list[Estimate] = args  # type: ignore[assignment]
    if name in ("Abs", "relu", "Max", "Min") and all(a[0] == 0 for a in known):
        return (0, -math.inf, False)
    if name in _BOUNDED:
        return (1, 0.0, False)
    top = max(known, key=lambda a: a[1], default=(1, 0.0, False))
    growth = _GROWTH.get(name, "linear")  # an unknown function: no faster than its largest argument
    if growth == "exp":
        return (1, abs(_value(top)) / _LN10, False)
    if growth == "log":
        lg = top[1]
        return (1, math.log10(abs(lg) * _LN10) if math.isfinite(lg) and lg != 0 else 0.0, False)
    return (1, top[1], False)

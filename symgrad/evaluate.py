"""Values at a point: an expression (a derivative) at x = a as a float, right to its last digit,
or no value and a note saying why (a pole, a jump, outside the domain, too large).

Stage: calculus (values of the results; ``symgrad.precise`` computes the numbers in ball
arithmetic). ``parse_point`` reads ``--at x=0.5,y=pi/4``; ``evaluate`` and ``evaluate_all`` give
``Value``s; a derivative written in the names of a deep chain's links is evaluated link by link.

>>> x = sp.Symbol("x", real=True)
>>> evaluate(x**2, parse_point("x=1/2", x**2))
Value(value=0.25, note=None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy as sp

from symgrad.errors import InputError
from symgrad.expressions import resolve_variable
from symgrad.records import record
from symgrad.vocabulary.symbols import natural_key


@record
class Value:
    """A numeric value at a point, or ``None`` with a note saying why there is none."""

    value: float | None
    note: str | None = None


def parse_point(text: str | Mapping[str, object] | None, expr: sp.Basic) -> dict[sp.Symbol, sp.Expr]:
    """``"x=0.5, y=pi/4"`` -> {x: 1/2, y: pi/4}; names as the expression spells them (θ or theta)."""
    if text is None:
        return {}
    if isinstance(text, Mapping):
        items: list[tuple[str, object]] = [(str(k), v) for k, v in text.items()]
    else:
        items = []
        for part in _split_top(text):
            if not part.strip():
                continue
            if "=" not in part:
                raise InputError(f"'{part.strip()}' is not an assignment", suggestion="write --at x=0.5,y=1")
            written, _, number_text = part.partition("=")
            items.append((written, number_text))
    point: dict[sp.Symbol, sp.Expr] = {}
    for name, value in items:
        sym = resolve_variable(str(name), expr)
        number = _number(value)
        if sym in point:
            raise InputError(f"{sym} is given twice in the point")
        point[sym] = number
    return point


def _number(value: object) -> sp.Expr:
    from symgrad.parsing import parse

    if isinstance(value, (int, float)):
        return sp.Float(value) if isinstance(value, float) else sp.Integer(value)
    if isinstance(value, sp.Basic):
        number = value
    else:
        text = str(value).strip()
        if not text:
            raise InputError("a value is missing in the point", suggestion="write --at x=0.5")
        number = parse(text)
    if not getattr(number, "is_number", False):
        raise InputError(f"'{value}' is not a number", suggestion="values may use pi, e and arithmetic, like pi/4")
    return number


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets: "x=max(1,2), y=3" -> ["x=max(1,2)", " y=3"]."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def evaluate(
    expr: sp.Basic,
    point: Mapping[sp.Symbol, sp.Expr],
    *,
    what: str = "the result",
    domain_of: sp.Basic | None = None,
    links: Sequence[tuple[sp.Symbol, sp.Basic]] = (),
    where: Mapping[sp.Symbol, sp.Expr] | None = None,
    wrt: sp.Symbol | None = None,
) -> Value:
    """``expr`` at ``point`` as a float, or ``Value(None, note)`` where it is undefined or not real.

    Never nan, ∞ or a complex number: each becomes ``None`` with a note saying why. With
    ``domain_of`` (the function ``expr`` is a derivative of), a point where that function itself is
    undefined gives no value either: (ln x)′ = 1/x, but at x = −1 there is no ln x to differentiate.
    Numbers too large to compute with (``symgrad.magnitude``) are refused before any work.

    >>> x = sp.Symbol("x", real=True)
    >>> evaluate(1 / x, {x: sp.Integer(-1)}, domain_of=sp.log(x)).note
    'the result does not exist at x=-1, because the function is not real at x=-1 (outside its domain)'
    >>> evaluate(sp.Heaviside(x), {x: 0}).note
    'the result is undefined at x=0: heaviside has a jump at 0'
    >>> evaluate(x**2, {x: sp.Rational(1, 2)})
    Value(value=0.25, note=None)

    ``links``: the names ``expr`` is written in (``Derivation.links`` of a deep chain), each
    evaluated at the point first, innermost first. ``where``: the whole point, named in the notes,
    when ``point`` holds only the coordinates ``expr`` uses (a matrix entry). ``wrt``: ``expr`` is
    the partial derivative of ``domain_of`` along this variable (only its jumps along it matter).
    """
    named = {u for u, _ in links}
    needed = expr.free_symbols.union(*(definition.free_symbols for _, definition in links))
    missing = sorted((s for s in needed if s not in point and s not in named), key=natural_key)
    if missing:
        names = ", ".join(str(s) for s in missing)
        raise InputError(f"the point gives no value for {names}", suggestion=f"add {missing[0]}=… to --at")
    at = _PointText(where or point)  # written only if a note needs it: a matrix entry's note names all n coordinates
    if links:
        return _evaluate_linked(expr, point, what, at, links)
    if domain_of is not None:
        own, kind = _evaluate(domain_of, {k: v for k, v in point.items() if k in domain_of.free_symbols},
                              "the function", at)
        if kind == "undefined":
            return Value(None, f"{what} does not exist at {at}, because {own.note}")
        from symgrad.vocabulary.functions import no_derivative_note  # floor at a jump, sinc′ at 0

        problem = no_derivative_note(domain_of, point, wrt)
        if problem:
            return Value(None, f"{what} has no value here: {problem}")
    return _evaluate(expr, point, what, at)[0]


def _evaluate_linked(expr: sp.Basic, point: Mapping[sp.Symbol, sp.Expr], what: str, at: object,
                     links: Sequence[tuple[sp.Symbol, sp.Basic]]) -> Value:
    """``evaluate`` for an answer in the names of a deep chain's links: at each working precision
    every link first, innermost first, then the answer with those values (linear in the depth),
    until two precisions agree (``symgrad.precise``). The links are the function itself, so a
    point outside its domain shows as a link that is not real."""
    import mpmath

    from symgrad.precise import NoValue, Undefined, link_guard, settle
    from symgrad.steps.links import LARGEST_LINK

    try:
        outcome = settle(expr, point, tuple(links), on_link=link_guard(mpmath.mpf(LARGEST_LINK._mpf_)))
    except Undefined:
        return Value(None, f"{what} is undefined at {at} (division by zero or a pole)")
    except NoValue:
        return Value(None, f"{what} could not be reduced to a number at {at}")
    if outcome.status == "stopped" and outcome.detail == "too large":
        return Value(None, f"{what} cannot be computed at {at}: a link of the chain is beyond 10^300 there")
    if outcome.status == "stopped":
        return Value(None,
                     f"{what} does not exist at {at}, because the function is not real there (outside its domain)")
    return _judge(outcome, what, at)[0]


def _evaluate(expr: sp.Basic, point: Mapping[sp.Symbol, sp.Expr], what: str, at: object) -> tuple[Value, str]:
    """``evaluate`` without the domain check; also says what kind of answer it is.

    The kind is "number", "undefined" (a pole, a jump, outside the domain: no value exists) or
    "unknown" (too large, or it cannot be computed: a value may exist).
    """
    from symgrad import magnitude

    problem = magnitude.explosive(expr, point)
    if problem:
        return Value(None, f"{what} cannot be computed at {at}: {problem}"), "unknown"
    for h in expr.atoms(sp.Heaviside, sp.sign, sp.DiracDelta):
        if h.args[0].subs(point).is_zero:
            if isinstance(h, sp.DiracDelta):
                return Value(None, f"{what} is undefined at {at}: the delta function is not a number at 0"), "undefined"
            return Value(None, f"{what} is undefined at {at}: {h.func.__name__.lower()} has a jump at 0"), "undefined"
    try:
        with magnitude.guard():  # substituting may make SymPy compute a giant exact power: refused
            if not magnitude.certain(expr, point) and not expr.has(sp.zoo, sp.nan, sp.I, sp.oo):
                # the size check could not vouch for this expression: compute it where it can be killed
                from symgrad.budget import isolated

                return isolated(_evaluate_number, expr, dict(point), what, at)
            return _evaluate_number(expr, point, what, at)
    except magnitude.TooLarge as exc:
        return Value(None, f"{what} cannot be computed at {at}: {exc.message}"), "unknown"


class _PointText:
    """``x=1, y≈10^300``: the point as notes name it, formatted on first use."""

    def __init__(self, point: Mapping[sp.Symbol, sp.Expr]) -> None:
        self.point = point
        self.text: str | None = None

    def __str__(self) -> str:
        if self.text is None:
            self.text = ", ".join(f"{k}{'' if _shown(v).startswith('≈') else '='}{_shown(v)}" for k,
                                  v in self.point.items())
        return self.text

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _shown(value: object) -> str:
    """A coordinate of the point for a note: short, even for 1e1000."""
    from symgrad import magnitude

    if isinstance(value, sp.Basic):
        text = magnitude.describe(value)
        if text.startswith("a number of about "):
            return "≈" + text[len("a number of about "):]
        return text
    return str(value)


def _evaluate_number(expr: sp.Basic, point: Mapping[sp.Symbol, sp.Expr], what: str, at: object) -> tuple[Value, str]:
    """The numeric part of ``evaluate``: substitute exactly, then evaluate with ball arithmetic at
    a rising precision until the digits are certain (``symgrad.precise.settle``), and judge the number."""
    from sympy.core.function import AppliedUndef

    from symgrad.precise import NoValue, Undefined, settle

    unknown = sorted({str(f.func) for f in expr.atoms(AppliedUndef)})
    if unknown:  # SymPy may recurse without end evaluating derivatives of unknown functions
        return Value(None,
                     f"{what} at {at} depends on the unknown function {', '.join(unknown)}: it has no value"), "unknown"
    try:
        exact = expr.subs(point)
    except (ZeroDivisionError, ValueError, TypeError, ArithmeticError) as exc:
        return Value(None, f"{what} cannot be evaluated at {at}: {exc}"), "unknown"
    if exact.has(sp.zoo) or exact.has(sp.oo) or exact.has(-sp.oo):
        return Value(None, f"{what} is undefined at {at} (division by zero or a pole)"), "undefined"
    if exact.has(sp.nan):
        return Value(None, f"{what} is undefined at {at}"), "undefined"
    if not exact.is_number:
        return Value(None, f"{what} could not be reduced to a number at {at}"), "unknown"
    try:
        outcome = settle(exact)
    except Undefined:
        return Value(None, f"{what} is undefined at {at} (division by zero or a pole)"), "undefined"
    except NoValue:
        return Value(None, f"{what} could not be reduced to a number at {at}"), "unknown"
    return _judge(outcome, what, at)


def _judge(outcome: object, what: str, at: object) -> tuple[Value, str]:
    """A ``symgrad.precise.Settled`` as the value shown: a float right to its last digit, 0 with a
    note below the smallest float, or no value with a note saying why."""
    import mpmath

    status, number = outcome.status, outcome.value  # type: ignore[attr-defined]
    if status == "not real":
        return Value(None, f"{what} is not real at {at} (outside its domain)"), "undefined"
    if status == "tiny":
        bound = outcome.bound  # type: ignore[attr-defined]
        if not bound:
            return Value(0.0), "number"
        exponent = int(mpmath.floor(mpmath.log10(bound))) + 1
        return Value(0.0, f"{what} at {at} is smaller than 10^{exponent} in magnitude, below the smallest "
                          f"float"), "number"
    if status != "settled":
        digits = int(outcome.bits * 0.30103)  # type: ignore[attr-defined]
        return Value(None, f"{what} cannot be evaluated at {at} to the digits shown: its terms cancel "
                           f"beyond {digits:,} digits"), "unknown"
    value = float(number)
    if value in (float("inf"), float("-inf")):
        size = float(mpmath.log10(abs(number)))
        about = f" (about {'-' if number < 0 else ''}10^{size:.0f})" if size < 1e15 else ""
        return Value(None, f"{what} is too large for a float at {at}{about}"), "unknown"
    if value == 0.0 and number != 0:
        size = float(mpmath.log10(abs(number)))
        about = f"about 10^{size:.0f}" if size > -1e15 else "positive"
        return Value(0.0, f"{what} at {at} is {about}, below the smallest float"), "number"
    return Value(value), "number"


def evaluate_all(
    exprs: Sequence[sp.Basic],
    point: Mapping[sp.Symbol, sp.Expr],
    labels: Sequence[str],
    *,
    domain_of: sp.Basic | None = None,
    links: Sequence[tuple[sp.Symbol, sp.Basic]] = (),
    wrt: Sequence[sp.Symbol] | None = None,
) -> list[Value]:
    """``evaluate`` for each expression, with its label in any note; ``wrt``: the variable each one
    is the partial derivative along (a gradient's entries)."""
    along = list(wrt) if wrt is not None else [None] * len(exprs)
    return [evaluate(e, point, what=label, domain_of=domain_of, links=links, wrt=v)
            for e, label, v in zip(exprs, labels, along)]

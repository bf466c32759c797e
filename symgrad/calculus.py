"""Derivatives and gradients of parsed expressions: the library's core that the CLI is a layer on.

Stage: expression -> result (no steps; the step engine in ``symgrad.steps`` explains these same
results rule by rule). Every function accepts a SymPy expression or text, which goes through
``symgrad.parsing`` (never ``sympify``).

>>> gradient("y**2 - x**2")
[-2*x, 2*y]
>>> derivative("x cos(pi x)")
-pi*x*sin(pi*x) + cos(pi*x)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from symgrad.records import record
from typing import Union

import sympy as sp

from symgrad.errors import InputError, ParseError

ExprLike = Union[str, sp.Basic]
VarLike = Union[str, sp.Symbol]

MAX_ORDER = 50
"""Highest derivative order accepted: past it, expression swell makes results unreadable."""


def as_expr(expr: ExprLike) -> sp.Expr:
    """Text through the grammar, or a SymPy expression as it is."""
    if isinstance(expr, str):
        from symgrad.parsing import parse

        result = parse(expr)
    else:
        result = expr
    if isinstance(result, sp.Tuple):
        raise InputError("expected one expression, got a comma-separated list",
                         suggestion="give one expression; lists are for 'symgrad jacobian'")
    return result  # type: ignore[return-value]


def natural_key(symbol: sp.Basic) -> tuple[object, ...]:
    """Sort key putting x before y and theta2 before theta10.

    >>> sorted(["theta10", "theta2", "y", "x"], key=lambda n: natural_key(sp.Symbol(n)))
    ['theta2', 'theta10', 'x', 'y']
    """
    parts = re.split(r"(\d+)", str(symbol))
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def variables(expr: ExprLike) -> list[sp.Symbol]:
    """The free symbols of ``expr`` in natural order (x, y, z; theta1, theta2, theta10).

    >>> variables("theta10 + theta2 * x + y")
    [theta2, theta10, x, y]
    """
    e = as_expr(expr)
    free = {s for s in e.free_symbols if isinstance(s, sp.Symbol)}
    if e.has(sp.Sum, sp.Indexed):  # data (x in xᵢ) and sum limits (n) are not variables
        from symgrad.multivar.sums import data_symbols

        free -= data_symbols(e)
    return sorted(free, key=natural_key)


def resolve_variable(name: VarLike, expr: sp.Basic | None = None) -> sp.Symbol:
    """The symbol a user means by ``name``: ``θ``, ``theta`` and ``theta_1`` all work.

    If ``expr`` has a symbol of that name, that very symbol is returned (so assumptions match).
    """
    if isinstance(name, sp.Symbol):
        return name
    from symgrad.parsing import parse

    text = name.strip()
    try:
        sym = parse(text)
    except ParseError as exc:
        raise InputError(f"'{name}' is not a variable name", suggestion=exc.suggestion) from None
    if not isinstance(sym, sp.Symbol):
        raise InputError(f"'{name}' is not a variable name", suggestion="use a name such as x, theta or w1")
    if expr is not None:
        for s in expr.free_symbols:
            if isinstance(s, sp.Symbol) and s.name == sym.name:
                return s
    return sym


def resolve_variables(names: Iterable[VarLike] | VarLike | None, expr: sp.Basic) -> list[sp.Symbol]:
    """A list of variables from names (or a comma-separated string); all free symbols if None."""
    if names is None:
        return variables(expr)
    if isinstance(names, (str, sp.Symbol)):
        names = [n for n in str(names).split(",") if n.strip()] if isinstance(names, str) else [names]
    result = [resolve_variable(n, expr) for n in names]
    if not result:
        raise InputError("no variable given")
    seen: set[sp.Symbol] = set()
    for sym in result:
        if sym in seen:
            raise InputError(f"variable {sym} is given twice")
        seen.add(sym)
    return result


def default_variable(expr: sp.Basic) -> sp.Symbol:
    """The variable ``diff`` uses when none is named: x if present, else the first in natural order."""
    free = variables(expr)
    if not free:
        return sp.Symbol("x", real=True)
    for sym in free:
        if sym.name == "x":
            return sym
    return free[0]


def derivative(expr: ExprLike, wrt: VarLike | None = None, order: int = 1) -> sp.Expr:
    """The ``order``-th derivative of ``expr`` with respect to ``wrt`` (default: x, or the first variable).

    >>> derivative("sigmoid(x)")
    sigmoid(x)*(1 - sigmoid(x))
    >>> derivative("x^3 y", wrt="y")
    x**3
    """
    e = as_expr(expr)
    var = default_variable(e) if wrt is None else resolve_variable(wrt, e)
    check_order(order)
    return _tidy_sums(tidy(chain_diff(e, var, order)), e)


def gradient(expr: ExprLike, wrt: Iterable[VarLike] | str | None = None) -> list[sp.Expr]:
    """The partial derivatives of ``expr``, one per variable (default: all, in natural order).

    >>> gradient("x^2 + 3 x y", wrt="x,y")
    [2*x + 3*y, 3*x]
    """
    e = as_expr(expr)
    return [_tidy_sums(tidy(chain_diff(e, v)), e) for v in resolve_variables(wrt, e)]


def _tidy_sums(result: sp.Basic, expr: sp.Basic) -> sp.Basic:
    """Constants out of sums over data, residuals as written: −2Σ xᵢ(yᵢ − (w xᵢ + b))."""
    if not result.has(sp.Sum):
        return result
    from symgrad.multivar.sums import tidy_sums

    return tidy_sums(result, expr)


CHAIN_SHORTCUT = 20
"""Functions nested at least this deep are differentiated by ``chain_diff``'s one-product shortcut."""


def chain_diff(expr: sp.Basic, var: sp.Symbol, order: int = 1) -> sp.Basic:
    """``sympy.diff``, with a shortcut for long chains of one-argument functions (same result).

    SymPy multiplies the chain rule's factors in one at a time, re-sorting a growing product of
    ever deeper factors: its cost grows as the cube of the depth (``sin(sin(…(x)…))`` 300 deep takes
    15 s). Collecting the outer derivatives f′(u) down the chain and multiplying once is linear.

    >>> x = sp.Symbol("x")
    >>> chain_diff(sp.sin(sp.cos(x)), x) == sp.diff(sp.sin(sp.cos(x)), x)
    True
    """
    if order != 1:
        return expr if order == 0 else chain_diff(chain_diff(expr, var), var, order - 1)
    factors: list[sp.Basic] = []
    node = expr
    while True:
        if _is_chain_link(node, var):
            factors.append(node.fdiff(1))
            node = node.args[0]
        elif node.is_Pow and node.base.has(var) and not node.exp.has(var):
            factors.append(node.exp * node.base ** (node.exp - 1))
            node = node.base
        else:
            break
    if len(factors) < CHAIN_SHORTCUT:
        return sp.diff(expr, var)
    return sp.Mul(*factors, sp.diff(node, var))


def _is_chain_link(node: sp.Basic, var: sp.Symbol) -> bool:
    """A known one-argument function whose derivative is the plain chain rule f′(u)·u′."""
    from sympy.core.function import AppliedUndef

    return (
        isinstance(node, sp.Function)
        and len(node.args) == 1
        and not isinstance(node, AppliedUndef)
        and type(node)._eval_derivative is sp.Function._eval_derivative
        and node.args[0].has(var)
    )


def tidy(expr: sp.Basic) -> sp.Basic:
    """Cheap rewrites that make results read as a person writes them, keeping σ and tanh forms.

    ``sign(u)/|u|`` -> ``1/u`` and ``sign(u)·|u|`` -> ``u`` (equal wherever both sides are defined).

    >>> tidy(sp.sign(sp.Symbol("x")) / sp.Abs(sp.Symbol("x")))
    1/x
    """

    def is_target(node: sp.Basic) -> bool:
        return node.is_Mul and any(isinstance(f, sp.sign) for f in node.args)

    def rewrite(node: sp.Mul) -> sp.Basic:
        factors = list(node.args)
        for s in [f for f in factors if isinstance(f, sp.sign)]:
            u = s.args[0]
            for f in factors:
                if f in (sp.Abs(u), sp.Abs(u) ** -1):
                    factors.remove(s)
                    factors[factors.index(f)] = u if f == sp.Abs(u) else u**-1
                    break
        return sp.Mul(*factors)

    if not expr.has(sp.sign):
        return expr
    return expr.replace(is_target, rewrite)


def check_order(order: int) -> None:
    if not isinstance(order, int) or order < 1:
        raise InputError(f"the order must be a whole number of at least 1, not {order}")
    if order > MAX_ORDER:
        raise InputError(f"order {order} is above the limit of {MAX_ORDER}")


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
        items = [(str(k), v) for k, v in text.items()]
    else:
        items = []
        for part in _split_top(text):
            if not part.strip():
                continue
            if "=" not in part:
                raise InputError(f"'{part.strip()}' is not an assignment", suggestion="write --at x=0.5,y=1")
            name, _, value = part.partition("=")
            items.append((name, value))
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
    return number  # type: ignore[return-value]


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets: "x=max(1,2), y=3" -> ["x=max(1,2)", " y=3"]."""
    parts, depth, current = [], 0, []
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
    evaluated at the point first, innermost first.
    """
    named = {u for u, _ in links}
    needed = expr.free_symbols.union(*(definition.free_symbols for _, definition in links))
    missing = sorted((s for s in needed if s not in point and s not in named), key=natural_key)
    if missing:
        names = ", ".join(str(s) for s in missing)
        raise InputError(f"the point gives no value for {names}", suggestion=f"add {missing[0]}=… to --at")
    at = ", ".join(f"{k}{'' if _shown(v).startswith('≈') else '='}{_shown(v)}" for k, v in point.items())
    if links:
        return _evaluate_linked(expr, point, what, at, links)
    if domain_of is not None:
        own, kind = _evaluate(domain_of, {k: v for k, v in point.items() if k in domain_of.free_symbols}, "the function", at)
        if kind == "undefined":
            return Value(None, f"{what} does not exist at {at}, because {own.note}")
        from symgrad.functions import no_derivative_note  # floor at a jump, sinc′ at 0

        problem = no_derivative_note(domain_of, point)
        if problem:
            return Value(None, f"{what} has no value here: {problem}")
    return _evaluate(expr, point, what, at)[0]


def _evaluate_linked(expr: sp.Basic, point: Mapping[sp.Symbol, sp.Expr], what: str, at: str,
                     links: Sequence[tuple[sp.Symbol, sp.Basic]]) -> Value:
    """``evaluate`` for an answer in the names of a deep chain's links: each link at 30 digits,
    innermost first, then the answer with those values (linear in the depth). The links are the
    function itself, so a point outside its domain shows as a link that is not real."""
    from symgrad.steps.verify import link_values, linked_value

    linked = link_values(links, {k: sp.Float(v, 30) for k, v in point.items()}, 30)
    if linked.problem == "too large":
        return Value(None, f"{what} cannot be computed at {at}: a link of the chain is beyond 10^300 there")
    if linked.values is None:
        return Value(None, f"{what} does not exist at {at}, because the function is not real there (outside its domain)")
    number = linked_value(expr, linked.values, 30)
    if number is None:
        return Value(None, f"{what} cannot be evaluated at {at}: a factor is not a real number there, "
                           "or its terms cancel beyond 30 digits")
    return _evaluate_number(number, {}, what, at)[0]


def _evaluate(expr: sp.Basic, point: Mapping[sp.Symbol, sp.Expr], what: str, at: str) -> tuple[Value, str]:
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
    if not magnitude.certain(expr, point) and not expr.has(sp.zoo, sp.nan, sp.I, sp.oo):
        # the size check could not vouch for this expression: compute it where it can be killed
        from symgrad.budget import isolated

        return isolated(_evaluate_number, expr, dict(point), what, at)  # type: ignore[no-any-return]
    return _evaluate_number(expr, point, what, at)


def _shown(value: object) -> str:
    """A coordinate of the point for a note: short, even for 1e1000."""
    from symgrad import magnitude

    if isinstance(value, sp.Basic):
        text = magnitude.describe(value)
        if text.startswith("a number of about "):
            return "≈" + text[len("a number of about "):]
        return text
    return str(value)


def _evaluate_number(expr: sp.Basic, point: Mapping[sp.Symbol, sp.Expr], what: str, at: str) -> tuple[Value, str]:
    """The numeric part of ``evaluate``: substitute, evaluate to 30 digits, and judge the number."""
    from sympy.core.function import AppliedUndef

    from symgrad.magnitude import log10_abs

    unknown = sorted({str(f.func) for f in expr.atoms(AppliedUndef)})
    if unknown:  # SymPy may recurse without end evaluating derivatives of unknown functions
        return Value(None, f"{what} at {at} depends on the unknown function {', '.join(unknown)}: it has no value"), "unknown"
    try:
        exact = expr.subs(point)
        number = exact.evalf(30)
    except (ZeroDivisionError, ValueError, TypeError, ArithmeticError) as exc:
        return Value(None, f"{what} cannot be evaluated at {at}: {exc}"), "unknown"
    if number.has(sp.zoo) or number.has(sp.oo) or number.has(-sp.oo):
        return Value(None, f"{what} is undefined at {at} (division by zero or a pole)"), "undefined"
    if number.has(sp.nan):
        return Value(None, f"{what} is undefined at {at}"), "undefined"
    if not number.is_number:
        return Value(None, f"{what} could not be reduced to a number at {at}"), "unknown"
    re_part, im_part = (part.evalf(30) for part in number.as_real_imag())
    if not all(p.is_Float or p.is_Rational for p in (re_part, im_part)):  # re(…) left unevaluated
        return Value(None, f"{what} could not be reduced to a real number at {at}"), "unknown"
    if im_part != 0 and not (abs(im_part) <= sp.Float("1e-25") * max(sp.Integer(1), abs(re_part))):
        return Value(None, f"{what} is not real at {at} (outside its domain)"), "undefined"
    try:
        value = float(re_part)
    except (TypeError, ValueError):
        return Value(None, f"{what} could not be reduced to a number at {at}"), "unknown"
    if value != value or value in (float("inf"), float("-inf")):
        size = log10_abs(re_part)
        about = f" (about {'-' if re_part < 0 else ''}10^{size:.0f})" if size is not None and size < 1e15 else ""
        return Value(None, f"{what} is too large for a float at {at}{about}"), "unknown"
    if value == 0.0 and re_part != 0:
        size = log10_abs(re_part)
        about = f"about 10^{size:.0f}" if size is not None and size > -1e15 else "positive"
        return Value(0.0, f"{what} at {at} is {about}, below the smallest float"), "number"
    return Value(value), "number"


def evaluate_all(
    exprs: Sequence[sp.Basic],
    point: Mapping[sp.Symbol, sp.Expr],
    labels: Sequence[str],
    *,
    domain_of: sp.Basic | None = None,
    links: Sequence[tuple[sp.Symbol, sp.Basic]] = (),
) -> list[Value]:
    """``evaluate`` for each expression, with its label in any note."""
    return [evaluate(e, point, what=label, domain_of=domain_of, links=links) for e, label in zip(exprs, labels)]

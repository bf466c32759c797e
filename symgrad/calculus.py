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

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import TypeAlias

import sympy as sp

from symgrad.errors import InputError, ParseError
from symgrad.records import record
from symgrad.vocabulary.symbols import natural_key, real_variables

ExprLike: TypeAlias = str | sp.Basic
"""An expression as text (read by the grammar) or as a SymPy object."""
VarLike: TypeAlias = str | sp.Symbol
"""A variable by name (any spelling: θ or theta) or as a SymPy symbol."""

MAX_ORDER = 50
"""Highest derivative order accepted: past it, expression swell makes results unreadable."""


def as_expr(expr: ExprLike) -> sp.Expr:
    """Text through the grammar; a SymPy expression (or a Python number) in symgrad's variables.

    SymPy's plain symbols (``sympy.Symbol("x")``, ``sympy.symbols("x y")``) mean the variables of
    the same name, which symgrad takes to be real (``real_variables``). Anything that is not an
    expression is refused with an ``ExpressionTypeError`` that says what was given, and a function
    that is real on no interval with a ``ComputeError`` (``realness.refuse_unreal``).

    >>> x = sp.Symbol("x")
    >>> as_expr(x**2).free_symbols == as_expr("x^2").free_symbols
    True
    >>> as_expr(None)
    Traceback (most recent call last):
    ...
    symgrad.errors.ExpressionTypeError: expected an expression (text such as "x^2", or a SymPy expression), got None
    """
    if isinstance(expr, str):
        from symgrad.parsing import parse

        result = parse(expr)
    elif isinstance(expr, sp.Basic):
        result = expr
        if isinstance(result, sp.Expr) and not isinstance(result, sp.MatrixBase):
            result = real_variables(result)
    elif isinstance(expr, bool) or not isinstance(expr, (int, float, Fraction)):
        result = expr
    else:
        result = (sp.Integer(expr) if isinstance(expr, int)
                  else sp.Rational(expr) if isinstance(expr, Fraction) else sp.Float(expr))
    if isinstance(result, sp.Tuple):
        raise InputError("expected one expression, got a comma-separated list",
                         suggestion="give one expression; lists are for 'symgrad jacobian'")
    if not isinstance(result, sp.Expr) or isinstance(result, sp.MatrixBase):
        _refuse_expression(expr)
    from symgrad.realness import refuse_unreal

    refuse_unreal(result)  # (-1)^x, ln(-x² - 1): real on no interval, so no command works with them
    return result


def _refuse_expression(expr: object) -> None:
    from symgrad.errors import ExpressionTypeError

    shown = "None" if expr is None else f"{type(expr).__name__} {_short_repr(expr)}"
    hint = None
    if isinstance(expr, sp.Equality):
        hint = "give one side of the equation (the right-hand side of y = …), or lhs - rhs"
    elif isinstance(expr, (sp.MatrixBase, list, tuple, sp.Tuple)):
        hint = "give one expression; for a vector function use symgrad.multivar.jacobian"
    raise ExpressionTypeError(f'expected an expression (text such as "x^2", or a SymPy expression), got {shown}',
                              suggestion=hint)


def _short_repr(value: object) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:59] + "…"


def variables(expr: ExprLike) -> list[sp.Symbol]:
    """The free symbols of ``expr`` in natural order (x, y, z; theta1, theta2, theta10).

    >>> variables("theta10 + theta2 * x + y")
    [theta2, theta10, x, y]
    """
    return _variables(as_expr(expr))


def _variables(e: sp.Basic) -> list[sp.Symbol]:
    """``variables`` of a SymPy object as it is (also a list of components, for the Jacobian)."""
    free = {s for s in e.free_symbols if isinstance(s, sp.Symbol)}
    if e.has(sp.Sum, sp.Indexed):  # data (x in xᵢ) and sum limits (n) are not variables
        from symgrad.vocabulary.sums import data_symbols

        free -= data_symbols(e)
    return sorted(free, key=natural_key)


def resolve_variable(name: VarLike, expr: sp.Basic | None = None) -> sp.Symbol:
    """The symbol a user means by ``name``: ``θ``, ``theta`` and ``theta_1`` all work, and so does
    a SymPy symbol (plain or not: a variable is known by its name).

    If ``expr`` has a symbol of that name, that very symbol is returned (so assumptions match).
    """
    if isinstance(name, sp.Symbol) and not isinstance(name, sp.Dummy):
        if expr is not None:
            for s in expr.free_symbols:
                if isinstance(s, sp.Symbol) and s.name == name.name:
                    return s
        return name if name.is_real else real_variables(name)
    if isinstance(name, sp.Dummy):
        return name
    if not isinstance(name, str):
        _refuse_variable(name)
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


def _refuse_variable(name: object) -> None:
    from symgrad.errors import ExpressionTypeError

    shown = "None" if name is None else f"{type(name).__name__} {_short_repr(name)}"
    raise ExpressionTypeError(f'expected a variable (a name such as "x", or a SymPy symbol), got {shown}',
                              suggestion='several variables: "x,y" or ["x", "y"]')


def resolve_variables(names: Iterable[VarLike] | VarLike | None, expr: sp.Basic) -> list[sp.Symbol]:
    """A list of variables from names (or a comma-separated string); all free symbols if None."""
    if names is None:
        return variables(expr)
    if not isinstance(names, (str, sp.Symbol, Iterable)):
        _refuse_variable(names)
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


def stages(expr: sp.Basic, wrt: VarLike | Sequence[VarLike] | None, order: int = 1) -> list[sp.Symbol]:
    """The variables to differentiate by, one per derivative, in the order they are taken.

    ``wrt`` is one variable (default: x, else the first), taken ``order`` times, or several, as
    the notation writes them: ``"x,y"`` (or ``["x", "y"]``) is ∂²f/∂x∂y = ∂/∂x (∂f/∂y), so y is
    taken first. ``derivative``, ``steps.derive``, ``multivar.mixed`` and ``symgrad diff`` all
    take their order from here.

    >>> stages("x^2 y^3", "x,y"), stages("x^2 y^3", ["x", "x", "y"]), stages("x^2 y^3", "y", 2)
    ([y, x], [y, x, x], [y, y])
    """
    e = expr if isinstance(expr, sp.Basic) else as_expr(expr)
    check_order(order)
    if wrt is None:
        return [default_variable(e)] * order
    if isinstance(wrt, (str, sp.Symbol)) and not (isinstance(wrt, str) and "," in wrt):
        return [resolve_variable(wrt, e)] * order
    if not isinstance(wrt, (str, Sequence)):
        _refuse_variable(wrt)
    names = [n for n in wrt.split(",") if n.strip()] if isinstance(wrt, str) else list(wrt)
    found = [resolve_variable(n, e) for n in names]
    if not found:
        raise InputError("no variable given", suggestion="write wrt=\"x,y\" for ∂²f/∂x∂y")
    if len(found) > 1 and order != 1:
        raise InputError("give either several variables (a mixed partial) or --order, not both",
                         suggestion="repeat a variable instead: x,x,y is ∂³f/∂x²∂y")
    check_order(len(found) * order)
    return list(reversed(found)) * order


def derivative(expr: ExprLike, wrt: VarLike | Sequence[VarLike] | None = None, order: int = 1) -> sp.Expr:
    """The ``order``-th derivative of ``expr`` with respect to ``wrt`` (default: x, or the first
    variable); several variables give the mixed partial as written (``"x,y"``: ∂²f/∂x∂y, see ``stages``).

    >>> derivative("sigmoid(x)")
    sigmoid(x)*(1 - sigmoid(x))
    >>> derivative("x^3 y", wrt="y")
    x**3
    >>> derivative("x^3 y^2", wrt="x,y")
    6*x**2*y
    """
    e = as_expr(expr)
    taken = stages(e, wrt, order)
    e, notes = prepared(e, taken if wrt is not None else ())
    _warn(notes)
    result: sp.Basic = e
    for var in taken:
        result = diff_once(result, var)
    return result


def gradient(expr: ExprLike, wrt: Iterable[VarLike] | str | None = None) -> list[sp.Expr]:
    """The partial derivatives of ``expr``, one per variable (default: all, in natural order).

    >>> gradient("x^2 + 3 x y", wrt="x,y")
    [2*x + 3*y, 3*x]
    """
    e = as_expr(expr)
    taken = resolve_variables(wrt, e)
    e, notes = prepared(e, taken if wrt is not None else ())
    _warn(notes)
    return [diff_once(e, v) for v in taken]


def prepared(expr: sp.Expr, named: Sequence[sp.Symbol] = ()) -> tuple[sp.Expr, tuple[str, ...]]:
    """``expr`` ready to differentiate as a real function (``symgrad.realness.prepare``: refused
    where it is real on no interval, 0^u read as 0), and the notes to show with the result: how
    it was read, and each variable of ``named`` (those the user named) that does not occur in it."""
    from symgrad.realness import prepare

    ready, notes = prepare(expr)
    return ready, notes + tuple(absent_notes(expr, named))


def absent_notes(expr: sp.Basic, named: Iterable[sp.Symbol], what: str = "the derivative by {v} is 0") -> list[str]:
    """"X does not occur in the expression: the derivative by X is 0 (did you mean x?)", for each
    variable named that is not in ``expr``: a misspelled name must not pass for a true 0.

    >>> absent_notes(as_expr("x^2"), [sp.Symbol("X", real=True)])
    ['X does not occur in the expression: the derivative by X is 0 (did you mean x?)']
    >>> absent_notes(as_expr("x^2 y"), [sp.Symbol("t", real=True)])
    ['t does not occur in the expression: the derivative by t is 0 (its variables are x, y)']
    """
    present = _variables(expr)
    free = expr.free_symbols
    notes = []
    for v in dict.fromkeys(named):
        if v in free:
            continue
        notes.append(f"{v} does not occur in the expression: {what.format(v=v)} ({_did_you_mean(v.name, present)})")
    return notes


def _did_you_mean(name: str, present: Sequence[sp.Symbol]) -> str:
    """"did you mean x?" (same name but for case, or the closest), else the variables there are."""
    import difflib

    names = [s.name for s in present]
    same = [n for n in names if n.lower() == name.lower()]
    close = same or difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]}?"
    if not names:
        return "it has no variables"
    return "its variables are " + ", ".join(names) if len(names) > 1 else f"its variable is {names[0]}"


def point_notes(point: Mapping[sp.Symbol, sp.Expr], expr: sp.Basic) -> list[str]:
    """A note for each variable of ``point`` that ``expr`` does not have (its value is not used);
    an InputError when such a name is a misspelling of a variable the point leaves out.

    >>> x = sp.Symbol("x", real=True)
    >>> point_notes({x: 1, sp.Symbol("y", real=True): 2}, x**2)
    ['y does not occur in the expression: its value at the point is not used (its variable is x)']
    """
    free = expr.free_symbols
    present = _variables(expr)
    missing = [s for s in present if s not in point]
    notes = []
    for v in point:
        if v in free:
            continue
        hint = _did_you_mean(v.name, missing)
        if hint.startswith("did you mean"):
            raise InputError(f"the point gives {v}, which does not occur in the expression",
                             suggestion=f"{hint} (write --at {hint[13:-1]}=…)")
        notes.append(f"{v} does not occur in the expression: its value at the point is not used "
                     f"({_did_you_mean(v.name, present)})")
    return notes


def diff_once(expr: sp.Basic, var: sp.Symbol) -> sp.Basic:
    """d``expr``/d``var`` as a real function, in the form results are given (``tidy``, sums tidied).

    ``sympy.diff`` first (``chain_diff``, linear on deep chains). SymPy works in the complex plane:
    where it cannot tell that a part is real it writes re(…), im(…) and atan2(0, …)
    (|asin x|′), or leaves the Derivative unevaluated (sign(ln x)′); then the step engine, which
    works in real analysis and is checked against SymPy, gives the derivative instead. A result
    that is still not real is refused (``realness.check_result``).

    >>> x = sp.Symbol("x", real=True)
    >>> diff_once(sp.Abs(sp.asin(x)), x)
    asin(x)/(sqrt(1 - x**2)*Abs(asin(x)))
    """
    from symgrad.realness import check_result, complex_parts

    result = _tidy_sums(tidy(chain_diff(expr, var)), expr)
    if (complex_parts(result) and not complex_parts(expr)) or _unevaluated(result, expr):
        from symgrad.steps import derive

        result = derive(expr, var).result
    check_result(result, expr)
    return result


def _unevaluated(result: sp.Basic, expr: sp.Basic) -> bool:
    """Whether SymPy left a derivative it could not take (not f′ of an unknown function), or wrote
    an argument as atan2(0, u) (the complex argument of a real u)."""
    from symgrad.vocabulary.abstract import view

    if result.has(sp.atan2) and not expr.has(sp.atan2):
        return True
    return result.has(sp.Derivative) and any(view(d) is None for d in result.atoms(sp.Derivative))


def _warn(notes: Sequence[str]) -> None:
    """The notes of a function that returns a bare expression, as warnings (``derive`` keeps them
    in ``Derivation.notes``)."""
    if notes:
        import os
        import sys
        import warnings

        from symgrad.errors import SymgradWarning

        # point the warning at the caller's line, outside symgrad (as skip_file_prefixes would)
        package = os.path.dirname(os.path.abspath(__file__))
        frame, level = sys._getframe(0), 1
        while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
            frame, level = frame.f_back, level + 1
        for note in notes:
            warnings.warn(note, SymgradWarning, stacklevel=level)


def _tidy_sums(result: sp.Basic, expr: sp.Basic) -> sp.Basic:
    """Constants out of sums over data, residuals as written: −2Σ xᵢ(yᵢ − (w xᵢ + b))."""
    if not result.has(sp.Sum):
        return result
    from symgrad.vocabulary.sums import tidy_sums

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
    from symgrad.vocabulary.abstract import canonical

    # SymPy writes f′(g(x)) as Derivative(f(g(x)), g(x)) and f′(x²) with a Dummy: one form instead
    return canonical(_chain_diff(expr, var))


def _chain_diff(expr: sp.Basic, var: sp.Symbol) -> sp.Basic:
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
    when ``point`` holds only the coordinates ``expr`` uses (a matrix entry).
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

        problem = no_derivative_note(domain_of, point)
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
    from symgrad.steps.verify import LARGEST_LINK

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
) -> list[Value]:
    """``evaluate`` for each expression, with its label in any note."""
    return [evaluate(e, point, what=label, domain_of=domain_of, links=links) for e, label in zip(exprs, labels)]

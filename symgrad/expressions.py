"""Expressions and their variables, as every command and API function takes them.

Stage: expressions (just above parsing). ``as_expr`` makes text (through the grammar, never
``sympify``) or a SymPy object (in symgrad's real variables) one expression of a real function;
``variables``, ``resolve_variable(s)`` and ``default_variable`` find the variables by any spelling
(θ or theta); ``stages`` says which variable each derivative is taken by (∂²f/∂x∂y: y first);
``prepared`` readies an expression to differentiate and says what to note about it.

>>> variables("theta10 + theta2 * x + y"), stages("x^2 y^3", "x,y")
([theta2, theta10, x, y], [y, x])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import TypeAlias

import sympy as sp

from symgrad.errors import InputError, ParseError
from symgrad.realness import prepare, refuse_unreal
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


def prepared(expr: sp.Expr, named: Sequence[sp.Symbol] = ()) -> tuple[sp.Expr, tuple[str, ...]]:
    """``expr`` ready to differentiate as a real function (``symgrad.realness.prepare``: refused
    where it is real on no interval, 0^u read as 0), and the notes to show with the result: how
    it was read, and each variable of ``named`` (those the user named) that does not occur in it."""

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


def check_order(order: int) -> None:
    if not isinstance(order, int) or order < 1:
        raise InputError(f"the order must be a whole number of at least 1, not {order}")
    if order > MAX_ORDER:
        raise InputError(f"order {order} is above the limit of {MAX_ORDER}")

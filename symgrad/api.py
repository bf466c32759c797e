"""The public functions (``symgrad.parse``, ``derivative``, ``gradient``, ``derive``, ``variables``).

Stage: the library's boundary. Inside, symgrad's variables are ``Symbol(name, real=True)`` (its
calculus is real analysis); outside, people write ``sympy.Symbol("x")``, ``sympy.symbols("x y")``
and ``expr.subs("x", 3)``, which make and match plain symbols. So at this boundary:

- **in**: text goes through the grammar; SymPy expressions are taken in symgrad's variables,
  a plain symbol meaning the variable of its name (``as_expr``, ``vocabulary.symbols.real_variables``);
  ``wrt`` may be a name or any SymPy symbol of that name;
- **out**: every SymPy object returned is written in plain symbols and functions (``plain``), so
  ``.subs("x", 3)``, ``.subs(sympy.Symbol("x"), 3)``, ``sympy.lambdify`` and ``==`` with your own
  expressions work. Symbols you made with other assumptions (``positive=True``) come back as they
  went in. Results passed back in are read the same way, so nothing is lost going round.

Anything that is not an expression (``None``, a list, an equation) raises
``symgrad.errors.ExpressionTypeError`` (an ``InputError`` and a ``TypeError``) saying what it got.
The modules underneath (``symgrad.calculus``, ``symgrad.steps``, ``symgrad.multivar``) accept the
same inputs and answer in symgrad's real symbols. To add a public function: write it here on top
of them, convert what it returns with ``plain``, and name it in ``symgrad/__init__.py``.

>>> import sympy
>>> x, y = sympy.symbols("x y")
>>> d = derivative("x^2 y", wrt=y)
>>> d, d == x**2, d.subs("x", 3)
(x**2, True, 9)
>>> derivative(parse("x^2") + x)
2*x + 1
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sympy as sp

from symgrad import calculus, expressions
from symgrad.errors import ExpressionTypeError
from symgrad.expressions import ExprLike, VarLike


def plain(expr: sp.Basic) -> sp.Basic:
    """``expr`` with symgrad's real symbols and functions as SymPy's plain ones of the same name.

    >>> plain(sp.Symbol("x", real=True) ** 2) == sp.Symbol("x") ** 2
    True
    """
    from sympy.core.function import AppliedUndef

    mapping: dict[sp.Basic, sp.Basic] = {
        s: sp.Symbol(s.name) for s in expr.atoms(sp.Symbol)
        if not isinstance(s, (sp.Dummy, sp.Wild)) and s == sp.Symbol(s.name, real=True)
    }
    result = expr.xreplace(mapping) if mapping else expr
    for func in {type(f) for f in result.atoms(AppliedUndef)}:
        if func == sp.Function(func.__name__, real=True):
            result = result.replace(func, sp.Function(func.__name__))
    return result


def _plain_value(value: Any, seen: dict[Any, Any]) -> Any:
    """``plain`` through records (a Derivation and its step tree), tuples and lists."""
    if isinstance(value, sp.Basic):
        if value not in seen:
            seen[value] = plain(value)
        return seen[value]
    if isinstance(value, tuple):
        return tuple(_plain_value(v, seen) for v in value)
    if isinstance(value, list):
        return [_plain_value(v, seen) for v in value]
    fields = getattr(type(value), "__record_fields__", None)
    if fields is None:
        return value
    from symgrad.records import replace

    return replace(value, **{name: _plain_value(getattr(value, name), seen) for name in fields})


def parse(text: str) -> sp.Basic:
    """The expression ``text`` means, as symgrad's grammar reads it (never ``sympify``).

    >>> parse("x sin x")
    x*sin(x)
    >>> parse("x^2").subs("x", 3)
    9
    """
    if not isinstance(text, str):
        shown = "None" if text is None else type(text).__name__
        raise ExpressionTypeError(f"parse reads text, got {shown}",
                                  suggestion="pass the formula as a string, such as \"x^2\"; "
                                             "a SymPy expression needs no parsing")
    from symgrad.parsing import parse as read

    return plain(read(text))


def variables(expr: ExprLike) -> list[sp.Symbol]:
    """The variables of ``expr`` in natural order (x, y, z; theta1, theta2, theta10).

    >>> variables("theta10 + theta2 * x + y")
    [theta2, theta10, x, y]
    """
    return [plain(s) for s in expressions.variables(expr)]


def derivative(expr: ExprLike, wrt: VarLike | Sequence[VarLike] | None = None, order: int = 1) -> sp.Expr:
    """The ``order``-th derivative of ``expr`` by ``wrt`` (default: x, or the first variable);
    several variables, ``"x,y"`` or ``["x", "y"]``, give the mixed partial ∂²f/∂x∂y (∂/∂y first).

    Notes on the result (a variable named that does not occur, 0^u taken as 0) are given as
    ``symgrad.errors.SymgradWarning`` warnings; ``derive`` keeps them in ``Derivation.notes``.

    >>> derivative("x cos(pi x)")
    -pi*x*sin(pi*x) + cos(pi*x)
    >>> derivative("x^3 y^2", wrt="x,y")
    6*x**2*y
    """
    return plain(calculus.derivative(expr, wrt, order))


def gradient(expr: ExprLike, wrt: Iterable[VarLike] | str | None = None) -> list[sp.Expr]:
    """The partial derivatives of ``expr``, one per variable (default: all, in natural order).

    >>> gradient("y**2 - x**2")
    [-2*x, 2*y]
    """
    return [plain(g) for g in calculus.gradient(expr, wrt)]


def derive(expr: ExprLike, wrt: VarLike | Sequence[VarLike] | None = None, order: int = 1, **options: Any) -> Any:
    """The worked derivative (``symgrad.steps.derive``): a ``Derivation`` whose result, steps and
    variables are written in plain symbols; ``options`` are ``derive``'s (``strict``, ``steps``,
    ``name_links``).

    >>> d = derive("sigmoid(x)", order=2)
    >>> d.result
    sigmoid(x)*(1 - 2*sigmoid(x))*(1 - sigmoid(x))
    >>> [root.rule for root in d.steps], d.check
    (['sigmoid', 'simplify'], 'exact')
    """
    from symgrad.budget import deep_recursion
    from symgrad.steps import derive as worked

    derivation = worked(expr, wrt, order, **options)
    with deep_recursion():
        return _plain_value(derivation, {})

"""Derivatives of abstract functions (f, g, h): f′(u) written one way, printed as f′, read back.

Stage: shared by the step engine (the chain rule through f), the printers and the parser. SymPy
writes the derivative of an unknown function three ways: ``Derivative(f(x), x)`` at a variable,
``Subs(Derivative(f(_xi_1), _xi_1), _xi_1, x**2)`` at an expression (its bound variable a Dummy,
whose name does not read back), and ``Derivative(f(g(x)), g(x))`` at another function. symgrad
uses one **canonical form** for f⁽ⁿ⁾ at a point p:

- ``Derivative(f(x), (x, n))`` when p is a variable x,
- ``Subs(Derivative(f(u), (u, n)), u, p)`` otherwise, with a named bound variable (u, v, …).

``canonical`` rewrites SymPy's forms into it, ``at`` substitutes into F′(u) as the chain rule
needs (``xreplace`` would build ``Derivative(f(x**2), x**2)``, which SymPy refuses), ``prime`` says
it for the printers (f′(x²) in text, ``f'(x^2)`` in LaTeX), and ``build_derivative`` /
``build_subs`` are the grammar's builders for reading back the ``str()`` of the canonical form
(the JSON contract: what symgrad prints, it reads). Subs compares equal whatever its bound
variable is called, so the read-back expression equals the printed one.

To support another spelling of these derivatives: recognise it in ``view``; everything else
(printing, substitution, reading back) goes through ``view`` and ``derivative_at``.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> f = sp.Function("f", real=True)
>>> d = canonical(sp.diff(f(x**2), x))
>>> d
2*x*Subs(Derivative(f(u), u), u, x**2)
>>> from symgrad.parsing import parse
>>> parse(str(d)) == d
True
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

_BOUND_NAMES = ("u", "v", "w", "t", "s", "r")

_PRIMES = {1: "′", 2: "″", 3: "‴"}

MAX_READ_ORDER = 50
"""Highest derivative order read back (``symgrad.expressions.MAX_ORDER``)."""


def view(node: sp.Basic) -> tuple[Any, int, sp.Expr] | None:
    """(f, n, p) when ``node`` is f⁽ⁿ⁾(p), the n-th derivative of an abstract function of one
    argument at p, in any of SymPy's forms; None otherwise.

    >>> x = sp.Symbol("x")
    >>> f = sp.Function("f")
    >>> view(sp.Derivative(f(x), (x, 2)))
    (f, 2, x)
    >>> [view(d) for d in sp.diff(f(sp.sin(x)), x).atoms(sp.Subs)]
    [(f, 1, sin(x))]
    """
    if isinstance(node, sp.Derivative):
        inner = node.expr
        if isinstance(inner, AppliedUndef) and len(inner.args) == 1 and len(node.variable_count) == 1:
            (var, count), = node.variable_count
            if inner.args[0] == var and count.is_Integer:
                return inner.func, int(count), var
        return None
    if isinstance(node, sp.Subs) and len(node.variables) == 1:
        seen = view(node.expr)
        if seen is not None and seen[2] == node.variables[0]:
            return seen[0], seen[1], node.point[0]
    return None


def _bound(point: sp.Basic) -> sp.Symbol:
    """A name for Subs's bound variable: one the point does not use, so the form reads clearly."""
    taken = {s.name for s in point.free_symbols if isinstance(s, sp.Symbol)}
    name = next((n for n in _BOUND_NAMES if n not in taken), None)
    k = 0
    while name is None:
        k += 1
        name = f"u{k}" if f"u{k}" not in taken else None
    return sp.Symbol(name, real=True)


def derivative_at(func: Any, order: int, point: sp.Expr) -> sp.Expr:
    """f⁽ⁿ⁾(p) in the canonical form (see the module docstring).

    >>> x = sp.Symbol("x")
    >>> f = sp.Function("f")
    >>> derivative_at(f, 1, x), derivative_at(f, 2, x**2)
    (Derivative(f(x), x), Subs(Derivative(f(u), (u, 2)), u, x**2))
    """
    if isinstance(point, sp.Symbol):
        return sp.Derivative(func(point), (point, order))
    u = _bound(point)
    return sp.Subs(sp.Derivative(func(u), (u, order)), u, point)


def canonical(expr: sp.Basic) -> sp.Basic:
    """``expr`` with every derivative of an abstract function in the canonical form."""
    if not expr.has(sp.Derivative, sp.Subs):
        return expr
    mapping = {}
    for node in expr.atoms(sp.Derivative, sp.Subs):
        seen = view(node)
        if seen is None:
            continue
        new = derivative_at(seen[0], seen[1], canonical(seen[2]))
        if type(new) is not type(node) or str(new) != str(node):
            # by key, not by ==: Subs compares equal whatever its bound variable is called, so
            # ``replace`` would keep the Dummy
            mapping[node] = new
    return expr.xreplace(mapping) if mapping else expr


def at(expr: sp.Basic, u: sp.Symbol, inner: sp.Expr) -> sp.Basic:
    """``expr`` with ``u`` replaced by ``inner``: F′(u) at u = inner, as the chain rule takes it.

    >>> u, x = sp.symbols("u x")
    >>> f = sp.Function("f")
    >>> at(3 * sp.Derivative(f(u), u), u, x**2)
    3*Subs(Derivative(f(u), u), u, x**2)
    >>> at(sp.cos(u), u, x**2)
    cos(x**2)
    """
    if not expr.has(sp.Derivative, sp.Subs):
        return expr.xreplace({u: inner})
    found = [n for n in expr.atoms(sp.Derivative, sp.Subs) if view(n) is not None]
    holders = {n: sp.Dummy() for n in found}
    moved = expr.xreplace(holders).xreplace({u: inner})
    back = {}
    for node, holder in holders.items():
        func, order, point = view(node)  # type: ignore[misc]
        back[holder] = derivative_at(func, order, point.xreplace({u: inner}))
    return moved.xreplace(back)


def chain_factors(expr: sp.Basic) -> tuple[sp.Expr, list[sp.Expr]] | None:
    """A product with two or more factors f⁽ⁿ⁾(p), split for printing in the chain rule's order:
    (the other factors, the derivatives outermost first), so that f(g(x))′ reads f′(g(x))·g′(x)
    where SymPy's order gives g′(x)·f′(g(x)). None for any other expression, or when the other
    factors have a denominator (they print first, and x/y·f′ would read ambiguously).

    >>> x = sp.Symbol("x")
    >>> f, g = sp.Function("f"), sp.Function("g")
    >>> chain_factors(canonical(sp.diff(f(g(x)), x)))
    (1, [Subs(Derivative(f(u), u), u, g(x)), Derivative(g(x), x)])
    """
    if not expr.is_Mul:
        return None
    found = [a for a in expr.args if view(a) is not None]
    if len(found) < 2:
        return None
    rest = sp.Mul(*(a for a in expr.args if view(a) is None))
    if any(a.is_Pow and a.exp.is_negative for a in sp.Mul.make_args(rest)) or rest.is_Rational and not rest.is_Integer:
        return None
    def size_of_point(a: sp.Expr) -> int:
        seen = view(a)
        return sum(1 for _ in sp.preorder_traversal(seen[2])) if seen is not None else 0

    # the outer function's derivative is taken at the larger point: f′(g(h(x)))·g′(h(x))·h′(x)
    found.sort(key=size_of_point, reverse=True)
    return rest, found


def prime(order: int, latex: bool = False) -> str:
    """The mark of the n-th derivative after a function's name: ′ ″ ‴ ⁽⁴⁾ (LaTeX ' '' ''' ^{(4)}).

    >>> prime(1), prime(2), prime(4), prime(2, latex=True), prime(5, latex=True)
    ('′', '″', '⁽⁴⁾', "''", '^{(5)}')
    """
    if latex:
        return "'" * order if order <= 3 else "^{(%d)}" % order
    if order in _PRIMES:
        return _PRIMES[order]
    digits = str(order).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"⁽{digits}⁾"


# reading back (the grammar's builders, named in symgrad.parsing.names) ---------------------------
def _refuse(what: str) -> None:
    from symgrad.errors import InputError

    raise InputError(f"{what} is read only as symgrad writes the derivative of f, g or h",
                     suggestion="write Derivative(f(x), x), Derivative(f(x), (x, 2)) or "
                                "Subs(Derivative(f(u), u), u, x**2)")


def build_derivative(function: sp.Basic, variable: sp.Basic) -> sp.Expr:
    """``Derivative(f(x), x)`` and ``Derivative(f(x), (x, n))`` as symgrad prints them, and nothing
    else: the derivative of an abstract function at its own variable."""
    count: sp.Basic = sp.Integer(1)
    if isinstance(variable, sp.Tuple):
        if len(variable) != 2:
            _refuse("Derivative(…)")
        variable, count = variable.args
    if not (isinstance(function, AppliedUndef) and len(function.args) == 1 and isinstance(variable, sp.Symbol)
            and function.args[0] == variable and count.is_Integer and 1 <= int(count) <= MAX_READ_ORDER):
        _refuse("Derivative(…)")
    return sp.Derivative(function, (variable, int(count)))


def build_subs(derivative: sp.Basic, variable: sp.Basic, point: sp.Basic) -> sp.Expr:
    """``Subs(Derivative(f(u), u), u, p)`` as symgrad prints it: f′ at the point p."""
    seen = view(derivative) if isinstance(derivative, sp.Derivative) else None
    if seen is None or seen[2] != variable or isinstance(point, sp.Tuple):
        _refuse("Subs(…)")
    func, order, _ = seen  # type: ignore[misc]
    return derivative_at(func, order, point)

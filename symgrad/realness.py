"""Real functions only: refuse an expression that is real on no interval, and read 0^u.

Stage: between parsing and the work: ``refuse_unreal`` for every expression given
(``as_expr``), ``prepare`` before differentiating (``calculus.derivative``,
``steps.derive``, ``multivar.mixed``, the ``hessian`` and ``jacobian`` commands). symgrad's variables are real and its
calculus is real analysis, but SymPy
differentiates in the complex plane: (−1)^x has the derivative (−1)^x·iπ, 0^x has 0^x·zoo, and
ln(−x² − 1) has a real-looking derivative of a function that exists nowhere. Each would be a
confident answer about a function that is not there. ``prepare`` looks for the forms that are
real on no interval, provably (from SymPy's assumptions about the real variables, never from a
guess on sample points), and refuses them with a ComputeError that says why:

- a negative base to a power that varies, (−1)^x, (−2)^(x²), (−x² − 1)^x: real only at isolated
  points (where the power is a whole number);
- a fractional power or even root of something negative everywhere, √(−x² − 1);
- a function outside its domain everywhere: ln(−x² − 1), asin(x² + 2), acosh(−x²), asin(π);
- a constant that is not real, such as √−1 = i (when the whole expression is then real at no
  sample point).

0^u with a varying u is 0 where u > 0 and undefined where u < 0; ``prepare`` takes it as 0, with a
note, so its derivative is 0 there (and refuses it when u is never positive). ``check_result``
is the last guard: a derivative with zoo or nan, or with i, re(…) or im(…) that the function did
not have, is never given as an answer.

To add a domain: one entry in ``_OUTSIDE`` (the function, the test that its argument is outside
the domain everywhere, and what the domain is).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

import sympy as sp

from symgrad.errors import ComputeError

SMALL = 400
"""Arguments up to this many nodes are asked about their sign: larger ones cost more than they tell."""

_COMPLEX_PARTS = (sp.re, sp.im, sp.arg, sp.conjugate)


def _small(expr: sp.Basic) -> bool:
    return next(islice(sp.preorder_traversal(expr), SMALL, None), None) is None


def _outside_table() -> dict[type, tuple[Callable[[sp.Expr], bool | None], str]]:
    def below(u: sp.Expr, a: int) -> bool | None:
        return (u - a).is_extended_negative

    def above(u: sp.Expr, a: int) -> bool | None:
        return (u - a).is_extended_positive

    return {
        sp.log: (lambda u: u.is_extended_nonpositive, "the domain of ln is u > 0"),
        sp.asin: (lambda u: above(u, 1) or below(u, -1), "the domain of asin is −1 ≤ u ≤ 1"),
        sp.acos: (lambda u: above(u, 1) or below(u, -1), "the domain of acos is −1 ≤ u ≤ 1"),
        sp.acosh: (lambda u: below(u, 1), "the domain of acosh is u ≥ 1"),
        sp.atanh: (lambda u: (u - 1).is_extended_nonnegative or (u + 1).is_extended_nonpositive,
                   "the domain of atanh is −1 < u < 1"),
        sp.asech: (lambda u: u.is_extended_nonpositive or above(u, 1), "the domain of asech is 0 < u ≤ 1"),
        sp.asec: (lambda u: below(u, 1) and above(u, -1), "the domain of asec is |u| ≥ 1"),
        sp.acsc: (lambda u: below(u, 1) and above(u, -1), "the domain of acsc is |u| ≥ 1"),
        sp.acoth: (lambda u: (u - 1).is_extended_nonpositive and (u + 1).is_extended_nonnegative,
                   "the domain of acoth is |u| > 1"),
    }


_OUTSIDE: dict[type, tuple[Callable[[sp.Expr], bool | None], str]] = {}


def _shown(expr: sp.Basic) -> str:
    from symgrad.printing.oneline import oneline

    text = oneline(expr)
    return text if len(text) <= 80 else text[:79] + "…"


def _of(expr: sp.Basic) -> str:
    """"of x", "of x, y": the variables a message speaks of."""
    from symgrad.vocabulary.symbols import natural_key

    names = sorted((s for s in expr.free_symbols if isinstance(s, sp.Symbol)), key=natural_key)
    return " of " + ", ".join(str(s) for s in names) if names else ""


def _nowhere_real(expr: sp.Expr) -> str | None:
    """Why ``expr`` is real on no interval, if one of its parts provably is not; else None."""
    from symgrad.budget import check

    if not _OUTSIDE:
        _OUTSIDE.update(_outside_table())
    for node in sp.preorder_traversal(expr):
        if node.is_Pow:
            check("checking that the function is real")
            base, exp = node.args
            varying = bool(exp.free_symbols)
            if not (varying or (exp.is_Rational and not exp.is_Integer)) or exp.is_integer or not _small(base):
                continue
            if base.is_extended_negative:
                if varying:
                    return (f"{_shown(node)} is not a real function{_of(node)}: a negative base to a power "
                            "that varies is real only at isolated points (where the power is a whole "
                            "number), on no interval")
                if base.is_number:
                    return (f"{_shown(node)} is not real: a fractional power of the negative number "
                            f"{_shown(base)} is complex (SymPy takes the principal root)")
                return (f"{_shown(node)} is not real anywhere: {_shown(base)} is negative for every real value "
                        "of its variables, and a fractional power of a negative number is not real")
        elif type(node) in _OUTSIDE:
            outside, domain = _OUTSIDE[type(node)]
            u = node.args[0]
            check("checking that the function is real")
            if _small(u) and outside(u):
                if not u.free_symbols:
                    return f"{_shown(node)} is not a real number: {domain}, and u = {_shown(u)} is outside it"
                return (f"{_shown(node)} is not real anywhere: {domain}, and u = {_shown(u)} is outside it for "
                        "every real value of its variables")
    return None


_VALUES = (0.37, -0.61, 1.43, -1.87, 2.71, -2.33, 11.3, -17.9)


def _real_somewhere(expr: sp.Expr) -> bool:
    """Whether ``expr`` has a real, finite value at one of a few sample points (one is enough)."""
    symbols = sorted((s for s in expr.free_symbols if isinstance(s, sp.Symbol)), key=lambda s: s.name)
    for k in range(len(_VALUES)):
        point = {s: sp.Float(_VALUES[(k + 3 * i) % len(_VALUES)], 30) for i, s in enumerate(symbols)}
        try:
            value = expr.xreplace(point).evalf(30)
            re_part, im_part = value.as_real_imag()
            re_part, im_part = re_part.evalf(30), im_part.evalf(30)
        except (ArithmeticError, TypeError, ValueError):
            continue
        if not (re_part.is_number and im_part.is_number) or value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            continue
        if abs(im_part) <= sp.Float("1e-25") * max(sp.Integer(1), abs(re_part)):
            return True
    return False


def prepare(expr: sp.Expr) -> tuple[sp.Expr, tuple[str, ...]]:
    """``expr`` as a real function to differentiate, and the notes on how it was taken.

    >>> x = sp.Symbol("x", real=True)
    >>> prepare(sp.Integer(0) ** (x**3 + 2**x + 2) + x)
    (x, ('0^(2^x + x³ + 2) is 0 where its exponent is positive and undefined where it is negative: it is taken as 0,
    so its derivative is 0 there',))
    >>> prepare((-1) ** x)
    Traceback (most recent call last):
    ...
    symgrad.errors.ComputeError: (-1)^x is not a real function of x: a negative base to a power that varies is real
    only at isolated points (where the power is a whole number), on no interval
    """
    notes: list[str] = []
    zeros = {p for p in expr.atoms(sp.Pow) if p.base.is_zero and p.exp.free_symbols}
    if zeros:
        for p in sorted(zeros, key=sp.default_sort_key):
            if p.exp.is_extended_nonpositive:
                raise ComputeError(f"{_shown(p)} is not a real function{_of(p)}: 0 to a power is undefined where the "
                                   f"power is negative, and {_shown(p.exp)} is never positive",
                                   suggestion="check the base: 0 to a varying power is 0 or undefined")
            notes.append(f"{_shown(p)} is 0 where its exponent is positive and undefined where it is negative: "
                         "it is taken as 0, so its derivative is 0 there")
        expr = expr.xreplace({p: sp.S.Zero for p in zeros})
    refuse_unreal(expr)
    return expr, tuple(notes)


def refuse_unreal(expr: sp.Expr) -> None:
    """A ComputeError if ``expr`` is real on no interval (see the module docstring); every
    expression a command or the API is given passes here (``as_expr``).

    >>> refuse_unreal(sp.log(-sp.Symbol("x", real=True) ** 2 - 1))
    Traceback (most recent call last):
    ...
    symgrad.errors.ComputeError: ln(-x² - 1) is not real anywhere: the domain of ln is u > 0, and u = -x² - 1 is
    outside it for every real value of its variables
    """
    problem = _nowhere_real(expr)
    if problem is None and expr.has(sp.I, sp.zoo, sp.nan) and not _real_somewhere(expr):
        what = f"a real function{_of(expr)}" if expr.free_symbols else "a real number"
        problem = f"{_shown(expr)} is not {what}: it has no real value anywhere (i = √−1 is not a real number)"
    if problem is not None:
        raise ComputeError(problem, suggestion="symgrad works with real functions of real variables; "
                                               "check the signs and the domain of each function")


def complex_parts(expr: sp.Basic) -> bool:
    """Whether ``expr`` is written with the complex plane's tools (i, re, im, arg, conjugate, zoo, nan)."""
    return bool(expr.has(sp.I, sp.zoo, sp.nan, *_COMPLEX_PARTS))


def check_result(result: sp.Basic, expr: sp.Basic, what: str = "the derivative") -> None:
    """Never an answer with zoo or nan in it, or with i, re(…), im(…) the function did not have."""
    if result.has(sp.zoo, sp.nan):
        raise ComputeError(f"{what} of {_shown(expr)} is undefined: SymPy's result has a division by zero "
                           f"({_shown(result)})", suggestion="check the function's domain")
    if complex_parts(result) and not complex_parts(expr):
        raise ComputeError(f"{what} of {_shown(expr)} cannot be given as a real function: SymPy's result is "
                           f"complex ({_shown(result)})",
                           suggestion="symgrad differentiates real functions; check the domain of each function")

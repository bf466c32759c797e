"""Expression -> 2-D text: SymPy's pretty printer with symgrad's notation (the rich backend's math).

Stage: printing (expression -> text). Fractions stacked, powers raised, f′(x²) for the derivative
of an unknown function; ASCII art inside ``oneline.ascii_notation()``.

>>> import sympy as sp
>>> print(pretty(sp.Symbol("x") ** 2 / 2))
 2
x
──
2
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sympy as sp


def pretty(expr: sp.Basic, as_built: bool = False) -> str:
    """SymPy's 2-D Unicode form (fractions stacked, powers raised); ASCII art within
    ``oneline.ascii_notation()``."""
    from sympy.printing.pretty.pretty_symbology import pretty_use_unicode

    from symgrad.printing.oneline import ascii_mode

    unicode = not ascii_mode()
    settings: dict[str, Any] = {"use_unicode": unicode, "wrap_line": False}
    if as_built:
        settings["order"] = "none"
    flag = pretty_use_unicode(unicode)  # as sympy.pretty does: the symbology reads a global flag
    try:
        return _pretty_printer()(settings).doprint(expr)
    finally:
        pretty_use_unicode(flag)


@cache
def _pretty_printer() -> type:
    """SymPy's 2-D printer, writing f⁽ⁿ⁾(p) as f′(p) (``symgrad.vocabulary.abstract``); made on first use."""
    from sympy.printing.pretty.pretty import PrettyPrinter

    from symgrad.vocabulary.abstract import prime, view

    class SymgradPretty(PrettyPrinter):
        def _prime(self, expr: sp.Basic) -> Any:
            seen = view(expr)
            if seen is None:
                return None
            func, order, point = seen
            return self._helper_print_function(func, [point], func_name=func.__name__ + prime(order))

        def _print_Derivative(self, expr: sp.Basic) -> Any:
            return self._prime(expr) or super()._print_Derivative(expr)

        def _print_Subs(self, expr: sp.Basic) -> Any:
            return self._prime(expr) or super()._print_Subs(expr)

        def _print_Mul(self, expr: sp.Basic) -> Any:
            from sympy.printing.pretty.stringpict import prettyForm

            from symgrad.vocabulary.abstract import chain_factors

            split = chain_factors(expr)
            if split is None:
                return super()._print_Mul(expr)
            rest, found = split  # f′(g(x))⋅g′(x), the chain rule's order
            forms = [self._print(a) for a in found]
            return prettyForm.__mul__(*([] if rest == 1 else [self._print(rest)]), *forms)

    return SymgradPretty



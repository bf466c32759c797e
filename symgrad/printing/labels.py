"""How results are labelled for a reader: the derivative a result is (d²/dx², ∂²f/∂x∂y), a point,
and a deep chain's answer in the order of the chain.

Stage: printing. A ``Label`` is one piece of notation in plain Unicode and in LaTeX; every label of
a derivative is written by ``derivative_label``, so that none states another derivative than the
one it shows. Results (``MixedPartial``) and the narrators both use them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from symgrad.printing.oneline import oneline, symbol_text
from symgrad.records import record


@record
class Label:
    """A piece of notation given per format: plain Unicode and LaTeX (d/dx and \\frac{d}{dx})."""

    plain: str
    latex: str


def derivative_label(wrt: sp.Symbol | Sequence[sp.Symbol], order: int = 1, partial: bool = False,
                     expr: sp.Basic | None = None, function: str = "") -> Label:
    """The derivative a result is: d/dx, d²/dx², ∂²/∂x∂y, in plain Unicode and in LaTeX; with
    ``expr``, applied to it (d²/dx² [σ(x)]); with ``function``, of that name (∂²f/∂x∂y).

    Every label of a derivative is written here, so that none states another derivative than the
    one it shows. ``wrt`` is one variable, taken ``order`` times, or the variables in the order
    the derivatives are taken (``Derivation.variables``): [y, x] is ∂/∂y first, then ∂/∂x, which
    the notation writes ∂²/∂x∂y. A mixed derivative is always partial.

    >>> x, y = sp.symbols("x y")
    >>> [derivative_label(w, n).plain for w, n in ((x, 1), (x, 2), ([y, x], 1), ([y, x, x], 1))]
    ['d/dx', 'd²/dx²', '∂²/∂x∂y', '∂³/∂x²∂y']
    >>> print(derivative_label([y, x], function="f").latex)
    \\frac{\\partial^{2} f}{\\partial x \\partial y}
    >>> derivative_label(x, 2, expr=x**3).plain
    'd²/dx² [x³]'
    """
    from symgrad.printing.latex import latex_of

    taken = [wrt] * order if isinstance(wrt, sp.Symbol) else list(wrt)
    written: list[tuple[sp.Symbol, int]] = []  # as the notation writes it: the last taken first
    for v in reversed(taken):
        if written and written[-1][0] == v:
            written[-1] = (v, written[-1][1] + 1)
        else:
            written.append((v, 1))
    d, dl = ("∂", r"\partial") if partial or len(written) > 1 else ("d", "d")
    total = len(taken)
    plain = f"{d}{_sup(total)}{function}/" + "".join(f"{d}{symbol_text(v.name)}{_sup(n)}" for v, n in written)
    top = dl if total == 1 else r"%s^{%d}" % (dl, total)
    top += f" {function}" if function else ""
    bottom = " ".join(r"%s %s" % (dl, sp.latex(v)) + ("" if n == 1 else "^{%d}" % n) for v, n in written)
    latex = r"\frac{%s}{%s}" % (top, bottom)
    if expr is None:
        return Label(plain, latex)
    return Label(f"{plain} [{oneline(expr)}]", r"%s\left[%s\right]" % (latex, latex_of(expr)))


def _sup(n: int) -> str:
    """A count as a superscript, empty for 1: ², ³, ¹⁰."""
    return "" if n == 1 else str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def at_text(point: dict[sp.Symbol, sp.Expr]) -> Label:
    plain = ", ".join(f"{symbol_text(k.name)}={oneline(v)}" for k, v in point.items())
    latex = ", ".join(f"{sp.latex(k)}={sp.latex(v)}" for k, v in point.items())
    return Label(plain, latex)


def chain_ordered(result: sp.Basic, links: Sequence[tuple[sp.Symbol, sp.Basic]]) -> sp.Basic | None:
    """A deep chain's answer with its factors in the order of the chain, F′(u)·G′(v)·…, as an
    unevaluated product (SymPy would sort them by name: u, u1, u10, u100, …); None unless
    ``result`` is exactly such a product, one factor per link and one for the innermost function.

    >>> u, v, x = sp.symbols("u v x")
    >>> chain_ordered(sp.cos(u) * sp.cos(v) * sp.cos(x), [(u, sp.sin(v)), (v, sp.sin(x))]).args
    (cos(u), cos(v), cos(x))
    """
    names = {u for u, _ in links}
    by_name: dict[sp.Symbol, sp.Basic] = {}
    rest = []
    for factor in sp.Mul.make_args(result):
        mine = factor.free_symbols & names
        if len(mine) > 1 or (mine and mine.issubset(by_name)):
            return None
        if mine:
            by_name[mine.pop()] = factor
        else:
            rest.append(factor)
    if len(by_name) != len(names) or len(rest) > 1:
        return None
    return sp.Mul(*(by_name[u] for u, _ in links), *rest, evaluate=False)

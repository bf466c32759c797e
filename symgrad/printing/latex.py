r"""Expression -> LaTeX: SymPy's LaTeX printer with symgrad's notation, and prose in LaTeX text mode.

Stage: printing (expression -> text), below every stage that writes LaTeX: the JSON contract's
``latex`` keys, the LaTeX and Markdown backends, the narrator. σ for sigmoid, ln for the natural
logarithm, f'(x^2) for the derivative of an unknown function (``symgrad.vocabulary.abstract``).
To change how a function prints in LaTeX, give its class a ``_latex`` method (SymPy's own hook).

>>> import sympy as sp
>>> from symgrad.vocabulary.functions import sigmoid
>>> print(latex_of(sigmoid(sp.Symbol("x")) * sp.log(sp.Symbol("x"))))
\sigma\left(x\right) \ln{\left(x \right)}
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sympy as sp


def latex_of(expr: sp.Basic, as_built: bool = False) -> str:
    """LaTeX for an expression, σ for sigmoid, ln for the natural log and f'(x^2) for the
    derivative of an unknown function (``as_built``: in the order of its arguments, see ``oneline``)."""
    settings: dict[str, Any] = {"ln_notation": True}
    if as_built:
        settings["order"] = "none"
    return _latex_printer()(settings).doprint(expr)


@cache
def _latex_printer() -> type:
    """SymPy's LaTeX printer, writing f⁽ⁿ⁾(p) as ``f'(p)`` (``symgrad.vocabulary.abstract``); made on first use."""
    from sympy.printing.latex import LatexPrinter

    from symgrad.vocabulary.abstract import prime, view

    class SymgradLatex(LatexPrinter):
        def _prime(self, expr: sp.Basic) -> str | None:
            seen = view(expr)
            if seen is None:
                return None
            func, order, point = seen
            name = self._print(sp.Symbol(func.__name__))
            return r"%s%s\left(%s\right)" % (name, prime(order, latex=True), self._print(point))

        def _print_Derivative(self, expr: sp.Basic) -> str:
            return self._prime(expr) or super()._print_Derivative(expr)

        def _print_Subs(self, expr: sp.Basic) -> str:
            return self._prime(expr) or super()._print_Subs(expr)

        def _print_Mul(self, expr: sp.Basic) -> str:
            from symgrad.vocabulary.abstract import chain_factors

            split = chain_factors(expr)
            if split is None:
                return super()._print_Mul(expr)
            rest, found = split  # f'(g(x)) g'(x), the chain rule's order
            head = "" if rest == 1 else "-" if rest == -1 else self._print(rest) + " "
            return head + " ".join(self._print(a) for a in found)

    return SymgradLatex


def latex_text(text: str) -> str:
    """Escape prose for LaTeX text mode; Unicode math (π, ∂, θ₁, x²) becomes LaTeX, so that a
    ``--standalone`` document compiles with plain pdflatex."""
    out = text
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"),
                 ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("^", r"\^{}"), ("~", r"\~{}")):
        out = out.replace(a, b)
    if out.isascii():
        return out
    return "".join(ch if ch.isascii() else _latex_char(ch) for ch in out)


_LATEX_CHARS = {
    "′": "'", "−": "-", "–": "--", "—": "---", "…": r"\ldots{}", "·": r"$\cdot$", "×": r"$\times$",
    "→": r"$\to$", "⇒": r"$\Rightarrow$", "∂": r"$\partial$", "∇": r"$\nabla$", "√": r"$\surd$",
    "∛": r"$\sqrt[3]{}$", "±": r"$\pm$", "∞": r"$\infty$", "≤": r"$\le$", "≥": r"$\ge$", "≠": r"$\ne$",
    "Σ": r"$\Sigma$", "ℯ": "e", "“": "``", "”": "''", "‘": "`", "’": "'", "（": "(", "）": ")", "＋": "+",
}


def _latex_char(ch: str) -> str:
    """One non-ASCII character in LaTeX text mode (Greek, super/subscripts, math signs)."""
    import unicodedata

    if ch in _LATEX_CHARS:
        return _LATEX_CHARS[ch]
    name = unicodedata.name(ch, "")
    if name.startswith("GREEK SMALL LETTER ") or name.startswith("GREEK CAPITAL LETTER "):
        letter = name.split()[-1].lower()
        letter = {"lamda": "lambda"}.get(letter, letter)
        if name.startswith("GREEK CAPITAL"):
            letter = letter.capitalize()
        return r"$\%s$" % letter if letter not in ("omicron", "Alpha", "Beta", "Epsilon", "Zeta", "Eta", "Iota",
                                                   "Kappa", "Mu", "Nu", "Omicron", "Rho", "Tau", "Chi") else letter[0]
    plain = unicodedata.normalize("NFKD", ch)
    if plain.isascii() and plain:
        if name.startswith("SUPERSCRIPT") or name.startswith("MODIFIER LETTER SMALL"):
            return r"\textsuperscript{%s}" % plain
        if name.startswith("SUBSCRIPT") or name.startswith("LATIN SUBSCRIPT"):
            return r"\textsubscript{%s}" % plain
        return plain
    return "?"



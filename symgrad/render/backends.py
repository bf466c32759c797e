"""Backends: a ``Document`` -> plain text, LaTeX, Markdown, or Rich output on a terminal.

Stage: rendering, second half. Each backend formats every block kind of ``document.py`` and
decides nothing about *what* is said. Block kinds a backend does not know are a programming
error, not a silent omission. Steps (``symgrad.render.steps``) register their own formatter per
backend through ``EXTRA_BLOCKS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp

from symgrad.render.document import (
    Document,
    Equation,
    Heading,
    Interpretation,
    NumberLine,
    Text,
    Vector,
    format_number,
)
from symgrad.render.oneline import oneline

EXTRA_BLOCKS: dict[tuple[str, type], Callable[..., Any]] = {}
"""(backend name, block class) -> formatter, for block kinds defined outside this module."""


def latex_of(expr: sp.Basic, as_built: bool = False) -> str:
    """LaTeX for an expression, σ for sigmoid, ln for the natural log and f'(x^2) for the
    derivative of an unknown function (``as_built``: in the order of its arguments, see ``oneline``)."""
    settings: dict[str, Any] = {"ln_notation": True}
    if as_built:
        settings["order"] = "none"
    return _latex_printer()(settings).doprint(expr)


_PRINTERS: dict[str, type] = {}


def _latex_printer() -> type:
    """SymPy's LaTeX printer, writing f⁽ⁿ⁾(p) as ``f'(p)`` (``symgrad.abstract``); made on first use."""
    if "latex" not in _PRINTERS:
        from sympy.printing.latex import LatexPrinter

        from symgrad.abstract import prime, view

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
                from symgrad.abstract import chain_factors

                split = chain_factors(expr)
                if split is None:
                    return super()._print_Mul(expr)
                rest, found = split  # f'(g(x)) g'(x), the chain rule's order
                head = "" if rest == 1 else "-" if rest == -1 else self._print(rest) + " "
                return head + " ".join(self._print(a) for a in found)

        _PRINTERS["latex"] = SymgradLatex
    return _PRINTERS["latex"]


def _pretty_printer() -> type:
    """SymPy's 2-D printer, writing f⁽ⁿ⁾(p) as f′(p) (``symgrad.abstract``); made on first use."""
    if "pretty" not in _PRINTERS:
        from sympy.printing.pretty.pretty import PrettyPrinter

        from symgrad.abstract import prime, view

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

                from symgrad.abstract import chain_factors

                split = chain_factors(expr)
                if split is None:
                    return super()._print_Mul(expr)
                rest, found = split  # f′(g(x))⋅g′(x), the chain rule's order
                forms = [self._print(a) for a in found]
                return prettyForm.__mul__(*([] if rest == 1 else [self._print(rest)]), *forms)

        _PRINTERS["pretty"] = SymgradPretty
    return _PRINTERS["pretty"]


def _value_text(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(format_number(v) for v in value) + ")"
    return format_number(value)


# plain --------------------------------------------------------------------------------------
def to_plain(doc: Document) -> str:
    lines: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Heading):
            lines.append(block.text)
        elif isinstance(block, Text):
            lines.append(("note: " if block.style == "note" else "") + block.text)
        elif isinstance(block, Interpretation):
            lines.append(f"input: {block.source.strip()}  →  {oneline(block.expr)}")
            lines.extend(f"  note: {n}" for n in block.notes)
        elif isinstance(block, Equation):
            lines.append(f"{block.lhs.plain} = {oneline(block.rhs, block.as_built)}")
        elif isinstance(block, Vector):
            lines.append(f"{block.lhs.plain} = ({', '.join(oneline(e) for e in block.entries)})")
        elif isinstance(block, NumberLine):
            line = f"{block.lhs.plain} = {_value_text(block.value)}"
            lines.append(line + (f"  ({block.note})" if block.note else ""))
        else:
            lines.extend(_extra("plain", block))
    return "\n".join(lines) + "\n"


def _extra(backend: str, block: object) -> Any:
    formatter = EXTRA_BLOCKS.get((backend, type(block)))
    if formatter is None:
        raise TypeError(f"the {backend} backend cannot format {type(block).__name__}")
    return formatter(block)


# LaTeX --------------------------------------------------------------------------------------
def _latex_text(text: str) -> str:
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


def to_latex(doc: Document, standalone: bool = False) -> str:
    lines: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Heading):
            lines.append(r"\paragraph{%s}" % _latex_text(block.text))
        elif isinstance(block, Text):
            lines.append(_latex_text(block.text) + r"\par")
        elif isinstance(block, Interpretation):
            lines.append(r"Input \texttt{%s} read as $%s$.\par" % (_latex_text(block.source.strip()),
                                                                   latex_of(block.expr)))
            lines.extend(r"\emph{Note:} %s\par" % _latex_text(n) for n in block.notes)
        elif isinstance(block, Equation):
            body = f"{block.lhs.latex} = {latex_of(block.rhs, block.as_built)}"
            lines.append(r"\[ \boxed{%s} \]" % body if block.final else r"\[ %s \]" % body)
        elif isinstance(block, Vector):
            entries = r" \\ ".join(latex_of(e) for e in block.entries)
            body = r"%s = \begin{pmatrix} %s \end{pmatrix}" % (block.lhs.latex, entries)
            lines.append(r"\[ \boxed{%s} \]" % body if block.final else r"\[ %s \]" % body)
        elif isinstance(block, NumberLine):
            line = r"\[ %s = %s \]" % (block.lhs.latex, _latex_text(_value_text(block.value)))
            lines.append(line + (r" \emph{%s}\par" % _latex_text(block.note) if block.note else ""))
        else:
            lines.extend(_extra("latex", block))
    body = "\n".join(lines) + "\n"
    if not standalone:
        return body
    return (
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\usepackage[utf8]{inputenc}\n"
        "\\begin{document}\n" + body + "\\end{document}\n"
    )


# Markdown -----------------------------------------------------------------------------------
def to_markdown(doc: Document) -> str:
    lines: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Heading):
            lines += [f"### {block.text}", ""]
        elif isinstance(block, Text):
            lines += [("> " if block.style == "note" else "") + block.text, ""]
        elif isinstance(block, Interpretation):
            lines += [f"Input `{block.source.strip()}` read as ${latex_of(block.expr)}$", ""]
            lines += [f"> Note: {n}" for n in block.notes]
            if block.notes:
                lines.append("")
        elif isinstance(block, Equation):
            body = f"{block.lhs.latex} = {latex_of(block.rhs, block.as_built)}"
            lines += [f"$$\\boxed{{{body}}}$$" if block.final else f"$${body}$$", ""]
        elif isinstance(block, Vector):
            entries = r" \\ ".join(latex_of(e) for e in block.entries)
            body = r"%s = \begin{pmatrix} %s \end{pmatrix}" % (block.lhs.latex, entries)
            lines += [f"$$\\boxed{{{body}}}$$" if block.final else f"$${body}$$", ""]
        elif isinstance(block, NumberLine):
            lines += [f"${block.lhs.latex} = {_value_text(block.value)}$" + (f" ({block.note})" if block.note else ""),
                      ""]
        else:
            lines.extend(_extra("markdown", block))
    return "\n".join(lines).rstrip() + "\n"


# Rich ---------------------------------------------------------------------------------------
def pretty(expr: sp.Basic, as_built: bool = False) -> str:
    """SymPy's 2-D Unicode form (fractions stacked, powers raised); ASCII art within
    ``oneline.ascii_notation()``."""
    from sympy.printing.pretty.pretty_symbology import pretty_use_unicode

    from symgrad.render.oneline import ascii_mode

    unicode = not ascii_mode()
    settings: dict[str, Any] = {"use_unicode": unicode, "wrap_line": False}
    if as_built:
        settings["order"] = "none"
    flag = pretty_use_unicode(unicode)  # as sympy.pretty does: the symbology reads a global flag
    try:
        return _pretty_printer()(settings).doprint(expr)
    finally:
        pretty_use_unicode(flag)


def to_rich(doc: Document, console: Any) -> None:
    """Print ``doc`` on a Rich console: math pretty-printed, the answer in a panel."""
    from rich.panel import Panel
    from rich.text import Text as RichText

    for block in doc.blocks:
        if isinstance(block, Heading):
            console.print(RichText(block.text, style="bold"))
        elif isinstance(block, Text):
            console.print(RichText(block.text, style="dim" if block.style in ("note", "muted") else ""))
        elif isinstance(block, Interpretation):
            line = RichText.assemble(("input ", "dim"), (block.source.strip(), "cyan"), ("  →  ", "dim"),
                                     (oneline(block.expr), "bold"))
            console.print(line)
            for note in block.notes:  # how the input was read: as visible as the reading itself
                console.print(RichText.assemble(("  note: ", "bold yellow"), (note, "")))
        elif isinstance(block, (Equation, Vector)):
            if isinstance(block, Equation):
                math = _side_by_side(block.lhs.plain + " = ", pretty(block.rhs, block.as_built))
            else:
                math = _side_by_side(block.lhs.plain + " = ", pretty(sp.Matrix(block.entries)))
            if block.final:
                console.print(Panel(RichText(math, style="bold green"), expand=False, border_style="green"))
            else:
                console.print(RichText(math))
        elif isinstance(block, NumberLine):
            line = RichText.assemble((block.lhs.plain + " = ", ""), (_value_text(block.value), "bold"))
            if block.note:
                line.append("  " + block.note, style="yellow")
            console.print(line)
        else:
            _extra("rich", block)(console)


def _side_by_side(prefix: str, art: str) -> str:
    """Put a one-line prefix before multi-line art, on the art's baseline (its middle line)."""
    rows = art.split("\n")
    mid = len(rows) // 2
    pad = " " * len(prefix)
    return "\n".join((prefix if i == mid else pad) + row for i, row in enumerate(rows))

"""Backends: a ``Document`` -> plain text, LaTeX, Markdown, or Rich output on a terminal.

Stage: rendering, second half. Each backend formats every block kind of ``document.py`` and
decides nothing about *what* is said. Block kinds a backend does not know are a programming
error, not a silent omission. Steps (``symgrad.render.narrate.steps``) register their own formatter per
backend through ``EXTRA_BLOCKS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp

from symgrad.printing.latex import latex_of, latex_text
from symgrad.printing.oneline import oneline
from symgrad.printing.pretty import pretty
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

EXTRA_BLOCKS: dict[tuple[str, type], Callable[..., Any]] = {}
"""(backend name, block class) -> formatter, for block kinds defined outside this module."""


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
def to_latex(doc: Document, standalone: bool = False) -> str:
    lines: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Heading):
            lines.append(r"\paragraph{%s}" % latex_text(block.text))
        elif isinstance(block, Text):
            lines.append(latex_text(block.text) + r"\par")
        elif isinstance(block, Interpretation):
            lines.append(r"Input \texttt{%s} read as $%s$.\par" % (latex_text(block.source.strip()),
                                                                   latex_of(block.expr)))
            lines.extend(r"\emph{Note:} %s\par" % latex_text(n) for n in block.notes)
        elif isinstance(block, Equation):
            body = f"{block.lhs.latex} = {latex_of(block.rhs, block.as_built)}"
            lines.append(r"\[ \boxed{%s} \]" % body if block.final else r"\[ %s \]" % body)
        elif isinstance(block, Vector):
            entries = r" \\ ".join(latex_of(e) for e in block.entries)
            body = r"%s = \begin{pmatrix} %s \end{pmatrix}" % (block.lhs.latex, entries)
            lines.append(r"\[ \boxed{%s} \]" % body if block.final else r"\[ %s \]" % body)
        elif isinstance(block, NumberLine):
            line = r"\[ %s = %s \]" % (block.lhs.latex, latex_text(_value_text(block.value)))
            lines.append(line + (r" \emph{%s}\par" % latex_text(block.note) if block.note else ""))
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

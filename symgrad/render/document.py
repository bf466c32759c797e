"""What to say, independent of how it is formatted: a document of blocks.

Stage: rendering, first half. A narrator (``narrate.py``) turns results into a ``Document``;
each backend (``plain.py``, ``rich_backend.py``, ``latex.py``, ``markdown.py``) formats any document.
Adding a kind of block means one record here and one branch per backend; adding a format means
one backend, no narrator changes.

Blocks are immutable data and hold SymPy expressions, never pre-formatted math, so every backend
can print the math its own way (Unicode line, 2-D pretty, LaTeX).
"""

from __future__ import annotations

from typing import TypeAlias

import sympy as sp

from symgrad.printing.labels import Label
from symgrad.records import field, record


@record
class Heading:
    text: str


@record
class Text:
    """A line of prose; ``style`` is a hint ("note", "warning", "muted") that backends may use."""

    text: str
    style: str = ""


@record
class Interpretation:
    """How the input was read: ``sin^2 x  →  sin(x)²`` and the notes about ambiguous notation."""

    source: str
    expr: sp.Basic
    notes: tuple[str, ...] = ()


@record
class Equation:
    """``lhs = rhs``; ``final`` marks the answer, which backends set apart."""

    lhs: Label
    rhs: sp.Basic
    final: bool = False
    as_built: bool = False
    """Print ``rhs`` in the order of its arguments (a deep chain's answer, factor by factor)."""


@record
class Vector:
    """``lhs = (e1, e2, …)``, a gradient."""

    lhs: Label
    entries: tuple[sp.Basic, ...]
    final: bool = False


@record
class NumberLine:
    """``lhs = value`` at a point, or the note that says why there is no value."""

    lhs: Label
    value: float | tuple[float | None, ...] | None
    note: str | None = None


Block: TypeAlias = Heading | Text | Interpretation | Equation | Vector | NumberLine


@record
class Document:
    """An ordered list of blocks, plus a title used by standalone LaTeX."""

    blocks: tuple[object, ...] = field(default=())
    title: str = "symgrad"

    def __add__(self, other: Document) -> Document:
        return Document(self.blocks + other.blocks, self.title)


def format_number(value: float | None) -> str:
    """A float as people read it: 0.5, -2.3561944901923, 1e-12."""
    if value is None:
        return "undefined"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.12g}"


def ascii_document(doc: Document) -> Document:
    """``doc`` with every piece of text in it (labels, prose, notes, the input, and the strings in
    step blocks) spelled in ASCII (``oneline.to_ascii``), before any backend lays it out, so that
    columns and 2-D art stay aligned. Expressions stay as they are: the printers write them in
    ASCII themselves within ``oneline.ascii_notation()``.

    >>> ascii_document(Document((Text("∂f/∂θ₁ ≈ 0"),))).blocks
    (Text(text='df/dtheta1 ~ 0', style=''),)
    """
    from symgrad.printing.oneline import to_ascii

    seen: dict[int, object] = {}

    def convert(value: object) -> object:
        if isinstance(value, str):
            return to_ascii(value)
        if isinstance(value, (sp.Basic, int, float, bool)) or value is None:
            return value
        key = id(value)
        if key in seen:
            return seen[key]
        if isinstance(value, tuple):
            result: object = tuple(convert(v) for v in value)
        elif isinstance(value, list):
            result = [convert(v) for v in value]
        elif isinstance(value, dict):
            result = {k: convert(v) for k, v in value.items()}
        elif hasattr(type(value), "__record_fields__") and hasattr(value, "__dict__"):
            import copy

            # the stored fields only: a lazy field (a step label's LaTeX) is not computed for this
            result = copy.copy(value)
            for name, field_value in vars(value).items():
                object.__setattr__(result, name, convert(field_value))
        else:
            result = value
        seen[key] = result
        return result

    return convert(doc)  # type: ignore[return-value]

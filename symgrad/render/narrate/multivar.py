"""The multivariable narrator: Hessians, Jacobians, critical points and the softmax derivation -> documents.

Stage: rendering, first half (what to say). Results come from the other modules of this package
as frozen records; this module says them as ``symgrad.render.document`` blocks and adds two
block kinds, ``MatrixBlock`` and ``ChainBlock``, with their formatters registered per backend in
``symgrad.render.backends.EXTRA_BLOCKS`` (bottom of this file). Steps of single entries come from
the step engine's narrator (``symgrad.render.narrate.steps``) when a derivation is attached.
To add a command's document: one function here that returns a ``Document``.

>>> from symgrad.multivar.hessian import hessian
>>> from symgrad.render.backends import to_plain
>>> doc = hessian_document("x^2 y", hessian("x^2 y"), ())
>>> print(to_plain(doc).splitlines()[-2])
H(x, y) = [ 2·y  2·x ]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import sympy as sp

from symgrad.printing.labels import Label
from symgrad.printing.latex import latex_of
from symgrad.printing.oneline import oneline, symbol_text
from symgrad.records import record
from symgrad.render import backends
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

MAX_SHOWN = 10
"""Matrices with more rows or columns than this are summarised (JSON has every entry)."""

MAX_ENTRIES_SHOWN = 60
"""Entries listed one by one before the rest are left to the matrix and the JSON output."""

Cell: TypeAlias = sp.Basic | float | None


@record
class MatrixBlock:
    """``lhs = [rows]``: symbolic entries or numbers (None: undefined); ``final`` marks the answer."""

    lhs: Label
    rows: tuple[tuple[Cell, ...], ...]
    final: bool = False


@record
class ChainBlock:
    """``lhs = e₁ = e₂ = …``: one line of a worked derivation."""

    lhs: Label
    chain: tuple[sp.Basic, ...]
    final: bool = False


# labels -------------------------------------------------------------------------------------------
def _name(v: sp.Symbol) -> str:
    return symbol_text(v.name)


def second_label(vi: sp.Symbol, vj: sp.Symbol, f: str = "f") -> Label:
    """∂²f/∂x², ∂²f/∂x∂y (plain and LaTeX)."""
    if vi == vj:
        return Label(f"∂²{f}/∂{_name(vi)}²", r"\frac{\partial^{2} %s}{\partial %s^{2}}" % (f, sp.latex(vi)))
    return Label(f"∂²{f}/∂{_name(vi)}∂{_name(vj)}",
                 r"\frac{\partial^{2} %s}{\partial %s \partial %s}" % (f, sp.latex(vi), sp.latex(vj)))


def first_label(v: sp.Symbol, f: str = "f") -> Label:
    return Label(f"∂{f}/∂{_name(v)}", r"\frac{\partial %s}{\partial %s}" % (f, sp.latex(v)))


def _names(variables: Sequence[sp.Symbol]) -> tuple[str, str]:
    return ", ".join(_name(v) for v in variables), ", ".join(sp.latex(v) for v in variables)


def _at(point: Sequence[tuple[sp.Symbol, sp.Expr]]) -> Label:
    return Label(", ".join(f"{_name(k)}={oneline(v)}" for k, v in point),
                 ", ".join(f"{sp.latex(k)}={sp.latex(v)}" for k, v in point))


def _interpretation(source: str, expr: sp.Basic, notes: Sequence[str]) -> Interpretation:
    return Interpretation(source, expr, tuple(notes))


def _steps_blocks(derivation: object | None) -> list[object]:
    if derivation is None:
        return []
    try:
        from symgrad.render.narrate.steps import derivation_blocks
    except ImportError:
        return []
    return list(derivation_blocks(derivation, partial=True))  # type: ignore[arg-type]


# mixed partials -----------------------------------------------------------------------------------
def mixed_document(source: str, m: Any, notes: Sequence[str], point: Any = None, value: Any = None) -> Document:
    """∂²f/∂x∂y: each stage (∂/∂y first, then ∂/∂x) with its steps, then the answer [and its value]."""
    from symgrad.multivar.mixed import MixedPartial

    assert isinstance(m, MixedPartial)
    blocks: list[object] = [_interpretation(source, m.expr, notes)]
    for number, stage in enumerate(m.stages, 1):
        blocks.append(Heading(f"Stage {number} of {len(m.stages)}: ∂/∂{_name(stage.wrt)} of {oneline(stage.expr)}"))
        blocks.extend(_steps_blocks(stage.derivation))
        stage_lhs = Label(f"∂/∂{_name(stage.wrt)} [{oneline(stage.expr)}]",
                          r"\frac{\partial}{\partial %s}\left[%s\right]" % (sp.latex(stage.wrt),
                                                                            latex_of(stage.expr)))
        if stage.derivation is None:
            blocks.append(Equation(stage_lhs, stage.result))
    blocks.append(Equation(Label(m.label_plain, m.label_latex), m.result, final=True))
    if point is not None and value is not None:
        at = _at(list(point.items()))
        blocks.append(NumberLine(Label(f"{m.label_plain} at {at.plain}", r"\left.%s\right|_{%s}" % (m.label_latex,
                                                                                                    at.latex)),
                                 value.value, value.note))
    return Document(tuple(blocks), title=f"{m.label_plain} of {oneline(m.expr)}")


# Hessian ------------------------------------------------------------------------------------------
def hessian_document(source: str, h: Any, notes: Sequence[str], numeric: Any = None) -> Document:
    """The Hessian: gradient, each distinct second partial (mixed ones once), the matrix, [its value]."""
    blocks: list[object] = [_interpretation(source, h.expr, notes)]
    n = len(h.variables)
    if n <= MAX_ENTRIES_SHOWN:
        blocks.append(Heading("Gradient"))
        derivations = h.gradient_derivations or (None,) * n
        for v, g, d in zip(h.variables, h.gradient, derivations):
            blocks.extend(_steps_blocks(d))
            blocks.append(Equation(first_label(v), g))
    blocks.append(Heading("Second partial derivatives"))
    for count, entry in enumerate(h.entries):
        if count == MAX_ENTRIES_SHOWN:
            blocks.append(Text(f"… and {len(h.entries) - count} more distinct entries (all in --format json)", "note"))
            break
        vi, vj = h.variables[entry.row], h.variables[entry.col]
        blocks.extend(_steps_blocks(entry.derivation))
        label = second_label(vi, vj)
        if entry.mixed:
            mirror = second_label(vj, vi)
            label = Label(f"{label.plain} = {mirror.plain}", f"{label.latex} = {mirror.latex}")
        blocks.append(Equation(label, entry.expr))
    mixed = sum(1 for e in h.entries if e.mixed)
    if mixed:
        blocks.append(Text(f"{mixed} mixed partial{'s are' if mixed > 1 else ' is'} derived once: ∂²f/∂xⱼ∂xᵢ = "
                           f"∂²f/∂xᵢ∂xⱼ "
                           "by symmetry of mixed partials (Schwarz), so the matrix is symmetric", "note"))
    if h.jumps:
        blocks.append(Text(h.jump_note, "note"))
    if h.sparse_count:
        one = h.sparse_count == 1
        blocks.append(Text(f"{h.sparse_count} of the {n * n} entries {'is' if one else 'are'} zero: "
                           f"{'that second partial involves' if one else 'those second partials involve'} a variable "
                           "the gradient entry does not contain", "note"))
    names, latex_names = _names(h.variables)
    lhs = Label(f"H({names})", r"H(%s)" % latex_names)
    if n <= MAX_SHOWN:
        blocks.append(MatrixBlock(lhs, h.matrix, final=True))
    else:
        blocks.append(Text(f"H is {n}×{n}; the full matrix is in --format json", "note"))
    if numeric is not None:
        at = _at(numeric.point)
        at_lhs = Label(f"H at {at.plain}", r"H\big|_{%s}" % at.latex)
        if n <= MAX_SHOWN:
            blocks.append(MatrixBlock(at_lhs, numeric.values, final=False))
        if numeric.note:
            blocks.append(Text(numeric.note, "note"))
        if numeric.eigenvalues is not None:
            shown = numeric.eigenvalues if n <= MAX_SHOWN else numeric.eigenvalues[:3] + numeric.eigenvalues[-3:]
            title = "eigenvalues" if n <= MAX_SHOWN else f"eigenvalues (smallest 3 and largest 3 of {n})"
            blocks.append(NumberLine(Label(title, r"\text{%s}" % title), tuple(shown)))
            blocks.append(Text(f"H is {numeric.definiteness} at "
                               f"{at.plain}" + (f" ({numeric.how})" if numeric.how else "")))
    return Document(tuple(blocks), title=f"Hessian of {oneline(h.expr)}")


# Jacobian -----------------------------------------------------------------------------------------
def jacobian_document(source: str, expr: sp.Basic, j: Any, notes: Sequence[str],
                      values: Any = None, point: Sequence[tuple[sp.Symbol, sp.Expr]] | None = None,
                      note: str | None = None) -> Document:
    """The Jacobian: each nonzero entry [with steps], the matrix, [its value at a point]."""
    blocks: list[object] = [_interpretation(source, expr, notes)]
    m = len(j.components)
    f = [f"f{k + 1}" for k in range(m)] if m > 1 else ["f"]
    for count, entry in enumerate(j.entries):
        if count == MAX_ENTRIES_SHOWN:
            blocks.append(Text(f"… and {len(j.entries) - count} more entries (all in --format json)", "note"))
            break
        blocks.extend(_steps_blocks(entry.derivation))
        fi = symbol_text(f[entry.row])
        blocks.append(Equation(first_label(j.variables[entry.col], fi), entry.expr))
    if j.jump_note:
        blocks.append(Text(j.jump_note, "note"))
    names, latex_names = _names(j.variables)
    lhs = Label(f"J({names})", r"J(%s)" % latex_names)
    if m <= MAX_SHOWN and len(j.variables) <= MAX_SHOWN:
        blocks.append(MatrixBlock(lhs, j.matrix, final=True))
    else:
        blocks.append(Text(f"J is {m}×{len(j.variables)}; the full matrix is in --format json", "note"))
    if values is not None and point is not None:
        at = _at(point)
        if m <= MAX_SHOWN and len(j.variables) <= MAX_SHOWN:
            blocks.append(MatrixBlock(Label(f"J at {at.plain}", r"J\big|_{%s}" % at.latex), values))
        if note:
            blocks.append(Text(note, "note"))
    return Document(tuple(blocks), title="Jacobian")


# critical points ----------------------------------------------------------------------------------
def critical_document(source: str, result: Any, notes: Sequence[str]) -> Document:
    """Critical points: ∇f, the solutions of ∇f = 0 and each point's kind with its eigenvalues."""
    blocks: list[object] = [_interpretation(source, result.expr, notes)]
    names, latex_names = _names(result.variables)
    blocks.append(Vector(Label(f"∇f({names})", r"\nabla f(%s)" % latex_names), result.gradient))
    blocks.append(Heading("Solving ∇f = 0"))
    if not result.points:
        blocks.append(Text("no real critical points found" if not result.infinite else "no isolated critical points"))
    for p in result.points:
        coords = "(" + ", ".join(oneline(c) for c in p.coordinates) + ")"
        eig = (", ".join(format_number(v) if v is not None else "beyond a float" for v in p.eigenvalues)
               if p.eigenvalues is not None else "undefined")
        line = f"{coords}: {p.kind} (Hessian eigenvalues {eig})"
        if p.value is not None:
            line += f", f = {oneline(p.value)}"
        blocks.append(Text(line))
        if p.note:
            blocks.append(Text(p.note, "note"))
    for fam in result.families:
        if fam:
            fixed = [f"{_name(k)} = {oneline(v)}" for k, v in fam.items() if v != k]
            free = [_name(k) for k, v in fam.items() if v == k]
            blocks.append(Text("a family of critical "
                               "points: " + ", ".join(fixed) + (f" (any {', '.join(free)})" if free else "")))
    for note in result.notes:
        blocks.append(Text(note, "note"))
    if result.complete:
        blocks.append(Text("these are all the critical points (the gradient equations are polynomial and were solved "
                           "exactly)", "note"))
    return Document(tuple(blocks), title=f"Critical points of {oneline(result.expr)}")


# softmax ------------------------------------------------------------------------------------------
def softmax_document(d: Any) -> Document:
    """The worked softmax derivation, J for N classes and the cross-entropy gradient."""
    blocks: list[object] = [Heading(f"Softmax with {d.classes} classes: the Jacobian ∂pᵢ/∂aⱼ")]
    for step in d.steps:
        blocks.append(Text(step.title))
        blocks.append(ChainBlock(Label(step.lhs_plain, step.lhs_latex), step.chain))
    n = d.classes
    if n <= MAX_SHOWN:
        blocks.append(MatrixBlock(Label("J = diag(p) − p pᵀ", r"J = \operatorname{diag}(p) - p p^{T}"), d.jacobian,
                                  final=True))
    else:
        blocks.append(Text(f"J is {n}×{n}: diagonal pᵢ(1 − pᵢ), off-diagonal −pᵢpⱼ (all entries in --format json)"))
    blocks.append(Heading("Cross-entropy L = −Σ yᵢ ln pᵢ: the gradient in the logits"))
    for step in d.cross_entropy_steps:
        blocks.append(Text(step.title))
        blocks.append(ChainBlock(Label(step.lhs_plain, step.lhs_latex), step.chain))
    if n <= MAX_SHOWN:
        blocks.append(Vector(Label("∇ₐL = p − y", r"\nabla_{a} L = p - y"), d.cross_entropy_gradient, final=True))
    return Document(tuple(blocks), title="Softmax and cross-entropy")


# formatting the new blocks --------------------------------------------------------------------------
def _cell_text(cell: Cell) -> str:
    if cell is None:
        return "undefined"
    if isinstance(cell, float):
        return format_number(cell)
    return oneline(cell)


def _cell_latex(cell: Cell) -> str:
    if cell is None:
        return r"\text{undefined}"
    if isinstance(cell, float):
        return format_number(cell)
    return latex_of(cell)


def matrix_lines(block: MatrixBlock) -> list[str]:
    """Rows with aligned columns; the label on the first row."""
    cells = [[_cell_text(c) for c in row] for row in block.rows]
    if not cells:
        return [f"{block.lhs.plain} = []"]
    widths = [max(len(r[k]) for r in cells) for k in range(len(cells[0]))]
    prefix = f"{block.lhs.plain} = "
    lines = []
    for i, row in enumerate(cells):
        body = "  ".join(c.ljust(w) for c, w in zip(row, widths))
        lines.append((prefix if i == 0 else " " * len(prefix)) + f"[ {body} ]")
    return lines


def _latex_matrix(block: MatrixBlock) -> str:
    rows = r" \\ ".join(" & ".join(_cell_latex(c) for c in row) for row in block.rows)
    return r"%s = \begin{pmatrix} %s \end{pmatrix}" % (block.lhs.latex, rows)


def _latex_chain(block: ChainBlock) -> str:
    return block.lhs.latex + "".join(" = " + latex_of(c) for c in block.chain)


def _plain_chain(block: ChainBlock) -> list[str]:
    pad = " " * len(block.lhs.plain)
    return [(block.lhs.plain if k == 0 else pad) + " = " + oneline(c) for k, c in enumerate(block.chain)]


def _boxed(body: str, final: bool) -> str:
    return r"\boxed{%s}" % body if final else body


def _rich(lines_of: Any) -> Any:
    def format_block(block: Any) -> Any:
        def show(console: Any) -> None:
            from rich.panel import Panel
            from rich.text import Text as RichText

            text = "\n".join(lines_of(block))
            if getattr(block, "final", False):
                console.print(Panel(RichText(text, style="bold green"), expand=False, border_style="green"))
            else:
                console.print(RichText(text))

        return show

    return format_block


backends.EXTRA_BLOCKS.update({
    ("plain", MatrixBlock): matrix_lines,
    ("latex", MatrixBlock): lambda b: [r"\[ %s \]" % _boxed(_latex_matrix(b), b.final)],
    ("markdown", MatrixBlock): lambda b: [f"$${_boxed(_latex_matrix(b), b.final)}$$", ""],
    ("rich", MatrixBlock): _rich(matrix_lines),
    ("plain", ChainBlock): _plain_chain,
    ("latex", ChainBlock): lambda b: [r"\[ %s \]" % _boxed(_latex_chain(b), b.final)],
    ("markdown", ChainBlock): lambda b: [f"$${_boxed(_latex_chain(b), b.final)}$$", ""],
    ("rich", ChainBlock): _rich(_plain_chain),
})

"""The narrator: results of each command -> a ``Document`` that every backend can format.

Stage: rendering, first half (what to say). One function per command; the step narrator for
worked derivations lives in ``symgrad.render.narrate.steps`` and contributes its own blocks.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from symgrad.evaluate import Value
from symgrad.printing.labels import Label, at_text, chain_ordered, derivative_label
from symgrad.printing.oneline import oneline, symbol_text
from symgrad.render.document import Document, Equation, Interpretation, NumberLine, Text, Vector


def interpretation(source: str, expr: sp.Basic, notes: Sequence[str]) -> Interpretation:
    return Interpretation(source, expr, tuple(notes))


def diff_document(
    source: str,
    expr: sp.Basic,
    notes: Sequence[str],
    var: sp.Symbol,
    order: int,
    result: sp.Basic,
    point: dict[sp.Symbol, sp.Expr] | None = None,
    value: Value | None = None,
    middle: Document | None = None,
    links: Sequence[tuple[sp.Symbol, sp.Basic]] = (),
) -> Document:
    """The derivative of ``expr``: how it was read, [the steps,] the answer [in the names of a
    deep chain's links, then what each name stands for], [its value]."""
    partial = len(expr.free_symbols) > 1
    label = derivative_label(var, order, partial)
    lhs = derivative_label(var, order, partial, expr=expr)
    blocks: list[object] = [interpretation(source, expr, notes)]
    if middle is not None:
        blocks.extend(middle.blocks)
    if links:
        shown = chain_ordered(result, links)
        blocks.append(Equation(lhs, shown if shown is not None else result, final=True, as_built=shown is not None))
        blocks.append(links_text(links))
    else:
        blocks.append(Equation(lhs, result, final=True))
    if point is not None and value is not None:
        at = at_text(point)
        blocks.append(NumberLine(Label(f"{label.plain} at {at.plain}", r"\left.%s\right|_{%s}" % (label.latex,
                                                                                                  at.latex)),
                                                                                                  value.value,
                                                                                                  value.note))
    return Document(tuple(blocks), title=f"Derivative of {oneline(expr)}")


def links_text(links: Sequence[tuple[sp.Symbol, sp.Basic]]) -> Text:
    """"where u = sin(v), v = sin(w), …": what the names in a deep chain's answer stand for."""
    said = ", ".join(f"{symbol_text(u.name)} = {oneline(definition)}" for u, definition in links)
    return Text(f"where {said} (names for the links of a chain too deep to write out: the derivative of "
                f"a chain n functions deep, written out, has about n²/2 of them)")


def grad_document(
    source: str,
    expr: sp.Basic,
    notes: Sequence[str],
    variables: Sequence[sp.Symbol],
    partials: Sequence[sp.Basic],
    point: dict[sp.Symbol, sp.Expr] | None = None,
    values: Sequence[Value] | None = None,
    middle: Document | None = None,
    links: Sequence[tuple[sp.Symbol, sp.Basic]] = (),
) -> Document:
    """The gradient: how it was read, each partial [with its steps], the vector [, what the names
    of a deep chain's links stand for], [its value]."""
    blocks: list[object] = [interpretation(source, expr, notes)]
    if middle is not None:
        blocks.extend(middle.blocks)
    else:
        for var, partial in zip(variables, partials):
            label = derivative_label(var, 1, partial=True)
            blocks.append(Equation(Label(f"{label.plain} f", label.latex + " f"), partial))
    names = ", ".join(symbol_text(v.name) for v in variables)
    latex_names = ", ".join(sp.latex(v) for v in variables)
    grad_label = Label(f"∇f({names})", r"\nabla f(%s)" % latex_names)
    blocks.append(Vector(grad_label, tuple(partials), final=True))
    if links:
        blocks.append(links_text(links))
    if point is not None and values is not None:
        at = at_text(point)
        notes_text = "; ".join(v.note for v in values if v.note) or None
        blocks.append(NumberLine(Label(f"∇f at {at.plain}", r"\nabla f\big|_{%s}" % at.latex),
                                 tuple(v.value for v in values), notes_text))
    return Document(tuple(blocks), title=f"Gradient of {oneline(expr)}")

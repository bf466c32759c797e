"""Narrating backprop: a ``symgrad.backprop.Backprop`` -> a ``Document`` (the graph as a table
and as a tree, the pass line by line, the gradient), and the graph in Graphviz's DOT language.

Stage: rendering. What to say lives in ``backprop_document``; how to format it in the
formatters at the bottom, one per backend for each block kind defined here (``NodeTable``,
``PassBlock``, ``TreeBlock``), registered in ``symgrad.render.backends.EXTRA_BLOCKS``. Numbers
in the text are shown to 6 significant digits (each of them right: the values are exact until
printed); JSON carries the full floats. To show something more about a node, add a field to
``NodeRow`` and a column to each table formatter.

>>> from symgrad.backprop import backprop
>>> from symgrad.render.backends import to_plain
>>> r = backprop("(x + y) z", "x=-2, y=5, z=-4")
>>> print(to_plain(Document((PassBlock.of(r),))), end="")
∂f/∂f = 1
∂f/∂q = z = -4
∂f/∂z = q = 3
∂f/∂y = ∂f/∂q·∂q/∂y = (-4)·1 = -4
∂f/∂x = ∂f/∂q·∂q/∂x = (-4)·1 = -4
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from symgrad.backprop import Backprop, Graph
from symgrad.printing.labels import Label
from symgrad.printing.latex import latex_of
from symgrad.printing.oneline import oneline, symbol_text
from symgrad.records import record
from symgrad.render import backends
from symgrad.render.document import Document, Equation, Heading, Interpretation, NumberLine, Text, Vector


def num(value: float | None) -> str:
    """A value in the text: 6 significant digits (``no value`` where there is none: the notes say why)."""
    if value is None:
        return "no value"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _factor(value: float | None) -> str:
    text = num(value)
    return f"({text})" if text.startswith("-") else text


def _latex_name(name: str) -> str:
    return latex_of(sp.Symbol(name))


def partial(top: str, bottom: str) -> Label:
    """∂top/∂bottom in both notations."""
    return Label(f"∂{symbol_text(top)}/∂{symbol_text(bottom)}",
                 r"\frac{\partial " + _latex_name(top) + r"}{\partial " + _latex_name(bottom) + "}")


def _nabla(name: str, inputs: Sequence[Any]) -> str:
    return r"\nabla " + _latex_name(name) + "(" + ", ".join(_latex_name(n.name) for n in inputs) + ")"


def tangent(name: str) -> Label:
    """The tangent (dual part) of a node: dq."""
    return Label(f"d{symbol_text(name)}", r"\mathrm{d}" + _latex_name(name))


# blocks ---------------------------------------------------------------------------------------------
@record
class NodeRow:
    """One node in the table: name, operation (None for an input), value, local gradients
    (operand name, formula, value) and the gradient (or tangent) it ends with."""

    name: str
    expression: sp.Basic | None
    value: float | None
    locals: tuple[tuple[str, sp.Basic, float | None], ...]
    gradient: float | None
    as_built: bool = False


@record
class NodeTable:
    """The graph node by node, in forward order (``mode``: ``reverse`` or ``forward``)."""

    rows: tuple[NodeRow, ...]
    output: str
    mode: str

    @staticmethod
    def of(result: Backprop) -> NodeTable:
        g = result.graph
        rows = []
        for k, node in enumerate(g.nodes):
            operands = [g.nodes[j].name for j in node.operands]
            rows.append(NodeRow(node.name, None if node.kind == "input" else node.expression, result.values[k],
                                tuple(zip(operands, node.local, result.locals[k])), result.gradients[k],
                                node.as_built))
        return NodeTable(tuple(rows), result.output.name, result.mode)


@record
class PassTerm:
    """One product of a pass line: ``upstream``·∂``consumer``/∂``operand`` (reverse) or
    ∂``consumer``/∂``operand``·d``operand`` (forward)."""

    consumer: str
    operand: str
    formula: sp.Basic
    upstream: float | None
    local: float | None
    first: bool = False
    """Reverse mode: the consumer is the output, whose own gradient 1 is left out (∂f/∂q = z)."""
    operation: sp.Basic | None = None
    """The consumer's operation: a use by the output among others is written ∂(q + r)/∂q, since
    ∂f/∂q is the whole sum."""


@record
class PassLine:
    node: str
    terms: tuple[PassTerm, ...]
    value: float | None
    seed: bool = False


@record
class PassBlock:
    """The pass line by line, in the order it runs."""

    lines: tuple[PassLine, ...]
    output: str
    mode: str

    @staticmethod
    def of(result: Backprop) -> PassBlock:
        g = result.graph
        out = result.output.name
        lines = []
        for step in result.steps:
            node = g.nodes[step.node]
            terms = []
            for t in step.terms:
                consumer = g.nodes[t.node]
                first = result.mode == "reverse" and t.node == g.output
                operation = consumer.expression if first and len(step.terms) > 1 else None
                terms.append(PassTerm(consumer.name, g.nodes[t.operand].name, consumer.local[t.position], t.upstream,
                                      t.local, first=first, operation=operation))
            lines.append(PassLine(node.name, tuple(terms), step.value, seed=not step.terms))
        return PassBlock(tuple(lines), out, result.mode)


@record
class TreeItem:
    """A node of the tree view: its line (plain and LaTeX) and its operands below it."""

    plain: str
    latex: str
    children: tuple[TreeItem, ...] = ()


@record
class TreeBlock:
    root: TreeItem

    @staticmethod
    def of(result: Backprop) -> TreeBlock:
        g = result.graph
        shown: set[int] = set()
        grad = result.mode == "reverse"
        out = result.output.name

        def item(k: int) -> TreeItem:
            node = g.nodes[k]
            value = num(result.values[k])
            extra = partial(out, node.name) if grad else tangent(node.name)
            tail_plain = f"    {extra.plain} = {num(result.gradients[k])}"
            tail_latex = rf"\quad {extra.latex} = {num(result.gradients[k])}"
            name = symbol_text(node.name)
            if node.kind == "input":
                return TreeItem(f"{name} = {value}{tail_plain}", f"${_latex_name(node.name)} = {value}{tail_latex}$")
            if k in shown:
                return TreeItem(f"{name} (above)", f"${_latex_name(node.name)}$ (above)")
            shown.add(k)
            children = tuple(item(j) for j in node.operands)
            return TreeItem(f"{name} = {node.text} = {value}{tail_plain}",
                            f"${_latex_name(node.name)} = {latex_of(node.expression, node.as_built)} = "
                            f"{value}{tail_latex}$",
                            children)

        return TreeBlock(item(g.output))


# the document ------------------------------------------------------------------------------------------
def backprop_document(source: str, expr: sp.Basic, notes: Sequence[str], result: Backprop) -> Document:
    """What ``symgrad backprop`` says: the graph (table and tree), the pass, the gradient, the check."""
    g = result.graph
    out = result.output.name
    inputs = [g.nodes[k] for k in g.inputs]
    at = ", ".join(f"{symbol_text(n)}={oneline(v)}" for n, v in result.point.items())
    blocks: list[object] = [Interpretation(source, expr, tuple(notes)), Text(f"at {at}")]
    if result.mode == "reverse":
        blocks += [Heading("forward pass: the graph, node by node"), NodeTable.of(result),
                   Heading("the graph as a tree (the output at the top)"), TreeBlock.of(result),
                   Heading("backward pass: each node's gradient, in reverse topological order"), PassBlock.of(result)]
        names = ", ".join(symbol_text(n.name) for n in inputs)
        blocks.append(NumberLine(Label(f"∇{symbol_text(out)}({names})",
                                       _nabla(out, inputs)),
                                 tuple(result.gradients[k] for k in g.inputs)))
        if result.symbolic:
            blocks.append(Vector(Label(f"symgrad's gradient ∇{symbol_text(out)}",
                                       r"\text{symgrad's gradient } \nabla " + _latex_name(out)),
                                 tuple(result.symbolic.values())))
        blocks.extend(_check_text(result))
        shared = [g.nodes[k].name for k, uses in enumerate(g.consumers()) if len(uses) > 1]
        if shared:
            names = ", ".join(symbol_text(n) for n in shared)
            blocks.append(Text(f"{names} feed{'s' if len(shared) == 1 else ''} more than one node: "
                               "the gradients received add up (each term of the sum is one use)", "note"))
    else:
        direction = ", ".join(f"{tangent(n).plain}={oneline(v)}" for n, v in result.direction.items())
        blocks += [Text(f"forward mode (dual numbers): each node carries its value and its tangent; the inputs' "
                        f"tangents are the direction: {direction}"),
                   NodeTable.of(result), Heading("the graph as a tree (the output at the top)"), TreeBlock.of(result),
                   Heading("tangents, in forward order"), PassBlock.of(result),
                   NumberLine(Label(f"d{symbol_text(out)} (the directional derivative)",
                                    r"\mathrm{d}" + _latex_name(out)), result.derivative)]
        if result.symbolic:
            seeds = ", ".join(oneline(v) for v in result.direction.values())
            blocks.append(Equation(Label(f"symgrad's ∇{symbol_text(out)}·({seeds})",
                                         r"\text{symgrad's } \nabla " + _latex_name(out) + r"\cdot (" + seeds + ")"),
                                   next(iter(result.symbolic.values()))))
        blocks.extend(_check_text(result))
    if result.second is not None:
        blocks.extend(_second_blocks(result))
    blocks.extend(Text(n, "note") for n in result.notes)
    return Document(tuple(blocks), title="symgrad backprop")


def _check_text(result: Backprop) -> list[Text]:
    if result.check == "agrees":
        return [Text("symgrad's symbolic gradient has the same values at the point")]
    if result.check == "mismatch":
        return [Text("warning: symgrad's symbolic gradient has other values at the point (a bug: please report it)",
                     "warning")]
    if result.symbolic:
        return [Text("not compared with symgrad's symbolic gradient: there are no values at the point to compare",
                     "note")]
    return []


def _second_blocks(result: Backprop) -> list[object]:
    second = result.second
    assert second is not None and result.wrt is not None
    g2 = second.graph
    out = result.output.name
    wrt = result.wrt
    target = second.output.name
    blocks: list[object] = [
        Heading(f"second order: the backward pass as a graph, with {symbol_text(target)} = "
                f"{partial(out, wrt).plain} as its output (as a nested GradientTape records it)"),
        NodeTable.of(second),
        Heading(f"backward pass through it: the gradient of {symbol_text(target)}"),
        PassBlock.of(second),
    ]
    inputs = [g2.nodes[k] for k in g2.inputs]
    names = ", ".join(symbol_text(n.name) for n in inputs)
    blocks.append(NumberLine(Label(f"∇{symbol_text(target)}({names})",
                                   _nabla(target, inputs)),
                             tuple(second.gradients[k] for k in g2.inputs)))
    consumers = g2.consumers()
    unused = [g2.nodes[k].name for k in g2.inputs if not consumers[k]]
    if unused:
        formula = oneline(_written_out(result))
        names = ", ".join(symbol_text(n) for n in unused)
        blocks.append(Text(f"{symbol_text(target)} = {partial(out, wrt).plain} = {formula} does not depend on {names}: "
                           f"its gradient there is 0 (TensorFlow's nested GradientTape returns None for such an "
                           "unconnected source, and torch.autograd.grad returns None with allow_unused=True)", "note"))
    return blocks


def _written_out(result: Backprop) -> sp.Basic:
    from symgrad.backprop import in_inputs

    second = result.second
    assert second is not None
    node = second.output
    return in_inputs(second.graph, node.expression if node.kind != "input" else node.symbol)


# DOT ---------------------------------------------------------------------------------------------------
def _dot_text(text: str) -> str:
    """A DOT double-quoted string's contents: quotes and backslashes escaped, lines as \\n."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def graph_dot(graph: Graph, result: Backprop | None = None) -> str:
    """``graph`` in DOT: inputs as ellipses, operations as boxes, edges from operand to consumer;
    with ``result``, each node shows its value and gradient (or tangent), each edge its local gradient."""
    out = graph.nodes[graph.output].name
    lines = ["digraph backprop {", "  rankdir=LR;", '  node [fontname="Helvetica"];', '  edge [fontname="Helvetica"];']
    for k, node in enumerate(graph.nodes):
        name = symbol_text(node.name)
        label = name if node.kind == "input" else f"{name} = {node.text}"
        if result is not None:
            label += f"\nvalue {num(result.values[k])}"
            extra = partial(out, node.name).plain if result.mode == "reverse" else tangent(node.name).plain
            label += f"\n{extra} = {num(result.gradients[k])}"
        shape = "ellipse" if node.kind == "input" else "box"
        style = ', style="bold"' if k == graph.output else ""
        lines.append(f'  n{k} [label="{_dot_text(label)}", shape={shape}{style}];')
    for k, node in enumerate(graph.nodes):
        for pos, j in enumerate(node.operands):
            label = f"∂{symbol_text(node.name)}/∂{symbol_text(graph.nodes[j].name)} = {oneline(node.local[pos])}"
            if result is not None and not node.local[pos].is_number:
                label += f" = {num(result.locals[k][pos])}"
            lines.append(f'  n{j} -> n{k} [label="{_dot_text(label)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


PICTURE_FORMATS = ("svg", "png", "pdf")


def render_picture(dot: str, path: str) -> str:
    """Draw ``dot`` into ``path`` (.svg, .png or .pdf) with Graphviz, written atomically; the path."""
    from pathlib import Path

    from symgrad.errors import ComputeError, InputError
    from symgrad.files import replace

    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in PICTURE_FORMATS:
        raise InputError(f"--plot draws .svg, .png or .pdf files, not '{Path(path).name}'",
                         suggestion="for example --plot graph.svg; --dot graph.dot writes the DOT text")
    try:
        import graphviz
    except ImportError:
        raise ComputeError("drawing the graph needs the graphviz package and Graphviz's dot program",
                           suggestion="pip install 'symgrad[graph]' (and Graphviz itself, e.g. apt install graphviz); "
                                      "--dot graph.dot writes the DOT text without them") from None
    try:
        data = graphviz.Source(dot).pipe(format=suffix)
    except graphviz.ExecutableNotFound:
        raise ComputeError("drawing the graph needs Graphviz's dot program, which is not installed",
                           suggestion="install Graphviz (e.g. apt install graphviz); --dot graph.dot writes the DOT "
                                      "text without it") from None
    except graphviz.CalledProcessError as exc:
        raise ComputeError(f"Graphviz could not draw the graph ({str(exc).splitlines()[0][:120]})") from None
    with replace(path) as handle:
        handle.write(data)
    return str(path)


# formatters -------------------------------------------------------------------------------------------
def _local_plain(table_row: NodeRow) -> str:
    parts = []
    for operand, formula, value in table_row.locals:
        label = partial(table_row.name, operand).plain
        if formula.is_number:
            parts.append(f"{label} = {num(value)}")
        else:
            parts.append(f"{label} = {oneline(formula)} = {num(value)}")
    return ", ".join(parts)


def _local_latex(table_row: NodeRow) -> str:
    parts = []
    for operand, formula, value in table_row.locals:
        label = partial(table_row.name, operand).latex
        parts.append(f"{label} = {num(value)}" if formula.is_number else f"{label} = {latex_of(formula)} = "
                                                                         f"{num(value)}")
    return ",\\ ".join(parts)


def _header(table: NodeTable) -> tuple[str, ...]:
    last = f"∂{symbol_text(table.output)}/∂node" if table.mode == "reverse" else "tangent"
    return ("node", "operation", "value", "local gradients", last)


def _cells_plain(table: NodeTable) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for row in table.rows:
        op = "input" if row.expression is None else oneline(row.expression, row.as_built)
        rows.append((symbol_text(row.name), op, num(row.value), _local_plain(row), num(row.gradient)))
    return rows


def _table_plain(table: NodeTable) -> list[str]:
    header = _header(table)
    rows = _cells_plain(table)
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return lines


def _table_markdown(table: NodeTable) -> list[str]:
    header = _header(table)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for row in table.rows:
        op = "input" if row.expression is None else f"${latex_of(row.expression, row.as_built)}$"
        local = f"${_local_latex(row)}$" if row.locals else ""
        lines.append(f"| ${_latex_name(row.name)}$ | {op} | {num(row.value)} | {local} | {num(row.gradient)} |")
    return [*lines, ""]


def _table_latex(table: NodeTable) -> list[str]:
    header = list(_header(table))
    header[-1] = (r"$\partial "
                  r"" + _latex_name(table.output) + r"/\partial\,\cdot$") if table.mode == "reverse" else "tangent"
    lines = [r"\begin{tabular}{lllll}", " & ".join(header[:-1]) + " & " + header[-1] + r" \\ \hline"]
    for row in table.rows:
        op = "input" if row.expression is None else f"${latex_of(row.expression, row.as_built)}$"
        local = f"${_local_latex(row)}$" if row.locals else ""
        lines.append(f"${_latex_name(row.name)}$ & {op} & ${num(row.value)}$ & {local} & "
                     f"${num(row.gradient)}$" + r" \\")
    lines.append(r"\end{tabular}\par")
    return lines


def _table_rich(table: NodeTable) -> Any:
    def show(console: Any) -> None:
        from rich.table import Table as RichTable

        t = RichTable(show_edge=False, box=None, pad_edge=False, header_style="bold")
        for k, h in enumerate(_header(table)):
            t.add_column(h, justify="right" if k in (2, 4) else "left",
                         style="green" if k == 2 else "red" if k == 4 else "")
        for cells in _cells_plain(table):
            t.add_row(*cells)
        console.print(t)

    return show


def _stages(line: PassLine, mode: str, output: str, latex: bool = False) -> tuple[str, list[str]]:
    """(the left side, the stages after each '=') of a pass line, in plain text or LaTeX."""
    def label(top: str, bottom: str) -> str:
        return partial(top, bottom).latex if latex else partial(top, bottom).plain

    def dot(name: str) -> str:
        return tangent(name).latex if latex else tangent(name).plain

    def math(formula: sp.Basic) -> str:
        return latex_of(formula) if latex else oneline(formula)

    def paren(formula: sp.Basic) -> str:
        text = math(formula)
        if isinstance(formula, sp.Add) or text.startswith("-"):
            return rf"\left({text}\right)" if latex else f"({text})"
        return text

    times, join = (r" \cdot ", " ") if latex else ("·", "·")
    if mode == "reverse":
        lhs = label(output, line.node)
        labels, formulas, numbers = [], [], []
        for t in line.terms:
            local = label(t.consumer, t.operand)
            if t.operation is not None and latex:
                local = r"\frac{\partial (" + latex_of(t.operation) + r")}{\partial " + _latex_name(t.operand) + "}"
            elif t.operation is not None:
                local = f"∂({oneline(t.operation)})/∂{symbol_text(t.operand)}"
            if t.first:
                labels.append(local)
                formulas.append(math(t.formula))
                numbers.append(num(t.local))
            else:
                labels.append(f"{label(output, t.consumer)}{join}{local}")
                formulas.append(f"{_factor(t.upstream)}{times}{paren(t.formula)}")
                numbers.append(f"{_factor(t.upstream)}{times}{_factor(t.local)}")
    else:
        lhs = dot(line.node)
        labels = [f"{label(t.consumer, t.operand)}{join}{dot(t.operand)}" for t in line.terms]
        formulas = [f"{paren(t.formula)}{times}{_factor(t.upstream)}" for t in line.terms]
        numbers = [f"{_factor(t.local)}{times}{_factor(t.upstream)}" for t in line.terms]
    if line.seed:
        return lhs, [num(line.value)]
    stages = [" + ".join(labels), " + ".join(formulas), " + ".join(numbers), num(line.value)]
    kept: list[str] = []
    for stage in stages:
        if stage and (not kept or kept[-1] != stage) and stage != lhs:
            kept.append(stage)
    return lhs, kept


def _pass_plain(block: PassBlock) -> list[str]:
    out = []
    for line in block.lines:
        lhs, stages = _stages(line, block.mode, block.output)
        out.append(" = ".join([lhs, *stages]))
    return out


def _pass_latex(block: PassBlock) -> list[str]:
    rows = []
    for line in block.lines:
        lhs, stages = _stages(line, block.mode, block.output, latex=True)
        rows.append(f"{lhs} &= " + " = ".join(stages))
    return [r"\begin{align*}", " \\\\\n".join(rows), r"\end{align*}"]


def _pass_markdown(block: PassBlock) -> list[str]:
    out = []
    for line in block.lines:
        lhs, stages = _stages(line, block.mode, block.output, latex=True)
        out.append(f"- ${lhs} = " + " = ".join(stages) + "$")
    return [*out, ""]


def _pass_rich(block: PassBlock) -> Any:
    def show(console: Any) -> None:
        from rich.text import Text as RichText

        for line in block.lines:
            lhs, stages = _stages(line, block.mode, block.output)
            text = RichText.assemble((lhs, "bold"), " = ")
            text.append(" = ".join(stages[:-1]) + (" = " if len(stages) > 1 else ""))
            text.append(stages[-1], style="bold red" if block.mode == "reverse" else "bold")
            console.print(text)

    return show


def _tree_plain(block: TreeBlock) -> list[str]:
    from symgrad.printing.oneline import ascii_mode

    lines = [block.root.plain]
    guides = ("`-- ", "|-- ", "|   ") if ascii_mode() else ("└── ", "├── ", "│   ")

    def walk(item: TreeItem, prefix: str) -> None:
        for k, child in enumerate(item.children):
            last = k == len(item.children) - 1
            lines.append(prefix + (guides[0] if last else guides[1]) + child.plain)
            walk(child, prefix + ("    " if last else guides[2]))

    walk(block.root, "")
    return lines


def _tree_markdown(block: TreeBlock) -> list[str]:
    lines = []

    def walk(item: TreeItem, depth: int) -> None:
        lines.append("  " * depth + "- " + item.latex)
        for child in item.children:
            walk(child, depth + 1)

    walk(block.root, 0)
    return [*lines, ""]


def _tree_latex(block: TreeBlock) -> list[str]:
    lines = []

    def walk(item: TreeItem) -> None:
        lines.append(r"\item " + item.latex)
        if item.children:
            lines.append(r"\begin{itemize}")
            for child in item.children:
                walk(child)
            lines.append(r"\end{itemize}")

    lines.append(r"\begin{itemize}")
    walk(block.root)
    lines.append(r"\end{itemize}")
    return lines


def _tree_rich(block: TreeBlock) -> Any:
    def show(console: Any) -> None:
        from rich.text import Text as RichText
        from rich.tree import Tree

        def add(tree: Any, item: TreeItem) -> None:
            for child in item.children:
                add(tree.add(RichText(child.plain)), child)

        tree = Tree(RichText(block.root.plain, style="bold"), guide_style="dim")
        add(tree, block.root)
        console.print(tree)

    return show


backends.EXTRA_BLOCKS.update({
    ("plain", NodeTable): _table_plain,
    ("markdown", NodeTable): _table_markdown,
    ("latex", NodeTable): _table_latex,
    ("rich", NodeTable): _table_rich,
    ("plain", PassBlock): _pass_plain,
    ("markdown", PassBlock): _pass_markdown,
    ("latex", PassBlock): _pass_latex,
    ("rich", PassBlock): _pass_rich,
    ("plain", TreeBlock): _tree_plain,
    ("markdown", TreeBlock): _tree_markdown,
    ("latex", TreeBlock): _tree_latex,
    ("rich", TreeBlock): _tree_rich,
})

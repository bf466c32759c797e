"""The matrix narrator: matrix results -> documents, and how each backend writes matrix math.

Stage: rendering, for ``symgrad.matrix``. The first half says each rule of
``symgrad.matrix.differential`` (its title, its identity, d[expr] = result) and the reading off
(each term's identities, d f = tr(Gᵀ dX) ⇒ ∇f = G), as ``MatrixStepsBlock`` lines of pieces (prose
and matrix nodes); the second half writes those blocks for plain, rich, LaTeX and Markdown
(registered in ``symgrad.render.backends.EXTRA_BLOCKS``), with two printers over the vocabulary's
``TextPrinter``: Unicode (xᵀAx, W₂ᵀδ₂ ⊙ H(z₁), ‖x‖²) and LaTeX (bold vectors, ``^\\top``, ``\\odot``).
The JSON step tree is the records' own ``to_json`` (``shape`` on every node).

To say a new rule: its title and identity are on its record; a rule that needs more gets a
branch in ``_step_lines``.

>>> from symgrad.matrix import gradient
>>> from symgrad.render.backends import to_plain
>>> print(to_plain(gradient_document(gradient("x^T A x", "x", "A: n×n"))), end="")  # doctest: +ELLIPSIS
input: x^T A x  →  xᵀAx
  note: x is read as a vector of n entries (it is transposed)
note: layout: denominator layout: ...
Steps (∇ₓ f)
1. Product rule for differentials: d(AB) = dA·B + A·dB
   d[xᵀAx] = dxᵀAx + xᵀA dx
...
∇ₓ f = (A + Aᵀ)x
check: exact (compared with sympy.diff entry by entry at n = 3; n = 2; n = 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from symgrad.matrix.expr import Named, Node, TextPrinter, Var
from symgrad.printing.latex import latex_of
from symgrad.printing.latex import latex_text as _latex_prose
from symgrad.records import record
from symgrad.render import backends
from symgrad.render.document import Document, Label, Text

_FUNCTIONS = {"sigmoid": "σ", "Heaviside": "H", "log": "ln", "Abs": "abs"}


def _sub(name: str) -> str:
    from symgrad.printing.oneline import symbol_text

    return symbol_text(name)


class UnicodePrinter(TextPrinter):
    """xᵀAx, (A + Aᵀ)x, X⁻ᵀ, σ(z) ⊙ (1 − σ(z)), ‖x‖², W₂ᵀδ₂."""

    TRANSPOSE = "ᵀ"
    INVERSE = "⁻¹"
    MATMUL = ""
    HADAMARD = " ⊙ "
    TIMES = "·"
    IDENTITY, ZERO, ONES = "I", "0", "𝟙"

    def name(self, n: Node, name: str) -> str:
        return _sub(name)

    def function(self, name: str) -> str:
        return _FUNCTIONS.get(name, name)

    def number(self, e: sp.Expr) -> str:
        from symgrad.printing.oneline import oneline

        return oneline(e)

    def differential(self, var: Var) -> str:
        return "d" + _sub(var.name)

    def norm(self, inner: str, squared: bool) -> tuple[str, int]:
        return f"‖{inner}‖" + ("²" if squared else ""), 40

    def power(self, base: str, exp: str, elementwise: bool) -> str:
        sup = exp.translate(str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"))
        return base + ("∘" if elementwise else "") + (sup if sup != exp or exp.isdigit() else f"^{exp}")

    def inverted(self, inner: tuple[str, int], transposed: bool) -> tuple[str, int]:
        if transposed and inner[0].endswith("ᵀ"):
            return inner[0][:-1] + "⁻ᵀ", 30
        return super().inverted(inner, transposed)

    def join(self, parts: list[str], op: str) -> str:
        if op != "":
            return op.join(parts)
        out = ""
        for p in parts:
            if out and p.startswith("d") and out[-1].isalnum():
                out += " " + p  # xᵀA dx: a differential stands apart
                continue
            if out and p and out[-1].isascii() and out[-1].isalnum() and p[0].isascii() and p[0].isalnum() \
                    and (_word_end(out) > 1 or _word_start(p) > 1):
                out += "·"
            out += p
        return out


def _word_end(s: str) -> int:
    k = 0
    while k < len(s) and s[-1 - k].isascii() and s[-1 - k].isalpha():
        k += 1
    return k


def _word_start(s: str) -> int:
    k = 0
    while k < len(s) and s[k].isascii() and s[k].isalpha():
        k += 1
    return k


_LATEX_FUNCTIONS = {"sigmoid": r"\sigma", "Heaviside": "H", "log": r"\ln", "exp": r"\exp", "tanh": r"\tanh",
                    "sin": r"\sin", "cos": r"\cos", "det": r"\det", "tr": r"\operatorname{tr}",
                    "diag": r"\operatorname{diag}", "softmax": r"\operatorname{softmax}",
                    "relu": r"\operatorname{relu}",
                    "sqrt": r"\sqrt", "cross_entropy": r"\operatorname{CE}", "sum": r"\operatorname{sum}",
                    "softplus": r"\operatorname{softplus}", "Abs": r"\operatorname{abs}"}


class LatexPrinter(TextPrinter):
    """\\mathbf{x}^{\\top} A \\mathbf{x}, \\left(A + A^{\\top}\\right) \\mathbf{x}, σ(z) ⊙ …"""

    TRANSPOSE = r"^{\top}"
    INVERSE = "^{-1}"
    MATMUL = " "
    HADAMARD = r" \odot "
    TIMES = " "
    LEFT, RIGHT = r"\left(", r"\right)"
    IDENTITY, ZERO, ONES = "I", "0", r"\mathbf{1}"

    def name(self, n: Node, name: str) -> str:
        from symgrad.printing.oneline import GREEK

        base, digits = name.rstrip("0123456789"), name[len(name.rstrip("0123456789")):]
        letters = f"\\{base}" if base in GREEK and base != "pi" else base
        if len(base) > 1 and base not in GREEK:
            letters = r"\mathrm{%s}" % base.replace("_", r"\_")
        vector = n.kind in ("vector", "scalar") if isinstance(n, Var) else n.kind == "vector"
        if isinstance(n, Var) and n.declared == "matrix":
            vector = False
        if vector:
            letters = (r"\boldsymbol{%s}" if base in GREEK else r"\mathbf{%s}") % letters
        return letters + (f"_{{{digits}}}" if digits else "")

    def function(self, name: str) -> str:
        return _LATEX_FUNCTIONS.get(name, r"\operatorname{%s}" % name.replace("_", r"\_"))

    def number(self, e: sp.Expr) -> str:
        return latex_of(e)

    def differential(self, var: Var) -> str:
        return r"d" + self.name(var, var.name)

    def call(self, fname: str, inner: str) -> str:
        if fname == r"\sqrt":
            return r"\sqrt{%s}" % inner
        return f"{fname}\\left({inner}\\right)"

    def norm(self, inner: str, squared: bool) -> tuple[str, int]:
        return r"\left\lVert %s \right\rVert" % inner + ("^{2}" if squared else ""), 40

    def power(self, base: str, exp: str, elementwise: bool) -> str:
        circ = "\\circ " if elementwise else ""
        return base + "^{" + circ + exp + "}"

    def fraction(self, num: tuple[str, int], den: tuple[str, int], elementwise: bool) -> tuple[str, int]:
        if elementwise:
            return f"{self.paren(num, 20)} \\oslash {self.paren(den, 30)}", 20
        return r"\frac{%s}{%s}" % (num[0], den[0]), 40


def unicode_text(n: Node) -> str:
    return UnicodePrinter().print(n)


def latex_text(n: Node) -> str:
    return LatexPrinter().print(n)


# blocks ---------------------------------------------------------------------------------------
Piece = str | Node | Label


@record
class MatrixLine:
    """One line of a matrix derivation: its number (0: none), depth, title, identity and math pieces."""

    depth: int
    number: int
    title: str
    identity: str
    math: tuple[Piece, ...]
    final: bool = False


@record
class MatrixStepsBlock:
    heading: str
    lines: tuple[MatrixLine, ...]


def _math(pieces: Sequence[Piece], printer: TextPrinter) -> str:
    return "".join(p if isinstance(p, str) else p.plain if isinstance(p, Label) else printer.print(p) for p in pieces)


def _d(n: Node, printer_latex: bool) -> tuple[Piece, ...]:
    return ("d[", n, "]")


class _Numbers:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def _step_lines(step: Any, depth: int, num: _Numbers, out: list[MatrixLine]) -> None:
    from symgrad.matrix import differential as df

    if isinstance(step, df.DConstant):
        out.append(MatrixLine(depth, num.next(), step.title, "", ("d[", step.expr, "] = 0 (held constant)",)))
        return
    if isinstance(step, df.DVariable):
        out.append(MatrixLine(depth, num.next(), step.title, "", ("d[", step.expr, "] = ", step.result)))
        return
    if isinstance(step, df.DNamed):
        named: Named = step.result  # type: ignore[assignment]
        shown = _sub(step.data()["name"])
        out.append(MatrixLine(depth, num.next(), step.title, f"d{shown} = d({shown}'s definition)",
                              ("d", step.expr, " = ", named.definition)))
        for s in step.substeps:
            _step_lines(s, depth + 1, num, out)
        return
    n = num.next()
    math: tuple[Piece, ...] = ("d[", step.expr, "] = ", step.result)
    out.append(MatrixLine(depth, n, step.title, step.identity, math))
    if isinstance(step, df.DEntrywise):
        for name, d in zip(step.names, step.derivations):
            from symgrad.printing.oneline import oneline

            wrt = sp.Symbol(name, real=True)
            say = (f"scalar steps (symgrad diff): d/d{_sub(name)} [{oneline(d.expr)}] = {oneline(d.result)} "
                   f"(check: {d.check})")
            out.append(MatrixLine(depth + 1, 0, "", "", (say,)))
            del wrt
    for s in step.substeps:
        _step_lines(s, depth + 1, num, out)


def _var_label(var: Var, power: str = "") -> Label:
    latex = LatexPrinter().name(var, var.name)
    return Label("∇" + power + _subscript(var.name) + " f",
                 r"\nabla" + ("^{2}" if power else "") + "_{" + latex + "} f")


def _partial_label(top: str, var: Var) -> Label:
    return Label(f"∂{top}/∂{_sub(var.name)}",
                 r"\frac{\partial %s}{\partial %s}" % (top, LatexPrinter().name(var, var.name)))


def _subscript(name: str) -> str:
    table = str.maketrans("abcdefghijklmnoprstuvwxyz0123456789", "ₐbcdₑfgₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥwₓyz₀₁₂₃₄₅₆₇₈₉")
    shown = _sub(name)
    sub = shown.translate(table)
    return sub if all(not c.isascii() or not c.isalpha() for c in sub) else "_" + shown


def gradient_lines(step: Any) -> list[MatrixLine]:
    """The lines of one gradient: the differential's tree, each term read off, the conclusion."""
    num = _Numbers()
    out: list[MatrixLine] = []
    _step_lines(step.differential, 0, num, out)
    for t in step.substeps:
        out.append(MatrixLine(0, num.next(), t.title, "; ".join(t.identities) or "df = gᵀdx ⇒ the gradient is g",
                              (t.expr, "  ⇒  ", t.result)))
    label = _var_label(step.var)
    if step.before != step.result:
        out.append(MatrixLine(0, num.next(), "Collect the terms", "", (label, " = ", step.before, " = ", step.result)))
    out.append(MatrixLine(0, num.next(), step.title, step.identity, (label, " = ", step.result), final=True))
    return out


def _intro(parsed: Any) -> list[Any]:

    return [_MatrixInterpretation(parsed.text, parsed.expr, tuple(parsed.notes)),
            Text("layout: " + _layout(), style="note")]


def _layout() -> str:
    from symgrad.matrix.api import LAYOUT

    return LAYOUT


@record
class _MatrixInterpretation:
    source: str
    expr: Node
    notes: tuple[str, ...]


def _check_text(check: Any) -> str:
    sizes = "; ".join(", ".join(f"{k} = {v}" for k, v in s.items()) or "the declared sizes" for s in check.sizes)
    if check.kind == "mismatch":
        return f"check: MISMATCH — {check.note}"
    how = {"exact": "exact", "numeric": "numeric (equal at sample points)", "unverified": "unverified"}[check.kind]
    return f"check: {how} (compared with sympy.diff entry by entry at {sizes})"


def gradient_document(result: Any) -> Document:
    """The document of a ``GradientResult``: reading, layout, per variable the steps and the answer."""
    blocks: list[Any] = _intro(result.parsed)
    for p in result.partials:
        blocks.append(MatrixStepsBlock(f"Steps ({_var_label(p.var).plain})", tuple(gradient_lines(p.step))))
        blocks.append(Text(_check_text(p.check), style="warning" if p.check.kind == "mismatch" else ""))
        if p.value is not None:
            blocks.append(Text(f"{_var_label(p.var).plain} at the point = {p.value}"))
    return Document(tuple(blocks))


def jacobian_document(result: Any) -> Document:
    step = result.step
    num = _Numbers()
    lines: list[MatrixLine] = []
    _step_lines(step.differential, 0, num, lines)
    label = _partial_label("f", result.var)
    lines.append(MatrixLine(0, num.next(), step.title, step.identity, (label, " = ", result.matrix), final=True))
    blocks: list[Any] = _intro(result.parsed) + [MatrixStepsBlock(f"Steps ({label.plain})", tuple(lines)),
                                                  Text(_check_text(result.check_detail))]
    if result.value is not None:
        blocks.append(Text(f"{label.plain} at the point = {result.value}"))
    return Document(tuple(blocks))


def hessian_document(result: Any) -> Document:
    step = result.step
    lines = gradient_lines(step.gradient)
    num = _Numbers()
    num.n = max((ln.number for ln in lines), default=0)
    _step_lines(step.jacobian.differential, 0, num, lines)
    label = _var_label(result.var, "²")
    lines.append(MatrixLine(0, num.next(), step.title, step.identity, (label, " = ", result.matrix), final=True))
    blocks: list[Any] = _intro(result.parsed) + [MatrixStepsBlock(f"Steps ({label.plain})", tuple(lines)),
                                                  Text(_check_text(result.check_detail))]
    if result.value is not None:
        blocks.append(Text(f"{label.plain} at the point = {result.value}"))
    return Document(tuple(blocks))


def network_document(result: Any) -> Document:
    """The backprop form: the names once, the δs, the four gradients; then each gradient's steps."""
    lines: list[MatrixLine] = []
    for name, d in result.names:
        lines.append(MatrixLine(0, 0, "", "", (f"let {_sub(name)} = ", d)))
    names = dict(result.deltas)
    for name, d in result.deltas:
        k = name[5:]
        label = Label(f"{_sub(name)} = ∂L/∂{_sub('z' + k)}",
                      r"\boldsymbol{\delta}_{%s} = \frac{\partial L}{\partial \mathbf{z}_{%s}}" % (k, k))
        lines.append(MatrixLine(0, 0, "", "", (label, " = ", d)))
    by = {p.var.name: p.var for p in result.gradients.partials}
    for name, g in result.backprop:
        lines.append(MatrixLine(0, 0, "", "", (_partial_label("L", by[name]), " = ", g), final=True))
    del names
    blocks: list[Any] = _intro(result.parsed) + [MatrixStepsBlock("Backpropagation", tuple(lines)),
                                                  Text(f"check: {result.check} (each gradient written out and "
                                                       "compared with sympy.diff entry by entry)")]
    for p in result.gradients.partials:
        blocks.append(MatrixStepsBlock(f"Steps (∂L/∂{_sub(p.var.name)}, written out)", tuple(gradient_lines(p.step))))
    return Document(tuple(blocks))


# formatting -------------------------------------------------------------------------------------
def _line_plain(line: MatrixLine) -> list[str]:
    pad = "   " * line.depth
    printer = UnicodePrinter()
    math = _math(line.math, printer)
    if line.final:
        return [math]
    if not line.number:
        return [pad + ("   " if line.depth else "") + math if line.depth else pad + math]
    head = f"{pad}{line.number}. {line.title}" + (f": {line.identity}" if line.identity else "")
    return [head, f"{pad}   {math}"]


def _plain(block: MatrixStepsBlock) -> list[str]:
    out = [block.heading]
    for line in block.lines:
        out.extend(_line_plain(line))
    return out


_PROSE_MATH = {"⊙": r"\odot", "ᵀ": r"^{\top}", "⁻¹": "^{-1}", "⁻ᵀ": r"^{-\top}", "‖": r"\|", "𝟙": r"\mathbf{1}",
               "⟨": r"\langle", "⟩": r"\rangle", "∘": r"\circ", "δ": r"\delta", "σ": r"\sigma", "ₖ": "_k",
               "ᵢ": "_i", "ⱼ": "_j", "²": "^{2}", "∇": r"\nabla", "⇒": r"\Rightarrow", "Σ": r"\Sigma", "′": "'",
               "−": "-", "·": r"\cdot"}


def latex_prose(text: str) -> str:
    """Prose with Unicode math (⊙, ᵀ, ‖, δ…) in LaTeX text mode, each math sign in $…$."""
    out, plain = [], ""
    i = 0
    while i < len(text):
        two = text[i:i + 2]
        sign = two if two in _PROSE_MATH else text[i] if text[i] in _PROSE_MATH else None
        if sign is None:
            plain += text[i]
            i += 1
            continue
        out.append(_latex_prose(plain))
        plain = ""
        out.append("$" + _PROSE_MATH[sign] + "$")
        i += len(sign)
    out.append(_latex_prose(plain))
    return "".join(out)


def _latex_line(line: MatrixLine, math_open: str, math_close: str) -> str:
    math = _latex_math_pieces(line.math, LatexPrinter())
    text = ""
    if line.number:
        text = f"{line.number}. " + latex_prose(line.title + (f": {line.identity}" if line.identity else "")) + " "
    return text + f"{math_open}{math}{math_close}"


def _latex_math_pieces(pieces: Sequence[Piece], printer: LatexPrinter) -> str:
    out = []
    for p in pieces:
        if isinstance(p, Label):
            out.append(p.latex)
        elif isinstance(p, str):
            s = p.replace("⇒", r"\Rightarrow ").replace("d[", r"d\left[").replace("]", r"\right]")
            if any(ch.isalpha() for ch in p.replace("d[", "").replace("d", "")):
                out.append(r"\text{%s}" % latex_prose(p))
            else:
                out.append(s)
        else:
            out.append(printer.print(p))
    return "".join(out)


def _latex(block: MatrixStepsBlock) -> list[str]:
    out = [r"\paragraph{%s}" % _latex_prose(block.heading)]
    for line in block.lines:
        if line.final:
            out.append(r"\[ \boxed{%s} \]" % _latex_math_pieces(line.math, LatexPrinter()))
        else:
            out.append(_latex_line(line, r"\(", r"\)") + r"\par")
    return out


def _markdown(block: MatrixStepsBlock) -> list[str]:
    out = [f"### {block.heading}", ""]
    for line in block.lines:
        math = _latex_math_pieces(line.math, LatexPrinter())
        if line.final:
            out += [f"$$\\boxed{{{math}}}$$", ""]
            continue
        indent = "  " * line.depth
        identity = f": {line.identity}" if line.identity else ""
        head = f"{line.number}. **{line.title}**{identity}" if line.number else ""
        out.append(f"{indent}- {head} ${math}$".replace("-  $", "- $"))
    out.append("")
    return out


def _rich(block: MatrixStepsBlock) -> Any:
    def show(console: Any) -> None:
        from rich.text import Text as RichText

        console.print(RichText(block.heading, style="bold"))
        for line in block.lines:
            for k, s in enumerate(_line_plain(line)):
                style = "bold green" if line.final else ("bold" if k == 0 and line.number else "")
                console.print(RichText(s, style=style))
    return show


def _interp_plain(block: _MatrixInterpretation) -> list[str]:
    out = [f"input: {block.source.strip()}  →  {unicode_text(block.expr)}"]
    out += [f"  note: {n}" for n in block.notes]
    return out


def _interp_latex(block: _MatrixInterpretation) -> list[str]:
    out = [r"Input \texttt{%s} read as $%s$.\par" % (_latex_prose(block.source.strip()), latex_text(block.expr))]
    out += [r"\emph{Note:} %s\par" % _latex_prose(n) for n in block.notes]
    return out


def _interp_markdown(block: _MatrixInterpretation) -> list[str]:
    out = [f"Input `{block.source.strip()}` read as ${latex_text(block.expr)}$", ""]
    out += [f"> Note: {n}" for n in block.notes]
    return out + ([""] if block.notes else [])


def _interp_rich(block: _MatrixInterpretation) -> Any:
    def show(console: Any) -> None:
        from rich.text import Text as RichText

        for i, s in enumerate(_interp_plain(block)):
            console.print(RichText(s, style="" if i else "cyan"))
    return show


backends.EXTRA_BLOCKS.update({
    ("plain", MatrixStepsBlock): _plain, ("latex", MatrixStepsBlock): _latex,
    ("markdown", MatrixStepsBlock): _markdown, ("rich", MatrixStepsBlock): _rich,
    ("plain", _MatrixInterpretation): _interp_plain, ("latex", _MatrixInterpretation): _interp_latex,
    ("markdown", _MatrixInterpretation): _interp_markdown, ("rich", _MatrixInterpretation): _interp_rich,
})


def render(result: Any, fmt: str = "plain") -> str:
    """A matrix result as text: ``plain``, ``latex``, ``markdown`` or ``json``."""
    import json

    from symgrad.matrix.api import GradientResult, HessianResult, JacobianResult, NetworkResult

    if fmt == "json":
        return json.dumps(result.to_json(), ensure_ascii=False, indent=1)
    if isinstance(result, NetworkResult):
        doc = network_document(result)
    elif isinstance(result, GradientResult):
        doc = gradient_document(result)
    elif isinstance(result, HessianResult):
        doc = hessian_document(result)
    elif isinstance(result, JacobianResult):
        doc = jacobian_document(result)
    else:
        raise TypeError(f"no document for {type(result).__name__}")
    if fmt == "plain":
        return backends.to_plain(doc)
    if fmt == "latex":
        return backends.to_latex(doc)
    if fmt == "markdown":
        return backends.to_markdown(doc)
    raise ValueError(f"unknown format {fmt!r}")

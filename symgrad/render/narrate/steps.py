"""The step narrator: a ``Derivation`` -> document blocks, and how each backend formats them.

Stage: rendering. The first half (``narrate_<rule>`` functions, one per rule id of
``symgrad.steps.rules``) decides *what to say* about each step, in one place, as a tree of
``StepNode`` blocks made of pieces: prose (``str``), math (SymPy expressions), notation given per
format (``Label``) and small formulas (``Is``, ``Times``, ``Plus``, ``Frac``). The second half formats
those blocks for each backend (plain, rich, LaTeX, Markdown) and registers the formatters in
``symgrad.render.backends.EXTRA_BLOCKS``.

To add a rule: one ``narrate_<rule>`` function (or an entry in ``_FUNCTION_SAYS`` for a function of
the table). To add a format: one ``_<format>_steps`` formatter and its registration at the bottom.

>>> from symgrad.steps import derive
>>> from symgrad.render.backends import to_plain
>>> print(to_plain(derivation_document(derive("x^3"))), end="")
Steps
1. Power rule: (xⁿ)′ = n·xⁿ⁻¹ with n = 3
   d/dx [x³] = 3·x²
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import sympy as sp

from symgrad.printing.labels import Label
from symgrad.printing.latex import latex_of, latex_text
from symgrad.printing.oneline import oneline, symbol_text
from symgrad.records import record
from symgrad.render import backends
from symgrad.render.document import Document, Text

if TYPE_CHECKING:
    from symgrad.steps.derivation import Derivation
    from symgrad.steps.rules import Step


# pieces ---------------------------------------------------------------------------------------
@record
class Is:
    """``lhs = rhs`` inside a sentence (``u = π·x``)."""

    lhs: Any
    rhs: Any


@record
class Times:
    """A product shown factor by factor, before SymPy multiplies it out: (−sin(πx))·(π)."""

    factors: tuple[Any, ...]


@record
class Plus:
    """A sum shown term by term; ``signs`` holds +1 or −1 per term."""

    terms: tuple[Any, ...]
    signs: tuple[int, ...]


@record
class Frac:
    numerator: Any
    denominator: Any


Piece: TypeAlias = str | sp.Basic | Label | Is | Times | Plus | Frac


# blocks ---------------------------------------------------------------------------------------
@record
class StepNode:
    """One step as it is said: number, rule, a sentence, ``lhs [= via] = rhs``, a note, children."""

    number: int
    rule: str
    title: str
    says: tuple[Piece, ...]
    lhs: Label
    rhs: Piece
    """The result; in a long chain a formula in named inner functions (``cos(v)·dv/dx``)."""
    children: tuple[StepNode, ...] = ()
    via: Piece | None = None
    note: tuple[Piece, ...] = ()
    before: sp.Basic | None = None
    """For the ``simplify`` step: the form before simplification."""


@record
class StepsBlock:
    """The steps of one derivative (one stage of a higher-order or mixed derivative)."""

    heading: str
    roots: tuple[StepNode, ...]
    intro: tuple[Piece, ...] = ()


@record
class TableBlock:
    """A table whose cells are pieces (prose or math), e.g. the table of derivatives."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Piece, ...], ...]


# the narrator ---------------------------------------------------------------------------------
class _Narration:
    """Numbers the steps in reading order and remembers each step's number for references."""

    def __init__(self, partial_in: frozenset[sp.Symbol]) -> None:
        self.partial_in = partial_in
        self.number_of: dict[int, int] = {}
        self.next = 1

    def number(self, step: Step) -> int:
        n = self.next
        self.next += 1
        self.number_of[step.id] = n
        return n

    def lhs(self, step: Step) -> Label:
        return d_label(step.expr, step.wrt, partial=step.wrt in self.partial_in)


class _LazyLabel(Label):
    """A ``Label`` whose LaTeX is written only when a LaTeX or Markdown backend asks for it: every
    step has one, and printing each expression twice doubled the time of plain and rich output."""

    def __init__(self, plain: str, make_latex: Callable[[], str]) -> None:
        object.__setattr__(self, "plain", plain)
        object.__setattr__(self, "_make_latex", make_latex)

    def __getattr__(self, name: str) -> Any:
        if name != "latex":
            raise AttributeError(name)
        value = self._make_latex()
        object.__setattr__(self, "latex", value)
        return value


def d_label(expr: sp.Basic, var: sp.Symbol, partial: bool = False) -> Label:
    """``d/dx [expr]`` (or ∂/∂x) in plain Unicode and LaTeX.

    >>> label = d_label(sp.sin(sp.Symbol("x")) ** 2, sp.Symbol("x"))
    >>> print(label.plain, label.latex)
    d/dx [sin(x)²] \\frac{d}{d x}\\left[\\sin^{2}{\\left(x \\right)}\\right]
    """
    d, dl = ("∂", r"\partial") if partial else ("d", "d")
    name = symbol_text(var.name)
    return _LazyLabel(
        f"{d}/{d}{name} [{oneline(expr)}]",
        lambda: r"\frac{%s}{%s %s}\left[%s\right]" % (dl, dl, sp.latex(var), latex_of(expr)),
    )


def _held(step: Step | ConstantView) -> tuple[Piece, ...]:
    held = sorted((s for s in step.expr.free_symbols if isinstance(s, sp.Symbol) and s != step.wrt),
                  key=lambda s: s.name)
    if not held:
        return ()
    pieces: list[Piece] = ["treat "]
    for i, s in enumerate(held):
        if i:
            pieces.append(", ")
        pieces.append(s)
    pieces.append(" as a constant" if len(held) == 1 else " as constants")
    return tuple(pieces)


def narrate_constant(step: Step, n: _Narration) -> dict[str, Any]:
    held = _held(step)
    if step.expr.is_number:
        return {"says": ("a number does not change",)}
    return {"says": (step.expr, " does not depend on ", step.wrt, *(("; ", *held) if held else ()))}


def narrate_variable(step: Step, n: _Narration) -> dict[str, Any]:
    return {"says": ()}


def narrate_constant_multiple(step: Step, n: _Narration) -> dict[str, Any]:
    c = step.constant  # type: ignore[attr-defined]
    held = _held(ConstantView(c, step.wrt))
    says: list[Piece] = [Label("(c·f)′ = c·f′", r"(c f)' = c f'"), " with ", Is(Label("c", "c"), c)]
    if held:
        says += ["; ", *held]
    return {"says": tuple(says), "via": Times((c, n.lhs(step.substeps[0])))}


@record
class ConstantView:
    """Just enough of a step to say which symbols are held constant."""

    expr: sp.Basic
    wrt: sp.Symbol


def narrate_sum(step: Step, n: _Narration) -> dict[str, Any]:
    minus = any(t.could_extract_minus_sign() for t in step.expr.args)
    formula = Label("(f ± g)′ = f′ ± g′", r"(f \pm g)' = f' \pm g'") if minus else Label("(f + g)′ = f′ + g′",
                                                                                         r"(f + g)' = f' + g'")
    return {"says": ("differentiate term by term: ", formula)}


def narrate_power(step: Step, n: _Narration) -> dict[str, Any]:
    k = step.exponent  # type: ignore[attr-defined]
    return {"says": (Label("(xⁿ)′ = n·xⁿ⁻¹", r"(x^n)' = n x^{n-1}"), " with ", Is(Label("n", "n"), k))}


def narrate_exp(step: Step, n: _Narration) -> dict[str, Any]:
    return {"says": (Label("(eˣ)′ = eˣ", r"(e^x)' = e^x"), ": the exponential is its own derivative")}


def narrate_exponential(step: Step, n: _Narration) -> dict[str, Any]:
    return {"says": (Label("(aˣ)′ = aˣ·ln a", r"(a^x)' = a^x \ln a"), " with ", Is(Label("a", "a"),
                                                                                   step.base))}  # type: ignore[attr-defined]


def narrate_log(step: Step, n: _Narration) -> dict[str, Any]:
    return {"says": (Label("(ln x)′ = 1/x", r"(\ln x)' = \frac{1}{x}"),)}


def narrate_log_base(step: Step, n: _Narration) -> dict[str, Any]:
    b = step.base  # type: ignore[attr-defined]
    return {"says": (Label("(log_b x)′ = 1/(x·ln b)", r"(\log_b x)' = \frac{1}{x \ln b}"), " with ", Is(Label("b", "b"),
                                                                                                        b))}


def narrate_product(step: Step, n: _Narration) -> dict[str, Any]:
    factors = step.factors  # type: ignore[attr-defined]
    if len(factors) == 2:
        says: list[Piece] = [Label("(f·g)′ = f′·g + f·g′", r"(f g)' = f' g + f g'"), " with ",
                             Is(Label("f", "f"), factors[0]), " and ", Is(Label("g", "g"), factors[1])]
    else:
        says = [f"each of the {len(factors)} factors is differentiated in turn, the others kept: ",
                Label("(f·g·h)′ = f′·g·h + f·g′·h + f·g·h′", r"(f g h)' = f' g h + f g' h + f g h'")]
    terms = []
    for i, sub in enumerate(step.substeps):
        terms.append(Times(tuple(sub.result if j == i else f for j, f in enumerate(factors))))
    return {"says": tuple(says), "via": Plus(tuple(terms), (1,) * len(terms))}


def narrate_quotient(step: Step, n: _Narration) -> dict[str, Any]:
    f, g = step.numerator, step.denominator  # type: ignore[attr-defined]
    df, dg = (s.result for s in step.substeps)
    says = (Label("(f/g)′ = (f′·g − f·g′)/g²", r"\left(\frac{f}{g}\right)' = \frac{f' g - f g'}{g^2}"), " with ",
            Is(Label("f", "f"), f), " and ", Is(Label("g", "g"), g))
    via = Frac(Plus((Times((df, g)), Times((f, dg))), (1, -1)), g**2)
    return {"says": says, "via": via}


def _d_name(u: sp.Symbol, var: sp.Symbol) -> Label:
    """``du/dx``: the derivative of a named inner function."""
    return Label(f"d{symbol_text(u.name)}/d{symbol_text(var.name)}", r"\frac{d%s}{d%s}" % (sp.latex(u), sp.latex(var)))


def _is_link(step: Step) -> bool:
    return step.rule == "chain" and bool(getattr(step, "link", False))


def narrate_chain(step: Step, n: _Narration) -> dict[str, Any]:
    u, inner, outer = step.u, step.inner, step.outer  # type: ignore[attr-defined]
    outer_step, inner_step = step.substeps
    du = _d_name(u, step.wrt)
    if _is_link(inner_step) or _is_link(step):
        # a long chain: every inner function is named (u = sin v, v = sin w, …) and each link says
        # du/dx = F′(v)·dv/dx, so the text grows linearly with the depth, not as its cube
        shown = inner.xreplace({inner_step.inner: inner_step.u}) if _is_link(inner_step) else inner  # type: ignore[attr-defined]
        says = ("let ", Is(u, shown), "; differentiate ", outer, " by ", u, ", then multiply by ", du)
        # the top of the chain too: the result in x (n nested factors) is said once, as the answer
        return {"says": says, "rhs": Times((outer_step.result, du))}
    says = ("let ", Is(u, inner), "; differentiate ", outer, " by ", u, ", then multiply by ", du)
    via = Times((step.at_inner(outer_step.result), inner_step.result))  # type: ignore[attr-defined]
    return {"says": says, "via": via}


def narrate_max(step: Step, n: _Narration) -> dict[str, Any]:
    word, cmp = ("larger", ">") if step.rule == "max" else ("smaller", "<")
    return {
        "says": (f"{step.rule} follows its {word} argument, so its derivative is that argument's derivative "
                 f"(H is the step function: 1 where an argument is the {word}, 0 elsewhere)",),
        "note": ("undefined where the arguments are equal (a corner of the graph)",),
    }


narrate_min = narrate_max


def narrate_log_differentiation(step: Step, n: _Narration) -> dict[str, Any]:
    f, g = step.base, step.exponent  # type: ignore[attr-defined]
    y = Label("y", "y")
    return {
        "says": ("both the base and the exponent depend on ", step.wrt, ": write ", Is(y, step.expr),
                 ", take logarithms, ", Is(Label("ln y", r"\ln y"), sp.Mul(g, sp.log(f))),
                 ", differentiate: ",
                 Is(Label("y′/y", r"\frac{y'}{y}"), Label(f"({oneline(g)}·ln({oneline(f)}))′",
                                                        r"\left(%s\right)'" % latex_of(sp.Mul(g, sp.log(f))))),
                 ", so ", Label("y′ = y·(g·ln f)′", r"y' = y \cdot (g \ln f)'")),
        "via": Times((step.expr, step.substeps[0].result)),
    }


def narrate_multivariable_chain(step: Step, n: _Narration) -> dict[str, Any]:
    args, partials = step.arguments, step.partials  # type: ignore[attr-defined]
    says: list[Piece] = ["the function depends on ", step.wrt, " through its arguments: ",
                         Label("dF/dx = Σ ∂F/∂aᵢ · daᵢ/dx",
                               r"\frac{dF}{dx} = \sum_i \frac{\partial F}{\partial a_i} \frac{d a_i}{dx}")]
    for a, p in zip(args, partials):
        says += ["; ", Is(Label(f"∂F/∂{oneline(a)}", r"\frac{\partial F}{\partial %s}" % latex_of(a)), p)]
    terms = tuple(Times((p, s.result)) for p, s in zip(partials, step.substeps))
    return {"says": tuple(says), "via": Plus(terms, (1,) * len(terms)) if len(terms) > 1 else None}


def narrate_sum_over(step: Step, n: _Narration) -> dict[str, Any]:
    return {"says": ("the derivative passes into the sum, term by term: ",
                     Label("d/dx Σ fᵢ = Σ dfᵢ/dx", r"\frac{d}{dx} \sum_i f_i = \sum_i \frac{d f_i}{dx}"))}


def narrate_abstract_function(step: Step, n: _Narration) -> dict[str, Any]:
    from symgrad.vocabulary.abstract import prime, view

    seen = view(step.expr)
    if seen is not None:  # f′(x) differentiated again
        name, order = symbol_text(seen[0].__name__), seen[1]
        return {"says": (f"{name}{prime(order)} is a derivative of the unknown function {name}: "
                         f"its derivative is written {name}{prime(order + 1)}",)}
    name = symbol_text(step.expr.func.__name__)
    return {"says": (f"{name} is an unknown function: its derivative is written {name}′",)}


def narrate_table(step: Step, n: _Narration) -> dict[str, Any]:
    return {"says": ("no worked rule for this function: its derivative is taken from the derivative table (SymPy)",)}


def narrate_repeat(step: Step, n: _Narration) -> dict[str, Any]:
    ref = n.number_of.get(step.ref)  # type: ignore[attr-defined]
    return {"says": (f"worked out in step {ref}" if ref else "worked out before",)}


_FUNCTION_SAYS: dict[str, tuple[tuple[Piece, ...], tuple[Piece, ...]]] = {
    # rule id -> (sentence, note); the equation itself shows the table's formula
    "tan": ((Label("tan′ = sec² = 1 + tan²", r"\tan' = \sec^2 = 1 + \tan^2"),), ()),
    "cot": ((Label("cot′ = −csc² = −(1 + cot²)", r"\cot' = -\csc^2 = -(1 + \cot^2)"),), ()),
    "tanh": ((Label("tanh′ = 1 − tanh²", r"\tanh' = 1 - \tanh^2"),), ()),
    "coth": ((Label("coth′ = 1 − coth²", r"\coth' = 1 - \coth^2"),), ()),
    "asin": ((), ("defined for |u| < 1",)),
    "acos": ((), ("defined for |u| < 1",)),
    "asec": ((), ("defined for |u| > 1",)),
    "acsc": ((), ("defined for |u| > 1",)),
    "acosh": ((), ("defined for u > 1",)),
    "atanh": ((), ("defined for |u| < 1",)),
    "acoth": ((), ("defined for |u| > 1",)),
    "asech": ((), ("defined for 0 < u < 1",)),
    "abs": (("|u| is u for u > 0 and −u for u < 0, so its derivative is u/|u|: 1 for u > 0, −1 for u < 0",),
            ("undefined at u = 0, where the graph has a corner",)),
    "sigmoid": ((Label("σ′ = σ·(1 − σ)", r"\sigma' = \sigma (1 - \sigma)"),), ()),
    "relu": (("relu(u) = max(0, u) has slope 0 for u < 0 and 1 for u > 0: the step function H(u)",),
             ("undefined at u = 0, where the graph has a corner",)),
    "softplus": (("softplus(u) = ln(1 + eᵘ), and its derivative is the sigmoid: ",
                  Label("softplus′ = σ", r"\operatorname{softplus}' = \sigma")), ()),
    "heaviside": (("the step function is flat on each side of 0, so its derivative is 0 away from 0",),
                  ("at u = 0 it jumps: the derivative there is the impulse δ (DiracDelta)",)),
    "sign": (("the sign function is flat on each side of 0, so its derivative is 0 away from 0",),
             ("at u = 0 it jumps by 2: the derivative there is 2δ (DiracDelta)",)),
    "erf": ((Label("erf′(u) = (2/√π)·e^(−u²)", r"\operatorname{erf}'(u) = \frac{2}{\sqrt{\pi}} e^{-u^2}"),), ()),
    "sinc": (("sinc(u) = sin(u)/u, so by the quotient rule its derivative is (u·cos(u) − sin(u))/u^2 = (cos(u) − "
              "sinc(u))/u",),
             ("at u = 0 this formula is 0/0; the derivative there is its limit, 0",)),
    "floor": (("floor(u) is constant between whole numbers, so its derivative is 0 there",),
              ("at a whole number u it jumps by 1: there is no derivative there",)),
    "ceiling": (("ceil(u) is constant between whole numbers, so its derivative is 0 there",),
                ("at a whole number u it jumps by 1: there is no derivative there",)),
    "round": (("round(u) is constant between the halves (… −1/2, 1/2, 3/2 …), so its derivative is 0 there",),
              ("at u = k + 1/2 it jumps by 1: there is no derivative there",)),
}


def narrate_function(step: Step, n: _Narration) -> dict[str, Any]:
    says, note = _FUNCTION_SAYS.get(step.rule, ((), ()))
    arg = step.expr.args[0] if step.expr.args else step.wrt
    note = tuple(_with_arg(p, arg) for p in note)
    says = tuple(_with_arg(p, arg) for p in says)
    return {"says": says, "note": note}


def _with_arg(piece: Piece, arg: sp.Basic) -> Piece:
    """Prose about 'u' said about the step's own argument (x, or u inside a chain)."""
    if isinstance(piece, str) and arg.is_Symbol and arg.name != "u":
        import re

        return re.sub(r"\bu\b", symbol_text(arg.name), piece)
    return piece


_NARRATORS: dict[str, Callable[[Step, _Narration], dict[str, Any]]] = {
    name[len("narrate_"):]: fn for name, fn in globals().items() if name.startswith("narrate_") and callable(fn)
}


def _node(step: Step, n: _Narration, named: sp.Symbol | None = None) -> list[StepNode]:
    """The node(s) for a step: a ``simplify`` step is said after the derivation it tidies.

    ``named``: the name the parent chain gave this step's expression (links of a long chain)."""
    if step.rule == "simplify":
        inner = _node(step.substeps[0], n)
        node = StepNode(n.number(step), "simplify", step.title, ("rewrite the result more simply",),
                        n.lhs(step), step.result, before=step.before)  # type: ignore[attr-defined]
        return inner + [node]
    number = n.number(step)
    narrator = _NARRATORS.get(step.rule, narrate_function)
    said = narrator(step, n)
    children: list[StepNode] = []
    later: list[StepNode] = []
    for sub in step.substeps:
        if _is_link(sub):
            # a long chain is told as a flat list of links under its top, not a staircase n deep
            (later if named is not None else children).extend(_node(sub, n, step.u))  # type: ignore[attr-defined]
        else:
            children.extend(_node(sub, n))
    lhs = _d_name(named, step.wrt) if named is not None else n.lhs(step)
    return [StepNode(number, step.rule, step.title, tuple(said.get("says", ())), lhs, said.get("rhs", step.result),
                     tuple(children), said.get("via"), tuple(said.get("note", ()))), *later]


_ORDINALS = {2: "Second", 3: "Third", 4: "Fourth", 5: "Fifth"}


def derivation_blocks(derivation: Derivation, partial: bool | None = None) -> list[object]:
    """The blocks that tell a derivation: per derivative taken, its steps; then any warning."""
    from symgrad.budget import deep_recursion

    if partial is None:
        partial = len(derivation.expr.free_symbols) > 1
    narration = _Narration(frozenset(derivation.variables) if partial else frozenset())
    blocks: list[object] = []
    with deep_recursion():
        for k, root in enumerate(derivation.steps):
            var = derivation.variables[k]
            if len(derivation.steps) == 1:
                heading = "Steps"
            elif len(set(derivation.variables)) > 1:
                heading = f"Steps: derivative by {symbol_text(var.name)}" + ("" if k == 0 else " of the previous "
                                                                                               "result")
            else:
                heading = (f"{_ORDINALS.get(k + 1, f'Derivative {k + 1}:')} derivative: steps" if k
                           else "First derivative: steps")
            intro = _held(ConstantView(root.expr, var)) if partial else ()
            blocks.append(StepsBlock(heading, tuple(_node(root, narration)), tuple(intro)))
    if derivation.check == "mismatch":
        blocks.append(Text(
            f"warning: the worked steps disagree with SymPy, which gives {oneline(derivation.reference)}; "
            "this is a bug in symgrad's step engine, please report it", style="warning"))
    return blocks


def derivation_document(derivation: Derivation, partial: bool | None = None, answer: bool = False) -> Document:
    """A document of the steps alone (for Jupyter and the Python API); ``answer``: then the
    answer, labelled with the derivative it is (``answer_label``)."""
    from symgrad.budget import deep_recursion

    with deep_recursion():
        blocks = derivation_blocks(derivation, partial)
        if answer:
            from symgrad.render.document import Equation

            blocks.append(Equation(answer_label(derivation, partial), derivation.result, final=True))
            if derivation.links:
                from symgrad.render.narrate.calculus import links_text

                blocks.append(links_text(derivation.links))
        return Document(tuple(blocks), title=f"Derivative of {oneline(derivation.expr)}")


def answer_label(derivation: Derivation, partial: bool | None = None) -> Label:
    """d²/dx² [σ(x)], ∂²/∂x∂y [x²·y³]: the derivative the derivation's result is, applied to its expression."""
    from symgrad.printing.labels import derivative_label

    if partial is None:
        partial = len(derivation.expr.free_symbols) > 1
    return derivative_label(derivation.variables, partial=partial, expr=derivation.expr)


def partials_document(derivations: Sequence[Derivation], steps: bool = True) -> Document:
    """The partial derivatives of a gradient, each with its steps (or only a warning, if any)."""
    from symgrad.printing.labels import derivative_label
    from symgrad.render.document import Equation, Heading

    blocks: list[object] = []
    for d in derivations:
        label = derivative_label(d.wrt, 1, partial=True)
        told = derivation_blocks(d, partial=True)
        if steps:
            blocks.append(Heading(f"{label.plain} f"))
            blocks.extend(told)
        else:
            blocks.extend(b for b in told if isinstance(b, Text))
        blocks.append(Equation(Label(f"{label.plain} f", label.latex + " f"), d.result))
    return Document(tuple(blocks))


def check_document(source: str, answer_text: str, result: Any, notes: Sequence[str] = ()) -> Document:
    """``symgrad check``: the verdict, a point where the answer differs, the step it went wrong at,
    and the correct derivation."""
    from symgrad.render.document import Equation, Interpretation

    d = result.derivation
    lhs = answer_label(d)
    notes = tuple(dict.fromkeys((*notes, *d.notes)))  # also: a variable named that does not occur
    blocks: list[object] = [Interpretation(source, d.expr, notes),
                            Interpretation(answer_text, result.answer, tuple(result.notes))]
    if result.correct:
        blocks.append(Text(f"correct: the answer equals the derivative ({result.reason})"))
        blocks.append(Equation(lhs, d.result, final=True))
        return Document(tuple(blocks), title=f"Check: derivative of {oneline(d.expr)}")
    if result.correct is None:
        blocks.append(Text(f"cannot decide: {result.reason}", style="warning"))
    else:
        blocks.append(Text("not correct", style="warning"))
        ce = result.counterexample
        if ce is not None and ce.point:
            at = ", ".join(f"{symbol_text(k)} = {v:g}" for k, v in ce.point.items())
            given = "is not a real number" if ce.left is None else f"gives {_shown(ce.left)}{_by(ce)}"
            blocks.append(Text(f"at {at} the derivative is {_shown(ce.right)} but the answer {given}"))
        if result.mistake is not None:
            m = result.mistake
            blocks.append(Text(
                f"the answer matches the derivation with one mistake, in the {m.step.title.lower()} step for "
                f"{oneline(m.step.expr)}: {m.description} (that step gives {oneline(m.step.result)}, "
                f"the answer takes it as {oneline(m.wrong)})"))
    blocks.extend(derivation_blocks(d))
    blocks.append(Equation(lhs, d.result, final=True))
    return Document(tuple(blocks), title=f"Check: derivative of {oneline(d.expr)}")


def _shown(value: float | str | None) -> str:
    return "not a real number" if value is None else value if isinstance(value, str) else f"{value:.12g}"


def _by(ce: Any) -> str:
    """How much the answer is off, when the values alone would not show it (10⁻²⁰)."""
    if ce.difference is None or ce.left is None or ce.right is None or _shown(ce.left) != _shown(ce.right):
        return ""
    return f" (the answer is off by {ce.difference})"


def table_document(rows: Sequence[Any]) -> Document:
    """``symgrad table``: f(x), f′(x) and a note, one row per entry of the table."""
    from symgrad.render.document import Heading

    cells = []
    for row in rows:
        d = row.derivation
        cells.append((d.expr, d.result, row.note))
    return Document((Heading("Derivatives of common functions"), TableBlock(("f(x)", "f′(x)", "note"), tuple(cells))),
                    title="Table of derivatives")


def derivation_latex(derivation: Derivation, mathjax: bool = False) -> str:
    """The derivation as LaTeX, ending with its answer; ``mathjax=True`` gives one display formula
    for Jupyter."""
    if not mathjax:
        return backends.to_latex(derivation_document(derivation, answer=True))
    blocks = derivation_blocks(derivation)
    rows: list[str] = []
    for block in blocks:
        if isinstance(block, StepsBlock):
            for node in _walk(block.roots):
                rows.append(_latex_row(node, tagged=True))
    rows.append(r"%s &= %s" % (answer_label(derivation).latex, latex_of(derivation.result)))
    return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"


def _walk(nodes: Sequence[StepNode]) -> list[StepNode]:
    out: list[StepNode] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


# formatting: pieces ---------------------------------------------------------------------------
def plain_piece(p: Piece) -> str:
    if isinstance(p, str):
        return p
    if isinstance(p, Label):
        return p.plain
    if isinstance(p, Is):
        return f"{plain_piece(p.lhs)} = {plain_piece(p.rhs)}"
    if isinstance(p, Times):
        return "·".join(_plain_factor(f) for f in p.factors)
    if isinstance(p, Plus):
        out = ""
        for i, (t, s) in enumerate(zip(p.terms, p.signs)):
            text = plain_piece(t)
            out += (text if s > 0 else "−" + text) if i == 0 else (" + " if s > 0 else " − ") + text
        return out
    if isinstance(p, Frac):
        return f"({plain_piece(p.numerator)})/({plain_piece(p.denominator)})"
    return oneline(p)


def _bare_factor(f: Piece) -> bool:
    """Whether a factor reads unambiguously without brackets: x, sin(x), x², f′(x²)."""
    from symgrad.vocabulary.abstract import view

    return isinstance(f, sp.Basic) and bool(
        f.is_Atom or f.is_Function or view(f) is not None
        or (f.is_Pow and f.exp.is_positive and (f.base.is_Atom or f.base.is_Function)))


def _plain_factor(f: Piece) -> str:
    text = plain_piece(f)
    if _bare_factor(f):
        return text
    if isinstance(f, Label):
        return text
    return f"({text})"


def latex_piece(p: Piece, math: bool = False) -> str:
    """LaTeX for a piece; ``math`` says whether we are already in math mode."""
    if isinstance(p, str):
        return r"\text{%s}" % latex_prose(p) if math else latex_prose(p)
    if isinstance(p, Label):
        body = p.latex
    elif isinstance(p, Is):
        body = f"{latex_piece(p.lhs, True)} = {latex_piece(p.rhs, True)}"
    elif isinstance(p, Times):
        body = r" \cdot ".join(_latex_factor(f) for f in p.factors)
    elif isinstance(p, Plus):
        body = ""
        for i, (t, s) in enumerate(zip(p.terms, p.signs)):
            text = latex_piece(t, True)
            body += (text if s > 0 else "-" + text) if i == 0 else (" + " if s > 0 else " - ") + text
    elif isinstance(p, Frac):
        body = r"\frac{%s}{%s}" % (latex_piece(p.numerator, True), latex_piece(p.denominator, True))
    else:
        body = latex_of(p)
    return body if math else f"${body}$"


def _latex_factor(f: Piece) -> str:
    text = latex_piece(f, True)
    if _bare_factor(f):
        return text
    if isinstance(f, Label):
        return text
    return r"\left(%s\right)" % text


def latex_prose(text: str) -> str:
    """Prose for LaTeX text mode: specials escaped, Unicode math made LaTeX (see ``backends``)."""
    return latex_text(text)


# formatting: plain ----------------------------------------------------------------------------
def _plain_says(node: StepNode) -> str:
    return "".join(plain_piece(p) for p in node.says)


def _plain_equation(node: StepNode) -> str:
    if node.rule == "simplify":
        return f"{oneline(node.before)} = {oneline(node.rhs)}"
    middle = f" = {plain_piece(node.via)}" if node.via is not None else ""
    return f"{node.lhs.plain}{middle} = {plain_piece(node.rhs)}"


def _plain_node(node: StepNode, depth: int, lines: list[str]) -> None:
    pad = "   " * depth
    says = _plain_says(node)
    head = f"{pad}{node.number}. {node.title}" + (f": {says}" if says else "")
    if node.children:
        lines.append(head)
        for child in node.children:
            _plain_node(child, depth + 1, lines)
        lines.append(f"{pad}   ⇒ {_plain_equation(node)}")
    elif says:
        lines.append(head)
        lines.append(f"{pad}   {_plain_equation(node)}")
    else:
        lines.append(f"{head}: {_plain_equation(node)}")
    if node.note:
        lines.append(f"{pad}   note: " + "".join(plain_piece(p) for p in node.note))


def _plain_steps(block: StepsBlock) -> list[str]:
    from symgrad.budget import deep_recursion

    lines = [block.heading]
    if block.intro:
        lines.append("(" + "".join(plain_piece(p) for p in block.intro) + ")")
    with deep_recursion():
        for root in block.roots:
            _plain_node(root, 0, lines)
    lines.append("")
    return lines


# formatting: rich -----------------------------------------------------------------------------
def _rich_steps(block: StepsBlock) -> Callable[[Any], None]:
    def draw(console: Any) -> None:
        from rich.text import Text as RichText
        from rich.tree import Tree

        from symgrad.budget import deep_recursion

        def label(node: StepNode) -> Any:
            text = RichText()
            text.append(f"{node.number}. ", style="dim")
            text.append(node.title, style="bold magenta")
            for i, p in enumerate(node.says):
                text.append(": " if i == 0 else "")
                text.append(plain_piece(p), style="cyan" if not isinstance(p, str) else "")
            text.append("\n")
            text.append(_plain_equation(node), style="bold" if node.rule == "simplify" else "")
            if node.note:
                text.append("\nnote: " + "".join(plain_piece(p) for p in node.note), style="yellow")
            return text

        def grow(tree: Any, node: StepNode) -> None:
            branch = tree.add(label(node))
            for child in node.children:
                grow(branch, child)

        title = RichText(block.heading, style="bold")
        if block.intro:
            title.append("  (" + "".join(plain_piece(p) for p in block.intro) + ")", style="dim italic")
        tree = Tree(title, guide_style="dim")
        with deep_recursion():
            for root in block.roots:
                grow(tree, root)
        console.print(tree, soft_wrap=False)  # wrap long steps inside the tree instead of cropping them

    return draw


# formatting: LaTeX ----------------------------------------------------------------------------
def _latex_row(node: StepNode, tagged: bool = False) -> str:
    if node.rule == "simplify":
        row = r"%s &= %s" % (latex_of(node.before), latex_of(node.rhs))
    elif node.via is not None:
        row = r"%s &= %s = %s" % (node.lhs.latex, latex_piece(node.via, True), latex_piece(node.rhs, True))
    else:
        row = r"%s &= %s" % (node.lhs.latex, latex_piece(node.rhs, True))
    if tagged:
        row += r" && \text{(%d) %s}" % (node.number, latex_prose(node.title))
    return row


def _latex_node(node: StepNode, depth: int, rows: list[str]) -> None:
    indent = r"\hspace*{%dem}" % (2 * depth) if depth else ""
    says = "".join(latex_piece(p) for p in node.says)
    text = r"%s(%d) \textbf{%s}%s" % (indent, node.number, latex_prose(node.title), (": " + says) if says else "")
    if node.note:
        text += r" \emph{(%s)}" % "".join(latex_piece(p) for p in node.note)
    rows.append(r"\intertext{%s}" % text)
    for child in node.children:
        _latex_node(child, depth + 1, rows)
    rows.append(_latex_row(node) + r" \\")


def _latex_steps(block: StepsBlock) -> list[str]:
    from symgrad.budget import deep_recursion

    rows: list[str] = []
    with deep_recursion():
        for root in block.roots:
            _latex_node(root, 0, rows)
    if rows and rows[-1].endswith(r" \\"):
        rows[-1] = rows[-1][:-3]
    intro = ""
    if block.intro:
        intro = " (" + "".join(latex_piece(p) for p in block.intro) + ")"
    return [r"\paragraph{%s}%s" % (latex_prose(block.heading), intro), r"\begin{align*}", *rows, r"\end{align*}"]


# formatting: Markdown -------------------------------------------------------------------------
def _md_piece(p: Piece) -> str:
    if isinstance(p, str):
        return p.replace("*", r"\*").replace("_", r"\_")
    return latex_piece(p)


def _md_node(node: StepNode, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    says = "".join(_md_piece(p) for p in node.says)
    if node.rule == "simplify":
        eq = "$%s = %s$" % (latex_of(node.before), latex_of(node.rhs))
    else:
        middle = f" = {latex_piece(node.via, True)}" if node.via is not None else ""
        eq = "$%s%s = %s$" % (node.lhs.latex, middle, latex_piece(node.rhs, True))
    head = f"{pad}- **({node.number}) {node.title}**" + (f": {says}" if says else "")
    if node.children:
        lines.append(head)
        for child in node.children:
            _md_node(child, depth + 1, lines)
        lines.append(f"{pad}  - ⇒ {eq}")
    else:
        lines.append(f"{head} — {eq}" if says else f"{head}: {eq}")
    if node.note:
        lines.append(f"{pad}  - *note: " + "".join(_md_piece(p) for p in node.note) + "*")


def _md_steps(block: StepsBlock) -> list[str]:
    from symgrad.budget import deep_recursion

    lines = [f"**{block.heading}**" + (" (" + "".join(_md_piece(p) for p in block.intro) + ")" if block.intro else ""),
             ""]
    with deep_recursion():
        for root in block.roots:
            _md_node(root, 0, lines)
    lines.append("")
    return lines


# formatting: tables ---------------------------------------------------------------------------
def _plain_table(block: TableBlock) -> list[str]:
    cells = [[plain_piece(c) for c in row] for row in block.rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(block.columns)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    lines = [fmt.format(*block.columns).rstrip(), fmt.format(*("-" * w for w in widths)).rstrip()]
    lines += [fmt.format(*r).rstrip() for r in cells]
    return lines


def _rich_table(block: TableBlock) -> Callable[[Any], None]:
    def draw(console: Any) -> None:
        from rich.table import Table

        table = Table(show_lines=False, header_style="bold magenta")
        for c in block.columns:
            table.add_column(c)
        for row in block.rows:
            table.add_row(*(plain_piece(c) for c in row))
        console.print(table)

    return draw


def _latex_table(block: TableBlock) -> list[str]:
    cols = "l" * len(block.columns)
    lines = [r"\begin{tabular}{%s}" % cols,
             " & ".join(r"\textbf{%s}" % latex_prose(c) for c in block.columns) + r" \\ \hline"]
    lines += [" & ".join(latex_piece(c) for c in row) + r" \\" for row in block.rows]
    lines.append(r"\end{tabular}")
    return lines


def _md_table(block: TableBlock) -> list[str]:
    lines = ["| " + " | ".join(block.columns) + " |", "|" + " --- |" * len(block.columns)]
    lines += ["| " + " | ".join(_md_piece(c).replace("|", r"\|") for c in row) + " |" for row in block.rows]
    lines.append("")
    return lines


backends.EXTRA_BLOCKS.update({
    ("plain", StepsBlock): _plain_steps,
    ("rich", StepsBlock): _rich_steps,
    ("latex", StepsBlock): _latex_steps,
    ("markdown", StepsBlock): _md_steps,
    ("plain", TableBlock): _plain_table,
    ("rich", TableBlock): _rich_table,
    ("latex", TableBlock): _latex_table,
    ("markdown", TableBlock): _md_table,
})

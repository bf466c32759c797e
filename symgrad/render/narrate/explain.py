"""Narrating optimizer steps: ``symgrad.numeric.explain`` steps -> document blocks, every format.

Stage: rendering, for ``descend --explain``. ``explain_blocks`` says what is shown (a heading,
then each step: the point and the gradient, then each quantity ``name = formula = numbers =
value``); the ``StepsBlock`` formatters at the bottom say how, one per backend, registered in
``symgrad.render.backends.EXTRA_BLOCKS``. Values are shown to 8 significant digits, as the
descent's table shows the iterates; JSON has them in full (``descend`` adds them to its
trajectory).

>>> from symgrad.numeric.compile import compile
>>> from symgrad.numeric.descend import descend, objective
>>> from symgrad.numeric.explain import explain
>>> from symgrad.numeric.optimizers import gd
>>> from symgrad.render.backends import to_plain
>>> from symgrad.render.document import Document
>>> opt = gd(lr=0.1)
>>> run = descend(objective(compile("x cos(pi x)", backend="math")), (0.5,), opt, steps=1, keep=1)
>>> print(to_plain(Document((StepsBlock(explain(run, opt), ("x",)),))), end="")
step 1: θ₀ = 0.5, g₁ = ∇f(θ₀) = -1.5707963
  θ₁ = θ₀ − lr·g₁ = 0.5 − 0.1·(-1.5707963) = 0.65707963
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from symgrad.numeric.explain import ExplainedStep, Quantity, number
from symgrad.printing.oneline import symbol_text
from symgrad.records import record
from symgrad.render import backends
from symgrad.render.document import Heading, Text

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@record
class StepsBlock:
    """The explained steps of one run; ``variables`` name the components of θ."""

    steps: tuple[ExplainedStep, ...]
    variables: tuple[str, ...]


def explain_blocks(steps: Sequence[ExplainedStep], variables: Sequence[str], optimizer: Any) -> list[object]:
    """A heading, the notation, and the steps (nothing when there are none)."""
    if not steps:
        return []
    names = ", ".join(symbol_text(v) for v in variables)
    theta = f"θ = ({names})" if len(variables) > 1 else f"θ = {symbol_text(variables[0])}"
    span = "step 1" if len(steps) == 1 else f"steps 1–{len(steps)}"
    return [Heading(f"{span} in full: {optimizer.name}'s update with torch.optim's formulas"),
            Text(f"{theta}; step t starts from the point before it and its gradient gₜ; vectors are element by "
                 "element (g² squares each entry)", "muted"),
            StepsBlock(tuple(steps), tuple(variables))]


def _vec(values: Sequence[float], latex: bool = False) -> str:
    if len(values) == 1:
        return number(values[0])
    inner = ", ".join(number(v) for v in values)
    return rf"\left({inner}\right)" if latex else f"({inner})"


def _head(step: ExplainedStep, latex: bool = False) -> str:
    t = step.step
    if latex:
        return (rf"\theta_{{{t - 1}}} = {_vec(step.before, True)},\quad g_{{{t}}} = \nabla f(\theta_{{{t - 1}}})"
                rf" = {_vec(step.gradient, True)}")
    return (f"θ{str(t - 1).translate(_SUB)} = {_vec(step.before)}, g{str(t).translate(_SUB)} = "
            f"∇f(θ{str(t - 1).translate(_SUB)}) = {_vec(step.gradient)}")


def _line(q: Quantity, latex: bool = False) -> str:
    if latex:
        return f"{q.label.latex} &= {q.formula.latex} = {q.filled.latex} = {_vec(q.value, True)}"
    return f"{q.label.plain} = {q.formula.plain} = {q.filled.plain} = {_vec(q.value)}"


def _plain(block: StepsBlock) -> list[str]:
    lines = []
    for step in block.steps:
        lines.append(f"step {step.step}: {_head(step)}")
        lines.extend("  " + _line(q) for q in step.quantities)
    return lines


def _latex(block: StepsBlock) -> list[str]:
    lines = []
    for step in block.steps:
        lines.append(r"\noindent Step %d: $%s$" % (step.step, _head(step, True)))
        lines.append(r"\begin{align*}")
        lines.append(" \\\\\n".join(_line(q, True) for q in step.quantities))
        lines.append(r"\end{align*}")
    return lines


def _markdown(block: StepsBlock) -> list[str]:
    lines = []
    for step in block.steps:
        lines += [f"**Step {step.step}**: ${_head(step, True)}$", ""]
        lines += [f"- ${_line(q, True).replace('&=', '=')}$" for q in step.quantities]
        lines.append("")
    return lines


def _rich(block: StepsBlock) -> Any:
    def show(console: Any) -> None:
        from rich.text import Text as RichText

        for step in block.steps:
            console.print(RichText.assemble((f"step {step.step}: ", "bold"), _head(step)))
            for q in step.quantities:
                text = RichText.assemble("  ", (q.label.plain, "bold"), f" = {q.formula.plain} = ",
                                         (q.filled.plain, "cyan"), " = ")
                text.append(_vec(q.value), style="bold green" if q.key == "theta" else "bold")
                console.print(text)

    return show


backends.EXTRA_BLOCKS.update({
    ("plain", StepsBlock): _plain,
    ("latex", StepsBlock): _latex,
    ("markdown", StepsBlock): _markdown,
    ("rich", StepsBlock): _rich,
})

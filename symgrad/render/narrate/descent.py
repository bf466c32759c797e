"""Narrating a descent: runs -> a ``Document`` (tables of iterates, a sparkline of f, the outcome).

Stage: rendering, for the numeric commands. What to say lives here; how to format it lives in the
backends. The ``Table`` block is new, so this module registers one formatter for it per backend
(plain, LaTeX, Markdown, Rich) in ``symgrad.render.backends.EXTRA_BLOCKS``. To say more about a
run, add blocks in ``descent_document``; to add a block kind, add a record and its formatters.

>>> sparkline([4.0, 2.0, 1.0, 0.5, 0.25])
'█▄▂▁▁'
>>> shorten(list(range(30)), head=3, tail=2)
[0, 1, 2, None, 28, 29]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import sympy as sp

from symgrad.numeric.descend import Iterate, Run
from symgrad.printing.labels import Label
from symgrad.printing.latex import latex_text
from symgrad.printing.oneline import symbol_text
from symgrad.records import record
from symgrad.render import backends
from symgrad.render.document import Document, Heading, Interpretation, Text, Vector

T = TypeVar("T")

_BARS = "▁▂▃▄▅▆▇█"


@record
class Table:
    """Rows of text under a header; a row of ``None`` marks rows left out."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...] | None, ...]


def sparkline(values: Sequence[float], width: int = 60) -> str:
    """f per step as a row of bars, at most ``width`` wide (long runs are sampled evenly)."""
    if not values:
        return ""
    if len(values) > width:
        picks = [round(k * (len(values) - 1) / (width - 1)) for k in range(width)]
        values = [values[p] for p in picks]
    lo, hi = min(values), max(values)
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        return _BARS[3] * len(values)
    return "".join(_BARS[min(7, int((v - lo) / (hi - lo) * 8))] for v in values)


def shorten(items: Sequence[T], head: int = 10, tail: int = 10) -> list[T | None]:
    """The first ``head`` and last ``tail`` items with ``None`` for the gap (long runs)."""
    if len(items) <= head + tail + 1:
        return list(items)
    return [*items[:head], None, *items[-tail:]]


def number(value: float) -> str:
    """A float in a table: 8 significant digits."""
    return f"{value:.8g}"


def point_text(variables: Sequence[sp.Symbol], point: Sequence[float]) -> str:
    return ", ".join(f"{symbol_text(v.name)}={number(p)}" for v, p in zip(variables, point))


def iterate_table(variables: Sequence[sp.Symbol], run: Run) -> Table:
    header = ("step", *(symbol_text(v.name) for v in variables), "f", "‖∇f‖")

    def row(it: Iterate | None) -> tuple[str, ...] | None:
        if it is None:
            return None
        return (str(it.step), *(number(p) for p in it.point), number(it.value), f"{it.grad_norm:.3g}")

    return Table(header, tuple(row(it) for it in shorten(run.trajectory)))


def outcome(variables: Sequence[sp.Symbol], run: Run, lr: float | None) -> list[Text]:
    """What became of a run: its last point and why it stopped (with a hint where one helps)."""
    final = run.final
    where = f"{point_text(variables, final.point)}, f={number(final.value)}, ‖∇f‖={final.grad_norm:.3g}"
    steps = f"{final.step} step{'s' * (final.step != 1)}"
    if run.stopped == "tolerance":
        lines = [Text(f"converged: ‖∇f‖ fell below the tolerance after {steps} at {where}")]
    elif run.stopped == "diverged":
        hint = "; try a smaller learning rate" + (f", e.g. --lr {lr / 10:g}" if lr else "")
        if not run.smaller_steps_help:
            hint = ""  # f ran off to ±∞ while improving, or eps = 0: a smaller step would not help
        lines = [Text(f"diverged after {steps}: {run.note}. Last good point: {where}{hint}", "warning")]
    elif run.stopped == "interrupted":
        lines = [Text(f"interrupted after {steps} at {where}", "warning")]
    elif run.stopped == "budget":
        lines = [Text(f"stopped by the time budget after {steps} at {where} (raise --timeout to go on)",
                      "warning")]
    else:
        settled = "" if run.converged else " (not converged yet)"
        lines = [Text(f"stopped after {steps} at {where}{settled}")]
    if run.note and run.stopped != "diverged":
        lines.append(Text(run.note, "note"))
    return lines


def _distinct(points: list[tuple[float, ...]]) -> int:
    groups: list[tuple[float, ...]] = []
    for p in points:
        if not any(max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(p, q)) < 1e-3 for q in groups):
            groups.append(p)
    return len(groups)


def descent_document(
    source: str,
    expr: sp.Basic,
    notes: Sequence[str],
    variables: Sequence[sp.Symbol],
    gradient: Sequence[sp.Basic],
    optimizer: Any,
    runs: Sequence[Run],
    data_line: str | None = None,
    not_started: Sequence[Sequence[float]] = (),
    why_not: str = "interrupted",
) -> Document:
    """What ``symgrad descend`` says: the function, its gradient, the optimizer, then each run.

    ``not_started``: the starts an interruption or the time budget left out (listed, not run;
    ``why_not`` says which).
    """
    names = ", ".join(symbol_text(v.name) for v in variables)
    blocks: list[object] = [
        Interpretation(source, expr, tuple(notes)),
        Vector(Label(f"∇f({names})", r"\nabla f(%s)" % ", ".join(sp.latex(v) for v in variables)), tuple(gradient)),
    ]
    opts = ", ".join(f"{k}={_option_text(v)}" for k, v in optimizer.options.items())
    blocks.append(Text(f"optimizer: {optimizer.name} ({opts})"))
    if data_line:
        blocks.append(Text(data_line))
    lr = optimizer.options.get("lr")
    for k, run in enumerate(runs, 1):
        blocks.append(Heading(f"run {k} from {point_text(variables, run.start)}"))
        blocks.append(iterate_table(variables, run))
        values = [it.value for it in run.trajectory]
        blocks.append(Text(f"f per step: {sparkline(values)}", "muted"))
        blocks.extend(outcome(variables, run, lr))
    for k, point in enumerate(not_started, len(runs) + 1):
        blocks.append(Text(f"run {k} from {point_text(variables, point)}: not started ({why_not})", "warning"))
    if len(runs) > 1:
        blocks.append(Heading("summary"))
        blocks.extend(Text(f"from {point_text(variables, r.start)} to {point_text(variables, r.final.point)} "
                           f"(f={number(r.final.value)}, {_state(r)})") for r in runs)
        settled = [r for r in runs if r.converged]
        if len(settled) > 1 and _distinct([r.final.point for r in settled]) > 1:
            which = "the runs" if len(settled) == len(runs) else "the runs that converged"
            blocks.append(Text(f"{which} converged to different points: different starts can lead to different "
                               "minima", "note"))
    return Document(tuple(blocks), title="symgrad descend")


def _state(run: Run) -> str:
    if run.converged:
        return "converged"
    return {"diverged": "diverged", "interrupted": "interrupted",
            "budget": "stopped by the time budget"}.get(run.stopped, "not converged")


def _option_text(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# formatters for the Table block -------------------------------------------------------------
def _widths(table: Table) -> list[int]:
    rows = [table.header, *(r for r in table.rows if r is not None)]
    return [max(len(r[c]) for r in rows) for c in range(len(table.header))]


def _plain(table: Table) -> list[str]:
    widths = _widths(table)
    lines = ["  ".join(h.rjust(w) for h, w in zip(table.header, widths))]
    for row in table.rows:
        if row is None:
            lines.append("  ".join("⋮".rjust(w) for w in widths))
        else:
            lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths)))
    return lines


def _markdown(table: Table) -> list[str]:
    lines = ["| " + " | ".join(table.header) + " |", "|" + "|".join("---:" for _ in table.header) + "|"]
    for row in table.rows:
        cells = ["…"] * len(table.header) if row is None else list(row)
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def _latex(table: Table) -> list[str]:
    def esc(text: str) -> str:
        return latex_text(text).replace("‖∇f‖", r"$\|\nabla f\|$")

    lines = [r"\begin{tabular}{%s}" % ("r" * len(table.header)),
             " & ".join(esc(h) for h in table.header) + r" \\ \hline"]
    for row in table.rows:
        cells = [r"\vdots"] * len(table.header) if row is None else [esc(c) for c in row]
        lines.append(" & ".join(cells) + r" \\")
    lines.append(r"\end{tabular}\par")
    return lines


def _rich(table: Table) -> Any:
    def show(console: Any) -> None:
        from rich.table import Table as RichTable

        t = RichTable(show_edge=False, box=None, pad_edge=False, header_style="bold")
        for h in table.header:
            t.add_column(h, justify="right")
        for row in table.rows:
            t.add_row(*(["⋮"] * len(table.header) if row is None else row), style="dim" if row is None else "")
        console.print(t)

    return show


backends.EXTRA_BLOCKS[("plain", Table)] = _plain
backends.EXTRA_BLOCKS[("markdown", Table)] = _markdown
backends.EXTRA_BLOCKS[("latex", Table)] = _latex
backends.EXTRA_BLOCKS[("rich", Table)] = _rich

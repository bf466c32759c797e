"""Pictures of descents: the curve with its iterates (one variable), contours with the paths (two),
f per step (more). Like the figures in the course notes.

Stage: numbers -> a file. matplotlib is optional (``pip install 'symgrad[plot]'``) and imported
only here, only when a plot is asked for; it draws on a ``Figure`` of its own (the Agg canvas),
never through pyplot's global state. The file is written by ``symgrad.files.replace``: complete or
not at all. To add a kind of picture, add a ``_draw_…`` function and
choose it in ``plot_runs``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sympy as sp

from symgrad.errors import ComputeError, InputError
from symgrad.numeric.descend import Run

FORMATS = (".png", ".svg", ".pdf")
GRID = 160


def _matplotlib() -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ComputeError("--plot needs matplotlib, which is not installed",
                           suggestion="pip install 'symgrad[plot]'") from None
    return Figure, FigureCanvasAgg


def _safe(fn: Callable[[Sequence[float]], float], point: Sequence[float]) -> float:
    try:
        value = float(fn(point))
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return math.nan
    return value if math.isfinite(value) else math.nan


def _window(values: Sequence[float]) -> tuple[float, float]:
    """A range showing the iterates with a margin; a run that flew off keeps its sensible start."""
    kept: list[float] = []
    for v in values:
        trial = [*kept, v]
        if kept and max(trial) - min(trial) > 1e4 * max(1.0, max(abs(k) for k in kept)):
            break
        kept = trial
    lo, hi = min(kept), max(kept)
    pad = 0.25 * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def _label(variables: Sequence[sp.Symbol], run: Run, k: int) -> str:
    from symgrad.printing.oneline import symbol_text

    start = ", ".join(f"{symbol_text(v.name)}={p:g}" for v, p in zip(variables, run.start))
    return f"run {k} from {start} ({run.stopped})"


def plot_runs(
    path: str | Path,
    expr: sp.Basic,
    variables: Sequence[sp.Symbol],
    runs: Sequence[Run],
    value: Callable[[Sequence[float]], float],
    title: str | None = None,
) -> Path:
    """Draw ``runs`` of a descent on ``expr`` to ``path`` (PNG, SVG or PDF) and return the path."""
    from symgrad.printing.oneline import oneline

    out = Path(path)
    if out.suffix.lower() not in FORMATS:
        raise InputError(f"cannot draw to '{out.name}': use a file ending in .png, .svg or .pdf")
    Figure, Canvas = _matplotlib()
    fig = Figure(figsize=(7.5, 5.5), dpi=110, layout="constrained")
    Canvas(fig)
    ax = fig.subplots()
    drawable = [r for r in runs if r.trajectory]
    if len(variables) == 1:
        _draw_curve(ax, variables, drawable, value)
    elif len(variables) == 2:
        _draw_contours(ax, fig, variables, drawable, value)
    else:
        _draw_values(ax, variables, drawable)
    heading = f"f = {oneline(expr)}"
    ax.set_title(heading if len(heading) <= 90 else heading[:87] + "…", fontsize=11)
    if drawable:
        ax.legend(loc="best", fontsize=8, framealpha=0.85)
    from symgrad.files import replace

    with replace(out) as stream:  # atomic: a failed write keeps an old picture (WriteError, exit 1)
        fig.savefig(stream, format=out.suffix.lower()[1:])
    return out


def _draw_curve(ax: Any, variables: Sequence[sp.Symbol], runs: Sequence[Run], value: Callable[..., float]) -> None:
    from symgrad.printing.oneline import symbol_text

    xs_all = [it.point[0] for r in runs for it in r.trajectory] or [0.0]
    lo, hi = _window(xs_all)
    grid = [lo + (hi - lo) * k / 599 for k in range(600)]
    ax.plot(grid, [_safe(value, [x]) for x in grid], color="0.25", lw=1.6, label="f")
    for k, run in enumerate(runs, 1):
        pts = [(it.point[0], it.value) for it in run.trajectory if lo <= it.point[0] <= hi]
        if not pts:
            continue
        xs, fs = zip(*pts)
        line = ax.plot(xs, fs, "-o", ms=4, lw=1, alpha=0.85, label=_label(variables, run, k))[0]
        ax.plot(xs[0], fs[0], "o", ms=9, mfc="none", mec=line.get_color(), mew=2)
        ax.plot(xs[-1], fs[-1], "*", ms=14, color=line.get_color(), mec="black", mew=0.6)
    ax.set_xlabel(symbol_text(variables[0].name))
    ax.set_ylabel("f")
    ax.grid(alpha=0.3)


def _draw_contours(ax: Any, fig: Any, variables: Sequence[sp.Symbol], runs: Sequence[Run],
                   value: Callable[..., float]) -> None:
    import numpy as np

    from symgrad.printing.oneline import symbol_text

    x_lo, x_hi = _window([it.point[0] for r in runs for it in r.trajectory] or [0.0])
    y_lo, y_hi = _window([it.point[1] for r in runs for it in r.trajectory] or [0.0])
    gx = np.linspace(x_lo, x_hi, GRID)
    gy = np.linspace(y_lo, y_hi, GRID)
    Z = np.array([[_safe(value, [x, y]) for x in gx] for y in gy])
    finite = Z[np.isfinite(Z)]
    if finite.size:
        # levels at quantiles follow the shape of any landscape (a narrow valley, a bowl, a saddle)
        levels = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, 24) ** 2))
        if levels.size >= 2:
            filled = ax.contourf(gx, gy, Z, levels=levels, cmap="viridis", alpha=0.55)
            ax.contour(gx, gy, Z, levels=levels, colors="k", linewidths=0.4, alpha=0.5)
            fig.colorbar(filled, ax=ax, label="f", format="%.3g")
    colors = ["#d62728", "#ff7f0e", "#1f77b4", "#e377c2", "#17becf", "#8c564b"]
    for k, run in enumerate(runs, 1):
        color = colors[(k - 1) % len(colors)]
        pts = [it.point for it in run.trajectory if x_lo <= it.point[0] <= x_hi and y_lo <= it.point[1] <= y_hi]
        if not pts:
            continue
        xs, ys = zip(*pts)
        marker = "o" if len(xs) <= 200 else None
        ax.plot(xs, ys, "-", marker=marker, ms=2.5, lw=1.3, color=color, label=_label(variables, run, k))
        ax.plot(xs[0], ys[0], "o", ms=9, mfc="white", mec=color, mew=2)
        ax.plot(xs[-1], ys[-1], "*", ms=15, color=color, mec="black", mew=0.6)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel(symbol_text(variables[0].name))
    ax.set_ylabel(symbol_text(variables[1].name))


def _draw_values(ax: Any, variables: Sequence[sp.Symbol], runs: Sequence[Run]) -> None:
    positive = all(it.value > 0 for r in runs for it in r.trajectory)
    for k, run in enumerate(runs, 1):
        ax.plot([it.step for it in run.trajectory], [it.value for it in run.trajectory], lw=1.4,
                label=_label(variables, run, k))
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("f")
    ax.grid(alpha=0.3)

"""The descent loop: fold an optimizer over a compiled gradient, one run per starting point.

Stage: numbers. ``descend`` evaluates f and ∇f at the iterate, records it, and asks the optimizer
for the next one. It stops after ``steps`` updates, when ‖∇f‖ < ``tol``, or when the iterate,
f or ∇f stops being a finite number (overflow, NaN, a point outside f's domain): the run then
"diverged" and its last recorded iterate is the last finite one. Long runs check the time budget
(``symgrad.budget``) and report progress through a callback, so they never hang the CLI.

The objective is any ``value_and_grad(point, step) -> (f, ∇f)``: ``objective(compiled)`` makes one
from ``symgrad.compile``; ``symgrad.numeric.data`` makes mini-batch ones (the step picks the batch).
To add a stopping rule, add its name to ``STOP_REASONS`` and a check in the loop.

>>> from symgrad.numeric.compile import compile
>>> from symgrad.numeric.optimizers import gd
>>> run = descend(objective(compile("x^2", backend="math")), (1.0,), gd(lr=0.25), steps=3)
>>> [it.point[0] for it in run.trajectory], run.stopped
([1.0, 0.5, 0.25, 0.125], 'steps')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from symgrad.records import record
from typing import Any, NamedTuple

from symgrad.numeric.optimizers import Optimizer

STOP_REASONS = ("steps", "tolerance", "diverged")

MAX_STEPS = 10_000_000
"""More steps than this is a typo; the time budget would stop such a run anyway."""

ValueAndGrad = Callable[[tuple[float, ...], int], tuple[float, Sequence[float]]]


class Iterate(NamedTuple):
    """One point of a trajectory: the step that reached it, the point, f and ‖∇f‖ there."""

    step: int
    point: tuple[float, ...]
    value: float
    grad_norm: float


@record
class Run:
    """One descent from one start: every iterate, why it stopped, and (when it diverged) why."""

    start: tuple[float, ...]
    trajectory: tuple[Iterate, ...]
    stopped: str
    note: str | None = None

    @property
    def final(self) -> Iterate:
        """The last finite iterate."""
        return self.trajectory[-1]


def objective(compiled: Any) -> ValueAndGrad:
    """``value_and_grad(point, step)`` from a ``Compiled`` with ``value_and_grad`` (math backend is fastest)."""
    vg = compiled.value_and_grad
    if vg is None:
        raise ValueError("compile the expression with what=['value_and_grad'] (or the default)")
    return lambda point, step: vg(*point)


def _finite(values: Sequence[float]) -> bool:
    return all(math.isfinite(v) for v in values)


def _where(point: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in point) + ")"


def _failure(point: Sequence[float], exc: Exception) -> str:
    if max(abs(v) for v in point) > 1e100 or isinstance(exc, OverflowError):
        return f"the iterate grew to {_where(point)} and f or ∇f overflowed there"
    return f"f or ∇f cannot be evaluated at {_where(point)} ({exc}): the iterate left f's domain"


def descend(
    value_and_grad: ValueAndGrad,
    start: Sequence[float],
    optimizer: Optimizer,
    steps: int = 100,
    tol: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> Run:
    """Run ``optimizer`` from ``start`` for at most ``steps`` updates (see the module docstring).

    >>> from symgrad.numeric.compile import compile
    >>> from symgrad.numeric.optimizers import gd
    >>> vg = objective(compile("x^2", backend="math"))
    >>> run = descend(vg, (1.0,), gd(lr=0.5), steps=10, tol=1e-8)
    >>> run.stopped, run.final.point, len(run.trajectory)   # one step lands on the minimum
    ('tolerance', (0.0,), 2)
    >>> descend(vg, (1.0,), gd(lr=1.5), steps=5000).stopped   # |1 − 2·1.5| = 2: doubles each step
    'diverged'
    """
    from symgrad import budget

    if steps < 0 or steps > MAX_STEPS:
        from symgrad.errors import InputError

        raise InputError(f"steps must be between 0 and {MAX_STEPS:,}, not {steps}")
    params = tuple(float(v) for v in start)
    state = optimizer.init(params)
    trajectory: list[Iterate] = []
    stopped, note = "steps", None
    for step in range(steps + 1):
        try:
            value, grad = value_and_grad(params, step)
            value = float(value)
            grad = tuple(float(g) for g in grad)
            norm = math.hypot(*grad)
        except (OverflowError, ZeroDivisionError, ValueError) as exc:
            stopped, note = "diverged", _failure(params, exc)
            break
        if not (math.isfinite(value) and math.isfinite(norm)):
            stopped, note = "diverged", f"f or ∇f is not a finite number at {_where(params)}"
            break
        trajectory.append(Iterate(step, params, value, norm))
        if tol is not None and norm < tol:
            stopped = "tolerance"
            break
        if step == steps:
            break
        try:
            params, state = optimizer.update(grad, state, params)
        except (OverflowError, ZeroDivisionError, ValueError) as exc:
            stopped, note = "diverged", f"the update overflowed after {_where(params)}: {exc}"
            break
        if not _finite(params):
            stopped, note = "diverged", "the next iterate overflowed (it is not a finite number)"
            break
        if step & 1023 == 1023:
            budget.check("the descent")
            if progress is not None:
                progress(step + 1)
    if not trajectory:
        note = note or "f cannot be evaluated at the start"
    return Run(tuple(float(v) for v in start), tuple(trajectory), stopped, note)

"""The descent loop: fold an optimizer over a compiled gradient, one run per starting point.

Stage: numbers. ``descend`` evaluates f and ∇f at the iterate, records it, and asks the optimizer
for the next one. A run stops

- after ``steps`` updates (``"steps"``), or when ‖∇f‖ < ``tol`` (``"tolerance"``);
- when it **diverges** (``"diverged"``, with ``Run.cause`` and a ``note`` saying why):
  ``overflow`` (f, ∇f or the next iterate is beyond the range of floats), ``domain`` (f or ∇f is
  not a real number there: ``ln`` of a negative number, ``x^(1/3)`` at x < 0), ``pole`` (a
  division by zero: ∇f of ``x^(1/3)`` at 0), ``precision`` (the argument of a periodic function is
  so large that the spacing of floats there exceeds its period: no digit of ``cos(πx)`` is
  meaningful, see ``PeriodicGuard``) or ``growth`` (the iterate runs away geometrically while f
  does not keep falling, see ``running_away``). The last recorded iterate is the last good one;
- when ``interrupt`` is set (``"interrupted"``: Ctrl-C in the CLI), with the iterates so far;
- when the time budget is running out (``"budget"``: less than ``BUDGET_RESERVE`` of it left), so
  that the iterates so far can still be shown within it.

At the start itself f and ∇f must have values: a start outside f's domain is bad input
(``InputError``), one where f is beyond floats could-not-compute (``ComputeError``).

Long runs check the time budget (``symgrad.budget``) and report progress through a callback.

The objective is any ``value_and_grad(point, step) -> (f, ∇f)``: ``objective(compiled)`` makes one
from ``symgrad.compile`` (with the periodic-argument guard); ``symgrad.numeric.data`` makes
mini-batch ones (the step picks the batch). ``problem`` builds either from an expression, as the
CLI does. An objective may raise ``Undefined`` to say why a point has no usable value. To add a
stopping rule, add a check to the loop of ``descend`` that sets ``stopped`` (documented on ``Run``;
a new cause of divergence goes into ``objective.CAUSES``).

>>> from symgrad.numeric.compile import compile
>>> from symgrad.numeric.optimizers import gd
>>> run = descend(objective(compile("x^2", backend="math")), (1.0,), gd(lr=0.25), steps=3)
>>> [it.point[0] for it in run.trajectory], run.stopped
([1.0, 0.5, 0.25, 0.125], 'steps')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any, NamedTuple

from symgrad.errors import ComputeError, InputError
from symgrad.numeric.objective import Undefined, ValueAndGrad, failure, objective
from symgrad.numeric.optimizers import Optimizer
from symgrad.records import record

MAX_UPDATES = 1_000_000
"""Updates of one run (and, in the CLI, of all runs together): every iterate is kept (for the
table, the plot and the JSON), about 200 bytes each; more is a typo, or a job for other tools."""


GROWTH_WINDOWS = tuple(20 * 2**k for k in range(16))  # 20, 40, 80, … up to MAX_UPDATES
"""The windows (in updates) over which ``running_away`` compares the run with itself."""


def growth_limit(window: int) -> float:
    """How many times farther from the start a run may get over ``window`` updates before it counts
    as running away: 2.5·(W + 1)². Motion driven by a bounded gradient (even heavy momentum under a
    constant force, the fastest case) gets at most about (W + 1)²/2 times farther in W updates from
    its first one; faster growth is the geometric escape of an unstable iteration.

    >>> growth_limit(20)
    1102.5
    """
    return 2.5 * (window + 1) ** 2


SETTLED = 1e-6
"""A run that stopped after its steps has converged (``Run.converged``) when ‖∇f‖ and the last
update are both below this fraction of their largest values along the run."""


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
    cause: str | None = None
    smaller_steps_help: bool = True  # for a divergence: would a smaller learning rate help?

    @property
    def final(self) -> Iterate:
        """The last good iterate."""
        return self.trajectory[-1]

    @property
    def converged(self) -> bool:
        """Did the run settle? Its tolerance was met, or ‖∇f‖ and the step fell below ``SETTLED``
        times their largest values (a run that ended at its start: ‖∇f‖ = 0 there)."""
        if self.stopped == "tolerance":
            return True
        if self.stopped != "steps":
            return False
        traj = self.trajectory
        norms = [it.grad_norm for it in traj]
        if len(traj) < 2:
            return norms[-1] == 0.0
        moves = [_distance(a.point, b.point) for a, b in pairwise(traj)]
        return norms[-1] <= SETTLED * max(norms) and moves[-1] <= SETTLED * max(moves)


def _distance(a: Sequence[float], b: Sequence[float]) -> float:
    return math.dist(a, b)


def where(point: Sequence[float], names: Sequence[str] | None = None) -> str:
    """A point as the messages write it: ``x=1, y=2`` (or ``(1, 2)`` without names).

    >>> where((1.0, 2.5e-9), ["x", "y"]), where((1.0,))
    ('x=1, y=2.5e-09', '(1)')
    """
    if names is not None and len(names) == len(point):
        return ", ".join(f"{n}={v:.8g}" for n, v in zip(names, point))
    return "(" + ", ".join(f"{v:.8g}" for v in point) + ")"


# the loop ------------------------------------------------------------------------------------------
def _evaluate(value_and_grad: ValueAndGrad, params: tuple[float, ...],
              step: int) -> tuple[float, tuple[float, ...], float]:
    """(f, ∇f, ‖∇f‖) at ``params``, or ``Undefined`` saying why there is none."""
    try:
        value, grad = value_and_grad(params, step)
    except Undefined:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise failure("f or ∇f", exc) from None
    except TypeError as exc:
        if "complex" not in str(exc):
            raise
        raise failure("f or ∇f", exc) from None
    if type(value) is float:  # the usual case, fast: a float f and real numbers in ∇f
        try:
            norm = math.hypot(*grad)  # finite only when every entry is; complex entries raise
        except TypeError:
            pass
        else:
            if math.isfinite(value) and math.isfinite(norm):
                return value, tuple(grad), norm
    if isinstance(value, complex) or _is_complex(value):
        raise Undefined("domain", "f is not a real number")
    grad = tuple(grad)
    if any(isinstance(g, complex) or _is_complex(g) for g in grad):
        raise Undefined("domain", "∇f is not a real number")
    value = float(value)
    grad = tuple(float(g) for g in grad)
    if math.isnan(value) or any(math.isnan(g) for g in grad):
        raise Undefined("domain", f"{'f' if math.isnan(value) else '∇f'} is not a number (NaN: an undefined "
                                  "operation such as ∞ − ∞ or 0·∞, after an overflow or outside f's domain)")
    if math.isinf(value):
        side = "above 1.8e308" if value > 0 else "below −1.8e308"
        raise Undefined("overflow", f"f is beyond the range of floating-point numbers ({side})")
    if not all(math.isfinite(g) for g in grad):
        raise Undefined("overflow", "∇f is beyond the range of floating-point numbers")
    norm = math.hypot(*grad)
    if not math.isfinite(norm):
        raise Undefined("overflow", "‖∇f‖ is beyond the range of floating-point numbers")
    return value, grad, norm


def _is_complex(value: object) -> bool:
    # a NumPy complex scalar is not a Python complex
    return getattr(value, "imag", 0) != 0 or "complex" in type(value).__name__


def check_updates(updates: int) -> int:
    """The number of updates, refused outside 0 … ``MAX_UPDATES``."""
    if isinstance(updates, bool) or not isinstance(updates, int) or not 0 <= updates <= MAX_UPDATES:
        raise InputError(f"the number of steps must be a whole number from 0 to {MAX_UPDATES:,}, not {updates}")
    return updates


def check_tolerance(tol: float | None) -> float | None:
    """The gradient tolerance: None, or a finite number ≥ 0."""
    if tol is None:
        return None
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (math.isfinite(tol) and tol >= 0):
        raise InputError(f"the tolerance must be a finite number ≥ 0, not {tol}",
                         suggestion="for example --tol 1e-8")
    return float(tol)


def running_away(
    trajectory: Sequence[Iterate], farthest: Sequence[float], maximize: bool, falling: bool = False
) -> str | None:
    """Why the run is diverging by growth, or None (``falling``: the note for a run still moving
    away geometrically while f keeps improving: f may be unbounded).

    ``farthest[k]`` is the largest distance from the start up to step k. The run is running away
    when, over one of the ``GROWTH_WINDOWS`` (W updates ending now, starting after step 0), its
    farthest distance grew more than ``growth_limit(W)``-fold and f is worse than W steps ago
    (higher; lower with ``maximize``). The second condition keeps legitimate geometric growth out:
    escaping a saddle point or a maximum also moves away geometrically, but with f falling.
    """
    k = len(trajectory) - 1
    now = farthest[k]
    value = trajectory[k].value
    for window in GROWTH_WINDOWS:
        if window >= k:
            break
        before = farthest[k - window]
        if not (before > 0 and now > growth_limit(window) * before):
            continue
        then = trajectory[k - window].value
        worse = value < then if maximize else value > then
        if worse == falling:
            continue
        ratio = now / before
        moved = (f"its distance from the start grew {ratio:.3g}-fold over the last {window} steps, "
                 f"about ×{ratio ** (1 / window):.3g} a step")
        if falling:
            return (f"at the end the iterate was still moving away geometrically ({moved}) while f kept "
                    f"{'rising' if maximize else 'falling'}: f may be unbounded {'above' if maximize else 'below'} "
                    "in this direction")
        return (f"the iterate is running away ({moved}, and f is {'lower' if maximize else 'higher'} "
                f"than {window} steps before)")
    return None


def descend(
    value_and_grad: ValueAndGrad,
    start: Sequence[float],
    optimizer: Optimizer,
    steps: int = 100,
    tol: float | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    names: Sequence[str] | None = None,
    interrupt: Any = None,
) -> Run:
    """Run ``optimizer`` from ``start`` for at most ``steps`` updates (see the module docstring).

    ``names`` name the variables in messages; ``interrupt`` (a ``threading.Event``) stops the run
    at its next step when set.

    >>> from symgrad.numeric.compile import compile
    >>> from symgrad.numeric.optimizers import gd
    >>> vg = objective(compile("x^2", backend="math"))
    >>> run = descend(vg, (1.0,), gd(lr=0.5), steps=10, tol=1e-8)
    >>> run.stopped, run.final.point, len(run.trajectory)   # one step lands on the minimum
    ('tolerance', (0.0,), 2)
    >>> run = descend(vg, (1.0,), gd(lr=1.5), steps=5000)   # |1 − 2·1.5| = 2: doubles each step
    >>> run.stopped, run.cause, run.final.step
    ('diverged', 'growth', 21)
    """
    from symgrad import budget

    updates = check_updates(steps)  # "steps" as the CLI names them: updates of the iterate
    tol = check_tolerance(tol)
    params = tuple(float(v) for v in start)
    if not all(math.isfinite(v) for v in params):
        raise InputError(f"the start {where(params, names)} is not a point of finite numbers")
    maximize = bool(optimizer.options.get("maximize", False))
    try:
        value, grad, norm = _evaluate(value_and_grad, params, 0)
    except Undefined as exc:
        raise _bad_start(exc, where(params, names)) from None
    state = optimizer.init(params)
    trajectory = [Iterate(0, params, value, norm)]
    farthest = [0.0]
    stopped, note, cause = "steps", None, None
    helps = True
    for step in range(1, updates + 1):
        if tol is not None and norm < tol:
            stopped = "tolerance"
            break
        if interrupt is not None and interrupt.is_set():
            stopped = "interrupted"
            break
        outcome = _advance(value_and_grad, optimizer, grad, state, params, norm, step, trajectory, names)
        if isinstance(outcome, _Stop):
            stopped, cause, note, helps = "diverged", outcome.cause, outcome.note, outcome.helps
            break
        params, state, value, grad, norm = outcome
        trajectory.append(Iterate(step, params, value, norm))
        distance = _distance(params, trajectory[0].point)
        if distance > farthest[-1]:
            farthest.append(distance)
            # only a step that took the run farther can make it run away (a cheap filter)
            away = running_away(trajectory, farthest, maximize)
            if away is not None:
                stopped, cause, note = "diverged", "growth", away
                break
        else:
            farthest.append(farthest[-1])
        if step & 255 == 0 and _budget_running_out(budget.left()):
            stopped = "budget"
            break
        if step & 1023 == 0:
            budget.check("the descent")
            if progress is not None:
                progress(step)
    else:
        if tol is not None and norm < tol:
            stopped = "tolerance"
    if stopped == "steps":
        note = running_away(trajectory, farthest, maximize, falling=True)
    return Run(tuple(float(v) for v in start), tuple(trajectory), stopped, note, cause, helps)


BUDGET_RESERVE = 0.4
"""The share of the time budget a run leaves for showing its iterates (the table, the JSON and the
plot cost about as much per iterate as an update)."""


def _budget_running_out(left: tuple[float, float] | None) -> bool:
    """Is less than ``BUDGET_RESERVE`` of the budget left?

    >>> _budget_running_out(None), _budget_running_out((3.0, 10.0)), _budget_running_out((5.0, 10.0))
    (False, True, False)
    """
    return left is not None and left[0] < BUDGET_RESERVE * left[1]


class _Stop(NamedTuple):
    """Why a run diverged at an update: the cause, the note, whether smaller steps would help."""

    cause: str
    note: str
    helps: bool


def _advance(value_and_grad: ValueAndGrad, optimizer: Optimizer, grad: tuple[float, ...], state: Any,
             params: tuple[float, ...], norm: float, step: int, trajectory: list[Iterate],
             names: Sequence[str] | None) -> _Stop | tuple[tuple[float, ...], Any, float, tuple[float, ...], float]:
    """One update from ``params``: the new (params, state, value, grad, norm), or why the run diverged."""
    maximize = bool(optimizer.options.get("maximize", False))
    previous = params
    try:
        params, state = optimizer.update(grad, state, params)
    except (ArithmeticError, ValueError) as exc:
        return _Stop(*_update_failed(optimizer, where(previous, names), exc))
    if not all(map(math.isfinite, params)):
        note = (f"the update from {where(previous, names)} (where ‖∇f‖ = {norm:.3g}) overflowed: the next "
                "iterate is beyond the range of floating-point numbers") + _unbounded(trajectory, maximize)
        return _Stop("overflow", note, not improving(trajectory, maximize))
    try:
        value, new_grad, new_norm = _evaluate(value_and_grad, params, step)
    except Undefined as exc:
        note = _diverged_note(exc, where(params, names), where(previous, names))
        helps = True
        if exc.cause == "overflow":
            note += _unbounded(trajectory, maximize)
            helps = not improving(trajectory, maximize)
        return _Stop(exc.cause, note, helps)
    return params, state, value, new_grad, new_norm


def _update_failed(optimizer: Optimizer, at: str, exc: BaseException) -> tuple[str, str, bool]:
    """(cause, note, would smaller steps help) for an optimizer update that raised."""
    name = optimizer.name
    if isinstance(exc, ZeroDivisionError):
        if optimizer.options.get("eps") == 0:
            why = "its eps is 0, so a zero gradient gives 0/0; a positive eps avoids it"
            return "pole", f"{name}'s update from {at} divides by zero ({why})", False
        return "pole", f"{name}'s update from {at} divides by zero", True
    if isinstance(exc, OverflowError):
        return "overflow", f"{name}'s update from {at} overflowed: its numbers are beyond the range of floats", True
    return ("domain", f"{name}'s update from {at} has no value (a square root of a negative number in its formulas)",
            True)


def _bad_start(exc: Undefined, at: str) -> Exception:
    """f or ∇f has no value at the start: bad input (outside the domain) or could-not-compute."""
    message = exc.at(f"the start {at}")
    if exc.cause in ("domain", "pole"):
        return InputError(message, suggestion="start inside f's domain, where f and ∇f have values (--start)")
    return ComputeError(message, suggestion="f cannot be computed in floating point there; try another start")


def _diverged_note(exc: Undefined, at: str, before: str) -> str:
    if exc.cause == "domain":
        return f"the iterate left f's domain: {exc.at(at)} (the step from {before} went outside it)"
    if exc.cause == "pole":
        return f"the iterate landed on a point where {exc.at(at)}"
    return exc.at(at)


def improving(trajectory: Sequence[Iterate], maximize: bool = False) -> bool:
    """Did f improve (fall; rise with ``maximize``) at each of the last five steps?"""
    values = [it.value for it in trajectory[-6:]]
    return len(values) >= 3 and all((b > a) if maximize else (b < a) for a, b in pairwise(values))


def _unbounded(trajectory: Sequence[Iterate], maximize: bool) -> str:
    """A remark for an overflow after f improved at every one of the last steps (f → ±∞?)."""
    if not improving(trajectory, maximize):
        return ""
    return (f"; f {'rose' if maximize else 'fell'} at every step before: it may be unbounded "
            f"{'above' if maximize else 'below'}")


# the problem: an expression (and data) -> what the loop needs --------------------------------------
SMALLEST = 2.2250738585072014e-308


LARGEST = 1.7976931348623157e308


def check_constants(*exprs: Any, what: str = "f") -> None:
    """Refuse a constant that floats cannot hold: descent computes in floats, where 1e400 is ∞
    (so f = 1e400·x² would overflow at every point but 0) and 1e-400 is 0 (f = 1e-400·x² would be
    0 everywhere, every point a "minimum").

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> check_constants(sp.Integer(10) ** 400 * x ** 2)
    Traceback (most recent call last):
    ...
    symgrad.errors.ComputeError: f has a constant, a number of about 10^400, beyond the range of floating-point
    numbers (about ±1.8e308), and descent computes in floats
    """
    import sympy as sp

    from symgrad import magnitude

    def constants(node: Any) -> Any:
        if not node.free_symbols:
            if not isinstance(node, (sp.Symbol, sp.Tuple)) and node.is_number:
                yield node
            return
        for arg in node.args:
            yield from constants(arg)

    for e in exprs:
        for c in constants(sp.sympify(e)):
            lg = magnitude.log10_abs(c)
            if lg is None or c.is_zero:
                continue
            if lg > math.log10(LARGEST):
                raise ComputeError(f"{what} has a constant, {magnitude.describe(c)}, beyond the range of "
                                   f"floating-point "
                                   "numbers (about ±1.8e308), and descent computes in floats",
                                   suggestion="rescale f (divide it by a positive constant: its minima stay where they "
                                              "are)")
            if lg < math.log10(SMALLEST):
                raise ComputeError(f"{what} has a constant, {magnitude.describe(c)}, below the smallest floating-point "
                                   "number (about 2.2e-308): in floats it would be 0",
                                   suggestion="rescale f (multiply it by a positive constant: its minima stay where "
                                              "they are)")


@record
class Problem:
    """What ``descend`` needs for an expression: the variables, the objective and the data it uses."""

    expr: Any
    variables: tuple[Any, ...]
    gradient: tuple[Any, ...]
    objective: ValueAndGrad
    full_value: Callable[[Sequence[float]], float]
    data: dict[str, Any] | None = None
    notes: tuple[str, ...] = ()


def _nan_where_undefined(fn: Callable[[Sequence[float]], float]) -> Callable[[Sequence[float]], float]:
    """f for drawing: NaN (a gap in the picture) where it has no value."""

    def value(point: Sequence[float]) -> float:
        try:
            return fn(point)
        except Undefined:
            return math.nan

    return value


def problem(
    expr: Any,
    wrt: Sequence[object] | str | None = None,
    data: Any = None,
    batch_size: int | None = None,
    seed: int | None = None,
) -> Problem:
    """The descent problem of ``expr``: compiled for floats, or bound to ``data`` when it sums over it.

    ``data`` is a CSV path or a ``symgrad.numeric.data.Table``. A sum over its index alone
    (``sum(i w^2, i, 1, 3)``) needs no data.

    >>> p = problem("sum(i w^2, i, 1, 3)")
    >>> p.variables, p.objective((1.0,), 0)
    ((w,), (6.0, (12.0,)))
    """
    import sympy as sp

    from symgrad.expressions import as_expr
    from symgrad.numeric import data as D

    e = as_expr(expr)
    if not e.free_symbols:
        from symgrad.printing.oneline import oneline

        raise InputError(f"f = {oneline(e)} is a constant: there is nothing to descend on",
                         suggestion="give a function of one or more variables, like (x - 1)^2")
    check_constants(e)
    if D.has_data(e):
        loss = D.split(e, wrt)
        table = None
        if loss.columns:
            if data is None:
                names = ", ".join(f"{c}_i" for c in loss.columns)
                raise InputError(f"the loss sums over data ({names}): give the data with --data file.csv",
                                 suggestion="a CSV file whose header line names the columns: " + ",".join(loss.columns))
            table = data if isinstance(data, D.Table) else D.read_csv(data, loss.columns)
        elif data is not None:
            source = data.source if isinstance(data, D.Table) else str(data)
            raise InputError(f"no term of the loss uses the data in {source}: its sums have no indexed variable "
                             "like x_i", suggestion="write the data's columns as x_i, y_i inside the sum, or leave "
                                                    "out --data")
        bound = D.DataObjective(loss, table, batch_size, seed)
        notes = []
        if seed is not None and bound.batch_size is None:
            notes.append("--seed has no effect here: every step uses all rows (give --batch-size to shuffle)")
        info = None
        if table is not None:
            info = {"file": table.source if isinstance(data, D.Table) else str(data), "rows": table.rows,
                    "columns": list(loss.columns),
                    "batch_size": bound.batch_size or table.rows, "seed": seed}
        gradient = tuple(sp.diff(e, v) for v in loss.parameters)
        check_constants(*gradient, what="∇f")
        return Problem(e, loss.parameters, gradient, bound, _nan_where_undefined(bound.full_value), info, tuple(notes))
    if data is not None or batch_size is not None or seed is not None:
        raise InputError("--data, --batch-size and --seed are for losses that sum over data, "
                         "like sum((y_i - w x_i)^2, i, 1, n)")
    from symgrad.numeric.compile import compile as compile_expr

    compiled = compile_expr(e, wrt, backend="math", what=["value", "value_and_grad"])
    check_constants(*compiled.gradient, what="∇f")
    fn = compiled.f
    assert fn is not None  # "value" was asked for
    return Problem(e, compiled.variables, tuple(compiled.gradient), objective(compiled),
                   lambda point: fn(*point))

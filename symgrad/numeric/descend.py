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
- when ``interrupt`` is set (``"interrupted"``: Ctrl-C in the CLI), with the iterates so far.

At the start itself f and ∇f must have values: a start outside f's domain is bad input
(``InputError``), one where f is beyond floats could-not-compute (``ComputeError``).

Long runs check the time budget (``symgrad.budget``) and report progress through a callback.

The objective is any ``value_and_grad(point, step) -> (f, ∇f)``: ``objective(compiled)`` makes one
from ``symgrad.compile`` (with the periodic-argument guard); ``symgrad.numeric.data`` makes
mini-batch ones (the step picks the batch). ``problem`` builds either from an expression, as the
CLI does. An objective may raise ``Undefined`` to say why a point has no usable value. To add a
stopping rule, add its name to ``STOP_REASONS`` (a cause of divergence to ``CAUSES``) and a check
in the loop.

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
from symgrad.numeric.optimizers import Optimizer
from symgrad.records import record

STOP_REASONS = ("steps", "tolerance", "diverged", "interrupted")
CAUSES = ("overflow", "domain", "pole", "precision", "growth")
"""Why a run diverged (``Run.cause``)."""

MAX_STEPS = 1_000_000
"""Updates of one run (and, in the CLI, of all runs together): every iterate is kept (for the
table, the plot and the JSON), about 200 bytes each; more is a typo, or a job for other tools."""

GROWTH_WINDOWS = tuple(20 * 2**k for k in range(16))  # 20, 40, 80, … up to MAX_STEPS
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

ValueAndGrad = Callable[[tuple[float, ...], int], tuple[float, Sequence[float]]]


class Iterate(NamedTuple):
    """One point of a trajectory: the step that reached it, the point, f and ‖∇f‖ there."""

    step: int
    point: tuple[float, ...]
    value: float
    grad_norm: float


class Undefined(ArithmeticError):
    """f or ∇f has no usable value at a point; ``cause`` is one of ``CAUSES``.

    The message says what is wrong without the point (``"f is not a real number"``), ``detail``
    why (``": f is 0 there but not differentiable"``); the loop puts the point between them.
    """

    def __init__(self, cause: str, message: str, detail: str = "") -> None:
        super().__init__(message + detail)
        self.cause = cause
        self.message = message
        self.detail = detail

    def at(self, place: str) -> str:
        """The whole message, with ``place`` ("x=1", "the start x=1") where it happened."""
        return f"{self.message} at {place}{self.detail}"


@record
class Run:
    """One descent from one start: every iterate, why it stopped, and (when it diverged) why."""

    start: tuple[float, ...]
    trajectory: tuple[Iterate, ...]
    stopped: str
    note: str | None = None
    cause: str | None = None
    smaller_steps_help: bool = True  # for a divergence: would a smaller learning rate help?
    kept: tuple[tuple[tuple[float, ...], Any], ...] = ()
    """With ``descend(keep=k)``: (∇f at the iterate, the optimizer's state there) for steps 0 … k
    (``symgrad.numeric.explain`` explains those steps with them)."""

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


# the objective -----------------------------------------------------------------------------------
def objective(compiled: Any, guard: bool = True) -> ValueAndGrad:
    """``value_and_grad(point, step)`` from a ``Compiled`` with ``value_and_grad`` (math backend is fastest).

    With ``guard``, it raises ``Undefined("precision", …)`` where a periodic function's argument
    is too large for any digit to mean anything (``PeriodicGuard``), and when an evaluation fails
    it tells f's failure from ∇f's (if ``compiled.f`` is there).
    """
    vg = compiled.value_and_grad
    if vg is None:
        raise ValueError("compile the expression with what=['value_and_grad'] (or the default)")
    f = compiled.f
    periodic = PeriodicGuard.periodic([compiled.expr, *compiled.gradient]) if guard else []

    if not periodic:
        def value_and_grad(point: tuple[float, ...], step: int) -> tuple[float, Sequence[float]]:
            try:
                return vg(*point)  # type: ignore[no-any-return]
            except (ArithmeticError, ValueError, TypeError) as exc:
                raise _which(f, point, exc) from None

        return value_and_grad

    # the arguments come out of the same generated function as f and ∇f, their common
    # subexpressions computed once (π·x in cos(π·x) and in ∇f's sin(π·x)): a few percent per step
    check = PeriodicGuard(periodic)
    n = len(compiled.variables)
    both = _math_function(compiled.expr, compiled.variables, [*compiled.gradient, *check.arguments])
    smallest = check.smallest

    def guarded(point: tuple[float, ...], step: int) -> tuple[float, Sequence[float]]:
        try:
            value, out = both(*point)
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise _which(f, point, exc) from None
        arguments = out[n:]
        if max(map(abs, arguments)) >= smallest:
            check.check(arguments)
        return value, out[:n]

    return guarded


def _math_function(expr: Any, variables: Sequence[Any], outputs: Sequence[Any]) -> Callable[..., Any]:
    """A generated plain-float function of ``variables`` returning (``expr``, [``outputs``…])."""
    from symgrad.numeric import codegen
    from symgrad.numeric.compile import load

    # generated as value_and_grad_f (the names generated code may define), with ``outputs`` as its "gradient"
    source = "import math\n\n\n" + codegen.function_source(
        "value_and_grad_f", expr, list(variables), "math", what="value_and_grad", gradient=list(outputs))
    return load(source, "guarded")["value_and_grad_f"]  # type: ignore[no-any-return]


def _which(f: Callable[..., Any] | None, point: Sequence[float], exc: BaseException) -> BaseException:
    """The failure of (f, ∇f) at ``point`` as ``Undefined``, saying whether f itself has a value there."""
    if isinstance(exc, Undefined) or (isinstance(exc, TypeError) and "complex" not in str(exc)):
        return exc
    subject, detail = "f or ∇f", ""
    if f is not None:
        try:
            value = f(*point)
        except (ArithmeticError, ValueError, TypeError) as inner:
            exc, subject = inner, "f"
        else:
            if isinstance(value, complex):
                return Undefined("domain", "f is not a real number")
            subject, detail = "∇f", f": f is {float(value):.8g} there, but not differentiable"
    return _failure(subject, exc, detail)


def _failure(subject: str, exc: BaseException, detail: str = "") -> Undefined:
    if isinstance(exc, OverflowError):
        return Undefined("overflow", f"{subject} is beyond the range of floating-point numbers", detail)
    if isinstance(exc, ZeroDivisionError):
        return Undefined("pole", f"{subject} divides by zero", detail)
    if isinstance(exc, TypeError):  # a complex intermediate met a real-only operation (a comparison)
        return Undefined("domain", f"{subject} is not a real number", detail)
    return Undefined("domain", f"{subject} is not defined (outside its domain)", detail)


class PeriodicGuard:
    """Refuses points where a periodic function's argument u is so large that no digit of its value
    means anything: u carries a rounding error of up to half the spacing of floats at u, so once
    that spacing (``math.ulp(u)``) reaches the period, the interval u could stand for covers a whole
    period and sin u, cos u, tan u … could be any value (for cos(πx): |πx| ≥ 2⁵⁵, where floats are 8 apart).

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> guard = PeriodicGuard.build([x * sp.cos(sp.pi * x)], [x])
    >>> guard((1e16,))   # floats 4 apart near 3.1e16: a digit or so still means something
    >>> guard((2e16,))
    Traceback (most recent call last):
    ...
    symgrad.numeric.descend.Undefined: no digit of cos(π·x) is meaningful: its argument is 6.28e+16, where floats are 8 apart, more than its period 2π
    """

    def __init__(self, periodic: Sequence[tuple[Any, Any, float, str]], arguments: Callable[..., Any] | None = None) -> None:
        from symgrad.render.oneline import oneline

        self.arguments = tuple(arg for _, arg, _, _ in periodic)
        self.texts = tuple((oneline(atom), ptext) for atom, _, _, ptext in periodic)
        self.periods = tuple(period for _, _, period, _ in periodic)
        # ulp(u) ≥ period exactly when |u| ≥ 2^(52 + ⌈log2 period⌉): one comparison per argument
        self.smallest = min(2.0 ** (52 + math.ceil(math.log2(period))) for period in self.periods)
        self.evaluate = arguments

    @staticmethod
    def periodic(exprs: Sequence[Any]) -> list[tuple[Any, Any, float, str]]:
        """Each periodic function application in ``exprs`` once: (it, its argument, period, period text)."""
        import sympy as sp

        periods = {sp.sin: (2 * math.pi, "2π"), sp.cos: (2 * math.pi, "2π"), sp.sec: (2 * math.pi, "2π"),
                   sp.csc: (2 * math.pi, "2π"), sp.tan: (math.pi, "π"), sp.cot: (math.pi, "π")}
        found: dict[Any, tuple[Any, Any, float, str]] = {}
        for e in exprs:
            for atom in sp.sympify(e).atoms(*periods):
                period, text = periods[type(atom)]
                key = (atom.args[0], period)
                if key not in found:
                    found[key] = (atom, atom.args[0], period, text)
        return sorted(found.values(), key=lambda item: sp.default_sort_key(item[0]))

    @classmethod
    def build(cls, exprs: Sequence[Any], variables: Sequence[Any]) -> PeriodicGuard | None:
        """The guard for the periodic functions in ``exprs``, callable at a point (None when there are none)."""
        found = cls.periodic(exprs)
        if not found:
            return None
        fn = _math_function(found[0][1], variables, [arg for _, arg, _, _ in found])
        return cls(found, lambda *point: fn(*point)[1])

    def __call__(self, point: Sequence[float]) -> None:
        assert self.evaluate is not None
        try:
            values = self.evaluate(*point)
        except (ArithmeticError, ValueError, TypeError):
            return  # the evaluation of f itself says what is wrong
        self.check(values)

    def check(self, values: Sequence[Any]) -> None:
        """Raise ``Undefined`` if one of the arguments' ``values`` lost every digit."""
        for u, period, (text, ptext) in zip(values, self.periods, self.texts):
            if isinstance(u, complex):
                continue
            gap = lost_digits(u, period)
            if gap is not None:
                raise lost(text, float(u), gap, ptext)


def lost(text: str, u: float, gap: float, period: str, row: str = "") -> Undefined:
    """The ``Undefined`` for a periodic function ``text`` whose argument ``u`` lost every digit."""
    return Undefined("precision", f"no digit of {text} is meaningful",
                     f"{row}: its argument is {u:.3g}, where floats are {gap:g} apart, more than its period {period}")


def lost_digits(u: float, period: float) -> float | None:
    """The spacing of floats at ``u`` when it is at least ``period`` (no digit of a function with
    that period is meaningful at u), else None.

    >>> lost_digits(2.0 ** 55, 2 * math.pi), lost_digits(2.0 ** 54, 2 * math.pi)
    (8.0, None)
    """
    u = abs(float(u))
    if not math.isfinite(u):
        return None
    gap = math.ulp(u)
    return gap if gap >= period else None


# the loop ------------------------------------------------------------------------------------------
def _evaluate(value_and_grad: ValueAndGrad, params: tuple[float, ...], step: int) -> tuple[float, tuple[float, ...], float]:
    """(f, ∇f, ‖∇f‖) at ``params``, or ``Undefined`` saying why there is none."""
    try:
        value, grad = value_and_grad(params, step)
    except Undefined:
        raise
    except (ArithmeticError, ValueError) as exc:
        raise _failure("f or ∇f", exc) from None
    except TypeError as exc:
        if "complex" not in str(exc):
            raise
        raise _failure("f or ∇f", exc) from None
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


def check_steps(steps: int) -> int:
    """The number of updates, refused outside 0 … ``MAX_STEPS``."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
        raise InputError(f"the number of steps must be a whole number from 0 to {MAX_STEPS:,}, not {steps}")
    return steps


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
    keep: int = 0,
) -> Run:
    """Run ``optimizer`` from ``start`` for at most ``steps`` updates (see the module docstring).

    ``names`` name the variables in messages; ``interrupt`` (a ``threading.Event``) stops the run
    at its next step when set; ``keep``: keep the gradient and the optimizer's state of the first
    ``keep`` steps in ``Run.kept`` (for ``--explain``).

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

    steps = check_steps(steps)
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
    kept = [(tuple(grad), state)] if keep > 0 else []
    trajectory = [Iterate(0, params, value, norm)]
    farthest = [0.0]
    stopped, note, cause = "steps", None, None
    helps = True
    for step in range(1, steps + 1):
        if tol is not None and norm < tol:
            stopped = "tolerance"
            break
        if interrupt is not None and interrupt.is_set():
            stopped = "interrupted"
            break
        previous = params
        try:
            params, state = optimizer.update(grad, state, params)
        except (ArithmeticError, ValueError) as exc:
            stopped = "diverged"
            cause, note, helps = _update_failed(optimizer, where(previous, names), exc)
            break
        if not all(map(math.isfinite, params)):
            stopped, cause = "diverged", "overflow"
            note = (f"the update from {where(previous, names)} (where ‖∇f‖ = {norm:.3g}) overflowed: the next "
                    "iterate is beyond the range of floating-point numbers") + _unbounded(trajectory, maximize)
            helps = not improving(trajectory, maximize)
            break
        try:
            value, grad, norm = _evaluate(value_and_grad, params, step)
        except Undefined as exc:
            stopped, cause = "diverged", exc.cause
            note = _diverged_note(exc, where(params, names), where(previous, names))
            if cause == "overflow":
                note += _unbounded(trajectory, maximize)
                helps = not improving(trajectory, maximize)
            break
        trajectory.append(Iterate(step, params, value, norm))
        if step <= keep:
            kept.append((tuple(grad), state))
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
        if step & 1023 == 0:
            budget.check("the descent")
            if progress is not None:
                progress(step)
    else:
        if tol is not None and norm < tol:
            stopped = "tolerance"
    if stopped == "steps":
        note = running_away(trajectory, farthest, maximize, falling=True)
    return Run(tuple(float(v) for v in start), tuple(trajectory), stopped, note, cause, helps, tuple(kept))


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
    return "domain", f"{name}'s update from {at} has no value (a square root of a negative number in its formulas)", True


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
    return f"; f {'rose' if maximize else 'fell'} at every step before: it may be unbounded {'above' if maximize else 'below'}"


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
    symgrad.errors.ComputeError: f has a constant, a number of about 10^400, beyond the range of floating-point numbers (about ±1.8e308), and descent computes in floats
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
                raise ComputeError(f"{what} has a constant, {magnitude.describe(c)}, beyond the range of floating-point "
                                   "numbers (about ±1.8e308), and descent computes in floats",
                                   suggestion="rescale f (divide it by a positive constant: its minima stay where they are)")
            if lg < math.log10(SMALLEST):
                raise ComputeError(f"{what} has a constant, {magnitude.describe(c)}, below the smallest floating-point "
                                   "number (about 2.2e-308): in floats it would be 0",
                                   suggestion="rescale f (multiply it by a positive constant: its minima stay where they are)")


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

    from symgrad import calculus
    from symgrad.numeric import data as D

    e = calculus.as_expr(expr)
    if not e.free_symbols:
        from symgrad.render.oneline import oneline

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
            info = {"file": table.source if isinstance(data, D.Table) else str(data), "rows": table.rows, "columns": list(loss.columns),
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
    return Problem(e, compiled.variables, tuple(compiled.gradient), objective(compiled),
                   lambda point: fn(*point))

"""The time budget and the guards around every command: nothing a user types may hang or overflow.

Stage: shared by every stage. The budget counts the work a command does — CPU seconds of the
process (``time.process_time``, plus the CPU time of the ``isolated`` children it waited for) —
so a busy machine makes symgrad slower, never wrong. A wall-clock backstop (``wall_backstop``:
ten times the budget, at least a minute more than it) bounds waiting that uses no CPU at all.
Four tools, from cheapest to strongest:

- ``time_budget(seconds)`` arms the budget for a block of work. When it runs out, the working
  thread is interrupted at its next Python bytecode (in the main thread a CPU-time timer signal,
  ``ITIMER_PROF``, with ``ITIMER_REAL`` as the backstop; in any other thread a helper thread that
  watches the process's CPU clock and raises an asynchronous exception in it) and the block raises
  ``BudgetExceeded``. Long loops may also call ``check()`` to stop early and cleanly. The
  interruption is a ``BaseException`` inside the work, so SymPy's many ``except Exception:`` blocks
  cannot swallow it; it becomes ``BudgetExceeded`` when it leaves the block.
- ``run_guarded(fn, timeout)`` is what every CLI command runs its body through: a thread with a
  large stack and a raised recursion limit (deep expressions never meet Python's recursion limit),
  under a time budget, with a watchdog that gives up on the thread ``GRACE`` CPU seconds after the
  budget if it does not stop. Starting the thread costs well under a millisecond; no process is
  spawned.
- ``isolated(fn, *args, timeout=…)`` runs ``fn`` in a forked child process that the kernel stops at
  its CPU budget (``ITIMER_PROF`` with the signal's default action, and ``RLIMIT_CPU``), with a
  memory cap, and that the parent kills at the wall-clock backstop. A timer signal cannot interrupt
  one long C-level operation (a big-integer power inside SymPy holds the interpreter lock), so
  this is the tool for work whose cost a size check cannot bound. It costs a fork (a few
  milliseconds), so callers use it only when a cheap size check (``symgrad.magnitude``) cannot
  vouch for the work, never on the normal path.
- ``limit_process()`` is called once by the ``symgrad`` command (never by the library): it caps the
  process's address space at ``MEMORY_CEILING`` (allocations beyond it raise ``MemoryError``, which
  is reported), and ``run_guarded`` then also sets ``RLIMIT_CPU`` so that the kernel ends the
  process (SIGXCPU, "CPU time limit exceeded") if uninterruptible C code ever outlives the budget
  and the grace — the last resort behind the size checks, which the fuzzer treats as a failure.

Size checks before the work are the first line of defence: the parser refuses literals and exact
powers that are too large (``symgrad.parsing``), and ``symgrad.magnitude`` estimates how large a
numeric expression is without computing it.

To guard new work: call ``check()`` in long loops; wrap work that can explode without passing
through Python code in ``isolated``.

>>> with time_budget(5):
...     check("a quick sum")
...     print(sum(range(10)))
45
>>> run_guarded(lambda: 6 * 7, timeout=5)
42
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from symgrad.errors import BudgetExceeded

T = TypeVar("T")

STACK_SIZE = 512 * 1024 * 1024
"""Bytes of stack for the thread that runs a command: virtual memory, touched only as deep as used."""

RECURSION_LIMIT = 30_000
"""Python frames allowed in that thread: SymPy recurses several frames per level of an expression,
and the parser lets through trees 1 100 levels deep."""

GRACE = 1.0
"""CPU seconds the watchdog waits, after the budget ran out, for the interrupted work to unwind."""

MAX_TIMEOUT = 86_400.0
"""Longest budget accepted (a day): longer is a typo, and timers overflow on absurd values."""

MAX_INT_DIGITS = 250_000
"""Digits Python may convert between int and str inside a command (its default, 4 300, is below
the exact numbers the parser admits; the parser's limits keep conversions fast)."""

ISOLATED_MEMORY = 2 * 1024**3
"""Bytes of extra address space an ``isolated`` child may use before its allocations fail (never
beyond the process's own ceiling)."""

MEMORY_CEILING = 4 * 1024**3
"""Bytes of address space the ``symgrad`` command may map (``RLIMIT_AS``). About 1.3 GiB of it is
reserved but untouched at start (the worker's 512 MB stack, allocator arenas, NumPy's buffers), so
a computation has roughly 2.5 GiB before its allocations fail with a message, exit 1."""

WALL_FACTOR = 10.0
WALL_EXTRA = 60.0

_HINT = "try a simpler input or raise --timeout"

class _Local(threading.local):
    deadline: tuple[float, float, float] | None = None
    """(CPU deadline on ``cpu_clock()``, wall deadline on ``time.monotonic()``, its seconds) of the
    budget running in this thread: each thread has its own (an abandoned worker keeps its own)."""


_local = _Local()

_charged = 0.0
"""CPU seconds spent by ``isolated`` children: the work of this process, done elsewhere."""

_limited = False
"""Whether ``limit_process`` ran: this process is the ``symgrad`` command, and may set kernel limits."""


def wall_backstop(seconds: float) -> float:
    """Wall-clock seconds allowed for a budget of ``seconds`` CPU seconds: waiting is bounded too.

    >>> wall_backstop(10), wall_backstop(1)
    (100.0, 61.0)
    """
    return max(seconds * WALL_FACTOR, seconds + WALL_EXTRA)


def cpu_clock() -> float:
    """CPU seconds this process has used, its finished ``isolated`` children included."""
    return time.process_time() + _charged


_deliveries: dict[int, int] = {}
"""Per thread, how many interruptions have reached its code (see ``_Repeater``)."""


class Interrupt(BaseException):
    """Raised inside the work when its CPU budget runs out; turned into ``BudgetExceeded`` on the way out.

    A ``BaseException`` so that ``except Exception`` blocks in SymPy and mpmath cannot swallow it.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        ident = threading.get_ident()
        _deliveries[ident] = _deliveries.get(ident, 0) + 1


class WallInterrupt(Interrupt):
    """Raised inside the work when the wall-clock backstop passes before the CPU budget is spent."""


def remaining() -> float | None:
    """CPU seconds left in the current budget (less if the wall backstop is nearer), or None."""
    if _local.deadline is None:
        return None
    return min(_local.deadline[0] - cpu_clock(), _local.deadline[1] - time.monotonic())


def check(what: str = "the computation") -> None:
    """Raise ``BudgetExceeded`` if the current budget has run out.

    >>> check()  # no budget running: nothing happens
    """
    deadline = _local.deadline
    if deadline is not None and (cpu_clock() > deadline[0] or time.monotonic() > deadline[1]):
        raise BudgetExceeded(f"{what} ran out of the time budget", suggestion=_HINT)


def left() -> tuple[float, float] | None:
    """(CPU seconds left, the whole budget in seconds) of the budget running in this thread, or
    None without one: long loops that keep their results stop on their own with time to show them.

    >>> left() is None
    True
    >>> with time_budget(5):
    ...     remaining, whole = left()
    ...     whole, 0 < remaining <= 5
    (5.0, True)
    """
    deadline = _local.deadline
    if deadline is None:
        return None
    return min(deadline[0] - cpu_clock(), deadline[1] - time.monotonic()), float(deadline[2])


def validate_timeout(seconds: float | None) -> float | None:
    """A usable budget in seconds (None: no budget); refuses NaN, infinities and absurd values.

    >>> validate_timeout(2), validate_timeout(None)
    (2.0, None)
    """
    from symgrad.errors import InputError

    if seconds is None:
        return None
    seconds = float(seconds)
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_TIMEOUT:
        raise InputError(
            f"--timeout must be a number of seconds between 0.1 and {MAX_TIMEOUT:g}, not {seconds:g}",
            suggestion="for example --timeout 30",
        )
    return seconds


def _inject(thread_id: int, exc_type: type[BaseException]) -> bool:
    """Raise ``exc_type`` in another thread at its next bytecode (CPython's asynchronous exception)."""
    import ctypes  # only when a budget runs out: not on the start-up path

    done = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc_type))
    return bool(done)


_CORES = max(os.cpu_count() or 1, 1)


def _until(cpu_end: float, wall_end: float) -> float:
    """Wall seconds to sleep before looking at the clocks again: the process's CPU clock runs at
    most as fast as all cores together, so it cannot pass ``cpu_end`` before then."""
    return max(min((cpu_end - cpu_clock()) / _CORES, wall_end - time.monotonic()), 0.002)


class _Repeater:
    """Interrupts one thread when the budget runs out, and again until its block has ended.

    It watches the process's CPU clock (and the wall backstop) from its own thread. Repeating
    matters: a bare ``except:`` somewhere in the work could swallow one interruption. But once an
    interruption has reached the work, the next waits ``REPEAT_AFTER_DELIVERY`` seconds, so that
    it does not land in the work's own unwinding (freeing a large structure takes a while). The
    lock makes ``stop`` final: once it returns, no interruption is pending or will come.
    """

    REPEAT_AFTER_DELIVERY = 0.5

    def __init__(self, thread_id: int, cpu_end: float, wall_end: float) -> None:
        self.thread_id = thread_id
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.injected = False
        self.thread = threading.Thread(target=self._run, args=(cpu_end, wall_end), name="symgrad-budget", daemon=True)
        self.thread.start()

    def _run(self, cpu_end: float, wall_end: float) -> None:
        while not self.stopped.wait(_until(cpu_end, wall_end)):
            if cpu_clock() >= cpu_end or time.monotonic() >= wall_end:
                break
        kind = Interrupt if cpu_clock() >= cpu_end else WallInterrupt
        while True:
            with self.lock:
                if self.stopped.is_set():
                    return
                before = _deliveries.get(self.thread_id, 0)
                self.injected = True
                _inject(self.thread_id, kind)
            if self.stopped.wait(0.05):
                return
            if _deliveries.get(self.thread_id, 0) != before and self.stopped.wait(self.REPEAT_AFTER_DELIVERY):
                return

    def stop(self) -> None:
        with self.lock:
            self.stopped.set()
            injected = self.injected
        if injected:  # withdraw an interruption that was raised but not yet delivered
            import ctypes

            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread_id), None)


def _ran_out(seconds: float, wall: bool = False) -> BudgetExceeded:
    if wall:
        return BudgetExceeded(
            f"the computation waited {wall_backstop(seconds):g} s (the wall-clock limit for a time budget "
            f"of {seconds:g} s) without finishing", suggestion=_HINT,
        )
    return BudgetExceeded(f"the time budget of {seconds:g} s ran out", suggestion=_HINT)


def _on_cpu_timer(signum: int, frame: object) -> None:
    raise Interrupt()


def _on_wall_timer(signum: int, frame: object) -> None:
    raise WallInterrupt()


def _arm_signals(deadline: tuple[float, float, float]) -> None:
    """Point the process's CPU and wall timers at ``deadline`` (main thread only)."""
    signal.setitimer(signal.ITIMER_PROF, max(deadline[0] - cpu_clock(), 0.001))
    signal.setitimer(signal.ITIMER_REAL, max(deadline[1] - time.monotonic(), 0.001))


_signal_budgets = 0
"""How many ``time_budget`` blocks of the main thread are open (their timers are the process's)."""


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Run the block with a budget of ``seconds`` CPU seconds; past it the block raises ``BudgetExceeded``.

    In the main thread a CPU-time timer signal interrupts the work; in any other thread a helper
    thread raises an asynchronous exception in it. The wall-clock backstop (``wall_backstop``)
    interrupts it too. A budget inside a budget never outlives the outer one.
    """
    global _signal_budgets
    if seconds is None or seconds <= 0:
        yield
        return
    seconds = min(float(seconds), MAX_TIMEOUT)
    previous = _local.deadline
    cpu_end, wall_end = cpu_clock() + seconds, time.monotonic() + wall_backstop(seconds)
    if previous is not None:
        cpu_end, wall_end = min(cpu_end, previous[0]), min(wall_end, previous[1])
    shown = seconds if previous is None or cpu_end < previous[0] else previous[2]  # whose budget runs out
    _local.deadline = (cpu_end, wall_end, shown)
    use_signal = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    old_handlers: tuple[Any, Any] | None = None
    repeater = None
    if use_signal:
        old_handlers = (signal.signal(signal.SIGPROF, _on_cpu_timer), signal.signal(signal.SIGALRM, _on_wall_timer))
        _signal_budgets += 1
        _arm_signals(_local.deadline)
    else:
        repeater = _Repeater(threading.get_ident(), cpu_end, wall_end)
    counted = [use_signal]

    def end() -> None:
        global _signal_budgets
        if repeater is not None:
            repeater.stop()
        if use_signal and old_handlers is not None:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGPROF, old_handlers[0])
            signal.signal(signal.SIGALRM, old_handlers[1])
            if counted.pop() if counted else False:
                _signal_budgets -= 1
            if previous is not None and _signal_budgets:  # the outer budget's timers: re-arm what is left
                _arm_signals(previous)
        _local.deadline = previous

    try:
        yield
    except WallInterrupt:
        raise _ran_out(shown, wall=True) from None
    except Interrupt:
        raise _ran_out(shown) from None
    finally:
        _finally(end)


def _finally(cleanup: Callable[[], None]) -> None:
    """Run ``cleanup`` to the end even if a last interruption arrives during it (each step of it
    may safely run twice; once it has stopped the interrupter, nothing more can arrive)."""
    for _ in range(100):
        try:
            cleanup()
            return
        except Interrupt:
            continue
    cleanup()


def _charge(cpu_seconds: float) -> None:
    """Count CPU time spent in a child as this process's work (and move the main thread's timer)."""
    global _charged
    _charged += max(cpu_seconds, 0.0)
    if _local.deadline is not None and _signal_budgets and threading.current_thread() is threading.main_thread():
        _arm_signals(_local.deadline)


def limit_process() -> None:
    """Cap this process's memory at ``MEMORY_CEILING`` and let ``run_guarded`` set a kernel CPU limit.

    For the ``symgrad`` command only: a library must not change the limits of its host's process.
    An existing lower limit is kept; without the ``resource`` module (Windows) nothing happens.
    """
    global _limited
    try:
        import resource
    except ImportError:
        return
    _limited = True
    for which, value in ((resource.RLIMIT_AS, MEMORY_CEILING), (resource.RLIMIT_CORE, 0)):
        _lower(resource, which, value)


def _lower(resource: Any, which: int, value: int) -> None:
    """Lower the soft limit ``which`` to ``value`` (never raise it, never above the hard limit)."""
    try:
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        if soft == resource.RLIM_INFINITY or value < soft:
            resource.setrlimit(which, (value, hard))
    except (OSError, ValueError):  # a limit the system does not offer: the budget still holds
        pass


def _kernel_cpu_limit(timeout: float) -> None:
    """The last resort in the ``symgrad`` command: the kernel ends the process (SIGXCPU) once its
    CPU time passes the budget and the grace, even while C code holds the interpreter lock."""
    import resource

    _lower(resource, resource.RLIMIT_CPU, math.ceil(time.process_time() + timeout + GRACE + 0.5))


def run_guarded(fn: Callable[[], T], timeout: float | None = None) -> T:
    """Run ``fn()`` in a thread with a deep stack, under a time budget; its result or its exception.

    The calling thread only waits. If the work cannot be stopped (a long operation in C ignores
    interruptions) the wait ends ``GRACE`` CPU seconds after the budget (or after the wall-clock
    backstop) with ``BudgetExceeded`` and the thread is abandoned (it is a daemon: it ends with the
    process).

    >>> run_guarded(lambda: sum(range(5)))
    10
    """
    timeout = validate_timeout(timeout)
    box: dict[str, Any] = {}

    def target() -> None:
        from symgrad.magnitude import TooLarge, guard

        try:
            try:
                with time_budget(timeout), guard():
                    box["value"] = fn()
            except WallInterrupt:  # delivered just as the block ended: still the budget running out
                raise _ran_out(timeout or 0, wall=True) from None
            except Interrupt:
                raise _ran_out(timeout or 0) from None
            except TooLarge as exc:  # an exact number SymPy was about to compute
                raise BudgetExceeded(exc.message,
                                     suggestion="symgrad stops here: no time budget would be enough for this "
                                                "number") from None
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            box["error"] = exc

    if hasattr(sys, "set_int_max_str_digits") and 0 < sys.get_int_max_str_digits() < MAX_INT_DIGITS:
        # the parser admits exact numbers of up to ~120 000 digits; printing them must not fail
        sys.set_int_max_str_digits(MAX_INT_DIGITS)
    if timeout is not None and _limited:
        _kernel_cpu_limit(timeout)
    old_limit = sys.getrecursionlimit()
    if old_limit < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    old_size = threading.stack_size()
    try:
        with contextlib.suppress(ValueError, RuntimeError):  # a platform without adjustable stacks: the default one
            threading.stack_size(STACK_SIZE)
        worker = threading.Thread(target=target, name="symgrad-work", daemon=True)
        worker.start()
    finally:
        threading.stack_size(old_size)
    try:
        _wait(worker, timeout)
    finally:
        if sys.getrecursionlimit() == RECURSION_LIMIT and not worker.is_alive():
            sys.setrecursionlimit(old_limit)
    if "error" in box:
        error = box.pop("error")
        raise error.with_traceback(error.__traceback__)
    return box["value"]


def _wait(worker: threading.Thread, timeout: float | None) -> None:
    """Wait for the worker; give up ``GRACE`` CPU seconds after its budget (or the backstop)."""
    if timeout is None:
        worker.join()
        return
    cpu_end = cpu_clock() + timeout + GRACE
    wall_end = time.monotonic() + wall_backstop(timeout) + GRACE
    while True:
        worker.join(_until(cpu_end, wall_end))
        if not worker.is_alive():
            return
        if cpu_clock() >= cpu_end or time.monotonic() >= wall_end:
            what = (f"the time budget of {timeout:g} s ran out" if cpu_clock() >= cpu_end else
                    f"the computation waited {wall_backstop(timeout):g} s (the wall-clock limit for a time budget of "
                    f"{timeout:g} s)")
            raise BudgetExceeded(f"{what}, and the computation could not be interrupted", suggestion=_HINT)


def isolated(fn: Callable[..., T], *args: Any, timeout: float | None = None, memory: int = ISOLATED_MEMORY) -> T:
    """``fn(*args)`` in a forked child process, stopped at its CPU budget; its result or exception.

    The budget is ``timeout`` CPU seconds (or what is left of the current budget, if less); the
    kernel stops the child there, and the parent kills it at the wall-clock backstop. The child's
    CPU time counts against the current budget. The child may use ``memory`` bytes of address
    space beyond what the parent has; past that its allocations fail (``MemoryError``, reported as
    could-not-compute). Without ``fork`` (Windows) the call runs in-process under the ordinary time
    budget. Results and exceptions travel back pickled, so they must be picklable (SymPy
    expressions are).

    >>> isolated(pow, 2, 10, timeout=10)
    1024
    """
    cpu_left = wall_left = None
    budget = timeout
    if _local.deadline is not None:
        cpu_left, wall_left = _local.deadline[0] - cpu_clock(), _local.deadline[1] - time.monotonic()
        if timeout is None or cpu_left < timeout:
            budget = _local.deadline[2]  # the caller's budget is what runs out
    if timeout is not None:
        cpu_left = timeout if cpu_left is None else min(timeout, cpu_left)
        wall_left = wall_backstop(timeout) if wall_left is None else min(wall_backstop(timeout), wall_left)
    if not hasattr(os, "fork"):
        with time_budget(cpu_left):
            return fn(*args)
    if cpu_left is not None and (cpu_left <= 0 or (wall_left or 0) <= 0):
        raise _ran_out(budget or 0)
    import pickle
    import warnings

    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12 warns about fork in a threaded process; the child only computes and exits
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: compute, send, and leave without running any cleanup of the parent's
        status = 0
        try:
            os.close(read_fd)
            _cap_memory(memory)
            _cap_cpu(cpu_left)
            try:
                payload = pickle.dumps(("value", fn(*args)))
            except BaseException as exc:  # everything goes back to the parent, which decides
                try:
                    payload = pickle.dumps(("error", exc))
                except Exception:
                    payload = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
            with os.fdopen(write_fd, "wb") as out:
                out.write(payload)
        except BaseException:
            status = 70
        finally:
            os._exit(status)
    os.close(write_fd)
    return _collect(pid, read_fd, budget or 0, wall_left)


def _cap_memory(extra: int) -> None:
    try:
        import resource

        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _lower(resource, resource.RLIMIT_AS, used + extra)
    except (OSError, ValueError, ImportError):  # no /proc or no resource module: no cap, still killable
        pass


def _cap_cpu(seconds: float | None) -> None:
    """In the child: the kernel ends it after ``seconds`` of CPU time, whatever it is doing.

    ``ITIMER_PROF`` with the default action of SIGPROF (terminate) is exact; ``RLIMIT_CPU`` (whole
    seconds) is the belt to those braces. Neither needs the interpreter to run.
    """
    signal.signal(signal.SIGALRM, signal.SIG_IGN)  # the parent's wall timer is not the child's
    signal.setitimer(signal.ITIMER_REAL, 0)
    if seconds is None:
        signal.setitimer(signal.ITIMER_PROF, 0)
        return
    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_PROF, max(seconds, 0.001))
    try:
        import resource

        _lower(resource, resource.RLIMIT_CPU, math.ceil(seconds) + 1)
    except ImportError:
        pass


_OUT_OF_TIME = frozenset(getattr(signal, name) for name in ("SIGPROF", "SIGXCPU") if hasattr(signal, name))


def _collect(pid: int, read_fd: int, seconds: float, wall_left: float | None) -> Any:
    """Read the child's answer; kill it at the wall backstop; charge its CPU time to the budget."""
    import pickle
    import select

    deadline = None if wall_left is None else time.monotonic() + wall_left
    chunks: list[bytes] = []
    status, cpu = 0, 0.0
    try:
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([read_fd], [], [], wait)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                raise _ran_out(seconds, wall=True)
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    except Interrupt:  # the caller's own budget ran out while waiting
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.close(read_fd)
        try:
            _, status, usage = os.wait4(pid, 0)
            cpu = usage.ru_utime + usage.ru_stime
        except ChildProcessError:
            pass
        _charge(cpu)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) in _OUT_OF_TIME:
        raise _ran_out(seconds)
    if not chunks:
        raise BudgetExceeded("the computation ran out of memory", suggestion="try a simpler input")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "error":
        if isinstance(value, MemoryError):
            raise BudgetExceeded("the computation ran out of memory", suggestion="try a simpler input") from None
        raise value
    return value


@contextmanager
def deep_recursion(limit: int = 20_000) -> Iterator[None]:
    """Room for trees as deep as the parser allows (a chain nested 1 100 deep needs ~4 000 frames)."""
    old = sys.getrecursionlimit()
    if old < limit:
        sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        if old < limit:
            sys.setrecursionlimit(old)

"""The time budget and the guards around every command: nothing a user types may hang or overflow.

Stage: shared by every stage. Three tools, from cheapest to strongest:

- ``time_budget(seconds)`` arms a deadline for a block of work. When it passes, the working thread
  is interrupted at its next Python bytecode (a timer signal in the main thread, an asynchronous
  exception in any other thread) and the block raises ``BudgetExceeded``. Long loops may also call
  ``check()`` to stop early and cleanly. The interruption is a ``BaseException`` inside the work,
  so SymPy's many ``except Exception:`` blocks cannot swallow it; it becomes ``BudgetExceeded``
  when it leaves the block.
- ``run_guarded(fn, timeout)`` is what every CLI command runs its body through: a thread with a
  large stack and a raised recursion limit (deep expressions never meet Python's recursion limit),
  under a time budget, with a watchdog that gives up on the thread if it cannot be stopped.
  Starting the thread costs well under a millisecond; no process is spawned.
- ``isolated(fn, *args, timeout=…)`` runs ``fn`` in a forked child process with a memory cap and
  kills it at the deadline. A timer cannot interrupt one long C-level operation (a big-integer
  power inside SymPy), so this is the tool for work whose cost cannot be bounded beforehand. It
  costs a fork (a few milliseconds), so callers use it only when a cheap size check
  (``symgrad.magnitude``) says the work might explode, never on the normal path.

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

GRACE = 2.0
"""Seconds the watchdog waits, after the budget ran out, for the interrupted work to unwind."""

MAX_TIMEOUT = 86_400.0
"""Longest budget accepted (a day): longer is a typo, and timers overflow on absurd values."""

MAX_INT_DIGITS = 250_000
"""Digits Python may convert between int and str inside a command (its default, 4 300, is below
the exact numbers the parser admits; the parser's limits keep conversions fast)."""

ISOLATED_MEMORY = 2 * 1024**3
"""Bytes of extra address space an ``isolated`` child may use before its allocations fail."""

_HINT = "try a simpler input or raise --timeout"

_deadline: float | None = None


class Interrupt(BaseException):
    """Raised inside the work when its budget runs out; turned into ``BudgetExceeded`` on the way out.

    A ``BaseException`` so that ``except Exception`` blocks in SymPy and mpmath cannot swallow it.
    """


def remaining() -> float | None:
    """Seconds left in the current budget, or None when no budget is running."""
    return None if _deadline is None else _deadline - time.monotonic()


def check(what: str = "the computation") -> None:
    """Raise ``BudgetExceeded`` if the current budget has run out.

    >>> check()  # no budget running: nothing happens
    """
    if _deadline is not None and time.monotonic() > _deadline:
        raise BudgetExceeded(f"{what} ran out of the time budget", suggestion=_HINT)


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


class _Repeater:
    """Interrupts one thread when the budget runs out, and again every 50 ms until it stops.

    Repeating matters: a bare ``except:`` somewhere in the work could swallow one interruption.
    The lock makes ``stop`` final: once it returns, no interruption is pending or will come.
    """

    def __init__(self, thread_id: int, seconds: float) -> None:
        self.thread_id = thread_id
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.injected = False
        self.thread = threading.Thread(target=self._run, args=(seconds,), name="symgrad-budget", daemon=True)
        self.thread.start()

    def _run(self, seconds: float) -> None:
        wait = seconds
        while not self.stopped.wait(wait):
            with self.lock:
                if self.stopped.is_set():
                    return
                self.injected = True
                _inject(self.thread_id, Interrupt)
            wait = 0.05

    def stop(self) -> None:
        with self.lock:
            self.stopped.set()
            injected = self.injected
        if injected:  # withdraw an interruption that was raised but not yet delivered
            import ctypes

            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread_id), None)


def _ran_out(seconds: float) -> BudgetExceeded:
    return BudgetExceeded(f"the time budget of {seconds:g} s ran out", suggestion=_HINT)


def _on_alarm(signum: int, frame: object) -> None:
    raise Interrupt()


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Run the block with a deadline; past it the block raises ``BudgetExceeded``.

    In the main thread a timer signal interrupts the work; in any other thread a helper thread
    raises an asynchronous exception in it. A budget inside a budget never outlives the outer one.
    """
    global _deadline
    if seconds is None or seconds <= 0:
        yield
        return
    seconds = min(float(seconds), MAX_TIMEOUT)
    previous_deadline = _deadline
    now = time.monotonic()
    _deadline = now + seconds if previous_deadline is None else min(now + seconds, previous_deadline)
    left = max(_deadline - now, 0.001)
    use_signal = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    old_handler = None
    repeater = None
    if use_signal:
        old_handler = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, left)
    else:
        repeater = _Repeater(threading.get_ident(), left)
    try:
        yield
    except Interrupt:
        raise _ran_out(seconds) from None
    finally:
        if use_signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
            if previous_deadline is not None:  # the outer budget's timer: re-arm what is left of it
                signal.setitimer(signal.ITIMER_REAL, max(previous_deadline - time.monotonic(), 0.001))
        if repeater is not None:
            repeater.stop()
        _deadline = previous_deadline


def run_guarded(fn: Callable[[], T], timeout: float | None = None) -> T:
    """Run ``fn()`` in a thread with a deep stack, under a time budget; its result or its exception.

    The calling thread only waits. If the work cannot be stopped (a long operation in C ignores
    interruptions) the wait ends ``GRACE`` seconds after the deadline with ``BudgetExceeded`` and
    the thread is abandoned (it is a daemon: it ends with the process).

    >>> run_guarded(lambda: sum(range(5)))
    10
    """
    timeout = validate_timeout(timeout)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            try:
                with time_budget(timeout):
                    box["value"] = fn()
            except Interrupt:  # delivered just as the block ended: still the budget running out
                raise _ran_out(timeout or 0) from None
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            box["error"] = exc

    if hasattr(sys, "set_int_max_str_digits") and 0 < sys.get_int_max_str_digits() < MAX_INT_DIGITS:
        # the parser admits exact numbers of up to ~120 000 digits; printing them must not fail
        sys.set_int_max_str_digits(MAX_INT_DIGITS)
    old_limit = sys.getrecursionlimit()
    if old_limit < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    old_size = threading.stack_size()
    try:
        try:
            threading.stack_size(STACK_SIZE)
        except (ValueError, RuntimeError):  # a platform without adjustable stacks: the default one
            pass
        worker = threading.Thread(target=target, name="symgrad-work", daemon=True)
        worker.start()
    finally:
        threading.stack_size(old_size)
    try:
        worker.join(None if timeout is None else timeout + GRACE)
        if worker.is_alive():
            raise BudgetExceeded(
                f"the time budget of {timeout:g} s ran out, and the computation could not be interrupted",
                suggestion=_HINT,
            )
    finally:
        if sys.getrecursionlimit() == RECURSION_LIMIT and not worker.is_alive():
            sys.setrecursionlimit(old_limit)
    if "error" in box:
        error = box.pop("error")
        raise error.with_traceback(error.__traceback__)
    return box["value"]  # type: ignore[no-any-return]


def isolated(fn: Callable[..., T], *args: Any, timeout: float | None = None, memory: int = ISOLATED_MEMORY) -> T:
    """``fn(*args)`` in a forked child process that is killed at the deadline; its result or exception.

    The child may use ``memory`` bytes of address space beyond what the parent has; past that its
    allocations fail (``MemoryError``, reported as could-not-compute). Without ``fork`` (Windows)
    the call runs in-process under the ordinary time budget. Results and exceptions travel back
    pickled, so they must be picklable (SymPy expressions are).

    >>> isolated(pow, 2, 10, timeout=10)
    1024
    """
    left = remaining()
    if timeout is None:
        timeout = left
    elif left is not None:
        timeout = min(timeout, left)
    if not hasattr(os, "fork"):
        with time_budget(timeout):
            return fn(*args)
    if timeout is not None and timeout <= 0:
        raise _ran_out(0)
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
    return _collect(pid, read_fd, timeout)


def _cap_memory(extra: int) -> None:
    try:
        import resource

        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        cap = used + extra
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (OSError, ValueError, ImportError):  # no /proc or no resource module: no cap, still killable
        pass


def _collect(pid: int, read_fd: int, timeout: float | None) -> Any:
    """Read the child's answer until the deadline; kill it if the deadline comes first."""
    import pickle
    import select

    deadline = None if timeout is None else time.monotonic() + timeout
    chunks: list[bytes] = []
    try:
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([read_fd], [], [], wait)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                raise _ran_out(timeout or 0)
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
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    if not chunks:
        raise BudgetExceeded("the computation ran out of memory", suggestion="try a simpler input")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "error":
        if isinstance(value, MemoryError):
            raise BudgetExceeded("the computation ran out of memory", suggestion="try a simpler input") from None
        raise value
    return value

"""The time budget: work that can explode (simplify, solve, big powers) stops with a message.

Stage: shared by every stage. ``time_budget(seconds)`` arms a timer for a block of work; when it
runs out a ``BudgetExceeded`` is raised in the main thread at the next Python bytecode. Long
checks inside the work may also call ``check()`` to stop early and cleanly.

Limitation: a timer cannot interrupt one long C-level operation (a single huge big-integer power);
size checks before such work (see ``symgrad.parsing``) are the guard there.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from symgrad.errors import BudgetExceeded

_deadline: float | None = None


def remaining() -> float | None:
    """Seconds left in the current budget, or None when no budget is running."""
    return None if _deadline is None else _deadline - time.monotonic()


def check(what: str = "the computation") -> None:
    """Raise ``BudgetExceeded`` if the current budget has run out."""
    if _deadline is not None and time.monotonic() > _deadline:
        raise BudgetExceeded(f"{what} ran out of the time budget", suggestion="try a simpler input or raise --timeout")


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Run the block with a deadline; in the main thread a timer signal enforces it."""
    global _deadline
    if seconds is None or seconds <= 0:
        yield
        return
    previous_deadline = _deadline
    _deadline = time.monotonic() + seconds
    use_signal = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def on_alarm(signum: int, frame: object) -> None:
        raise BudgetExceeded(
            f"the time budget of {seconds:g} s ran out", suggestion="try a simpler input or raise --timeout"
        )

    old_handler = None
    if use_signal:
        old_handler = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if use_signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
        _deadline = previous_deadline

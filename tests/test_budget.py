"""The time budget counts CPU time; the wall-clock backstop bounds waiting; isolated children are
stopped by the kernel; exact powers too large to compute are refused where SymPy computes them.

No verdict here depends on machine load: each test asserts which kind of stop happened and how
much CPU time was consumed, with generous bounds, never how long it took on the wall clock.
"""

from __future__ import annotations

import time

import pytest
import sympy as sp

from symgrad import budget
from symgrad.errors import BudgetExceeded
from symgrad.magnitude import TooLarge, guard


def _spin() -> None:
    while True:
        pass


def test_cpu_bound_loop_stops_at_its_cpu_budget() -> None:
    start = budget.cpu_clock()
    with pytest.raises(BudgetExceeded, match="time budget of 0.3 s ran out"):
        budget.run_guarded(_spin, 0.3)
    used = budget.cpu_clock() - start
    assert 0.25 <= used < 0.3 + budget.GRACE + 3  # stopped by its CPU budget, not left to run


def test_cpu_budget_in_the_main_thread() -> None:
    start = budget.cpu_clock()
    with pytest.raises(BudgetExceeded, match="time budget of 0.2 s ran out"), budget.time_budget(0.2):
        _spin()
    assert 0.15 <= budget.cpu_clock() - start < 3  # the kernel counts CPU time in ticks


def test_waiting_is_stopped_by_the_wall_backstop(monkeypatch) -> None:
    """A worker that only waits uses no CPU: the wall-clock backstop ends it, and says so."""
    monkeypatch.setattr(budget, "WALL_FACTOR", 1.0)
    monkeypatch.setattr(budget, "WALL_EXTRA", 0.5)
    start = budget.cpu_clock()

    def wait() -> None:
        while True:
            time.sleep(0.01)  # interruptible between sleeps

    with pytest.raises(BudgetExceeded, match="wall-clock limit for a time budget of 2 s"):
        budget.run_guarded(wait, 2)
    assert budget.cpu_clock() - start < 1.5  # less than the 2 s CPU budget: the wall clock stopped it


def test_wall_backstop_is_generous() -> None:
    assert budget.wall_backstop(10) == 100 and budget.wall_backstop(0.5) == 60.5


def test_budget_is_per_thread_and_restored() -> None:
    with pytest.raises(BudgetExceeded):
        budget.run_guarded(_spin, 0.2)
    assert budget.remaining() is None  # nothing left behind for the next command
    assert budget.run_guarded(lambda: budget.remaining() is not None and budget.remaining() <= 5, 5)


def test_nested_budget_never_outlives_the_outer() -> None:
    def inner() -> float | None:
        with budget.time_budget(100):
            return budget.remaining()

    left = budget.run_guarded(inner, 2)
    assert left is not None and left <= 2


def test_interruption_cannot_be_swallowed_by_except_exception() -> None:
    def stubborn() -> None:
        while True:
            try:
                _spin()
            except Exception:
                pass

    with pytest.raises(BudgetExceeded):
        budget.run_guarded(stubborn, 0.2)


def test_isolated_child_is_stopped_by_the_kernel_at_its_cpu_budget() -> None:
    """One C-level operation (a big-integer power) cannot be interrupted by a timer; the child's
    CPU-time limit ends it anyway, and its CPU time counts against the caller's budget."""
    start = budget.cpu_clock()
    with pytest.raises(BudgetExceeded, match="time budget of 0.5 s ran out"):
        budget.isolated(pow, 3, 10**9, timeout=0.5)
    used = budget.cpu_clock() - start  # the child's CPU time is charged to this process
    assert 0.4 <= used < 4


def test_isolated_child_is_charged_to_the_running_budget() -> None:
    def twice() -> None:
        for _ in range(2):
            try:
                budget.isolated(pow, 3, 10**9)
            except BudgetExceeded:
                pass
        budget.check()

    with pytest.raises(BudgetExceeded):  # the second child gets nothing: the first spent the budget
        budget.run_guarded(twice, 0.5)


def test_isolated_waiting_child_is_killed_at_the_wall_backstop(monkeypatch) -> None:
    monkeypatch.setattr(budget, "WALL_FACTOR", 1.0)
    monkeypatch.setattr(budget, "WALL_EXTRA", 0.5)
    with pytest.raises(BudgetExceeded, match="wall-clock limit"):
        budget.isolated(time.sleep, 1000, timeout=0.5)


def test_isolated_memory_cap() -> None:
    with pytest.raises(BudgetExceeded, match="ran out of memory"):
        budget.isolated(bytearray, 6 * 1024**3, timeout=20, memory=256 * 1024**2)


def test_isolated_returns_values_and_exceptions() -> None:
    assert budget.isolated(pow, 2, 10, timeout=10) == 1024
    with pytest.raises(ZeroDivisionError):
        budget.isolated(divmod, 1, 0, timeout=10)


def test_guard_refuses_giant_exact_powers_wherever_sympy_makes_them() -> None:
    x = sp.Symbol("x", real=True)
    with guard():
        with pytest.raises(TooLarge, match="3\\^100000000 is too large to compute exactly"):
            sp.exp(sp.Integer(10) ** 8 * sp.log(3))  # SymPy rewrites exp(c ln 3) as 3^c
        with pytest.raises(TooLarge):
            sp.exp(x + sp.Integer(10) ** 8 * sp.log(3))  # and exp(x + c) as exp(x)·exp(c)
        with pytest.raises(TooLarge):
            (sp.Integer(3) ** x * sp.exp(x)) .subs(x, 10**8)  # a point substituted
        with pytest.raises(TooLarge):
            sp.Rational(3, 7) ** (10**6)
        assert sp.Integer(2) ** 1000 == 2**1000  # small ones as before
        assert sp.Integer(1) ** (10**100) == 1 and sp.Integer(-1) ** (10**100 + 1) == -1
    assert sp.Integer(3) ** 40000 == 3**40000  # outside the guard: SymPy unchanged


def test_run_guarded_turns_too_large_into_a_message() -> None:
    with pytest.raises(BudgetExceeded, match="too large to compute exactly"):
        budget.run_guarded(lambda: sp.exp(sp.Integer(10) ** 10 * sp.log(2)), 5)


def test_fuzz_families_keep_the_promises() -> None:
    """A few inputs of each budget family of the fuzzer (tests/fuzz/families.py), seeded."""
    import random
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent / "fuzz"))
    from families import FAMILIES, run_command
    from test_properties import GrammarWalker

    walker, rng = GrammarWalker(), random.Random(13)
    budget_families = [FAMILIES[name] for name in ("giants", "at", "answer")]  # the others: test_fuzz_smoke.py
    outcomes = [run_command(family(rng, walker)) for family in budget_families for _ in range(3)]
    assert "error" in outcomes  # the families do reach the size checks


def test_the_budget_that_runs_out_is_named() -> None:
    def inner() -> None:
        with budget.time_budget(100):
            _spin()

    with pytest.raises(BudgetExceeded, match="time budget of 0.3 s ran out"):
        budget.run_guarded(inner, 0.3)


def test_load_alone_does_not_break_the_budget() -> None:
    """12 commands at once on this machine's cores: each needs well under a second of CPU, so a
    3 s CPU budget holds however long the crowd makes them wait (a wall-clock budget of 3 s would
    not: 12 × ~0.6 s of work share two cores). The verdict needs no timing: every run succeeds."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    procs = [subprocess.Popen([sys.executable, "-m", "symgrad", "diff", "x cos(πx)", "--timeout", "3", "--format",
                               "plain"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(12)]
    results = [(p.wait(timeout=600), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert all(code == 0 for code, _, _ in results), [err[-300:] for code, _, err in results if code]

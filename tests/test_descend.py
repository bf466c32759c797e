"""The descent loop and `symgrad descend`: the seeds' examples, divergence, data fits, plots.

Oracles: the course notes' own update x ← x − η·(cos(πx) − πx·sin(πx)) written out here by hand,
numpy's least squares for line fits, SymPy's `doit()` of the sum with the data substituted.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.errors import InputError
from symgrad.numeric import data as D
from symgrad.numeric.compile import compile
from symgrad.numeric.descend import descend
from symgrad.numeric.objective import objective
from symgrad.numeric.optimizers import adam, gd, sgd

np = pytest.importorskip("numpy")


def seeds_gd(x: float, eta: float, steps: int) -> list[float]:
    """The notes' loop, with the derivative they write out by hand."""
    out = [x]
    for _ in range(steps):
        x -= eta * (math.cos(math.pi * x) - math.pi * x * math.sin(math.pi * x))
        out.append(x)
    return out


@pytest.fixture(scope="module")
def xcos():
    return objective(compile("x cos(πx)", backend="math", what=["value_and_grad"]))


@pytest.mark.parametrize(("start", "steps"), [(0.5, 5), (-1.0, 20)])
def test_seeds_gradient_descent(xcos, start: float, steps: int) -> None:
    run = descend(xcos, (start,), gd(lr=0.1), steps=steps)
    expected = seeds_gd(start, 0.1, steps)
    assert [it.point[0] for it in run.trajectory] == pytest.approx(expected, rel=1e-13, abs=1e-15)
    for it in run.trajectory:
        assert it.value == pytest.approx(it.point[0] * math.cos(math.pi * it.point[0]), abs=1e-15)


def test_different_starts_reach_different_minima(xcos) -> None:
    right = descend(xcos, (0.5,), gd(lr=0.1), steps=50).final.point[0]
    left = descend(xcos, (-1.0,), gd(lr=0.1), steps=50).final.point[0]
    # both are minima: f' = 0 and f'' > 0 there
    for x in (right, left):
        assert math.cos(math.pi * x) - math.pi * x * math.sin(math.pi * x) == pytest.approx(0, abs=1e-9)
        assert -2 * math.pi * math.sin(math.pi * x) - math.pi**2 * x * math.cos(math.pi * x) > 0
    assert right > 1 > 0 > left


def test_seeds_learning_rate_1_0055_diverges(xcos) -> None:
    run = descend(xcos, (-1.0,), gd(lr=1.0055), steps=5000)
    assert run.stopped == "diverged" and run.cause == "growth"
    assert run.final.step < 50  # caught while running away, long before it overflows
    assert all(math.isfinite(v) for v in run.final.point)
    assert abs(run.final.point[0]) > 1e5 * abs(run.trajectory[1].point[0])
    assert "running away" in run.note
    assert [it.point[0] for it in run.trajectory] == pytest.approx(seeds_gd(-1.0, 1.0055, run.final.step), rel=1e-9)


def test_nan_is_divergence_too() -> None:
    vg = objective(compile("ln x", backend="math", what=["value_and_grad"]))
    run = descend(vg, (0.5,), gd(lr=1.0), steps=10)   # 0.5 − 1/0.5 < 0: outside the domain
    assert run.stopped == "diverged" and run.cause == "domain"
    assert run.final.point == (0.5,)
    assert "left f's domain" in run.note and "-1.5" in run.note


# divergence: growth, lost digits, the domain ------------------------------------------------------
def _vg(text: str):
    return objective(compile(text, backend="math", what=["value", "value_and_grad"]))


@pytest.mark.parametrize(("a", "lr"), [(1.0, 1.5), (1.0, 1.1), (3.0, 0.4), (0.5, 2.5), (100.0, 0.0101)])
def test_unstable_gradient_descent_on_a_parabola_diverges(a: float, lr: float) -> None:
    # x ← (1 − 2a·lr)·x: |1 − 2a·lr| > 1 grows geometrically; caught long before an overflow
    factor = abs(1 - 2 * a * lr)
    assert factor > 1
    run = descend(_vg(f"{a} x^2"), (1.0,), gd(lr=lr), steps=5000)
    assert run.stopped == "diverged" and run.cause == "growth"
    assert factor ** run.final.step < 1e300
    assert abs(run.final.point[0]) == pytest.approx(factor ** run.final.step, rel=1e-6)


@pytest.mark.parametrize(("a", "lr"), [(1.0, 0.99), (1.0, 0.5), (3.0, 0.3), (100.0, 0.0099), (0.5, 1.9)])
def test_stable_gradient_descent_on_a_parabola_converges(a: float, lr: float) -> None:
    run = descend(_vg(f"{a} x^2"), (1.0,), gd(lr=lr), steps=5000)
    assert run.stopped == "steps" and run.converged and run.note is None
    assert abs(run.final.point[0]) < 1e-12


@settings(max_examples=40, deadline=None, derandomize=True)
@given(a=st.floats(0.01, 100.0), factor=st.floats(-3.0, -1.02))
def test_property_unstable_steps_on_parabolas_diverge_before_any_overflow(a: float, factor: float) -> None:
    # x ← (1 − 2a·lr)·x = factor·x: |factor| > 1 is unstable, whatever the curvature
    lr = (1 - factor) / (2 * a)
    run = descend(_vg(f"{a!r} x^2"), (1.0,), gd(lr=lr), steps=20000)
    assert run.stopped == "diverged" and run.cause == "growth", run.note
    assert abs(run.final.point[0]) < 1e100


@settings(max_examples=40, deadline=None, derandomize=True)
@given(a=st.floats(0.01, 100.0), factor=st.floats(-0.98, 0.98), momentum=st.sampled_from([0.0, 0.5, 0.9, 0.99]),
       start=st.floats(-1e6, 1e6).filter(lambda v: abs(v) > 1e-6))
def test_property_stable_steps_on_parabolas_never_run_away(a: float, factor: float, momentum: float,
                                                           start: float) -> None:
    # heavy ball on a·x² is stable for 0 < lr·2a < 2(1 + μ): this lr is inside for every μ ≥ 0
    lr = (1 - factor) / (2 * a)
    run = descend(_vg(f"{a!r} (x - 3)^2"), (start,), sgd(lr=lr, momentum=momentum), steps=3000)
    assert run.stopped == "steps", run.note


@pytest.mark.parametrize(("text", "start", "make", "minimum"), [
    # escaping a maximum or a saddle moves away geometrically too, but with f falling: no divergence
    ("x^4 - x^2", (1e-10,), lambda: gd(lr=0.1), (1 / math.sqrt(2),)),
    ("5 + x^4 - x^2", (1e-12,), lambda: gd(lr=0.05), (1 / math.sqrt(2),)),
    ("cos(x)", (1e-6,), lambda: sgd(lr=0.1, momentum=0.9), (math.pi,)),
    ("x^2 y^2 - x^2 + y^2 + x^4", (1e-9, 0.5), lambda: sgd(lr=0.02, momentum=0.5, nesterov=True), (1 / math.sqrt(2),
                                                                                                   0.0)),
    # heavy momentum under a steady force: distance grows quadratically at first, then settles
    ("(x - 1000000)^2", (0.0,), lambda: sgd(lr=1e-4, momentum=0.99), (1e6,)),
    ("x^2", (1.0,), lambda: sgd(lr=1e-5, momentum=0.999), (0.0,)),
    ("(x - 3)^2 + (y + 2)^2", (0.0, 0.0), lambda: adam(lr=0.05), (3.0, -2.0)),
])
def test_legitimate_runs_do_not_count_as_running_away(text: str, start: tuple, make, minimum: tuple) -> None:
    run = descend(_vg(text), start, make(), steps=20000)
    assert run.stopped == "steps", run.note
    assert run.final.point == pytest.approx(minimum, abs=1e-4)


def test_unbounded_below_gets_a_note_not_a_verdict(cli) -> None:
    run = descend(_vg("-x^2"), (1.0,), gd(lr=0.1), steps=100)
    assert run.stopped == "steps" and not run.converged
    assert "may be unbounded below" in run.note
    res = cli("descend", "-x^2", "--start", "x=1", "--lr", "0.1", "--format", "plain")
    assert res.exit_code == 0
    assert "may be unbounded below" in res.stdout
    # f running off to −∞ until it overflows: no advice to shrink the learning rate
    res = cli("descend", "-x^4", "--start", "x=1", "--lr", "0.1", "--steps", "1000", "--format", "plain")
    assert res.exit_code == 1
    assert "it may be unbounded below" in res.stdout and "smaller learning rate" not in res.stdout


def test_lost_digits_is_the_float_spacing_against_the_period() -> None:
    from symgrad.numeric.objective import lost_digits

    # oracle: math.ulp and the period written out; 2⁵⁵ is the first power of two where floats are
    # 8 > 2π apart (2⁵⁴: 4 apart, less than 2π but more than tan's period π)
    for k in range(40, 70):
        u = 2.0**k * 1.5
        assert (lost_digits(u, 2 * math.pi) is not None) == (math.ulp(u) >= 2 * math.pi)
        assert (lost_digits(-u, math.pi) is not None) == (math.ulp(u) >= math.pi)
    assert lost_digits(2.0**54, 2 * math.pi) is None and lost_digits(2.0**54, math.pi) == 4.0


def test_no_digit_meaningful_is_divergence() -> None:
    import mpmath

    run = descend(_vg("cos(10^15 x)"), (0.1,), gd(lr=1e-10), steps=10, names=["x"])
    assert run.stopped == "diverged" and run.cause == "precision"
    assert "no digit of cos" in run.note and "period 2π" in run.note
    # indeed: at the point where it stopped, neighbouring floats give cos values all over [-1, 1]
    x = run.note.split(" at x=")[1].split(":")[0]
    u = 1e15 * float(x)
    values = {float(mpmath.cos(mpmath.mpf(u) + k * math.ulp(u))) for k in range(-2, 3)}
    assert max(values) - min(values) > 0.5
    # and tan's period is π: lost at a smaller argument than cos
    guard = D_guard("tan(x) + cos(x)")
    with pytest.raises(Exception, match="no digit of tan"):
        guard((2.0**54,))
    guard((2.0**53,))


def D_guard(text: str):
    from symgrad.numeric.objective import PeriodicGuard
    from symgrad.parsing import parse

    e = parse(text)
    return PeriodicGuard.build([e], sorted(e.free_symbols, key=str))


def test_seeds_example_through_the_cli(cli) -> None:
    res = cli("descend", "x*cos(pi*x)", "--start", "x=-1", "--lr", "1.0055", "--steps", "200", "--format", "json")
    assert res.exit_code == 1
    run = res.json()["runs"][0]
    assert run["stopped"] == "diverged" and run["cause"] == "growth" and not run["converged"]
    assert run["final"]["step"] < 200
    res = cli("descend", "x*cos(pi*x)", "--start", "x=-1", "--lr", "1.0055", "--steps", "200", "--format", "plain")
    assert "diverged after" in res.stdout and "stopped after 200" not in res.stdout


@pytest.mark.parametrize(("text", "start", "message"), [
    # the math backend raises ValueError for a fractional power of a negative number (math.pow), as
    # math.sqrt does, so these read as outside the domain
    ("x^(1/3)", "x=-1", "f is not defined (outside its domain) at the start x=-1"),
    ("x^(2/3)", "x=-1", "f is not defined (outside its domain) at the start x=-1"),
    ("(x-1)^(1/5)", "x=0", "f is not defined (outside its domain) at the start x=0"),
    ("x^(1/3)", "x=0", "∇f divides by zero at the start x=0: f is 0 there, but not differentiable"),
    ("ln(x) + y", "x=-2,y=1", "f is not defined (outside its domain) at the start x=-2, y=1"),
    ("1/x", "x=0", "f divides by zero at the start x=0"),
])
def test_a_start_outside_the_domain_is_bad_input(cli, text: str, start: str, message: str) -> None:
    res = cli("descend", text, "--start", start)
    assert res.exit_code == 2
    assert message in res.stderr
    assert "internal error" not in res.stderr
    res = cli("descend", text, "--start", start, "--format", "json")
    assert res.exit_code == 2 and message in res.json()["error"]["message"]


def test_leaving_the_real_domain_is_divergence(cli) -> None:
    res = cli("descend", "x^(1/3)", "--start", "x=1", "--lr", "0.5", "--format", "json")
    assert res.exit_code == 1
    run = res.json()["runs"][0]
    assert run["stopped"] == "diverged" and run["cause"] == "domain"
    assert "outside its domain" in run["note"]  # x^(1/3) of a negative x: math.pow raises, as math.sqrt does
    # the last good point is a real one, and f there is the real cube root
    x = run["final"]["point"][0]
    assert x > 0 and run["final"]["value"] == pytest.approx(x ** (1 / 3))


@pytest.mark.parametrize(("text", "message"), [
    ("1e400 x^2", "f has a constant, a number of about 10^400, beyond the range"),
    ("exp(1000) x^2", "f has a constant, e^1000, beyond the range"),
    ("1e-400 x^2 + x", "f has a constant, a number of about 10^-400, below the smallest"),
])
def test_constants_floats_cannot_hold_are_named(cli, text: str, message: str) -> None:
    res = cli("descend", text, "--start", "x=1")
    assert res.exit_code == 1
    assert message in res.stderr
    assert "grew to" not in res.stderr


def test_an_overflow_at_the_start_says_so(cli) -> None:
    res = cli("descend", "x^2", "--start", "x=1e300")
    assert res.exit_code == 1
    assert "f is beyond the range of floating-point numbers at the start x=1e+300" in res.stderr


@pytest.mark.parametrize("args", [
    ["--lr", "inf"], ["--lr", "nan"], ["--lr", "-1"], ["--optimizer", "adam", "--eps", "inf"],
    ["--optimizer", "sgd", "--dampening", "nan"], ["--optimizer", "sgd", "--momentum", "inf"],
    ["--optimizer", "sgd", "--weight-decay", "inf"], ["--optimizer", "adagrad", "--lr-decay", "inf"],
    ["--optimizer", "adagrad", "--initial-accumulator-value", "nan"], ["--optimizer", "rmsprop", "--alpha", "inf"],
    ["--optimizer", "nadam", "--momentum-decay", "-inf"], ["--optimizer", "adam", "--betas", "0.9,nan"],
    ["--steps", "-1"], ["--steps", "1000001"], ["--tol", "nan"], ["--tol", "-1"], ["--tol", "inf"],
    ["--seed", "-1"], ["--batch-size", "2"],
])
def test_bad_numbers_are_bad_input_in_every_format(cli, args: list[str]) -> None:
    for fmt in ("plain", "json"):
        res = cli("descend", "x^2", *args, "--format", fmt)
        assert res.exit_code == 2, (args, res.stdout, res.stderr)
        if fmt == "json":
            assert set(res.json()) == {"error"}
        else:
            assert res.stderr.startswith("error: ") and "internal error" not in res.stderr


def test_the_learning_rate_hint_is_a_real_number(cli) -> None:
    res = cli("descend", "x^2", "--start", "x=1", "--lr", "1.5", "--format", "plain")
    assert res.exit_code == 1
    assert "e.g. --lr 0.15" in res.stdout


# converged or not: the note about different minima -------------------------------------------------
def test_runs_that_did_not_converge_get_no_minima_note(cli) -> None:
    res = cli("descend", "x^2", "--start", "x=1", "--start", "x=-1", "--lr", "0.01", "--steps", "10",
              "--format", "plain")
    assert res.exit_code == 0
    assert "different minima" not in res.stdout
    assert res.stdout.count("not converged") >= 2
    data = cli("descend", "x^2", "--start", "x=1", "--start", "x=-1", "--lr", "0.01", "--steps", "10",
               "--format", "json").json()
    assert [r["converged"] for r in data["runs"]] == [False, False]
    # converged to the same point: no note either
    res = cli("descend", "x^2", "--start", "x=1", "--start", "x=-1", "--lr", "0.1", "--steps", "500",
              "--format", "plain")
    assert "different minima" not in res.stdout and "converged)" in res.stdout


def test_runs_that_converged_to_different_points_get_the_note(cli) -> None:
    res = cli("descend", "x cos(πx)", "--start", "x=0.5", "--start", "x=-1", "--lr", "0.1", "--steps", "20",
              "--format", "plain")
    assert "the runs converged to different points: different starts can lead to different minima" in res.stdout
    # one converged, one did not: the note speaks only of those that converged
    res = cli("descend", "x cos(πx)", "--start", "x=0.5", "--start", "x=-1", "--start", "x=3", "--lr", "0.1",
              "--steps", "20", "--format", "plain")
    data = cli("descend", "x cos(πx)", "--start", "x=0.5", "--start", "x=-1", "--start", "x=3", "--lr", "0.1",
               "--steps", "20", "--format", "json").json()
    if not all(r["converged"] for r in data["runs"]):
        assert "the runs that converged converged to different points" in res.stdout


def test_converged_means_settled() -> None:
    vg = _vg("x^2")
    assert descend(vg, (1.0,), gd(lr=0.1), steps=500).converged
    assert not descend(vg, (1.0,), gd(lr=0.01), steps=10).converged
    assert descend(vg, (1.0,), gd(lr=0.1), steps=500, tol=1e-3).converged
    assert descend(vg, (0.0,), gd(lr=0.1), steps=5).converged  # started at the minimum
    # a plateau: tiny gradient, but not a fraction of its largest: not converged
    assert not descend(_vg("sigmoid(x)"), (-40.0,), gd(lr=0.1), steps=100).converged


# Ctrl-C ---------------------------------------------------------------------------------------------
def test_an_interrupted_run_keeps_its_iterates() -> None:
    import threading

    stop = threading.Event()
    run = descend(_vg("x^2"), (1.0,), gd(lr=1e-9), steps=100_000, progress=lambda done: stop.set(),
                  interrupt=stop)
    assert run.stopped == "interrupted"
    assert len(run.trajectory) == 1025  # stopped at the step after the first progress report
    assert [it.step for it in run.trajectory] == list(range(1025))


def _budget_low_after(calls: int, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """budget.left() reports plenty of time for ``calls`` calls, then less than the reserve: the
    budget running low without depending on how fast the machine is."""
    from symgrad import budget

    seen = [0]

    def left() -> tuple[float, float]:
        seen[0] += 1
        return (10.0 if seen[0] <= calls else 0.5), 10.0

    monkeypatch.setattr(budget, "left", left)
    return seen


def test_a_run_stops_before_the_budget_runs_out_and_keeps_its_iterates(monkeypatch: pytest.MonkeyPatch) -> None:
    _budget_low_after(3, monkeypatch)
    run = descend(_vg("x^2"), (1.0,), gd(lr=1e-9), steps=100_000)
    assert run.stopped == "budget" and not run.converged
    assert [it.step for it in run.trajectory] == list(range(4 * 256 + 1))  # checked every 256 updates


def test_the_cli_shows_the_iterates_when_the_budget_runs_low(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    _budget_low_after(2, monkeypatch)
    res = cli("descend", "x^2 + y^2", "--start", "x=1,y=1", "--start", "x=2,y=2", "--lr", "1e-9",
              "--steps", "100000", "--format", "json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    (run,) = data["runs"]
    assert run["stopped"] == "budget" and len(run["trajectory"]) == 3 * 256 + 1
    assert data["not_started"] == [[2.0, 2.0]] and "interrupted" not in data
    assert "ran low during the descent" in res.stderr and "--timeout" in res.stderr
    _budget_low_after(0, monkeypatch)
    res = cli("descend", "x^2", "--start", "x=1", "--start", "x=2", "--lr", "1e-9", "--steps", "100000",
              "--format", "plain")
    assert res.exit_code == 1
    assert "stopped by the time budget after 256 steps" in res.stdout
    assert "run 2 from x=2: not started (out of time)" in res.stdout


def test_ctrl_c_prints_what_was_computed_and_exits_130(tmp_path: Path) -> None:
    import json
    import os
    import select
    import signal
    import subprocess
    import sys

    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm", COLUMNS="150", SYMGRAD_DEBUG="")
    # stderr is a terminal, so the progress bar appears once the descent runs: that is the moment to
    # press Ctrl-C (no sleeping: the test waits for the bar, however slow the machine)
    proc = subprocess.Popen(
        [sys.executable, "-m", "symgrad", "descend", "sum((x - i)^2 + (y + i)^2, i, 1, 200)", "--start", "x=1,y=1",
         "--start", "x=2,y=2", "--lr", "1e-12", "--steps", "500000", "--format", "json", "--timeout", "3600"],
        stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=env, cwd=tmp_path)
    os.close(slave)
    seen = b""
    try:
        while b"descending" not in seen:
            ready, _, _ = select.select([master], [], [], 300)  # a hang guard only
            try:
                chunk = os.read(master, 1 << 16) if ready else b""
            except OSError:  # the other end closed: the command ended without a progress bar
                chunk = b""
            assert chunk, "no progress bar: " + seen.decode(errors="replace")
            seen += chunk
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert proc.returncode == 130
    data = json.loads(out)
    assert data["interrupted"] is True
    assert data["not_started"] == [[2.0, 2.0]]
    (run,) = data["runs"]
    assert run["stopped"] == "interrupted" and not run["converged"]
    assert len(run["trajectory"]) > 1024
    assert run["final"] == run["trajectory"][-1]
    assert [t["step"] for t in run["trajectory"][:3]] == [0, 1, 2]


def test_the_text_output_of_an_interrupted_run() -> None:
    import sympy as sp

    from symgrad.render import backends
    from symgrad.render.narrate.descent import descent_document

    x = sp.Symbol("x", real=True)
    run = descend(_vg("x^2"), (1.0,), gd(lr=0.1), steps=5)
    cut = type(run)(run.start, run.trajectory[:3], "interrupted")
    doc = descent_document("x^2", x**2, [], [x], [2 * x], gd(lr=0.1), [run, cut], not_started=[(3.0,)])
    text = backends.to_plain(doc)
    assert "interrupted after 2 steps at x=0.64" in text
    assert "run 3 from x=3: not started (interrupted)" in text
    assert "(f=0.4096, interrupted)" in text


def test_rosenbrock_with_adam_reaches_the_minimum() -> None:
    vg = objective(compile("(1-x)^2 + 100(y-x^2)^2", backend="math", what=["value_and_grad"]))
    run = descend(vg, (-1.5, 2.0), adam(lr=0.02), steps=4000, tol=1e-6)
    assert run.final.point == pytest.approx((1.0, 1.0), abs=1e-4)
    # f along the way is the function itself
    for it in run.trajectory[::400]:
        x, y = it.point
        assert it.value == pytest.approx((1 - x) ** 2 + 100 * (y - x * x) ** 2, rel=1e-12, abs=1e-15)


def test_tolerance_stop() -> None:
    vg = objective(compile("x^2 + 4y^2", backend="math", what=["value_and_grad"]))
    run = descend(vg, (1.0, 1.0), gd(lr=0.1), steps=1000, tol=1e-6)
    assert run.stopped == "tolerance"
    assert run.final.grad_norm < 1e-6
    assert run.trajectory[-2].grad_norm >= 1e-6


# data: a line through points in a CSV the test writes -------------------------------------------
X, Y = sp.IndexedBase("x"), sp.IndexedBase("y")
I, N = sp.Symbol("i", integer=True), sp.Symbol("n", integer=True)
W, B = sp.symbols("w b", real=True)
MSE = sp.Sum((Y[I] - (W * X[I] + B)) ** 2, (I, 1, N)) / N


@pytest.fixture(scope="module")
def points_csv(tmp_path_factory) -> Path:
    rng = np.random.default_rng(7)
    xs = rng.uniform(-1, 2, 40)
    ys = 2.5 * xs - 0.7 + rng.normal(0, 0.1, xs.size)
    path = tmp_path_factory.mktemp("data") / "points.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["x", "y", "label"])
        for a, b in zip(xs, ys):
            w.writerow([repr(float(a)), repr(float(b)), "p"])
    return path


def least_squares(path: Path) -> tuple[float, float]:
    arr = np.genfromtxt(path, delimiter=",", skip_header=1, usecols=(0, 1))
    slope, intercept = np.polyfit(arr[:, 0], arr[:, 1], 1)
    return float(intercept), float(slope)


def test_bound_gradient_matches_the_expanded_sum(points_csv: Path) -> None:
    table = D.read_csv(points_csv, ["x", "y"])
    objective_ = D.bind(MSE, table)
    point = (0.3, -1.2)
    value, grad = objective_(point, 0)
    # oracle: write the sum out with the numbers, then let SymPy differentiate it
    expanded = MSE.subs(N, table.rows).doit().subs({X[k]: table.columns["x"][k - 1] for k in range(1, table.rows + 1)})
    expanded = expanded.subs({Y[k]: table.columns["y"][k - 1] for k in range(1, table.rows + 1)})
    at = {B: point[0], W: point[1]}
    assert value == pytest.approx(float(expanded.subs(at)), rel=1e-12)
    assert grad == pytest.approx([float(sp.diff(expanded, v).subs(at)) for v in (B, W)], rel=1e-12)


@pytest.mark.parametrize(("make", "steps"), [(lambda: sgd(lr=0.1, momentum=0.5), 600), (lambda: adam(lr=0.05), 3000)])
def test_line_fit_full_batch(points_csv: Path, make, steps: int) -> None:
    objective_ = D.bind(MSE, D.read_csv(points_csv, ["x", "y"]))
    run = descend(objective_, (0.0, 0.0), make(), steps=steps)
    assert run.final.point == pytest.approx(least_squares(points_csv), abs=1e-4)


def test_minibatches_are_reproducible_and_seeded(points_csv: Path) -> None:
    table = D.read_csv(points_csv, ["x", "y"])

    def fit(seed: int) -> tuple[float, ...]:
        return descend(D.bind(MSE, table, batch_size=8, seed=seed), (0.0, 0.0), sgd(lr=0.05), steps=800).final.point

    assert fit(1) == fit(1)
    assert fit(1) != fit(2)
    assert fit(1) == pytest.approx(least_squares(points_csv), abs=0.1)  # noisy, but near
    ob = D.bind(MSE, table, batch_size=8, seed=0)
    rows = np.concatenate([ob.batch(k) for k in range(5)])  # one pass: every row exactly once
    assert sorted(rows.tolist()) == list(range(40))


def test_data_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n3,oops\n")
    with pytest.raises(InputError, match=r"bad.csv row 2 \(line 3\), column y: 'oops' is not a number"):
        D.read_csv(bad, ["x", "y"])
    with pytest.raises(InputError, match="no column 'z'"):
        D.read_csv(bad, ["z"])
    with pytest.raises(InputError, match="no such data file"):
        D.read_csv(tmp_path / "missing.csv", ["x"])
    short = tmp_path / "short.csv"
    short.write_text("x,y\n1,2\n3\n")
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column y: the row has no value there \(it has 1 field\)"):
        D.read_csv(short, ["x", "y"])
    twice = tmp_path / "twice.csv"
    twice.write_text("x,y,x\n1,2,3\n")
    with pytest.raises(InputError, match="two columns named 'x'"):
        D.read_csv(twice, ["x"])
    header = tmp_path / "header.csv"
    header.write_text("x,y\n\n")
    with pytest.raises(InputError, match="has no rows of data, only its header line"):
        D.read_csv(header, ["x"])
    for cell in ("inf", "nan", "1e400"):
        (tmp_path / "inf.csv").write_text(f"x\n1\n{cell}\n")
        with pytest.raises(InputError, match="is not a finite number"):
            D.read_csv(tmp_path / "inf.csv", ["x"])
    (tmp_path / "latin.csv").write_bytes(b"x\n1\n\xe9\n")
    with pytest.raises(InputError, match="is not UTF-8"):
        D.read_csv(tmp_path / "latin.csv", ["x"])
    (tmp_path / "nul.csv").write_bytes(b"x\n1\n2\x00\n")
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column x: '2\\x00' is not a number"):
        D.read_csv(tmp_path / "nul.csv", ["x"])


def test_csv_is_read_as_the_csv_module_specifies(tmp_path: Path) -> None:
    # a quoted field may hold commas and newlines; a number split by a newline is not a number
    path = tmp_path / "quoted.csv"
    path.write_text('x,label,y\r\n1,"a, b",2\r\n3,"two\nlines",4\r\n\r\n"5",plain,"6"\r\n', newline="")
    table = D.read_csv(path, ["x", "y"])
    assert table.rows == 3
    assert table.columns["x"].tolist() == [1.0, 3.0, 5.0] and table.columns["y"].tolist() == [2.0, 4.0, 6.0]
    split = tmp_path / "split.csv"
    split.write_text('x,y\n1,3\n"3\n4",5\n', newline="")
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column x: '3\\n4' is not a number"):
        D.read_csv(split, ["x", "y"])
    # the row after a two-line field is counted on the right line
    after = tmp_path / "after.csv"
    after.write_text('x,label\n1,"a\nb"\noops,c\n', newline="")
    with pytest.raises(InputError, match=r"row 2 \(line 4\), column x"):
        D.read_csv(after, ["x"])


def test_large_files_are_refused_early_with_bounded_memory(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "big.csv"
    path.write_text("x,y\n" + "1,2\n" * 50 + "oops,1\n")
    # by size, before reading a byte of it (else the bad cell would be the error)
    monkeypatch.setattr(D, "MAX_BYTES", 100)
    with pytest.raises(InputError, match="more than the limit of"):
        D.read_csv(path, ["x", "y"])
    monkeypatch.setattr(D, "MAX_BYTES", 1 << 30)
    # by rows, as soon as the row after the limit comes (the bad cell further on is never reached)
    monkeypatch.setattr(D, "MAX_ROWS", 20)
    with pytest.raises(InputError, match="more than 20 rows"):
        D.read_csv(path, ["x", "y"])
    monkeypatch.setattr(D, "MAX_ROWS", 10_000_000)
    good = tmp_path / "good.csv"
    good.write_text("x,y\n" + "1,2\n" * 1000)
    table = D.read_csv(good, ["x"])
    # one compact float64 array per needed column (8 bytes a cell), nothing for the others
    assert set(table.columns) == {"x"}
    assert table.columns["x"].dtype == np.float64 and table.columns["x"].nbytes == 8000


# sums map onto rows 1 … n as written ---------------------------------------------------------------
@pytest.fixture
def four_rows(tmp_path: Path) -> Path:
    path = tmp_path / "four.csv"
    path.write_text("x,y\n1,3\n2,5\n3,7\n40,9\n")
    return path


@pytest.mark.parametrize(("text", "message"), [
    ("sum(x_i, i, 0, 2) w", "data rows are numbered from 1, so sum(xᵢ, i, 0, 2) would use a row 0"),
    ("sum((y_i - (w x_i + b))^2, i, -5, 3)", "would use a row -5 that does not exist"),
    ("sum(x_i w, i, 2, n)", "runs to n, the number of data rows, so it must start at row 1, not 2"),
    ("sum(x_i w, i, 1, 5)", "runs to row 5 but the data has 4 rows"),
    ("sum(w, i, 1, n)", "no term of the loss uses the data in"),
    ("sum(i w^2, i, 1, 3)", "no term of the loss uses the data in"),
])
def test_sum_bounds_outside_the_rows_are_refused(cli, four_rows: Path, text: str, message: str) -> None:
    res = cli("descend", text, "--data", str(four_rows))
    assert res.exit_code == 2, res.stdout + res.stderr
    assert message in res.stderr
    assert "internal error" not in res.stderr


def test_fixed_bounds_use_the_rows_they_name(four_rows: Path) -> None:
    from symgrad.parsing import parse

    table = D.read_csv(four_rows, ["x", "y"])
    for lower, upper in ((1, 2), (2, 4), (3, 3)):
        e = parse(f"sum(x_i w^2 + i y_i w, i, {lower}, {upper})")
        value, grad = D.bind(e, table)((1.5,), 0)
        # oracle: the sum written out by SymPy with row k's numbers in place of x_k, y_k
        X, Y = sp.IndexedBase(sp.Symbol("x", real=True)), sp.IndexedBase(sp.Symbol("y", real=True))
        expanded = e.doit().subs({X[k]: table.columns["x"][k - 1] for k in range(1, 5)})
        expanded = expanded.subs({Y[k]: table.columns["y"][k - 1] for k in range(1, 5)})
        w = sp.Symbol("w", real=True)
        assert value == pytest.approx(float(expanded.subs(w, 1.5)), rel=1e-13)
        assert grad[0] == pytest.approx(float(sp.diff(expanded, w).subs(w, 1.5)), rel=1e-13)


def test_the_index_may_appear_in_the_summand(four_rows: Path) -> None:
    from symgrad.parsing import parse

    table = D.read_csv(four_rows, ["x", "y"])
    e = parse("sum((y_i - w i x_i)^2, i, 1, n)/n")
    value, grad = D.bind(e, table)((0.5,), 0)
    xs, ys = table.columns["x"], table.columns["y"]
    rows = np.arange(1, 5)
    assert value == pytest.approx(float(np.mean((ys - 0.5 * rows * xs) ** 2)), rel=1e-13)
    assert grad[0] == pytest.approx(float(np.mean(-2 * (ys - 0.5 * rows * xs) * rows * xs)), rel=1e-13)


def test_a_sum_without_data_needs_no_file(cli) -> None:
    from symgrad.numeric.descend import problem

    p = problem("sum(i w^2, i, 1, 3) + sum(cos(i w), i, -2, 2)")
    w = sp.Symbol("w", real=True)
    oracle = 6 * w**2 + sum(sp.cos(k * w) for k in range(-2, 3))
    value, grad = p.objective((0.7,), 0)
    assert value == pytest.approx(float(oracle.subs(w, 0.7)), rel=1e-14)
    assert grad[0] == pytest.approx(float(sp.diff(oracle, w).subs(w, 0.7)), rel=1e-14)
    res = cli("descend", "sum(i w^2, i, 1, 3)", "--start", "w=1", "--lr", "0.05", "--steps", "200", "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert res.json()["runs"][0]["final"]["point"][0] == pytest.approx(0.0, abs=1e-9)
    res = cli("descend", "sum(w^2, i, 1, n)")
    assert res.exit_code == 2
    assert "runs to n, the number of data rows, but no term of the loss uses data" in res.stderr


def test_a_domain_problem_in_the_data_gets_symgrads_message(cli, tmp_path: Path) -> None:
    import warnings

    path = tmp_path / "neg.csv"
    path.write_text("x,y\n1,2\n-1,3\n4,1\n")
    table = D.read_csv(path, ["x", "y"])
    from symgrad.numeric.objective import Undefined
    from symgrad.parsing import parse

    for text, cause, words in (("sum(ln(x_i) w^2, i, 1, n)", "domain", "is not a number (outside its domain)"),
                               ("sum(sqrt(x_i) w, i, 1, n)", "domain", "is not a number"),
                               ("sum(w/(x_i + 1), i, 1, n)", "pole", "(a division by zero)")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # NumPy's RuntimeWarning would fail here
            with pytest.raises(Undefined, match="at data row 2") as info:
                D.bind(parse(text), table)((1.0,), 0)
        assert info.value.cause == cause and words in str(info.value)
    res = cli("descend", "sum(ln(x_i) w^2, i, 1, n)", "--data", str(path), "--start", "w=1")
    assert res.exit_code == 2
    assert "at the start w=1, at data row 2 (x=-1)" in res.stderr
    assert "RuntimeWarning" not in res.stderr and "def " not in res.stderr
    res = cli("descend", "sum(sqrt(x_i + w), i, 1, n)", "--data", str(path), "--start", "w=2", "--lr", "10",
              "--format", "json")
    assert res.exit_code == 1
    run = res.json()["runs"][0]
    assert run["cause"] == "domain" and "data row" in run["note"]
    assert "RuntimeWarning" not in res.stderr


def test_periodic_functions_of_data_are_guarded(tmp_path: Path) -> None:
    from symgrad.numeric.objective import Undefined
    from symgrad.parsing import parse

    path = tmp_path / "d.csv"
    path.write_text("x\n1\n4\n")
    objective_ = D.bind(parse("sum(cos(w x_i), i, 1, n)"), D.read_csv(path, ["x"]))
    objective_((1e15,), 0)
    with pytest.raises(Undefined, match=r"no digit of cos\(w·xᵢ\) is meaningful, at data row 2 \(x=4\)"):
        objective_((1e16,), 0)  # 4e16: floats 8 apart


def test_seed_and_batch_size_are_checked(cli, points_csv: Path) -> None:
    loss = "sum((y_i - (w x_i + b))^2, i, 1, n)/n"
    res = cli("descend", loss, "--data", str(points_csv), "--batch-size", "4", "--seed", "-1")
    assert res.exit_code == 2 and "the seed must be a whole number ≥ 0, not -1" in res.stderr
    res = cli("descend", loss, "--data", str(points_csv), "--batch-size", "0")
    assert res.exit_code == 2 and "the batch size must be a whole number ≥ 1, not 0" in res.stderr
    res = cli("descend", loss, "--data", str(points_csv), "--seed", "3", "--steps", "1", "--format", "json")
    assert res.exit_code == 0
    assert any("--seed has no effect" in n for n in res.json()["notes"])


# the command ----------------------------------------------------------------------------------
def test_cli_json_contract(cli) -> None:
    res = cli("descend", "x cos(πx)", "--start", "x=0.5", "--start", "x=-1", "--lr", "0.1", "--steps", "20",
              "--format", "json")
    assert res.exit_code == 0, res.stdout
    data = res.json()
    assert {"command", "optimizer", "options", "variables", "runs"} <= set(data)
    assert data["command"] == "descend" and data["optimizer"] == "gd" and data["options"] == {"lr": 0.1}
    assert data["variables"] == ["x"]
    assert len(data["runs"]) == 2
    for run, start in zip(data["runs"], (0.5, -1.0)):
        assert set(run) >= {"start", "trajectory", "stopped", "final"}
        assert run["start"] == [start]
        assert run["stopped"] == "steps"
        assert [t["step"] for t in run["trajectory"]] == list(range(21))
        assert [t["point"][0] for t in run["trajectory"]] == pytest.approx(seeds_gd(start, 0.1, 20), rel=1e-13)
        assert set(run["trajectory"][0]) == {"step", "point", "value", "grad_norm"}
        assert run["final"] == run["trajectory"][-1]


def test_cli_optimizer_options(cli) -> None:
    res = cli("descend", "x^2 + 10y^2", "--optimizer", "adam", "--betas", "0.8,0.99", "--amsgrad", "--weight-decay",
              "0.1", "--lr", "0.1", "--steps", "5", "--start", "x=1,y=1", "--format", "json")
    assert res.exit_code == 0, res.stdout
    assert res.json()["options"] == {"lr": 0.1, "betas": [0.8, 0.99], "eps": 1e-8, "weight_decay": 0.1,
                                     "amsgrad": True, "maximize": False}
    res = cli("descend", "x^2", "--optimizer", "adagrad", "--initial-accumulator-value", "0.1", "--steps", "3",
              "--format", "json")
    assert res.json()["options"]["initial_accumulator_value"] == 0.1


def test_cli_option_of_another_optimizer_is_bad_input(cli) -> None:
    res = cli("descend", "x^2", "--optimizer", "adam", "--centered")
    assert res.exit_code == 2
    assert "--centered is not an option of adam" in res.stderr
    assert "adam takes --lr, --betas, --eps, --weight-decay, --amsgrad, --maximize" in res.stderr


def test_cli_divergence_exit_1_with_last_finite_point(cli) -> None:
    res = cli("descend", "x cos(πx)", "--start", "x=-1", "--lr", "1.0055", "--steps", "3000", "--format", "json")
    assert res.exit_code == 1
    run = res.json()["runs"][0]
    assert run["stopped"] == "diverged"
    assert math.isfinite(run["final"]["point"][0])
    res = cli("descend", "x cos(πx)", "--start", "x=-1", "--lr", "1.0055", "--steps", "3000", "--format", "plain")
    assert res.exit_code == 1
    assert "diverged after" in res.stdout and "smaller learning rate" in res.stdout
    assert "e.g. --lr 0.10055" in res.stdout


def test_cli_long_runs_are_shortened(cli) -> None:
    res = cli("descend", "x^2", "--start", "x=1", "--lr", "0.01", "--steps", "500", "--format", "plain")
    assert res.exit_code == 0
    assert res.stdout.count("\n") < 40
    assert "⋮" in res.stdout and "f per step:" in res.stdout


def test_cli_missing_start_variable(cli) -> None:
    res = cli("descend", "x^2 + y^2", "--start", "x=1")
    assert res.exit_code == 2
    assert "gives no value for y" in res.stderr


def test_cli_keyword_names_work(cli) -> None:
    res = cli("descend", "lambda^2 + (print - 1)^2", "--start", "lambda=1,print=0", "--lr", "0.25", "--steps", "40",
              "--format", "json")
    assert res.exit_code == 0, res.stdout
    final = res.json()["runs"][0]["final"]["point"]
    assert final == pytest.approx([0.0, 1.0], abs=1e-6)


# plots ----------------------------------------------------------------------------------------
def test_plots_are_drawn(tmp_path: Path, cli) -> None:
    pytest.importorskip("matplotlib")
    one = tmp_path / "one.png"
    res = cli("descend", "x cos(πx)", "--start", "x=0.5", "--start", "x=-1", "--lr", "0.1", "--steps", "20",
              "--plot", str(one), "--format", "json")
    assert res.exit_code == 0
    assert res.json()["plot"] == str(one)
    two = tmp_path / "two.png"
    res = cli("descend", "(1-x)^2 + 100(y-x^2)^2", "--start", "x=-1.5,y=2", "--optimizer", "adam", "--lr", "0.02",
              "--steps", "500", "--plot", str(two), "--format", "plain")
    assert res.exit_code == 0
    for path in (one, two):
        head = path.read_bytes()[:8]
        assert head == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 20_000  # a drawing, not an empty canvas


def test_plot_needs_a_known_format(tmp_path: Path, cli) -> None:
    res = cli("descend", "x^2", "--plot", str(tmp_path / "out.txt"))
    assert res.exit_code == 2


@pytest.mark.parametrize("optimizer", [["--optimizer", "sgd", "--lr", "0.1", "--steps", "800"],
                                       ["--optimizer", "adam", "--lr", "0.05", "--steps", "3000"]])
def test_cli_fits_a_line_to_a_csv(cli, points_csv: Path, optimizer: list[str]) -> None:
    res = cli("descend", "sum((y_i - (w x_i + b))^2, i, 1, n)/n", "--data", str(points_csv), *optimizer,
              "--format", "json")
    assert res.exit_code == 0, res.stdout + res.stderr
    data = res.json()
    assert data["variables"] == ["b", "w"]
    assert data["data"] == {"file": str(points_csv), "rows": 40, "columns": ["x", "y"], "batch_size": 40, "seed": None}
    assert data["runs"][0]["final"]["point"] == pytest.approx(least_squares(points_csv), abs=1e-4)


def test_cli_minibatch_seed_is_reproducible(cli, points_csv: Path) -> None:
    args = ("descend", "sum((y_i - (w x_i + b))^2, i, 1, n)/n", "--data", str(points_csv), "--optimizer", "sgd",
            "--lr", "0.05", "--batch-size", "1", "--seed", "3", "--steps", "300", "--format", "json")
    first, second = cli(*args).json(), cli(*args).json()
    assert first["runs"] == second["runs"]
    assert first["data"]["batch_size"] == 1


def test_cli_data_loss_without_data_is_bad_input(cli) -> None:
    res = cli("descend", "sum((y_i - w x_i)^2, i, 1, n)")
    assert res.exit_code == 2
    assert "the loss sums over data (x_i, y_i): give the data with --data" in res.stderr


def test_limits_and_constants_are_bad_input(cli) -> None:
    res = cli("descend", "x^2", "--start", "x=1", "--start", "x=2", "--steps", "600000")
    assert res.exit_code == 2
    assert "2 starts × 600,000 steps is more than 1,000,000 updates in all" in res.stderr
    res = cli("descend", "pi^2")
    assert res.exit_code == 2
    assert "f = π² is a constant" in res.stderr and "export" not in res.stderr


def test_an_update_that_fails_says_why(cli) -> None:
    # torch allows eps = 0; at a zero gradient Adam's step is then 0/0
    res = cli("descend", "x^2", "--optimizer", "adam", "--eps", "0", "--start", "x=0", "--format", "json")
    assert res.exit_code == 1
    run = res.json()["runs"][0]
    assert run["cause"] == "pole" and "its eps is 0" in run["note"]
    res = cli("descend", "x^2", "--optimizer", "adam", "--eps", "0", "--start", "x=0", "--format", "plain")
    assert "smaller learning rate" not in res.stdout

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

from symgrad.errors import InputError
from symgrad.numeric import data as D
from symgrad.numeric.compile import compile
from symgrad.numeric.descend import descend, objective
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
    assert run.stopped == "diverged"
    assert run.final.step < 5000
    assert all(math.isfinite(v) for v in run.final.point)
    assert abs(run.final.point[0]) > 1e300  # it left for infinity
    assert [it.point[0] for it in run.trajectory[:30]] == pytest.approx(seeds_gd(-1.0, 1.0055, 29), rel=1e-9)


def test_nan_is_divergence_too() -> None:
    vg = objective(compile("ln x", backend="math", what=["value_and_grad"]))
    run = descend(vg, (0.5,), gd(lr=1.0), steps=10)   # 0.5 − 1/0.5 < 0: outside the domain
    assert run.stopped == "diverged"
    assert run.final.point == (0.5,)
    assert "domain" in run.note


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
    with pytest.raises(InputError, match="line 3, column y"):
        D.read_csv(bad, ["x", "y"])
    with pytest.raises(InputError, match="no column 'z'"):
        D.read_csv(bad, ["z"])
    with pytest.raises(InputError, match="no such data file"):
        D.read_csv(tmp_path / "missing.csv", ["x"])


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


def test_cli_divergence_exit_1_with_last_finite_point(cli) -> None:
    res = cli("descend", "x cos(πx)", "--start", "x=-1", "--lr", "1.0055", "--steps", "3000", "--format", "json")
    assert res.exit_code == 1
    run = res.json()["runs"][0]
    assert run["stopped"] == "diverged"
    assert math.isfinite(run["final"]["point"][0])
    res = cli("descend", "x cos(πx)", "--start", "x=-1", "--lr", "1.0055", "--steps", "3000", "--format", "plain")
    assert res.exit_code == 1
    assert "diverged after" in res.stdout and "smaller learning rate" in res.stdout


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
    assert "--data" in res.stderr

"""Optimizers: first steps computed by hand, whole trajectories against torch.optim.

The torch oracle differentiates the functions with autograd (written by hand in torch in
tests/fixtures/record_torch.py), so it checks the compiled gradient and the update formulas
together. Its trajectories are recorded in tests/fixtures/torch_optim.json (torch 2.13), compared
in every run; with torch installed they are compared live too.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import pytest

from symgrad.errors import InputError
from symgrad.numeric import optimizers as O
from symgrad.numeric.compile import compile
from symgrad.numeric.descend import descend
from symgrad.numeric.objective import objective


# first steps by hand: f = x², from x = 1 the gradient is 2 -------------------------------------
def first(opt: O.Optimizer, p: float = 1.0, g: float = 2.0) -> float:
    return opt.update((g,), opt.init((p,)), (p,))[0][0]


def test_gd_and_sgd_first_steps() -> None:
    assert first(O.gd(lr=0.1)) == pytest.approx(1 - 0.1 * 2, rel=1e-15)
    assert first(O.sgd(lr=0.1, weight_decay=0.5)) == pytest.approx(1 - 0.1 * (2 + 0.5 * 1), rel=1e-15)
    assert first(O.sgd(lr=0.1, maximize=True)) == pytest.approx(1 + 0.1 * 2, rel=1e-15)
    # Nesterov: the step is g + μ·b with b = g on the first step
    assert first(O.sgd(lr=0.1, momentum=0.9, nesterov=True)) == pytest.approx(1 - 0.1 * (2 + 0.9 * 2), rel=1e-15)


def test_sgd_momentum_second_step_uses_the_buffer() -> None:
    opt = O.sgd(lr=0.1, momentum=0.9, dampening=0.5)
    state = opt.init((1.0,))
    p1, state = opt.update((2.0,), state, (1.0,))
    assert p1[0] == pytest.approx(0.8)  # the first buffer is the gradient itself, undamped
    p2, state = opt.update((2.0,), state, p1)
    assert state.momentum_buffer[0] == pytest.approx(0.9 * 2 + 0.5 * 2)
    assert p2[0] == pytest.approx(0.8 - 0.1 * 2.8)


def test_adagrad_first_and_second_steps() -> None:
    opt = O.adagrad(lr=0.5, lr_decay=0.1, initial_accumulator_value=1.0)
    state = opt.init((1.0,))
    p1, state = opt.update((2.0,), state, (1.0,))
    assert p1[0] == pytest.approx(1 - 0.5 * 2 / (math.sqrt(1 + 4) + 1e-10), rel=1e-14)
    p2, state = opt.update((2.0,), state, p1)
    clr = 0.5 / (1 + 1 * 0.1)
    assert p2[0] == pytest.approx(p1[0] - clr * 2 / (math.sqrt(1 + 4 + 4) + 1e-10), rel=1e-14)


def test_rmsprop_first_steps() -> None:
    assert first(O.rmsprop(lr=0.01)) == pytest.approx(1 - 0.01 * 2 / (math.sqrt(0.01 * 4) + 1e-8), rel=1e-14)
    # centered: v = 0.04, mean gradient 0.02, so the root is √(0.04 − 0.0004)
    centered = first(O.rmsprop(lr=0.01, centered=True))
    assert centered == pytest.approx(1 - 0.01 * 2 / (math.sqrt(0.04 - 0.0004) + 1e-8), rel=1e-12)
    with_momentum = first(O.rmsprop(lr=0.01, momentum=0.9))
    assert with_momentum == pytest.approx(1 - 0.01 * 2 / (0.2 + 1e-8), rel=1e-12)


def test_adam_family_first_steps() -> None:
    # after bias correction m̂ = g and v̂ = g², so the first step is lr·g/(|g| + eps)
    step = 0.1 * 2 / (2 + 1e-8)
    assert first(O.adam(lr=0.1)) == pytest.approx(1 - step, rel=1e-13)
    assert first(O.adam(lr=0.1, amsgrad=True)) == pytest.approx(1 - step, rel=1e-13)
    # L2 weight decay changes the gradient to 2.5; the step is still about lr
    assert first(O.adam(lr=0.1, weight_decay=0.5)) == pytest.approx(1 - 0.1 * 2.5 / (2.5 + 1e-8), rel=1e-13)
    # AdamW shrinks the parameter first: 1·(1 − 0.1·0.5)
    assert first(O.adamw(lr=0.1, weight_decay=0.5)) == pytest.approx(0.95 - step, rel=1e-13)
    assert first(O.adamax(lr=0.1)) == pytest.approx(1 - 0.1 / 0.1 * 0.2 / (2 + 1e-8), rel=1e-13)


def test_nadam_first_step() -> None:
    b1, psi = 0.9, 0.004
    mu1 = b1 * (1 - 0.5 * 0.96 ** (1 * psi))
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    denom = math.sqrt(0.001 * 4 / 0.001) + 1e-8
    expected = 1 - 0.1 * (1 - mu1) / (1 - mu1) * 2 / denom - 0.1 * mu2 / (1 - mu1 * mu2) * 0.2 / denom
    assert first(O.nadam(lr=0.1)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("sgd", {"lr": -1.0}, "'lr' must be a finite number ≥ 0, not -1"),
        ("sgd", {"nesterov": True}, "Nesterov momentum needs 'momentum' above 0"),
        ("adam", {"betas": (1.0, 0.999)}, r"'betas' must be two numbers in \[0, 1\), not 1,0.999"),
        ("adam", {"betas": (0.9,)}, "two numbers"),
        ("rmsprop", {"alpha": -0.1}, "'alpha' must be a number from 0 to 1"),
        ("rmsprop", {"alpha": 1.5}, "'alpha' must be a number from 0 to 1"),
        ("sgd", {"momentum": 0.9, "dampening": 2.0}, "'dampening' must be a number from 0 to 1"),
        ("adam", {"lr": True}, "'lr' must be a finite number"),
        ("adam", {"amsgrad": 1}, "'amsgrad' is a flag"),
        ("adam", {"centered": True}, "'centered' is not an option of adam"),
        ("gd", {"momentum": 0.9}, "'momentum' is not an option of gd"),
        ("lbfgs", {}, "unknown optimizer"),
    ],
)
def test_bad_options_are_input_errors(name: str, options: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        O.make(name, **options)


def _numeric_options() -> list[tuple[str, str]]:
    return [(name, option) for name in O.OPTIMIZERS for option in O.option_names(name) if option in O._RANGES]


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize(("name", "option"), _numeric_options())
def test_every_numeric_option_refuses_infinities_and_nan(name: str, option: str, bad: float) -> None:
    # in one place for the API and the CLI: the factory itself refuses, and make() names the option
    # as the caller spells it
    with pytest.raises(InputError, match=f"'{option}' must be"):
        O.OPTIMIZERS[name](**{option: bad})
    with pytest.raises(InputError, match=f"--{option.replace('_', '-')} must be"):
        O.make(name, spell=lambda o: "--" + o.replace("_", "-"), **{option: bad})


@pytest.mark.parametrize("name", ["adam", "adamw", "nadam", "adamax"])
@pytest.mark.parametrize("betas", [(math.nan, 0.999), (0.9, math.inf), (-0.1, 0.9), (0.9, 1.0)])
def test_betas_out_of_range(name: str, betas: tuple[float, float]) -> None:
    with pytest.raises(InputError, match="'betas' must be two numbers in"):
        O.make(name, betas=betas)


def test_defaults_are_torchs() -> None:
    assert O.make("sgd").options["lr"] == 1e-3
    assert O.make("adagrad").options["eps"] == 1e-10
    assert O.make("adamw").options["weight_decay"] == 1e-2
    assert O.make("nadam").options["momentum_decay"] == 4e-3
    assert O.make("adamax").options["lr"] == 2e-3
    assert O.make("rmsprop").options["alpha"] == 0.99


def test_state_is_immutable_and_update_is_pure() -> None:
    opt = O.adam(lr=0.1)
    state = opt.init((1.0, 2.0))
    a = opt.update((1.0, -1.0), state, (1.0, 2.0))
    b = opt.update((1.0, -1.0), state, (1.0, 2.0))
    assert a == b
    assert state.step == 0
    with pytest.raises(AttributeError):
        state.step = 3  # type: ignore[misc]


# whole trajectories against torch ----------------------------------------------------------------
# torch.optim's iterates are recorded once (tests/fixtures/record_torch.py, torch 2.13, float64) in
# tests/fixtures/torch_optim.json, so every run checks them without torch; with torch installed the
# same cases are also compared live.
def _recorder():
    import importlib.util

    path = Path(__file__).parent / "fixtures" / "record_torch.py"
    spec = importlib.util.spec_from_file_location("record_torch", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


RECORDER = _recorder()
FIXTURE = json.loads(RECORDER.FIXTURE.read_text(encoding="utf-8"))
CASES = {case["id"]: case for case in FIXTURE["cases"]}
TOLERANCE = 1e-9
"""Iterates agree when |ours − torch's| ≤ TOLERANCE·max(|torch's|, 1e-3): float64 rounding, never a
different formula (a step of a wrong formula differs in the fifth digit or earlier)."""


def mismatch(ours: list[list[float]], theirs: list[list[float]]) -> str | None:
    """The first step where two trajectories disagree beyond ``TOLERANCE``, or None."""
    if len(ours) != len(theirs):
        return f"{len(ours)} iterates, torch has {len(theirs)}"
    for k, (a, b) in enumerate(zip(ours, theirs)):
        for u, v in zip(a, b):
            if not abs(u - v) <= TOLERANCE * max(abs(v), 1e-3):
                return f"step {k}: {a} vs torch {b}"
    return None


@functools.cache
def _compiled(text: str):
    return compile(text, backend="math", what=["value_and_grad"])


def symgrad_trajectory(case: dict, **changes) -> list[list[float]]:
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in case["options"].items()}
    options.update(changes)
    opt = O.make(case["optimizer"], lr=options.pop("lr", case["lr"]), **options)
    run = descend(objective(_compiled(case["expression"])), tuple(case["start"]), opt, steps=case["steps"])
    assert run.stopped == "steps", run.note
    return [list(it.point) for it in run.trajectory]


def test_fixture_is_torch_2_13_with_every_case() -> None:
    assert FIXTURE["torch"].startswith(RECORDER.TORCH_VERSION + ".")
    # the fixture holds exactly the cases the recorder defines, with the same settings: a changed
    # configuration without a new recording fails here
    expected = {case["id"]: case for case in RECORDER.cases()}
    assert set(CASES) == set(expected)
    for key, case in CASES.items():
        assert {k: v for k, v in case.items() if k != "trajectory"} == expected[key]
        assert len(case["trajectory"]) == case["steps"] + 1
    assert sum(1 for c in CASES.values() if c["problem"] != "maximize") == 57


@pytest.mark.parametrize("key", list(CASES))
def test_trajectory_matches_recorded_torch(key: str) -> None:
    case = CASES[key]
    problem = mismatch(symgrad_trajectory(case), case["trajectory"])
    assert problem is None, problem
    if case["problem"] == "maximize":
        assert case["trajectory"][-1][0] > 0.5  # it climbs towards the maximum at 2


@pytest.mark.parametrize("key", ["adam-9/rosenbrock", "sgd-1/xcos-from-0.5", "nadam-14/xcos-from-(-1)",
                                 "rmsprop-7/rosenbrock"])
def test_the_comparison_catches_a_drift(key: str) -> None:
    # an optimizer that differs from torch's by a relative 1e-6 in one option is caught
    case = CASES[key]
    assert mismatch(symgrad_trajectory(case, lr=case["lr"] * (1 + 1e-6)), case["trajectory"]) is not None
    drifted = [list(p) for p in case["trajectory"]]
    drifted[-1][0] *= 1 + 1e-7
    assert mismatch(symgrad_trajectory(case), drifted) is not None


@pytest.fixture(scope="module")
def torch64():
    torch = pytest.importorskip("torch")
    with RECORDER.float64(torch):
        yield torch


@pytest.mark.parametrize("key", list(CASES))
def test_trajectory_matches_torch_live(torch64, key: str) -> None:
    case = CASES[key]
    live = RECORDER.torch_trajectory(torch64, case)
    problem = mismatch(symgrad_trajectory(case), live)
    assert problem is None, problem
    if torch64.__version__.startswith(RECORDER.TORCH_VERSION + "."):
        assert mismatch(case["trajectory"], live) is None  # the fixture is what this torch computes

"""Optimizers: first steps computed by hand, whole trajectories against torch.optim (when installed).

The torch oracle differentiates the functions with autograd (written here by hand in torch), so
it checks the compiled gradient and the update formulas together.
"""

from __future__ import annotations

import math

import pytest

from symgrad.errors import InputError
from symgrad.numeric import optimizers as O
from symgrad.numeric.compile import compile
from symgrad.numeric.descend import descend, objective


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
        ("sgd", {"lr": -1.0}, "Invalid learning rate"),
        ("sgd", {"nesterov": True}, "Nesterov momentum requires"),
        ("adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0"),
        ("adam", {"betas": (0.9,)}, "two numbers"),
        ("rmsprop", {"alpha": -0.1}, "Invalid alpha"),
        ("adam", {"centered": True}, "adam has no option 'centered'"),
        ("gd", {"momentum": 0.9}, "gd has no option 'momentum'"),
        ("lbfgs", {}, "unknown optimizer"),
    ],
)
def test_bad_options_are_input_errors(name: str, options: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        O.make(name, **options)


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
CONFIGS = [
    ("gd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("sgd", {"momentum": 0.5, "dampening": 0.1, "weight_decay": 0.01}),
    ("adagrad", {}),
    ("adagrad", {"lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.01}),
    ("rmsprop", {}),
    ("rmsprop", {"centered": True, "momentum": 0.5}),
    ("rmsprop", {"alpha": 0.999, "weight_decay": 0.01}),
    ("adam", {}),
    ("adam", {"amsgrad": True, "betas": (0.8, 0.99)}),
    ("adam", {"weight_decay": 0.01, "maximize": False}),
    ("adamw", {}),
    ("adamw", {"amsgrad": True, "weight_decay": 0.1}),
    ("nadam", {}),
    ("nadam", {"decoupled_weight_decay": True, "weight_decay": 0.01}),
    ("nadam", {"momentum_decay": 0.01, "weight_decay": 0.01}),
    ("adamax", {}),
    ("adamax", {"weight_decay": 0.01, "betas": (0.8, 0.9)}),
]

TORCH_CLASS = {"gd": "SGD", "sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam",
               "adamw": "AdamW", "nadam": "NAdam", "adamax": "Adamax"}

# (expression, torch version of it, start, learning rate for plain SGD, for adaptive methods, steps)
PROBLEMS = {
    "xcos-from-0.5": ("x cos(πx)", lambda t, p: p[0] * t.cos(math.pi * p[0]), (0.5,), 0.1, 0.05, 60),
    "xcos-from-(-1)": ("x cos(πx)", lambda t, p: p[0] * t.cos(math.pi * p[0]), (-1.0,), 0.1, 0.05, 60),
    "rosenbrock": ("(1 - x)^2 + 100 (y - x^2)^2", lambda t, p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2,
                   (-1.5, 2.0), 1e-4, 1e-3, 200),
}


def torch_trajectory(torch, problem: str, name: str, options: dict) -> list[list[float]]:
    _, fn, start, lr_sgd, lr_adaptive, steps = PROBLEMS[problem]
    lr = lr_sgd if name in ("gd", "sgd") else lr_adaptive
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, TORCH_CLASS[name])([p], lr=lr, **options)
    points = [p.detach().tolist()]
    for _ in range(steps):
        opt.zero_grad()
        fn(torch, p).backward()
        opt.step()
        points.append(p.detach().tolist())
    return points


@pytest.fixture(scope="module")
def torch64():
    torch = pytest.importorskip("torch")
    previous = torch.get_default_dtype()
    # torch keeps step counters and NAdam's μ-product in the default dtype: float64 like symgrad
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize(("name", "options"), CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_trajectory_matches_torch(torch64, problem: str, name: str, options: dict) -> None:
    text, _, start, lr_sgd, lr_adaptive, steps = PROBLEMS[problem]
    lr = lr_sgd if name in ("gd", "sgd") else lr_adaptive
    compiled = compile(text, backend="math", what=["value_and_grad"])
    run = descend(objective(compiled), start, O.make(name, lr=lr, **options), steps=steps)
    assert run.stopped == "steps"
    expected = torch_trajectory(torch64, problem, name, options)
    ours = [list(it.point) for it in run.trajectory]
    assert len(ours) == len(expected)
    for k, (a, b) in enumerate(zip(ours, expected)):
        for u, v in zip(a, b):
            assert abs(u - v) <= 1e-9 * max(abs(v), 1e-3), f"step {k}: {a} vs torch {b}"


def test_maximize_matches_torch(torch64) -> None:
    compiled = compile("-(x - 2)^2", backend="math", what=["value_and_grad"])
    for name in ("sgd", "adam", "rmsprop", "adagrad", "adamax", "nadam"):
        run = descend(objective(compiled), (0.0,), O.make(name, lr=0.1, maximize=True), steps=30)
        p = torch64.tensor([0.0], requires_grad=True)
        opt = getattr(torch64.optim, TORCH_CLASS[name])([p], lr=0.1, maximize=True)
        for it in run.trajectory[1:]:
            opt.zero_grad()
            (-(p[0] - 2) ** 2).backward()
            opt.step()
            assert it.point[0] == pytest.approx(p.item(), rel=1e-9)
        assert run.final.point[0] > 0.5  # it climbs towards the maximum at 2

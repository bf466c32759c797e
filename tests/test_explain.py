"""descend --explain: each optimizer's first steps with its formulas filled in with numbers.

Every explained number is checked three ways: the state values are the optimizer's own state, θₜ is
the iterate the run produced (and so torch's, through tests/fixtures/torch_optim.json), and every
line recomputed here from the textbook formulas (written independently, in the notes' form: m̂ =
m/(1 − β₁ᵗ), …) from the numbers of the lines before it gives the value shown."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from symgrad.numeric import optimizers as O
from symgrad.numeric.compile import compile
from symgrad.numeric.descend import descend, objective
from symgrad.numeric.explain import explain, state_json

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "torch_optim.json").read_text(encoding="utf-8"))
CASES = {c["id"]: c for c in FIXTURE["cases"]}
EXPLAINED = 3


def run_case(case: dict, k: int = EXPLAINED):
    options = {key: tuple(v) if isinstance(v, list) else v for key, v in case["options"].items()}
    opt = O.make(case["optimizer"], lr=case["lr"], **options)
    vg = objective(compile(case["expression"], backend="math", what=["value_and_grad"]))
    run = descend(vg, tuple(case["start"]), opt, steps=case["steps"], keep=k)
    return opt, run


def close(a, b, tol=1e-12) -> bool:
    return all(abs(x - y) <= tol * max(1.0, abs(x), abs(y)) for x, y in zip(a, b, strict=True))


def textbook(name: str, options: dict, t: int, theta, g, lines: dict) -> dict:  # noqa: PLR0915  (one branch per optimizer)
    """The values every line should have, from the textbook formulas and the previous step's lines."""
    prev = lines.get(t - 1, {})
    lr = options["lr"]
    out: dict[str, tuple[float, ...]] = {}
    lam = options.get("weight_decay", 0)
    decoupled = name == "adamw" or (name == "nadam" and options.get("decoupled_weight_decay"))
    if options.get("maximize"):
        g = tuple(-v for v in g)
    if lam and not decoupled:
        g = tuple(gi + lam * p for gi, p in zip(g, theta))
    start = theta
    if lam and decoupled:
        start = tuple(p * (1 - lr * lam) for p in theta)
        out["theta_decayed"] = start

    def zeros():
        return (0.0,) * len(theta)

    if name in ("gd", "sgd"):
        mu = options.get("momentum", 0)
        step = g
        if mu:
            b = g if t == 1 else tuple(mu * b0 + (1 - options.get("dampening", 0)) * gi for b0, gi in zip(prev["b"], g))
            out["b"] = b
            step = tuple(gi + mu * bi for gi, bi in zip(g, b)) if options.get("nesterov") else b
            if options.get("nesterov"):
                out["step"] = step
        out["theta"] = tuple(p - lr * s for p, s in zip(theta, step))
    elif name == "adagrad":
        s0s = prev.get("s", (options.get("initial_accumulator_value", 0.0),) * len(theta))
        s = tuple(s0 + gi * gi for s0, gi in zip(s0s, g))
        out["s"] = s
        clr = lr / (1 + (t - 1) * options.get("lr_decay", 0))
        if options.get("lr_decay"):
            out["clr"] = (clr,)
        out["theta"] = tuple(p - clr * gi / (math.sqrt(si) + options["eps"]) for p, gi, si in zip(theta, g, s))
    elif name == "rmsprop":
        a = options["alpha"]
        v = tuple(a * v0 + (1 - a) * gi * gi for v0, gi in zip(prev.get("v", zeros()), g))
        out["v"] = v
        if options.get("centered"):
            gbar = tuple(a * b0 + (1 - a) * gi for b0, gi in zip(prev.get("g_avg", zeros()), g))
            out["g_avg"] = gbar
            d = tuple(math.sqrt(vi - bi * bi) + options["eps"] for vi, bi in zip(v, gbar))
        else:
            d = tuple(math.sqrt(vi) + options["eps"] for vi in v)
        out["denominator"] = d
        if options.get("momentum"):
            b = tuple(options["momentum"] * b0 + gi / di for b0, gi, di in zip(prev.get("b", zeros()), g, d))
            out["b"] = b
            out["theta"] = tuple(p - lr * bi for p, bi in zip(theta, b))
        else:
            out["theta"] = tuple(p - lr * gi / di for p, gi, di in zip(theta, g, d))
    else:
        b1, b2 = options["betas"]
        m = tuple(b1 * m0 + (1 - b1) * gi for m0, gi in zip(prev.get("m", zeros()), g))
        out["m"] = m
        if name == "adamax":
            u = tuple(max(b2 * u0, abs(gi) + options["eps"]) for u0, gi in zip(prev.get("u", zeros()), g))
            out["u"] = u
            out["theta"] = tuple(p - lr / (1 - b1**t) * mi / ui for p, mi, ui in zip(theta, m, u))
            return out
        v = tuple(b2 * v0 + (1 - b2) * gi * gi for v0, gi in zip(prev.get("v", zeros()), g))
        out["v"] = v
        if name == "nadam":
            psi = options["momentum_decay"]
            mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
            mu1 = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
            prod = prev.get("mu_product", (1.0,))[0] * mu
            out.update(mu=(mu,), mu_next=(mu1,), mu_product=(prod,))
            vhat = tuple(vi / (1 - b2**t) for vi in v)
            out["v_hat"] = vhat
            out["theta"] = tuple(p - lr * (1 - mu) / (1 - prod) * gi / (math.sqrt(vh) + options["eps"])
                                 - lr * mu1 / (1 - prod * mu1) * mi / (math.sqrt(vh) + options["eps"])
                                 for p, gi, mi, vh in zip(start, g, m, vhat))
            return out
        out["m_hat"] = tuple(mi / (1 - b1**t) for mi in m)
        source = v
        if options.get("amsgrad"):
            source = tuple(max(a0, vi) for a0, vi in zip(prev.get("v_max", zeros()), v))
            out["v_max"] = source
        out["v_hat"] = tuple(si / (1 - b2**t) for si in source)
        out["theta"] = tuple(p - lr * mh / (math.sqrt(vh) + options["eps"])
                             for p, mh, vh in zip(start, out["m_hat"], out["v_hat"]))
    return out


@pytest.mark.parametrize("key", [k for k in CASES if "rosenbrock" in k or "from-0.5" in k or "maximize" in k])
def test_explained_numbers_are_the_optimizers(key: str) -> None:
    case = CASES[key]
    opt, run = run_case(case)
    steps = explain(run, opt)
    assert [s.step for s in steps] == [1, 2, 3]
    lines: dict[int, dict] = {}
    for s in steps:
        t = s.step
        # θₜ is the run's iterate, and the run's iterate is torch's (the recorded fixture)
        assert s.after == run.trajectory[t].point
        assert close(s.after, case["trajectory"][t], 1e-9)
        assert s.before == run.trajectory[t - 1].point
        assert s.gradient == run.kept[t - 1][0]
        theta_line = s.quantities[-1]
        assert theta_line.key == "theta" and theta_line.value == s.after
        # state lines are the optimizer's own state, exactly
        state = state_json(opt.name, run.kept[t][1])
        for q in s.quantities:
            if q.state:
                expected = state[q.key]
                assert q.value == (tuple(expected) if isinstance(expected, list) else (expected,)), q.key
        # every line recomputed from the textbook formulas (torch's, in the notes' form)
        for q in s.quantities:  # LaTeX takes ASCII operators
            assert "−" not in q.filled.latex and "·" not in q.filled.latex and "√" not in q.filled.latex, q
        values = {q.key: q.value for q in s.quantities}
        book = textbook(opt.name, dict(opt.options), t, s.before, s.gradient, lines)
        for name, value in book.items():
            assert close(values[name], value, 1e-12), (name, values[name], value)
        lines[t] = {**values, **{k: v for k, v in book.items() if k not in values}}


def test_every_optimizer_is_explained() -> None:
    from symgrad.numeric.explain import EXPLAIN

    assert set(EXPLAIN) == set(O.OPTIMIZERS)
    assert {c["optimizer"] for c in CASES.values()} == set(O.OPTIMIZERS)


def test_seed_adam_on_xcos(cli) -> None:
    # seed 004's function x·cos(πx) from x = 0.5, Adam with lr 0.1: the first three steps by hand
    res = cli("descend", "x cos(πx)", "--start", "x=0.5", "--optimizer", "adam", "--lr", "0.1", "--steps", "20",
              "--explain", "--format", "plain")
    assert res.exit_code == 0, res.stderr
    out = res.stdout
    assert "steps 1–3 in full" in out and "step 4:" not in out
    assert "m₁ = β₁·m₀ + (1 − β₁)·g₁ = 0.9·0 + 0.1·(-1.5707963) = -0.15707963" in out
    assert "v₁ = β₂·v₀ + (1 − β₂)·g₁² = 0.999·0 + 0.001·(-1.5707963)² = 0.0024674011" in out
    assert "m̂₁ = m₁/(1 − β₁¹) = (-0.15707963)/(1 − 0.9¹) = -1.5707963" in out
    assert "θ₁ = θ₀ − lr·m̂₁/(√v̂₁ + ε) = 0.5 − 0.1·(-1.5707963)/(√2.4674011 + 1e-08) = 0.6" in out
    assert "θ₃ = θ₂ − lr·m̂₃/(√v̂₃ + ε)" in out
    # the table below shows the same iterates
    assert "   3  0.79973991" in out and "= 0.79973991" in out


def test_json_trajectory_carries_gradient_and_state(cli) -> None:
    data = cli("descend", "x cos(πx)", "--start", "x=0.5", "--optimizer", "adam", "--lr", "0.1", "--steps", "20",
               "--explain-steps", "2", "--format", "json").json()
    traj = data["runs"][0]["trajectory"]
    assert traj[0]["state"] == {"m": [0.0], "v": [0.0], "v_max": [0.0]}
    assert traj[0]["gradient"] == [pytest.approx(-math.pi / 2, rel=1e-15)]
    one = traj[1]
    assert one["state"]["m"] == [pytest.approx(-0.15707963267948963, rel=1e-15)]
    assert set(one["explained"]) == {"m", "v", "m_hat", "v_hat", "theta"}
    assert one["explained"]["theta"] == one["point"]
    assert "state" in traj[2] and "explained" in traj[2] and "state" not in traj[3]


def test_two_variables_and_every_format(cli) -> None:
    args = ["descend", "x^2 + 10y^2", "--start", "x=1,y=1", "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.01",
            "--steps", "5", "--explain"]
    plain = cli(*args, "--format", "plain").stdout
    assert "b₂ = μ·b₁ + (1 − τ)·g₂ = 0.9·(2, 20) + 1·(1.96, 16) = (3.76, 34)" in plain
    latex = cli(*args, "--format", "latex").stdout
    assert r"\begin{align*}" in latex and r"\mu b_{1} + (1 - \tau) g_{2}" in latex
    markdown = cli(*args, "--format", "markdown").stdout
    assert "**Step 1**" in markdown
    rich = cli(*args, "--format", "rich")
    assert rich.exit_code == 0 and "b₁ = g₁ (the first step)" in rich.stdout


def test_explain_steps_is_checked(cli) -> None:
    res = cli("descend", "x^2", "--explain-steps", "0")
    assert res.exit_code == 2 and "1 to 100" in res.stderr
    short = cli("descend", "x^2", "--start", "x=1", "--lr", "0.1", "--steps", "2", "--explain", "--format", "plain")
    assert "steps 1–2 in full" in short.stdout  # never more steps than the run has


def test_without_explain_nothing_changes(cli) -> None:
    data = cli("descend", "x^2", "--start", "x=1", "--lr", "0.1", "--steps", "3", "--format", "json").json()
    assert "state" not in data["runs"][0]["trajectory"][0]

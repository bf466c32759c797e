"""A short run of every fuzz family (``tests/fuzz/``), and proof that their checks can fail.

The long run is ``python tests/fuzz/fuzz.py --count 100000``; here each family runs a few seeded
attacks through the same promises and oracles, and each kind of check is shown to catch a break
planted on purpose (a check that cannot fail would make the long run mean nothing).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).parent / "fuzz"
sys.path.insert(0, str(FUZZ))

import families
import oracles
import promises
from promises import Broken


@pytest.fixture(scope="module")
def walker():  # type: ignore[no-untyped-def]
    from test_properties import GrammarWalker

    return GrammarWalker()


@pytest.mark.parametrize("family", [f for f in families.FAMILIES if f != "process"])
def test_every_family_keeps_its_promises(walker, family: str) -> None:
    rng = random.Random(f"smoke {family}")
    for _ in range(2):
        attack = families.FAMILIES[family](rng, walker)
        json.dumps(attack)  # every attack is recorded, and replayed, as JSON
        outcome = promises.run(attack)
        assert outcome, attack


@pytest.mark.skipif(sys.platform != "linux", reason="prlimit, /dev/full and bash are Linux tools")
def test_the_process_family_keeps_its_promises(walker) -> None:
    rng = random.Random("smoke process")
    hazards = set()
    while len(hazards) < 3:  # real processes cost a start-up each: three different hazards
        attack = families.process(rng, walker)
        if attack["hazard"] in hazards:
            continue
        hazards.add(attack["hazard"])
        assert promises.run(attack)


def test_the_fuzzer_mixes_walks_and_families() -> None:
    import fuzz

    report = fuzz.fuzz(12, 3, 12, fuzz._weights("walk=3,point=1,misread=1"))
    assert report["count"] == 12 and report["failures"] == [], report["failures"]
    assert any(k.startswith("point-") for k in report["tally"])  # type: ignore[union-attr]
    assert sum(report["tally"].values()) == 12  # type: ignore[union-attr]


def test_replay_runs_one_recorded_input(capsys) -> None:
    import fuzz

    assert fuzz.replay(json.dumps({"kind": "cli", "args": ["diff", "x^2"]})) == 0
    assert capsys.readouterr().out.strip() == "ok"
    assert fuzz.replay("x^2 + sin(x)") == 0


# the checks can fail --------------------------------------------------------------------------------
def test_the_value_oracle_catches_wrong_numbers() -> None:
    sigmoid = next(t for t in oracles.TEMPLATES if t.text == "sigmoid(x)")
    at_400 = oracles.point("400")
    assert oracles.compare_value(sigmoid, at_400, 1.9151695967140057e-174, None) == "right"
    with pytest.raises(AssertionError):  # issue 13: every x ≥ 330 gave 1.31e-141
        oracles.compare_value(sigmoid, at_400, 1.31e-141, None)
    with pytest.raises(AssertionError):  # 0 is only right below the smallest float
        oracles.compare_value(sigmoid, at_400, 0.0, "below the smallest float")
    relu = next(t for t in oracles.TEMPLATES if t.text == "relu(x)")
    with pytest.raises(AssertionError):  # a value at a kink
        oracles.compare_value(relu, oracles.point("0"), 0.5, None)
    with pytest.raises(AssertionError):  # no value where there is one
        oracles.compare_value(relu, oracles.point("2"), None, "the derivative is undefined at x=2")
    assert oracles.compare_value(relu, oracles.point("0"), None, "undefined: relu has a jump at 0") == "none"


def test_the_verdict_oracle_catches_accepted_wrong_answers() -> None:
    k = next(i for i, t in enumerate(oracles.TEMPLATES) if t.text == "sin(x)")
    bump = {"kind": "grid", "k": 1, "n": 100, "a": "0"}  # sin(100πx): zero on the 0.01 grid
    out = json.dumps({"correct": True, "answer": "cos(x) + sin(100 pi x)", "expression": "sin(x)"})
    with pytest.raises(Broken, match="wrong: a wrong answer is called correct"):
        promises._judge({"type": "verdict", "template": k, "bump": bump}, 0, out, "", "ok")
    fake = json.dumps({"correct": False, "counterexample": {"point": {"x": 0.0}, "expected": 1.0}})
    with pytest.raises(Broken, match="equals the derivative at the counterexample"):
        promises._judge({"type": "verdict", "template": k, "bump": bump}, 0, fake, "", "ok")
    right = json.dumps({"correct": False, "answer": "cos(x)", "expression": "sin(x)"})
    with pytest.raises(Broken, match="a right answer is called wrong"):
        promises._judge({"type": "verdict", "template": k, "bump": None}, 0, right, "", "ok")


def test_the_loss_oracle_catches_a_wrong_step() -> None:
    data = [{"x": 1.0, "y": 2.0}, {"x": 2.0, "y": 4.5}]
    oracle = {"type": "loss", "loss": 0, "data": data, "start": {"w": 0.5, "b": 0.0}, "lr": 0.01}
    loss = oracles.LOSSES[0]
    grad = loss.gradient(oracle["start"], data)
    good = {"variables": ["b", "w"], "runs": [{"trajectory": [
        {"value": loss.value(oracle["start"], data), "grad_norm": (grad["w"] ** 2 + grad["b"] ** 2) ** 0.5},
        {"point": [0.0 - 0.01 * grad["b"], 0.5 - 0.01 * grad["w"]]}]}]}
    assert promises._judge(oracle, 0, json.dumps(good), "", "ok") == "right"
    good["runs"][0]["trajectory"][1]["point"][1] += 1e-6  # type: ignore[index]
    with pytest.raises(Broken, match="after one step"):
        promises._judge(oracle, 0, json.dumps(good), "", "ok")
    last_row = {"type": "refused", "says": "row 2"}
    with pytest.raises(Broken, match="was not refused"):
        promises._judge(last_row, 0, json.dumps(good), "", "ok")


def test_the_promises_catch_each_kind_of_break() -> None:
    for out, err, code, kind in [
        ("", "Traceback (most recent call last):\n", 1, "traceback"),
        ("", "error: internal error (TypeError): x\n", 1, "crash"),
        ("", "error: x\n", 3, "exit code"),
        ("", "oops\n", 2, "message"),
        ("", "error: the computation ran out of memory\n", 1, "memory"),
        ("", "error: the time budget of 2 s ran out, and the computation could not be interrupted\n", 1, "budget"),
    ]:
        with pytest.raises(Broken) as info:
            promises._promises(code, out, err, "plain", 0.1)
        assert info.value.kind == kind
    with pytest.raises(Broken, match="budget"):
        promises._promises(0, "fine", "", "plain", promises.BUDGET + 5)
    with pytest.raises(Broken, match="message"):  # JSON mode: the error is JSON on stdout
        promises._promises(2, "", "error: x\n", "json", 0.1)


def test_a_child_past_its_cpu_limit_is_a_budget_failure(tmp_path: Path) -> None:
    def spin() -> None:
        while True:
            pass

    with pytest.raises(Broken) as info:
        promises._forked(spin, tmp_path, cpu_limit=1)
    assert info.value.kind == "budget"


def test_the_api_family_sees_code_that_runs(monkeypatch) -> None:
    """With the name check switched off (names go into the code as they are), a payload in a
    symbol's name runs or breaks the module: the family says so."""
    from symgrad.numeric import codegen

    monkeypatch.setattr(codegen, "safe_names", lambda symbols: {s: str(s) for s in symbols})
    monkeypatch.setattr(codegen, "verify", lambda source: None)
    monkeypatch.setattr(codegen, "doc_text", lambda text: text)
    attack = {"kind": "api", "names": ['x=0;open("CANARY","w").write("x");x'], "shape": 0, "assumptions": "real",
              "backend": "math", "entry": "export", "function": None}
    with pytest.raises(Broken) as info:
        promises.run(attack)  # the forked child inherits the patched codegen
    assert info.value.kind in ("code ran", "crash", "wrong")

"""The JSON contract held fixed: every command's JSON output equals the recorded one.

The cases are in ``tests/golden/cases.py`` and the recorded outputs beside them. A difference is
either a regression or an intended change of the contract; for the latter, record again with
``python -m tests.golden.record CASE`` and review the diff. Floats are compared to 1e-9 relative
(libraries may round the last digits differently); everything else exactly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from golden.cases import CASES
from golden.run import run_case

HERE = Path(__file__).resolve().parent / "golden"


def same(got: Any, want: Any, where: str = "$") -> list[str]:
    """Every place where ``got`` differs from ``want`` (floats to 1e-9 relative)."""
    if isinstance(want, float) or isinstance(got, float):
        numbers = isinstance(got, (int, float)) and isinstance(want, (int, float)) and not isinstance(got, bool)
        if numbers and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
            return []
        return [f"{where}: {got!r} != {want!r}"]
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where}: {type(got).__name__} instead of an object"]
        out = [f"{where}: keys {sorted(set(got) ^ set(want))} differ"] if set(got) != set(want) else []
        for key in want.keys() & got.keys():
            out += same(got[key], want[key], f"{where}.{key}")
        return out
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{where}: {got!r:.200} != {want!r:.200}"]
        return [d for i, (g, w) in enumerate(zip(got, want)) for d in same(g, w, f"{where}[{i}]")]
    return [] if got == want and type(got) is type(want) else [f"{where}: {got!r:.200} != {want!r:.200}"]


def test_every_case_is_recorded() -> None:
    assert sorted(p.stem for p in HERE.glob("*.json")) == sorted(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_json_output_is_the_recorded_one(case: str) -> None:
    recorded = json.loads((HERE / f"{case}.json").read_text(encoding="utf-8"))
    assert recorded["args"] == CASES[case]
    exit_code, data = run_case(CASES[case])
    assert exit_code == recorded["exit_code"]
    differences = same(data, recorded["output"])
    assert not differences, "\n".join(differences[:20])

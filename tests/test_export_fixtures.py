"""Exported torch and JAX modules, checked in every run from values recorded with torch 2.13 and JAX.

``tests/fixtures/record_exports.py`` recorded, for each case, what the exported torch and JAX
modules return and what torch's autograd and ``jax.grad`` find by differentiating the exported
``f``. Here symgrad's NumPy export must give the same numbers (so the four backends agree, and the
derivatives agree with two automatic differentiators), without torch or JAX installed; where they
are installed, today's torch and JAX exports must still give the recorded numbers.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

import symgrad
from symgrad.numeric.compile import load
from symgrad.numeric.export import export_source

np = pytest.importorskip("numpy")

FIXTURES = Path(__file__).parent / "fixtures"
DATA = json.loads((FIXTURES / "exports_torch_jax.json").read_text(encoding="utf-8"))
IDS = [case["expr"] for case in DATA["cases"]]


def _recorder():
    spec = importlib.util.spec_from_file_location("record_exports", FIXTURES / "record_exports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def same(got, want, rel: float) -> bool:
    """Nested lists of numbers agree; a recorded null (nan: not real there) must be nan."""
    if isinstance(want, list):
        return len(got) == len(want) and all(same(g, w, rel) for g, w in zip(got, want))
    if want is None:
        return math.isnan(got)
    return math.isclose(got, want, rel_tol=rel, abs_tol=rel)


def test_the_fixture_is_current() -> None:
    recorder = _recorder()
    assert DATA["recorded_with"]["torch"].startswith("2.13.")
    assert [c["expr"] for c in DATA["cases"]] == recorder.CASES, "run tests/fixtures/record_exports.py again"
    assert all(len(c["points"]) == len(recorder.POINTS) for c in DATA["cases"])


@pytest.mark.parametrize("case", DATA["cases"], ids=IDS)
def test_numpy_export_matches_recorded_torch_and_jax(case) -> None:
    expr = symgrad.parse(case["expr"])
    variables = symgrad.variables(expr)
    assert [v.name for v in variables] == case["variables"]
    ns = load(export_source(expr, variables, "numpy"))
    for entry in case["points"]:
        p = entry["point"]
        with np.errstate(all="ignore"):
            mine = {"f": float(ns["f"](*p)), "grad": ns["grad_f"](*p).tolist(), "hessian": ns["hessian_f"](*p).tolist()}
        for lib in ("torch", "jax"):
            rec = entry[lib]
            for key in ("f", "grad", "hessian"):  # the same formulas in another library: to rounding
                assert same(mine[key], rec[key], 1e-12), (case["expr"], p, lib, key, mine[key], rec[key])
            if rec["f"] is None:
                continue  # not real at p: nothing to differentiate
            # autograd through the exported f: an independent derivative, to the error of its own chain
            assert same(mine["grad"], rec["autograd_grad"], 1e-10), (case["expr"], p, lib, "autograd")
            assert same(mine["hessian"], rec["autograd_hessian"], 1e-9), (case["expr"], p, lib, "autograd hessian")


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_live_exports_still_give_the_recorded_numbers(backend: str) -> None:
    pytest.importorskip(backend)
    if backend == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        def arg(v):
            return jnp.asarray(v, dtype=jnp.float64)
    else:
        import torch

        def arg(v):
            return torch.tensor(v, dtype=torch.float64)

    for case in DATA["cases"]:
        expr = symgrad.parse(case["expr"])
        ns = load(export_source(expr, symgrad.variables(expr), backend))
        for entry in case["points"]:
            args = [arg(v) for v in entry["point"]]
            rec = entry[backend]
            got = {"f": float(ns["f"](*args)), "grad": np.asarray(ns["grad_f"](*args)).tolist(),
                   "hessian": np.asarray(ns["hessian_f"](*args)).tolist()}
            for key in ("f", "grad", "hessian"):
                assert same(got[key], rec[key], 1e-13), (case["expr"], entry["point"], key)

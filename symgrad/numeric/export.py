"""``symgrad export``: a self-contained module with f, grad_f and hessian_f, and its ``--check``.

Stage: numbers (code out). The module text comes from ``codegen.module_source``: one import (the
backend), then the functions, each with a docstring showing the math — nothing else, so it can be
read, reviewed and vendored. ``check_module`` loads the text and compares ``grad_f`` with central
differences of ``f`` (and ``hessian_f`` with central differences of ``grad_f``) at random points,
in float64 for every backend, and checks that array backends broadcast: all points at once give
the same numbers as one point at a time.

To check something more, add it to ``check_module`` and a field to ``CheckReport``.

>>> import sympy as sp
>>> x, y = sp.symbols("x y", real=True)
>>> report = check_module(export_source(x**2 * y, [x, y], "math"), x**2 * y, [x, y], "math")
>>> report.ok, report.points
(True, 5)
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import sympy as sp

from symgrad.errors import ComputeError, InputError
from symgrad.records import record

CHECK_POINTS = 5
TOLERANCE = 1e-5
"""Relative agreement asked of central differences (their own error is about 1e-10 here)."""


def export_source(expr: sp.Expr, variables: Sequence[sp.Symbol], backend: str,
                  what: Sequence[str] = ("value", "grad", "hessian")) -> str:
    """The module text for ``backend`` (numpy, math, jax or torch); writing it needs no backend."""
    from symgrad import __version__
    from symgrad.numeric.codegen import module_source

    if not what:
        raise InputError("--what names no function", suggestion="use value, grad, hessian")
    expr, variables = _variables_of(expr, variables)
    return module_source(expr, variables, backend, what,
                         origin=f"Exported by symgrad {__version__} (backend: {backend}).")


@record
class CheckReport:
    """How the exported derivatives compare with finite differences."""

    points: int
    grad_error: float | None
    hessian_error: float | None
    broadcast_ok: bool | None
    ok: bool

    def summary(self) -> str:
        parts = []
        if self.grad_error is not None:
            parts.append(f"grad_f matches central differences of f at {self.points} random points "
                         f"(largest relative error {self.grad_error:.1e})")
        if self.hessian_error is not None:
            parts.append(f"hessian_f matches central differences of grad_f (largest relative error "
                         f"{self.hessian_error:.1e})")
        if self.broadcast_ok is not None:
            parts.append("all points at once give the same numbers as one at a time" if self.broadcast_ok
                         else "arrays of points do NOT give the same numbers as single points")
        verdict = "check passed" if self.ok else "check FAILED"
        return f"{verdict}: " + "; ".join(parts) if parts else verdict

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "points": self.points, "grad_error": self.grad_error,
                "hessian_error": self.hessian_error, "broadcast": self.broadcast_ok}


def _converter(backend: str) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """(a number or list of numbers -> an argument in float64, a result -> nested Python floats)."""
    if backend == "math":
        return (lambda v: v), (lambda r: r)
    if backend == "numpy":
        import numpy as np

        return (lambda v: np.asarray(v, dtype=np.float64)), (lambda r: np.asarray(r).tolist())
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)  # finite differences need float64
        return (lambda v: jnp.asarray(v, dtype=jnp.float64)), (lambda r: jnp.asarray(r).tolist())
    import torch

    return (lambda v: torch.tensor(v, dtype=torch.float64)), (lambda r: torch.as_tensor(r).tolist())


def _variables_of(expr: sp.Expr, variables: Sequence[Any]) -> tuple[sp.Expr, list[sp.Symbol]]:
    """``expr`` and ``variables`` in symgrad's real variables: a plain SymPy symbol is the variable
    of its name (as everywhere in the API), so |x|′ is sign(x), not a formula in re and im."""
    from symgrad.expressions import as_expr, resolve_variable

    e = as_expr(expr)
    return e, [resolve_variable(v, e) for v in variables]


def check_module(source: str, expr: sp.Expr, variables: Sequence[sp.Symbol], backend: str,
                 seed: int = 0, points: int = CHECK_POINTS) -> CheckReport:
    """Load ``source`` and compare its derivatives with central differences (see the module docstring)."""
    from symgrad.numeric.codegen import require
    from symgrad.numeric.compile import load

    require(backend)  # a missing library is a clear error (BackendMissing), not a ModuleNotFoundError
    expr, variables = _variables_of(expr, variables)
    with warnings.catch_warnings():
        # NumPy warns where f is nan (sqrt of a negative): such points are skipped, not reported
        warnings.simplefilter("ignore", RuntimeWarning)
        return _check(load(source, f"export_{backend}"), expr, variables, backend, seed, points)


def _check(ns: dict[str, Any], expr: sp.Expr, variables: Sequence[sp.Symbol], backend: str,
           seed: int, points: int) -> CheckReport:
    from symgrad.numeric.codegen import module_source
    from symgrad.numeric.compile import load

    grad_f, hessian_f = ns.get("grad_f"), ns.get("hessian_f")
    f = ns.get("f") or load(module_source(expr, variables, backend, ["value"]), "export_ref")["f"]
    arg, back = _converter(backend)
    n = len(variables)

    def call(fn: Callable[..., Any], p: Sequence[float]) -> Any:
        return back(fn(*(arg(c) for c in p)))

    chosen = _finite_points(call, f, grad_f, n, random.Random(seed), points)
    grad_error = hess_error = None
    if grad_f is not None:
        grad_error = 0.0
        for p in chosen:
            g = call(grad_f, p)
            scale = abs(float(call(f, p)))
            for j in range(n):
                up, down, h = _central(lambda q: float(call(f, q)), p, j)
                grad_error = max(grad_error, _relative(g[j], (up - down) / (2 * h), scale * 1e-5))
    if hessian_f is not None:
        gfun = grad_f or load(module_source(expr, variables, backend, ["grad"]), "export_ref")["grad_f"]
        hess_error = 0.0
        for p in chosen:
            hmat = call(hessian_f, p)
            scale = max(abs(v) for v in call(gfun, p))
            for j in range(n):
                up, down, h = _central(lambda q: call(gfun, q), p, j)
                for i in range(n):
                    hess_error = max(hess_error, _relative(hmat[i][j], (up[i] - down[i]) / (2 * h), scale * 1e-5))
    broadcast_ok = None
    if backend != "math":
        columns = [[p[j] for p in chosen] for j in range(n)]
        together = [(fn, back(fn(*(arg(col) for col in columns)))) for fn in (f, grad_f, hessian_f) if fn is not None]
        broadcast_ok = all(_same(_pick(batched, k), call(fn, p)) for fn, batched in together
                           for k, p in enumerate(chosen))
    ok = all(e is None or e < TOLERANCE for e in (grad_error, hess_error)) and broadcast_ok is not False
    return CheckReport(len(chosen), grad_error, hess_error, broadcast_ok, ok)


def _finite_points(call: Callable[[Callable[..., Any], Sequence[float]], Any], f: Callable[..., Any],
                   grad_f: Callable[..., Any] | None, n: int, rng: random.Random, points: int) -> list[list[float]]:
    """Up to ``points`` random points in [-2, 2]ⁿ where f (and its gradient) are finite numbers."""
    chosen: list[list[float]] = []
    for _ in range(200):
        if len(chosen) == points:
            break
        p = [rng.uniform(-2.0, 2.0) for _ in range(n)]
        try:
            value = float(call(f, p))
            ok = math.isfinite(value)
            if ok and grad_f is not None:
                ok = all(math.isfinite(g) for g in call(grad_f, p))
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            ok = False
        if ok:
            chosen.append(p)
    if not chosen:
        raise ComputeError("found no point in [-2, 2] where f and its gradient are finite numbers to check at")
    return chosen


def _central(fn: Callable[[list[float]], Any], p: list[float], j: int) -> tuple[Any, Any, float]:
    """fn a step h above and below ``p`` in coordinate j, and h."""
    h = 6e-6 * max(1.0, abs(p[j]))
    up, down = list(p), list(p)
    up[j] += h
    down[j] -= h
    return fn(up), fn(down), h


def _relative(a: float, b: float, scale: float) -> float:
    return abs(a - b) / max(1.0, abs(b), scale)


def _pick(batched: Any, k: int) -> Any:
    """Point k of a batched result (points on the last axis)."""
    if not isinstance(batched, list):
        return batched
    if batched and not isinstance(batched[0], list):
        return batched[k]
    return [_pick(b, k) for b in batched]


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, list):
        return isinstance(a, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, list):
        return False
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-300)

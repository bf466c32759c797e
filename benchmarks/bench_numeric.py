"""Numeric speed: compiled gradients and descents against PyTorch and JAX, side by side.

Stage: measurement (not part of the package; ``benchmarks/run.py`` prints the table). Each row
times symgrad and its reference on the same work in the same process; references that are not
installed give ``reference_s = None``. Tests never assert timings.

Cases:
1. one gradient call at a point (2-D Rosenbrock): symgrad's compiled gradient (``math`` backend)
   against ``torch.autograd`` and ``jax.grad`` (jitted);
2. 10,000 Adam steps on 2-D Rosenbrock from (−1.5, 2): ``symgrad.numeric.descend`` against the
   same ``torch.optim.Adam`` loop in float64 (the note gives the largest difference of iterates);
3. the gradient over 100,000 points of 10-D Rosenbrock: the NumPy export and the JAX export
   (jitted) against ``jax.jit(jax.vmap(jax.grad(f)))``, and the gradient's cost relative to f's.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

Row = dict[str, Any]

ROSEN2 = "(1-x)^2 + 100(y-x^2)^2"


def _median(fn: Callable[[], object], repeats: int, inner: int = 1) -> float:
    """Median seconds of one call of ``fn`` (``inner`` calls per timing, after a warm-up)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return statistics.median(times)


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


def _jax() -> Any:
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def rosen10_text(n: int = 10) -> str:
    return " + ".join(f"100(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(1, n))


def bench_point(smoke: bool) -> list[Row]:
    import symgrad

    c = symgrad.compile(ROSEN2, backend="math", what=["grad"])
    inner, repeats = (200, 5) if smoke else (5000, 15)
    ours = _median(lambda: c.grad(-1.5, 2.0), repeats, inner)
    rows = []
    torch = _torch()
    ref = None
    if torch is not None:
        def autograd() -> object:
            p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
            ((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2).backward()
            return p.grad

        ref = _median(autograd, repeats, max(1, inner // 20))
    rows.append({"section": "one gradient call at a point", "case": "2-D Rosenbrock", "symgrad_s": ours,
                 "reference": "torch.autograd", "reference_s": ref, "note": "symgrad: math backend"})
    jax = _jax()
    ref = None
    if jax is not None:
        import jax.numpy as jnp

        g = jax.jit(jax.grad(lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2))
        point = jnp.array([-1.5, 2.0])
        ref = _median(lambda: g(point).block_until_ready(), repeats, max(1, inner // 20))
    rows.append({"section": "one gradient call at a point", "case": "2-D Rosenbrock", "symgrad_s": ours,
                 "reference": "jax.jit(jax.grad(f))", "reference_s": ref, "note": ""})
    return rows


def bench_adam(smoke: bool) -> list[Row]:
    import symgrad
    from symgrad.numeric.descend import descend
    from symgrad.numeric.objective import objective
    from symgrad.numeric.optimizers import adam

    steps = 1000 if smoke else 10_000
    c = symgrad.compile(ROSEN2, backend="math", what=["value_and_grad"])
    vg = objective(c)
    result: dict[str, Any] = {}

    def ours_run() -> None:
        result["run"] = descend(vg, (-1.5, 2.0), adam(lr=1e-3), steps=steps)

    ours = _median(ours_run, 1 if smoke else 3)
    torch = _torch()
    ref, note = None, "torch not installed"
    if torch is not None:
        def torch_run() -> None:
            p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
            opt = torch.optim.Adam([p], lr=1e-3)
            points = []
            for _ in range(steps):
                opt.zero_grad()
                ((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2).backward()
                opt.step()
                points.append(p.detach().tolist())
            result["torch"] = points

        previous = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            ref = _median(torch_run, 1 if smoke else 3)
        finally:
            torch.set_default_dtype(previous)
        ours_points = [it.point for it in result["run"].trajectory[1:]]
        diff = max(abs(a - b) / max(abs(b), 1e-12) for p, q in zip(ours_points, result["torch"]) for a, b in zip(p, q))
        note = f"same iterates: largest relative difference {diff:.1e}"
    return [{"section": f"{steps:,} Adam steps", "case": "2-D Rosenbrock from (-1.5, 2)", "symgrad_s": ours,
             "reference": "torch.optim.Adam loop", "reference_s": ref, "note": note}]


def bench_batch(smoke: bool) -> list[Row]:
    import numpy as np

    import symgrad

    points = 1000 if smoke else 100_000
    repeats = 3 if smoke else 7
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (points, 10))
    cols = list(np.ascontiguousarray(X.T))  # variables first, as the export takes them
    c = symgrad.compile(rosen10_text(), backend="numpy", what=["value", "grad"])
    ours_np = _median(lambda: c.grad(*cols), repeats)
    ours_f = _median(lambda: c.f(*cols), repeats)
    jax = _jax()
    ref = None
    ours_jax = None
    if jax is not None:
        import jax.numpy as jnp

        def f(x: Any) -> Any:
            return jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

        vg = jax.jit(jax.vmap(jax.grad(f)))
        XJ = jnp.asarray(X)
        ref = _median(lambda: vg(XJ).block_until_ready(), repeats)
        cj = symgrad.compile(rosen10_text(), backend="jax", what=["grad"])
        gj = jax.jit(cj.grad)
        colsj = [XJ[:, j] for j in range(10)]
        ours_jax = _median(lambda: gj(*colsj).block_until_ready(), repeats)
        # the same numbers (up to layout): variables first in symgrad, points first in vmap
        assert np.allclose(np.asarray(gj(*colsj)).T, np.asarray(vg(XJ)), rtol=1e-10, atol=1e-10)
    rows = [
        {"section": f"gradient over {points:,} points", "case": "10-D Rosenbrock, NumPy export", "symgrad_s": ours_np,
         "reference": "jax.jit(jax.vmap(jax.grad(f)))", "reference_s": ref, "note": "float64"},
        {"section": f"gradient over {points:,} points", "case": "10-D Rosenbrock, JAX export (jit)",
         "symgrad_s": ours_jax, "reference": "jax.jit(jax.vmap(jax.grad(f)))", "reference_s": ref,
         "note": "jax not installed" if jax is None else "float64"},
        {"section": f"gradient over {points:,} points", "case": "10-D Rosenbrock: cost of ∇f relative to f",
         "symgrad_s": ours_np, "reference": "f itself (NumPy export)", "reference_s": ours_f,
         "note": f"gradient/function = {ours_np / ours_f:.2f}"},
    ]
    return rows


def run(smoke: bool) -> list[Row]:
    """All numeric rows (``smoke``: small sizes, to prove that it runs)."""
    return [*bench_point(smoke), *bench_adam(smoke), *bench_batch(smoke)]


if __name__ == "__main__":
    import sys

    for row in run("--smoke" in sys.argv):
        ratio = ("" if not row["reference_s"] or not row["symgrad_s"]
                 else f"{row['reference_s'] / row['symgrad_s']:.1f}x")
        ours = "-" if row["symgrad_s"] is None else f"{row['symgrad_s']:.3g}"
        print(f"{row['section']:>32} | {row['case']:<42} | {ours:>9} s | {row['reference']:<32} | "
              f"{row['reference_s'] if row['reference_s'] is None else format(row['reference_s'], '.3g')} | {ratio} | "
              f"{row['note']}")

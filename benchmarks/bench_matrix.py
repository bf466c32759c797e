"""Benchmark row for issue 17: the two-layer network's four gradients.

Derivation time of ∂L/∂W₁, ∂L/∂b₁, ∂L/∂W₂, ∂L/∂b₂ for
L = cross_entropy(softmax(W₂ relu(W₁x + b₁) + b₂), y) (with the component check), and the exported
NumPy gradient against ``jax.grad`` on a batch of samples when JAX is installed.
``benchmarks/run.py`` can call ``row()``; ``python -m benchmarks.bench_matrix`` prints it.
"""

from __future__ import annotations

import time
from typing import Any

TEXT = "cross_entropy(softmax(W2 relu(W1 x + b1) + b2), y)"
SHAPES = "W1: m×n, W2: k×m, x: n"
PARAMS = ["W1", "b1", "W2", "b2"]


def row(batch: int = 64) -> dict[str, Any]:
    import numpy as np

    import symgrad.matrix as m
    from symgrad.matrix.numeric import load, module_source, random_point

    start = time.perf_counter()
    net = m.backprop_network(TEXT, SHAPES)
    derive = time.perf_counter() - start
    parsed = net.parsed
    ns = load(module_source(parsed, PARAMS))
    out: dict[str, Any] = {"name": "two-layer network, four gradients", "derive_s": round(derive, 3),
                           "check": net.check, "jax": None}
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return out
    jax.config.update("jax_enable_x64", True)
    point = random_point(parsed, seed=1, sizes={"n": 20, "m": 16, "k": 10})
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(batch, point["x"].shape[0]))
    ys = np.eye(point["y"].shape[0])[rng.integers(0, point["y"].shape[0], size=batch)]

    def loss(W1: Any, b1: Any, W2: Any, b2: Any, x: Any, y: Any) -> Any:
        z = W2 @ jnp.maximum(W1 @ x + b1, 0) + b2
        return jax.scipy.special.logsumexp(z) - y @ z

    grad = jax.vmap(jax.grad(loss, argnums=(0, 1, 2, 3)), in_axes=(None, None, None, None, 0, 0))
    want = grad(point["W1"], point["b1"], point["W2"], point["b2"], xs, ys)
    t0 = time.perf_counter()
    worst = 0.0
    for i in range(batch):
        got = ns["grad_f"](point["W2"], point["W1"], xs[i], point["b1"], point["b2"], ys[i])
        for a, b in zip(got, want):
            worst = max(worst, float(np.max(np.abs(np.asarray(a) - np.asarray(b[i])))))
    out["jax"] = {"batch": batch, "numpy_s": round(time.perf_counter() - t0, 4), "max_abs_diff": worst}
    return out


if __name__ == "__main__":
    print(row())

"""Vectors and matrices from the command line (issue 17): ``--shape`` on diff, grad, jacobian,
hessian, export; matrix notation without ``--shape``; every format; the JSON contract; bad input.

Oracles: the values at a point against central finite differences of the expression evaluated
here with NumPy (not with symgrad's code), and the matrix forms read back and compared with
``sympy.diff`` of components built here with SymPy's own matrices.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symgrad.matrix.notation import parse, uses_matrix_notation


def _fd(f, arr: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central finite differences of a number f(arr) by every entry of arr."""
    out = np.zeros_like(arr, dtype=float)
    for idx in np.ndindex(arr.shape):
        up, down = arr.astype(float), arr.astype(float)
        up[idx] += h
        down[idx] -= h
        out[idx] = (f(up) - f(down)) / (2 * h)
    return out


def test_grad_with_shape_keyed_by_variable_with_values(cli) -> None:
    W = [[1, 2, 0], [0.5, -1, 3]]
    x, b, y = [1, -2, 0.5], [0.25, 1], [1, 0]
    at = f"W={W}, x={x}, b={b}, y={y}"
    data = cli("grad", "‖W x + b - y‖²", "--shape", "W: m×n, x: n", "--wrt", "W,b", "--at", at,
               "--format", "json").json()
    assert data["command"] == "grad" and data["wrt"] == ["W", "b"]
    assert data["gradient"] == {"W": "2*(W*x + b - y)*x.T", "b": "2*(W*x + b - y)"}
    assert data["check"] == "exact" and "denominator layout" in data["layout"]
    Wa, xa, ba, ya = (np.array(v, dtype=float) for v in (W, x, b, y))
    gW = _fd(lambda w: np.sum((w @ xa + ba - ya) ** 2), Wa)
    gb = _fd(lambda v: np.sum((Wa @ xa + v - ya) ** 2), ba)
    assert np.allclose(np.array(data["value"]["W"]), gW, atol=1e-5)  # nested lists in W's shape (2×3)
    assert np.allclose(np.array(data["value"]["b"]), gb, atol=1e-5)
    assert {p["wrt"]: p["shape"] for p in data["partials"]} == {"W": "m×n", "b": "m"}
    assert all("steps" in p and "differential" in p for p in data["partials"])


def test_matrix_notation_without_shape_and_the_result_reads_back(cli) -> None:
    data = cli("grad", "x^T A x", "--shape", "A: n×n", "--wrt", "x", "--format", "json").json()
    assert data["result"] == "(A + A.T)*x" and data["check"] == "exact"
    # no --shape: the transpose says x is a vector; A between two vectors is ambiguous: a number, noted
    bare = cli("grad", "x^T A x", "--wrt", "x", "--format", "json").json()
    assert any("A is read as a number" in n for n in bare["notes"])
    assert bare["result"] == "2*A*x"
    # the result is SymPy's str() of the matrix expression, read back by symgrad with the same shapes,
    # then expanded with this test's own matrices and compared with sympy.diff
    from symgrad.matrix.expand import Env, components

    back = parse(data["result"], "A: n×n, x: n")
    n = 3
    A = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"A{i}{j}"))
    x = sp.Matrix(n, 1, lambda i, j: sp.Symbol(f"x{i}"))
    f = (x.T * A * x)[0]
    expected = sp.Matrix([sp.diff(f, x[i]) for i in range(n)])
    got = components(back.expr, Env({"n": n}, {"A": A, "x": x}))
    assert sp.expand(got - expected) == sp.zeros(n, 1)


@pytest.mark.parametrize("args, result", [
    (("grad", "log det X", "--shape", "X: n×n"), "X.T**(-1)"),
    (("grad", "tr(A X)", "--shape", "A: n×n, X: n×n", "--wrt", "X"), "A.T"),
    (("grad", "‖x‖", "--shape", "x: n"), "x/norm(x)"),
    (("grad", "x^T A x", "--shape", "A: symmetric", "--wrt", "x"), "2*A*x"),
    (("grad", "cross_entropy(softmax(W x + b), y)", "--shape", "W: m×n, x: n", "--wrt", "W"),
     "(softmax(W*x + b) - y)*x.T"),
    (("grad", "‖X w - y‖² + λ‖w‖²", "--shape", "X: m×n, w: n", "--wrt", "w"), "2*X.T*(X*w - y) + 2*lambda*w"),
    (("jacobian", "W x", "--shape", "W: m×n, x: n", "--wrt", "x"), "W"),
    (("jacobian", "σ(z)", "--shape", "z: n"), "diag(sigmoid(z).*(1 - sigmoid(z)))"),
    (("jacobian", "softmax(z)", "--shape", "z: n"), "diag(softmax(z)) - softmax(z)*softmax(z).T"),
    (("hessian", "x^T A x", "--shape", "A: n×n"), "A + A.T"),
    (("diff", "log det X", "--shape", "X: n×n"), "X.T**(-1)"),
    (("diff", "W x", "--shape", "W: m×n, x: n", "--wrt", "x"), "W"),
    (("diff", "x^T A x", "--order", "2", "--shape", "A: n×n"), "A + A.T"),
])
def test_issue_examples_from_the_command_line(cli, args: tuple[str, ...], result: str) -> None:
    res = cli(*args, "--format", "json")
    assert res.exit_code == 0, res.stdout
    data = res.json()
    assert data["result"] == result and data["check"] in ("exact", "numeric")


def test_logistic_loss_gradient_and_hessian(cli) -> None:
    loss = "-sum(y ⊙ log σ(X w) + (1 - y) ⊙ log(1 - σ(X w)))"
    X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.5, 0.25]])
    y = np.array([1.0, 0.0, 1.0])
    w = np.array([0.3, -0.2])
    at = f"X={X.tolist()}, y={y.tolist()}, w={w.tolist()}"

    def f(v: np.ndarray) -> float:
        p = 1 / (1 + np.exp(-(X @ v)))
        return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))

    g = cli("grad", loss, "--shape", "X: m×n, w: n", "--wrt", "w", "--at", at, "--format", "json").json()
    assert g["check"] in ("exact", "numeric")
    assert np.allclose(g["value"]["w"], _fd(f, w), atol=1e-5)
    h = cli("hessian", loss, "--shape", "X: m×n, w: n", "--wrt", "w", "--at", at, "--format", "json").json()
    assert h["check"] in ("exact", "numeric")
    p = 1 / (1 + np.exp(-(X @ w)))
    assert np.allclose(h["value"], X.T @ np.diag(p * (1 - p)) @ X, atol=1e-9)


def test_two_layer_network_in_backprop_form(cli) -> None:
    text = "cross_entropy(softmax(W2 relu(W1 x + b1) + b2), y)"
    data = cli("grad", text, "--shape", "W1: m×n, W2: k×m, x: n", "--format", "json").json()
    assert data["deltas"] == {"delta2": "p - y", "delta1": "(W2.T*delta2).*Heaviside(z1)"}
    assert data["backprop"] == {"W1": "delta1*x.T", "b1": "delta1", "W2": "delta2*h.T", "b2": "delta2"}
    assert data["check"] == "exact"
    plain = cli("grad", text, "--shape", "W1: m×n, W2: k×m, x: n", "--format", "plain").stdout
    assert "δ₁ = ∂L/∂z₁ = (W₂ᵀδ₂) ⊙ H(z₁)" in plain and "∂L/∂W₁ = δ₁xᵀ" in plain
    assert "let z₁ = W₁x + b₁" in plain


@pytest.mark.parametrize("fmt, marker", [("plain", "∇ₓ f = (A + Aᵀ)x"), ("markdown", "**"),
                                         ("latex", r"^{\top}"), ("rich", "check: exact")])
def test_every_format(cli, fmt: str, marker: str) -> None:
    res = cli("grad", "x^T A x", "--shape", "A: n×n", "--wrt", "x", "--format", fmt)
    assert res.exit_code == 0 and marker in res.stdout


def test_latex_standalone_and_no_steps(cli) -> None:
    doc = cli("grad", "x^T A x", "--shape", "A: n×n", "--wrt", "x", "--format", "latex", "--standalone").stdout
    assert doc.startswith(r"\documentclass") and r"\mathbf{x}" in doc
    short = cli("grad", "x^T A x", "--shape", "A: n×n", "--wrt", "x", "--no-steps", "--format", "plain").stdout
    assert "Product rule" not in short and "∇ₓ f = (A + Aᵀ)x" in short and "check: exact" in short
    data = cli("grad", "x^T A x", "--shape", "A: n×n", "--wrt", "x", "--no-steps", "--format", "json").json()
    assert "steps" not in data["partials"][0]


def test_dimension_error_is_bad_input_with_a_caret(cli) -> None:
    # a declared size name is a size of its own: n is not 3 (the issue's own example)
    res = cli("grad", "‖W x - y‖²", "--shape", "W: m×n, x: 3, y: m", "--format", "plain")
    assert res.exit_code == 2 and "W x: W is m×n but x has 3 entries" in res.stderr and res.stdout == ""
    res = cli("grad", "‖W x‖²", "--shape", "W: 2×4, x: 3", "--format", "plain")
    assert res.exit_code == 2 and "W is 2×4 but x has 3 entries" in res.stderr and "^" in res.stderr
    err = cli("grad", "‖W x‖²", "--shape", "W: 2×4, x: 3", "--format", "json")
    assert err.exit_code == 2 and "W is 2×4" in err.json()["error"]["message"]


def test_refusals(cli) -> None:
    res = cli("diff", "x^T A x", "--order", "3", "--shape", "A: n×n", "--format", "plain")
    assert res.exit_code == 2 and "tensor" in res.stderr
    res = cli("grad", "W x", "--shape", "W: m×n, x: n", "--format", "plain")
    assert res.exit_code == 2 and "jacobian" in res.stderr


def test_scalar_input_stays_scalar(cli) -> None:
    assert not uses_matrix_notation("x^2 y + tr") and not uses_matrix_notation("sin(x)^2")
    assert uses_matrix_notation("det X") and uses_matrix_notation("x ⊙ y") and uses_matrix_notation("W @ x")
    data = cli("grad", "y**2 - x**2", "--format", "json").json()
    assert data["gradient"] == ["-2*x", "2*y"]


def test_export_with_shape_checks_and_runs(cli, tmp_path) -> None:
    out = tmp_path / "mse.py"
    res = cli("export", "‖W x + b - y‖²", "--shape", "W: m×n, x: n", "--wrt", "W,b", "--check",
              "--output", str(out), "--format", "plain")
    assert res.exit_code == 0 and "grad_f matches central differences" in res.stdout
    from symgrad.matrix.numeric import load

    ns = load(out.read_text(encoding="utf-8"))
    rng = np.random.default_rng(3)
    W, x, b, y = rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=2), rng.normal(size=2)
    gW, gb = ns["grad_f"](W, x, b, y)
    assert gW.shape == (2, 3) and gb.shape == (2,)  # arrays of the variables' shapes
    assert np.allclose(gW, _fd(lambda w: np.sum((w @ x + b - y) ** 2), W), atol=1e-5)
    assert np.allclose(gb, _fd(lambda v: np.sum((W @ x + v - y) ** 2), b), atol=1e-5)
    data = cli("export", "x^T A x", "--shape", "A: n×n", "--wrt", "x", "--check", "--format", "json").json()
    assert data["check"]["ok"] and data["functions"] == ["f", "grad_f"] and data["shapes"] == {"x": "n", "A": "n×n"}
    assert any("hessian_f is not exported" in n for n in data["notes"])


def test_export_refusals(cli) -> None:
    res = cli("export", "x^T A x", "--shape", "A: n×n", "--what", "hessian", "--format", "plain")
    assert res.exit_code == 2 and "no hessian_f" in res.stderr
    res = cli("export", "x^T A x", "--shape", "A: n×n", "--backend", "math", "--format", "plain")
    assert res.exit_code == 2 and "arrays" in res.stderr

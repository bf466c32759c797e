"""Vectors and matrices (issue 17): notation, the matrix-form results, their checks and numbers.

Oracles, independent of symgrad's engine: sympy.diff of component expansions built here with
SymPy's own constructors; central finite differences (NumPy); torch 2.13 autograd (recorded in
tests/fixtures/matrix_torch.json by record_matrix_torch.py, so CI checks without torch); and
jax.grad when JAX is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symgrad.matrix as m
from symgrad.errors import InputError, ParseError
from symgrad.matrix import expr as mx
from symgrad.matrix.expand import Env, check_gradient, components
from symgrad.matrix.notation import parse
from symgrad.matrix.numeric import check_module, load, module_source, random_point

FIXTURE = Path(__file__).with_name("fixtures") / "matrix_torch.json"


# notation ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["x^T A x", "xᵀ A x", "x' A x", "x.T @ A @ x", "x^{T} A x", "x^\\top A x",
                                  "x^T*A*x", "x.T*A*x", "(x^T A) x", "x^Tx"[:0] + "x^T (A x)"])
def test_transposes_and_products_read_alike(text: str) -> None:
    assert str(parse(text, "A: n×n").expr) == "x.T*A*x"


@pytest.mark.parametrize("text, shown", [
    ("x ⊙ y", "x.*y"), ("x .* y", "x.*y"), ("x ∘ y", "x.*y"), ("HadamardProduct(x, y)", "x.*y"),
    ("x·y", "x.T*y"), ("dot(x, y)", "x.T*y"), ("‖x‖²", "norm(x)**2"), ("norm(x)^2", "norm(x)**2"),
    ("‖x‖_2^2", "norm(x)**2"), ("A^{-1} x", "A**(-1)*x"), ("A^-1 x", "A**(-1)*x"), ("inv(A) x", "A**(-1)*x"),
    ("A⁻¹x", "A**(-1)*x"), ("X^{-T}", "X.T**(-1)"), ("X.T**(-1)", "X.T**(-1)"), ("log det A", "log(det(A))"),
    ("logdet(A)", "log(det(A))"), ("tr(A)", "tr(A)"), ("trace(A)", "tr(A)"), ("Trace(A)", "tr(A)"),
    ("sum(x)", "sum(x)"), ("diag(x)", "diag(x)"), ("sigmoid(x)", "sigmoid(x)"), ("σ(x)", "sigmoid(x)"),
    ("1 - x", "1 - x"), ("x.^2", "x.^2"), ("x./y", "x./y"), ("exp(x)", "exp(x)"), ("softmax(x)", "softmax(x)"),
])
def test_operations(text: str, shown: str) -> None:
    assert str(parse(text, "x: n, y: n, A: n×n, X: n×n").expr) == shown


def test_scalar_parts_are_the_scalar_parser() -> None:
    import symgrad
    from symgrad.parsing import parse_full

    for text in ("x^2 + sin x", "1/2x", "sigmoid(x) ln|x|", "sum((y_i - w x_i)^2, i, 1, n)"):
        node = parse(text).expr
        assert isinstance(node, mx.Const) and node.value == parse_full(text).expr
        assert parse(text).notes == parse_full(text).notes
    # the names only matrix mode knows stay scalar names elsewhere
    assert str(symgrad.parse("tr x")) == "tr*x"


def test_shapes_are_inferred_with_a_note() -> None:
    p = parse("x^T A x")
    assert p.shapes["x"] == ("n", 1) and p.shapes == {"x": ("n", 1)} | p.shapes
    assert "x is read as a vector of n entries (it is transposed)" in p.notes
    assert any("A is read as a number" in n for n in p.notes)  # undeclared A: a scalar, said so
    q = parse("‖W x + b - y‖²", "W: m×n, x: n")
    assert q.shapes["b"] == ("m", 1) and any("b is read as a vector of m entries" in n for n in q.notes)
    r = parse("cross_entropy(softmax(z), y)")
    assert r.shapes == {"z": ("n", 1), "y": ("n", 1)}


@pytest.mark.parametrize("text, shapes, message, at", [
    ("W x", "W: m×n, x: 3", "W x: W is m×n but x has 3 entries", 2),
    ("W x", "W: 2×3, x: 2", "W x: W is 2×3 but x has 2 entries", 2),
    ("x + y", "x: n, y: m", "x + y: x has n entries but y has m entries", 2),
    ("x y", "x: n, y: n", "x y: a product of two column vectors is not defined", 2),
    ("x ⊙ y", "x: 2, y: 3", "an elementwise product needs equal shapes", 2),
    ("det(W)", "W: m×n", "det(…) takes a square matrix", 0),
    ("|x|", "x: n", "|x| of a vector or matrix", 0),
    ("x^2", "x: n", "x is a vector, which has no powers", 1),
    ("Ax", "A: n×n, x: n", "'Ax' is one name", 0),
])
def test_dimension_errors_are_bad_input_with_a_caret(text: str, shapes: str, message: str, at: int) -> None:
    with pytest.raises(ParseError) as info:
        parse(text, shapes)
    assert message in info.value.message and info.value.position == at
    assert "^" in info.value.render()


def test_declarations() -> None:
    from symgrad.matrix.shapes import Declared, declarations

    d = declarations("x, y: n; A: n x n symmetric, c: scalar, W: 3*2, M: matrix")
    assert d["y"] == Declared("vector", "n", 1) and d["A"].symmetric and d["c"].kind == "scalar"
    assert d["W"] == Declared("matrix", 3, 2) and d["M"].rows is None
    for bad in ("x: 0", "A: n×m symmetric", "x: vector, x: n", "x"):
        with pytest.raises(InputError):
            declarations(bad)


# the results of the issue, each checked --------------------------------------------------------------
GRADIENTS = [
    ("x^T A x", "A: n×n", "x", "(A + A.T)*x"),
    ("x^T A x", "A: symmetric", "x", "2*A*x"),
    ("‖W x + b - y‖²", "W: m×n, x: n", "W", "2*(W*x + b - y)*x.T"),
    ("‖W x + b - y‖²", "W: m×n, x: n", "b", "2*(W*x + b - y)"),
    ("cross_entropy(softmax(W x + b), y)", "W: m×n, x: n", "W", "(softmax(W*x + b) - y)*x.T"),
    ("cross_entropy(softmax(W x + b), y)", "W: m×n, x: n", "b", "softmax(W*x + b) - y"),
    ("log det X", "X: n×n", "X", "X.T**(-1)"),
    ("tr(A X)", "A: n×n, X: n×n", "X", "A.T"),
    ("‖x‖", "x: n", "x", "x/norm(x)"),
    ("-sum(y .* log(σ(X w)) + (1 - y) .* log(1 - σ(X w)))", "X: N×d, w: d, y: N", "w", "X.T*(sigmoid(X*w) - y)"),
    ("‖X w - y‖² + λ‖w‖²", "X: N×d, w: d", "w", "2*X.T*(X*w - y) + 2*lambda*w"),
    ("det(X)", "X: n×n", "X", "det(X)*X.T**(-1)"),
]


@pytest.mark.parametrize("text, shapes, wrt, expected", GRADIENTS)
def test_gradients(text: str, shapes: str, wrt: str, expected: str) -> None:
    g = m.gradient(text, wrt, shapes)
    # ‖x‖ at n = 1 is |x₁|, whose derivative SymPy writes sign(x₁): equal at sample points
    assert g.result == expected and g.check == ("numeric" if text == "‖x‖" else "exact")
    # the result reads back, with the same shapes, to the same expression
    back = parse(g.result, g.parsed.declaration())
    assert check_gradient(g.parsed.expr, g[wrt].var, back.expr).kind == g.check


def _sym(name: str, r: int, c: int = 1) -> sp.Matrix:
    return sp.Matrix(r, c, lambda i, j: sp.Symbol(f"{name}{i}{j}", real=True))


def test_gradients_against_an_independent_expansion() -> None:
    """sympy.diff of expansions built here with SymPy's constructors, at random points."""
    rng = np.random.default_rng(3)
    n, k = 3, 2
    W, x, b, y = _sym("W", k, n), _sym("x", n), _sym("b", k), _sym("y", k)
    z = W * x + b
    ce = sp.log(sum(sp.exp(v) for v in z)) - (y.T * z)[0]
    mse = ((z - y).T * (z - y))[0]
    for f_oracle, text, wrt_sym, wrt in ((ce, "cross_entropy(softmax(W x + b), y)", W, "W"),
                                        (mse, "‖W x + b - y‖²", W, "W"),
                                        (ce, "cross_entropy(softmax(W x + b), y)", b, "b")):
        values = {"W": rng.normal(size=(k, n)), "x": rng.normal(size=n), "b": rng.normal(size=k),
                  "y": rng.normal(size=k)}
        subs = {}
        for name, sym in (("W", W), ("x", x), ("b", b), ("y", y)):
            arr = np.asarray(values[name]).reshape(sym.shape)
            subs.update({sym[i, j]: sp.Float(arr[i, j], 30) for i in range(sym.shape[0]) for j in range(sym.shape[1])})
        oracle = np.array([[float(sp.diff(f_oracle, wrt_sym[i, j]).xreplace(subs)) for j in range(wrt_sym.shape[1])]
                           for i in range(wrt_sym.shape[0])])
        point = ", ".join(f"{k2}={np.asarray(v).tolist()}" for k2, v in values.items())
        got = np.array(m.gradient(text, wrt, "W: m×n, x: n", at=point)[wrt].value)
        assert np.allclose(got.reshape(oracle.shape), oracle, rtol=1e-10, atol=1e-12), (text, wrt)


def test_jacobians() -> None:
    assert m.jacobian("W x", "x", "W: m×n, x: n").result == "W"
    j = m.jacobian("σ(z)", "z", "z: n")
    assert j.result == "diag(sigmoid(z).*(1 - sigmoid(z)))" and j.check == "exact"
    s = m.jacobian("softmax(z)", "z", "z: n")
    assert s.result == "diag(softmax(z)) - softmax(z)*softmax(z).T" and s.check == "exact"
    v = m.jacobian("softmax(z)", "z", "z: n", at="z=[0, 0]")
    assert v.value == [[0.25, -0.25], [-0.25, 0.25]]


def test_hessians() -> None:
    h = m.hessian("x^T A x", "x", "A: n×n")
    assert h.result == "A + A.T" and h.check == "exact"
    lg = m.hessian("-sum(y .* log(σ(X w)) + (1 - y) .* log(1 - σ(X w)))", "w", "X: N×d, w: d, y: N")
    assert lg.result == "X.T*diag(sigmoid(X*w).*(1 - sigmoid(X*w)))*X" and lg.check == "exact"
    assert m.hessian("‖x‖²", "x", "x: n").result == "2*I"


@pytest.mark.parametrize("act, prime", [("relu", "Heaviside(z1)"), ("σ", "sigmoid(z1).*(1 - sigmoid(z1))"),
                                        ("tanh", "(1 - tanh(z1).^2)")])
def test_two_layer_network_in_backprop_form(act: str, prime: str) -> None:
    r = m.backprop_network(f"cross_entropy(softmax(W2 {act}(W1 x + b1) + b2), y)", "W1: m×n, W2: k×m, x: n")
    names = {n: str(d) for n, d in r.names}
    assert names == {"z1": "W1*x + b1", "h": names["h"], "z2": "W2*h + b2", "p": "softmax(z2)"}
    deltas = {n: str(d) for n, d in r.deltas}
    assert deltas["delta2"] == "p - y" and deltas["delta1"] == f"(W2.T*delta2).*{prime}"
    assert {n: str(g) for n, g in r.backprop} == {"W1": "delta1*x.T", "b1": "delta1", "W2": "delta2*h.T",
                                                  "b2": "delta2"}
    assert r.check == "exact"


def test_network_with_the_squared_error() -> None:
    r = m.backprop_network("‖W2 tanh(W1 x + b1) + b2 - y‖²", "W1: m×n, W2: k×m, x: n")
    assert dict((n, str(d)) for n, d in r.deltas)["delta2"] == "2*(z2 - y)" and r.check == "exact"


def test_a_wrong_result_is_shown_as_a_mismatch() -> None:
    p = parse("x^T A x", "A: n×n")
    wrong = mx.mul(mx.Const(sp.Integer(2)), p.var("A"), p.var("x"))  # 2Ax, true only for symmetric A
    c = check_gradient(p.expr, p.var("x"), wrong)
    assert c.kind == "mismatch" and c.mismatch is not None and c.mismatch["entry"] is not None


# JSON ----------------------------------------------------------------------------------------------
def test_json_contract() -> None:
    g = m.gradient("‖W x + b - y‖²", "W,b", "W: m×n, x: n", at="W=[[1,2],[3,4]], x=[1,1], b=[0,0], y=[1,1]")
    data = json.loads(json.dumps(g.to_json()))
    assert data["gradient"] == {"W": "2*(W*x + b - y)*x.T", "b": "2*(W*x + b - y)"}
    assert data["value"] == {"W": [[4.0, 4.0], [12.0, 12.0]], "b": [4.0, 12.0]}
    assert data["check"] == "exact" and data["shapes"]["W"] == "m×n" and "denominator layout" in data["layout"]

    def shapes(node: dict) -> bool:
        return "shape" in node and all(shapes(s) for s in node["substeps"])

    for part in data["partials"]:
        assert shapes(part["steps"]) and shapes(part["differential"])
    rules = [s["rule"] for s in _walk(data["partials"][0]["differential"])]
    assert rules[:2] == ["d_squared_norm", "d_sum"]


def _walk(node: dict) -> list[dict]:
    out = [node]
    for s in node["substeps"]:
        out.extend(_walk(s))
    return out


def test_steps_name_their_identities() -> None:
    g = m.gradient("log det X", "X", "X: n×n")
    assert g.partials[0].step.differential.rule == "d_log_det"
    inv = m.gradient("x^T A^{-1} x", "A", "A: n×n")
    assert "d_inverse" in [s.rule for s in inv.partials[0].step.differential.walk()] and inv.check == "exact"
    s = m.gradient("sum(σ(z))", "z", "z: n")
    entry = [st for st in s.partials[0].step.differential.walk() if st.rule == "d_elementwise"][0]
    assert str(entry.derivations[0].result) == "sigmoid(z)*(1 - sigmoid(z))"  # the scalar engine's σ′


def test_every_format_renders() -> None:
    from symgrad.render.matrix import render

    r = m.backprop_network("cross_entropy(softmax(W2 relu(W1 x + b1) + b2), y)", "W1: m×n, W2: k×m, x: n")
    plain = render(r, "plain")
    assert "δ₁ = ∂L/∂z₁ = (W₂ᵀδ₂) ⊙ H(z₁)" in plain and "∂L/∂W₁ = δ₁xᵀ" in plain
    latex = render(r, "latex")
    assert r"\mathbf{x}^{\top}" in latex and r"\odot" in latex
    assert "$$" in render(m.gradient("x^T A x", "x", "A: n×n"), "markdown")
    assert json.loads(render(m.hessian("x^T A x", "x", "A: n×n"), "json"))["result"] == "A + A.T"


# numbers -------------------------------------------------------------------------------------------
def test_values_at_a_point() -> None:
    assert m.evaluate("x^T A x", "x=[1,2], A=[[1,2],[3,4]]", "A: n×n") == 27.0
    g = m.gradient("x^T A x", "x", "A: n×n", at="x=[1,2], A=[[1,2],[3,4]]")
    assert g["x"].value == [12.0, 21.0]  # (A + Aᵀ)x = [[2, 5], [5, 8]]·(1, 2)
    with pytest.raises(ParseError):
        m.evaluate("x^T A x", "x=[1,2,3], A=[[1,2],[3,4]]", "A: n×n")


EXPORTS = [(t, s, w) for t, s, w, _ in GRADIENTS] + [
    ("cross_entropy(softmax(W2 relu(W1 x + b1) + b2), y)", "W1: m×n, W2: k×m, x: n", "W1,b1,W2,b2"),
    ("‖W2 σ(W1 x + b1) + b2 - y‖²", "W1: m×n, W2: k×m, x: n", "W1,b1,W2,b2")]


@pytest.mark.parametrize("text, shapes, wrt", EXPORTS)
def test_exported_numpy_against_finite_differences(text: str, shapes: str, wrt: str) -> None:
    p = parse(text, shapes)
    names = wrt.split(",")
    ns = load(module_source(p, names, "numpy"))
    result = check_module(ns, p, names)
    assert result.ok, result.worst


def test_generated_code_is_verified() -> None:
    from symgrad.matrix.numeric import verify
    from symgrad.numeric.codegen import UnsafeSource

    source = module_source(parse("x^T A x", "A: n×n"), ["x"])
    verify(source)
    for evil in ("import os\n", "def f(x):\n    return __import__('os')\n", "def f(x):\n    return x.__class__\n",
                 "def g(x):\n    return x\n", "def f(x):\n    y = open('a')\n    return y\n"):
        with pytest.raises(UnsafeSource):
            verify(evil)


def test_compiled_arrays_have_the_variables_shapes() -> None:
    c = m.compile_matrix("‖W x + b - y‖²", "W,b", "W: m×n, x: n")
    point = random_point(c.parsed)
    gW, gb = c.grad_f(*[point[a] for a in c.arguments])
    assert gW.shape == point["W"].shape and gb.shape == point["b"].shape
    assert c.check().ok


def test_against_torch_autograd_fixture() -> None:
    """torch 2.13's gradients, recorded; live as well when torch is installed."""
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for case in data["cases"].values():
        p = parse(case["text"], case["shapes"])
        ns = load(module_source(p, case["wrt"]))
        order = [v.name for v in sorted(p.expr.variables(), key=lambda v: p.order.index(v.name))]
        args = [np.asarray(case["point"][k]) for k in order]
        grads = ns["grad_f"](*args)
        grads = grads if isinstance(grads, tuple) else (grads,)
        assert np.isclose(float(ns["f"](*args)), case["loss"], rtol=1e-12)
        for w, g in zip(case["wrt"], grads):
            assert np.allclose(g, np.asarray(case["grad"][w]), rtol=1e-10, atol=1e-12), (case["text"], w)


def test_against_jax_grad() -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    text, shapes = "cross_entropy(softmax(W2 relu(W1 x + b1) + b2), y)", "W1: m×n, W2: k×m, x: n"
    p = parse(text, shapes)
    ns = load(module_source(p, ["W1", "b1", "W2", "b2"], "jax"))
    point = random_point(p, seed=5)

    def loss(W1: object, b1: object, W2: object, b2: object) -> object:
        z = W2 @ jnp.maximum(W1 @ point["x"] + b1, 0) + b2
        return jax.scipy.special.logsumexp(z) - point["y"] @ z

    want = jax.grad(loss, argnums=(0, 1, 2, 3))(point["W1"], point["b1"], point["W2"], point["b2"])
    got = ns["grad_f"](point["W2"], point["W1"], point["x"], point["b1"], point["b2"], point["y"])
    for a, b in zip(got, want):
        assert np.allclose(np.asarray(a), np.asarray(b), rtol=1e-10)


def test_components_of_softmax_cross_entropy() -> None:
    p = parse("cross_entropy(softmax(z), y)")
    env = Env({"n": 2})
    c = components(p.expr, env)[0, 0]
    z1, z2 = sp.Symbol("z[1]", real=True), sp.Symbol("z[2]", real=True)
    y1, y2 = sp.Symbol("y[1]", real=True), sp.Symbol("y[2]", real=True)
    assert sp.simplify(c - (sp.log(sp.exp(z1) + sp.exp(z2)) - y1 * z1 - y2 * z2)) == 0

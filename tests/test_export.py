"""`symgrad export` and `symgrad.compile`: modules import, agree with SymPy, pass --check, broadcast.

Oracle: SymPy's own derivatives evaluated at high precision (evalf), independent of the printers.
"""

from __future__ import annotations

import ast
import importlib.util
import random
import sys
from pathlib import Path

import pytest
import sympy as sp

import symgrad
from symgrad.numeric.codegen import module_source
from symgrad.numeric.export import check_module, export_source

np = pytest.importorskip("numpy")

CASES = [
    "(1-x)^2 + 100(y-x^2)^2",
    "x cos(πx)",
    "sigmoid(w x + b) + softplus(w) + relu(b) + tanh(x)",
    "ln(1 + x^2) + sqrt(y^2 + 1) + e^(-x y)",
    "x^2 + 3y",  # a constant entry in the gradient, constants in the Hessian
    "|x| + max(x, y) + sin^2 y",
]


def load_module(tmp_path: Path, source: str, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sympy_values(expr: sp.Expr, variables, point):
    # symgrad.parse answers in plain symbols; symgrad's variables are real (|x|′ = sign(x))
    real = {v: sp.Symbol(v.name, real=True) for v in variables}
    expr, variables = expr.xreplace(real), [real[v] for v in variables]
    at = dict(zip(variables, [sp.Float(p, 30) for p in point]))
    grad = [float(sp.diff(expr, v).subs(at).evalf(30)) for v in variables]
    hess = [[float(sp.diff(expr, u, v).subs(at).evalf(30)) for v in variables] for u in variables]
    return float(expr.subs(at).evalf(30)), grad, hess


def points(n: int, count: int = 4, seed: int = 3):
    rng = random.Random(seed)
    return [[rng.uniform(-1.8, 1.8) for _ in range(n)] for _ in range(count)]


@pytest.mark.parametrize("backend", ["numpy", "math"])
@pytest.mark.parametrize("text", CASES)
def test_exported_module_agrees_with_sympy(tmp_path: Path, backend: str, text: str) -> None:
    expr = symgrad.parse(text)
    variables = symgrad.variables(expr)
    module = load_module(tmp_path, export_source(expr, variables, backend), f"m_{backend}")
    for p in points(len(variables)):
        value, grad, hess = sympy_values(expr, variables, p)
        assert float(module.f(*p)) == pytest.approx(value, rel=1e-12, abs=1e-12)
        assert np.asarray(module.grad_f(*p), dtype=float).tolist() == pytest.approx(grad, rel=1e-11, abs=1e-12)
        got = np.asarray(module.hessian_f(*p), dtype=float)
        assert got.tolist() == [pytest.approx(row, rel=1e-10, abs=1e-10) for row in hess]
    assert check_module(export_source(expr, variables, backend), expr, variables, backend).ok


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_jax_and_torch_modules(tmp_path: Path, backend: str) -> None:
    lib = pytest.importorskip(backend)
    for text in CASES:
        expr = symgrad.parse(text)
        variables = symgrad.variables(expr)
        source = export_source(expr, variables, backend)
        report = check_module(source, expr, variables, backend)
        assert report.ok, (text, report.summary())
    if backend == "torch":  # the exported gradient equals autograd's
        module = load_module(tmp_path, export_source(symgrad.parse(CASES[2]), symgrad.variables(CASES[2]), "torch"), "mt")
        args = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in (0.3, -0.7, 1.1)]
        module.f(*args).backward()
        assert [a.grad.item() for a in args] == pytest.approx(module.grad_f(*args).tolist(), rel=1e-12)


def test_numpy_broadcasting_with_constant_entries() -> None:
    c = symgrad.compile("x^2 + 3y")
    xs = np.linspace(-1, 1, 12).reshape(3, 4)
    g = c.grad(xs, 2.0)
    assert g.shape == (2, 3, 4)
    assert np.array_equal(g[0], 2 * xs)
    assert np.array_equal(g[1], np.full((3, 4), 3.0))
    h = c.hessian(xs, np.zeros(4))
    assert h.shape == (2, 2, 3, 4)
    assert np.array_equal(h[0, 0], np.full((3, 4), 2.0)) and not h[1].any()
    assert c.f(xs, np.ones((3, 1))).shape == (3, 4)
    # an entry using only one variable still gets the common shape
    d = symgrad.compile("x^2 + y^3")
    assert d.grad(np.arange(5.0), 1.0).shape == (2, 5)
    assert d.grad(np.arange(5.0), 1.0)[1].tolist() == [3.0] * 5


def test_one_point_matches_many_points() -> None:
    c = symgrad.compile("(1-x)^2 + 100(y-x^2)^2")
    xs, ys = np.array([-1.5, 0.0, 0.7]), np.array([2.0, 0.5, -0.3])
    together = c.grad(xs, ys)
    for k in range(3):
        assert together[:, k].tolist() == c.grad(xs[k], ys[k]).tolist()


def test_keyword_and_builtin_names_are_renamed(tmp_path: Path) -> None:
    expr = symgrad.parse("lambda^2 + if print + sum_x")
    variables = symgrad.variables(expr)
    source = export_source(expr, variables, "numpy")
    module = load_module(tmp_path, source, "kw")
    assert "def f(if_, lambda_, print_, sum_x)" in source
    assert module.grad_f(1.0, 2.0, 3.0, 4.0).tolist() == [3.0, 4.0, 1.0, 1.0]
    c = symgrad.compile("lambda^2 + if print", backend="math")
    assert c.grad(1.0, 2.0, 3.0) == [3.0, 4.0, 1.0]


@pytest.mark.parametrize("backend", ["numpy", "math", "jax", "torch"])
def test_modules_hold_nothing_but_the_math(backend: str) -> None:
    expr = symgrad.parse("x cos(πx) + σ(y)")
    tree = ast.parse(export_source(expr, symgrad.variables(expr), backend))
    body = tree.body
    assert isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)  # the docstring
    imports = [n for n in body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert {a.name for n in imports for a in n.names} <= {"numpy", "math", "jax", "jax.numpy", "torch"}
    funcs = [n for n in body if isinstance(n, ast.FunctionDef)]
    assert [f.name for f in funcs] == ["f", "grad_f", "hessian_f"]
    assert len(body) == 1 + len(imports) + len(funcs)
    for f in funcs:
        assert ast.get_docstring(f)
        calls = {n.func.id for n in ast.walk(f) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert calls <= {"max", "min", "abs", "float"}


def test_docstrings_show_the_math() -> None:
    x = sp.Symbol("x", real=True)
    source = module_source(x * sp.cos(sp.pi * x), [x], "numpy")
    assert "f(x) = x·cos(π·x)" in source
    assert "∂f/∂x = -π·x·sin(π·x) + cos(π·x)" in source


def test_check_can_fail() -> None:
    expr = symgrad.parse("x^3 + y^2")
    variables = symgrad.variables(expr)
    good = export_source(expr, variables, "numpy")
    assert "3*x**2" in good
    bad = good.replace("3*x**2", "3.001*x**2")
    report = check_module(bad, expr, variables, "numpy")
    assert not report.ok and "FAILED" in report.summary()


def test_abstract_functions_cannot_be_compiled() -> None:
    from symgrad.errors import Unsupported

    with pytest.raises(Unsupported, match="abstract function"):
        symgrad.compile("f(x) + x")


# the command ----------------------------------------------------------------------------------
def test_cli_export_to_file_with_check(cli, tmp_path: Path) -> None:
    out = tmp_path / "rosen.py"
    res = cli("export", "(1-x)^2 + 100(y-x^2)^2", "--backend", "numpy", "--output", str(out), "--check")
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "check passed" in res.stdout
    module = load_module(tmp_path, out.read_text(), "rosen_cli")
    assert module.grad_f(1.0, 1.0).tolist() == [0.0, 0.0]


def test_cli_export_json(cli) -> None:
    res = cli("export", "θ1^2 + θ2^2", "--backend", "math", "--what", "value,grad", "--check", "--format", "json")
    assert res.exit_code == 0, res.stdout
    data = res.json()
    assert data["command"] == "export" and data["backend"] == "math"
    assert data["variables"] == ["theta1", "theta2"]
    assert data["functions"] == ["f", "grad_f"]
    assert data["check"]["ok"] is True
    assert "def grad_f(theta1, theta2)" in data["source"] and "hessian_f" not in data["source"]


def test_cli_export_to_stdout_runs_in_a_fresh_interpreter(cli, tmp_path: Path) -> None:
    import subprocess

    res = cli("export", "x cos(πx)", "--backend", "math")
    assert res.exit_code == 0
    (tmp_path / "xcos.py").write_text(res.stdout)
    proc = subprocess.run([sys.executable, "-I", "-c", "import sys; sys.path.insert(0, '.'); import xcos; print(xcos.grad_f(1.0)[0])"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) == pytest.approx(-1.0, rel=1e-12)  # cos(π) − π·sin(π)


def test_cli_export_bad_backend(cli) -> None:
    res = cli("export", "x^2", "--backend", "fortran")
    assert res.exit_code == 2
    assert "unknown backend" in res.stderr

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
        module = load_module(tmp_path, export_source(symgrad.parse(CASES[2]), symgrad.variables(CASES[2]), "torch"),
                             "mt")
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
    proc = subprocess.run([sys.executable, "-I", "-c",
                           "import sys; sys.path.insert(0, '.'); import xcos; print(xcos.grad_f(1.0)[0])"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) == pytest.approx(-1.0, rel=1e-12)  # cos(π) − π·sin(π)


def test_cli_export_bad_backend(cli) -> None:
    res = cli("export", "x^2", "--backend", "fortran")
    assert res.exit_code == 2
    assert "unknown backend" in res.stderr


# types: lists work, float32 stays float32, no complex numbers -----------------------------------
def test_numpy_takes_lists_and_keeps_float32() -> None:
    c = symgrad.compile("x^2 y + sin(y)")
    g = c.grad([1.0, 2.0], [0.5, -0.5])
    assert g.shape == (2, 2) and g.dtype == np.float64
    assert g[0].tolist() == pytest.approx([1.0, -2.0])
    xs, ys = np.array([1.0, 2.0], dtype=np.float32), np.array([0.5, -0.5], dtype=np.float32)
    for out in (c.f(xs, ys), c.grad(xs, ys), c.hessian(xs, ys), *c.value_and_grad(xs, ys)):
        assert out.dtype == np.float32
    assert c.grad(np.arange(3), 1).dtype == np.float64  # integers become floats
    const = symgrad.compile("x^2 + 3y")
    assert const.hessian(xs, ys).dtype == np.float32 and const.f(np.float32(1), np.float32(2)).dtype == np.float32


def test_fractional_powers_of_negative_numbers_are_not_complex() -> None:
    """x^1.5 of a negative Python float is a complex number in Python: never returned as a value."""
    c = symgrad.compile("(x - 1)^(3/2) + x", backend="numpy")
    with np.errstate(invalid="ignore"):
        assert np.isnan(c.f(0.0)) and np.isnan(c.grad(0.0)).all()
        assert not np.iscomplexobj(c.hessian(0.0))
    m = symgrad.compile("(x - 1)^(3/2) + x", backend="math")
    with pytest.raises(ValueError):
        m.f(0.0)
    assert m.f(5.0) == pytest.approx(8 + 5)


def test_torch_follows_the_input_dtype() -> None:
    torch = pytest.importorskip("torch")
    c = symgrad.compile("x^2 y + relu(x)", backend="torch")
    assert c.f(0.1, 0.3).dtype == torch.float64  # Python numbers: float64, not torch's float32 default
    assert c.grad(0.1, 0.3).dtype == torch.float64 and c.grad([0.1, 0.2], 0.3).shape == (2, 2)
    t32 = torch.tensor([0.1, 0.2], dtype=torch.float32)
    assert c.grad(t32, t32).dtype == torch.float32 and c.hessian(t32, t32).dtype == torch.float32
    assert c.grad(torch.tensor(0.5, dtype=torch.float64), 2.0).tolist() == pytest.approx([2.0 + 1.0, 0.25])


def test_jax_takes_lists() -> None:
    pytest.importorskip("jax")
    c = symgrad.compile("x^2 y + softplus(x)", backend="jax")
    assert c.grad([0.1, 0.2], [0.3, 0.4]).shape == (2, 2)


# a missing library: what to install, one line ---------------------------------------------------
@pytest.mark.parametrize(("backend", "library", "install"),
                         [("torch", "PyTorch", "pip install torch"), ("jax", "JAX", "pip install jax jaxlib"),
                          ("numpy", "NumPy", "pip install numpy")])
def test_missing_backend_library(cli, monkeypatch, backend: str, library: str, install: str) -> None:
    from symgrad.numeric.codegen import BackendMissing

    monkeypatch.setitem(sys.modules, backend, None)  # import torch now raises ModuleNotFoundError
    res = cli("export", "x^2", "--backend", backend, "--check")
    assert res.exit_code == 1
    assert res.stderr.splitlines() == [f"error: the {backend} backend needs {library}, which is not installed",
                                       f"hint: {install}"]
    with pytest.raises(ImportError, match=f"the {backend} backend needs {library}") as info:
        symgrad.compile("x^2", backend=backend)
    assert isinstance(info.value, BackendMissing)
    res = cli("export", "x^2", "--backend", backend)  # writing the module needs no library
    assert res.exit_code == 0 and "def grad_f(x):" in res.stdout
    res = cli("export", "x^2", "--backend", backend, "--check", "--format", "json")
    assert res.exit_code == 1 and res.json()["error"]["suggestion"] == install


def test_plot_without_matplotlib(cli, monkeypatch, tmp_path: Path) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if never installed, even if imported already
    res = cli("descend", "x^2", "--start", "x=1", "--steps", "2", "--plot", str(tmp_path / "p.png"))
    assert res.exit_code == 1
    assert "--plot needs matplotlib" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "p.png").exists()


# the exported text ------------------------------------------------------------------------------
LINT_CASES = [*CASES, "erf(x) + sum(sin(i x), i, 1, 30)", "cross_entropy(softmax(a, b, c), (1, 0, 0))",
              "lambda^2 + l + I", "max(x, y, 2) + |x| + Heaviside(x)",
              "sigmoid(tanh(x^3 + sin(2x) + y z^2 + exp(-x y z) + sqrt(1 + x^2 + y^2 + z^2)))"]


@pytest.mark.parametrize("backend", ["numpy", "math", "jax", "torch"])
def test_exported_modules_are_lint_clean(tmp_path: Path, backend: str) -> None:
    """pyflakes and pycodestyle (through ruff) at PEP 8's 79 columns: no unused import, no long line."""
    import shutil
    import subprocess

    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    files = []
    for k, text in enumerate(LINT_CASES):
        expr = symgrad.parse(text)
        path = tmp_path / f"m{k}.py"
        path.write_text(export_source(expr, symgrad.variables(expr), backend), encoding="utf-8")
        files.append(str(path))
    proc = subprocess.run([ruff, "check", "--isolated", "--no-cache", "--select", "E,W,F,B", "--line-length", "79",
                           "--output-format", "concise", *files], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_imports_are_the_ones_the_code_uses() -> None:
    x, y = sp.symbols("x y", real=True)
    assert "import math" not in export_source(x**2 + y, [x, y], "math")
    assert "import math\n" in export_source(sp.exp(x), [x], "math")
    jax_source = export_source(x**2, [x], "jax")
    assert "import jax.numpy as jnp" in jax_source and "import jax\n" not in jax_source
    assert "import jax\n" in export_source(symgrad.parse("sigmoid(x)"), [x], "jax")
    assert "import math\n" in export_source(symgrad.parse("erf(x)"), [x], "numpy")


def test_huge_and_undefined_constants_are_refused_clearly(cli) -> None:
    res = cli("export", "x + 3^20000", "--backend", "math")
    assert res.exit_code == 1
    assert res.stderr.splitlines()[0] == ("error: the constant 2.66e9542 is beyond float64's range (about 1.8·10^308), "
                                          "and the generated code computes in floating point")
    res = cli("export", "x + 1e400", "--backend", "numpy")
    assert res.exit_code == 1 and "beyond float64's range" in res.stderr
    res = cli("export", "sum(sin(i w), i, 1, 10^7)", "--backend", "numpy")
    assert res.exit_code == 1 and "10,000,000 terms" in res.stderr
    res = cli("export", "sum(i w, i, 1, 10^9)", "--backend", "math")  # a closed form: no loop
    assert res.exit_code == 0 and "500000000500000000*w" in res.stdout
    res = cli("export", "sum(x_i w, i, 1, 3)")
    assert res.exit_code == 1 and "sums over data" in res.stderr


def test_output_dash_is_standard_output(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = cli("export", "x^2", "--backend", "math", "--output", "-")
    assert res.exit_code == 0 and res.stdout.startswith('"""f(x) = x²')
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("fn", ["sigmoid", "softplus", "sign", "Heaviside"])
def test_nested_functions_grow_linearly(fn: str) -> None:
    """math prints σ(u) with u four times: nested, u gets a temporary, or 20 levels would be 4^20."""
    text = "x"
    for _ in range(20):
        text = f"{fn}({text} + 0.1)"
    expr = symgrad.parse(text)
    source = export_source(expr, [sp.Symbol("x", real=True)], "math")
    assert len(source) < 40_000
    ns = {}
    exec(compile(source, "<nested>", "exec"), ns)
    assert ns["f"](0.3) == pytest.approx(float(expr.subs(symgrad.variables(expr)[0], 0.3)), rel=1e-12)


def test_sums_from_the_api_follow_sympy() -> None:
    """Finite sums: a loop (index names generated), a closed form for polynomials, Karr's convention
    for reversed bounds, as SymPy means them."""
    i, w = sp.Symbol("i", integer=True), sp.Symbol("w", real=True)
    for e in (sp.Sum(sp.sin(i * w), (i, 5, 3)), sp.Sum(sp.sin(i * w), (i, 5, 4)), sp.Sum(i * w**2, (i, 7, 2)),
              sp.Sum(sp.cos(i * w) / i, (i, 1, 30))):
        for backend in ("math", "numpy"):
            c = symgrad.compile(e, [w], backend=backend)
            assert float(c.f(0.7)) == pytest.approx(float(e.doit().subs(w, 0.7)), rel=1e-12, abs=1e-15)
            assert float(np.ravel(c.grad(0.7))[0]) == pytest.approx(float(sp.diff(e, w).doit().subs(w, 0.7)),
                                                                   rel=1e-12, abs=1e-15)

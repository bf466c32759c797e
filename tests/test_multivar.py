"""Hessians, Jacobians and mixed partials, checked against sympy.hessian / Matrix.jacobian / sympy.diff,
hand-computed values and mpmath."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from conftest import R, x, y, z
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.multivar.hessian import classify, definiteness, hessian, numeric_hessian, partial, sparse_gradient, symmetric_eigenvalues
from symgrad.multivar.jacobian import jacobian
from symgrad.multivar.mixed import mixed_partial
from symgrad.parsing import parse


def rosenbrock_text(n: int) -> str:
    return " + ".join(f"100(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(1, n))


def same(a: sp.Basic, b: sp.Basic) -> bool:
    return sp.simplify(sp.expand(a - b)) == 0


# partial and the sparse gradient -----------------------------------------------------------------
PARTIAL_CASES = [
    x**2 * y, 100 * (y - x**2) ** 2 + (1 - x) ** 2, sp.sin(x * y) * sp.exp(x), sp.log(x**2 + y**2),
    sp.sqrt(x * y + 1), x**y, sp.Abs(x - y), sp.atan(y / x), (x + y) ** -3, sp.Max(x, y) * z,
    sp.Function("f", real=True)(x * y), sp.tanh(x) * sp.cos(y) / (1 + x**2),
]


@pytest.mark.parametrize("expr", PARTIAL_CASES, ids=str)
def test_partial_matches_sympy_diff(expr: sp.Expr) -> None:
    for v in (x, y, z):
        assert same(partial(expr, v), sp.diff(expr, v)), v


def test_sparse_gradient_matches_sympy() -> None:
    e = parse(rosenbrock_text(6))
    variables = sorted(e.free_symbols, key=lambda s: int(s.name[1:]))
    assert sparse_gradient(e, variables) == [sp.diff(e, v) for v in variables]


# Hessian -----------------------------------------------------------------------------------------
def test_rosenbrock_hessian_at_one_one() -> None:
    h = hessian("100(y - x^2)^2 + (1 - x)^2")
    assert h.matrix == ((1200 * x**2 - 400 * y + 2, -400 * x), (-400 * x, sp.Integer(200)))
    r = numeric_hessian(h, "x=1, y=1")
    assert r.values == ((802.0, -400.0), (-400.0, 200.0))
    exact = sorted(float(v) for v in sp.Matrix([[802, -400], [-400, 200]]).eigenvals())
    assert r.eigenvalues == pytest.approx(exact, rel=1e-14)
    assert r.definiteness == "positive definite"


@pytest.mark.parametrize("n", [2, 3, 6])
def test_rosenbrock_hessian_equals_sympy_hessian(n: int) -> None:
    e = parse(rosenbrock_text(n))
    h = hessian(e)
    assert h.to_matrix() == sp.hessian(e, h.variables)


def test_rosenbrock_200_by_the_textbook_formula() -> None:
    n = 200
    h = hessian(rosenbrock_text(n))
    xs = h.variables
    assert [v.name for v in xs] == [f"x{i}" for i in range(1, n + 1)]
    m = h.matrix
    for i in range(n):
        diag = sp.Integer(0)
        if i < n - 1:  # from 100(x_{i+1} - x_i²)² + (1 - x_i)²
            diag += 1200 * xs[i] ** 2 - 400 * xs[i + 1] + 2
        if i > 0:  # from 100(x_i - x_{i-1}²)²
            diag += 200
        assert sp.expand(m[i][i] - diag) == 0, i
        if i < n - 1:
            assert m[i][i + 1] == m[i + 1][i] == -400 * xs[i]
    assert len(h.entries) == 2 * n - 1  # the diagonal and one band above it
    assert h.zero_count == n * n - (3 * n - 2)


def test_mixed_partials_are_derived_once() -> None:
    h = hessian("x^2 y^3 + sin(z) x")
    pairs = [(e.row, e.col) for e in h.entries]
    assert all(r <= c for r, c in pairs)
    assert len(pairs) == len(set(pairs))
    assert h.to_matrix() == sp.hessian(x**2 * y**3 + sp.sin(z) * x, (x, y, z))


polys = st.lists(
    st.tuples(st.integers(-5, 5), st.integers(0, 3), st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=5
)


@settings(max_examples=25, deadline=None)
@given(polys)
def test_hessian_of_random_polynomials(terms: list[tuple[int, int, int, int]]) -> None:
    e = sp.Add(*[c * x**i * y**j * z**k for c, i, j, k in terms])
    h = hessian(e, [x, y, z])
    assert (h.to_matrix() - sp.hessian(e, (x, y, z))).applyfunc(sp.expand) == sp.zeros(3, 3)


def test_hessian_eigenvalues_against_mpmath_at_a_point() -> None:
    e = parse("x^2 y + y^3 - 3 x y + z^2 x")
    h = hessian(e)
    point = {x: sp.Rational(1, 2), y: sp.Integer(-1), z: sp.Integer(2)}
    r = numeric_hessian(h, point)
    exact = sp.hessian(e, (x, y, z)).subs(point)
    assert [list(row) for row in r.values] == [[float(exact[i, j]) for j in range(3)] for i in range(3)]
    m = mpmath.matrix([[float(exact[i, j]) for j in range(3)] for i in range(3)])
    expected = sorted(float(v) for v in mpmath.eigsy(m)[0])
    assert r.eigenvalues == pytest.approx(expected, rel=1e-12)


def test_definiteness_and_kinds() -> None:
    assert definiteness([0.0, 0.0]) == "zero"
    assert definiteness([-1.0, 0.0]) == "negative semidefinite"
    assert classify([0.0, 1.0]) == "inconclusive"
    assert classify([-1.0, 0.0, 1.0]) == "saddle"  # indefinite decides even when singular
    assert symmetric_eigenvalues([[1, 1], [1, 1]]) == (0.0, 2.0)


def test_hessian_undefined_at_a_point() -> None:
    r = numeric_hessian(hessian("x^2 ln(y)"), "x=1, y=0")
    assert r.eigenvalues is None and r.definiteness is None
    assert "undefined" in (r.note or "")


# Jacobian and mixed partials -------------------------------------------------------------------------
def test_jacobian_matches_sympy() -> None:
    j = jacobian("x^2 y, sin(x) + y, x y z")
    exprs = sp.Matrix([x**2 * y, sp.sin(x) + y, x * y * z])
    assert j.to_matrix() == exprs.jacobian([x, y, z])


def test_jacobian_polar() -> None:
    r, t = R("r"), R("t")
    j = jacobian("r cos(t), r sin(t)", wrt="r,t")
    assert sp.simplify(j.to_matrix().det()) == r
    assert j.variables == (r, t)


def test_mixed_partial_order_and_value() -> None:
    f = x**3 * sp.exp(x * y)
    m = mixed_partial(f, "x,y")
    assert [s.wrt for s in m.stages] == [y, x]  # ∂²f/∂x∂y = ∂/∂x(∂f/∂y): y first
    assert same(m.stages[0].result, sp.diff(f, y))
    assert same(m.result, sp.diff(f, y, x))
    assert m.label_plain == "∂²f/∂x∂y"
    third = mixed_partial(f, ["x", "x", "y"])
    assert same(third.result, sp.diff(f, y, x, 2))


def test_mixed_partial_value_by_finite_differences() -> None:
    m = mixed_partial("sin(x y^2) + x^3 y", "x,y")
    f = lambda a, b: mpmath.sin(a * b**2) + a**3 * b  # noqa: E731
    with mpmath.workdps(30):
        fd = mpmath.diff(f, (0.7, -0.4), (1, 1))
    assert float(m.result.subs({x: 0.7, y: -0.4})) == pytest.approx(float(fd), rel=1e-10)


# CLI -----------------------------------------------------------------------------------------------
def test_hessian_cli_json(cli) -> None:
    res = cli("hessian", "100(y - x^2)^2 + (1 - x)^2", "--at", "x=1,y=1", "--format", "json")
    assert res.exit_code == 0, res.stdout
    data = res.json()
    assert data["command"] == "hessian"
    assert data["variables"] == ["x", "y"]
    assert [[parse(c) for c in row] for row in data["hessian"]] == [[1200 * x**2 - 400 * y + 2, -400 * x], [-400 * x, 200]]
    assert data["value"] == [[802.0, -400.0], [-400.0, 200.0]]
    assert data["definiteness"] == "positive definite"
    assert len(data["eigenvalues"]) == 2 and all(v > 0 for v in data["eigenvalues"])
    assert len(data["latex"]) == 2 and len(data["latex"][0]) == 2


def test_hessian_cli_plain_states_symmetry(cli) -> None:
    res = cli("hessian", "x^2 y^3", "--format", "plain", "--no-steps")
    assert res.exit_code == 0
    assert "∂²f/∂x∂y = ∂²f/∂y∂x = 6·x·y²" in res.stdout
    assert "symmetry" in res.stdout
    assert "H(x, y) = [" in res.stdout


@pytest.mark.parametrize("text,note", [
    ("x^2 + x y + y", "1 of the 4 entries is zero: that second partial involves"),
    ("x^2 + y", "3 of the 4 entries are zero: those second partials involve"),
])
def test_hessian_zero_note_agrees_in_number(cli, text: str, note: str) -> None:
    # the count is checked against SymPy's Hessian, the wording against the count
    zeros = sum(1 for e in sp.hessian(parse(text), (x, y)) if e == 0)
    assert note.startswith(f"{zeros} of the 4")
    assert note in cli("hessian", text, "--format", "plain", "--no-steps").stdout


@pytest.mark.parametrize("fmt", ["plain", "latex", "markdown", "rich"])
def test_hessian_every_format(cli, fmt: str) -> None:
    res = cli("hessian", "x^2 y + y^3", "--at", "x=1,y=2", "--format", fmt)
    assert res.exit_code == 0, res.stdout + res.stderr
    assert res.stdout.strip()


def test_hessian_cli_bad_input(cli) -> None:
    res = cli("hessian", "x^2 +", "--format", "plain")
    assert res.exit_code == 2
    assert "^" in res.stderr


def test_jacobian_cli_json(cli) -> None:
    res = cli("jacobian", "x^2 y, sin(x) + y", "--at", "x=0,y=1", "--format", "json")
    assert res.exit_code == 0, res.stdout
    data = res.json()
    assert data["command"] == "jacobian"
    assert [[parse(c) for c in row] for row in data["jacobian"]] == [[2 * x * y, x**2], [sp.cos(x), 1]]
    assert data["value"] == [[0.0, 0.0], [1.0, 1.0]]
    assert data["expression"] == ["x**2*y", "y + sin(x)"]


@pytest.mark.parametrize("fmt", ["plain", "latex", "markdown", "rich"])
def test_jacobian_every_format(cli, fmt: str) -> None:
    res = cli("jacobian", "r cos(t), r sin(t)", "--format", fmt)
    assert res.exit_code == 0, res.stdout + res.stderr


def test_commands_have_help_with_examples(cli) -> None:
    for command in ("hessian", "jacobian", "softmax", "critical"):
        res = cli(command, "--help")
        assert res.exit_code == 0
        assert "Examples:" in res.stdout, command

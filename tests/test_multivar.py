"""Hessians, Jacobians and mixed partials, checked against sympy.hessian / Matrix.jacobian / sympy.diff,
hand-computed values and mpmath."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from conftest import R, x, y, z
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.multivar.hessian import (
    classify,
    definiteness,
    hessian,
    numeric_hessian,
    partial,
    sparse_gradient,
    symmetric_eigenvalues,
)
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
    assert [[parse(c) for c in row] for row in data["hessian"]] == [[1200 * x**2 - 400 * y + 2, -400 * x], [-400 * x,
                                                                                                            200]]
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


# definiteness decided exactly, or numerically with a stated tolerance ------------------------------------
def _signs_by_sympy(matrix: sp.Matrix) -> tuple[int, int, int]:
    """(negative, zero, positive) eigenvalues from SymPy's exact eigenvalues (the oracle)."""
    counts = [0, 0, 0]
    for value, multiplicity in matrix.eigenvals().items():
        value = sp.nsimplify(value) if value.is_Float else value
        sign = 0 if value == 0 else (1 if sp.N(value, 200) > 0 else -1)
        counts[sign + 1] += multiplicity
    return counts[0], counts[1], counts[2]


@pytest.mark.parametrize(("text", "point", "expected"), [
    ("x^2 - 1e-50 y^2", "x=1, y=1", "indefinite"),  # the issue: an eigenvalue of −2·10⁻⁵⁰ is not zero
    ("x^2 + 1e-300 y^2", "x=1, y=1", "positive definite"),
    ("x^2 + 2 x y + y^2", "x=1, y=1", "positive semidefinite"),  # exactly singular, proved
    ("-(x + y)^2 - 1e-40 z^2", "x=1, y=1, z=1", "negative semidefinite"),
    ("-(x + y)^2 - 1e-40 (x - y)^2 - z^2", "x=1, y=1, z=1", "negative definite"),
    ("x^4 + y^4", "x=0, y=0", "zero"),
    ("sqrt(2) x^2 + 2 x y + sqrt(2) y^2", "x=1, y=1", "positive definite"),  # algebraic entries: ℚ(√2)
    ("x^2 + 2 sqrt(2) x y + 2 y^2", "x=1, y=1", "positive semidefinite"),  # det = 2·2 − (2√2)² = 0 exactly
    ("pi x^2 + 2 x y + y^2/pi", "x=1, y=1", "positive semidefinite"),  # ℤ[π]: zero means zero
])
def test_definiteness_is_exact(text: str, point: str, expected: str) -> None:
    r = numeric_hessian(hessian(text), point)
    assert r.definiteness == expected
    assert r.method == "exact" and "exactly" in (r.how or "")
    e = parse(text)
    variables = sorted(e.free_symbols, key=str)
    at = {v: sp.Rational(s.split("=")[1]) for v, s in zip(variables, point.split(","))}
    oracle = _signs_by_sympy(sp.hessian(e, variables).subs(at))
    assert definiteness([-1.0] * oracle[0] + [0.0] * oracle[1] + [1.0] * oracle[2]) == expected


def test_eigenvalues_keep_a_tiny_nonzero_one() -> None:
    r = numeric_hessian(hessian("x^2 - 1e-50 y^2"), "x=1, y=1")
    assert r.eigenvalues == (pytest.approx(-2e-50, rel=1e-14), 2.0)


def test_tiny_eigenvalue_beside_large_entries() -> None:
    """[[1, 1], [1, 1 + 10⁻⁴⁰]]: eigenvalues 2 and about 5·10⁻⁴¹, which 40-digit arithmetic called 0."""
    r = numeric_hessian(hessian("x^2/2 + x y + (1 + 1e-40) y^2 / 2"), "x=1, y=1")
    assert r.definiteness == "positive definite" and r.method == "exact"
    assert r.eigenvalues[0] == pytest.approx(5e-41, rel=1e-10)


def test_transcendental_entries_are_certified_or_exact() -> None:
    r = numeric_hessian(hessian("sin(x) y^2"), "x=1, y=1")  # [[−sin 1, 2 cos 1], [2 cos 1, 2 sin 1]]
    exact = sp.Matrix([[-sp.sin(1), 2 * sp.cos(1)], [2 * sp.cos(1), 2 * sp.sin(1)]])
    assert r.definiteness == "indefinite" == definiteness([float(v) for v in exact.eigenvals(multiple=True)])


def test_numeric_zero_is_said_with_its_tolerance() -> None:
    """sin²1 + cos²1 − 1 is 0, which no exact domain SymPy builds can see: decided numerically,
    and the output says so, with the bound."""
    from symgrad.multivar.hessian import spectrum

    one = sp.sin(1) ** 2 + sp.cos(1) ** 2
    spec = spectrum([[one, 1], [1, 1]])
    assert spec is not None and spec.definiteness == "positive semidefinite"
    assert spec.method == "numeric" and "counted as zero" in spec.how and spec.tolerance is not None
    assert spec.tolerance < 1e-300


def test_hessian_json_says_how(cli) -> None:
    data = cli("hessian", "x^2 - 1e-50 y^2", "--at", "x=1,y=1", "--format", "json").json()
    assert data["definiteness"] == "indefinite" and data["definiteness_method"] == "exact"
    assert "characteristic polynomial" in data["definiteness_how"]
    out = cli("hessian", "x^2 - 1e-50 y^2", "--at", "x=1,y=1", "--format", "plain", "--no-steps").stdout
    assert "H is indefinite at x=1, y=1 (decided exactly" in out


# jumps, kinks and unknown functions -----------------------------------------------------------------------
@pytest.mark.parametrize(("text", "point", "value", "kind"), [
    ("|x|", "x=1", [[0.0]], "zero"),
    ("|x|", "x=-2", [[0.0]], "zero"),
    ("x |y|", "x=1, y=1", [[0.0, 1.0], [1.0, 0.0]], "indefinite"),
    ("sign(x) x^2", "x=1", [[2.0]], "positive definite"),
    ("sign(x) x^2", "x=-1", [[-2.0]], "negative definite"),
    ("relu(x) y", "x=1, y=3", [[0.0, 1.0], [1.0, 0.0]], "indefinite"),
])
def test_hessian_of_jumps_away_from_them(cli, text: str, point: str, value: list, kind: str) -> None:
    res = cli("hessian", text, "--at", point.replace(" ", ""), "--format", "json")
    assert res.exit_code == 0, res.stdout
    data = res.json()
    assert data["value"] == value and data["definiteness"] == kind
    assert data["jumps"]
    # against SymPy's own second derivatives (δ terms are 0 away from the jump)
    e = parse(text)
    variables = sorted(e.free_symbols, key=str)
    at = {v: sp.Integer(s.split("=")[1]) for v, s in zip(variables, point.split(","))}
    oracle = sp.hessian(e, variables).subs(at).replace(sp.DiracDelta, lambda *a: 0)
    assert [[float(c) for c in row] for row in oracle.tolist()] == value


def test_hessian_of_a_jump_does_not_exist_on_it(cli) -> None:
    data = cli("hessian", "|x| + y^2", "--at", "x=0,y=1", "--format", "json").json()
    assert data["definiteness"] is None and data["eigenvalues"] is None
    assert "not evaluated at x=0, y=1" in data["note"] and "may not exist" in data["note"]
    plain = cli("hessian", "|x|", "--format", "plain", "--no-steps").stdout
    assert "∂(sign" not in plain and "x ≠ 0" in plain
    assert "∂²f/∂x² = 0" in plain


def test_hessian_of_an_unknown_function_has_no_value(cli) -> None:
    res = cli("hessian", "f(x)", "--at", "x=1", "--format", "json")
    assert res.exit_code == 0, res.stdout
    data = res.json()
    assert data["value"] == [[None]] and "unknown function f" in data["note"]


def test_partial_of_functions_with_their_own_derivative() -> None:
    for expr in (sp.sign(x), sp.Abs(x), sp.Heaviside(x - 1), sp.sign(x) * x**2):
        assert partial(expr, x) == sp.diff(expr, x)
        assert not partial(expr, x).has(sp.Derivative)


def test_jacobian_notes_name_the_point(cli) -> None:
    # sqrt(-1) x itself is refused (a function real nowhere); sqrt(x - 3) is not real at x = 1
    data = cli("jacobian", "sqrt(x - 3) y, y", "--at", "x=1,y=1", "--format", "json").json()
    assert data["value"][0][0] is None
    assert "not real at x=1, y=1" in data["note"]
    data = cli("hessian", "sqrt(x - 3) y^2 + y^2", "--at", "x=1,y=1", "--format", "json").json()
    assert "not real at x=1, y=1" in data["note"]


def test_jacobian_of_a_jump(cli) -> None:
    data = cli("jacobian", "|x|, sign(y)", "--at", "x=1,y=0", "--format", "json").json()
    assert data["value"] == [[1.0, 0.0], [0.0, None]]
    assert "where y = 0" in data["note"] and data["jumps"] == ["y"]
    data = cli("jacobian", "|x|, sign(y)", "--at", "x=1,y=2", "--format", "json").json()
    assert data["value"] == [[1.0, 0.0], [0.0, 0.0]]


def test_the_sparsity_note_counts_only_entries_zero_by_sparsity(cli) -> None:
    """|x|″ = 0 away from 0 is not zero because ∂f/∂x lacks x: the note must not say so."""
    res = cli("hessian", "|x| y^2", "--no-steps", "--format", "plain")
    assert "entries is zero" not in res.stdout and "entries are zero" not in res.stdout
    assert "x ≠ 0" in res.stdout  # the jump note says where the zero holds
    res = cli("hessian", "x^2 + y^2", "--no-steps", "--format", "plain")
    assert "2 of the 4 entries are zero" in res.stdout


# values at a point: the function's own domain and jumps along the partial's variable -----------------
def test_hessian_and_jacobian_at_a_point_outside_the_domain_have_no_value(cli) -> None:
    import json

    data = json.loads(cli("hessian", "ln(x) y", "--at", "x=-1,y=2", "--format", "json").stdout)
    assert data["value"] == [[None, None], [None, None]] and data["definiteness"] is None
    assert "not real" in data["note"]
    inside = json.loads(cli("hessian", "ln(x) y", "--at", "x=1,y=2", "--format", "json").stdout)
    assert inside["value"] == [[-2.0, 1.0], [1.0, 0.0]]  # −y/x², 1/x, 0: sympy.diff's at (1, 2)
    data = json.loads(cli("jacobian", "ln(x), y", "--at", "x=-1,y=1", "--format", "json").stdout)
    assert data["value"] == [[None, None], [0.0, 1.0]]
    assert "row 1 does not exist" in data["note"]


def test_a_jump_along_one_variable_leaves_the_other_partials_their_values(cli) -> None:
    import json

    import sympy as sp

    data = json.loads(cli("grad", "floor(x) y^2 + y", "--at", "x=1,y=2", "--format", "json").stdout)
    x, y = sp.symbols("x y", real=True)
    assert data["value"][0] is None and "jumps" in data["note"]
    # along y, floor(x) = 1 is a constant: ∂f/∂y = 2y floor(x) + 1 = 5, as sympy.diff of f(1, y) says
    assert data["value"][1] == float(sp.diff(y**2 + y, y).subs(y, 2))
    both = json.loads(cli("grad", "floor(x y)", "--at", "x=1,y=2", "--format", "json").stdout)
    assert both["value"] == [None, None]

"""Critical points: solutions checked by substitution into sympy.diff's gradient, kinds checked
against the exact eigenvalues of sympy.hessian, and the cases the issue names."""

from __future__ import annotations

import pytest
import sympy as sp
from conftest import x, y

from symgrad.multivar.critical import critical_points
from symgrad.parsing import parse


def exact_kind(expr: sp.Expr, variables: tuple, point: dict) -> str:
    """The second-derivative test from SymPy's exact eigenvalues (the independent oracle)."""
    eigs = [sp.nsimplify(v) for v in sp.hessian(expr, variables).subs(point).eigenvals(multiple=True)]
    signs = {sp.sign(sp.N(v, 50)) if abs(sp.N(v, 50)) > 1e-40 else 0 for v in eigs}
    if signs == {1}:
        return "minimum"
    if signs == {-1}:
        return "maximum"
    if {1, -1} <= signs:
        return "saddle"
    return "inconclusive"


@pytest.mark.parametrize(("text", "expected"), [
    ("x^3 - 3x + y^2", {(1, 0): "minimum", (-1, 0): "saddle"}),
    ("y^2 - x^2", {(0, 0): "saddle"}),
    ("x^4 + y^4", {(0, 0): "inconclusive"}),
    ("x^2 + y^2", {(0, 0): "minimum"}),
    ("-x^2 - 2y^2 + x y", {(0, 0): "maximum"}),
    ("x^3 + y^3 - 3 x y", {(0, 0): "saddle", (1, 1): "minimum"}),
])
def test_issue_cases(text: str, expected: dict) -> None:
    result = critical_points(text)
    found = {tuple(int(c) for c in p.coordinates): p.kind for p in result.points}
    assert found == expected
    assert result.complete and not result.infinite


@pytest.mark.parametrize("text", [
    "x^3 - 3x + y^2", "x^3 + y^3 - 3 x y", "x^4 - 2x^2 + y^2 + z^2 - y z", "x y (x + y - 3)", "x^2 y - y^3/3 + y",
])
def test_points_are_critical_and_kinds_match_the_exact_test(text: str) -> None:
    e = parse(text)
    result = critical_points(e)
    assert result.points
    for p in result.points:
        point = p.point
        assert all(sp.simplify(sp.diff(e, v).subs(point)) == 0 for v in result.variables)
        assert p.kind == exact_kind(e, result.variables, point), point


def test_infinite_families_are_reported() -> None:
    result = critical_points("x^2 y^2")
    assert result.infinite and not result.complete
    assert result.families
    assert any("infinitely many" in n for n in result.notes)


def test_constant_in_a_variable_is_infinite() -> None:
    result = critical_points("x^2 + 0 y", wrt="x,y")
    assert result.infinite


def test_only_real_points() -> None:
    result = critical_points("x^3/3 + x + y^2")  # ∇f = 0 at x = ±i only
    assert result.points == ()
    assert result.complete


def test_plain_sympy_symbols_are_the_real_variables() -> None:
    # plain SymPy symbols mean symgrad's (real) variables of the same name (issue 12): the same
    # answer as the text, with no complex points
    u, v = sp.symbols("u v")
    result = critical_points(u**3 / 3 + u + v**2, [u, v])
    assert result.points == () and result.complete
    assert result.points == critical_points("u^3/3 + u + v^2", "u,v").points


def test_periodic_gradient_is_marked_incomplete() -> None:
    result = critical_points("sin(x) + y^2")
    assert not result.complete
    assert result.points
    assert any("periodic" in n for n in result.notes)
    for p in result.points:
        assert p.kind == exact_kind(sp.sin(x) + y**2, (x, y), p.point)


def test_cli_json(cli) -> None:
    res = cli("critical", "x^3 - 3x + y^2", "--format", "json")
    assert res.exit_code == 0, res.stdout
    data = res.json()
    assert data["command"] == "critical"
    points = {(p["point"]["x"], p["point"]["y"]): p for p in data["points"]}
    assert points[("1", "0")]["kind"] == "minimum"
    assert points[("-1", "0")]["kind"] == "saddle"
    assert sorted(points[("1", "0")]["eigenvalues"]) == [2.0, 6.0]
    assert points[("1", "0")]["numeric"] == {"x": 1.0, "y": 0.0}
    assert data["complete"] is True and data["infinite"] is False


@pytest.mark.parametrize("fmt", ["plain", "latex", "markdown", "rich"])
def test_cli_formats(cli, fmt: str) -> None:
    res = cli("critical", "y^2 - x^2", "--format", fmt)
    assert res.exit_code == 0
    assert "saddle" in res.stdout


def test_cli_bad_input(cli) -> None:
    res = cli("critical", "x^2 + + ", "--format", "json")
    assert res.exit_code == 2
    assert "error" in res.json()


def test_tiny_negative_eigenvalue_is_a_saddle_not_singular() -> None:
    """x² − 10⁻⁵⁰y²: the Hessian is indefinite (exactly), so the origin is a saddle."""
    (point,) = critical_points("x^2 - 1e-50 y^2").points
    assert point.kind == "saddle" and point.method == "exact"
    assert point.note is None


def test_singular_hessian_says_how_it_was_decided() -> None:
    (point,) = critical_points("x^4 + y^4").points
    assert point.kind == "inconclusive" and "decided exactly" in (point.note or "")


@pytest.mark.parametrize("text", ["(x - 1e400)^2", "exp(x) - 1e400 x", "(x - 1e400)^2 + (y + 1e400)^2"])
def test_json_numbers_beyond_a_float_are_null(cli, text: str) -> None:
    import json

    res = cli("critical", text, "--format", "json")
    assert res.exit_code == 0, res.stdout
    data = json.loads(res.stdout, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    (p,) = data["points"]
    assert p["kind"] == "minimum"
    assert None in list(p["numeric"].values()) + [p["value"]] + list(p["eigenvalues"])
    assert "beyond the float range" in p["note"]
    assert cli("critical", text, "--format", "plain").exit_code == 0


def test_critical_point_on_a_kink_is_inconclusive() -> None:
    """x² + y²|y|: ∇f = 0 at the origin, where |y| has its kink: no confident verdict there."""
    (point,) = critical_points("x^2 + y^2 |y|").points
    assert point.kind == "inconclusive" and "kink" in (point.note or "")

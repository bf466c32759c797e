"""Notation other tools accept, taken through the whole pipeline (issue #12).

Each function symgrad reads for another tool's spelling (pow, root/nthroot, sinc, floor, ceil,
round, sine/cosine/tangent) is parsed, differentiated, derived with worked steps and compiled to
code, and every number is checked against an oracle that never goes through symgrad's parser: SymPy
expressions built with SymPy's own constructors, and central differences in mpmath at 50 digits at
points away from the jumps. ``tests/test_grammar.py`` has the readings and the notes; the commands
(definitions, vectors, values at a jump) are checked here through the CLI.
"""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from conftest import x

from symgrad import calculus
from symgrad.numeric.compile import compile as compile_expr
from symgrad.parsing import parse
from symgrad.steps import derive

# (input, the same function built with SymPy, where it jumps: an expression zero at every jump)
SMOOTH = [
    ("pow(x, 3)", x**3),
    ("pow(2, x) + pow(x, x)", 2**x + x**x),
    ("root(x^2 + 1, 5)", (x**2 + 1) ** sp.Rational(1, 5)),
    ("nthroot(x, 3) x", x ** sp.Rational(4, 3)),
    ("sinc(2x + 1)", sp.sin(2 * x + 1) / (2 * x + 1)),
    ("x sinc(x)^2", x * (sp.sin(x) / x) ** 2),
    ("cosine(x^2) + sine x", sp.cos(x**2) + sp.sin(x)),
    ("tangent(x) arctangent(x)", sp.tan(x) * sp.atan(x)),
]
STEPWISE = [
    # the function, the function's formula on the piece around the point (floor → that whole number)
    ("x floor(x^2)", lambda p: x * int(mpmath.floor(p**2))),
    ("ceil(3x) + x^2", lambda p: int(mpmath.ceil(3 * p)) + x**2),
    ("round(x) sin(x)", lambda p: int(mpmath.nint(p)) * sp.sin(x)),
    ("floor(x) + ceiling(x) + round(x)", lambda p: sp.Integer(0)),
]
POINTS = [sp.Rational(n, 7) for n in (-13, -5, 2, 3, 9, 16)]  # not whole numbers or halves, nor x⁴ ∈ ℤ


@pytest.mark.parametrize(("text", "oracle"), SMOOTH, ids=[t for t, _ in SMOOTH])
def test_derivative_of_other_tools_notation(text: str, oracle: sp.Expr) -> None:
    expr = parse(text)
    mine = calculus.derivative(expr, x)
    truth = sp.diff(oracle, x)
    derived = derive(expr, x)
    assert derived.check in ("exact", "numeric")
    for point in POINTS:
        if point <= 0 and "root" in text:
            continue  # the principal root is not real there
        want = sp.N(truth.subs(x, point), 30)
        for got in (mine, derived.result):
            assert abs(sp.N(got.subs(x, point), 30) - want) <= 1e-25 * max(1, abs(want)), (text, point)


@pytest.mark.parametrize(("text", "piece"), STEPWISE, ids=[t for t, _ in STEPWISE])
def test_step_functions_have_derivative_zero_between_jumps(text: str, piece) -> None:
    expr = parse(text)
    mine = calculus.derivative(expr, x)
    derived = derive(expr, x)
    assert derived.check in ("exact", "numeric")
    with mpmath.workdps(50):
        for point in POINTS:
            f = sp.lambdify(x, expr, modules=[{"floor": mpmath.floor, "ceiling": mpmath.ceil,
                                                "round": _round_half_even}, "mpmath"])
            h = mpmath.mpf(10) ** -20
            difference = (f(mpmath.mpf(point.p) / point.q + h) - f(mpmath.mpf(point.p) / point.q - h)) / (2 * h)
            truth = sp.diff(piece(mpmath.mpf(point.p) / point.q), x).subs(x, point)
            for got in (mine, derived.result):
                value = sp.N(got.subs(x, point), 30)
                assert abs(value - sp.N(truth, 30)) < 1e-20, (text, point)
                assert abs(float(value) - float(difference)) < 1e-12, (text, point)


def _round_half_even(value: mpmath.mpf) -> mpmath.mpf:
    low = mpmath.floor(value)
    rest = value - low
    if rest != mpmath.mpf(0.5):
        return mpmath.nint(value)
    return low if int(low) % 2 == 0 else low + 1


@pytest.mark.parametrize("backend", ["math", "numpy"])
@pytest.mark.parametrize("text", [t for t, _ in SMOOTH] + [t for t, _ in STEPWISE])
def test_compiled_code_agrees(text: str, backend: str) -> None:
    expr = parse(text)
    compiled = compile_expr(expr, [x], backend=backend)
    for point in POINTS[2:]:  # positive points: the principal roots are real there
        value = float(sp.N(expr.subs(x, point), 20))
        slope = float(sp.N(calculus.derivative(expr, x).subs(x, point), 20))
        number = float(point)
        assert float(compiled.f(number)) == pytest.approx(value, rel=1e-9)
        assert float(compiled.grad(number)[0]) == pytest.approx(slope, rel=1e-9, abs=1e-12)


def test_round_halves_to_even_everywhere() -> None:
    from symgrad.vocabulary.functions import round as sym_round

    for half in range(-7, 8):
        value = sp.Rational(2 * half + 1, 2)
        expected = _round_half_even(mpmath.mpf(value.p) / value.q)
        assert parse(f"round({value})") == int(expected) == round(float(value))
        for backend in ("numpy", "math"):
            compiled = compile_expr(sym_round(x), [x], backend=backend)
            assert float(compiled.f(float(value))) == int(expected)


# the commands ------------------------------------------------------------------------------------
def test_value_at_a_jump_says_there_is_none(cli) -> None:
    data = cli("diff", "x floor(x)", "--at", "x=2", "--format", "json").json()
    assert data["value"] is None and "floor(x) jumps at x=2" in data["note"]
    data = cli("diff", "x floor(x)", "--at", "x=2.5", "--format", "json").json()
    assert data["value"] == 2.0 and "note" not in data
    data = cli("diff", "round(x)", "--at", "x=0.5", "--format", "json").json()
    assert data["value"] is None and "whole number plus 1/2" in data["note"]
    data = cli("diff", "floor(x^2)", "--at", "x=0", "--format", "json").json()
    assert data["value"] is None and "may jump" in data["note"]  # floor(x²) is flat at 0, floor(−x²) is not
    data = cli("grad", "ceil(x y)", "--at", "x=1,y=3", "--format", "json").json()
    assert data["value"] == [None, None]


def test_sinc_at_zero_is_not_called_undefined(cli) -> None:
    data = cli("diff", "sinc(x)", "--at", "x=0", "--format", "json").json()
    assert data["value"] is None
    assert "0/0" in data["note"] and "undefined" not in data["note"]
    assert cli("diff", "sinc(x)", "--at", "x=1", "--format", "json").json()["value"] == pytest.approx(
        float(sp.diff(sp.sin(x) / x, x).subs(x, 1)))


def test_steps_say_where_a_step_function_has_no_derivative(cli) -> None:
    out = cli("diff", "floor(x^2)", "--format", "plain").stdout
    assert "floor(u) is constant between whole numbers, so its derivative is 0 there" in out
    assert "at a whole number u it jumps by 1: there is no derivative there" in out


@pytest.mark.parametrize(
    ("args", "wrt", "result"),
    [
        (("diff", "f(t) = a t^2"), "t", "2*a*t"),
        (("diff", "y = x^2 + a"), "x", "2*x"),
        (("diff", "g(s, x) = s x^2"), "x", "2*s*x"),
        (("diff", "f(t) = a t^2", "--wrt", "a"), "a", "t**2"),
    ],
)
def test_definitions_differentiate_the_right_side(cli, args: tuple[str, ...], wrt: str, result: str) -> None:
    data = cli(*args, "--format", "json").json()
    assert (data["wrt"], data["result"]) == (wrt, result)
    assert any("definition" in note for note in data["notes"])


def test_definitions_name_the_variables_of_every_command(cli) -> None:
    assert cli("grad", "f(x, y) = a x y^2", "--format", "json").json()["variables"] == ["x", "y"]
    assert cli("hessian", "f(x) = a x^3", "--format", "json").json()["variables"] == ["x"]
    data = cli("check", "f(t) = a t^2", "--answer", "2 a t", "--format", "json").json()
    assert data["correct"] is True and data["wrt"] == "t"
    res = cli("diff", "x^2 + y^2 = 1")
    assert res.exit_code == 2 and "equations are not supported by this command" in res.stderr


def test_a_bracketed_list_is_a_vector_for_jacobian(cli) -> None:
    data = cli("jacobian", "[x y, x + y]", "--format", "json").json()
    together = cli("jacobian", "x y, x + y", "--format", "json").json()
    assert data["jacobian"] == together["jacobian"] == [["y", "x"], ["1", "1"]]


def test_newline_on_standard_input(cli) -> None:
    res = cli("diff", "-", "--format", "plain", input="x^2\ny^2\n")
    assert res.exit_code == 2
    assert "one expression per input: the input has a line break here" in res.stderr
    assert "x^2\\ny^2" in res.stderr
    res = cli("diff", "-", "--format", "json", input="x^2\n\r\n")  # trailing line breaks are fine
    assert res.exit_code == 0 and res.json()["result"] == "2*x"

"""The notation table of the README: each input must become exactly this SymPy expression.

The expected sides are built with SymPy's constructors (an independent oracle for the parser).
"""

from __future__ import annotations

import pytest
import sympy as sp
from conftest import R, a, b, x, y, z

from symgrad import functions as ml
from symgrad.errors import ParseError
from symgrad.parsing import parse, parse_full

f, g, h = (sp.Function(n, real=True) for n in "fgh")
theta, theta1, alpha, beta, lam, w, p = (R(n) for n in ("theta", "theta1", "alpha", "beta", "lambda", "w", "p"))

CASES = [
    # operators and precedence
    ("x + y - z", x + y - z),
    ("x * y / z", x * y / z),
    ("x^2", x**2),
    ("x**2", x**2),
    ("x^2^3", x**8),
    ("x^y^z", x ** (y**z)),
    ("-x^2", -(x**2)),
    ("2^-x", 2 ** (-x)),
    ("e^-x", sp.exp(-x)),
    ("e^-x^2", sp.exp(-(x**2))),
    ("(x + 1)^2", (x + 1) ** 2),
    ("[x + 1]^2", (x + 1) ** 2),
    ("2 * -x", -2 * x),
    ("x - -y", x + y),
    # Unicode people paste
    ("x·y", x * y),
    ("x×y", x * y),
    ("x − y", x - y),
    ("x²", x**2),
    ("x⁻¹", 1 / x),
    ("x²³", x**23),
    ("π", sp.pi),
    ("θ", theta),
    ("theta", theta),
    ("α + β", alpha + beta),
    ("alpha beta", alpha * beta),
    ("λ", lam),
    ("θ₁", theta1),
    ("theta1", theta1),
    ("theta_1", theta1),
    ("θ_{1}", theta1),
    ("θ1", theta1),
    ("x_i", R("x_i")),
    ("（x＋1）^2", (x + 1) ** 2),
    # implicit multiplication
    ("2x", 2 * x),
    ("3(x+1)", 3 * (x + 1)),
    ("(x+1)(x-1)", (x + 1) * (x - 1)),
    ("2pi x", 2 * sp.pi * x),
    ("πx^2", sp.pi * x**2),
    ("x sin x", x * sp.sin(x)),
    ("sin(x)cos(x)", sp.sin(x) * sp.cos(x)),
    ("x y", x * y),
    ("e^(2x) cos(3x)", sp.exp(2 * x) * sp.cos(3 * x)),
    ("1/2x", x / 2),
    ("1/2 x^2", x**2 / 2),
    ("velocity", R("velocity")),
    ("theta1 theta2", theta1 * R("theta2")),
    ("xy", R("xy")),
    ("a(x+1)", a * (x + 1)),
    # functions with or without parentheses
    ("sin x", sp.sin(x)),
    ("ln x", sp.log(x)),
    ("sin 2x", sp.sin(2 * x)),
    ("sin x^2", sp.sin(x**2)),
    ("sin x cos x", sp.sin(x) * sp.cos(x)),
    ("sin x * y", sp.sin(x) * y),
    ("sin cos tan x", sp.sin(sp.cos(sp.tan(x)))),
    ("sin cos(x)", sp.sin(sp.cos(x))),
    ("sin^2 x", sp.sin(x) ** 2),
    ("sin²x", sp.sin(x) ** 2),
    ("cos^3(x)", sp.cos(x) ** 3),
    ("sin^2(3x)", sp.sin(3 * x) ** 2),
    ("sin(x)^2", sp.sin(x) ** 2),
    ("sin^-1 x", sp.asin(x)),
    ("sin⁻¹x", sp.asin(x)),
    ("tan^-1(x)", sp.atan(x)),
    ("cosh^-1 x", sp.acosh(x)),
    ("-sin x", -sp.sin(x)),
    # names
    ("sec x + csc x + cot x", sp.sec(x) + sp.csc(x) + sp.cot(x)),
    ("asin x + arcsin y", sp.asin(x) + sp.asin(y)),
    ("acos x + arccos y", sp.acos(x) + sp.acos(y)),
    ("atan x + arctan y", sp.atan(x) + sp.atan(y)),
    ("acot x + asec y + acsc z", sp.acot(x) + sp.asec(y) + sp.acsc(z)),
    ("sinh x + cosh y + tanh z", sp.sinh(x) + sp.cosh(y) + sp.tanh(z)),
    ("asinh x + acosh y + atanh z", sp.asinh(x) + sp.acosh(y) + sp.atanh(z)),
    ("arsinh x", sp.asinh(x)),
    ("exp x", sp.exp(x)),
    ("e^x", sp.exp(x)),
    ("E^x", sp.exp(x)),
    ("log x", sp.log(x)),
    ("log10 x", sp.log(x, 10)),
    ("log2(x)", sp.log(x, 2)),
    ("log_2 x", sp.log(x, 2)),
    ("log_b(x)", sp.log(x, b)),
    ("log(x, 2)", sp.log(x, 2)),
    ("log(x, b)", sp.log(x, b)),
    ("sqrt x", sp.sqrt(x)),
    ("√(x+1)", sp.sqrt(x + 1)),
    ("cbrt(x)", sp.cbrt(x)),
    ("abs(x)", sp.Abs(x)),
    ("|x|", sp.Abs(x)),
    ("ln|x|", sp.log(sp.Abs(x))),
    ("|x||y|", sp.Abs(x) * sp.Abs(y)),
    ("2|x|", 2 * sp.Abs(x)),
    ("||x| - 1|", sp.Abs(sp.Abs(x) - 1)),
    ("|x - |y||", sp.Abs(x - sp.Abs(y))),
    ("max(x, y)", sp.Max(x, y)),
    ("min(x, y, z)", sp.Min(x, y, z)),
    ("sigmoid(x)", ml.sigmoid(x)),
    ("σ(x)", ml.sigmoid(x)),
    ("relu(x)", ml.relu(x)),
    ("softplus x", ml.softplus(x)),
    ("tanh(w x + b)", sp.tanh(w * x + b)),
    # constants and exact decimals
    ("pi", sp.pi),
    ("e", sp.E),
    ("E", sp.E),
    ("0.5x^2", x**2 / 2),
    ("0.1", sp.Rational(1, 10)),
    ("1e-3", sp.Rational(1, 1000)),
    (".25", sp.Rational(1, 4)),
    # abstract functions
    ("f(x)", f(x)),
    ("f(g(x))", f(g(x))),
    ("h(x^2)", h(x**2)),
    ("f x", R("f") * x),
    # the seeds
    ("y^2 - x^2", y**2 - x**2),
    ("x cos(πx)", x * sp.cos(sp.pi * x)),
    ("θ₁² + θ₂²", theta1**2 + R("theta2") ** 2),
    ("1/(1+e^-x)", 1 / (1 + sp.exp(-x))),
    ("(y - (x w + b))^2", (y - (x * w + b)) ** 2),
    ("-log(p)", -sp.log(p)),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_notation(text: str, expected: sp.Expr) -> None:
    assert parse(text) == expected


def test_list_at_top_level() -> None:
    assert parse("x^2 y, sin(x) + y") == sp.Tuple(x**2 * y, sp.sin(x) + y)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("sin^-1 x", "arcsin"),
        ("log x", "natural logarithm"),
        ("1/2x", "(1/2)·x"),
        ("xy", "one variable"),
        ("sin 2x", "sin applies to the product"),
    ],
)
def test_interpretation_notes(text: str, fragment: str) -> None:
    assert any(fragment in note for note in parse_full(text).notes)


def test_multi_letter_names_stay_whole() -> None:
    for name in ("sigma1", "theta1", "velocity", "loss", "rate"):
        assert parse(name) == R(name)
    assert parse("sigmoid(x)").func is ml.sigmoid


@pytest.mark.parametrize(
    ("text", "message", "suggestion"),
    [
        ("sine(x)", "unknown function 'sine'", "did you mean sin?"),
        ("sigmod(x)", "unknown function", "sigmoid"),
        ("sinx", "unknown name 'sinx'", "sin x"),
        ("sin2x", "glued", "sin"),
        ("foo(x)", "unknown function 'foo'", "foo*("),
        ("(x", "missing closing ')'", None),
        ("x)", "unmatched ')'", None),
        ("x +", "ends where a term is expected", None),
        ("* x", "unexpected '*'", None),
        ("log(x, )", "missing argument", None),
        ("sin(x, y)", "takes 1 argument, got 2", None),
        ("max(x)", "two or more", None),
        ("", "empty", None),
        ("x = 2", "unexpected character '='", "equation"),
        ("1/0", "division by zero", None),
        ("log(x, 1)", "not a valid base", None),
        ("sin^0 x", "not supported", None),
    ],
)
def test_errors_say_what_and_where(text: str, message: str, suggestion: str | None) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    err = info.value
    assert message in err.message
    if suggestion:
        assert err.suggestion and suggestion in err.suggestion
    rendered = err.render()
    assert "^" in rendered or not text


def test_caret_is_under_the_place() -> None:
    with pytest.raises(ParseError) as info:
        parse("x + sine(x)")
    lines = info.value.render().splitlines()
    assert lines[1] == "  x + sine(x)"
    assert lines[2].index("^") == lines[1].index("sine")

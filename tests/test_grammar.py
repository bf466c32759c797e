"""The notation table of the README: each input must become exactly this SymPy expression.

The expected sides are built with SymPy's constructors (an independent oracle for the parser).
"""

from __future__ import annotations

import pytest
import sympy as sp
from conftest import R, a, b, x, y, z

from symgrad.errors import ParseError
from symgrad.parsing import parse, parse_full
from symgrad.vocabulary import functions as ml

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
    # notation of other tools (mathjs, NumPy, nerdamer…)
    ("pow(x, 3)", x**3),
    ("pow(2, x)", 2**x),
    ("root(x, 3)", x ** sp.Rational(1, 3)),
    ("nthroot(x^2 + 1, 5)", (x**2 + 1) ** sp.Rational(1, 5)),
    ("nthRoot(x, n)", x ** (1 / R("n"))),
    ("sinc(x)", sp.sinc(x)),
    ("floor(x)", ml.floor(x)),
    ("ceil(x) + ceiling(y)", ml.ceiling(x) + ml.ceiling(y)),
    ("round(x)", ml.round(x)),
    ("round(5/2) + round(7/2) + round(-1/2)", sp.Integer(6)),
    ("sine(x) + cosine(x) + tangent x", sp.sin(x) + sp.cos(x) + sp.tan(x)),
    ("arctangent(x) + arcsine(y)", sp.atan(x) + sp.asin(y)),
    ("arctan2(y, x)", sp.atan2(y, x)),
    ("[x, y^2, 3]", sp.Tuple(x, y**2, 3)),
    # powers that stay powers: a lowercase t, a bracketed T, T with a subscript, Θ
    ("x^t", x ** R("t")),
    ("x^(T)", x ** R("T")),
    ("x^T_1", x ** R("T1")),
    ("x^Theta", x ** R("Theta")),
    ("e^T", sp.exp(R("T"))),
    ("2^T", 2 ** R("T")),
    # a name before a parenthesis multiplies (with a note, see below)
    ("Φ(x)", R("Phi") * x),
    ("y(x)", x * y),
    ("x_i(a + b)", R("x_i") * (a + b)),
    ("log_b(x)", sp.log(x, b)),
    # line breaks where the expression must go on
    ("x^2 +\ny^2", x**2 + y**2),
    ("(x^2\n- y^2)", x**2 - y**2),
    ("x\n* y", x * y),
    ("sin(\nx\n)", sp.sin(x)),
    ("x\t+\ty", x + y),
    ("\nx^2\n", x**2),
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
        ("sinus(x)", "unknown function 'sinus'", "did you mean sin?"),
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
        ("x^2 + y^2 = 1", "equations are not supported", "define a function"),
        ("1/0", "division by zero", None),
        ("log(x, 1)", "not a valid base", None),
        ("sin^0 x", "not supported", None),
        # a name with an underscore before "(" is never a product or a logarithm base
        ("leaky_relu(x)", "unknown function 'leaky_relu'", "max(x, 0.01 x)"),
        ("log_sigmoid(x)", "unknown function 'log_sigmoid'", "ln(sigmoid(x))"),
        ("hard_tanh(x)", "unknown function 'hard_tanh'", "max(-1, min(x, 1))"),
        ("log_softmax(a, b)", "unknown function 'log_softmax'", "ln(softmax_1("),
        ("LeakyReLU(x)", "unknown function 'LeakyReLU'", "PyTorch"),
        ("leaky_rleu(x)", "unknown function 'leaky_rleu'", "did you mean leaky_relu? symgrad does not know it yet"),
        ("my_func(x)", "unknown function 'my_func'", "to multiply, write my_func*(…)"),
        ("loss_fn (x)", "unknown function 'loss_fn'", None),
        ("log_sin(x)", "logarithm to base sin, a function name", "log(sin(x))"),
        ("log_sigmoid x", "unknown function 'log_sigmoid'", None),
        ("gelu x", "unknown function 'gelu'", "erf"),
        ("log1p(x)", "unknown function 'log1p'", "ln(1 + x)"),
        ("relu6(x)", "unknown function 'relu6'", "min(max(x, 0), 6)"),
        ("diff(x^2, x)", "unknown function 'diff'", "symgrad diff"),
        # hints name the right function
        ("cosin(x)", "unknown function 'cosin'", "did you mean cos?"),
        ("foo(x)", "unknown function 'foo'", "to multiply, write foo*(…)"),
        ("powr(x, 2)", "unknown function 'powr'", "did you mean pow?"),
        # the new functions' arguments
        ("pow(x)", "takes 2 arguments, got 1", None),
        ("root(x, 0)", "degree must not be 0", None),
        ("floor(x, y)", "takes 1 argument", None),
        ("pow(9, 9^9)", "too large to compute exactly", None),
        # data indexes: rows 1…n, or the index of a sum around them
        ("x[-1]", "data row (from 1) or the index of a sum", None),
        ("x[0]", "numbered from 1", "x[1]"),
        ("a[x+1]", "data row (from 1)", "a [x+1]"),
        ("x[i]", "no sum runs over i", "sum(x[i], i, 1, n)"),
        ("x[i] + i^2", "no sum runs over i", None),
        ("sum(x[j], i, 1, n)", "no sum runs over j", None),
        # softmax components out of range
        ("softmax_0(x, y)", "no component 0: components are numbered from 1", "1 to 2"),
        ("softmax_3(x, y)", "component 3 of a softmax of only 2 logits", "1 to 2"),
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
    assert err.position is not None or not text


def test_caret_is_under_the_place() -> None:
    with pytest.raises(ParseError) as info:
        parse("x + sinus(x)")
    lines = info.value.render().splitlines()
    assert lines[1] == "  x + sinus(x)"
    assert lines[2].index("^") == lines[1].index("sinus")


def test_function_names_are_the_table() -> None:
    """The lexer's hand-kept name list and the builder's table name the same functions."""
    from symgrad.parsing.names import FUNCTION_NAMES, function_table

    assert {name for name in function_table() if name[0].isascii()} == FUNCTION_NAMES


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Φ(x)", "Φ(…) is read as the product Φ·(…)"),
        ("y(x)", "y(…) is read as the product y·(…)"),
        ("a (x + 1)", "a(…) is read as the product a·(…)"),
        ("θ(x)", "θ(…) is read as the product θ·(…)"),
        ("x_i(a + b)", "x_i(…) is read as the product x_i·(…)"),
        ("w2(x)", "w2(…) is read as the product w2·(…)"),
        ("e(x + 1)", "e(…) is read as the product e·(…) (e is Euler's number)"),
        ("log_b(x)", "logarithm to base b"),
        ("log(x, 2)", "value first, base second"),
        ("cosine(x)", "cosine is read as cos"),
        ("pow(x, 3)", "pow(a, b) is read as the power a^b: x^3"),
        ("root(x, 3)", "x^(1/3): the principal root"),
        ("sinc(x)", "NumPy's np.sinc is the normalized sin(πx)/(πx)"),
        ("floor(x)", "where floor jumps, there is none"),
        ("ceil(x)", "where ceil jumps, there is none"),
        ("round(x)", "halves to the even one"),
        ("[a, b]", "list (a vector)"),
        ("f(t) = t^2", "as a function of t"),
        ("y = x^2", "y = … is a definition"),
    ],
)
def test_readings_are_noted(text: str, fragment: str) -> None:
    assert any(fragment in note for note in parse_full(text).notes), parse_full(text).notes


def test_products_written_out_have_no_note() -> None:
    for text in ("y*(x)", "2(x+1)", "(x+1)(x-1)", "x^2(x+1)", "x^t"):
        assert not parse_full(text).notes, text


def test_log_note_comes_first_and_names_the_reading() -> None:
    from symgrad.parsing.build import LOG_NOTE

    for text in ("log x", "Φ(x) + log(x)", "xy + log x", "sin 2x + log(x)"):
        notes = parse_full(text).notes
        assert notes[0] == LOG_NOTE, notes
    assert "log x = ln x (natural logarithm, base e)" in LOG_NOTE
    assert LOG_NOTE not in parse_full("ln x + log(x, 10)").notes


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("x^T A x", "T"), ("x^T", "T"), ("(A x)^T", "T"), ("x^{T} y", "T"), ("x**T", "T"), ("A^-T", "T"),
        ("x^Tx", "T"), ("x_i^T w", "T"), ("x^\\top A", "\\"), ("xᵀ A x", "ᵀ"), ("x⊤", "⊤"), ("x.T @ x", "T"),
    ],
)
def test_transposes_are_refused_with_the_caret_on_the_t(text: str, at: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.message.startswith("transposes need vector/matrix variables")
    assert text[info.value.position] == at
    assert "x^(T)" in info.value.suggestion


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x'", "a prime after a name"), ("y′ + 1", "a prime after a name"), ("x''", "a prime after a name"),
        ("y’", "a prime after a name"), ("(x + 1)'", "a prime after a name"),
        ("f'(x)", "derivative notation"), ("g′ (x)", "derivative notation"), ("y'(x)", "derivative notation"),
        ("f'", "derivative notation"),
    ],
)
def test_primes_are_refused(text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in info.value.message
    assert text[info.value.position] in "'′’"


@pytest.mark.parametrize(
    "text",
    ["x^2\ny^2", "x^2\r\ny^2", "x\u2028y", "x\u2029y", "x\x0by", "x\x0cy", "x\x85y", "x^2\n-y^2", "x\n+ y",
     "sin x\ncos x", "2\n(x + 1)", "|x|\n|y|", "(x\ny)", "x\n\nsin(x)", "f(x) = x\ny"],
)
def test_a_line_break_is_never_a_product(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_full(text)
    err = info.value
    assert err.message == "one expression per input: the input has a line break here"
    assert text[err.position] in "\n\r\u2028\u2029\x0b\x0c\x85"
    rendered = err.render().splitlines()
    assert len(rendered) == 4 and rendered[2].endswith("^")  # the break is shown escaped, the caret under it


def test_definitions_name_the_function_and_its_variables() -> None:
    parsed = parse_full("f(t) = a t^2")
    assert parsed.expr == R("a") * R("t") ** 2
    assert (parsed.defines, parsed.variables) == ("f", ("t",))
    assert parsed.wrt(None) == "t" and parsed.wrt(None, single=True) == "t" and parsed.wrt("a") == "a"
    parsed = parse_full("L(θ₁, b) := θ₁^2 b")
    assert (parsed.defines, parsed.variables, parsed.wrt(None)) == ("L", ("theta1", "b"), "theta1,b")
    parsed = parse_full("y = x^2")
    assert (parsed.expr, parsed.defines, parsed.variables, parsed.wrt(None)) == (x**2, "y", (), None)
    assert parse_full("loss(w, b) = (w - b)^2").variables == ("w", "b")
    assert parse_full("f(y, x) = x y").wrt(None, single=True) == "x"


@pytest.mark.parametrize(
    ("text", "message", "at"),
    [
        ("x^2 + y^2 = 1", "equations are not supported by this command", "="),
        ("f(x + 1) = 2", "equations are not supported by this command", "="),
        ("y = x y", "defined here in terms of itself", "="),
        ("f(x) = f(x)^2 + 1", "defined here in terms of itself", "="),
        ("f(x) = x = 2", "more than one '='", "="),
        ("x == 2", "comparisons are not supported", "="),
        ("x <= 2", "comparisons are not supported", "<"),
        ("f(x, x) = x", "names the variable x twice", "x"),
        ("sin(x) = 2", "names the function sin", "s"),
        ("f(pi) = 2", "names the constant pi", "p"),
        ("f(x) = ", "right-hand side of '=' is empty", None),
        ("log(x, base=2)", "keyword arguments", "="),
        ("f(x) = sine(x)", None, None),
    ],
)
def test_equations_are_refused(text: str, message: str | None, at: str | None) -> None:
    if message is None:
        assert parse_full(text).expr == sp.sin(x)
        return
    with pytest.raises(ParseError) as info:
        parse_full(text)
    assert message in info.value.message, info.value.message
    if at is None:
        assert info.value.position == len(text)
    else:
        assert text[info.value.position] == at


def test_data_rows_and_indexes_that_work() -> None:
    xs = sp.IndexedBase(x)
    assert parse("x[3] w") == xs[3] * w
    i = sp.Symbol("i", integer=True)
    assert parse("sum(x[i]^2, i, 1, n)") == sp.Sum(xs[i] ** 2, (i, 1, R("n")))
    assert parse("x [2]") == 2 * x  # with a space, square brackets group


def test_plain_parse_refuses_definitions() -> None:
    """parse() returns a bare expression, which cannot carry the variables f(t) = … names."""
    with pytest.raises(ParseError) as info:
        parse("f(t) = a t^2")
    assert "'=' is not allowed here" in info.value.message and info.value.position == 5


def test_a_list_passed_whole_is_spread() -> None:
    parsed = parse_full("max([x, y, 1])")
    assert parsed.expr == sp.Max(x, y, 1)
    assert "max of a list is read as max of the list's entries" in parsed.notes
    with pytest.raises(ParseError, match="two or more"):
        parse("max([x])")  # one entry in brackets is a group, not a list

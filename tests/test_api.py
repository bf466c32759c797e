"""The library API (issue 12): SymPy objects in and out, clear errors, notes, one variable order,
real functions only, and abstract functions f′(u) that read back.

Oracles: ``sympy.diff`` on symgrad's real symbols, and mpmath central differences of concrete
functions substituted for f, g, h; never the code under test.
"""

from __future__ import annotations

import warnings

import mpmath
import pytest
import sympy as sp
from conftest import R
from corpus import CORPUS

import symgrad
from symgrad import calculus, expressions
from symgrad.errors import ComputeError, ExpressionTypeError, InputError, ParseError, SymgradWarning
from symgrad.parsing import parse as parse_real
from symgrad.realness import complex_parts
from symgrad.steps.derivation import diff_once

X, Y = sp.symbols("x y")  # plain SymPy symbols, as users make them
x, y = R("x"), R("y")  # symgrad's own


# SymPy objects in and out -------------------------------------------------------------------------
def test_plain_symbols_mean_the_variables_of_that_name() -> None:
    assert symgrad.derivative("x^2 y", wrt=sp.Symbol("y")) == X**2
    assert symgrad.derivative(symgrad.parse("x^2") + sp.Symbol("x")) == 2 * X + 1
    assert symgrad.derivative(X**2 * Y, wrt="y") == X**2
    assert symgrad.gradient(X**2 * Y) == [2 * X * Y, X**2]
    assert symgrad.gradient(X**2 * Y, wrt=[Y, "x"]) == [X**2, 2 * X * Y]


def test_results_are_in_plain_symbols() -> None:
    d = symgrad.derivative("x^3")
    assert d.subs("x", 3) == 27 and d.subs(X, 3) == 27 and d == 3 * X**2
    assert symgrad.parse("x^2 + y").subs({"x": 2, "y": 1}) == 5
    assert symgrad.variables("y + x^2") == [X, Y]
    assert [g.subs({"x": 1, "y": 2}) for g in symgrad.gradient("x^2 y")] == [4, 1]
    derivation = symgrad.derive("x^2 y^3", wrt="x,y")
    assert derivation.result.subs({"x": 1, "y": 1}) == 6
    assert derivation.variables == (Y, X) and all(s.wrt in (X, Y) for root in derivation.steps for s in root.walk())
    assert sp.lambdify(X, symgrad.derivative("sin x"))(0.0) == 1.0


def test_round_trip_through_the_api_loses_nothing() -> None:
    first = symgrad.derivative("|x|^3 + sigmoid(x y)")
    again = symgrad.derivative(first)
    assert again == symgrad.derivative("|x|^3 + sigmoid(x y)", order=2)


def test_abs_of_a_plain_symbol_is_real_analysis() -> None:
    assert symgrad.derivative(sp.Abs(X)) == sp.sign(X)
    for expr in (sp.Abs(X), sp.Abs(sp.asin(X)), sp.Abs(sp.log(X)), sp.Abs(sp.sqrt(X)), sp.sign(sp.log(X))):
        result = symgrad.derivative(expr)
        assert not complex_parts(result) and not result.has(sp.atan2), (expr, result)
        assert not any(isinstance(d, sp.Derivative) for d in sp.preorder_traversal(result)), (expr, result)


@pytest.mark.parametrize("text,at", [("abs(asin(x))", 0.4), ("abs(log(x))", 0.5), ("abs(sqrt(x))", 0.7),
                                     ("abs(acosh(x))", 1.9)])
def test_real_derivatives_agree_with_finite_differences(text: str, at: float) -> None:
    """Where SymPy writes re/im/atan2, the step engine answers; checked against mpmath."""
    result = symgrad.derivative(text)
    f = sp.lambdify(X, symgrad.parse(text), "mpmath")
    mpmath.mp.dps = 40
    expected = mpmath.diff(f, mpmath.mpf(at))
    assert float(result.subs(X, sp.Float(at, 40)).evalf(30)) == pytest.approx(float(expected), rel=1e-12)


def test_abstract_functions_from_sympy_are_symgrads() -> None:
    f = sp.Function("f")
    result = symgrad.derivative(f(X**2))
    assert result == 2 * X * sp.Subs(sp.Derivative(f(sp.Symbol("u")), sp.Symbol("u")), sp.Symbol("u"), X**2)
    assert symgrad.derivative(f(X) + parse_real("f(x)")) == 2 * sp.Derivative(f(X), X)


def test_assumptions_of_real_symbols_are_kept_and_imaginary_refused() -> None:
    p = sp.Symbol("p", positive=True)
    assert symgrad.derivative(sp.sqrt(p) * X, wrt="p") == X / (2 * sp.sqrt(p))
    with pytest.raises(InputError, match="not real"):
        symgrad.derivative(sp.Symbol("z", imaginary=True) ** 2)


def test_numbers_are_constants() -> None:
    assert symgrad.derivative(3) == 0 and symgrad.derivative(2.5) == 0
    with pytest.warns(SymgradWarning, match="it has no variables") as caught:
        assert symgrad.gradient(3, wrt="x") == [0]
    assert caught[0].filename == __file__  # the warning points at the caller's line


# clear errors for what is not an expression ----------------------------------------------------------
@pytest.mark.parametrize("name", ["parse", "derivative", "gradient", "derive", "variables", "compile"])
@pytest.mark.parametrize("bad", [None, [1, 2], {"x": 1}, True, object()])
def test_every_public_function_refuses_a_non_expression(name: str, bad: object) -> None:
    with pytest.raises(ExpressionTypeError) as caught:
        getattr(symgrad, name)(bad)
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, InputError)
    assert caught.value.message.startswith(("expected an expression", "parse reads text"))
    assert ("None" if bad is None else type(bad).__name__) in caught.value.message


def test_an_equation_and_a_matrix_get_a_hint() -> None:
    with pytest.raises(ExpressionTypeError, match="Equality") as caught:
        symgrad.derivative(sp.Eq(Y, X**2))
    assert "one side" in caught.value.suggestion
    with pytest.raises(ExpressionTypeError, match="Matrix") as caught:
        symgrad.derivative(sp.Matrix([X, Y]))
    assert "jacobian" in caught.value.suggestion
    with pytest.raises(ExpressionTypeError):
        symgrad.parse(sp.Symbol("x"))


@pytest.mark.parametrize("wrt", [3, 2.5, object(), [None]])
def test_a_variable_that_is_not_one_is_refused(wrt: object) -> None:
    with pytest.raises(ExpressionTypeError, match="expected a variable"):
        symgrad.derivative("x^2", wrt=wrt)


# a variable that does not occur ------------------------------------------------------------------------
def test_derive_notes_a_variable_that_does_not_occur() -> None:
    d = symgrad.derive("x^2", wrt="X")
    assert d.result == 0
    assert d.notes == ("X does not occur in the expression: the derivative by X is 0 (did you mean x?)",)
    assert symgrad.derive("x^2 y", wrt="t").notes[0].endswith("(its variables are x, y)")
    assert symgrad.derive("x^2 y", wrt="x").notes == ()
    assert symgrad.derive("x^2").notes == ()  # the default variable is not a name the user gave


def test_derivative_and_gradient_warn() -> None:
    with pytest.warns(SymgradWarning, match="did you mean x"):
        assert symgrad.derivative("x^2", wrt="X") == 0
    with pytest.warns(SymgradWarning, match="theta does not occur"):
        symgrad.gradient("thetta^2 + y", wrt="theta,y")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        symgrad.derivative("x^2 y", wrt="y")


# one variable order ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["x^y", "x^2 y^3 + sin(x y)", "x e^(x y)"])
def test_mixed_partials_take_the_last_variable_first_everywhere(cli, text: str) -> None:
    """∂²f/∂x∂y = ∂/∂x (∂f/∂y). The stages differ (∂f/∂y is not ∂f/∂x), so each caller's order shows."""
    from symgrad.multivar.mixed import mixed_partial
    from symgrad.steps import derive

    e = parse_real(text)
    by_y = diff_once(e, y)
    assert sp.simplify(by_y - sp.diff(e, x)) != 0  # the stages tell the two orders apart
    d = derive(e, "x,y")
    assert d.variables == (y, x) and sp.simplify(d.steps[0].result - sp.diff(e, y)) == 0
    m = mixed_partial(e, "x,y")
    assert [s.wrt for s in m.stages] == [y, x] and m.stages[0].result == by_y
    # derivative: the same form as taking ∂/∂y, then ∂/∂x (SymPy writes the x-first result differently)
    assert calculus.derivative(e, "x,y") == diff_once(by_y, x)
    assert calculus.derivative(e, ["x", "y"]) == calculus.derivative(e, "x,y")
    data = cli("diff", text, "--wrt", "x,y", "--format", "json", "--no-steps").json()
    assert data["wrt"] == ["x", "y"] and [s["wrt"] for s in data["stages"]] == ["y", "x"]
    assert parse_real(data["stages"][0]["result"]) == by_y
    checked = cli("check", text, "--wrt", "x,y", "--answer", str(m.result), "--format", "json").json()
    assert checked["correct"] is True and checked["wrt"] == ["x", "y"]
    assert sp.simplify(parse_real(checked["expected"]) - sp.diff(e, y, x)) == 0


def test_repeated_variables_and_order_together() -> None:
    assert expressions.stages(parse_real("x^2 y^3"), "x,x,y") == [y, x, x]
    with pytest.raises(InputError, match="not both"):
        symgrad.derivative("x y", wrt="x,y", order=2)


# real functions only -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,says", [
    ("(-1)^x", "(-1)^x is not a real function of x"),
    ("(-2)^(x^2)", "negative base to a power that varies"),
    ("(-x^2-1)^x", "negative base"),
    ("2^x + (-e)^x", "(-e)^x"),
    ("log(-x^2-1)", "the domain of ln is u > 0"),
    ("sqrt(-x^2-1) + x", "negative for every real value"),
    ("asin(x^2+2)", "the domain of asin"),
    ("acosh(-x^2)", "the domain of acosh"),
    ("asin(pi) x", "asin(π) is not a real number"),
    ("sqrt(-1) x", "i·x is not a real function of x"),
    ("(-1)^(1/3) x", "principal root"),
])
def test_functions_real_on_no_interval_are_refused(cli, text: str, says: str) -> None:
    with pytest.raises(ComputeError, match=None) as caught:
        symgrad.derivative(text)
    assert says in caught.value.message
    with pytest.raises(ComputeError):
        symgrad.derive(text)
    res = cli("diff", text, "--format", "json")
    assert res.exit_code == 1 and says in res.json()["error"]["message"]


@pytest.mark.parametrize("text", ["x^x", "(-x)^x", "x^(1/3)", "acosh(x - 10)", "log(x^2)", "asin(x/2)",
                                  "sqrt(x^2 - 1)", "(-1)^2 x", "2^x"])
def test_real_functions_are_not_refused(text: str) -> None:
    result = symgrad.derivative(text)
    assert not complex_parts(result)


def test_zero_to_a_varying_power_is_zero_where_the_power_is_positive(cli) -> None:
    d = symgrad.derive("0^(2^x + x^3 + 2)")
    assert d.result == 0 and d.check == "exact"
    assert "0 where its exponent is positive" in d.notes[0]
    with pytest.warns(SymgradWarning):
        assert symgrad.derivative("x + 0^x") == 1
    data = cli("diff", "0^(2^x + x^3 + 2)", "--format", "json").json()
    assert data["result"] == "0" and "undefined where it is negative" in data["notes"][0]
    with pytest.warns(SymgradWarning, match="taken as 0"):
        symgrad.derivative("0^x")


def test_no_result_of_the_corpus_is_complex() -> None:
    """The last guard: results never hold i, zoo, nan, re, im (nor atan2 or an unevaluated ∂)."""
    for text in CORPUS:
        e = parse_real(text)
        if complex_parts(e):
            continue
        result = calculus.derivative(e)
        assert not complex_parts(result), (text, result)


# abstract functions ---------------------------------------------------------------------------------------
F, G, H = (sp.Function(n, real=True) for n in "fgh")
_SHAPES = {F: lambda t: sp.sin(t) + t**2 / 3, G: lambda t: sp.exp(t / 2) + sp.cos(t),
           H: lambda t: sp.atan(t) + t**3 / 5}


def _concrete(expr: sp.Basic) -> sp.Basic:
    t = sp.Dummy("t")
    for func, shape in _SHAPES.items():
        expr = expr.replace(func, sp.Lambda(t, shape(t)))
    return expr.doit()


ABSTRACT = ["f(x^2)", "f(2x)", "f(sin x)", "f(g(x))", "f(g(h(x)))", "f(x) g(x)", "sin(f(x))", "f(x)^3",
            "f(x y)", "f(x^2) / g(x)", "e^(f(x^2))", "f(f(x))"]


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("text", ABSTRACT)
def test_abstract_functions_of_any_argument(text: str, order: int) -> None:
    from symgrad.steps import derive

    d = derive(text, order=order)
    assert d.check in ("exact", "numeric")  # agrees with sympy.diff
    assert parse_real(str(d.result)) == d.result  # reads back
    # oracle: the same derivative of concrete functions in place of f, g, h, by mpmath
    concrete = sp.lambdify(x, _concrete(parse_real(text)).subs(y, sp.Rational(3, 7)), "mpmath")
    mpmath.mp.dps = 50
    at = mpmath.mpf("0.37")
    value = _concrete(d.result).subs({x: sp.Float("0.37", 50), y: sp.Rational(3, 7)}).evalf(40)
    assert float(value) == pytest.approx(float(mpmath.diff(concrete, at, order)), rel=1e-9)


def test_abstract_derivatives_print_as_primes() -> None:
    from symgrad.printing.latex import latex_of
    from symgrad.printing.oneline import oneline
    from symgrad.printing.pretty import pretty
    from symgrad.steps import derive

    assert oneline(derive("f(x^2)").result) == "2·x·f′(x²)"
    assert latex_of(derive("f(x^2)").result) == r"2 x f'\left(x^{2}\right)"
    assert oneline(derive("f(g(x))").result) == "f′(g(x))·g′(x)"  # the chain rule's order
    assert oneline(derive("f(g(h(x)))").result) == "f′(g(h(x)))·g′(h(x))·h′(x)"
    assert oneline(derive("f(x^2)", order=2).result) == "4·x²·f″(x²) + 2·f′(x²)"
    assert oneline(derive("f(x)", order=4).result) == "f⁽⁴⁾(x)"
    assert latex_of(derive("f(x)", order=3).result) == r"f'''\left(x\right)"
    assert "f′(g(x))⋅g′(x)" in pretty(derive("f(g(x))").result)


def test_abstract_steps_are_the_chain_rule_through_f() -> None:
    from symgrad.render.backends import to_plain
    from symgrad.render.narrate.steps import derivation_document
    from symgrad.steps import derive

    d = derive("f(x^2)")
    root = d.steps[0]
    assert root.rule == "chain" and root.outer == F(root.u)
    assert root.substeps[0].rule == "abstract_function" and root.substeps[0].result == sp.Derivative(F(root.u), root.u)
    out = to_plain(derivation_document(d))
    assert "differentiate f(u) by u" in out and "d/du [f(u)] = f′(u)" in out
    assert "⇒ d/dx [f(x²)] = f′(x²)·(2·x) = 2·x·f′(x²)" in out
    second = to_plain(derivation_document(derive("f(x^2)", order=2)))
    assert "f′ is a derivative of the unknown function f: its derivative is written f″" in second


def test_abstract_functions_on_the_command_line(cli) -> None:
    for text in ("f(x^2)", "f(2x)", "f(sin x)", "f(g(x))"):
        res = cli("diff", text, "--format", "json")
        assert res.exit_code == 0, res.stdout
        data = res.json()
        assert data["check"] == "exact"
        assert parse_real(data["result"]) == symgrad.steps.derive(text).result
        assert "Derivative" in data["result"] and "_xi" not in data["result"]
    out = cli("diff", "f(g(x))", "--format", "plain", "--no-steps").stdout
    assert out.rstrip().endswith("d/dx [f(g(x))] = f′(g(x))·g′(x)")
    data = cli("diff", "f(x^2)", "--at", "x=1", "--format", "json").json()
    assert data["value"] is None and "unknown function f" in data["note"]
    assert cli("check", "f(x^2)", "--answer", "2x Subs(Derivative(f(u), u), u, x^2)", "--format",
               "json").json()["correct"]


@pytest.mark.parametrize("text", ["Derivative(sin(x), x)", "Derivative(f(x), y)", "Derivative(f(x), (x, 0))",
                                  "Subs(Derivative(f(u), u), v, x)", "Subs(x, u, x)", "Derivative(f(x^2), x)"])
def test_only_what_symgrad_prints_reads_back(text: str) -> None:
    with pytest.raises(ParseError, match="read only as symgrad writes"):
        parse_real(text)


# messages ---------------------------------------------------------------------------------------------
def test_sympy_failures_say_what_failed() -> None:
    from sympy.printing.pycode import PythonCodePrinter

    from symgrad.errors import from_sympy

    try:
        PythonCodePrinter({"strict": True}).doprint(sp.zeta(3))
    except NotImplementedError as exc:
        failure = from_sympy(exc)
    assert failure is not None and "code printer has no translation of zeta" in failure.message
    assert "constant" not in failure.message
    try:
        sp.Derivative(sp.sin(x), x**2)
    except ValueError as exc:
        failure = from_sympy(exc)
    assert failure is not None and failure.message.startswith("SymPy could not differentiate")
    try:
        bool(sp.zoo < sp.zoo)
    except TypeError as exc:
        failure = from_sympy(exc)
    assert failure is not None and "constant" in failure.message
    with pytest.raises(ComputeError, match="the math backend cannot compute zeta"):  # codegen says it itself
        symgrad.compile(X**2 + sp.zeta(3), backend="math")

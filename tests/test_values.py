"""Values at a point, right to the digits printed: against mpmath at high precision, never
against SymPy's evalf (which is what went wrong: functions without an evalf rule, tanh, σ, cosh,
were trusted at 333 bits, so 1 − σ(400) came out as 1.3e-141 instead of 1.9e-174).

The oracles are written out by hand in mpmath, in forms that do not cancel (σ′ = e⁻ˣ/(1 + e⁻ˣ)²,
cosh − sinh = e⁻ˣ, 1 − cos x = 2 sin²(x/2)), or computed at hundreds of digits; the property test
translates grammar-generated expressions to mpmath itself (``to_mpmath``) at 60 and 120 digits.
"""

from __future__ import annotations

import json
import random

import mpmath
import pytest
import sympy as sp
import test_properties as properties  # the grammar's strategies (a module: its tests are not collected twice)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symgrad import budget, calculus
from symgrad import evaluate as evaluation
from symgrad.errors import SymgradError
from symgrad.parsing import parse
from symgrad.precise import settle

mp = mpmath.mp


def _derivative_at(text: str, at: str, wrt: str | None = None) -> evaluation.Value:
    e = parse(text)
    d = calculus.derivative(e, wrt)
    return evaluation.evaluate(d, evaluation.parse_point(at, e), what="the derivative", domain_of=e)


def _close(value: float, expected: mpmath.mpf, rel: float = 1e-14) -> bool:
    return abs(mpmath.mpf(value) - expected) <= rel * abs(expected)


def _SIG(u: mpmath.mpf) -> mpmath.mpf:  # σ′ without cancellation
    return mpmath.exp(-u) / (1 + mpmath.exp(-u)) ** 2

# (expression, point, the derivative there in a form that does not cancel, computed at 60 digits)
CANCELLING = [
    ("sigmoid(x)", "x=400", lambda: _SIG(mpmath.mpf(400))),
    ("sigmoid(x)", "x=330", lambda: _SIG(mpmath.mpf(330))),
    ("sigmoid(x)", "x=-300", lambda: _SIG(mpmath.mpf(-300))),
    ("cosh(x) - sinh(x)", "x=400", lambda: -mpmath.exp(-400)),
    ("cosh(x) - sinh(x)", "x=40", lambda: -mpmath.exp(-40)),
    ("exp(x) - x", "x=1e-200", lambda: mpmath.expm1(mpmath.mpf(10) ** -200)),
    ("x - sin(x)", "x=1e-100", lambda: 2 * mpmath.sin(mpmath.mpf(10) ** -100 / 2) ** 2),
    ("tanh(x)", "x=200", lambda: 4 / (mpmath.exp(200) + mpmath.exp(-200)) ** 2),
    ("atan(x) - x", "x=1e-20", lambda: -(mpmath.mpf(10) ** -40) / (1 + mpmath.mpf(10) ** -40)),
    ("ln(x + sqrt(x^2 + 1))", "x=-1e10", lambda: 1 / mpmath.sqrt(mpmath.mpf(10) ** 20 + 1)),
    ("x^3/6 - x + sin(x)", "x=1e-5",
     lambda: (mpmath.mpf(10) ** -10) / 2 - 2 * mpmath.sin(mpmath.mpf(10) ** -5 / 2) ** 2),
    ("(1 - cos(x))/x^2", "x=1e-8", None),  # oracle: brute force at 400 digits below
    ("softplus(x) - x", "x=50", lambda: -mpmath.exp(-50) / (1 + mpmath.exp(-50))),  # σ(x) − 1 = −σ(−x)
    ("x^2", "x=pi/4", lambda: mpmath.pi / 2),
    ("exp(x)", "x=700", lambda: mpmath.exp(700)),
]


@pytest.mark.parametrize(("text", "at", "oracle"), CANCELLING, ids=[f"{t} at {a}" for t, a, _ in CANCELLING])
def test_cancelling_values_are_right_to_the_last_digit(text: str, at: str, oracle: object) -> None:
    with mpmath.workdps(60):
        if oracle is None:  # brute force: 400 digits swamp any cancellation at x = 1e-8
            with mpmath.workdps(400):
                t = mpmath.mpf(10) ** -8
                expected = +(mpmath.sin(t) / t**2 - 2 * (1 - mpmath.cos(t)) / t**3)
        else:
            expected = oracle()  # type: ignore[operator]
        value = _derivative_at(text, at)
        assert value.value is not None, value.note
        assert _close(value.value, expected), (value.value, mpmath.nstr(expected, 20))
        assert value.note is None


UNDERFLOWING = [
    ("tanh(x)", "x=1e5", None),  # 5e-86859: 0, with the underflow note (a bound, not a guess)
    ("sqrt(x^2+1) - x", "x=1e300", None),  # -5e-601
    ("sigmoid(x)", "x=-800", -347),  # 10^-347.4: resolved, then said
    ("softplus(x)", "x=-800", -347),
    ("cosh(x) - sinh(x)", "x=800", -347),
]


@pytest.mark.parametrize(("text", "at", "exponent"), UNDERFLOWING, ids=[f"{t} at {a}" for t, a, _ in UNDERFLOWING])
def test_values_below_the_smallest_float_are_zero_with_a_note(text: str, at: str, exponent: int | None) -> None:
    value = _derivative_at(text, at)
    assert value.value == 0.0
    assert value.note is not None and "below the smallest float" in value.note
    if exponent is not None:
        assert f"about 10^{exponent}" in value.note


def test_too_large_for_a_float_says_how_large() -> None:
    value = _derivative_at("exp(x)", "x=1000")
    assert value.value is None and "too large for a float" in (value.note or "") and "10^434" in (value.note or "")


def test_the_issue_examples_through_the_cli(cli) -> None:
    """The numbers the issue quotes, as the command prints them."""
    cases = [("sigmoid(x)", "x=400", 1.9151695967140057e-174), ("cosh(x) - sinh(x)", "x=400", -1.9151695967140057e-174),
             ("exp(x) - x", "x=1e-200", 1e-200), ("x - sin(x)", "x=1e-100", 5e-201)]
    for text, at, expected in cases:
        data = cli("diff", text, "--at", at, "--no-steps", "--format", "json").json()
        assert data["value"] == pytest.approx(expected, rel=1e-14), text
    for text, at in [("tanh(x)", "x=1e5"), ("sqrt(x^2+1) - x", "x=1e300")]:
        data = cli("diff", text, "--at", at, "--no-steps", "--format", "json").json()
        assert data["value"] == 0.0 and "below the smallest float" in data["note"]
    out = cli("diff", "sigmoid(x)", "--at", "x=400", "--no-steps", "--format", "plain").stdout
    assert "1.91516959671e-174" in out


# the evaluator itself ---------------------------------------------------------------------------------
def test_an_exact_zero_written_unsimplified_is_zero_to_a_stated_bound() -> None:
    outcome = settle(sp.sin(1) ** 2 + sp.cos(1) ** 2 - 1)
    assert outcome.status == "tiny" and outcome.bound < mpmath.mpf(10) ** -323


def test_not_real_undefined_and_jumps() -> None:
    from symgrad.precise import Undefined

    assert settle(sp.sqrt(-2 - sp.tanh(3))).status == "not real"
    with pytest.raises(Undefined):
        settle(sp.log(sp.Integer(0)) + sp.Symbol("x") * 0 + sp.zoo)
    # a sign whose argument is a tiny positive number hidden by rounding: decided, not guessed
    tiny = 1 - sp.tanh(200) ** 2
    assert float(settle(sp.sign(tiny)).value) == 1.0
    assert float(settle(sp.Heaviside(-tiny)).value) == 0.0
    assert float(settle(sp.DiracDelta(tiny)).value) == 0.0


def test_complex_intermediates_that_cancel_are_real() -> None:
    outcome = settle(sp.asin(2) + sp.acos(2))
    assert outcome.status == "settled" and float(outcome.value) == pytest.approx(float(mpmath.pi / 2), rel=1e-15)


def test_a_value_that_cannot_be_pinned_down_says_so() -> None:
    """1/(1 − tanh²(10⁵)) is about 10^86859: no precision up to the limit resolves the denominator."""
    value = evaluation.evaluate(1 / (1 - sp.tanh(sp.Integer(10) ** 5) ** 2), {})
    assert value.value is None and value.note


# identities at extreme points: each side cancels where the other does not ------------------------------
IDENTITIES = [
    # (SymPy form that cancels, the same function written without cancellation in mpmath, range of x)
    (lambda t: 1 - sp.tanh(t) ** 2, lambda t: 1 / mpmath.cosh(t) ** 2, (1, 350)),
    (lambda t: sp.cosh(t) - sp.sinh(t), lambda t: mpmath.exp(-t), (1, 700)),
    (lambda t: sigmoid_(t) * (1 - sigmoid_(t)), _SIG, (-700, 700)),
    (lambda t: 1 - sp.cos(1 / t), lambda t: 2 * mpmath.sin(1 / (2 * t)) ** 2, (10, 10**150)),
    (lambda t: sp.exp(1 / t) - 1, lambda t: mpmath.expm1(1 / t), (10, 10**300)),
    (lambda t: t / sp.sqrt(t**2 + 1) - 1, lambda t: -1 / (mpmath.sqrt(t**2 + 1) * (mpmath.sqrt(t**2 + 1) + t)),
     (1, 10**150)),
]


def sigmoid_(t: sp.Expr) -> sp.Expr:
    from symgrad.vocabulary.functions import sigmoid

    return sigmoid(t)


@settings(max_examples=150, deadline=None, database=None)
@given(st.sampled_from(range(len(IDENTITIES))), st.floats(0, 1))
def test_cancelling_forms_agree_with_their_stable_forms(which: int, where: float) -> None:
    cancelling, stable, (lo, hi) = IDENTITIES[which]
    t = sp.Rational(lo) + sp.Rational(round(where * 10**6), 10**6) * (hi - lo)  # exact: no rounding of the point
    value = evaluation.evaluate(cancelling(t), {})
    with mpmath.workdps(80):
        expected = stable(mpmath.mpf(t.p) / t.q)
        if abs(expected) < mpmath.mpf("2.5e-308"):  # below the normal floats: 0 with a note, or the subnormal
            assert value.value is not None and abs(value.value) <= 2.5e-308 and value.note is not None
            return
        assert value.value is not None, value.note
        assert _close(value.value, expected, 1e-14), (str(t), value.value, mpmath.nstr(expected, 20))


# deep chains ------------------------------------------------------------------------------------------
def _tanh_chain_slope(depth: int, x: int) -> mpmath.mpf:
    """d/dx tanh(tanh(…(x)…)) by forward mode with sech² written as 1/cosh² (no cancellation)."""
    with mpmath.workdps(60):
        u, slope = mpmath.mpf(x), mpmath.mpf(1)
        for _ in range(depth):
            slope, u = slope / mpmath.cosh(u) ** 2, mpmath.tanh(u)
        return slope


@pytest.mark.parametrize("depth", [5, 12, 70])
def test_deep_tanh_chains_at_200(cli, depth: int) -> None:
    text = "tanh(" * depth + "x" + ")" * depth
    data = cli("diff", text, "--at", "x=200", "--no-steps", "--format", "json", "--timeout", "300").json()
    expected = _tanh_chain_slope(depth, 200)
    assert _close(data["value"], expected), (data["value"], mpmath.nstr(expected, 17))


def test_deep_sigmoid_chain_at_400(cli) -> None:
    depth = 70
    text = "sigmoid(" * depth + "x" + ")" * depth
    data = cli("diff", text, "--at", "x=400", "--no-steps", "--format", "json", "--timeout", "300").json()
    with mpmath.workdps(60):
        u, slope = mpmath.mpf(400), mpmath.mpf(1)
        for _ in range(depth):
            slope, u = slope * _SIG(u), 1 / (1 + mpmath.exp(-u))
    assert _close(data["value"], slope)


# a property over grammar-generated expressions ----------------------------------------------------------
def to_mpmath(expr: sp.Basic, point: dict[sp.Symbol, sp.Rational]) -> mpmath.mpf | mpmath.mpc:
    """``expr`` at ``point`` in mpmath at the current precision, by a direct translation of the
    tree (the test's own, sharing nothing with symgrad.precise). Raises LookupError for a node it
    does not know."""
    from symgrad.vocabulary.functions import relu, sigmoid, softplus

    unary = {
        sp.sin: mpmath.sin, sp.cos: mpmath.cos, sp.tan: mpmath.tan, sp.sec: mpmath.sec, sp.csc: mpmath.csc,
        sp.cot: mpmath.cot, sp.asin: mpmath.asin, sp.acos: mpmath.acos, sp.atan: mpmath.atan,
        sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh, sp.tanh: mpmath.tanh, sp.exp: mpmath.exp, sp.log: mpmath.log,
        sp.Abs: abs, sp.erf: mpmath.erf, sp.sign: mpmath.sign, sigmoid: lambda u: 1 / (1 + mpmath.exp(-u)),
        softplus: lambda u: mpmath.log(1 + mpmath.exp(u)), relu: lambda u: max(u, 0),
        sp.Heaviside: lambda u: mpmath.mpf(1) if u > 0 else mpmath.mpf(0),
    }

    def walk(node: sp.Basic) -> object:
        if node in point:
            return mpmath.mpf(point[node].p) / point[node].q
        if node.is_Integer:
            return mpmath.mpf(int(node))
        if node.is_Rational:
            return mpmath.mpf(int(node.p)) / int(node.q)
        if node is sp.pi:
            return +mpmath.pi
        if node is sp.E:
            return mpmath.e()
        if node.is_Add:
            return mpmath.fsum(walk(a) for a in node.args)
        if node.is_Mul:
            return mpmath.fprod(walk(a) for a in node.args)
        if node.is_Pow:
            return mpmath.power(walk(node.base), walk(node.exp))
        if isinstance(node, (sp.Max, sp.Min)):
            values = [walk(a) for a in node.args]
            return max(values) if isinstance(node, sp.Max) else min(values)
        if node.func in unary and len(node.args) == 1:
            return unary[node.func](walk(node.args[0]))
        raise LookupError(type(node).__name__)

    return walk(expr)  # type: ignore[return-value]


def _oracle(expr: sp.Basic, point: dict[sp.Symbol, sp.Rational]) -> mpmath.mpf | None:
    """The real value at 60 digits if 60 and 120 digits agree to 40 of them; else None."""
    values = []
    for digits in (60, 120):
        with mpmath.workdps(digits):
            try:
                v = to_mpmath(expr, point)
            except (LookupError, ZeroDivisionError, ValueError, OverflowError, TypeError):
                return None
            if isinstance(v, mpmath.mpc):
                if abs(v.imag) > abs(v) * mpmath.mpf(10) ** -40:
                    return None
                v = v.real
            if not mpmath.isfinite(v):
                return None
            values.append(+v)
    a, b = values
    if abs(a - b) > abs(b) * mpmath.mpf(10) ** -40 + mpmath.mpf(10) ** -4000:
        return None
    return b


def check_value(text: str, rng: random.Random) -> str:
    from sympy.core.function import AppliedUndef

    try:
        with budget.time_budget(20):
            e = parse(text)
            if isinstance(e, sp.Tuple) or not e.free_symbols or e.atoms(AppliedUndef) or e.has(sp.Indexed):
                return "skip"
            d = calculus.derivative(e)
            point = {s: sp.Rational(rng.randint(-2500, 2500), rng.choice([100, 1000])) for s in sorted(e.free_symbols,
                                                                                                       key=str)}
            value = evaluation.evaluate(d, point)
    except SymgradError:
        return "skip"
    expected = _oracle(d, point)
    if value.value is None or expected is None:
        return "skip"
    if abs(expected) > mpmath.mpf("1e300") or 0 < abs(expected) < mpmath.mpf("1e-300"):
        return "skip"
    assert abs(mpmath.mpf(value.value) - expected) <= mpmath.mpf("1e-13") * abs(expected) + mpmath.mpf(10) ** -320, (
        text, str(d), point, value.value, mpmath.nstr(expected, 20))
    return "checked"


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(properties.expressions(), st.integers(0, 2**32 - 1))
def test_values_of_generated_expressions_agree_with_mpmath(text: str, seed: int) -> None:
    check_value(text, random.Random(seed))


def test_values_on_grammar_walks() -> None:
    """The same on 600 seeded walks of the grammar, which the oracle must check often enough."""
    walker = properties.GrammarWalker()
    rng = random.Random(13)
    outcomes = [check_value(walker.text(rng), rng) for _ in range(600)]  # most walks are refused by the parser
    assert outcomes.count("checked") >= 25


def test_the_value_check_can_fail() -> None:
    """The oracle is not vacuous: a value off in the 14th digit is caught."""
    real = evaluation.evaluate
    try:
        evaluation.evaluate = lambda *a, **k: evaluation.Value(  # type: ignore[assignment]
            real(*a, **k).value * (1 + 1e-12) if real(*a, **k).value else None)  # type: ignore[operator]
        with pytest.raises(AssertionError):
            for seed in range(20):
                check_value("sin(x) + x^2", random.Random(seed))
    finally:
        evaluation.evaluate = real


def test_json_values_are_always_finite_or_null(cli) -> None:
    for args in (["diff", "exp(x)", "--at", "x=1000"], ["diff", "1/x", "--at", "x=0"], ["grad", "x^2 + exp(y)", "--at",
                                                                                        "x=1,y=800"]):
        res = cli(*args, "--format", "json")
        json.loads(res.stdout, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))

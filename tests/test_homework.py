"""``symgrad check`` and ``symgrad table``: verdicts checked against SymPy, the mistake found."""

from __future__ import annotations

import pytest
import sympy as sp
from conftest import x
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import GrammarWalker, _at, _kink_arguments, check_parse, expressions, random_point

from symgrad.parsing import parse
from symgrad.steps.homework import TABLE_ENTRIES, check_answer, derivative_table


def test_right_answer_is_correct(cli) -> None:
    res = cli("check", "x cos(πx)", "--answer", "cos(πx) - πx sin(πx)", "--format", "json")
    assert res.exit_code == 0
    data = res.json()
    assert data["command"] == "check" and data["correct"] is True and "counterexample" not in data
    assert parse(data["expected"]) == sp.diff(parse("x cos(pi x)"), x)


def test_right_answer_in_another_form_is_correct() -> None:
    r = check_answer("tan x", "1 + tan(x)^2")  # the engine writes sec²: equal, not identical
    assert r.correct is True
    assert check_answer("x^2 e^x", "e^x (x^2 + 2x)").correct is True


@pytest.mark.parametrize("expr,answer,rule,words", [
    ("x cos(πx)", "cos(πx) - x sin(πx)", "chain", "without the inner derivative"),  # the course notes' slip
    ("relu(x)", "x", "relu", "taken as x"),
    ("(y - (w x + b))^2", "2 (y - (w x + b)) x", "sum", "sign error"),  # the MSE's lost minus sign
    ("x^2 sin x", "2x cos x", "product", "product of the derivatives"),
    ("sin(x)/x", "(sin x - x cos x)/x^2", "quotient", "swapped"),
    ("x^x", "x x^(x - 1)", "log_differentiation", "power rule"),
    ("2^x", "2^x", "exponential", "ln a"),
    ("x^5", "5 x^5", "power", "without lowering"),
])
def test_wrong_answer_counterexample_and_mistake(cli, expr: str, answer: str, rule: str, words: str) -> None:
    wrt = ["--wrt", "w"] if "w" in expr else []
    data = cli("check", expr, "--answer", answer, *wrt, "--format", "json").json()
    assert data["correct"] is False
    # the counterexample is real: at that point the true derivative and the answer differ
    point = {sp.Symbol(k, real=True): sp.Float(v, 30) for k, v in data["counterexample"]["point"].items()}
    truth = sp.diff(parse(expr), sp.Symbol(wrt[1] if wrt else "x", real=True)).subs(point).evalf(20)
    given = parse(answer).subs(point).evalf(20)
    assert abs(float(truth) - data["counterexample"]["expected"]) < 1e-9
    assert abs(float(given) - data["counterexample"]["answer"]) < 1e-9
    assert abs(float(truth - given)) > 1e-9
    assert data["mistake"]["rule"] == rule and words in data["mistake"]["description"]
    assert data["steps"]  # the correct derivation comes with a wrong answer


def test_check_text_output(cli) -> None:
    res = cli("check", "x cos(πx)", "--answer", "cos(πx) - x sin(πx)", "--format", "plain")
    assert res.exit_code == 0
    assert "not correct" in res.stdout and "chain rule step for cos(π·x)" in res.stdout
    assert "Steps" in res.stdout
    ok = cli("check", "sigmoid(x)", "--answer", "σ(x)(1 - σ(x))", "--format", "markdown")
    assert ok.exit_code == 0 and "correct" in ok.stdout and "not correct" not in ok.stdout


def test_check_bad_answer_is_input_error(cli) -> None:
    res = cli("check", "x^2", "--answer", "2x +", "--format", "plain")
    assert res.exit_code == 2 and "error:" in res.stderr


def test_table_entries_are_computed_and_right(cli) -> None:
    rows = derivative_table()
    assert len(rows) == len(TABLE_ENTRIES)
    for row in rows:
        e = row.derivation.expr
        assert row.derivation.check in ("exact", "numeric")
        for x0 in ("0.37", "0.61"):  # where every entry is defined (asin needs |x| < 1)
            point = {s: sp.Rational(x0) if s.name == "x" else sp.Rational(5, 2) for s in e.free_symbols}
            a, b = row.derivation.result.subs(point).evalf(25), sp.diff(e, x).subs(point).evalf(25)
            assert abs(a - b) < 1e-20, (row.text, a, b)
        assert "table" not in [s.rule for s in row.derivation.steps[0].walk()]
    data = cli("table", "--format", "json").json()
    assert data["command"] == "table"
    by_function = {r["function"]: r for r in data["rows"]}
    assert by_function["sigmoid(x)"]["derivative"] == "sigmoid(x)*(1 - sigmoid(x))"
    assert by_function["relu(x)"]["derivative"] == "Heaviside(x)" and "undefined at 0" in by_function["relu(x)"]["note"]
    assert by_function["tanh(x)"]["derivative"] == "1 - tanh(x)**2"


@pytest.mark.parametrize("fmt", ["plain", "rich", "latex", "markdown"])
def test_table_in_every_format(cli, fmt: str) -> None:
    res = cli("table", "--format", fmt)
    assert res.exit_code == 0 and "σ" in res.stdout or r"\sigma" in res.stdout


# the verdict is never wrong (issue 13: check accepted wrong answers; issue 12: p-notation) -------
# The oracle is independent of symgrad's comparison: mpmath at 60 digits on the texts as SymPy
# reads them (sympy.diff for the derivative), at the counterexample symgrad gives for a wrong
# answer and at many random points for a right one; for the piecewise cases, where the answers
# differ is known exactly (the comment on each case).
def _oracle_value(expr: sp.Basic, point: dict[sp.Symbol, object], digits: int = 60):
    import mpmath

    # maxn: where terms cancel, work with up to 2000 digits (symgrad's own comparison stops at 400)
    value = expr.evalf(digits, subs={s: sp.Rational(str(v)) if isinstance(v, float) else v for s, v in point.items()},
                       maxn=2000)
    re_part, im_part = value.as_real_imag()
    if not (re_part.is_number and im_part.is_number) or abs(im_part) > 1e-40 or value.has(sp.zoo, sp.nan):
        return None
    return mpmath.mpf(sp.Float(re_part, digits)._mpf_)


def _symbols(*exprs: sp.Basic) -> dict[str, sp.Symbol]:
    return {s.name: s for e in exprs for s in e.free_symbols}


WRONG_ANSWERS = [
    # (expression, answer, wrt): each differs from the derivative on a whole interval
    ("|x - 5|", "-1", None),  # +1 for x > 5
    ("x^2", "2x + 10^-20", None),  # everywhere, by 10⁻²⁰ (exactly)
    ("x^2", "2x + 1e-30", None),
    ("x^2", "2x + 10^-30 x", None),
    ("x^2", "2x + 10^-40 sin(x)", None),  # below the 35 digits compared: the difference is evaluated
    ("sin(x)", "cos(x) + sin(100 pi x)", None),  # zero on the 0.01 grid, nowhere else
    ("sin(x)", "cos(x) + sin(10^4 x)/10^4", None),
    ("sin(x)", "cos(x) + 10^-25 cos(1000 x)", None),
    ("x^2", "2x + relu(x - 3.5)", None),  # for x > 3.5
    ("x^2", "2x + Heaviside(x - 10)", None),  # for x > 10
    ("x^2", "2x + relu(x - 1000)", None),  # only for x > 1000
    ("x^2", "2x + Heaviside(x - 10^6)", None),  # a jump at large x
    ("x^2", "2x + relu(x - sqrt(2))", None),  # a kink at an irrational point
    ("x^2", "2x + Heaviside(x - pi)", None),
    ("x^2", "2x + relu(2 - x) + relu(x - 2) - |x - 2| + relu(1 - x)", None),  # only for x < 1
    ("x^2", "2x + relu(sin(x) - 0.9999999)", None),  # windows 10⁻³ wide around π/2 + 2kπ
    ("x^2", "2x + exp(-10^6 (x - 3)^2)", None),  # a bump, and 10⁻¹⁰⁰⁰⁰⁰ away from it
    ("x^2", "sin(x)^2 + cos(x)^2 - 1 + 2x + 10^-200 sin(x)", None),  # 10⁻²⁰⁰ behind an identity
    ("x^2", "sigmoid(x) - 1/(1 + exp(-x)) + 2x + 10^-100 exp(-10^4 (x - 1)^2)", None),
    ("|x|", "1", None),  # for x < 0
    ("x |x|", "2x", None),  # 2|x|: for x < 0
    ("max(x, 2)", "1", None),  # for x < 2
    ("relu(x)", "Heaviside(x) + Heaviside(x - 1000)", None),
    ("|x - y|", "1", "x"),  # for x < y
    ("x |y|", "x", "y"),  # for y < 0
    ("sigmoid(x)", "σ(x)(1 + σ(x))", None),
    ("cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))", "p1 + y1", "a1"),
    ("cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))", "p2 - y1", "a1"),
]


@pytest.mark.parametrize("expr,answer,wrt", WRONG_ANSWERS)
def test_wrong_answers_are_never_correct(cli, expr: str, answer: str, wrt: str | None) -> None:
    args = ["check", expr, "--answer", answer, "--format", "json"] + (["--wrt", wrt] if wrt else [])
    data = cli(*args).json()
    assert data["correct"] is False, data
    assert data["method"] in ("exact", "numeric") and data["reason"]
    # the oracle: at symgrad's counterexample the true derivative and the answer differ
    e, given = parse(expr), parse(answer)
    names = _symbols(e, given)
    var = names[wrt or "x"]
    truth = sp.diff(e, var)
    point = {names[k]: v for k, v in data["counterexample"]["point"].items() if k in names}
    if "p1" in answer or "p2" in answer:  # the answer's p are the softmax of the logits
        logits = [names[f"a{k}"] for k in (1, 2, 3)]
        total = sum(sp.exp(a) for a in logits)
        given = given.xreplace({sp.Symbol(f"p{k}", real=True): sp.exp(a) / total for k, a in enumerate(logits, 1)})
    import mpmath

    with mpmath.workdps(60):
        t, g = _oracle_value(truth, point), _oracle_value(given, point)
        gap = _oracle_value(given - truth, point)  # as one expression: 10⁻³⁰⁰⁰⁰⁰⁰ is not lost beside 2x
        assert t is not None and g is not None and gap is not None
        assert gap != 0
        # the difference symgrad reports (as text: it can be beyond a float's range)
        assert abs(mpmath.mpf(data["counterexample"]["difference"]) - gap) <= 1e-4 * abs(gap)
    assert abs(float(t) - data["counterexample"]["expected"]) <= 1e-9 * max(1, abs(float(t)))


RIGHT_ANSWERS = [
    # (expression, answer, wrt): equal wherever the derivative exists, written differently
    ("tan x", "sec(x)^2", None),
    ("tan x", "tan(x)^2 + 1", None),
    ("tanh x", "sech(x)^2", None),
    ("tanh x", "4/(e^x + e^-x)^2", None),
    ("sigmoid(x)", "exp(-x)/(1 + exp(-x))^2", None),
    ("sigmoid(x)", "σ(x) - σ(x)^2", None),
    ("1/(1 + exp(-x))", "σ(x)(1 - σ(x))", None),
    ("sigmoid(3x)", "3 σ(1 - σ)", None),  # σ alone: the expression's σ(3x)
    ("|x|", "sign(x)", None),
    ("|x|", "|x|/x", None),
    ("|x|", "x/|x|", None),
    ("x |x|", "2 |x|", None),
    ("x^2 |x|", "3 x |x|", None),
    ("relu(x)", "(1 + sign(x))/2", None),
    ("x^2", "2x - relu(2 - x) + relu(x - 2) + |x - 2| - 2 relu(x - 2)", None),  # 0 on both sides of 2
    ("x relu(x)", "2 max(x, 0)", None),
    ("max(x, 0)", "Heaviside(x)", None),
    ("|x - sqrt(2)|", "sign(x - sqrt(2))", None),  # the kink at an irrational point
    ("relu(x - 1000)", "Heaviside(x - 1000)", None),
    ("|x^2 - 2|", "2x sign(x^2 - 2)", None),  # kinks at ±√2
    ("ln|x|", "1/x", None),
    ("sin(x)^2", "sin(2x)", None),
    ("x^2 y^3", "3 x^2 y^2", "y"),
    ("cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))", "p1 - y1", "a1"),  # issue 12
    ("cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))", "p1 (y1 + y2 + y3) - y1", "a1"),  # Σy = 1
    ("cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))", "exp(a1)/(exp(a1) + exp(a2) + exp(a3)) - y1", "a1"),
    ("softmax_1(a1, a2)", "p1 (1 - p1)", "a1"),
    ("softmax_1(a1, a2)", "-p1 p2", "a2"),
]


def _answer_for_oracle(expr: sp.Basic, given: sp.Basic) -> sp.Basic:
    """The answer with p and σ written out by hand (not by symgrad's reading of them)."""
    from symgrad.vocabulary.functions import sigmoid
    from symgrad.vocabulary.softmax import cross_entropy, softmax_component

    table = {}
    logits = [c.logits for c in expr.atoms(softmax_component) | expr.atoms(cross_entropy)]
    if logits:
        total = sum(sp.exp(a) for a in logits[0])
        table.update({sp.Symbol(f"p{k}", real=True): sp.exp(a) / total for k, a in enumerate(logits[0], 1)})
    for s in expr.atoms(sigmoid):
        table[sp.Symbol("sigma", real=True)] = 1 / (1 + sp.exp(-s.args[0]))
    sigma = sp.Symbol("sigma", real=True)
    # "σ(1 − σ)" is parsed as σ applied to (1 − σ): with a bare σ inside it is the product
    given = given.replace(lambda g: isinstance(g, sigmoid) and g.args[0].has(sigma), lambda g: sigma * g.args[0])
    return given.xreplace(table)


@pytest.mark.parametrize("expr,answer,wrt", RIGHT_ANSWERS)
def test_right_answers_in_other_forms_are_correct(cli, expr: str, answer: str, wrt: str | None) -> None:
    import random

    import mpmath

    args = ["check", expr, "--answer", answer, "--format", "json"] + (["--wrt", wrt] if wrt else [])
    data = cli(*args).json()
    assert data["correct"] is True, data
    assert data["method"] in ("exact", "numeric") and "counterexample" not in data
    # the oracle: equal at 200 random points (the labels y on the simplex: Σ y = 1)
    e = parse(expr)
    given = _answer_for_oracle(e, parse(answer))
    names = _symbols(e, given)
    var = names[wrt or "x"]
    truth = sp.diff(e.rewrite(sp.exp) if "cross_entropy" in expr else e, var)
    rng = random.Random(7)
    compared = 0
    for _ in range(200):
        point = {s: sp.Rational(rng.randint(-30000, 30000), rng.choice([7, 1000, 10**6])) for s in names.values()}
        if "y1" in names:
            w = [sp.Rational(rng.randint(1, 1000)) for _ in range(3)]
            point.update({names[f"y{k}"]: w[k - 1] / sum(w) for k in (1, 2, 3)})
        with mpmath.workdps(40):
            t, g = _oracle_value(truth, point, 40), _oracle_value(given, point, 40)
            if t is None or g is None:
                continue
            assert abs(t - g) <= 1e-30 * max(1, abs(t)), (point, t, g)
        compared += 1
    assert compared >= 50


@pytest.mark.parametrize("expr,answer,low,high,right", [
    # real on a narrow interval only: the sample points find it (both sides of where it ends)
    ("asin(10^4 x - 3)", "10^4/sqrt(1 - (10^4 x - 3)^2) + sin(x)^2 + cos(x)^2 - 1", "2/10000", "4/10000", True),
    ("asin(10^4 x - 3)", "10^4/sqrt(1 - (10^4 x - 3)^2) + relu(x - 3/10^4)", "2/10000", "4/10000", False),
    ("sqrt(x - 10^5)", "1/(2 sqrt(x - 10^5)) + sin(x)^2 + cos(x)^2 - 1", "100000", "200000", True),
    ("sqrt(x - 10^5)", "1/(2 sqrt(x - 10^5)) + 10^-40 sin(x)", "100000", "200000", False),
])
def test_narrow_domains(expr: str, answer: str, low: str, high: str, right: bool) -> None:
    import random

    import mpmath

    r = check_answer(expr, answer)
    assert r.correct is right, r.reason
    # the oracle, inside the domain: equal everywhere, or different at most points
    e, given = parse(expr), parse(answer)
    truth = sp.diff(e, x)
    lo, hi = sp.Rational(low), sp.Rational(high)
    rng = random.Random(3)
    with mpmath.workdps(60):
        gaps = [_oracle_value(given - truth, {x: lo + (hi - lo) * sp.Rational(rng.randint(1, 999), 1000)})
                for _ in range(100)]
    assert all(g is not None for g in gaps)
    assert all(g == 0 or abs(g) < 1e-45 for g in gaps) if right else sum(g != 0 for g in gaps) > 30


def test_issue_examples_json_and_text(cli) -> None:
    """The issue's cases, as the user sees them: the verdict, how it was reached, the difference."""
    tiny = cli("check", "x^2", "--answer", "2x + 10^-20", "--format", "json").json()
    assert tiny["correct"] is False and tiny["method"] == "exact" and "constant" in tiny["reason"]
    assert float(tiny["counterexample"]["difference"]) == pytest.approx(1e-20)
    text = cli("check", "x^2", "--answer", "2x + 10^-20", "--format", "plain").stdout
    assert "not correct" in text and "off by +1.0e-20" in text  # the two values alone print the same
    bump = cli("check", "x^2", "--answer", "2x + exp(-10^6 (x - 3)^2)", "--format", "json").json()
    assert bump["correct"] is False and "e-" in bump["counterexample"]["difference"]
    kink = cli("check", "|x - 5|", "--answer", "-1", "--format", "json").json()
    assert kink["correct"] is False and kink["counterexample"]["point"]["x"] > 5
    ce = cli("check", "cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))", "--wrt", "a1", "--answer", "p1 - y1",
             "--format", "json").json()
    assert ce["correct"] is True and ce["method"] == "exact"
    assert any("p₁" in n and "softmax" in n for n in ce["notes"]) and any("Σ" in n for n in ce["notes"])
    huge = cli("check", "(x+1)^1000000", "--answer", "(x+2)^1000000", "--format", "json").json()
    assert huge["correct"] is False and huge["counterexample"]["answer"].endswith(tuple("0123456789"))
    assert "e+" in huge["counterexample"]["answer"]  # beyond a float: as text, not inf
    # not real where the derivative is (x < 10): wrong there, whatever it is for x > 10
    complex_answer = cli("check", "x^2", "--answer", "2x + sqrt(x - 10)", "--format", "json").json()
    assert complex_answer["correct"] is False and complex_answer["counterexample"]["answer"] is None
    assert complex_answer["counterexample"]["point"]["x"] < 10
    ok = cli("check", "|x|", "--answer", "sign(x)", "--format", "plain").stdout
    assert "correct: the answer equals the derivative (proved symbolically" in ok


def test_cannot_decide_is_said_not_guessed() -> None:
    # the positive side of x·sin x − 10⁹ lies beyond every sample point and solveset cannot say where
    r = check_answer("x^2", "2x + relu(x sin(x) - 10^9)")
    assert r.correct is None and r.method == "unknown" and "could not be worked out" in r.reason
    # p₁ when the expression has two softmaxes
    two = check_answer("softmax_1(a1, a2) + softmax_1(b1, b2)", "p1 (1 - p1)", wrt="a1")
    assert two.correct is None and "softmax" in two.reason


def test_compare_pieces_and_jumps_directly() -> None:
    """Switches the grammar does not write yet (floor, Piecewise), through the comparison itself."""
    from symgrad.steps.verify import compare

    assert compare(sp.floor(x) + 1, sp.ceiling(x), thorough=True).equal  # equal off the integers
    assert compare(sp.floor(x), sp.ceiling(x), thorough=True).kind == "different"
    pw = sp.Piecewise((-x, x < 0), (x, True))
    assert compare(pw, sp.Abs(x), thorough=True).kind == "exact"
    assert compare(sp.Piecewise((-x, x < 3), (x, True)), sp.Abs(x), thorough=True).kind == "different"
    assert compare(sp.DiracDelta(x - 1) + x, x, thorough=True).kind == "exact"  # 0 off its root
    assert compare(sp.Max(x, 1, -x), sp.Max(sp.Abs(x), 1), thorough=True).kind == "exact"


def test_mistake_finder_still_finds_the_step_under_the_stricter_comparison() -> None:
    r = check_answer("cross_entropy(softmax(a1, a2), (y1, y2))", "p1 + y1", wrt="a1")
    assert r.correct is False
    r = check_answer("x^2 |x|", "2x |x|")  # the product rule with only one term
    assert r.correct is False and r.mistake is not None and r.mistake.step.rule == "product"


# properties: the derivative itself is always correct; it plus a bump never is ---------------------
def _bumps(var: sp.Symbol, at: sp.Rational) -> list[sp.Expr]:
    """Nonzero near ``at`` (the oracle checks it at ``at`` itself): constants far below a float's
    resolution, kinks and jumps just before it, a narrow bump, a fast tiny wave."""
    from symgrad.vocabulary.functions import relu

    d = sp.Rational(1, 1000)
    return [sp.Rational(1, 10**20), sp.Rational(3, 10**30), relu(var - at + d), sp.Heaviside(var - at + d),
            sp.exp(-10**4 * (var - at) ** 2), sp.sin(1000 * var + 1) / 10**25,
            sp.Abs(var - at - d) - sp.Abs(var - at + d)]


def _property_case(text: str, seed: int) -> tuple[sp.Expr, sp.Symbol, sp.Expr, dict] | None:
    import random

    from sympy.core.function import AppliedUndef

    from symgrad.expressions import default_variable

    e = check_parse(text)
    if e is None or isinstance(e, sp.Tuple) or not e.free_symbols or e.atoms(AppliedUndef) or e.has(sp.Indexed):
        return None
    var = default_variable(e)
    point = random_point(e, random.Random(seed))
    if any((k := _at(arg, point, 30)) is None or abs(k) < 1e-3 for arg in _kink_arguments(e)):
        return None
    truth = sp.diff(e, var)
    if _at(e, point) is None or _at(truth, point) is None:
        return None
    return e, var, truth, point


def _property_check(text: str, seed: int) -> str:
    import random

    import mpmath

    from symgrad import budget
    from symgrad.errors import SymgradError

    case = _property_case(text, seed)
    if case is None:
        return "skip"
    e, var, truth, point = case
    bump = random.Random(seed).choice(_bumps(var, point[var]))
    with mpmath.workdps(60):
        assert _oracle_value(bump, point) != 0  # the oracle: the bumped answer is wrong at `point`
    try:
        with budget.time_budget(60):
            right = check_answer(e, truth, var)
            wrong = check_answer(e, truth + bump, var)
    except SymgradError:
        return "skip"
    assert right.correct is not False, (text, str(truth), right.reason, right.counterexample)
    assert wrong.correct is not True, (text, str(truth), str(bump), wrong.reason)
    return "checked" if right.correct and wrong.correct is False else "undecided"


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(expressions(), st.integers(0, 2**32 - 1))  # built once: the grammar's tables take 0.2 s
def test_property_derivative_is_correct_and_bumped_is_not(text: str, seed: int) -> None:
    """``from_lark`` on the grammar file: check(e, sympy.diff(e)) is never wrong, check(e, that +
    a bump that is nonzero where e is real) is never correct."""
    _property_check(text, seed)


def test_property_on_grammar_walks() -> None:
    """The same property on seeded walks of the grammar, so that it really runs on many inputs."""
    import random

    walker = GrammarWalker()
    rng = random.Random(20_261_204)
    outcomes = [_property_check(walker.text(rng, rng.randint(3, 7)), rng.randrange(2**32)) for _ in range(250)]
    assert outcomes.count("checked") >= 12, outcomes


def test_property_on_the_corpus() -> None:
    """The same property on the test corpus (homework notation), each with three different bumps."""
    from corpus import CORPUS

    outcomes = [_property_check(text, seed) for text in CORPUS for seed in (1, 2, 3)]
    assert outcomes.count("checked") >= len(CORPUS), outcomes.count("checked")

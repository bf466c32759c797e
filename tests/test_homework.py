"""``symgrad check`` and ``symgrad table``: verdicts checked against SymPy, the mistake found."""

from __future__ import annotations

import pytest
import sympy as sp
from conftest import x

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

"""Sums over data: the grammar's sum/mean/x_i/x[i], and gradients of losses checked on concrete data
against mpmath finite differences and the textbook −2Σ forms."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from conftest import R

from symgrad import calculus, expressions
from symgrad.multivar.sums import parameters, sum_derivative, sum_gradient
from symgrad.parsing import parse
from symgrad.vocabulary.sums import data_symbols

w, b, n = R("w"), R("b"), R("n")
i = sp.Symbol("i", integer=True)
X = sp.IndexedBase(R("x"))
Y = sp.IndexedBase(R("y"))
MSE = "sum((y_i - (w*x_i + b))^2, i, 1, n)"
XS = [0.5, 1.5, -2.0, 3.25]
YS = [1.0, 2.5, -3.0, 7.0]


def concrete(expr: sp.Expr) -> sp.Expr:
    """Bind n and the data: the sum becomes an explicit sum of numbers and parameters."""
    bound = expr.subs(n, len(XS)).doit()
    values = {X[k + 1]: sp.Rational(str(v)) for k, v in enumerate(XS)}
    values.update({Y[k + 1]: sp.Rational(str(v)) for k, v in enumerate(YS)})
    return bound.xreplace(values)


def mse_mp(wv: mpmath.mpf, bv: mpmath.mpf, mean: bool = False) -> mpmath.mpf:
    total = mpmath.fsum((yv - (wv * xv + bv)) ** 2 for xv, yv in zip(XS, YS))
    return total / len(XS) if mean else total


def test_parse_makes_plain_sum_and_indexed() -> None:
    e = parse(MSE)
    assert e == sp.Sum((Y[i] - (w * X[i] + b)) ** 2, (i, 1, n))
    assert parse("sum((y[i] - (w x[i] + b))^2, i, 1, n)") == e
    assert parse("Sum((-b - w*x[i] + y[i])**2, (i, 1, n))") == e


def test_subscripts_outside_the_sum_stay_symbols() -> None:
    e = parse("x_1 + sum(x_i x_j, i, 1, n)")
    assert R("x1") in e.free_symbols
    inner = next(iter(e.atoms(sp.Sum)))
    assert inner.function == X[i] * R("x_j")


def test_grad_gives_the_textbook_form() -> None:
    e = parse(MSE)
    gb, gw = sum_gradient(e)
    assert gw == -2 * sp.Sum(X[i] * (Y[i] - (w * X[i] + b)), (i, 1, n))
    assert gb == -2 * sp.Sum(Y[i] - (w * X[i] + b), (i, 1, n))
    assert calculus.gradient(e, "w,b") == [gw, gb]


@pytest.mark.parametrize("mean", [False, True])
def test_gradient_on_concrete_data_matches_finite_differences(mean: bool) -> None:
    text = "1/n " + MSE if mean else MSE
    e = parse(text)
    gw, gb = calculus.gradient(e, "w,b")
    point = (mpmath.mpf("0.75"), mpmath.mpf("-1.25"))
    at = {w: sp.Rational(3, 4), b: sp.Rational(-5, 4)}
    with mpmath.workdps(30):
        fd_w = mpmath.diff(lambda t: mse_mp(t, point[1], mean), point[0])
        fd_b = mpmath.diff(lambda t: mse_mp(point[0], t, mean), point[1])
    assert float(concrete(gw).subs(at)) == pytest.approx(float(fd_w), rel=1e-12)
    assert float(concrete(gb).subs(at)) == pytest.approx(float(fd_b), rel=1e-12)
    # and the loss itself agrees with the data it was bound to
    assert float(concrete(e).subs(at)) == pytest.approx(float(mse_mp(*point, mean)), rel=1e-12)


def test_mean_function_equals_one_over_n_sum() -> None:
    assert parse("mean((y_i - (w x_i + b))^2, i, 1, n)") == parse("1/n " + MSE)
    d = sum_derivative("mean((y_i - (w x_i + b))^2, i, 1, n)", "b")
    assert d == -2 * sp.Sum(Y[i] - (w * X[i] + b), (i, 1, n)) / n


def test_results_read_back() -> None:
    e = parse("1/n " + MSE)
    for g in calculus.gradient(e, "w,b"):
        assert parse(str(g)) == g
    assert parse(str(e)) == e


def test_data_and_parameters() -> None:
    e = parse("1/n " + MSE)
    assert data_symbols(e) == {R("x"), R("y"), n}
    assert parameters(e) == [b, w]
    assert expressions.variables(e) == [b, w]


def test_logistic_loss_over_data() -> None:
    e = parse("-sum(y_i ln(sigmoid(w x_i + b)) + (1 - y_i) ln(1 - sigmoid(w x_i + b)), i, 1, n)")
    gw = sum_derivative(e, "w")
    at = {w: sp.Rational(1, 2), b: sp.Rational(1, 3)}
    ys = [0, 1, 1, 0]
    bound = gw.subs(n, 4).doit().xreplace({**{X[k + 1]: sp.Rational(str(v)) for k, v in enumerate(XS)},
                                          **{Y[k + 1]: ys[k] for k in range(4)}})

    def loss(t: mpmath.mpf) -> mpmath.mpf:
        s = lambda u: 1 / (1 + mpmath.exp(-u))  # noqa: E731
        return -mpmath.fsum(yv * mpmath.log(s(t * xv + at[b])) + (1 - yv) * mpmath.log(1 - s(t * xv + at[b]))
                            for xv, yv in zip(XS, ys))

    assert float(bound.subs(at).evalf(30)) == pytest.approx(float(mpmath.diff(loss, 0.5)), rel=1e-10)


def test_grad_cli(cli) -> None:
    res = cli("grad", MSE, "--format", "json")
    assert res.exit_code == 0, res.stdout
    data = res.json()
    assert data["variables"] == ["b", "w"]
    assert [parse(g) for g in data["gradient"]] == [
        -2 * sp.Sum(Y[i] - (w * X[i] + b), (i, 1, n)),
        -2 * sp.Sum(X[i] * (Y[i] - (w * X[i] + b)), (i, 1, n)),
    ]
    plain = cli("grad", MSE, "--format", "plain").stdout
    assert "Σ[i=1..n]" in plain


@pytest.mark.parametrize(("text", "message"), [
    ("sum(x_i, 2, 1, n)", "index of a sum"),
    ("sum(x_i, i, 5, 1)", "upper limit is below"),
    ("sum(x_i, i, 1, i)", "its own index"),
    ("sum(x_i, i, 1)", "takes 4 arguments"),
    ("sum(x_i, i, 1/2, n)", "whole number"),
])
def test_bad_sums(cli, text: str, message: str) -> None:
    res = cli("grad", text, "--format", "plain")
    assert res.exit_code == 2
    assert message in res.stderr
    assert "^" in res.stderr


def test_data_is_not_a_parameter() -> None:
    from symgrad.errors import InputError

    with pytest.raises(InputError):
        sum_derivative(MSE, "n")


def test_hessian_of_the_loss_on_concrete_data() -> None:
    from symgrad.multivar.hessian import hessian

    e = parse(MSE)
    h = hessian(e)
    assert h.variables == (b, w)
    assert h.matrix[0][0] == 2 * n
    assert h.matrix[0][1] == 2 * sp.Sum(X[i], (i, 1, n))
    ours = sp.Matrix(h.matrix).applyfunc(concrete)
    assert ours == sp.hessian(concrete(e), (b, w))


def test_self_check_writes_sums_out_at_whole_limits(cli, monkeypatch) -> None:
    """The step engine's self-check evaluates a sum at whole n (2…5), written out: never with SymPy's
    evalf series method, which spent seconds on a sum to n = 1.43 (the MSE gradient took 5 s)."""
    from symgrad.steps.verify import compare

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("evalf summed a series")

    monkeypatch.setattr(sp.Sum, "euler_maclaurin", refuse)
    res = cli("grad", "1/n " + MSE, "--format", "json")
    assert res.exit_code == 0, res.stdout
    c = R("c")
    assert compare(sp.Sum(c**2 + c, (i, 1, n)), n * (c + c**2)).kind == "numeric"  # the same n on both sides
    wrong = compare(sp.Sum(c**2 + c, (i, 1, n)), n * (c + 2 * c**2))
    assert wrong.kind == "different" and wrong.point["n"] in (2, 3, 4, 5)

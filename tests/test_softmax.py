"""Softmax and cross-entropy: derivatives against sympy.diff of the exponential form, mpmath finite
differences, the textbook formulas, and PyTorch when it is installed."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from conftest import R

from symgrad import calculus
from symgrad.multivar.jacobian import jacobian
from symgrad.multivar.softmax import softmax_derivation
from symgrad.parsing import parse, parse_full
from symgrad.vocabulary.softmax import cross_entropy, softmax_component

A = [R(f"a{k}") for k in range(1, 4)]
Y = [R(f"y{k}") for k in range(1, 4)]
LOGITS = [0.3, -1.2, 2.0]
LABELS = [0.2, 0.5, 0.3]


def softmax_mp(values: list) -> list:
    top = max(values)
    e = [mpmath.exp(v - top) for v in values]
    s = mpmath.fsum(e)
    return [v / s for v in e]


def ce_mp(logits: list, labels: list) -> mpmath.mpf:
    """−Σ yᵢ ln pᵢ, the textbook definition (independent of symgrad's form)."""
    return -mpmath.fsum(y * mpmath.log(p) for y, p in zip(labels, softmax_mp(logits)))


def at(expr: sp.Expr, logits: list, labels: list | None = None) -> float:
    point = {a: sp.Float(v, 30) for a, v in zip(A, logits)}
    if labels:
        point.update({yy: sp.Float(v, 30) for yy, v in zip(Y, labels)})
    return float(expr.subs(point).evalf(30))


def test_component_derivatives_equal_the_exponential_form() -> None:
    explicit = [sp.exp(a) / sum(sp.exp(b) for b in A) for a in A]
    for k in range(3):
        p = softmax_component(k + 1, *A)
        for j in range(3):
            ours = sp.diff(p, A[j]).rewrite(sp.exp)
            assert sp.simplify(ours - sp.diff(explicit[k], A[j])) == 0


def test_softmax_jacobian_is_diag_p_minus_ppT() -> None:
    j = jacobian("softmax(a1, a2, a3)")
    p = [softmax_component(k, *A) for k in (1, 2, 3)]
    expected = sp.diag(*p) - sp.Matrix(p) * sp.Matrix(p).T
    assert (j.to_matrix() - expected).applyfunc(sp.expand) == sp.zeros(3, 3)
    # and numerically, by finite differences of the textbook formula
    for r in range(3):
        for c in range(3):
            fd = mpmath.diff(lambda t: softmax_mp([t if m == c else LOGITS[m] for m in range(3)])[r], LOGITS[c])
            assert at(j.matrix[r][c], LOGITS) == pytest.approx(float(fd), rel=1e-9, abs=1e-12)


def test_evalf_is_stable_for_huge_logits() -> None:
    p = softmax_component(1, sp.Integer(1000), sp.Integer(999))
    assert float(p.evalf()) == pytest.approx(float(1 / (1 + mpmath.e**-1)), rel=1e-14)


def test_cross_entropy_gradient_is_p_minus_y() -> None:
    e = parse("cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))")
    grad = calculus.gradient(e, A)
    assert grad == [softmax_component(k + 1, *A) - Y[k] for k in range(3)]
    for k in range(3):
        fd = mpmath.diff(lambda t: ce_mp([t if m == k else LOGITS[m] for m in range(3)], LABELS), LOGITS[k])
        assert at(grad[k], LOGITS, LABELS) == pytest.approx(float(fd), rel=1e-9)
    assert at(e, LOGITS, LABELS) == pytest.approx(float(ce_mp(LOGITS, LABELS)), rel=1e-12)


def test_cross_entropy_100_classes_in_p_minus_y_form() -> None:
    n = 100
    names = ", ".join(f"a{k}" for k in range(1, n + 1))
    labels = ", ".join(f"y{k}" for k in range(1, n + 1))
    e = parse(f"cross_entropy(softmax({names}), ({labels}))")
    logits = [R(f"a{k}") for k in range(1, n + 1)]
    ys = [R(f"y{k}") for k in range(1, n + 1)]
    grad = calculus.gradient(e, logits)
    assert grad == [softmax_component(k + 1, *logits) - ys[k] for k in range(n)]
    assert max(sp.count_ops(g) for g in grad) <= 2
    # a numeric spot check against the textbook definition
    vals = [mpmath.mpf(k % 7) / 3 - 1 for k in range(n)]
    lab = [mpmath.mpf(1) / n] * n
    point = {**{a: sp.Float(float(v), 30) for a, v in zip(logits, vals)}, **{yy: sp.Float(1 / n, 30) for yy in ys}}
    fd = mpmath.diff(lambda t: ce_mp([t] + vals[1:], lab), vals[0])
    assert float(grad[0].subs(point).evalf(30)) == pytest.approx(float(fd), rel=1e-8)


def test_class_index_and_one_hot_agree() -> None:
    index = parse("cross_entropy(softmax(a1, a2, a3), 2)")
    onehot = parse("cross_entropy(softmax(a1, a2, a3), (0, 1, 0))")
    for v in A:
        assert sp.simplify((sp.diff(index, v) - sp.diff(onehot, v)).rewrite(sp.exp)) == 0
    assert sp.diff(index, A[1]) == softmax_component(2, *A) - 1
    assert sp.diff(index, A[0]) == softmax_component(1, *A)


def test_binary_and_plain_vector_cross_entropy() -> None:
    p, y = R("p"), R("y")
    assert parse("cross_entropy(p, y)") == -(y * sp.log(p) + (1 - y) * sp.log(1 - p))
    q = [R(f"q{k}") for k in (1, 2)]
    assert parse("cross_entropy((q1, q2), (y1, y2))") == -(Y[0] * sp.log(q[0]) + Y[1] * sp.log(q[1]))


@pytest.mark.parametrize("text", [
    "softmax(a1, a2, a3)",
    "cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))",
    "cross_entropy(softmax(a1, a2), 1)",
    "softmax_2(a1, 2 a2, a3^2)",
])
def test_str_reads_back(text: str) -> None:
    e = parse(text)
    assert parse(str(e)) == e


def test_notes_define_p() -> None:
    parsed = parse_full("cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))")
    assert any("softmax(a1, a2, a3)" in n for n in parsed.notes)
    assert any("Σ yᵢ = 1" in n for n in parsed.notes)


@pytest.mark.parametrize(("text", "column"), [
    ("cross_entropy(softmax(a1, a2), (1, 1))", 1),
    ("cross_entropy(softmax(a1, a2), 3)", 1),
    ("x + softmax(a1)", 5),
    ("cross_entropy(softmax(a1, a2, a3), (y1, y2))", 1),
    ("softmax_4(a1, a2)", 1),
])
def test_bad_softmax_input_is_exit_2_with_caret(cli, text: str, column: int) -> None:
    res = cli("grad", text, "--format", "plain")
    assert res.exit_code == 2, res.stdout
    assert f"at column {column}" in res.stderr


def test_grad_at_a_point_is_p_minus_y(cli) -> None:
    point = ",".join([f"a{k + 1}={v}" for k, v in enumerate(LOGITS)] + [f"y{k + 1}={v}" for k, v in enumerate(LABELS)])
    res = cli("grad", "cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))", "--wrt", "a1,a2,a3", "--at", point,
              "--format", "json")
    assert res.exit_code == 0, res.stdout
    data = res.json()
    p = softmax_mp(LOGITS)
    assert data["value"] == pytest.approx([float(p[k] - LABELS[k]) for k in range(3)], rel=1e-12)
    assert [parse(g) for g in data["gradient"]] == [softmax_component(k + 1, *A) - Y[k] for k in range(3)]


def test_against_pytorch_when_installed() -> None:
    torch = pytest.importorskip("torch")
    logits = torch.tensor([LOGITS], dtype=torch.float64, requires_grad=True)
    target = torch.tensor([LABELS], dtype=torch.float64)
    loss = torch.nn.functional.cross_entropy(logits, target)
    loss.backward()
    e = parse("cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))")
    assert at(e, LOGITS, LABELS) == pytest.approx(loss.item(), rel=1e-12)
    ours = [at(g, LOGITS, LABELS) for g in calculus.gradient(e, A)]
    assert ours == pytest.approx(logits.grad[0].tolist(), rel=1e-12)


# the derivation -------------------------------------------------------------------------------------
def test_derivation_reads_as_the_textbook() -> None:
    d = softmax_derivation(3)
    titles = " | ".join(s.title for s in d.steps)
    assert "quotient rule" in titles and "i = j" in titles and "i ≠ j" in titles and "diag(p) − p pᵀ" in titles
    i, j = sp.symbols("i j", integer=True, positive=True)
    p = sp.IndexedBase(R("p"))
    case_eq = next(s for s in d.steps if "i = j" in s.title)
    case_ne = next(s for s in d.steps if "i ≠ j" in s.title)
    assert sp.expand(case_eq.chain[-1] - p[i] * (1 - p[i])) == 0
    assert sp.expand(case_ne.chain[-1] + p[i] * p[j]) == 0
    assert sp.expand(d.cross_entropy_steps[-1].chain[-1] - (p[j] - sp.IndexedBase(R("y"))[j])) == 0


def test_derivation_chains_are_true_for_concrete_n() -> None:
    """Each chain's first and last forms agree once i, j, N are numbers (the quotient-rule step is exact)."""
    d = softmax_derivation(3)
    i, j, k = sp.symbols("i j k", integer=True, positive=True)
    n = sp.Symbol("N", integer=True, positive=True)
    a = sp.IndexedBase(R("a"))
    p = sp.IndexedBase(R("p"))
    avals = {a[m]: sp.Rational(m, 3) for m in range(1, 4)}
    probs = {p[m]: sp.exp(sp.Rational(m, 3)) / sum(sp.exp(sp.Rational(q, 3)) for q in range(1, 4)) for m in range(1, 4)}
    for step, (iv, jv) in [(d.steps[2], (2, 2)), (d.steps[3], (1, 3))]:
        values = []
        for form in step.chain:
            concrete = form.subs({i: iv, j: jv, n: 3}).doit().subs(avals).subs(probs)
            values.append(float(concrete))
        assert values == pytest.approx([values[0]] * len(values), rel=1e-12)


def test_jacobian_matrix_for_n_classes() -> None:
    d = softmax_derivation(4)
    p = d.probabilities
    assert d.jacobian[0][0] == p[0] * (1 - p[0])
    assert d.jacobian[1][3] == -p[1] * p[3]
    assert len(d.jacobian) == 4 and all(len(r) == 4 for r in d.jacobian)


def test_softmax_cli(cli) -> None:
    res = cli("softmax", "3", "--format", "plain")
    assert res.exit_code == 0
    out = res.stdout
    assert "-pᵢ·pⱼ" in out and "(1 - pᵢ)·pᵢ" in out and "J = diag(p) − p pᵀ" in out and "p₁ - y₁" in out
    data = cli("softmax", "3", "--format", "json").json()
    assert data["command"] == "softmax" and data["classes"] == 3
    assert parse(data["jacobian"][0][1]) == -R("p1") * R("p2")
    assert parse(data["jacobian_in_logits"][0][0]) == softmax_component(1, *A) * (1 - softmax_component(1, *A))
    assert data["cross_entropy_gradient"] == ["p1 - y1", "p2 - y2", "p3 - y3"]
    assert cli("softmax", "1").exit_code == 2


@pytest.mark.parametrize("fmt", ["latex", "markdown", "rich"])
def test_softmax_every_format(cli, fmt: str) -> None:
    assert cli("softmax", "3", "--format", fmt).exit_code == 0


def test_cross_entropy_function_is_consistent() -> None:
    ce = cross_entropy(*A, *Y)
    for k in range(3):
        numeric = at(sp.diff(ce.rewrite(sp.exp), A[k]), LOGITS, LABELS)
        assert numeric == pytest.approx(at(sp.diff(ce, A[k]), LOGITS, LABELS), rel=1e-12)


def test_softmax_is_linear_in_its_output() -> None:
    """200 classes (40 000 entries) in well under the default budget: the entries are built once
    each and printed from the components' text, not re-printed per entry (it was cubic in N)."""
    import time

    from symgrad.multivar.softmax import LOGITS_FORM_CLASSES, softmax_derivation

    start = time.process_time()
    d = softmax_derivation(200)
    data = d.to_json()
    assert time.process_time() - start < 8  # CPU seconds (machine load does not count); ~0.5 s alone
    assert data["jacobian"][3][7] == "-p4*p8" and data["jacobian"][7][3] == "-p4*p8"
    assert data["jacobian"][9][9] == "p10*(1 - p10)"
    assert data["jacobian_in_logits"] is None and LOGITS_FORM_CLASSES < 200
    small = softmax_derivation(12)
    assert small.to_json()["jacobian_in_logits"] == [[str(e) for e in row] for row in small.jacobian_in_logits]
    assert all(small.jacobian_in_logits[r][c] == softmax_component(r + 1, *small.logits).fdiff(c + 2)
               for r in range(12) for c in range(12))

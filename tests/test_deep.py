"""Deep chains: built in linear time, answered in the names of their links, checked independently.

The oracles: SymPy's own evaluated constructors (the parser builds the same trees without their
quadratic cost), ``sympy.diff`` (the named answer, written out again, is SymPy's derivative) and
mpmath's numerical differentiation of the composite function at 40 digits.
"""

from __future__ import annotations

import json
import re

import mpmath
import pytest
import sympy as sp

from symgrad.budget import run_guarded
from symgrad.parsing import MAX_TREE_DEPTH, depth_limit, parse
from symgrad.parsing.build import _INERT_NAMES, _INVERSE_PAIRS, inert, inert_class, is_constant
from symgrad.steps import derive
from symgrad.steps.strategies import NAMED_CHAIN
from symgrad.vocabulary.functions import sigmoid

x = sp.Symbol("x", real=True)
p = sp.Symbol("p", positive=True)

MP = {"sin": mpmath.sin, "cos": mpmath.cos, "tanh": mpmath.tanh, "exp": mpmath.exp, "atan": mpmath.atan,
      "sigmoid": lambda t: 1 / (1 + mpmath.exp(-t)), "softplus": lambda t: mpmath.log(1 + mpmath.exp(t))}


def chain_text(names: list[str]) -> str:
    return "".join(f"{n}(" for n in names) + "x" + ")" * len(names)


def mp_chain(names: list[str]):
    def f(t):
        for n in reversed(names):
            t = MP[n](t)
        return t

    return f


def guarded(fn):
    return run_guarded(fn, 120)


def expanded(result: sp.Expr, links) -> sp.Expr:
    """The named answer written out: each name replaced by what it stands for, innermost first."""
    values: dict[sp.Symbol, sp.Expr] = {}
    for u, definition in reversed(links):
        values[u] = definition.xreplace(values)
    return result.xreplace(values)


@pytest.mark.parametrize("outer", _INERT_NAMES)
def test_inert_pairs_build_what_sympy_builds(outer):
    """Every pair the builder constructs without evaluation: SymPy's evaluation changes nothing;
    every pair it leaves to SymPy is one SymPy does rewrite (the list is exact, not cautious)."""
    rewritten = set()
    for inner_name in _INERT_NAMES:
        for arg in (x, p, 2 * x + 1, -x, x**2, sp.pi * x, sp.sin(x), sigmoid(x), sp.exp(-x)):
            inner = inert_class(inner_name)(arg)
            if not isinstance(inner, inert_class(inner_name)):
                continue  # SymPy rewrote the inner call itself (cos(-x) = cos(x)): nothing to test
            built = inert_class(outer)(inner, evaluate=False)
            evaluated = inert_class(outer)(inner)
            if (outer, inner_name) in _INVERSE_PAIRS:
                if built != evaluated:
                    rewritten.add(inner_name)
                assert not inert(inert_class(outer), inner, {})
            else:
                assert inert(inert_class(outer), inner, {})
                assert built == evaluated, (outer, inner)
    assert rewritten == {i for o, i in _INVERSE_PAIRS if o == outer}


def test_inverse_pairs_and_constants_are_evaluated():
    assert parse("exp(log(x))") == x
    assert not inert(sp.exp, sp.log(x), {})
    assert not inert(sp.sin, sp.sin(sp.Integer(1)), {})  # a constant: SymPy may evaluate it
    assert parse("sin(sin(0))") == 0


def test_is_constant_agrees_with_sympy():
    memo: dict = {}
    for e in (sp.sin(sp.pi / 7), sp.sin(sp.sin(x)), sp.Integer(3) * sp.E, sp.exp(x) + 1, sp.Sum(x, (x, 1, 3)),
              sp.Function("f")(1)):
        assert is_constant(e, memo) == bool(e.is_number), e


def test_parser_builds_sympy_trees_for_mixed_chains():
    names = ["sin", "exp", "cos", "tanh", "sin", "cos", "exp"] * 2  # SymPy itself takes 100 s at 21 deep
    ours = guarded(lambda: parse(chain_text(names)))
    theirs = parse("x")
    for n in reversed(names):
        theirs = getattr(sp, n)(theirs)
    assert ours == theirs


def test_depth_limit_follows_the_recursion_limit():
    assert depth_limit() <= MAX_TREE_DEPTH
    with pytest.raises(Exception, match="levels deep"):
        parse("sin(" * (depth_limit() + 5) + "x" + ")" * (depth_limit() + 5))
    # the commands' thread has room
    assert guarded(lambda: parse("sin(" * 1000 + "x" + ")" * 1000).count(sp.sin)) == 1000


def test_named_answer_is_sympys_derivative_written_out():
    names = ["sin", "tanh", "cos", "exp"] * 17  # 68 deep, past NAMED_CHAIN
    assert len(names) >= NAMED_CHAIN
    e = guarded(lambda: parse(chain_text(names)))
    d = guarded(lambda: derive(e, name_links=True))
    assert d.links and d.check == "exact"
    assert len(d.links) == len(names) - 1
    assert len({u for u, _ in d.links}) == len(d.links)  # every name once
    assert d.links[-1][1].free_symbols == {sp.Symbol("x", real=True)} or d.links[-1][1].has(sp.Symbol("x"))
    full = guarded(lambda: expanded(d.result, d.links))
    reference = guarded(lambda: sp.diff(e, x))
    point = {s: sp.Float("0.3", 30) for s in full.free_symbols}
    assert abs(complex(full.evalf(30, subs=point)) - complex(reference.evalf(30, subs=point))) < 1e-20


def test_without_name_links_the_answer_is_written_out():
    e = guarded(lambda: parse(chain_text(["sin"] * 70)))
    d = guarded(lambda: derive(e))
    assert not d.links and d.result.free_symbols == e.free_symbols


def test_short_chains_are_not_named():
    d = derive(chain_text(["sin"] * (NAMED_CHAIN - 1)), name_links=True)
    assert not d.links


@pytest.mark.parametrize("names", [["sin"] * 1000, ["sigmoid", "tanh", "softplus", "atan"] * 30])
def test_deep_chain_value_matches_mpmath(cli, names):
    """diff --at: the named answer evaluated link by link, against mpmath's numerical derivative."""
    out = cli("diff", chain_text(names), "--at", "x=0.3", "--no-steps", "--format", "json")
    data = json.loads(out.stdout)
    mpmath.mp.dps = 40
    expected = mpmath.diff(mp_chain(names), mpmath.mpf("0.3"))
    assert data["value"] == pytest.approx(float(expected), rel=1e-10)
    assert data["check"] == "exact"


def test_deep_chain_json_is_flat_and_names_its_links(cli):
    n = 1000
    out = cli("diff", chain_text(["sin"] * n), "--format", "json")
    data = json.loads(out.stdout)  # Python's json reads it: the steps are not nested 1000 deep
    links = data["links"]
    assert [link["name"] for link in links][:3] == ["u", "v", "w"]
    assert links[0]["expression"] == "sin(v)" and links[-1]["expression"] == "sin(x)"
    assert len(links) == n - 1
    top = data["steps"][0]
    # the top step and the n - 2 links below it; the innermost sin(x) is a table entry
    assert top["named"] is True and len(top["chain"]) == n - 2
    assert top["chain"][0]["expression"] == "sin(v)" and top["chain"][0]["result"] == "cos(v)*Derivative(v, x)"
    assert len(out.stdout) < 2_000_000  # linear: a few hundred bytes per link
    factors = data["result"].split("*")
    assert len(factors) == n and "cos(x)" in factors


def test_deep_chain_plain_output_in_chain_order(cli):
    out = cli("diff", chain_text(["sin"] * 80), "--format", "plain")
    answer = [line for line in out.stdout.splitlines() if line.startswith("d/dx [")][-1]
    assert re.search(r"\] = cos\(u\)·cos\(v\)·cos\(w\)·cos\(p\)·", answer)
    assert answer.endswith("·cos(u₇₂)·cos(x)")
    where = [line for line in out.stdout.splitlines() if line.startswith("where ")]
    assert where and where[0].startswith("where u = sin(v), v = sin(w), w = sin(p)")
    assert "u₇₂ = sin(x)" in where[0]


def test_grad_shares_names_and_keeps_them_apart(cli):
    deep = 70
    shared = cli("grad", "sin(" * deep + "x y" + ")" * deep, "--format", "json", "--no-steps")
    data = json.loads(shared.stdout)
    names = [link["name"] for link in data["links"]]
    # one chain, one set of names for both partials: sin(x y) is a link too, u₇₀ = x·y
    assert len(names) == len(set(names)) == deep
    apart = cli("grad", "sin(" * deep + "x" + ")" * deep + " + cos(" * 1 + "cos(" * (deep - 1) + "y" + ")" * deep,
                "--format", "json", "--no-steps", "--at", "x=0.3,y=0.7")
    data = json.loads(apart.stdout)
    names = [link["name"] for link in data["links"]]
    assert len(names) == len(set(names)) == 2 * (deep - 1)  # two chains: names of their own
    mpmath.mp.dps = 40
    fx = mpmath.diff(mp_chain(["sin"] * deep), mpmath.mpf("0.3"))
    fy = mpmath.diff(mp_chain(["cos"] * deep), mpmath.mpf("0.7"))
    assert data["value"] == pytest.approx([float(fx), float(fy)], rel=1e-10)


def _named(names: list[str]):
    e = guarded(lambda: parse(chain_text(names)))
    d = guarded(lambda: derive(e, name_links=True))
    from symgrad.steps.derivation import _links

    links, tops = _links(d.steps[0])
    return e, d, links, e.xreplace(tops)


def test_linked_check_catches_one_wrong_factor():
    """The link-by-link oracle is not a formality: one factor changed among 200 is caught, with a
    point where the answer and the finite difference of the function differ."""
    from symgrad.steps.links import compare_linked

    e, d, links, function = _named(["sin", "tanh"] * 100)
    var = d.variables[0]
    assert compare_linked(d.result, links, function, var).kind == "exact"
    u = links[57][0]
    wrong = d.result.xreplace({sp.cos(u): sp.sin(u)}) if d.result.has(sp.cos(u)) else d.result.xreplace(
        {1 - sp.tanh(u) ** 2: 1 + sp.tanh(u) ** 2})
    assert wrong != d.result
    verdict = guarded(lambda: compare_linked(wrong, links, function, var))
    assert verdict.kind == "different" and verdict.point and verdict.left != pytest.approx(verdict.right)


def test_linked_check_falls_back_to_finite_differences():
    """An answer right in value but not the chain rule's factors: numeric, by central differences."""
    from symgrad.steps.links import compare_linked

    e, d, links, function = _named(["sin"] * 70)
    var = d.variables[0]
    other_form = d.result * (sp.sin(var) ** 2 + sp.cos(var) ** 2)  # equal everywhere, not the same factors
    assert guarded(lambda: compare_linked(other_form, links, function, var)).kind == "numeric"


def test_exp_tower_is_checked_exactly_and_refuses_its_value(cli):
    """exp(exp(…(x)…)) 100 deep: no finite difference exists at any point (the links pass 10³⁰⁰
    by the fourth level), yet the answer is checked exactly and --at says why it has no value
    instead of computing for ever."""
    out = cli("diff", chain_text(["exp"] * 100), "--at", "x=0.3", "--no-steps", "--format", "json",
              "--timeout", "30")
    data = json.loads(out.stdout)
    assert data["check"] == "exact"
    assert data["value"] is None and "beyond 10^300" in data["note"]


def test_mixed_ml_chain_1000_deep(cli):
    """σ(tanh(softplus(atan(…)))) 1000 deep: read in linear time (the builder's inert pairs),
    answered in names, checked exactly, and its value agrees with mpmath."""
    names = ["sigmoid", "tanh", "softplus", "atan"] * 250
    out = cli("diff", chain_text(names), "--at", "x=0.3", "--no-steps", "--format", "json")
    data = json.loads(out.stdout)
    assert data["check"] == "exact" and len(data["links"]) == 999
    # about 10^-356: below a float, and below what any finite difference can resolve, so the oracle
    # is forward-mode differentiation in mpmath with the textbook derivatives, innermost first
    mpmath.mp.dps = 40
    slope = {"sigmoid": lambda t: MP["sigmoid"](t) * (1 - MP["sigmoid"](t)), "tanh": lambda t: 1 - mpmath.tanh(t) ** 2,
             "softplus": MP["sigmoid"], "atan": lambda t: 1 / (1 + t**2)}
    value, expected = mpmath.mpf("0.3"), mpmath.mpf(1)
    for name in reversed(names):
        value, expected = MP[name](value), expected * slope[name](value)
    assert data["value"] == 0.0
    assert f"about 10^{int(mpmath.nint(mpmath.log10(expected)))}," in data["note"]


def test_linked_value_keeps_digits_where_factors_cancel(cli):
    """tanh(…(tanh(40x))…) 70 deep at x = 1: the innermost factor is 40(1 − tanh²40) ≈ 10⁻³³, which
    30-digit Floats put into 1 − tanh² would round to 0; the value must be the true 7.9·10⁻³⁶."""
    out = cli("diff", "tanh(" * 70 + "40 x" + ")" * 70, "--at", "x=1", "--no-steps", "--format", "json")
    data = json.loads(out.stdout)
    assert data["links"] and data["check"] == "exact"
    mpmath.mp.dps = 60
    value, slope = mpmath.mpf(40), mpmath.mpf(40)  # forward mode: (tanh u)′ = 1 − tanh² u, by hand
    for _ in range(70):
        value, slope = mpmath.tanh(value), slope * (1 - mpmath.tanh(value) ** 2)
    assert data["value"] == pytest.approx(float(slope), rel=1e-10)
    assert 1e-36 < data["value"] < 1e-35


@pytest.mark.parametrize("depth", [16, 63])
def test_written_out_chains_are_evaluated_link_by_link(cli, depth):
    """Chains of 12 to 63 links are answered written out, but --at evaluates them link by link (as
    evalf would evaluate all n²/2 nested functions of the written-out answer: seconds at 63). The
    mechanism is checked, not the time (a budget here would measure the machine)."""
    from symgrad.cli.app import valued_derivations
    from symgrad.parsing import parse
    from symgrad.steps import derive

    names = (["sigmoid", "tanh", "softplus", "atan"] * 16)[:depth]
    e = parse(chain_text(names))
    var = sorted(e.free_symbols, key=str)[0]
    written = guarded(lambda: derive(e, var, name_links=True))
    assert not written.links and guarded(lambda: valued_derivations(e, [var], [written]))[0].links
    out = cli("diff", chain_text(names), "--at", "x=0.3", "--no-steps", "--format", "json", "--timeout", "300")
    data = json.loads(out.stdout)
    assert "links" not in data and data["result"].count("sigmoid(") > depth  # written out
    mpmath.mp.dps = 50
    assert data["value"] == pytest.approx(float(mpmath.diff(mp_chain(names), mpmath.mpf("0.3"))), rel=1e-10)
    grad = json.loads(cli("grad", chain_text(names).replace("x)", "x y)", 1), "--at", "x=0.3,y=2", "--no-steps",
                          "--format", "json", "--timeout", "300").stdout)
    f = mp_chain(names)
    assert grad["value"] == pytest.approx([float(mpmath.diff(lambda t: f(t * 2), mpmath.mpf("0.3"))),
                                           float(mpmath.diff(lambda t: f(mpmath.mpf("0.3") * t), 2))], rel=1e-10)

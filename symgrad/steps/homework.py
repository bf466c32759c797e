"""Homework helpers: judge a student's derivative, find the step that went wrong, and the table.

Stage: step engine (library behind ``symgrad check`` and ``symgrad table``). ``check_answer``
derives the expression, compares the answer with the result (exact tests, then numbers at sample
points; see ``verify.compare``) and, when the answer is wrong, gives a point where the two differ
and looks for the first step that explains it: each step of the derivation is replaced in turn by
a typical mistake for its rule (the chain rule without the inner derivative, (f′g′) for a product,
the quotient rule's sign swapped, …) and the tree is re-assembled (``rules.reassemble``); if that
reproduces the answer, that step is the one the answer does not match.

To teach it a new mistake: add a case to ``_mistakes`` (the rule id, a description, the wrong
result computed from the step's own data).

>>> r = check_answer("x cos(pi x)", "cos(pi x) - x sin(pi x)")
>>> r.correct, r.mistake.step.rule, r.mistake.description
(False, 'chain', 'the chain rule without the inner derivative du/dx = π')
>>> check_answer("sigmoid(x)", "sigmoid(x) (1 - sigmoid(x))").correct
True
"""

from __future__ import annotations

from collections.abc import Iterator
from symgrad.records import record
from typing import Union

import sympy as sp

from symgrad.budget import check
from symgrad.steps.derivation import Derivation, derive
from symgrad.steps.rules import SimplifyStep, Step, reassemble
from symgrad.steps.verify import Agreement, compare

ExprLike = Union[str, sp.Basic]

MAX_MISTAKE_STEPS = 80
"""Steps searched for the mistake; beyond that the search costs more than it tells."""


@record
class Mistake:
    """The step whose result the answer does not match, and what the answer took it to be."""

    step: Step
    description: str
    wrong: sp.Expr


@record
class CheckResult:
    """The verdict on an answer: ``correct`` is True, False, or None when it cannot be decided
    (no sample point where both sides are real, e.g. with unknown functions only)."""

    expr: sp.Expr
    answer: sp.Expr
    derivation: Derivation
    correct: bool | None
    method: str
    counterexample: Agreement | None = None
    mistake: Mistake | None = None

    @property
    def expected(self) -> sp.Expr:
        return self.derivation.result


def check_answer(expr: ExprLike, answer: ExprLike, wrt: str | sp.Symbol | None = None, order: int = 1) -> CheckResult:
    """Whether ``answer`` is the derivative of ``expr``; if not, where it differs and why."""
    from symgrad.calculus import as_expr

    e = as_expr(expr)
    a = as_expr(answer)
    d = derive(e, wrt, order)
    domain = d.steps[-1].expr
    verdict = compare(a, d.result, domain=domain, samples=10, needed=4)
    if verdict.equal:
        return CheckResult(e, a, d, True, verdict.kind)
    if verdict.kind == "unknown":
        return CheckResult(e, a, d, None, "unknown")
    mistake = find_mistake(d.steps[-1], a, domain)
    return CheckResult(e, a, d, False, "numeric", verdict, mistake)


def find_mistake(root: Step, answer: sp.Expr, domain: sp.Basic | None = None) -> Mistake | None:
    """The first step (reading order) whose typical mistake turns the derivation into ``answer``."""
    tree = root.substeps[0] if isinstance(root, SimplifyStep) else root
    # a misused rule explains an answer better than a stray sign, and a sign dropped in a sum
    # (the MSE's −x) better than one in a table formula: try the hypotheses in that order
    hypotheses: list[tuple[int, int, Step, str, sp.Expr]] = []
    for k, step in enumerate(tree.walk()[:MAX_MISTAKE_STEPS]):
        for description, wrong in _mistakes(step):
            rank = 2 if description.startswith("a sign error") and not step.substeps else (
                1 if description.startswith("a sign error") else 0)
            hypotheses.append((rank, k, step, description, wrong))
    hypotheses.sort(key=lambda h: (h[0], h[1]))
    for _, _, step, description, wrong in hypotheses:
        check("looking for the mistake")
        if wrong == step.result or wrong.has(sp.nan):
            continue
        candidate = reassemble(tree, {step.id: wrong})
        if compare(candidate, answer, domain=domain, samples=8, needed=3).equal:
            return Mistake(step, description, wrong)
    return None


def _mistakes(step: Step) -> Iterator[tuple[str, sp.Expr]]:
    """Typical wrong results for this step: (what went wrong, the wrong result)."""
    from symgrad.render.oneline import oneline

    rule, results = step.rule, [s.result for s in step.substeps]
    if rule == "chain":
        u, inner = step.u, step.inner  # type: ignore[attr-defined]
        yield (f"the chain rule without the inner derivative d{u}/d{step.wrt} = {oneline(results[1])}",
               step.at_inner(results[0]))  # type: ignore[attr-defined]
    elif rule == "product":
        factors = step.factors  # type: ignore[attr-defined]
        yield "the derivative of a product taken as the product of the derivatives", sp.Mul(*results)
        for i, r in enumerate(results):
            others = factors[:i] + factors[i + 1:]
            yield f"the product rule with only the term for {oneline(factors[i])}′", sp.Mul(r, *others)
    elif rule == "quotient":
        f, g = step.numerator, step.denominator  # type: ignore[attr-defined]
        df, dg = results
        yield "the quotient rule with the terms of the numerator swapped (f·g′ − f′·g)", (f * dg - df * g) / g**2
        yield "the quotient rule without squaring the denominator", (df * g - f * dg) / g
        yield "the derivative of a quotient taken as the quotient of the derivatives", df / dg if dg != 0 else sp.nan
    elif rule == "power":
        n = step.exponent  # type: ignore[attr-defined]
        yield "the power rule without lowering the exponent", n * step.wrt**n
        yield "the power rule without the factor n", step.wrt ** (n - 1)
    elif rule == "constant_multiple":
        yield f"the constant factor {oneline(step.constant)} dropped", results[0]  # type: ignore[attr-defined]
    elif rule == "sum":
        for i in range(len(results)):
            flipped = [(-r if j == i else r) for j, r in enumerate(results)]
            yield f"a sign error in the term {oneline(step.substeps[i].expr)}", sp.Add(*flipped)
    elif rule == "exponential":
        yield "(aˣ)′ taken as aˣ, without the factor ln a", step.expr
        base = step.base  # type: ignore[attr-defined]
        yield "(aˣ)′ taken as x·a^(x−1), as if the power rule applied", step.wrt * base ** (step.wrt - 1)
    elif rule == "log_base":
        yield "the derivative of log_b x taken as 1/x, without the factor 1/ln b", 1 / step.wrt
    elif rule == "log_differentiation":
        f, g = step.base, step.exponent  # type: ignore[attr-defined]
        x = step.wrt
        yield "f^g differentiated with the power rule, as if the exponent were constant", g * f ** (g - 1) * sp.diff(f, x)
        yield "f^g differentiated as an exponential, as if the base were constant", step.expr * sp.log(f) * sp.diff(g, x)
    elif rule == "relu":
        yield f"relu′({oneline(step.expr.args[0])}) taken as {oneline(step.expr.args[0])}: it is 1 where the argument is positive, not the argument", step.expr.args[0]
    elif rule == "simplify":
        return
    if not step.substeps and rule not in ("constant", "variable", "repeat"):
        yield f"a sign error in the derivative of {oneline(step.expr)}", -step.result


# the table of common derivatives ----------------------------------------------------------------
TABLE_ENTRIES: tuple[tuple[str, str], ...] = (
    ("c", ""), ("x", ""), ("x^n", ""), ("1/x", ""), ("sqrt x", "x > 0"), ("e^x", ""), ("a^x", "a > 0"),
    ("ln x", "x > 0"), ("log_a x", "x > 0, a > 0"), ("sin x", ""), ("cos x", ""), ("tan x", ""),
    ("sec x", ""), ("csc x", ""), ("cot x", ""), ("asin x", "|x| < 1"), ("acos x", "|x| < 1"),
    ("atan x", ""), ("sinh x", ""), ("cosh x", ""), ("tanh x", ""), ("|x|", "undefined at 0"),
    ("sigmoid(x)", ""), ("softplus(x)", ""), ("relu(x)", "0 for x < 0, 1 for x > 0, undefined at 0"),
)
"""The rows of ``symgrad table``: each derivative is computed (and checked) by the engine."""


@record
class TableRow:
    text: str
    derivation: Derivation
    note: str


def derivative_table() -> list[TableRow]:
    """The table of common derivatives, each worked out by the engine.

    >>> [(str(r.derivation.expr), str(r.derivation.result)) for r in derivative_table()[2:4]]
    [('x**n', 'n*x**(n - 1)'), ('1/x', '-1/x**2')]
    """
    return [TableRow(text, derive(text, "x"), note) for text, note in TABLE_ENTRIES]

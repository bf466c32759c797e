"""Homework helpers: judge a student's derivative, find the step that went wrong, and the table.

Stage: step engine (library behind ``symgrad check`` and ``symgrad table``). ``check_answer``
derives the expression, reads the answer in the expression's own terms (``read_answer``: pₖ for a
softmax component of the expression's logits, σ for its sigmoid, labels of a cross-entropy as a
distribution) and compares it with the result (``verify.compare`` with ``thorough=True``: exact
tests, then piece by piece between the kinks, then 50-digit values at points spread over the whole
domain and on both sides of every kink). When the answer is wrong it gives a point where the two
differ and looks for the first step that explains it: each step of the derivation is replaced in
turn by a typical mistake for its rule (the chain rule without the inner derivative, (f′g′) for a
product, the quotient rule's sign swapped, …) and the tree is re-assembled (``rules.reassemble``);
if that reproduces the answer, that step is the one the answer does not match. When the program
cannot be sure, the verdict is None with the reason.

To teach it a new mistake: add a case to ``_mistakes`` (the rule id, a description, the wrong
result computed from the step's own data). To teach it a new notation for answers: extend
``read_answer``.

>>> r = check_answer("x cos(pi x)", "cos(pi x) - x sin(pi x)")
>>> r.correct, r.mistake.step.rule, r.mistake.description
(False, 'chain', 'the chain rule without the inner derivative du/dx = π')
>>> check_answer("sigmoid(x)", "sigmoid(x) (1 - sigmoid(x))").correct
True
>>> r = check_answer("|x - 5|", "-1")
>>> r.correct, r.counterexample.point["x"] > 5
(False, True)
>>> check_answer("cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))", "p1 - y1", wrt="a1").method
'exact'
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import sympy as sp

from symgrad.budget import check
from symgrad.expressions import ExprLike
from symgrad.records import record
from symgrad.steps.derivation import Derivation, derive
from symgrad.steps.rules import SimplifyStep, Step, reassemble
from symgrad.steps.verify import Agreement, compare

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
    (``reason`` says why). ``method``: ``exact`` (proved symbolically), ``numeric`` (decided by
    values at sample points) or ``unknown``. ``notes``: how symbols of the answer were read."""

    expr: sp.Expr
    answer: sp.Expr
    derivation: Derivation
    correct: bool | None
    method: str
    counterexample: Agreement | None = None
    mistake: Mistake | None = None
    reason: str = ""
    notes: tuple[str, ...] = ()

    @property
    def expected(self) -> sp.Expr:
        return self.derivation.result


@record
class Reading:
    """The answer in the expression's own terms (``read_answer``)."""

    answer: sp.Expr
    notes: tuple[str, ...] = ()
    distributions: tuple[tuple[sp.Symbol, ...], ...] = ()
    problem: str | None = None


def check_answer(expr: ExprLike, answer: ExprLike, wrt: str | sp.Symbol | None = None, order: int = 1) -> CheckResult:
    """Whether ``answer`` is the derivative of ``expr``; if not, where it differs and why."""
    from symgrad.expressions import as_expr

    e = as_expr(expr)
    a = as_expr(answer)
    d = derive(e, wrt, order)
    domain = d.steps[-1].expr
    reading = read_answer(e, a, d.variables)
    if reading.problem is not None:
        return CheckResult(e, a, d, None, "unknown", reason=reading.problem, notes=reading.notes)
    verdict = compare(reading.answer, d.result, domain=domain, samples=24, needed=6, thorough=True,
                      distributions=reading.distributions)
    if verdict.equal:
        return CheckResult(e, a, d, True, verdict.kind, reason=verdict.reason, notes=reading.notes)
    if verdict.kind == "unknown":
        return CheckResult(e, a, d, None, "unknown", reason=verdict.reason, notes=reading.notes)
    mistake = find_mistake(d.steps[-1], reading.answer, domain, reading.distributions)
    return CheckResult(e, a, d, False, verdict.method, verdict, mistake, verdict.reason, reading.notes)


_P_NAME = re.compile(r"p(\d+)")


def read_answer(expr: sp.Expr, answer: sp.Expr, wrt: Sequence[sp.Symbol] = ()) -> Reading:
    """``answer`` with the names symgrad's own results use replaced by what they stand for in
    ``expr``: pₖ by component k of the expression's softmax (``p1 - y1`` for cross-entropy), a bare
    σ by the expression's sigmoid; the labels of a cross-entropy (unless differentiated by) are a
    distribution, Σ yᵢ = 1. Names the expression itself uses are left alone.

    >>> from symgrad.parsing import parse
    >>> r = read_answer(parse("cross_entropy(softmax(a1, a2), (y1, y2))"), parse("p1 - y1"))
    >>> r.answer, r.distributions
    (-y1 + softmax_1(a1, a2), ((y1, y2),))
    >>> read_answer(parse("sigmoid(3x)"), parse("3 σ(1 - σ)")).answer
    3*sigmoid(3*x)*(1 - sigmoid(3*x))
    """
    from symgrad.printing.oneline import oneline
    from symgrad.vocabulary.functions import sigmoid
    from symgrad.vocabulary.softmax import cross_entropy, softmax_component

    own = {s.name for s in expr.free_symbols}
    logits = {c.logits for c in expr.atoms(softmax_component)} | {c.logits for c in expr.atoms(cross_entropy)}
    table: dict[sp.Symbol, sp.Expr] = {}
    notes: list[str] = []
    problem = None
    for s in sorted(answer.free_symbols, key=lambda v: v.name):
        if s.name in own:
            continue
        m = _P_NAME.fullmatch(s.name)
        if m and logits:
            k = int(m.group(1))
            if len(logits) > 1:
                problem = (f"{oneline(s)} in the answer could be a component of any of the expression's "
                           f"{len(logits)} softmaxes: write softmax_{k}(…) with its logits")
            else:
                (args,) = logits
                if not 1 <= k <= len(args):
                    problem = (f"{oneline(s)} in the answer: the softmax of the expression has components "
                               f"p₁ … p{len(args)}")
                else:
                    table[s] = softmax_component(k, *args)
                    notes.append(f"{oneline(s)} in the answer is read as component {k} of softmax"
                                 f"({', '.join(oneline(v) for v in args)})")
        elif s.name == "sigma":
            inner = {g.args[0] for g in expr.atoms(sigmoid)}
            if len(inner) == 1:
                (u,) = inner
                # "σ(1 − σ)" reaches here as sigmoid(1 − σ): with a bare σ inside it is a product
                products = {g: s * g.args[0] for g in answer.atoms(sigmoid) if g.args[0].has(s)}
                if products:
                    answer = answer.xreplace(products)
                    notes.append("σ(…) with a bare σ inside is read as σ·(…)")
                table[s] = sigmoid(u)
                notes.append(f"σ in the answer is read as σ({oneline(u)})")
    groups = []
    for ce in expr.atoms(cross_entropy):
        labels = ce.labels
        if (all(isinstance(y, sp.Symbol) for y in labels) and len(set(labels)) == len(labels)
                and not set(labels) & set(wrt) and not set(labels) & set(ce.logits)):
            groups.append(tuple(labels))
            notes.append(f"the labels {', '.join(oneline(y) for y in labels)} are a distribution "
                         "(Σ yᵢ = 1): the answer is compared where they are")
    return Reading(answer.xreplace(table) if table else answer, tuple(notes), tuple(groups), problem)


def find_mistake(root: Step, answer: sp.Expr, domain: sp.Basic | None = None,
                 distributions: Sequence[Sequence[sp.Symbol]] = ()) -> Mistake | None:
    """The first step (reading order) whose typical mistake turns the derivation into ``answer``."""
    from symgrad.steps.verify import Screen

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
    # a few points where the answer is known rule out most hypotheses at the cost of one evaluation
    screen = Screen(answer, domain, distributions)
    for _, _, step, description, wrong in hypotheses:
        check("looking for the mistake")
        if wrong == step.result or wrong.has(sp.nan):
            continue
        candidate = reassemble(tree, {step.id: wrong})
        if not screen.admits(candidate):
            continue
        if compare(candidate, answer, domain=domain, samples=12, needed=4, thorough=True,
                   distributions=distributions).equal:
            return Mistake(step, description, wrong)
    return None


def _mistakes(step: Step) -> Iterator[tuple[str, sp.Expr]]:
    """Typical wrong results for this step: (what went wrong, the wrong result)."""
    from symgrad.printing.oneline import oneline

    rule, results = step.rule, [s.result for s in step.substeps]
    if rule == "chain":
        u = step.u  # type: ignore[attr-defined]
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
        yield ("f^g differentiated with the power rule, as if the exponent were constant",
               g * f ** (g - 1) * sp.diff(f, x))
        yield ("f^g differentiated as an exponential, as if the base were constant",
               step.expr * sp.log(f) * sp.diff(g, x))
    elif rule == "relu":
        arg = step.expr.args[0]
        yield (f"relu′({oneline(arg)}) taken as {oneline(arg)}: it is 1 where the argument is positive, "
               "not the argument", arg)
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

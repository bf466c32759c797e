"""``derive``: an expression -> a checked ``Derivation`` (result + one step tree per derivative).

Stage: step engine, the public entry. For each successive derivative (``order`` > 1, or one per
variable for a mixed partial) it builds the step tree (``strategies.derive_step``), applies the
final simplification as a visible ``simplify`` step, and checks the result against
``sympy.diff`` (``verify.compare``). A disagreement is never hidden: ``strict=True`` raises
``StepsDisagree``; otherwise ``Derivation.check`` is ``"mismatch"`` and every renderer says so.

>>> d = derive("e^x sin x")
>>> d.result
(sin(x) + cos(x))*exp(x)
>>> d.steps[0].rule, d.steps[0].before, d.check
('simplify', exp(x)*sin(x) + exp(x)*cos(x), 'exact')
>>> derive("sigmoid(x)").result
sigmoid(x)*(1 - sigmoid(x))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sympy as sp

from symgrad import budget, expressions
from symgrad.differentiate import chain_diff, in_final_form, tidy
from symgrad.errors import ComputeError
from symgrad.expressions import ExprLike, VarLike, as_expr, prepared
from symgrad.realness import check_result, complex_parts
from symgrad.records import record
from symgrad.steps.links import chain_rule_reference, compare_linked
from symgrad.steps.rules import ChainStep, SimplifyStep, Step, TableStep
from symgrad.steps.simplify import final_form
from symgrad.steps.strategies import DerivationState, derive_step
from symgrad.steps.verify import compare
from symgrad.vocabulary.abstract import view

_CHECK_ORDER = {"exact": 0, "numeric": 1, "unverified": 2, "mismatch": 3}


class StepsDisagree(ComputeError):
    """The worked steps and ``sympy.diff`` give different results (a bug in a rule)."""


@record
class Derivation:
    """A worked derivative: ``result``, the step trees (one root per derivative taken) and how
    the result was checked against ``sympy.diff``: ``exact``, ``numeric`` (equal at sample
    points), ``unverified`` (no usable sample point) or ``mismatch`` (then ``reference`` is SymPy's).
    """

    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    steps: tuple[Step, ...]
    result: sp.Expr
    check: str
    reference: sp.Expr
    links: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    """The names ``result`` is written in, outermost first, each with what it stands for in the
    next one's name (the last in the variables): only for chains of ``NAMED_CHAIN`` links or more,
    when ``derive(…, name_links=True)`` asked for it. Empty: ``result`` is in the variables."""
    notes: tuple[str, ...] = ()
    """How the expression was taken (0^u as 0) and which variables named do not occur in it (the
    derivative by them is 0): what ``symgrad diff`` prints with the interpretation line."""

    @property
    def long_chain(self) -> bool:
        """Whether a chain of ``LONG_CHAIN`` links or more was walked link by link (``ChainStep.link``)."""
        return any(isinstance(s, ChainStep) and s.link for root in self.steps for s in root.walk())

    @property
    def wrt(self) -> sp.Symbol:
        """The variable of the first derivative (all of them, unless it is a mixed partial)."""
        return self.variables[0]

    @property
    def written(self) -> tuple[sp.Symbol, ...]:
        """The variables as the notation writes them, the last one taken first: ∂²/∂x∂y, taken by
        y first, is (x, y) (``variables`` is (y, x))."""
        return tuple(reversed(self.variables))

    @property
    def order(self) -> int:
        return len(self.steps)

    @property
    def agrees(self) -> bool:
        return self.check != "mismatch"

    def to_json(self) -> dict[str, Any]:
        """``{"expression", "wrt", "order", "result", "latex", "check", "steps"}`` (see README)."""
        from symgrad.printing.latex import latex_of

        names = [v.name for v in self.written]
        data: dict[str, Any] = {
            "expression": str(self.expr),
            "wrt": names[0] if len(set(names)) == 1 else names,
            "order": self.order,
            "result": str(self.result),
            "latex": latex_of(self.result),
            "check": self.check,
            "steps": [s.to_json() for s in self.steps],
        }
        if self.links:
            data["links"] = links_json(self.links)
        if self.notes:
            data["notes"] = list(self.notes)
        if self.check == "mismatch":
            data["reference"] = str(self.reference)
        return data

    def _repr_latex_(self) -> str:
        from symgrad.render.narrate.steps import derivation_latex

        return derivation_latex(self, mathjax=True)

    def _repr_markdown_(self) -> str:
        from symgrad.render import backends
        from symgrad.render.narrate.steps import derivation_document

        return backends.to_markdown(derivation_document(self, answer=True))


def links_json(links: Sequence[tuple[sp.Symbol, sp.Expr]]) -> list[dict[str, str]]:
    """``[{"name": "u", "expression": "sin(v)"}, …]``, outermost first (see ``Derivation.links``)."""
    return [{"name": u.name, "expression": str(definition)} for u, definition in links]


def derive(expr: ExprLike, wrt: VarLike | Sequence[VarLike] | None = None, order: int = 1, *, strict: bool = False,
           steps: bool = True, name_links: bool = False, avoid: Iterable[str] = (), named_from: int = 0) -> Derivation:
    """The worked derivative of ``expr`` (text through the grammar, or SymPy) by ``wrt``.

    ``wrt`` is one variable (default: x, else the first), or several for a mixed partial, as the
    notation writes them: ``"x,y"`` (or ``["x", "y"]``) is ∂²/∂x∂y, ∂/∂y first, then ∂/∂x, as
    ``symgrad diff --wrt x,y`` and ``symgrad.multivar.mixed`` take it; ``variables`` lists them in
    the order taken. ``order`` repeats the derivative, each with its own steps.
    ``steps=False`` (``--no-steps``) skips the step tree: the result is SymPy's derivative in the
    same final form, and each derivative is one ``table`` step.

    >>> d = derive("x cos(pi x)")
    >>> d.result, [s.rule for s in d.steps[0].substeps]
    (-pi*x*sin(pi*x) + cos(pi*x), ['variable', 'chain'])
    >>> mixed = derive("x^3 y^2", wrt="x,y")
    >>> mixed.variables, mixed.steps[0].result, mixed.result
    ((y, x), 2*x**3*y, 6*x**2*y)
    >>> quick = derive("x cos(pi x)", steps=False)
    >>> quick.result == d.result, [s.rule for s in quick.steps]
    (True, ['table'])

    ``name_links=True`` (one derivative only) writes the answer of a chain ``NAMED_CHAIN`` or more
    links deep in the names of its links, listed in ``links``: the written-out answer of a chain n
    deep has n²/2 nested functions, the named one n. It is checked link by link against SymPy's
    derivative of each link (``links.compare_linked``), else against 50-digit finite differences.
    ``avoid``: names the links must not take (those of another derivation shown beside this one).
    ``named_from``: name chains from this many links on instead (``LONG_CHAIN`` at the least):
    evaluating an answer link by link is linear, written out it is not.

    >>> deep = derive("sin(" * 70 + "x" + ")" * 70, name_links=True)
    >>> deep.result.args[:2], deep.links[0], deep.links[-1], deep.check
    ((cos(p), cos(q)), (u, sin(v)), (u62, sin(x)), 'exact')
    """
    e = as_expr(expr)
    stages = expressions.stages(e, wrt, order)
    # a function real on no interval is refused; 0^u is read as 0; a variable named that does not
    # occur gets a note (its derivative is a true 0, but it may be a misspelling)
    ready, notes = prepared(e, stages if wrt is not None else ())
    state = DerivationState({s.name for s in e.free_symbols if isinstance(s, sp.Symbol)} | set(avoid),
                      name_links=name_links and len(stages) == 1, named_from=named_from)
    links: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    roots: list[Step] = []
    current: sp.Expr = ready
    worst = "exact"
    reference: sp.Expr = ready
    with budget.deep_recursion():
        for var in stages:
            if not steps:
                final = final_form(diff_once(current, var))
                roots.append(TableStep(expr=current, wrt=var, result=final, id=state.new_id()))
                reference = current = final
                continue
            step = derive_step(current, var, state)
            final = final_form(step.result)
            if final.has(sp.Sum):
                from symgrad.vocabulary.sums import tidy_sums  # only where there are sums

                # sums over data are written as tidy_sums writes them: −2Σ xᵢ(yᵢ − (w xᵢ + b))
                final = tidy_sums(final, current)
            check_result(final, current)
            if final != step.result:
                step = SimplifyStep(expr=current, wrt=var, result=final, before=step.result,
                                    substeps=(step,), id=state.new_id())
            links, tops = _links(step)
            if links:
                # written out, SymPy's answer would have n²/2 nested functions: the named answer is
                # checked against the chain rule with SymPy's derivative of every link, or else
                # against high-precision finite differences of the function
                function = current.xreplace(tops)
                by_links = chain_rule_reference(links, function, var)
                reference = final if by_links is None else by_links  # in the names too
                verdict = compare_linked(final.xreplace(tops), links, function, var, reference=by_links)
            else:
                # chain_diff is sympy.diff (same result) without its cubic cost on deep chains
                reference = tidy(chain_diff(current, var))
                verdict = compare(final, reference, domain=current)
            kind = {"exact": "exact", "numeric": "numeric", "unknown": "unverified"}.get(verdict.kind, "mismatch")
            if kind == "mismatch" and strict:
                raise StepsDisagree(
                    f"the worked steps give {final} but SymPy gives {reference} for d/d{var} {current}",
                    suggestion="this is a bug in a rule of symgrad's step engine; please report it",
                )
            if _CHECK_ORDER[kind] > _CHECK_ORDER[worst]:
                worst = kind
            roots.append(step)
            current = final
    return Derivation(expr=e, variables=tuple(stages), steps=tuple(roots), result=current,
                      check=worst, reference=reference, links=links, notes=notes)


def diff_once(expr: sp.Basic, var: sp.Symbol) -> sp.Basic:
    """d``expr``/d``var`` as a real function, in the form results are given (``tidy``, sums tidied).

    ``sympy.diff`` first (``chain_diff``, linear on deep chains). SymPy works in the complex plane:
    where it cannot tell that a part is real it writes re(…), im(…) and atan2(0, …)
    (|asin x|′), or leaves the Derivative unevaluated (sign(ln x)′); then the step engine, which
    works in real analysis and is checked against SymPy, gives the derivative instead. A result
    that is still not real is refused (``realness.check_result``).

    >>> x = sp.Symbol("x", real=True)
    >>> diff_once(sp.Abs(sp.asin(x)), x)
    asin(x)/(sqrt(1 - x**2)*Abs(asin(x)))
    """
    result = in_final_form(chain_diff(expr, var), expr)
    if (complex_parts(result) and not complex_parts(expr)) or _unevaluated(result, expr):
        result = derive(expr, var).result
    check_result(result, expr)
    return result


def _unevaluated(result: sp.Basic, expr: sp.Basic) -> bool:
    """Whether SymPy left a derivative it could not take (not f′ of an unknown function), or wrote
    an argument as atan2(0, u) (the complex argument of a real u)."""
    if result.has(sp.atan2) and not expr.has(sp.atan2):
        return True
    return result.has(sp.Derivative) and any(view(d) is None for d in result.atoms(sp.Derivative))


def _links(root: Step) -> tuple[tuple[tuple[sp.Symbol, sp.Expr], ...], dict[sp.Expr, sp.Symbol]]:
    """The named links of the step tree, outermost first (see ``Derivation.links``), and each named
    chain's outermost inner function with its name."""
    chains = [s for s in root.walk() if isinstance(s, ChainStep) and s.named]
    return tuple((s.u, s.definition) for s in chains), {s.inner: s.u for s in chains if not s.link}

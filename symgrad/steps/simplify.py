"""The final simplification: the rules' raw result -> the form a person writes, σ and tanh kept.

Stage: step engine (last step of each derivative). Never ``sympy.simplify``: it is slow and turns
σ′ into 1/(4cosh²(x/2)). Only cheap rewrites that cannot change which functions appear are tried
(``tidy`` for sign/|u|, ``factor_terms`` to pull out common factors: σ(1 − σ)(1 − 2σ)); the
candidate with the fewest operations wins, ties going to the unchanged form, so a result is only
rewritten where that changes what the reader sees. A factored form must pull out a function or a
bracket (σ(x)(1 − σ(x)), eˣ, (x² + 1)): x(x·cos x + 2·sin x) is not how anyone writes x²cos x + 2x·sin x.

To add a rewrite: append it to ``_CANDIDATES``; it must keep every function it is given.

>>> import sympy as sp
>>> from symgrad.vocabulary.functions import sigmoid
>>> x = sp.Symbol("x", real=True)
>>> s = sigmoid(x)
>>> final_form(s * (1 - s) ** 2 - s**2 * (1 - s))
sigmoid(x)*(1 - 2*sigmoid(x))*(1 - sigmoid(x))
>>> final_form(-sp.pi * x * sp.sin(sp.pi * x) + sp.cos(sp.pi * x))
-pi*x*sin(pi*x) + cos(pi*x)
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

import sympy as sp

from symgrad.budget import check

LARGE = 300
"""Tree size beyond which only ``tidy`` runs: factoring a huge result is slow and rarely clearer."""


def _tidy(expr: sp.Basic) -> sp.Basic:
    from symgrad.differentiate import tidy

    return tidy(expr)


def _factored(expr: sp.Basic) -> sp.Basic:
    """Common factors pulled out of a sum, when one of them is worth pulling out."""
    if not expr.is_Add:
        return expr
    candidate = sp.factor_terms(expr)
    if candidate == expr or not candidate.is_Mul:
        return expr
    terms = [sp.Mul.make_args(t) for t in expr.args]

    def divides_every_term(f: sp.Basic) -> bool:
        base = f.base if f.is_Pow else f
        return all(any(g == base or (g.is_Pow and g.base == base) for g in factors) for factors in terms)

    pulled = [f for f in candidate.args if not f.is_Number and divides_every_term(f)]
    worth = any(f.has(sp.Function) or f.is_Add or (f.is_Pow and f.base.is_Add) for f in pulled)
    return candidate if worth else expr


_CANDIDATES: tuple[Callable[[sp.Basic], sp.Basic], ...] = (_factored,)


def _larger_than(expr: sp.Basic, limit: int) -> bool:
    """Whether the tree has more than ``limit`` nodes; stops counting there (results can be huge)."""
    return next(islice(sp.preorder_traversal(expr), limit, None), None) is not None


def _cost(expr: sp.Basic) -> int:
    return int(sp.count_ops(expr))


def final_form(expr: sp.Basic) -> sp.Basic:
    """``expr`` rewritten by the cheap candidates, if one of them is shorter."""
    best = _tidy(expr)
    if not best.args or _larger_than(best, LARGE):
        return best
    check("simplifying the result")
    best_cost = _cost(best)
    for rewrite in _CANDIDATES:
        candidate = rewrite(best)
        cost = _cost(candidate)
        if cost < best_cost:
            best, best_cost = candidate, cost
    return best

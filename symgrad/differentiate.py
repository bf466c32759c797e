"""SymPy's derivative as symgrad takes it: linear on deep chains, in the form results are given.

Stage: expressions (below the step engine, which checks itself against this, and the calculus,
which answers with it). ``chain_diff`` is ``sympy.diff`` without its cubic cost on deep chains;
``tidy`` writes sign(u)/|u| as 1/u; ``in_final_form`` adds the sums over data as a teacher writes
them (``symgrad.vocabulary.sums.tidy_sums``).

>>> x = sp.Symbol("x", real=True)
>>> in_final_form(chain_diff(sp.Abs(x), x), sp.Abs(x))
sign(x)
"""

from __future__ import annotations

import sympy as sp

from symgrad.vocabulary.abstract import canonical


def in_final_form(result: sp.Basic, expr: sp.Basic) -> sp.Basic:
    """``result``, a derivative of ``expr``, in the form results are given: ``tidy``, and constants
    out of sums over data with residuals as written: −2Σ xᵢ(yᵢ − (w xᵢ + b))."""
    result = tidy(result)
    if not result.has(sp.Sum):
        return result
    from symgrad.vocabulary.sums import tidy_sums  # only where there are sums

    return tidy_sums(result, expr)


CHAIN_SHORTCUT = 20
"""Functions nested at least this deep are differentiated by ``chain_diff``'s one-product shortcut."""


def chain_diff(expr: sp.Basic, var: sp.Symbol, order: int = 1) -> sp.Basic:
    """``sympy.diff``, with a shortcut for long chains of one-argument functions (same result).

    SymPy multiplies the chain rule's factors in one at a time, re-sorting a growing product of
    ever deeper factors: its cost grows as the cube of the depth (``sin(sin(…(x)…))`` 300 deep takes
    15 s). Collecting the outer derivatives f′(u) down the chain and multiplying once is linear.

    >>> x = sp.Symbol("x")
    >>> chain_diff(sp.sin(sp.cos(x)), x) == sp.diff(sp.sin(sp.cos(x)), x)
    True
    """
    if order != 1:
        return expr if order == 0 else chain_diff(chain_diff(expr, var), var, order - 1)
    # SymPy writes f′(g(x)) as Derivative(f(g(x)), g(x)) and f′(x²) with a Dummy: one form instead
    return canonical(_chain_diff(expr, var))


def _chain_diff(expr: sp.Basic, var: sp.Symbol) -> sp.Basic:
    factors: list[sp.Basic] = []
    node = expr
    while True:
        if _is_chain_link(node, var):
            factors.append(node.fdiff(1))
            node = node.args[0]
        elif node.is_Pow and node.base.has(var) and not node.exp.has(var):
            factors.append(node.exp * node.base ** (node.exp - 1))
            node = node.base
        else:
            break
    if len(factors) < CHAIN_SHORTCUT:
        return sp.diff(expr, var)
    return sp.Mul(*factors, sp.diff(node, var))


def _is_chain_link(node: sp.Basic, var: sp.Symbol) -> bool:
    """A known one-argument function whose derivative is the plain chain rule f′(u)·u′."""
    from sympy.core.function import AppliedUndef

    return (
        isinstance(node, sp.Function)
        and len(node.args) == 1
        and not isinstance(node, AppliedUndef)
        and type(node)._eval_derivative is sp.Function._eval_derivative
        and node.args[0].has(var)
    )


def tidy(expr: sp.Basic) -> sp.Basic:
    """Cheap rewrites that make results read as a person writes them, keeping σ and tanh forms.

    ``sign(u)/|u|`` -> ``1/u`` and ``sign(u)·|u|`` -> ``u`` (equal wherever both sides are defined).

    >>> tidy(sp.sign(sp.Symbol("x")) / sp.Abs(sp.Symbol("x")))
    1/x
    """

    def is_target(node: sp.Basic) -> bool:
        return node.is_Mul and any(isinstance(f, sp.sign) for f in node.args)

    def rewrite(node: sp.Mul) -> sp.Basic:
        factors = list(node.args)
        for s in [f for f in factors if isinstance(f, sp.sign)]:
            u = s.args[0]
            for f in factors:
                if f in (sp.Abs(u), sp.Abs(u) ** -1):
                    factors.remove(s)
                    factors[factors.index(f)] = u if f == sp.Abs(u) else u**-1
                    break
        return sp.Mul(*factors)

    if not expr.has(sp.sign):
        return expr
    return expr.replace(is_target, rewrite)

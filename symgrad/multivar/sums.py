"""Sums over data: losses like Σᵢ (yᵢ − (w xᵢ + b))², their parameters, and their gradients.

Stage: expression -> result. The sums themselves are ``symgrad.vocabulary.sums`` (``x_i`` in a sum
over i is indexed data, ``Indexed(IndexedBase(x), i)``).

The derivative passes into the sum (the index is not a parameter), the chain rule works inside,
and ``sum_derivative`` then takes the factors that do not depend on the index out in front,
keeping the residual as it was written: −2 Σ xᵢ(yᵢ − (w xᵢ + b)), not Σ (2b xᵢ + 2w xᵢ² − 2xᵢyᵢ).
To add a reduction (a product ∏, say), see ``symgrad.vocabulary.sums``.

>>> from symgrad.parsing import parse
>>> loss = parse("sum((y_i - (w x_i + b))^2, i, 1, n)")
>>> loss
Sum((-b - w*x[i] + y[i])**2, (i, 1, n))
>>> sum_gradient(loss)
[-2*Sum(-b - w*x[i] + y[i], (i, 1, n)), -2*Sum((-b - w*x[i] + y[i])*x[i], (i, 1, n))]
"""

from __future__ import annotations

from collections.abc import Iterable

import sympy as sp

from symgrad.budget import check
from symgrad.differentiate import tidy
from symgrad.errors import InputError
from symgrad.expressions import ExprLike, VarLike, as_expr, resolve_variable, resolve_variables
from symgrad.vocabulary.sums import data_symbols, tidy_sums
from symgrad.vocabulary.symbols import natural_key


# parameters and data --------------------------------------------------------------------------
def parameters(expr: ExprLike) -> list[sp.Symbol]:
    """The variables to differentiate by: free symbols that are not data, in natural order.

    >>> from symgrad.parsing import parse
    >>> parameters(parse("1/n sum((y_i - (w x_i + b))^2, i, 1, n)"))
    [b, w]
    """
    e = as_expr(expr)
    data = data_symbols(e)
    return sorted((s for s in e.free_symbols if isinstance(s, sp.Symbol) and s not in data), key=natural_key)


# derivatives ----------------------------------------------------------------------------------
def sum_derivative(expr: ExprLike, wrt: VarLike) -> sp.Expr:
    """d/dθ of an expression with sums: into each sum, chain rule inside, constants out in front.

    >>> from symgrad.parsing import parse
    >>> sum_derivative("1/n sum((y_i - (w x_i + b))^2, i, 1, n)", "b")
    -2*Sum(-b - w*x[i] + y[i], (i, 1, n))/n
    """
    e = as_expr(expr)
    var = resolve_variable(wrt, e)
    if var in data_symbols(e):
        raise InputError(f"{var} is data (an indexed name or the limit of a sum), not a parameter",
                         suggestion="differentiate by the parameters, like w and b")
    return tidy_sums(tidy(sp.diff(e, var)), e)


def sum_gradient(expr: ExprLike, wrt: Iterable[VarLike] | str | None = None) -> list[sp.Expr]:
    """``sum_derivative`` for each parameter (default: every parameter, data left out)."""
    e = as_expr(expr)
    variables = parameters(e) if wrt is None else resolve_variables(wrt, e)
    out = []
    for v in variables:
        check("the gradient of the sum")
        out.append(sum_derivative(e, v))
    return out

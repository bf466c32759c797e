"""Derivatives and gradients of parsed expressions: the library's core that the CLI is a layer on.

Stage: calculus (above the step engine, below multivar and numeric). ``derivative`` and
``gradient`` are SymPy's derivatives (``symgrad.differentiate``) of a real function; where SymPy
answers in the complex plane (re, im, atan2(0, u)) or leaves a derivative untaken, the step engine,
which works in real analysis and is checked against SymPy, gives it (``steps.derivation.diff_once``). Every function
accepts a SymPy expression or text, which goes through ``symgrad.parsing`` (never ``sympify``).

>>> gradient("y**2 - x**2")
[-2*x, 2*y]
>>> derivative("x cos(pi x)")
-pi*x*sin(pi*x) + cos(pi*x)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sympy as sp

from symgrad.expressions import ExprLike, VarLike, as_expr, prepared, resolve_variables, stages
from symgrad.steps.derivation import diff_once


def derivative(expr: ExprLike, wrt: VarLike | Sequence[VarLike] | None = None, order: int = 1) -> sp.Expr:
    """The ``order``-th derivative of ``expr`` with respect to ``wrt`` (default: x, or the first
    variable); several variables give the mixed partial as written (``"x,y"``: ∂²f/∂x∂y, see ``stages``).

    >>> derivative("sigmoid(x)")
    sigmoid(x)*(1 - sigmoid(x))
    >>> derivative("x^3 y", wrt="y")
    x**3
    >>> derivative("x^3 y^2", wrt="x,y")
    6*x**2*y
    """
    e = as_expr(expr)
    taken = stages(e, wrt, order)
    e, notes = prepared(e, taken if wrt is not None else ())
    _warn(notes)
    result: sp.Basic = e
    for var in taken:
        result = diff_once(result, var)
    return result


def gradient(expr: ExprLike, wrt: Iterable[VarLike] | str | None = None) -> list[sp.Expr]:
    """The partial derivatives of ``expr``, one per variable (default: all, in natural order).

    >>> gradient("x^2 + 3 x y", wrt="x,y")
    [2*x + 3*y, 3*x]
    """
    e = as_expr(expr)
    taken = resolve_variables(wrt, e)
    e, notes = prepared(e, taken if wrt is not None else ())
    _warn(notes)
    return [diff_once(e, v) for v in taken]


def _warn(notes: Sequence[str]) -> None:
    """The notes of a function that returns a bare expression, as warnings (``derive`` keeps them
    in ``Derivation.notes``)."""
    if notes:
        import os
        import sys
        import warnings

        from symgrad.errors import SymgradWarning

        # point the warning at the caller's line, outside symgrad (as skip_file_prefixes would)
        package = os.path.dirname(os.path.abspath(__file__))
        frame, level = sys._getframe(0), 1
        while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
            frame, level = frame.f_back, level + 1
        for note in notes:
            warnings.warn(note, SymgradWarning, stacklevel=level)

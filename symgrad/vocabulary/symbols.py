"""symgrad's variables: real SymPy symbols, and the natural order they are listed in.

Stage: vocabulary. The grammar names every spelling of a variable canonically (``θ₁`` and
``theta_1`` are ``theta1``) and makes it ``Symbol(name, real=True)``; ``real_variables`` does the
same for SymPy objects handed to the API; ``natural_key`` orders variables as people list them.
"""

from __future__ import annotations

import re

import sympy as sp

from symgrad.errors import InputError


def real_variables(expr: sp.Expr) -> sp.Expr:
    """``expr`` with SymPy's plain symbols and functions as symgrad's real ones of the same name.

    symgrad's variables are ``Symbol(name, real=True)`` (and f, g, h ``Function(name, real=True)``):
    its calculus is real analysis, so |x|′ is sign(x), not a formula in re(x) and im(x). A symbol
    that already says it is real (``positive=True``, ``integer=True``) is kept as it is; one that
    says it is not (``imaginary=True``) is refused.

    >>> x = sp.Symbol("x")
    >>> real_variables(sp.Abs(x)).diff(sp.Symbol("x", real=True))
    sign(x)
    """
    from sympy.core.function import AppliedUndef

    mapping: dict[sp.Basic, sp.Basic] = {}
    for s in expr.atoms(sp.Symbol):
        if isinstance(s, (sp.Dummy, sp.Wild)) or s.is_real:
            continue
        if s.is_real is False:
            raise InputError(f"the symbol {s.name} is declared not real, but symgrad's variables are real",
                             suggestion=f"use sympy.Symbol({s.name!r}) or sympy.Symbol({s.name!r}, real=True)")
        mapping[s] = sp.Symbol(s.name, real=True)
    result = expr.xreplace(mapping) if mapping else expr
    plain_functions = {type(f) for f in result.atoms(AppliedUndef) if f.is_real is None}
    for func in plain_functions:
        result = result.replace(func, sp.Function(func.__name__, real=True))
    return result


def natural_key(symbol: sp.Basic) -> tuple[object, ...]:
    """Sort key putting x before y and theta2 before theta10.

    >>> sorted(["theta10", "theta2", "y", "x"], key=lambda n: natural_key(sp.Symbol(n)))
    ['theta2', 'theta10', 'x', 'y']
    """
    parts = re.split(r"(\d+)", str(symbol))
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)

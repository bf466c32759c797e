"""The bridge to the step engine: per-entry derivations for Hessians, Jacobians, sums and mixed partials.

Stage: expression -> step tree. ``symgrad.steps`` (the step engine) explains one derivative rule by
rule; this module only calls it for each entry a multivariable result is made of, and gives None
when the engine refuses an entry (a ``SymgradError``), so that a result is never held up (or
faked) for want of its steps; any other exception is a bug and is not hidden. To use another
explainer, change ``derive_or_none``.

>>> x = sp.Symbol("x", real=True)
>>> d = derive_or_none(x**3, x)
>>> d is None or d.result == 3*x**2
True
"""

from __future__ import annotations

import sympy as sp

from symgrad.errors import BudgetExceeded, SymgradError


def derive_or_none(expr: sp.Expr, wrt: sp.Symbol) -> object | None:
    """The step engine's ``Derivation`` of d(expr)/d(wrt), or None if the engine refuses the entry."""
    from symgrad.steps import derive

    try:
        return derive(expr, wrt=wrt)
    except BudgetExceeded:
        raise
    except SymgradError:  # a refusal for one entry must not cost the user the result itself
        return None

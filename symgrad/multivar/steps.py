"""The bridge to the step engine: per-entry derivations for Hessians, Jacobians, sums and mixed partials.

Stage: expression -> step tree. ``symgrad.steps`` (the step engine) explains one derivative rule by
rule; this module only calls it for each entry a multivariable result is made of, and gives None
when the engine is not installed or cannot explain an entry, so that a result is never held up
(or faked) for want of its steps. To use another explainer, change ``derive_or_none``.

>>> x = sp.Symbol("x", real=True)
>>> d = derive_or_none(x**3, x)
>>> d is None or d.result == 3*x**2
True
"""

from __future__ import annotations

import sympy as sp

from symgrad.errors import BudgetExceeded


def steps_available() -> bool:
    """Whether the step engine (``symgrad.steps.derive``) can be imported."""
    try:
        from symgrad.steps import derive  # noqa: F401
    except ImportError:
        return False
    return True


def derive_or_none(expr: sp.Expr, wrt: sp.Symbol) -> object | None:
    """The step engine's ``Derivation`` of d(expr)/d(wrt), or None if there is no engine or it fails."""
    try:
        from symgrad.steps import derive
    except ImportError:
        return None
    try:
        return derive(expr, wrt=wrt)
    except BudgetExceeded:
        raise
    except Exception:  # an engine gap must not cost the user the result itself
        return None

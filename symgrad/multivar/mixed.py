"""Mixed partial derivatives, one stage at a time: ∂²f/∂x∂y = ∂/∂x (∂f/∂y).

Stage: expression -> result (and, through ``symgrad.multivar.steps``, one step derivation per
stage). The variables are given as the notation writes them, ``∂²f/∂x∂y`` -> ``wrt=("x", "y")``,
and applied right to left, as the notation reads: first ∂/∂y, then ∂/∂x. (For the smooth
functions symgrad meets the order does not change the result, by Schwarz's theorem; each stage is
still derived, never assumed.) ``symgrad diff EXPR --wrt x,y`` calls ``mixed_partial``. To add a
display of the stages, read ``MixedPartial.stages``.

>>> m = mixed_partial("x^2 y^3", "x,y")
>>> [(str(s.wrt), s.result) for s in m.stages]
[('y', 3*x**2*y**2), ('x', 6*x*y**2)]
>>> m.label_plain
'∂²f/∂x∂y'
>>> mixed_partial("x^2 y^3", "x,x,y").label_plain
'∂³f/∂x²∂y'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from symgrad import expressions
from symgrad.budget import check
from symgrad.errors import InputError
from symgrad.expressions import ExprLike, VarLike, as_expr, prepared
from symgrad.records import record
from symgrad.steps.derivation import diff_once


@record
class Stage:
    """One differentiation: ∂/∂``wrt`` of ``expr`` is ``result``; ``derivation`` holds its steps if asked for."""

    wrt: sp.Symbol
    expr: sp.Expr
    result: sp.Expr
    derivation: object | None = None


@record
class MixedPartial:
    """∂ⁿf/∂v₁…∂vₙ of ``expr``: ``wrt`` as written (v₁ … vₙ), ``stages`` in the order applied (vₙ first)."""

    expr: sp.Expr
    wrt: tuple[sp.Symbol, ...]
    stages: tuple[Stage, ...]
    notes: tuple[str, ...] = ()
    """How the expression was taken and which variables named do not occur in it (``prepared``)."""

    @property
    def result(self) -> sp.Expr:
        return self.stages[-1].result

    @property
    def label_plain(self) -> str:
        return self._label().plain

    @property
    def label_latex(self) -> str:
        return self._label().latex

    def _label(self) -> Any:
        from symgrad.printing.labels import derivative_label

        return derivative_label([s.wrt for s in self.stages], partial=len(self.expr.free_symbols) > 1, function="f")

    def to_json(self) -> dict[str, object]:
        """``wrt`` (as written), ``result``, ``latex`` and ``stages`` (each ``wrt``, ``result`` and maybe ``steps``)."""
        from symgrad.printing.latex import latex_of

        stages = []
        for s in self.stages:
            item: dict[str, object] = {"wrt": s.wrt.name, "result": str(s.result)}
            if s.derivation is not None:
                data = s.derivation.to_json()  # type: ignore[attr-defined]
                if isinstance(data, dict) and "steps" in data:
                    item["steps"] = data["steps"]
            stages.append(item)
        return {"wrt": [v.name for v in self.wrt], "result": str(self.result),
                "latex": latex_of(self.result), "stages": stages}


def mixed_partial(expr: ExprLike, wrt: Sequence[VarLike] | str, *, steps: bool = False) -> MixedPartial:
    """∂ⁿf/∂v₁…∂vₙ, applying ∂/∂vₙ first; ``wrt`` is a sequence or ``"x,y"`` (a name may repeat).

    >>> mixed_partial("sin(x y)", ["x", "y"]).result
    -x*y*sin(x*y) + cos(x*y)
    """
    e = as_expr(expr)
    if isinstance(wrt, str) and not any(n.strip() for n in wrt.split(",")):
        raise InputError("no variable given", suggestion="write --wrt x,y for ∂²f/∂x∂y")
    taken = expressions.stages(e, wrt if isinstance(wrt, str) else list(wrt))  # the order: expressions.stages
    ready, notes = prepared(e, taken)
    stages: list[Stage] = []
    current = ready
    for var in taken:
        check("the mixed partial")
        derivation = None
        if steps:
            from symgrad.multivar.steps import derive_or_none

            derivation = derive_or_none(current, var)
        result = diff_once(current, var)
        stages.append(Stage(var, current, result, derivation))
        current = result
    return MixedPartial(e, tuple(reversed(taken)), tuple(stages), notes)

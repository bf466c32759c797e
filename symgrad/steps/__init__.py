"""Worked derivations: every derivative as a tree of rule applications that checks itself.

Stage: step engine (expression -> step tree -> result), modelled on SymPy's manualintegrate:

- ``rules.py``: one frozen record (``symgrad.records``) per rule (its docstring is the math; ``combine`` computes the
  result from the substeps, so the tree is the single source of truth);
- ``strategies.py``: one strategy function per rule and the dispatcher ``derive_step``, with an
  explicit "from the derivative table" fallback instead of an exception;
- ``table.py``: F′(u) for every named function (trig, hyperbolic, inverses, σ, relu, |u|, …);
- ``simplify.py``: the final simplification, shown as a step, keeping σ and tanh forms;
- ``verify.py``: the self-check against ``sympy.diff`` (exact first, numeric fallback);
- ``derivation.py``: ``derive`` and the ``Derivation`` it returns;
- ``homework.py``: checking a student's answer and the table of common derivatives.

What to *say* about each rule lives in ``symgrad.render.narrate.steps``, never here. To add a rule, see
``rules.py`` and ``strategies.py``.

>>> d = derive("sin(cos(tan x))")
>>> [s.rule for s in d.steps[0].substeps]
['sin', 'chain']
"""

from __future__ import annotations

from symgrad.steps.derivation import Derivation, StepsDisagree, derive
from symgrad.steps.rules import Step, reassemble

__all__ = ["Derivation", "Step", "StepsDisagree", "derive", "reassemble"]

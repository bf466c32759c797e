"""Vectors and matrices: matrix calculus with worked, checked steps (issue 17).

Stage: a layer beside the scalar engine, from notation to numbers:

- ``shapes.py``: shape declarations (``"x: n, A: n×n, W: m×n, b: m"``, ``x: vector``,
  ``A: symmetric``) and size unification;
- ``notation.py``: the parser in matrix mode (transposes, ``@``, ``⊙``, ``‖x‖``, det, tr, …) with
  shapes inferred from use, a note for each;
- ``expr.py``: the vocabulary, immutable nodes with shapes and their text (SymPy ``str()`` form);
- ``differential.py``: the differential form with one record per identity, the gradient, Jacobian
  and Hessian read off (denominator layout);
- ``expand.py``: the component expansion and the check against ``sympy.diff``, always;
- ``network.py``: a layered network's gradients in backprop form (δ₂ = p − y, ∂L/∂W₁ = δ₁xᵀ);
- ``numeric.py``: values at a point, generated NumPy/JAX/torch modules, their check;
- ``descent.py``: logistic and softmax regression on a CSV with symgrad's optimizers;
- ``api.py``: the entry points below, returning records with ``to_json()``.

What is said about each step is in ``symgrad.render.matrix``.

>>> import symgrad.matrix as m
>>> m.gradient("x^T A x", "x", "A: symmetric").result
'2*A*x'
"""

from __future__ import annotations

from symgrad.matrix.api import (
    LAYOUT,
    CompiledMatrix,
    GradientResult,
    HessianResult,
    JacobianResult,
    MatrixStepsDisagree,
    NetworkResult,
    backprop_network,
    compile_matrix,
    evaluate,
    export_source,
    gradient,
    hessian,
    jacobian,
    shapes_json,
    wrt_names,
)
from symgrad.matrix.notation import MatrixParsed, parse

__all__ = [
    "LAYOUT", "CompiledMatrix", "GradientResult", "HessianResult", "JacobianResult", "MatrixParsed",
    "MatrixStepsDisagree", "NetworkResult", "backprop_network", "compile_matrix", "evaluate", "export_source",
    "gradient", "hessian", "jacobian", "parse", "shapes_json", "wrt_names",
]

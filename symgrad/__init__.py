"""symgrad: derivatives, gradients and their worked steps, from the notation people type.

The public API (each name is loaded on first use, so ``import symgrad`` stays cheap):

- ``parse(text)``: the expression as symgrad's grammar reads it;
- ``derivative(expr_or_text, wrt=None, order=1)``, ``gradient(expr_or_text, wrt=None)``,
  ``variables(expr_or_text)``;
- ``derive(expr_or_text, wrt=None, order=1)``: the worked derivation (result + step tree);
- ``compile(expr_or_text, wrt=None, backend="numpy")``: callables for value, gradient, Hessian.

They take text or SymPy objects (plain ``sympy.Symbol("x")`` is the variable x) and return SymPy
objects in plain symbols, so ``.subs("x", 3)`` works on them (``symgrad.api``).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = {
    "parse": "symgrad.api",
    "derivative": "symgrad.api",
    "gradient": "symgrad.api",
    "variables": "symgrad.api",
    "derive": "symgrad.api",
    "compile": "symgrad.numeric.compile",
    "SymgradError": "symgrad.errors",
    "ParseError": "symgrad.errors",
    "InputError": "symgrad.errors",
    "ComputeError": "symgrad.errors",
    "SymgradWarning": "symgrad.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'symgrad' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

"""``symgrad.compile``: an expression -> fast callables for its value, gradient and Hessian.

Stage: numbers. The source comes from ``codegen`` (the same text ``symgrad export`` writes), so a
compiled function and an exported module always agree. The ``math`` backend (plain floats) is the
fastest at one point and is what ``descend`` uses; ``numpy`` broadcasts over arrays of points;
``jax`` and ``torch`` give functions those libraries can jit, vmap or differentiate further.

To add a backend, add it to ``codegen``; nothing here changes.

>>> c = compile("x^2 + 3 x y", backend="math")
>>> c.variables
(x, y)
>>> c.f(1.0, 2.0), c.grad(1.0, 2.0), c.hessian(1.0, 2.0)
(7.0, [8.0, 3.0], [[2.0, 3.0], [3.0, 0.0]])
>>> import numpy as np
>>> compile("x^2 + 3 x y").grad(np.array([0.0, 1.0]), 2.0)   # numpy: one column per point
array([[6., 8.],
       [0., 3.]])
"""

from __future__ import annotations

import builtins
import linecache
from collections.abc import Callable, Iterable, Sequence
from itertools import count
from typing import Any

import sympy as sp

from symgrad.errors import InputError
from symgrad.expressions import ExprLike
from symgrad.records import record
from symgrad.vocabulary.symbols import natural_key

_ids = count(1)


@record
class Compiled:
    """Callables for one expression; each takes one argument per variable, in ``variables`` order.

    ``grad`` returns one entry per variable, ``hessian`` a matrix; ``value_and_grad`` returns both
    with their common subexpressions computed once (what an optimizer loop wants).
    """

    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    backend: str
    gradient: tuple[sp.Expr, ...]
    source: str
    f: Callable[..., Any] | None
    grad: Callable[..., Any] | None
    hessian: Callable[..., Any] | None
    value_and_grad: Callable[..., Any] | None


def arguments(expr: sp.Basic, wrt: Iterable[object] | str | None) -> tuple[sp.Symbol, ...]:
    """The arguments of the compiled functions (the variables to differentiate by); every other free
    symbol is an error: it has no value (``multivar.sums.parameters`` are the symbols that are not data)."""
    from symgrad.expressions import resolve_variables
    from symgrad.numeric.codegen import check_supported, visible

    check_supported(expr)  # data sums, abstract functions: before their symbols are called variables
    variables = tuple(resolve_variables(wrt, expr))
    rest = sorted((s for s in expr.free_symbols if s not in variables), key=natural_key)
    if rest:
        names = ", ".join(visible(str(s)) for s in rest)
        raise InputError(f"f also depends on {names}, which is not among the variables",
                         suggestion=f"add {visible(str(rest[0]))} to --wrt, or replace it by a number")
    return variables


def load(source: str, label: str = "symgrad") -> dict[str, Any]:
    """Run generated source (never user text: see ``codegen``) in a fresh namespace.

    The source must pass ``codegen.verify`` first; the backend modules it names are in the
    namespace (so one function from ``codegen.function_source`` runs without its imports). The
    source is registered with ``linecache`` so tracebacks show the generated lines.
    """
    from symgrad.numeric import codegen

    codegen.verify(source)
    filename = f"<{label}-{next(_ids)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace: dict[str, Any] = {"__name__": f"symgrad_generated_{label}", **codegen.modules(source)}
    exec(builtins.compile(source, filename, "exec"), namespace)
    return namespace


def compile(
    expr: ExprLike,
    wrt: Iterable[object] | str | None = None,
    backend: str = "numpy",
    *,
    what: Sequence[str] = ("value", "grad", "hessian", "value_and_grad"),
) -> Compiled:
    """Compile ``expr`` (text or SymPy) for ``backend`` (numpy, math, jax or torch).

    ``wrt`` names the variables in argument order (default: all, in natural order); ``what``
    limits the functions built (the Hessian costs the most to derive). Without the backend's
    library it raises ``codegen.BackendMissing``, an ImportError that says what to install.

    >>> c = compile("x cos(πx)", backend="math", what=["value_and_grad"])
    >>> value, grad = c.value_and_grad(0.5)
    >>> round(value, 12), round(grad[0], 12)   # cos(π/2) − (π/2)·sin(π/2) = −π/2
    (0.0, -1.570796326795)
    """
    from symgrad.differentiate import tidy
    from symgrad.expressions import as_expr
    from symgrad.numeric import codegen

    e = as_expr(expr)
    if backend not in codegen.BACKENDS:
        raise InputError(f"unknown backend '{codegen.visible(str(backend))}'",
                         suggestion="choose one of " + ", ".join(codegen.BACKENDS))
    variables = arguments(e, wrt)
    codegen.require(backend)
    gradient = tuple(tidy(sp.diff(e, v)) for v in variables)
    source = codegen.module_source(e, variables, backend, what)
    namespace = load(source, f"compiled_{backend}")
    return Compiled(
        expr=e,
        variables=variables,
        backend=backend,
        gradient=gradient,
        source=source,
        f=namespace.get("f"),
        grad=namespace.get("grad_f"),
        hessian=namespace.get("hessian_f"),
        value_and_grad=namespace.get("value_and_grad_f"),
    )

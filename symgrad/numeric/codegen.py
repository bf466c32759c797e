"""Expression -> readable Python source for one numeric backend (NumPy, math, JAX, PyTorch).

Stage: numbers, first half (the code that ``compile`` runs and ``export`` writes). A module holds
``f``, ``grad_f`` and ``hessian_f`` (and, for ``compile``, ``value_and_grad_f``), each with its
common subexpressions shared through ``sympy.cse`` and a docstring that shows the math.

Safety: the only names that reach the source are argument names made by ``safe_names`` from the
grammar's identifiers (ASCII identifiers that are not keywords, builtins, module aliases or names
this module defines; anything else gets an underscore or a neutral ``v1``) and temporaries
``_t0, _t1, …``; numbers are printed by SymPy's code printers. User text never reaches the source.

Array backends broadcast: every function takes one argument per variable, as numbers or arrays of
points, and entries that do not depend on every variable (constants too) are broadcast to the
common shape, so ``grad_f(xs, ys)`` always has shape ``(n, *shape)``. NumPy writes the entries
into one preallocated array (broadcast assignment); JAX and torch broadcast the inputs and stack.

To add a backend: a printer class (usually a SymPy printer with a few ``_print_…`` overrides for
symgrad's functions σ, relu, softplus and Heaviside), an entry in ``BACKENDS`` and the lines that
broadcast and stack results in ``_Writer``.

>>> import sympy as sp
>>> x, y = sp.symbols("x y", real=True)
>>> print(function_source("grad_f", x**2 + 3*y, [x, y], "numpy", what="grad"))
def grad_f(x, y):
    \"\"\"∇f(x, y), the gradient of f = x² + 3·y:
<BLANKLINE>
        ∂f/∂x = 2·x
        ∂f/∂y = 3
    \"\"\"
    _shape = np.broadcast_shapes(np.shape(x), np.shape(y))
    _out = np.empty((2,) + _shape)
    _out[0] = 2*x
    _out[1] = 3
    return _out
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Sequence
from symgrad.records import record

import sympy as sp
from sympy.printing.numpy import JaxPrinter, NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from symgrad.errors import InputError, Unsupported

BACKENDS = ("numpy", "math", "jax", "torch")
"""The backends, in the order the documentation lists them."""

IMPORTS = {
    "numpy": "import numpy as np",
    "math": "import math",
    "jax": "import jax\nimport jax.numpy as jnp",
    "torch": "import torch",
}

_RESERVED = {
    "np", "math", "jax", "jnp", "torch", "f", "grad_f", "hessian_f", "value_and_grad_f", "functools",
}


def safe_names(symbols: Sequence[sp.Symbol]) -> dict[sp.Symbol, str]:
    """A Python identifier for each symbol: its own name where that is safe, else a variant.

    >>> import sympy as sp
    >>> safe_names(sp.symbols("x lambda print theta1"))
    {x: 'x', lambda: 'lambda_', print: 'print_', theta1: 'theta1'}
    """
    taken: set[str] = set()
    result: dict[sp.Symbol, str] = {}
    for i, sym in enumerate(symbols, 1):
        name = str(sym.name) if isinstance(sym, sp.Symbol) else str(sym)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            name = f"v{i}"
        while (keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in dir(builtins)
               or name in _RESERVED or name in taken):
            name += "_"
        taken.add(name)
        result[sym] = name
    return result


# printers -------------------------------------------------------------------------------------
class _ArrayPrinter(NumPyPrinter):
    """NumPy's printer with short module names and symgrad's functions, for np/jnp/torch."""

    alias = "np"
    source_module = "numpy"

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": True, "strict": True})

    def _module_format(self, fqn: str, register: bool = True) -> str:
        for prefix in ("numpy.", "jax.numpy."):
            if fqn.startswith(prefix):
                return f"{self.alias}.{fqn[len(prefix):]}"
        return super()._module_format(fqn, register)

    def _call(self, name: str, *args: sp.Basic) -> str:
        return f"{self.alias}.{name}({', '.join(self._print(a) for a in args)})"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.args
        if exp.is_Integer and exp < 0:
            inner = base if exp == -1 else sp.Pow(base, -exp, evaluate=False)
            return f"1/{self.parenthesize(inner, 100)}" if exp == -1 else f"1/({self._print(inner)})"
        return super()._print_Pow(expr, rational=rational)

    def _fold(self, name: str, args: Sequence[sp.Basic]) -> str:
        code = self._print(args[0])
        for arg in args[1:]:
            code = f"{self.alias}.{name}({code}, {self._print(arg)})"
        return code

    def _print_Max(self, expr: sp.Max) -> str:
        return self._fold("maximum", expr.args)

    def _print_Min(self, expr: sp.Min) -> str:
        return self._fold("minimum", expr.args)

    def _print_sigmoid(self, expr: sp.Basic) -> str:
        # exp(−softplus(−u)) is σ(u) without overflow at either end
        return f"{self.alias}.exp(-{self.alias}.logaddexp(0.0, -{self.parenthesize(expr.args[0], 50)}))"

    def _print_relu(self, expr: sp.Basic) -> str:
        return f"{self.alias}.maximum({self._print(expr.args[0])}, 0.0)"

    def _print_softplus(self, expr: sp.Basic) -> str:
        return f"{self.alias}.logaddexp(0.0, {self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sp.Basic) -> str:
        h0 = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        return f"{self.alias}.heaviside({self._print(expr.args[0])}, {self._print(sp.Float(h0))})"

    def _print_DiracDelta(self, expr: sp.Basic) -> str:
        # zero wherever it is defined: the Hessian of relu or |x| away from the kink
        return "0.0"

    def _print_round(self, expr: sp.Basic) -> str:
        return f"{self.alias}.round({self._print(expr.args[0])})"  # halves to even, as symgrad's round

    def _print_Piecewise(self, expr: sp.Basic) -> str:
        raise Unsupported("symgrad cannot export piecewise expressions yet")


class _NumpyPrinter(_ArrayPrinter):
    pass


class _JaxPrinter(_ArrayPrinter, JaxPrinter):
    alias = "jnp"

    def _print_sigmoid(self, expr: sp.Basic) -> str:
        return f"jax.nn.sigmoid({self._print(expr.args[0])})"

    def _print_relu(self, expr: sp.Basic) -> str:
        return f"jax.nn.relu({self._print(expr.args[0])})"

    def _print_softplus(self, expr: sp.Basic) -> str:
        return f"jax.nn.softplus({self._print(expr.args[0])})"


class _TorchPrinter(_ArrayPrinter):
    alias = "torch"

    def _fold(self, name: str, args: Sequence[sp.Basic]) -> str:
        # torch.maximum needs two tensors: numbers become a clamp
        numbers = [a for a in args if a.is_number]
        others = [a for a in args if not a.is_number]
        code = super()._fold(name, others)
        if numbers:
            bound = max(numbers) if name == "maximum" else min(numbers)
            side = "min" if name == "maximum" else "max"
            code = f"torch.clamp({code}, {side}={self._print(sp.Float(bound))})"
        return code

    def _print_sigmoid(self, expr: sp.Basic) -> str:
        return f"torch.sigmoid({self._print(expr.args[0])})"

    def _print_relu(self, expr: sp.Basic) -> str:
        return f"torch.relu({self._print(expr.args[0])})"

    def _print_softplus(self, expr: sp.Basic) -> str:
        return f"torch.nn.functional.softplus({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sp.Basic) -> str:
        h0 = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        u = self._print(expr.args[0])
        return f"torch.where({u} > 0, 1.0, torch.where({u} < 0, 0.0, {self._print(sp.Float(h0))}))"


class _MathPrinter(PythonCodePrinter):
    """Plain Python floats with the math module: the fastest at one point."""

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": True, "strict": True})

    def _print_sigmoid(self, expr: sp.Basic) -> str:
        u = self._print(expr.args[0])
        return f"(1/(1 + math.exp(-({u}))) if ({u}) >= 0 else math.exp({u})/(1 + math.exp({u})))"

    def _print_relu(self, expr: sp.Basic) -> str:
        return f"max({self._print(expr.args[0])}, 0.0)"

    def _print_softplus(self, expr: sp.Basic) -> str:
        u = self._print(expr.args[0])
        return f"(max({u}, 0.0) + math.log1p(math.exp(-abs({u}))))"

    def _print_Heaviside(self, expr: sp.Basic) -> str:
        h0 = expr.args[1] if len(expr.args) > 1 else sp.S.Half
        u = self._print(expr.args[0])
        return f"(1.0 if ({u}) > 0 else 0.0 if ({u}) < 0 else {self._print(sp.Float(h0))})"

    def _print_DiracDelta(self, expr: sp.Basic) -> str:
        return "0.0"

    def _print_round(self, expr: sp.Basic) -> str:
        return f"float(round({self._print(expr.args[0])}))"  # Python's round: halves to even

    def _print_Max(self, expr: sp.Max) -> str:
        return "max(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Min(self, expr: sp.Min) -> str:
        return "min(%s)" % ", ".join(self._print(a) for a in expr.args)


_PRINTERS = {"numpy": _NumpyPrinter, "math": _MathPrinter, "jax": _JaxPrinter, "torch": _TorchPrinter}


def printer(backend: str) -> PythonCodePrinter:
    """A fresh code printer for ``backend``."""
    if backend not in _PRINTERS:
        raise InputError(f"unknown backend '{backend}'", suggestion="choose one of " + ", ".join(BACKENDS))
    return _PRINTERS[backend]()


# functions ------------------------------------------------------------------------------------
@record
class Signature:
    """What a generated function is about: the expression, its variables and their argument names."""

    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    names: tuple[str, ...]


def check_supported(expr: sp.Basic) -> None:
    """Refuse what has no numeric meaning: abstract functions f(x), unevaluated derivatives."""
    from sympy.core.function import AppliedUndef

    undefined = expr.atoms(AppliedUndef)
    if undefined:
        name = sorted(str(u.func) for u in undefined)[0]
        raise Unsupported(f"{name}(…) is an abstract function: numbers need a formula for it",
                          suggestion=f"replace {name}(…) by its formula")
    if expr.has(sp.Derivative, sp.Integral, sp.Subs):
        raise Unsupported("the expression holds an unevaluated derivative or integral")


def _math_doc(expr: sp.Basic) -> str:
    from symgrad.render.oneline import oneline

    text = oneline(expr)
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _var_text(var: sp.Symbol) -> str:
    from symgrad.render.oneline import symbol_text

    return symbol_text(var.name)


def _numeric_form(expr: sp.Basic) -> sp.Basic:
    """DiracDelta is zero wherever it is defined (the Hessian of relu or |x| off the kink)."""
    if expr.has(sp.DiracDelta):
        return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)
    return expr


class _Writer:
    """Writes one function: the cse'd temporaries, broadcasting, and the result's layout."""

    def __init__(self, backend: str, variables: Sequence[sp.Symbol], names: Sequence[str]) -> None:
        self.backend = backend
        self.printer = printer(backend)
        self.variables = tuple(variables)
        self.names = tuple(names)
        self.renamed = {v: sp.Symbol(n, real=True) for v, n in zip(variables, names)}
        self.args = tuple(self.renamed[v] for v in variables)

    def code(self, expr: sp.Basic) -> str:
        return self.printer.doprint(expr)

    def body(self, outputs: Sequence[sp.Basic]) -> tuple[list[str], list[tuple[sp.Basic, bool]]]:
        """CSE over all outputs: the temporary lines and, per output, its reduced form and whether
        it is constant (judged before CSE, since temporaries hide which variables an entry uses)."""
        # outputs are SymPy objects, or plain ints for constant entries (never text)
        exprs = [sp.Integer(o) if isinstance(o, int) else o for o in outputs]
        renamed = [_numeric_form(e).xreplace(self.renamed) for e in exprs]
        replacements, reduced = sp.cse(renamed, symbols=sp.numbered_symbols("_t"), order="none")
        lines = [f"{t} = {self.code(e)}" for t, e in replacements]
        self.partial = len(self.args) > 1 and any(not set(self.args) <= r.free_symbols for r in renamed)
        return lines, [(r, not (o.free_symbols & set(self.args))) for r, o in zip(reduced, renamed)]

    def prologue(self) -> list[str]:
        """Broadcast the arguments when some entry would not have the common shape by itself."""
        args = ", ".join(self.names)
        if self.backend == "math":
            return []
        if self.backend == "torch":
            if len(self.names) > 1 and self.partial:
                converted = ", ".join(f"torch.as_tensor({n})" for n in self.names)
                return [f"{args} = torch.broadcast_tensors({converted})"]
            return [f"{n} = torch.as_tensor({n})" for n in self.names]
        if len(self.names) > 1 and self.partial:
            alias = "np" if self.backend == "numpy" else "jnp"
            return [f"{args} = {alias}.broadcast_arrays({args})"]
        return []

    def entry(self, item: tuple[sp.Basic, bool]) -> str:
        """One entry of a result; constants are spread to the arguments' shape."""
        expr, constant = item
        if not constant or not self.args:
            return self.code(expr)
        value = repr(float(expr)) if expr.is_Integer else self.code(expr)
        first = self.names[0]
        if self.backend == "math":
            return value
        if self.backend == "numpy":
            return f"np.full(np.shape({first}), {value})"
        if self.backend == "jax":
            return f"jnp.full(jnp.shape({first}), {value})"
        return f"torch.full_like({first}, {value})"

    def shape_line(self) -> str:
        """NumPy: the common shape of the arguments (broadcasting the inputs themselves is slow)."""
        shapes = ", ".join(f"np.shape({n})" for n in self.names)
        return f"_shape = np.broadcast_shapes({shapes})" if len(self.names) > 1 else f"_shape = {shapes}"

    def value(self, item: tuple[sp.Basic, bool]) -> str:
        """NumPy: a value of the common shape even when it misses a variable or is constant."""
        expr, constant = item
        if constant:
            return f"np.full(_shape, {self.code(expr)})"
        return f"{self.code(expr)} + np.zeros(_shape)" if self.partial else self.code(expr)

    def vector(self, entries: Sequence[str]) -> str:
        inner = ", ".join(entries)
        if self.backend == "math":
            return f"[{inner}]"
        if self.backend == "numpy":
            return f"np.array([{inner}])"
        if self.backend == "jax":
            return f"jnp.array([{inner}])"
        return f"torch.stack([{inner}])"

    def matrix(self, rows: Sequence[Sequence[str]]) -> str:
        if self.backend == "torch":
            return "torch.stack([%s])" % ", ".join(self.vector(r) for r in rows)
        inner = ", ".join("[" + ", ".join(r) + "]" for r in rows)
        if self.backend == "math":
            return f"[{inner}]"
        return f"{'np' if self.backend == 'numpy' else 'jnp'}.array([{inner}])"


def _fill(w: _Writer, items: dict[tuple[int, ...], tuple[sp.Basic, bool]], dims: tuple[int, ...]) -> list[str]:
    """NumPy: ``_out = np.empty(dims + shape)`` and one line per entry; assignment broadcasts."""
    lines = [f"_out = np.empty({dims!r} + _shape)"]
    for index, (expr, _) in items.items():
        lines.append(f"_out[{', '.join(map(str, index))}] = {w.code(expr)}")
    return lines


def function_source(
    name: str,
    expr: sp.Basic,
    variables: Sequence[sp.Symbol],
    backend: str,
    *,
    what: str = "value",
    names: Sequence[str] | None = None,
    gradient: Sequence[sp.Basic] | None = None,
    hessian: Sequence[Sequence[sp.Basic]] | None = None,
) -> str:
    """The source of one function of ``variables``: ``what`` is value, grad, hessian or value_and_grad.

    ``gradient`` and ``hessian`` may be passed when already computed (they are derived otherwise).
    """
    check_supported(expr)
    names = tuple(names) if names is not None else tuple(safe_names(variables).values())
    w = _Writer(backend, variables, names)
    args = ", ".join(names)
    shown = ", ".join(_var_text(v) for v in variables)
    ftext = _math_doc(expr)
    if what in ("grad", "value_and_grad", "hessian") and gradient is None:
        gradient = [sp.diff(expr, v) for v in variables]
    fill = backend == "numpy"  # NumPy writes entries into one preallocated array (see _fill)
    tail: list[str] = []
    if what == "value":
        doc = [f"f({shown}) = {ftext}"]
        lines, (out,) = w.body([expr])
        pro = w.prologue() if not fill else ([w.shape_line()] if w.partial else [])
        result = w.value(out) if fill else w.entry(out)
    elif what == "grad":
        doc = [f"∇f({shown}), the gradient of f = {ftext}:", ""]
        doc += [f"    ∂f/∂{_var_text(v)} = {_math_doc(g)}" for v, g in zip(variables, gradient)]
        lines, outs = w.body(gradient)
        if fill:
            pro, tail, result = [w.shape_line()], _fill(w, {(k,): o for k, o in enumerate(outs)}, (len(outs),)), "_out"
        else:
            pro, result = w.prologue(), w.vector([w.entry(o) for o in outs])
    elif what == "value_and_grad":
        doc = [f"(f, ∇f) at ({shown}) for f = {ftext}"]
        lines, outs = w.body([expr, *gradient])
        if fill:
            pro = [w.shape_line()]
            tail = _fill(w, {(k,): o for k, o in enumerate(outs[1:])}, (len(outs) - 1,))
            result = f"{w.value(outs[0])}, _out"
        else:
            pro = w.prologue()
            result = f"{w.entry(outs[0])}, {w.vector([w.entry(o) for o in outs[1:]])}"
    elif what == "hessian":
        n = len(variables)
        if hessian is None:
            hessian = [[sp.diff(gradient[i], variables[j]) if j >= i else None for j in range(n)] for i in range(n)]
        pairs = [(i, j) for i in range(n) for j in range(i, n)]
        doc = [f"The Hessian of f = {ftext}: the matrix of ∂²f/∂u∂v over ({shown})."]
        lines, outs = w.body([hessian[i][j] for i, j in pairs])
        if fill:
            pro, result = [w.shape_line()], "_out"
            tail = _fill(w, dict(zip(pairs, outs)), (n, n))
            tail += [f"_out[{j}, {i}] = _out[{i}, {j}]" for i, j in pairs if i != j]
        else:
            pro = w.prologue()
            codes = iter([w.entry(o) for o in outs])
            grid: list[list[str]] = [[""] * n for _ in range(n)]
            for i, j in pairs:
                grid[i][j] = grid[j][i] = next(codes)
            result = w.matrix(grid)
    else:
        raise ValueError(f"unknown function kind {what!r}")
    doc_text = "\n    ".join(doc).replace("\n    \n", "\n\n")
    out = [f"def {name}({args}):", f'    """{doc_text}', '    """' if len(doc) > 1 else None]
    if len(doc) == 1:
        out[1] += '"""'
    out = [line for line in out if line is not None]
    out += [f"    {line}" for line in pro + lines + tail]
    out.append(f"    return {result}")
    return "\n".join(out)


FUNCTION_NAMES = {"value": "f", "grad": "grad_f", "hessian": "hessian_f", "value_and_grad": "value_and_grad_f"}


def module_source(
    expr: sp.Basic,
    variables: Sequence[sp.Symbol],
    backend: str,
    what: Sequence[str] = ("value", "grad", "hessian"),
    *,
    header: str | None = None,
) -> str:
    """A whole module: a docstring, the backend's import, and one function per entry of ``what``.

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> src = module_source(x * sp.cos(sp.pi * x), [x], "math", ["value", "grad"])
    >>> namespace = {}
    >>> exec(src, namespace)
    >>> namespace["grad_f"](1.0)   # cos(π) − π·sin(π)
    [-1.0000000000000004]
    """
    if not variables:
        raise InputError("the expression has no variables", suggestion="export a function of at least one variable")
    for kind in what:
        if kind not in FUNCTION_NAMES:
            raise InputError(f"unknown function '{kind}'", suggestion="choose from value, grad, hessian")
    names = tuple(safe_names(variables).values())
    gradient = [sp.diff(expr, v) for v in variables] if set(what) & {"grad", "hessian", "value_and_grad"} else None
    renamed = [f"{n} is {_var_text(v)}" for v, n in zip(variables, names) if n != v.name]
    doc = header or f"f({', '.join(_var_text(v) for v in variables)}) = {_math_doc(expr)}"
    parts = [f'"""{doc}']
    if backend != "math":
        parts.append("")
        parts.append("Arguments are numbers or arrays of points, broadcast together; grad_f and hessian_f put the")
        parts.append("variables on the first axes (grad_f(...)[0] is the derivative by the first variable).")
    if renamed:
        parts.append("")
        parts.append("Argument names: " + "; ".join(renamed) + ".")
    parts.append('"""')
    parts.append("")
    parts.append(IMPORTS[backend])
    for kind in what:
        parts.append("")
        parts.append("")
        parts.append(function_source(FUNCTION_NAMES[kind], expr, variables, backend, what=kind, names=names,
                                     gradient=gradient))
    return "\n".join(parts) + "\n"

"""Numbers for matrix expressions: values at a point, generated NumPy/JAX/torch modules, their check.

Stage: numbers, matrix layer. Three pieces:

- ``parse_point("x=[1,2], A=[[1,2],[3,4]], λ=0.1", parsed)``: the values of a point, exact (each
  entry read by symgrad's grammar), with the sizes they give (n = 2); ``value(node, point)`` is a
  node's value there as nested lists in its shape, computed from the exact component expansion
  (``expand.components``) to 30 digits before rounding to a float;
- ``module_source(parsed, wrt, backend)``: a readable module with ``f(args)`` and
  ``grad_f(args)`` (one array per variable in ``wrt``, of the variable's shape: a vector is 1-D, a
  matrix 2-D, a number a float), written from the matrix-form results (``@`` products, ``.T``,
  ``linalg.inv``, stable softmax), each node computed once. The source holds only validated
  names (``codegen.safe_names``), the backend's functions and arithmetic, and is refused by
  ``verify`` (an ``ast`` walk) if anything else is in it, before it runs;
- ``check_module``: the module's gradients against central finite differences of its ``f`` at a
  seeded random point.

To add a node: its case in ``_Code.node`` (and ``expand.components`` for the values).

>>> from symgrad.matrix.notation import parse
>>> p = parse("x^T A x", "A: n×n")
>>> value(p.expr, parse_point("x=[1,2], A=[[1,2],[3,4]]", p))
27.0
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from typing import Any

import sympy as sp

from symgrad.errors import ComputeError, InputError
from symgrad.matrix import expr as mx
from symgrad.matrix.expand import Env, components
from symgrad.matrix.expr import Node, Var
from symgrad.records import record

MAX_POINT_ENTRIES = 100_000


@record
class Point:
    """Exact values for some names: matrices (``sp.Matrix``) and numbers, and the sizes they fix."""

    matrices: dict[str, sp.Matrix]
    scalars: dict[str, sp.Expr]
    sizes: dict[str, int]

    def env(self) -> Env:
        return Env(self.sizes, self.matrices)


def _split_top(text: str, sep: str = ",") -> list[tuple[str, int]]:
    """Split at ``sep`` outside brackets; each piece with its offset."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            out.append((text[start:i], start))
            start = i + 1
    out.append((text[start:], start))
    return out


def _literal(text: str, at: int, whole: str) -> Any:
    """``[1, 2]``, ``[[1,2],[3,4]]`` or a number, each entry through the grammar (a constant)."""
    from symgrad.errors import ParseError
    from symgrad.parsing import parse

    s = text.strip()
    if s.startswith("["):
        if not s.endswith("]"):
            raise ParseError("a bracket of the value is not closed", whole, at + len(text))
        inner = s[1:-1]
        offset = at + text.index("[") + 1
        return [_literal(piece, offset + off, whole) for piece, off in _split_top(inner)]
    try:
        v = parse(s)
    except ParseError as exc:
        raise ParseError(exc.message, whole, at + (exc.position or 0), suggestion=exc.suggestion) from None
    if not getattr(v, "is_number", False) or v.has(sp.I) or not v.is_real:
        raise ParseError(f"'{s}' is not a real number", whole, at, suggestion="values are numbers such as 0.5 or pi/4")
    return v


def parse_point(text: str | Mapping[str, Any], parsed: Any) -> Point:
    """The point ``"x=[1,2], A=[[1,2],[3,4]]"`` (or a mapping of names to numbers/nested lists/arrays)
    for the expression ``parsed`` (a ``MatrixParsed``): every vector/matrix value must fit its shape."""
    from symgrad.errors import ParseError

    whole = text if isinstance(text, str) else ""
    items: list[tuple[str, Any, int]] = []
    if isinstance(text, str):
        for piece, off in _split_top(text):
            if not piece.strip():
                continue
            if "=" not in piece:
                raise ParseError(f"'{piece.strip()}' is not name=value", text, off,
                                 suggestion='write x=[1,2], A=[[1,2],[3,4]]')
            name, _, val = piece.partition("=")
            items.append((name.strip(), _literal(val, off + len(name) + 1, text), off))
    else:
        for name, val in text.items():
            items.append((str(name), _from_python(val), 0))
    shapes: dict[str, tuple[Any, Any]] = dict(parsed.shapes)
    names = {v.name: v for v in parsed.expr.variables()}
    bound: dict[str, int] = {}
    matrices: dict[str, sp.Matrix] = {}
    scalars: dict[str, sp.Expr] = {}
    from symgrad.matrix.shapes import _name

    for raw, val, off in items:
        name = _name(raw)
        if name in shapes:
            m = _as_matrix(val, names[name], whole, off)
            r, c = shapes[name]
            for want, got in ((r, m.shape[0]), (c, m.shape[1])):
                known = bound.get(want, want) if isinstance(want, str) else want
                if isinstance(known, str):
                    bound[known] = got
                elif known != got:
                    raise ParseError(f"{name} has shape {r}×{c} here, but the value given has "
                                     f"{m.shape[0]}×{m.shape[1]}",
                                     whole, off, suggestion=f"give {name} as a nested list of {r} rows")
            if names[name].symmetric and m != m.T:
                raise ParseError(f"{name} is declared symmetric but the value given is not", whole, off)
            matrices[name] = m
        else:
            if isinstance(val, list):
                raise ParseError(f"{name} is a number in this expression, not a vector", whole, off)
            scalars[name] = val
    fixed = dict(bound)
    return Point(matrices, scalars, fixed)


def _from_python(val: Any) -> Any:
    if hasattr(val, "tolist"):
        val = val.tolist()
    if isinstance(val, (list, tuple)):
        return [_from_python(v) for v in val]
    if isinstance(val, sp.Basic):
        return val
    if isinstance(val, float):
        return sp.Float(repr(val)) if val == val and abs(val) != float("inf") else _bad_number(val)
    return sp.sympify(int(val)) if isinstance(val, (int, bool)) else _bad_number(val)


def _bad_number(val: Any) -> Any:
    raise InputError(f"{val!r} is not a finite number")


def _as_matrix(val: Any, var: Var, whole: str, off: int) -> sp.Matrix:
    from symgrad.errors import ParseError

    if not isinstance(val, list):
        kind = "matrix" if var.declared == "matrix" else "vector"
        raise ParseError(f"{var.name} is a {kind}: give a list such as [1, 2]",
                         whole, off)
    if all(not isinstance(v, list) for v in val):
        rows = [[v] for v in val] if var.shape[1] == 1 or var.declared != "matrix" else [list(val)]
    else:
        if not all(isinstance(v, list) for v in val):
            raise ParseError(f"the value of {var.name} mixes numbers and rows", whole, off)
        rows = val
    width = len(rows[0]) if rows else 0
    if any(len(r) != width for r in rows) or not rows or not width:
        raise ParseError(f"the rows of {var.name} do not all have the same length", whole, off)
    if len(rows) * width > MAX_POINT_ENTRIES:
        raise ParseError(f"the value of {var.name} has more than {MAX_POINT_ENTRIES:,} entries", whole, off)
    return sp.Matrix(rows)


def value(node: Node, point: Point) -> Any:
    """``node``'s value at ``point``: a float for a number, a list for a vector, rows for a matrix."""
    env = point.env()
    missing = [v.name for v in node.variables() if v.name not in point.matrices]
    if missing:
        raise InputError(f"the point gives no value for {', '.join(missing)}",
                         suggestion=f"add {missing[0]}=[…] to --at")
    m = components(node, env)
    subs = {sp.Symbol(k, real=True): v for k, v in point.scalars.items()}
    free = set()
    out = []
    for i in range(m.shape[0]):
        row = []
        for j in range(m.shape[1]):
            e = sp.sympify(m[i, j]).xreplace(subs)
            free |= {s.name for s in e.free_symbols}
            row.append(e)
        out.append(row)
    if free:
        raise InputError(f"the point gives no value for {', '.join(sorted(free))}",
                         suggestion=f"add {sorted(free)[0]}=… to --at")
    floats = [[_float(e) for e in row] for row in out]
    if node.is_scalar and not mx._chain_piece(node):
        return floats[0][0]
    if node.kind == "vector" and not (isinstance(node, Var) and node.declared == "matrix"):
        return [r[0] for r in floats]
    return floats


def _float(e: sp.Expr) -> float | None:
    v = sp.N(e, 30)
    if not v.is_real or v.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    f = float(v)
    return f if f == f and abs(f) != float("inf") else None


# generated code --------------------------------------------------------------------------------
BACKENDS = ("numpy", "jax", "torch")
_MOD = {"numpy": "np", "jax": "jnp", "torch": "torch"}
_IMPORT = {"numpy": "import numpy as np", "jax": "import jax\nimport jax.numpy as jnp", "torch": "import torch"}


class _Code:
    """Writes one function body: each node once, into temporaries ``_t1, _t2, …``."""

    def __init__(self, backend: str, names: Mapping[str, str], sizes: Mapping[str, str]) -> None:
        from symgrad.numeric.codegen import printer

        self.backend = backend
        self.m = _MOD[backend]
        self.names = names  # variable/scalar name -> argument name
        self.sizes = sizes  # size name -> expression giving it
        self.lines: list[str] = []
        self.memo: dict[Node, str] = {}
        self.printer = printer(backend)
        self.count = 0

    def temp(self, code: str) -> str:
        self.count += 1
        name = f"_t{self.count}"
        self.lines.append(f"{name} = {code}")
        return name

    def scalar(self, e: sp.Expr, slots: Mapping[sp.Symbol, str] | None = None) -> str:
        subs: dict[sp.Basic, sp.Basic] = {s: sp.Symbol(self.names[s.name]) for s in e.free_symbols
                                          if isinstance(s, sp.Symbol) and s.name in self.names}
        for s, t in (slots or {}).items():
            subs[s] = sp.Symbol(t)
        code = self.printer.doprint(e.xreplace(subs))
        return str(code)

    def size(self, d: Any) -> str:
        return str(d) if isinstance(d, int) else self.sizes[d]

    def node(self, n: Node) -> str:
        from symgrad.budget import check

        check()
        if n in self.memo:
            return self.memo[n]
        code = self._node(n)
        name = code if re.fullmatch(r"_\w+", code) else self.temp(code)
        self.memo[n] = name
        return name

    def _node(self, n: Node) -> str:  # noqa: C901  (one branch per node type, as a SymPy printer)
        m = self.m
        b = self.backend
        if isinstance(n, Var):
            return f"_{self.names[n.name]}"
        if isinstance(n, mx.Named):
            return self.node(n.definition)
        if isinstance(n, mx.Const):
            return f"({self.scalar(n.value)})"
        if isinstance(n, mx.Identity):
            return f"{m}.eye({self.size(n.n)}, dtype={m}.float64)"
        if isinstance(n, (mx.Zero, mx.Ones)):
            fn = "zeros" if isinstance(n, mx.Zero) else "ones"
            return f"{m}.{fn}(({self.size(n.nrows)}, {self.size(n.ncols)}), dtype={m}.float64)"
        if isinstance(n, mx.Add):
            return " + ".join(f"({self.node(t)})" for t in n.terms)
        if isinstance(n, mx.Mul):
            parts = []
            c = n.coefficient
            chain = " @ ".join(self.node(f) for f in n.chain)
            if c is not None:
                parts.append(f"({self.node(c)})")
            if chain:
                parts.append(f"({chain})")
            return " * ".join(parts)
        if isinstance(n, mx.Transpose):
            return f"{self.node(n.arg)}.T"
        if isinstance(n, mx.Inverse):
            return f"{m}.linalg.inv({self.node(n.arg)})"
        if isinstance(n, mx.Det):
            return f"{m}.linalg.det({self.node(n.arg)})"
        if isinstance(n, mx.Trace):
            return f"{m}.trace({self.node(n.arg)})"
        if isinstance(n, mx.Sum):
            return f"{m}.sum({self.node(n.arg)})"
        if isinstance(n, mx.Norm):
            a = self.node(n.arg)
            return f"{m}.sqrt({m}.sum({a} * {a}))"
        if isinstance(n, mx.SqNorm):
            a = self.node(n.arg)
            return f"{m}.sum({a} * {a})"
        if isinstance(n, mx.Softmax):
            z = self.node(n.arg)
            e = self.temp(f"{m}.exp({z} - {m}.max({z}))")
            return f"{e} / {m}.sum({e})"
        if isinstance(n, mx.SoftmaxCE):
            z, y = self.node(n.logits), self.node(n.labels)
            top = self.temp(f"{m}.max({z})")
            return f"{m}.log({m}.sum({m}.exp({z} - {top}))) + {top} - {m}.sum({y} * {z})"
        if isinstance(n, mx.Diag):
            v = self.node(n.arg)
            if b == "torch":
                return f"torch.diag(torch.reshape({v}, (-1,)))"
            return f"{m}.diagflat({v})"
        if isinstance(n, mx.DiagPart):
            a = self.node(n.arg)
            if b == "torch":
                return f"torch.reshape(torch.diagonal({a}), (-1, 1))"
            return f"{m}.reshape({m}.diag({a}), (-1, 1))"
        if isinstance(n, mx.Map):
            slots = {mx.slot(i): self.node(a) for i, a in enumerate(n.args)}
            return self.scalar(n.body, slots)
        raise ComputeError(f"symgrad cannot write code for {type(n).__name__} yet")


def _size_sources(variables: Sequence[Var], names: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in variables:
        for k, d in enumerate((v.nrows, v.ncols)):
            if isinstance(d, str) and d not in out:
                out[d] = f"_{names[v.name]}.shape[{k}]"
    return out


def _arguments(parsed: Any) -> tuple[list[Var], list[str]]:
    """The expression's vector/matrix variables and its scalar names, in order of appearance."""
    variables = parsed.expr.variables()
    order = {name: i for i, name in enumerate(getattr(parsed, "order", ()) or ())}
    variables.sort(key=lambda v: order.get(v.name, 10**6))
    scalars: set[str] = set()
    for n in parsed.expr.walk():
        if isinstance(n, mx.Const):
            scalars |= {s.name for s in n.value.free_symbols}
        if isinstance(n, mx.Map):
            scalars |= {s.name for s in n.body.free_symbols if not s.name.startswith("_a")}
    return variables, sorted(scalars, key=lambda s: order.get(s, 10**6))


def module_source(parsed: Any, wrt: Sequence[str], backend: str = "numpy", *,
                  gradients: Sequence[Node] | None = None) -> str:
    """A module with ``f`` and ``grad_f`` for ``parsed`` (a ``MatrixParsed``), gradients by ``wrt``."""
    from symgrad.matrix.differential import gradient_steps
    from symgrad.numeric.codegen import doc_text, safe_names

    if backend not in BACKENDS:
        raise InputError(f"unknown backend '{backend}' for matrix expressions", suggestion="choose numpy, jax or torch")
    variables, scalars = _arguments(parsed)
    symbols = [sp.Symbol(v.name) for v in variables] + [sp.Symbol(s) for s in scalars]
    safe = safe_names(symbols)
    names = {str(k): v for k, v in safe.items()}
    args = ", ".join(names[s.name] for s in symbols)
    sizes = _size_sources(variables, names)
    m = _MOD[backend]
    by_name = {v.name: v for v in variables}
    if gradients is None:
        gradients = [gradient_steps(parsed.expr, by_name[w], scalar_steps=False).result for w in wrt]

    def prologue(code: _Code) -> list[str]:
        lines = []
        for v in variables:
            a = names[v.name]
            cast = (f"torch.as_tensor({a}, dtype=torch.float64)" if backend == "torch"
                    else f"{m}.asarray({a}, dtype={m}.float64)")
            shape = "(-1, 1)" if v.declared != "matrix" else f"({m}.shape({a})[0] if {m}.ndim({a}) else 1, -1)" \
                if backend != "torch" else "(-1, 1)"
            if v.declared == "matrix":
                lines.append(f"_{a} = {cast}")
            else:
                lines.append(f"_{a} = {m}.reshape({cast}, {shape})")
        return lines

    def out_shape(code: _Code, t: str, like: Node) -> str:
        if like.is_scalar:
            return f"{m}.reshape({t}, ())"
        if like.kind == "vector" and not (isinstance(like, Var) and like.declared == "matrix"):
            return f"{m}.reshape({t}, (-1,))"
        return t

    def function(fname: str, doc: str, results: Sequence[Node], likes: Sequence[Node]) -> str:
        code = _Code(backend, names, sizes)
        body = prologue(code)
        outs = [out_shape(code, code.node(r), like) for r, like in zip(results, likes)]
        body += code.lines
        ret = outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + ")"
        lines = [f"def {fname}({args}):", f'    """{doc_text(doc)}"""']
        lines += [f"    {line}" for line in body]
        lines.append(f"    return {ret}")
        return "\n".join(lines)

    f_text = mx.text(parsed.expr)
    parts = [f'"""Generated by symgrad from {doc_text(parsed.text)} (shapes: {doc_text(parsed.declaration())}).\n\n'
             f'f = {doc_text(f_text)}\n'
             + "".join(f"grad_f[{i}] = ∇_{doc_text(w)} f = {doc_text(mx.text(g))}\n"
                       for i, (w, g) in enumerate(zip(wrt, gradients)))
             + '"""', _IMPORT[backend], "",
             function("f", f"f = {f_text}", [parsed.expr], [parsed.expr]), "",
             function("grad_f", "the gradients by " + ", ".join(wrt) + ", each of its variable's shape",
                      gradients, [by_name[w] for w in wrt]), ""]
    source = "\n".join(parts)
    verify(source)
    return source


_ALLOWED_CALLS = {"reshape", "asarray", "as_tensor", "exp", "log", "sqrt", "sum", "max", "trace", "eye", "zeros",
                  "ones", "diagflat", "diag", "diagonal", "shape", "ndim", "inv", "det", "tanh", "sin", "cos", "tan",
                  "heaviside", "where", "maximum", "minimum", "abs", "sign", "log1p", "expm1", "logaddexp", "sigmoid",
                  "relu", "softplus", "cosh", "sinh", "arctan", "arcsin", "arccos", "arctanh", "atan", "asin", "acos",
                  "atanh", "power", "pow", "floor", "ceil", "round", "erf", "special", "nn", "functional", "float64",
                  "linalg", "clamp", "exp2", "log2", "log10", "expit", "scipy", "full_like", "zeros_like",
                  "ones_like", "tensor", "array", "float"}
_MODULES = {"np", "jnp", "torch", "jax", "math"}


def verify(source: str) -> None:  # noqa: C901  (one check per statement kind the module may hold)
    """Refuse a generated matrix module with anything but its docstring, imports and functions of
    assignments to temporaries, arithmetic (``@`` included), ``.T``/``.shape`` and the backend's
    functions (``UnsafeSource``, before anything runs)."""
    from symgrad.numeric.codegen import UnsafeSource

    def bad(line: int, what: str) -> None:
        raise UnsafeSource(f"generated code failed symgrad's safety check (line {line}: {what}); nothing was run")

    tree = ast.parse(source)
    for k, node in enumerate(tree.body):
        if k == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.Import):
            allowed = {("numpy", "np"), ("jax", None), ("jax.numpy", "jnp"), ("torch", None)}
            if not all((a.name, a.asname) in allowed for a in node.names):
                bad(node.lineno, "an import symgrad does not write")
            continue
        if not isinstance(node, ast.FunctionDef) or node.name not in ("f", "grad_f") or node.decorator_list:
            bad(node.lineno, "a statement symgrad does not write")
            continue
        params = {a.arg for a in node.args.args}
        if node.args.vararg or node.args.kwarg or node.args.kwonlyargs or node.args.defaults:
            bad(node.lineno, "a signature symgrad does not write")
        body = node.body[1:] if isinstance(node.body[0], ast.Expr) else node.body
        for stmt in body:
            if isinstance(stmt, ast.Assign):
                target = stmt.targets[0] if len(stmt.targets) == 1 else None
                if not isinstance(target, ast.Name) or not target.id.startswith("_"):
                    bad(stmt.lineno, "an assignment to something other than a temporary")
            elif not isinstance(stmt, ast.Return):
                bad(stmt.lineno, f"a {type(stmt).__name__} statement")
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Name):
                    if not (sub.id in params or sub.id in _MODULES or re.fullmatch(r"_\w+", sub.id)):
                        bad(stmt.lineno, f"the name {sub.id!r}")
                elif isinstance(sub, ast.Attribute):
                    if sub.attr not in ("T", "shape") and sub.attr not in _ALLOWED_CALLS:
                        bad(stmt.lineno, f"the attribute {sub.attr!r}")
                elif isinstance(sub, ast.Call):
                    if not isinstance(sub.func, ast.Attribute):
                        bad(stmt.lineno, "a call of something other than a backend function")
                elif isinstance(sub, ast.keyword):
                    if sub.arg not in ("dtype",):
                        bad(stmt.lineno, f"the keyword {sub.arg!r}")
                elif not isinstance(sub, (ast.Assign, ast.Return, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Tuple,
                                          ast.Subscript, ast.Load, ast.Store, ast.operator, ast.unaryop, ast.IfExp,
                                          ast.Compare, ast.cmpop)):
                    bad(stmt.lineno, f"a {type(sub).__name__} node")


def load(source: str) -> dict[str, Any]:
    """Run a verified generated module in a fresh namespace (never user text)."""
    import builtins

    verify(source)
    namespace: dict[str, Any] = {"__name__": "symgrad_generated_matrix"}
    exec(builtins.compile(source, "<symgrad-matrix>", "exec"), namespace)
    return namespace


@record
class ModuleCheck:
    """The generated gradients against central finite differences of the generated f."""

    ok: bool
    worst: float
    point: dict[str, Any]


def random_point(parsed: Any, seed: int = 7, sizes: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Seeded random arrays for the variables (sizes 3, 2, … for the size names), numbers for the scalars."""
    import numpy as np

    rng = np.random.default_rng(seed)
    variables, scalars = _arguments(parsed)
    chosen: dict[str, int] = dict(sizes or {})
    pool = [3, 2, 4, 5]
    for v in variables:
        for d in (v.nrows, v.ncols):
            if isinstance(d, str) and d not in chosen:
                chosen[d] = pool[len(chosen) % len(pool)]
    out: dict[str, Any] = {}
    for v in variables:
        r = v.nrows if isinstance(v.nrows, int) else chosen[v.nrows]
        c = v.ncols if isinstance(v.ncols, int) else chosen[v.ncols]
        a = rng.normal(size=(r, c)) * 0.7
        if v.symmetric:
            a = (a + a.T) / 2
        if v.declared == "matrix" and r == c and any(isinstance(n, (mx.Inverse, mx.Det)) for n in parsed.expr.walk()):
            a = a + 3 * np.eye(r)  # away from singular, with a positive determinant
        out[v.name] = a if v.declared == "matrix" else a.reshape(-1)
    for s in scalars:
        out[s] = float(rng.uniform(0.2, 1.2))
    return out


def check_module(namespace: Mapping[str, Any], parsed: Any, wrt: Sequence[str], seed: int = 7,
                 step: float = 1e-6, tolerance: float = 1e-5) -> ModuleCheck:
    """``grad_f`` against central differences of ``f`` at a seeded random point (NumPy arrays in)."""
    import numpy as np

    variables, scalars = _arguments(parsed)
    point = random_point(parsed, seed)
    order = [v.name for v in variables] + list(scalars)
    names = {k: k for k in order}

    def call(fn: Any, values: Mapping[str, Any]) -> Any:
        return fn(*[values[names[k]] for k in order])

    grads = call(namespace["grad_f"], point)
    if len(wrt) == 1:
        grads = (grads,)
    worst = 0.0
    for w, g in zip(wrt, grads):
        g = np.asarray(g, dtype=float)
        base = np.asarray(point[w], dtype=float)
        fd = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            up, down = dict(point), dict(point)
            a, b = base.copy(), base.copy()
            a[idx] += step
            b[idx] -= step
            up[w], down[w] = a, b
            fd[idx] = (float(call(namespace["f"], up)) - float(call(namespace["f"], down))) / (2 * step)
        if g.shape != fd.shape:
            return ModuleCheck(False, float("inf"), point)
        scale = max(1.0, float(np.max(np.abs(fd))) if fd.size else 1.0)
        worst = max(worst, float(np.max(np.abs(g - fd))) / scale if fd.size else 0.0)
    return ModuleCheck(worst < tolerance, worst, point)

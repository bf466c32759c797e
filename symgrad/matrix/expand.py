"""Component expansion and the check of every matrix-form result against ``sympy.diff``.

Stage: the matrix step engine's self-check (as ``symgrad.steps.verify`` is the scalar one's). At
concrete small sizes (each size name n, m, … takes values from {1, 2, 3}, several assignments,
distinct sizes first so that a W where Wᵀ belongs cannot pass), every variable becomes a SymPy
matrix of symbolic entries (``W[1,2]``; a declared symmetric matrix has W[1,2] = W[2,1]), the
expression and the matrix-form result are expanded entry by entry (``components``), and each
entry of the result is compared with ``sympy.diff`` of the expanded expression by that entry of
the variable: exactly (``expand``/``cancel`` of the difference), else at random rational points to
30 digits. The verdict is ``exact``, ``numeric``, ``unverified`` (too large to expand) or
``mismatch``, with the sizes, the entry and both values: a disagreement is shown, never hidden.

To add a node: its case in ``components``.

>>> from symgrad.matrix.notation import parse
>>> from symgrad.matrix.differential import gradient_steps
>>> p = parse("x^T A x", "A: n×n")
>>> check_gradient(p.expr, p.var("x"), gradient_steps(p.expr, p.var("x")).result).kind
'exact'
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import sympy as sp

from symgrad.matrix import expr as mx
from symgrad.matrix.expr import Node, Var
from symgrad.matrix.shapes import Dim
from symgrad.records import field, record

MAX_ENTRIES = 400
"""Entries of the largest matrix the check expands at one size assignment."""

DIGITS = 30


def entry_symbol(name: str, i: int, j: int | None = None) -> sp.Symbol:
    return sp.Symbol(f"{name}[{i}]" if j is None else f"{name}[{i},{j}]", real=True)


class Env:
    """Concrete sizes and the symbolic (or given) matrix of every variable."""

    def __init__(self, sizes: Mapping[str, int], values: Mapping[str, sp.Matrix] | None = None) -> None:
        self.sizes = dict(sizes)
        self.values: dict[str, sp.Matrix] = dict(values or {})

    def size(self, d: Dim) -> int:
        return d if isinstance(d, int) else self.sizes[d]

    def matrix(self, v: Var) -> sp.Matrix:
        if v.name not in self.values:
            r, c = self.size(v.nrows), self.size(v.ncols)
            if c == 1 and v.declared != "matrix":
                m = sp.Matrix(r, 1, lambda i, j: entry_symbol(v.name, i + 1))
            elif v.symmetric:
                m = sp.Matrix(r, c, lambda i, j: entry_symbol(v.name, min(i, j) + 1, max(i, j) + 1))
            else:
                m = sp.Matrix(r, c, lambda i, j: entry_symbol(v.name, i + 1, j + 1))
            self.values[v.name] = m
        return self.values[v.name]

    def free(self, v: Var) -> sp.Matrix:
        """The variable with independent entries (also when declared symmetric), to differentiate by."""
        r, c = self.size(v.nrows), self.size(v.ncols)
        if c == 1 and v.declared != "matrix":
            return sp.Matrix(r, 1, lambda i, j: entry_symbol(v.name, i + 1))
        return sp.Matrix(r, c, lambda i, j: entry_symbol(v.name, i + 1, j + 1))


def components(n: Node, env: Env) -> sp.Matrix:  # noqa: C901, PLR0915  (one branch per node type, as a printer)
    """``n`` as an explicit SymPy matrix (a 1×1 matrix for a number)."""
    from symgrad.budget import check

    check()
    if isinstance(n, Var):
        return env.matrix(n)
    if isinstance(n, mx.Const):
        return sp.Matrix([[n.value]])
    if isinstance(n, mx.Identity):
        return sp.eye(env.size(n.n))
    if isinstance(n, mx.Zero):
        return sp.zeros(env.size(n.nrows), env.size(n.ncols))
    if isinstance(n, mx.Ones):
        return sp.ones(env.size(n.nrows), env.size(n.ncols))
    if isinstance(n, mx.Named):
        return components(n.definition, env)
    if isinstance(n, mx.Add):
        out = components(n.terms[0], env)
        for t in n.terms[1:]:
            out = out + components(t, env)
        return out
    if isinstance(n, mx.Mul):
        prod: sp.Matrix | None = None
        scale = sp.S.One
        for f in n.factors:
            m = components(f, env)
            if f.is_scalar and not mx._chain_piece(f):
                scale *= m[0, 0]
            elif prod is None:
                prod = m
            elif prod.shape == (1, 1) and m.shape[0] != 1:
                scale *= prod[0, 0]  # (xᵀy) z: the 1×1 product is a number
                prod = m
            else:
                prod = prod * m
        if prod is None:
            return sp.Matrix([[scale]])
        return prod * scale
    if isinstance(n, mx.Transpose):
        return components(n.arg, env).T
    if isinstance(n, mx.Inverse):
        m = components(n.arg, env)
        return m.inv(method="ADJ") if m.shape[0] <= 3 else m.inv()
    if isinstance(n, mx.Det):
        return sp.Matrix([[components(n.arg, env).det(method="berkowitz")]])
    if isinstance(n, mx.Trace):
        return sp.Matrix([[components(n.arg, env).trace()]])
    if isinstance(n, mx.Sum):
        return sp.Matrix([[sum(components(n.arg, env))]])
    if isinstance(n, mx.Norm):
        return sp.Matrix([[sp.sqrt(sum(e**2 for e in components(n.arg, env)))]])
    if isinstance(n, mx.SqNorm):
        return sp.Matrix([[sum(e**2 for e in components(n.arg, env))]])
    if isinstance(n, mx.Softmax):
        z = components(n.arg, env)
        e = [sp.exp(v) for v in z]
        total = sp.Add(*e)
        return sp.Matrix(len(e), 1, [v / total for v in e])
    if isinstance(n, mx.SoftmaxCE):
        z = components(n.logits, env)
        y = components(n.labels, env)
        return sp.Matrix([[sp.log(sp.Add(*[sp.exp(v) for v in z])) - sum(a * b for a, b in zip(y, z))]])
    if isinstance(n, mx.Diag):
        v = components(n.arg, env)
        return sp.diag(*list(v))
    if isinstance(n, mx.DiagPart):
        m = components(n.arg, env)
        return sp.Matrix(m.shape[0], 1, [m[i, i] for i in range(m.shape[0])])
    if isinstance(n, mx.Map):
        parts = [components(a, env) for a in n.args]
        shape = next((p.shape for a, p in zip(n.args, parts) if not (a.is_scalar and not mx._chain_piece(a))), (1, 1))

        def entry(i: int, j: int) -> sp.Expr:
            subs = {mx.slot(k): (p[0, 0] if p.shape == (1, 1) else p[i, j]) for k, p in enumerate(parts)}
            return n.body.xreplace(subs)

        return sp.Matrix(shape[0], shape[1], entry)
    if isinstance(n, mx.D):
        raise TypeError("a differential has no components")
    raise TypeError(f"no component expansion for {type(n).__name__}")


def size_names(nodes: Sequence[Node]) -> list[str]:
    out: list[str] = []
    for node in nodes:
        for n in node.walk():
            dims: tuple[Any, ...] = ()
            if isinstance(n, Var):
                dims = (n.nrows, n.ncols)
            elif isinstance(n, mx.Identity):
                dims = (n.n,)
            elif isinstance(n, (mx.Zero, mx.Ones)):
                dims = (n.nrows, n.ncols)
            for d in dims:
                if isinstance(d, str) and d not in out:
                    out.append(d)
    return out


def assignments(names: Sequence[str]) -> list[dict[str, int]]:
    """Size assignments to check at: distinct sizes (3, 2, 1, …), then others, then all 1.

    >>> assignments(["n", "m"])
    [{'n': 3, 'm': 2}, {'n': 2, 'm': 3}, {'n': 1, 'm': 1}]
    """
    if not names:
        return [{}]
    cycle = (3, 2, 1)
    first = {n: cycle[i % 3] for i, n in enumerate(names)}
    second = {n: (2, 3, 2)[i % 3] for i, n in enumerate(names)}
    ones = {n: 1 for n in names}
    out = []
    for a in (first, second, ones):
        if a not in out:
            out.append(a)
    return out


@record
class Check:
    """How a matrix-form result was checked: ``kind`` and the size assignments it held at."""

    kind: str
    sizes: tuple[dict[str, int], ...] = field(default=())
    entries: int = 0
    mismatch: dict[str, Any] | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "sizes": [dict(s) for s in self.sizes], "entries": self.entries}
        if self.mismatch is not None:
            out["mismatch"] = self.mismatch
        if self.note:
            out["note"] = self.note
        return out


def _equal(a: sp.Expr, b: sp.Expr, rng: random.Random) -> str:
    """``exact``, ``numeric`` or ``different`` for two scalar expressions."""
    diff = a - b
    if diff == 0:
        return "exact"
    try:
        if sp.expand(diff) == 0:
            return "exact"
        if sp.count_ops(diff) < 400 and sp.cancel(sp.together(diff)) == 0:
            return "exact"
    except Exception:
        pass
    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    agreed = 0
    for _ in range(4):
        point = {s: sp.Rational(rng.randint(-900, 900), rng.randint(300, 999)) for s in symbols}
        try:
            va = sp.N(a.xreplace(point), DIGITS)
            vb = sp.N(b.xreplace(point), DIGITS)
        except Exception:
            continue
        if not (va.is_real and vb.is_real) or va.has(sp.nan, sp.zoo) or vb.has(sp.nan, sp.zoo):
            continue
        scale = max(abs(va), abs(vb), sp.Integer(1))
        if abs(va - vb) > scale * sp.Float("1e-20"):
            return "different"
        agreed += 1
    return "numeric" if agreed >= 2 else "unknown"


def _entries(m: sp.Matrix) -> int:
    return m.shape[0] * m.shape[1]


def check_against(expected: Any, result: Node, nodes: Sequence[Node], describe: str) -> Check:
    """Compare ``result``'s components with ``expected(env, size)`` (the SymPy reference, a matrix)
    at every size assignment of the sizes in ``nodes``."""
    from symgrad.budget import BudgetExceeded

    rng = random.Random(20240613)
    names = size_names(list(nodes) + [result])
    worst = "exact"
    done: list[dict[str, int]] = []
    count = 0
    inverse = any(isinstance(n, mx.Inverse) for node in list(nodes) + [result] for n in node.walk())
    plan = assignments(names)
    if inverse:
        # symbolic 3×3 inverses make sympy.diff slow; 2×2 and 1×1 still tell A from Aᵀ
        plan = [dict(p) for p in {tuple(sorted((k, min(v, 2)) for k, v in a.items())): 0 for a in plan}]
    for sizes in plan:
        env = Env(sizes)
        try:
            got = components(result, env)
            if _entries(got) > MAX_ENTRIES:
                continue
            want = expected(env)
        except BudgetExceeded:
            raise
        except (ValueError, ZeroDivisionError, sp.matrices.common.NonInvertibleMatrixError):
            continue
        if got.shape != want.shape:
            return Check("mismatch", tuple(done), count, {
                "sizes": sizes, "entry": None, "expected_shape": list(want.shape), "got_shape": list(got.shape)},
                f"{describe}: the result has shape {got.shape} but {want.shape} was expected")
        for i in range(got.shape[0]):
            for j in range(got.shape[1]):
                verdict = _equal(sp.sympify(got[i, j]), sp.sympify(want[i, j]), rng)
                count += 1
                if verdict == "different":
                    return Check("mismatch", tuple(done), count, {
                        "sizes": sizes, "entry": [i + 1, j + 1], "expected": str(want[i, j]), "got": str(got[i, j])},
                        f"{describe}: entry ({i + 1}, {j + 1}) at sizes {sizes} differs from sympy.diff")
                if verdict == "numeric" and worst == "exact":
                    worst = "numeric"
                elif verdict == "unknown":
                    worst = "unverified"
        done.append(sizes)
    if not done:
        return Check("unverified", (), 0, None, "no size assignment was small enough to expand")
    return Check(worst, tuple(done), count)


def _symmetric_point(v: Var, env: Env) -> dict[sp.Symbol, sp.Symbol]:
    if not v.symmetric:
        return {}
    n = env.size(v.nrows)
    return {entry_symbol(v.name, i + 1, j + 1): entry_symbol(v.name, j + 1, i + 1)
            for i in range(n) for j in range(n) if i > j}


def _free_env(env: Env, var: Var) -> Env:
    """``env`` with ``var``'s entries independent (its symmetry, if declared, is put back after diff)."""
    free = Env(env.sizes, {k: v for k, v in env.values.items() if k != var.name})
    free.values[var.name] = free.free(var)
    return free


def check_gradient(f: Node, var: Var, g: Node) -> Check:
    """∇f (``g``, the shape of ``var``) against sympy.diff of f's expansion by each entry of ``var``."""

    def expected(env: Env) -> sp.Matrix:
        free = _free_env(env, var)
        F = components(f, free)[0, 0]
        X = free.values[var.name]
        back = _symmetric_point(var, env)
        return sp.Matrix(X.shape[0], X.shape[1], lambda i, j: sp.diff(F, X[i, j]).xreplace(back))

    return check_against(expected, g, [f], f"the gradient by {var.name}")


def check_jacobian(f: Node, var: Var, J: Node) -> Check:
    """∂f/∂x (one row per component of f) against sympy.diff entry by entry."""

    def expected(env: Env) -> sp.Matrix:
        free = _free_env(env, var)
        F = components(f, free)
        X = free.values[var.name]
        back = _symmetric_point(var, env)
        return sp.Matrix(len(F), len(X), lambda i, j: sp.diff(F[i], X[j]).xreplace(back))

    return check_against(expected, J, [f], f"the Jacobian by {var.name}")


def check_hessian(f: Node, var: Var, H: Node) -> Check:
    """∇²f against the second partials of f's expansion."""

    def expected(env: Env) -> sp.Matrix:
        free = _free_env(env, var)
        F = components(f, free)[0, 0]
        X = list(free.values[var.name])
        back = _symmetric_point(var, env)
        return sp.Matrix(len(X), len(X), lambda i, j: sp.diff(F, X[i], X[j]).xreplace(back))

    return check_against(expected, H, [f], f"the Hessian by {var.name}")

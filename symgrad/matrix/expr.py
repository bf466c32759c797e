"""The vector/matrix vocabulary: immutable expression nodes with shapes, and their text form.

Stage: vocabulary of the matrix layer. The notation builder (``notation.py``) makes these nodes;
the differential engine (``differential.py``), the component expansion (``expand.py``), the
numbers (``numeric.py``) and the narrator (``symgrad.render.matrix``) read them.

Every node is a frozen record with a ``shape`` (rows, cols), sizes being whole numbers or size
names (``"n"``). A column vector is n×1, a scalar 1×1. The nodes:

- leaves: ``Var`` (a declared or inferred vector/matrix), ``Const`` (a scalar SymPy expression:
  numbers and scalar names), ``Identity``, ``Zero``, ``Ones``, ``D`` (the differential dX);
- algebra: ``Add``, ``Mul`` (scalar coefficient first, then the chain of matrix factors),
  ``Transpose``, ``Inverse``;
- scalar functions of matrices: ``Det``, ``Trace``, ``Sum`` (of the entries), ``Norm`` (2-norm,
  Frobenius for a matrix), ``SqNorm`` (‖x‖², written so by the user), ``SoftmaxCE``
  (cross_entropy(softmax(z), y) = ln Σ e^zₖ − yᵀz);
- elementwise: ``Map(body, args)``: a scalar SymPy expression ``body`` in the placeholders
  ``_a0, _a1, …`` applied entry by entry to same-shaped ``args``. Hadamard products, σ(z),
  1 − p, p ⊙ (1 − p) are all ``Map``s, so their derivative entry by entry is the scalar step
  engine's (σ′ = σ(1 − σ) comes from ``symgrad.steps``); a ``Map`` of scalar args is a scalar
  function of scalars (log det X);
- vector functions: ``Softmax``, ``Diag`` (vector -> diagonal matrix), ``DiagPart`` (matrix ->
  its diagonal), ``Named`` (an intermediate the narration introduces once: z₁, h, p).

The smart constructors (``add``, ``mul``, ``transpose``, ``emap``, …) keep a canonical form: sums
and products flat, scalars merged into one coefficient (so ‖x‖·(1/‖x‖) cancels), transposes pushed
to the leaves ((AB)ᵀ = BᵀAᵀ, Sᵀ = S for a declared symmetric S, a scalar is its own transpose).

``text(node)`` is the result's text in SymPy's ``str()`` notation (``x.T*A*x``, ``(A + A.T)*x``,
``X.T**(-1)``), with symgrad's names where SymPy has no readable form: ``sigmoid(z)`` applied
entry by entry, ``p.*(1 - p)`` for a Hadamard product, ``z.^2`` for an elementwise power,
``softmax(z)``, ``diag(p)``, ``norm(x)``, ``det(X)``, ``tr(A*X)``, ``sum(x)``, ``I``. The matrix
parser reads it back (with the same shapes) to the same expression.

To add a node: a record here with ``shape``/``children``/``rebuild``, its case in ``text``,
``expand.components``, ``differential`` (its rule), ``numeric`` and the LaTeX printer.

>>> from symgrad.matrix.expr import Var, mul, add, transpose
>>> x, A = Var("x", "n", 1), Var("A", "n", "n", "matrix")
>>> text(mul(transpose(x), A, x)), text(transpose(mul(A, x))), text(add(mul(A, x), mul(A, x)))
('x.T*A*x', 'x.T*A.T', '2*A*x')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

import sympy as sp

from symgrad.matrix.shapes import Dim, shape_text
from symgrad.records import record

Shape = tuple[Dim, Dim]


class ShapeError(ValueError):
    """Two shapes that do not fit (the notation builder turns it into a ParseError with a caret)."""


@cache
def slot(i: int) -> sp.Symbol:
    """The i-th placeholder of a ``Map`` body."""
    return sp.Symbol(f"_a{i}", real=True)


def _is_slot(s: sp.Basic) -> bool:
    return isinstance(s, sp.Symbol) and s.name.startswith("_a") and s.name[2:].isdigit()


class Node:
    """Base of every matrix-expression node (records: immutable, compared by fields)."""

    @property
    def shape(self) -> Shape:
        raise NotImplementedError

    @property
    def children(self) -> tuple[Node, ...]:
        return ()

    def rebuild(self, children: Sequence[Node]) -> Node:
        return self

    @property
    def is_scalar(self) -> bool:
        return self.shape == (1, 1)

    @property
    def rows(self) -> Dim:
        return self.shape[0]

    @property
    def cols(self) -> Dim:
        return self.shape[1]

    @property
    def kind(self) -> str:
        """``scalar``, ``vector`` (a column), ``row`` or ``matrix``."""
        r, c = self.shape
        if (r, c) == (1, 1):
            return "scalar"
        return "vector" if c == 1 else "row" if r == 1 else "matrix"

    def __str__(self) -> str:
        return text(self)

    def walk(self) -> list[Node]:
        """This node and all below it, parents first."""
        out: list[Node] = []
        stack: list[Node] = [self]
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(reversed(n.children))
        return out

    def has(self, pred: Callable[[Node], bool]) -> bool:
        return any(pred(n) for n in self.walk())

    def variables(self) -> list[Var]:
        """The ``Var`` leaves, in order of first appearance."""
        seen: list[Var] = []
        for n in self.walk():
            if isinstance(n, Var) and n not in seen:
                seen.append(n)
        return seen


# leaves ---------------------------------------------------------------------------------------
@record
class Var(Node):
    """A vector or matrix variable: ``x`` (n×1), ``W`` (m×n); ``symmetric`` if declared so.

    ``declared="scalar"`` (1×1): a number taken as a variable, for ∂f/∂λ (``lift`` makes it from
    the scalar name λ inside the expression's numbers); it is a number, never part of a chain."""

    name: str
    nrows: Dim
    ncols: Dim
    declared: str = "vector"
    symmetric: bool = False

    @property
    def shape(self) -> Shape:
        return (self.nrows, self.ncols)

    @property
    def kind(self) -> str:
        return "matrix" if self.declared == "matrix" else super().kind


@record
class Const(Node):
    """A scalar SymPy expression of numbers and scalar names (2, λ, y₁, π)."""

    value: sp.Expr

    @property
    def shape(self) -> Shape:
        return (1, 1)


@record
class Identity(Node):
    """The identity matrix I (n×n)."""

    n: Dim

    @property
    def shape(self) -> Shape:
        return (self.n, self.n)


@record
class Zero(Node):
    """The zero matrix of a shape."""

    nrows: Dim
    ncols: Dim

    @property
    def shape(self) -> Shape:
        return (self.nrows, self.ncols)


@record
class Ones(Node):
    """The matrix (or vector 𝟙) of ones."""

    nrows: Dim
    ncols: Dim

    @property
    def shape(self) -> Shape:
        return (self.nrows, self.ncols)


@record
class OneHot(Node):
    """The standard basis vector e_k (n×1): 1 in entry k (counted from 1), 0 elsewhere, for a class
    index k (a number or a scalar name): cross_entropy(softmax(z), k) has labels e_k."""

    index: sp.Expr
    n: Dim

    @property
    def shape(self) -> Shape:
        return (self.n, 1)


@record
class D(Node):
    """The differential dX of a variable (only in the differential form of a derivation)."""

    var: Var

    @property
    def shape(self) -> Shape:
        return self.var.shape


# operations -----------------------------------------------------------------------------------
@record
class Add(Node):
    terms: tuple[Node, ...]

    @property
    def shape(self) -> Shape:
        return self.terms[0].shape

    @property
    def children(self) -> tuple[Node, ...]:
        return self.terms

    def rebuild(self, children: Sequence[Node]) -> Node:
        return add(*children)


@record
class Mul(Node):
    """A product: an optional scalar coefficient (``Const`` or scalar ``Map``) first, then the chain
    of matrix factors, multiplied in order."""

    factors: tuple[Node, ...]

    @property
    def coefficient(self) -> Node | None:
        first = self.factors[0]
        return first if first.is_scalar and not _chain_piece(first) else None

    @property
    def chain(self) -> tuple[Node, ...]:
        return self.factors[1:] if self.coefficient is not None else self.factors

    @property
    def shape(self) -> Shape:
        chain = self.chain
        if not chain:
            return (1, 1)
        return (chain[0].shape[0], chain[-1].shape[1])

    @property
    def children(self) -> tuple[Node, ...]:
        return self.factors

    def rebuild(self, children: Sequence[Node]) -> Node:
        return mul(*children)


@record
class Transpose(Node):
    arg: Node

    @property
    def shape(self) -> Shape:
        r, c = self.arg.shape
        return (c, r)

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.arg,)

    def rebuild(self, children: Sequence[Node]) -> Node:
        return transpose(children[0])


@record
class Inverse(Node):
    arg: Node

    @property
    def shape(self) -> Shape:
        return self.arg.shape

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.arg,)

    def rebuild(self, children: Sequence[Node]) -> Node:
        return inverse(children[0])


class _Unary(Node):
    """A function of one node (fields: ``arg``)."""

    arg: Node

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.arg,)

    def rebuild(self, children: Sequence[Node]) -> Node:
        return type(self)(children[0])  # type: ignore[call-arg]


class _ScalarOf(_Unary):
    @property
    def shape(self) -> Shape:
        return (1, 1)


@record
class Det(_ScalarOf):
    """det X."""

    arg: Node


@record
class Trace(_ScalarOf):
    """tr X."""

    arg: Node


@record
class Sum(_ScalarOf):
    """The sum of the entries (𝟙ᵀx for a vector)."""

    arg: Node


@record
class Norm(_ScalarOf):
    """‖x‖ (the 2-norm; the Frobenius norm of a matrix)."""

    arg: Node


@record
class SqNorm(_ScalarOf):
    """‖x‖² = xᵀx (the Frobenius norm squared, tr(XᵀX), for a matrix)."""

    arg: Node


@record
class SoftmaxCE(Node):
    """cross_entropy(softmax(z), y) = ln Σₖ e^zₖ − yᵀz (= −yᵀ ln softmax(z) for labels that sum to 1)."""

    logits: Node
    labels: Node

    @property
    def shape(self) -> Shape:
        return (1, 1)

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.logits, self.labels)

    def rebuild(self, children: Sequence[Node]) -> Node:
        return SoftmaxCE(children[0], children[1])


@record
class Softmax(_Unary):
    """softmax(z)ₖ = e^zₖ / Σⱼ e^zⱼ."""

    arg: Node

    @property
    def shape(self) -> Shape:
        return self.arg.shape


@record
class Diag(_Unary):
    """diag(v): the square matrix with v on its diagonal."""

    arg: Node

    @property
    def shape(self) -> Shape:
        n = self.arg.shape[0]
        return (n, n)

    def rebuild(self, children: Sequence[Node]) -> Node:
        return diag(children[0])


@record
class DiagPart(_Unary):
    """The diagonal of a square matrix, as a vector."""

    arg: Node

    @property
    def shape(self) -> Shape:
        return (self.arg.shape[0], 1)


@record
class Map(Node):
    """``body`` (a scalar expression in ``_a0, _a1, …``) applied entry by entry to ``args``; a
    number among the arguments (a scalar variable b in σ(Xw + b)) is the same in every entry."""

    body: sp.Expr
    args: tuple[Node, ...]

    @property
    def shape(self) -> Shape:
        return next((a.shape for a in self.args if not is_number(a)), self.args[0].shape)

    @property
    def children(self) -> tuple[Node, ...]:
        return self.args

    def rebuild(self, children: Sequence[Node]) -> Node:
        return emap(self.body, children)


@record
class Named(Node):
    """An intermediate with a name (z₁ = W₁x + b₁): prints as its name, means its definition."""

    name: str
    definition: Node

    @property
    def shape(self) -> Shape:
        return self.definition.shape

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.definition,)

    def rebuild(self, children: Sequence[Node]) -> Node:
        return Named(self.name, children[0])


# smart constructors -----------------------------------------------------------------------------
def same(a: Dim, b: Dim) -> bool:
    return a == b


def _chain_piece(n: Node) -> bool:
    """A factor that belongs to a matrix chain even when 1×1 (a vector or matrix of size 1, dX);
    a scalar variable and its differential dλ are numbers, not chain pieces."""
    if isinstance(n, Var):
        return n.declared != "scalar"
    if isinstance(n, D):
        return n.var.declared != "scalar"
    return (isinstance(n, Transpose) and _chain_piece(n.arg)) or (
        n.is_scalar and not isinstance(n, (Const, Map, Det, Trace, Sum, Norm, SqNorm, SoftmaxCE, Mul, Named))
    )


def is_number(n: Node) -> bool:
    """A scalar that is a number (not a 1×1 vector or matrix in a chain)."""
    return n.is_scalar and not _chain_piece(n)


def const(value: Any) -> Const:
    return Const(sp.sympify(value) if not isinstance(value, sp.Basic) else value)


ZERO = Const(sp.S.Zero)
ONE = Const(sp.S.One)


def is_zero(n: Node) -> bool:
    return isinstance(n, Zero) or (isinstance(n, Const) and n.value == 0)


def zero_like(n: Node) -> Node:
    return ZERO if n.is_scalar and not _chain_piece(n) else Zero(*n.shape)


def scalar_body(n: Node, args: list[Node]) -> sp.Expr:
    """A scalar node as a SymPy expression over placeholders, appending new atoms to ``args``."""
    if isinstance(n, Const):
        return n.value
    if isinstance(n, Map) and n.is_scalar:
        mapping = {slot(i): _slot_for(a, args) for i, a in enumerate(n.args)}
        return n.body.xreplace(mapping)
    if isinstance(n, Mul) and n.coefficient is not None and not n.chain:
        return scalar_body(n.coefficient, args)
    return _slot_for(n, args)


def _slot_for(n: Node, args: list[Node]) -> sp.Symbol:
    for i, a in enumerate(args):
        if a == n:
            return slot(i)
    args.append(n)
    return slot(len(args) - 1)


def emap(body: sp.Expr, args: Sequence[Node]) -> Node:
    """``body`` applied entry by entry to ``args`` (all of one shape), in canonical form: nested
    ``Map``s merged, repeated and unused arguments dropped, ``_a0`` alone is its argument."""
    body = sp.sympify(body)
    flat: list[Node] = []
    mapping: dict[sp.Symbol, sp.Expr] = {}
    for i, a in enumerate(args):
        if isinstance(a, Map) and (a.shape == args[0].shape):
            inner = {slot(j): _slot_for(b, flat) for j, b in enumerate(a.args)}
            mapping[slot(i)] = a.body.xreplace(inner)
        elif isinstance(a, Const):
            mapping[slot(i)] = a.value
        elif isinstance(a, (Ones, Zero)) and any(b is not a and b.shape == a.shape for b in args):
            mapping[slot(i)] = sp.S.One if isinstance(a, Ones) else sp.S.Zero
        elif isinstance(a, Mul) and a.is_scalar and not a.chain:
            mapping[slot(i)] = scalar_body(a, flat)
        elif isinstance(a, Mul) and isinstance(a.coefficient, Const) and len(args) > 1:
            # c·X inside an entrywise map: the number joins the body (−𝟙 is −1, so −(y − σ) cancels)
            c, rest = split_coefficient(a)
            ones = isinstance(rest, Ones) and any(b is not a and b.shape == a.shape for b in args)
            mapping[slot(i)] = c.value * (sp.S.One if ones else _slot_for(rest, flat))  # type: ignore[attr-defined]
        else:
            mapping[slot(i)] = _slot_for(a, flat)
    body = body.xreplace(mapping)
    used = sorted((s for s in body.free_symbols if _is_slot(s)), key=lambda s: int(s.name[2:]))
    kept = [flat[int(s.name[2:])] for s in used]
    body = body.xreplace({s: slot(i) for i, s in enumerate(used)})
    shaped = [a for a in args if not is_number(a)]
    scalar = not shaped
    if not kept:
        if scalar or not args:
            return Const(body)
        shape = shaped[0].shape
        if body == 0:
            return Zero(*shape)
        return mul(Const(body), Ones(*shape))
    if shaped and all(is_number(k) for k in kept):
        # only the numbers are left of an entrywise map (∂(z + b)/∂b): the number in every entry, s·𝟙
        return mul(emap(body, kept), Ones(*shaped[0].shape))
    if body == slot(0):
        return kept[0]
    if not kept[0].is_scalar or _chain_piece(kept[0]):
        # c·x with c constant: a scalar multiple, not an elementwise map
        coeff = body / slot(0)
        if not coeff.free_symbols & set(map(slot, range(len(kept)))) and len(kept) == 1 and coeff != 0:
            return mul(Const(coeff), kept[0])
    return Map(body, tuple(kept))


def add(*terms: Node) -> Node:
    """A sum in canonical form: flat, zeros dropped, elementwise terms merged into one ``Map``,
    scalar terms merged into one scalar, equal terms collected (A + A = 2A)."""
    flat: list[Node] = []
    for t in terms:
        if isinstance(t, Add):
            flat.extend(t.terms)
        elif not is_zero(t):
            flat.append(t)
    if not flat:
        return zero_like(terms[0])
    shape = flat[0].shape
    for t in flat[1:]:
        if not (same(t.shape[0], shape[0]) and same(t.shape[1], shape[1])):
            raise ShapeError(f"cannot add {shape_text(*shape)} and {shape_text(*t.shape)}")
    scalar = all(t.is_scalar and not _chain_piece(t) for t in flat)
    if scalar:
        args: list[Node] = []
        body = sp.Add(*[scalar_body(t, args) for t in flat])
        return emap(body, args) if args else Const(body)
    if any(isinstance(t, Map) for t in flat):
        args = []
        body = sp.Add(*[_map_body(t, args) for t in flat])
        return emap(body, args)
    # collect equal terms: c₁·T + c₂·T = (c₁ + c₂)·T
    order: list[Node] = []
    coeffs: dict[Node, list[Node]] = {}
    for t in flat:
        c, rest = split_coefficient(t)
        if rest not in coeffs:
            order.append(rest)
            coeffs[rest] = []
        coeffs[rest].append(c)
    out: list[Node] = []
    for rest in order:
        cs = coeffs[rest]
        c = cs[0] if len(cs) == 1 else add(*cs)
        if not is_zero(c):
            out.append(mul(c, rest))
    if not out:
        return Zero(*shape)
    return out[0] if len(out) == 1 else Add(tuple(out))


def _map_body(t: Node, args: list[Node]) -> sp.Expr:
    if isinstance(t, Map):
        return t.body.xreplace({slot(i): _slot_for(a, args) for i, a in enumerate(t.args)})
    c, rest = split_coefficient(t)
    if isinstance(c, Const):
        return c.value * _slot_for(rest, args)
    return _slot_for(t, args)


def split_coefficient(t: Node) -> tuple[Node, Node]:
    """``c·T`` -> (c, T) with c a scalar coefficient (1 if none)."""
    if isinstance(t, Mul) and t.coefficient is not None and t.chain:
        chain = t.chain
        return t.coefficient, chain[0] if len(chain) == 1 else Mul(chain)
    return ONE, t


def neg(a: Node) -> Node:
    return mul(Const(sp.S.NegativeOne), a)


def sub(a: Node, b: Node) -> Node:
    return add(a, neg(b))


def mul(*factors: Node) -> Node:
    """A product in canonical form: the scalar factors merged into one coefficient in front, the
    matrix factors chained in order (a 1×1 chain followed by a matrix is a scalar factor)."""
    atoms: list[Node] = []
    chain: list[Node] = []
    pending = list(factors)
    pending.reverse()
    while pending:
        f = pending.pop()
        if isinstance(f, Mul):
            pending.extend(reversed(f.factors))
            continue
        if isinstance(f, (Zero,)) or (isinstance(f, Const) and f.value == 0):
            atoms.append(ZERO)
            if isinstance(f, Zero):
                chain.append(f)
            continue
        if f.is_scalar and not _chain_piece(f):
            atoms.append(f)
            continue
        if isinstance(f, Identity) and (chain or pending):
            if chain and not same(_chain_shape(chain)[1], f.n):
                raise ShapeError(f"cannot multiply {shape_text(*_chain_shape(chain))} by {shape_text(*f.shape)}")
            continue
        if chain:
            rows, cols = _chain_shape(chain)
            if (rows, cols) == (1, 1) and not same(f.shape[0], 1):
                atoms.append(chain[0] if len(chain) == 1 else Mul(tuple(chain)))  # xᵀy z: (xᵀy) is a number
                chain = []
            elif not same(cols, f.shape[0]):
                raise ShapeError(f"cannot multiply {shape_text(*_chain_shape(chain))} by {shape_text(*f.shape)}")
        chain.append(f)
    args: list[Node] = []
    body = sp.Mul(*[scalar_body(a, args) for a in atoms]) if atoms else sp.S.One
    if body == 0:
        return Zero(*_chain_shape(chain)) if chain else ZERO
    coeff: Node | None = (emap(body, args) if args else Const(body)) if body != 1 else None
    if not chain:
        return coeff if coeff is not None else ONE
    if any(isinstance(c, Zero) for c in chain):
        return Zero(*_chain_shape(chain))
    if isinstance(chain[0], Identity) and len(chain) > 1:
        chain = chain[1:]
    if coeff is None and len(chain) == 1:
        return chain[0]
    return Mul(((coeff,) if coeff is not None else ()) + tuple(chain))


def _chain_shape(chain: Sequence[Node]) -> Shape:
    return (chain[0].shape[0], chain[-1].shape[1])


def transpose(a: Node) -> Node:
    """aᵀ, pushed to the leaves: (AB)ᵀ = BᵀAᵀ, (A + B)ᵀ = Aᵀ + Bᵀ, Sᵀ = S (symmetric), sᵀ = s (scalar)."""
    if a.is_scalar and not _chain_piece(a):
        return a
    if isinstance(a, Transpose):
        return a.arg
    if isinstance(a, Var) and a.symmetric:
        return a
    if isinstance(a, (Identity, Diag)):
        return a
    if isinstance(a, (Zero, Ones)):
        return type(a)(a.ncols, a.nrows)
    if isinstance(a, Add):
        return add(*[transpose(t) for t in a.terms])
    if isinstance(a, Mul):
        c = a.coefficient
        chain = [transpose(f) for f in reversed(a.chain)]
        return mul(*(([c] if c is not None else []) + chain))
    if isinstance(a, Map) and any(x.kind == "matrix" for x in a.args):
        return emap(a.body, [transpose(x) for x in a.args])
    if isinstance(a, Inverse):
        return inverse(transpose(a.arg))
    if isinstance(a, Named) and a.definition.is_scalar:
        return a
    return Transpose(a)


def inverse(a: Node) -> Node:
    """a⁻¹ (of a square matrix; 1/a of a scalar)."""
    if a.is_scalar and not _chain_piece(a):
        return emap(1 / slot(0), [a])
    if not same(a.shape[0], a.shape[1]):
        raise ShapeError(f"only a square matrix has an inverse, not a {shape_text(*a.shape)} one")
    if isinstance(a, Inverse):
        return a.arg
    if isinstance(a, Identity):
        return a
    if isinstance(a, Transpose) and isinstance(a.arg, Inverse):
        return transpose(a.arg.arg)
    return Inverse(a)


def diag(a: Node) -> Node:
    """diag(v) of a vector; the diagonal (as a vector) of a square matrix."""
    if a.kind == "vector" or (a.is_scalar and _chain_piece(a)):
        if isinstance(a, Ones):
            return Identity(a.shape[0])
        return Diag(a)
    if a.kind == "scalar":
        return a
    if not same(a.shape[0], a.shape[1]):
        raise ShapeError(f"diag of a {shape_text(*a.shape)} matrix: only a square matrix has a diagonal")
    return DiagPart(a)


def hadamard(a: Node, b: Node) -> Node:
    """a ⊙ b, entry by entry (a scalar times anything is an ordinary product)."""
    if a.is_scalar and not _chain_piece(a) or b.is_scalar and not _chain_piece(b):
        return mul(a, b)
    if not (same(a.shape[0], b.shape[0]) and same(a.shape[1], b.shape[1])):
        raise ShapeError("an elementwise product needs equal shapes, not "
                         f"{shape_text(*a.shape)} and {shape_text(*b.shape)}")
    return emap(slot(0) * slot(1), [a, b])


def dot(a: Node, b: Node) -> Node:
    """x·y = xᵀy of two vectors."""
    return mul(transpose(a), b)


def replace(node: Node, mapping: dict[Node, Node]) -> Node:
    """``node`` with every occurrence of a key replaced (bottom-up, rebuilt canonically)."""
    if node in mapping:
        return mapping[node]
    kids = node.children
    if not kids:
        return node
    new = [replace(k, mapping) for k in kids]
    if all(n is k for n, k in zip(new, kids)):
        return node
    return node.rebuild(new)


def transform(node: Node, fn: Callable[[Node], Node | None]) -> Node:
    """Rebuild ``node`` bottom-up; ``fn`` may return a replacement for a rebuilt node (or None)."""
    kids = node.children
    if kids:
        new = [transform(k, fn) for k in kids]
        if not all(n is k for n, k in zip(new, kids)):
            node = node.rebuild(new)
    out = fn(node)
    return node if out is None else out


def unname(node: Node) -> Node:
    """``node`` with every ``Named`` intermediate replaced by its definition."""
    return transform(node, lambda n: n.definition if isinstance(n, Named) else None)


def scalar_names(node: Node) -> set[str]:
    """The scalar names (λ, c, b) in the numbers of ``node``: its ``Const`` values, ``Map`` bodies
    and class indices."""
    out: set[str] = set()
    for n in node.walk():
        e = (n.value if isinstance(n, Const) else n.body if isinstance(n, Map)
             else n.index if isinstance(n, OneHot) else None)
        if e is not None:
            out |= {s.name for s in e.free_symbols if isinstance(s, sp.Symbol) and not _is_slot(s)}
    return out


def lift(node: Node, name: str) -> tuple[Node, Var]:
    """``node`` with the scalar name ``name`` made a variable (a 1×1 ``Var`` declared scalar), so
    that the differential engine can take ∂f/∂λ: a number λ·‖w‖² becomes the product of the
    variable λ and ‖w‖², and σ(Xw + b) the entrywise map of Xw and the number b.

    >>> from symgrad.matrix.notation import parse
    >>> lifted, lam = lift(parse("‖w‖² + λ sum(w)", "w: n").expr, "lambda")
    >>> lam.declared, text(lifted), isinstance(lifted, Map)
    ('scalar', 'norm(w)**2 + sum(w)*lambda', True)
    """
    var = Var(name, 1, 1, "scalar")

    def symbols(e: sp.Basic) -> list[sp.Symbol]:
        return [s for s in e.free_symbols if isinstance(s, sp.Symbol) and s.name == name]

    def fn(n: Node) -> Node | None:
        if isinstance(n, Const) and symbols(n.value):
            return emap(n.value.xreplace({s: slot(0) for s in symbols(n.value)}), [var])
        if isinstance(n, Map) and symbols(n.body):
            k = len(n.args)
            return emap(n.body.xreplace({s: slot(k) for s in symbols(n.body)}), [*n.args, var])
        if isinstance(n, OneHot) and symbols(n.index):
            from symgrad.errors import InputError

            raise InputError(f"{name} is a class index, a whole number: nothing is differentiable by it",
                             suggestion="take the gradient by the logits' parameters")
        return None

    return transform(node, fn), var


def depends(node: Node, var: Var) -> bool:
    return node.has(lambda n: n == var or (isinstance(n, D) and n.var == var))


def has_d(node: Node) -> bool:
    return node.has(lambda n: isinstance(n, D))


# text (the JSON contract) -------------------------------------------------------------------------
_PREC_ADD, _PREC_MUL, _PREC_POW, _PREC_ATOM = 10, 20, 30, 40


def text(node: Node) -> str:
    """The expression in SymPy's ``str()`` notation, read back by the matrix parser.

    >>> from symgrad.matrix.expr import Var, emap, slot
    >>> from symgrad.vocabulary.functions import sigmoid
    >>> z = Var("z", "n", 1)
    >>> s = emap(sigmoid(slot(0)), [z])
    >>> text(hadamard(s, emap(1 - slot(0), [s])))
    'sigmoid(z).*(1 - sigmoid(z))'
    """
    return TextPrinter().print(node)


def _paren(pair: tuple[str, int], level: int, left: str = "(", right: str = ")") -> str:
    s, prec = pair
    return f"{left}{s}{right}" if prec < level else s


class TextPrinter:
    """Writes a node; subclasses (``symgrad.render.matrix``) change the notation through the hooks:
    the operators below, ``name``, ``function``, ``number``, ``differential``, ``call``, ``norm``."""

    TRANSPOSE = ".T"
    INVERSE = "**(-1)"
    MATMUL = "*"
    HADAMARD = ".*"
    POWER = "**"
    EPOWER = ".^"
    EDIVIDE = "./"
    DIVIDE = "/"
    TIMES = "*"
    LEFT, RIGHT = "(", ")"
    IDENTITY, ZERO, ONES = "I", "0", "1"

    def print(self, node: Node) -> str:
        return self._text(node)[0]

    # hooks -------------------------------------------------------------------------------------
    def name(self, n: Node, name: str) -> str:
        return name

    def function(self, name: str) -> str:
        return {"Abs": "abs"}.get(name, name)

    def number(self, e: sp.Expr) -> str:
        return sp.sstr(e)

    def differential(self, var: Var) -> str:
        return f"d({var.name})"

    def call(self, fname: str, inner: str) -> str:
        return f"{fname}({inner})"

    def norm(self, inner: str, squared: bool) -> tuple[str, int]:
        return (f"norm({inner})**2", _PREC_POW) if squared else (f"norm({inner})", _PREC_ATOM)

    def power(self, base: str, exp: str, elementwise: bool) -> str:
        return f"{base}{self.EPOWER if elementwise else self.POWER}{exp}"

    def fraction(self, num: tuple[str, int], den: tuple[str, int], elementwise: bool) -> tuple[str, int]:
        op = self.EDIVIDE if elementwise else self.DIVIDE
        return f"{self.paren(num, _PREC_MUL)}{op}{self.paren(den, _PREC_POW)}", _PREC_MUL

    def paren(self, pair: tuple[str, int], level: int) -> str:
        return _paren(pair, level, self.LEFT, self.RIGHT)

    def transposed(self, inner: tuple[str, int]) -> tuple[str, int]:
        return self.paren(inner, _PREC_ATOM) + self.TRANSPOSE, _PREC_POW

    def inverted(self, inner: tuple[str, int], transposed: bool) -> tuple[str, int]:
        return self.paren(inner, _PREC_POW if transposed else _PREC_ATOM) + self.INVERSE, _PREC_POW

    def join(self, parts: list[str], op: str) -> str:
        return op.join(parts)

    # the printer -----------------------------------------------------------------------------
    def _text(self, n: Node) -> tuple[str, int]:
        if isinstance(n, (Var, Named)):
            return self.name(n, n.name), _PREC_ATOM
        if isinstance(n, Const):
            return self._sympy(n.value)
        if isinstance(n, Identity):
            return self.IDENTITY, _PREC_ATOM
        if isinstance(n, Zero):
            return self.ZERO, _PREC_ATOM
        if isinstance(n, Ones):
            return self.ONES, _PREC_ATOM
        if isinstance(n, D):
            return self.differential(n.var), _PREC_ATOM
        if isinstance(n, Transpose):
            return self.transposed(self._text(n.arg))
        if isinstance(n, Inverse):
            return self.inverted(self._text(n.arg), isinstance(n.arg, Transpose))
        if isinstance(n, Add):
            parts: list[str] = []
            for i, t in enumerate(sorted(n.terms, key=lambda t: self._signed(t)[1])):
                s, negative = self._signed(t)
                if i == 0:
                    parts.append(("-" if negative else "") + s)
                else:
                    parts.append((" - " if negative else " + ") + s)
            return "".join(parts), _PREC_ADD
        if isinstance(n, Mul):
            return self._mul(n)
        if isinstance(n, Map):
            return self._map(n)
        names = {Det: "det", Trace: "tr", Sum: "sum", Softmax: "softmax", Diag: "diag", DiagPart: "diag"}
        for cls, fname in names.items():
            if isinstance(n, cls):
                return self.call(self.function(fname), self.print(n.children[0])), _PREC_ATOM
        if isinstance(n, (Norm, SqNorm)):
            return self.norm(self.print(n.arg), isinstance(n, SqNorm))
        if isinstance(n, SoftmaxCE):
            inner = self.call(self.function("softmax"), self.print(n.logits)) + ", " + self.print(n.labels)
            return self.call(self.function("cross_entropy"), inner), _PREC_ATOM
        raise TypeError(f"no text form for {type(n).__name__}")

    def _signed(self, t: Node) -> tuple[str, bool]:
        """A term of a sum without its minus sign, and whether it had one."""
        c, rest = split_coefficient(t)
        if isinstance(c, Const) and c.value.could_extract_minus_sign():
            positive = mul(Const(-c.value), rest)
            return self.paren(self._text(positive), _PREC_ADD + 1), True
        if isinstance(t, Map) and t.body.could_extract_minus_sign():
            return self.paren(self._text(emap(-t.body, t.args)), _PREC_ADD + 1), True
        return self.paren(self._text(t), _PREC_ADD + 1), False

    def _mul(self, n: Mul) -> tuple[str, int]:
        parts: list[str] = []
        c = n.coefficient
        prefix = ""
        if c is not None:
            if isinstance(c, Const) and c.value == -1:
                prefix = "-"
            elif isinstance(c, Const) and c.value.is_Rational and c.value.q != 1 and c.value.p in (1, -1):
                inner = mul(*n.chain)
                num = self._text(inner)
                out = self.fraction(num, (str(c.value.q), _PREC_ATOM), False)
                return ("-" if c.value.p < 0 else "") + out[0], out[1]
            elif isinstance(c, Map) and _is_reciprocal(c):
                den = emap(1 / c.body, c.args)
                return self.fraction(self._text(mul(*n.chain)), self._text(den), False)
            else:
                s = self._text(c)
                if isinstance(c, Const) and c.value.could_extract_minus_sign():
                    parts.append(f"{self.LEFT}{s[0]}{self.RIGHT}")
                else:
                    parts.append(self.paren(s, _PREC_MUL))
        for f in n.chain:
            s = self._text(f)
            # an elementwise product next to a matrix product is always bracketed
            level = _PREC_POW if isinstance(f, Map) and s[1] == _PREC_MUL else _PREC_MUL
            parts.append(self.paren(s, level))
        return prefix + self.join(parts, self.MATMUL), _PREC_MUL

    def _sympy(self, e: sp.Expr) -> tuple[str, int]:
        s = self.number(e)
        if e.is_Add or (e.is_Number and e.could_extract_minus_sign()):
            return s, _PREC_ADD
        if e.is_Mul or (e.is_Rational and not e.is_Integer):
            return s, _PREC_MUL
        if e.is_Pow:
            return s, _PREC_POW
        return s, _PREC_ATOM

    def _map(self, n: Map) -> tuple[str, int]:
        return self._body(n.body, n.args, not n.is_scalar or _chain_piece(n.args[0]))

    def _body(self, e: sp.Expr, args: Sequence[Node], elementwise: bool) -> tuple[str, int]:
        """A ``Map`` body with its placeholders written as the arguments: elementwise products of
        non-scalar arguments as the Hadamard sign, powers and quotients entry by entry."""
        if _is_slot(e):
            return self._text(args[int(e.name[2:])])
        if not _slots(e):
            return self._sympy(e)
        if e.is_Add:
            terms = _ordered_terms(e)
            terms.sort(key=lambda t: t.could_extract_minus_sign())  # σ(z) - y, not -y + σ(z)
            out = []
            for i, t in enumerate(terms):
                negative = t.could_extract_minus_sign()
                s = self.paren(self._body(-t if negative else t, args, elementwise), _PREC_ADD + 1)
                out.append((("-" if negative else "") if i == 0 else (" - " if negative else " + ")) + s)
            return "".join(out), _PREC_ADD
        if e.is_Mul:
            num, den = sp.fraction(e)
            if den != 1:
                return self.fraction(self._body(num, args, elementwise), self._body(den, args, elementwise),
                                     elementwise and bool(_slots(den)))
            factors = list(e.as_ordered_factors())
            c = sp.Mul(*[f for f in factors if not _slots(f)])
            rest = [f for f in factors if _slots(f)]
            prefix = ""
            parts = []
            if c == -1:
                prefix = "-"
            elif c != 1:
                parts.append(self.paren(self._sympy(c), _PREC_MUL + (1 if c.could_extract_minus_sign() else 0)))
            body = self.join([self.paren(self._body(f, args, elementwise), _PREC_POW) for f in rest],
                             self.HADAMARD if elementwise else self.TIMES)
            joined = self.join(parts + [body], self.TIMES) if parts else body
            return prefix + joined, _PREC_MUL
        if e.is_Pow:
            base, exp = e.args
            if exp == sp.Rational(1, 2):
                return self.call(self.function("sqrt"), self._body(base, args, elementwise)[0]), _PREC_ATOM
            return self.power(self.paren(self._body(base, args, elementwise), _PREC_ATOM),
                              self.paren(self._sympy(exp), _PREC_ATOM), elementwise), _PREC_POW
        if isinstance(e, (sp.Function, sp.Heaviside)):
            shown = e.args[:1] if isinstance(e, sp.Heaviside) and e.args[1:] == (sp.S.Half,) else e.args
            inner = ", ".join(self._body(a, args, elementwise)[0] for a in shown)
            return self.call(self.function(type(e).__name__), inner), _PREC_ATOM
        return self.number(e), _PREC_ATOM


def _is_reciprocal(c: Map) -> bool:
    num, den = sp.fraction(c.body)
    return num == 1 and den != 1


def _slots(e: sp.Basic) -> set[sp.Symbol]:
    return {s for s in e.free_symbols if _is_slot(s)}


def _ordered_terms(e: sp.Expr) -> list[sp.Expr]:
    """The terms of a sum in SymPy's printing order (1 - p, not -p + 1)."""
    from sympy.printing.str import StrPrinter

    return list(StrPrinter()._as_ordered_terms(e))


def shape_of(n: Node) -> str:
    """The shape as the JSON gives it: ``"m×n"``, ``"n"`` (a vector), ``"1"`` (a scalar)."""
    r, c = n.shape
    if (r, c) == (1, 1):
        return "1"
    if c == 1:
        return str(r)
    return f"{r}×{c}"


def atoms(nodes: Iterable[Node]) -> list[Node]:
    out: list[Node] = []
    for n in nodes:
        if n not in out:
            out.append(n)
    return out

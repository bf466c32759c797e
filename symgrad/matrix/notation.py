"""Vector/matrix notation: text + shapes -> a matrix expression (``symgrad.matrix.expr``) and notes.

Stage: parsing, matrix mode. The same scanner (``symgrad.parsing.lexer``, with ``matrix=True``),
grammar and LALR table as scalar input; only the builder differs. ``MatrixBuilder`` subclasses the
scalar ``Builder``: every reduction whose operands are all scalars goes to the scalar builder
unchanged (so ``2x + sin x`` in a matrix expression is exactly what ``symgrad.parse`` makes), and a
reduction with a vector or matrix operand builds a matrix node, checking the sizes by unification
(``shapes.Sizes``): a mismatch is a ``ParseError`` with the caret at the operation.

What the scanner gives in matrix mode: a transpose (``xᵀ``, ``x^T``, ``x^{T}``, ``x^\\top``, ``x'``,
``x.T``) is a superscript ``T`` (``-T`` for X⁻ᵀ, SymPy's ``X.T**(-1)``), ``A^{-1}`` a superscript
``-1``; ``@`` and ``*`` multiply, ``⊙``/``∘``/``.*`` is the elementwise product (a product token
whose value is ``⊙``), ``./`` and ``.^`` the elementwise quotient and power, ``·`` between two
vectors the dot product; ``‖x‖`` bars are bar tokens whose value is ``‖``; ``det``, ``tr``,
``diag``, ``norm``, ``dot``, ``logdet``, ``inv`` are functions (``MATRIX_FUNCTIONS``).

Shapes come from the declaration (``shapes.declarations``), else from use (``infer``): a
transposed name is a vector unless declared a matrix; the argument of softmax, norm, ‖…‖, sum,
dot, diag and of ⊙ is a vector; that of det, tr, logdet, inv a (square) matrix. Every inferred
shape gets a note. ``hints`` lets another front end (LaTeX: ``\\mathbf{x}`` a vector, ``\\mathbf{W}``
a matrix) pass the kinds its notation shows.

>>> p = parse("x^T A x", "A: n×n")
>>> str(p.expr), p.shapes["x"], p.notes[0]
('x.T*A*x', ('n', 1), 'x is read as a vector of n entries (it is transposed)')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sympy as sp

from symgrad.errors import InputError, ParseError
from symgrad.matrix import expr as mx
from symgrad.matrix.expr import Node, ShapeError
from symgrad.matrix.shapes import Declared, Dim, DimVar, Sizes, declarations, dim_text
from symgrad.parsing.build import Builder, _Factors, _Terms, _v
from symgrad.parsing.lalr import Token
from symgrad.records import field, record

VECTOR_ARGUMENT = {"softmax": "softmax", "norm": "norm", "sum": "sum", "dot": "dot", "diag": "diag"}
MATRIX_ARGUMENT = {"det", "tr", "logdet", "inv"}
SIZE_NAMES = ("n", "m", "k", "d", "p", "q", "r", "s")


@record
class MatrixParsed:
    """A parsed matrix expression: ``expr`` (a ``Node``, or a ``Const`` if all is scalar), each
    vector/matrix name's shape, the scalar names, and the reading notes (one per inferred shape)."""

    text: str
    expr: Node
    shapes: dict[str, tuple[Dim, Dim]]
    notes: tuple[str, ...] = field(default=())
    symmetric: frozenset[str] = frozenset()
    defines: str = ""
    variables: tuple[str, ...] = field(default=())
    order: tuple[str, ...] = field(default=())
    """Every name (vector, matrix or number) in order of first appearance: the argument order."""

    def var(self, name: str) -> mx.Var:
        for v in self.expr.variables():
            if v.name == name:
                return v
        raise KeyError(name)

    def declaration(self) -> str:
        """The shapes as a declaration that reads them back: ``"x: n, A: n×n"``."""
        parts = []
        for name, (r, c) in self.shapes.items():
            sym = " symmetric" if name in self.symmetric else ""
            parts.append(f"{name}: {r}" if c == 1 and not self._matrix(name) else f"{name}: {r}×{c}{sym}")
        return ", ".join(parts)

    def _matrix(self, name: str) -> bool:
        try:
            return self.var(name).declared == "matrix"
        except KeyError:
            return False


_SIZES: list[Sizes] = []


@contextmanager
def _unifying(sizes: Sizes) -> Iterator[None]:
    """While building, size checks in the node constructors unify undeclared sizes."""
    old = mx.same
    mx.same = sizes.unify
    _SIZES.append(sizes)
    try:
        yield
    finally:
        _SIZES.pop()
        mx.same = old


def infer(tokens: Sequence[Token], declared: Mapping[str, Declared]) -> dict[str, tuple[Declared, str]]:
    """Names whose use shows they are vectors or matrices, each with its kind and the reason."""
    out: dict[str, tuple[Declared, str]] = {}

    def mark(name: str, kind: str, why: str) -> None:
        if name in declared or name in out:
            return
        out[name] = (Declared(kind), why)

    n = len(tokens)
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < n else None
        if tok.type == "NAME" and nxt is not None and nxt.type == "SUP" and nxt.value in ("T", "-T"):
            mark(tok.value, "vector" if nxt.value == "T" else "matrix", "it is transposed")
        if tok.type == "FUNC" and (tok.value in VECTOR_ARGUMENT or tok.value in MATRIX_ARGUMENT
                                   or tok.value == "cross_entropy"):
            kind = "matrix" if tok.value in MATRIX_ARGUMENT else "vector"
            names = _call_names(tokens, i)
            if tok.value == "cross_entropy":
                # cross_entropy(softmax(z), y): the labels y are a vector like z
                if i + 2 < n and tokens[i + 2].type == "FUNC" and tokens[i + 2].value == "softmax":
                    inner = _call_names(tokens, i + 2)
                    for name in inner:
                        mark(name, "vector", "it is the argument of softmax")
                    depth, j = 0, i + 1
                    while j < n:
                        if tokens[j].type in ("LPAR", "LBRACK"):
                            depth += 1
                        elif tokens[j].type in ("RPAR", "RBRACK"):
                            depth -= 1
                            if depth == 0:
                                break
                        elif tokens[j].type == "COMMA" and depth == 1 and j + 2 < n and tokens[j + 1].type == "NAME" \
                                and tokens[j + 2].type == "RPAR":
                            mark(tokens[j + 1].value, "vector", "it is the labels of a softmax cross-entropy")
                        j += 1
                continue
            if tok.value == "sum" and len(names) != 1:
                continue
            for name in names:
                mark(name, kind, f"it is the argument of {tok.value}")
        if tok.type == "LBAR" and tok.value == "‖" and nxt is not None and nxt.type == "NAME" and i + 2 < n \
                and tokens[i + 2].type == "RBAR":
            mark(nxt.value, "vector", "its norm ‖…‖ is taken")
        if tok.type == "TIMES" and tok.value == "⊙":
            for j in (i - 1, i + 1):
                if 0 <= j < n and tokens[j].type == "NAME":
                    mark(tokens[j].value, "vector", "it is in an elementwise product ⊙")
    return out


def _call_names(tokens: Sequence[Token], i: int) -> list[str]:
    """The names that are whole arguments of the call at ``i``: f(x), f(x, y), f x."""
    n = len(tokens)
    whole = i + 2 >= n or tokens[i + 2].type not in ("SUP", "POW", "LBRACK")
    if i + 1 < n and tokens[i + 1].type == "NAME" and whole:
        return [tokens[i + 1].value]
    if i + 1 >= n or tokens[i + 1].type != "LPAR":
        return []
    out, j = [], i + 2
    while j + 1 < n and tokens[j].type == "NAME" and tokens[j + 1].type in ("COMMA", "RPAR"):
        out.append(tokens[j].value)
        if tokens[j + 1].type == "RPAR":
            return out
        j += 2
    return out if j < n and tokens[j - 1].type == "RPAR" else []


class Notation:
    """What ``symgrad.parsing.parse_full`` needs to read vector/matrix notation (its ``notation=``
    hook): the scanner in matrix mode, the builder, and how to finish and check the result."""

    def __init__(self, shapes: Mapping[str, Declared], hints: Mapping[str, Declared] | None = None) -> None:
        self.declared = dict(shapes)
        self.hints = dict(hints or {})
        self.builder_used: MatrixBuilder | None = None

    def scanner(self, text: str, nesting: int, start: int) -> Any:
        from symgrad.parsing.lexer import Scanner

        scan = Scanner(text, nesting, start, matrix=True)
        tokens = list(scan.tokens())  # to infer shapes from use before anything is built
        self.inferred = infer(tokens, {**self.declared, **self.hints})
        self.tokens = tokens
        return _Replay(tokens, scan.notes)

    def builder(self) -> MatrixBuilder:
        b = MatrixBuilder(self.declared, self.hints, self.inferred)
        for tok in self.tokens:
            if tok.type == "NAME":
                b.uses[tok.value] = b.uses.get(tok.value, 0) + 1
        self.builder_used = b
        return b

    def finish(self, result: Any, builder: MatrixBuilder) -> Any:
        return builder.finish_matrix(result)

    def names(self, expr: Any) -> sp.Basic:
        """The names the expression uses, as SymPy symbols (for the definition check)."""
        names = [sp.Symbol(v.name) for v in expr.variables()] if isinstance(expr, Node) else []
        consts = [n.value for n in expr.walk() if isinstance(n, mx.Const)] if isinstance(expr, Node) else [expr]
        bodies = [n.body for n in expr.walk() if isinstance(n, mx.Map)] if isinstance(expr, Node) else []
        return sp.Tuple(*names, *consts, *bodies)


class _Replay:
    """The scanner's tokens, scanned once already (for inference), given to the parser again."""

    def __init__(self, tokens: list[Token], notes: list[str]) -> None:
        self._tokens = tokens
        self.notes = notes

    def tokens(self) -> Iterator[Token]:
        return iter(self._tokens)


def _is_node(v: Any) -> bool:
    return isinstance(v, Node)


class MatrixBuilder(Builder):
    """The scalar builder, extended to vectors and matrices (see the module docstring)."""

    def __init__(self, declared: Mapping[str, Declared], hints: Mapping[str, Declared],
                 inferred: Mapping[str, tuple[Declared, str]]) -> None:
        super().__init__()
        self.declared = declared
        self.hints = hints
        self.inferred = inferred
        self.sizes = Sizes()
        self.vars: dict[str, mx.Var] = {}
        self.at: dict[int, int] = {}
        self._keep: list[Any] = []
        self.shape_notes: list[tuple[str, str, str]] = []
        self.scalar_names: set[str] = set()
        self.uses: dict[str, int] = {}
        self.order: list[str] = []
        self._ctx = _unifying(self.sizes)
        self._ctx.__enter__()

    # bookkeeping ---------------------------------------------------------------------------------
    def _mark(self, node: Any, pos: int | None) -> Any:
        if isinstance(node, Node) and pos is not None and id(node) not in self.at:
            self.at[id(node)] = pos
            self._keep.append(node)
        return node

    def _pos(self, value: Any) -> int | None:
        return self.at.get(id(value))

    def _fail(self, message: str, pos: int | None, suggestion: str | None = None) -> ParseError:
        return ParseError(message, self.text, pos, suggestion=suggestion)

    def _shape(self, n: Node) -> str:
        r, c = (self.sizes.find(d) for d in n.shape)
        if isinstance(n, mx.Var) and n.declared == "matrix":
            return f"{dim_text(r)}×{dim_text(c)}"
        if (r, c) == (1, 1):
            return "a number"
        if c == 1:
            return f"{dim_text(r)} entr{'y' if r == 1 else 'ies'}"
        if r == 1:
            return f"1×{dim_text(c)} (a row)"
        return f"{dim_text(r)}×{dim_text(c)}"

    def _src(self, n: Any) -> str:
        """The text of a node for a message: its name, or what it prints as."""
        if isinstance(n, Node):
            return mx.text(n)
        return sp.sstr(n)

    def _node(self, v: Any) -> Node:
        v = _v(v)
        if isinstance(v, Node):
            return v
        if isinstance(v, sp.Tuple):
            raise InputError(f"the list {sp.sstr(v)} is used as a number",
                             suggestion="a vector is a name with a shape (--shape \"x: 3\"), not a list")
        return mx.Const(v)

    # names -----------------------------------------------------------------------------------
    def name(self, tok: Token) -> Any:
        name = tok.value
        if name not in self.order:
            self.order.append(name)
        if name in self.vars:
            return self._mark(self.vars[name], tok.start_pos)
        kind = self.declared.get(name) or self.hints.get(name)
        why = ""
        if kind is None and name in self.inferred:
            kind, why = self.inferred[name]
        if kind is None or kind.kind == "scalar":
            if name == "I" and kind is None:
                n = self.sizes.fresh()
                self._note("I is the identity matrix (its size follows from its use)")
                # the size is a DimVar until finish() resolves it
                return self._mark(mx.Identity(n), tok.start_pos)  # type: ignore[arg-type]
            self._glued(tok)
            self.scalar_names.add(name)
            return super().name(tok)
        rows: Dim | DimVar = kind.rows if kind.rows is not None else self.sizes.fresh(name)
        cols: Dim | DimVar
        if kind.kind == "vector":
            cols = 1
        elif kind.cols is not None:
            cols = kind.cols
        elif kind.symmetric:
            cols = rows
        else:
            cols = self.sizes.fresh(name)
        var = mx.Var(name, rows, cols, "matrix" if kind.kind == "matrix" else "vector", kind.symmetric)  # type: ignore[arg-type]
        self.vars[name] = var
        if why:
            self.shape_notes.append((name, kind.kind, why))
        return self._mark(var, tok.start_pos)

    def _glued(self, tok: Token) -> None:
        """``Ax`` undeclared while A and x are vectors/matrices: a product written without a space."""
        name = tok.value
        known = set(self.declared) | set(self.inferred)
        for i in range(1, len(name)):
            left, right = name[:i], name[i:]
            if left in known and right in known and (left not in self.declared or self.declared[left].kind != "scalar"):
                raise self._fail(f"'{name}' is one name (a run of letters is never split), but {left} and {right} "
                                 "are vectors/matrices here", tok.start_pos,
                                 f"for the product write {left} {right} (with a space) or {left}*{right}")

    # sums ------------------------------------------------------------------------------------
    def add(self, left: Any, op: Token, right: Any) -> Any:
        if not (_is_node(_v(left) if not isinstance(left, (_Terms, _Factors)) else None) or _is_node(right)):
            return super().add(left, op, right)
        return self._sum(left, op, right, 1)

    def sub(self, left: Any, op: Token, right: Any) -> Any:
        if not (_is_node(_v(left) if not isinstance(left, (_Terms, _Factors)) else None) or _is_node(right)):
            return super().sub(left, op, right)
        return self._sum(left, op, right, -1)

    def _sum(self, left: Any, op: Token, right: Any, sign: int) -> Node:
        a, b = self._node(left), self._node(right)
        b_signed = b if sign > 0 else mx.neg(b)
        start = self._pos(a) if self._pos(a) is not None else op.start_pos
        sym = "+" if sign > 0 else "−"
        a, b = self._adopt(a, b), self._adopt(b, a)
        b_signed = b if sign > 0 else mx.neg(b)
        for x, y in ((a, b), (b, a)):
            if isinstance(x, mx.Const) and not y.is_scalar:
                if y.kind != "vector":
                    raise self._fail(f"{self._src(x)} {sym} … adds a number to the {self._shape(y)} matrix "
                                     f"{self._src(y)}", op.start_pos,
                                     "a number plus a matrix could mean c·I or c added to every entry: write "
                                     "c*I for the first")
                self._note(f"{self._src(x)} {sym} … with the vector {self._src(y)}: the number is taken entry by "
                           f"entry ({self._src(x)} is the vector with every entry {self._src(x)})")
                body = (mx.slot(0) + sign * x.value) if x is b else (x.value + sign * mx.slot(0))
                return self._mark(mx.emap(body, [y]), start)
        if a.is_scalar != b.is_scalar and not (mx._chain_piece(a) or mx._chain_piece(b)):
            scalar, other = (a, b) if a.is_scalar else (b, a)
            raise self._fail(f"{sym} of the number {self._src(scalar)} and {self._src(other)}, which has "
                             f"{self._shape(other)}", op.start_pos,
                             "both sides of + and − must have the same shape")
        try:
            out = mx.add(a, b_signed)
        except ShapeError:
            raise self._fail(f"{self._src(a)} {sym} {self._src(b)}: {self._src(a)} has {self._shape(a)} but "
                             f"{self._src(b)} has {self._shape(b)}", op.start_pos,
                             "both sides of + and − must have the same shape") from None
        return self._mark(out, start)

    def _adopt(self, x: Node, other: Node) -> Node:
        """An undeclared name used once, added to a vector or matrix: it has that shape (W x + b)."""
        if not (isinstance(x, mx.Const) and isinstance(x.value, sp.Symbol)) or other.is_scalar:
            return x
        name = x.value.name
        if name in self.declared or name in self.hints or self.uses.get(name, 0) != 1 or other.kind == "row":
            return x
        var = mx.Var(name, other.shape[0], other.shape[1], "matrix" if other.kind == "matrix" else "vector")
        self.vars[name] = var
        self.scalar_names.discard(name)
        self.shape_notes.append((name, var.declared, f"it is added to {self._src(other)}"))
        return var

    def neg(self, op: Token, operand: Any) -> Any:
        if not _is_node(operand):
            return super().neg(op, operand)
        return self._mark(mx.neg(operand), op.start_pos)

    def pos(self, op: Token, operand: Any) -> Any:
        if not _is_node(operand):
            return super().pos(op, operand)
        return operand

    def paren(self, _open: Token, inner: Any, _close: Token) -> Any:
        value = _v(inner)
        if isinstance(value, Node):
            self.at[id(value)] = _open.start_pos
            self._keep.append(value)
        return value if isinstance(value, Node) else super().paren(_open, inner, _close)

    # products --------------------------------------------------------------------------------
    def mul(self, left: Any, op: Token, right: Any) -> Any:
        if not (self._has_node(left) or _is_node(right)) and op.value not in ("⊙",):
            return super().mul(left, op, right)
        return self._product(left, right, op.value, op.start_pos)

    def jmul(self, left: Any, right: Any) -> Any:
        if not (self._has_node(left) or _is_node(right)):
            return super().jmul(left, right)
        return self._product(left, right, "", self._pos(right))

    def plains(self, *children: Any) -> Any:
        if len(children) == 2 and (self._has_node(children[0]) or _is_node(children[1])):
            return self._product(children[0], children[1], "", self._pos(children[1]))
        return super().plains(*children)

    def _has_node(self, v: Any) -> bool:
        return isinstance(v, Node)

    def _product(self, left: Any, right: Any, op: str, at: int | None) -> Node:
        a, b = self._node(left), self._node(right)
        start = self._pos(a)
        shown = f"{self._src(a)} {op + ' ' if op else ''}{self._src(b)}"
        if op == "⊙":
            if a.is_scalar and not mx._chain_piece(a) or b.is_scalar and not mx._chain_piece(b):
                self._note(f"{shown}: ⊙ with a number is an ordinary product")
                return self._mark(mx.mul(a, b), start)
            try:
                return self._mark(mx.hadamard(a, b), start)
            except ShapeError:
                raise self._fail(f"{shown}: an elementwise product needs equal shapes, but {self._src(a)} has "
                                 f"{self._shape(a)} and {self._src(b)} has {self._shape(b)}", at) from None
        if op == "·" and a.kind == "vector" and b.kind == "vector":
            return self._mark(self._dot(a, b, at, shown), start)
        if a.kind == "vector" and b.kind == "vector" and not (a.is_scalar or b.is_scalar):
            raise self._fail(f"{shown}: a product of two column vectors is not defined", at,
                             f"write {self._src(a)}ᵀ{self._src(b)} (or dot({self._src(a)}, {self._src(b)})) "
                             "for the dot "
                             f"product, {self._src(a)} ⊙ {self._src(b)} entry by entry, {self._src(a)} "
                             f"{self._src(b)}ᵀ for the outer product")
        scalar_a = a.is_scalar and not mx._chain_piece(a)
        scalar_b = b.is_scalar and not mx._chain_piece(b)
        if not (scalar_a or scalar_b):
            cols = self.sizes.find(a.shape[1])
            rows = self.sizes.find(b.shape[0])
            if not self.sizes.unify(cols, rows):
                if a.shape[0] == 1 and a.shape[1] == 1 or b.shape == (1, 1):
                    pass  # a 1×1 product times anything: a number
                else:
                    have = (f"{dim_text(rows)} entries" if b.kind == "vector" else f"{dim_text(rows)} rows")
                    raise self._fail(f"{shown}: {self._src(a)} is {self._shape_full(a)} but {self._src(b)} has {have}",
                                     at, f"a product needs as many columns on the left as rows on the right "
                                         f"({dim_text(cols)} ≠ {dim_text(rows)})")
        try:
            return self._mark(mx.mul(a, b), start)
        except ShapeError as exc:
            raise self._fail(f"{shown}: {exc}", at) from None

    def _shape_full(self, n: Node) -> str:
        r, c = (self.sizes.find(d) for d in n.shape)
        return f"{dim_text(r)}×{dim_text(c)}"

    def _dot(self, a: Node, b: Node, at: int | None, shown: str) -> Node:
        if not self.sizes.unify(a.shape[0], b.shape[0]):
            raise self._fail(f"{shown}: a dot product needs vectors of one length, not {self._shape(a)} and "
                             f"{self._shape(b)}", at)
        return mx.dot(a, b)

    def div(self, left: Any, op: Token, right: Any) -> Any:
        if not (self._has_node(left) or _is_node(right)) and op.value != "./":
            return super().div(left, op, right)
        a, b = self._node(left), self._node(right)
        start = self._pos(a)
        if op.value == "./" and not (b.is_scalar and not mx._chain_piece(b)):
            try:
                return self._mark(mx.emap(mx.slot(0) / mx.slot(1), [a, b]), start)
            except ShapeError:
                raise self._fail(f"{self._src(a)} ./ {self._src(b)}: an elementwise quotient needs equal shapes",
                                 op.start_pos) from None
        if not (b.is_scalar and not mx._chain_piece(b)):
            raise self._fail(f"division by the {self._shape(b)} {self._src(b)}", op.start_pos,
                             "for a matrix write the inverse, as in A^-1 or A^{-1}; ./ divides entry by entry")
        if isinstance(b, mx.Const) and b.value.is_zero:
            raise self._fail("division by zero", op.start_pos)
        return self._mark(mx.mul(a, mx.inverse(b)), start)

    # powers ----------------------------------------------------------------------------------
    def power(self, base: Any, tok: Token, exponent: Any) -> Any:
        b, e = _v(base), _v(exponent)
        if not (_is_node(b) or _is_node(e)) and tok.value != ".^":
            return super().power(base, tok, exponent)
        return self._power(self._node(b), self._node(e), tok, elementwise=tok.value == ".^")

    def _power(self, b: Node, e: Node, tok: Token, elementwise: bool = False) -> Node:
        start = self._pos(b)
        if not (e.is_scalar and not mx._chain_piece(e)):
            raise self._fail(f"a power with the {self._shape(e)} exponent {self._src(e)}", tok.start_pos,
                             "exponents are numbers")
        scalar_base = b.is_scalar and not mx._chain_piece(b)
        if elementwise or scalar_base:
            if isinstance(b, mx.Norm) and isinstance(e, mx.Const) and e.value == 2:
                return self._mark(mx.SqNorm(b.arg), start)
            return self._mark(mx.emap(mx.slot(0) ** mx.slot(1), [b, e]), start)
        if not isinstance(e, mx.Const) or not e.value.is_Integer:
            raise self._fail(f"{self._src(b)} to the power {self._src(e)}: only whole powers of a square matrix are "
                             "defined", tok.start_pos, "write z.^p for a power entry by entry")
        k = int(e.value)
        if b.kind in ("vector", "row"):
            raise self._fail(f"{self._src(b)}^{k}: {self._src(b)} is a vector, which has no powers", tok.start_pos,
                             f"write {self._src(b)}ᵀ{self._src(b)} or ‖{self._src(b)}‖² for the squared length, "
                             f"{self._src(b)}.^{k} entry by entry")
        if not self.sizes.unify(b.shape[0], b.shape[1]):
            raise self._fail(f"{self._src(b)}^{k}: only a square matrix has powers, and {self._src(b)} is "
                             f"{self._shape_full(b)}", tok.start_pos)
        if k == 0:
            return self._mark(mx.Identity(b.shape[0]), start)
        base = mx.inverse(b) if k < 0 else b
        return self._mark(mx.mul(*([base] * abs(k))), start)

    def sup_power(self, base: Any, sup: Token) -> Any:
        b = _v(base)
        if sup.value in ("T", "-T"):
            if not _is_node(b):
                raise self._fail(f"the transpose of the number {sp.sstr(b)}", sup.start_pos,
                                 "a transposed name is a vector; declare its shape with --shape (x: n)")
            b = mx.transpose(b)
            if sup.value == "-T":
                return self._invert(b, sup)
            return self._mark(b, self._pos(base))
        if not _is_node(b):
            return super().sup_power(base, sup)
        if sup.value == "-1" and not (b.is_scalar and not mx._chain_piece(b)):
            return self._invert(b, sup)
        return self._power(b, mx.Const(sp.Integer(int(sup.value))), sup)

    def _invert(self, b: Node, tok: Token) -> Node:
        if not self.sizes.unify(b.shape[0], b.shape[1]):
            raise self._fail(f"{self._src(b)}⁻¹: only a square matrix has an inverse, and {self._src(b)} is "
                             f"{self._shape_full(b)}", tok.start_pos)
        return self._mark(mx.inverse(b), self._pos(b))

    # bars ------------------------------------------------------------------------------------
    def absolute(self, _open: Token, inner: Any, _close: Token) -> Any:
        value = _v(inner)
        if _open.value == "‖":
            node = self._node(value)
            if node.is_scalar and not mx._chain_piece(node):
                self._note(f"‖{self._src(node)}‖ of a number is its absolute value")
                return self._mark(mx.emap(sp.Abs(mx.slot(0)), [node]), _open.start_pos)
            if node.kind == "matrix":
                self._note(f"‖{self._src(node)}‖ of a matrix is the Frobenius norm (the square root of the sum of "
                           "the squared entries)")
            return self._mark(mx.Norm(node), _open.start_pos)
        if not _is_node(value):
            return super().absolute(_open, inner, _close)
        raise self._fail(f"|{self._src(value)}| of a vector or matrix", _open.start_pos,
                         f"write ‖{self._src(value)}‖ or norm({self._src(value)}) for its length, "
                         f"abs({self._src(value)}) for the absolute values of its entries")

    # functions -------------------------------------------------------------------------------
    def _apply(self, func: Token, args: list[Any], fpow: tuple[int, Token] | None) -> Any:
        name = func.value
        values = [_v(a) for a in args]
        matrix_name = name in MATRIX_ARGUMENT or name in ("norm", "dot", "diag", "hadamard")
        if not matrix_name and not any(_is_node(v) for v in values):
            return super()._apply(func, args, fpow)
        out = self._matrix_call(func, values)
        if fpow is not None and fpow[0] != 1:
            out = self._power(out, mx.Const(sp.Integer(fpow[0])), fpow[1])
        return self._mark(out, func.start_pos)

    def _matrix_call(self, func: Token, values: list[Any]) -> Node:  # noqa: C901, PLR0915  (one branch per function)
        name = func.value
        nodes = [self._node(v) for v in values]
        count = len(nodes)

        def need(k: int) -> None:
            if count != k:
                raise self._fail(f"{name}(…) takes {k} argument{'s' if k > 1 else ''}, got {count}", func.start_pos)

        def square(n: Node) -> None:
            if n.is_scalar and not mx._chain_piece(n):
                raise self._fail(f"{name}(…) takes a square matrix, not the number {self._src(n)}", func.start_pos,
                                 "declare the matrix's shape, as in --shape \"X: n×n\"")
            if not self.sizes.unify(n.shape[0], n.shape[1]):
                raise self._fail(f"{name}(…) takes a square matrix, and {self._src(n)} is {self._shape_full(n)}",
                                 func.start_pos)

        def vector(n: Node) -> None:
            if n.kind != "vector":
                raise self._fail(f"{name}(…) takes a vector here, not {self._src(n)} ({self._shape(n)})",
                                 func.start_pos)

        if name in ("det", "logdet"):
            need(1)
            square(nodes[0])
            d = mx.Det(nodes[0])
            return d if name == "det" else mx.emap(sp.log(mx.slot(0)), [d])
        if name == "tr":
            need(1)
            square(nodes[0])
            return mx.Trace(nodes[0])
        if name == "inv":
            need(1)
            square(nodes[0])
            return mx.inverse(nodes[0])
        if name == "norm":
            if count == 2 and isinstance(nodes[1], mx.Const) and nodes[1].value == 2:
                count = 1
            need(1)
            return self.absolute(Token("LBAR", "‖", func.start_pos), nodes[0], Token("RBAR", "‖", func.start_pos))
        if name == "dot":
            need(2)
            vector(nodes[0])
            vector(nodes[1])
            return self._dot(nodes[0], nodes[1], func.start_pos, f"dot({self._src(nodes[0])}, {self._src(nodes[1])})")
        if name == "hadamard":
            out = nodes[0]
            for n in nodes[1:]:
                out = self._product(out, n, "⊙", func.start_pos)
            return out
        if name == "diag":
            need(1)
            n = nodes[0]
            if n.kind in ("vector",):
                return mx.diag(n)
            square(n)
            return mx.diag(n)
        if name == "sum" and count == 1:
            return mx.Sum(nodes[0])
        if name == "softmax":
            need(1)
            vector(nodes[0])
            return mx.Softmax(nodes[0])
        if name == "cross_entropy":
            need(2)
            return self._cross_entropy(func, nodes[0], nodes[1])
        # a scalar function applied entry by entry (σ, relu, tanh, exp, log, … and any the registry adds)
        shape = [n for n in nodes if not (n.is_scalar and not mx._chain_piece(n))]
        for n in shape[1:]:
            rows = self.sizes.unify(n.shape[0], shape[0].shape[0])
            if not (rows and self.sizes.unify(n.shape[1], shape[0].shape[1])):
                raise self._fail(f"{name}(…) of arguments of different shapes ({self._shape(shape[0])} and "
                                 f"{self._shape(n)})", func.start_pos)
        slots = [mx.slot(i) for i in range(count)]
        body = super()._apply(func, slots, None)
        if shape:
            self._note(f"{name} of a vector or matrix is applied entry by entry", first=False)
        return mx.emap(body, nodes)

    def _cross_entropy(self, func: Token, p: Node, y: Node) -> Node:
        if isinstance(p, mx.Softmax):
            z = p.arg
            if y.is_scalar and not mx._chain_piece(y):
                raise self._fail("cross_entropy(softmax(z), k) with a class index is not available for vectors yet",
                                 func.start_pos, "write the labels as a one-hot vector y: cross_entropy(softmax(z), y)")
            if not self.sizes.unify(y.shape[0], z.shape[0]) or y.kind != "vector":
                raise self._fail(f"cross_entropy(softmax({self._src(z)}), {self._src(y)}): the labels need as many "
                                 f"entries as the logits ({self._shape(z)}), not {self._shape(y)}", func.start_pos)
            zs = self._src(z) if isinstance(z, mx.Var) else f"({self._src(z)})"
            self._note(f"cross_entropy(softmax(z), {self._src(y)}) with z = {self._src(z)} is ln Σₖ exp(zₖ) − "
                       f"{self._src(y)}ᵀz, which is −{self._src(y)}ᵀ ln softmax(z) for labels that sum to 1 "
                       "(one-hot or soft labels)")
            del zs
            return mx.SoftmaxCE(z, y)
        if p.kind != "vector" or y.kind != "vector":
            raise self._fail("cross_entropy(p, y) of vectors needs vectors p and y", func.start_pos)
        if not self.sizes.unify(p.shape[0], y.shape[0]):
            raise self._fail(f"cross_entropy({self._src(p)}, {self._src(y)}): p and y need the same length",
                             func.start_pos)
        self._note("cross_entropy(p, y) of vectors p that are not a softmax is the binary cross-entropy summed "
                   "over the entries: −Σᵢ yᵢ ln pᵢ + (1 − yᵢ) ln(1 − pᵢ) "
                   "(for a softmax write cross_entropy(softmax(z), y))")
        a, b = mx.slot(0), mx.slot(1)
        return mx.Sum(mx.emap(-(b * sp.log(a) + (1 - b) * sp.log(1 - a)), [p, y]))

    def call(self, func: Token, _open: Token, args: list[Any], _close: Token) -> Any:
        return self._apply(func, args, None)

    def _bare(self, func: Token, arg: Any, fpow: tuple[int, Token] | None) -> Any:
        value = _v(arg)
        if _is_node(value) or func.value in MATRIX_ARGUMENT or func.value in ("norm", "diag"):
            return self._apply(func, [value], fpow)
        return super()._bare(func, arg, fpow)

    # the end ---------------------------------------------------------------------------------
    def finish_matrix(self, result: Any) -> Node:
        try:
            value = _v(result)
            if isinstance(value, sp.Tuple):
                raise InputError("a list of expressions is not a matrix expression",
                                 suggestion="give one expression")
            node = value if isinstance(value, Node) else mx.Const(value)
            return node
        finally:
            self._ctx.__exit__(None, None, None)


def parse(text: str, shapes: str | Mapping[str, Any] | None = None, *,
          hints: Mapping[str, Any] | None = None, definitions: bool = True) -> MatrixParsed:
    """Read a vector/matrix expression with the given shapes (see the module docstring).

    >>> p = parse("‖W x + b - y‖²", "W: m×n, x: n")
    >>> str(p.expr), p.shapes["b"], p.notes[0]
    ('norm(W*x + b - y)**2', ('m', 1), 'b is read as a vector of m entries (it is added to W*x)')
    >>> parse("W x", "W: m×n, x: 3")
    Traceback (most recent call last):
    ...
    symgrad.errors.ParseError: W x: W is m×n but x has 3 entries
    """
    from symgrad.parsing import parse_full

    declared = declarations(shapes)
    notation = Notation(declared, declarations(hints) if hints else None)
    parsed = parse_full(text, definitions=definitions, notation=notation)
    builder = notation.builder_used
    assert builder is not None
    node: Node = parsed.expr
    return _resolve(parsed, node, builder, declared)


def _resolve(parsed: Any, node: Node, builder: MatrixBuilder, declared: Mapping[str, Declared]) -> MatrixParsed:
    """Bind every size: unified ones to what they met, free ones to a fresh size name (n, m, …)."""
    sizes = builder.sizes
    taken = {str(d) for dec in declared.values() for d in (dec.rows, dec.cols) if isinstance(d, str)}
    taken |= set(builder.scalar_names) | set(builder.vars)
    names: dict[int, str] = {}
    pool = [s for s in SIZE_NAMES if s not in taken] + [f"n{i}" for i in range(1, 50)]

    def resolve(d: Any) -> Dim:
        d = sizes.find(d)
        if isinstance(d, DimVar):
            if d.id not in names:
                names[d.id] = pool.pop(0)
                taken.add(names[d.id])
            return names[d.id]
        return d

    # bind in reading order, so x in xᵀAx gets n and A n×n
    for v in builder.vars.values():
        resolve(v.nrows)
        resolve(v.ncols)

    def fix(n: Node) -> Node | None:
        if isinstance(n, mx.Var):
            return mx.Var(n.name, resolve(n.nrows), resolve(n.ncols), n.declared, n.symmetric)
        if isinstance(n, mx.Identity):
            return mx.Identity(resolve(n.n))
        if isinstance(n, (mx.Zero, mx.Ones)):
            return type(n)(resolve(n.nrows), resolve(n.ncols))
        return None

    resolved = mx.transform(node, fix)
    shapes = {v.name: v.shape for v in resolved.variables()}
    symmetric = frozenset(v.name for v in resolved.variables() if v.symmetric)
    notes = []
    for name, kind, why in builder.shape_notes:
        if name not in shapes:
            continue
        r, c = shapes[name]
        what = f"a vector of {r} entries" if kind == "vector" else f"a {r}×{c} matrix"
        notes.append(f"{name} is read as {what} ({why})")
    for v in resolved.variables():
        dec = declared.get(v.name)
        if v.name in builder.inferred or dec is None:
            continue
        if dec.rows is None or (dec.kind == "matrix" and dec.cols is None):
            r, c = v.shape
            cols = "" if c == 1 and v.declared != "matrix" else f"×{c}"
            notes.append(f"{v.name}'s size is inferred from its use: {r}{cols}")
    if any(v.declared == "matrix" or v.kind != "scalar" for v in resolved.variables()):
        for name in sorted(builder.scalar_names):
            if len(name) == 1 and name.isupper() and name not in declared:
                notes.append(f"{name} is read as a number (a scalar); declare its shape "
                             f"(--shape \"{name}: n×n\") if it is a matrix")
    return MatrixParsed(text=parsed.text, expr=resolved, shapes=shapes, notes=tuple(notes) + tuple(parsed.notes),
                        symmetric=symmetric, defines=parsed.defines, variables=parsed.variables,
                        order=tuple(builder.order))


_MATRIX_ONLY_FUNCTIONS = frozenset({"det", "tr", "diag", "norm", "dot", "logdet", "inv", "hadamard"})


def uses_matrix_notation(text: str) -> bool:
    """Does ``text`` use notation only vectors and matrices have: a transpose (``xᵀ``, ``x^T``,
    ``x'``), ``@``, ``⊙``/``.*``, ``./``, ``.^``, ``‖x‖``, det, tr, diag, norm, dot, logdet or inv?
    The commands read such input as vectors and matrices without ``--shape`` (shapes inferred
    from use, each noted); anything else stays scalar, exactly as before.

    >>> uses_matrix_notation("x^T A x"), uses_matrix_notation("‖x‖²"), uses_matrix_notation("x^2 + y")
    (True, True, False)
    >>> uses_matrix_notation("y' + y")  # a derivative or a transpose: scalar unless --shape says
    False
    """
    from symgrad.parsing import MAX_INPUT_LENGTH, MAX_NESTING
    from symgrad.parsing.lexer import Scanner

    if not isinstance(text, str) or len(text) > MAX_INPUT_LENGTH:
        return False
    try:
        tokens = list(Scanner(text, MAX_NESTING, 0, matrix=True).tokens())
    except ParseError:
        return False  # the scalar reading says what is wrong
    for tok, nxt in zip(tokens, [*tokens[1:], None]):
        # y' may be a derivative as well as a transpose: only --shape makes it a transpose
        primed = tok.type == "SUP" and text[tok.start_pos] in "'′’ʹ"
        if (tok.type == "SUP" and tok.value in ("T", "-T") and not primed) or tok.value in ("@", "⊙", "‖", "./", ".^"):
            return True
        # det X, tr(A X): applied (tr alone stays a variable named tr)
        if tok.type == "FUNC" and tok.value in _MATRIX_ONLY_FUNCTIONS and nxt is not None and nxt.type in (
                "LPAR", "NAME", "FUNC", "LBAR"):
            return True
    return False

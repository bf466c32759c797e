"""Shapes: what a name is (scalar, vector, matrix), its sizes, and how sizes are matched.

Stage: vocabulary of the matrix layer (``symgrad.matrix``), used by the notation builder and every
later stage. A shape declaration is the text of ``--shape`` (and of the API's ``shapes=``):

- ``"x: n, A: n×n, W: m×n, b: m"``: a vector of n entries, an n×n matrix, … (``x`` or ``*`` also
  separate the sizes: ``m x n``, ``3*2``; sizes are whole numbers or names);
- ``x: vector``, ``A: matrix``: the sizes are left to inference (``xᵀAx`` makes A n×n);
- ``A: symmetric`` or ``S: n×n symmetric``: a symmetric matrix (Aᵀ = A is used by the steps);
- ``x, y: n``: several names of one shape; ``c: scalar``: a number (the default for any name).

Sizes are matched by unification (``Sizes``): an undeclared size is a variable that the first
product or sum binds; two different declared sizes (m and n, or n and 3) never match, and the
mismatch is bad input with a caret at the operation ("W x: W is m×n but x has 3 entries").

To add a kind of declaration: extend ``_kind`` and ``Declared``.

>>> d = declarations("x: n, A: n×n, W: m×n, b: m, S: symmetric")
>>> d["W"], d["x"].kind, d["S"].symmetric
(Declared(kind='matrix', rows='m', cols='n', symmetric=False), 'vector', True)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from symgrad.errors import InputError
from symgrad.records import record

Dim = int | str
"""A resolved size: a whole number, or the name of a size (``"n"``)."""

MAX_SIZE = 10_000
"""Largest numeric size in a declaration (a 10 000×10 000 matrix is 10⁸ numbers)."""

_SIZE = r"(?:[0-9]+|[A-Za-z][A-Za-z0-9_]*)"
_BY = r"\s*(?:×|x|X|\*)\s*"
_MATRIX = re.compile(rf"\s*({_SIZE}){_BY}({_SIZE})\s*")
_ONE = re.compile(rf"\s*({_SIZE})\s*")
_WORDS = {"vector": "vector", "vec": "vector", "matrix": "matrix", "mat": "matrix", "scalar": "scalar",
          "number": "scalar", "symmetric": "symmetric", "sym": "symmetric", "square": "square"}


@record
class Declared:
    """A declared shape: ``kind`` is scalar, vector or matrix; sizes may be None (to infer)."""

    kind: str
    rows: Dim | None = None
    cols: Dim | None = None
    symmetric: bool = False


class DimVar:
    """An undeclared size, bound by unification (``Sizes``); ``hint`` is the name it prefers."""

    __slots__ = ("hint", "id")

    def __init__(self, id: int, hint: str = "") -> None:
        self.id = id
        self.hint = hint

    def __repr__(self) -> str:
        return f"?{self.hint or self.id}"


AnyDim = int | str | DimVar


class Sizes:
    """Unification of sizes: declared sizes (numbers, names) are fixed; ``DimVar``s bind to them.

    >>> s = Sizes()
    >>> a, b = s.fresh(), s.fresh()
    >>> s.unify(a, b), s.unify(b, 3), s.find(a)
    (True, True, 3)
    >>> s.unify("n", 3), s.unify("n", "n")
    (False, True)
    """

    def __init__(self) -> None:
        self._parent: dict[int, AnyDim] = {}
        self._count = 0

    def fresh(self, hint: str = "") -> DimVar:
        self._count += 1
        return DimVar(self._count, hint)

    def find(self, d: AnyDim) -> AnyDim:
        while isinstance(d, DimVar) and d.id in self._parent:
            d = self._parent[d.id]
        return d

    def unify(self, a: AnyDim, b: AnyDim) -> bool:
        a, b = self.find(a), self.find(b)
        if isinstance(a, DimVar):
            if not (isinstance(b, DimVar) and b.id == a.id):
                self._parent[a.id] = b
            return True
        if isinstance(b, DimVar):
            self._parent[b.id] = a
            return True
        return a == b


def dim_text(d: AnyDim) -> str:
    """A size as people write it: 3, n, or ``?`` for one not known yet."""
    return "?" if isinstance(d, DimVar) else str(d)


def shape_text(rows: AnyDim, cols: AnyDim, kind: str = "") -> str:
    """``m×n`` for a matrix, ``n entries`` for a vector, ``a number`` for a scalar.

    >>> shape_text("m", "n"), shape_text(3, 1, "vector"), shape_text(1, 1, "scalar")
    ('m×n', '3 entries', 'a number')
    """
    if kind == "scalar":
        return "a number"
    if kind == "vector" or (cols == 1 and kind != "matrix"):
        return f"{dim_text(rows)} entr{'y' if rows == 1 else 'ies'}"
    return f"{dim_text(rows)}×{dim_text(cols)}"


def _size(text: str, where: str) -> Dim:
    if text.isdigit():
        value = int(text)
        if not 1 <= value <= MAX_SIZE:
            raise InputError(f"the size {text} in the shape of {where} must be between 1 and {MAX_SIZE:,}",
                             suggestion="give sizes as whole numbers such as 3, or names such as n")
        return value
    if text in _WORDS:
        raise InputError(f"'{text}' in the shape of {where} is a kind, not a size",
                         suggestion=f"write {where}: {text} alone, or sizes such as {where}: n×n")
    return text


def _kind(spec: str, where: str) -> Declared:
    """One shape spec: ``n``, ``m×n``, ``vector``, ``matrix``, ``symmetric``, ``n×n symmetric``."""
    words = spec.split()
    symmetric = False
    square = False
    rest = []
    for w in words:
        if w.lower() in ("symmetric", "sym"):
            symmetric = True
        elif w.lower() == "square":
            square = True
        else:
            rest.append(w)
    text = " ".join(rest)
    if not text:
        if symmetric or square:
            return Declared("matrix", None, None, symmetric)
        raise InputError(f"the shape of {where} is empty", suggestion=f"write {where}: n (a vector) or {where}: m×n")
    word = _WORDS.get(text.lower())
    if word is not None:
        if word == "scalar":
            if symmetric or square:
                raise InputError(f"{where} cannot be both a scalar and a symmetric matrix")
            return Declared("scalar")
        return Declared(word, None, None, symmetric)
    m = _MATRIX.fullmatch(text)
    if m is not None:
        rows, cols = _size(m.group(1), where), _size(m.group(2), where)
        if (symmetric or square) and rows != cols:
            raise InputError(f"{where} is declared symmetric but its shape {rows}×{cols} is not square",
                             suggestion=f"write {where}: n×n symmetric")
        return Declared("matrix", rows, cols, symmetric)
    m = _ONE.fullmatch(text)
    if m is not None:
        size = _size(m.group(1), where)
        if symmetric or square:
            return Declared("matrix", size, size, symmetric)
        return Declared("vector", size, 1)
    raise InputError(f"cannot read the shape '{spec.strip()}' of {where}",
                     suggestion="write sizes as n, m×n or 3×2, or a kind: vector, matrix, symmetric, scalar")


def _name(text: str) -> str:
    """The canonical symbol name of a declared name (θ₁ -> theta1), as the parser names it."""
    from symgrad.parsing.lexer import Scanner

    piece = text.strip()
    try:
        tokens = list(Scanner(piece, 1).tokens())
    except InputError:
        tokens = []
    if len(tokens) != 1 or tokens[0].type != "NAME":
        raise InputError(f"'{piece}' in a shape declaration is not a variable name",
                         suggestion="declare names as in \"x: n, A: n×n\"")
    return str(tokens[0].value)


def declarations(text: str | Mapping[str, object] | None) -> dict[str, Declared]:
    """Read a shape declaration (see the module docstring); a mapping ``{"x": "n", "A": (3, 3)}`` works too.

    >>> declarations("x, y: 3; A: 3 x 3")["y"]
    Declared(kind='vector', rows=3, cols=1, symmetric=False)
    >>> declarations({"W": (2, 3), "b": 2, "S": "symmetric"})["W"]
    Declared(kind='matrix', rows=2, cols=3, symmetric=False)
    """
    if text is None:
        return {}
    if isinstance(text, Mapping):
        out: dict[str, Declared] = {}
        for key, value in text.items():
            name = _name(str(key))
            if isinstance(value, Declared):
                out[name] = value
            elif isinstance(value, tuple) and len(value) == 2:
                out[name] = _kind(f"{value[0]}×{value[1]}", name)
            else:
                out[name] = _kind(str(value), name)
        return out
    if not isinstance(text, str):
        raise InputError(f"shapes must be text such as \"x: n, A: n×n\", not {type(text).__name__}")
    out = {}
    pending: list[str] = []
    for item in re.split(r"[;,]", text):
        if not item.strip():
            continue
        if ":" not in item:
            # "x, y: n": names before the colon share its shape; "A: m, n" is a size list (refused below)
            if pending or re.fullmatch(r"\s*[^\W\d][\w₀-₉]*\s*", item):
                pending.append(item)
                continue
            raise InputError(f"cannot read '{item.strip()}' in the shape declaration",
                             suggestion="write name: shape pairs, as in \"x: n, A: n×n\" (× between the sizes)")
        names, _, spec = item.partition(":")
        for raw in pending + [names]:
            name = _name(raw)
            if name in out:
                raise InputError(f"the shape of {name} is declared twice")
            out[name] = _kind(spec, name)
        pending = []
    if pending:
        raise InputError(f"'{pending[-1].strip()}' has no shape in the declaration",
                         suggestion="write name: shape, as in \"x: n\"")
    return out

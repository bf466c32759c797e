"""The Jacobian of a vector function: one row per component, one column per variable.

Stage: expression -> result (many variables). The input is a comma-separated list
(``"x^2 y, sin(x) + y"``, which the grammar reads as a SymPy ``Tuple``), a vector function such
as ``softmax(a1, a2, a3)``, or a sequence of expressions. Each component is differentiated only by
the variables it contains (``hessian.partial``); the rest of its row is zero. To add a vector
function to the grammar, make it build a ``Tuple`` of components: the Jacobian follows.

>>> jacobian("x^2 y, sin(x) + y").matrix
((2*x*y, x**2), (cos(x), 1))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sympy as sp

from symgrad.budget import check
from symgrad.differentiate import tidy
from symgrad.errors import InputError
from symgrad.evaluate import Value, evaluate
from symgrad.expressions import VarLike, resolve_variables
from symgrad.multivar.hessian import away_from_jumps, jumps_at, outside_domain, partial
from symgrad.records import record
from symgrad.vocabulary.symbols import natural_key


@record
class JacobianEntry:
    """∂fᵢ/∂xⱼ for a component that contains xⱼ; ``derivation`` holds its steps when asked for."""

    row: int
    col: int
    expr: sp.Expr
    derivation: object | None = None
    jumps: tuple[sp.Expr, ...] = ()
    """Where the entry does not hold: the arguments u of jumps (sign(u), H(u)) whose δ(u) terms,
    0 wherever u ≠ 0, are left out (``hessian.away_from_jumps``)."""


@record
class Jacobian:
    """The Jacobian of ``components`` in ``variables``; ``entries`` lists the entries that can be nonzero."""

    components: tuple[sp.Expr, ...]
    variables: tuple[sp.Symbol, ...]
    entries: tuple[JacobianEntry, ...]

    @property
    def matrix(self) -> tuple[tuple[sp.Expr, ...], ...]:
        """All m×n entries (zero where a component does not contain the variable)."""
        rows = [[sp.S.Zero] * len(self.variables) for _ in self.components]
        for entry in self.entries:
            rows[entry.row][entry.col] = entry.expr
        return tuple(tuple(r) for r in rows)

    @property
    def jumps(self) -> tuple[tuple[tuple[sp.Expr, ...], ...], ...]:
        """``JacobianEntry.jumps`` of every entry, as a matrix (empty tuples for the others)."""
        rows = [[()] * len(self.variables) for _ in self.components]
        for entry in self.entries:
            rows[entry.row][entry.col] = entry.jumps
        return tuple(tuple(r) for r in rows)

    @property
    def jump_note(self) -> str | None:
        """The note that says where entries do not hold, if anywhere."""
        found = sorted({u for e in self.entries for u in e.jumps}, key=str)
        if not found:
            return None
        from symgrad.printing.oneline import oneline

        where = " and ".join(f"{oneline(u)} ≠ 0" for u in found)
        return (f"these derivatives hold where {where}: where one is 0 a component jumps or has a kink, and its "
                "derivative may not exist (SymPy's δ terms, 0 everywhere else, are left out)")

    def to_matrix(self) -> sp.ImmutableMatrix:
        """The Jacobian as a SymPy matrix.

        >>> jacobian("x y, x + y").to_matrix()
        Matrix([
        [y, x],
        [1, 1]])
        """
        return sp.ImmutableMatrix(self.matrix)


def components_of(expr: str | sp.Basic | Sequence[str | sp.Basic]) -> tuple[sp.Expr, ...]:
    """The components of a vector function given as text, a ``Tuple``, or a sequence.

    >>> components_of("x + y, x y")
    (x + y, x*y)
    """
    from symgrad.parsing import parse

    if isinstance(expr, str):
        expr = parse(expr)
    if isinstance(expr, (sp.Tuple, list, tuple)):
        items = [parse(e) if isinstance(e, str) else e for e in expr]
    else:
        items = [expr]
    for item in items:
        if isinstance(item, sp.Tuple):
            raise InputError("a component of the vector function is itself a list",
                             suggestion="give the components as one flat comma-separated list")
    return tuple(items)


def jacobian(expr: str | sp.Basic | Sequence[str | sp.Basic], wrt: Iterable[VarLike] | str | None = None,
             *, steps: bool = False) -> Jacobian:
    """The Jacobian matrix ∂fᵢ/∂xⱼ (default variables: all, in natural order).

    >>> jacobian("r cos(t), r sin(t)", wrt="r,t").matrix
    ((cos(t), -r*sin(t)), (sin(t), r*cos(t)))
    """
    comps = components_of(expr)
    together = sp.Tuple(*comps)
    if wrt is None:
        variables = tuple(sorted((s for s in together.free_symbols if isinstance(s, sp.Symbol)), key=natural_key))
    else:
        variables = tuple(resolve_variables(wrt, together))
    if not variables:
        raise InputError("the functions have no variables to differentiate by")
    entries = []
    for i, comp in enumerate(comps):
        check("the Jacobian")
        for j, var in enumerate(variables):
            if not comp.has_free(var):
                continue
            d, where = away_from_jumps(tidy(partial(comp, var)))
            if d == 0 and not where:
                continue
            derivation = None
            if steps:
                from symgrad.multivar.steps import derive_or_none

                derivation = derive_or_none(comp, var)
            entries.append(JacobianEntry(i, j, d, derivation, where))
    return Jacobian(comps, variables, tuple(entries))


def numeric_matrix(matrix: Sequence[Sequence[sp.Expr]], point: Mapping[sp.Symbol, sp.Expr],
                   labels: Sequence[Sequence[str]] | None = None,
                   jumps: Sequence[Sequence[Sequence[sp.Expr]]] | None = None,
                   components: Sequence[sp.Expr] | None = None,
                   ) -> tuple[tuple[tuple[float | None, ...], ...], str | None]:
    """Each entry of ``matrix`` at ``point`` (None where undefined) and the notes saying why;
    ``jumps`` (``Jacobian.jumps``): where each entry does not hold; ``components``: the function of
    each row, whose row has no value where the function itself has none (ln x at x = −1).

    >>> x = sp.Symbol("x", real=True)
    >>> numeric_matrix([[x, 1 / x]], {x: 0})
    (((0.0, None),), 'the (1, 2) entry is undefined at x=0 (division by zero or a pole)')
    """
    rows: list[tuple[float | None, ...]] = []
    notes = []
    for i, row in enumerate(matrix):
        outside = outside_domain(components[i], point) if components is not None else None
        if outside:
            at = ", ".join(f"{k}={v}" for k, v in point.items())
            rows.append((None,) * len(row))
            because = outside.replace("the function", f"f{i + 1}", 1)
            notes.append(f"row {i + 1} does not exist at {at}, because {because}")
            continue
        out: list[float | None] = []
        for j, entry in enumerate(row):
            check("evaluating the matrix")
            label = labels[i][j] if labels else f"the ({i + 1}, {j + 1}) entry"
            on_jump = jumps_at(jumps[i][j], point) if jumps else []
            if on_jump:
                from symgrad.printing.oneline import oneline

                at = ", ".join(f"{k}={v}" for k, v in point.items())
                out.append(None)
                notes.append(f"{label} is not evaluated at {at}: its component jumps or has a kink where "
                             f"{oneline(on_jump[0])} = 0, and the derivative may not exist there")
                continue
            local = {s: point[s] for s in entry.free_symbols if s in point}
            value: Value = evaluate(entry, local if len(local) == len(entry.free_symbols) else point, what=label,
                                    where=point)
            out.append(value.value)
            if value.note:
                notes.append(value.note)
        rows.append(tuple(out))
    return tuple(rows), ("; ".join(notes) if notes else None)

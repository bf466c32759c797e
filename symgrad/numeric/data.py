"""Data for summation losses: ``sum((y_i - (w x_i + b))^2, i, 1, n)`` with x and y from a CSV file.

Stage: numbers. ``read_csv`` reads the columns (a header row names them, as the loss spells its
indexed variables); ``bind`` turns a loss with ``Sum`` nodes over ``Indexed`` objects into an
objective for ``descend``: each sum's summand is compiled once (NumPy, vectorised over the rows),
the rest of the loss once (plain floats, with one placeholder per sum), and the chain rule joins
them: ∂L/∂θ = ∂L/∂θ (outside the sums) + Σₖ ∂L/∂Sₖ · Σᵢ ∂sₖ(i)/∂θ.

Batches: with ``batch_size`` B each step uses B rows — the rows are shuffled once per pass through
the data with ``seed`` (numpy's default generator) and taken in order, the last batch of a pass
possibly smaller, like ``torch.utils.data.DataLoader(shuffle=True)``. Without it, every step uses
all rows (full-batch descent). The upper bound ``n`` of a sum is the number of rows in the batch,
so ``(1/n)·Σ`` is the mean over the batch, as PyTorch's mean-reduced losses are.

To support another kind of data term (a double sum, an index shift x_{i+1}), extend ``_sums``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from symgrad.records import field, record
from pathlib import Path
from typing import Any

import sympy as sp

from symgrad.errors import InputError, Unsupported

MAX_ROWS = 10_000_000
"""Rows read from one file; more would not fit the time budget anyway."""


@record
class Table:
    """Columns of numbers by name, all of the same length."""

    columns: dict[str, Any]
    rows: int
    source: str = "data"


def read_csv(path: str | Path, needed: Sequence[str] | None = None) -> Table:
    """Read a CSV file with a header row; only the ``needed`` columns must be numbers.

    Header names are read like variable names (``θ`` and ``theta`` are the same column).
    """
    import numpy as np

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"no such data file: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the data file {p}: {exc}") from None
    reader = csv.reader(text.splitlines())
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"the data file {p} is empty", suggestion="its first line names the columns, e.g. x,y") from None
    names = [_column_name(h) for h in header]
    wanted = list(needed) if needed is not None else [n for n in names if n]
    for name in wanted:
        if name not in names:
            shown = ", ".join(h.strip() for h in header)
            raise InputError(f"the data file {p.name} has no column '{name}' (its columns: {shown})",
                             suggestion=f"name a column {name} in the header line")
    index = {name: names.index(name) for name in wanted}
    values: dict[str, list[float]] = {name: [] for name in wanted}
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if wanted and len(values[wanted[0]]) >= MAX_ROWS:
            raise InputError(f"the data file has more than {MAX_ROWS:,} rows")
        for name, col in index.items():
            cell = row[col].strip() if col < len(row) else ""
            try:
                number = float(cell)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise InputError(f"{p.name} line {line_no}, column {name}: '{cell}' is not a finite number")
            values[name].append(number)
    rows = len(next(iter(values.values()))) if values else 0
    if rows == 0:
        raise InputError(f"the data file {p.name} has no rows of data")
    return Table({k: np.asarray(v, dtype=float) for k, v in values.items()}, rows, p.name)


def _column_name(header: str) -> str:
    from symgrad.errors import ParseError
    from symgrad.parsing import parse

    text = header.strip()
    if not text:
        return ""
    try:
        sym = parse(text)
    except ParseError:
        return text
    return sym.name if isinstance(sym, sp.Symbol) else text


# the loss -------------------------------------------------------------------------------------
@record
class _SumTerm:
    placeholder: sp.Dummy
    summand: sp.Expr  # with each x[i] replaced by the column's placeholder
    lower: int
    upper: sp.Basic  # a number, or the symbol bound to the batch size


@record
class DataLoss:
    """A summation loss split into its sums and the rest (see the module docstring)."""

    expr: sp.Expr
    parameters: tuple[sp.Symbol, ...]
    columns: tuple[str, ...]
    terms: tuple[_SumTerm, ...]
    outer: sp.Expr
    size_symbols: tuple[sp.Symbol, ...]
    column_symbols: dict[str, sp.Dummy] = field(default_factory=dict)


def has_data(expr: sp.Basic) -> bool:
    """Does the expression sum over data (a ``Sum`` or an ``Indexed`` variable)?"""
    return bool(expr.has(sp.Sum) or expr.has(sp.Indexed))


def split(expr: sp.Expr, wrt: Sequence[object] | str | None = None) -> DataLoss:
    """Find the sums, their indexed columns and the parameters of a summation loss."""
    from symgrad import calculus

    column_symbols: dict[str, sp.Dummy] = {}
    terms: list[_SumTerm] = []
    replacements: dict[sp.Basic, sp.Basic] = {}
    size_symbols: set[sp.Symbol] = set()
    for k, s in enumerate(sorted(expr.atoms(sp.Sum), key=sp.default_sort_key), 1):
        if len(s.limits) != 1:
            raise Unsupported("only single sums over data are supported", suggestion="write one sum per index")
        index, lower, upper = s.limits[0]
        if not lower.is_Integer:
            raise Unsupported(f"the lower bound of a sum over data must be a whole number, not {lower}")
        if upper.is_Symbol:
            size_symbols.add(upper)
            if lower != 1:
                raise Unsupported("a sum up to n over data must start at 1")
        elif not upper.is_Integer:
            raise Unsupported(f"the upper bound of a sum over data must be n or a whole number, not {upper}")
        if s.function.has(sp.Sum):
            raise Unsupported("sums inside sums over data are not supported yet")
        summand = s.function
        for ind in summand.atoms(sp.Indexed):
            if tuple(ind.indices) != (index,):
                raise Unsupported(f"{ind} is not indexed by the sum's index {index} alone",
                                  suggestion=f"write the data term as {ind.base}_{index}")
            name = str(ind.base.label)
            column_symbols.setdefault(name, sp.Dummy(name, real=True))
        summand = summand.replace(lambda e: isinstance(e, sp.Indexed),
                                  lambda e: column_symbols[str(e.base.label)])
        if index in summand.free_symbols:
            raise Unsupported(f"the sum's index {index} appears outside the data terms")
        placeholder = sp.Dummy(f"sum{k}", real=True)
        terms.append(_SumTerm(placeholder, summand, int(lower), upper))
        replacements[s] = placeholder
    outer = expr.xreplace(replacements)
    if outer.has(sp.Indexed):
        raise Unsupported("indexed variables must stand inside a sum over the data")
    free = set(outer.free_symbols) | set().union(*(t.summand.free_symbols for t in terms))
    free -= {t.placeholder for t in terms} | set(column_symbols.values()) | size_symbols
    probe = sp.Add(*free) if free else sp.S.Zero
    parameters = tuple(calculus.resolve_variables(wrt, probe)) if free or wrt else ()
    rest = sorted((s for s in free if s not in parameters), key=calculus.natural_key)
    if rest:
        raise InputError(f"the loss also depends on {', '.join(map(str, rest))}, which is not among the variables",
                         suggestion=f"add {rest[0]} to --wrt")
    if not parameters:
        raise InputError("the loss has no parameters to fit")
    columns = tuple(sorted(column_symbols, key=lambda c: calculus.natural_key(sp.Symbol(c))))
    return DataLoss(expr, parameters, columns, tuple(terms), outer, tuple(size_symbols), column_symbols)


class DataObjective:
    """``value_and_grad(point, step)`` for ``descend``: the loss on step's batch (see the module docstring)."""

    def __init__(self, loss: DataLoss, table: Table, batch_size: int | None = None, seed: int | None = None) -> None:
        import numpy as np

        from symgrad.numeric import codegen
        from symgrad.numeric.compile import load

        self.loss = loss
        self.table = table
        self.rows_total = table.rows
        for term in loss.terms:
            needed = term.upper if term.upper.is_Integer else 0
            if needed > table.rows:
                raise InputError(f"the sum runs to {term.upper} but the data has {table.rows} rows")
        if batch_size is not None and batch_size < 1:
            raise InputError(f"the batch size must be at least 1, not {batch_size}")
        self.batch_size = None if batch_size is None or batch_size >= table.rows else int(batch_size)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._order: Any = None
        self._epoch = -1
        params = loss.parameters
        # one NumPy function per sum: its summand and the summand's gradient, over the rows
        self._summands = []
        for term in loss.terms:
            cols = tuple(loss.column_symbols[c] for c in loss.columns if loss.column_symbols[c] in term.summand.free_symbols)
            variables = (*cols, *params)
            names = tuple(codegen.safe_names(variables).values())
            gradient = [sp.diff(term.summand, p) for p in params]
            src = "import numpy as np\n\n\n" + codegen.function_source(
                "value_and_grad_f", term.summand, variables, "numpy", what="value_and_grad",
                names=names, gradient=gradient)
            fn = load(src, "data_sum")["value_and_grad_f"]
            self._summands.append((term, tuple(str(c.name) for c in cols), fn))
        # the rest of the loss, with one placeholder per sum and the batch size
        sums = tuple(t.placeholder for t in loss.terms)
        sizes = loss.size_symbols
        outer_vars = (*params, *sums, *sizes)
        outer_grad = [sp.diff(loss.outer, v) for v in (*params, *sums)]
        src = "import math\n\n\n" + codegen.function_source(
            "value_and_grad_f", loss.outer, outer_vars, "math", what="value_and_grad",
            names=tuple(codegen.safe_names(outer_vars).values()), gradient=outer_grad)
        self._outer = load(src, "data_outer")["value_and_grad_f"]

    def batch(self, step: int) -> Any:
        """The row indices used at ``step`` (all rows without a batch size)."""
        import numpy as np

        if self.batch_size is None:
            return slice(None)
        per_epoch = -(-self.rows_total // self.batch_size)
        epoch, k = divmod(step, per_epoch)
        while self._epoch < epoch:  # permutations are drawn in order, so a run is reproducible
            self._order = self._rng.permutation(self.rows_total)
            self._epoch += 1
        if epoch < self._epoch:
            raise RuntimeError("batches must be requested in order")
        return np.sort(self._order[k * self.batch_size:(k + 1) * self.batch_size])

    def evaluate(self, point: Sequence[float], rows: Any) -> tuple[float, tuple[float, ...]]:
        """The loss and its gradient at ``point`` using the rows ``rows``."""
        import numpy as np

        n_params = len(point)
        sums, sum_grads = [], []
        batch_rows = None
        for term, cols, fn in self._summands:
            lo = term.lower - 1
            hi = int(term.upper) if term.upper.is_Integer else self.rows_total
            if isinstance(rows, slice):
                chosen = np.arange(lo, hi)
            else:
                chosen = rows[(rows >= lo) & (rows < hi)]
            batch_rows = len(chosen) if batch_rows is None else batch_rows
            args = [self.table.columns[c][chosen] for c in cols]
            if not args:  # a summand without data terms still counts once per row
                args_shape = (len(chosen),)
                value, grad = fn(*point)
                sums.append(float(np.sum(np.broadcast_to(value, args_shape))))
                sum_grads.append([float(np.sum(np.broadcast_to(g, args_shape))) for g in grad])
                continue
            value, grad = fn(*args, *point)
            sums.append(float(np.sum(value)))
            sum_grads.append([float(v) for v in np.sum(grad, axis=-1)])
        size = [float(batch_rows if batch_rows is not None else self.rows_total)] * len(self.loss.size_symbols)
        value, outer_grad = self._outer(*point, *sums, *size)
        grad = list(outer_grad[:n_params])
        for k, dsum in enumerate(sum_grads):
            weight = outer_grad[n_params + k]
            for j in range(n_params):
                grad[j] += weight * dsum[j]
        return float(value), tuple(grad)

    def __call__(self, point: tuple[float, ...], step: int) -> tuple[float, tuple[float, ...]]:
        return self.evaluate(point, self.batch(step))

    def full_value(self, point: Sequence[float]) -> float:
        """The loss over all the data (what plots draw)."""
        return self.evaluate(point, slice(None))[0]


def bind(
    expr: sp.Expr,
    table: Table,
    wrt: Sequence[object] | str | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
) -> DataObjective:
    """The objective of a summation loss on ``table``'s columns.

    >>> import sympy as sp, numpy as np
    >>> x, y = sp.IndexedBase("x"), sp.IndexedBase("y")
    >>> i, n = sp.Symbol("i", integer=True), sp.Symbol("n", integer=True)
    >>> w, b = sp.symbols("w b", real=True)
    >>> loss = sp.Sum((y[i] - (w * x[i] + b)) ** 2, (i, 1, n)) / n
    >>> table = Table({"x": np.array([0.0, 1.0, 2.0]), "y": np.array([1.0, 3.0, 5.0])}, 3)
    >>> objective = bind(loss, table)
    >>> objective.loss.parameters
    (b, w)
    >>> objective((1.0, 2.0), 0)   # y = 2x + 1 exactly: zero loss, zero gradient
    (0.0, (0.0, 0.0))
    """
    loss = split(expr, wrt)
    return DataObjective(loss, table, batch_size, seed)

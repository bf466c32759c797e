"""Data for summation losses: ``sum((y_i - (w x_i + b))^2, i, 1, n)`` with x and y from a CSV file.

Stage: numbers. ``read_csv`` reads the columns (a header row names them, as the loss spells its
indexed variables) as the ``csv`` module specifies (quoted fields may hold commas and newlines),
streaming into compact arrays: a file over ``MAX_BYTES`` is refused before it is read, one with
more than ``MAX_ROWS`` rows as soon as the row after the limit is met. ``bind`` turns a loss with
``Sum`` nodes over ``Indexed`` objects into an objective for ``descend``: each sum's summand is
compiled once (NumPy, vectorised over the rows), the rest of the loss once (plain floats, with one
placeholder per sum), and the chain rule joins them: ∂L/∂θ = ∂L/∂θ (outside the sums) +
Σₖ ∂L/∂Sₖ · Σᵢ ∂sₖ(i)/∂θ.

Rows are numbered from 1, as the sums write them: ``sum(x_i, i, 1, 3)`` uses rows 1 to 3 and a
sum up to ``n`` runs over all rows (of the batch); a bound outside 1 … rows is refused. The index
may appear in the summand itself (``sum(i x_i w, i, 1, n)``: i is the row number). A sum that
uses no data (``sum(i w^2, i, 1, 3)``) runs over its index range, with no file needed.

Batches: with ``batch_size`` B each step uses B rows — the rows are shuffled once per pass through
the data with ``seed`` (numpy's default generator) and taken in order, the last batch of a pass
possibly smaller, like ``torch.utils.data.DataLoader(shuffle=True)``. Without it, every step uses
all rows (full-batch descent). The upper bound ``n`` of a sum is the number of rows in the batch,
so ``(1/n)·Σ`` is the mean over the batch, as PyTorch's mean-reduced losses are.

Where the loss has no value (a log or root of data outside its domain, an overflow) the objective
raises ``objective.Undefined`` naming the data row; so does a periodic function whose argument is
too large for any digit of it to mean anything (``objective.PeriodicGuard``).

To support another kind of data term (a double sum, an index shift x_{i+1}), extend ``split``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sympy as sp

from symgrad.errors import InputError, Unsupported
from symgrad.records import field, record
from symgrad.vocabulary.symbols import natural_key

MAX_ROWS = 10_000_000
"""Rows read from one file; more would not fit the time budget anyway."""

MAX_BYTES = 512 * 1024**2
"""Bytes of one data file: a larger file is refused before it is read."""

MAX_RANGE = MAX_ROWS
"""Terms of a sum over an index range without data (``sum(i w^2, i, 1, 3)``)."""


@record
class Table:
    """Columns of numbers by name, all of the same length."""

    columns: dict[str, Any]
    rows: int
    source: str = "data"


def read_csv(path: str | Path, needed: Sequence[str] | None = None) -> Table:
    """Read a CSV file with a header row; only the ``needed`` columns must be numbers.

    Header names are read like variable names (``θ`` and ``theta`` are the same column). Blank
    lines are skipped; every other line is a data row, numbered from 1 after the header.
    """
    import array

    import numpy as np

    from symgrad import budget

    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise InputError(f"no such data file: {p}") from None
    except OSError as exc:
        raise InputError(f"cannot read the data file {p}: {exc.strerror or exc}") from None
    if p.is_dir():
        raise InputError(f"the data file {p} is a folder", suggestion="give a CSV file")
    if size > MAX_BYTES:
        raise InputError(f"the data file {p.name} is {size / 1024**2:,.0f} MB, more than the limit of "
                         f"{MAX_BYTES // 1024**2:,} MB", suggestion="use a sample of the rows")
    values: dict[str, Any] = {}
    line = 1
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            try:
                header = next(reader)
            except StopIteration:
                raise InputError(f"the data file {p.name} is empty",
                                 suggestion="its first line names the columns, e.g. x,y") from None
            index = _columns(p, header, needed)
            values = {name: array.array("d") for name in index}
            rows = 0
            line = reader.line_num + 1
            for row in reader:
                first, line = line, reader.line_num + 1  # a quoted field may span lines
                if not row or all(not c.strip() for c in row):
                    continue
                rows += 1
                if rows > MAX_ROWS:
                    raise InputError(f"the data file {p.name} has more than {MAX_ROWS:,} rows",
                                     suggestion="use a sample of the rows")
                for name, col in index.items():
                    values[name].append(_cell(p, row, col, name, rows, first))
                if rows & 0xFFFF == 0:
                    budget.check("reading the data")
    except csv.Error as exc:
        raise InputError(f"{p.name} line {line} is not valid CSV: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"the data file {p.name} is not UTF-8 text (near line {line}: {exc.reason})",
                         suggestion="save it as UTF-8 CSV") from None
    except OSError as exc:
        raise InputError(f"cannot read the data file {p}: {exc.strerror or exc}") from None
    if rows == 0:
        raise InputError(f"the data file {p.name} has no rows of data, only its header line")
    return Table({k: np.frombuffer(v, dtype=float) for k, v in values.items()}, rows, p.name)


def _columns(p: Path, header: list[str], needed: Sequence[str] | None) -> dict[str, int]:
    """The position of each needed column in the header."""
    names = [_column_name(h) for h in header]
    wanted = list(needed) if needed is not None else [n for n in names if n]
    shown = ", ".join(h.strip() for h in header)
    index = {}
    for name in wanted:
        if name not in names:
            raise InputError(f"the data file {p.name} has no column '{name}' (its columns: {shown})",
                             suggestion=f"name a column {name} in the header line")
        if names.count(name) > 1:
            raise InputError(f"the data file {p.name} has two columns named '{name}' (its columns: {shown})",
                             suggestion="give each column its own name")
        index[name] = names.index(name)
    return index


def _cell(p: Path, row: list[str], col: int, name: str, number: int, line: int) -> float:
    """The number in one cell, or an error naming its row, line and column."""
    where = f"{p.name} row {number} (line {line}), column {name}"
    if col >= len(row):
        raise InputError(f"{where}: the row has no value there (it has {len(row)} field{'s' * (len(row) != 1)})")
    cell = row[col].strip()
    try:
        value = float(cell)
    except ValueError:
        raise InputError(f"{where}: {_shown(cell)} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: {_shown(cell)} is not a finite number")
    return value


def _shown(cell: str, limit: int = 40) -> str:
    text = repr(cell) if cell else "an empty cell"
    return text if len(text) <= limit else text[: limit - 2] + "…'"


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
    summand: sp.Expr  # each x[i] replaced by the column's placeholder, the index by ``index``
    lower: int
    upper: sp.Basic  # a number, or the symbol bound to the batch size
    written: sp.Basic  # the sum as the loss writes it (for messages)
    columns: tuple[str, ...] = ()  # the data columns the summand uses
    index: sp.Dummy | None = None  # the index, when the summand uses it outside x[i]

    @property
    def over_rows(self) -> bool:
        """Does the sum run over data rows (it uses data, or runs to n), not just an index range?"""
        return bool(self.columns) or not self.upper.is_Integer


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
    """Does the expression sum over data or an index range (a ``Sum`` or an ``Indexed`` variable)?"""
    return bool(expr.has(sp.Sum) or expr.has(sp.Indexed))


def _sum_text(s: sp.Basic) -> str:
    from symgrad.printing.oneline import oneline

    (index, lower, upper), = s.limits
    return f"sum({oneline(s.function)}, {index}, {oneline(lower)}, {oneline(upper)})"


def split(expr: sp.Expr, wrt: Sequence[object] | str | None = None) -> DataLoss:
    """Find the sums, their indexed columns and the parameters of a summation loss.

    >>> from symgrad.parsing import parse
    >>> split(parse("sum(x_i, i, 0, 2) w"))
    Traceback (most recent call last):
    ...
    symgrad.errors.InputError: data rows are numbered from 1, so sum(xᵢ, i, 0, 2) would use a row 0 that does not exist
    """
    from symgrad.expressions import resolve_variables

    column_symbols: dict[str, sp.Dummy] = {}
    terms: list[_SumTerm] = []
    replacements: dict[sp.Basic, sp.Basic] = {}
    size_symbols: set[sp.Symbol] = set()
    for k, s in enumerate(sorted(expr.atoms(sp.Sum), key=sp.default_sort_key), 1):
        if len(s.limits) != 1:
            raise Unsupported("only single sums over data are supported", suggestion="write one sum per index")
        index, lower, upper = s.limits[0]
        text = _sum_text(s)
        if s.function.has(sp.Sum):
            raise Unsupported("sums inside sums over data are not supported yet")
        _check_bounds(text, index, lower, upper)
        if upper.is_Symbol:
            size_symbols.add(upper)
        summand = s.function
        columns: list[str] = []
        for ind in sorted(summand.atoms(sp.Indexed), key=sp.default_sort_key):
            if tuple(ind.indices) != (index,):
                raise Unsupported(f"{ind} is not indexed by the sum's index {index} alone",
                                  suggestion=f"write the data term as {ind.base}_{index}")
            name = str(ind.base.label)
            column_symbols.setdefault(name, sp.Dummy(name, real=True))
            if name not in columns:
                columns.append(name)
        summand = summand.replace(lambda e: isinstance(e, sp.Indexed),
                                  lambda e: column_symbols[str(e.base.label)])
        index_dummy = None
        if index in summand.free_symbols:  # the row number (or the index of a plain range) itself
            index_dummy = sp.Dummy(str(index), real=True)
            summand = summand.xreplace({index: index_dummy})
        term = _SumTerm(sp.Dummy(f"sum{k}", real=True), summand, int(lower), upper, s, tuple(columns), index_dummy)
        _check_range(term, text, index)
        terms.append(term)
        replacements[s] = term.placeholder
    outer = expr.xreplace(replacements)
    if outer.has(sp.Indexed):
        raise Unsupported("indexed variables must stand inside a sum over the data")
    free = set(outer.free_symbols) | set().union(*(t.summand.free_symbols for t in terms))
    free -= {t.placeholder for t in terms} | set(column_symbols.values()) | size_symbols
    free -= {t.index for t in terms if t.index is not None}
    probe = sp.Add(*free) if free else sp.S.Zero
    parameters = tuple(resolve_variables(wrt, probe)) if free or wrt else ()
    rest = sorted((s for s in free if s not in parameters), key=natural_key)
    if rest:
        raise InputError(f"the loss also depends on {', '.join(map(str, rest))}, which is not among the variables",
                         suggestion=f"add {rest[0]} to --wrt")
    if not parameters:
        raise InputError("the loss has no parameters to fit: every name in it is data or an index",
                         suggestion="fit a parameter, like w in sum((y_i - w x_i)^2, i, 1, n)")
    ordered = tuple(sorted(column_symbols, key=lambda c: natural_key(sp.Symbol(c))))
    return DataLoss(expr, parameters, ordered, tuple(terms), outer, tuple(size_symbols), column_symbols)


def _check_bounds(text: str, index: sp.Basic, lower: sp.Basic, upper: sp.Basic) -> None:
    """A sum over data runs from a whole number to n (from row 1) or to a whole number."""
    if not lower.is_Integer:
        raise InputError(f"the lower bound of {text} must be a whole number, not {lower}")
    if upper.is_Symbol:
        if lower != 1:
            raise InputError(f"{text} runs to {upper}, the number of data rows, so it must start at row 1, not {lower}",
                             suggestion=f"write sum(…, {index}, 1, {upper})")
    elif not upper.is_Integer:
        raise InputError(f"the upper bound of {text} must be n (the number of rows) or a whole number, not {upper}")


def _check_range(term: _SumTerm, text: str, index: sp.Basic) -> None:
    """The bounds of a sum must say which rows (or index values) it runs over, as written."""
    if not term.upper.is_Integer:
        return
    upper = int(term.upper)
    if term.lower > upper:
        raise InputError(f"{text} has no terms: it runs from {term.lower} up to {upper}")
    if term.over_rows:
        if term.lower < 1:
            raise InputError(f"data rows are numbered from 1, so {text} would use a row {term.lower} that does not "
                             f"exist",
                             suggestion=f"start the sum at {index} = 1")
    elif upper - term.lower + 1 > MAX_RANGE:
        raise InputError(f"{text} has {upper - term.lower + 1:,} terms, more than the limit of {MAX_RANGE:,}")


class DataObjective:
    """``value_and_grad(point, step)`` for ``descend``: the loss on step's batch (see the module docstring)."""

    def __init__(self, loss: DataLoss, table: Table | None, batch_size: int | None = None,
                 seed: int | None = None) -> None:
        import numpy as np

        from symgrad.numeric.objective import PeriodicGuard

        self.loss = loss
        self.table = table
        self.rows_total = table.rows if table is not None else 0
        if table is None and any(t.over_rows for t in loss.terms):
            if loss.columns:
                raise InputError("the loss sums over data: give the data (a Table, or --data file.csv)")
            raise InputError(f"{_sum_text(next(t.written for t in loss.terms if t.over_rows))} runs to n, the number "
                             "of data rows, but no term of the loss uses data (an indexed variable like x_i)",
                             suggestion="give the sum a number as its upper bound, e.g. sum(w^2, i, 1, 10)")
        for term in loss.terms:
            if term.over_rows and term.upper.is_Integer and int(term.upper) > self.rows_total:
                raise InputError(f"{_sum_text(term.written)} runs to row {term.upper} but the data has "
                                 f"{self.rows_total} rows")
        if batch_size is not None:
            if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
                raise InputError(f"the batch size must be a whole number ≥ 1, not {batch_size}")
            if table is None:
                raise InputError("--batch-size is for losses over data rows (give --data)")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise InputError(f"the seed must be a whole number ≥ 0, not {seed}", suggestion="for example --seed 0")
        self.batch_size = None if batch_size is None or batch_size >= self.rows_total else int(batch_size)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._order: Any = None
        self._epoch = -1
        params = loss.parameters
        sizes = loss.size_symbols
        # the way back from placeholders to the loss's own notation, for messages
        shown = {d: sp.Indexed(sp.IndexedBase(sp.Symbol(c)), sp.Symbol("i")) for c, d in loss.column_symbols.items()}
        # one NumPy function per sum: its summand and the summand's gradient, over the rows
        self._summands = []
        for term in loss.terms:
            cols = tuple(loss.column_symbols[c] for c in term.columns)
            variables = (*cols, *((term.index,) if term.index is not None else ()), *params, *sizes)
            gradient = [sp.diff(term.summand, p) for p in params]
            fn = _numpy_function("value_and_grad", term.summand, variables, gradient)
            periodic = PeriodicGuard.periodic([term.summand, *gradient])
            guard = None
            if periodic:
                back = {**shown, **({term.index: term.written.limits[0][0]} if term.index is not None else {})}
                guard = (_numpy_function("grad", periodic[0][1], variables, [arg for _, arg, _, _ in periodic]),
                         [(_oneline(atom.xreplace(back)), period, text) for atom, _, period, text in periodic])
            self._summands.append((term, term.columns, fn, guard))
        # the rest of the loss, with one placeholder per sum and the batch size
        sums = tuple(t.placeholder for t in loss.terms)
        outer_vars = (*params, *sums, *sizes)
        outer_grad = [sp.diff(loss.outer, v) for v in (*params, *sums)]
        from symgrad.numeric import codegen
        from symgrad.numeric.compile import load

        src = "import math\n\n\n" + codegen.function_source(
            "value_and_grad_f", loss.outer, outer_vars, "math", what="value_and_grad",
            names=tuple(codegen.safe_names(outer_vars).values()), gradient=outer_grad)
        self._outer = load(src, "data_outer")["value_and_grad_f"]
        self._outer_guard = PeriodicGuard.build([loss.outer, *outer_grad], outer_vars)

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
        """The loss and its gradient at ``point`` using the rows ``rows`` (``Undefined`` where it has none)."""
        import numpy as np

        from symgrad.numeric.objective import Undefined

        n_params = len(point)
        batch_rows = self.rows_total if isinstance(rows, slice) else len(rows)
        size = [float(batch_rows)] * len(self.loss.size_symbols)
        sums, sum_grads = [], []
        for term, cols, fn, guard in self._summands:
            if term.over_rows:
                lo = term.lower - 1
                hi = int(term.upper) if term.upper.is_Integer else self.rows_total
                chosen = np.arange(lo, hi) if isinstance(rows, slice) else rows[(rows >= lo) & (rows < hi)]
                numbers = chosen + 1
            else:
                chosen = None
                numbers = np.arange(term.lower, int(term.upper) + 1)
            args = [self.table.columns[c][chosen] for c in cols] if self.table is not None and cols else []
            if term.index is not None:
                args.append(numbers.astype(float))
            flags: list[str] = []
            with np.errstate(all="call", under="ignore", call=lambda kind, _flag, flags=flags: flags.append(kind)):
                value, grad = fn(*args, *point, *size)
                shape = (len(numbers),)
                value = np.broadcast_to(value, shape)
                grad = np.broadcast_to(grad, (n_params, *shape))
                self._check(term, value, grad, numbers, args, cols, flags)
                if guard is not None:
                    self._check_periodic(term, guard, args, point, size, numbers)
                total = np.sum(value)
                dsum = np.sum(grad, axis=-1)
            if not (np.isfinite(total) and np.all(np.isfinite(dsum))):
                raise Undefined("overflow", f"{_sum_text(term.written)} is beyond the range of floating-point numbers",
                                ", summed over its rows")
            sums.append(float(total))
            sum_grads.append([float(v) for v in dsum])
        if self._outer_guard is not None:
            self._outer_guard((*point, *sums, *size))
        value, outer_grad = self._outer(*point, *sums, *size)
        grad = list(outer_grad[:n_params])
        for k, dsum in enumerate(sum_grads):
            weight = outer_grad[n_params + k]
            for j in range(n_params):
                grad[j] += weight * dsum[j]
        return value, tuple(grad)

    def _row(self, term: _SumTerm, k: int, numbers: Any, args: Sequence[Any], cols: Sequence[str]) -> str:
        """Which term of a sum: a data row with its cells, or the index value."""
        if not term.over_rows:
            return f"at {term.written.limits[0][0]} = {int(numbers[k])}"
        cells = ", ".join(f"{c}={float(a[k]):.8g}" for c, a in zip(cols, args))
        return f"at data row {int(numbers[k])}" + (f" ({cells})" if cells else "")

    def _check(self, term: _SumTerm, value: Any, grad: Any, numbers: Any, args: Sequence[Any], cols: Sequence[str],
               flags: Sequence[str]) -> None:
        import numpy as np

        from symgrad.numeric.objective import Undefined

        if np.iscomplexobj(value) or np.iscomplexobj(grad):
            bad = np.flatnonzero((np.imag(value) != 0) | np.any(np.imag(grad) != 0, axis=0))
            if bad.size:
                raise Undefined("domain", f"the summand of {_sum_text(term.written)} is not a real number",
                                f", {self._row(term, int(bad[0]), numbers, args, cols)}")
            value, grad = np.real(value), np.real(grad)
        ok = np.isfinite(value) & np.all(np.isfinite(grad), axis=0)
        if ok.all():
            return
        k = int(np.flatnonzero(~ok)[0])
        what = "summand" if not np.isfinite(value[k]) else "gradient of the summand"
        bad = value[k] if not np.isfinite(value[k]) else grad[:, k][~np.isfinite(grad[:, k])][0]
        row = self._row(term, k, numbers, args, cols)
        if np.isnan(bad):
            cause, why = "domain", "is not a number (outside its domain)"
        elif "divide by zero" in flags:
            cause, why = "pole", f"is {'−' if bad < 0 else ''}∞ (a division by zero)"
        else:
            cause, why = "overflow", "is beyond the range of floating-point numbers"
        raise Undefined(cause, f"the {what} of {_sum_text(term.written)} {why}", f", {row}")

    def _check_periodic(self, term: _SumTerm, guard: Any, args: Sequence[Any], point: Sequence[float],
                        size: Sequence[float], numbers: Any) -> None:
        import numpy as np

        from symgrad.numeric.objective import lost

        fn, texts = guard
        shape = (len(numbers),)
        values = np.broadcast_to(fn(*args, *point, *size), (len(texts), *shape))
        if np.iscomplexobj(values):
            return  # not real: the summand's own check says so
        for u, (text, period, ptext) in zip(values, texts):
            gaps = np.spacing(np.abs(u))
            meaningless = np.flatnonzero(np.isfinite(u) & (gaps >= period))
            if meaningless.size:
                k = int(meaningless[0])
                cols = tuple(c for c in term.columns)
                row = self._row(term, k, numbers, list(args)[:len(cols)], cols)
                raise lost(text, float(u[k]), float(gaps[k]), ptext, f", {row}")

    def __call__(self, point: tuple[float, ...], step: int) -> tuple[float, tuple[float, ...]]:
        return self.evaluate(point, self.batch(step))

    def full_value(self, point: Sequence[float]) -> float:
        """The loss over all the data (what plots draw)."""
        return float(self.evaluate(point, slice(None))[0])


def _numpy_function(kind: str, expr: sp.Basic, variables: Sequence[sp.Basic], gradient: Sequence[sp.Basic]) -> Any:
    """A generated NumPy function of ``variables`` (``kind`` value_and_grad, or grad: the ``gradient`` list)."""
    from symgrad.numeric import codegen
    from symgrad.numeric.compile import load

    names = tuple(codegen.safe_names(variables).values())
    name = codegen.FUNCTION_NAMES[kind]
    src = "import numpy as np\n\n\n" + codegen.function_source(
        name, expr, variables, "numpy", what=kind, names=names, gradient=list(gradient))
    return load(src, "data_sum")[name]


def _oneline(expr: sp.Basic) -> str:
    from symgrad.printing.oneline import oneline

    return oneline(expr)


def bind(
    expr: sp.Expr,
    table: Table | None,
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

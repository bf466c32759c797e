"""Sums over data as the grammar builds them: Σᵢ terms in which ``x_i`` is indexed data.

Stage: vocabulary (the parser's ``sum``, ``mean`` and ``Sum``; the analysis is ``symgrad.multivar.sums``).
``sum(term, i, lo, hi)`` becomes a plain SymPy ``Sum`` in which every name subscripted by the
summation index (``x_i``) is indexed data, ``Indexed(IndexedBase(x), i)``; ``x[i]`` is the same
thing. Elsewhere ``x_1`` stays the plain symbol ``x1``. The numeric side binds the ``IndexedBase``
labels (``x``, ``y``) to data columns, so the representation stays plain ``Sum`` + ``Indexed``.
``tidy_sums`` writes a derivative with sums the way a teacher does: the factors that do not depend
on the index in front, the residual as it was written: −2 Σ xᵢ(yᵢ − (w xᵢ + b)).

To add a reduction (a product ∏, say): a builder here, its entry in ``symgrad.registry``, and the
rewrite of its derivative in ``tidy_sums``.

>>> i, n, w = (sp.Symbol(s, real=True) for s in "inw")
>>> build_sum((sp.Symbol("y_i", real=True) - w * sp.Symbol("x_i", real=True))**2, i, sp.Integer(1), n)
Sum((-w*x[i] + y[i])**2, (i, 1, n))
"""

from __future__ import annotations

import sympy as sp

from symgrad.errors import InputError


# builders (the grammar's sum(…), mean(…), Sum(…)) ---------------------------------------------
def build_sum(term: sp.Expr, index: sp.Basic, lower: sp.Expr, upper: sp.Expr) -> sp.Expr:
    """``sum(term, i, lo, hi)``: Σ over i from lo to hi, with ``x_i`` in the term read as data xᵢ.

    >>> i, n, w = (sp.Symbol(s, real=True) for s in "inw")
    >>> build_sum(w * sp.Symbol("x_i", real=True), i, sp.Integer(1), n)
    Sum(w*x[i], (i, 1, n))
    """
    index = _index_symbol(index)
    for bound, which in ((lower, "lower"), (upper, "upper")):
        if isinstance(bound, sp.Tuple):
            raise InputError(f"the {which} limit of a sum must be one value, not a list")
        if bound.has(index):
            raise InputError(f"the {which} limit of the sum uses its own index {index}")
        if bound.is_number and not bound.is_Integer:
            raise InputError(f"the {which} limit of a sum must be a whole number, not {bound}")
    if lower.is_Integer and upper.is_Integer and upper < lower:
        raise InputError(f"the sum runs from {lower} to {upper}: the upper limit is below the lower one")
    if isinstance(term, sp.Tuple):
        raise InputError("the term of a sum must be one expression, not a list")
    counter = sp.Symbol(index.name, integer=True)
    return sp.Sum(_as_data(term, index, counter), (counter, lower, upper))


def build_mean(term: sp.Expr, index: sp.Basic, lower: sp.Expr, upper: sp.Expr) -> sp.Expr:
    """``mean(term, i, lo, hi)``: the sum divided by its number of terms, hi − lo + 1.

    >>> i, n = (sp.Symbol(s, real=True) for s in "in")
    >>> build_mean(sp.Symbol("x_i", real=True), i, sp.Integer(1), n)
    Sum(x[i], (i, 1, n))/n
    """
    total = build_sum(term, index, lower, upper)
    return total / (upper - lower + 1)


def build_sympy_sum(term: sp.Expr, limits: sp.Basic) -> sp.Expr:
    """``Sum(term, (i, lo, hi))``, SymPy's own spelling, as results print: read back the same.

    >>> i, n = (sp.Symbol(s, real=True) for s in "in")
    >>> build_sympy_sum(i**2, sp.Tuple(i, 1, n))
    Sum(i**2, (i, 1, n))
    """
    if not isinstance(limits, sp.Tuple) or len(limits) != 3:
        raise InputError("Sum(term, (i, lo, hi)) needs its limits as one list of three",
                         suggestion="or write sum(term, i, lo, hi)")
    return build_sum(term, *limits.args)


def _index_symbol(index: sp.Basic) -> sp.Symbol:
    if not isinstance(index, sp.Symbol):
        raise InputError(f"the index of a sum must be a name like i, not {index}",
                         suggestion="write sum(term, i, 1, n)")
    if "_" in index.name:
        raise InputError(f"the index of a sum must be a plain name like i, not {index}")
    return index


def _as_data(term: sp.Expr, index: sp.Symbol, counter: sp.Symbol) -> sp.Expr:
    """x_i -> x[i] (indexed data) and i -> the integer counter, everywhere in the term."""
    suffix = "_" + index.name
    mapping: dict[sp.Basic, sp.Basic] = {index: counter}
    for sym in term.free_symbols:
        if isinstance(sym, sp.Symbol) and sym.name.endswith(suffix) and len(sym.name) > len(suffix):
            label = sp.Symbol(sym.name[: -len(suffix)], real=True)
            mapping[sym] = sp.IndexedBase(label)[counter]
    return term.xreplace(mapping)


def build_indexed(base: sp.Symbol, index: sp.Expr) -> sp.Expr:
    """``x[i]``: data x indexed by i (the sum it is in makes i its counter).

    >>> build_indexed(sp.Symbol("x", real=True), sp.Symbol("i", real=True))
    x[i]
    """
    return sp.IndexedBase(base)[index]


# data -----------------------------------------------------------------------------------------
def data_symbols(expr: sp.Basic) -> set[sp.Symbol]:
    """Names that are data, not parameters: indexed labels (x in xᵢ) and the limits of sums (n).

    >>> from symgrad.parsing import parse
    >>> sorted(map(str, data_symbols(parse("sum((y_i - w x_i)^2, i, 1, n)"))))
    ['n', 'x', 'y']
    """
    found: set[sp.Symbol] = set()
    for indexed in expr.atoms(sp.Indexed):
        found.add(indexed.base.label)
    for total in expr.atoms(sp.Sum):
        for _var, lower, upper in total.limits:
            found |= {s for s in (lower.free_symbols | upper.free_symbols) if isinstance(s, sp.Symbol)}
    return found


# derivatives as written ---------------------------------------------------------------------------
def tidy_sums(result: sp.Expr, original: sp.Basic | None = None) -> sp.Expr:
    """Take index-free factors out of each sum, keeping residuals as written in ``original``.

    ``Sum(2b + 2w xᵢ − 2yᵢ)`` -> ``−2 Sum(yᵢ − w xᵢ − b)`` when the loss was written with
    ``yᵢ − (w xᵢ + b)``: the sign follows the way the residual appears in the loss.

    >>> i = sp.Symbol("i", integer=True); n, w = sp.symbols("n w", real=True)
    >>> x = sp.IndexedBase(sp.Symbol("x", real=True))
    >>> tidy_sums(sp.Sum(6 * w * x[i], (i, 1, n)))
    6*w*Sum(x[i], (i, 1, n))
    """
    written = set()
    if original is not None:
        written = {a for a in sp.preorder_traversal(original) if isinstance(a, sp.Add)}

    def pull(total: sp.Sum) -> sp.Expr:
        counters = {v for v, *_ in total.limits}
        body = sp.factor_terms(total.function)
        outside: list[sp.Expr] = []
        inside: list[sp.Expr] = []
        for factor in sp.Mul.make_args(body):
            (inside if factor.free_symbols & counters or factor.has(sp.Indexed) else outside).append(factor)
        coeff = sp.Mul(*outside)
        rest = sp.Mul(*inside)
        if rest.is_Add and (-rest) in written and rest not in written:
            coeff, rest = -coeff, -rest
        elif rest.is_Mul:
            for f in rest.args:
                if f.is_Add and (-f) in written and f not in written:
                    coeff, rest = -coeff, sp.Mul(*[(-a if a is f else a) for a in rest.args])
                    break
        if rest == 1 and len(total.limits) == 1:  # Σ 1 counts the terms
            _v, lower, upper = total.limits[0]
            return coeff * (upper - lower + 1)
        return coeff * total.func(rest, *total.limits)

    if not result.has(sp.Sum):
        return result
    return result.replace(lambda node: isinstance(node, sp.Sum), pull)

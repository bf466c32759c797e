"""Strategies: one small function per rule, and the dispatcher that tries them in order.

Stage: step engine (expression -> step tree), the search half. ``derive_step(expr, x, builder)``
returns the ``Step`` (see ``rules.py``) that differentiates ``expr`` by ``x``. Each strategy looks
at the expression, returns ``None`` when its rule does not apply, and otherwise derives what the
rule needs with ``derive_step`` and lets the rule's ``combine`` compute the result. A function with
no rule gets an explicit ``TableStep`` (SymPy's derivative), never an exception. A chain of
``LONG_CHAIN`` or more links is walked link by link and multiplied once at the top, so that the
steps grow linearly with the depth of a chain n deep and the work about as n², not n³ (see
``ChainStep.link``).

To add a rule: write ``def my_rule(expr, x, state, sid) -> Step | None`` (decide whether it applies
*before* deriving anything, so step ids stay in reading order) and put it in ``STRATEGIES`` ahead
of the rules it refines.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> step = derive_step(x * sp.cos(sp.pi * x), x, DerivationState())
>>> step.rule, [s.rule for s in step.substeps], step.result
('product', ['variable', 'chain'], -pi*x*sin(pi*x) + cos(pi*x))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from symgrad.budget import check
from symgrad.steps import table
from symgrad.steps.rules import (
    AbstractFunctionStep,
    ChainStep,
    ConstantMultipleStep,
    ConstantStep,
    ExponentialStep,
    ExpStep,
    FunctionStep,
    LogBaseStep,
    LogDiffStep,
    LogStep,
    MaxMinStep,
    MultiChainStep,
    PowerStep,
    ProductStep,
    QuotientStep,
    RepeatStep,
    Step,
    SumOverStep,
    SumStep,
    TableStep,
    VariableStep,
)
from symgrad.vocabulary import abstract

_U_NAMES = ("u", "v", "w", "p", "q", "r", "s")


class DerivationState:
    """What one derivation shares while it is being built: step ids, seen derivatives, u-names.

    The only mutable object of the engine; it never leaves ``derive``.
    """

    def __init__(self, taken: set[str] | None = None, name_links: bool = False, named_from: int = 0) -> None:
        self.next_id = 1
        self.memo: dict[tuple[sp.Expr, sp.Symbol], Step] = {}
        self.depth = 0
        self.taken = set(taken or ())
        self.name_links = name_links
        """Whether chains of ``named_from`` links or more get their answer in the links' names."""
        self.named_from = named_from or NAMED_CHAIN
        """From how many links a chain is named (at least ``LONG_CHAIN``)."""
        self._u: dict[int, sp.Symbol] = {}
        self._used: set[str] = set()
        self._counter = 0

    def new_id(self) -> int:
        sid = self.next_id
        self.next_id += 1
        return sid

    def u_symbol(self) -> sp.Symbol:
        """The name for the inner function of a chain at the current nesting: u, then v, w, …"""
        sym = self._u.get(self.depth)
        if sym is None:
            sym = self._u[self.depth] = self._new_symbol()
        return sym

    def link_symbol(self) -> sp.Symbol:
        """A name for one link of a named chain: used nowhere else in the derivation, since the
        answer refers to it."""
        return self._new_symbol()

    def _new_symbol(self) -> sp.Symbol:
        name = next((n for n in _U_NAMES if n not in self.taken and n not in self._used), None)
        while name is None:
            self._counter += 1
            candidate = f"u{self._counter}"
            if candidate not in self.taken and candidate not in self._used:
                name = candidate
        self._used.add(name)
        return sp.Symbol(name, real=True)


def _make(cls: type[Step], substeps: Sequence[Step], **fields: Any) -> Step:
    """A compound step whose result is its rule's ``combine`` of the substeps' results."""
    step = cls(result=sp.S.Zero, substeps=tuple(substeps), **fields)
    object.__setattr__(step, "result", step.combine([s.result for s in substeps]))  # still being built
    return step


def depends(expr: sp.Basic, x: sp.Symbol) -> bool:
    return x in expr.free_symbols


# one-argument views ---------------------------------------------------------------------------
def _log_base(expr: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, sp.Expr] | None:
    """log(u)/log(b) with b free of x -> (u, b): SymPy's form of log_b(u)."""
    if not expr.is_Mul or len(expr.args) != 2:
        return None
    a, c = expr.args
    for lg, inv in ((a, c), (c, a)):
        if (isinstance(lg, sp.log) and len(lg.args) == 1 and inv.is_Pow and inv.exp == -1
                and isinstance(inv.base, sp.log) and not depends(inv.base, x)):
            return lg.args[0], inv.base.args[0]
    return None


def unary(expr: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, Callable[[sp.Expr], sp.Expr]] | None:
    """``expr`` as F(arg) for one function F: (arg, F), or None (sums, products, f^g, max…)."""
    if isinstance(expr, sp.Abs) and expr.args[0].is_Pow:
        # |bᵉ| with a fractional e: bᵉ is imaginary for b < 0, where |u|′ = u/|u| is wrong (it
        # drops sign(b)); for real b and e, |bᵉ| = |b|ᵉ, whose chain rule is right everywhere
        base, exp = expr.args[0].args
        if (not depends(exp, x) and exp.is_integer is not True and base.is_extended_real
                and exp.is_extended_real):
            return base, lambda u: sp.Abs(u) ** exp
    if expr.is_Pow:
        base, exp = expr.args
        if not depends(exp, x):
            return base, lambda u: u**exp
        if not depends(base, x):
            return exp, lambda u: base**u
        return None
    if isinstance(expr, sp.exp):
        return expr.args[0], sp.exp
    lb = _log_base(expr, x)
    if lb is not None:
        arg, b = lb
        return arg, lambda u: sp.log(u) / sp.log(b)
    if isinstance(expr, sp.Heaviside) and not any(depends(a, x) for a in expr.args[1:]):
        rest = expr.args[1:]  # H(u, H0): the value at 0 is a convention, not an argument
        return expr.args[0], lambda u: sp.Heaviside(u, *rest)
    if isinstance(expr, sp.Function) and len(expr.args) == 1 and not isinstance(expr, (sp.Max, sp.Min)):
        return expr.args[0], expr.func
    if isinstance(expr, (sp.Derivative, sp.Subs)):
        seen = abstract.view(expr)  # f⁽ⁿ⁾(p): a function of p, whose derivative is f⁽ⁿ⁺¹⁾
        if seen is not None:
            func, order, point = seen
            return point, lambda u: abstract.derivative_at(func, order, u)
    return None


# leaves (a function of x itself) --------------------------------------------------------------
def _leaf(expr: sp.Expr, x: sp.Symbol, sid: int) -> Step:
    """The rule for F(x) when the argument is the variable itself."""
    if expr.is_Pow:
        base, exp = expr.args
        if base == x:
            return PowerStep(expr=expr, wrt=x, result=exp * x ** (exp - 1), exponent=exp, id=sid)
        return ExponentialStep(expr=expr, wrt=x, result=expr * sp.log(base), base=base, id=sid)
    if isinstance(expr, sp.exp):
        return ExpStep(expr=expr, wrt=x, result=expr, id=sid)
    if isinstance(expr, sp.log):
        return LogStep(expr=expr, wrt=x, result=1 / x, id=sid)
    lb = _log_base(expr, x)
    if lb is not None:
        return LogBaseStep(expr=expr, wrt=x, result=1 / (x * sp.log(lb[1])), base=lb[1], id=sid)
    if isinstance(expr, AppliedUndef):
        return AbstractFunctionStep(expr=expr, wrt=x, result=sp.Derivative(expr, x), id=sid)
    seen = abstract.view(expr)
    if seen is not None:  # f⁽ⁿ⁾(x) -> f⁽ⁿ⁺¹⁾(x)
        return AbstractFunctionStep(expr=expr, wrt=x, result=abstract.derivative_at(seen[0], seen[1] + 1, x), id=sid)
    if table.known(expr.func):
        return FunctionStep(expr=expr, wrt=x, result=table.derivative_at(expr.func, x),
                            name=table.rule_name(expr.func), id=sid)
    return TableStep(expr=expr, wrt=x, result=sp.diff(expr, x), id=sid)


# strategies -----------------------------------------------------------------------------------
Strategy = Callable[[sp.Expr, sp.Symbol, DerivationState, int], "Step | None"]


def constant_rule(expr: sp.Expr, x: sp.Symbol, state: DerivationState, sid: int) -> Step | None:
    if depends(expr, x):
        return None
    return ConstantStep(expr=expr, wrt=x, result=sp.S.Zero, id=sid)


def variable_rule(expr: sp.Expr, x: sp.Symbol, state: DerivationState, sid: int) -> Step | None:
    if expr != x:
        return None
    return VariableStep(expr=expr, wrt=x, result=sp.S.One, id=sid)


def sum_rule(expr: sp.Expr, x: sp.Symbol, state: DerivationState, sid: int) -> Step | None:
    if not expr.is_Add:
        return None
    varying = [t for t in expr.args if depends(t, x)]
    fixed = [t for t in expr.args if not depends(t, x)]
    subs = [derive_step(t, x, state) for t in varying]
    if fixed:
        # the terms without x are one constant: one line, not one per term
        rest = sp.Add(*fixed)
        subs.append(ConstantStep(expr=rest, wrt=x, result=sp.S.Zero, id=state.new_id()))
    return _make(SumStep, subs, expr=expr, wrt=x, id=sid)


def constant_multiple_rule(expr: sp.Expr, x: sp.Symbol, state: DerivationState, sid: int) -> Step | None:
    if not expr.is_Mul:
        return None
    const, rest = expr.as_independent(x, as_Add=False)
    if const == 1:
        return None
    if isinstance(rest, sp.log):
        # c·log(u)/log(b) is c times log_b(u): keep the base with the logarithm
        for f in sp.Mul.make_args(const):
            if f.is_Pow and f.exp == -1 and isinstance(f.base, sp.log):
                rest, const = rest * f, const / f
                break
        if const == 1:
            return None
    inner = derive_step(rest, x, state)
    return _make(ConstantMultipleStep, [inner], expr=expr, wrt=x, constant=const, id=sid)


def _is_denominator(f: sp.Expr) -> bool:
    return bool(f.is_Pow and f.exp.is_Number and f.exp.is_negative)


def quotient_rule(expr: sp.Expr, x: sp.Symbol, state: DerivationState, sid: int) -> Step | None:
    if not expr.is_Mul or _log_base(expr, x) is not None:
        return None
    factors = sp.Mul.make_args(expr)
    if not any(_is_denominator(f) for f in factors):
        return None
    num = sp.Mul(*[f for f in factors if not _is_denominator(f)])
    den = sp.Mul(*[f.base ** (-f.exp) for f in factors if _is_denominator(f)])
    subs = [derive_step(num, x, state), derive_step(den, x, state)]
    return _make(QuotientStep, subs, expr=expr, wrt=x, numerator=num, denominator=den, id=sid)


def product_rule(expr: sp.Expr, x: sp.Symbol, state: DerivationState, sid: int) -> Step | None:
    if not expr.is_Mul or _log_base(expr, x) is not None:
        return None
    factors = sp.Mul.make_args(expr)
    subs = [derive_step(f, x, state) for f in factors]
    return _make(ProductStep, subs, expr=expr, wrt=x, factors=tuple(factors), id=sid)


def log_differentiation_rule(expr: sp.Expr, x: sp.Symbol, state: DerivationState, sid: int) -> Step | None:
    if not expr.is_Pow:
        return None
    base, exp = expr.args
    if not (depends(base, x) and depends(exp, x)):
        return None
    inner = derive_step(sp.Mul(exp, sp.log(base)), x, state)
    return _make(LogDiffStep, [inner], expr=expr, wrt=x, base=base, exponent=exp, id=sid)


LONG_CHAIN = 12
"""Chains at least this deep multiply their factors once, at the top (see ``ChainStep.link``)."""

NAMED_CHAIN = 64
"""Chains at least this deep get their answer in the names of their links, when the caller asks
for it (``DerivationState.name_links``; ``symgrad diff`` does): written out, the answer of a chain 64 deep
already has about 2 000 nested functions, and n²/2 for n deep."""


def _chain_view(expr: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, Callable[[sp.Expr], sp.Expr]] | None:
    """``unary(expr, x)`` when ``expr`` is F(u(x)) with u(x) not x itself: a chain rule applies."""
    view = unary(expr, x)
    if view is None or (view[0] == x and view[1](x) == expr):
        return None
    return view


def _chain_depth(expr: sp.Expr, x: sp.Symbol, at_least: int) -> int:
    """How many chain rules in a row ``expr`` needs (counting stops at ``at_least``)."""
    depth = 0
    view = _chain_view(expr, x)
    while view is not None and depth < at_least:
        depth += 1
        view = _chain_view(view[0], x)
    return depth


def function_rule(expr: sp.Expr, x: sp.Symbol, state: DerivationState, sid: int, link: bool = False,
                  named: bool = False) -> Step | None:
    """F(x) by its rule, or F(u(x)) by the chain rule with F's rule for the outer step.

    ``link``: this chain is the inner function of a chain (see ``ChainStep.link``); ``named``:
    of a chain whose answer is written in the names of its links (see ``ChainStep.named``)."""
    view = unary(expr, x)
    if view is None:
        return None
    arg, outer_of = view
    if arg == x and outer_of(x) == expr:  # not |xᵉ| = |x|ᵉ: that is a rewrite, shown as a chain
        return _leaf(expr, x, sid)
    # a long chain is walked link by link without the memo: its links are all different anyway
    long_chain = _chain_view(arg, x) is not None and (link or _chain_depth(expr, x, LONG_CHAIN) >= LONG_CHAIN)
    if long_chain and not link and state.name_links:
        named = _chain_depth(expr, x, state.named_from) >= state.named_from
    u = state.link_symbol() if named else state.u_symbol()
    outer = outer_of(u)
    state.depth += 1
    try:
        outer_step = derive_step(outer, u, state)
        if long_chain:
            check("the worked derivation")
            inner_step = function_rule(arg, x, state, state.new_id(), link=True, named=named)
            assert inner_step is not None  # _chain_view said it is a chain
        else:
            inner_step = derive_step(arg, x, state)
    finally:
        state.depth -= 1
    return _make(ChainStep, [outer_step, inner_step], expr=expr, wrt=x, u=u, inner=arg, outer=outer, id=sid,
                 link=link, named=named)


def max_min_rule(expr: sp.Expr, x: sp.Symbol, state: DerivationState, sid: int) -> Step | None:
    if not isinstance(expr, (sp.Max, sp.Min)):
        return None
    subs = [derive_step(a, x, state) for a in expr.args]
    kind = "max" if isinstance(expr, sp.Max) else "min"
    return _make(MaxMinStep, subs, expr=expr, wrt=x, kind=kind, id=sid)


def multivariable_chain_rule(expr: sp.Expr, x: sp.Symbol, state: DerivationState, sid: int) -> Step | None:
    """F(a₁, …, aₙ) with n > 1 whose partial derivatives F knows (softmax components, …)."""
    if not isinstance(expr, sp.Function) or len(expr.args) < 2 or isinstance(expr, (sp.Max, sp.Min, AppliedUndef)):
        return None
    indices = [i for i, a in enumerate(expr.args) if depends(a, x)]
    try:
        partials = tuple(expr.fdiff(i + 1) for i in indices)
    except Exception:
        return None
    subs = [derive_step(expr.args[i], x, state) for i in indices]
    return _make(MultiChainStep, subs, expr=expr, wrt=x, partials=partials,
                 arguments=tuple(expr.args[i] for i in indices), id=sid)


def sum_over_rule(expr: sp.Expr, x: sp.Symbol, state: DerivationState, sid: int) -> Step | None:
    if not isinstance(expr, sp.Sum) or any(depends(sp.Tuple(*lim[1:]), x) for lim in expr.limits):
        return None
    inner = derive_step(expr.function, x, state)
    return _make(SumOverStep, [inner], expr=expr, wrt=x, id=sid)


def table_rule(expr: sp.Expr, x: sp.Symbol, state: DerivationState, sid: int) -> Step:
    """The explicit "don't know": SymPy's derivative, said to come from the table."""
    return TableStep(expr=expr, wrt=x, result=sp.diff(expr, x), id=sid)


STRATEGIES: tuple[Strategy, ...] = (
    constant_rule,
    variable_rule,
    sum_rule,
    function_rule,  # before the products: log(u)/log(b) is log_b(u), not a quotient
    constant_multiple_rule,
    quotient_rule,
    product_rule,
    log_differentiation_rule,
    max_min_rule,
    multivariable_chain_rule,
    sum_over_rule,
)


def derive_step(expr: sp.Expr, x: sp.Symbol, state: DerivationState) -> Step:
    """The step tree for d/dx ``expr``: the first strategy that applies, else the table."""
    check("the worked derivation")
    seen = state.memo.get((expr, x))
    if seen is not None and seen.substeps:
        # a compound derivative already worked out: refer back instead of repeating it
        return RepeatStep(expr=expr, wrt=x, result=seen.result, ref=seen.id, id=state.new_id())
    sid = state.new_id()
    step: Step | None = None
    for strategy in STRATEGIES:
        step = strategy(expr, x, state, sid)
        if step is not None:
            break
    if step is None:
        step = table_rule(expr, x, state, sid)
    state.memo.setdefault((expr, x), step)
    return step

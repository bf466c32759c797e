"""The derivative table: F′(u) for each one-argument function the engine knows by name.

Stage: step engine (data). ``FunctionStep`` looks its function up here; the chain rule supplies
the inner derivative. Forms are the ones a teacher writes (tan′ = sec², tanh′ = 1 − tanh²,
σ′ = σ(1 − σ), |u|′ = u/|u|), not necessarily SymPy's; the engine checks every result against
``sympy.diff`` anyway.

To add a function: add one entry to ``_formulas`` (the SymPy class, its rule id and F′(u)), then
one sentence for it in ``symgrad/render/narrate/steps.py`` if it needs more than its formula.

>>> import sympy as sp
>>> u = sp.Symbol("u", real=True)
>>> derivative_at(sp.tan, u)
sec(u)**2
>>> rule_name(sp.Abs)
'abs'
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sympy as sp

Formula = Callable[[sp.Expr], sp.Expr]


@lru_cache(maxsize=1)
def _formulas() -> dict[type, tuple[str, Formula]]:
    from symgrad.vocabulary.functions import ceiling, floor, relu, round, sigmoid, softplus

    sq = sp.sqrt
    return {
        sp.sin: ("sin", lambda u: sp.cos(u)),
        sp.cos: ("cos", lambda u: -sp.sin(u)),
        sp.tan: ("tan", lambda u: sp.sec(u) ** 2),
        sp.sec: ("sec", lambda u: sp.sec(u) * sp.tan(u)),
        sp.csc: ("csc", lambda u: -sp.csc(u) * sp.cot(u)),
        sp.cot: ("cot", lambda u: -sp.csc(u) ** 2),
        sp.asin: ("asin", lambda u: 1 / sq(1 - u**2)),
        sp.acos: ("acos", lambda u: -1 / sq(1 - u**2)),
        sp.atan: ("atan", lambda u: 1 / (1 + u**2)),
        sp.acot: ("acot", lambda u: -1 / (1 + u**2)),
        sp.asec: ("asec", lambda u: 1 / (sp.Abs(u) * sq(u**2 - 1))),
        sp.acsc: ("acsc", lambda u: -1 / (sp.Abs(u) * sq(u**2 - 1))),
        sp.sinh: ("sinh", lambda u: sp.cosh(u)),
        sp.cosh: ("cosh", lambda u: sp.sinh(u)),
        sp.tanh: ("tanh", lambda u: 1 - sp.tanh(u) ** 2),
        sp.sech: ("sech", lambda u: -sp.sech(u) * sp.tanh(u)),
        sp.csch: ("csch", lambda u: -sp.csch(u) * sp.coth(u)),
        sp.coth: ("coth", lambda u: 1 - sp.coth(u) ** 2),
        sp.asinh: ("asinh", lambda u: 1 / sq(u**2 + 1)),
        sp.acosh: ("acosh", lambda u: 1 / sq(u**2 - 1)),
        sp.atanh: ("atanh", lambda u: 1 / (1 - u**2)),
        sp.acoth: ("acoth", lambda u: 1 / (1 - u**2)),
        sp.asech: ("asech", lambda u: -1 / (u * sq(1 - u**2))),
        sp.acsch: ("acsch", lambda u: -1 / (sp.Abs(u) * sq(1 + u**2))),
        sp.Abs: ("abs", lambda u: u / sp.Abs(u)),
        sigmoid: ("sigmoid", lambda u: sigmoid(u) * (1 - sigmoid(u))),
        relu: ("relu", lambda u: sp.Heaviside(u)),
        softplus: ("softplus", lambda u: sigmoid(u)),
        sp.Heaviside: ("heaviside", lambda u: sp.DiracDelta(u)),
        sp.sign: ("sign", lambda u: 2 * sp.DiracDelta(u)),
        sp.erf: ("erf", lambda u: 2 * sp.exp(-(u**2)) / sq(sp.pi)),
        sp.sinc: ("sinc", lambda u: (sp.cos(u) - sp.sinc(u)) / u),
        # constant between their jumps: 0 there, no derivative at a jump (symgrad.vocabulary.functions)
        floor: ("floor", lambda u: sp.S.Zero),
        ceiling: ("ceiling", lambda u: sp.S.Zero),
        round: ("round", lambda u: sp.S.Zero),
    }


def known(func: type) -> bool:
    """Whether the table has a worked rule for this SymPy function class."""
    return func in _formulas()


def rule_name(func: type) -> str:
    """The stable rule id of a function of the table (``sin``, ``abs``, ``sigmoid``…)."""
    return _formulas()[func][0]


def derivative_at(func: type, u: sp.Expr) -> sp.Expr:
    """F′(u) for the function class ``func``, in the table's (teacher's) form."""
    return _formulas()[func][1](u)


def rule_names() -> list[str]:
    """Every rule id of the table, in table order."""
    return [name for name, _ in _formulas().values()]

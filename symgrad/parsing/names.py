"""The vocabulary of the grammar: which names are functions, constants and Greek letters.

Stage: parsing (tables only). The lexer (``lexer.py``) classifies every letter run with these
tables; the builder (``build.py``) turns a function name into a SymPy object with them.

To add a function: add one ``FunctionSpec`` to ``_SPECS`` below (its names, how many arguments it
takes and the SymPy constructor). Nothing else in the parser changes.

Symbols are named canonically so that every spelling of one variable is one SymPy symbol:
``θ``, ``theta`` -> ``theta``; ``θ₁``, ``θ1``, ``theta1``, ``theta_1``, ``θ_{1}`` -> ``theta1``
(a digit subscript joins the name); a letter subscript keeps its underscore: ``x_i`` -> ``x_i``.
"""

from __future__ import annotations

import difflib
from symgrad.records import record
from typing import Callable

GREEK_LETTERS: dict[str, str] = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa",
    "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "ο": "omicron", "ρ": "rho", "σ": "sigma",
    "ς": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi",
    "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi",
    "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega", "Υ": "Upsilon",
}
"""Greek characters and the name of the symbol each becomes (π is the constant, not here)."""

GREEK_NAMES: frozenset[str] = frozenset(GREEK_LETTERS.values())

SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
SUPERSCRIPT_CHARS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")

CONSTANT_NAMES: dict[str, str] = {"pi": "pi", "π": "pi", "e": "E", "E": "E"}
"""Names read as constants: Euler's number e (also E) and π."""


@record
class FunctionSpec:
    """How one function is written and built.

    ``arities`` lists the accepted argument counts (``None`` means two or more, as for max).
    ``build`` receives the SymPy arguments and returns the SymPy expression.
    """

    name: str
    aliases: tuple[str, ...]
    arities: tuple[int, ...] | None
    build: Callable[..., object]
    inverse: str | None = None
    explain: Callable[..., str | None] | None = None
    """Optional: given the arguments, a note for the interpretation line (softmax defines its pᵢ)."""


def _specs() -> list[FunctionSpec]:
    import sympy as sp

    from symgrad import abstract
    from symgrad import functions as ml

    def log_any(value: object, base: object = None) -> object:
        return sp.log(value) if base is None else sp.log(value, base)

    def unary(name: str, ctor: Callable[..., object], *aliases: str, inverse: str | None = None) -> FunctionSpec:
        return FunctionSpec(name, aliases, (1,), ctor, inverse)

    return [
        unary("sin", sp.sin, inverse="asin"), unary("cos", sp.cos, inverse="acos"),
        unary("tan", sp.tan, inverse="atan"), unary("sec", sp.sec, inverse="asec"),
        unary("csc", sp.csc, "cosec", inverse="acsc"), unary("cot", sp.cot, inverse="acot"),
        unary("asin", sp.asin, "arcsin"), unary("acos", sp.acos, "arccos"),
        unary("atan", sp.atan, "arctan"), unary("acot", sp.acot, "arccot"),
        unary("asec", sp.asec, "arcsec"), unary("acsc", sp.acsc, "arccsc"),
        unary("sinh", sp.sinh, inverse="asinh"), unary("cosh", sp.cosh, inverse="acosh"),
        unary("tanh", sp.tanh, inverse="atanh"), unary("sech", sp.sech, inverse="asech"),
        unary("csch", sp.csch, inverse="acsch"), unary("coth", sp.coth, inverse="acoth"),
        unary("asinh", sp.asinh, "arsinh", "arcsinh"), unary("acosh", sp.acosh, "arcosh", "arccosh"),
        unary("atanh", sp.atanh, "artanh", "arctanh"), unary("acoth", sp.acoth, "arcoth", "arccoth"),
        unary("asech", sp.asech, "arsech", "arcsech"), unary("acsch", sp.acsch, "arcsch", "arccsch"),
        unary("exp", sp.exp, inverse="ln"),
        unary("ln", sp.log, inverse="exp"),
        FunctionSpec("log", (), (1, 2), log_any, "exp"),
        unary("log10", lambda v: sp.log(v, 10)), unary("log2", lambda v: sp.log(v, 2)),
        unary("sqrt", sp.sqrt, "√"), unary("cbrt", sp.cbrt, "∛"),
        unary("abs", sp.Abs, "Abs"),
        FunctionSpec("max", ("Max",), None, sp.Max), FunctionSpec("min", ("Min",), None, sp.Min),
        unary("sigmoid", ml.sigmoid, "σ", "logistic"),
        unary("relu", ml.relu, "ReLU"), unary("softplus", ml.softplus),
        unary("Heaviside", sp.Heaviside, "heaviside"),
        unary("sign", sp.sign, "sgn"),
        # results read back (the JSON contract): SymPy writes these in derivatives it returns
        FunctionSpec("atan2", (), (2,), sp.atan2), FunctionSpec("DiracDelta", (), (1, 2), _dirac_delta),
        unary("erf", sp.erf),
        # derivatives of f, g, h as results print them: Derivative(f(x), x), Subs(Derivative(f(u), u), u, x**2)
        FunctionSpec("Derivative", (), (2,), abstract.build_derivative),
        FunctionSpec("Subs", (), (3,), abstract.build_subs),
        *_multivar_specs(),
    ]


def _dirac_delta(u: object, k: object = 0) -> object:
    """δ(u), or its k-th derivative as SymPy writes it: DiracDelta(u, k) with k a whole number ≥ 0."""
    import sympy as sp

    from symgrad.errors import InputError

    order = sp.Integer(k) if isinstance(k, int) else k
    if not (getattr(order, "is_Integer", False) and order >= 0):
        raise InputError(f"DiracDelta's second argument is the derivative order, a whole number ≥ 0, not {order}")
    return sp.DiracDelta(u, order) if order else sp.DiracDelta(u)


def _multivar_specs() -> list[FunctionSpec]:
    """Vector functions and reductions over data (built by ``symgrad.multivar``)."""
    from symgrad.multivar import softmax as sm
    from symgrad.multivar import sums

    return [
        FunctionSpec("softmax", (), None, sm.build_softmax, explain=lambda *a: sm.explain("softmax", a)),
        FunctionSpec("cross_entropy", ("crossentropy",), (2,), sm.build_cross_entropy,
                     explain=lambda *a: sm.explain("cross_entropy", a)),
        FunctionSpec("sum", (), (4,), sums.build_sum),
        FunctionSpec("mean", (), (4,), sums.build_mean),
        FunctionSpec("Sum", (), (2,), sums.build_sympy_sum),
    ]


_TABLE: dict[str, FunctionSpec] | None = None


def function_table() -> dict[str, FunctionSpec]:
    """Every accepted spelling of a function name, mapped to its spec (built on first use)."""
    global _TABLE
    if _TABLE is None:
        table: dict[str, FunctionSpec] = {}
        for spec in _specs():
            table[spec.name] = spec
            for alias in spec.aliases:
                table[alias] = spec
        _TABLE = table
    return _TABLE


FUNCTION_NAMES: frozenset[str] = frozenset(
    """sin cos tan sec csc cosec cot asin arcsin acos arccos atan arctan acot arccot asec arcsec acsc
    arccsc sinh cosh tanh sech csch coth asinh arsinh arcsinh acosh arcosh arccosh atanh artanh
    arctanh acoth arcoth arccoth asech arsech arcsech acsch arcsch arccsch exp ln log log10 log2 sqrt
    cbrt abs Abs max Max min Min sigmoid logistic relu ReLU softplus Heaviside heaviside sign sgn
    erf softmax cross_entropy crossentropy sum Sum mean atan2 DiracDelta Derivative Subs""".split()
)
"""Letter-run names of functions, known without importing SymPy (the lexer needs only these)."""

ABSTRACT_FUNCTIONS: frozenset[str] = frozenset({"f", "g", "h"})
"""Single letters that name an unknown function when a parenthesis follows: f(x), g(h(x))."""


def canonical_name(base: str, subscript: str = "") -> str:
    """The symbol name for a letter run and its subscript.

    >>> canonical_name("θ", "1"), canonical_name("theta", "1"), canonical_name("x", "i")
    ('theta1', 'theta1', 'x_i')
    """
    base = GREEK_LETTERS.get(base, base)
    if not subscript:
        return base
    if subscript.isdigit():
        return base + subscript
    return f"{base}_{subscript}"


def suggest(name: str, candidates: frozenset[str] | None = None) -> str | None:
    """The closest known function name to ``name``, if one is close enough to suggest.

    >>> suggest("sine"), suggest("sigmod"), suggest("velocity")
    ('sin', 'sigmoid', None)
    """
    pool = sorted(candidates if candidates is not None else FUNCTION_NAMES)
    lowered = name.lower()
    if lowered in pool:
        return lowered
    matches = difflib.get_close_matches(lowered, pool, n=1, cutoff=0.6)
    return matches[0] if matches else None

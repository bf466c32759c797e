"""The vocabulary of the grammar: which names are functions, constants and Greek letters.

Stage: parsing (tables only). The lexer (``lexer.py``) classifies every letter run with these
tables; the builder (``build.py``) turns a function name into a SymPy object with them.

To add a function: add one ``FunctionSpec`` to ``_specs`` below (its names, how many arguments it
takes, the SymPy constructor and, where the reading needs saying, ``explain``) and its names to
``FUNCTION_NAMES`` (``tests/test_grammar.py`` checks that the two agree). Nothing else in the
parser changes; the step table, the printers and the code printers have their own entries
(``symgrad.steps.table``, ``symgrad.numeric.codegen``). A function of another tool that symgrad
does not know yet goes in ``OTHER_TOOLS``, with a way to write it.

Symbols are named canonically so that every spelling of one variable is one SymPy symbol:
``θ``, ``theta`` -> ``theta``; ``θ₁``, ``θ1``, ``theta1``, ``theta_1``, ``θ_{1}`` -> ``theta1``
(a digit subscript joins the name); a letter subscript keeps its underscore: ``x_i`` -> ``x_i``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from symgrad.records import record

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

    from symgrad.vocabulary import abstract
    from symgrad.vocabulary import functions as ml

    def log_any(value: object, base: object = None) -> object:
        return sp.log(value) if base is None else sp.log(value, base)

    def unary(name: str, ctor: Callable[..., object], *aliases: str, inverse: str | None = None) -> FunctionSpec:
        return FunctionSpec(name, aliases, (1,), ctor, inverse)

    return [
        unary("sin", sp.sin, "sine", inverse="asin"), unary("cos", sp.cos, "cosine", inverse="acos"),
        unary("tan", sp.tan, "tangent", inverse="atan"), unary("sec", sp.sec, "secant", inverse="asec"),
        unary("csc", sp.csc, "cosec", "cosecant", inverse="acsc"), unary("cot", sp.cot, "cotangent", inverse="acot"),
        unary("asin", sp.asin, "arcsin", "arcsine"), unary("acos", sp.acos, "arccos", "arccosine"),
        unary("atan", sp.atan, "arctan", "arctangent"), unary("acot", sp.acot, "arccot"),
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
        # notation of other tools (mathjs, NumPy, nerdamer…): the builder checks sizes and notes
        # how each was read (pow and root are powers, built by the builder's own size-checked _pow)
        FunctionSpec("pow", (), (2,), sp.Pow, explain=lambda a,
                     b: f"pow(a, b) is read as the power a^b: {_power(a, b)}"),
        FunctionSpec("root", ("nthroot", "nthRoot"), (2,), sp.root, explain=_explain_root),
        FunctionSpec("sinc", (), (1,), sp.sinc, explain=lambda u: (
            "sinc(x) is read as sin(x)/x, with sinc(0) = 1 (SymPy's sinc; NumPy's np.sinc is the normalized "
            "sin(πx)/(πx))")),
        FunctionSpec("floor", (), (1,), ml.floor, explain=lambda u: (
            "floor(x) is the largest whole number ≤ x; its derivative is 0 between whole numbers, and at a "
            "whole number, where floor jumps, there is none")),
        FunctionSpec("ceiling", ("ceil",), (1,), ml.ceiling, explain=lambda u: (
            "ceil(x) is the smallest whole number ≥ x; its derivative is 0 between whole numbers, and at a "
            "whole number, where ceil jumps, there is none")),
        FunctionSpec("round", (), (1,), ml.round, explain=lambda u: (
            "round(x) is the nearest whole number, halves to the even one (as Python, NumPy and PyTorch); its "
            "derivative is 0 except at the jumps (x a whole number plus 1/2), where there is none")),
        # results read back (the JSON contract): SymPy writes these in derivatives it returns
        FunctionSpec("atan2", ("arctan2",), (2,), sp.atan2), FunctionSpec("DiracDelta", (), (1, 2), _dirac_delta),
        unary("erf", sp.erf),
        # derivatives of f, g, h as results print them: Derivative(f(x), x), Subs(Derivative(f(u), u), u, x**2)
        FunctionSpec("Derivative", (), (2,), abstract.build_derivative),
        FunctionSpec("Subs", (), (3,), abstract.build_subs),
        *_multivar_specs(),
    ]


def _power(base: object, exponent: object) -> str:
    import sympy as sp

    return sp.sstr(sp.Pow(base, exponent, evaluate=False)).replace("**", "^")


def _explain_root(value: object, degree: object) -> str:
    import sympy as sp

    shown = _power(value, sp.Pow(degree, -1))
    return (f"root(x, n) is read as x^(1/n), here {shown}: the principal root, real for x ≥ 0 (as sqrt and cbrt; "
            "for odd n and x < 0 the real root is -root(-x, n))")


def _dirac_delta(u: Any, k: Any = 0) -> Any:
    """δ(u), or its k-th derivative as SymPy writes it: DiracDelta(u, k) with k a whole number ≥ 0."""
    import sympy as sp

    from symgrad.errors import InputError

    order = sp.Integer(k) if isinstance(k, int) else k
    if not (getattr(order, "is_Integer", False) and order >= 0):
        raise InputError(f"DiracDelta's second argument is the derivative order, a whole number ≥ 0, not {order}")
    return sp.DiracDelta(u, order) if order else sp.DiracDelta(u)


def _multivar_specs() -> list[FunctionSpec]:
    """Vector functions and reductions over data (``symgrad.vocabulary.softmax`` and ``sums``)."""
    from symgrad.vocabulary import softmax as sm
    from symgrad.vocabulary import sums

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


MATRIX_FUNCTIONS: dict[str, str] = {
    "det": "det", "tr": "tr", "trace": "tr", "Trace": "tr", "Determinant": "det", "diag": "diag",
    "norm": "norm", "dot": "dot", "logdet": "logdet", "inv": "inv", "HadamardProduct": "hadamard",
}
"""Names that are functions only in vector/matrix notation (``symgrad.matrix``; elsewhere ``tr`` is a
variable and ``det(x)`` an unknown function), each with the name the matrix builder knows it by.
``Trace``, ``Determinant`` and ``HadamardProduct`` are how SymPy's ``str()`` writes them."""

FUNCTION_NAMES: frozenset[str] = frozenset(
    ["sin", "cos", "tan", "sec", "csc", "cosec", "cot", "asin", "arcsin", "acos", "arccos", "atan", "arctan", "acot",
     "arccot", "asec", "arcsec", "acsc", "arccsc", "sinh", "cosh", "tanh", "sech", "csch", "coth", "asinh", "arsinh",
     "arcsinh", "acosh", "arcosh", "arccosh", "atanh", "artanh", "arctanh", "acoth", "arcoth", "arccoth", "asech",
     "arsech", "arcsech", "acsch", "arcsch", "arccsch", "exp", "ln", "log", "log10", "log2", "sqrt", "cbrt", "abs",
     "Abs", "max", "Max", "min", "Min", "sigmoid", "logistic", "relu", "ReLU", "softplus", "Heaviside", "heaviside",
     "sign", "sgn", "erf", "softmax", "cross_entropy", "crossentropy", "sum", "Sum", "mean", "atan2", "arctan2",
     "DiracDelta", "Derivative", "Subs", "sine", "cosine", "tangent", "secant", "cosecant", "cotangent", "arcsine",
     "arccosine", "arctangent", "pow", "root", "nthroot", "nthRoot", "sinc", "floor", "ceil", "ceiling", "round"]
)
"""Letter-run names of functions, known without importing SymPy (the lexer needs only these;
``tests/test_grammar.py`` checks that they are exactly the names of ``function_table``)."""

SPELLED_OUT: dict[str, str] = {
    "sine": "sin", "cosine": "cos", "tangent": "tan", "secant": "sec", "cosecant": "csc",
    "cotangent": "cot", "arcsine": "asin", "arccosine": "acos", "arctangent": "atan",
}
"""Function names written out as words: read as the short name, with a note."""

OTHER_TOOLS: dict[str, tuple[str, str]] = {
    # the name as that tool spells it -> (the tool, how to write the function in symgrad)
    "leaky_relu": ("PyTorch", "max(x, 0.01 x) (negative slope 0.01)"),
    "log_sigmoid": ("PyTorch", "ln(sigmoid(x)), which is -softplus(-x)"),
    "hardtanh": ("PyTorch", "max(-1, min(x, 1))"),
    "log_softmax": ("PyTorch", "ln(softmax_1(a1, a2, …)) for one component"),
    "softmin": ("PyTorch", "softmax(-a1, -a2, …)"),
    "gelu": ("PyTorch", "x (1 + erf(x/sqrt(2)))/2"),
    "silu": ("PyTorch", "x sigmoid(x)"),
    "swish": ("Keras", "x sigmoid(x)"),
    "mish": ("PyTorch", "x tanh(softplus(x))"),
    "elu": ("PyTorch", "max(x, 0) + min(0, e^x - 1)"),
    "selu": ("PyTorch", "s (max(x, 0) + min(0, a (e^x - 1))) with s ≈ 1.0507 and a ≈ 1.6733"),
    "celu": ("PyTorch", "max(x, 0) + min(0, e^x - 1) (for α = 1)"),
    "softsign": ("PyTorch", "x/(1 + |x|)"),
    "hardsigmoid": ("PyTorch", "max(0, min(1, x/6 + 1/2))"),
    "hardswish": ("PyTorch", "x max(0, min(1, x/6 + 1/2))"),
    "relu6": ("PyTorch", "min(max(x, 0), 6)"),
    "logsumexp": ("PyTorch and SciPy", "ln(e^a + e^b + …)"),
    "logaddexp": ("NumPy", "ln(e^a + e^b)"),
    "expm1": ("NumPy", "e^x - 1"),
    "log1p": ("NumPy", "ln(1 + x)"),
    "exp2": ("NumPy", "2^x"),
    "logit": ("SciPy", "ln(x/(1 - x))"),
    "expit": ("SciPy", "sigmoid(x)"),
    "erfc": ("SciPy", "1 - erf(x)"),
    "hypot": ("NumPy", "sqrt(x^2 + y^2)"),
    "trunc": ("NumPy", "floor(x) for x ≥ 0 and ceil(x) for x < 0"),
    "fix": ("mathjs", "floor(x) for x ≥ 0 and ceil(x) for x < 0"),
    "factorial": ("mathjs", "nothing yet: factorials are not supported"),
    "diff": ("SymPy", "the expression alone: symgrad diff \"x^2\" (--wrt picks the variable)"),
    "derivative": ("mathjs", "the expression alone: symgrad diff \"x^2\" (--wrt picks the variable)"),
}
"""Functions of other tools that symgrad does not know (yet): refused with a way to write them.
The lexer looks every name up here (in any case, with or without underscores: LeakyReLU,
leakyrelu) before it reads it as a variable or a product."""

_OTHER_FOLDED: dict[str, str] = {name.lower().replace("_", ""): name for name in OTHER_TOOLS}

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

    Spelled-out names count as their short form, so "cosin" suggests cos (via cosine), not cosec.

    >>> suggest("sinus"), suggest("sigmod"), suggest("cosin"), suggest("velocity"), suggest("foo")
    ('sin', 'sigmoid', 'cos', None, None)
    """
    pool = sorted(candidates if candidates is not None else FUNCTION_NAMES)
    lowered = name.lower()
    if lowered in pool:
        return SPELLED_OUT.get(lowered, lowered)
    # a misspelling keeps the first two letters: foo is not floor, exo may be exp
    matches = [m for m in difflib.get_close_matches(lowered, pool, n=5, cutoff=0.6) if m[:2] == lowered[:2]]
    return SPELLED_OUT.get(matches[0], matches[0]) if matches else None


def other_tool(name: str) -> str | None:
    """The message for a function of another tool that symgrad does not know, or None.

    >>> other_tool("LeakyReLU")
    'LeakyReLU is a PyTorch function that symgrad does not know yet; write max(x, 0.01 x) (negative slope 0.01)'
    >>> other_tool("velocity") is None
    True
    """
    spelling = _OTHER_FOLDED.get(_folded(name))
    if spelling is None:
        return None
    where, written = OTHER_TOOLS[spelling]
    return f"{name} is a {where} function that symgrad does not know yet; write {written}"


def _folded(name: str) -> str:
    return name.lower().replace("_", "")


def unknown_function_hint(name: str) -> str:
    """The hint for an unknown function ``name(…)``: a way to write another tool's function, the
    closest known name (symgrad's or another tool's), or, for a plain name, how to multiply.

    >>> unknown_function_hint("cosin")
    'did you mean cos?'
    >>> unknown_function_hint("leaky_rleu")
    'did you mean leaky_relu? symgrad does not know it yet; write max(x, 0.01 x) (negative slope 0.01)'
    >>> unknown_function_hint("speed")
    'symgrad has no function speed; to multiply, write speed*(…)'
    """
    known = other_tool(name)
    if known is not None:
        return known
    theirs = difflib.get_close_matches(_folded(name), sorted(_OTHER_FOLDED), n=1, cutoff=0.8)
    ours = suggest(name)
    if theirs and (ours is None or _similarity(name, _OTHER_FOLDED[theirs[0]]) > _similarity(name, ours)):
        spelling = _OTHER_FOLDED[theirs[0]]
        return f"did you mean {spelling}? symgrad does not know it yet; write {OTHER_TOOLS[spelling][1]}"
    if ours is not None:
        return f"did you mean {ours}?"
    return f"symgrad has no function {name}; to multiply, write {name}*(…)"


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _folded(a), _folded(b)).ratio()

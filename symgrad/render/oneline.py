"""One-line Unicode math: x·cos(πx), σ(x)·(1 − σ(x)), θ₁², e^(−x).

Stage: rendering (expression -> text). Used by the interpretation line and the plain format,
where a result must fit on one line and be readable without a pretty-printer. For the 2-D form
the rich backend uses SymPy's own pretty printer.

>>> import sympy as sp
>>> x, t = sp.symbols("x theta1")
>>> oneline(x * sp.cos(sp.pi * x) - t**2)
'-θ₁² + x·cos(π·x)'
"""

from __future__ import annotations

import re
from functools import lru_cache

import sympy as sp
from sympy.printing.str import StrPrinter

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ", "eta": "η",
    "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
    "omicron": "ο", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "chi": "χ",
    "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "Upsilon": "Υ", "pi": "π",
}

_NAME = re.compile(r"^([A-Za-z]+?)(\d*)(?:_([A-Za-z0-9]+))?$")


def symbol_text(name: str) -> str:
    """theta1 -> θ₁, x_i -> x_i, alpha -> α."""
    m = _NAME.match(name)
    if not m:
        return name
    base, digits, sub = m.groups()
    if base + digits in GREEK and not sub:
        return GREEK[base + digits]
    shown = GREEK.get(base, base)
    if digits:
        shown += digits.translate(_SUBSCRIPTS)
    if sub:
        shown += "_" + sub
    return shown


class OneLinePrinter(StrPrinter):
    """SymPy's str printer with Unicode names, superscript powers and · for products."""

    printmethod = "_symgrad_oneline"  # not _sympystr: σ(x) here, sigmoid(x) in str()

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return symbol_text(expr.name)

    _print_Dummy = _print_Symbol

    def _print_Pi(self, expr: sp.Expr) -> str:
        return "π"

    def _print_Exp1(self, expr: sp.Expr) -> str:
        return "e"

    def _print_ImaginaryUnit(self, expr: sp.Expr) -> str:
        return "i"

    def _print_Infinity(self, expr: sp.Expr) -> str:
        return "∞"

    def _print_NegativeInfinity(self, expr: sp.Expr) -> str:
        return "-∞"

    def _print_ComplexInfinity(self, expr: sp.Expr) -> str:
        return "undefined (complex infinity)"

    def _print_Abs(self, expr: sp.Expr) -> str:
        return "|%s|" % self._print(expr.args[0])

    def _print_exp(self, expr: sp.Expr) -> str:
        arg = expr.args[0]
        shown = self._print(arg)
        if arg.is_Symbol or (arg.is_Integer and arg >= 0):
            return f"e^{shown}"
        return f"e^({shown})"

    def _print_log(self, expr: sp.Expr) -> str:
        return "ln(%s)" % self._print(expr.args[0])

    def _print_sigmoid(self, expr: sp.Expr) -> str:
        return "σ(%s)" % self._print(expr.args[0])

    def _print_Heaviside(self, expr: sp.Expr) -> str:
        return "H(%s)" % self._print(expr.args[0])

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.args
        if exp is sp.S.Half:
            return "√(%s)" % self._print(base) if not base.is_Atom else "√" + self._print(base)
        if exp.is_Integer and 1 < abs(int(exp)) < 1000:
            shown = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"], strict=True)
            power = shown + str(abs(int(exp))).translate(_SUPERSCRIPTS)
            return power if exp > 0 else "1/" + power
        text = super()._print_Pow(expr, rational)
        return text.replace("**", "^")

    def _print_Mul(self, expr: sp.Mul) -> str:
        from symgrad.abstract import chain_factors

        split = chain_factors(expr)
        if split is not None:  # f′(g(x))·g′(x), the chain rule's order
            rest, found = split
            shown = [self.parenthesize(a, sp.printing.precedence.PRECEDENCE["Mul"]) for a in found]
            head = "" if rest == 1 else "-" if rest == -1 else self._print(rest) + "·"
            return head + "·".join(shown)
        return super()._print_Mul(expr).replace("*", "·")

    # indexed data and sums (symgrad.multivar.sums), written as on paper: xᵢ, Σ[i=1..n](…), δᵢⱼ
    def _print_Indexed(self, expr: sp.Basic) -> str:
        return self._print(expr.base.label) + "".join(_subscript(self._print(i)) for i in expr.indices)

    def _print_IndexedBase(self, expr: sp.Basic) -> str:
        return self._print(expr.label)

    def _print_Sum(self, expr: sp.Basic) -> str:
        bounds = ", ".join(f"{self._print(v)}={self._print(lo)}..{self._print(hi)}" for v, lo, hi in expr.limits)
        return f"Σ[{bounds}]({self._print(expr.function)})"

    def _print_KroneckerDelta(self, expr: sp.Basic) -> str:
        return "δ" + "".join(_subscript(self._print(i)) for i in expr.args)

    def _print_Derivative(self, expr: sp.Basic) -> str:
        prime = self._prime(expr)
        if prime is not None:
            return prime
        wrt = "".join(f"∂{self._print(v)}" for v, n in expr.variable_count for _ in range(int(n)))
        return f"∂({self._print(expr.expr)})/{wrt}"

    def _print_Subs(self, expr: sp.Basic) -> str:
        prime = self._prime(expr)
        return prime if prime is not None else super()._print_Subs(expr)

    def _prime(self, expr: sp.Basic) -> str | None:
        """f′(x²), f″(x): the derivative of an unknown function at a point (``symgrad.abstract``)."""
        from symgrad.abstract import prime, view

        seen = view(expr)
        if seen is None:
            return None
        func, order, point = seen
        return f"{symbol_text(func.__name__)}{prime(order)}({self._print(point)})"


_LETTER_SUBSCRIPTS = dict(zip("aehijklmnoprstuvx", "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))


def _subscript(text: str) -> str:
    """i -> ᵢ, 12 -> ₁₂; anything without a Unicode subscript form keeps an underscore: _(k+1)."""
    if text.isdigit():
        return text.translate(_SUBSCRIPTS)
    if all(ch in _LETTER_SUBSCRIPTS for ch in text):
        return "".join(_LETTER_SUBSCRIPTS[ch] for ch in text)
    return f"_{text}" if text.isalnum() else f"_({text})"


_printer = OneLinePrinter({"order": None})
_as_built = OneLinePrinter({"order": "none"})


def oneline(expr: sp.Basic, as_built: bool = False) -> str:
    """``expr`` as one line of Unicode math (``as_built``: products and sums in the order of their
    arguments, as an unevaluated ``Mul`` keeps a chain's factors, instead of SymPy's order)."""
    if as_built:
        return _as_built.doprint(expr).replace("**", "^")
    if isinstance(expr, (list, tuple, sp.Tuple)):
        return "(" + ", ".join(oneline(e) for e in expr) + ")"
    try:
        return _oneline(expr)
    except TypeError:  # unhashable (a mutable Matrix): printed every time
        return _printer.doprint(expr).replace("**", "^")


@lru_cache(maxsize=256)
def _oneline(expr: sp.Basic) -> str:
    # cached: a document says the input and the result more than once, and SymPy sorts the terms
    # of a sum each time it prints one (a second per print for a sum of a few thousand terms)
    text = _printer.doprint(expr)
    return text.replace("**", "^")

"""One-line Unicode math: x·cos(πx), σ(x)·(1 − σ(x)), θ₁², e^(−x).

Stage: rendering (expression -> text). Used by the interpretation line and the plain format,
where a result must fit on one line and be readable without a pretty-printer. For the 2-D form
the rich backend uses SymPy's own pretty printer.

>>> import sympy as sp
>>> x, t = sp.symbols("x theta1")
>>> oneline(x * sp.cos(sp.pi * x) - t**2)
'-θ₁² + x·cos(π·x)'

Where the output cannot carry Unicode (``PYTHONIOENCODING=ascii``, a Latin-1 terminal), the same
printer writes ASCII notation inside ``ascii_notation()``: x^2, sigma(x), pi, sqrt(x), d/dx; and
``to_ascii`` spells the prose around it the same way (one mechanism for every backend).

>>> with ascii_notation():
...     oneline(x * sp.cos(sp.pi * x) - t**2)
'-theta1^2 + x*cos(pi*x)'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


_ASCII: ContextVar[bool] = ContextVar("symgrad_ascii_notation", default=False)


@contextmanager
def ascii_notation() -> Iterator[None]:
    """Within this block, ``oneline`` (and the backends' 2-D printer) write ASCII notation."""
    token = _ASCII.set(True)
    try:
        yield
    finally:
        _ASCII.reset(token)


def ascii_mode() -> bool:
    """Whether ASCII notation is in force (``ascii_notation``)."""
    return _ASCII.get()


class OneLinePrinter(StrPrinter):
    """SymPy's str printer with Unicode names, superscript powers and · for products (with
    ``ascii = True``: the same notation in ASCII, x^2, sigma(x), pi, sqrt(x))."""

    printmethod = "_symgrad_oneline"  # not _sympystr: σ(x) here, sigmoid(x) in str()
    ascii = False

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return expr.name if self.ascii else symbol_text(expr.name)

    _print_Dummy = _print_Symbol

    def _print_Pi(self, expr: sp.Expr) -> str:
        return "pi" if self.ascii else "π"

    def _print_Exp1(self, expr: sp.Expr) -> str:
        return "e"

    def _print_ImaginaryUnit(self, expr: sp.Expr) -> str:
        return "i"

    def _print_Infinity(self, expr: sp.Expr) -> str:
        return "oo" if self.ascii else "∞"

    def _print_NegativeInfinity(self, expr: sp.Expr) -> str:
        return "-oo" if self.ascii else "-∞"

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
        return ("sigma(%s)" if self.ascii else "σ(%s)") % self._print(expr.args[0])

    def _print_Heaviside(self, expr: sp.Expr) -> str:
        return "H(%s)" % self._print(expr.args[0])

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.args
        if exp is sp.S.Half:
            if self.ascii:
                return "sqrt(%s)" % self._print(base)
            return "√(%s)" % self._print(base) if not base.is_Atom else "√" + self._print(base)
        if exp.is_Integer and 1 < abs(int(exp)) < 1000:
            shown = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"], strict=True)
            digits = str(abs(int(exp)))
            power = shown + ("^" + digits if self.ascii else digits.translate(_SUPERSCRIPTS))
            return power if exp > 0 else "1/" + power
        text = super()._print_Pow(expr, rational)
        return text.replace("**", "^")

    def _print_Mul(self, expr: sp.Mul) -> str:
        from symgrad.vocabulary.abstract import chain_factors

        split = chain_factors(expr)
        times = "*" if self.ascii else "·"
        if split is not None:  # f′(g(x))·g′(x), the chain rule's order
            rest, found = split
            shown = [self.parenthesize(a, sp.printing.precedence.PRECEDENCE["Mul"]) for a in found]
            head = "" if rest == 1 else "-" if rest == -1 else self._print(rest) + times
            return head + times.join(shown)
        text = super()._print_Mul(expr)
        return text if self.ascii else text.replace("*", "·")

    # indexed data and sums (symgrad.multivar.sums), written as on paper: xᵢ, Σ[i=1..n](…), δᵢⱼ
    def _print_Indexed(self, expr: sp.Basic) -> str:
        return self._print(expr.base.label) + "".join(self._subscript(self._print(i)) for i in expr.indices)

    def _print_IndexedBase(self, expr: sp.Basic) -> str:
        return self._print(expr.label)

    def _print_Sum(self, expr: sp.Basic) -> str:
        bounds = ", ".join(f"{self._print(v)}={self._print(lo)}..{self._print(hi)}" for v, lo, hi in expr.limits)
        return f"{'sum' if self.ascii else 'Σ'}[{bounds}]({self._print(expr.function)})"

    def _print_KroneckerDelta(self, expr: sp.Basic) -> str:
        if self.ascii:
            return "delta_" + "".join(self._print(i) if self._print(i).isalnum() else f"({self._print(i)})"
                                      for i in expr.args)
        return "δ" + "".join(_subscript(self._print(i)) for i in expr.args)

    def _print_Derivative(self, expr: sp.Basic) -> str:
        prime = self._prime(expr)
        if prime is not None:
            return prime
        d = "d" if self.ascii else "∂"
        wrt = "".join(f"{d}{self._print(v)}" for v, n in expr.variable_count for _ in range(int(n)))
        return f"{d}({self._print(expr.expr)})/{wrt}"

    def _subscript(self, text: str) -> str:
        if self.ascii:
            return f"_{text}" if text.isalnum() else f"_({text})"
        return _subscript(text)

    def _print_Subs(self, expr: sp.Basic) -> str:
        prime = self._prime(expr)
        return prime if prime is not None else super()._print_Subs(expr)

    def _prime(self, expr: sp.Basic) -> str | None:
        """f′(x²), f″(x): the derivative of an unknown function at a point (``symgrad.vocabulary.abstract``)."""
        from symgrad.vocabulary.abstract import prime, view

        seen = view(expr)
        if seen is None:
            return None
        func, order, point = seen
        if self.ascii:
            mark = "'" * order if order <= 3 else f"^({order})"
            return f"{func.__name__}{mark}({self._print(point)})"
        return f"{symbol_text(func.__name__)}{prime(order)}({self._print(point)})"


class AsciiOneLinePrinter(OneLinePrinter):
    """``OneLinePrinter`` in ASCII notation (``ascii_notation``)."""

    ascii = True


_LETTER_SUBSCRIPTS = dict(zip("aehijklmnoprstuvx", "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))


def _subscript(text: str) -> str:
    """i -> ᵢ, 12 -> ₁₂; anything without a Unicode subscript form keeps an underscore: _(k+1)."""
    if text.isdigit():
        return text.translate(_SUBSCRIPTS)
    if all(ch in _LETTER_SUBSCRIPTS for ch in text):
        return "".join(_LETTER_SUBSCRIPTS[ch] for ch in text)
    return f"_{text}" if text.isalnum() else f"_({text})"


_printers = {False: OneLinePrinter({"order": None}), True: AsciiOneLinePrinter({"order": None})}
_as_built = {False: OneLinePrinter({"order": "none"}), True: AsciiOneLinePrinter({"order": "none"})}


def oneline(expr: sp.Basic, as_built: bool = False) -> str:
    """``expr`` as one line of Unicode math (``as_built``: products and sums in the order of their
    arguments, as an unevaluated ``Mul`` keeps a chain's factors, instead of SymPy's order); in
    ASCII within ``ascii_notation()``."""
    ascii = _ASCII.get()
    if as_built:
        return _as_built[ascii].doprint(expr).replace("**", "^")
    if isinstance(expr, (list, tuple, sp.Tuple)):
        return "(" + ", ".join(oneline(e) for e in expr) + ")"
    try:
        return _oneline(expr, ascii)
    except TypeError:  # unhashable (a mutable Matrix): printed every time
        return _printers[ascii].doprint(expr).replace("**", "^")


@lru_cache(maxsize=256)
def _oneline(expr: sp.Basic, ascii: bool = False) -> str:
    # cached: a document says the input and the result more than once, and SymPy sorts the terms
    # of a sum each time it prints one (a second per print for a sum of a few thousand terms)
    text = _printers[ascii].doprint(expr)
    return text.replace("**", "^")


# ASCII prose ---------------------------------------------------------------------------------
_ASCII_SIGNS = {
    "·": "*", "−": "-", "→": "->", "←": "<-", "⇒": "=>", "…": "...", "⋯": "...", "≈": "~", "≤": "<=",
    "≥": ">=", "≠": "!=", "∂": "d", "∇": "grad", "√": "sqrt", "∛": "cbrt", "∞": "oo", "×": "x", "Σ": "sum",
    "′": "'", "″": "''", "±": "+/-", "∈": " in ", "ℯ": "e", "–": "-", "—": "--", "“": '"', "”": '"', "‘": "'",
    "’": "'", "ᵀ": "^T", "∘": "o", "⊙": "(.)", "‖": "||", "°": " deg", "\u00a0": " ",
}
_LETTER_NAMES = {letter: name for name, letter in GREEK.items() if name != "pi"} | {"π": "pi", "ϕ": "phi",
                                                                                    "ε": "epsilon"}
_SUPERSCRIPT_ASCII = {v: k for k, v in zip("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")} | {"⁺": "+", "⁽": "(", "⁾": ")", "ⁿ": "n",
                                                                             "ⁱ": "i"}
_SUBSCRIPT_ASCII = {v: k for k, v in zip("0123456789", "₀₁₂₃₄₅₆₇₈₉")}
_LETTER_SUBSCRIPT_ASCII = {v: k for k, v in _LETTER_SUBSCRIPTS.items()} | {"₊": "+", "₋": "-", "₍": "(", "₎": ")"}


def ascii_pieces(text: str) -> list[str]:
    """The ASCII spelling of each character of ``text``, one piece per character (so a caret's
    column can be carried over): π → "pi", x² → "x", "^2", θ₁ → "theta", "1", xᵢ → "x", "_i".
    A Greek letter next to a letter gets a space (πx → "pi x"); anything without an ASCII
    spelling is written as its code point, never as "?"."""
    import unicodedata

    pieces = []
    for k, ch in enumerate(text):
        if ch.isascii():
            pieces.append(ch)
            continue
        before = text[k - 1] if k else ""
        after = text[k + 1] if k + 1 < len(text) else ""
        if ch in _SUPERSCRIPT_ASCII:
            piece = ("" if before in _SUPERSCRIPT_ASCII else "^") + _SUPERSCRIPT_ASCII[ch]
        elif ch in _SUBSCRIPT_ASCII:
            piece = _SUBSCRIPT_ASCII[ch]
        elif ch in _LETTER_SUBSCRIPT_ASCII:
            piece = ("" if before in _LETTER_SUBSCRIPT_ASCII else "_") + _LETTER_SUBSCRIPT_ASCII[ch]
        elif ch in _ASCII_SIGNS:
            piece = _ASCII_SIGNS[ch]
            if ch == "∇" and after.isascii() and after.isalnum():
                piece += " "  # ∇f -> grad f
        elif ch in _LETTER_NAMES:
            piece = _LETTER_NAMES[ch]
            piece = (" " if before.isalnum() and before.isascii() else "") + piece
            piece += " " if after.isalpha() and after.isascii() else ""
        else:
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            piece = plain if plain else f"<U+{ord(ch):04X}>"
        pieces.append(piece)
    return pieces


def to_ascii(text: str) -> str:
    """``text`` in ASCII notation (``ascii_pieces``).

    >>> to_ascii("d/dx [σ(x)] = σ(x)·(1 − σ(x)) at x≈10^300; ∂²f/∂x∂y, θ₁², πx, xᵢ")
    'd/dx [sigma(x)] = sigma(x)*(1 - sigma(x)) at x~10^300; d^2f/dxdy, theta1^2, pi x, x_i'
    """
    return text if text.isascii() else "".join(ascii_pieces(text))

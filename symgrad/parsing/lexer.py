"""Scanner: the user's text -> grammar tokens.

Stage: parsing, first step (text -> tokens); ``build.py`` is the next. Hand-written rather than
regex-table driven because the notation needs context a regular lexer lacks:

- a letter run is classified whole (``sigmoid`` is a function, ``theta1`` one symbol, ``xy`` one
  symbol), and every spelling of a name is canonicalised (``θ₁`` = ``theta_1`` = ``theta1``);
- ``f``, ``g``, ``h`` are functions only when a parenthesis follows;
- a ``|`` opens an absolute value after an operator or at the start, and closes one after an
  operand while one is open (so ``|x||y|`` and ``2|x|`` read as people mean them);
- fullwidth forms pasted from CJK input methods (``（x＋1）``) read as their ASCII twins.

Every token keeps its position in the original text, for the caret in error messages.
Limits on literal size live here, before any number is built.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from symgrad.errors import ParseError
from symgrad.parsing.lalr import Token
from symgrad.parsing.names import (
    ABSTRACT_FUNCTIONS,
    CONSTANT_NAMES,
    FUNCTION_NAMES,
    GREEK_LETTERS,
    GREEK_NAMES,
    SUBSCRIPT_DIGITS,
    SUPERSCRIPT_CHARS,
    canonical_name,
    suggest,
)

MAX_LITERAL_DIGITS = 1000
"""Digits in one number literal: more is a typo or an attack, never homework."""

MAX_LITERAL_EXPONENT = 1000
"""|n| in a literal like 1e-3: 1e999999999 would need a billion digits before anything else."""

_NUMBER = re.compile(r"([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_WORD = re.compile(r"([A-Za-z]+)([0-9]*)([₀-₉]*)(?:_(?:\{([A-Za-z0-9]+)\}|([A-Za-z0-9]+)))?")
_GREEK_REST = re.compile(r"([0-9]*)([₀-₉]*)(?:_(?:\{([A-Za-z0-9]+)\}|([A-Za-z0-9]+)))?")
_SUP = re.compile(r"[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_INDEX = re.compile(r"\[\s*([A-Za-z]+|[0-9]+)\s*\]")

_SINGLE: dict[str, str] = {
    "+": "PLUS", "-": "MINUS", "−": "MINUS", "–": "MINUS",
    "*": "TIMES", "·": "TIMES", "×": "TIMES", "⋅": "TIMES", "∙": "TIMES",
    "/": "DIVIDE", "÷": "DIVIDE", "^": "POW",
    "(": "LPAR", ")": "RPAR", "[": "LBRACK", "]": "RBRACK", ",": "COMMA",
}

# after these a "|" must open an absolute value
_OPERATOR_LIKE = frozenset({"PLUS", "MINUS", "TIMES", "DIVIDE", "POW", "LPAR", "LBRACK", "COMMA", "LBAR", "FUNC"})

_FULLWIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH.update({"\u3000": " ", "（": "(", "）": ")", "，": ","})
_FULLWIDTH_TABLE = str.maketrans(_FULLWIDTH)

_OPEN_CLOSE = {"LPAR": "RPAR", "LBRACK": "RBRACK", "LBAR": "RBAR"}


def normalize(text: str) -> str:
    """Fold fullwidth characters to ASCII, one character for one, so positions do not move."""
    return text.translate(_FULLWIDTH_TABLE)


class Scanner:
    """Turns one input string into tokens; a fresh instance per parse."""

    def __init__(self, text: str, max_depth: int) -> None:
        self.original = text
        self.text = normalize(text)
        self.max_depth = max_depth
        self.notes: list[str] = []

    def error(self, message: str, pos: int, suggestion: str | None = None) -> ParseError:
        return ParseError(message, self.original, pos, suggestion=suggestion)

    def _next_char(self, pos: int) -> str:
        text = self.text
        while pos < len(text) and text[pos].isspace():
            pos += 1
        return text[pos] if pos < len(text) else ""

    def tokens(self) -> Iterator[Token]:
        text = self.text
        n = len(text)
        pos = 0
        prev: str | None = None
        stack: list[tuple[str, int]] = []  # open brackets and bars, for depth and bar decisions
        while pos < n:
            ch = text[pos]
            if ch.isspace():
                pos += 1
                continue
            start = pos
            kind: str
            value: str
            if "0" <= ch <= "9" or (ch == "." and pos + 1 < n and "0" <= text[pos + 1] <= "9"):
                m = _NUMBER.match(text, pos)
                assert m is not None
                kind, value, pos = "NUMBER", m.group(0), m.end()
                self._check_number(value, start)
                if pos < n and text[pos] == ".":
                    raise self.error("a number cannot have two decimal points", pos)
            elif ch.isascii() and ch.isalpha():
                m = _WORD.match(text, pos)
                assert m is not None
                pos = m.end()
                kind, value = self._classify_word(m, start, pos)
            elif ch in GREEK_LETTERS or ch == "π":
                m = _GREEK_REST.match(text, pos + 1)
                assert m is not None
                pos = m.end()
                kind, value = self._classify_greek(ch, m, start, pos)
            elif ch in "√∛":
                kind, value, pos = "FUNC", ("sqrt" if ch == "√" else "cbrt"), pos + 1
            elif ch == "*" and text.startswith("**", pos):
                kind, value, pos = "POW", "**", pos + 2
            elif ch in _SINGLE:
                kind, value, pos = _SINGLE[ch], ch, pos + 1
            elif ch == "|":
                opening = prev is None or prev in _OPERATOR_LIKE or not any(k == "LBAR" for k, _ in stack)
                kind, value, pos = ("LBAR" if opening else "RBAR"), "|", pos + 1
            elif _SUP.match(text, pos):
                m = _SUP.match(text, pos)
                assert m is not None
                kind, value, pos = "SUP", m.group(0).translate(SUPERSCRIPT_CHARS), m.end()
            else:
                raise self._bad_char(ch, pos)
            if kind == "NAME":
                # x[i] with no space before the bracket is indexed data (x [i] still multiplies)
                index = _INDEX.match(text, pos)
                if index is not None:
                    kind, value, pos = "INDEXED", f"{value}[{index.group(1)}]", index.end()

            if kind in _OPEN_CLOSE:
                stack.append((kind, start))
                if len(stack) > self.max_depth:
                    raise self.error(
                        f"brackets nested deeper than {self.max_depth} levels", start,
                        "symgrad limits nesting so that nothing overflows; simplify the input",
                    )
            elif kind in ("RPAR", "RBRACK", "RBAR"):
                if stack and _OPEN_CLOSE[stack[-1][0]] == kind:
                    stack.pop()
                elif not stack:
                    raise self.error(f"unmatched '{value}'", start, "remove it or add the opening bracket")
                else:
                    open_kind, open_pos = stack[-1]
                    expected = {"LPAR": ")", "LBRACK": "]", "LBAR": "|"}[open_kind]
                    raise self.error(
                        f"'{value}' closes nothing here: the bracket at column {open_pos + 1} needs '{expected}' first",
                        start,
                    )
            prev = kind
            yield Token(kind, value, start_pos=start, end_pos=pos)
        if stack:
            open_kind, open_pos = stack[-1]
            closer = {"LPAR": ")", "LBRACK": "]", "LBAR": "|"}[open_kind]
            raise self.error(f"missing closing '{closer}' for the one at column {open_pos + 1}", len(self.original))

    def _check_number(self, literal: str, start: int) -> None:
        mantissa, _, exponent = literal.lower().partition("e")
        digits = len(mantissa.replace(".", "").lstrip("0"))
        if digits > MAX_LITERAL_DIGITS:
            raise self.error(f"number has {digits} digits, more than the limit of {MAX_LITERAL_DIGITS}", start)
        if exponent and abs(int(exponent)) > MAX_LITERAL_EXPONENT:
            raise self.error(
                f"exponent {exponent} in a number literal is beyond the limit of ±{MAX_LITERAL_EXPONENT}", start
            )

    def _classify_word(self, m: re.Match[str], start: int, end: int) -> tuple[str, str]:
        word, digits, subdigits, sub_braced, sub_plain = m.groups()
        subscript = (subdigits or "").translate(SUBSCRIPT_DIGITS) + (sub_braced or sub_plain or "")
        full = word + digits
        has_sub = bool(subdigits or sub_braced or sub_plain)
        nxt = self._next_char(end)

        if word == "log" and not digits and has_sub:
            return "FUNC", "log_" + subscript
        if has_sub and not subdigits and f"{full}_{sub_braced or sub_plain}" in FUNCTION_NAMES:
            return "FUNC", f"{full}_{sub_braced or sub_plain}"  # cross_entropy
        if word == "softmax" and not digits and subscript.isdigit() and nxt == "(":
            return "FUNC", "softmax_" + subscript  # one component, as results print it
        if full in FUNCTION_NAMES and not has_sub:
            return "FUNC", full
        if full in CONSTANT_NAMES and not has_sub and not digits:
            return "CONST", CONSTANT_NAMES[full]
        if full in ABSTRACT_FUNCTIONS and not has_sub and nxt == "(":
            return "FUNC", full
        if word in FUNCTION_NAMES and digits:
            raise self.error(
                f"'{full}' is a function name glued to a number", start,
                f"write {word}({digits}…) or {word} {digits}…",
            )
        if nxt == "(" and len(word) > 1 and not digits and not has_sub and word not in GREEK_NAMES:
            hint = suggest(word)
            raise self.error(
                f"unknown function '{word}'",
                start,
                f"did you mean {hint}?" if hint else f"to multiply, write {word}*(…)",
            )
        glued = self._glued_function(word)
        if glued is not None and not digits and not has_sub:
            fn, rest = glued
            raise self.error(f"unknown name '{word}'", start, f"did you mean {fn} {rest} (that is, {fn}({rest}))?")
        if word == "sigma" and nxt == "(" and not digits and not has_sub:
            self.notes.append("sigma(…) is read as the sigmoid function σ(…)")
            return "FUNC", "sigmoid"
        name = _symbol_name(word, digits, subdigits, sub_braced or sub_plain)
        if not has_sub and not digits and 2 <= len(word) <= 3 and word.islower() and word not in GREEK_NAMES:
            self.notes.append(f"'{word}' is one variable named {word}; for a product write {' '.join(word)}")
        return "NAME", name

    def _classify_greek(self, ch: str, m: re.Match[str], start: int, end: int) -> tuple[str, str]:
        digits, subdigits, sub_braced, sub_plain = m.groups()
        if ch == "π" and not (digits or subdigits or sub_braced or sub_plain):
            return "CONST", "pi"
        if ch in "σς" and self._next_char(end) == "(" and not (digits or subdigits or sub_braced or sub_plain):
            return "FUNC", "sigmoid"
        base = "pi" if ch == "π" else GREEK_LETTERS[ch]
        return "NAME", _symbol_name(base, digits, subdigits, sub_braced or sub_plain)

    @staticmethod
    def _glued_function(word: str) -> tuple[str, str] | None:
        """``sinx`` -> ("sin", "x"): a function name run together with a one-letter argument."""
        for fn in sorted(FUNCTION_NAMES, key=len, reverse=True):
            if len(fn) >= 2 and word.startswith(fn) and word != fn:
                rest = word[len(fn):]
                if len(rest) == 1 or rest in GREEK_NAMES:
                    return fn, rest
        return None

    def _bad_char(self, ch: str, pos: int) -> ParseError:
        code = f"U+{ord(ch):04X}"
        if ch == "\x00" or not ch.isprintable():
            return self.error(f"control character {code} is not allowed", pos)
        hints = {
            "=": "symgrad takes an expression, not an equation: drop the 'f(x) =' part",
            "'": "primes are not notation symgrad reads: give the function and use 'symgrad diff'",
            "_": "names start with a letter",
            ".": "a decimal point needs a digit after it, and attributes are not part of math",
            ":": "write the expression itself",
            "!": "factorials are not supported",
            "{": "use ( ) for grouping",
            "}": "use ( ) for grouping",
            "\\": "LaTeX input is not supported: write sin(x)/x, not \\frac{\\sin x}{x}",
            "∑": "write sum(term, i, 1, n)",
            "Σ": "write sum(term, i, 1, n)",
        }
        if ch in "ⁿⁱᵀ":
            return self.error(f"superscript letter '{ch}' is not supported", pos, "write x^n")
        return self.error(f"unexpected character '{ch}' ({code})", pos, hints.get(ch))


def _symbol_name(base: str, digits: str, subdigits: str | None, letters: str | None) -> str:
    """One canonical name for every spelling: θ₁, θ1, theta1, theta_1, theta_{1} -> theta1."""
    number = digits + (subdigits or "").translate(SUBSCRIPT_DIGITS)
    letters = letters or ""
    if letters.isdigit():
        number, letters = number + letters, ""
    name = canonical_name(base, number)
    return f"{name}_{letters}" if letters else name

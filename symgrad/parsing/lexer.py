"""Scanner: the user's text -> grammar tokens.

Stage: parsing, first step (text -> tokens); ``build.py`` is the next. Hand-written rather than
regex-table driven because the notation needs context a regular lexer lacks:

- a letter run is classified whole (``sigmoid`` is a function, ``theta1`` one symbol, ``xy`` one
  symbol), and every spelling of a name is canonicalised (``θ₁`` = ``theta_1`` = ``theta1``);
- ``f``, ``g``, ``h`` are functions only when a parenthesis follows;
- a ``|`` opens an absolute value after an operator or at the start, and closes one after an
  operand while one is open (so ``|x||y|`` and ``2|x|`` read as people mean them);
- fullwidth forms pasted from CJK input methods (``（x＋1）``) read as their ASCII twins;
- what would be misread is refused or noted here, where the context is known: a name with an
  underscore before "(" (``leaky_relu(x)``) or a function of another tool is an unknown
  function, never a product; a one-letter name before "(" multiplies with a note; a transpose
  (``x^T``, ``xᵀ``) or a prime (``y'``) after an operand is refused; a line break between two
  terms is refused (it may only continue an expression that cannot end there); ``x[…]`` right
  after a name is a data index (a row from 1, or a sum's index), anything else in it is refused.

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
    MATRIX_FUNCTIONS,
    SPELLED_OUT,
    SUBSCRIPT_DIGITS,
    SUPERSCRIPT_CHARS,
    canonical_name,
    other_tool,
    unknown_function_hint,
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
_BRACKETED = re.compile(r"\[[^\[\]]*\]?")
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
"""What ``str.splitlines`` splits at: a line break between two terms is never a product."""

_CONTINUES = frozenset(")]*/^,·×÷⋅∙⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")
"""Characters that cannot start an expression: after a line break they continue the one before."""

_POWER_THEN_CALL = re.compile(r"\s*(?:(?:\^|\*\*)\s*[-−]?\s*[0-9.eE]+|[⁺⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)[ \t]*\(")
"""A power and then "(": ``f^2(x)``, ``σ²(x)``, as ``sin^2(x)`` is (sin x)²; a line break may continue the
line around the power (as after any operator), never before the "(" (that break is refused)."""
_RADIX = re.compile(r"0?[xX][0-9a-fA-F]+\b|0?[bB][01]+\b|0?[oO][0-7]+\b")
"""A base prefix right after a 0 (0x1f, 0b101, 0o17): another language's literal, never meant as 0·name."""
_OPERAND_END = frozenset({"NAME", "INDEXED", "NUMBER", "CONST", "RPAR", "RBRACK", "RBAR", "SUP"})
"""Tokens an operand can end with (where a prime or a transpose sign would attach)."""

_TRANSPOSE_MARKS = ("\\top", "\\intercal", "\\mathsf{T}", "\\mathrm{T}", "\\mathbf{T}", "\\mathit{T}", "⊤", "ᵀ")
_TRANSPOSE_LEAD = re.compile(r"\s*(?:\{\s*)?(?:-\s*)?")
_PRIMES = "'′’ʹ″‴"

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

    def __init__(self, text: str, max_depth: int, start: int = 0, *, matrix: bool = False) -> None:
        self.original = text
        self.text = normalize(text)
        self.max_depth = max_depth
        self.start = start  # where to begin: the right side of a definition f(x) = …
        self.notes: list[str] = []
        # integration point for vectors and matrices (symgrad.matrix.notation): transposes,
        # @, ⊙, .*, ‖x‖ and the matrix function names are tokens only in matrix mode
        self.matrix = matrix
        self._norm_bars: set[int] = set()

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def error(self, message: str, pos: int, suggestion: str | None = None) -> ParseError:
        return ParseError(message, self.original, pos, suggestion=suggestion)

    def _called(self, end: int) -> bool:
        """Is the name that ends at ``end`` applied, as in ``f(x)``, or powered and then applied
        (``f^2(x)``, ``σ²(x)``: f(x)², σ(x)², as ``sin^2(x)`` is)? Either makes σ, sigma, f, g
        and h functions, never a variable times (…)."""
        return self._next_char(end) == "(" or _POWER_THEN_CALL.match(self.text, end) is not None

    def _next_char(self, pos: int) -> str:
        """The next character that is not a space, on the same line (f\n(x) is not a call)."""
        text = self.text
        while pos < len(text) and text[pos].isspace() and text[pos] not in LINE_BREAKS:
            pos += 1
        return text[pos] if pos < len(text) else ""

    def tokens(self) -> Iterator[Token]:
        text = self.text
        n = len(text)
        pos = self.start
        prev: str | None = None
        stack: list[tuple[str, int]] = []  # open brackets and bars, for depth and bar decisions
        line_break: int | None = None  # the first line break since the last token
        while pos < n:
            ch = text[pos]
            if ch.isspace():
                if ch in LINE_BREAKS and line_break is None:
                    line_break = pos
                pos += 1
                continue
            if line_break is not None:
                if prev is not None:
                    self._check_line_break(prev, ch, pos, stack, line_break)
                line_break = None
            start = pos
            kind, value, pos = self._read(ch, pos, prev, stack)
            if kind == "POW" and self.matrix and value != ".^" and prev in _OPERAND_END:
                found = self._matrix_power(pos, prev)
                if found is not None:
                    kind, value, pos = found
            if kind == "POW" and prev in _OPERAND_END and prev not in ("NUMBER", "CONST", "SUP"):
                self._refuse_transpose(pos)  # x^T after a name or a bracket: a transpose, not a power
            if kind == "NAME" and pos < n and text[pos] == "[":
                # x[i] with no space before the bracket is indexed data (x [i] still multiplies)
                bracketed = _BRACKETED.match(text, pos)
                assert bracketed is not None
                kind, value, pos = "INDEXED", self._index(value, pos), bracketed.end()
            if kind in ("NAME", "INDEXED", "CONST") and self._next_char(pos) == "(":
                self._juxtaposed_call_note(kind, value, self.original[start:pos].strip())
            self._track_brackets(kind, value, start, stack)
            prev = kind
            yield Token(kind, value, start_pos=start, end_pos=pos)
        if stack:
            open_kind, open_pos = stack[-1]
            closer = {"LPAR": ")", "LBRACK": "]", "LBAR": "|"}[open_kind]
            raise self.error(f"missing closing '{closer}' for the one at column {open_pos + 1}", len(self.original))

    def _read(self, ch: str, pos: int, prev: str | None, stack: list[tuple[str, int]]) -> tuple[str, str, int]:
        """The token that starts with ``ch`` at ``pos``: (kind, value, the position after it)."""
        text = self.text
        n = len(text)
        if "0" <= ch <= "9" or (ch == "." and pos + 1 < n and "0" <= text[pos + 1] <= "9"):
            m = _NUMBER.match(text, pos)
            assert m is not None
            self._check_number(m.group(0), pos)
            radix = _RADIX.match(text, m.end()) if m.group(0) == "0" else None
            if radix:  # 0x10 would be 0·x10 = 0, silently
                raise self.error(f"'0{radix.group(0)}' looks like a number in another base: "
                                 "symgrad reads numbers in decimal", pos,
                                 "write the number in decimal (0x10 is 16), or 0*x10 for a product")
            if m.end() < n and text[m.end()] == ".":
                raise self.error("a number cannot have two decimal points", m.end())
            return "NUMBER", m.group(0), m.end()
        if ch.isascii() and ch.isalpha():
            m = _WORD.match(text, pos)
            assert m is not None
            return (*self._classify_word(m, pos, m.end()), m.end())
        if ch in GREEK_LETTERS or ch == "π":
            m = _GREEK_REST.match(text, pos + 1)
            assert m is not None
            return (*self._classify_greek(ch, m, pos, m.end()), m.end())
        if ch in "√∛":
            return "FUNC", ("sqrt" if ch == "√" else "cbrt"), pos + 1
        if self.matrix and (found := self._matrix_token(ch, pos, prev, stack)) is not None:
            return found
        if ch == "*" and text.startswith("**", pos):
            return "POW", "**", pos + 2
        if ch in _SINGLE:
            return _SINGLE[ch], ch, pos + 1
        if ch == "|":
            opening = prev is None or prev in _OPERATOR_LIKE or not any(
                k == "LBAR" and p not in self._norm_bars for k, p in stack)
            return ("LBAR" if opening else "RBAR"), "|", pos + 1
        m = _SUP.match(text, pos)
        if m:
            return "SUP", m.group(0).translate(SUPERSCRIPT_CHARS), m.end()
        raise self._bad_char(ch, pos, prev)

    def _track_brackets(self, kind: str, value: str, start: int, stack: list[tuple[str, int]]) -> None:
        """Push an opening bracket (within the depth limit), pop the one a closing bracket matches."""
        if kind in _OPEN_CLOSE:
            stack.append((kind, start))
            if len(stack) > self.max_depth:
                raise self.error(
                    f"brackets nested deeper than {self.max_depth} levels", start,
                    "symgrad limits nesting so that nothing overflows; simplify the input",
                )
        elif kind in ("RPAR", "RBRACK", "RBAR"):
            if kind == "RBAR" and stack and stack[-1][0] == "LBAR" and (value == "‖") != (
                    stack[-1][1] in self._norm_bars):
                raise self.error(f"'{value}' closes nothing here: the bar at column {stack[-1][1] + 1} needs "
                                 f"'{'‖' if stack[-1][1] in self._norm_bars else '|'}' first", start)
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

    def _check_number(self, literal: str, start: int) -> None:
        mantissa, _, exponent = literal.lower().partition("e")
        digits = len(mantissa.replace(".", "").lstrip("0"))
        if digits > MAX_LITERAL_DIGITS:
            raise self.error(f"number has {digits} digits, more than the limit of {MAX_LITERAL_DIGITS}", start)
        if exponent and abs(int(exponent)) > MAX_LITERAL_EXPONENT:
            raise self.error(
                f"exponent {exponent} in a number literal is beyond the limit of ±{MAX_LITERAL_EXPONENT}", start
            )

    def _check_line_break(self, prev: str, ch: str, pos: int, stack: list[tuple[str, int]], at: int) -> None:
        """A line break between two tokens: fine where the expression must go on (after an
        operator, before a closing bracket or an operator that cannot start a term, before + or −
        inside brackets); anywhere else it would join two lines into one product or sum."""
        if prev in _OPERATOR_LIKE or ch in _CONTINUES or self.text.startswith("**", pos):
            return
        if ch == "|" and any(k == "LBAR" for k, _ in stack):
            return  # closes the open bar
        if ch in "+-−–" and stack:
            return
        raise self.error(
            "one expression per input: the input has a line break here", at,
            "join the lines into one expression (a line may end with an operator, as in x^2 +, to go on "
            "on the next); give each expression its own symgrad command",
        )

    def _refuse_transpose(self, pos: int) -> None:
        """After x^ (x a name or a closing bracket): T, {T}, -T, \\top, ⊤ or ᵀ is a transpose."""
        text = self.text
        at = _TRANSPOSE_LEAD.match(text, pos).end()  # type: ignore[union-attr]
        if not text.startswith(_TRANSPOSE_MARKS, at):
            m = _WORD.match(text, at)
            if m is None or not m.group(1).startswith("T") or any(m.groups()[1:]):
                return  # x^t, x^T1, x^T_max: powers
            word = m.group(1)
            if word != "T" and not (word[1:].islower() and word not in GREEK_NAMES):
                return  # x^Theta: a power of Θ
        raise self._transpose_error(at)

    def _transpose_error(self, at: int) -> ParseError:
        return self.error(
            "transposes need vector/matrix variables: here the variables are numbers (scalars)", at,
            "for a power of a variable T write x^(T); for vectors and matrices give their shapes "
            "(--shape \"x: n, A: n×n\" on the command line, symgrad.matrix in Python)",
        )

    def _index(self, name: str, pos: int) -> str:
        """``x[i]`` or ``x[3]``: data, by the index of a sum or by a row number (rows are 1…n)."""
        index = _INDEX.match(self.text, pos)
        inside = _BRACKETED.match(self.text, pos).group(0)  # type: ignore[union-attr]
        if index is None:
            raise self.error(
                f"'{name}{inside}': an index right after a name is a data row (from 1) or the index of a sum, "
                "as in x[i]", pos + 1,
                f"for a product with a bracket, write {name} {inside} or {name}*{inside}" if inside.endswith("]")
                else None,
            )
        value = index.group(1)
        if value.isdigit() and int(value) < 1:
            raise self.error(f"'{name}[{value}]': data rows are numbered from 1 to n", pos + 1,
                             f"the first row is {name}[1]")
        return f"{name}[{value}]"

    def _juxtaposed_call_note(self, kind: str, value: str, shown: str) -> None:
        """A name before a parenthesis multiplies, but it could be meant as a function: say so."""
        if kind == "CONST":
            what = "the constant π" if value == "pi" else "Euler's number"
            self._note(f"{shown}(…) is read as the product {shown}·(…) ({shown} is {what})")
            return
        self._note(f"{shown}(…) is read as the product {shown}·(…), not as a function (only f, g and h are); "
                   f"write {shown}*(…) to say so")

    def _classify_word(self, m: re.Match[str], start: int, end: int) -> tuple[str, str]:
        word, digits, subdigits, sub_braced, sub_plain = m.groups()
        letters = sub_braced or sub_plain
        subscript = (subdigits or "").translate(SUBSCRIPT_DIGITS) + (letters or "")
        full = word + digits
        has_sub = bool(subdigits or sub_braced or sub_plain)
        nxt = self._next_char(end)
        written = self.original[start:end]
        identifier = _IDENTIFIER.match(self.text, start).group(0)  # type: ignore[union-attr]

        if has_sub and not subdigits and f"{full}_{letters}" in FUNCTION_NAMES:
            return "FUNC", f"{full}_{letters}"  # cross_entropy
        if self.matrix and not has_sub and not digits and full in MATRIX_FUNCTIONS:
            return "FUNC", MATRIX_FUNCTIONS[full]
        # leaky_relu, log_sigmoid, gelu, log1p: never a product (symgrad's own spellings come first:
        # Derivative, which results print, is not mathjs's derivative)
        foreign = None if identifier in FUNCTION_NAMES else other_tool(identifier)
        if foreign is not None:
            raise self.error(f"unknown function '{identifier}'", start, foreign)
        if word == "log" and not digits and has_sub:
            return self._log_base(written, subscript, letters, start)
        if word == "softmax" and not digits and subscript.isdigit() and nxt == "(":
            return "FUNC", "softmax_" + subscript  # one component, as results print it
        if full in FUNCTION_NAMES and not has_sub:
            if full in SPELLED_OUT:
                self._note(f"{full} is read as {SPELLED_OUT[full]}")
            return "FUNC", full
        if full in CONSTANT_NAMES and not has_sub and not digits:
            return "CONST", CONSTANT_NAMES[full]
        if full in ABSTRACT_FUNCTIONS and not has_sub and self._called(end):
            return "FUNC", full
        if word in FUNCTION_NAMES and digits:
            raise self.error(
                f"'{full}' is a function name glued to a number", start,
                f"write {word}({digits}…) or {word} {digits}…",
            )
        if nxt == "(" and len(word) > 1 and not digits and not has_sub and word not in GREEK_NAMES:
            raise self.error(f"unknown function '{word}'", start, unknown_function_hint(word))
        if nxt == "(" and letters and len(word) > 1 and word not in GREEK_NAMES:
            # leaky_relu(x), hard_tanh(x): a name with a subscript is a variable, never a function
            # applied by juxtaposition; a one-letter or Greek base (x_i(…), θ_j(…)) multiplies, noted
            raise self.error(f"unknown function '{written}'", start, unknown_function_hint(written))
        glued = self._glued_function(word)
        if glued is not None and not digits and not has_sub:
            fn, rest = glued
            raise self.error(f"unknown name '{word}'", start, f"did you mean {fn} {rest} (that is, {fn}({rest}))?")
        if word == "sigma" and self._called(end) and not digits and not has_sub:
            self._note("sigma(…) is read as the sigmoid function σ(…)")
            return "FUNC", "sigmoid"
        name = _symbol_name(word, digits, subdigits, sub_braced or sub_plain)
        if not has_sub and not digits and 2 <= len(word) <= 3 and word.islower() and word not in GREEK_NAMES:
            self._note(f"'{word}' is one variable named {word}; for a product write {' '.join(word)}")
        return "NAME", name

    def _log_base(self, written: str, subscript: str, letters: str | None, start: int) -> tuple[str, str]:
        """``log_2``, ``log_b``, ``log_e``: a logarithm to a base; ``log_sin`` is refused (not a base)."""
        if subscript.isdigit() or subscript == "e":
            return "FUNC", "log_" + subscript
        if letters in FUNCTION_NAMES or letters in ABSTRACT_FUNCTIONS:
            raise self.error(
                f"'{written}' would be the logarithm to base {letters}, a function name", start,
                f"for ln({letters}(x)) write log({letters}(x)); for another base write log(x, b)",
            )
        self._note(f"{written}(…) is read as the logarithm to base {canonical_name(subscript)}: "
                   f"ln(…)/ln({canonical_name(subscript)})")
        return "FUNC", "log_" + subscript

    def _classify_greek(self, ch: str, m: re.Match[str], start: int, end: int) -> tuple[str, str]:
        digits, subdigits, sub_braced, sub_plain = m.groups()
        if ch == "π" and not (digits or subdigits or sub_braced or sub_plain):
            return "CONST", "pi"
        if ch in "σς" and self._called(end) and not (digits or subdigits or sub_braced or sub_plain):
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

    # vectors and matrices (matrix mode only) ----------------------------------------------------
    def _matrix_token(self, ch: str, pos: int, prev: str | None,
                      stack: list[tuple[str, int]]) -> tuple[str, str, int] | None:
        """@, ⊙, .*, ./, .^, ‖ and the postfix transposes (xᵀ, x', x.T) of matrix mode, or None."""
        text = self.text
        after_operand = prev in _OPERAND_END
        if ch == "@":
            return "TIMES", "@", pos + 1
        if ch in "⊙∘":
            return "TIMES", "⊙", pos + 1
        if ch == "." and text.startswith((".*", "./", ".^"), pos) and after_operand:
            if text.startswith(".**", pos):
                return "POW", ".^", pos + 3
            op = {"*": ("TIMES", "⊙"), "/": ("DIVIDE", "./"), "^": ("POW", ".^")}[text[pos + 1]]
            return op[0], op[1], pos + 2
        if ch == "‖":
            opening = prev is None or prev in _OPERATOR_LIKE or not any(
                k == "LBAR" and p in self._norm_bars for k, p in stack)
            if opening:
                self._norm_bars.add(pos)
                return "LBAR", "‖", pos + 1
            return "RBAR", "‖", self._norm_subscript(pos + 1)
        if not after_operand:
            return None
        end = None
        if ch in "ᵀ⊤" or ch in _PRIMES and self._next_char(pos + 1) != "(" and not self._derivative_prime(pos):
            end = pos + 1
        elif ch == "." and text.startswith(".T", pos) and not text[pos + 2 : pos + 3].isalnum():
            end = pos + 2
        if end is None:
            return None
        return self._then_inverse(end)

    def _derivative_prime(self, pos: int) -> bool:
        before = self.text[:pos].rstrip()
        name = _IDENTIFIER.search(before[-20:]) if before else None
        return name is not None and before.endswith(name.group(0)) and name.group(0) in ABSTRACT_FUNCTIONS

    _INVERSE_AFTER = re.compile(r"\s*(?:(?:\^|\*\*)\s*(?:-\s*1|\(\s*-\s*1\s*\)|\{\s*-\s*1\s*\})(?![0-9.])|⁻¹)")

    def _then_inverse(self, end: int) -> tuple[str, str, int]:
        """A transpose ending at ``end``; Xᵀ⁻¹ and X.T**(-1) (SymPy's form of X⁻ᵀ) are one token."""
        m = self._INVERSE_AFTER.match(self.text, end)
        if m is not None:
            return "SUP", "-T", m.end()
        return "SUP", "T", end

    _BRACED = re.compile(r"\s*\{\s*([+-]?)\s*([0-9]{1,4}|T|\\top|\\intercal|⊤)\s*\}")
    _SIGNED_T = re.compile(r"\s*(-?)\s*(?:T(?![A-Za-z0-9_])|\\top|\\intercal|⊤|ᵀ)")

    def _matrix_power(self, pos: int, prev: str | None) -> tuple[str, str, int] | None:
        """After ``^`` (``pos`` past it) in matrix mode: a transpose ``^T``, ``^{T}``, ``^\\top``, ``^-T``
        or a braced power ``^{-1}``, ``^{2}`` as one SUP token; None for an ordinary power."""
        m = self._BRACED.match(self.text, pos)
        if m is not None:
            sign, what = m.groups()
            if what.isdigit():
                return "SUP", ("-" if sign == "-" else "") + what, m.end()
            if sign == "+":
                return None
            return ("SUP", "-T", m.end()) if sign == "-" else self._then_inverse(m.end())
        if prev in ("NUMBER", "CONST", "SUP"):
            return None
        m = self._SIGNED_T.match(self.text, pos)
        if m is not None:
            return ("SUP", "-T", m.end()) if m.group(1) else self._then_inverse(m.end())
        try:
            self._refuse_transpose(pos)
        except ParseError:
            at = _TRANSPOSE_LEAD.match(self.text, pos).end()  # type: ignore[union-attr]
            if self.text.startswith("T", at):
                return self._then_inverse(at + 1)  # x^Tx: the scalar reading refuses it as xᵀx
            raise
        return None

    def _norm_subscript(self, pos: int) -> int:
        """‖x‖₂ and ‖x‖_2 are the 2-norm ‖x‖: skip the subscript."""
        m = re.compile(r"_\{?2\}?(?![0-9])|₂").match(self.text, pos)
        return m.end() if m is not None else pos

    def _bad_char(self, ch: str, pos: int, prev: str | None = None) -> ParseError:
        code = f"U+{ord(ch):04X}"
        after_operand = prev in _OPERAND_END
        if after_operand and ch in _PRIMES:
            return self._prime_error(pos)
        if after_operand and (ch in "ᵀ⊤" or (ch == "." and self.text.startswith(".T", pos)
                                             and not self.text[pos + 2 : pos + 3].isalnum())):
            return self._transpose_error(pos if ch != "." else pos + 1)
        if ch == "\x00" or not ch.isprintable():
            return self.error(f"control character {code} is not allowed", pos)
        hints = {
            "=": "symgrad takes an expression or a definition such as f(x) = x^2, with one '='",
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

    def _prime_error(self, pos: int) -> ParseError:
        """y′, f′(x), x': a derivative or a transpose, and symgrad reads neither as notation."""
        before = self.text[:pos].rstrip()
        name = _IDENTIFIER.search(before[-20:]) if before else None
        after = self.text[pos:].lstrip(_PRIMES).lstrip()
        if after.startswith("(") or (name is not None and before.endswith(name.group(0))
                                     and name.group(0) in ABSTRACT_FUNCTIONS):
            return self.error(
                "derivative notation like f'(x) is not read: symgrad works the derivative out itself", pos,
                'give the function itself, as in symgrad diff "x^2" (for an unknown function: symgrad diff "f(x)")',
            )
        return self.error(
            "a prime after a name is a derivative (y′) or a transpose (x′), and symgrad reads neither", pos,
            "give the formula to symgrad diff for a derivative; transposes need vector/matrix variables, "
            "which symgrad does not have yet",
        )


def _symbol_name(base: str, digits: str, subdigits: str | None, letters: str | None) -> str:
    """One canonical name for every spelling: θ₁, θ1, theta1, theta_1, theta_{1} -> theta1."""
    number = digits + (subdigits or "").translate(SUBSCRIPT_DIGITS)
    letters = letters or ""
    if letters.isdigit():
        number, letters = number + letters, ""
    name = canonical_name(base, number)
    return f"{name}_{letters}" if letters else name

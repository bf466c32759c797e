"""Parsing: the user's text -> a SymPy expression, and nothing else ever reads user text.

Stage: the first arrow of the pipeline (text -> expression). ``lexer.py`` scans, the grammar in
``grammar/symgrad.lark`` structures, ``build.py`` constructs SymPy objects. The parser is built
once per process, on first use, from the grammar shipped inside the package (or, in a source
checkout, from the top-level ``grammar/`` folder).

>>> parse("x sin x")
x*sin(x)
>>> parse("sin^2 x + e^-x")
sin(x)**2 + exp(-x)
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from symgrad.errors import ParseError, from_sympy
from symgrad.parsing.lalr import grammar_text, load_table
from symgrad.records import field, record

if TYPE_CHECKING:
    import sympy

MAX_INPUT_LENGTH = 200_000
"""Characters in one expression: a 20 000-term sum fits, a pasted file does not."""

MAX_NESTING = 1000
"""Brackets nested in one another; deeper is never handwriting."""

MAX_TREE_DEPTH = 1100
"""Depth of the expression tree (functions of functions…) in symgrad's commands, which run in a
thread with room for SymPy's recursion (``symgrad.budget``); elsewhere see ``depth_limit``."""

FRAMES_PER_LEVEL = 4
"""Python frames SymPy's printers and constructors use per level of a tree, about."""


def depth_limit() -> int:
    """The deepest tree this thread can work with: ``MAX_TREE_DEPTH``, or less where Python's
    recursion limit is lower (250 levels at its default of 1 000 frames)."""
    import sys

    return min(MAX_TREE_DEPTH, sys.getrecursionlimit() // FRAMES_PER_LEVEL)


@record
class Parsed:
    """A parsed input: the expression, the text it came from and how it was read.

    For a definition ``f(t) = t^2`` (or ``y = x^2``), ``expr`` is the right-hand side, ``defines``
    the name on the left and ``variables`` the names in its parentheses (here ``("t",)``).
    """

    text: str
    expr: sympy.Basic
    notes: tuple[str, ...] = field(default=())
    defines: str = ""
    variables: tuple[str, ...] = field(default=())

    def wrt(self, given: str | None, single: bool = False) -> str | None:
        """The variables to differentiate by: ``given`` (the --wrt option) if there is one, else
        those the definition names, comma-separated (``single``: only one, x if named, else the first).

        >>> parse_full("f(t, s) = t s^2").wrt(None), parse_full("f(t, x) = t x").wrt(None, single=True)
        ('t,s', 'x')
        >>> parse_full("t s^2").wrt(None) is None, parse_full("f(t) = t").wrt("s")
        (True, 's')
        """
        if given is not None or not self.variables:
            return given
        if single:
            return "x" if "x" in self.variables else self.variables[0]
        return ",".join(self.variables)


@lru_cache(maxsize=1)
def _parse_table() -> dict[str, object]:
    return load_table(grammar_text())


def parse_full(text: str, *, definitions: bool = True, notation: Any = None) -> Parsed:
    """Parse ``text`` into a :class:`Parsed` with the expression and the reading notes.

    A definition ``f(t) = …`` gives its right-hand side and the variables its left names (the
    commands differentiate by them); with ``definitions=False`` an '=' is refused, for callers that
    would not honour those variables (``parse``: the API, --wrt names, --at values).
    Raises :class:`~symgrad.errors.ParseError` with the position for anything it cannot read.
    ``notation``: vector/matrix notation (a ``symgrad.matrix.notation.Notation``; its ``expr`` is
    then a matrix expression node, not a SymPy object).
    """
    from symgrad.magnitude import TooLarge, guard
    from symgrad.parsing.build import Builder, finish
    from symgrad.parsing.lalr import Parser, UnexpectedToken
    from symgrad.parsing.lexer import Scanner

    if not isinstance(text, str):
        raise TypeError(f"parse() takes a string, not {type(text).__name__}")
    if len(text) > MAX_INPUT_LENGTH:
        raise ParseError(
            f"input is {len(text):,} characters, more than the limit of {MAX_INPUT_LENGTH:,}",
            text[:200], None,
        )
    if not text.strip():
        raise ParseError("the expression is empty", text, 0, suggestion='try symgrad diff "x^2"')
    definition = split_definition(text)
    if definition is not None and not definitions:
        raise ParseError("'=' is not allowed here: give the expression alone", text, definition.equals,
                         suggestion="symgrad's commands read definitions such as f(t) = t^2; here write t^2")
    start = definition.start if definition is not None else 0
    if definition is not None and not text[start:].strip():
        raise ParseError("the right-hand side of '=' is empty", text, len(text),
                         suggestion="write the formula after '=', as in f(x) = x^2")
    notes: list[str] = []
    # integration point for vectors and matrices (symgrad.matrix): its scanner mode and builder
    scanner = Scanner(text, MAX_NESTING, start) if notation is None else notation.scanner(text, MAX_NESTING, start)
    builder = Builder() if notation is None else notation.builder()
    builder._reset(text, notes)
    try:
        with guard():  # SymPy's rewriting may compute exact powers no size check saw (magnitude)
            result = Parser(_parse_table(), builder).parse(scanner.tokens())
            expr = finish(result) if notation is None else notation.finish(result, builder)
    except TooLarge as exc:
        from symgrad.errors import BudgetExceeded

        raise BudgetExceeded(exc.message,
                             suggestion="symgrad stops here: no time budget would be enough for this number") from None
    except UnexpectedToken as exc:
        raise _friendly(exc, text) from None
    except RecursionError:
        raise ParseError("the expression is nested too deeply to read", text, None) from None
    except (ArithmeticError, MemoryError) as exc:
        # SymPy evaluates numbers while building (erf(3^10) is 1 - 10^-(10^9)) and can fail on them
        from symgrad.errors import ComputeError

        raise ComputeError(
            f"SymPy could not work with a number in this expression ({type(exc).__name__})",
            suggestion="simplify the constants in the expression",
        ) from None
    except Exception as exc:
        # SymPy's TypeError/NotImplementedError on a constant it cannot compare (asec of a non-real)
        failure = from_sympy(exc)
        if failure is None:
            raise
        raise failure from None
    if notation is None:
        check_depth(expr, text)
        check_defined(expr, text)
        check_printable(expr)
        check_arguments(expr)
    check_indexed(expr if notation is None else notation.names(expr), builder.indexed_at, text)
    first = tuple(builder.first_notes)
    if definition is None:
        return Parsed(text=text, expr=expr, notes=first + tuple(scanner.notes) + tuple(notes))
    note = definition.check(expr if notation is None else notation.names(expr), text)
    return Parsed(text=text, expr=expr, notes=first + (note,) + tuple(scanner.notes) + tuple(notes),
                  defines=definition.name, variables=definition.variables)


@record
class Definition:
    """The left side of ``f(t) = …`` or ``y = …``: the name defined, its variables, where the right side starts."""

    name: str
    variables: tuple[str, ...]
    start: int
    equals: int
    shown: str = ""
    """The left side as typed: f(θ₁)."""

    def check(self, expr: sympy.Basic, text: str) -> str:
        """Refuse a right side that uses the name it defines (an equation, not a definition); the note."""
        import re

        import sympy as sp
        from sympy.core.function import AppliedUndef

        used = {s.name for s in expr.free_symbols if isinstance(s, sp.Symbol)}
        used |= {str(f.func) for f in expr.atoms(AppliedUndef)}
        if self.name in used:
            raise ParseError(
                f"'{self.name}' is defined here in terms of itself: that is an equation, and equations are not "
                "supported by this command", text, self.equals,
                suggestion=f"give {self.name}'s formula alone on the right of '='",
            )
        left = self.shown
        if not self.variables:
            return f"{left} = … is a definition: symgrad works with its right-hand side"
        by = " and ".join(re.split(r"\s*,\s*", left[left.index("(") + 1 : -1].strip()))
        return (f"{left} = … is a definition: symgrad works with its right-hand side as a function of {by} "
                f"(other names are constants)")


_EQUALS = ("≔", ":=", "=")
_COMPARISONS = ("==", "!=", "<=", ">=", "=<", "=>")


def split_definition(text: str) -> Definition | None:
    """``f(t) = t^2`` -> the name f, its variables (t) and where the right side starts; None if
    ``text`` has no '='. Anything else with an '=' is an equation or a comparison, refused here.

    >>> split_definition("f(θ₁, b) = θ₁ b")
    Definition(name='f', variables=('theta1', 'b'), start=10, equals=9, shown='f(θ₁, b)')
    >>> split_definition("x^2 + y^2 = 1")
    Traceback (most recent call last):
    ...
    symgrad.errors.ParseError: equations are not supported by this command
    """
    import re

    from symgrad.parsing.lexer import normalize

    folded = normalize(text)
    if "=" not in folded and "≔" not in folded:
        return None
    for op in _COMPARISONS:
        if op in folded:
            raise ParseError(f"'{op}' compares two sides: comparisons are not supported", text, folded.index(op),
                             suggestion="give an expression, or a definition such as f(x) = x^2")
    found = [(m.start(), m.end()) for m in re.finditer(r":=|[=≔]", folded)]
    if len(found) > 1:
        raise ParseError("the input has more than one '='", text, found[1][0],
                         suggestion="give one definition, as in f(x) = x^2")
    equals, start = found[0]
    before = folded[:equals]
    if before.count("(") + before.count("[") > before.count(")") + before.count("]"):
        raise ParseError("'=' inside brackets: keyword arguments (as in log(x, base=2)) are not notation symgrad reads",
                         text, equals, suggestion="give the arguments in order, as in log(x, 2)")
    name = r"[^\W\d_][^\W_]*(?:_(?:\{[A-Za-z0-9]+\}|[A-Za-z0-9]+))?"
    left = re.fullmatch(rf"\s*({name})\s*(?:\(\s*({name}(?:\s*,\s*{name})*)\s*\))?\s*", folded[:equals])
    if left is None:
        raise ParseError(
            "equations are not supported by this command", text, equals,
            suggestion="give an expression, or define a function: f(x) = x^2 or y = x^2 (the left side names "
                       "the function and its variables)",
        )
    shown = " ".join(folded[:equals].split())
    defined = _one_name(left.group(1), text, left.start(1), function=True)
    variables = tuple(_one_name(v.group(0), text, left.start(2) + v.start(), function=False)
                      for v in re.finditer(name, left.group(2) or ""))
    twice = [v for i, v in enumerate(variables) if v in variables[:i]]
    if twice:
        raise ParseError(f"the left side names the variable {twice[0]} twice", text, left.start(2))
    if defined in variables:
        raise ParseError(f"'{defined}' is both the function and one of its variables", text, left.start(1))
    return Definition(defined, variables, start, equals, shown)


def _one_name(piece: str, text: str, at: int, function: bool) -> str:
    """The canonical symbol name of one name on the left of '=' (θ₁ -> theta1), or an error there."""
    from symgrad.parsing.lexer import Scanner

    try:
        tokens = list(Scanner(piece, 1).tokens())
    except ParseError as exc:
        raise ParseError(exc.message, text, at + (exc.position or 0), suggestion=exc.suggestion) from None
    token = tokens[0]
    if len(tokens) == 1 and token.type == "NAME":
        return token.value
    what = {"FUNC": f"the function {piece}", "CONST": f"the constant {piece}"}.get(token.type, f"'{piece}'")
    role = "symgrad cannot define it anew" if function else "it cannot be a variable"
    raise ParseError(f"the left side of '=' names {what}: {role}", text, at,
                     suggestion="name the function and its variables with letters or words, as in f(x) = x^2 or y = "
                                "x^2")


def check_indexed(expr: sympy.Basic, indexed_at: list, text: str) -> None:
    """Refuse data indexed by a name that no sum runs over: x[i] alone, or x[j] in a sum over i.

    Inside ``sum(…, i, …)`` the index becomes the sum's integer counter; an ``x[i]`` still indexed
    by the plain (real) symbol i is outside every sum over i, and has no meaning as a number.
    """
    if not indexed_at:
        return
    named = {item for item, _ in indexed_at}
    left = {node for node in nodes(expr) if node in named}
    for item, token in indexed_at:
        if item in left:
            index = item.indices[0]
            raise ParseError(
                f"'{token.value}' is data indexed by {index}, but no sum runs over {index} here", text,
                token.start_pos,
                suggestion=f"write it inside a sum, as in sum({token.value}, {index}, 1, n); outside a sum, "
                           f"{item.base}_{index} is a plain variable",
            )


def parse(text: str) -> sympy.Basic:
    """Parse ``text`` into a SymPy expression (a ``Tuple`` for a comma-separated list).

    >>> parse("2x^2 - 3x + 1")
    2*x**2 - 3*x + 1

    A definition ``f(t) = t^2`` is refused here (its left side names the variable, which a bare
    expression cannot carry): the commands read it with ``parse_full``.
    """
    return parse_full(text, definitions=False).expr


def check_defined(expr: sympy.Basic, text: str = "") -> None:
    """Refuse expressions SymPy reduced to an undefined value (ln(0), tan(π/2), 0·∞).

    >>> check_defined(parse("ln(0) + x"))
    Traceback (most recent call last):
    ...
    symgrad.errors.InputError: the expression contains an undefined value (zoo, complex infinity), as ln(0) or
    tan(π/2) are
    """
    import sympy as sp

    from symgrad.errors import InputError

    for bad, name in ((sp.nan, "nan"), (sp.zoo, "zoo, complex infinity"), (sp.oo, "∞"), (-sp.oo, "-∞")):
        if expr.has(bad):
            raise InputError(
                f"the expression contains an undefined value ({name}), as ln(0) or tan(π/2) are",
                suggestion="check the constants: symgrad works with real, finite values",
            )
    if expr.has(sp.AccumBounds):
        # atan(ln(0)): SymPy turns a function of complex infinity into an interval, not a value
        raise InputError(
            "the expression contains an undefined value (a function of ∞, which SymPy makes an interval), "
            "as atan(ln(0)) is",
            suggestion="check the constants: symgrad works with real, finite values",
        )


def check_arguments(expr: sympy.Basic) -> None:
    """Apply the builder's size limit on function arguments to the finished tree (exit 1).

    SymPy rewrites constants as it builds: 1/sin(atan(cosh(1000)²)) becomes
    √(1 + cosh(1000)⁴)/cosh(1000)², whose square root now holds a number beyond the 10^1000 limit
    the builder checks each argument against. Refusing here keeps the promise that whatever
    parse returns prints to text that parses again.

    >>> check_arguments(parse("1/sin(atan(cosh(10)^2)) + x"))
    """
    import sympy as sp

    from symgrad.errors import BudgetExceeded
    from symgrad.magnitude import too_large
    from symgrad.parsing.build import is_constant

    constants: dict[sympy.Basic, bool] = {}

    half = (sp.Rational(1, 2), sp.Rational(-1, 2))  # printed as sqrt(…), read back as a function
    for node in nodes(expr):
        if isinstance(node, sp.Function):
            args = node.args
        elif isinstance(node, sp.Pow) and node.exp in half:
            args = (node.base,)
        else:
            continue
        for arg in args:
            if is_constant(arg, constants) and not arg.is_Rational:
                problem = too_large(arg, as_argument=True)
                if problem:
                    raise BudgetExceeded(
                        f"{problem} (SymPy's rewriting of the constants made it)",
                        suggestion="symgrad stops here: no time budget would be enough for this number",
                    )


def check_printable(expr: sympy.Basic) -> None:
    """Refuse constants SymPy cannot put in order to print (exit 1, could not compute).

    SymPy's printer sorts the terms of a sum by evaluating their numeric factors; a constant such
    as ``asin(π)¹⁰`` or ``log(1 - 10^-400)`` can make mpmath fail there (MemoryError,
    ZeroDivisionError), so the result could never be shown. The same evaluation runs here, once.

    >>> check_printable(parse("x + asin(1/2) x"))
    """
    import sympy as sp

    from symgrad.errors import ComputeError

    for node in nodes(expr):
        if not isinstance(node, sp.Add):
            continue
        for term in node.args:
            for factor in sp.Mul.make_args(term):
                if not factor.is_number or factor.is_Rational:
                    continue
                try:
                    complex(factor)
                except (TypeError, ValueError):
                    pass  # the printer catches these itself
                except (ArithmeticError, MemoryError) as exc:
                    raise ComputeError(
                        f"SymPy could not evaluate the constant {sp.sstr(factor)[:80]} ({type(exc).__name__})",
                        suggestion="simplify the constants in the expression",
                    ) from None


def check_depth(expr: sympy.Basic, text: str = "") -> None:
    """Refuse trees deeper than ``depth_limit()``, measured without recursion."""
    limit = depth_limit()
    stack = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            hint = "symgrad limits depth so that SymPy cannot overflow Python's stack"
            if limit < MAX_TREE_DEPTH:
                hint += (f"; symgrad's commands allow {MAX_TREE_DEPTH} levels, and so does "
                         "symgrad.budget.run_guarded(lambda: parse(text))")
            raise ParseError(f"the expression is nested more than {limit} levels deep", text, None, suggestion=hint)
        stack.extend((arg, depth + 1) for arg in node.args)


def nodes(expr: sympy.Basic) -> list[sympy.Basic]:
    """Every distinct node of ``expr``, parents first, without recursion (SymPy's
    ``preorder_traversal`` recurses once per level)."""
    seen: set[int] = set()
    out = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(reversed(node.args))
    return out


_TOKEN_WORDS = {
    "NUMBER": "a number", "NAME": "a name", "FUNC": "a function", "CONST": "a constant",
    "PLUS": "'+'", "MINUS": "'-'", "TIMES": "'*'", "DIVIDE": "'/'", "POW": "'^'", "SUP": "a superscript",
    "LPAR": "'('", "RPAR": "')'", "LBRACK": "'['", "RBRACK": "']'", "LBAR": "'|'", "RBAR": "'|'",
    "COMMA": "','", "$END": "the end",
}


def _friendly(exc: Exception, text: str) -> ParseError:
    """The parser's exception -> one line a person understands, with the position."""
    from symgrad.parsing.lalr import UnexpectedToken

    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = set(exc.expected)
        if tok.type == "$END":
            if expected & {"NUMBER", "NAME", "LPAR"}:
                return ParseError("the expression ends where a term is expected", text, len(text),
                                  suggestion="complete the expression after the last operator")
            return ParseError("the expression ends too early", text, len(text))
        shown = _TOKEN_WORDS.get(tok.type, repr(str(tok)))
        if tok.type in {"NUMBER", "NAME", "CONST"}:
            shown = f"{_TOKEN_WORDS[tok.type].split()[-1]} '{tok}'"
        elif tok.type == "FUNC":
            shown = f"the function '{tok}'"
        hint = None
        if tok.type in {"TIMES", "DIVIDE", "POW", "PLUS"} and expected & {"NUMBER", "NAME"}:
            hint = f"{_TOKEN_WORDS[tok.type]} needs a term on each side"
        elif tok.type == "COMMA":
            hint = "commas separate the arguments of a function like max(x, y) or log(x, 2)"
        elif tok.type in {"RPAR", "RBRACK", "RBAR"}:
            before = text[: tok.start_pos].rstrip()
            if before.endswith(","):
                return ParseError("missing argument after ','", text, tok.start_pos,
                                  suggestion="give a value after each comma, as in log(x, 2)")
            hint = "the brackets hold nothing here" if before[-1:] in "([|" else "something is missing before it"
        elif tok.type in {"NUMBER", "NAME", "CONST", "LPAR"} and expected <= {"FUNC", "TIMES", "DIVIDE", "PLUS",
                                                                              "MINUS", "RPAR", "RBRACK", "RBAR",
                                                                              "COMMA", "$END"}:
            hint = "a function written without parentheses ends at its argument: add '*' or parentheses, as in sin(x y)"
        elif tok.type == "SUP":
            hint = "a superscript follows what it raises, as in x²"
        elif expected <= {"LPAR", "POW", "SUP"} or "LPAR" in expected and tok.type in {"MINUS"}:
            hint = "write the function's argument, as in sin(x) or sin x"
        return ParseError(f"unexpected {shown}", text, tok.start_pos, suggestion=hint)
    pos = getattr(exc, "pos_in_stream", None)
    return ParseError(f"cannot read the expression: {exc}", text, pos)

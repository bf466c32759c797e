"""Builder: grammar reductions -> SymPy expressions.

Stage: parsing, second step. The LALR driver (``lalr.py``) calls one method here per ``-> alias`` of
``grammar/symgrad.lark`` at the moment it reduces the rule, so no parse tree is kept and nothing
recurses, however deep the input. Only this module constructs SymPy objects from user text, and it
does so with SymPy's constructors, never with ``sympify``/``eval``.

Sums and products are collected in flat lists (``_Terms``/``_Factors``) and handed to SymPy once,
so a 20 000-term sum costs one ``Add``, not 20 000 growing ones.

To add notation: add the rule with an ``-> alias`` to the grammar and a method of that name here.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import sympy as sp

from symgrad.errors import InputError, ParseError
from symgrad.parsing.lalr import Token
from symgrad.parsing.names import ABSTRACT_FUNCTIONS, FunctionSpec, function_table

FunctionPower = tuple[int, Token]
"""A power written on a function name (``sin^2``) and its token (``Builder.tuple`` hides the builtin)."""

MAX_POWER_BITS = 100_000
"""Bits of an exact number built from a power of numbers (9^9^9 is refused, 2^1000 is fine)."""

INVERSE_NAMES = {"sin": "arcsin", "cos": "arccos", "tan": "arctan"}

LOG_NOTE = ("log x = ln x (natural logarithm, base e), as in SymPy, NumPy and PyTorch; "
            "write log10 x or log_2 x for another base")
"""The note on every one-argument log, shown before all other notes: a calculator's log is base 10."""


class _Terms(list):
    """Terms of a sum still being read."""


class _Factors(list):
    """Factors of a product still being read; ``divided`` marks a / before a juxtaposition."""

    divided: bool = False


def _v(node: Any) -> sp.Expr:
    """Finish a pending sum or product into one SymPy expression."""
    if isinstance(node, _Terms):
        _check_exact_sum(node)
        return sp.Add(*node)
    if isinstance(node, _Factors):
        _check_exact_product(node)
        return sp.Mul(*node)
    return node


def _scalar_only() -> frozenset[str]:
    """Functions of numbers (a list argument is a mistake); softmax and friends may take lists."""
    from symgrad.parsing.names import function_table

    plain = ("sympy", "symgrad.vocabulary.functions", "symgrad.parsing")
    return frozenset(spec.name for spec in function_table().values() if spec.build.__module__.startswith(plain))


class _LazySet:
    def __contains__(self, name: object) -> bool:
        global _SCALAR_ONLY_CACHE
        if _SCALAR_ONLY_CACHE is None:
            _SCALAR_ONLY_CACHE = _scalar_only()
        return name in _SCALAR_ONLY_CACHE


_SCALAR_ONLY_CACHE: frozenset[str] | None = None
_SCALAR_ONLY = _LazySet()


def _scalar(node: Any) -> sp.Expr:
    """``_v`` for an operand of arithmetic: a list in parentheses, (a, b), cannot be one."""
    value = _v(node)
    if isinstance(value, sp.Tuple):
        from symgrad.errors import InputError

        raise InputError(
            f"the list {sp.sstr(value)} is used as a number",
            suggestion="a list in parentheses, (a, b), can only hold the arguments of a function",
        )
    return value


MAX_PRODUCT_BITS = 4 * MAX_POWER_BITS
"""Bits of an exact product of numbers: SymPy multiplies them out at once, in C."""


def _check_exact_sum(terms: list[Any]) -> None:
    """Refuse sums of fractions whose common denominator would be a giant integer."""
    numbers = [t for t in terms if getattr(t, "is_Rational", False)]
    if len(numbers) < 2:
        return
    bits = sum(q.bit_length() for q in {int(t.q) for t in numbers}) + max(int(t.p).bit_length() for t in numbers)
    if bits > MAX_PRODUCT_BITS:
        from symgrad.errors import InputError

        raise InputError(
            f"the exact sum of these fractions would have about {int(bits * math.log10(2)):,} digits "
            f"(the limit is {int(MAX_PRODUCT_BITS * math.log10(2)):,})",
            suggestion="symgrad computes with exact numbers; keep them to a size a person could check",
        )


def _check_exact_product(factors: list[Any]) -> None:
    """Refuse products like 2^99999·2^99999·… before SymPy multiplies them into a giant integer."""
    bits = sum(f.p.bit_length() + f.q.bit_length() for f in factors if getattr(f, "is_Rational", False))
    if bits > MAX_PRODUCT_BITS:
        from symgrad.errors import InputError

        raise InputError(
            f"the product of these numbers would have about {int(bits * math.log10(2)):,} digits "
            f"(the limit is {int(MAX_PRODUCT_BITS * math.log10(2)):,})",
            suggestion="symgrad computes with exact numbers; keep them to a size a person could check",
        )


class Builder:
    """The callbacks the parser runs on each reduction, children as arguments; one instance per parse."""

    def __init__(self) -> None:
        self.text = ""
        self.notes: list[str] = []
        self.first_notes: list[str] = []
        self.indexed_at: list[tuple[sp.Indexed, Token]] = []
        self._symbols: dict[str, sp.Symbol] = {}
        self._constants: dict[sp.Basic, bool] = {}
        self._undefined: dict[sp.Basic, bool] = {}

    def _reset(self, text: str, notes: list[str]) -> None:
        self.text = text
        self.notes = notes
        self.first_notes = []  # notes that change what a familiar name means (log is ln): shown first
        self.indexed_at = []  # x[i] with a name as index, and where: a sum over i must bind it
        self._constants = {}
        self._undefined = {}

    def _error(self, message: str, token: Token | None, suggestion: str | None = None) -> ParseError:
        pos = token.start_pos if token is not None else None
        return ParseError(message, self.text, pos, suggestion=suggestion)

    def _note(self, note: str, first: bool = False) -> None:
        if note not in self.notes and note not in self.first_notes:
            (self.first_notes if first else self.notes).append(note)

    # atoms -----------------------------------------------------------------------------------
    def number(self, tok: Token) -> sp.Expr:
        value = Fraction(str(tok))
        return sp.Rational(value.numerator, value.denominator)

    def name(self, tok: Token) -> sp.Symbol:
        return self._symbol(tok.value)

    def _symbol(self, name: str) -> sp.Symbol:
        sym = self._symbols.get(name)
        if sym is None:
            sym = self._symbols[name] = sp.Symbol(name, real=True)
        return sym

    def indexed(self, tok: Token) -> sp.Expr:
        from symgrad.vocabulary.sums import build_indexed

        base, _, index = tok.value[:-1].partition("[")
        position = sp.Integer(int(index)) if index.isdigit() else self._symbol(index)
        result = build_indexed(self._symbol(base), position)
        if not index.isdigit():
            self.indexed_at.append((result, tok))
        return result

    def const(self, tok: Token) -> sp.Expr:
        return sp.pi if tok.value == "pi" else sp.E

    def paren(self, _open: Token, inner: Any, _close: Token) -> sp.Expr:
        return _v(inner)

    def tuple(self, _open: Token, items: list[Any], _close: Token) -> sp.Tuple:
        if _open.type == "LBRACK":
            self._note("[…] with commas is read as a list (a vector) of its entries")
        return sp.Tuple(*items)

    def absolute(self, _open: Token, inner: Any, _close: Token) -> sp.Expr:
        return sp.Abs(_scalar(inner))

    def exprs(self, first: Any, _comma: Token, last: Any) -> list[Any]:
        items = first if isinstance(first, list) and not isinstance(first, (_Terms, _Factors)) else [_v(first)]
        items.append(_v(last))
        return items

    def toplevel_list(self, items: list[Any]) -> sp.Tuple:
        return sp.Tuple(*items)

    # sums ------------------------------------------------------------------------------------
    def add(self, left: Any, _op: Token, right: Any) -> _Terms:
        terms = left if isinstance(left, _Terms) else _Terms([_scalar(left)])
        terms.append(_scalar(right))
        return terms

    def sub(self, left: Any, _op: Token, right: Any) -> _Terms:
        terms = left if isinstance(left, _Terms) else _Terms([_scalar(left)])
        terms.append(-_scalar(right))
        return terms

    def neg(self, _op: Token, operand: Any) -> sp.Expr:
        return -_scalar(operand)

    def pos(self, _op: Token, operand: Any) -> sp.Expr:
        return _scalar(operand)

    # products --------------------------------------------------------------------------------
    def _factors(self, left: Any) -> _Factors:
        return left if isinstance(left, _Factors) else _Factors([_scalar(left)])

    def mul(self, left: Any, _op: Token, right: Any) -> _Factors:
        factors = self._factors(left)
        factors.append(_scalar(right))
        return factors

    def div(self, left: Any, op: Token, right: Any) -> _Factors:
        factors = self._factors(left)
        divisor = _scalar(right)
        if divisor.is_zero:
            raise self._error("division by zero", op)
        factors.append(sp.Pow(divisor, -1))
        factors.divided = True
        return factors

    def jmul(self, left: Any, right: Any) -> _Factors:
        factors = self._factors(left)
        if factors.divided:
            self._note("juxtaposition multiplies like * and groups left to right: 1/2x is (1/2)·x; write 1/(2x) for "
                       "the other reading")
        factors.append(_scalar(right))
        return factors

    def plains(self, *children: Any) -> Any:
        if len(children) == 1:
            return children[0]
        factors = self._factors(children[0])
        factors.append(_scalar(children[1]))
        return factors

    # powers ----------------------------------------------------------------------------------
    def _refuse_undefined(self, values: list[sp.Expr], tok: Token, what: str) -> None:
        """An undefined value (ln(0) is zoo) must stop here, with a caret: past this point SymPy
        turns it into intervals (atan(zoo)) or fails inside its own number code ('NaN' has no _mpf_)."""
        for value in values:
            if isinstance(value, sp.Basic) and has_undefined(value, self._undefined):
                raise self._error(
                    f"{what} is undefined here: it contains {'nan' if value.has(sp.nan) else 'complex infinity'} "
                    "(as ln(0) or tan(π/2) are)", tok,
                    "check the constants: symgrad works with real, finite values",
                )

    def _pow(self, base: sp.Expr, exponent: sp.Expr, tok: Token) -> sp.Expr:
        self._refuse_undefined([base, exponent], tok, "the power")
        if base.is_zero and exponent.is_negative:
            raise self._error("0 to a negative power is a division by zero", tok)
        if base.is_Rational and exponent.is_Rational:
            size = max(abs(base.p), abs(base.q), 2)
            # in logarithms: p/q itself may be too large for a float (1e1000)
            ratio = math.log2(abs(exponent.p)) - math.log2(exponent.q) if exponent.p else -math.inf
            lg_digits = ratio * math.log10(2) + math.log10(math.log10(size))  # log10 of the result's digits
            if lg_digits > math.log10(MAX_POWER_BITS * math.log10(2)):
                raise self._error(
                    f"{_short(base)}^{_short(exponent)} is too large to compute exactly "
                    f"(about {_count(lg_digits)} digits; the limit is {int(MAX_POWER_BITS * math.log10(2)):,})",
                    tok,
                )
        if is_constant(exponent, self._constants):
            self._check_size(sp.Pow(base, exponent, evaluate=False) if is_constant(base, self._constants) else exponent,
                             tok, "^")
        return sp.Pow(base, exponent)

    def _check_size(self, node: sp.Expr, tok: Token, role: str) -> None:
        """Refuse numbers SymPy would spend minutes evaluating (see ``symgrad.magnitude``): exit 1."""
        from symgrad.errors import BudgetExceeded
        from symgrad.magnitude import too_large

        problem = too_large(node, as_argument=role != "^" or not node.is_Pow)
        if problem:
            raise BudgetExceeded(
                f"{problem} (column {tok.start_pos + 1})",
                suggestion="symgrad stops here: no time budget would be enough for this number",
            )

    def power(self, base: Any, tok: Token, exponent: Any) -> sp.Expr:
        return self._pow(_scalar(base), _scalar(exponent), tok)

    def sup_power(self, base: Any, sup: Token) -> sp.Expr:
        return self._pow(_scalar(base), sp.Integer(int(sup.value)), sup)

    # functions -------------------------------------------------------------------------------
    def fpow(self, _pow: Token, num: Token) -> FunctionPower:
        return self._fpow_value(str(num), num)

    def fpow_neg(self, _pow: Token, _minus: Token, num: Token) -> FunctionPower:
        return self._fpow_value("-" + str(num), num)

    def fpow_sup(self, sup: Token) -> FunctionPower:
        return self._fpow_value(sup.value, sup)

    def _fpow_value(self, text: str, tok: Token) -> FunctionPower:
        from decimal import Decimal

        exact = Decimal(text)  # a NUMBER token or superscript digits: 2, 1e3, 2.0, 0.5
        if exact != exact.to_integral_value():
            raise self._error(f"the power on a function name must be a whole number, not {text}", tok,
                              "write (sin x)^0.5 for other powers")
        value = int(exact)  # 1e3 is 1000 and 2.0 is 2, as decimals are exact everywhere else
        if value > 1000:
            raise self._error(f"the power {text} on a function name is above the limit of 1000", tok,
                              "write the power after the argument, as in (sin x)^2000")
        if value == 0 or value < -1:
            raise self._error(f"'^{text}' on a function name is not supported", tok,
                              "use a positive whole power like sin^2 x, or ^-1 for the inverse")
        return value, tok

    def one_arg(self, arg: Any) -> list[sp.Expr]:
        return [_v(arg)]

    def no_args(self) -> list[sp.Expr]:
        return []

    def _apply(self, func: Token, args: list[sp.Expr], fpow: FunctionPower | None) -> sp.Expr:
        name = func.value
        self._refuse_undefined(args, func, f"the argument of {name}")
        if fpow is not None and fpow[0] == -1:
            spec = function_table().get(name)  # log_2, f, g, h have no entry: no inverse either
            if spec is None or spec.inverse is None or name in ABSTRACT_FUNCTIONS:
                raise self._error(f"{name}^-1 (an inverse function) is not available", fpow[1],
                                  f"write 1/{name}(x) for the reciprocal")
            inverse = function_table()[spec.inverse]
            shown = INVERSE_NAMES.get(name, spec.inverse)
            self._note(f"{name}^-1 is read as the inverse function {shown}, not 1/{name}")
            return self._call(inverse, spec.inverse, args, func)
        if name in ABSTRACT_FUNCTIONS:
            if len(args) != 1:
                raise self._error(f"{name}(…) takes one argument here, got {len(args)}", func)
            result: sp.Expr = sp.Function(name, real=True)(*args)
        elif name.startswith("softmax_"):
            from symgrad.vocabulary.softmax import build_component, explain

            result = self._built(lambda: build_component(name[len("softmax_"):], *args), func)
            self._note(explain("softmax", tuple(args)) or "")
        elif name.startswith("log_"):
            if len(args) != 1:
                raise self._error(f"log_b(…) takes one argument, got {len(args)}", func)
            base = self._log_base(name[4:], func)
            result = sp.log(args[0], base)
        else:
            spec = self._spec(func)
            result = self._call(spec, name, args, func)
        if fpow is not None and fpow[0] != 1:
            result = sp.Pow(result, fpow[0])
        return result

    def _log_base(self, text: str, func: Token) -> sp.Expr:
        if text.isdigit():
            base: sp.Expr = sp.Integer(int(text))
            if base <= 1:
                raise self._error(f"log base {text} is not a valid base", func)
            return base
        if text == "e":
            return sp.E
        return self._symbol(text)

    def _spec(self, func: Token) -> FunctionSpec:
        return function_table()[func.value]

    def _call(self, spec: FunctionSpec, name: str, args: list[sp.Expr], func: Token) -> sp.Expr:
        arities = spec.arities
        if arities is None and len(args) == 1 and isinstance(args[0], sp.Tuple):
            # max([a, b]), softmax([a1, a2]): NumPy's and PyTorch's way of passing the vector
            self._note(f"{name} of a list is read as {name} of the list's entries")
            args = list(args[0].args)
        count = len(args)
        if arities is None:
            if count < 2:
                raise self._error(f"{name}(…) takes two or more arguments, got {count}", func)
        elif count not in arities:
            wanted = " or ".join(str(a) for a in arities)
            plural = "argument" if arities == (1,) else "arguments"
            raise self._error(f"{name}(…) takes {wanted} {plural}, got {count}", func)
        if spec.name == "log":
            if count == 2:
                base = args[1]
                if is_constant(base, self._constants) and (base.is_nonpositive or base == 1):
                    raise self._error(f"log base {base} is not a valid base", func)
                self._note(f"log(x, b) is the logarithm of x to base b (value first, base second): "
                           f"here base {sp.sstr(base)}")
            else:
                self._note(LOG_NOTE, first=True)
        for arg in args:
            if isinstance(arg, sp.Tuple) and spec.name in _SCALAR_ONLY:
                raise self._error(f"{name}(…) takes numbers, not the list {sp.sstr(arg)}", func,
                                  "a list in parentheses, (a, b), can only hold the arguments of a function")
            if is_constant(arg, self._constants):
                self._check_size(arg, func, name)
        if spec.name == "pow":
            result = self._pow(args[0], args[1], func)  # the size checks of x^y
        elif spec.name == "root":
            if args[1].is_zero:
                raise self._error(f"{name}(x, 0) is not defined: the root's degree must not be 0", func)
            result = self._pow(args[0], sp.Pow(args[1], -1), func)
        elif count == 1 and inert(spec.build, args[0], self._constants):
            result = spec.build(args[0], evaluate=False)  # what SymPy would build, without its cost
        else:
            result = self._built(lambda: spec.build(*args), func)
        if spec.explain is not None:
            note = spec.explain(*args)
            if note:
                self._note(note)
        return result

    def _built(self, build: Any, func: Token) -> sp.Expr:
        """Run a builder; its InputError (wrong arguments) becomes a ParseError at the function name."""
        try:
            return build()
        except ParseError:
            raise
        except InputError as exc:
            raise self._error(exc.message, func, exc.suggestion) from None

    def call(self, func: Token, _open: Token, args: list[sp.Expr], _close: Token) -> sp.Expr:
        return self._apply(func, args, None)

    def call_fpow(self, func: Token, fpow: FunctionPower, _open: Token, args: list[sp.Expr], _close: Token) -> sp.Expr:
        return self._apply(func, args, fpow)

    def bare(self, func: Token, arg: Any) -> sp.Expr:
        return self._bare(func, arg, None)

    def bare_fpow(self, func: Token, fpow: FunctionPower, arg: Any) -> sp.Expr:
        return self._bare(func, arg, fpow)

    def _bare(self, func: Token, arg: Any, fpow: FunctionPower | None) -> sp.Expr:
        if isinstance(arg, _Factors) and len(arg) > 1:
            self._note(f"a function without parentheses takes the factors after it: {func.value} applies to the "
                       f"product {sp.sstr(_v(arg))}")
        return self._apply(func, [_scalar(arg)], fpow)


def _short(number: sp.Expr) -> str:
    """A number for a message: itself if short, else its size (a message stays one line)."""
    from symgrad.magnitude import _wrap, describe

    return _wrap(describe(number))


def _count(lg: float) -> str:
    from symgrad.magnitude import _count as count

    return count(lg)


def _remembered(expr: sp.Basic, memo: dict[sp.Basic, bool], leaf: Any, combine: Any) -> bool:
    """A property of ``expr`` computed bottom-up without recursion, each node once: ``leaf(node)``
    decides a node by itself (or returns None), else ``combine`` (all/any) of its arguments' values.
    ``memo`` keeps every node's value, so one parse asks about each subtree once."""
    stack = [expr]
    while stack:
        node = stack[-1]
        if node in memo:
            stack.pop()
            continue
        value = leaf(node)
        if value is not None:
            memo[node] = value
            stack.pop()
            continue
        pending = [a for a in node.args if a not in memo]
        if pending:
            stack.extend(pending)
            continue
        memo[node] = combine(memo[a] for a in node.args)
        stack.pop()
    return memo[expr]


def _number_leaf(node: sp.Basic) -> bool | None:
    if not node.args or getattr(type(node), "is_number", None) is not sp.Expr.is_number:
        return bool(getattr(node, "is_number", False))  # leaves, and classes with their own rule
    return None


def is_constant(expr: sp.Basic, memo: dict[sp.Basic, bool]) -> bool:
    """``expr.is_number``, remembered for every node of the tree (``memo`` is shared by one parse).

    SymPy's ``is_number`` walks the whole tree on every call; asked at each level of a chain n
    deep, that is n²/2 visits. With the memo each node is visited once.

    >>> x = sp.Symbol("x")
    >>> memo = {}
    >>> is_constant(sp.sin(sp.pi / 7), memo), is_constant(sp.sin(sp.sin(x)), memo), memo[sp.sin(x)]
    (True, False, False)
    """
    return _remembered(expr, memo, _number_leaf, all)


def _undefined_leaf(node: sp.Basic) -> bool | None:
    if node is sp.zoo or node is sp.nan:
        return True
    return False if not node.args else None


def has_undefined(expr: sp.Basic, memo: dict[sp.Basic, bool]) -> bool:
    """``expr.has(zoo, nan)``, remembered for every node (``memo`` is shared by one parse): asked
    at every level of a chain n deep, ``has`` alone would visit n²/2 nodes.

    >>> x = sp.Symbol("x")
    >>> memo = {}
    >>> has_undefined(sp.sin(sp.sin(x)), memo), has_undefined(sp.sin(x) + sp.zoo, memo), memo[sp.sin(x)]
    (False, True, False)
    """
    return _remembered(expr, memo, _undefined_leaf, any)


_INERT_NAMES = ("sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh", "coth", "sech", "csch", "exp", "log",
                "atan", "acot", "asinh", "sigmoid", "softplus")
_TRIG = ("sin", "cos", "tan", "cot", "sec", "csc")
_HYPERBOLIC = ("sinh", "cosh", "tanh", "coth", "sech", "csch")
_INVERSE_PAIRS = (
    {("exp", "log"), ("log", "exp")}
    | {(f, g) for f in _TRIG for g in ("atan", "acot")}  # sin(atan(u)) = u/√(u² + 1)
    | {(f, "asinh") for f in _HYPERBOLIC}  # cosh(asinh(u)) = √(u² + 1)
)
"""Pairs F(G(u)) that SymPy rewrites (``tests/test_deep.py`` finds them all among ``_INERT_NAMES``)."""

_inert_classes: dict[str, type] = {}


def inert_class(name: str) -> type | None:
    """The class of the function ``name`` in ``_INERT_NAMES``: SymPy's, or symgrad's σ and softplus."""
    if not _inert_classes:
        from symgrad.vocabulary import functions

        _inert_classes.update({n: getattr(functions, n, None) or getattr(sp, n) for n in _INERT_NAMES})
    return _inert_classes.get(name)


def inert(build: Any, arg: sp.Basic, memo: dict[sp.Basic, bool]) -> bool:
    """True when SymPy's evaluation of ``build(arg)`` cannot change it: F(G(…)) with F and G among
    the functions above (not a pair of ``_INVERSE_PAIRS``) and G(…) not a constant.

    SymPy's constructors ask the argument's assumptions, and answering them walks the argument's
    whole tree, so building a chain n deep costs n² (a chain 1000 deep: 5 s). For these pairs the
    evaluation finds nothing to do: every rule of their ``eval`` needs a number, a sign that can be
    pulled out (never out of a function call) or an inverse function inside
    (``tests/test_deep.py`` checks every pair against SymPy), so symgrad builds the same object
    directly.
    """
    outer = getattr(build, "__name__", "")
    inner = type(arg).__name__
    return (
        isinstance(build, type) and inert_class(outer) is build and inert_class(inner) is type(arg)
        and (outer, inner) not in _INVERSE_PAIRS and not is_constant(arg, memo)
    )


def finish(node: Any) -> sp.Basic:
    """The parser's final value as a SymPy object."""
    return _v(node)

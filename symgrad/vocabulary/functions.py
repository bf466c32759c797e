"""The functions SymPy lacks or defines differently: sigmoid, relu, softplus, floor, ceiling, round.

Stage: vocabulary. The parser builds these; the step engine, the printers and the numeric
backends know them by class. They stay named functions so results read σ(x)(1 − σ(x)), not
exponential forms; ``.rewrite(exp)`` gives the closed form when it is wanted.

To add a function: subclass ``sympy.Function`` with ``fdiff`` (its derivative), ``eval`` for exact
values, ``_eval_rewrite_as_exp`` (or another closed form) and printer hooks, then name it in
``symgrad.parsing.names``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sympy
from sympy import Function, Heaviside, S, exp, log


class sigmoid(Function):
    """The logistic function σ(x) = 1 / (1 + e^(−x)); σ′ = σ(1 − σ).

    >>> from sympy import Symbol, diff
    >>> x = Symbol("x")
    >>> diff(sigmoid(x), x)
    sigmoid(x)*(1 - sigmoid(x))
    """

    nargs = 1

    @classmethod
    def class_key(cls) -> tuple[int, int, str]:
        # sort σ(x) before sums in products, so σ′ prints as σ(x)(1 − σ(x)) as it is taught
        return 2, 1, cls.__name__

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    @classmethod
    def eval(cls, arg: sympy.Expr) -> sympy.Expr | None:
        if arg.is_zero:
            return S.Half
        if arg is S.Infinity:
            return S.One
        if arg is S.NegativeInfinity:
            return S.Zero
        return None

    def _eval_rewrite_as_exp(self, arg: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return 1 / (1 + exp(-arg))

    def _eval_mpmath(self) -> tuple[Callable[[Any], Any], tuple[sympy.Expr, ...]]:
        # numerically, with SymPy's Function._eval_evalf: the argument is evaluated once. Through
        # the symbolic 1/(1 + e^(−u)) evalf would evaluate u again at each retry, which nested
        # costs exponential time (σ(tanh(σ(…))) 16 deep: seconds)
        import mpmath

        return (lambda a: 1 / (1 + mpmath.exp(-a))), self.args

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_is_positive(self) -> bool | None:
        return True if self.args[0].is_real else None

    def _latex(self, printer: sympy.printing.latex.LatexPrinter, exp: str | None = None) -> str:
        # ``exp`` is passed when the function is raised to a power: σ²(x)
        name = r"\sigma" if exp is None else r"\sigma^{%s}" % exp
        return r"%s\left(%s\right)" % (name, printer._print(self.args[0]))

    def _pretty(self, printer: object) -> object:
        return _pretty_named(printer, "σ", self.args)

    def _sympystr(self, printer: object) -> str:
        return "sigmoid(%s)" % printer._print(self.args[0])  # type: ignore[attr-defined]


class relu(Function):
    """The rectifier relu(x) = max(0, x); relu′(x) = H(x): 0 for x < 0, 1 for x > 0, undefined at 0.

    >>> from sympy import Symbol, diff
    >>> x = Symbol("x")
    >>> diff(relu(x), x)
    Heaviside(x)
    """

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return Heaviside(self.args[0])

    @classmethod
    def eval(cls, arg: sympy.Expr) -> sympy.Expr | None:
        if arg.is_number and arg.is_extended_real:
            return arg if arg.is_nonnegative else S.Zero
        if arg.is_nonnegative:
            return arg
        if arg.is_nonpositive:
            return S.Zero
        return None

    def _eval_rewrite_as_Max(self, arg: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return sympy.Max(0, arg)

    def _eval_rewrite_as_Piecewise(self, arg: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return sympy.Piecewise((0, arg < 0), (arg, True))

    def _eval_evalf(self, prec: int) -> sympy.Expr | None:
        value = self.args[0]._eval_evalf(prec)
        if value is None or not value.is_extended_real:
            return None
        return value if value >= 0 else S.Zero

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_is_nonnegative(self) -> bool | None:
        return True if self.args[0].is_real else None

    def _latex(self, printer: sympy.printing.latex.LatexPrinter, exp: str | None = None) -> str:
        name = r"\operatorname{relu}" if exp is None else r"\operatorname{relu}^{%s}" % exp
        return r"%s\left(%s\right)" % (name, printer._print(self.args[0]))

    def _sympystr(self, printer: object) -> str:
        return "relu(%s)" % printer._print(self.args[0])  # type: ignore[attr-defined]


class softplus(Function):
    """softplus(x) = ln(1 + eˣ); softplus′ = σ.

    >>> from sympy import Symbol, diff
    >>> x = Symbol("x")
    >>> diff(softplus(x), x)
    sigmoid(x)
    """

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sigmoid(self.args[0])

    @classmethod
    def eval(cls, arg: sympy.Expr) -> sympy.Expr | None:
        if arg.is_zero:
            return log(2)
        return None

    def _eval_rewrite_as_exp(self, arg: sympy.Expr, **kwargs: object) -> sympy.Expr:
        return log(1 + exp(arg))

    _eval_rewrite_as_log = _eval_rewrite_as_exp

    def _eval_mpmath(self) -> tuple[Callable[[Any], Any], tuple[sympy.Expr, ...]]:
        import mpmath  # see sigmoid; log1p keeps softplus(−800) = e^(−800) instead of 0

        return (lambda a: mpmath.log1p(mpmath.exp(a))), self.args

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_is_positive(self) -> bool | None:
        return True if self.args[0].is_real else None

    def _latex(self, printer: sympy.printing.latex.LatexPrinter, exp: str | None = None) -> str:
        name = r"\operatorname{softplus}" if exp is None else r"\operatorname{softplus}^{%s}" % exp
        return r"%s\left(%s\right)" % (name, printer._print(self.args[0]))

    def _sympystr(self, printer: object) -> str:
        return "softplus(%s)" % printer._print(self.args[0])  # type: ignore[attr-defined]


def _pretty_named(printer: object, name: str, args: tuple[sympy.Expr, ...]) -> object:
    """Pretty-print ``name(args)`` with SymPy's own function layout."""
    from sympy.printing.pretty.stringpict import prettyForm

    inner = printer._print_seq(args, "(", ")")  # type: ignore[attr-defined]
    return prettyForm(*inner.left(name))


class floor(sympy.floor):
    """⌊x⌋, the largest whole number ≤ x: SymPy's, with its derivative 0 between the jumps.

    SymPy leaves d/dx floor(x) unevaluated; symgrad's is 0, and says where it does not exist: at
    every point where the argument crosses a whole number (``jump_note``).

    >>> from sympy import Symbol, diff
    >>> x = Symbol("x", real=True)
    >>> diff(floor(x**2), x)
    0
    """

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return S.Zero


class ceiling(sympy.ceiling):
    """⌈x⌉, the smallest whole number ≥ x: SymPy's, with its derivative 0 between the jumps."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return S.Zero


class round(Function):
    """round(x): the nearest whole number, halves to the even one (as Python, NumPy and PyTorch).

    >>> from sympy import Rational, Symbol, diff
    >>> round(Rational(5, 2)), round(Rational(7, 2)), round(Rational(-13, 10))
    (2, 4, -1)
    >>> diff(round(Symbol("x", real=True)), Symbol("x", real=True))
    0
    """

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return S.Zero

    @classmethod
    def eval(cls, arg: sympy.Expr) -> sympy.Expr | None:
        if arg.is_integer:
            return arg
        if arg.is_number and arg.is_extended_real and arg.is_finite:
            low = sympy.floor(arg)
            if not low.is_Integer:
                return None
            above = (arg - low - S.Half)
            sign = above.is_positive, above.is_negative, above.is_zero
            if sign[0]:
                return low + 1
            if sign[1]:
                return low
            if sign[2]:
                return low if low.is_even else low + 1
        return None

    def _eval_is_integer(self) -> bool | None:
        return True if self.args[0].is_finite and self.args[0].is_real else None

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_evalf(self, prec: int) -> sympy.Expr | None:
        value = self.args[0]._eval_evalf(prec)
        if value is None or not value.is_Float:
            return None
        return round.eval(sympy.Rational(value))

    def _latex(self, printer: sympy.printing.latex.LatexPrinter, exp: str | None = None) -> str:
        name = r"\operatorname{round}" if exp is None else r"\operatorname{round}^{%s}" % exp
        return r"%s\left(%s\right)" % (name, printer._print(self.args[0]))

    def _sympystr(self, printer: object) -> str:
        return "round(%s)" % printer._print(self.args[0])  # type: ignore[attr-defined]


STEP_FUNCTIONS: dict[type, sympy.Rational] = {floor: S.Zero, ceiling: S.Zero, round: S.Half}
"""Functions constant between jumps, each with the offset of its jumps: floor and ceiling jump
where the argument is a whole number, round where it is a whole number plus 1/2."""


def no_derivative_note(expr: sympy.Basic, point: Mapping[sympy.Symbol, sympy.Expr],
                       wrt: sympy.Symbol | None = None) -> str | None:
    """Why symgrad gives no value for a derivative of ``expr`` at ``point``, or None; with ``wrt``,
    for the partial derivative along ``wrt`` only (floor(x) jumping does not stop ∂/∂y: along y,
    floor(x) is a constant).

    - a floor, ceiling or round in ``expr`` is at one of its jumps (or may be: its argument is
      whole there but does not move, as x² at 0);
    - a sinc is at 0, where the formula of its derivative, (cos u − sinc u)/u, is 0/0 (the
      derivative exists there, but evaluating the formula cannot give it).

    >>> from sympy import Integer, Rational, Symbol, sinc
    >>> x = Symbol("x", real=True)
    >>> no_derivative_note(x * floor(x), {x: Integer(2)})
    'floor(x) jumps at x=2 (x is a whole number there): symgrad gives no derivative at a jump'
    >>> no_derivative_note(floor(x**2), {x: Integer(0)})
    'floor(x**2) is at a jump value at x=0 (x**2 is a whole number there): it may jump, so symgrad gives no value'
    >>> no_derivative_note(sinc(2*x), {x: Integer(0)})
    'sinc(2*x) is at 0 at x=0, where the formula of its derivative is 0/0 (the limit exists, but symgrad cannot
    evaluate it from the formula)'
    >>> no_derivative_note(round(x), {x: Rational(1, 3)}) is None
    True
    >>> y = Symbol("y", real=True)
    >>> no_derivative_note(floor(x) + y**2, {x: Integer(1), y: Integer(2)}, wrt=y) is None
    True
    """
    at = ", ".join(f"{k}={v}" for k, v in point.items())
    for node in _walk(expr):
        kind = type(node)
        if kind is not sympy.sinc and kind not in STEP_FUNCTIONS:
            continue
        u = node.args[0]
        if not u.free_symbols or (wrt is not None and wrt not in u.free_symbols):
            continue
        shown = sympy.sstr(node)
        if kind is sympy.sinc:
            if u.subs(point).is_zero:
                return (f"{shown} is at 0 at {at}, where the formula of its derivative is 0/0 (the limit exists, "
                        "but symgrad cannot evaluate it from the formula)")
            continue
        here = (u - STEP_FUNCTIONS[kind]).subs(point)
        if not (here.is_number and here.is_integer):
            continue
        what = "a whole number" if kind is not round else "a whole number plus 1/2"
        slopes = [sympy.diff(u, v).subs(point) for v in sorted(u.free_symbols, key=str)]
        if any(s.is_number and s.is_nonzero for s in slopes):
            return f"{shown} jumps at {at} ({sympy.sstr(u)} is {what} there): symgrad gives no derivative at a jump"
        return (f"{shown} is at a jump value at {at} ({sympy.sstr(u)} is {what} there): it may jump, "
                "so symgrad gives no value")
    return None


def _walk(expr: sympy.Basic) -> list[sympy.Basic]:
    """The distinct nodes of ``expr``, parents first, without recursion (trees may be 1000 levels
    deep, and share subtrees)."""
    out, stack, seen = [], [expr], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(reversed(node.args))
    return out

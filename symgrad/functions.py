"""The machine-learning functions SymPy lacks: sigmoid, relu, softplus.

Stage: vocabulary. The parser builds these; the step engine, the printers and the numeric
backends know them by class. They stay named functions so results read σ(x)(1 − σ(x)), not
exponential forms; ``.rewrite(exp)`` gives the closed form when it is wanted.

To add a function: subclass ``sympy.Function`` with ``fdiff`` (its derivative), ``eval`` for exact
values, ``_eval_rewrite_as_exp`` (or another closed form) and printer hooks, then name it in
``symgrad.parsing.names``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy
from sympy import Function, Heaviside, S, exp, log


class sigmoid(Function):  # noqa: N801 - SymPy's convention: functions are lower-case classes
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


class relu(Function):  # noqa: N801
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


class softplus(Function):  # noqa: N801
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


ML_FUNCTIONS: dict[str, type[Function]] = {
    "sigmoid": sigmoid,
    "relu": relu,
    "softplus": softplus,
}

"""The objective of a descent: ``value_and_grad(point, step) -> (f, ∇f)``, and why a point has none.

Stage: numbers (between the compiled code and the descent loop). ``objective(compiled)`` makes one
from ``symgrad.compile`` (``symgrad.numeric.data`` makes mini-batch ones). An objective raises
``Undefined`` to say why a point has no usable value: its ``cause`` is one of ``CAUSES``, its message
says what is wrong (f or ∇f: ``_which``). ``PeriodicGuard`` refuses points where a periodic
function's argument is so large that no digit of its value means anything. To add a cause: a name
in ``CAUSES`` and the ``Undefined`` that raises it.

>>> from symgrad.numeric.compile import compile
>>> vg = objective(compile("x^2", backend="math"))
>>> vg((3.0,), 0)
(9.0, [6.0])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

CAUSES = ("overflow", "domain", "pole", "precision", "growth")
"""Why a run diverged (``Run.cause``)."""


ValueAndGrad = Callable[[tuple[float, ...], int], tuple[float, Sequence[float]]]


class Undefined(ArithmeticError):
    """f or ∇f has no usable value at a point; ``cause`` is one of ``CAUSES``.

    The message says what is wrong without the point (``"f is not a real number"``), ``detail``
    why (``": f is 0 there but not differentiable"``); the loop puts the point between them.
    """

    def __init__(self, cause: str, message: str, detail: str = "") -> None:
        super().__init__(message + detail)
        self.cause = cause
        self.message = message
        self.detail = detail

    def at(self, place: str) -> str:
        """The whole message, with ``place`` ("x=1", "the start x=1") where it happened."""
        return f"{self.message} at {place}{self.detail}"


# the objective -----------------------------------------------------------------------------------
def objective(compiled: Any, guard: bool = True) -> ValueAndGrad:
    """``value_and_grad(point, step)`` from a ``Compiled`` with ``value_and_grad`` (math backend is fastest).

    With ``guard``, it raises ``Undefined("precision", …)`` where a periodic function's argument
    is too large for any digit to mean anything (``PeriodicGuard``), and when an evaluation fails
    it tells f's failure from ∇f's (if ``compiled.f`` is there).
    """
    vg = compiled.value_and_grad
    if vg is None:
        raise ValueError("compile the expression with what=['value_and_grad'] (or the default)")
    f = compiled.f
    periodic = PeriodicGuard.periodic([compiled.expr, *compiled.gradient]) if guard else []

    if not periodic:
        def value_and_grad(point: tuple[float, ...], step: int) -> tuple[float, Sequence[float]]:
            try:
                return vg(*point)
            except (ArithmeticError, ValueError, TypeError) as exc:
                raise _which(f, point, exc) from None

        return value_and_grad

    # the arguments come out of the same generated function as f and ∇f, their common
    # subexpressions computed once (π·x in cos(π·x) and in ∇f's sin(π·x)): a few percent per step
    check = PeriodicGuard(periodic)
    n = len(compiled.variables)
    both = _math_function(compiled.expr, compiled.variables, [*compiled.gradient, *check.arguments])
    smallest = check.smallest

    def guarded(point: tuple[float, ...], step: int) -> tuple[float, Sequence[float]]:
        try:
            value, out = both(*point)
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise _which(f, point, exc) from None
        arguments = out[n:]
        if max(map(abs, arguments)) >= smallest:
            check.check(arguments)
        return value, out[:n]

    return guarded


def _math_function(expr: Any, variables: Sequence[Any], outputs: Sequence[Any]) -> Callable[..., Any]:
    """A generated plain-float function of ``variables`` returning (``expr``, [``outputs``…])."""
    from symgrad.numeric import codegen
    from symgrad.numeric.compile import load

    # generated as value_and_grad_f (the names generated code may define), with ``outputs`` as its "gradient"
    source = "import math\n\n\n" + codegen.function_source(
        "value_and_grad_f", expr, list(variables), "math", what="value_and_grad", gradient=list(outputs))
    return load(source, "guarded")["value_and_grad_f"]


def _which(f: Callable[..., Any] | None, point: Sequence[float], exc: BaseException) -> BaseException:
    """The failure of (f, ∇f) at ``point`` as ``Undefined``, saying whether f itself has a value there."""
    if isinstance(exc, Undefined) or (isinstance(exc, TypeError) and "complex" not in str(exc)):
        return exc
    subject, detail = "f or ∇f", ""
    if f is not None:
        try:
            value = f(*point)
        except (ArithmeticError, ValueError, TypeError) as inner:
            exc, subject = inner, "f"
        else:
            if isinstance(value, complex):
                return Undefined("domain", "f is not a real number")
            subject, detail = "∇f", f": f is {float(value):.8g} there, but not differentiable"
    return failure(subject, exc, detail)


def failure(subject: str, exc: BaseException, detail: str = "") -> Undefined:
    if isinstance(exc, OverflowError):
        return Undefined("overflow", f"{subject} is beyond the range of floating-point numbers", detail)
    if isinstance(exc, ZeroDivisionError):
        return Undefined("pole", f"{subject} divides by zero", detail)
    if isinstance(exc, TypeError):  # a complex intermediate met a real-only operation (a comparison)
        return Undefined("domain", f"{subject} is not a real number", detail)
    return Undefined("domain", f"{subject} is not defined (outside its domain)", detail)


class PeriodicGuard:
    """Refuses points where a periodic function's argument u is so large that no digit of its value
    means anything: u carries a rounding error of up to half the spacing of floats at u, so once
    that spacing (``math.ulp(u)``) reaches the period, the interval u could stand for covers a whole
    period and sin u, cos u, tan u … could be any value (for cos(πx): |πx| ≥ 2⁵⁵, where floats are 8 apart).

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> guard = PeriodicGuard.build([x * sp.cos(sp.pi * x)], [x])
    >>> guard((1e16,))   # floats 4 apart near 3.1e16: a digit or so still means something
    >>> guard((2e16,))
    Traceback (most recent call last):
    ...
    symgrad.numeric.objective.Undefined: no digit of cos(π·x) is meaningful: its argument is 6.28e+16, where floats are
    8 apart, more than its period 2π
    """

    def __init__(self, periodic: Sequence[tuple[Any, Any, float, str]],
                 arguments: Callable[..., Any] | None = None) -> None:
        from symgrad.printing.oneline import oneline

        self.arguments = tuple(arg for _, arg, _, _ in periodic)
        self.texts = tuple((oneline(atom), ptext) for atom, _, _, ptext in periodic)
        self.periods = tuple(period for _, _, period, _ in periodic)
        # ulp(u) ≥ period exactly when |u| ≥ 2^(52 + ⌈log2 period⌉): one comparison per argument
        self.smallest = min(2.0 ** (52 + math.ceil(math.log2(period))) for period in self.periods)
        self.evaluate = arguments

    @staticmethod
    def periodic(exprs: Sequence[Any]) -> list[tuple[Any, Any, float, str]]:
        """Each periodic function application in ``exprs`` once: (it, its argument, period, period text)."""
        import sympy as sp

        periods = {sp.sin: (2 * math.pi, "2π"), sp.cos: (2 * math.pi, "2π"), sp.sec: (2 * math.pi, "2π"),
                   sp.csc: (2 * math.pi, "2π"), sp.tan: (math.pi, "π"), sp.cot: (math.pi, "π")}
        found: dict[Any, tuple[Any, Any, float, str]] = {}
        for e in exprs:
            for atom in sp.sympify(e).atoms(*periods):
                period, text = periods[type(atom)]
                key = (atom.args[0], period)
                if key not in found:
                    found[key] = (atom, atom.args[0], period, text)
        return sorted(found.values(), key=lambda item: sp.default_sort_key(item[0]))

    @classmethod
    def build(cls, exprs: Sequence[Any], variables: Sequence[Any]) -> PeriodicGuard | None:
        """The guard for the periodic functions in ``exprs``, callable at a point (None when there are none)."""
        found = cls.periodic(exprs)
        if not found:
            return None
        fn = _math_function(found[0][1], variables, [arg for _, arg, _, _ in found])
        return cls(found, lambda *point: fn(*point)[1])

    def __call__(self, point: Sequence[float]) -> None:
        assert self.evaluate is not None
        try:
            values = self.evaluate(*point)
        except (ArithmeticError, ValueError, TypeError):
            return  # the evaluation of f itself says what is wrong
        self.check(values)

    def check(self, values: Sequence[Any]) -> None:
        """Raise ``Undefined`` if one of the arguments' ``values`` lost every digit."""
        for u, period, (text, ptext) in zip(values, self.periods, self.texts):
            if isinstance(u, complex):
                continue
            gap = lost_digits(u, period)
            if gap is not None:
                raise lost(text, float(u), gap, ptext)


def lost(text: str, u: float, gap: float, period: str, row: str = "") -> Undefined:
    """The ``Undefined`` for a periodic function ``text`` whose argument ``u`` lost every digit."""
    return Undefined("precision", f"no digit of {text} is meaningful",
                     f"{row}: its argument is {u:.3g}, where floats are {gap:g} apart, more than its period {period}")


def lost_digits(u: float, period: float) -> float | None:
    """The spacing of floats at ``u`` when it is at least ``period`` (no digit of a function with
    that period is meaningful at u), else None.

    >>> lost_digits(2.0 ** 55, 2 * math.pi), lost_digits(2.0 ** 54, 2 * math.pi)
    (8.0, None)
    """
    u = abs(float(u))
    if not math.isfinite(u):
        return None
    gap = math.ulp(u)
    return gap if gap >= period else None

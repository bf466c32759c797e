"""Independent oracles for the fuzzer's families: derivatives, values, losses, never symgrad's code.

Each ``Template`` is a function of x written twice: in symgrad's notation (what the command line
gets) and as a hand-written mpmath derivative in a form that does not cancel (σ′ = e^(−|x|)/(1 +
e^(−|x|))², 1 − cos x = 2 sin²(x/2), …), with where that derivative does not exist (outside the
domain, at a kink or a pole, at a jump). Points are exact where they are rational (a
``fractions.Fraction``) and evaluated at 4 000 bits, so 10^300 is 10^300 and a kink is hit
exactly. Nothing here parses text with symgrad or asks SymPy for a derivative.

``Bump`` is a term added to a right answer to make it wrong somewhere (a constant 10^-k, a relu
or a step that starts at a, sin(nπx) that vanishes on the grid k/n, a narrow bump): its own mpmath
value says where the answer is wrong, so a verdict and a counterexample can be checked.

To add a template: its text, its derivative in mpmath (``None`` where there is none), and, for
``check``, other spellings of the derivative that are equal wherever it exists.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import mpmath

PREC = 4000
"""Bits of the oracle's arithmetic: exact for the integers and decimals the families write."""

FLOAT_MAX = 1.7976931348623157e308
FLOAT_TINY = 2.2250738585072014e-308  # smallest normal float
SUBNORMAL = 2.0**-1074

Exact = Fraction | None
Derivative = Callable[[Any, Exact], Any]  # (mpf x, exact x or None) -> mpf, or None: no derivative


def mpf_of(exact: Fraction) -> Any:
    return mpmath.mpf(exact.numerator) / exact.denominator


def _sig(x: Any) -> Any:
    """σ(x) without overflow or cancellation."""
    return 1 / (1 + mpmath.exp(-x)) if x >= 0 else mpmath.exp(x) / (1 + mpmath.exp(x))


def _sech2(u: Any) -> Any:
    return 1 / mpmath.cosh(u) ** 2


def _is_integer(exact: Exact) -> bool:
    return exact is not None and exact.denominator == 1


@dataclass(frozen=True)
class Template:
    """f(x) in symgrad's notation and its derivative as an independent oracle."""

    text: str
    derivative: Derivative
    right: tuple[str, ...] = ()  # the derivative in other spellings (for ``check``)
    inside: Callable[[Any], bool] = field(default=lambda x: True)  # open domain of f′ (for witnesses)

    def at(self, x: Any, exact: Exact) -> Any:
        """f′ at x, or None where it does not exist."""
        with mpmath.workprec(PREC):
            try:
                value = self.derivative(x, exact)
            except (ZeroDivisionError, ValueError):
                return None
            if value is None or not mpmath.isfinite(value) or isinstance(value, mpmath.mpc):
                return None
            return value


def _domain(test: Callable[[Any], bool], d: Callable[[Any], Any]) -> Derivative:
    return lambda x, exact: d(x) if test(x) else None


def _kinked(kinks: Sequence[Fraction], d: Callable[[Any], Any]) -> Derivative:
    return lambda x, exact: None if exact is not None and exact in kinks else d(x)


def _sqrt_minus(x: Any) -> Any:
    s = mpmath.sqrt(x * x + 1)
    return -1 / (s * (s + x)) if x >= 0 else x / s - 1


TEMPLATES: list[Template] = [
    Template("sigmoid(x)", lambda x, e: mpmath.exp(-abs(x)) / (1 + mpmath.exp(-abs(x))) ** 2,
             ("sigmoid(x)(1 - sigmoid(x))", "e^-x/(1 + e^-x)^2", "1/(2 + 2cosh(x))", "sigmoid(x) sigmoid(-x)")),
    Template("tanh(x)", lambda x, e: _sech2(x), ("1 - tanh(x)^2", "sech(x)^2", "1/cosh(x)^2")),
    Template("cosh(x) - sinh(x)", lambda x, e: -mpmath.exp(-x), ("sinh(x) - cosh(x)", "-e^-x")),
    Template("exp(x) - x", lambda x, e: mpmath.expm1(x), ("e^x - 1",)),
    Template("x - sin(x)", lambda x, e: 2 * mpmath.sin(x / 2) ** 2, ("1 - cos(x)", "2 sin(x/2)^2")),
    Template("sqrt(x^2+1) - x", lambda x, e: _sqrt_minus(x), ("x/sqrt(x^2 + 1) - 1",)),
    Template("ln(x)", _domain(lambda x: x > 0, lambda x: 1 / x), ("1/x", "x^-1"), lambda x: x > 0),
    Template("sqrt(x)", _domain(lambda x: x > 0, lambda x: 1 / (2 * mpmath.sqrt(x))),
             ("1/(2 sqrt(x))", "x^(-1/2)/2"), lambda x: x > 0),
    Template("asin(x)", _domain(lambda x: abs(x) < 1, lambda x: 1 / mpmath.sqrt((1 - x) * (1 + x))),
             ("1/sqrt(1 - x^2)",), lambda x: abs(x) < 1),
    Template("acosh(x)", _domain(lambda x: x > 1, lambda x: 1 / mpmath.sqrt((x - 1) * (x + 1))),
             ("1/sqrt(x^2 - 1)",), lambda x: x > 1),
    Template("atan(x)", lambda x, e: 1 / (1 + x * x), ("1/(1 + x^2)",)),
    Template("x^2 e^(-x)", lambda x, e: (2 * x - x * x) * mpmath.exp(-x), ("(2x - x^2) e^-x", "x (2 - x) exp(-x)")),
    Template("relu(x)", _kinked([Fraction(0)], lambda x: mpmath.mpf(1 if x > 0 else 0)), ("Heaviside(x)",)),
    Template("|x - 1|", _kinked([Fraction(1)], lambda x: mpmath.sign(x - 1)), ("sign(x - 1)", "(x - 1)/|x - 1|")),
    Template("floor(x) + x", lambda x, e: None if _is_integer(e) else mpmath.mpf(1), ("1",)),
    Template("max(x, 1 - x)", _kinked([Fraction(1, 2)], lambda x: mpmath.mpf(1 if x > 0.5 else -1)),
             ("sign(2x - 1)",)),
    Template("1/x", _domain(lambda x: x != 0, lambda x: -1 / (x * x)), ("-1/x^2", "-x^-2"), lambda x: x != 0),
    Template("x^x", _domain(lambda x: x > 0, lambda x: mpmath.exp(x * mpmath.log(x)) * (mpmath.log(x) + 1)),
             ("x^x (ln x + 1)", "x^x ln(e x)"), lambda x: x > 0),
    Template("erf(x)", lambda x, e: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x), ("2/sqrt(pi) e^(-x^2)",)),
    Template("softplus(x)", lambda x, e: _sig(x), ("sigmoid(x)", "1/(1 + e^-x)")),
    Template("exp(x)", lambda x, e: mpmath.exp(x), ("e^x", "exp(x/2)^2")),
    Template("sin(x)", lambda x, e: mpmath.cos(x), ("cos(x)", "sin(x + pi/2)", "cos(-x)")),
    Template("x sin(1/x)", _domain(lambda x: x != 0, lambda x: mpmath.sin(1 / x) - mpmath.cos(1 / x) / x),
             ("sin(1/x) - cos(1/x)/x",), lambda x: x != 0),
    Template("x^3 - 3x", lambda x, e: 3 * (x - 1) * (x + 1), ("3x^2 - 3", "3(x - 1)(x + 1)")),
    Template("x^(1/3)", _domain(lambda x: x > 0, lambda x: mpmath.cbrt(x) / (3 * x)), ("x^(-2/3)/3",), lambda x: x > 0),
    Template("tanh(tanh(tanh(x)))",
             lambda x, e: _sech2(mpmath.tanh(mpmath.tanh(x))) * _sech2(mpmath.tanh(x)) * _sech2(x)),
    Template("e^(-x^2)", lambda x, e: -2 * x * mpmath.exp(-x * x), ("-2x e^(-x^2)",)),
    Template("ln(1 + x^2)", lambda x, e: 2 * x / (1 + x * x), ("2x/(1 + x^2)",)),
    Template("tan(x)", lambda x, e: 1 / mpmath.cos(x) ** 2, ("sec(x)^2", "1 + tan(x)^2", "1/cos(x)^2")),
    Template("x^2", lambda x, e: 2 * x, ("2x", "x + x", "2*x^1", "(x + 1)^2 - x^2 - 1")),
    Template("x ln x", _domain(lambda x: x > 0, lambda x: mpmath.log(x) + 1), ("ln x + 1", "ln(e x)"), lambda x: x > 0),
    Template("cos(x)^2", lambda x, e: -mpmath.sin(2 * x), ("-sin(2x)", "-2 sin x cos x")),
    Template("(x + 1)/(x - 1)", _domain(lambda x: x != 1, lambda x: -2 / (x - 1) ** 2), ("-2/(x - 1)^2",),
             lambda x: x != 1),
]
"""Functions of x with their derivatives; ``right`` are the derivative's other spellings."""

KINKS = {"relu(x)": ["0"], "|x - 1|": ["1"], "floor(x) + x": ["3", "-2", "0"], "max(x, 1 - x)": ["0.5", "1/2"],
         "1/x": ["0"], "ln(x)": ["0"], "sqrt(x)": ["0"], "x^(1/3)": ["0"], "asin(x)": ["1", "-1"],
         "acosh(x)": ["1"], "x sin(1/x)": ["0"], "x^x": ["0"], "(x + 1)/(x - 1)": ["1"]}
"""Points at which the derivative does not exist, per template (the point family aims at them)."""

OUTSIDE = {"ln(x)": ["-1", "-1e-300", "-10^300"], "sqrt(x)": ["-4", "-1e-9"], "asin(x)": ["2", "-1.0000001"],
           "acosh(x)": ["0.5", "-3"], "x^x": ["-0.5", "-2", "-1e5"], "x^(1/3)": ["-8", "-1e-30"],
           "x ln x": ["-1"]}
"""Points outside the domain, per template."""


# points -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    """A value of x as typed (``text``), exactly (``exact``, when rational) and as an mpf."""

    text: str
    exact: Exact
    value: Any


def point(text: str) -> Point:
    """The oracle's reading of a point the families write: decimals, 10^k, p/q, pi/4, e^k."""
    s = text.replace(" ", "")
    negative = s.startswith("-") and not s.startswith("-pi")
    s = s[1:] if negative else s
    with mpmath.workprec(PREC):
        irrational = {"pi/4": mpmath.pi / 4, "-pi/4": -mpmath.pi / 4, "pi/3": mpmath.pi / 3}
        if s in irrational:
            value = irrational[s]
        elif s.startswith("e^"):
            value = mpmath.exp(int(s[2:].strip("()")))
        else:
            if s.startswith("10^"):
                exact = Fraction(10) ** int(s[3:].strip("()"))
            elif "/" in s:
                p, q = s.split("/")
                exact = Fraction(int(p), int(q))
            else:
                exact = Fraction(Decimal(s))
            exact = -exact if negative else exact
            return Point(text, exact, mpf_of(exact))
        return Point(text, None, -value if negative else value)


def random_point(rng: random.Random, template: Template) -> str:
    """A value of x: ordinary, huge, tiny, at a kink, outside the domain, or an odd spelling."""
    kind = rng.choice(["normal", "normal", "huge", "tiny", "kink", "outside", "odd"])
    sign = rng.choice(["", "-"])
    if kind == "kink" and template.text in KINKS:
        return rng.choice(KINKS[template.text])
    if kind == "outside" and template.text in OUTSIDE:
        return rng.choice(OUTSIDE[template.text])
    if kind == "huge":
        k = rng.choice([rng.randint(15, 40), rng.randint(100, 320), rng.randint(300, 400)])
        return rng.choice([f"{sign}10^{k}", f"{sign}{rng.randint(1, 9)}.{rng.randint(0, 99):02d}e{k}"])
    if kind == "tiny":
        k = rng.choice([rng.randint(15, 40), rng.randint(100, 330), rng.randint(300, 400)])
        return rng.choice([f"{sign}10^-{k}", f"{sign}{rng.randint(1, 9)}.{rng.randint(0, 99):02d}e-{k}"])
    if kind == "odd":
        return rng.choice(["pi/4", "-pi/4", "pi/3", "e^-3", "e^5", f"{rng.randint(-99, 99)}/{rng.randint(1, 97)}",
                           "0", "-0", "0.5", "1e0", f"{sign}2.5", f"{sign}709.78", f"{sign}710", "1e-5", "400"])
    return f"{sign}{rng.uniform(0.001, 30):.6g}"


def compare_value(template: Template, where: Point, value: float | None, note: str | None) -> str:
    """Judge symgrad's value of f′ at a point against the oracle: the outcome, or AssertionError."""
    true = template.at(where.value, where.exact)
    undefined_note = note is not None and any(w in note for w in (
        "does not exist", "is undefined", "not real", "has a jump", "has no value here"))
    if true is None:
        if value is not None:
            raise AssertionError(f"f′({where.text}) has no value, but symgrad gives {value!r}")
        assert note, "no value and no note"
        return "none"
    with mpmath.workprec(PREC):
        size = abs(true)
        if value is None:
            assert note, "no value and no note"
            if undefined_note:
                raise AssertionError(f"f′({where.text}) = {mpmath.nstr(true, 12)}, but symgrad says: {note}")
            if "too large for a float" in note and size < FLOAT_MAX * 0.999:
                raise AssertionError(f"f′({where.text}) = {mpmath.nstr(true, 12)} fits a float, but: {note}")
            return "cannot"
        if size > FLOAT_MAX * 1.001:
            raise AssertionError(f"f′({where.text}) = {mpmath.nstr(true, 12)} is beyond a float, "
                                 f"symgrad gives {value!r}")
        if value == 0.0 and note and "below the smallest float" in note:
            if size >= FLOAT_TINY:
                raise AssertionError(f"f′({where.text}) = {mpmath.nstr(true, 12)}, but symgrad says 0: {note}")
            return "underflow"
        error = abs(mpmath.mpf(value) - true)
        if not (error <= mpmath.mpf("1e-15") * size or error <= SUBNORMAL):
            raise AssertionError(f"f′({where.text}) = {mpmath.nstr(true, 17)}, symgrad gives {value!r}")
        return "right"


# bumps for wrong answers --------------------------------------------------------------------------
@dataclass(frozen=True)
class Bump:
    """A term that makes a right answer wrong where it is nonzero."""

    text: str
    at: Callable[[Any], Any]  # mpf -> mpf
    witnesses: tuple[float, ...] = ()  # where it is likely nonzero (besides the template's own)


def random_bump_spec(rng: random.Random) -> dict[str, Any]:
    """A bump, as JSON: its kind and parameters (``make_bump`` builds it)."""
    a = rng.choice([rng.randint(-50, 50) + 0.5, rng.choice([3.5, 10, -7.25, 1000, 1e6, -1e6, 0.001])])
    return {"kind": rng.choice(["const", "relu", "step", "grid", "fold", "narrow", "scaled", "cubic", "exp"]),
            "k": rng.choice([1, 3, 8, 15, 20, 30, 60]), "n": rng.choice([100, 1000, 360, 10_000]),
            "a": f"{a:g}" if abs(a) < 1e5 else f"{a:.0e}".replace("+", "")}


def make_bump(spec: dict[str, Any]) -> Bump:
    kind, k, n, a_text = spec["kind"], spec["k"], spec["n"], spec["a"]
    c = Fraction(1, 10**k)
    exact_a = Fraction(Decimal(a_text))
    with mpmath.workprec(PREC):
        a_mp = mpf_of(exact_a)
    a = float(exact_a)
    if kind == "const":
        return Bump(f"10^-{k}", lambda x: mpf_of(c))
    if kind == "relu":
        return Bump(f"relu(x - {a_text})", lambda x: max(mpmath.mpf(0), x - a_mp), (a + 0.37, a * 2 + 1))
    if kind == "step":
        return Bump(f"Heaviside(x - {a_text})", lambda x: mpmath.mpf(1 if x > a_mp else 0), (a + 0.37,))
    if kind == "grid":
        return Bump(f"sin({n} pi x)", lambda x: mpmath.sin(n * mpmath.pi * x), (0.5 / n, 0.123))
    if kind == "fold":
        return Bump(f"(|x - {a_text}| - (x - {a_text}))", lambda x: 2 * max(mpmath.mpf(0), a_mp - x),
                    (a - 0.37, a / 2 - 1))
    if kind == "narrow":
        return Bump(f"10^-3 exp(-100 (x - {a_text})^2)",
                    lambda x: mpmath.mpf("1e-3") * mpmath.exp(-100 * (x - a_mp) ** 2), (a, a + 0.01))
    if kind == "scaled":
        return Bump(f"10^-{k} x^2", lambda x: mpf_of(c) * x * x, (1.5, -2.0))
    if kind == "cubic":
        return Bump(f"10^-{k} (x - {a_text})^3", lambda x: mpf_of(c) * (x - a_mp) ** 3, (a + 1,))
    return Bump(f"10^-{k} e^x", lambda x: mpf_of(c) * mpmath.exp(x), (0.0, 5.0))


WITNESSES = (-3.7, -1.3, -0.41, 0.23, 0.77, 1.61, 2.9, 7.3, 41.5, 1e3 + 0.3, 1e6 + 0.3, -1e6 - 0.3)


def wrong_somewhere(template: Template, bump: Bump) -> float | None:
    """A point inside f′'s domain where the bump is nonzero (so the answer is wrong), or None."""
    with mpmath.workprec(PREC):
        for w in (*bump.witnesses, *WITNESSES):
            x = mpmath.mpf(w)
            if not template.inside(x) or template.at(x, None) is None:
                continue
            if bump.at(x) != 0:
                return w
    return None


def counterexample_is_real(template: Template, bump: Bump, x: float, expected: object) -> None:
    """A counterexample ``check`` printed: the answer does differ there, and the derivative it
    shows is the true one (``expected`` may be a float, text like '1.46e-155671', or None)."""
    with mpmath.workprec(PREC):
        point_ = mpmath.mpf(x)
        true = template.at(point_, Fraction(x))
        if true is None:
            return  # no derivative at the point: an answer with a value there differs from it
        assert bump.at(point_) != 0, f"the answer equals the derivative at the counterexample x = {x!r}"
        if expected is None:
            return
        shown = mpmath.mpf(str(expected))
        tolerance = mpmath.mpf("1e-5" if isinstance(expected, str) else "1e-7")  # text has 6 digits
        assert abs(shown - true) <= tolerance * max(abs(true), mpmath.mpf(10) ** -300), (
            f"the counterexample says f′({x!r}) = {expected}, the oracle {mpmath.nstr(true, 12)}")


# losses over data ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Loss:
    """A summation loss in symgrad's notation and its value and gradient on given rows."""

    text: str
    parameters: tuple[str, ...]
    rows: tuple[int, int] | None  # fixed bounds (1-based, inclusive); None: all rows
    value: Callable[[dict[str, float], list[dict[str, float]]], float]
    gradient: Callable[[dict[str, float], list[dict[str, float]]], dict[str, float]]


def _lsq(p: dict[str, float], data: list[dict[str, float]]) -> float:
    return math.fsum((r["y"] - (p["w"] * r["x"] + p["b"])) ** 2 for r in data)


def _lsq_grad(p: dict[str, float], data: list[dict[str, float]]) -> dict[str, float]:
    res = [r["y"] - (p["w"] * r["x"] + p["b"]) for r in data]
    return {"w": math.fsum(-2 * r["x"] * e for r, e in zip(data, res)), "b": math.fsum(-2 * e for e in res)}


def _logistic(p: dict[str, float], data: list[dict[str, float]]) -> float:
    return math.fsum(math.log1p(math.exp(-r["y"] * p["w"] * r["x"])) for r in data)


def _logistic_grad(p: dict[str, float], data: list[dict[str, float]]) -> dict[str, float]:
    def sig(u: float) -> float:
        return 1 / (1 + math.exp(-u))

    return {"w": math.fsum(-r["y"] * r["x"] * sig(-r["y"] * p["w"] * r["x"]) for r in data)}


def _mean(f: Callable[..., Any]) -> Callable[..., Any]:
    def mean(p: dict[str, float], data: list[dict[str, float]]) -> Any:
        out = f(p, data)
        return {k: v / len(data) for k, v in out.items()} if isinstance(out, dict) else out / len(data)

    return mean


LOSSES: list[Loss] = [
    Loss("sum((y_i - (w x_i + b))^2, i, 1, n)", ("w", "b"), None, _lsq, _lsq_grad),
    Loss("1/n sum((y_i - (w x_i + b))^2, i, 1, n)", ("w", "b"), None, _mean(_lsq), _mean(_lsq_grad)),
    Loss("mean((y_i - (w x_i + b))^2, i, 1, n)", ("w", "b"), None, _mean(_lsq), _mean(_lsq_grad)),
    Loss("sum((y[i] - (w x[i] + b))^2, i, 2, 3)", ("w", "b"), (2, 3), _lsq, _lsq_grad),
    Loss("sum(ln(1 + exp(-y_i w x_i)), i, 1, n)", ("w",), None, _logistic, _logistic_grad),
    Loss("sum(i x_i w, i, 1, n)", ("w",), None,
         lambda p, d: math.fsum(r["i"] * r["x"] * p["w"] for r in d),
         lambda p, d: {"w": math.fsum(r["i"] * r["x"] for r in d)}),
]

"""Every function the parser knows, exported to every backend, imports and runs and is right.

The cases come from ``symgrad.parsing.names.function_table()`` itself: a function added to the
parser is picked up here without a line changing (a spec whose argument counts the generic forms
below cannot call needs an entry in ``FORMS``). Each module is written to a file and imported
(the way a user runs it), then called with all sample points at once (array backends) or one at a
time (math), and compared with SymPy's value, gradient and Hessian evaluated at 25 digits. Where
the true value is not real (asec(0.5)), the module must say so: nan from an array backend, an
exception from math — never a number.

Exact constants of every size the parser admits get the same test: within float64's range the
module computes with the correctly rounded float; beyond it, export refuses with a clear message.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import random
from pathlib import Path

import pytest
import sympy as sp

import symgrad
from symgrad import expressions
from symgrad.errors import SymgradError, Unsupported
from symgrad.expressions import as_expr
from symgrad.numeric.export import export_source
from symgrad.parsing import parse
from symgrad.parsing.names import function_table

np = pytest.importorskip("numpy")

BACKENDS = ["numpy", "math"] + [b for b in ("jax", "torch") if importlib.util.find_spec(b) is not None]

FORMS: dict[str, list[str]] = {
    "DiracDelta": ["DiracDelta(x - 0.3) + x^2 y", "DiracDelta(x - 0.3, 1) + x y"],
    "softmax": ["softmax_1(x, y, 0.5)", "softmax_3(x, 2 y, 0.5)"],
    "cross_entropy": ["cross_entropy(softmax(x, y, 0.2), (0.3, 0.7, 0))"],
    "sum": ["sum(sin(i x)/i, i, 1, 40) + y", "sum(i^2 x y, i, 1, 12)"],
    "mean": ["mean((x - i y)^2, i, 1, 5)"],
    "Sum": ["Sum(cos(i x y), (i, 1, 7))"],
}
"""Functions whose arguments the generic forms cannot make (vectors, an order, a summation)."""

UNARY = ["{f}(x)", "{f}(0.8 x - 0.3 y + 0.1)"]
BINARY = ["{f}(x/2 + 1.1, y + 2.5)"]
MANY = ["{f}(x, y)", "{f}(x, 0.4 y - 0.2, 0.3)"]


def forms(name: str, arities: tuple[int, ...] | None) -> list[str]:
    if name in FORMS:
        return FORMS[name]
    if arities is None:
        return [t.format(f=name) for t in MANY]
    out = []
    if 1 in arities:
        out += [t.format(f=name) for t in UNARY]
    if 2 in arities:
        out += [t.format(f=name) for t in BINARY]
    assert out, f"{name} takes {arities} arguments: add its forms to FORMS"
    return out


def _specs() -> list[tuple[str, str]]:
    seen: dict[int, object] = {}
    for spec in function_table().values():
        seen.setdefault(id(spec), spec)
    return [(spec.name, text) for spec in seen.values() if spec.name not in READ_BACK_ONLY
            for text in forms(spec.name, spec.arities)]


READ_BACK_ONLY = {"Derivative", "Subs"}
"""Names the parser reads only as symgrad prints derivatives of abstract functions (f′(x²)): no
numbers, so export refuses them (``test_what_has_no_numbers_is_refused_clearly``)."""


CASES = _specs()

POINTS = [(-1.9, 0.7), (-1.1, -0.45), (-0.55, 1.35), (0.35, 0.25), (0.62, -0.8), (0.95, 1.9), (1.45, -0.15),
          (2.3, 0.55)]
"""Sample points (x, y): both signs, inside and outside every function's domain; none on a kink."""


def load(tmp_path: Path, source: str, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # a real import: the int-str limit and every name apply
    return module


def reference(entries, variables, point):
    """Each entry at ``point`` with 25 digits: a float, or None where it is not a real number."""
    at = {v: sp.Float(p, 25) for v, p in zip(variables, point)}
    out = []
    for e in entries:
        value = sp.N(e.subs(at).doit(), 25)
        re, im = value.as_real_imag()
        if not value.is_number or abs(im) > 1e-20 or not re.is_finite:
            out.append(None)
        else:
            out.append(float(re))
    return out


def derivatives(expr, variables):
    grad = [sp.diff(expr, v) for v in variables]
    hess = [sp.diff(g, v) for g in grad for v in variables]
    return [expr], grad, hess


def as_arrays(backend: str, columns):
    if backend == "numpy":
        return [np.asarray(c, dtype=np.float64) for c in columns]
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        return [jnp.asarray(c, dtype=jnp.float64) for c in columns]
    import torch

    return [torch.tensor(c, dtype=torch.float64) for c in columns]


def flat(result, n_entries: int, n_points: int):
    """A batched result as [entry][point] floats (variables first, points last)."""
    arr = np.asarray(result.tolist() if hasattr(result, "tolist") else result, dtype=np.float64)
    return arr.reshape(n_entries, n_points)


def agree(got: float, want: float | None) -> bool:
    if want is None:
        return math.isnan(got)  # not real: nan, never a number
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-11)


@pytest.mark.parametrize(("name", "text"), CASES, ids=[t for _, t in CASES])
def test_every_function_exports_to_every_backend(tmp_path: Path, name: str, text: str) -> None:
    # symgrad's own real symbols: SymPy's oracle differentiates |x| as a real function of them
    expr = parse(text)
    variables = expressions.variables(expr)
    kinds = derivatives(expr, variables)
    points = [p[: len(variables)] for p in POINTS]
    want = [[reference(entries, variables, p) for p in points] for entries in kinds]  # [kind][point][entry]
    # where f is not real its derivatives mean nothing (d/dx ln x = 1/x at x < 0 is a number): only f
    # itself must say so there
    domain = [w[0] is not None for w in want[0]]
    usable = sum(all(v is not None for v in w) for w in want[0])
    assert usable >= 2, f"{text}: fewer than 2 sample points in the domain; choose another form"
    for backend in BACKENDS:
        module = load(tmp_path, export_source(expr, variables, backend), f"m_{backend}_{abs(hash(text))}")
        fns = [module.f, module.grad_f, module.hessian_f]
        for k, (fn, entries) in enumerate(zip(fns, kinds)):
            if backend == "math":
                for p, w, inside in zip(points, want[k], domain):
                    if k and not inside:
                        continue
                    try:
                        got = fn(*p)
                    except (ValueError, ZeroDivisionError, OverflowError):
                        assert any(v is None for v in w), (backend, text, k, p)
                        continue
                    got = [got] if k == 0 else list(itertools.chain.from_iterable(got)) if k == 2 else got
                    for g, v in zip(got, w):
                        assert isinstance(g, (int, float)), (backend, text, k, p, g)
                        assert agree(float(g), v), (backend, text, k, p, g, v)
            else:
                columns = [[p[j] for p in points] for j in range(len(variables))]
                with np.errstate(all="ignore"):
                    got = flat(fn(*as_arrays(backend, columns)), len(entries), len(points))
                for i, p in enumerate(points):
                    if k and not domain[i]:
                        continue
                    for e in range(len(entries)):
                        assert agree(got[e][i], want[k][i][e]), (backend, text, k, p, e, got[e][i], want[k][i][e])


ABSTRACT = ["f(x) + x", "g(x^2) y", "sum(x_i w, i, 1, 3)", "x[i] + w", "Derivative(f(x), x) + x",
            "2*x*Subs(Derivative(f(u), u), u, x**2)"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text", ABSTRACT)
def test_what_has_no_numbers_is_refused_clearly(backend: str, text: str) -> None:
    try:
        expr = symgrad.parse(text)
    except SymgradError:
        return  # the parser refuses it itself
    variables = sorted(expr.free_symbols, key=str)
    with pytest.raises(SymgradError) as info:
        export_source(expr, variables, backend)
    assert "\n" not in info.value.message


# exact constants of every size ----------------------------------------------------------------
FLOAT_MAX = sp.Integer(int(1.7976931348623157e308))

CONSTANTS = [
    *(f"2^{k}" for k in (10, 52, 53, 54, 63, 64, 65, 100, 1000, 1023, 1024, 1100, 3000, 14300, 20000, 99999)),
    *(f"10^{k}" for k in (15, 16, 17, 22, 23, 100, 308, 309, 999)),
    "3^20000", "-(2^1023)", "2^1024 - 2^970", "2^1024 - 2^971", "1.7976931348623157e308", "1.8e308",
    *(f"1/3^{k}" for k in (10, 600, 645, 678, 700, 20000)), "(3^20000 + 1)/3^20000", "2^-1074", "2^-1080",
    "1e-320", "5e-324", "1e-400", "1e999", "9" * 1000, "0." + "3" * 999,
]
"""From small to the largest the parser admits (exact powers of about 30 000 digits, 1 000-digit
literals), and the edges of float64: 2^53, int64, the largest float, subnormals, underflow."""


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text", CONSTANTS)
def test_constants_of_every_size(tmp_path: Path, backend: str, text: str) -> None:
    try:
        c = symgrad.parse(text)
    except SymgradError:
        return  # beyond what the parser admits
    x = sp.Symbol("x", real=True)
    value = sp.Rational(c) if c.is_Rational else c
    if abs(value) > FLOAT_MAX:
        for form in (x + c, c * x):
            with pytest.raises(Unsupported, match="beyond float64's range"):
                export_source(form, [x], backend)
        return
    number = float(value)
    arg = 0.5 if backend == "math" else as_arrays(backend, [[0.5]])[0]
    for form, want in ((x + c, 0.5 + number), (c * x, number * 0.5), (x**2 / 7 + c * sp.sin(x), None)):
        module = load(tmp_path, export_source(form, [x], backend, ("value",)), f"c_{backend}_{random.randrange(10**9)}")
        result = module.f(arg)
        got = float(np.asarray(result.tolist() if hasattr(result, "tolist") else result).ravel()[0])
        if want is None:  # rounding differs with the order of operations: 1e-14 of the larger term
            want = 0.25 / 7 + number * math.sin(0.5)
            assert abs(got - want) <= 1e-14 * max(abs(number), 0.25 / 7), (text, backend, got, want)
        elif backend == "jax" and abs(want) < 2.2250738585072014e-308:
            assert got in (want, 0.0), (text, backend, got, want)  # XLA flushes subnormals to zero
        else:  # the same float operations as the module: the very same number
            assert got == want, (text, backend, got, want)


# random walks of the grammar ------------------------------------------------------------------
def test_random_grammar_walks_export_and_run() -> None:
    """What the fuzzer walks, exported: every module imports and runs, and where both are finite
    numbers its value is SymPy's (a refusal must be one clear line)."""
    from test_properties import GrammarWalker

    from symgrad.numeric.compile import load

    walker = GrammarWalker()
    rng = random.Random(13)
    exported = compared = 0
    for _ in range(400):  # most walks are not valid input (the parser refuses them, quickly)
        text = walker.text(rng, depth=rng.randint(3, 7))
        try:
            expr = as_expr(parse(text))
            variables = expressions.variables(expr)
        except SymgradError:
            continue
        if not variables or len(variables) > 4:
            continue
        point = [rng.uniform(-2, 2) for _ in variables]
        at = {v: sp.Float(p, 30) for v, p in zip(variables, point)}
        for backend in ("math", "numpy"):
            try:
                ns = load(export_source(expr, variables, backend, ("value", "grad")))
            except SymgradError as exc:
                assert "\n" not in exc.message, text
                continue
            exported += 1
            try:
                with np.errstate(all="ignore"):
                    got = complex(ns["f"](*point))
                    ns["grad_f"](*point)
            except (ValueError, ZeroDivisionError, OverflowError):
                assert backend == "math", text  # math raises where the array backends give nan
                continue
            assert got.imag == 0, (text, backend)
            try:  # floats cannot follow an ill-conditioned f (cos of a 10^30): compare where a nudge
                with np.errstate(all="ignore"):  # of the point by 1e-13 moves f by less than 1e-9
                    nudged = float(ns["f"](*[p * (1 + 1e-13) for p in point]))
            except (ValueError, ZeroDivisionError, OverflowError):
                continue
            if (not (math.isfinite(got.real) and math.isfinite(nudged))
                    or abs(nudged - got.real) > 1e-9 * max(1.0, abs(got.real))):
                continue
            value = sp.N(expr.subs(at).doit(), 30)
            re, im = value.as_real_imag() if value.is_number else (sp.nan, sp.nan)
            if re.is_finite and abs(im) < 1e-20:
                assert math.isclose(got.real, float(re), rel_tol=1e-6, abs_tol=1e-9), (text, backend, got, re)
                compared += 1
    assert exported >= 60 and compared >= 40

"""Expression -> readable Python source for one numeric backend (NumPy, math, JAX, PyTorch).

Stage: numbers, first half (the code that ``compile`` runs and ``export`` writes). A module holds
``f``, ``grad_f`` and ``hessian_f`` (and, for ``compile``, ``value_and_grad_f``), each with its
common subexpressions shared through ``sympy.cse`` and a docstring that shows the math, and
imports exactly the modules its code uses.

Safety: whether an expression came from the grammar or from a SymPy object handed to the API,
generated source is made of four things, each from one place here:

- names: argument names from ``safe_names`` (a symbol's own name when it is a plain identifier
  that shadows nothing, else a variant: ``lambda_``, ``_v3``), temporaries ``_t0, _t1, …``, sum
  indices ``_k0, …``, the backend's modules and a few builtins;
- text: every piece of a docstring (names, the math) goes through ``doc_text``, which escapes
  quotes, backslashes and control characters; a symbol's own name appears nowhere else;
- numbers: SymPy numbers printed by the code printers, each checked by ``prepare`` to be a real
  number within float64's range (larger ones are refused: Python could not even import a literal
  of 5 000 digits, and a float cannot hold one);
- the math: the printers' fixed text for each function.

``verify`` then parses the module with ``ast`` and refuses any other kind of node, name, attribute
or string, before anything runs it (``compile.load`` calls it on every source it executes).

Array backends broadcast: every function takes one argument per variable, as numbers, lists or
arrays of points, and entries that do not depend on every variable (constants too) are broadcast
to the common shape, so ``grad_f(xs, ys)`` always has shape ``(n, *shape)``. NumPy writes the
entries into one preallocated array (broadcast assignment); JAX and torch broadcast the inputs
and stack. Types: NumPy computes in the arguments' common float type (float32 arrays stay
float32; integers, lists and Python numbers become float64); torch keeps a tensor's dtype and
makes other arguments float64 tensors; JAX follows its own rule (float32 unless
``jax_enable_x64`` is on).

To add a backend: a printer class (usually a SymPy printer with a few ``_print_…`` overrides for
symgrad's functions σ, relu, softplus and Heaviside), an entry in ``BACKENDS``, ``LIBRARIES`` and
``_IMPORTS``, and the lines that convert, broadcast and stack in ``_Writer``. To support a new
function, give each printer a ``_print_<Class>`` method (the every-function test in
``tests/test_export.py`` runs every function of the parser through every backend).

>>> import sympy as sp
>>> x, y = sp.symbols("x y", real=True)
>>> print(function_source("grad_f", x**2 + 3*y, [x, y], "numpy", what="grad"))
def grad_f(x, y):
    \"\"\"∇f(x, y), the gradient of f = x² + 3·y:
<BLANKLINE>
        ∂f/∂x = 2·x
        ∂f/∂y = 3
    \"\"\"
    x = np.asarray(x, dtype=np.result_type(np.asarray(x), 0.0))
    y = np.asarray(y, dtype=np.result_type(np.asarray(y), 0.0))
    _shape = np.broadcast_shapes(np.shape(x), np.shape(y))
    _out = np.empty((2,) + _shape, dtype=np.result_type(x, y))
    _out[0] = 2*x
    _out[1] = 3
    return _out
"""

from __future__ import annotations

import ast
import builtins
import itertools
import keyword
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import NoReturn

import sympy as sp
from sympy.printing.numpy import JaxPrinter, NumPyPrinter
from sympy.printing.pycode import PythonCodePrinter

from symgrad.errors import ComputeError, InputError, Unsupported

BACKENDS = ("numpy", "math", "jax", "torch")
"""The backends, in the order the documentation lists them."""

LIBRARIES = {"numpy": ("numpy", "NumPy", "numpy"), "jax": ("jax", "JAX", "jax jaxlib"),
             "torch": ("torch", "PyTorch", "torch")}
"""backend -> (module to import, the library's name, what to pip install); math needs nothing."""

_IMPORTS = {"math": "import math", "np": "import numpy as np", "jax": "import jax",
            "jnp": "import jax.numpy as jnp", "torch": "import torch"}
"""The module names generated code may use, and the import that binds each (in this order)."""

_BUILTINS = frozenset({"abs", "max", "min", "sum", "range", "round", "float"})
"""The builtins generated code may call (Python's own max/min/abs/round on floats, sums over indices)."""

_RESERVED = frozenset({*_IMPORTS, "f", "grad_f", "hessian_f", "value_and_grad_f", "builtins", "functools"})
"""Names a variable may not take: the modules the code uses and the functions it defines."""

_AMBIGUOUS = frozenset({"l", "I", "O"})
"""Names linters refuse as variables (E741: they look like 1 and 0); they get an underscore too."""

MAX_SUM_TERMS = 1_000_000
"""Terms of a sum that the generated code loops over, per call (a closed form has no limit)."""

FLOAT_MAX_LOG10 = 308.2547155599167
"""log10 of the largest float64 (1.797…e308): a constant beyond it cannot be computed with."""

_FLOAT_MAX = sp.Integer(int(1.7976931348623157e308))


class BackendMissing(ComputeError, ImportError):
    """The library of a backend is not installed: both symgrad's error (exit 1) and an ImportError."""


def require(backend: str) -> None:
    """Import the library ``backend`` runs on, or say which to install (``BackendMissing``)."""
    if backend not in LIBRARIES:
        return
    module, library, package = LIBRARIES[backend]
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as exc:
        missing = isinstance(exc, ModuleNotFoundError) and (exc.name or module).split(".")[0] == module
        why = "which is not installed" if missing else f"which failed to import ({visible(str(exc))[:160]})"
        raise BackendMissing(f"the {backend} backend needs {library}, {why}",
                             suggestion=f"pip install {package}") from None


# names and text -------------------------------------------------------------------------------
def _plain(name: str) -> bool:
    """An identifier Python reads as written: no leading underscore, stable under NFKC."""
    return (name.isidentifier() and not name.startswith("_") and name.isprintable()
            and unicodedata.normalize("NFKC", name) == name)


def _shadows(name: str) -> bool:
    return (keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _BUILTIN_NAMES
            or name in _RESERVED or name in _AMBIGUOUS)


_BUILTIN_NAMES = frozenset(dir(builtins))


def safe_names(symbols: Sequence[sp.Basic]) -> dict[sp.Basic, str]:
    """A Python identifier for each symbol: its own name where that is safe, else a variant.

    A name that is a keyword, a builtin, a module the code uses or a function it defines gets an
    underscore; anything that is not a plain identifier (quotes, spaces, a leading underscore,
    control characters) gets a neutral ``_v1``, ``_v2`` (by position). The original name is kept
    only in escaped text (``doc_text``).

    >>> import sympy as sp
    >>> safe_names(sp.symbols("x lambda print theta1"))
    {x: 'x', lambda: 'lambda_', print: 'print_', theta1: 'theta1'}
    >>> list(safe_names([sp.Symbol("a b"), sp.Symbol("np"), sp.Symbol("os.system")]).values())
    ['_v1', 'np_', '_v3']
    """
    taken: set[str] = set()
    result: dict[sp.Basic, str] = {}
    for i, sym in enumerate(symbols, 1):
        name = sym.name if isinstance(getattr(sym, "name", None), str) else str(sym)
        if not _plain(name):
            name = f"_v{i}"
        while _shadows(name) or name in taken:
            name += "_"
        taken.add(name)
        result[sym] = name
    return result


def visible(text: str) -> str:
    r"""``text`` on one line with every control, format or separator character shown as an escape.

    >>> print(visible("a\nb\u2028c\x00 θ"))
    a\nb\u2028c\x00 θ
    """
    out = []
    for ch in text:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1] if ch in "\n\r\t" else f"\\x{ord(ch):02x}" if ord(ch) < 0x100
                       else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)


def doc_text(text: str) -> str:
    r"""``text`` as it may stand inside a generated docstring: the one place text enters the source.

    Backslashes and double quotes are escaped (no triple quote can close the docstring, no escape
    can start), control characters are shown as escapes; the docstring then reads as the text.

    >>> text = "a" + '"' * 3 + " + x\\"
    >>> print(doc_text(text))
    a\"\"\" + x\\
    >>> import ast
    >>> ast.literal_eval('"' * 3 + doc_text(text) + '"' * 3) == text
    True
    """
    return visible(text).replace("\\", "\\\\").replace('"', '\\"')


def _math_doc(expr: sp.Basic) -> str:
    import mpmath

    from symgrad.printing.oneline import oneline

    # a number of 9 543 digits is no reading (nor can Python print it by default): 6 digits are
    long = {r: sp.Float(mpmath.mpf(r.p) / r.q, 6) for r in expr.atoms(sp.Rational) if max(abs(r.p), r.q) > 10**60}
    return doc_text(oneline(expr.xreplace(long) if long else expr))


def _var_text(var: sp.Basic) -> str:
    from symgrad.printing.oneline import symbol_text

    return doc_text(symbol_text(getattr(var, "name", str(var))))


# printers -------------------------------------------------------------------------------------
class _Numbers:
    """Number printing shared by every printer: sums as loops, exact fractions too long for a
    literal as floats (``prepare`` has checked that every constant is within float64's range)."""

    def _print_Rational(self, expr: sp.Rational) -> str:
        if max(abs(expr.p), expr.q) >= 2**1000:
            return repr(float(expr))
        return super()._print_Rational(expr)  # type: ignore[misc]

    def _print_Sum(self, expr: sp.Sum) -> str:
        # ``prepare`` gave every index a generated name and checked the bounds are integers
        loops = " ".join(f"for {self._print(k)} in range({self._print(a)}, {self._print(b + 1)})"  # type: ignore[attr-defined]
                         for k, a, b in reversed(expr.limits))
        return f"sum({self._print(expr.function)} {loops})"  # type: ignore[attr-defined]


class _MathPrinter(_Numbers, PythonCodePrinter):
    """Plain Python floats with the math module: the fastest at one point."""

    repeats = frozenset({"sigmoid", "softplus", "Heaviside", "sign", "sinc"})
    """Functions printed with their argument more than once (``_Writer.bind`` names it first)."""

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": True, "strict": True})

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.args
        if exp.is_Integer or exp in (sp.S.Half, -sp.S.Half):
            return super()._print_Pow(expr, rational=rational)
        # x**1.5 is a complex number for x < 0; math.pow raises ValueError, as math.sqrt does
        return f"math.pow({self._print(base)}, {self._print(exp)})"

    def _print_sigmoid(self, expr: sp.Basic) -> str:
        u = self._print(expr.args[0])
        return f"(1/(1 + math.exp(-({u}))) if ({u}) >= 0 else math.exp({u})/(1 + math.exp({u})))"

    def _print_relu(self, expr: sp.Basic) -> str:
        return f"max({self._print(expr.args[0])}, 0.0)"

    def _print_softplus(self, expr: sp.Basic) -> str:
        u = self._print(expr.args[0])
        return f"(max({u}, 0.0) + math.log1p(math.exp(-abs({u}))))"

    def _print_Heaviside(self, expr: sp.Basic) -> str:
        u = self._print(expr.args[0])
        return f"(1.0 if ({u}) > 0 else 0.0 if ({u}) < 0 else {_h0(expr)!r})"

    def _print_round(self, expr: sp.Basic) -> str:
        return f"float(round({self._print(expr.args[0])}))"  # Python's round: halves to even

    def _print_Max(self, expr: sp.Max) -> str:
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr: sp.Min) -> str:
        return f"min({', '.join(self._print(a) for a in expr.args)})"


def _h0(expr: sp.Basic) -> float:
    """Heaviside's value at 0 (SymPy's default: 1/2)."""
    return float(expr.args[1]) if len(expr.args) > 1 else 0.5


class _ArrayPrinter(_Numbers, NumPyPrinter):
    """NumPy's printer with short module names and symgrad's functions, for np/jnp/torch."""

    alias = "np"
    source_module = "numpy"

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": True, "strict": True})
        self._constants = _MathPrinter()

    def _print(self, expr: object, **kwargs: object) -> str:
        # a constant like log(3) or sqrt(2)·π is a Python float: torch.log(3) would fail (not a
        # tensor) and jnp.log(3) would round it to float32 before it meets the arguments
        if isinstance(expr, sp.Expr) and not expr.is_Atom and expr.is_number:
            return self._constants._print(expr)
        return super()._print(expr, **kwargs)

    def _print_Integer(self, expr: sp.Integer) -> str:
        # beyond 2^53 it becomes a float anyway, and torch refuses Python ints beyond int64
        return repr(float(expr)) if abs(expr.p) > 2**53 else super()._print_Integer(expr)

    def _module_format(self, fqn: str, register: bool = True) -> str:
        for prefix in ("numpy.", "jax.numpy."):
            if fqn.startswith(prefix):
                return f"{self.alias}.{fqn[len(prefix):]}"
        return super()._module_format(fqn, register)

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.args
        if exp.is_Integer and exp < 0:
            inner = base if exp == -1 else sp.Pow(base, -exp, evaluate=False)
            return f"1/{self.parenthesize(inner, 100)}" if exp == -1 else f"1/({self._print(inner)})"
        return super()._print_Pow(expr, rational=rational)

    def _fold(self, name: str, args: Sequence[sp.Basic]) -> str:
        code = self._print(args[0])
        for arg in args[1:]:
            code = f"{self.alias}.{name}({code}, {self._print(arg)})"
        return code

    def _print_Max(self, expr: sp.Max) -> str:
        return self._fold("maximum", expr.args)

    def _print_Min(self, expr: sp.Min) -> str:
        return self._fold("minimum", expr.args)

    def _print_sigmoid(self, expr: sp.Basic) -> str:
        # exp(−softplus(−u)) is σ(u) without overflow at either end
        return f"{self.alias}.exp(-{self.alias}.logaddexp(0.0, -{self.parenthesize(expr.args[0], 50)}))"

    def _print_relu(self, expr: sp.Basic) -> str:
        return f"{self.alias}.maximum({self._print(expr.args[0])}, 0.0)"

    def _print_softplus(self, expr: sp.Basic) -> str:
        return f"{self.alias}.logaddexp(0.0, {self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sp.Basic) -> str:
        return f"{self.alias}.heaviside({self._print(expr.args[0])}, {_h0(expr)!r})"

    def _print_erf(self, expr: sp.Basic) -> str:
        # NumPy has no erf (SciPy does): math.erf point by point, exact to the last bit
        return f"np.vectorize(math.erf, otypes=[np.float64])({self._print(expr.args[0])})"

    def _print_round(self, expr: sp.Basic) -> str:
        return f"{self.alias}.round({self._print(expr.args[0])})"  # halves to even, as symgrad's round

    def _print_Piecewise(self, expr: sp.Basic) -> str:
        raise Unsupported("symgrad cannot export piecewise expressions yet")


class _NumpyPrinter(_ArrayPrinter):
    pass


class _JaxPrinter(_ArrayPrinter, JaxPrinter):
    alias = "jnp"

    def _print_sigmoid(self, expr: sp.Basic) -> str:
        return f"jax.nn.sigmoid({self._print(expr.args[0])})"

    def _print_relu(self, expr: sp.Basic) -> str:
        return f"jax.nn.relu({self._print(expr.args[0])})"

    def _print_softplus(self, expr: sp.Basic) -> str:
        return f"jax.nn.softplus({self._print(expr.args[0])})"

    def _print_erf(self, expr: sp.Basic) -> str:
        return f"jax.scipy.special.erf({self._print(expr.args[0])})"


class _TorchPrinter(_ArrayPrinter):
    alias = "torch"
    repeats = frozenset({"Heaviside"})

    def _fold(self, name: str, args: Sequence[sp.Basic]) -> str:
        # torch.maximum needs two tensors: numbers become a clamp
        numbers = [a for a in args if a.is_number]
        others = [a for a in args if not a.is_number]
        code = super()._fold(name, others)
        if numbers:
            bound = max(numbers) if name == "maximum" else min(numbers)
            side = "min" if name == "maximum" else "max"
            code = f"torch.clamp({code}, {side}={self._print(sp.Float(bound))})"
        return code

    def _print_sigmoid(self, expr: sp.Basic) -> str:
        return f"torch.sigmoid({self._print(expr.args[0])})"

    def _print_relu(self, expr: sp.Basic) -> str:
        return f"torch.relu({self._print(expr.args[0])})"

    def _print_softplus(self, expr: sp.Basic) -> str:
        return f"torch.nn.functional.softplus({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sp.Basic) -> str:
        u = self._print(expr.args[0])
        if _h0(expr) == 0.5:  # (sign + 1)/2 keeps u's dtype, which torch.where(u > 0, 1.0, …) does not
            return f"(torch.sign({u}) + 1)/2"
        return f"torch.heaviside({u}, torch.full_like({u}, {_h0(expr)!r}))"

    def _print_erf(self, expr: sp.Basic) -> str:
        return f"torch.erf({self._print(expr.args[0])})"


_PRINTERS = {"numpy": _NumpyPrinter, "math": _MathPrinter, "jax": _JaxPrinter, "torch": _TorchPrinter}


def printer(backend: str) -> PythonCodePrinter:
    """A fresh code printer for ``backend``."""
    if backend not in _PRINTERS:
        raise InputError(f"unknown backend '{visible(str(backend))}'",
                         suggestion="choose one of " + ", ".join(BACKENDS))
    return _PRINTERS[backend]()


# what reaches the printers --------------------------------------------------------------------
def check_supported(expr: sp.Basic) -> None:
    """Refuse what has no numeric meaning: abstract functions f(x), unevaluated derivatives, data."""
    from sympy.core.function import AppliedUndef

    undefined = expr.atoms(AppliedUndef)
    if undefined:
        name = visible(min(str(u.func) for u in undefined))
        raise Unsupported(f"{name}(…) is an abstract function: numbers need a formula for it",
                          suggestion=f"replace {name}(…) by its formula")
    if expr.has(sp.Derivative, sp.Integral, sp.Subs):
        raise Unsupported("the expression holds an unevaluated derivative or integral")
    if expr.has(sp.Indexed, sp.IndexedBase, sp.Idx):
        raise Unsupported("the expression sums over data (an indexed variable like x_i): numbers need the data",
                          suggestion="fit it with symgrad descend --data file.csv, or write the sum out")


def prepare(expr: sp.Basic, variables: Sequence[sp.Basic], names: Sequence[str] | None = None,
            index: Iterator[int] | None = None) -> sp.Basic:
    """``expr`` as the printers may see it, or a clear refusal.

    Checks that nothing but ``variables`` is free, renames them to ``names`` (real symbols; after
    that no symbol carries a name that did not pass ``safe_names``) and checks that every constant
    is a real number within float64's range. Rewrites into forms that compute well in floats: softmax and cross-entropy
    shifted by the largest logit, δ(u) as 0 (it is zero wherever it is defined: the Hessian of relu
    or |x| off the kink), sums with generated index names (``_k0``…) or, for polynomials, in closed
    form.

    >>> import sympy as sp
    >>> x, i = sp.symbols("x i", real=True)
    >>> prepare(sp.Sum(i * x, (i, 1, 3)), [x])
    6*x
    >>> prepare(sp.Sum(sp.sin(i * x), (i, 1, 3)), [x])
    Sum(sin(_k0*x), (_k0, 1, 3))
    """
    check_supported(expr)
    extra = expr.free_symbols - set(variables)
    if extra:
        names = ", ".join(sorted(visible(str(s)) for s in extra))
        raise InputError(f"the expression also depends on {names}, which is not among the variables",
                         suggestion="give every free symbol as a variable, or replace it by a number")
    if names is not None:
        expr = expr.xreplace({v: sp.Symbol(n, real=True) for v, n in zip(variables, names)})
    index = index if index is not None else itertools.count()
    if expr.has(sp.DiracDelta):
        expr = expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)
    expr = _stable_softmax(expr)
    if expr.has(sp.Sum):
        expr = expr.replace(lambda e: isinstance(e, sp.Sum), lambda s: _loop(s, index))
    return _constants(expr)


def _stable_softmax(expr: sp.Basic) -> sp.Basic:
    """pₖ = exp(aₖ − m)/Σ exp(aⱼ − m) and CE = m + ln Σ exp(aⱼ − m) − Σ yᵢaᵢ, m = max(a): no overflow."""
    from symgrad.vocabulary.softmax import cross_entropy, softmax_component

    if not expr.has(softmax_component, cross_entropy):
        return expr

    def shifted(logits: Sequence[sp.Expr]) -> tuple[sp.Expr, list[sp.Expr]]:
        top = sp.Max(*logits)
        return top, [sp.exp(a - top) for a in logits]

    def component(e: sp.Basic) -> sp.Basic:
        _, terms = shifted(e.logits)
        return terms[e.index - 1] / sp.Add(*terms)

    def entropy(e: sp.Basic) -> sp.Basic:
        top, terms = shifted(e.logits)
        return top + sp.log(sp.Add(*terms)) - sp.Add(*[y * a for y, a in zip(e.labels, e.logits)])

    expr = expr.replace(lambda e: isinstance(e, cross_entropy), entropy)
    return expr.replace(lambda e: isinstance(e, softmax_component), component)


def _loop(s: sp.Sum, index: Iterator[int]) -> sp.Basic:
    """A sum over whole-number bounds with a generated index name, or its closed form."""
    body = s.function
    limits = []
    terms = 1
    for limit in s.limits:
        if len(limit) != 3 or not (limit[1].is_Integer and limit[2].is_Integer):
            raise Unsupported("a sum whose bounds are not whole numbers cannot be exported",
                              suggestion="give the bounds as numbers, like sum(…, i, 1, 10)")
        k, a, b = limit
        if b < a - 1:  # SymPy's (Karr's) convention: Σ from a to b is −Σ from b+1 to a−1
            a, b, body = b + 1, a - 1, -body
        fresh = sp.Symbol(f"_k{next(index)}", integer=True)
        body = body.xreplace({k: fresh})
        limits.append((fresh, a, b))
        terms *= max(0, int(b) - int(a) + 1)
    if terms == 0:
        return sp.S.Zero
    indices = [k for k, _, _ in limits]
    if body.is_polynomial(*indices) and sp.Poly(body, *indices).total_degree() <= 10:
        # Faulhaber: exact, and no loop at all (sum(i w, i, 1, 10^9) is 500000000500000000·w)
        return sp.Sum(body, *limits).doit()
    if terms > MAX_SUM_TERMS:
        raise Unsupported(f"the sum has {terms:,} terms: the generated code would loop over all of them on every call",
                          suggestion=f"export sums of at most {MAX_SUM_TERMS:,} terms, or one with a closed form")
    return sp.Sum(body, *limits)


def _constants(expr: sp.Basic) -> sp.Basic:
    """Check each constant (a maximal numeric subtree): real, finite, within float64's range.

    A constant whose value fits but one of whose parts does not (10^400·e^-1000) is computed here
    once, as a float: in the generated code the part alone would overflow.
    """
    from symgrad import magnitude

    replace: dict[sp.Basic, sp.Basic] = {}

    def visit(node: sp.Basic) -> None:
        if isinstance(node, sp.Expr) and node.is_number:
            folded = _constant(node, magnitude)
            if folded is not node:
                replace[node] = folded
            return
        for arg in node.args:
            visit(arg)

    visit(expr)
    return expr.xreplace(replace) if replace else expr


def _constant(node: sp.Expr, magnitude: object) -> sp.Expr:
    if isinstance(node, sp.Rational) and max(abs(node.p), node.q) > 10**20:
        import mpmath

        shown = mpmath.nstr(mpmath.mpf(node.p) / node.q, 3).replace("e+", "e")  # 3^20000: 1.23e9542
    else:
        shown = visible(magnitude.describe(node))  # type: ignore[attr-defined]
    named = shown if shown.startswith("a ") else f"the constant {shown}"
    if node.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise Unsupported(f"{named} is not a finite number")
    problem = magnitude.explosive(node)  # type: ignore[attr-defined]
    if problem:
        raise Unsupported(f"a constant is too large to compute with: {problem}")

    def too_big(part: sp.Basic) -> bool:
        if isinstance(part, (sp.Rational, sp.Float)):  # exactly: the last float64 is 1.797…e308
            return abs(part) > _FLOAT_MAX
        size = magnitude.log10_abs(part)  # type: ignore[attr-defined]
        return size is not None and size > FLOAT_MAX_LOG10

    if too_big(node):
        raise Unsupported(f"{named} is beyond float64's range (about 1.8·10^308), and the generated code "
                          "computes in floating point", suggestion="rescale the expression, or work with its logarithm")
    if node.is_extended_real is False:
        raise Unsupported(f"{named} is not a real number")
    if node.is_Atom:
        return node
    if any(too_big(part) for part in sp.preorder_traversal(node) if isinstance(part, sp.Expr) and part is not node):
        value = node.evalf(30)
        if not value.is_Float:
            raise Unsupported(f"{named} is not a real number")
        return sp.Float(value, 17)
    return node


# functions ------------------------------------------------------------------------------------
WIDTH = 79
"""Longest line of generated code (PEP 8's limit, so linters with any common setting pass it)."""


def _words(text: str, width: int) -> list[str]:
    """``text`` broken at spaces into lines of at most ``width`` (a longer word stands alone)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return lines


def _breaks(text: str, width: int) -> list[str]:
    """Code broken at spaces into lines of at most ``width``, each break at the shallowest bracket
    depth that fits (``a + b*(c + d)`` breaks before ``+ b``, not inside the parentheses)."""
    depth, spaces = 0, []
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == " ":
            spaces.append((i, depth))
    lines, start = [], 0
    while len(text) - start > width:
        fitting = [(d, -i) for i, d in spaces if start < i <= start + width]
        if not fitting:
            later = [i for i, _ in spaces if i > start]
            if not later:
                break
            cut = later[0]
        else:
            cut = -min(fitting)[1]
        lines.append(text[start:cut])
        start = cut + 1
    lines.append(text[start:])
    return lines


def _wrap_code(line: str, indent: str) -> list[str]:
    """One statement, split inside parentheses when too long (a newline is legal at any space:
    generated code has spaces only between tokens and holds no string)."""
    if len(indent) + len(line) <= WIDTH:
        return [indent + line]
    if line.startswith("return "):
        head, rhs = "return ", line[len("return "):]
    elif " = " in line:
        cut = line.index(" = ") + 3
        head, rhs = line[:cut], line[cut:]
    else:
        return [indent + line]
    inner = indent + "    "
    return [f"{indent}{head}(", *(inner + part for part in _breaks(rhs, WIDTH - len(inner))), f"{indent})"]


def _wrap_doc(line: str, indent: str) -> list[str]:
    """A docstring line, continued with a deeper indent when too long."""
    if len(indent) + len(line) <= WIDTH:
        return [(indent + line).rstrip()]
    lead = len(line) - len(line.lstrip(" "))
    first, *rest = _words(line.lstrip(" "), WIDTH - len(indent) - lead - 4)
    return [indent + " " * lead + first, *(indent + " " * (lead + 4) + part for part in rest)]


class _Writer:
    """Writes one function: the cse'd temporaries, conversions, broadcasting, the result's layout."""

    def __init__(self, backend: str, variables: Sequence[sp.Basic], names: Sequence[str]) -> None:
        self.backend = backend
        self.printer = printer(backend)
        self.variables = tuple(variables)
        self.names = tuple(names)
        self.args = tuple(sp.Symbol(n, real=True) for n in names)
        self.index = itertools.count()
        self.partial = False

    def code(self, expr: sp.Basic) -> str:
        from sympy.printing.codeprinter import PrintMethodNotImplementedError

        try:
            return self.printer.doprint(expr)
        except PrintMethodNotImplementedError as exc:
            what = str(exc).split(":", 1)[-1].split("\n", 1)[0].strip() or "a function of this expression"
            raise Unsupported(f"the {self.backend} backend cannot compute {visible(what)} yet",
                              suggestion="try another backend, or rewrite that part") from None

    def body(self, outputs: Sequence[sp.Basic | int]) -> tuple[list[str], list[tuple[sp.Basic, bool]]]:
        """CSE over all outputs: the temporary lines and, per output, its reduced form and whether
        it is constant (judged before CSE, since temporaries hide which variables an entry uses)."""
        # outputs are SymPy objects, or plain ints for constant entries (never text)
        exprs = [sp.Integer(o) if isinstance(o, int) else o for o in outputs]
        prepared = [prepare(e, self.variables, self.names, self.index) for e in exprs]
        indices = tuple(s for e in prepared for s in e.atoms(sp.Symbol) if s.name.startswith("_k"))
        temporaries = sp.numbered_symbols("_t")
        replacements, reduced = sp.cse(prepared, symbols=temporaries, order="none", ignore=indices)
        bound: list[tuple[sp.Basic, sp.Basic]] = []
        for t, e in replacements:
            e = self.bind(e, bound, temporaries)
            bound.append((t, e))
        reduced = [self.bind(r, bound, temporaries) for r in reduced]
        lines = [f"{t} = {self.code(e)}" for t, e in bound]
        args = set(self.args)
        self.partial = len(self.args) > 1 and any(not args <= r.free_symbols for r in prepared)
        return lines, [(r, not (p.free_symbols & args)) for r, p in zip(reduced, prepared)]

    def bind(self, expr: sp.Basic, lines: list[tuple[sp.Basic, sp.Basic]],
             temporaries: Iterator[sp.Symbol]) -> sp.Basic:
        """A temporary for each argument the printer writes more than once (math's σ(u) names u four
        times): nested, they would grow as 4^depth. Arguments inside a sum's loop stay."""
        repeats = getattr(self.printer, "repeats", ())
        if not repeats or expr.is_Atom:
            return expr
        args = [self.bind(a, lines, temporaries) for a in expr.args]
        if args != list(expr.args):
            expr = expr.func(*args)
        if (type(expr).__name__ in repeats and expr.args and not expr.args[0].is_Atom
                and not any(s.name.startswith("_k") for s in expr.args[0].free_symbols)):
            t = next(temporaries)
            lines.append((t, expr.args[0]))
            expr = expr.func(t, *expr.args[1:])
        return expr

    def convert(self) -> list[str]:
        """Arguments as the backend's arrays: lists work, and x**1.5 of a negative Python float is
        nan (as np.sqrt gives), not a complex number."""
        if self.backend == "numpy":  # no copy of an array that is already floats
            return [f"{n} = np.asarray({n}, dtype=np.result_type(np.asarray({n}), 0.0))" for n in self.names]
        if self.backend == "jax":
            return [f"{n} = jnp.asarray({n}) * 1.0" for n in self.names]
        if self.backend == "torch":
            return [f"{n} = {n} if torch.is_tensor({n}) else torch.as_tensor({n}, dtype=torch.float64)"
                    for n in self.names]
        return []

    def prologue(self) -> list[str]:
        """JAX, torch: convert, and broadcast when some entry would not have the common shape."""
        lines = self.convert()
        if self.backend != "math" and len(self.names) > 1 and self.partial:
            args = ", ".join(self.names)
            call = "jnp.broadcast_arrays" if self.backend == "jax" else "torch.broadcast_tensors"
            lines.append(f"{args} = {call}({args})")
        return lines

    def entry(self, item: tuple[sp.Basic, bool]) -> str:
        """One entry of a result; constants are spread to the arguments' shape."""
        expr, constant = item
        if not constant or not self.args:
            return self.code(expr)
        value = repr(float(expr)) if expr.is_Integer else self.code(expr)
        first = self.names[0]
        if self.backend == "math":
            return value
        if self.backend == "jax":
            return f"jnp.full_like({first}, {value})"
        return f"torch.full_like({first}, {value})"

    def dtype(self) -> str:
        return f"np.result_type({', '.join(self.names)})"

    def shape_line(self) -> str:
        """NumPy: the common shape of the arguments (broadcasting the inputs themselves is slow)."""
        shapes = ", ".join(f"np.shape({n})" for n in self.names)
        return f"_shape = np.broadcast_shapes({shapes})" if len(self.names) > 1 else f"_shape = {shapes}"

    def value(self, item: tuple[sp.Basic, bool]) -> str:
        """NumPy: a value of the common shape even when it misses a variable or is constant."""
        expr, constant = item
        if constant:
            return f"np.full(_shape, {self.code(expr)}, dtype={self.dtype()})"
        return f"{self.code(expr)} + np.zeros(_shape, dtype={self.dtype()})" if self.partial else self.code(expr)

    def vector(self, entries: Sequence[str]) -> str:
        inner = ", ".join(entries)
        if self.backend == "math":
            return f"[{inner}]"
        if self.backend == "jax":
            return f"jnp.array([{inner}])"
        return f"torch.stack([{inner}])"

    def matrix(self, rows: Sequence[Sequence[str]]) -> str:
        if self.backend == "torch":
            return f"torch.stack([{', '.join(self.vector(r) for r in rows)}])"
        inner = ", ".join("[" + ", ".join(r) + "]" for r in rows)
        return f"[{inner}]" if self.backend == "math" else f"jnp.array([{inner}])"

    def fill(self, items: dict[tuple[int, ...], tuple[sp.Basic, bool]], dims: tuple[int, ...]) -> list[str]:
        """NumPy: ``_out = np.empty(dims + shape)`` and one line per entry; assignment broadcasts."""
        lines = [f"_out = np.empty({dims!r} + _shape, dtype={self.dtype()})"]
        for index, (expr, _) in items.items():
            lines.append(f"_out[{', '.join(map(str, index))}] = {self.code(expr)}")
        return lines


def function_source(
    name: str,
    expr: sp.Basic,
    variables: Sequence[sp.Basic],
    backend: str,
    *,
    what: str = "value",
    names: Sequence[str] | None = None,
    gradient: Sequence[sp.Basic] | None = None,
    hessian: Sequence[Sequence[sp.Basic]] | None = None,
) -> str:
    """The source of one function of ``variables``: ``what`` is value, grad, hessian or value_and_grad.

    ``gradient`` and ``hessian`` may be passed when already computed (they are derived otherwise).
    ``names`` must come from ``safe_names`` (they are derived otherwise). The text uses the
    backend's modules without importing them: ``module_source`` adds the imports it needs.
    """
    if name not in FUNCTION_NAMES.values():
        raise ValueError(f"unknown function name {name!r}")
    prepare(expr, variables)  # refuse what cannot be exported before any of it is printed
    names = tuple(names) if names is not None else tuple(safe_names(variables).values())
    unsafe = any(not (_plain(n) or _GENERATED_ARG.fullmatch(n)) or _shadows(n) for n in names)
    if unsafe or len(set(names)) < len(names):
        raise ValueError("argument names must come from safe_names")
    w = _Writer(backend, variables, names)
    args = ", ".join(names)
    shown = ", ".join(_var_text(v) for v in variables)
    ftext = _math_doc(expr)
    if gradient is None:  # derived only where used (what == "value" never reads it)
        gradient = [sp.diff(expr, v) for v in variables] if what in ("grad", "value_and_grad", "hessian") else []
    parts = _PARTS.get(what)
    if parts is None:
        raise ValueError(f"unknown function kind {what!r}")
    doc, lines, pro, result, tail = parts(w, expr, variables, gradient, hessian, shown, ftext)
    doc[0] = '"""' + doc[0]
    text = [part for line in doc for part in _wrap_doc(line, "    ")]
    if len(text) == 1 and len(text[0]) + 3 <= WIDTH:
        text[0] += '"""'
    else:
        text.append('    """')
    code = [f"def {name}({args}):", *text]
    for line in pro + lines + tail + [f"return {result}"]:
        code += _wrap_code(line, "    ")
    return "\n".join(code)


# (docstring lines, body lines, prologue lines, the returned expression, lines after the body) of
# each kind of function; NumPy writes entries into one preallocated array (see _Writer.fill)
_Parts = tuple[list[str], list[str], list[str], str, list[str]]


def _value_parts(w: _Writer, expr: sp.Basic, variables: Sequence[sp.Basic], gradient: Sequence[sp.Basic],
                 hessian: Sequence[Sequence[sp.Basic]] | None, shown: str, ftext: str) -> _Parts:
    lines, (out,) = w.body([expr])
    if w.backend == "numpy":
        pro = w.convert() + ([w.shape_line()] if w.partial or out[1] else [])
        return [f"f({shown}) = {ftext}"], lines, pro, w.value(out), []
    return [f"f({shown}) = {ftext}"], lines, w.prologue(), w.entry(out), []


def _grad_parts(w: _Writer, expr: sp.Basic, variables: Sequence[sp.Basic], gradient: Sequence[sp.Basic],
                hessian: Sequence[Sequence[sp.Basic]] | None, shown: str, ftext: str) -> _Parts:
    doc = [f"∇f({shown}), the gradient of f = {ftext}:", ""]
    doc += [f"    ∂f/∂{_var_text(v)} = {_math_doc(g)}" for v, g in zip(variables, gradient)]
    lines, outs = w.body(gradient)
    if w.backend == "numpy":
        tail = w.fill({(k,): o for k, o in enumerate(outs)}, (len(outs),))
        return doc, lines, w.convert() + [w.shape_line()], "_out", tail
    return doc, lines, w.prologue(), w.vector([w.entry(o) for o in outs]), []


def _value_and_grad_parts(w: _Writer, expr: sp.Basic, variables: Sequence[sp.Basic], gradient: Sequence[sp.Basic],
                          hessian: Sequence[Sequence[sp.Basic]] | None, shown: str, ftext: str) -> _Parts:
    doc = [f"(f, ∇f) at ({shown}) for f = {ftext}"]
    lines, outs = w.body([expr, *gradient])
    if w.backend == "numpy":
        tail = w.fill({(k,): o for k, o in enumerate(outs[1:])}, (len(outs) - 1,))
        return doc, lines, w.convert() + [w.shape_line()], f"{w.value(outs[0])}, _out", tail
    return doc, lines, w.prologue(), f"{w.entry(outs[0])}, {w.vector([w.entry(o) for o in outs[1:]])}", []


def _hessian_parts(w: _Writer, expr: sp.Basic, variables: Sequence[sp.Basic], gradient: Sequence[sp.Basic],
                   hessian: Sequence[Sequence[sp.Basic]] | None, shown: str, ftext: str) -> _Parts:
    n = len(variables)
    if hessian is None:
        hessian = [[sp.diff(gradient[i], variables[j]) if j >= i else None for j in range(n)] for i in range(n)]
    pairs = [(i, j) for i in range(n) for j in range(i, n)]
    doc = [f"The Hessian of f = {ftext}: the matrix of ∂²f/∂u∂v over ({shown})."]
    lines, outs = w.body([hessian[i][j] for i, j in pairs])
    if w.backend == "numpy":
        tail = w.fill(dict(zip(pairs, outs)), (n, n))
        tail += [f"_out[{j}, {i}] = _out[{i}, {j}]" for i, j in pairs if i != j]
        return doc, lines, w.convert() + [w.shape_line()], "_out", tail
    codes = iter([w.entry(o) for o in outs])
    grid: list[list[str]] = [[""] * n for _ in range(n)]
    for i, j in pairs:
        grid[i][j] = grid[j][i] = next(codes)
    return doc, lines, w.prologue(), w.matrix(grid), []


_PARTS = {"value": _value_parts, "grad": _grad_parts, "value_and_grad": _value_and_grad_parts,
          "hessian": _hessian_parts}


FUNCTION_NAMES = {"value": "f", "grad": "grad_f", "hessian": "hessian_f", "value_and_grad": "value_and_grad_f"}


_TYPES = {
    "numpy": "Results have the arguments' common float type (float32 arrays stay float32; integers, "
             "lists and Python numbers become float64).",
    "torch": "Tensors keep their dtype; numbers and lists become float64 tensors.",
    "jax": 'JAX computes in float32 unless float64 is on: jax.config.update("jax_enable_x64", True).',
}


def module_source(
    expr: sp.Basic,
    variables: Sequence[sp.Basic],
    backend: str,
    what: Sequence[str] = ("value", "grad", "hessian"),
    *,
    header: str | None = None,
    origin: str | None = None,
) -> str:
    """A whole module: a docstring, the imports its code uses, and one function per entry of ``what``.

    ``header`` replaces the docstring's first line and ``origin`` adds a paragraph (both are text:
    they pass through ``doc_text``). The source passes ``verify`` before it is returned.

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> src = module_source(x * sp.cos(sp.pi * x), [x], "math", ["value", "grad"])
    >>> namespace = {}
    >>> exec(src, namespace)
    >>> namespace["grad_f"](1.0)   # cos(π) − π·sin(π)
    [-1.0000000000000004]
    """
    if backend not in BACKENDS:
        raise InputError(f"unknown backend '{visible(str(backend))}'",
                         suggestion="choose one of " + ", ".join(BACKENDS))
    if not variables:
        raise InputError("the expression has no variables", suggestion="export a function of at least one variable")
    for kind in what:
        if kind not in FUNCTION_NAMES:
            raise InputError(f"unknown function '{visible(str(kind))}'", suggestion="choose from value, grad, hessian")
    names = tuple(safe_names(variables).values())
    gradient = [sp.diff(expr, v) for v in variables] if set(what) & {"grad", "hessian", "value_and_grad"} else None
    functions = [function_source(FUNCTION_NAMES[kind], expr, variables, backend, what=kind, names=names,
                                 gradient=gradient) for kind in what]
    renamed = [f"{n} is {_var_text(v)}" for v, n in zip(variables, names) if n != getattr(v, "name", None)]
    first = (doc_text(header) if header is not None
             else f"f({', '.join(_var_text(v) for v in variables)}) = {_math_doc(expr)}")
    paragraphs = [doc_text(origin)] if origin else []
    if backend != "math":
        paragraphs.append("Arguments are numbers, lists or arrays of points, broadcast together; grad_f and "
                          "hessian_f put the variables on the first axes (grad_f(...)[0] is the derivative by "
                          "the first variable). " + _TYPES[backend])
    if renamed:
        paragraphs.append("Argument names: " + "; ".join(renamed) + ".")
    text = _wrap_doc('"""' + first, "")
    for paragraph in paragraphs:
        text += ["", *_words(paragraph, WIDTH)]
    parts = [*text, '"""', "", *uses(functions)]
    for source in functions:
        parts += ["", "", source]
    source = "\n".join(parts) + "\n"
    verify(source)
    return source


# the check of every generated module ----------------------------------------------------------
_GENERATED_ARG = re.compile(r"_v[0-9]+")
_LOCAL = re.compile(r"_t[0-9]+|_k[0-9]+|_shape|_out")
_ALLOWED_IMPORTS = {("math", None), ("numpy", "np"), ("jax", None), ("jax.numpy", "jnp"), ("torch", None)}
_KEYWORDS = frozenset({"dtype", "otypes", "min", "max"})
_NODES = (ast.Assign, ast.Return, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call,
          ast.Attribute, ast.Name, ast.Constant, ast.Tuple, ast.List, ast.Subscript, ast.GeneratorExp,
          ast.comprehension, ast.keyword, ast.Load, ast.Store, ast.operator, ast.unaryop, ast.cmpop)


class UnsafeSource(ComputeError):
    """Generated source failed ``verify``: a bug in symgrad, or an object whose printing is its own."""


def uses(sources: Sequence[str]) -> list[str]:
    """The import lines for the modules ``sources`` name, in a fixed order."""
    named = {node.id for source in sources for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    return [line for alias, line in _IMPORTS.items() if alias in named]


def modules(source: str) -> dict[str, object]:
    """The backend modules ``source`` names, imported: a namespace for code from ``function_source``."""
    import importlib

    roots = {"math": "math", "np": "numpy", "jax": "jax", "jnp": "jax.numpy", "torch": "torch"}
    named = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    return {alias: importlib.import_module(root) for alias, root in roots.items() if alias in named}


def verify(source: str) -> None:
    """Refuse generated source that holds anything but a docstring, the backends' imports and
    functions made of arithmetic, the backend's math and the arguments (raises ``UnsafeSource``).

    It reads the source with ``ast`` and never runs it.

    >>> verify('import math\\n\\n\\ndef f(x):\\n    return math.exp(x)\\n')
    >>> verify('def f(x):\\n    return __import__("os").system("x")\\n')
    Traceback (most recent call last):
    ...
    symgrad.numeric.codegen.UnsafeSource: generated code failed symgrad's safety check (line 2: an attribute of
    something other than a module); nothing was run
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        _unsafe(exc.lineno, f"a syntax error ({exc.msg})")
    for k, node in enumerate(tree.body):
        if _docstring(node) and k == 0:
            continue
        if isinstance(node, ast.Import) and all((a.name, a.asname) in _ALLOWED_IMPORTS for a in node.names):
            continue
        if not isinstance(node, ast.FunctionDef):
            _unsafe(node.lineno, f"a {type(node).__name__} statement")
        _check_function(node)


def _unsafe(line: int | None, what: str) -> NoReturn:
    raise UnsafeSource(f"generated code failed symgrad's safety check (line {line}: {what}); nothing was run")


def _docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _check_function(fn: ast.FunctionDef) -> None:
    a = fn.args
    if (fn.name not in FUNCTION_NAMES.values() or fn.decorator_list or fn.returns or a.vararg or a.kwarg
            or a.kwonlyargs or a.posonlyargs or a.defaults or a.kw_defaults or getattr(fn, "type_params", None)):
        _unsafe(fn.lineno, f"the function {fn.name!r} is not one symgrad writes")
    params = set()
    for arg in a.args:
        if arg.annotation or not (_GENERATED_ARG.fullmatch(arg.arg) or (_plain(arg.arg) and not _shadows(arg.arg))):
            _unsafe(fn.lineno, f"the argument name {arg.arg!r}")
        params.add(arg.arg)
    body = fn.body[1:] if fn.body and _docstring(fn.body[0]) else fn.body
    for stmt in body:
        if not isinstance(stmt, (ast.Assign, ast.Return)):
            _unsafe(stmt.lineno, f"a {type(stmt).__name__} statement")
        for node in ast.walk(stmt):
            _check_node(node, params, stmt.lineno)


def _check_node(node: ast.AST, params: set[str], line: int) -> None:
    if not isinstance(node, _NODES):
        _unsafe(line, f"a {type(node).__name__} node")
    if isinstance(node, ast.Name):
        if not (node.id in params or _LOCAL.fullmatch(node.id) or node.id in _IMPORTS or node.id in _BUILTINS):
            _unsafe(line, f"the name {node.id!r}")
    elif isinstance(node, ast.Attribute):
        root: ast.expr = node
        while isinstance(root, ast.Attribute):
            if root.attr.startswith("_"):
                _unsafe(line, f"the attribute {root.attr!r}")
            root = root.value
        if not (isinstance(root, ast.Name) and root.id in _IMPORTS):
            _unsafe(line, "an attribute of something other than a module")
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float)) or isinstance(node.value, bool):
            _unsafe(line, f"the constant {type(node.value).__name__}")
    elif isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id not in _BUILTINS:
            _unsafe(line, f"a call of {node.func.id!r}")
        if not isinstance(node.func, (ast.Name, ast.Attribute, ast.Call)):
            _unsafe(line, "a call of a computed function")
        if any(k.arg not in _KEYWORDS for k in node.keywords):
            _unsafe(line, "a keyword argument")
    elif isinstance(node, ast.Subscript):
        if not (isinstance(node.value, ast.Name) and node.value.id == "_out"):
            _unsafe(line, "an index into something other than the result")
    elif isinstance(node, ast.comprehension) and (
            node.ifs or node.is_async or not (isinstance(node.target, ast.Name) and node.target.id.startswith("_k"))):
        _unsafe(line, "a loop symgrad does not write")

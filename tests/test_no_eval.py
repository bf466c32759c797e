"""No user text reaches eval/exec/compile/sympify/parse_expr, and generated code names only the math.

Two proofs. First, the whole CLI runs over the expression corpus and the hostile corpus with
SymPy's string entry points (``sympify`` on a ``str``, ``parse_expr``) made to raise, and with
``eval``/``exec``/``compile`` recording every source string they are given: no call may carry
user text. SymPy calls ``sympify`` on its own objects all the time, so only ``str`` arguments
count. Second, the code symgrad generates (``symgrad.numeric``: ``compile`` and ``export``) is
parsed with ``ast``: a docstring, the backend's import, and functions whose every name is a
variable name made from the grammar's identifiers, a generated temporary, or the backend's math.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
from collections.abc import Iterator

import pytest
import sympy as sp
from test_hostile import CASES

INJECTIONS = [
    "__import__('os').system('echo pwned')",
    "eval('pwned')",
    "exec(\"import os; os.system('pwned')\")",
    "x + __pwned__",
    "().__class__.__bases__[0].__subclasses__()",
    "sympify('pwned')",
    "S('pwned')",
    "x; pwned",
    "lambda pwned: pwned",
    "pwned(x)",
    "x.pwned",
    "{'pwned': 1}",
]


def _corpus() -> list[str]:
    try:
        from corpus import CORPUS  # the step engine's corpus (issue #3), when it exists
    except ImportError:
        CORPUS = []
    own = ["x cos(πx)", "sin^2 x", "relu(x)", "sigmoid(w x + b)", "ln|x|", "x^x", "max(x, y)", "θ₁^2 + theta2"]
    return list(dict.fromkeys([*CORPUS, *own]))


class Tripwire:
    """Patches the string entry points; records what eval/exec/compile were given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sources: list[str] = []
        self.sympified: list[str] = []
        import sys

        import sympy.parsing.sympy_parser as sympy_parser

        core_sympify = sys.modules["sympy.core.sympify"]  # the module (sympy.core.sympify is also a function)

        real_sympify = core_sympify.sympify

        def guarded_sympify(a: object, *args: object, **kwargs: object) -> object:
            if isinstance(a, str):
                self.sympified.append(a)
                raise AssertionError(f"sympify was given a string: {a!r}")
            return real_sympify(a, *args, **kwargs)

        def guarded_parse_expr(s: object, *args: object, **kwargs: object) -> object:
            self.sympified.append(str(s))
            raise AssertionError(f"parse_expr was given {s!r}")

        monkeypatch.setattr(core_sympify, "sympify", guarded_sympify)
        monkeypatch.setattr(sp, "sympify", guarded_sympify)
        # S("…") and SymPy's own imported copies of sympify end in parse_expr for a string: patched too
        monkeypatch.setattr(sympy_parser, "parse_expr", guarded_parse_expr)
        for name in ("eval", "exec", "compile"):
            real = getattr(builtins, name)
            monkeypatch.setattr(builtins, name, self._recording(real))

    def _recording(self, real):  # type: ignore[no-untyped-def]
        def wrapper(source: object, *args: object, **kwargs: object) -> object:
            if isinstance(source, (str, bytes)):
                self.sources.append(source.decode("utf-8", "replace") if isinstance(source, bytes) else source)
            return real(source, *args, **kwargs)

        return wrapper


@pytest.fixture
def tripwire(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tripwire]:
    yield Tripwire(monkeypatch)


def test_injections_never_reach_eval(cli, tripwire: Tripwire) -> None:
    for text in INJECTIONS:
        for command in ("diff", "grad"):
            res = cli(command, text, "--format", "json")
            assert "Traceback" not in res.stdout + res.stderr
            assert res.exit_code in (0, 2), (text, res.stdout)
    assert not tripwire.sympified
    for source in tripwire.sources:  # generated code of symgrad and its libraries, never the user's
        for marker in ("pwned", "__subclasses__", "__bases__", *INJECTIONS):
            assert marker not in source


def test_corpus_and_hostile_inputs_never_reach_sympify(cli, tripwire: Tripwire) -> None:
    for text in _corpus():
        res = cli("diff", text, "--format", "json", "--at", "x=0.5", "--timeout", "5")
        assert "Traceback" not in res.stdout + res.stderr
    for case in CASES:
        if case.stdin is None:
            cli(*case.args, "--format", "json")
    assert not tripwire.sympified


def test_the_tripwire_works(tripwire: Tripwire) -> None:
    """The patches are live: a string given to sympify is caught (this test fails if they are not)."""
    with pytest.raises(AssertionError):
        sp.sympify("x + 1")
    with pytest.raises(AssertionError):
        sp.S("x")
    assert tripwire.sympified == ["x + 1", "x"]


# generated code ---------------------------------------------------------------------------------
_MODULES = {"numpy": "np", "math": "math", "jax": "jnp", "torch": "torch"}
_BUILTINS = {"abs", "min", "max", "float", "len", "range", "sum", "tuple", "list"}
_GENERATED = re.compile(r"_[a-z]+[0-9]*")
_EXPORTED = {"f", "grad_f", "hessian_f", "value_and_grad_f"}


def _attribute_ok(module: str, attr: str) -> bool:
    """An attribute of the backend module: checked against the real module where installed."""
    import importlib

    root = {"np": "numpy", "math": "math", "jnp": "jax.numpy", "jax": "jax", "torch": "torch"}[module]
    try:
        mod = importlib.import_module(root)
    except ImportError:
        return re.fullmatch(r"[a-z][a-z0-9_]*", attr) is not None
    return hasattr(mod, attr)


def check_source(source: str, allowed_variables: set[str]) -> None:
    """The module holds a docstring, imports of the backend, and functions made only of the math."""
    tree = ast.parse(source)
    body = tree.body
    assert isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)  # the docstring
    for node in body[1:]:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            assert all(n in {"numpy", "math", "jax", "jax.numpy", "torch", "functools"} for n in names), names
            continue
        assert isinstance(node, ast.FunctionDef) and node.name in _EXPORTED, ast.dump(node)[:200]
        assert not node.decorator_list or all(isinstance(d, (ast.Attribute, ast.Name)) for d in node.decorator_list)
        params = {a.arg for a in node.args.args}
        assert params <= allowed_variables, params - allowed_variables
        for sub in ast.walk(node):
            assert not isinstance(sub, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Lambda,
                                        ast.ClassDef, ast.Delete, ast.With, ast.Try, ast.While))
            if isinstance(sub, ast.Name):
                ok = (sub.id in allowed_variables or sub.id in _MODULES.values() or sub.id == "jax"
                      or sub.id in _BUILTINS or sub.id in _EXPORTED or _GENERATED.fullmatch(sub.id))
                assert ok, f"unexpected name {sub.id!r} in generated code"
                assert not (sub.id.startswith("__") or keyword.iskeyword(sub.id))
            if isinstance(sub, ast.Attribute):
                assert not sub.attr.startswith("_"), sub.attr
                if isinstance(sub.value, ast.Name) and sub.value.id in {"np", "math", "jnp", "jax", "torch"}:
                    assert _attribute_ok(sub.value.id, sub.attr), f"{sub.value.id}.{sub.attr}"


def _exportable() -> list[str]:
    return [t for t in _corpus() if "," not in t and "sum" not in t]


@pytest.mark.parametrize("backend", ["numpy", "math", "torch", "jax"])
def test_generated_code_names_only_the_math(backend: str) -> None:
    codegen = pytest.importorskip("symgrad.numeric.codegen")
    from symgrad import expressions
    from symgrad.errors import SymgradError
    from symgrad.expressions import as_expr
    from symgrad.parsing import parse

    checked = 0
    texts = _exportable() + ["lambda print + import_ + theta_1 x", "sigmoid(w x + b)", "x_i y_j + alpha"]
    for text in texts:
        try:
            e = as_expr(parse(text))
        except SymgradError:
            continue
        variables = expressions.variables(e)
        if not variables or e.has(sp.Sum, sp.Indexed, sp.Derivative) or any(
            isinstance(a, sp.core.function.AppliedUndef) for a in e.atoms(sp.Function)
        ):
            continue
        try:
            source = codegen.module_source(e, variables, backend, ("value", "grad"))
        except SymgradError:
            continue  # an expression the backend does not support says so
        allowed = set(codegen.safe_names(variables).values())
        for name in allowed:
            assert name.isidentifier() and not keyword.iskeyword(name) and name not in dir(builtins)
        check_source(source, allowed)
        checked += 1
    assert checked >= 10


def test_the_source_check_can_fail() -> None:
    bad = '"""doc"""\nimport numpy as np\n\n\ndef f(x):\n    return __import__("os").system("pwned")\n'
    with pytest.raises(AssertionError):
        check_source(bad, {"x"})


# hostile SymPy objects handed to the API ------------------------------------------------------------
HOSTILE_NAMES = [
    'a"""', "a'''", 'a""" + str(open("pwned","w").write("x")) + """', "b''' + str(open('pwned','w')) + '''",
    "a\\", "a\\\\", "a\\n", "\\", '"', "'", '"""', "a\nb", "a\r\nb", "# pwned", "x # pwned\nimport os",
    "a\x00b", "a\u2028b", "a\u2029b", "a\x85b", "\x1b[31mred", "\t", " ", "", "1x", "x y", "x.y", "{x}",
    "lambda", "import", "print", "exp", "math", "np", "jnp", "jax", "torch", "f", "grad_f", "builtins",
    "__import__(\"os\").system(\"pwned\")", "os.system", "__builtins__", "__class__", "_t0", "_k0", "_v1",
    "_out", "_shape", "l", "I", "True", "None", "match", "ｐｒｉｎｔ", "ﬁ", "θ", "x²", "\ud800"[:0] + "z",
]
"""Names made of quotes, backslashes, newlines, triple quotes, comments, NUL, Unicode line
separators, keywords, builtins, the modules generated code uses, its own generated names, names
that NFKC-normalize to a builtin (fullwidth ｐｒｉｎｔ) and plain Unicode ones."""


def _hostile_expression(names: list[str]) -> tuple[sp.Expr, list[sp.Symbol]]:
    symbols = [sp.Symbol(n, real=True) for n in names]
    expr = sp.Add(*[(k + 1) * s**2 for k, s in enumerate(symbols)]) + sp.sin(symbols[0] * symbols[-1])
    return expr, symbols


@pytest.mark.parametrize("backend", ["math", "numpy", "torch", "jax"])
def test_hostile_symbol_names_cannot_run_code(tmp_path, monkeypatch, backend: str) -> None:
    """Every name goes through safe_names (code) and doc_text (docstrings): nothing runs, all works."""
    import importlib.util

    if backend in ("torch", "jax"):
        pytest.importorskip(backend)
    import symgrad
    from symgrad.numeric import codegen
    from symgrad.numeric.export import export_source

    monkeypatch.chdir(tmp_path)
    names = list(dict.fromkeys(HOSTILE_NAMES))
    for group in (names[i:i + 8] for i in range(0, len(names), 8)):
        expr, symbols = _hostile_expression(group)
        point = [0.1 * (k + 1) for k in range(len(symbols))]
        want = float(expr.subs(dict(zip(symbols, point))))
        for source in (export_source(expr, symbols, backend), symgrad.compile(expr, symbols, backend=backend).source):
            allowed = set(codegen.safe_names(symbols).values())
            check_source(source, allowed)  # the independent checker: only the math
            path = tmp_path / f"hostile_{backend}.py"
            path.write_text(source, encoding="utf-8")
            spec = importlib.util.spec_from_file_location(f"hostile_{backend}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)  # a real import of the file: it parses and runs
            # (JAX computes in float32 unless jax_enable_x64 is on)
            assert float(module.f(*point)) == pytest.approx(want, rel=1e-6 if backend == "jax" else 1e-12)
            docs = [ast.get_docstring(n) for n in ast.walk(ast.parse(source)) if isinstance(n, (ast.Module,
                                                                                                ast.FunctionDef))]
            assert all(docs) and all("\n" not in codegen.visible(name) for name in group)
    assert not list(tmp_path.glob("pwned*")), "generated code ran something"


def test_hostile_function_names_and_printing_are_refused() -> None:
    import symgrad
    from symgrad.errors import SymgradError
    from symgrad.numeric import codegen
    from symgrad.numeric.export import export_source

    x = sp.Symbol("x", real=True)
    for fn in ("os.system", '__import__("os").system', "exp", "print", 'f"""'):
        with pytest.raises(SymgradError, match="abstract function"):
            symgrad.compile(sp.Function(fn)(x) + x, backend="math")

    class Sneaky(sp.Function):
        """A SymPy function whose own code printing is an attack: verify refuses the module."""

        def _pythoncode(self, printer):
            return '__import__("os").system("echo pwned")'

        _numpycode = _pythoncode

        def _sympystr(self, printer):
            return '""" + __import__("os").system("echo pwned") + """'

        _symgrad_oneline = _sympystr

    for backend in ("math", "numpy"):
        with pytest.raises(codegen.UnsafeSource, match="safety check"):
            export_source(Sneaky(x) + x**2, [x], backend, ("value",))
    # indexed bases and Dummy symbols
    i = sp.Idx("i")
    with pytest.raises(SymgradError, match="sums over data"):
        export_source(sp.IndexedBase('os.system("pwned")')[i] * x, [x], "math")
    d1, d2 = sp.Dummy("x", real=True), sp.Dummy("x", real=True)
    c = symgrad.compile(d1**2 + 3 * d2, [d1, d2], backend="math")
    assert c.grad(1.0, 2.0) == [2.0, 3.0]
    # a free symbol that is not a variable never reaches the code
    with pytest.raises(SymgradError, match="not among the variables"):
        export_source(x + sp.Symbol('__import__("os")'), [x], "math")


def test_verify_refuses_everything_but_the_math() -> None:
    from symgrad.numeric.codegen import UnsafeSource, verify

    good = '"""doc"""\nimport math\n\n\ndef f(x):\n    """doc"""\n    _t0 = math.exp(x)\n    return _t0 + 1\n'
    verify(good)
    bad = [
        good.replace("import math", "import os"),
        good.replace("return _t0 + 1", "return __import__('os')"),
        good.replace("return _t0 + 1", "return x.__class__"),
        good.replace("return _t0 + 1", "return open('pwned')"),
        good.replace("return _t0 + 1", "return 'text'"),
        good.replace("return _t0 + 1", "return (lambda: 1)()"),
        good.replace("_t0 = math.exp(x)", "global y"),
        good.replace("def f(x):", "def f(x, *rest):"),
        good.replace("def f(x):", "def evil(x):"),
        good.replace("def f(x):", "@decorator\ndef f(x):"),
        good + "print('pwned')\n",
        good + "class C:\n    pass\n",
        good.replace('"""doc"""\nimport', '"""doc"""\n"""more"""\nimport'),
        good.replace("return _t0 + 1", "return math.exp.__globals__"),
        good.replace("return _t0 + 1", "return [_t0 for x in range(3)]"),
        good.replace('"""doc"""\nimport', '"""doc"""" + __import__("os")\nimport'),
    ]
    for source in bad:
        with pytest.raises(UnsafeSource):
            verify(source)


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    given = None

if given is not None:

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.text(min_size=0, max_size=10), min_size=1, max_size=4, unique=True))
    def test_any_symbol_names_give_safe_runnable_code(names: list[str]) -> None:
        """The fuzzer's walk of the API: any text as symbol names, through compile and export_source."""
        import ast as ast_module

        import symgrad
        from symgrad.numeric import codegen
        from symgrad.numeric.export import export_source

        expr, symbols = _hostile_expression(names)
        point = [0.25 * (k + 1) for k in range(len(symbols))]
        c = symgrad.compile(expr, symbols, backend="math", what=["value", "grad"])
        assert c.f(*point) == pytest.approx(float(expr.subs(dict(zip(symbols, point)))), rel=1e-12)
        source = export_source(expr, symbols, "numpy")
        check_source(source, set(codegen.safe_names(symbols).values()))
        docs = [ast_module.get_docstring(node) for node in ast_module.walk(ast_module.parse(source))
                if isinstance(node, (ast_module.Module, ast_module.FunctionDef))]
        assert all(docs)

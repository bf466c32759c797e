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
    from symgrad import calculus
    from symgrad.errors import SymgradError
    from symgrad.parsing import parse

    checked = 0
    texts = _exportable() + ["lambda print + import_ + theta_1 x", "sigmoid(w x + b)", "x_i y_j + alpha"]
    for text in texts:
        try:
            e = calculus.as_expr(parse(text))
        except SymgradError:
            continue
        variables = calculus.variables(e)
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

"""Run one attack of ``tests/fuzz/families.py`` and check symgrad's promises on what it did.

Every attack runs where it can be measured and stopped:

- ``cli`` and ``api`` attacks run in a forked child (the fuzzer's modules are imported once, so
  the child starts in milliseconds) in a fresh folder, with the ``symgrad`` command's own limits
  (``symgrad.cli.common.OWN_PROCESS``: the memory ceiling and the kernel's CPU limit behind the
  budget); the parent reads the child's CPU time and peak memory from ``wait4``.
- ``process`` attacks run the real ``python -m symgrad`` under the real hazard (``prlimit
  --fsize``, ``/dev/full``, closed descriptors, ``PYTHONIOENCODING``, a pipe closed early).
- ``parse`` attacks run in this process, on the deep stack the commands use.

A broken promise raises ``Broken`` (an AssertionError) with one of ``KINDS``; anything else
returns the outcome for the tally (``ok``, ``error``, ``refused``, or the oracle's finer word).
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BUDGET = 2.0
"""The ``--timeout`` of every command the families run (CPU seconds)."""

OVER = 1.0
"""CPU seconds past budget + grace that a child may use (its own bookkeeping) before it counts as
having run past the budget; the kernel stops it at budget + grace + 2 × OVER."""

KINDS = ("crash", "traceback", "exit code", "message", "budget", "memory", "wrong", "half-written", "code ran")
"""What a failure can be: an internal error, a Python traceback, an exit code outside 0/1/2, a
failure without one clear line, past the CPU budget, past the memory ceiling, a wrong verdict or
number against the oracle, a file or stream half-written as if it were whole, code that ran."""


class Broken(AssertionError):
    """A promise the attack broke; ``kind`` is one of ``KINDS``."""

    def __init__(self, kind: str, message: str) -> None:
        assert kind in KINDS, kind
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def expect(kind: str, condition: object, message: object) -> None:
    if not condition:
        raise Broken(kind, str(message)[:1500])


def run(attack: dict[str, Any]) -> str:
    """Run the attack; its outcome, or ``Broken``."""
    kind = attack["kind"]
    if kind == "cli":
        return _cli(attack)
    if kind == "api":
        return _api(attack)
    if kind == "process":
        return _process(attack)
    if kind == "parse":
        return _parse(attack)
    raise ValueError(f"unknown attack kind {kind!r}")


# forked children -----------------------------------------------------------------------------------
def _forked(fn: Callable[[], Any], folder: Path, cpu_limit: int | None = None) -> tuple[Any, float, int]:
    """``fn()`` in a forked child in ``folder``; (its result or exception, CPU seconds, peak KiB).
    The kernel ends the child after ``cpu_limit`` CPU seconds (default: budget + grace + 2 × OVER)."""
    from symgrad.budget import GRACE

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = 0
        try:
            os.close(read_fd)
            os.chdir(folder)
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.setitimer(signal.ITIMER_PROF, 0)
            hard = cpu_limit or int(BUDGET + GRACE + 2 * OVER) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
            try:
                payload = pickle.dumps(("value", fn()))
            except BaseException as exc:
                import traceback

                payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()[-3000:]))
            with os.fdopen(write_fd, "wb") as out:
                out.write(payload)
        except BaseException:
            status = 70
        finally:
            os._exit(status)
    os.close(write_fd)
    chunks = []
    deadline = time.monotonic() + 600  # a wall-clock guard only: the verdict is the CPU time
    import select

    while True:
        ready, _, _ = select.select([read_fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            break
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    _, status, usage = os.wait4(pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    if os.WIFSIGNALED(status):
        signame = signal.Signals(os.WTERMSIG(status)).name
        raise Broken("budget" if signame in ("SIGXCPU", "SIGKILL", "SIGPROF") else "crash",
                     f"the child was ended by {signame} after {cpu:.1f} s of CPU time")
    expect("crash", chunks, f"the child left without an answer (status {status})")
    return pickle.loads(b"".join(chunks)), cpu, usage.ru_maxrss


def _in_folder(files: dict[str, str] | None) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="symgrad-fuzz-"))
    for name, content in (files or {}).items():
        (folder / name).write_bytes(content.encode("utf-8", "surrogateescape"))
    return folder


def _check_cpu(cpu: float, what: str) -> None:
    from symgrad.budget import GRACE

    expect("budget", cpu <= BUDGET + GRACE + OVER, f"{what} used {cpu:.2f} s of CPU time (budget {BUDGET:g} s)")


# command lines ----------------------------------------------------------------------------------------
def _invoke(args: list[str], stdin: str | None, oracle: dict[str, Any] | None) -> tuple[int, str, str, str | None]:
    """In the child: the CLI in-process, with the command's own process limits."""
    from typer.testing import CliRunner

    from symgrad.cli import common
    from symgrad.cli.app import load_commands

    common.OWN_PROCESS = True  # the memory ceiling and the kernel's CPU limit, as `symgrad` has them
    if oracle and oracle.get("type") == "bumped-walk":
        bumped = _bumped_walk_answer(args, oracle["bump"])
        if bumped is None:
            return 0, "", "", "skip"
        args = bumped
    res = CliRunner().invoke(load_commands(), args, input=stdin, catch_exceptions=True)
    escaped = None
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        import traceback

        escaped = "".join(traceback.format_exception(res.exception))[-3000:]
    return res.exit_code, res.stdout, res.stderr, escaped


def _bumped_walk_answer(args: list[str], bump: str) -> list[str] | None:
    """``check WALK --answer BUMPED``: BUMPED becomes the walk's SymPy derivative plus ``bump``."""
    import sympy as sp

    from symgrad import budget, calculus
    from symgrad.errors import SymgradError
    from symgrad.parsing import parse

    try:
        with budget.time_budget(BUDGET):
            e = calculus.as_expr(parse(args[1]))
            if isinstance(e, sp.Tuple) or not e.free_symbols:
                return None
            var = calculus.default_variable(e)
            d = sp.diff(e, var)
            if d.has(sp.Derivative, sp.Subs):
                return None
            text = str(d)
    except (SymgradError, Exception):
        return None
    return [a if a != "BUMPED" else f"{text} + {bump}" for a in args]


def _cli(attack: dict[str, Any]) -> str:
    args = list(attack["args"])
    if "--format" not in args:
        args += ["--format", "plain"]
    args += ["--timeout", str(BUDGET)]
    fmt = args[args.index("--format") + 1]
    folder = _in_folder(attack.get("files"))
    try:
        outcome, cpu, _ = _forked(lambda: _invoke(args, attack.get("stdin"), attack.get("oracle")), folder)
        if outcome[0] == "error":
            raise Broken("crash", outcome[2])
        code, out, err, escaped = outcome[1]
        if escaped == "skip":
            return "skip"
        expect("crash", escaped is None, escaped)
        _promises(code, out, err, fmt, cpu, args[0])
        leftovers = [p.name for p in folder.iterdir() if p.name not in (attack.get("files") or {})]
        expect("half-written", not any(n.endswith(".tmp") for n in leftovers), f"temporary files left: {leftovers}")
        expect("code ran", "CANARY" not in leftovers, "a canary file appeared")
        outcome_word = {0: "ok", 1: "error", 2: "refused"}[code]
        oracle = attack.get("oracle")
        if oracle:
            return _judge(oracle, code, out, err, outcome_word)
        return outcome_word
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _promises(code: int, out: str, err: str, fmt: str, cpu: float, command: str = "") -> None:
    text = out + err
    expect("traceback", "Traceback (most recent call last)" not in text, text[-1500:])
    expect("crash", "internal error" not in text, text[-1500:])
    expect("exit code", code in (0, 1, 2), (code, text[-1500:]))
    expect("memory", "ran out of memory" not in text, text[-500:])
    expect("budget", "could not be interrupted" not in text, text[-500:])
    _check_cpu(cpu, "the command")
    if code == 1 and command == "descend" and ('"stopped": "diverged"' in out or "diverged after" in out):
        return  # a run that diverged is a result (exit 1), printed in full
    if code:
        if fmt == "json":
            try:
                error = json.loads(out)["error"]
            except (ValueError, KeyError, TypeError):
                raise Broken("message",
                             f"exit {code} in JSON mode without {{'error': …}} on stdout: {out[:300]!r}") from None
            expect("message", error.get("message"), error)
        else:
            expect("message", err.startswith("error: "), f"exit {code} without one clear line: {err[:300]!r}")
            expect("message", out == "", f"exit {code} with output on stdout: {out[:300]!r}")
        first = (err or out).splitlines()[0] if (err or out) else ""
        expect("message", len(first) < 2000, f"an error line of {len(first)} characters")


def _judge(oracle: dict[str, Any], code: int, out: str, err: str, word: str) -> str:
    kind = oracle["type"]
    if kind == "value":
        return _judge_value(oracle, code, out, err)
    if kind == "verdict":
        return _judge_verdict(oracle, code, out, err)
    if kind == "bumped-walk":
        if code == 0:
            data = json.loads(out)
            expect("wrong", data.get("correct") is not True,
                   f"a bumped answer is called correct: {data.get('answer')} for {data.get('expression')}")
            return "walk-" + {True: "right", False: "wrong", None: "undecided"}[data.get("correct")]
        return f"walk-{word}"
    if kind == "loss":
        return _judge_loss(oracle, code, out, err)
    if kind == "refused":
        says = oracle["says"]
        message = json.loads(out)["error"]["message"] if code else ""
        expect("wrong", code == 2, f"a bad data file was not refused (exit {code}): expected a message with {says!r}; "
                                   f"{(out + err)[:300]!r}")
        expect("message", any(s in message for s in (says if isinstance(says, list) else [says])),
               f"the message does not say {says!r}: {message!r}")
        return "refused"
    if kind == "promises":
        return f"{word}"
    raise ValueError(kind)


def _judge_value(oracle: dict[str, Any], code: int, out: str, err: str) -> str:
    from oracles import TEMPLATES, compare_value, point

    template = TEMPLATES[oracle["template"]]
    if code == 2:
        return "refused"  # a point symgrad cannot read or use (beyond its limits): said, exit 2
    expect("wrong", code == 0, f"exit {code} for a value at a point: {(out + err)[:500]!r}")
    data = json.loads(out)
    try:
        return compare_value(template, point(oracle["point"]), data.get("value"), data.get("note"))
    except AssertionError as exc:
        raise Broken("wrong", f"{template.text} at x={oracle['point']}: {exc}") from None


def _judge_verdict(oracle: dict[str, Any], code: int, out: str, err: str) -> str:
    from oracles import TEMPLATES, counterexample_is_real, make_bump, wrong_somewhere

    template = TEMPLATES[oracle["template"]]
    bump = make_bump(oracle["bump"]) if oracle["bump"] else None
    if code != 0:
        expect("wrong", bump is not None or code == 1, f"a right answer was refused: {(out + err)[:500]!r}")
        return f"exit{code}"
    data = json.loads(out)
    correct = data.get("correct")
    if bump is None:
        expect("wrong", correct is not False, f"a right answer is called wrong: {data.get('answer')} for "
                                              f"{data.get('expression')} "
                                              f"({data.get('reason')}; {data.get('counterexample')})")
        return "right-" + ("yes" if correct else "undecided")
    witness = wrong_somewhere(template, bump)
    if witness is None:
        return "bump-invisible"  # the bump is zero where f′ exists: any verdict may be right
    expect("wrong", correct is not True, f"a wrong answer is called correct: {data.get('answer')} for "
                                         f"{data.get('expression')} "
                                         f"(it differs at x = {witness}) ({data.get('reason')})")
    if correct is False and data.get("counterexample"):
        ce = data["counterexample"]
        x = ce["point"].get("x")
        if x is not None:
            try:
                counterexample_is_real(template, bump, float(x), ce.get("expected"))
            except AssertionError as exc:
                raise Broken("wrong", f"{data.get('answer')} for {data.get('expression')}: {exc}") from None
    return "wrong-" + ("caught" if correct is False else "undecided")


def _judge_loss(oracle: dict[str, Any], code: int, out: str, err: str) -> str:
    from oracles import LOSSES

    loss = LOSSES[oracle["loss"]]
    rows = [dict(r, i=k + 1) for k, r in enumerate(oracle["data"])]
    if loss.rows is not None:
        lo, hi = loss.rows
        if hi > len(rows):
            expect("wrong", code == 2, f"a sum over rows {lo}…{hi} of a {len(rows)}-row file was not refused")
            return "bounds"
        rows = rows[lo - 1:hi]
    expect("wrong", code == 0, f"a valid data file failed (exit {code}): {(out + err)[:600]!r}")
    data = json.loads(out)
    names = data["variables"]
    first = data["runs"][0]["trajectory"]
    start = oracle["start"]
    value = loss.value(start, rows)
    grad = loss.gradient(start, rows)
    norm = sum(g * g for g in grad.values()) ** 0.5
    step0, step1 = first[0], first[1]

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= 1e-9 * max(1.0, abs(b))

    expect("wrong", close(step0["value"], value), f"{loss.text}: f(start) = {step0['value']}, the oracle {value}")
    expect("wrong", close(step0["grad_norm"], norm),
           f"{loss.text}: ‖∇f(start)‖ = {step0['grad_norm']}, the oracle {norm}")
    for name, got in zip(names, step1["point"]):
        want = start[name] - oracle["lr"] * grad[name]
        expect("wrong", close(got, want), f"{loss.text}: {name} after one step = {got}, the oracle {want}")
    return "right"


# the Python API -----------------------------------------------------------------------------------
def _api(attack: dict[str, Any]) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import test_no_eval  # noqa: F401 - imported once here, not in every child

    folder = _in_folder(None)
    try:
        outcome, cpu, _ = _forked(lambda: _api_child(attack, folder), folder)
        if outcome[0] == "error":
            raise Broken("wrong" if outcome[1].startswith("AssertionError") else "crash", outcome[2])
        expect("code ran", not (folder / "CANARY").exists(), "a canary file appeared: generated code ran a payload")
        stray = sorted(p.name for p in folder.iterdir() if p.name not in ("m.py", "__pycache__"))
        expect("code ran", not stray, f"files appeared: {stray}")
        _check_cpu(cpu, "compiling and running the module")
        return str(outcome[1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _symbols(attack: dict[str, Any]) -> list[Any]:
    import sympy as sp

    kind = attack["assumptions"]
    make: dict[str, Callable[[str], Any]] = {
        "real": lambda n: sp.Symbol(n, real=True), "plain": sp.Symbol,
        "positive": lambda n: sp.Symbol(n, positive=True), "dummy": lambda n: sp.Dummy(n, real=True),
    }
    return [make[kind](n) for n in attack["names"]]


def _api_expression(attack: dict[str, Any], symbols: list[Any]) -> Any:
    import sympy as sp

    first, last = symbols[0], symbols[-1]
    shape = attack["shape"]
    total = sp.Add(*[(k + 1) * s**2 for k, s in enumerate(symbols)])
    if shape == 0:
        return total + sp.sin(first * last)
    if shape == 1:
        return sp.exp(-first**2) * sp.cos(last) + total
    if shape == 2:
        return sp.log(1 + first**2) + sp.sqrt(1 + last**2) + total
    if shape == 3:
        return sp.Max(first, last) + sp.tanh(first) + total
    if shape == 4:
        return total / (1 + sp.exp(-first))
    return sp.atan(first) * sp.cosh(last) + total


def _payload_function() -> Any:
    """A SymPy function whose code printing writes the canary and whose text breaks docstrings."""
    import sympy as sp

    payload = '__import__("os").system("touch CANARY")'

    class Payload(sp.Function):
        def _pythoncode(self, printer: Any) -> str:
            return payload

        _numpycode = _mpmathcode = _jaxcode = _torchcode = _pythoncode

        def _sympystr(self, printer: Any) -> str:
            return f'""" + {payload} + """'

        _symgrad_oneline = _sympystr

        def fdiff(self, argindex: int = 1) -> Any:
            return sp.cos(self.args[0])

    return Payload


def _api_child(attack: dict[str, Any], folder: Path) -> str:
    """In the child: compile or export, then check the source and the numbers."""
    import ast
    import importlib.util

    import sympy as sp

    import symgrad
    from symgrad.errors import SymgradError
    from symgrad.numeric import codegen
    from symgrad.numeric.export import export_source

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from test_no_eval import check_source  # the independent whitelist of what generated code may hold

    backend = attack["backend"]
    if backend in ("jax", "torch"):
        try:
            __import__(backend)
        except ImportError:
            backend = "math"
    symbols = _symbols(attack)
    expr = _api_expression(attack, symbols)
    if attack["function"] == "<printer>":
        expr = expr + _payload_function()(symbols[0])
    elif attack["function"] is not None:
        expr = expr + sp.Function(attack["function"])(symbols[0])
    try:
        if attack["entry"] == "compile":
            compiled = symgrad.compile(expr, symbols, backend=backend)
            source = compiled.source
            f = compiled.f
            grad = compiled.grad
        else:
            source = export_source(expr, symbols, backend)
            (folder / "m.py").write_text(source, encoding="utf-8")
            spec = importlib.util.spec_from_file_location("m", folder / "m.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)  # a real import of the file
            f, grad = module.f, module.grad_f
    except SymgradError as exc:
        assert attack["function"] is not None, f"refused without a reason: {exc.message}"
        assert any(w in exc.message for w in ("abstract function", "cannot", "safety check")), exc.message
        return "refused"
    assert attack["function"] is None, "an abstract function was compiled"
    check_source(source, set(codegen.safe_names(symbols).values()))
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef)):
            assert ast.get_docstring(node), "a module or function without its docstring"
    point = [0.25 * (k + 1) for k in range(len(symbols))]
    env = dict(zip(symbols, [sp.Rational(k + 1, 4) for k in range(len(symbols))]))
    want = float(expr.subs(env).evalf(30))
    got = float(f(*point))
    assert abs(got - want) <= 1e-9 * max(1.0, abs(want)), (got, want)
    gradient = grad(*point)
    for s, g in zip(symbols, list(gradient)):
        true = sp.diff(expr, s).subs(env).evalf(30)
        if true.is_real and true.is_finite:
            assert abs(float(g) - float(true)) <= 1e-7 * max(1.0, abs(float(true))), (s, g, true)
    return attack["entry"]


def _check_powered(name: str, text: str) -> None:
    """``f^2(…)``: refused, or read with f (σ) as the function, never as a variable named f."""
    from symgrad import budget
    from symgrad.errors import SymgradError
    from symgrad.parsing import parse

    try:
        with budget.time_budget(10):
            expr = parse(text)
    except SymgradError:
        return
    import sympy as sp

    variable = {"σ": "sigma"}.get(name, name)
    for factor in sp.Mul.make_args(expr):  # the misreading is name^k · (…): a factor that is the name
        base = factor.base if isinstance(factor, sp.Pow) else factor
        assert not (isinstance(base, sp.Symbol) and base.name == variable), (
            f"{text!r} was read with {name} as a variable: {expr}")


# real processes -------------------------------------------------------------------------------------
REPO = Path(__file__).resolve().parents[2]


def _process(attack: dict[str, Any]) -> str:
    folder = _in_folder(None)
    try:
        return _process_in(attack, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _process_in(attack: dict[str, Any], folder: Path) -> str:
    import contextlib

    hazard = attack["hazard"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "SYMGRAD_TIMEOUT": "30", "PYTHONPATH": str(REPO)}
    env.pop("SYMGRAD_DEBUG", None)
    if hazard == "encoding":
        env["PYTHONIOENCODING"] = attack["encoding"]
    command = [sys.executable, "-m", "symgrad", *attack["args"]]
    limit = attack.get("limit")
    prlimit = shutil.which("prlimit")
    if limit is not None and prlimit:
        command = [prlimit, f"--fsize={limit}", *command]
    out_path = folder / "out"
    keep = b"the user's own file\n"
    if hazard == "export-fsize":
        (folder / "keep.py").write_bytes(keep)
    run_in: dict[str, Any] = {"cwd": folder, "env": env, "stdin": subprocess.DEVNULL, "stderr": subprocess.PIPE,
                              "timeout": 300}
    with contextlib.ExitStack() as files:
        if hazard == "closed-stdout":
            proc = subprocess.run(["bash", "-c", 'exec "$@" >&-', "bash", *command], check=False, **run_in)
        elif hazard == "closed-stdin":
            run_in.pop("stdin")
            proc = subprocess.run(["bash", "-c", 'exec "$@" <&-', "bash", *command], check=False,
                                  stdout=subprocess.PIPE, **run_in)
        elif hazard == "pipe":
            return _broken_pipe(command, folder, env)
        else:
            stdout: Any = subprocess.PIPE
            if hazard == "fsize":
                stdout = files.enter_context(open(out_path, "wb"))
            elif hazard == "full":
                stdout = files.enter_context(open("/dev/full", "wb"))
            preexec = None
            if limit is not None and not prlimit:
                def preexec() -> None:  # pragma: no cover - where util-linux is missing
                    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            proc = subprocess.run(command, check=False, stdout=stdout, preexec_fn=preexec, **run_in)
    code, err = proc.returncode, proc.stderr
    text = err + (proc.stdout or b"")
    expect("traceback", b"Traceback" not in text, text[-1500:])
    expect("crash", b"internal error" not in text, text[-1500:])
    expect("exit code", code in (0, 1, 2), (code, err[-500:]))
    fmt = attack["args"][attack["args"].index("--format") + 1] if "--format" in attack["args"] else "plain"
    written = proc.stdout or (out_path.read_bytes() if out_path.exists() else b"")
    if code and not (fmt == "json" and b'"error"' in written):  # JSON errors go to stdout
        expect("message", err.startswith(b"error: "), f"exit {code} without one clear line: {err[:300]!r}")
    return _process_result(attack, hazard, code, err, proc, out_path, folder, keep)


def _broken_pipe(command: list[str], folder: Path, env: dict[str, str]) -> str:
    """The reader goes away before the first byte: a quiet end (exit 0 or 141), or a clean error."""
    p = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()
    err = p.stderr.read()
    p.stderr.close()
    code = p.wait(timeout=300)
    expect("traceback", b"Traceback" not in err, err[-1500:])
    expect("exit code", code in (0, 1, 2, 141), (code, err[-500:]))
    expect("message", err == b"" if code in (0, 141) else err.startswith(b"error: "), err[-500:])
    return f"pipe-{code}"


def _process_result(attack: dict[str, Any], hazard: str, code: int, err: bytes, proc: Any, out_path: Path,
                    folder: Path, keep: bytes) -> str:
    fmt = attack["args"][attack["args"].index("--format") + 1] if "--format" in attack["args"] else "plain"
    if hazard == "fsize":
        written = out_path.read_bytes()
        expect("half-written", len(written) <= attack["limit"],
               f"{len(written)} bytes past a limit of {attack['limit']}")
        if code == 0 and fmt == "json":
            try:
                json.loads(written)
            except ValueError:
                raise Broken("half-written", f"exit 0 with {len(written)} bytes of invalid JSON") from None
        if code == 1:
            expect("message", b"file-size limit" in err or b"File too large" in err, err[:300])
        return f"fsize-{code}"
    if hazard == "full":  # bad input (exit 2) needs no standard output; anything else fails to write
        expect("half-written", code != 0, "exit 0 although nothing could be written to /dev/full")
        expect("message", code != 1 or b"no space left" in err or b"error: " in err, err[:300])
        return f"full-{code}"
    if hazard == "closed-stdout":
        expect("half-written", code != 0, "exit 0 with a closed standard output")
        expect("message", code != 1 or b"standard output is closed" in err or b"error: " in err, err[:300])
        return f"closed-{code}"
    if hazard == "closed-stdin":
        if attack["args"][1] == "-":
            expect("message", code == 1 and b"standard input is closed" in err, (code, err[:300]))
        return f"stdin-{code}"
    if hazard == "encoding":
        out = proc.stdout or b""
        encoding = attack["encoding"]
        try:
            decoded = out.decode(encoding)
        except UnicodeDecodeError:
            raise Broken("half-written", f"output that is not {encoding}") from None
        if encoding == "ascii":
            expect("half-written", "<U+" not in decoded, "replacement marks in ASCII output")
        if code == 0 and fmt == "json":
            json.loads(decoded)
        return f"encoding-{code}"
    if hazard == "export-fsize":
        now = (folder / "keep.py").read_bytes()
        leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
        expect("half-written", not leftovers, f"temporary files left: {leftovers}")
        if code == 0:
            import ast

            ast.parse(now.decode("utf-8"))
            expect("half-written", len(now) <= attack["limit"], "a file past the size limit")
        else:
            expect("half-written", now == keep, f"the old file was changed: {now[:200]!r}")
        return f"export-{code}"
    raise ValueError(hazard)


# parsing ----------------------------------------------------------------------------------------------
def _parse(attack: dict[str, Any]) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from test_properties import check_call_like, check_line_break, check_marked

    from symgrad.budget import run_guarded

    check = attack["check"]

    def body() -> None:
        if check == "call":
            check_call_like(attack["name"], attack["text"])
        elif check == "marked":
            check_marked(attack["text"], first=attack["first"])
        elif check == "powered":
            _check_powered(attack["name"], attack["text"])
        else:
            check_line_break(attack["text"], attack["at"])

    try:
        run_guarded(body, None)  # the checks bound their own parsing (10 s): no CPU verdict here
    except AssertionError as exc:
        raise Broken("wrong", f"{check}: {exc}") from None
    return check

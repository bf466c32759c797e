"""symgrad's benchmark: every number measured side by side with its reference, in one run.

Stage: measurement (not part of the package). Prints one Markdown table of ratios, with absolute
medians for context; the README quotes its latest output. Tests never assert timings: CI runs
this in ``--smoke`` mode only to prove that it runs.

    python benchmarks/run.py            # full run (a few minutes: sympy.hessian at n = 200 is slow)
    python benchmarks/run.py --smoke    # seconds: fewer repeats, big references skipped
    python -m benchmarks                # the same as the first line

Sections:
1. start-up: ``symgrad grad "y**2 - x**2"`` as a whole process against
   ``python -c "import sympy; …diff…"``, alternated, median of at least 9 runs;
2. worked derivations of the test corpus (steps + rendering) against bare ``sympy.diff`` +
   ``simplify``, in one process;
3. growth: a sum of n terms and a chain nested n deep, n = 10, 100, 1000 (should be ~linear);
4. Hessians, softmax cross-entropy (``bench_multivar.py``);
5. numeric: gradient calls, Adam steps, batches against PyTorch and JAX (``bench_numeric.py``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# the symgrad command sets this before SymPy is imported (see symgrad.cli.app.entry); do the same
os.environ.setdefault("SYMPY_CACHE_SIZE", "20000")

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "tests", ROOT / "benchmarks"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

Row = dict[str, Any]

CONTEXT: dict[str, float] = {}
"""Numbers one section hands to another (the bare-SymPy start-up time, for the targets)."""


def median_time(fn: Callable[[], object], repeats: int,
                summary: Callable[[list[float]], float] = statistics.median) -> float:
    """Median (or ``summary``) wall time of ``fn()`` over ``repeats`` calls (after one warm-up
    call), each with SymPy's cache emptied first: a repeated call must not be answered from the
    previous one's results, which would flatter symgrad and SymPy alike."""
    from sympy.core.cache import clear_cache

    clear_cache()
    fn()
    times = []
    for _ in range(repeats):
        clear_cache()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return summary(times)


def _process_time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def bench_startup(smoke: bool) -> list[Row]:
    runs = 3 if smoke else 31
    script = Path(sys.executable).with_name("symgrad")  # the console script people run, if installed
    launcher = [str(script)] if script.exists() else [sys.executable, "-m", "symgrad"]
    symgrad_cmd = [*launcher, "grad", "y**2 - x**2", "--format", "plain"]
    sympy_cmd = [
        sys.executable, "-c",
        "import sympy; x, y = sympy.symbols('x y'); f = y**2 - x**2; print([sympy.diff(f, v) for v in (x, y)])",
    ]
    ours, ref = [], []
    _process_time(symgrad_cmd)  # warm the file cache and .pyc files
    _process_time(sympy_cmd)
    for _ in range(runs):  # alternated, so that load on the machine hits both alike
        ours.append(_process_time(symgrad_cmd))
        ref.append(_process_time(sympy_cmd))
    ours_s, ref_s = statistics.median(ours), statistics.median(ref)
    CONTEXT["sympy_startup_s"] = ref_s
    rows = [{
        "section": "start-up", "case": 'symgrad grad "y**2 - x**2" (whole process)',
        "symgrad_s": ours_s, "reference": "python -c 'import sympy; diff'",
        "reference_s": ref_s,
        "note": f"median of {runs}, alternated; symgrad takes {ours_s / ref_s:.2f}× bare SymPy (target ≤ 1.15×)",
    }]
    if not smoke and shutil.which("valgrind"):
        # wall time on a shared machine moves by ±10 % from run to run; instructions do not
        python_cmd = [sys.executable, str(script)] if script.exists() else [sys.executable, "-m", "symgrad"]
        # valgrind runs ~30× slower than the machine: the time budget must not end the command
        ours_i = _instructions([*python_cmd, "grad", "y**2 - x**2", "--format", "plain", "--timeout", "3600"])
        ref_i = _instructions(sympy_cmd)
        if ours_i and ref_i:
            rows.append({
                "section": "start-up", "case": 'symgrad grad "y**2 - x**2": instructions executed',
                "symgrad_s": None, "symgrad_text": f"{ours_i / 1e9:.3f} G", "reference": "the same bare-SymPy command",
                "reference_s": None, "reference_text": f"{ref_i / 1e9:.3f} G", "ratio": ref_i / ours_i,
                "note": f"valgrind --tool=callgrind, repeatable to the instruction; symgrad executes "
                        f"{ours_i / ref_i:.3f}× bare SymPy's instructions",
            })
    return rows


def _instructions(cmd: list[str]) -> int | None:
    """Instructions a whole process executes, counted by callgrind (the same every run)."""
    import re
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        # a fixed hash seed: set and dict orders (and with them SymPy's paths) are the same each run
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out", *cmd],
                              capture_output=True, text=True, cwd=ROOT, env=env)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    return int(found.group(1)) if proc.returncode == 0 and found else None


def bench_corpus(smoke: bool) -> list[Row]:
    try:
        from corpus import CORPUS
    except ImportError:
        return [{"section": "worked derivations", "case": "corpus", "symgrad_s": None,
                 "reference": "sympy.diff + simplify",
                 "reference_s": None, "note": "tests/corpus.py not found"}]
    import sympy as sp

    from symgrad.expressions import default_variable
    from symgrad.parsing import parse

    worked = _worked_derivation()
    exprs = CORPUS[:30] if smoke else CORPUS
    repeats = 1 if smoke else 5
    ours, ref = [], []
    for text in exprs:
        expr = parse(text)
        var = default_variable(expr)
        ours.append(median_time(lambda: worked(text), repeats))
        ref.append(median_time(lambda: sp.simplify(sp.diff(expr, var)), repeats))
    slow_i = max(range(len(ours)), key=ours.__getitem__)
    startup = CONTEXT.get("sympy_startup_s")

    def versus_startup(seconds: float, target: str) -> str:
        if not startup:
            return ""
        return f"{seconds / startup:.3f}× the bare-SymPy start-up ({target})"

    return [
        {"section": "worked derivations", "case": f"corpus median ({len(exprs)} expressions)",
         "symgrad_s": statistics.median(ours), "reference": "sympy.diff + simplify",
         "reference_s": statistics.median(ref),
         "note": "parse + steps + check + plain rendering, in-process; "
                 + versus_startup(statistics.median(ours), "target < 0.2×")},
        {"section": "worked derivations", "case": f"corpus slowest: {exprs[slow_i]}",
         "symgrad_s": ours[slow_i], "reference": "sympy.diff + simplify (same expression)",
         "reference_s": ref[slow_i], "note": versus_startup(ours[slow_i], "target < 2×")},
    ]


def _worked_derivation() -> Callable[..., object]:
    """parse -> steps -> plain text, as ``symgrad diff`` does (without process start-up)."""
    from typer.testing import CliRunner

    from symgrad.cli.app import app  # the app with every command registered

    runner = CliRunner()

    def run(text: str, *options: str) -> object:
        result = runner.invoke(app, ["diff", text, "--format", "plain", *options])
        if result.exit_code != 0:
            raise RuntimeError(f"symgrad diff {text!r} failed: {result.output}")
        return result.stdout

    return run


ML_CHAIN = ("sigmoid", "tanh", "softplus", "atan")


def bench_growth(smoke: bool) -> list[Row]:
    """Whole worked derivations (parse, steps, check, plain text) of inputs n = 10, 100, 1000 big;
    the reference is the time of the size before (n/10) scaled linearly, so a ratio near 1 means
    linear growth (above 1: fixed costs spread over more terms; below 1: the time grows faster than n). The
    note gives bare SymPy's time for the same input (build the tree, ``diff``, ``str``) where it
    finishes in reasonable time. Both are the fastest of 5 cold calls.

    A chain 64 or more deep has its answer written in the names of its links (written out it would
    hold n²/2 nested functions, so no printer could be linear)."""
    import sympy as sp

    rows = []
    worked = _worked_derivation()
    x = sp.Symbol("x", real=True)
    shapes: dict[str, tuple[Callable[[int], str], Callable[[int], sp.Expr] | None, int]] = {
        "sum of n terms": (lambda n: " + ".join(f"sin({k} x)" for k in range(1, n + 1)),
                           lambda n: sp.Add(*[sp.sin(k * x) for k in range(1, n + 1)]), 1000),
        "chain sin(sin(…(x)…)) n deep": (lambda n: "sin(" * n + "x" + ")" * n, _sympy_chain(["sin"], x), 100),
        "chain σ(tanh(softplus(atan(…)))) n deep": (
            lambda n: "".join(f"{ML_CHAIN[k % 4]}(" for k in range(n)) + "x" + ")" * n,
            _sympy_chain(list(ML_CHAIN), x), 10),
    }
    for shape, (make, sympy_make, sympy_upto) in shapes.items():
        previous: tuple[int, float] | None = None
        for n in (10, 100) if smoke else (10, 100, 1000):
            text = make(n)
            repeats = 1 if smoke else 5
            # the fastest of 5: on a shared machine the noise only ever adds time, and a growth
            # ratio compares two sizes, so one slow call would read as non-linear growth
            seconds = median_time(lambda: worked(text), repeats, min)
            note = f"{seconds / n * 1e3:.2f} ms per {'term' if shape.startswith('sum') else 'level'}"
            if sympy_make is not None and n <= sympy_upto and not smoke:
                bare = median_time(lambda: str(sp.diff(sympy_make(n), x)), repeats, min)
                note += f"; bare SymPy (build, diff, str): {fmt_seconds(bare)}"
            reference = None
            if previous is not None:
                reference = previous[1] * n / previous[0]
            rows.append({"section": "growth", "case": f"{shape}, n = {n}", "symgrad_s": seconds,
                         "reference": "linear extrapolation from the n before" if reference else "–",
                         "reference_s": reference, "note": note})
            previous = (n, seconds)
    return rows


def _sympy_chain(names: list[str], x: Any) -> Callable[[int], Any]:
    """F₁(F₂(…(x)…)) n deep built by SymPy's own constructors, the functions repeating ``names``."""
    from symgrad.parsing.build import inert_class  # SymPy's class, or symgrad's σ and softplus

    def make(n: int) -> Any:
        e = x
        for k in reversed(range(n)):
            e = inert_class(names[k % len(names)])(e)  # called, so SymPy evaluates as it builds
        return e

    return make


def bench_module(name: str, smoke: bool) -> list[Row]:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        return [{"section": name, "case": "-", "symgrad_s": None, "reference": "-", "reference_s": None,
                 "note": f"not available: {exc}"}]
    return list(module.run(smoke))


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.1f} µs"


def table(rows: list[Row]) -> str:
    lines = [
        "| section | case | symgrad | reference | reference time | ratio (reference / symgrad) | note |",
        "| --- | --- | ---: | --- | ---: | ---: | --- |",
    ]
    for r in rows:
        ours, ref = r.get("symgrad_s"), r.get("reference_s")
        ratio = f"{ref / ours:.2f}×" if ours and ref else f"{r['ratio']:.2f}×" if r.get("ratio") else "–"
        ours_text = r.get("symgrad_text") or fmt_seconds(ours)
        ref_text = r.get("reference_text") or fmt_seconds(ref)
        lines.append(
            f"| {r['section']} | {r['case']} | {ours_text} | {r.get('reference', '')} | "
            f"{ref_text} | {ratio} | {r.get('note', '')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="fast mode for CI: fewer repeats, big references skipped")
    parser.add_argument("--only", default="", help="comma-separated sections: startup,corpus,growth,multivar,numeric")
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    wanted = {s.strip() for s in args.only.split(",") if s.strip()}
    sections: list[tuple[str, Callable[[bool], list[Row]]]] = [
        ("startup", bench_startup),
        ("corpus", bench_corpus),
        ("growth", bench_growth),
        ("multivar", lambda smoke: bench_module("bench_multivar", smoke)),
        ("numeric", lambda smoke: bench_module("bench_numeric", smoke)),
    ]
    rows: list[Row] = []
    for name, bench in sections:
        if wanted and name not in wanted:
            continue
        print(f"… {name}", file=sys.stderr, flush=True)
        try:
            rows.extend(bench(args.smoke))
        except Exception as exc:  # one broken section must not lose the others' numbers
            rows.append({"section": name, "case": "-", "symgrad_s": None, "reference": "-", "reference_s": None,
                         "note": f"failed: {type(exc).__name__}: {str(exc)[:120]}"})
    header = (
        f"symgrad benchmark ({'smoke' if args.smoke else 'full'} mode) on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    text = header + "\n\n" + table(rows) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The long run of the property tests: N inputs, grammar walks and attacks of every family mixed.

Usage (from the repository root)::

    nice python tests/fuzz/fuzz.py --count 100000 --seed 1 --out fuzz-report.json
    python tests/fuzz/fuzz.py --count 300 --families api=1,csv=1      # some families only
    python tests/fuzz/fuzz.py --replay '{"kind": "cli", "args": ["diff", "x^2"]}'   # one input again

Grammar walks (family ``walk``) are random walks of ``grammar/symgrad.lark``
(``tests/test_properties.GrammarWalker``); each goes through ``check_all``: parse or refuse with
symgrad's own error, print-and-parse round trip, derivative against an mpmath finite difference
at a random point, and the step engine's result against ``sympy.diff``. Each walk has a time
budget (``--per-input``, oracles included); walks that exceed it are listed as slow.

The other families (``tests/fuzz/families.py``) are attacks: command lines run in a forked child
with the command's own limits, calls of the Python API with hostile SymPy names, real processes
under ``prlimit``, ``/dev/full`` and closed descriptors, and issue 12's misreadings; each is
checked against its promises and its oracle (``tests/fuzz/promises.py``, ``oracles.py``).

The run goes in chunks (one seed each, so any failure can be replayed with ``--seed S --count C``
and the same ``--families``, or alone with ``--replay`` and the recorded input) and prints a tally
after each; failures are collected with the input, the kind of broken promise and the exception,
never stop the run, and make the exit code 1. ``--out`` gets the report after every chunk
(``tests/fuzz/last-run.json`` is the last full run's).
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))  # tests/fuzz/: the families, promises and oracles
sys.path.insert(0, str(HERE.parents[1]))  # tests/: the shared checks
sys.path.insert(0, str(HERE.parents[2]))  # the repository: symgrad itself

DEFAULT_FAMILIES = ("walk=92,giants=0.6,at=0.6,answer=0.6,api=1,point=1.4,verdict=1.4,csv=1,misread=1,"
                    "process=0.4")
"""About 8 % attacks: each costs a fork (or a process) and a command, 20 to 100 times a walk."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=5_000)
    ap.add_argument("--no-steps", action="store_true", help="skip the step-engine comparison")
    ap.add_argument("--per-input", type=float, default=20.0, help="seconds allowed per walk (oracles included)")
    ap.add_argument("--out", default=None, help="write the tally and failures as JSON here")
    ap.add_argument("--families", default=DEFAULT_FAMILIES,
                    help="input families and their weights: walk (grammar walks) and those of families.py")
    ap.add_argument("--replay", default=None, help="run one recorded input (a walk's text or an attack's JSON)")
    args = ap.parse_args(argv)
    if args.replay is not None:
        return replay(args.replay)
    weights = _weights(args.families)
    report = fuzz(args.count, args.seed, args.chunk, weights, steps=not args.no_steps, per_input=args.per_input,
                  out=args.out, progress=True)
    failures: list[dict[str, str]] = report["failures"]  # type: ignore[assignment]
    for failure in failures[:20]:
        print(f"FAILED [{failure['kind']}] {failure['input']}\n  {failure['error']}")
    return 1 if failures else 0


def fuzz(count: int, seed: int, chunk: int, weights: dict[str, float], *, steps: bool = True,
         per_input: float = 20.0, out: str | None = None, progress: bool = False) -> dict[str, object]:
    """Run ``count`` inputs; the report (count, seed, tally, failures, slow)."""
    from families import FAMILIES
    from promises import Broken, run
    from test_properties import GrammarWalker, check_all

    from symgrad.budget import run_guarded, time_budget
    from symgrad.errors import BudgetExceeded

    walker = GrammarWalker()
    tally: collections.Counter[str] = collections.Counter()
    failures: list[dict[str, str]] = []
    slow: list[str] = []
    start = time.monotonic()
    done = 0
    chunk_seed = seed
    report: dict[str, object] = {}
    while done < count:
        size = min(chunk, count - done)
        rng = random.Random(chunk_seed)
        for i in range(size):
            family = rng.choices(list(weights), list(weights.values()))[0]
            text = ""
            try:
                if family == "walk":
                    text = walker.text(rng)

                    def walk(text: str = text, rng: random.Random = rng) -> str:
                        with time_budget(per_input):
                            return check_all(text, rng, steps=steps)

                    outcome = run_guarded(walk, None)  # the deep stack the CLI uses
                else:
                    attack = FAMILIES[family](rng, walker)
                    text = json.dumps(attack, ensure_ascii=False)
                    outcome = f"{family}-{run(attack)}"
            except BudgetExceeded:  # symgrad's own steps have budgets; this bounds the oracles too
                outcome = "slow"
                slow.append(text)
            except Exception as exc:
                outcome = "FAILED"
                failures.append({"seed": str(chunk_seed), "index": str(i), "family": family,
                                 "kind": (exc.kind if isinstance(exc, Broken)
                                          else "wrong" if isinstance(exc, AssertionError) else "crash"),
                                 "input": text, "error": f"{type(exc).__name__}: {str(exc)[:1500]}",
                                 "where": traceback.format_exc(limit=-3)[-1500:]})
            tally[outcome.split(":")[0]] += 1
        done += size
        elapsed = time.monotonic() - start
        if progress:
            print(f"{done:>7} inputs  {elapsed:7.0f} s  failures={len(failures)}  "
                  + "  ".join(f"{k}={v}" for k, v in sorted(tally.items())), flush=True)
        chunk_seed += 1
        report = {"count": done, "seed": seed, "chunk": chunk, "families": _spell(weights), "seconds": round(elapsed),
                  "tally": dict(sorted(tally.items())), "failures": failures, "slow": slow}
        if out:  # after every chunk: a long run can be inspected (or stopped) on the way
            Path(out).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return report


def replay(text: str) -> int:
    """Run one recorded input and print what happened."""
    from promises import run
    from test_properties import check_all

    from symgrad.budget import run_guarded

    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    try:
        attack = json.loads(text)
    except ValueError:
        attack = None
    try:
        if isinstance(attack, dict):
            outcome = run(attack)
        else:
            outcome = run_guarded(lambda: check_all(text, random.Random(0)), None)
    except Exception:
        traceback.print_exc()
        return 1
    print(outcome)
    return 0


def _weights(text: str) -> dict[str, float]:
    """"walk=94,giants=2" -> {"walk": 94.0, "giants": 2.0}; an unknown family is an error."""
    from families import FAMILIES

    weights = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        name = name.strip()
        if name != "walk" and name not in FAMILIES:
            raise SystemExit(f"unknown family {name!r}: walk or one of {', '.join(FAMILIES)}")
        weights[name] = float(weight or 1)
    return weights


def _spell(weights: dict[str, float]) -> str:
    return ",".join(f"{k}={v:g}" for k, v in weights.items())


if __name__ == "__main__":
    sys.exit(main())

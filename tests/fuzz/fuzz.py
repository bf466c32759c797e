"""The long run of the property tests: N random walks of the grammar, every property on each.

Usage (from the repository root)::

    python tests/fuzz/fuzz.py --count 100000 --seed 1 --chunk 5000 --out fuzz-report.json
    python tests/fuzz/fuzz.py --count 2000 --families giants=1,at=1,answer=1   # the budget families only

The inputs are random walks of ``grammar/symgrad.lark`` (``tests/test_properties.GrammarWalker``);
each goes through ``check_all``: parse or refuse with symgrad's own error, print-and-parse round
trip, derivative against an mpmath finite difference at a random point, and the step engine's
result against ``sympy.diff``. Each input has a time budget (``--per-input``, oracles included);
inputs that exceed it are listed as slow. The run goes in chunks (one seed each, so any failure can be
replayed with ``--seed S --count C``) and prints a tally after each; failures are collected with
the input and the exception, never stop the run, and make the exit code 1.

Besides grammar walks (family ``walk``), ``--families`` mixes in whole command lines from
``tests/fuzz/families.py`` (huge constants hidden in non-constant expressions, ``--at`` values and
``check --answer`` inputs), each run in a forked child that the kernel stops if it outlives its
budget: a hang past the budget is a failure like any other.
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
sys.path.insert(0, str(HERE.parent))  # tests/fuzz/: the input families
sys.path.insert(0, str(HERE.parents[1]))  # tests/: the shared checks
sys.path.insert(0, str(HERE.parents[2]))  # the repository: symgrad itself


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=5_000)
    ap.add_argument("--no-steps", action="store_true", help="skip the step-engine comparison")
    ap.add_argument("--per-input", type=float, default=20.0, help="seconds allowed per input (oracles included)")
    ap.add_argument("--out", default=None, help="write the tally and failures as JSON here")
    ap.add_argument("--families", default="walk=94,giants=2,at=2,answer=2",
                    help="input families and their weights: walk (grammar walks) and those of families.py")
    args = ap.parse_args(argv)
    weights = _weights(args.families)

    from families import FAMILIES, run_command
    from test_properties import GrammarWalker, check_all

    from symgrad.budget import run_guarded, time_budget
    from symgrad.errors import BudgetExceeded

    walker = GrammarWalker()
    tally: collections.Counter[str] = collections.Counter()
    failures: list[dict[str, str]] = []
    slow: list[str] = []
    start = time.monotonic()
    done = 0
    chunk_seed = args.seed
    while done < args.count:
        size = min(args.chunk, args.count - done)
        rng = random.Random(chunk_seed)

        def run_chunk(rng: random.Random = rng, size: int = size, seed: int = chunk_seed) -> None:
            for i in range(size):
                family = rng.choices(list(weights), list(weights.values()))[0]
                text = walker.text(rng) if family == "walk" else json.dumps(FAMILIES[family](rng, walker),
                                                                            ensure_ascii=False)
                try:
                    if family == "walk":
                        with time_budget(args.per_input):
                            outcome = check_all(text, rng, steps=not args.no_steps)
                    else:
                        outcome = f"{family}-{run_command(json.loads(text))}"
                except BudgetExceeded:  # symgrad's own steps have budgets; this bounds the oracles too
                    outcome = "slow"
                    slow.append(text)
                except Exception as exc:  # a failing property: keep it and go on
                    outcome = "FAILED"
                    failures.append({"seed": str(seed), "index": str(i), "input": text,
                                     "error": f"{type(exc).__name__}: {str(exc)[:500]}",
                                     "where": traceback.format_exc(limit=-3)[-1500:]})
                tally[outcome.split(":")[0]] += 1

        run_guarded(run_chunk, None)  # the deep stack the CLI uses, no overall time limit
        done += size
        elapsed = time.monotonic() - start
        print(f"{done:>7} inputs  {elapsed:7.0f} s  " + "  ".join(f"{k}={v}" for k, v in sorted(tally.items())),
              flush=True)
        chunk_seed += 1
        report = {"count": done, "seed": args.seed, "chunk": args.chunk, "seconds": round(elapsed),
                  "tally": dict(tally), "failures": failures, "slow": slow}
        if args.out:  # after every chunk: a long run can be inspected (or stopped) on the way
            Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    for failure in failures[:20]:
        print(f"FAILED {failure['input']!r}\n  {failure['error']}")
    return 1 if failures else 0


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


if __name__ == "__main__":
    sys.exit(main())

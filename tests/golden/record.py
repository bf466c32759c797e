"""Write the golden JSON outputs again: ``python -m tests.golden.record [case-id …]``.

Run it only after an intended change of the JSON contract, and review ``git diff tests/golden``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .cases import CASES
from .run import run_case

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = argv or list(CASES)
    for case in wanted:
        exit_code, data = run_case(CASES[case])
        payload = {"args": CASES[case], "exit_code": exit_code, "output": data}
        (HERE / f"{case}.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{case}: exit {exit_code}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

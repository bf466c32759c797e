"""The benchmark runs (smoke mode: that it runs and prints its table, not how fast anything is)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_smoke_mode_prints_the_table(tmp_path: Path) -> None:
    out = tmp_path / "table.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--output", str(out)],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = out.read_text(encoding="utf-8")
    for section in ("start-up", "worked derivations", "growth", "Hessian", "softmax"):
        assert f"| {section}" in table, section
    assert "failed:" not in table, table

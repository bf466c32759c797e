"""The tools that see the code pass on it: ruff (lint) and mypy (types), as configured in pyproject.toml.

Both are in the ``test`` extra, so CI runs them; a checkout without them skips these two tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip(module)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)


def test_ruff_is_clean() -> None:
    proc = _run("ruff", "check", "--no-cache", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_is_clean(tmp_path: Path) -> None:
    # the files to check come from [tool.mypy] in pyproject.toml; a fresh cache keeps the verdict honest
    proc = _run("mypy", "--cache-dir", str(tmp_path / "mypy"))
    assert proc.returncode == 0, proc.stdout + proc.stderr

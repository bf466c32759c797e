"""The wheel carries the grammar, and symgrad runs from it in any working directory."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "-w", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    if proc.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{proc.stdout}\n{proc.stderr}")
    (path,) = out.glob("symgrad-*.whl")
    return path


def test_wheel_contains_grammar(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "symgrad/grammar/symgrad.lark" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    sources = {str(p.relative_to(ROOT)) for p in (ROOT / "symgrad").rglob("*.py")}
    missing = sources - set(names)
    assert not missing, f"add these packages to pyproject.toml [tool.setuptools] packages: {sorted(missing)}"


def test_runs_from_the_wheel_in_another_directory(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import symgrad, symgrad.parsing as p; "
        "print(symgrad.__file__); print(p.parse('x sin x')); print(symgrad.gradient('y**2 - x**2'))"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r}); {code}"],
        capture_output=True, text=True, cwd=elsewhere, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(str(site))
    assert lines[1:] == ["x*sin(x)", "[-2*x, 2*y]"]

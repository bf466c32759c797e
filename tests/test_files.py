"""Nothing lost, nothing half-written: ``symgrad.files`` and the commands that write files.

The process-level cases run symgrad as a real subprocess under a file-size limit (``prlimit
--fsize``, or ``RLIMIT_FSIZE`` set before exec where prlimit is missing), so the write really
fails half-way, as on a full disk.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from symgrad import files
from symgrad.files import WriteError

OLD = "the user's own file\n" * 3


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    target = tmp_path / "new.py"
    files.write_text(target, "x = 1\n")
    assert target.read_text() == "x = 1\n"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert leftovers(tmp_path) == []


def test_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "keep.py"
    target.write_text(OLD)
    target.chmod(0o640)
    files.write_text(target, "new\n")
    assert target.read_text() == "new\n" and stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failure_while_writing_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.py"
    target.write_text(OLD)
    with pytest.raises(RuntimeError), files.replace(target) as out:
        out.write(b"half of the new ")
        raise RuntimeError("the renderer failed")
    assert target.read_text() == OLD and leftovers(tmp_path) == []
    with pytest.raises(WriteError, match="No space left on device"), files.replace(target) as out:
        out.write(b"half")
        raise OSError(28, "No space left on device")
    assert target.read_text() == OLD and leftovers(tmp_path) == []


def test_a_failed_rename_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "keep.py"
    target.write_text(OLD)

    def refuse(src: object, dst: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(WriteError) as info:
        files.write_text(target, "new\n")
    assert info.value.message == f"cannot write {target}: Read-only file system"
    assert info.value.suggestion == "the file was not changed"
    assert target.read_text() == OLD and leftovers(tmp_path) == []


def test_a_folder_that_cannot_be_written(tmp_path: Path, monkeypatch) -> None:
    import tempfile

    target = tmp_path / "keep.py"
    target.write_text(OLD)

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(WriteError, match="Permission denied"):
        files.write_text(target, "new\n")
    assert target.read_text() == OLD


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    target = folder / "keep.py"
    target.write_text(OLD)
    folder.chmod(0o555)
    try:
        with pytest.raises(WriteError, match="Permission denied"):
            files.write_text(target, "new\n")
        assert target.read_text() == OLD
    finally:
        folder.chmod(0o755)


def test_links_devices_folders_and_missing_folders(tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_text(OLD)
    link = tmp_path / "link.py"
    link.symlink_to(real)
    files.write_text(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"  # the file it points to is replaced
    files.write_text(os.devnull, "into the void\n")  # written in place, not renamed over
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    with pytest.raises(WriteError, match="is a folder"):
        files.write_text(tmp_path, "x")
    with pytest.raises(WriteError, match="does not exist"):
        files.write_text(tmp_path / "nowhere" / "m.py", "x")


# real processes under a file-size limit -----------------------------------------------------------
def run_limited(args: list[str], cwd: Path, limit: int) -> subprocess.CompletedProcess[str]:
    """``symgrad ARGS`` in a fresh process whose files may not grow beyond ``limit`` bytes."""
    command = [sys.executable, "-m", "symgrad", *args]
    prlimit = shutil.which("prlimit")
    if prlimit:
        return subprocess.run([prlimit, f"--fsize={limit}", *command], cwd=cwd, capture_output=True, text=True,
                              timeout=300, check=False)

    def limit_size() -> None:  # pragma: no cover - only where util-linux is missing
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, preexec_fn=limit_size,
                          check=False)


pytestmark_posix = pytest.mark.skipif(os.name != "posix", reason="file-size limits are POSIX")


@pytestmark_posix
def test_export_over_an_existing_file_under_a_size_limit(tmp_path: Path) -> None:
    keep = tmp_path / "keep.py"
    keep.write_text(OLD)
    res = run_limited(["export", "sin(x) cos(y) + x^3 y + sigmoid(x y)", "--output", "keep.py", "--timeout", "120"],
                      tmp_path, 300)
    assert res.returncode == 1, res.stdout + res.stderr
    assert res.stderr.splitlines() == ["error: cannot write keep.py: File too large", "hint: the file was not changed"]
    assert keep.read_text() == OLD and leftovers(tmp_path) == []
    # without the limit it is written whole, and imports
    res = run_limited(["export", "sin(x) cos(y)", "--output", "keep.py", "--timeout", "120"], tmp_path, 10**8)
    assert res.returncode == 0 and keep.read_text().startswith('"""f(x, y) = sin(x)·cos(y)')


@pytestmark_posix
def test_plot_over_an_existing_picture_under_a_size_limit(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    keep = tmp_path / "keep.png"
    keep.write_bytes(b"\x89PNG the user's picture")
    res = run_limited(["descend", "x^2 + y^2", "--start", "x=1,y=1", "--steps", "3", "--plot", "keep.png",
                       "--timeout", "120"], tmp_path, 2000)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "error: cannot write keep.png: File too large" in res.stderr and "Traceback" not in res.stderr
    assert keep.read_bytes() == b"\x89PNG the user's picture" and leftovers(tmp_path) == []

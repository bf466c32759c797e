"""Writing files so that nothing is lost and nothing is half-written.

Stage: a base layer (it imports nothing of symgrad but ``errors``), for every command that writes
a file (``export --output``, ``descend --plot``). ``replace`` writes to a temporary file in the
same folder, flushes it to disk (``fsync``) and renames it over the target (``os.replace``, atomic
on POSIX and Windows): a reader sees the old file or the new one, never a part. An existing file
keeps its permission bits; a new one gets the usual ones (0o666 less the umask). On any failure
(disk full, a file-size limit, a read-only folder, an exception while writing) the temporary file
is removed, the old file is untouched, and the error is a ``WriteError`` (exit 1, one line).

Targets that are not regular files (``/dev/null``, a FIFO, a terminal) cannot be replaced and are
written in place. A symbolic link is followed: the file it points to is replaced.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_text(folder / "m.py", "x = 1\\n")
>>> (folder / "m.py").read_text()
'x = 1\\n'
>>> sorted(p.name for p in folder.iterdir())   # no temporary file left behind
['m.py']
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from symgrad.errors import ComputeError


class WriteError(ComputeError):
    """A file could not be written (the old one, if any, is kept)."""


def write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Replace ``path`` by ``text`` atomically (see the module docstring)."""
    with replace(path) as out:
        out.write(text.encode(encoding))


@contextlib.contextmanager
def replace(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file to write; on leaving the block it replaces ``path`` (or nothing changes)."""
    target = Path(os.path.realpath(path))
    shown = os.fspath(path)
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise _error(shown, exc) from None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise WriteError(f"cannot write {shown}: it is a folder")
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        # a device, FIFO or terminal: there is nothing to rename over, so write to it directly
        try:
            with open(target, "wb") as out:
                yield out
        except OSError as exc:
            raise _error(shown, exc) from None
        return
    if not target.parent.is_dir():
        raise WriteError(f"cannot write {shown}: the folder {Path(shown).parent} does not exist")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _error(shown, exc) from None
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(existing.st_mode) if existing is not None else _new_file_mode())
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise _error(shown, exc) from None
        raise
    _sync_folder(target.parent)


def _error(shown: str, exc: OSError) -> WriteError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return WriteError(f"cannot write {shown}: {reason}", suggestion="the file was not changed" if os.path.exists(shown)
                      else None)


def _new_file_mode() -> int:
    """0o666 less the process's umask (what ``open(path, "w")`` would give)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

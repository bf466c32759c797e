"""The README's tour shows real output: every `$ symgrad …` example there is run and compared.

A transcript runs from its `$ symgrad` line to the next one (or the end of the block). A line "…"
stands for lines left out; the lines before and after it must still match.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _transcripts() -> list[tuple[str, list[str]]]:
    text = README.read_text(encoding="utf-8")
    examples = []
    for block in re.findall(r"```\n(.*?)```", text, flags=re.S):
        if not block.startswith("$ symgrad "):
            continue
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ symgrad "):
                if command is not None:
                    examples.append((command, _trim(output)))
                command, output = line[2:], []
            elif command is not None:
                output.append(line)
        if command is not None:
            examples.append((command, _trim(output)))
    return examples


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


EXAMPLES = _transcripts()


def test_the_readme_has_transcripts() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_transcript(cli, command: str, expected: list[str]) -> None:
    args = shlex.split(command)[1:]
    res = cli(*args, "--format", "plain") if "--format" not in args else cli(*args)
    shown = (res.stdout + res.stderr).rstrip("\n").splitlines()
    if "…" in expected:
        cut = expected.index("…")
        head, tail = expected[:cut], expected[cut + 1:]
        assert shown[: len(head)] == head
        assert shown[len(shown) - len(tail):] == tail
    else:
        assert shown == expected

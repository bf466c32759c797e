"""Shared fixtures: symbols defined once, and a helper that runs the CLI in-process."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest
import sympy as sp

TEST_TIMEOUT = "300"
"""The default budget of every symgrad run in the tests (CliRunner and subprocesses inherit it):
CPU seconds that only a hang reaches, so no verdict depends on the machine's speed or load.
Tests of the budget itself pass their own ``--timeout``, which wins over the variable."""

os.environ["SYMGRAD_TIMEOUT"] = TEST_TIMEOUT

collect_ignore_glob = ["fixtures/record_*.py"]
"""The recorders of torch's numbers run by hand with torch installed (each file says how); they are
not tests, and CI has no torch, so pytest (which collects every module for doctests) skips them."""


def R(name: str) -> sp.Symbol:
    """A real symbol, as the parser makes them."""
    return sp.Symbol(name, real=True)


x, y, z, a, b, t = (R(n) for n in "xyzabt")


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


@pytest.fixture
def cli():
    """Run ``symgrad ARGS`` in-process with Typer's runner; returns exit code, stdout, stderr."""
    from typer.testing import CliRunner

    from symgrad.cli.app import load_commands

    app = load_commands()

    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        res = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        return Result(res.exit_code, res.stdout, res.stderr)

    return invoke

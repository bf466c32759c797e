"""Run one golden case in-process and return its exit code and parsed JSON output."""

from __future__ import annotations

import json
from typing import Any


def run_case(args: list[str]) -> tuple[int, Any]:
    from typer.testing import CliRunner

    from symgrad.cli.app import load_commands

    app = load_commands()
    result = CliRunner().invoke(app, [*args, "--format", "json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)

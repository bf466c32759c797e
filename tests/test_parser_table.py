"""The generated LALR table is current, equals Lark's own, and keeps Lark out of start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_grammar import CASES

import symgrad.parsing._table as shipped
from symgrad.parsing import grammar_text
from symgrad.parsing.build import Builder, finish
from symgrad.parsing.lalr import Parser, build_table, grammar_hash
from symgrad.parsing.lexer import Scanner


def test_table_matches_grammar() -> None:
    assert grammar_hash(grammar_text()) == shipped.GRAMMAR_HASH, "run: python -m symgrad.parsing.lalr"


@pytest.fixture(scope="module")
def lark_table() -> dict:
    return build_table(grammar_text())  # strict mode: raises on any conflict


def test_lark_table_parses_like_the_shipped_one(lark_table: dict) -> None:
    ours = {"states": shipped.STATES, "rules": shipped.RULES, "start": shipped.START, "end": shipped.END}
    for text, _expected in CASES:
        results = []
        for table in (ours, lark_table):
            builder = Builder()
            builder._reset(text, [])
            results.append(finish(Parser(table, builder).parse(Scanner(text, 1000).tokens())))
        assert results[0] == results[1], text


def test_start_up_does_not_import_lark_or_numpy() -> None:
    code = (
        "import sys\n"
        "from symgrad.cli.app import app\n"
        "from typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, ['grad', 'y**2 - x**2', '--format', 'plain'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('lark', 'numpy', 'matplotlib', 'torch', 'jax') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"

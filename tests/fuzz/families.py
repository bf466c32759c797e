"""Input families for the fuzzer beyond grammar walks: whole command lines that attack the budget.

Grammar walks rarely build what broke the budget in issue #13: a huge constant folded inside a
non-constant expression (SymPy rewrites exp(c·ln b) as b^c and exp(x + c) as exp(x)·exp(c)), in an
``--at`` value, or in a ``check --answer``. Each family is one function ``(rng, walker) -> args``
returning the arguments after ``symgrad``; ``run_command`` runs them and checks the promises:

- exit 0, 1 or 2, never a traceback or an "internal error";
- a failure (exit 1 or 2) is one line starting with ``error:``;
- the command ends within its budget plus the grace in CPU time: it runs in a forked child that the
  kernel stops a little past that (``symgrad.budget.isolated``), and being stopped is a failure.

To add a family: write ``def family(rng, walker) -> list[str]`` and add it to ``FAMILIES`` (the
API/CSV families of the same issue go here too).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

BUDGET = 2.0
"""The ``--timeout`` of every command the families run (CPU seconds)."""

SLACK = 3.0
"""CPU seconds past budget + grace before the child is stopped and the input counts as a hang
(start-up of the command inside the child, and the runner's own work, included)."""


def huge_integer(rng: random.Random) -> str:
    """A constant whose exact power would be enormous: 10^8, 7^12, 2^40, 10^999, 123456789…"""
    return rng.choice([
        f"10^{rng.randint(5, 12)}", f"10^{rng.choice([100, 999])}", f"{rng.randint(2, 9)}^{rng.randint(9, 20)}",
        f"2^{rng.randint(20, 60)}", str(rng.randint(10**5, 10**12)), f"{rng.randint(1, 9)}e{rng.randint(5, 12)}",
    ])


def exact_base(rng: random.Random) -> str:
    return rng.choice(["3", "2", "10", "3/2", "7/3", "sqrt(3)", "(2/3)", "12345"])


def log_of(rng: random.Random, base: str) -> str:
    return rng.choice([f"ln {base}", f"ln({base})", f"log({base})", f"log_2({base}) ln 2"])


def giant_constant(rng: random.Random) -> str:
    """c·ln b, which SymPy turns into b^c under exp."""
    c, b = huge_integer(rng), exact_base(rng)
    return rng.choice([f"{c} {log_of(rng, b)}", f"{log_of(rng, b)} * {c}", f"({c}) ({log_of(rng, b)})"])


def small_expression(rng: random.Random, walker: Any) -> str:
    """A non-constant part: a name, a short formula, or a grammar walk."""
    return rng.choice(["x", "x y", "sin x", "x^2 + 1", "w x + b", f"({walker.text(rng, depth=3)})"])


def hidden_giant(rng: random.Random, walker: Any) -> list[str]:
    """A huge exact number hidden inside a non-constant expression (the parser must see through)."""
    u, g, c = small_expression(rng, walker), giant_constant(rng), huge_integer(rng)
    expr = rng.choice([
        f"exp({u} + {g})", f"e^({g} + {u})", f"exp({g}) {u}", f"e^({u}) e^({g} - {u})",
        f"({exact_base(rng)} e^({u}))^({c})", f"{u} + exp({g})", f"sin(exp({g})) + {u}",
        f"exp({g} + {g}) * {u}", f"({u})^({c}) + exp({g})",
    ])
    command = rng.choice(["diff", "grad", "diff", "hessian"])
    return [command, expr]


def at_value(rng: random.Random, walker: Any) -> list[str]:
    """A point whose values, substituted, fold into a huge exact number (exp(x y) at x=10^8, y=ln 3)."""
    c, b = huge_integer(rng), exact_base(rng)
    expr, point = rng.choice([
        ("exp(x y)", f"x={c},y={log_of(rng, b)}"),
        ("exp(x ln(y))", f"x={c},y={b}"),
        ("y^x", f"x={c},y={b}"),
        ("x^2 + y", f"x=exp({giant_constant(rng)}),y=1"),
        ("e^x e^y", f"x={giant_constant(rng)},y=1"),
        ("(y e^x)^(z)", f"x=1,y={b},z={c}"),
        (small_expression(rng, walker), f"x={rng.choice([c, 'exp(' + giant_constant(rng) + ')'])}"),
    ])
    return ["diff", expr, "--wrt", "x", "--at", point]


def check_answer(rng: random.Random, walker: Any) -> list[str]:
    """``check`` with a huge constant in the answer, or in the expression it is checked against."""
    g = giant_constant(rng)
    expr, answer = rng.choice([
        ("x^2", f"2x + exp({g}) - exp({g})"),
        ("x^2", f"2x + exp(x + {g}) - exp(x + {g})"),
        (f"exp(x + {g})", "exp(x)"),
        ("sin x", f"cos x + 0 exp({g})"),
        (walker.text(rng, depth=3), f"exp({g}) x"),
    ])
    return ["check", expr, "--answer", answer]


FAMILIES: dict[str, Callable[[random.Random, Any], list[str]]] = {
    "giants": hidden_giant,
    "at": at_value,
    "answer": check_answer,
}


def _invoke(args: list[str]) -> tuple[int, str, str]:
    """Run the CLI in this process (the forked child): exit code, stdout, stderr (shortened)."""
    from typer.testing import CliRunner

    from symgrad.cli.app import load_commands

    res = CliRunner().invoke(load_commands(), args, catch_exceptions=True)
    return res.exit_code, res.stdout[-2000:], res.stderr[-2000:]


def run_command(args: list[str]) -> str:
    """Run ``symgrad ARGS --timeout BUDGET --format plain`` and check the promises; the outcome
    ("ok", "error" or "refused") or AssertionError saying which promise broke."""
    from symgrad.budget import GRACE, isolated
    from symgrad.cli.app import load_commands
    from symgrad.errors import BudgetExceeded

    load_commands()  # imported once here, not again in every child
    full = [*args, "--timeout", str(BUDGET), "--format", "plain"]
    try:
        code, out, err = isolated(_invoke, full, timeout=BUDGET + GRACE + SLACK)
    except BudgetExceeded as exc:
        raise AssertionError(f"ran past its budget of {BUDGET:g} s and was stopped ({exc.message})") from None
    text = out + err
    assert "Traceback" not in text, text[-1500:]
    assert "internal error" not in text, text[-1500:]
    assert code in (0, 1, 2), (code, text[-1500:])
    if code:
        assert err.startswith(("error: ", "Usage: ")), err[:500]
    return {0: "ok", 1: "error", 2: "refused"}[code]

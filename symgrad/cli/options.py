"""The Typer app and the options the commands share: one place for each option's name, help and default.

Stage: CLI. Every command module registers its commands on ``app`` (``@app.command``); the entry
point (``symgrad.cli.app``) loads only the module of the command asked for. An option two commands
share is defined here once, as an ``Annotated`` type (fastapi-cli's style), so its help reads the
same everywhere.
"""

from __future__ import annotations

from typing import Annotated

import typer

from symgrad import __version__
from symgrad.cli.common import Format, SymgradGroup
from symgrad.errors import InputError

FormatOption = Annotated[
    Format | None,
    typer.Option("--format",
                 help="Output: rich (default on a terminal), plain (default when piped), latex, markdown or json.",
                 show_default=False),
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show Python tracebacks for errors (for bug reports).")]
AtOption = Annotated[
    str | None,
    typer.Option("--at",
                 help="Also evaluate at a point, e.g. --at x=0.5,y=pi/4 (names as in the expression: θ or theta).",
                 show_default=False),
]
TimeoutOption = Annotated[
    float,
    typer.Option("--timeout", min=0.1, envvar="SYMGRAD_TIMEOUT",
                 help="Time budget in CPU seconds (wall-clock limit: 10× that, at least +60 s); past it symgrad stops "
                      "with a message (exit 1)."),
]
ShapeOption = Annotated[
    str | None,
    typer.Option("--shape",
                 help="Vector and matrix shapes, e.g. --shape \"x: n, A: n×n, W: m×n, b: m\" (also x: vector, "
                      "A: matrix, A: symmetric); names not declared are numbers unless their use says otherwise.",
                 show_default=False),
]
ExprArgument = Annotated[str, typer.Argument(
    help="The expression, as you would write it: \"x cos(πx)\", \"sin^2 x\", \"y**2 - x**2\". "
         "Use - to read it from standard input.",
    show_default=False)]

# Expressions may start with a minus ("-x^2"): unknown "options" are taken as the expression.
COMMAND_SETTINGS = {"ignore_unknown_options": True, "help_option_names": ["--help"]}

app = typer.Typer(
    name="symgrad",
    help=(
        "Derivatives, gradients and their worked steps, from the notation you write on paper.\n\n"
        "Examples:\n\n"
        '  symgrad grad "y**2 - x**2"\n\n'
        '  symgrad diff "x cos(πx)"\n\n'
        '  symgrad diff "sin^2 x" --at x=pi/4 --format json'
    ),
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    cls=SymgradGroup,  # usage errors in symgrad's shape (JSON with --format json), not Click's usage text
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"symgrad {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Derivatives, gradients and their worked steps, from the notation you write on paper."""


WrtOption = Annotated[
    str | None,
    typer.Option("--wrt", help="The variable to differentiate by (default: x, else the first variable); "
                 "several, comma-separated, for a mixed partial: --wrt x,y is ∂²f/∂x∂y.", show_default=False),
]
OrderOption = Annotated[int, typer.Option("--order", min=1, help="Which derivative: 2 for the second, and so on.")]
StepsOption = Annotated[bool, typer.Option("--steps/--no-steps",
                                           help="Show the worked steps (default) or only the result.")]
StandaloneOption = Annotated[bool, typer.Option("--standalone",
                                                help="With --format latex: a complete document that compiles on its "
                                                     "own.")]


def check_standalone(standalone: bool, f: Format) -> None:
    """``--standalone`` only makes sense for LaTeX: say so rather than ignore it."""
    if standalone and f is not Format.latex:
        raise InputError("--standalone makes a LaTeX document", suggestion="add --format latex")

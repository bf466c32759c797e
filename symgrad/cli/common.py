"""What every command shares: the options, reading the expression, output, and the error boundary.

Stage: CLI (the only place that reads input and prints). Commands stay thin: parse options, call
one library function, build a document, hand it to ``emit``. Library exceptions become exit codes
here and nowhere else: 0 ok, 1 could not compute, 2 bad input.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, NoReturn

import typer

from symgrad.errors import InputError, ParseError, SymgradError


class Format(str, Enum):
    rich = "rich"
    plain = "plain"
    latex = "latex"
    markdown = "markdown"
    json = "json"


FormatOption = Annotated[
    Format | None,
    typer.Option("--format", help="Output: rich (default on a terminal), plain (default when piped), latex, markdown or json.", show_default=False),
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show Python tracebacks for errors (for bug reports).")]
AtOption = Annotated[
    str | None,
    typer.Option("--at", help="Also evaluate at a point, e.g. --at x=0.5,y=pi/4 (names as in the expression: θ or theta).", show_default=False),
]
TimeoutOption = Annotated[
    float,
    typer.Option("--timeout", min=0.1, envvar="SYMGRAD_TIMEOUT",
                 help="Time budget in CPU seconds (wall-clock limit: 10× that, at least +60 s); past it symgrad stops with a message (exit 1)."),
]
ExprArgument = Annotated[str, typer.Argument(help="The expression, as you would write it: \"x cos(πx)\", \"sin^2 x\", \"y**2 - x**2\". Use - to read it from standard input.", show_default=False)]


def resolve_format(fmt: Format | None) -> Format:
    """Rich on a terminal, plain when piped (or when TERM=dumb)."""
    if fmt is not None:
        return fmt
    if sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
        return Format.rich
    return Format.plain


def read_expression(text: str) -> str:
    """The expression argument, or standard input for ``-`` (strict UTF-8)."""
    if text != "-":
        return text
    from symgrad.parsing import MAX_INPUT_LENGTH

    # read no more than the longest input allowed (4 bytes a character), so `yes | symgrad diff -` ends
    limit = 4 * MAX_INPUT_LENGTH + 1
    data = sys.stdin.buffer.read(limit) if hasattr(sys.stdin, "buffer") else sys.stdin.read(limit).encode()
    if len(data) >= limit:
        raise InputError(
            f"standard input is longer than the limit of {MAX_INPUT_LENGTH:,} characters",
            suggestion="give one expression, not a file",
        )
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8")
        shown = good + data[exc.start :].decode("utf-8", errors="replace")
        raise ParseError(
            f"standard input is not valid UTF-8 (byte {exc.start + 1} is {data[exc.start]:#04x})", shown, len(good),
            suggestion="save the expression as UTF-8 text",
        ) from None
    return decoded.lstrip("\ufeff").strip()  # a byte-order mark from Windows editors is not part of it


def emit(fmt: Format, *, document: Any = None, data: dict[str, Any] | None = None, standalone: bool = False) -> None:
    """Format everything first, then write once: an error can never leave half an output."""
    from symgrad.render import backends

    if fmt is Format.json:
        import json  # only JSON output needs it (start-up time)

        out = json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    elif fmt is Format.plain:
        out = backends.to_plain(document)
    elif fmt is Format.latex:
        out = backends.to_latex(document, standalone=standalone)
    elif fmt is Format.markdown:
        out = backends.to_markdown(document)
    else:
        from rich.console import Console

        console = Console(record=True, highlight=False, soft_wrap=True)
        with console.capture() as capture:
            backends.to_rich(document, console)
        out = capture.get()
    sys.stdout.write(out)
    sys.stdout.flush()


def fail(exc: SymgradError, fmt: Format | None) -> NoReturn:
    """Report a library error and leave with its exit code."""
    if fmt is Format.json:
        import json

        sys.stdout.write(json.dumps(exc.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stderr.write(exc.render() + "\n")
    raise typer.Exit(exc.exit_code)


DEFAULT_TIMEOUT = 10.0

OWN_PROCESS = False
"""True in the ``symgrad`` command (``app.entry``), False when the CLI runs inside another program
(a test's CliRunner): only then may ``run`` cap the process's memory and CPU time."""


def run(fmt: Format | None, debug: bool, body: Callable[[Format], None], timeout: float = DEFAULT_TIMEOUT) -> None:
    """Run a command body at the error boundary: library errors -> message + exit code.

    The body runs through ``symgrad.budget.run_guarded``: in a thread with a deep stack (deep
    expressions never meet Python's recursion limit) under the time budget (CPU seconds, with a
    wall-clock backstop). Every exception maps to an exit code (``exit_code_for``); a traceback is
    printed only with ``--debug``.
    """
    from symgrad import budget

    debug = debug or bool(os.environ.get("SYMGRAD_DEBUG"))
    resolved = resolve_format(fmt)
    if OWN_PROCESS:
        budget.limit_process()  # the memory ceiling, and the kernel's CPU limit behind the budget
    try:
        budget.run_guarded(lambda: body(resolved), timeout)
    except (typer.TyperException, typer.Exit, typer.Abort, SystemExit):
        raise  # Typer's own: usage errors (exit 2) and explicit exits
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise typer.Exit(130) from None
    except BaseException as exc:  # the boundary: never a traceback unless asked for
        if debug:
            import traceback

            traceback.print_exception(exc)
        fail(as_symgrad_error(exc), resolved)


def as_symgrad_error(exc: BaseException) -> SymgradError:
    """Any exception -> the library error the user sees (its class fixes the exit code).

    >>> as_symgrad_error(RecursionError()).exit_code, as_symgrad_error(ZeroDivisionError("x")).exit_code
    (1, 1)
    >>> as_symgrad_error(InputError("bad")).exit_code
    2
    """
    from symgrad.budget import Interrupt
    from symgrad.errors import BudgetExceeded, ComputeError, from_sympy

    if isinstance(exc, SymgradError):
        return exc
    if isinstance(exc, Interrupt):
        return BudgetExceeded("the time budget ran out", suggestion="try a simpler input or raise --timeout")
    if isinstance(exc, RecursionError):
        return ComputeError(
            "the expression is too deeply nested to work with",
            suggestion="symgrad stops here rather than overflow Python's stack; simplify the input",
        )
    if isinstance(exc, MemoryError):
        return ComputeError("the computation ran out of memory", suggestion="try a simpler input")
    failure = from_sympy(exc)  # SymPy gave up on a constant: could not compute, not a bug of ours
    if failure is not None:
        return failure
    return SymgradError(
        f"internal error ({type(exc).__name__}): {_one_line(str(exc))}",
        suggestion="this is a bug in symgrad; run again with --debug and report the output",
    )


def _one_line(text: str, limit: int = 200) -> str:
    """An exception's text as one short line: a message may quote a whole expression."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bad_option(message: str, suggestion: str | None = None) -> NoReturn:
    raise InputError(message, suggestion=suggestion)

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
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from symgrad.errors import InputError, ParseError, SymgradError


class Format(str, Enum):
    rich = "rich"
    plain = "plain"
    latex = "latex"
    markdown = "markdown"
    json = "json"


class StreamError(SymgradError):
    """Standard input or output cannot be used: closed, a full disk, a file-size limit, a device
    error (exit 1). A problem of the environment, not of the input, and not a bug."""

    exit_code = 1


def resolve_format(fmt: Format | None) -> Format:
    """Rich on a terminal, plain when piped (or when TERM=dumb)."""
    if fmt is not None:
        return fmt
    if sys.stdout is not None and sys.stdout.isatty() and os.environ.get("TERM") != "dumb":
        return Format.rich
    return Format.plain


def read_expression(text: str) -> str:
    """The expression argument, or standard input for ``-`` (strict UTF-8)."""
    if text != "-":
        return text
    from symgrad.parsing import MAX_INPUT_LENGTH

    # read no more than the longest input allowed (4 bytes a character), so `yes | symgrad diff -` ends
    limit = 4 * MAX_INPUT_LENGTH + 1
    if sys.stdin is None:
        raise StreamError("standard input is closed, so there is no expression to read from it",
                          suggestion="give the expression as an argument, or pipe it in: echo 'x^2' | symgrad diff -")
    try:
        data = sys.stdin.buffer.read(limit) if hasattr(sys.stdin, "buffer") else sys.stdin.read(limit).encode()
    except (OSError, ValueError) as exc:  # a directory, a closed or unreadable descriptor
        raise StreamError(f"could not read standard input ({_reason(exc)})",
                          suggestion="give the expression as an argument") from None
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
    """Format everything first, then write once: an error can never leave half an output.

    Where standard output cannot carry Unicode (an ASCII or Latin-1 encoding), the document is
    formatted again in ASCII notation (x^2, sigma(x), pi, d/dx: ``printing.oneline.ascii_notation``)
    and JSON escapes what is not ASCII. A write that fails or is cut short is an error
    (``write_stdout``), never success.
    """
    stream = _stdout()
    encoding = _encoding(stream)
    out = _format(fmt, document, data, standalone, ascii=False)
    if not _encodable(out, encoding):
        from symgrad.printing.oneline import ascii_notation, to_ascii
        from symgrad.render.document import ascii_document

        with ascii_notation():
            shown = ascii_document(document) if document is not None else None
            out = to_ascii(_format(fmt, shown, data, standalone, ascii=True))
    write_stdout(out, stream)


def _format(fmt: Format, document: Any, data: dict[str, Any] | None, standalone: bool, ascii: bool) -> str:
    from symgrad.render import backends

    if fmt is Format.json:
        import json  # only JSON output needs it (start-up time)

        return json.dumps(data, ensure_ascii=ascii, indent=2, allow_nan=False) + "\n"
    if fmt is Format.plain:
        return backends.to_plain(document)
    if fmt is Format.latex:
        return backends.to_latex(document, standalone=standalone)
    if fmt is Format.markdown:
        return backends.to_markdown(document)
    import io

    from rich.console import Console

    class Sink(io.StringIO):
        encoding = "ascii" if ascii else "utf-8"  # Rich draws its boxes in ASCII for an ASCII file

    console = Console(file=Sink(), record=True, highlight=False, soft_wrap=True)
    with console.capture() as capture:
        backends.to_rich(document, console)
    return capture.get()


def _stdout() -> Any:
    if sys.stdout is None:
        raise StreamError("standard output is closed, so there is nowhere to write the result",
                          suggestion="run without >&- or redirect the output to a file")
    return sys.stdout


def _encoding(stream: Any) -> str:
    return getattr(stream, "encoding", None) or "utf-8"


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


SIGPIPE_EXIT = 141
"""Exit code when the reader of a pipe went away (128 + SIGPIPE), as a killed process would have."""


def write_stdout(text: str, stream: Any = None) -> None:
    """Write ``text`` to standard output in full, or raise ``StreamError`` (exit 1): a closed
    descriptor, a full disk (/dev/full), a file-size limit (a short write: the rest fails). Written
    with ``os.write`` until every byte is out, because Python's buffered writer takes a short write
    under a file-size limit for success. A reader that went away (``| head -1``) ends the program
    quietly with ``SIGPIPE_EXIT``."""
    import errno

    stream = _stdout() if stream is None else stream
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory stream (a test runner's)
        fd = None
    try:
        if fd is None:
            stream.write(text)
            stream.flush()
            return
        stream.flush()  # anything printed before, in order
        data = memoryview(text.encode(_encoding(stream), errors="backslashreplace"))
        while data:
            try:
                written = os.write(fd, data)
            except BlockingIOError:  # a non-blocking descriptor: wait until it can take more
                import select

                select.select([], [fd], [])
                continue
            if written <= 0:
                raise OSError(errno.EIO, "nothing could be written")
            data = data[written:]
    except BrokenPipeError:
        _silence(fd)
        raise typer.Exit(SIGPIPE_EXIT) from None
    except (OSError, ValueError) as exc:
        raise StreamError(f"could not write the output to standard output ({_reason(exc)})",
                          suggestion=_advice(exc)) from None


def _reason(exc: BaseException) -> str:
    import errno

    code = getattr(exc, "errno", None)
    known = {errno.ENOSPC: "no space left on the device", errno.EFBIG: "the file-size limit was reached",
             errno.EBADF: "the descriptor is closed", errno.EISDIR: "it is a directory", errno.EIO: "a device error"}
    if code in known:
        return known[code]
    text = getattr(exc, "strerror", None) or str(exc)
    return text[:1].lower() + text[1:] if text else type(exc).__name__


def _advice(exc: BaseException) -> str:
    import errno

    code = getattr(exc, "errno", None)
    if code == errno.EFBIG:
        return "the output is larger than the file-size limit (ulimit -f): raise it or write elsewhere"
    if code == errno.ENOSPC:
        return "free some space, or write the output elsewhere"
    return "the output was not written in full; write it somewhere else"


def _silence(fd: int | None) -> None:
    """After a broken pipe, point standard output at /dev/null so that Python's own flush at exit
    does not complain about the same pipe."""
    if fd is None:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass


def fail(exc: SymgradError, fmt: Format | None) -> NoReturn:
    """Report a library error and leave with its exit code: JSON on standard output in JSON mode
    (the contract), text on standard error otherwise. A problem with standard output itself
    (``StreamError``) is always reported on standard error."""
    if fmt is Format.json and not isinstance(exc, StreamError):
        import json

        try:
            write_stdout(json.dumps(exc.to_json(), ensure_ascii=not _encodable(exc.message + (exc.suggestion or ""),
                                                                                 _encoding(sys.stdout)),
                                                                                 indent=2) + "\n")
        except StreamError as broken:
            to_stderr(exc.render())
            to_stderr(broken.render())
    else:
        to_stderr(exc.render())
    raise typer.Exit(exc.exit_code)


def to_stderr(text: str) -> None:
    """A message on standard error, in ASCII notation where the terminal cannot show Unicode (a
    caret under the input keeps its place); nothing at all if standard error itself is gone."""
    stream = sys.stderr
    if stream is None:
        return
    if not _encodable(text, _encoding(stream)):
        text = _ascii_message(text)
    try:
        stream.write(text + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def _ascii_message(text: str) -> str:
    """``to_ascii`` line by line; a caret line under an input line moves with its column."""
    from symgrad.printing.oneline import ascii_pieces

    lines = text.split("\n")
    out = []
    for k, line in enumerate(lines):
        pieces = ascii_pieces(line)
        out.append("".join(pieces))
        following = lines[k + 1] if k + 1 < len(lines) else ""
        if following.strip() == "^" and not line.isascii():
            col = following.index("^")
            lines[k + 1] = " " * len("".join(pieces[:col])) + "^"
    return "\n".join(out)


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


# usage errors: Click's own (a bad option value, a missing argument, an unknown option) ------------
try:  # typer 0.28 vendors Click; older releases used Click itself
    from typer._click import exceptions as _click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as _click_exceptions  # type: ignore[no-redef,import-not-found,unused-ignore]


class UsageError(InputError):
    """A command-line mistake Click found before the command ran (exit 2), in symgrad's own shape:
    one line, a hint, and ``{"error": …}`` on standard output when ``--format json`` was asked for."""


class SymgradGroup(TyperGroup):
    """The app's command group: Click's usage errors go through ``fail`` like every other error,
    instead of Click's usage text. Typer's own handling is kept for everything else (help,
    ``--version``, exit codes); set as ``typer.Typer(cls=SymgradGroup)``."""

    def main(  # type: ignore[override]  # Click's overloads on standalone_mode, one signature here
            self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
            standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if standalone_mode and sys.stdout is None:
            to_stderr(StreamError("standard output is closed, so there is nowhere to write the result",
                                  suggestion="run without >&- or redirect the output to a file").render())
            sys.exit(1)
        try:
            result = super().main(args=argv, prog_name=prog_name, complete_var=complete_var,
                                  standalone_mode=False, **extra)
        except _click_exceptions.NoArgsIsHelpError as exc:  # `symgrad` alone: the help, as Click does it
            if not standalone_mode:
                raise
            exc.show()
            sys.exit(exc.exit_code)
        except _click_exceptions.UsageError as exc:
            if not standalone_mode:
                raise
            error = usage_error(exc, argv)
            try:
                fail(error, Format.json if _wants_json(argv) else None)
            except typer.Exit as done:
                sys.exit(done.exit_code)
        except _click_exceptions.ClickException as exc:
            if not standalone_mode:
                raise
            to_stderr(f"error: {exc.format_message()}")
            sys.exit(exc.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            to_stderr("aborted")
            sys.exit(1)
        if standalone_mode:
            sys.exit(result if isinstance(result, int) else 0)
        return result


def _wants_json(argv: list[str]) -> bool:
    """``--format json`` (or ``--format=json``) anywhere on the command line."""
    from itertools import pairwise

    return any(a == "--format" and b == "json" for a, b in pairwise(argv)) or "--format=json" in argv


def usage_error(exc: Any, argv: list[str]) -> UsageError:
    """Click's usage error as one line and a hint; an unknown option gets the closest real one.

    >>> class Fake:  # stands in for Click's exception
    ...     ctx = None
    ...     def format_message(self):
    ...         return "Invalid value for '--order': 0 is not in the range x>=1."
    >>> print(usage_error(Fake(), ["diff", "x^2", "--order", "0"]).render())
    error: invalid value for --order: 0 is not in the range x>=1
    hint: see symgrad diff --help
    """
    import re

    ctx = getattr(exc, "ctx", None)
    named = next((a for a in argv if not a.startswith("-")), None)
    command = ctx.command_path if ctx is not None else "symgrad" + (f" {named}" if named in _COMMANDS else "")
    options = _option_names(ctx)
    message = exc.format_message().strip()
    message = re.sub(r"\. Did you mean '([^']+)'\?$", r" (did you mean \1?)", message)
    unknown = _unknown_option(message, argv, options, exc)
    if unknown is not None:
        guess = _closest(unknown, options)
        text = f"no such option: {unknown}" + (f" (did you mean {guess}?)" if guess else "")
        return UsageError(text, suggestion=f"see {command} --help for the options")
    message = re.sub(r"'(--?[\w-]+)'", r"\1", message).rstrip(".")
    message = message[:1].lower() + message[1:]
    return UsageError(message, suggestion=f"see {command} --help")


_COMMANDS = ("diff", "grad", "check", "table", "hessian", "jacobian", "softmax", "critical", "descend", "export",
             "backprop")


def _option_names(ctx: Any) -> list[str]:
    if ctx is None:
        return []
    names = []
    for param in getattr(ctx.command, "params", []):
        names += [o for o in list(param.opts) + list(param.secondary_opts) if o.startswith("-")]
    return names


def _unknown_option(message: str, argv: list[str], options: list[str], exc: Any) -> str | None:
    """The unknown option in a usage error: Click names it (``NoSuchOption``), or, since commands
    take unknown "options" as the expression (``-x^2``), it shows as an unexpected extra argument."""
    name = getattr(exc, "option_name", None)
    if isinstance(exc, _click_exceptions.NoSuchOption) and name:
        return str(name)
    if "unexpected extra argument" in message.lower():
        for arg in argv:
            flag = arg.split("=", 1)[0]
            if flag.startswith("--") and flag not in options and flag != "--help":
                return flag
    return None


def _closest(name: str, options: list[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return found[0] if found else None

"""symgrad's one exception hierarchy; the CLI turns each class into an exit code.

Stage: shared by every stage. ``SymgradError`` is never raised itself:

- ``InputError`` (exit 2): the user's text or options are wrong. ``ParseError`` adds the position
  and draws the caret.
- ``ComputeError`` (exit 1): the input was fine but symgrad could not finish:
  ``BudgetExceeded`` (time budget or a size limit met during the work), ``Unsupported``.
"""

from __future__ import annotations


class SymgradError(Exception):
    """Base class of everything symgrad raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion

    def to_json(self) -> dict[str, object]:
        """The ``{"error": {...}}`` payload of the JSON output."""
        data: dict[str, object] = {"message": self.message, "position": None, "kind": self.kind}
        if self.suggestion:
            data["suggestion"] = self.suggestion
        return {"error": data}

    @property
    def kind(self) -> str:
        return type(self).__name__

    def render(self) -> str:
        """The plain text shown to a person: one line, then a hint if there is one."""
        lines = [f"error: {self.message}"]
        if self.suggestion:
            lines.append(f"hint: {self.suggestion}")
        return "\n".join(lines)


class InputError(SymgradError):
    """The input or an option is wrong (exit code 2)."""

    exit_code = 2


class SymgradWarning(UserWarning):
    """A note on a result returned as a bare expression (``symgrad.derivative``): how the input
    was read, or that a variable named does not occur in it. ``derive`` keeps the same notes in
    ``Derivation.notes``; the commands print them."""


class ExpressionTypeError(InputError, TypeError):
    """A library function was given something that is not an expression or a variable (``None``,
    a list, an equation): an ``InputError``, and a ``TypeError`` as Python's own functions raise."""


class ParseError(InputError):
    """The expression cannot be read; knows where, so it can draw a caret under the place.

    >>> err = ParseError("unexpected ')'", "x + )", 4)
    >>> print(err.render())
    error: unexpected ')' at column 5
      x + )
          ^
    """

    WINDOW = 60

    def __init__(
        self,
        message: str,
        text: str,
        position: int | None,
        *,
        suggestion: str | None = None,
    ) -> None:
        super().__init__(message, suggestion=suggestion)
        self.text = text
        self.position = position

    def to_json(self) -> dict[str, object]:
        data = super().to_json()
        data["error"]["position"] = self.position  # type: ignore[index]
        return data

    def context(self) -> tuple[str, int]:
        """The slice of the input to show and the caret's column in it (long inputs are cut)."""
        text = self.text
        pos = len(text) if self.position is None else min(self.position, len(text))
        start = max(0, pos - self.WINDOW)
        end = min(len(text), pos + self.WINDOW)
        shown = text[start:end]
        col = pos - start
        if start > 0:
            shown, col = "…" + shown, col + 1
        if end < len(text):
            shown += "…"
        # control characters would garble the terminal line: show them as their escapes
        cleaned = []
        for i, ch in enumerate(shown):
            if ch.isprintable() or ch == " ":
                cleaned.append(ch)
            else:
                esc = ch.encode("unicode_escape").decode("ascii")
                cleaned.append(esc)
                if i < col:
                    col += len(esc) - 1
        return "".join(cleaned), col

    def render(self) -> str:
        position = self.position
        where = ("at end of input" if position is None or position >= len(self.text)
                 else f"at column {position + 1}")
        lines = [f"error: {self.message} {where}"]
        if self.text:
            shown, col = self.context()
            lines.append("  " + shown)
            lines.append("  " + " " * col + "^")
        if self.suggestion:
            lines.append(f"hint: {self.suggestion}")
        return "\n".join(lines)


class ComputeError(SymgradError):
    """The input was understood but the work could not be done (exit code 1)."""

    exit_code = 1


class BudgetExceeded(ComputeError):
    """The time budget or a size limit ran out during the work."""


class Unsupported(ComputeError):
    """symgrad does not know how to do this (yet)."""


_SYMPY_FAILURES = (ArithmeticError, TypeError, ValueError, NotImplementedError, AttributeError)


def from_sympy(exc: BaseException) -> ComputeError | None:
    """SymPy's or mpmath's own failure as a ComputeError that says what SymPy could not do.

    SymPy raises TypeError, NotImplementedError, ValueError or "'NaN' has no _mpf_" when it
    compares or rounds constants it cannot evaluate, when a printer has no rule for a function,
    or when it cannot differentiate something; none of them says the input is wrong, only that
    SymPy could not finish, so they map to exit 1. The message names the operation that failed,
    read from where in SymPy it was raised (comparing or evaluating a constant, printing,
    writing code, differentiating). The same exception types raised by symgrad's own code are
    bugs and stay unmapped (``None``): only the frame that raised decides.

    >>> import sympy as sp
    >>> try:
    ...     sp.Integer(1) / 0 < sp.Integer(1) / 0
    ... except TypeError as exc:
    ...     print(from_sympy(exc).message)
    SymPy could not compute with a constant in this expression (TypeError: Invalid comparison of non-real zoo)
    >>> from sympy.printing.pycode import PythonCodePrinter
    >>> try:
    ...     PythonCodePrinter({"strict": True}).doprint(sp.zeta(3))
    ... except NotImplementedError as exc:
    ...     print(from_sympy(exc).message)
    SymPy's code printer has no translation of zeta, so it cannot be written as Python code
    >>> from_sympy(TypeError("not from SymPy")) is None
    True
    """
    if not isinstance(exc, _SYMPY_FAILURES) or isinstance(exc, RecursionError):
        return None
    tb = exc.__traceback__
    if tb is None:
        return None
    frames = []
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename.replace("\\", "/"), tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    where = frames[-1][0]
    if "/sympy/" not in where and "/mpmath/" not in where:
        return None
    detail = " ".join(str(exc).split())[:120]
    text = f"{type(exc).__name__}" + (f": {detail}" if detail else "")
    files = [f for f, _ in frames if "/sympy/" in f or "/mpmath/" in f]
    if type(exc).__name__ == "PrintMethodNotImplementedError" or any("/sympy/printing/codeprinter" in f for f in files):
        import re

        found = re.search(r"Unsupported by <class '[^']*'>: (\w+)", str(exc)) or re.search(r"method: _print_(\w+)",
                                                                                           str(exc))
        name = found.group(1) if found else "a function in this expression"
        return ComputeError(f"SymPy's code printer has no translation of {name}, so it cannot be written as Python "
                            f"code",
                            suggestion="the numeric backends know the functions of symgrad's grammar; "
                                       "rewrite the expression with those")
    if any("/sympy/printing/" in f for f in files):
        return ComputeError(f"SymPy could not print this expression ({text})",
                            suggestion="simplify the expression; if it looks valid, run with --debug and report it")
    constant = ("comparison" in detail or "truth value" in detail or "_mpf_" in detail
                or isinstance(exc, (ArithmeticError, AttributeError))
                or any(f.endswith(("/evalf.py", "/numbers.py", "/relational.py")) or "/mpmath/" in f for f in files))
    if constant:
        return ComputeError(
            f"SymPy could not compute with a constant in this expression ({text})",
            suggestion="check that every constant is real and defined (asin(π) is not), or simplify them",
        )
    if "derivative" in detail.lower() or any(name in ("diff", "_eval_derivative", "fdiff") for _, name in frames):
        return ComputeError(f"SymPy could not differentiate this expression ({text})",
                            suggestion="rewrite the expression with the functions of symgrad's grammar")
    return ComputeError(f"SymPy could not work with this expression ({text})",
                        suggestion="simplify the expression; if it looks valid, run with --debug and report it")

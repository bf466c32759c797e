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
        label: str = "",
    ) -> None:
        super().__init__(message, suggestion=suggestion)
        self.text = text
        self.position = position
        self.label = label

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
        where = "at end of input" if self.position is None or self.position >= len(self.text) else f"at column {self.position + 1}"
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

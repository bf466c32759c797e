"""``symgrad check`` and ``symgrad table``: homework helpers on top of the step engine.

Stage: CLI. Thin commands: the work is ``symgrad.steps.homework`` (judging an answer, the table of
derivatives), what is said is ``symgrad.render.narrate.steps``; these functions parse options, call them
and emit. Registered by the import at the bottom of ``symgrad/cli/app.py``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from symgrad.cli.common import Format, emit, read_expression, run
from symgrad.cli.options import (
    COMMAND_SETTINGS,
    DebugOption,
    ExprArgument,
    FormatOption,
    OrderOption,
    StandaloneOption,
    TimeoutOption,
    WrtOption,
    app,
    check_standalone,
)

AnswerOption = Annotated[str, typer.Option("--answer", help="Your derivative, in the same notation as EXPR.",
                                           show_default=False)]


@app.command(context_settings=COMMAND_SETTINGS)
def check(
    expr: ExprArgument,
    answer: AnswerOption,
    wrt: WrtOption = None,
    order: OrderOption = 1,
    standalone: StandaloneOption = False,
    fmt: FormatOption = None,
    timeout: TimeoutOption = 10.0,
    debug: DebugOption = False,
) -> None:
    """Check a derivative you worked out: right or wrong, where it differs, and the step that went wrong.

    A wrong answer is a result, not an error: the exit code is 0 either way.

    Examples:

      symgrad check "x cos(πx)" --answer "cos(πx) - x sin(πx)"

      symgrad check "sigmoid(x)" --answer "σ(x)(1 - σ(x))"

      symgrad check "x^2 y" --wrt y --answer "x^2" --format json
    """

    def body(f: Format) -> None:
        from symgrad.parsing import parse_full
        from symgrad.render.narrate.steps import check_document
        from symgrad.steps.homework import check_answer

        text = read_expression(expr)
        check_standalone(standalone, f)
        parsed = parse_full(text)
        parsed_answer = parse_full(answer)
        result = check_answer(parsed.expr, parsed_answer.expr, parsed.wrt(wrt, single=True), order)
        if f is Format.json:
            emit(f, data=check_json(text, answer, result))
            return
        emit(f, document=check_document(text, answer, result, parsed.notes + parsed_answer.notes),
             standalone=standalone)

    run(fmt, debug, body, timeout)


def check_json(text: str, answer_text: str, result: Any) -> dict[str, Any]:
    """The JSON of ``symgrad check`` (keys documented in the README)."""
    d = result.derivation
    names = [v.name for v in d.written]
    data: dict[str, Any] = {
        "command": "check",
        "input": text,
        "expression": str(d.expr),
        "wrt": names[0] if len(set(names)) == 1 else names,
        "order": d.order,
        "answer": str(result.answer),
        "correct": result.correct,
        "method": result.method,
        "expected": str(d.result),
        "reason": result.reason,
    }
    if result.notes:
        data["notes"] = list(result.notes)
    ce = result.counterexample
    if ce is not None and ce.point:
        data["counterexample"] = {"point": ce.point, "expected": ce.right, "answer": ce.left,
                                  "difference": ce.difference}
    if result.mistake is not None:
        m = result.mistake
        data["mistake"] = {"step": m.step.id, "rule": m.step.rule, "title": m.step.title,
                           "expression": str(m.step.expr), "expected": str(m.step.result),
                           "answer": str(m.wrong), "description": m.description}
    if not result.correct:
        data["steps"] = d.to_json()["steps"]
    return data


@app.command(context_settings=COMMAND_SETTINGS)
def table(
    standalone: StandaloneOption = False,
    fmt: FormatOption = None,
    timeout: TimeoutOption = 10.0,
    debug: DebugOption = False,
) -> None:
    """The table of common derivatives (constants, xⁿ, √x, eˣ, aˣ, ln x, logₐ x, trig, σ, tanh, relu).

    Every entry is worked out and checked by the step engine, not typed in.

    Examples:

      symgrad table

      symgrad table --format markdown > derivatives.md

      symgrad table --format latex --standalone > derivatives.tex
    """

    def body(f: Format) -> None:
        from symgrad.printing.latex import latex_of
        from symgrad.render.narrate.steps import table_document
        from symgrad.steps.homework import derivative_table

        check_standalone(standalone, f)
        rows = derivative_table()
        if f is Format.json:
            data = {
                "command": "table",
                "rows": [
                    {"function": str(r.derivation.expr), "derivative": str(r.derivation.result),
                     "latex": {"function": latex_of(r.derivation.expr), "derivative": latex_of(r.derivation.result)},
                     "rule": r.derivation.steps[0].rule, "note": r.note}
                    for r in rows
                ],
            }
            emit(f, data=data)
            return
        emit(f, document=table_document(rows), standalone=standalone)

    run(fmt, debug, body, timeout)

"""The multivariable commands: ``hessian``, ``jacobian``, ``softmax`` and ``critical``.

Stage: CLI. Thin as every command: options -> ``symgrad.multivar`` -> a document
(``symgrad.render.narrate.multivar``) or a JSON dict -> ``common.emit``. Registered by the import at the
bottom of ``symgrad/cli/app.py``. To add a command: a function here with
``@app.command(context_settings=COMMAND_SETTINGS)``, its library call, its JSON keys (documented
in the README) and its document.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from symgrad.cli.common import Format, emit, read_expression, run
from symgrad.cli.options import (
    COMMAND_SETTINGS,
    AtOption,
    DebugOption,
    ExprArgument,
    FormatOption,
    ShapeOption,
    TimeoutOption,
    app,
)
from symgrad.vocabulary.symbols import natural_key

WrtListOption = Annotated[
    str | None,
    typer.Option("--wrt", help="Variables, comma-separated, in the order wanted (default: all, in natural order).",
                 show_default=False),
]
StepsOption = Annotated[
    bool,
    typer.Option("--steps/--no-steps", help="Show the worked steps of each distinct entry (small matrices only)."),
]

MAX_STEPS_ENTRIES = 30
"""Distinct entries past which steps are left out (they would bury the matrix)."""


def _latex(expr: Any) -> str:
    from symgrad.printing.latex import latex_of

    return latex_of(expr)


@app.command(context_settings=COMMAND_SETTINGS)
def hessian(
    expr: ExprArgument,
    wrt: WrtListOption = None,
    shape: ShapeOption = None,
    at: AtOption = None,
    steps: StepsOption = True,
    fmt: FormatOption = None,
    timeout: TimeoutOption = 10.0,
    debug: DebugOption = False,
) -> None:
    """The Hessian of EXPR: every second partial derivative (mixed ones derived once), the
    symmetric matrix and, at a point, its value, eigenvalues and definiteness.

    Examples:

      symgrad hessian "100(y - x^2)^2 + (1 - x)^2" --at x=1,y=1

      symgrad hessian "x^3 - 3x + y^2" --wrt x,y

      symgrad hessian "x y z" --format json

      symgrad hessian "x^T A x" --shape "A: n×n"
    """

    def body(f: Format) -> None:
        from symgrad import expressions
        from symgrad.cli import matrix
        from symgrad.evaluate import parse_point
        from symgrad.expressions import absent_notes, as_expr, point_notes
        from symgrad.multivar import hessian as hs
        from symgrad.parsing import parse_full
        from symgrad.render.narrate.multivar import hessian_document

        text = read_expression(expr)
        if matrix.wanted(text, shape):  # vectors and matrices: symgrad.cli.matrix
            return matrix.hessian(text, wrt, shape, at, steps, f)
        parsed = parse_full(text)
        e = as_expr(parsed.expr)
        ready, how = expressions.prepared(e)  # 0^u is 0 where u > 0 (a note); the variables stay e's
        w = parsed.wrt(wrt)
        h = hs.hessian(ready, w if w is not None or ready == e else expressions.variables(e))
        if steps and len(h.entries) <= MAX_STEPS_ENTRIES and f is not Format.json:
            h = hs.hessian(ready, h.variables, steps=True)
        point = parse_point(at, e) if at is not None else None
        notes = [*parsed.notes, *how, *(absent_notes(e, h.variables, "its partial derivatives are 0")
                                  if w is not None else ()),
                 *(point_notes(point, e) if point else ())]
        numeric = hs.numeric_hessian(h, point) if point is not None else None
        if f is Format.json:
            data: dict[str, Any] = {
                "command": "hessian",
                "input": text,
                "expression": str(e),
                "variables": [v.name for v in h.variables],
                "gradient": [str(g) for g in h.gradient],
                "hessian": [[str(c) for c in row] for row in h.matrix],
                "latex": [[_latex(c) for c in row] for row in h.matrix],
                "entries": [{"wrt": [h.variables[en.row].name, h.variables[en.col].name], "result": str(en.expr)}
                            for en in h.entries],
                "notes": notes,
            }
            if h.jumps:
                data["jumps"] = [str(u) for u in h.jumps]
            if numeric is not None:
                data["value"] = [list(row) for row in numeric.values]
                data["eigenvalues"] = list(numeric.eigenvalues) if numeric.eigenvalues is not None else None
                data["definiteness"] = numeric.definiteness
                if numeric.method:
                    data["definiteness_method"] = numeric.method
                    data["definiteness_how"] = numeric.how
                if numeric.note:
                    data["note"] = numeric.note
            emit(f, data=data)
            return
        emit(f, document=hessian_document(text, h, notes, numeric))

    run(fmt, debug, body, timeout)


@app.command(context_settings=COMMAND_SETTINGS)
def jacobian(
    expr: ExprArgument,
    wrt: WrtListOption = None,
    shape: ShapeOption = None,
    at: AtOption = None,
    steps: StepsOption = True,
    fmt: FormatOption = None,
    timeout: TimeoutOption = 10.0,
    debug: DebugOption = False,
) -> None:
    """The Jacobian of a vector function EXPR (components separated by commas): one row per
    component, one column per variable.

    Examples:

      symgrad jacobian "x^2 y, sin(x) + y"

      symgrad jacobian "r cos(θ), r sin(θ)" --wrt r,θ --at r=2,θ=pi/2

      symgrad jacobian "softmax(a1, a2, a3)" --format json

      symgrad jacobian "σ(z)" --shape "z: n"
    """

    def body(f: Format) -> None:
        import sympy as sp

        from symgrad import expressions
        from symgrad.cli import matrix
        from symgrad.evaluate import parse_point
        from symgrad.expressions import absent_notes, point_notes
        from symgrad.multivar import jacobian as jc
        from symgrad.parsing import parse_full
        from symgrad.render.narrate.multivar import jacobian_document

        text = read_expression(expr)
        if matrix.wanted(text, shape):  # vectors and matrices: symgrad.cli.matrix
            return matrix.jacobian(text, wrt, shape, at, steps, f)
        parsed = parse_full(text)
        comps = jc.components_of(parsed.expr)
        together = parsed.expr
        prepared = [expressions.prepared(c) for c in comps]  # real functions only; 0^u is 0 where u > 0
        comps, how = tuple(c for c, _ in prepared), [n for _, notes in prepared for n in notes]
        # the variables stay those of the components as written (0^x·y is 0, but a function of x, y)
        w = parsed.wrt(wrt)
        columns = w if w is not None or not how else sorted(
            {s for c in jc.components_of(together) for s in c.free_symbols if isinstance(s, sp.Symbol)},
            key=natural_key)
        j = jc.jacobian(comps, columns, steps=False)
        if steps and len(j.entries) <= MAX_STEPS_ENTRIES and f is not Format.json:
            j = jc.jacobian(comps, j.variables, steps=True)
        point = parse_point(at, together) if at is not None else None
        notes = [*parsed.notes, *dict.fromkeys(how), *(absent_notes(together, j.variables,
                                                                             "its column of the Jacobian is 0")
                                  if w is not None else ()),
                 *(point_notes(point, together) if point else ())]
        values, note = (jc.numeric_matrix(j.matrix, point, jumps=j.jumps, components=j.components)
                        if point is not None else (None, None))
        if f is Format.json:
            data: dict[str, Any] = {
                "command": "jacobian",
                "input": text,
                "expression": [str(c) for c in jc.components_of(together)],
                "variables": [v.name for v in j.variables],
                "jacobian": [[str(c) for c in row] for row in j.matrix],
                "latex": [[_latex(c) for c in row] for row in j.matrix],
                "notes": notes,
            }
            if j.jump_note:
                data["jumps"] = sorted({str(u) for e in j.entries for u in e.jumps})
            if values is not None:
                data["value"] = [list(row) for row in values]
                if note:
                    data["note"] = note
            emit(f, data=data)
            return
        emit(f, document=jacobian_document(text, together, j, notes, values,
                                           tuple(point.items()) if point else None, note))

    run(fmt, debug, body, timeout)


@app.command(context_settings=COMMAND_SETTINGS)
def softmax(
    classes: Annotated[int, typer.Argument(help="The number of classes N (2 to 1000).", show_default=False)],
    fmt: FormatOption = None,
    timeout: TimeoutOption = 10.0,
    debug: DebugOption = False,
) -> None:
    """The derivative of softmax, worked out: ∂pᵢ/∂aⱼ by the quotient rule, the cases i = j
    (pᵢ(1 − pᵢ)) and i ≠ j (−pᵢpⱼ), J = diag(p) − p pᵀ for N classes, and the cross-entropy
    gradient p − y.

    Examples:

      symgrad softmax 3

      symgrad softmax 4 --format latex

      symgrad softmax 10 --format json
    """

    def body(f: Format) -> None:
        from symgrad.multivar.softmax import softmax_derivation
        from symgrad.render.narrate.multivar import softmax_document

        d = softmax_derivation(classes)
        if f is Format.json:
            emit(f, data={"command": "softmax", **d.to_json()})
            return
        emit(f, document=softmax_document(d))

    run(fmt, debug, body, timeout)


@app.command(context_settings=COMMAND_SETTINGS)
def critical(
    expr: ExprArgument,
    wrt: WrtListOption = None,
    fmt: FormatOption = None,
    timeout: TimeoutOption = 10.0,
    debug: DebugOption = False,
) -> None:
    """The critical points of EXPR (where ∇f = 0), each classified by the Hessian's eigenvalues:
    minimum, maximum, saddle, or inconclusive when the Hessian is singular.

    Examples:

      symgrad critical "x^3 - 3x + y^2"

      symgrad critical "y^2 - x^2" --format json

      symgrad critical "x^4 + y^4"
    """

    def body(f: Format) -> None:
        from symgrad.expressions import as_expr
        from symgrad.multivar.critical import critical_points
        from symgrad.parsing import parse_full
        from symgrad.render.narrate.multivar import critical_document

        text = read_expression(expr)
        parsed = parse_full(text)
        e = as_expr(parsed.expr)
        result = critical_points(e, parsed.wrt(wrt))
        if f is Format.json:
            emit(f, data={"command": "critical", "input": text, "expression": str(e), **result.to_json(),
                          "notes": list(parsed.notes) + list(result.notes)})
            return
        emit(f, document=critical_document(text, result, parsed.notes))

    run(fmt, debug, body, timeout)


def emit_mixed_partial(
    f: Format, text: str, e: Any, notes: Any, wrt: str, order: int, at: str | None, steps: bool, standalone: bool
) -> None:
    """``symgrad diff EXPR --wrt x,y``: ∂²f/∂x∂y, each stage with its steps (called by ``diff``)."""
    from symgrad import expressions
    from symgrad.cli.common import bad_option
    from symgrad.evaluate import evaluate, parse_point
    from symgrad.expressions import point_notes
    from symgrad.multivar.mixed import mixed_partial
    from symgrad.render.narrate.multivar import mixed_document

    if order != 1:
        bad_option("--order cannot be combined with several --wrt variables",
                   "repeat a variable instead: --wrt x,x,y is ∂³f/∂x²∂y")
    m = mixed_partial(e, wrt, steps=steps)
    point = parse_point(at, e) if at is not None else None
    notes = [*notes, *m.notes, *(point_notes(point, e) if point else ())]
    value = evaluate(m.result, point, what="the derivative") if point is not None else None
    if f is Format.json:
        data: dict[str, Any] = {
            "command": "diff",
            "input": text,
            "expression": str(e),
            "variables": [v.name for v in expressions.variables(e)],
            **m.to_json(),
            "order": len(m.wrt),
            "notes": list(notes),
        }
        if not steps:
            for stage in data["stages"]:
                stage.pop("steps", None)
        if value is not None:
            data["value"] = value.value
            if value.note:
                data["note"] = value.note
        emit(f, data=data)
        return
    emit(f, document=mixed_document(text, m, notes, point, value), standalone=standalone)

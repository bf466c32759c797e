"""The ``symgrad`` command: one Typer app, one thin function per command.

Stage: CLI. Each command parses its options, calls the library (``symgrad.calculus``,
``symgrad.steps``, …), asks the narrator for a document and hands it to ``common.emit``.
To add a command: write it in its own module under ``symgrad/cli/`` with ``@app.command`` and
import that module at the bottom of this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from symgrad.cli.common import Format, emit, read_expression, run
from symgrad.cli.options import (
    COMMAND_SETTINGS,
    AtOption,
    DebugOption,
    ExprArgument,
    FormatOption,
    OrderOption,
    ShapeOption,
    StandaloneOption,
    StepsOption,
    TimeoutOption,
    WrtOption,
    app,
    check_standalone,
)


@app.command(context_settings=COMMAND_SETTINGS)
def diff(
    expr: ExprArgument,
    wrt: WrtOption = None,
    order: OrderOption = 1,
    shape: ShapeOption = None,
    at: AtOption = None,
    steps: StepsOption = True,
    standalone: StandaloneOption = False,
    fmt: FormatOption = None,
    timeout: TimeoutOption = 10.0,
    debug: DebugOption = False,
) -> None:
    """Differentiate EXPR, showing how it was read, every step (each rule used) and the result.

    Examples:

      symgrad diff "x cos(πx)"

      symgrad diff "x^x" --no-steps

      symgrad diff "sigmoid(x)" --format latex --standalone > sigmoid.tex

      symgrad diff "x^3 y^2" --wrt y --order 2

      symgrad diff "x^2 y^3" --wrt x,y

      symgrad diff "sigmoid(x)" --at x=0 --format json

      echo "ln|x|" | symgrad diff -
    """

    def body(f: Format) -> None:
        from symgrad import evaluate as evaluation
        from symgrad import expressions
        from symgrad.evaluate import parse_point
        from symgrad.expressions import (
            as_expr,
            check_order,
            default_variable,
            point_notes,
            resolve_variable,
        )
        from symgrad.parsing import parse_full
        from symgrad.render.document import Document
        from symgrad.render.narrate.calculus import diff_document
        from symgrad.render.narrate.steps import derivation_blocks
        from symgrad.steps import derive

        text = read_expression(expr)
        check_standalone(standalone, f)
        from symgrad.cli import matrix

        if matrix.wanted(text, shape):  # vectors and matrices: symgrad.cli.matrix
            return matrix.diff(text, wrt, order, shape, at, steps, f, standalone)
        parsed = parse_full(text)
        e = as_expr(parsed.expr)
        if wrt is not None and "," in wrt:
            from symgrad.cli.multivar import emit_mixed_partial

            emit_mixed_partial(f, text, e, parsed.notes, wrt, order, at, steps, standalone)
            return
        named = parsed.wrt(wrt, single=True)  # --wrt, or the variable a definition f(t) = … names
        var = default_variable(e) if named is None else resolve_variable(named, e)
        check_order(order)
        # also with --no-steps: the same checked result, steps not shown; a chain too deep to write
        # out has its answer in the names of its links (derivation.links)
        derivation = derive(e, var, order, name_links=True)
        result = derivation.result
        point = parse_point(at, e) if at is not None else None
        notes = [*parsed.notes, *derivation.notes, *(point_notes(point, e) if point else ())]
        value = None
        if point is not None:
            numeric = valued_derivations(e, [var], [derivation])[0] if order == 1 else derivation
            value = evaluation.evaluate(numeric.result, point, what="the derivative", domain_of=e,
                                      links=numeric.links)
        variables = expressions.variables(e)
        if f is Format.json:
            data = {
                "command": "diff",
                "input": text,
                "expression": str(e),
                "variables": [v.name for v in variables],
                "wrt": var.name,
                "order": order,
                "result": str(result),
                "latex": _latex(result),
                "notes": notes,
                "check": derivation.check,
            }
            if derivation.links:
                from symgrad.steps.derivation import links_json

                data["links"] = links_json(derivation.links)
            if steps:
                data["steps"] = derivation.to_json()["steps"]
            if value is not None:
                data["value"] = value.value
                if value.note:
                    data["note"] = value.note
            emit(f, data=data)
            return
        middle = Document(tuple(derivation_blocks(derivation, partial=len(e.free_symbols) > 1))) if steps else None
        if not steps and not derivation.agrees:
            middle = Document(tuple(derivation_blocks(derivation))[-1:])
        emit(f, document=diff_document(text, e, notes, var, order, result, point, value, middle=middle,
                                       links=derivation.links),
             standalone=standalone)

    run(fmt, debug, body, timeout)


@app.command(context_settings=COMMAND_SETTINGS)
def grad(
    expr: ExprArgument,
    wrt: Annotated[str | None, typer.Option("--wrt",
                                            help="Variables, comma-separated, in the order wanted (default: all, in "
                                                 "natural order).", show_default=False)] = None,
    shape: ShapeOption = None,
    at: AtOption = None,
    steps: StepsOption = True,
    standalone: StandaloneOption = False,
    fmt: FormatOption = None,
    timeout: TimeoutOption = 10.0,
    debug: DebugOption = False,
) -> None:
    """The gradient of EXPR: every partial derivative with its steps, then the vector.

    Examples:

      symgrad grad "y**2 - x**2"

      symgrad grad "x^2 y + sin(x y)" --no-steps

      symgrad grad "theta1^2 + theta2^2" --at θ1=1,θ2=-2

      symgrad grad "-log(p)" --format json

      symgrad grad "‖W x + b - y‖²" --shape "W: m×n, x: n" --wrt W,b
    """

    def body(f: Format) -> None:
        from symgrad.cli import matrix
        from symgrad.evaluate import evaluate_all, parse_point
        from symgrad.expressions import (
            as_expr,
            point_notes,
            resolve_variables,
        )
        from symgrad.parsing import parse_full
        from symgrad.render.narrate.calculus import grad_document
        from symgrad.render.narrate.steps import partials_document

        text = read_expression(expr)
        check_standalone(standalone, f)
        if matrix.wanted(text, shape):  # vectors and matrices: symgrad.cli.matrix
            return matrix.grad(text, wrt, shape, at, steps, f, standalone)
        parsed = parse_full(text)
        e = as_expr(parsed.expr)
        variables = resolve_variables(parsed.wrt(wrt), e)
        # --no-steps hides the steps, same result; deep chains are answered in their links' names
        derivations = named_partials(e, variables)
        links = merged_links(derivations)
        partials = [d.result for d in derivations]
        point = parse_point(at, e) if at is not None else None
        notes = list(dict.fromkeys([*parsed.notes, *(n for d in derivations for n in d.notes),
                                    *(point_notes(point, e) if point else ())]))
        values = None
        if point is not None:
            numeric = valued_derivations(e, variables, derivations)
            values = evaluate_all([d.result for d in numeric], point, [f"∂f/∂{v.name}" for v in variables],
                                  domain_of=e, links=merged_links(numeric), wrt=variables)
        if f is Format.json:
            data = {
                "command": "grad",
                "input": text,
                "expression": str(e),
                "variables": [v.name for v in variables],
                "gradient": [str(p) for p in partials],
                "latex": [_latex(p) for p in partials],
                "notes": notes,
                "partials": [_partial_json(d, steps) for d in derivations],
            }
            if links:
                from symgrad.steps.derivation import links_json

                data["links"] = links_json(links)
            if values is not None:
                data["value"] = [v.value for v in values]
                notes = [v.note for v in values if v.note]
                if notes:
                    data["note"] = "; ".join(notes)
            emit(f, data=data)
            return
        middle = partials_document(derivations, steps=steps)
        emit(f, document=grad_document(text, e, notes, variables, partials, point, values, middle=middle,
                                       links=links),
             standalone=standalone)

    run(fmt, debug, body, timeout)


def named_partials(e: Any, variables: Sequence[Any], named_from: int = 0) -> list[Any]:
    """Each partial derivative of ``e``, a deep chain's answer in the names of its links; a chain
    shared by two partials keeps its names, a chain of its own gets names no other partial uses,
    so one name means one thing in every partial."""
    from symgrad.steps import derive

    meaning: dict[Any, Any] = {}
    derivations = []
    for v in variables:
        d = derive(e, v, name_links=True, named_from=named_from)
        if any(meaning.get(u, definition) != definition for u, definition in d.links):
            d = derive(e, v, name_links=True, avoid={u.name for u in meaning}, named_from=named_from)
        meaning.update(d.links)
        derivations.append(d)
    return derivations


def merged_links(derivations: Sequence[Any]) -> tuple[tuple[Any, Any], ...]:
    """The links of several derivations (``Derivation.links``), each name once."""
    return tuple({u: definition for d in derivations for u, definition in d.links}.items())


def valued_derivations(e: Any, variables: Sequence[Any], derivations: Sequence[Any]) -> Sequence[Any]:
    """The derivations to evaluate at a point: ``derivations`` themselves, unless one of them
    writes out a chain of ``LONG_CHAIN`` links or more; then the same partials with every such
    chain named, since evaluated link by link the answer is linear in the depth, while evalf of
    the written-out one evaluates its n²/2 nested functions (seconds for a σ chain 63 deep)."""
    if not any(d.long_chain and not d.links for d in derivations):
        return derivations
    from symgrad.steps.strategies import LONG_CHAIN

    return named_partials(e, variables, named_from=LONG_CHAIN)


def _partial_json(derivation: object, steps: bool) -> dict[str, object]:
    """One entry of grad's ``"partials"``: the variable, the result and (unless --no-steps) its steps."""
    data = derivation.to_json()  # type: ignore[attr-defined]
    keep = ["wrt", "result", "latex", "check"] + (["steps"] if steps else [])
    return {k: data[k] for k in keep}


def _latex(expr: object) -> str:
    from symgrad.printing.latex import latex_of

    return latex_of(expr)


COMMAND_MODULES: dict[str, str] = {
    "check": "symgrad.cli.homework",
    "table": "symgrad.cli.homework",
    "hessian": "symgrad.cli.multivar",
    "jacobian": "symgrad.cli.multivar",
    "softmax": "symgrad.cli.multivar",
    "critical": "symgrad.cli.multivar",
    "descend": "symgrad.cli.numeric",
    "export": "symgrad.cli.numeric",
    "backprop": "symgrad.cli.backprop",
}
"""Commands defined in their own modules, which register themselves on ``app`` when imported."""


def load_commands(names: list[str] | None = None) -> typer.Typer:
    """Import the modules of the commands named (all when None) and return the app.

    Typer builds every registered command on each run; registering only the one asked for keeps
    ``symgrad diff`` from paying for ``descend``'s options.
    """
    import importlib

    wanted = COMMAND_MODULES.values() if names is None else [COMMAND_MODULES[n] for n in names if n in COMMAND_MODULES]
    for module in dict.fromkeys(COMMAND_MODULES.values()):
        if module in wanted:
            importlib.import_module(module)
    return app


def requested_command(argv: list[str]) -> str | None:
    """The command named on the command line, or None (no command, or help for the whole tool).

    >>> requested_command(["diff", "-x^2"]), requested_command(["--help"]), requested_command([])
    ('diff', None, None)
    """
    for arg in argv:
        if arg in ("--help", "--version"):
            return None
        if not arg.startswith("-"):
            return arg
    return None


def entry() -> None:
    """The console script: registers the command asked for (or all, for help), then runs."""
    import os
    import sys

    # SymPy's default cache (1 000 entries) thrashes on inputs with thousands of subexpressions,
    # making a 1 000-term sum superlinear; SymPy reads this when first imported, which is later.
    os.environ.setdefault("SYMPY_CACHE_SIZE", "20000")
    from symgrad.cli import common

    common.OWN_PROCESS = True  # run() may set the process's limits (memory ceiling, kernel CPU limit)
    command = requested_command(sys.argv[1:])
    if command not in ("diff", "grad"):
        load_commands([command] if command in COMMAND_MODULES else None)
    app()

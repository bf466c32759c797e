"""The ``symgrad backprop`` command: the computational graph of an expression and both passes.

Stage: CLI. Thin: options -> ``symgrad.backprop.backprop`` -> ``render.narrate.backprop.backprop_document``
or the record's ``to_json()`` -> ``common.emit``. Registered through ``COMMAND_MODULES`` in
``symgrad/cli/app.py``. The graph's DOT text is not one of the shared formats: ``--dot FILE``
writes it (``--dot -`` prints it instead of the document) and ``--plot FILE.svg|png|pdf`` draws
it with Graphviz; ``--format`` keeps its five shared values.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from symgrad.cli.common import (
    Format,
    emit,
    read_expression,
    run,
    write_stdout,
)
from symgrad.cli.options import (
    COMMAND_SETTINGS,
    DebugOption,
    ExprArgument,
    FormatOption,
    StandaloneOption,
    TimeoutOption,
    app,
    check_standalone,
)
from symgrad.errors import InputError


@app.command(context_settings=COMMAND_SETTINGS)
def backprop(
    expr: ExprArgument,
    at: Annotated[str | None, typer.Option(
        "--at", help="The point: a value for every input, e.g. --at x=-2,y=5,z=-4.", show_default=False)] = None,
    mode: Annotated[str, typer.Option(
        "--mode", help="reverse (backpropagation, the default) or forward (dual numbers).")] = "reverse",
    wrt: Annotated[str | None, typer.Option(
        "--wrt", help="--mode forward: the input whose tangent is 1 (default: the first); --order 2: the input "
                      "of ∂f/∂wrt.", show_default=False)] = None,
    direction: Annotated[str | None, typer.Option(
        "--direction", help="--mode forward: a tangent for each input, e.g. x=1,y=-1 (instead of --wrt).",
        show_default=False)] = None,
    order: Annotated[int, typer.Option(
        "--order", help="2: also backpropagate through the backward pass (the gradient of ∂f/∂wrt, node by "
                        "node).")] = 1,
    dot: Annotated[str | None, typer.Option(
        "--dot", help="Write the graph, with values and gradients, in Graphviz's DOT language to this file "
                      "('-': print it instead of the document).", show_default=False)] = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Draw the graph into an .svg, .png or .pdf file (needs the graphviz package and "
                       "Graphviz: pip install 'symgrad[graph]').", show_default=False)] = None,
    standalone: StandaloneOption = False,
    fmt: FormatOption = None,
    timeout: TimeoutOption = 10.0,
    debug: DebugOption = False,
) -> None:
    """The computational graph of EXPR, staged as a course stages it, and backprop node by node.

    Each operation is a node with a name (q = x + y, f = q·z): its value in the forward pass,
    its local gradients, and the gradient it receives in the backward pass, in reverse
    topological order, ending in the gradient of every input.

    Examples:

      symgrad backprop "(x + y) z" --at x=-2,y=5,z=-4

      symgrad backprop "1/(1 + e^-(w0 x0 + w1 x1 + w2))" --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3

      symgrad backprop "(x + y) z" --at x=-2,y=5,z=-4 --mode forward --wrt x

      symgrad backprop "x w + b" --at x=2,w=1,b=0.5 --order 2 --wrt w

      symgrad backprop "(x + y) z" --at x=-2,y=5,z=-4 --plot graph.svg --format json
    """

    def body(f: Format) -> None:
        from symgrad import expressions
        from symgrad.backprop import backprop as run_backprop
        from symgrad.parsing import parse_full
        from symgrad.render.narrate.backprop import backprop_document, graph_dot, render_picture

        text = read_expression(expr)
        check_standalone(standalone, f)
        parsed = parse_full(text)
        e = expressions.as_expr(parsed.expr)
        if at is None:
            raise InputError("backprop runs at a point: give a value for every input with --at",
                             suggestion="for example --at " + ",".join(f"{v.name}=1" for v in expressions.variables(e)))
        result = run_backprop(e, at, mode=mode.strip().lower(), wrt=wrt, direction=direction, order=order,
                              output=parsed.defines or "f")
        dot_text = graph_dot(result.graph, result)
        picture = render_picture(dot_text, str(plot)) if plot is not None else None
        if dot is not None and dot != "-":
            from symgrad.files import write_text

            write_text(dot, dot_text)
        if dot == "-":
            write_stdout(dot_text)
        elif f is Format.json:
            data: dict[str, Any] = {
                "command": "backprop",
                "input": text,
                "expression": str(e),
                "variables": [result.graph.nodes[k].name for k in result.graph.inputs],
                "point": {k: _float(v) for k, v in result.point.items()},
                **result.to_json(),
            }
            data["notes"] = [*parsed.notes, *data.get("notes", [])]
            if picture is not None:
                data["plot"] = picture
            if dot is not None:
                data["dot"] = dot
            emit(f, data=data)
        else:
            emit(f, document=backprop_document(text, e, parsed.notes, result), standalone=standalone)
        if picture is not None:
            sys.stderr.write(f"graph saved to {picture}\n")

    run(fmt, debug, body, timeout)


def _float(value: Any) -> float | None:
    """A coordinate of the point for JSON: a finite float, or None (beyond the range of floats)."""
    import math

    number = float(value)
    return number if math.isfinite(number) else None

"""The numeric commands: ``symgrad descend`` (gradient descent) and ``symgrad export`` (code).

Stage: CLI. Thin as every command: options -> ``symgrad.numeric`` -> a document or a JSON dict ->
``common.emit``. Registered by the import at the bottom of ``symgrad/cli/app.py``. To add an
optimizer option, add it to ``symgrad.numeric.optimizers`` (the factory's keyword, and its range
in ``_RANGES``: values are checked there only) and one ``typer.Option`` here, passed through
``_optimizer``. ``descend`` builds its problem with ``symgrad.numeric.descend.problem``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from symgrad.cli.common import Format, emit, read_expression, run
from symgrad.cli.options import (
    COMMAND_SETTINGS,
    DebugOption,
    ExprArgument,
    FormatOption,
    ShapeOption,
    TimeoutOption,
    app,
)
from symgrad.errors import ComputeError, InputError

OPTIMIZER_NAMES = "gd, sgd, adagrad, rmsprop, adam, adamw, nadam, adamax"


def _opt(name: str, help_text: str) -> Any:
    return typer.Option(name, help=help_text, show_default=False,
                        rich_help_panel="Optimizer options (torch.optim's names and defaults)")


def _flag(name: str, help_text: str) -> Any:
    return typer.Option(name, help=help_text, rich_help_panel="Optimizer options (torch.optim's names and defaults)")


@app.command(context_settings=COMMAND_SETTINGS)
def descend(  # noqa: PLR0915, C901  (the command becomes a result and a presenter in symgrad.commands)
    expr: ExprArgument,
    start: Annotated[list[str] | None, typer.Option("--start",
                                                    help="A starting point, e.g. x=0.5,y=1; repeat --start for several "
                                                         "runs (default: all zeros).", show_default=False)] = None,
    optimizer: Annotated[str, typer.Option("--optimizer", help=f"One of {OPTIMIZER_NAMES}.")] = "gd",
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate (default: torch.optim's for the optimizer).",
                                             show_default=False)] = None,
    steps: Annotated[int, typer.Option("--steps", help="Number of updates (0 to 1,000,000).")] = 100,
    tol: Annotated[float | None, typer.Option("--tol", help="Stop when ‖∇f‖ falls below this.",
                                              show_default=False)] = None,
    wrt: Annotated[str | None, typer.Option("--wrt", help="The variables to optimize, comma-separated (default: all).",
                                            show_default=False)] = None,
    momentum: Annotated[float | None, _opt("--momentum", "sgd, rmsprop: momentum factor (0).")] = None,
    dampening: Annotated[float | None, _opt("--dampening", "sgd: dampening of the momentum, 0 to 1 (0).")] = None,
    nesterov: Annotated[bool, _flag("--nesterov", "sgd: Nesterov momentum.")] = False,
    weight_decay: Annotated[float | None, _opt("--weight-decay", "L2 penalty (0; adamw: 0.01, decoupled).")] = None,
    lr_decay: Annotated[float | None, _opt("--lr-decay", "adagrad: learning-rate decay (0).")] = None,
    initial_accumulator_value: Annotated[float | None, _opt("--initial-accumulator-value",
                                                            "adagrad: starting sum of squares (0).")] = None,
    eps: Annotated[float | None, _opt("--eps", "Term added to denominators (1e-8; adagrad: 1e-10).")] = None,
    alpha: Annotated[float | None, _opt("--alpha", "rmsprop: smoothing constant, 0 to 1 (0.99).")] = None,
    centered: Annotated[bool, _flag("--centered", "rmsprop: normalize by the estimated variance.")] = False,
    betas: Annotated[str | None, _opt("--betas",
                                      "adam, adamw, nadam, adamax: two decay rates, e.g. 0.9,0.999.")] = None,
    amsgrad: Annotated[bool, _flag("--amsgrad", "adam, adamw: the AMSGrad variant.")] = False,
    momentum_decay: Annotated[float | None, _opt("--momentum-decay", "nadam: momentum decay ψ (0.004).")] = None,
    decoupled_weight_decay: Annotated[bool, _flag("--decoupled-weight-decay",
                                                  "nadam: AdamW-style weight decay.")] = False,
    maximize: Annotated[bool, _flag("--maximize", "Climb instead: maximize f.")] = False,
    data: Annotated[Path | None, typer.Option("--data",
                                              help="CSV file whose columns give the indexed variables of a summation "
                                                   "loss (x_i, y_i).", show_default=False)] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size",
                                                   help="Rows per step with --data (default: all rows; 1 is stochastic "
                                                        "descent).", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option("--seed",
                                             help="Seed for shuffling the rows with --batch-size (reproducible "
                                                  "mini-batches).", show_default=False)] = None,
    plot: Annotated[Path | None, typer.Option("--plot",
                                              help="Save a picture of the runs (PNG, SVG or PDF; needs matplotlib: pip "
                                                   "install 'symgrad[plot]').", show_default=False)] = None,
    explain: Annotated[bool, typer.Option("--explain",
                                          help="Show the first steps in full: the gradient, the optimizer's state "
                                               "and update with torch's formulas filled in with numbers (3 steps; "
                                               "--explain-steps K for K).")] = False,
    explain_steps: Annotated[int | None, typer.Option("--explain-steps",
                                                      help="How many steps --explain shows in full (default 3; "
                                                           "implies --explain).", show_default=False)] = None,
    fmt: FormatOption = None,
    timeout: TimeoutOption = 60.0,
    debug: DebugOption = False,
) -> None:
    """Minimize EXPR by gradient descent with PyTorch's optimizers, from one or more starts.

    The gradient is derived exactly and compiled once; each step is torch.optim's update
    formula (same option names and defaults). A run stops after --steps updates, when ‖∇f‖ < --tol,
    or when it diverges (exit code 1). Ctrl-C stops it and prints the iterates so far (exit 130).

    Examples:

      symgrad descend "x cos(πx)" --start x=0.5 --start x=-1 --lr 0.1 --steps 20

      symgrad descend "(1-x)^2 + 100(y-x^2)^2" --start x=-1.5,y=2 --optimizer adam --lr 0.01 --steps 5000 --plot
      rosen.png

      symgrad descend "x^2 + 10y^2" --optimizer sgd --momentum 0.9 --nesterov --lr 0.01 --format json

      symgrad descend "x cos(πx)" --start x=0.5 --optimizer adam --lr 0.1 --steps 20 --explain

      symgrad descend "sum((y_i - (w x_i + b))^2, i, 1, n)/n" --data points.csv --optimizer adam --lr 0.05
      --batch-size 8 --seed 0
    """
    ctrl_c = _CtrlC()

    def body(f: Format) -> None:  # noqa: PLR0915
        from symgrad.expressions import as_expr
        from symgrad.numeric.descend import MAX_UPDATES, check_tolerance, check_updates, problem
        from symgrad.numeric.descend import descend as run_descent
        from symgrad.parsing import parse_full
        from symgrad.printing.oneline import symbol_text
        from symgrad.render.narrate.descent import descent_document

        text = read_expression(expr)
        check_updates(steps)
        check_tolerance(tol)
        parsed = parse_full(text)
        e = as_expr(parsed.expr)
        opt = _optimizer(optimizer, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                         weight_decay=weight_decay, lr_decay=lr_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps, alpha=alpha,
                         centered=centered, betas=betas, amsgrad=amsgrad, momentum_decay=momentum_decay,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        prob = problem(e, parsed.wrt(wrt), data, batch_size, seed)
        variables = prob.variables
        notes = (*parsed.notes, *prob.notes)
        starts = _starts(start, variables)
        if steps * len(starts) > MAX_UPDATES:
            # every iterate is kept (the table, the plot, the JSON): bound them all together
            raise InputError(f"{len(starts)} starts × {steps:,} steps is more than {MAX_UPDATES:,} updates in all",
                             suggestion="fewer --steps or fewer --start")
        names = [symbol_text(v.name) for v in variables]
        keep = 0
        if explain or explain_steps is not None:  # integration point of symgrad.numeric.explain
            from symgrad.numeric.explain import DEFAULT_STEPS
            from symgrad.numeric.explain import check_steps as check_explained

            keep = min(check_explained(DEFAULT_STEPS if explain_steps is None else explain_steps), steps)
        progress = _Progress(steps * len(starts))
        runs = []
        try:
            with ctrl_c.listening():
                for k, point in enumerate(starts):
                    runs.append(run_descent(prob.objective, point, opt, steps=steps, tol=tol, names=names,
                                            interrupt=ctrl_c.event, keep=keep,
                                            progress=progress.after(k * steps)))
                    if runs[-1].stopped in ("interrupted", "budget"):
                        break  # the budget ran low: show what was computed while there is time
        finally:
            progress.close()
        interrupted = ctrl_c.event.is_set()
        out_of_time = bool(runs) and runs[-1].stopped == "budget"
        cut_short = interrupted or out_of_time
        plot_file = None
        if plot is not None and not cut_short:
            from symgrad.numeric.plot import plot_runs

            plot_file = str(plot_runs(plot, e, variables, runs, prob.full_value, title=text))
        diverged = any(r.stopped == "diverged" for r in runs)
        explained = []
        if keep:
            from symgrad.numeric.explain import explain as explain_run

            explained = [explain_run(r, opt, keep) for r in runs]
        if f is Format.json:
            out: dict[str, Any] = {
                "command": "descend",
                "input": text,
                "expression": str(e),
                "variables": [v.name for v in variables],
                "gradient": [str(g) for g in prob.gradient],
                "optimizer": opt.name,
                "options": {k: list(v) if isinstance(v, tuple) else v for k, v in opt.options.items()},
                "runs": [_run_json(r) for r in runs],
                "notes": list(notes),
            }
            if keep:
                from symgrad.numeric.explain import explained_json

                for data_run, r, steps_of in zip(out["runs"], runs, explained):
                    explained_json(data_run["trajectory"], r, opt, steps_of)
            if prob.data is not None:
                out["data"] = prob.data
            if plot_file is not None:
                out["plot"] = plot_file
            if interrupted:
                out["interrupted"] = True
            if cut_short:
                out["not_started"] = [list(p) for p in starts[len(runs):]]
            emit(f, data=out)
        else:
            data_line = None
            if prob.data is not None:
                info = prob.data
                batch = ("all rows each step" if info["batch_size"] == info["rows"]
                         else f"batches of {info['batch_size']} (seed {info['seed']})")
                data_line = f"data: {info['file']}, {info['rows']} rows, {batch}"
            steps_shown = []
            if keep:
                from symgrad.render.narrate.explain import explain_blocks

                steps_shown = [explain_blocks(steps_of, [v.name for v in variables], opt) for steps_of in explained]
            doc = descent_document(text, e, notes, variables, prob.gradient, opt, runs, data_line,
                                   not_started=starts[len(runs):] if cut_short else (),
                                   why_not="interrupted" if interrupted else "out of time", explained=steps_shown)
            emit(f, document=doc)
            if plot_file is not None:
                sys.stderr.write(f"plot saved to {plot_file}\n")
        # after the output is written; SystemExit passes the error boundary untouched
        if interrupted:
            sys.stderr.write("interrupted" + (": no plot saved\n" if plot is not None else "\n"))
            raise SystemExit(130)
        if out_of_time:
            from symgrad.budget import left

            whole = left()
            shown = f"of {whole[1]:g} s " if whole else ""
            sys.stderr.write(f"error: the time budget {shown}ran low during the descent: the iterates so far are "
                             "shown" + (", no plot saved" if plot is not None else "") + "\n"
                             "hint: raise --timeout (or fewer --steps) to finish the runs\n")
            raise SystemExit(1)
        if diverged:
            raise SystemExit(1)

    with ctrl_c.installed():
        run(fmt, debug, body, timeout)


class _CtrlC:
    """Ctrl-C during the runs: stop at the next step and print what was computed (exit 130).

    The command's work runs in a worker thread, and Python runs signal handlers in the main thread,
    which only waits: the handler sets an event the descent loop reads at each step. Outside the
    runs, or pressed a second time, Ctrl-C interrupts at once as in every command.
    """

    def __init__(self) -> None:
        import threading

        self.event = threading.Event()
        self.active = False

    def handler(self, signum: int, frame: object) -> None:
        if self.active and not self.event.is_set():
            self.event.set()
            return
        raise KeyboardInterrupt

    @contextmanager
    def installed(self) -> Iterator[None]:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach only the main thread: nothing to install
            return
        previous = signal.signal(signal.SIGINT, self.handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)

    @contextmanager
    def listening(self) -> Iterator[None]:
        self.active = True
        try:
            yield
        finally:
            self.active = False


def _optimizer(name: str, *, betas: str | None, nesterov: bool, centered: bool, amsgrad: bool,
               decoupled_weight_decay: bool, maximize: bool, **numbers: float | None) -> Any:
    from symgrad.numeric.optimizers import make

    options: dict[str, Any] = dict(numbers)
    if betas is not None:
        parts = [p.strip() for p in betas.split(",")]
        try:
            options["betas"] = tuple(float(p) for p in parts)
        except ValueError:
            raise InputError(f"--betas takes two numbers like 0.9,0.999, not '{betas}'") from None
    # a flag that is off was not given: only given options are checked against the optimizer
    for key, flag in (("nesterov", nesterov), ("centered", centered), ("amsgrad", amsgrad),
                      ("decoupled_weight_decay", decoupled_weight_decay), ("maximize", maximize)):
        options[key] = True if flag else None
    return make(name, spell=lambda option: "--" + option.replace("_", "-"), **options)


def _starts(texts: list[str] | None, variables: tuple[Any, ...]) -> list[tuple[float, ...]]:
    import math

    import sympy as sp

    from symgrad.evaluate import evaluate, parse_point
    from symgrad.magnitude import describe
    from symgrad.printing.oneline import symbol_text

    if not texts:
        return [tuple(0.0 for _ in variables)]
    probe = sp.Add(*variables)
    starts = []
    for text in texts:
        point = parse_point(text, probe)
        extra = [s for s in point if s not in variables]
        if extra:
            raise InputError(f"--start {text} gives a value for {symbol_text(str(extra[0]))}, which is not a variable "
                             "of the descent",
                             suggestion="the variables are " + ", ".join(symbol_text(v.name) for v in variables))
        missing = [v for v in variables if v not in point]
        if missing:
            raise InputError(f"--start {text} gives no value for {symbol_text(missing[0].name)}",
                             suggestion=f"add {missing[0].name}=… to --start")
        values = []
        for v in variables:
            number = evaluate(point[v], {}, what=f"the start of {v}")
            if number.value is None or not math.isfinite(number.value):
                raise InputError(f"--start {text} gives {symbol_text(v.name)} = {describe(point[v])}, which is not a "
                                 "real number a float can hold", suggestion=f"for example --start {v.name}=0.5")
            values.append(number.value)
        starts.append(tuple(values))
    return starts


def _run_json(r: Any) -> dict[str, Any]:
    def it(i: Any) -> dict[str, Any]:
        return {"step": i.step, "point": list(i.point), "value": i.value, "grad_norm": i.grad_norm}

    data: dict[str, Any] = {
        "start": list(r.start),
        "trajectory": [it(i) for i in r.trajectory],
        "stopped": r.stopped,
        "converged": r.converged,
        "final": it(r.final),
    }
    if r.cause:
        data["cause"] = r.cause
    if r.note:
        data["note"] = r.note
    return data


class _Progress:
    """A Rich progress bar on standard error when it is a terminal, shown once a run takes more than a moment."""

    DELAY = 0.5

    def __init__(self, total: int) -> None:
        import os

        self.enabled = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
        self.total = total
        self.began = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def after(self, offset: int) -> Callable[[int], None]:
        """The progress callback of a run that starts after ``offset`` updates of earlier runs."""
        return lambda done: self.update(offset + done)

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.began < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("descending"), BarColumn(),
                                TextColumn("{task.completed:,}/{task.total:,} steps"),
                                TimeRemainingColumn(), TextColumn("Ctrl-C stops and shows the iterates so far"),
                                console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("descend", total=self.total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command(context_settings=COMMAND_SETTINGS)
def export(
    expr: ExprArgument,
    backend: Annotated[str, typer.Option("--backend", help="numpy, math, jax or torch.")] = "numpy",
    wrt: Annotated[str | None, typer.Option("--wrt",
                                            help="The variables, comma-separated, in argument order (default: all).",
                                            show_default=False)] = None,
    what: Annotated[str, typer.Option("--what",
                                      help="Which functions: any of value, grad, hessian, "
                                           "comma-separated.")] = "value,grad,hessian",
    output: Annotated[Path | None, typer.Option("--output",
                                                help="Write the module to this file, replacing it only once it is "
                                                     "complete ('-' or none: standard output).",
                                                show_default=False)] = None,
    check: Annotated[bool, typer.Option("--check",
                                        help="Check grad_f (and hessian_f) against finite differences of f at random "
                                             "points.")] = False,
    shape: ShapeOption = None,
    fmt: FormatOption = None,
    timeout: TimeoutOption = 30.0,
    debug: DebugOption = False,
) -> None:
    """Write EXPR, its gradient and Hessian as a readable, self-contained Python module.

    The module defines f, grad_f and hessian_f (docstrings show the math; common
    subexpressions are computed once). NumPy, JAX and torch versions broadcast over arrays of
    points; math works on plain floats.

    Examples:

      symgrad export "(1-x)^2 + 100(y-x^2)^2" --backend numpy --output rosen.py --check

      symgrad export "x cos(πx)" --backend math

      symgrad export "sigmoid(w x + b)" --wrt w,b,x --what value,grad --backend torch

      symgrad export "θ1^2 + θ2^2" --backend jax --format json

      symgrad export "‖W x + b - y‖²" --shape "W: m×n, x: n" --wrt W,b --check
    """

    def body(f: Format) -> None:
        from symgrad.cli import matrix
        from symgrad.expressions import as_expr
        from symgrad.files import write_text
        from symgrad.numeric.codegen import visible
        from symgrad.numeric.compile import arguments
        from symgrad.numeric.export import check_module, export_source
        from symgrad.parsing import parse_full

        target = None if output is None or str(output) == "-" else output
        text = read_expression(expr)
        if matrix.wanted(text, shape):  # vectors and matrices: symgrad.cli.matrix
            return matrix.export(text, shape, backend, wrt, what, target, check, f,
                                 what_given=what != "value,grad,hessian")
        parsed = parse_full(text)
        e = as_expr(parsed.expr)
        kinds = [w.strip() for w in what.split(",") if w.strip()]
        variables = arguments(e, parsed.wrt(wrt))
        source = export_source(e, variables, backend, kinds)
        report = check_module(source, e, variables, backend) if check else None
        if report is not None and not report.ok:
            # nothing is written when the check fails
            raise ComputeError("the exported module does not match finite differences: " + report.summary())
        if target is not None:
            write_text(target, source)  # atomic: a failed write keeps the old file (WriteError, exit 1)
        if f is Format.json:
            data: dict[str, Any] = {
                "command": "export",
                "input": text,
                "expression": str(e),
                "backend": backend,
                "variables": [v.name for v in variables],
                "functions": [{"value": "f", "grad": "grad_f", "hessian": "hessian_f"}[k] for k in kinds],
                "source": source,
                "notes": list(parsed.notes),
            }
            if target is not None:
                data["output"] = str(target)
            if report is not None:
                data["check"] = report.as_json()
            emit(f, data=data)
        else:
            if target is None:
                sys.stdout.write(source)
            else:
                names = ", ".join(visible(v.name) for v in variables)
                sys.stdout.write(f"wrote {target} ({backend}: {names})\n")
            if report is not None:
                (sys.stdout if target is not None else sys.stderr).write(report.summary() + "\n")

    run(fmt, debug, body, timeout)

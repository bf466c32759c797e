"""The numeric commands: ``symgrad descend`` (gradient descent) and ``symgrad export`` (code).

Stage: CLI. Thin as every command: options -> ``symgrad.numeric`` -> a document or a JSON dict ->
``common.emit``. Registered by the import at the bottom of ``symgrad/cli/app.py``. To add an
optimizer option, add it to ``symgrad.numeric.optimizers`` (the factory's keyword) and one
``typer.Option`` here, passed through ``_optimizer``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from symgrad.cli.app import COMMAND_SETTINGS, app
from symgrad.cli.common import (
    DebugOption,
    ExprArgument,
    Format,
    FormatOption,
    TimeoutOption,
    emit,
    read_expression,
    run,
)
from symgrad.errors import ComputeError, InputError

OPTIMIZER_NAMES = "gd, sgd, adagrad, rmsprop, adam, adamw, nadam, adamax"


def _opt(name: str, help_text: str) -> Any:
    return typer.Option(name, help=help_text, show_default=False, rich_help_panel="Optimizer options (torch.optim's names and defaults)")


def _flag(name: str, help_text: str) -> Any:
    return typer.Option(name, help=help_text, rich_help_panel="Optimizer options (torch.optim's names and defaults)")


@app.command(context_settings=COMMAND_SETTINGS)
def descend(
    expr: ExprArgument,
    start: Annotated[list[str] | None, typer.Option("--start", help="A starting point, e.g. x=0.5,y=1; repeat --start for several runs (default: all zeros).", show_default=False)] = None,
    optimizer: Annotated[str, typer.Option("--optimizer", help=f"One of {OPTIMIZER_NAMES}.")] = "gd",
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate (default: torch.optim's for the optimizer).", show_default=False)] = None,
    steps: Annotated[int, typer.Option("--steps", min=0, help="Number of updates.")] = 100,
    tol: Annotated[float | None, typer.Option("--tol", min=0.0, help="Stop when ‖∇f‖ falls below this.", show_default=False)] = None,
    wrt: Annotated[str | None, typer.Option("--wrt", help="The variables to optimize, comma-separated (default: all).", show_default=False)] = None,
    momentum: Annotated[float | None, _opt("--momentum", "sgd, rmsprop: momentum factor (0).")] = None,
    dampening: Annotated[float | None, _opt("--dampening", "sgd: dampening of the momentum (0).")] = None,
    nesterov: Annotated[bool, _flag("--nesterov", "sgd: Nesterov momentum.")] = False,
    weight_decay: Annotated[float | None, _opt("--weight-decay", "L2 penalty (0; adamw: 0.01, decoupled).")] = None,
    lr_decay: Annotated[float | None, _opt("--lr-decay", "adagrad: learning-rate decay (0).")] = None,
    initial_accumulator_value: Annotated[float | None, _opt("--initial-accumulator-value", "adagrad: starting sum of squares (0).")] = None,
    eps: Annotated[float | None, _opt("--eps", "Term added to denominators (1e-8; adagrad: 1e-10).")] = None,
    alpha: Annotated[float | None, _opt("--alpha", "rmsprop: smoothing constant (0.99).")] = None,
    centered: Annotated[bool, _flag("--centered", "rmsprop: normalize by the estimated variance.")] = False,
    betas: Annotated[str | None, _opt("--betas", "adam, adamw, nadam, adamax: two decay rates, e.g. 0.9,0.999.")] = None,
    amsgrad: Annotated[bool, _flag("--amsgrad", "adam, adamw: the AMSGrad variant.")] = False,
    momentum_decay: Annotated[float | None, _opt("--momentum-decay", "nadam: momentum decay ψ (0.004).")] = None,
    decoupled_weight_decay: Annotated[bool, _flag("--decoupled-weight-decay", "nadam: AdamW-style weight decay.")] = False,
    maximize: Annotated[bool, _flag("--maximize", "Climb instead: maximize f.")] = False,
    data: Annotated[Path | None, typer.Option("--data", help="CSV file whose columns give the indexed variables of a summation loss (x_i, y_i).", show_default=False)] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="Rows per step with --data (default: all rows; 1 is stochastic descent).", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for shuffling the rows (reproducible mini-batches).", show_default=False)] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Save a picture of the runs (PNG, SVG or PDF; needs matplotlib: pip install 'symgrad[plot]').", show_default=False)] = None,
    fmt: FormatOption = None,
    timeout: TimeoutOption = 60.0,
    debug: DebugOption = False,
) -> None:
    """Minimize EXPR by gradient descent with PyTorch's optimizers, from one or more starts.

    The gradient is derived exactly and compiled once; each step is torch.optim's update
    formula (same option names and defaults). A run stops after --steps updates, when ‖∇f‖ < --tol,
    or when it diverges (exit code 1).

    Examples:

      symgrad descend "x cos(πx)" --start x=0.5 --start x=-1 --lr 0.1 --steps 20

      symgrad descend "(1-x)^2 + 100(y-x^2)^2" --start x=-1.5,y=2 --optimizer adam --lr 0.01 --steps 5000 --plot rosen.png

      symgrad descend "x^2 + 10y^2" --optimizer sgd --momentum 0.9 --nesterov --lr 0.01 --format json

      symgrad descend "sum((y_i - (w x_i + b))^2, i, 1, n)/n" --data points.csv --optimizer adam --lr 0.05 --batch-size 8 --seed 0
    """

    def body(f: Format) -> None:
        import sympy as sp

        from symgrad import calculus
        from symgrad.numeric import data as data_mod
        from symgrad.numeric.compile import compile as compile_expr
        from symgrad.numeric.descend import descend as run_descent
        from symgrad.numeric.descend import objective
        from symgrad.numeric.report import descent_document
        from symgrad.parsing import parse_full

        text = read_expression(expr)
        parsed = parse_full(text)
        e = calculus.as_expr(parsed.expr)
        opt = _optimizer(optimizer, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                         weight_decay=weight_decay, lr_decay=lr_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps, alpha=alpha,
                         centered=centered, betas=betas, amsgrad=amsgrad, momentum_decay=momentum_decay,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        data_info: dict[str, Any] | None = None
        full_value = None
        if data_mod.has_data(e):
            if data is None:
                raise InputError("the loss sums over data (x_i, y_i): give the data with --data file.csv")
            loss = data_mod.split(e, wrt)
            table = data_mod.read_csv(data, loss.columns)
            value_and_grad = data_mod.DataObjective(loss, table, batch_size, seed)
            variables = loss.parameters
            gradient = [sp.diff(e, v) for v in variables]
            full_value = value_and_grad.full_value
            data_info = {"file": str(data), "rows": table.rows, "columns": list(loss.columns),
                         "batch_size": value_and_grad.batch_size or table.rows, "seed": seed}
        else:
            if data is not None or batch_size is not None:
                raise InputError("--data and --batch-size are for losses that sum over data, like sum((y_i - w x_i)^2, i, 1, n)")
            compiled = compile_expr(e, wrt, backend="math", what=["value", "value_and_grad"])
            variables, gradient = compiled.variables, list(compiled.gradient)
            value_and_grad = objective(compiled)
            fn = compiled.f
            full_value = lambda point: fn(*point)  # noqa: E731
        starts = _starts(start, variables)
        progress = _Progress(f, steps * len(starts))
        runs = []
        try:
            for k, point in enumerate(starts):
                runs.append(run_descent(value_and_grad, point, opt, steps=steps, tol=tol,
                                        progress=lambda done, k=k: progress.update(k * steps + done)))
        finally:
            progress.close()
        plot_file = None
        if plot is not None:
            from symgrad.numeric.plot import plot_runs

            plot_file = str(plot_runs(plot, e, variables, runs, full_value, title=text))
        diverged = any(r.stopped == "diverged" or not r.trajectory for r in runs)
        if f is Format.json:
            out: dict[str, Any] = {
                "command": "descend",
                "input": text,
                "expression": str(e),
                "variables": [v.name for v in variables],
                "gradient": [str(g) for g in gradient],
                "optimizer": opt.name,
                "options": {k: list(v) if isinstance(v, tuple) else v for k, v in opt.options.items()},
                "runs": [_run_json(r) for r in runs],
                "notes": list(parsed.notes),
            }
            if data_info is not None:
                out["data"] = data_info
            if plot_file is not None:
                out["plot"] = plot_file
            emit(f, data=out)
        else:
            data_line = None
            if data_info is not None:
                batch = "all rows each step" if data_info["batch_size"] == data_info["rows"] else f"batches of {data_info['batch_size']} (seed {seed})"
                data_line = f"data: {data_info['file']}, {data_info['rows']} rows, {batch}"
            doc = descent_document(text, e, parsed.notes, variables, gradient, opt, runs, data_line)
            emit(f, document=doc)
            if plot_file is not None:
                sys.stderr.write(f"plot saved to {plot_file}\n")
        if diverged:
            # after the output is written; SystemExit passes the error boundary untouched
            raise SystemExit(1)

    run(fmt, debug, body, timeout)


def _optimizer(name: str, *, betas: str | None, nesterov: bool, centered: bool, amsgrad: bool,
               decoupled_weight_decay: bool, maximize: bool, **numbers: float | None) -> Any:
    from symgrad.numeric.optimizers import OPTIMIZERS, make, option_names

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
    key = name.strip().lower()
    if key in OPTIMIZERS:
        allowed = option_names(key)
        for option, value in options.items():
            if value is not None and option not in allowed:
                takes = ", ".join("--" + a.replace("_", "-") for a in allowed)
                raise InputError(f"--{option.replace('_', '-')} is not an option of {key}", suggestion=f"{key} takes {takes}")
    return make(key, **options)


def _starts(texts: list[str] | None, variables: tuple[Any, ...]) -> list[tuple[float, ...]]:
    import sympy as sp

    from symgrad import calculus
    from symgrad.render.oneline import symbol_text

    if not texts:
        return [tuple(0.0 for _ in variables)]
    probe = sp.Add(*variables)
    starts = []
    for text in texts:
        point = calculus.parse_point(text, probe)
        extra = [s for s in point if s not in variables]
        if extra:
            raise InputError(f"--start gives a value for {extra[0]}, which is not a variable of the descent")
        missing = [v for v in variables if v not in point]
        if missing:
            raise InputError(f"--start {text} gives no value for {symbol_text(missing[0].name)}",
                             suggestion=f"add {missing[0].name}=… to --start")
        values = []
        for v in variables:
            number = calculus.evaluate(point[v], {}, what=f"the start of {v}")
            if number.value is None:
                raise InputError(f"the start value of {v} is not a real number: {number.note}")
            values.append(number.value)
        starts.append(tuple(values))
    return starts


def _run_json(r: Any) -> dict[str, Any]:
    def it(i: Any) -> dict[str, Any]:
        return {"step": i.step, "point": list(i.point), "value": i.value, "grad_norm": i.grad_norm}

    data: dict[str, Any] = {
        "start": list(r.start),
        "trajectory": [it(i) for i in r.trajectory],
        "stopped": r.stopped if r.trajectory else "diverged",
        "final": it(r.final) if r.trajectory else None,
    }
    if r.note:
        data["note"] = r.note
    return data


class _Progress:
    """A Rich progress bar on standard error, shown only when a run takes more than a moment."""

    DELAY = 0.5

    def __init__(self, fmt: Format, total: int) -> None:
        self.enabled = fmt is Format.rich and sys.stderr.isatty()
        self.total = total
        self.began = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.began < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("descending"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} steps"),
                                TimeRemainingColumn(), console=Console(stderr=True), transient=True)
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
    wrt: Annotated[str | None, typer.Option("--wrt", help="The variables, comma-separated, in argument order (default: all).", show_default=False)] = None,
    what: Annotated[str, typer.Option("--what", help="Which functions: any of value, grad, hessian, comma-separated.")] = "value,grad,hessian",
    output: Annotated[Path | None, typer.Option("--output", help="Write the module to this file, replacing it only once it is complete ('-' or none: standard output).", show_default=False)] = None,
    check: Annotated[bool, typer.Option("--check", help="Check grad_f (and hessian_f) against finite differences of f at random points.")] = False,
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
    """

    def body(f: Format) -> None:
        from symgrad import calculus
        from symgrad.files import write_text
        from symgrad.numeric.compile import parameters
        from symgrad.numeric.codegen import visible
        from symgrad.numeric.export import check_module, export_source
        from symgrad.parsing import parse_full

        target = None if output is None or str(output) == "-" else output
        text = read_expression(expr)
        parsed = parse_full(text)
        e = calculus.as_expr(parsed.expr)
        kinds = [w.strip() for w in what.split(",") if w.strip()]
        variables = parameters(e, wrt)
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

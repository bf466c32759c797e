"""The commands' vector and matrix mode: ``grad``, ``jacobian``, ``hessian`` and ``export`` with ``--shape``.

Stage: CLI. Thin, as every command: options -> ``symgrad.matrix`` (results with ``to_json``) -> a
document (``symgrad.render.matrix``) or the JSON dict -> ``common.emit``. A command hands over to
this module when ``--shape`` is given or its input uses notation only vectors and matrices have
(``symgrad.matrix.notation.uses_matrix_notation``: a transpose, ``@``, ``⊙``, ``‖x‖``, det, tr…);
everything else stays on the scalar path, unchanged. To add a command's matrix mode: a function
here that its command calls first (``if wanted(text, shape): return matrix.<command>(…)``).

A check that disagrees is shown in the output (``check: MISMATCH`` with the entry and both
values) and the command exits 1: never a confident wrong answer.
"""

from __future__ import annotations

from typing import Any

import typer

from symgrad.cli.common import Format, emit


def wanted(text: str, shape: str | None) -> bool:
    """Matrix mode: ``--shape`` given, or the text uses vector/matrix notation."""
    if shape is not None and shape.strip():
        return True
    from symgrad.matrix.notation import uses_matrix_notation

    return uses_matrix_notation(text)


def _emit(command: str, result: Any, document: Any, f: Format, steps: bool, standalone: bool = False) -> None:
    if f is Format.json:
        emit(f, data={"command": command, **result.to_json(steps=steps)})
    else:
        emit(f, document=document if steps else _results_only(document), standalone=standalone)
    if result.check == "mismatch":
        raise typer.Exit(1)


def _results_only(document: Any) -> Any:
    """--no-steps: each steps block keeps only its result line (the reading, layout and check stay)."""
    from symgrad.records import replace
    from symgrad.render.document import Document
    from symgrad.render.matrix import MatrixStepsBlock

    blocks = []
    for block in document.blocks:
        if isinstance(block, MatrixStepsBlock):
            kept = tuple(replace(line, number=0, title="", identity="") for line in block.lines if line.final)
            block = replace(block, heading=block.heading.replace("Steps (", "Result (", 1), lines=kept)
        blocks.append(block)
    return Document(tuple(blocks))


def _network(parsed: Any) -> bool:
    """A loss of two or more layers (cross_entropy(softmax(W₂ act(W₁x + b₁) + b₂), y), ‖…‖²):
    grad answers it in backprop form."""
    from symgrad.errors import InputError
    from symgrad.matrix.network import layers

    try:
        return len(layers(parsed.expr).layers) >= 2
    except InputError:
        return False


def diff(text: str, wrt: str | None, order: int, shape: str | None, at: str | None, steps: bool, f: Format,
         standalone: bool = False) -> None:
    """``symgrad diff`` in matrix mode: the derivative of a number by a vector or matrix is its
    gradient (order 2: the Hessian), that of a vector function its Jacobian."""
    import symgrad.matrix as m
    from symgrad.errors import InputError
    from symgrad.matrix import expr as mx
    from symgrad.render.matrix import hessian_document, jacobian_document

    parsed = m.parse(text, shape)
    number = parsed.expr.is_scalar and not mx._chain_piece(parsed.expr)
    if order == 1 and number:
        return grad(text, wrt, shape, at, steps, f, standalone, parsed=parsed, command="diff")
    if order == 2 and number:
        result: Any = m.hessian(parsed, wrt, at=at)
        return _emit("diff", result, hessian_document(result), f, steps, standalone)
    if order == 1:
        result = m.jacobian(parsed, wrt, at=at)
        return _emit("diff", result, jacobian_document(result), f, steps, standalone)
    raise InputError(f"--order {order} of a vector or matrix expression is a tensor of order {order + 1}",
                     suggestion="symgrad gives the gradient, the Jacobian and the Hessian (--order 2 of a number)")


def grad(text: str, wrt: str | None, shape: str | None, at: str | None, steps: bool, f: Format,
         standalone: bool = False, parsed: Any = None, command: str = "grad") -> None:
    """``symgrad grad`` of a number of vectors/matrices: ∇ by each of --wrt (default: all), in the
    variable's shape; a network loss in backprop form."""
    import symgrad.matrix as m
    from symgrad.render.matrix import gradient_document, network_document

    parsed = parsed if parsed is not None else m.parse(text, shape)
    if _network(parsed):
        params = [w.strip() for w in wrt.split(",")] if wrt else None
        net = m.backprop_network(parsed, params=params, at=at)
        _emit(command, net, network_document(net), f, steps, standalone)
        return
    result = m.gradient(parsed, wrt, at=at)
    _emit(command, result, gradient_document(result), f, steps, standalone)


def jacobian(text: str, wrt: str | None, shape: str | None, at: str | None, steps: bool, f: Format) -> None:
    """``symgrad jacobian`` of a vector function by a vector (one row per component of f)."""
    import symgrad.matrix as m
    from symgrad.render.matrix import jacobian_document

    result = m.jacobian(text, wrt, shape, at=at)
    _emit("jacobian", result, jacobian_document(result), f, steps)


def hessian(text: str, wrt: str | None, shape: str | None, at: str | None, steps: bool, f: Format) -> None:
    """``symgrad hessian`` of a number by a vector."""
    import symgrad.matrix as m
    from symgrad.render.matrix import hessian_document

    result = m.hessian(text, wrt, shape, at=at)
    _emit("hessian", result, hessian_document(result), f, steps)


def export(text: str, shape: str | None, backend: str, wrt: str | None, what: str, target: Any, check: bool,
           f: Format, *, what_given: bool) -> None:
    """``symgrad export`` of a matrix expression: ``f`` and ``grad_f`` with array arguments in the
    variables' shapes (NumPy ``@``, JAX, torch); ``--check`` against central finite differences
    of the generated ``f`` at a seeded random point, before anything is written."""
    import sys

    import symgrad.matrix as m
    from symgrad.errors import ComputeError, InputError
    from symgrad.files import write_text
    from symgrad.matrix.numeric import check_module, load

    kinds = [w.strip() for w in what.split(",") if w.strip()]
    notes: list[str] = []
    if "hessian" in kinds:
        if what_given:
            raise InputError("the export of a vector or matrix expression has f and grad_f, no hessian_f",
                             suggestion="use --what value,grad (symgrad hessian gives the Hessian's matrix form)")
        kinds.remove("hessian")
        notes.append("hessian_f is not exported for vectors and matrices (symgrad hessian gives its matrix form)")
    if backend == "math":
        raise InputError("the math backend works on plain floats; vectors and matrices need arrays",
                         suggestion="choose --backend numpy, jax or torch")
    parsed = m.parse(text, shape)
    names = m.wrt_names(parsed, wrt)
    source = m.export_source(parsed, names, backend=backend)
    report = None
    if check:
        compiled = m.compile_matrix(parsed, names, backend=backend)
        report = check_module(load(compiled.source), parsed, names)
        if not report.ok:  # nothing is written when the check fails
            raise ComputeError("the exported module does not match finite differences of its f "
                               f"(largest relative error {report.worst:.1e})")
    if target is not None:
        write_text(target, source)  # atomic: a failed write keeps the old file
    summary = (f"grad_f matches central differences of f at a random point (largest relative error "
               f"{report.worst:.1e})") if report is not None else None
    if f is Format.json:
        data: dict[str, Any] = {"command": "export", "input": text, "expression": str(parsed.expr),
                                "backend": backend, "shapes": m.shapes_json(parsed), "variables": names,
                                "functions": ["f", "grad_f"], "source": source, "notes": [*parsed.notes, *notes]}
        if target is not None:
            data["output"] = str(target)
        if report is not None:
            data["check"] = {"ok": report.ok, "points": 1, "grad_error": report.worst}
        emit(f, data=data)
        return
    if target is None:
        sys.stdout.write(source)
    else:
        sys.stdout.write(f"wrote {target} ({backend}: {', '.join(names)})\n")
    if summary is not None:
        (sys.stdout if target is not None else sys.stderr).write(summary + "\n")

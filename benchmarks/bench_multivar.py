"""Benchmark: symgrad's sparse Hessian against sympy.hessian, and the softmax cross-entropy gradient
against naive sympy.diff of the exponential form, side by side in one run.

Stage: measurement (not part of the package). ``run(smoke)`` returns rows for ``benchmarks/run.py``:
each with ``section``, ``case``, ``symgrad_s``, ``reference``, ``reference_s`` (None when skipped
in smoke mode because the reference alone takes minutes) and ``note``. SymPy's cache is cleared
before every timed call, so neither side profits from work done by the other or by a repeat.

Reference times on the development machine: sympy.hessian at n = 200 about two minutes (it grows
like n³), naive sympy.diff of the 100-class cross-entropy about 40 s.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import sympy as sp

Row = dict[str, Any]


def rosenbrock_text(n: int) -> str:
    """The n-variable Rosenbrock function as a person would type it."""
    return " + ".join(f"100(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(1, n))


def _median(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        sp.core.cache.clear_cache()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _hessian_rows(smoke: bool) -> list[Row]:
    from symgrad.multivar.hessian import hessian
    from symgrad.parsing import parse

    rows = []
    for n in (10, 50, 100, 200):
        expr = parse(rosenbrock_text(n))
        variables = sorted(expr.free_symbols, key=lambda s: int(s.name[1:]))
        ours = _median(lambda: hessian(expr, variables), 3 if smoke else 5)
        run_reference = n <= (50 if smoke else 200)
        ref = _median(lambda: sp.hessian(expr, variables), 1 if smoke or n >= 100 else 3) if run_reference else None
        check = ""
        if run_reference and n <= 50:
            same = hessian(expr, variables).to_matrix() == sp.hessian(expr, variables)
            check = "; same matrix" if same else "; MATRICES DIFFER"
        rows.append({
            "section": "Hessian",
            "case": f"Rosenbrock, n = {n}",
            "symgrad_s": ours,
            "reference": "sympy.hessian",
            "reference_s": ref,
            "note": ("sparse: each gradient entry differentiated only by its own variables, j ≥ i" + check)
            if ref is not None or not smoke else "reference skipped in smoke mode (minutes)",
        })
    return rows


def _softmax_rows(smoke: bool) -> list[Row]:
    from symgrad import calculus
    from symgrad.parsing import parse

    rows = []
    for n in (10, 100):
        logits = [sp.Symbol(f"a{k}", real=True) for k in range(1, n + 1)]
        labels = [sp.Symbol(f"y{k}", real=True) for k in range(1, n + 1)]
        text = "cross_entropy(softmax({}), ({}))".format(", ".join(map(str, logits)), ", ".join(map(str, labels)))

        def ours() -> object:
            e = parse(text)
            return calculus.gradient(e, logits)

        total = sp.Add(*[sp.exp(a) for a in logits])
        naive = -sp.Add(*[y * sp.log(sp.exp(a) / total) for a, y in zip(logits, labels)])

        def reference() -> object:
            return [sp.diff(naive, a) for a in logits]

        run_reference = n <= 10 or not smoke
        rows.append({
            "section": "softmax cross-entropy",
            "case": f"gradient, {n} classes, symbolic soft labels",
            "symgrad_s": _median(ours, 3 if smoke else 5),
            "reference": "sympy.diff of −Σ yᵢ ln(e^aᵢ/Σ e^aₖ)",
            "reference_s": _median(reference, 1) if run_reference else None,
            "note": "symgrad parses the text and returns p − y per logit"
            if run_reference else "reference skipped in smoke mode (about 40 s)",
        })
    return rows


def run(smoke: bool) -> list[Row]:
    """All rows of this benchmark; ``smoke`` skips the references that take minutes."""
    return _hessian_rows(smoke) + _softmax_rows(smoke)


if __name__ == "__main__":
    import sys

    for row in run("--smoke" in sys.argv):
        print(row)

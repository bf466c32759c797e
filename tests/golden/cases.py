"""The command lines whose JSON output is held fixed (``tests/test_golden.py``).

One case per behaviour the JSON contract (README "JSON output") documents, for every command. The
recorded outputs live beside this file as ``<id>.json``; ``python -m tests.golden.record`` writes
them again after an intended change of the contract (review the diff before committing it).
"""

from __future__ import annotations

CASES: dict[str, list[str]] = {
    # diff
    "diff-product-chain": ["diff", "x cos(πx)"],
    "diff-partial": ["diff", "x^3 y", "--wrt", "y"],
    "diff-order-at": ["diff", "sin x", "--order", "3", "--at", "x=0"],
    "diff-sigmoid-at": ["diff", "sigmoid(x)", "--at", "x=0"],
    "diff-no-steps": ["diff", "x^x", "--no-steps"],
    "diff-quotient": ["diff", "(x^2 + 1)/(x - 1)"],
    "diff-abs-domain": ["diff", "ln|x|", "--at", "x=-2"],
    "diff-mixed": ["diff", "x^2 y^3", "--wrt", "x,y"],
    "diff-softmax-ce": ["diff", "cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))", "--wrt", "a1"],
    "diff-sum-data": ["diff", "sum((y_i - (w x_i + b))^2, i, 1, n)", "--wrt", "w"],
    "diff-deep-chain": ["diff", "sin(" * 70 + "x" + ")" * 70, "--no-steps"],
    "diff-undefined-at": ["diff", "ln x", "--at", "x=-1"],
    "diff-parse-error": ["diff", "x + )"],
    "diff-unknown-function": ["diff", "sinus(x)"],
    "diff-other-tool-function": ["diff", "leaky_relu(x)"],
    "diff-transpose": ["diff", "x^T A x"],
    "diff-absent-variable": ["diff", "x^2", "--wrt", "X"],
    "diff-abstract": ["diff", "f(x^2) g(x)"],
    "diff-definition": ["diff", "f(t) = a t^2 + sin(t)"],
    "diff-floor-at-jump": ["diff", "x floor(x)", "--at", "x=2"],
    "diff-not-real": ["diff", "(-1)^x"],
    "diff-tiny-value": ["diff", "sigmoid(x)", "--at", "x=400"],
    "diff-usage-error": ["diff", "x^2", "--order", "0"],
    # grad
    "grad-main": ["grad", "y**2 - x**2"],
    "grad-at": ["grad", "y**2 - x**2", "--at", "x=1,y=2"],
    "grad-greek": ["grad", "θ₁^2 + theta2^2", "--wrt", "theta_1,θ2", "--no-steps"],
    "grad-mse": ["grad", "1/n sum((y_i - (w x_i + b))^2, i, 1, n)", "--no-steps"],
    "grad-softmax-ce": ["grad", "cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))", "--wrt", "a1,a2,a3", "--no-steps"],
    # check
    "check-wrong": ["check", "x cos(πx)", "--answer", "-x*sin(pi*x) + cos(pi*x)"],
    "check-right": ["check", "sin(x)^2", "--answer", "2 sin(x) cos(x)"],
    "check-sec": ["check", "tan x", "--answer", "sec(x)^2"],
    "check-kink": ["check", "|x - 5|", "--answer", "-1"],
    "check-softmax-p": ["check", "cross_entropy(softmax(a1, a2, a3), (y1, y2, y3))", "--wrt", "a1", "--answer",
                        "p1 - y1"],
    # table
    "table": ["table"],
    # hessian
    "hessian-rosenbrock-at": ["hessian", "100(y - x^2)^2 + (1 - x)^2", "--at", "x=1,y=1", "--no-steps"],
    "hessian-steps": ["hessian", "x^2 y + sin(x y)"],
    "hessian-exact-indefinite": ["hessian", "x^2 - 1e-50 y^2", "--at", "x=1,y=1", "--no-steps"],
    "hessian-abs": ["hessian", "|x| y^2", "--at", "x=1,y=1", "--no-steps"],
    # jacobian
    "jacobian": ["jacobian", "x^2 y, y + sin(x)", "--at", "x=1,y=2"],
    "jacobian-softmax": ["jacobian", "softmax(a1, a2, a3)"],
    # softmax
    "softmax-3": ["softmax", "3"],
    # critical
    "critical-saddle-min": ["critical", "x^3 - 3x + y^2"],
    "critical-family": ["critical", "x^2 y^2"],
    # descend
    "descend-gd": ["descend", "x*cos(pi*x)", "--start", "x=0.5", "--lr", "0.1", "--steps", "20"],
    "descend-adam-2d": ["descend", "(1-x)^2 + 100(y-x^2)^2", "--start", "x=-1,y=1", "--optimizer", "adam",
                        "--lr", "0.05", "--steps", "30"],
    "descend-diverges": ["descend", "x*cos(pi*x)", "--start", "x=-1", "--lr", "1.0055", "--steps", "2000"],
    "descend-bad-option": ["descend", "x^2", "--optimizer", "adam", "--momentum", "0.9"],
    # export
    "export-math": ["export", "x cos(πx) + y^2", "--backend", "math"],
    "export-numpy-check": ["export", "sigmoid(x y)", "--backend", "numpy", "--check"],
}
"""Case id -> the arguments after ``symgrad`` (``--format json`` is added)."""

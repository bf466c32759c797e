"""THE TEST CORPUS: expressions in the notations of the grammar, one per entry, all parseable.

Shared by the step-engine tests (every worked derivative must agree with ``sympy.diff``), the
property tests, the benchmarks and the CLI no-traceback test. Keep ``CORPUS`` a plain list of
strings; ``CORPUS_WRT`` adds (expression, variable) pairs for partial derivatives.
"""

from __future__ import annotations

CORPUS: list[str] = [
    # constants, the variable, constant multiples, sums and differences
    "7", "pi", "e", "x", "3x", "-x", "x + 1", "5 - x", "2x^2 - 3x + 1", "x^2 + y^2", "a x^2 + b x + c",
    "0.5x^2", "1/2x", "-x^2", "(2/3) x^3 - x/4",
    # power rule: whole, negative, fractional exponents, roots
    "x^2", "x**3", "x²", "x^10", "1/x", "1/x^2", "x⁻¹", "x^(-2/3)", "sqrt x", "√(x)", "cbrt x", "x^(3/2)",
    "1/sqrt(x)", "x^n", "x^pi",
    # products (two, three, more factors) and quotients
    "x sin x", "x^2 e^x", "x ln x", "x cos(πx)", "x*cos(pi*x)", "x^2 sin x cos x", "x e^x sin x",
    "(x+1)(x-1)", "(x^2+1) sin(x^2+1)", "sin(x)/x", "x/(x+1)", "(x^2 - 1)/(x^2 + 1)", "e^x/x^2",
    "sin x / cos x", "ln(x)/x", "1/(x (x+1))", "(x+1)/sqrt(x)", "3x/(2 - x)",
    # chain rule, nested
    "sin(2x)", "cos(x^2)", "(x^2 + 1)^3", "(3x - 1)^-2", "sqrt(x^2 + 1)", "sin^2 x", "sin²x", "cos^3(x)",
    "sin(cos(tan x))", "e^(sin x)", "ln(ln x)", "sin(sin(sin(x)))", "e^(-x^2)", "exp(-x^2/2)",
    "(1 + x^2)^(1/3)", "tan(x^2 + 1)", "ln(1 + e^x)",
    # exponentials and logarithms
    "e^x", "exp(x)", "e^-x", "2^x", "10^x", "2^(x^2)", "a^x", "ln x", "log x", "ln|x|", "log10 x",
    "log2 x", "log_2 x", "log(x, 3)", "log_b(x)", "3 log10(x^2)", "ln(x^2 + 1)",
    # trigonometric and inverse trigonometric
    "sin x", "cos x", "tan x", "sec x", "csc x", "cot x", "asin x", "acos x", "atan x", "acot x",
    "asec x", "acsc x", "arcsin(2x)", "sin^-1 x", "atan(1/x)", "sec(x) tan(x)",
    # hyperbolic and inverses
    "sinh x", "cosh x", "tanh x", "sech x", "csch x", "coth x", "asinh x", "acosh x", "atanh x",
    "acoth x", "asech x", "acsch x", "tanh(2x + 1)",
    # absolute value, steps, max/min, erf
    "|x|", "abs(x)", "|x^2 - 1|", "x|x|", "max(x, 0)", "max(x, x^2)", "min(x, 1 - x)", "max(x, y, 2)",
    "sign(x)", "Heaviside(x)", "erf(x)",
    # ML functions and losses
    "sigmoid(x)", "σ(x)", "sigmoid(2x + 1)", "relu x", "relu(3x - 1)", "softplus x", "softplus(-x)",
    "tanh(w x + b)", "sigmoid(w x + b)", "-log(sigmoid(x))", "-(y ln(p) + (1 - y) ln(1 - p))",
    "(y - (w x + b))^2", "(sigmoid(w x + b) - y)^2", "log(1 + exp(-y w x))", "relu(w x + b)^2",
    "1/2 (x - 3)^2", "max(0, 1 - y w x)",
    # f(x)^g(x): logarithmic differentiation
    "x^x", "x^(sin x)", "(1 + 1/x)^x", "(sin x)^x", "x^(1/x)",
    # abstract functions
    "f(x)", "f(g(x))", "f(x)^2", "x f(x)", "f(x) g(x)", "g(h(x))", "f(x)/g(x)",
    # several variables (differentiated by x unless CORPUS_WRT says otherwise)
    "x^2 y + y^3", "x y", "sin(x y)", "e^(x y)", "theta1^2 + theta2^2", "θ^2", "y**2 - x**2",
    "x^3 - 3x + y^2", "(1 - x)^2 + 100 (y - x^2)^2",
    # seeds' examples
    "x·cos(π·x)", "y^2 - x^2", "theta_1^2 + theta_2^2",
]

CORPUS_WRT: list[tuple[str, str]] = [
    ("x^2 y + y^3", "y"), ("sin(x y)", "y"), ("e^(x y)", "y"), ("theta1^2 + theta2^2", "theta2"),
    ("(y - (w x + b))^2", "w"), ("(y - (w x + b))^2", "b"), ("sigmoid(w x + b)", "w"),
    ("tanh(w x + b)", "b"), ("log(1 + exp(-y w x))", "w"), ("x^y", "y"), ("x^y", "x"), ("y^x", "x"),
    ("log(x, y)", "y"), ("max(x, y)", "y"), ("-(y ln(p) + (1 - y) ln(1 - p))", "p"),
    ("(1 - x)^2 + 100 (y - x^2)^2", "y"), ("a x^2 + b x + c", "a"),
]

HIDDEN_GIANTS: list[tuple[str, ...]] = [
    # Command lines whose input folds into an exact number too large to compute (issue #13): SymPy
    # rewrites exp(c·ln b) as b^c, splits exp(x + c) into exp(x)·exp(c), combines exp(u)·exp(v) and
    # distributes powers over products, while it builds or substitutes. Each must end at once with a
    # message (exit 1), or with a value-less note at a point (exit 0), never run to the budget.
    ("diff", "exp(10^8 ln 3)", "--no-steps"),
    ("diff", "x + e^(10^8 ln(3))", "--timeout", "2"),
    ("diff", "exp(10^10 ln 2)", "--timeout", "1"),
    ("diff", "exp(x + 10^8 ln 3)"),
    ("diff", "exp(x + 10^999 ln 3)"),
    ("diff", "e^x e^(10^8 ln 3 - x)"),
    ("diff", "(3 e^x)^(10^8)"),
    ("diff", "exp(10^8 ln(3/2)) x"),
    ("diff", "exp(10^8 ln 3 + 10^8 ln 2) + x"),
    ("diff", "exp(10^8 log_2(3) ln 2) x"),
    ("grad", "exp(x + y + 10^8 ln 3)"),
    ("hessian", "exp(10^8 ln 3) x^2"),
    ("jacobian", "exp(10^8 ln 3) x, y"),
    ("diff", "x^2", "--at", "x=exp(10^8 ln 3)"),
    ("check", "x^2", "--answer", "2x + exp(10^8 ln 3) - exp(10^8 ln 3)"),
    ("check", "exp(x + 10^8 ln 3)", "--answer", "exp(x)"),
]

HIDDEN_GIANTS_AT_A_POINT: list[tuple[str, ...]] = [
    # the same, made by substituting the point: the derivative is fine, its value is not computable
    ("diff", "exp(x y)", "--at", "x=10^8,y=ln(3)"),
    ("diff", "exp(x ln(y))", "--at", "x=10^8,y=3"),
    ("diff", "3^(x + 10^8)", "--at", "x=0"),
    ("diff", "2^x", "--at", "x=10^8"),
    ("diff", "e^(x) e^(y)", "--at", "x=10^8 ln 3,y=1"),
]

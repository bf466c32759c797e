"""The rules of a worked derivation: one frozen record (``symgrad.records``) per rule, each knowing how to combine.

Stage: step engine (expression -> step tree), the data half. A ``Step`` says "d/dx expr = result";
its class is the rule that justifies it and its ``substeps`` are the derivatives the rule needs.
Each class's one-line docstring *is* the math, and ``combine`` computes the result from the
substeps' results, so the tree is the single source of truth: ``symgrad.steps.strategies`` builds
steps with ``combine`` and ``symgrad.steps.homework`` re-assembles a tree in which one step was
replaced by a typical mistake.

To add a rule: subclass ``Step`` here with ``RULE`` (a stable id: it is part of the JSON output),
``TITLE``, the rule's data as fields, ``combine`` and ``data``; write its strategy in
``strategies.py``; say it in ``symgrad/render/narrate/steps.py`` (one ``narrate_<rule>`` function). Steps
never print and never import Rich.

>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> s = PowerStep(expr=x**3, wrt=x, result=3*x**2, exponent=sp.Integer(3))
>>> s.rule, s.title, s.to_json()["result"]
('power', 'Power rule', '3*x**2')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import sympy as sp

from symgrad.records import record


@record(kw_only=True)
class Step:
    """d/dx expr = result, by the rule named in ``rule``."""

    RULE: ClassVar[str] = "step"
    TITLE: ClassVar[str] = "Step"

    expr: sp.Expr
    wrt: sp.Symbol
    result: sp.Expr
    substeps: tuple[Step, ...] = ()
    id: int = 0
    """Unique within a derivation, in the order the steps were begun (parents before children)."""

    @property
    def rule(self) -> str:
        """The stable rule id used in JSON and by the narrator."""
        return self.RULE

    @property
    def title(self) -> str:
        """The rule's human name."""
        return self.TITLE

    def combine(self, results: Sequence[sp.Expr]) -> sp.Expr:
        """The result from the substeps' results; a leaf's result is its own."""
        return self.result

    def data(self) -> dict[str, sp.Basic | str | int]:
        """The rule-specific fields (the chain rule's ``u``, …), for JSON and the narrator."""
        return {}

    def expression_text(self) -> str:
        """``expr`` as JSON gives it."""
        return str(self.expr)

    def walk(self) -> list[Step]:
        """This step and all below it, parents first (iterative: trees may be hundreds deep)."""
        out: list[Step] = []
        stack: list[Step] = [self]
        while stack:
            step = stack.pop()
            out.append(step)
            stack.extend(reversed(step.substeps))
        return out

    def to_json(self) -> dict[str, Any]:
        """``{"id", "rule", "title", "expression", "wrt", "result", <rule data>, "substeps"}``."""
        out: dict[str, Any] = {
            "id": self.id,
            "rule": self.rule,
            "title": self.title,
            "expression": self.expression_text(),
            "wrt": self.wrt.name,
            "result": str(self.result),
        }
        for key, value in self.data().items():
            out[key] = value if isinstance(value, (str, int)) else str(value)
        out["substeps"] = [s.to_json() for s in self.json_substeps()]
        return out

    def json_substeps(self) -> Sequence[Step]:
        """The substeps JSON nests under this step."""
        return self.substeps


# leaves ---------------------------------------------------------------------------------------
@record(kw_only=True)
class ConstantStep(Step):
    """d/dx c = 0 (c does not depend on x; other variables are held constant)."""

    RULE = "constant"
    TITLE = "Constant"

    def data(self) -> dict[str, sp.Basic | str | int]:
        held = sorted(s.name for s in self.expr.free_symbols if isinstance(s, sp.Symbol) and s != self.wrt)
        return {"held": ", ".join(held)} if held else {}


@record(kw_only=True)
class VariableStep(Step):
    """d/dx x = 1."""

    RULE = "variable"
    TITLE = "Variable"


@record(kw_only=True)
class PowerStep(Step):
    """d/dx xⁿ = n·xⁿ⁻¹ (n does not depend on x: whole, negative or fractional)."""

    RULE = "power"
    TITLE = "Power rule"
    exponent: sp.Expr

    def data(self) -> dict[str, sp.Basic | str | int]:
        return {"exponent": self.exponent}


@record(kw_only=True)
class ExpStep(Step):
    """d/dx eˣ = eˣ."""

    RULE = "exp"
    TITLE = "Exponential eˣ"


@record(kw_only=True)
class ExponentialStep(Step):
    """d/dx aˣ = aˣ·ln a (a does not depend on x)."""

    RULE = "exponential"
    TITLE = "Exponential aˣ"
    base: sp.Expr

    def data(self) -> dict[str, sp.Basic | str | int]:
        return {"base": self.base}


@record(kw_only=True)
class LogStep(Step):
    """d/dx ln x = 1/x."""

    RULE = "log"
    TITLE = "Natural logarithm"


@record(kw_only=True)
class LogBaseStep(Step):
    """d/dx log_b x = 1/(x·ln b) (b does not depend on x)."""

    RULE = "log_base"
    TITLE = "Logarithm to a base"
    base: sp.Expr

    def data(self) -> dict[str, sp.Basic | str | int]:
        return {"base": self.base}


@record(kw_only=True)
class FunctionStep(Step):
    """d/dx F(x) = F′(x) for a function of the table (sin, atanh, σ, relu, |x|, …)."""

    RULE = "function"
    name: str

    @property
    def rule(self) -> str:
        return self.name

    @property
    def title(self) -> str:
        return FUNCTION_TITLES.get(self.name, f"Derivative of {self.name}")


FUNCTION_TITLES = {
    "abs": "Absolute value", "sigmoid": "Sigmoid", "relu": "ReLU", "softplus": "Softplus",
    "heaviside": "Step function", "sign": "Sign function", "erf": "Error function",
    "sinc": "Derivative of sinc", "floor": "Floor (a step function)", "ceiling": "Ceiling (a step function)",
    "round": "Rounding (a step function)",
}


@record(kw_only=True)
class AbstractFunctionStep(Step):
    """d/dx f(x) = f′(x) for a function f known only by name (and d/dx f⁽ⁿ⁾(x) = f⁽ⁿ⁺¹⁾(x))."""

    RULE = "abstract_function"
    TITLE = "Unknown function"


@record(kw_only=True)
class TableStep(Step):
    """d/dx F(x) from the derivative table (SymPy), for a function with no worked rule."""

    RULE = "table"
    TITLE = "From the derivative table"


@record(kw_only=True)
class RepeatStep(Step):
    """d/dx E was worked out in step ``ref``; the result is repeated, not re-derived."""

    RULE = "repeat"
    TITLE = "Seen before"
    ref: int

    def data(self) -> dict[str, sp.Basic | str | int]:
        return {"ref": self.ref}


# compound rules -------------------------------------------------------------------------------
@record(kw_only=True)
class ConstantMultipleStep(Step):
    """d/dx c·f = c·f′."""

    RULE = "constant_multiple"
    TITLE = "Constant multiple"
    constant: sp.Expr

    def combine(self, results: Sequence[sp.Expr]) -> sp.Expr:
        return self.constant * results[0]

    def data(self) -> dict[str, sp.Basic | str | int]:
        return {"constant": self.constant}


@record(kw_only=True)
class SumStep(Step):
    """d/dx (f + g − h) = f′ + g′ − h′."""

    RULE = "sum"
    TITLE = "Sum rule"

    def combine(self, results: Sequence[sp.Expr]) -> sp.Expr:
        return sp.Add(*results)


@record(kw_only=True)
class ProductStep(Step):
    """d/dx (f·g·h) = f′·g·h + f·g′·h + f·g·h′."""

    RULE = "product"
    TITLE = "Product rule"
    factors: tuple[sp.Expr, ...]

    def combine(self, results: Sequence[sp.Expr]) -> sp.Expr:
        terms = []
        for i, r in enumerate(results):
            others = self.factors[:i] + self.factors[i + 1:]
            terms.append(sp.Mul(r, *others))
        return sp.Add(*terms)


@record(kw_only=True)
class QuotientStep(Step):
    """d/dx f/g = (f′·g − f·g′)/g²."""

    RULE = "quotient"
    TITLE = "Quotient rule"
    numerator: sp.Expr
    denominator: sp.Expr

    def combine(self, results: Sequence[sp.Expr]) -> sp.Expr:
        f, g = self.numerator, self.denominator
        return (results[0] * g - f * results[1]) / g**2

    def data(self) -> dict[str, sp.Basic | str | int]:
        return {"numerator": self.numerator, "denominator": self.denominator}


@record(kw_only=True)
class ChainStep(Step):
    """d/dx F(u(x)) = F′(u)·u′, with F′(u) taken at u = u(x)."""

    RULE = "chain"
    TITLE = "Chain rule"
    u: sp.Symbol
    inner: sp.Expr
    outer: sp.Expr
    """F(u), the expression with the inner function replaced by the symbol ``u``."""
    link: bool = False
    """A link inside a long chain (its parent is a chain too): the product F′(u)·u′ is left
    unmultiplied, and the outermost chain multiplies all the factors at once. SymPy sorts a product
    each time one is built; doing it at every link of a chain n deep costs n³ comparisons."""

    named: bool = False
    """A step of a chain so long that its answer is written in the names of its links (see
    ``strategies.NAMED_CHAIN``): written out, the answer of a chain n deep has n²/2 nested
    functions. A named link's result is F′(u)·du/dx, with du/dx left as ``Derivative(u, x)``;
    the top of the chain multiplies the links' F′(u) once. ``definition`` says what u stands for."""

    def combine(self, results: Sequence[sp.Expr]) -> sp.Expr:
        if self.named:
            if self.link:
                return results[0] * sp.Derivative(self.u, self.wrt)
            factors = [results[0]]
            step: Step = self.substeps[1]
            while isinstance(step, ChainStep) and step.named:
                factors.append(step.substeps[0].result)
                step = step.substeps[1]
            return sp.Mul(*factors, step.result)
        outer = self.at_inner(results[0])
        if self.link:
            return sp.Mul(outer, results[1], evaluate=False)
        return outer * results[1]

    def at_inner(self, expr: sp.Expr) -> sp.Expr:
        """``expr``, written in ``u``, at u = the inner function: F′(u) -> F′(u(x)); an unknown
        function's f′(u) becomes f′ at the inner function (``symgrad.vocabulary.abstract.at``)."""
        from symgrad.vocabulary.abstract import at

        return at(expr, self.u, self.inner)

    @property
    def definition(self) -> sp.Expr:
        """What ``u`` stands for: the inner function, in the next link's name if it has one."""
        inner_step = self.substeps[1] if len(self.substeps) > 1 else None
        if self.named and isinstance(inner_step, ChainStep) and inner_step.named:
            return inner_step.outer
        return self.inner

    def data(self) -> dict[str, sp.Basic | str | int]:
        if self.named:
            return {"u": self.u, "inner": self.definition, "outer": self.outer}
        return {"u": self.u, "inner": self.inner, "outer": self.outer}

    def expression_text(self) -> str:
        # a named link is given in the links' names: written out, the links of a chain n deep
        # would repeat n²/2 nested functions
        return str(self.outer) if self.named and self.link else str(self.expr)

    def json_substeps(self) -> Sequence[Step]:
        # a named chain is flat in JSON, as in the narration: nested n deep, it would be more than
        # JSON readers accept (Python's json stops at about 1 000 levels)
        if self.named and isinstance(self.substeps[1], ChainStep) and self.substeps[1].named:
            return self.substeps[:1]
        return self.substeps

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        if self.named:
            out["named"] = True
            if not self.link:
                chain = []
                step = self.substeps[1]
                while isinstance(step, ChainStep) and step.named:
                    chain.append(step.to_json())
                    step = step.substeps[1]
                out["chain"] = chain
        return out


@record(kw_only=True)
class MaxMinStep(Step):
    """d/dx max(a, b) = a′ where a > b and b′ where b > a (undefined where a = b); min alike."""

    RULE = "max"
    kind: str = "max"

    @property
    def rule(self) -> str:
        return self.kind

    @property
    def title(self) -> str:
        return "Maximum" if self.kind == "max" else "Minimum"

    def combine(self, results: Sequence[sp.Expr]) -> sp.Expr:
        args = self.expr.args
        terms = []
        for i, r in enumerate(results):
            others = args[:i] + args[i + 1:]
            if self.kind == "max":
                chosen = sp.Heaviside(args[i] - sp.Max(*others))
            else:
                chosen = sp.Heaviside(sp.Min(*others) - args[i])
            terms.append(chosen * r)
        return sp.Add(*terms)


@record(kw_only=True)
class MultiChainStep(Step):
    """d/dx F(a₁(x), …, aₙ(x)) = Σ ∂F/∂aᵢ · aᵢ′ (a function of several arguments: softmax, …)."""

    RULE = "multivariable_chain"
    TITLE = "Chain rule, several arguments"
    partials: tuple[sp.Expr, ...]
    """∂F/∂aᵢ for each argument that depends on x, in the order of the substeps."""
    arguments: tuple[sp.Expr, ...]

    def combine(self, results: Sequence[sp.Expr]) -> sp.Expr:
        return sp.Add(*(p * r for p, r in zip(self.partials, results)))


@record(kw_only=True)
class SumOverStep(Step):
    """d/dx Σᵢ fᵢ = Σᵢ dfᵢ/dx: the derivative passes into a sum over data."""

    RULE = "sum_over"
    TITLE = "Derivative of a sum over data"

    def combine(self, results: Sequence[sp.Expr]) -> sp.Expr:
        return sp.Sum(results[0], *self.expr.limits)


@record(kw_only=True)
class LogDiffStep(Step):
    """y = f^g: ln y = g·ln f, so y′ = f^g·(g·ln f)′ (logarithmic differentiation)."""

    RULE = "log_differentiation"
    TITLE = "Logarithmic differentiation"
    base: sp.Expr
    exponent: sp.Expr

    def combine(self, results: Sequence[sp.Expr]) -> sp.Expr:
        return self.expr * results[0]

    def data(self) -> dict[str, sp.Basic | str | int]:
        return {"base": self.base, "exponent": self.exponent}


@record(kw_only=True)
class SimplifyStep(Step):
    """d/dx E = before = after: the rules' result written more simply (σ and tanh forms kept)."""

    RULE = "simplify"
    TITLE = "Simplify"
    before: sp.Expr

    def combine(self, results: Sequence[sp.Expr]) -> sp.Expr:
        # the value, not the form: a re-assembled tree is compared by value
        return results[0]

    def data(self) -> dict[str, sp.Basic | str | int]:
        return {"before": self.before}


def reassemble(step: Step, replace: dict[int, sp.Expr] | None = None) -> sp.Expr:
    """The tree's result recomputed from its leaves, with the results of steps in ``replace`` swapped.

    The engine's results come from ``combine``, so on an untouched tree this gives ``step.result``
    back; ``symgrad.steps.homework`` uses it to ask "what if this one step were wrong?".

    >>> x = sp.Symbol("x")
    >>> tree = SumStep(expr=x**2 + x, wrt=x, result=2*x + 1, substeps=(
    ...     PowerStep(expr=x**2, wrt=x, result=2*x, exponent=sp.Integer(2), id=2),
    ...     VariableStep(expr=x, wrt=x, result=sp.Integer(1), id=3)), id=1)
    >>> reassemble(tree), reassemble(tree, {2: x**2})
    (2*x + 1, x**2 + 1)
    """
    replace = replace or {}
    # post-order without recursion: trees can be as deep as the expression
    results: dict[int, sp.Expr] = {}
    stack: list[tuple[Step, bool]] = [(step, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if node.id in replace:
            results[key] = replace[node.id]
            continue
        if not node.substeps:
            results[key] = node.result
            continue
        if not done:
            stack.append((node, True))
            stack.extend((s, False) for s in node.substeps)
            continue
        results[key] = node.combine([results[id(s)] for s in node.substeps])
    return results[id(step)]


__all__ = [
    "Step", "ConstantStep", "VariableStep", "PowerStep", "ExpStep", "ExponentialStep", "LogStep",
    "LogBaseStep", "FunctionStep", "AbstractFunctionStep", "TableStep", "RepeatStep",
    "ConstantMultipleStep", "SumStep", "ProductStep", "QuotientStep", "ChainStep", "MaxMinStep",
    "LogDiffStep", "MultiChainStep", "SumOverStep", "SimplifyStep", "reassemble",
]

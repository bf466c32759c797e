"""Softmax and cross-entropy: named vector functions whose derivatives stay in p − y form.

Stage: vocabulary (the parser builds these; ``symgrad.multivar.softmax`` derives the Jacobian).

- ``softmax(a1, …, aN)`` is a ``Tuple`` of ``softmax_component(k, a1, …, aN)`` = pₖ = e^{aₖ}/Σ e^{aⱼ}.
  Each component knows its derivative, ∂pₖ/∂aⱼ = pₖ(δₖⱼ − pⱼ), so results read p₁(1 − p₁) and −p₁p₂
  instead of quotients of exponential sums. ``str()`` writes ``softmax_1(a1, a2, a3)``, which the
  grammar reads back; the one-line, LaTeX and pretty forms write p₁.
- ``cross_entropy(softmax(a), y)`` with label distribution y (Σ yᵢ = 1) is the function
  ``cross_entropy(a1, …, aN, y1, …, yN)`` = ln Σ e^{aₖ} − Σ yᵢ aᵢ, which equals −Σ yᵢ ln pᵢ whenever
  the labels sum to 1; its gradient in the logits is exactly p − y. Differentiating it costs one
  small expression per variable however many classes (naive ``sympy.diff`` of the exponential form
  builds millions of operations at 100 classes).

To add a function of a probability vector (a log-softmax, say): a ``Function`` subclass with
``fdiff`` written in terms of ``softmax_component``, printers, a builder here and its entry in
``symgrad.registry``.

>>> a1, a2, a3 = sp.symbols("a1 a2 a3", real=True)
>>> p = build_softmax(a1, a2, a3)
>>> sp.diff(p[0], a1), sp.diff(p[0], a2)
((1 - softmax_1(a1, a2, a3))*softmax_1(a1, a2, a3), -softmax_1(a1, a2, a3)*softmax_2(a1, a2, a3))
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import ArgumentIndexError

from symgrad.errors import InputError

MAX_CLASSES = 1000
"""Classes in one softmax: a 1000×1000 Jacobian is already a million entries."""

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


class softmax_component(sp.Function):
    """pₖ = e^{aₖ} / Σⱼ e^{aⱼ}, component k (counted from 1) of softmax(a₁, …, a_N); args (k, a₁, …, a_N).

    >>> a, b = sp.symbols("a b", real=True)
    >>> softmax_component(1, a, b).rewrite(sp.exp)
    exp(a)/(exp(a) + exp(b))
    >>> softmax_component(1, sp.Integer(0), sp.log(3)).evalf(5)
    0.25000
    """

    @classmethod
    def eval(cls, k: sp.Expr, *logits: sp.Expr) -> sp.Expr | None:
        if not (k.is_Integer and 1 <= int(k) <= len(logits)):
            raise ValueError(f"softmax component {k} of {len(logits)} classes does not exist")
        if len(logits) == 1:
            return sp.S.One
        return None

    @property
    def index(self) -> int:
        return int(self.args[0])

    @property
    def logits(self) -> tuple[sp.Expr, ...]:
        return self.args[1:]

    def fdiff(self, argindex: int = 2) -> sp.Expr:
        if argindex == 1:
            raise ArgumentIndexError(self, argindex)
        j = argindex - 1
        if j == self.index:
            return self * (1 - self)
        return -self * softmax_component(j, *self.logits)

    def _eval_derivative(self, s: sp.Basic) -> sp.Expr:
        # only the logits that contain s: SymPy's default differentiates all N arguments
        return _chain(self, s, start=2)

    def _eval_rewrite_as_exp(self, k: sp.Expr, *logits: sp.Expr, **kwargs: object) -> sp.Expr:
        return sp.exp(logits[int(k) - 1]) / sp.Add(*[sp.exp(a) for a in logits])

    def _eval_evalf(self, prec: int) -> sp.Expr | None:
        values = _numbers(self.logits, prec)
        if values is None:
            return None
        top = max(values)  # shift by the largest logit: the same value, and no overflow
        shifted = [sp.exp(v - top) for v in values]
        return (shifted[self.index - 1] / sp.Add(*shifted)).evalf(sp.core.evalf.prec_to_dps(prec))

    def _eval_is_real(self) -> bool | None:
        return True if all(a.is_real for a in self.logits) else None

    def _eval_is_positive(self) -> bool | None:
        return self._eval_is_real()

    def _sympystr(self, printer: object) -> str:
        # printed once per printer setting: a Jacobian of N² entries holds each component N times,
        # and printing its N logits every time made ``softmax N --format json`` cubic in N
        key = (type(printer), repr(sorted(getattr(printer, "_settings", {}).items())))
        cache = self.__dict__.setdefault("_symgrad_str", {})
        text = cache.get(key)
        if text is None:
            text = cache[key] = "softmax_%d(%s)" % (self.index,
                                                    ", ".join(printer._print(a) for a in self.logits))  # type: ignore[attr-defined]
        return text

    def _symgrad_oneline(self, printer: object) -> str:
        return "p" + str(self.index).translate(_SUB)

    def _latex(self, printer: object) -> str:
        return "p_{%d}" % self.index

    def _pretty(self, printer: object) -> object:
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm("p" + str(self.index).translate(_SUB))


class cross_entropy(sp.Function):
    """Cross-entropy of softmax(a) against labels y: ln Σₖ e^{aₖ} − Σᵢ yᵢ aᵢ; args (a₁…a_N, y₁…y_N).

    This equals −Σᵢ yᵢ ln pᵢ whenever Σᵢ yᵢ = 1 (labels are a distribution), and its gradient in the
    logits is exactly pᵢ − yᵢ.

    >>> a1, a2, y1, y2 = sp.symbols("a1 a2 y1 y2", real=True)
    >>> ce = cross_entropy(a1, a2, y1, y2)
    >>> ce
    cross_entropy(softmax(a1, a2), (y1, y2))
    >>> sp.diff(ce, a1)
    -y1 + softmax_1(a1, a2)
    """

    @classmethod
    def eval(cls, *args: sp.Expr) -> sp.Expr | None:
        if len(args) % 2 or len(args) < 4:
            raise ValueError("cross_entropy takes N logits and N labels (N ≥ 2)")
        return None

    @property
    def classes(self) -> int:
        return len(self.args) // 2

    @property
    def logits(self) -> tuple[sp.Expr, ...]:
        return self.args[: self.classes]

    @property
    def labels(self) -> tuple[sp.Expr, ...]:
        return self.args[self.classes:]

    def probability(self, k: int) -> sp.Expr:
        """pₖ of the logits (k from 1)."""
        return softmax_component(k, *self.logits)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        n = self.classes
        if argindex <= n:
            return self.probability(argindex) - self.labels[argindex - 1]
        return -self.logits[argindex - n - 1]

    def _eval_derivative(self, s: sp.Basic) -> sp.Expr:
        return _chain(self, s, start=1)

    def _eval_rewrite_as_exp(self, *args: sp.Expr, **kwargs: object) -> sp.Expr:
        n = len(args) // 2
        logits, labels = args[:n], args[n:]
        return sp.log(sp.Add(*[sp.exp(a) for a in logits])) - sp.Add(*[y * a for y, a in zip(labels, logits)])

    _eval_rewrite_as_log = _eval_rewrite_as_exp

    def _eval_evalf(self, prec: int) -> sp.Expr | None:
        values = _numbers(self.args, prec)
        if values is None:
            return None
        n = self.classes
        logits, labels = values[:n], values[n:]
        top = max(logits)
        lse = top + sp.log(sp.Add(*[sp.exp(v - top) for v in logits]))
        return (lse - sp.Add(*[y * v for y, v in zip(labels, logits)])).evalf(sp.core.evalf.prec_to_dps(prec))

    def _eval_is_real(self) -> bool | None:
        return True if all(a.is_real for a in self.args) else None

    def _sympystr(self, printer: object) -> str:
        logits = ", ".join(printer._print(a) for a in self.logits)  # type: ignore[attr-defined]
        labels = ", ".join(printer._print(y) for y in self.labels)  # type: ignore[attr-defined]
        return f"cross_entropy(softmax({logits}), ({labels}))"

    _symgrad_oneline = _sympystr

    def _latex(self, printer: object) -> str:
        logits = ", ".join(printer._print(a) for a in self.logits)  # type: ignore[attr-defined]
        labels = ", ".join(printer._print(y) for y in self.labels)  # type: ignore[attr-defined]
        return r"\operatorname{CE}\left(\operatorname{softmax}\left(%s\right), \left(%s\right)\right)" % (logits,
                                                                                                          labels)


def _chain(func: sp.Function, s: sp.Basic, start: int) -> sp.Expr:
    """The chain rule over the arguments (numbered from ``start``) that contain ``s``."""
    terms = []
    for pos, arg in enumerate(func.args[start - 1:], start=start):
        if arg == s:
            terms.append(func.fdiff(pos))
        elif arg.has(s):
            inner = arg.diff(s)
            if inner != 0:
                terms.append(func.fdiff(pos) * inner)
    return sp.Add(*terms)


def _numbers(args: tuple[sp.Expr, ...], prec: int) -> list[sp.Expr] | None:
    """The arguments as real floats at ``prec`` bits, or None if one is not a real number."""
    values = []
    for a in args:
        v = a._eval_evalf(prec) if hasattr(a, "_eval_evalf") else None
        if v is None and a.is_number:
            v = a.evalf(sp.core.evalf.prec_to_dps(prec))
        if v is None or not v.is_number or not v.is_real:
            return None
        values.append(v)
    return values


# builders (the grammar's softmax(…), softmax_k(…), cross_entropy(…)) ------------------------------
def build_softmax(*logits: sp.Expr) -> sp.Tuple:
    """``softmax(a1, …, aN)``: the vector (p₁, …, p_N).

    >>> a, b = sp.symbols("a b", real=True)
    >>> build_softmax(a, b)
    (softmax_1(a, b), softmax_2(a, b))
    """
    _check_logits(logits, "softmax")
    return sp.Tuple(*[softmax_component(k, *logits) for k in range(1, len(logits) + 1)])


def build_component(k: int | str, *logits: sp.Expr) -> sp.Expr:
    """``softmax_k(a1, …, aN)``: component k (from 1) alone; how results are written back.

    >>> a, b = sp.symbols("a b", real=True)
    >>> build_component("2", a, b)
    softmax_2(a, b)
    """
    _check_logits(logits, f"softmax_{k}")
    index = int(k)
    if not 1 <= index <= len(logits):
        problem = ("there is no component 0: components are numbered from 1" if index < 1 else
                   f"component {index} of a softmax of only {len(logits)} logits does not exist")
        raise InputError(f"softmax_{k}: {problem}", suggestion=f"components are numbered 1 to {len(logits)}")
    return softmax_component(index, *logits)


def _check_logits(logits: tuple[sp.Expr, ...], name: str) -> None:
    if len(logits) < 2:
        raise InputError(f"{name}(…) takes two or more logits, got {len(logits)}")
    if len(logits) > MAX_CLASSES:
        raise InputError(f"{name}(…) has {len(logits)} classes, more than the limit of {MAX_CLASSES}")
    if any(isinstance(a, sp.Tuple) for a in logits):
        raise InputError(f"the logits of {name}(…) must be numbers or expressions, not lists",
                         suggestion="write softmax(a1, a2, a3)")


def softmax_logits(vector: sp.Basic) -> tuple[sp.Expr, ...] | None:
    """The logits a if ``vector`` is exactly softmax(a) (components 1…N in order), else None."""
    if not isinstance(vector, sp.Tuple) or not vector.args:
        return None
    first = vector.args[0]
    if not isinstance(first, softmax_component):
        return None
    logits = first.logits
    for k, comp in enumerate(vector.args, start=1):
        if not isinstance(comp, softmax_component) or comp.index != k or comp.logits != logits:
            return None
    return logits if len(vector.args) == len(logits) else None


def build_cross_entropy(probabilities: sp.Basic, labels: sp.Basic) -> sp.Expr:
    """``cross_entropy(p, y)``: p a softmax or a probability vector; y labels or a class index (from 1).

    Binary form for single probabilities: −(y ln p + (1 − y) ln(1 − p)).

    >>> a, b, y1, y2 = sp.symbols("a b y1 y2", real=True)
    >>> build_cross_entropy(build_softmax(a, b), sp.Integer(2))
    -log(softmax_2(a, b))
    >>> p, y = sp.symbols("p y", real=True)
    >>> build_cross_entropy(p, y)
    -y*log(p) - (1 - y)*log(1 - p)
    """
    if not isinstance(probabilities, sp.Tuple):
        if isinstance(labels, sp.Tuple):
            raise InputError("cross_entropy(p, y): p is one probability but the labels are a list",
                             suggestion="give probabilities and labels of the same length")
        return -(labels * sp.log(probabilities) + (1 - labels) * sp.log(1 - probabilities))
    n = len(probabilities)
    logits = softmax_logits(probabilities)
    if not isinstance(labels, sp.Tuple):
        if not (labels.is_Integer and 1 <= int(labels) <= n):
            raise InputError(f"the class index must be a whole number from 1 to {n}, not {labels}",
                             suggestion="or give the labels as a list: (y1, y2, …)")
        return -sp.log(probabilities[int(labels) - 1])
    if len(labels) != n:
        raise InputError(f"cross_entropy: {n} probabilities but {len(labels)} labels")
    _check_distribution(labels)
    if logits is not None:
        return cross_entropy(*logits, *labels.args)
    return -sp.Add(*[y * sp.log(p) for p, y in zip(probabilities, labels)])


def _check_distribution(labels: sp.Tuple) -> None:
    """Numeric labels must form a distribution; symbolic ones are taken to (the note says so)."""
    if all(y.is_number for y in labels) and (any(y.is_negative for y in labels) or sp.Add(*labels) != 1):
        total = sp.Add(*labels)
        raise InputError(f"the labels must be a probability distribution (non-negative, summing to 1); they sum to "
                         f"{total}",
                         suggestion="one-hot labels look like (0, 1, 0); a class index also works: "
                                    "cross_entropy(softmax(…), 2)")


def explain(name: str, args: tuple[sp.Basic, ...]) -> str | None:
    """The interpretation note for a softmax or cross-entropy the parser built (None if nothing to say)."""
    if name == "softmax":
        shown = ", ".join(sp.sstr(a) for a in args) if len(args) <= 6 else f"{sp.sstr(args[0])}, …, {sp.sstr(args[-1])}"
        return (f"softmax({shown}) is the vector p with pₖ = e^(k-th argument) / (sum of e^(each argument)); "
                "results write pₖ")
    if (name == "cross_entropy" and len(args) == 2 and softmax_logits(args[0]) is not None
            and isinstance(args[1], sp.Tuple) and not all(y.is_number for y in args[1])):
        return ("cross_entropy takes the labels y to be a distribution (Σ yᵢ = 1), as soft labels are: "
                "it is ln Σ e^aₖ − Σ yᵢaᵢ = −Σ yᵢ ln pᵢ, with gradient p − y in the logits")
    return None

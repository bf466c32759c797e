"""Softmax and cross-entropy: named vector functions whose derivatives stay in p − y form.

Stage: vocabulary (the parser builds these) and expression -> result (the classic derivation).

- ``softmax(a1, …, aN)`` is a ``Tuple`` of ``softmax_component(k, a1, …, aN)`` = pₖ = e^{aₖ}/Σ e^{aⱼ}.
  Each component knows its derivative, ∂pₖ/∂aⱼ = pₖ(δₖⱼ − pⱼ), so results read p₁(1 − p₁) and −p₁p₂
  instead of quotients of exponential sums. ``str()`` writes ``softmax_1(a1, a2, a3)``, which the
  grammar reads back; the one-line, LaTeX and pretty forms write p₁.
- ``cross_entropy(softmax(a), y)`` with label distribution y (Σ yᵢ = 1) is the function
  ``cross_entropy(a1, …, aN, y1, …, yN)`` = ln Σ e^{aₖ} − Σ yᵢ aᵢ, which equals −Σ yᵢ ln pᵢ whenever
  the labels sum to 1; its gradient in the logits is exactly p − y. Differentiating it costs one
  small expression per variable however many classes (naive ``sympy.diff`` of the exponential form
  builds millions of operations at 100 classes).
- ``softmax_derivation(n)`` is the worked derivation of ∂pᵢ/∂aⱼ with the quotient rule, the two
  cases, J = diag(p) − p pᵀ, J for n classes and the cross-entropy gradient p − y.

To add a function of a probability vector (a log-softmax, say): a ``Function`` subclass with
``fdiff`` written in terms of ``softmax_component``, printers, and a builder in ``BUILDERS``.

>>> a1, a2, a3 = sp.symbols("a1 a2 a3", real=True)
>>> p = build_softmax(a1, a2, a3)
>>> sp.diff(p[0], a1), sp.diff(p[0], a2)
((1 - softmax_1(a1, a2, a3))*softmax_1(a1, a2, a3), -softmax_1(a1, a2, a3)*softmax_2(a1, a2, a3))
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import ArgumentIndexError

from symgrad.errors import InputError
from symgrad.records import record

MAX_CLASSES = 1000
"""Classes in one softmax: a 1000×1000 Jacobian is already a million entries."""

LOGITS_FORM_CLASSES = 100
"""Classes up to which ``softmax N --format json`` also writes the Jacobian in the logits (10 MB)."""

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


# the derivation -----------------------------------------------------------------------------------
@record
class ChainStep:
    """One step of a worked derivation: a title and ``lhs = chain[0] = chain[1] = …``."""

    title: str
    lhs_plain: str
    lhs_latex: str
    chain: tuple[sp.Basic, ...]


@record
class SoftmaxDerivation:
    """The derivation of the softmax Jacobian and of the cross-entropy gradient, for ``classes`` classes."""

    classes: int
    logits: tuple[sp.Symbol, ...]
    probabilities: tuple[sp.Symbol, ...]
    labels: tuple[sp.Symbol, ...]
    steps: tuple[ChainStep, ...]
    jacobian: tuple[tuple[sp.Expr, ...], ...]
    jacobian_in_logits: tuple[tuple[sp.Expr, ...], ...]
    cross_entropy_steps: tuple[ChainStep, ...]
    cross_entropy_gradient: tuple[sp.Expr, ...]

    def to_json(self) -> dict[str, object]:
        """The keys of ``symgrad softmax N --format json`` (besides ``command``)."""
        n = self.classes
        return {
            "classes": n,
            "logits": [a.name for a in self.logits],
            "probabilities": [str(softmax_component(k, *self.logits)) for k in range(1, n + 1)],
            "definition": "p_i = exp(a_i)/Sum(exp(a_k), (k, 1, N))",
            "cases": {"i = j": "p_i*(1 - p_i)", "i != j": "-p_i*p_j"},
            "formula": "J = diag(p) - p p^T",
            "jacobian": _matrix_text(self.jacobian),
            # N² entries of 2N logits each: past LOGITS_FORM_CLASSES that is N³ characters (89 MB
            # at 200 classes); "probabilities" says what each p in "jacobian" stands for
            "jacobian_in_logits": _matrix_text(self.jacobian_in_logits) if n <= LOGITS_FORM_CLASSES else None,
            "cross_entropy_gradient": [str(g) for g in self.cross_entropy_gradient],
            "steps": [
                {"title": s.title, "lhs": s.lhs_plain, "chain": [str(c) for c in s.chain]}
                for s in self.steps + self.cross_entropy_steps
            ],
        }


def softmax_derivation(classes: int) -> SoftmaxDerivation:
    """The classic derivation of ∂pᵢ/∂aⱼ (quotient rule, cases i = j and i ≠ j, J = diag(p) − p pᵀ), J for
    ``classes`` classes, and the cross-entropy gradient p − y.

    >>> d = softmax_derivation(2)
    >>> d.jacobian
    ((p1*(1 - p1), -p1*p2), (-p1*p2, p2*(1 - p2)))
    >>> d.cross_entropy_gradient
    (p1 - y1, p2 - y2)
    """
    if not isinstance(classes, int) or classes < 2:
        raise InputError(f"softmax needs at least 2 classes, not {classes}")
    if classes > MAX_CLASSES:
        raise InputError(f"{classes} classes is more than the limit of {MAX_CLASSES}")
    i, j, k = sp.symbols("i j k", integer=True, positive=True)
    n = sp.Symbol("N", integer=True, positive=True)
    a = sp.IndexedBase(sp.Symbol("a", real=True))
    p = sp.IndexedBase(sp.Symbol("p", real=True))
    y = sp.IndexedBase(sp.Symbol("y", real=True))
    total = sp.Sum(sp.exp(a[k]), (k, 1, n))
    ea_i, ea_j = sp.exp(a[i]), sp.exp(a[j])

    def frac(num: sp.Expr, den: sp.Expr) -> sp.Expr:
        return sp.Mul(num, sp.Pow(den, -1, evaluate=False), evaluate=False)

    def prod(*factors: sp.Expr) -> sp.Expr:
        return sp.Mul(*factors, evaluate=False)

    def minus(left: sp.Expr, right: sp.Expr) -> sp.Expr:
        return sp.Add(left, sp.Mul(-1, right, evaluate=False), evaluate=False)

    dp = ("∂pᵢ/∂aⱼ", r"\frac{\partial p_{i}}{\partial a_{j}}")
    steps = (
        ChainStep("softmax turns logits into probabilities", "pᵢ", "p_{i}", (frac(ea_i, total),)),
        ChainStep("quotient rule with g = e^aᵢ and h = Σₖ e^aₖ, where ∂h/∂aⱼ = e^aⱼ", *dp,
                  (frac(minus(prod(sp.Derivative(ea_i, a[j]), total), prod(ea_i, ea_j)), sp.Pow(total, 2,
                                                                                                evaluate=False)),)),
        ChainStep("case i = j: ∂e^aᵢ/∂aⱼ = e^aᵢ", *dp,
                  (frac(minus(prod(ea_i, total), prod(ea_i, ea_i)), sp.Pow(total, 2, evaluate=False)),
                   prod(frac(ea_i, total), frac(minus(total, ea_i), total)),
                   prod(p[i], minus(sp.S.One, p[i])))),
        ChainStep("case i ≠ j: ∂e^aᵢ/∂aⱼ = 0", *dp,
                  (frac(minus(prod(sp.S.Zero, total), prod(ea_i, ea_j)), sp.Pow(total, 2, evaluate=False)),
                   sp.Mul(-1, prod(frac(ea_i, total), frac(ea_j, total)), evaluate=False),
                   sp.Mul(-1, prod(p[i], p[j]), evaluate=False))),
        ChainStep("both cases at once (δᵢⱼ = 1 if i = j, else 0): J = diag(p) − p pᵀ", *dp,
                  (prod(p[i], minus(sp.KroneckerDelta(i, j), p[j])),)),
    )
    logits = tuple(sp.Symbol(f"a{m}", real=True) for m in range(1, classes + 1))
    probs = tuple(sp.Symbol(f"p{m}", real=True) for m in range(1, classes + 1))
    labels = tuple(sp.Symbol(f"y{m}", real=True) for m in range(1, classes + 1))
    comps = build_softmax(*logits)
    # the entries of fdiff, built from the N components once: fdiff makes a new N-argument
    # component per entry (hashing N logits each time: N³ for the matrix)
    jac, jac_logits = _jacobian(probs), _jacobian(tuple(comps))
    dl = ("∂L/∂aⱼ", r"\frac{\partial L}{\partial a_{j}}")
    ce_steps = (
        ChainStep("cross-entropy of the probabilities against labels y", "L", "L",
                  (sp.Mul(-1, sp.Sum(prod(y[i], sp.log(p[i])), (i, 1, n)), evaluate=False),)),
        ChainStep("chain rule: ∂ ln pᵢ/∂aⱼ = (1/pᵢ) ∂pᵢ/∂aⱼ = δᵢⱼ − pⱼ", *dl,
                  (sp.Mul(-1, sp.Sum(prod(y[i], minus(sp.KroneckerDelta(i, j), p[j])), (i, 1, n)), evaluate=False),
                   sp.Add(sp.Mul(-1, y[j], evaluate=False), prod(p[j], sp.Sum(y[i], (i, 1, n))), evaluate=False))),
        ChainStep("the labels are a distribution, Σᵢ yᵢ = 1", *dl, (minus(p[j], y[j]),)),
    )
    grad = tuple(probs[m] - labels[m] for m in range(classes))
    return SoftmaxDerivation(classes, logits, probs, labels, steps, jac, jac_logits, ce_steps, grad)


def _jacobian(p: tuple[sp.Expr, ...]) -> tuple[tuple[sp.Expr, ...], ...]:
    """diag(p) − p pᵀ entry by entry, in time linear in its N² entries.

    The entries are what SymPy builds for pᵢ(1 − pᵢ) and −pᵢpⱼ (the same objects), but the N² − N
    off-diagonal products skip SymPy's general ``Mul`` constructor (about 30 µs each): −pᵢpⱼ is
    −1 times the two factors in SymPy's canonical order, and the same object as −pⱼpᵢ.

    >>> p1, p2, p10 = sp.symbols("p1 p2 p10", real=True)
    >>> _jacobian((p1, p2, p10))[2] == (-p10 * p1, -p10 * p2, p10 * (1 - p10))
    True
    """
    from functools import cmp_to_key

    n = len(p)
    rank = {id(f): r for r, f in enumerate(sorted(p, key=cmp_to_key(sp.Basic.compare)))}
    rows: list[list[sp.Expr]] = [[sp.S.Zero] * n for _ in range(n)]
    minus_one = sp.S.NegativeOne
    for r in range(n):
        rows[r][r] = p[r] * (1 - p[r])
        for c in range(r + 1, n):
            first, second = (p[r], p[c]) if rank[id(p[r])] < rank[id(p[c])] else (p[c], p[r])
            rows[r][c] = rows[c][r] = sp.Mul._from_args((minus_one, first, second), is_commutative=True)
    return tuple(tuple(row) for row in rows)


def _matrix_text(matrix: tuple[tuple[sp.Expr, ...], ...]) -> list[list[str]]:
    """``str`` of every entry of a ``_jacobian`` matrix, in time linear in the text.

    An off-diagonal entry −a·b of two names or function calls prints as "-a*b", so it is put
    together from the text of a and b (each printed once); the rest go through ``str``.

    >>> p1, p2 = sp.symbols("p1 p2", real=True)
    >>> _matrix_text(_jacobian((p1, p2)))
    [['p1*(1 - p1)', '-p1*p2'], ['-p1*p2', 'p2*(1 - p2)']]
    """
    names: dict[int, str] = {}
    done: dict[int, str] = {}

    def name(factor: sp.Basic) -> str:
        text = names.get(id(factor))
        if text is None:
            text = names[id(factor)] = str(factor)
        return text

    def text(entry: sp.Expr) -> str:
        known = done.get(id(entry))
        if known is not None:
            return known
        args = entry.args
        if (entry.is_Mul and len(args) == 3 and args[0] is sp.S.NegativeOne
                and all(a.is_Symbol or isinstance(a, sp.Function) for a in args[1:])):
            result = f"-{name(args[1])}*{name(args[2])}"
        else:
            result = str(entry)
        done[id(entry)] = result
        return result

    return [[text(e) for e in row] for row in matrix]

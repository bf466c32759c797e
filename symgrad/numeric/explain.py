"""Optimizers, step by step: the first steps of a descent with each optimizer's formulas filled in
with numbers, as course notes derive them by hand (Adam's m, v, m̂, v̂ and the update).

Stage: numbers (after the descent). ``explain(run, optimizer, k)`` reads what the run kept
(``descend(..., keep=k)``: the gradient and the optimizer's state at each of the first k
iterates, ``Run.kept``) and writes each update t as a list of ``Quantity``: its name, its formula
(torch.optim's, written as the notes write it), the formula with the numbers put in, and the
value. Values that are part of the optimizer's state (m, v, the momentum buffer, the sum of
squares …) are the state the optimizer itself produced, and θₜ is the iterate of the run, so the
explanation can never drift from what was computed; derived values (m̂ = m/(1 − β₁ᵗ), …) are
computed here for the reader. The formulas are torch's (``torch/optim/*.py``, single-tensor code
path, torch 2.13; see ``symgrad.numeric.optimizers``), in the algebraically equal textbook form:
torch's Adam step lr/(1 − β₁ᵗ)·m/(√v/√(1 − β₂ᵗ) + ε) is lr·m̂/(√v̂ + ε).

To explain a new optimizer: add a function ``_<name>(t, theta, g, before, after, options, f)``
returning its quantities, and register it in ``EXPLAIN``.

>>> from symgrad.numeric.compile import compile
>>> from symgrad.numeric.descend import descend, objective
>>> from symgrad.numeric.optimizers import adam
>>> opt = adam(lr=0.1)
>>> run = descend(objective(compile("x cos(pi x)", backend="math")), (0.5,), opt, steps=3, keep=3)
>>> first = explain(run, opt)[0]
>>> [(q.label.plain, q.filled.plain) for q in first.quantities][:2]
[('m₁', '0.9·0 + 0.1·(-1.5707963)'), ('v₁', '0.999·0 + 0.001·(-1.5707963)²')]
>>> first.after == run.trajectory[1].point
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from symgrad.printing.labels import Label
from symgrad.records import field, record

DEFAULT_STEPS = 3
MAX_STEPS = 100
"""Steps explained in full at most: each is a page of formulas."""

Vector = tuple[float, ...]

_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_B1, _B2 = r"\beta_1", r"\beta_2"


@record
class Quantity:
    """One line of an explained step: ``label = formula = filled = value``.

    ``key`` names it in JSON (``m``, ``v``, ``m_hat``, ``theta``…); ``state``: part of the
    optimizer's state (the JSON ``state``), not a value derived for the reader.
    """

    key: str
    label: Label
    formula: Label
    filled: Label
    value: Vector
    state: bool = False


@record
class ExplainedStep:
    """Update ``step`` (t): from θₜ₋₁ = ``before`` with gradient gₜ = ∇f(θₜ₋₁) to θₜ = ``after``."""

    step: int
    before: Vector
    gradient: Vector
    quantities: tuple[Quantity, ...]
    after: Vector
    state: dict[str, Vector] = field(default_factory=dict)


def number(value: float) -> str:
    """8 significant digits, as the descent's table."""
    return f"{value:.8g}"


class _Filler:
    """Writes a formula with numbers, in plain text (``latex=False``) or LaTeX."""

    def __init__(self, latex: bool) -> None:
        self.latex = latex

    def vec(self, values: Sequence[float], factor: bool = True) -> str:
        """A value (a number, or a vector in parentheses); a negative number as a factor in parentheses."""
        if len(values) == 1:
            text = number(values[0])
            return f"({text})" if factor and text.startswith("-") else text
        inner = ", ".join(number(v) for v in values)
        return rf"\left({inner}\right)" if self.latex else f"({inner})"

    def c(self, value: float) -> str:
        return self.vec((value,))

    def mul(self, *parts: str) -> str:
        return (r" \cdot " if self.latex else "·").join(parts)

    def sq(self, part: str) -> str:
        return f"{part}^{{2}}" if self.latex else f"{part}²"

    def sqrt(self, part: str) -> str:
        return rf"\sqrt{{{part}}}" if self.latex else f"√{part}" if _atomic(part) else f"√({part})"

    def frac(self, top: str, bottom: str) -> str:
        return rf"\frac{{{top}}}{{{bottom}}}" if self.latex else f"{_wrap(top)}/{_wrap(bottom)}"

    def abs(self, part: str) -> str:
        return rf"\left|{part}\right|" if self.latex else f"|{part}|"

    def max(self, a: str, b: str) -> str:
        return rf"\max\left({a}, {b}\right)" if self.latex else f"max({a}, {b})"


def _atomic(text: str) -> bool:
    return all(ch not in text for ch in " +-·") or (text.startswith("(") and text.endswith(")"))


def _wrap(text: str) -> str:
    return text if _atomic(text) else f"({text})"


def _sub(name: str, t: int | str, latex: bool) -> str:
    """mₜ as m₁ (plain) or m_{1} (LaTeX); ``name`` in LaTeX is given in LaTeX."""
    if latex:
        return f"{name}_{{{t}}}"
    return name + str(t).translate(_SUB)


class _Writer:
    """Collects the quantities of one step, each written in plain text and in LaTeX."""

    def __init__(self, t: int) -> None:
        self.t = t
        self.out: list[Quantity] = []

    def add(self, key: str, label: tuple[str, str], formula: tuple[str, str], fill: Callable[[_Filler], str],
            value: Sequence[float], state: bool = False) -> None:
        plain, latex = _Filler(False), _Filler(True)
        # the formulas are written with Unicode operators; LaTeX takes ASCII minus signs
        filled_latex = fill(latex).replace("−", "-").replace("·", r" \cdot ").replace("½", r"\tfrac12")
        self.out.append(Quantity(key, Label(*label), Label(*formula), Label(fill(plain), filled_latex),
                                 tuple(float(v) for v in value), state))


def _names(t: int) -> dict[str, tuple[str, str]]:
    """Each symbol of the formulas at step t, (plain, LaTeX): g → (g₁, g_{1}), …"""
    def both(base_plain: str, base_latex: str, k: int) -> tuple[str, str]:
        return _sub(base_plain, k, False), _sub(base_latex, k, True)

    return {
        "theta": both("θ", r"\theta", t), "theta0": both("θ", r"\theta", t - 1), "g": both("g", "g", t),
        "m": both("m", "m", t), "m0": both("m", "m", t - 1), "v": both("v", "v", t), "v0": both("v", "v", t - 1),
        "b": both("b", "b", t), "b0": both("b", "b", t - 1), "s": both("s", "s", t), "s0": both("s", "s", t - 1),
        "u": both("u", "u", t), "u0": both("u", "u", t - 1),
        "mhat": both("m̂", r"\hat{m}", t), "vhat": both("v̂", r"\hat{v}", t),
        "vmax": both("vmax", r"v^{\max}", t), "vmax0": both("vmax", r"v^{\max}", t - 1),
        "gbar": both("ḡ", r"\bar{g}", t), "gbar0": both("ḡ", r"\bar{g}", t - 1),
        "mu": both("μ", r"\mu", t), "mu1": both("μ", r"\mu", t + 1), "P": both("Πμ", r"\Pi\mu", t),
        "P0": both("Πμ", r"\Pi\mu", t - 1),
    }


def _pw(base: str, t: int, latex: bool) -> str:
    return f"{base}^{{{t}}}" if latex else base + str(t).translate(_SUP)


# the gradient torch steps along -----------------------------------------------------------------------
def _directed(w: _Writer, n: dict[str, tuple[str, str]], g: Vector, theta: Vector, options: Mapping[str, Any],
              decoupled: bool = False) -> Vector:
    """gₜ as the optimizer uses it: −∇f for maximize, plus λ·θ for L2 weight decay (lines for each)."""
    lam = float(options.get("weight_decay", 0) or 0)
    if options.get("maximize"):
        g = tuple(-v for v in g)
        w.add("g", n["g"], (f"−∇f({n['theta0'][0]}) (maximize)", rf"-\nabla f({n['theta0'][1]})\ \text{{(maximize)}}"),
              lambda f: f.vec(g, factor=False), g)
    if lam and not decoupled:
        new = tuple(gi + lam * p for gi, p in zip(g, theta))
        gp, gl = n["g"]
        tp, tl = n["theta0"]
        w.add("g", n["g"], (f"{gp} + λ·{tp} (weight decay)", rf"{gl} + \lambda {tl}\ \text{{(weight decay)}}"),
              lambda f: f"{f.vec(g, factor=False)} + {f.mul(f.c(lam), f.vec(theta))}", new)
        g = new
    return g


def _final(w: _Writer, n: dict[str, tuple[str, str]], formula: tuple[str, str], fill: Callable[[_Filler], str],
           after: Vector) -> None:
    w.add("theta", n["theta"], formula, fill, after)


# one function per optimizer -------------------------------------------------------------------------
def _sgd(t: int, theta: Vector, g: Vector, before: Any, after_state: Any, options: Mapping[str, Any],
         after: Vector) -> list[Quantity]:
    w, n = _Writer(t), _names(t)
    lr = float(options["lr"])
    g = _directed(w, n, g, theta, options)
    mu = float(options.get("momentum", 0) or 0)
    tp, tl = n["theta0"]
    gp, gl = n["g"]
    step: Vector = g
    if mu:
        buf = after_state.momentum_buffer
        bp, bl = n["b"]
        b0p, b0l = n["b0"]
        tau = float(options.get("dampening", 0) or 0)
        if before.momentum_buffer is None:
            w.add("b", n["b"], (f"{gp} (the first step)", rf"{gl}\ \text{{(the first step)}}"),
                  lambda f: f.vec(g, factor=False), buf, state=True)
        else:
            prev = before.momentum_buffer
            damp = 1 - tau
            w.add("b", n["b"], (f"μ·{b0p} + (1 − τ)·{gp}", rf"\mu {b0l} + (1 - \tau) {gl}"),
                  lambda f: f"{f.mul(f.c(mu), f.vec(prev))} + {f.mul(f.c(damp), f.vec(g))}", buf, state=True)
        if options.get("nesterov"):
            step = tuple(gi + mu * bi for gi, bi in zip(g, buf))
            w.add("step", ("d", "d"), (f"{gp} + μ·{bp} (Nesterov)", rf"{gl} + \mu {bl}\ \text{{(Nesterov)}}"),
                  lambda f: f"{f.vec(g, factor=False)} + {f.mul(f.c(mu), f.vec(buf))}", step)
            sp_, sl = "d", "d"
        else:
            step = buf
            sp_, sl = bp, bl
        _final(w, n, (f"{tp} − lr·{sp_}", rf"{tl} - \mathrm{{lr}}\, {sl}"),
               lambda f: f"{f.vec(theta, factor=False)} − {f.mul(f.c(lr), f.vec(step))}", after)
    else:
        _final(w, n, (f"{tp} − lr·{gp}", rf"{tl} - \mathrm{{lr}}\, {gl}"),
               lambda f: f"{f.vec(theta, factor=False)} − {f.mul(f.c(lr), f.vec(g))}", after)
    return w.out


def _adagrad(t: int, theta: Vector, g: Vector, before: Any, after_state: Any, options: Mapping[str, Any],
             after: Vector) -> list[Quantity]:
    w, n = _Writer(t), _names(t)
    lr, decay, eps = float(options["lr"]), float(options["lr_decay"]), float(options["eps"])
    g = _directed(w, n, g, theta, options)
    gp, gl = n["g"]
    sp_, sl = n["s"]
    s0p, s0l = n["s0"]
    tp, tl = n["theta0"]
    prev, total = before.sum, after_state.sum
    w.add("s", n["s"], (f"{s0p} + {gp}²", rf"{s0l} + {gl}^{{2}}"),
          lambda f: f"{f.vec(prev, factor=False)} + {f.sq(f.vec(g))}", total, state=True)
    clr = lr / (1 + (t - 1) * decay)
    rate_p, rate_l = "lr", r"\mathrm{lr}"
    if decay:
        w.add("clr", ("clr", r"\mathrm{clr}"), (f"lr/(1 + (t − 1)·lr_decay) with t = {t}",
                                                rf"\frac{{\mathrm{{lr}}}}{{1 + (t - 1)\,\mathrm{{lr\_decay}}}},"
                                                rf"\ t = {t}"),
              lambda f: f.frac(f.c(lr), f"1 + {f.mul(str(t - 1), f.c(decay))}"), (clr,))
        rate_p, rate_l = "clr", r"\mathrm{clr}"
    _final(w, n, (f"{tp} − {rate_p}·{gp}/(√{sp_} + ε)",
                  rf"{tl} - {rate_l} \frac{{{gl}}}{{\sqrt{{{sl}}} + \varepsilon}}"),
           lambda f: f"{f.vec(theta, factor=False)} − "
                     + f.mul(f.c(clr), f.frac(f.vec(g, factor=False),
                                              f"{f.sqrt(f.vec(total, factor=False))} + {f.c(eps)}")),
           after)
    return w.out


def _rmsprop(t: int, theta: Vector, g: Vector, before: Any, after_state: Any, options: Mapping[str, Any],
             after: Vector) -> list[Quantity]:
    w, n = _Writer(t), _names(t)
    lr, alpha, eps = float(options["lr"]), float(options["alpha"]), float(options["eps"])
    mu = float(options.get("momentum", 0) or 0)
    g = _directed(w, n, g, theta, options)
    gp, gl = n["g"]
    vp, vl = n["v"]
    v0p, v0l = n["v0"]
    tp, tl = n["theta0"]
    prev, v = before.square_avg, after_state.square_avg
    rest = 1 - alpha
    w.add("v", n["v"], (f"α·{v0p} + (1 − α)·{gp}²", rf"\alpha {v0l} + (1 - \alpha) {gl}^{{2}}"),
          lambda f: f"{f.mul(f.c(alpha), f.vec(prev))} + {f.mul(f.c(rest), f.sq(f.vec(g)))}", v, state=True)
    if options.get("centered"):
        a0, a = before.grad_avg, after_state.grad_avg
        ap, al = n["gbar"]
        a0p, a0l = n["gbar0"]
        w.add("g_avg", n["gbar"], (f"α·{a0p} + (1 − α)·{gp}", rf"\alpha {a0l} + (1 - \alpha) {gl}"),
              lambda f: f"{f.mul(f.c(alpha), f.vec(a0))} + {f.mul(f.c(rest), f.vec(g))}", a, state=True)
        denom = tuple(math.sqrt(vi - ai * ai) + eps for vi, ai in zip(v, a))
        w.add("denominator", ("d", "d"),
              (f"√({vp} − {ap}²) + ε (centered)", rf"\sqrt{{{vl} - {al}^{{2}}}} + \varepsilon"),
              lambda f: f"{f.sqrt(f.vec(v, factor=False) + ' − ' + f.sq(f.vec(a)))} + {f.c(eps)}", denom)
    else:
        denom = tuple(math.sqrt(vi) + eps for vi in v)
        w.add("denominator", ("d", "d"), (f"√{vp} + ε", rf"\sqrt{{{vl}}} + \varepsilon"),
              lambda f: f"{f.sqrt(f.vec(v, factor=False))} + {f.c(eps)}", denom)
    if mu > 0:
        b0, b = before.momentum_buffer, after_state.momentum_buffer
        bp, bl = n["b"]
        b0p, b0l = n["b0"]
        w.add("b", n["b"], (f"μ·{b0p} + {gp}/d", rf"\mu {b0l} + \frac{{{gl}}}{{d}}"),
              lambda f: f"{f.mul(f.c(mu), f.vec(b0))} + {f.frac(f.vec(g, factor=False), f.vec(denom, factor=False))}",
              b, state=True)
        _final(w, n, (f"{tp} − lr·{bp}", rf"{tl} - \mathrm{{lr}}\, {bl}"),
               lambda f: f"{f.vec(theta, factor=False)} − {f.mul(f.c(lr), f.vec(b))}", after)
    else:
        _final(w, n, (f"{tp} − lr·{gp}/d", rf"{tl} - \mathrm{{lr}} \frac{{{gl}}}{{d}}"),
               lambda f: f"{f.vec(theta, factor=False)} − "
                         + f.mul(f.c(lr), f.frac(f.vec(g, factor=False), f.vec(denom, factor=False))), after)
    return w.out


def _moments(w: _Writer, n: dict[str, tuple[str, str]], g: Vector, before: Any, after_state: Any,
             beta1: float, beta2: float) -> tuple[Vector, Vector]:
    """m and v, the lines every Adam-type optimizer shares."""
    gp, gl = n["g"]
    m0p, m0l = n["m0"]
    v0p, v0l = n["v0"]
    m0, m = before.exp_avg, after_state.exp_avg
    v0, v = before.exp_avg_sq, after_state.exp_avg_sq
    r1, r2 = 1 - beta1, 1 - beta2
    w.add("m", n["m"], (f"β₁·{m0p} + (1 − β₁)·{gp}", rf"\beta_1 {m0l} + (1 - \beta_1) {gl}"),
          lambda f: f"{f.mul(f.c(beta1), f.vec(m0))} + {f.mul(f.c(r1), f.vec(g))}", m, state=True)
    w.add("v", n["v"], (f"β₂·{v0p} + (1 − β₂)·{gp}²", rf"\beta_2 {v0l} + (1 - \beta_2) {gl}^{{2}}"),
          lambda f: f"{f.mul(f.c(beta2), f.vec(v0))} + {f.mul(f.c(r2), f.sq(f.vec(g)))}", v, state=True)
    return m, v


def _decoupled(w: _Writer, n: dict[str, tuple[str, str]], theta: Vector, options: Mapping[str, Any]) -> Vector:
    """AdamW's (and NAdam's decoupled) weight decay: θ ← θ·(1 − lr·λ) before the step."""
    lr, lam = float(options["lr"]), float(options["weight_decay"])
    shrunk = tuple(p * (1 - lr * lam) for p in theta)
    tp, tl = n["theta0"]
    w.add("theta_decayed", (tp + "′", tl + "'"), (f"{tp}·(1 − lr·λ) (decoupled weight decay)",
                                                  rf"{tl}\,(1 - \mathrm{{lr}}\,\lambda)"
                                                  r"\ \text{(decoupled weight decay)}"),
          lambda f: f.mul(f.vec(theta), f"(1 − {f.mul(f.c(lr), f.c(lam))})" if not f.latex
                          else rf"\left(1 - {f.mul(f.c(lr), f.c(lam))}\right)"), shrunk)
    return shrunk


def _adam(t: int, theta: Vector, g: Vector, before: Any, after_state: Any, options: Mapping[str, Any], after: Vector,
          decoupled: bool = False) -> list[Quantity]:
    w, n = _Writer(t), _names(t)
    lr, eps = float(options["lr"]), float(options["eps"])
    beta1, beta2 = (float(b) for b in options["betas"])
    g = _directed(w, n, g, theta, options, decoupled=decoupled)
    start = theta
    if decoupled and options.get("weight_decay"):
        start = _decoupled(w, n, theta, options)
    m, v = _moments(w, n, g, before, after_state, beta1, beta2)
    bc1, bc2 = 1 - beta1**t, 1 - beta2**t
    mp, ml = n["m"]
    vp, vl = n["v"]
    mhat = tuple(mi / bc1 for mi in m)
    w.add("m_hat", n["mhat"], (f"{mp}/(1 − {_pw('β₁', t, False)})", rf"\frac{{{ml}}}{{1 - {_pw(_B1, t, True)}}}"),
          lambda f: f.frac(f.vec(m, factor=False), f"1 − {_pw(f.c(beta1), t, f.latex)}"), mhat)
    source, source_p, source_l = v, vp, vl
    if options.get("amsgrad"):
        vmax0, vmax = before.max_exp_avg_sq, after_state.max_exp_avg_sq
        xp, xl = n["vmax"]
        x0p, x0l = n["vmax0"]
        w.add("v_max", n["vmax"], (f"max({x0p}, {vp}) (AMSGrad)", rf"\max\left({x0l}, {vl}\right)\ \text{{(AMSGrad)}}"),
              lambda f: f.max(f.vec(vmax0, factor=False), f.vec(v, factor=False)), vmax, state=True)
        source, source_p, source_l = vmax, xp, xl
    vhat = tuple(vi / bc2 for vi in source)
    w.add("v_hat", n["vhat"], (f"{source_p}/(1 − {_pw('β₂', t, False)})",
                               rf"\frac{{{source_l}}}{{1 - {_pw(_B2, t, True)}}}"),
          lambda f: f.frac(f.vec(source, factor=False), f"1 − {_pw(f.c(beta2), t, f.latex)}"), vhat)
    tp, tl = n["theta0"]
    if decoupled and options.get("weight_decay"):
        tp, tl = tp + "′", tl + "'"
    hp, hl = n["mhat"]
    vhp, vhl = n["vhat"]
    _final(w, n, (f"{tp} − lr·{hp}/(√{vhp} + ε)",
                  rf"{tl} - \mathrm{{lr}} \frac{{{hl}}}{{\sqrt{{{vhl}}} + \varepsilon}}"),
           lambda f: f"{f.vec(start, factor=False)} − "
                     + f.mul(f.c(lr), f.frac(f.vec(mhat, factor=False),
                                             f"{f.sqrt(f.vec(vhat, factor=False))} + {f.c(eps)}")),
           after)
    return w.out


def _adamw(t: int, theta: Vector, g: Vector, before: Any, after_state: Any, options: Mapping[str, Any],
           after: Vector) -> list[Quantity]:
    return _adam(t, theta, g, before, after_state, options, after, decoupled=True)


def _nadam(t: int, theta: Vector, g: Vector, before: Any, after_state: Any, options: Mapping[str, Any],
           after: Vector) -> list[Quantity]:
    w, n = _Writer(t), _names(t)
    lr, eps, psi = float(options["lr"]), float(options["eps"]), float(options["momentum_decay"])
    beta1, beta2 = (float(b) for b in options["betas"])
    decoupled = bool(options.get("decoupled_weight_decay"))
    g = _directed(w, n, g, theta, options, decoupled=decoupled)
    start = _decoupled(w, n, theta, options) if decoupled and options.get("weight_decay") else theta
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * psi)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * psi)))
    w.add("mu", n["mu"], (f"β₁·(1 − ½·0.96^(t·ψ)) with t = {t}",
                          rf"\beta_1\left(1 - \tfrac12\, 0.96^{{t\psi}}\right),\ t = {t}"),
          lambda f: f.mul(f.c(beta1), f"(1 − 0.5·0.96^({t}·{number(psi)}))" if not f.latex
                          else rf"\left(1 - 0.5 \cdot 0.96^{{{t} \cdot {number(psi)}}}\right)"), (mu,))
    w.add("mu_next", n["mu1"], ("β₁·(1 − ½·0.96^((t + 1)·ψ))", r"\beta_1\left(1 - \tfrac12\, 0.96^{(t+1)\psi}\right)"),
          lambda f: f.mul(f.c(beta1), f"(1 − 0.5·0.96^({t + 1}·{number(psi)}))" if not f.latex
                          else rf"\left(1 - 0.5 \cdot 0.96^{{{t + 1} \cdot {number(psi)}}}\right)"), (mu_next,))
    prod0, prod = before.mu_product, after_state.mu_product
    pp, pl = n["P"]
    p0p, p0l = n["P0"]
    mup, mul_ = n["mu"]
    w.add("mu_product", n["P"], (f"{p0p}·{mup}", rf"{p0l}\, {mul_}"), lambda f: f.mul(f.c(prod0), f.c(mu)), (prod,),
          state=True)
    m, v = _moments(w, n, g, before, after_state, beta1, beta2)
    bc2 = 1 - beta2**t
    vp, vl = n["v"]
    vhat = tuple(vi / bc2 for vi in v)
    w.add("v_hat", n["vhat"], (f"{vp}/(1 − {_pw('β₂', t, False)})", rf"\frac{{{vl}}}{{1 - {_pw(_B2, t, True)}}}"),
          lambda f: f.frac(f.vec(v, factor=False), f"1 − {_pw(f.c(beta2), t, f.latex)}"), vhat)
    denom = tuple(math.sqrt(x) + eps for x in vhat)
    c_grad = lr * (1.0 - mu) / (1.0 - prod)
    c_avg = lr * mu_next / (1.0 - prod * mu_next)
    tp, tl = n["theta0"]
    gp, gl = n["g"]
    mp, ml = n["m"]
    vhp, vhl = n["vhat"]
    mu1p, mu1l = n["mu1"]
    _final(w, n, (f"{tp} − lr·(1 − {mup})/(1 − {pp})·{gp}/(√{vhp} + ε) − lr·{mu1p}/(1 − {pp}·{mu1p})·{mp}/(√{vhp} + ε)",
                  (rf"{tl} - \frac{{\mathrm{{lr}}(1 - {mul_})}}{{1 - {pl}}}"
                   rf" \frac{{{gl}}}{{\sqrt{{{vhl}}} + \varepsilon}}"
                   rf" - \frac{{\mathrm{{lr}}\, {mu1l}}}{{1 - {pl} {mu1l}}}"
                   rf" \frac{{{ml}}}{{\sqrt{{{vhl}}} + \varepsilon}}")),
           lambda f: f"{f.vec(start, factor=False)} − "
                     + f.mul(f.c(c_grad), f.frac(f.vec(g, factor=False), f.vec(denom, factor=False)))
                     + " − " + f.mul(f.c(c_avg), f.frac(f.vec(m, factor=False), f.vec(denom, factor=False))), after)
    return w.out


def _adamax(t: int, theta: Vector, g: Vector, before: Any, after_state: Any, options: Mapping[str, Any],
            after: Vector) -> list[Quantity]:
    w, n = _Writer(t), _names(t)
    lr, eps = float(options["lr"]), float(options["eps"])
    beta1, beta2 = (float(b) for b in options["betas"])
    g = _directed(w, n, g, theta, options)
    gp, gl = n["g"]
    m0p, m0l = n["m0"]
    u0p, u0l = n["u0"]
    m0, m = before.exp_avg, after_state.exp_avg
    u0, u = before.exp_inf, after_state.exp_inf
    r1 = 1 - beta1
    w.add("m", n["m"], (f"β₁·{m0p} + (1 − β₁)·{gp}", rf"\beta_1 {m0l} + (1 - \beta_1) {gl}"),
          lambda f: f"{f.mul(f.c(beta1), f.vec(m0))} + {f.mul(f.c(r1), f.vec(g))}", m, state=True)
    w.add("u", n["u"], (f"max(β₂·{u0p}, |{gp}| + ε)",
                        rf"\max\left(\beta_2 {u0l}, \left|{gl}\right| + \varepsilon\right)"),
          lambda f: f.max(f.mul(f.c(beta2), f.vec(u0)), f"{f.abs(f.vec(g, factor=False))} + {f.c(eps)}"), u, state=True)
    clr = lr / (1 - beta1**t)
    tp, tl = n["theta0"]
    mp, ml = n["m"]
    up, ul = n["u"]
    _final(w, n, (f"{tp} − lr/(1 − {_pw('β₁', t, False)})·{mp}/{up}",
                  rf"{tl} - \frac{{\mathrm{{lr}}}}{{1 - {_pw(_B1, t, True)}}} \frac{{{ml}}}{{{ul}}}"),
           lambda f: f"{f.vec(theta, factor=False)} − "
                     + f.mul(f.c(clr), f.frac(f.vec(m, factor=False), f.vec(u, factor=False))), after)
    return w.out


EXPLAIN: dict[str, Callable[..., list[Quantity]]] = {
    "gd": _sgd, "sgd": _sgd, "adagrad": _adagrad, "rmsprop": _rmsprop, "adam": _adam, "adamw": _adamw,
    "nadam": _nadam, "adamax": _adamax,
}
"""Optimizer name -> the function that writes one of its steps."""


def state_json(name: str, state: Any) -> dict[str, list[float] | float | int]:
    """The optimizer's state as the explanation names it (``m``, ``v``, ``b``, ``s`` …), for JSON."""
    out: dict[str, list[float] | float | int] = {}
    if name in ("gd", "sgd"):
        if state.momentum_buffer is not None:
            out["b"] = list(state.momentum_buffer)
        return out
    out["t"] = state.step
    if name == "adagrad":
        out["s"] = list(state.sum)
    elif name == "rmsprop":
        out["v"] = list(state.square_avg)
        out["g_avg"] = list(state.grad_avg)
        out["b"] = list(state.momentum_buffer)
    elif name in ("adam", "adamw"):
        out["m"], out["v"], out["v_max"] = list(state.exp_avg), list(state.exp_avg_sq), list(state.max_exp_avg_sq)
    elif name == "nadam":
        out["m"], out["v"], out["mu_product"] = list(state.exp_avg), list(state.exp_avg_sq), state.mu_product
    elif name == "adamax":
        out["m"], out["u"] = list(state.exp_avg), list(state.exp_inf)
    return out


def explain(run: Any, optimizer: Any, steps: int | None = None) -> tuple[ExplainedStep, ...]:
    """The first ``steps`` updates of ``run`` (all it kept when None), formula by formula.

    ``run`` must come from ``descend(..., keep=k)`` with the same ``optimizer``.
    """
    write = EXPLAIN[optimizer.name]
    kept = run.kept
    count = len(kept) - 1 if steps is None else min(steps, len(kept) - 1)
    out = []
    for t in range(1, count + 1):
        grad, before = kept[t - 1]
        _, after_state = kept[t]
        theta, after = run.trajectory[t - 1].point, run.trajectory[t].point
        quantities = write(t, theta, grad, before, after_state, optimizer.options, after)
        out.append(ExplainedStep(t, theta, grad, tuple(quantities), after,
                                 {k: tuple(v) if isinstance(v, list) else (v,)
                                  for k, v in state_json(optimizer.name, after_state).items() if k != "t"}))
    return tuple(out)


def explained_json(trajectory: list[dict[str, Any]], run: Any, optimizer: Any, steps: Sequence[ExplainedStep]) -> None:
    """Add to the JSON ``trajectory`` of ``run`` (entries 0 … k): ``gradient`` (∇f at the entry's
    point), ``state`` (the optimizer's state there: after the update that reached it, or the
    initial one), and for each explained update ``explained``: every quantity of its lines by key."""
    for t, (grad, state) in enumerate(run.kept):
        if t >= len(trajectory):
            break
        trajectory[t]["gradient"] = list(grad)
        trajectory[t]["state"] = {k: v for k, v in state_json(optimizer.name, state).items() if k != "t"}
    for step in steps:
        trajectory[step.step]["explained"] = {q.key: list(q.value) for q in step.quantities}


def check_steps(k: int) -> int:
    """The number of steps to explain: 1 to ``MAX_STEPS``."""
    from symgrad.errors import InputError

    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_STEPS:
        raise InputError(f"--explain-steps takes a number of steps from 1 to {MAX_STEPS}, not {k}",
                         suggestion="for example --explain-steps 3 (the rest of the run is shown as usual)")
    return k

"""torch.optim's optimizers as pure functions: ``init(params) -> state`` and
``update(grads, state, params) -> (new_params, state)``.

Stage: numbers (one step of a descent). The shape is optax's — no hidden mutable objects, the state
is a small ``NamedTuple`` and a trajectory is a fold — but the formulas, option names and defaults
are exactly PyTorch's (``torch.optim``, single-tensor code path, as of torch 2.13), down to the order
of the floating-point operations, so iterates agree with PyTorch's in float64 to rounding.

Parameters and gradients are tuples of Python floats (one per variable): descents here have a
handful of parameters, and plain floats are both exact and much faster than small arrays.

To add an optimizer: write its state ``NamedTuple``, a factory ``name(lr=..., ...) -> Optimizer``
that passes its options to ``_validate`` (a new numeric option gets its range in ``_RANGES``:
every option is checked there, for the API and the CLI alike) and defines ``init`` and
``update``, and register it in ``OPTIMIZERS``; then add its first step by hand and a trajectory against torch to
``tests/test_optimizers.py``.

>>> opt = sgd(lr=0.1, momentum=0.9)
>>> state = opt.init((1.0,))
>>> params, state = opt.update((2.0,), state, (1.0,))
>>> params
(0.8,)
>>> params, state = opt.update((2.0,), state, params)   # buffer 0.9·2 + 2 = 3.8
>>> params
(0.42000000000000004,)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from symgrad.errors import InputError

Vector = tuple[float, ...]


class Optimizer(NamedTuple):
    """An optimizer: its name, every option with its value (defaults filled in), and the pair of pure functions."""

    name: str
    options: Mapping[str, Any]
    init: Callable[[Vector], Any]
    update: Callable[[Vector, Any, Vector], tuple[Vector, Any]]


# states --------------------------------------------------------------------------------------
class SGDState(NamedTuple):
    momentum_buffer: Vector | None  # torch creates it on the first step, as a copy of the gradient


class AdagradState(NamedTuple):
    step: int
    sum: Vector


class RMSpropState(NamedTuple):
    step: int
    square_avg: Vector
    grad_avg: Vector
    momentum_buffer: Vector


class AdamState(NamedTuple):
    step: int
    exp_avg: Vector
    exp_avg_sq: Vector
    max_exp_avg_sq: Vector


class AdamaxState(NamedTuple):
    step: int
    exp_avg: Vector
    exp_inf: Vector


class NAdamState(NamedTuple):
    step: int
    mu_product: float
    exp_avg: Vector
    exp_avg_sq: Vector


# shared pieces --------------------------------------------------------------------------------
_RANGES: dict[str, tuple[float, float | None, str]] = {
    # option: (lowest, highest or None, the rule in words). torch's own checks are the lower
    # bounds; symgrad also refuses infinities and NaN (they make every iterate NaN) and, for the
    # two averaging weights, values above 1 (a negative weight: a square average below zero)
    "lr": (0.0, None, "a finite number ≥ 0"),
    "momentum": (0.0, None, "a finite number ≥ 0"),
    "dampening": (0.0, 1.0, "a number from 0 to 1"),
    "weight_decay": (0.0, None, "a finite number ≥ 0"),
    "lr_decay": (0.0, None, "a finite number ≥ 0"),
    "initial_accumulator_value": (0.0, None, "a finite number ≥ 0"),
    "eps": (0.0, None, "a finite number ≥ 0"),
    "alpha": (0.0, 1.0, "a number from 0 to 1"),
    "momentum_decay": (0.0, None, "a finite number ≥ 0"),
}
"""The numeric options and their ranges: every optimizer's options are checked here and only here."""


def _quoted(option: str) -> str:
    return f"'{option}'"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _validate(options: Mapping[str, Any], spell: Callable[[str], str] = _quoted) -> None:
    """Refuse any option outside its range (``_RANGES``; ``betas`` in [0, 1)) as bad input.

    ``spell`` names an option as the caller's user writes it (``--weight-decay`` on the command line).

    >>> _validate({"lr": float("inf")})
    Traceback (most recent call last):
    ...
    symgrad.errors.InputError: 'lr' must be a finite number ≥ 0, not inf
    """
    for name, value in options.items():
        if name == "betas":
            betas = tuple(value) if isinstance(value, (tuple, list)) else (value,)
            if len(betas) != 2:
                raise InputError(f"{spell(name)} takes two numbers, like 0.9,0.999, not {len(betas)}")
            for k, b in enumerate(betas):
                if not (_is_number(b) and 0.0 <= b < 1.0):
                    raise InputError(f"{spell(name)} must be two numbers in [0, 1), not {_shown(betas)}",
                                     suggestion=f"beta number {k + 1} is {_shown(b)}; torch's default is 0.9,0.999")
        elif name in _RANGES:
            low, high, rule = _RANGES[name]
            ok = _is_number(value) and math.isfinite(value) and value >= low and (high is None or value <= high)
            if not ok:
                raise InputError(f"{spell(name)} must be {rule}, not {_shown(value)}")
        elif not isinstance(value, bool):
            raise InputError(f"{spell(name)} is a flag: true or false, not {_shown(value)}")
    if options.get("nesterov") and not (options.get("momentum", 0) > 0 and options.get("dampening", 0) == 0):
        raise InputError(f"Nesterov momentum needs {spell('momentum')} above 0 and {spell('dampening')} 0",
                         suggestion=f"for example {spell('momentum')} 0.9")


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(_shown(v) for v in value)
    return f"{value:g}" if _is_number(value) else repr(value)


def _lerp(start: float, end: float, weight: float) -> float:
    """torch.lerp's formula, which picks the form that is exact at each end of the weight."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _directed(grads: Vector, params: Vector, maximize: bool, weight_decay: float) -> Vector:
    """The gradient torch steps along: negated for ``maximize``, plus L2 weight decay."""
    if maximize:
        grads = tuple(-g for g in grads)
    if weight_decay != 0:
        grads = tuple(g + weight_decay * p for g, p in zip(grads, params))
    return grads


def _zeros(params: Vector) -> Vector:
    return (0.0,) * len(params)


# SGD ------------------------------------------------------------------------------------------
def sgd(
    lr: float = 1e-3,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    """Stochastic gradient descent with torch.optim.SGD's momentum, dampening, Nesterov and weight decay.

    With momentum μ: b₁ = g₁, bₜ = μ·bₜ₋₁ + (1 − dampening)·gₜ; the step is b (or g + μ·b with Nesterov);
    θ ← θ − lr·step.

    >>> opt = sgd(lr=0.1, momentum=0.9, nesterov=True)
    >>> opt.update((2.0,), opt.init((1.0,)), (1.0,))[0]   # 1 − 0.1·(2 + 0.9·2)
    (0.62,)
    """
    options = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
               "nesterov": nesterov, "maximize": maximize}
    _validate(options)

    def init(params: Vector) -> SGDState:
        return SGDState(None)

    def update(grads: Vector, state: SGDState, params: Vector) -> tuple[Vector, SGDState]:
        g = _directed(grads, params, maximize, weight_decay)
        buf = state.momentum_buffer
        if momentum != 0:
            buf = g if buf is None else tuple(b * momentum + (1 - dampening) * gi for b, gi in zip(buf, g))
            g = tuple(gi + momentum * b for gi, b in zip(g, buf)) if nesterov else buf
        return tuple(p + -lr * gi for p, gi in zip(params, g)), SGDState(buf)

    return Optimizer("sgd", options, init, update)


def gd(lr: float = 1e-3) -> Optimizer:
    """Plain gradient descent θ ← θ − lr·∇f(θ): SGD without options, as in the course notes.

    >>> opt = gd(lr=0.1)
    >>> opt.update((2.0,), opt.init((1.0,)), (1.0,))[0]
    (0.8,)
    """
    _validate({"lr": lr})
    inner = sgd(lr)
    return Optimizer("gd", {"lr": lr}, inner.init, inner.update)


# Adagrad --------------------------------------------------------------------------------------
def adagrad(
    lr: float = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
    *,
    maximize: bool = False,
) -> Optimizer:
    """torch.optim.Adagrad: s ← s + g², θ ← θ − clr·g/(√s + eps) with clr = lr/(1 + (t − 1)·lr_decay).

    >>> opt = adagrad(lr=0.5)
    >>> opt.update((2.0,), opt.init((1.0,)), (1.0,))[0]   # 1 − 0.5·2/(2 + 1e-10)
    (0.500000000025,)
    """
    options = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
               "initial_accumulator_value": initial_accumulator_value, "eps": eps, "maximize": maximize}
    _validate(options)

    def init(params: Vector) -> AdagradState:
        return AdagradState(0, (float(initial_accumulator_value),) * len(params))

    def update(grads: Vector, state: AdagradState, params: Vector) -> tuple[Vector, AdagradState]:
        step = state.step + 1
        g = _directed(grads, params, maximize, weight_decay)
        clr = lr / (1 + (step - 1) * lr_decay)
        total = tuple(s + gi * gi for s, gi in zip(state.sum, g))
        new = tuple(p + (-clr * gi) / (math.sqrt(s) + eps) for p, gi, s in zip(params, g, total))
        return new, AdagradState(step, total)

    return Optimizer("adagrad", options, init, update)


# RMSprop --------------------------------------------------------------------------------------
def rmsprop(
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    """torch.optim.RMSprop: v ← α·v + (1 − α)·g², θ ← θ − lr·g/(√v + eps); centered subtracts the mean
    gradient's square inside the root; momentum accumulates g/(√v + eps) into a buffer.

    >>> opt = rmsprop(lr=0.01)
    >>> opt.update((2.0,), opt.init((1.0,)), (1.0,))[0]   # 1 − 0.01·2/(√(0.01·4) + 1e-8)
    (0.9000000049999998,)
    """
    options = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay, "momentum": momentum,
               "centered": centered, "maximize": maximize}
    _validate(options)

    def init(params: Vector) -> RMSpropState:
        zero = _zeros(params)
        return RMSpropState(0, zero, zero, zero)

    def update(grads: Vector, state: RMSpropState, params: Vector) -> tuple[Vector, RMSpropState]:
        g = _directed(grads, params, maximize, weight_decay)
        square_avg = tuple(v * alpha + ((1 - alpha) * gi) * gi for v, gi in zip(state.square_avg, g))
        grad_avg = state.grad_avg
        if centered:
            grad_avg = tuple(_lerp(a, gi, 1 - alpha) for a, gi in zip(grad_avg, g))
            avg = tuple(math.sqrt(v + (-1 * a) * a) + eps for v, a in zip(square_avg, grad_avg))
        else:
            avg = tuple(math.sqrt(v) + eps for v in square_avg)
        buf = state.momentum_buffer
        if momentum > 0:
            buf = tuple(b * momentum + gi / d for b, gi, d in zip(buf, g, avg))
            new = tuple(p + -lr * b for p, b in zip(params, buf))
        else:
            new = tuple(p + (-lr * gi) / d for p, gi, d in zip(params, g, avg))
        return new, RMSpropState(state.step + 1, square_avg, grad_avg, buf)

    return Optimizer("rmsprop", options, init, update)


# Adam and AdamW -------------------------------------------------------------------------------
def _adam(name: str, lr: float, betas: tuple[float, float], eps: float, weight_decay: float, amsgrad: bool,
          maximize: bool, decoupled: bool) -> Optimizer:
    _validate({"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
               "maximize": maximize})
    beta1, beta2 = float(betas[0]), float(betas[1])
    options = {"lr": lr, "betas": (beta1, beta2), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
               "maximize": maximize}

    def init(params: Vector) -> AdamState:
        zero = _zeros(params)
        return AdamState(0, zero, zero, zero)

    def update(grads: Vector, state: AdamState, params: Vector) -> tuple[Vector, AdamState]:
        g = tuple(-gi for gi in grads) if maximize else grads
        step = state.step + 1
        if weight_decay != 0:
            if decoupled:
                params = tuple(p * (1 - lr * weight_decay) for p in params)
            else:
                g = tuple(gi + weight_decay * p for gi, p in zip(g, params))
        m = tuple(_lerp(mi, gi, 1 - beta1) for mi, gi in zip(state.exp_avg, g))
        v = tuple(vi * beta2 + ((1 - beta2) * gi) * gi for vi, gi in zip(state.exp_avg_sq, g))
        step_size = lr / (1 - beta1**step)
        bc2_sqrt = (1 - beta2**step) ** 0.5
        vmax = state.max_exp_avg_sq
        if amsgrad:
            vmax = tuple(max(a, b) for a, b in zip(vmax, v))
            denoms = tuple(math.sqrt(a) / bc2_sqrt + eps for a in vmax)
        else:
            denoms = tuple(math.sqrt(a) / bc2_sqrt + eps for a in v)
        new = tuple(p + (-step_size * mi) / d for p, mi, d in zip(params, m, denoms))
        return new, AdamState(step, m, v, vmax)

    return Optimizer(name, options, init, update)


def adam(
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    """torch.optim.Adam: m ← lerp(m, g, 1 − β₁), v ← β₂·v + (1 − β₂)·g²,
    θ ← θ − lr/(1 − β₁ᵗ) · m/(√v/√(1 − β₂ᵗ) + eps); weight decay is added to the gradient (L2).

    >>> opt = adam(lr=0.1)
    >>> opt.update((2.0,), opt.init((1.0,)), (1.0,))[0]   # the first step is lr·sign(g), up to eps
    (0.9000000005,)
    """
    return _adam("adam", lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=False)


def adamw(
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    """torch.optim.AdamW: Adam with decoupled weight decay θ ← θ·(1 − lr·weight_decay) before the step.

    >>> opt = adamw(lr=0.1)
    >>> opt.update((2.0,), opt.init((1.0,)), (1.0,))[0]   # 1·(1 − 0.001) − 0.1
    (0.8990000005,)
    """
    return _adam("adamw", lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=True)


# NAdam ----------------------------------------------------------------------------------------
def nadam(
    lr: float = 2e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    """torch.optim.NAdam: Adam with Nesterov momentum and the momentum schedule
    μₜ = β₁·(1 − ½·0.96^(t·momentum_decay)).

    >>> opt = nadam(lr=0.1)
    >>> round(opt.update((2.0,), opt.init((1.0,)), (1.0,))[0][0], 9)   # 1 − 0.1 − 0.1·μ₂·0.2/(2·(1 − μ₁μ₂))
    0.894354823
    """
    _validate({"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
               "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
               "maximize": maximize})
    beta1, beta2 = float(betas[0]), float(betas[1])
    options = {"lr": lr, "betas": (beta1, beta2), "eps": eps, "weight_decay": weight_decay,
               "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize}

    def init(params: Vector) -> NAdamState:
        zero = _zeros(params)
        return NAdamState(0, 1.0, zero, zero)

    def update(grads: Vector, state: NAdamState, params: Vector) -> tuple[Vector, NAdamState]:
        g = tuple(-gi for gi in grads) if maximize else grads
        step = state.step + 1
        bias_correction2 = 1 - beta2**step
        if weight_decay != 0:
            if decoupled_weight_decay:
                params = tuple(p * (1 - lr * weight_decay) for p in params)
            else:
                g = tuple(gi + weight_decay * p for gi, p in zip(g, params))
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = state.mu_product * mu
        m = tuple(_lerp(mi, gi, 1 - beta1) for mi, gi in zip(state.exp_avg, g))
        v = tuple(vi * beta2 + ((1 - beta2) * gi) * gi for vi, gi in zip(state.exp_avg_sq, g))
        denoms = tuple(math.sqrt(vi / bias_correction2) + eps for vi in v)
        mu_product_next = mu_product * mu_next
        c_grad = -lr * (1.0 - mu) / (1.0 - mu_product)
        c_avg = (-lr * mu_next) / (1.0 - mu_product_next)
        # two separate additions, as torch does them (the rounding matters for agreement)
        new = tuple(p + (c_grad * gi) / d for p, gi, d in zip(params, g, denoms))
        new = tuple(p + (c_avg * mi) / d for p, mi, d in zip(new, m, denoms))
        return new, NAdamState(step, mu_product, m, v)

    return Optimizer("nadam", options, init, update)


# Adamax ---------------------------------------------------------------------------------------
def adamax(
    lr: float = 2e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    *,
    maximize: bool = False,
) -> Optimizer:
    """torch.optim.Adamax: Adam with the infinity norm, u ← max(β₂·u, |g| + eps),
    θ ← θ − lr/(1 − β₁ᵗ) · m/u.

    >>> opt = adamax(lr=0.1)
    >>> opt.update((2.0,), opt.init((1.0,)), (1.0,))[0]   # 1 − 0.1·(0.2/0.1)/(2 + 1e-8)
    (0.9000000005,)
    """
    _validate({"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize})
    beta1, beta2 = float(betas[0]), float(betas[1])
    options = {"lr": lr, "betas": (beta1, beta2), "eps": eps, "weight_decay": weight_decay, "maximize": maximize}

    def init(params: Vector) -> AdamaxState:
        zero = _zeros(params)
        return AdamaxState(0, zero, zero)

    def update(grads: Vector, state: AdamaxState, params: Vector) -> tuple[Vector, AdamaxState]:
        step = state.step + 1
        g = _directed(grads, params, maximize, weight_decay)
        m = tuple(_lerp(mi, gi, 1 - beta1) for mi, gi in zip(state.exp_avg, g))
        u = tuple(max(ui * beta2, abs(gi) + eps) for ui, gi in zip(state.exp_inf, g))
        clr = lr / (1 - beta1**step)
        new = tuple(p + (-clr * mi) / ui for p, mi, ui in zip(params, m, u))
        return new, AdamaxState(step, m, u)

    return Optimizer("adamax", options, init, update)


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "gd": gd,
    "sgd": sgd,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
    "nadam": nadam,
    "adamax": adamax,
}
"""Name -> factory. The names are torch.optim's class names in lower case (``gd`` is plain SGD)."""


def option_names(name: str) -> tuple[str, ...]:
    """The options an optimizer takes, in torch's order.

    >>> option_names("rmsprop")
    ('lr', 'alpha', 'eps', 'weight_decay', 'momentum', 'centered', 'maximize')
    """
    return tuple(_signature(name).parameters)


def make(name: str, *, spell: Callable[[str], str] = _quoted, **options: Any) -> Optimizer:
    """The optimizer called ``name`` with ``options`` (None means torch's default).

    Unknown names, options the optimizer does not take and values outside an option's range are
    input errors; ``spell`` names options as the caller's user writes them (the CLI: ``--lr``).

    >>> make("adam", lr=0.1, amsgrad=True).options["amsgrad"]
    True
    >>> make("adam", centered=True)
    Traceback (most recent call last):
    ...
    symgrad.errors.InputError: 'centered' is not an option of adam
    >>> make("sgd", spell=lambda o: "--" + o.replace("_", "-"), weight_decay=float("nan"))
    Traceback (most recent call last):
    ...
    symgrad.errors.InputError: --weight-decay must be a finite number ≥ 0, not nan
    """
    key = name.strip().lower()
    if key not in OPTIMIZERS:
        raise InputError(f"unknown optimizer '{name}'", suggestion="choose one of " + ", ".join(OPTIMIZERS))
    allowed = option_names(key)
    given = {k: v for k, v in options.items() if v is not None}
    for option in given:
        if option not in allowed:
            takes = ", ".join(spell(a) for a in allowed)
            raise InputError(f"{spell(option)} is not an option of {key}", suggestion=f"{key} takes {takes}")
    # checked here with the caller's spelling; the factory checks again (for direct calls) and passes
    defaults = {k: v.default for k, v in _signature(key).parameters.items()}
    _validate({**defaults, **given}, spell)
    return OPTIMIZERS[key](**given)


def _signature(name: str) -> Any:
    import inspect

    return inspect.signature(OPTIMIZERS[name])

"""Optimisers and gradient clipping for dictionaries of parameters, on the array API.

Gradients are dictionaries keyed as xrnn's backward passes key them: ``grads["dWf"]`` is the
gradient of ``parameters["Wf"]``. Updates happen in place (``p -= step``) where the backend's
arrays allow it, and the dictionary always holds the updated arrays. The formulas are
PyTorch's (``torch.optim.SGD``, ``Adam``, ``AdamW``, ``clip_grad_norm_``), step for step, so
that the same model trained the same way gives the same numbers.
"""

import math
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

from ._arrays import Array
from ._checks import check
from ._host import traced

__all__ = ["SGD", "Adam", "AdamW", "clip_by_global_norm", "clip_by_value", "global_norm"]


class _Optimizer:
    slots: tuple[str, ...] = ()  # the names of the state it keeps for each parameter

    def __init__(self, parameters: dict[str, Array], lr: float):
        name = type(self).__name__
        _dict(name, "parameters", parameters)
        if not parameters:
            raise ValueError(f"{name}: parameters must hold at least one array; got an empty dict")
        self.parameters, self.lr, self.steps = parameters, _number(name, "lr", lr, "> 0"), 0
        self.xp = self._match(name, {})
        self.state: dict[str, dict[str, Array]] = {}  # slot name -> {key: array}

    def _slot(self, name, key):
        slot = self.state.setdefault(name, {})
        if key not in slot:
            slot[key] = self.xp.zeros_like(self.parameters[key])
        return slot[key]

    def _gradients(self, grads):
        """``{key: gradient}``: each of ``grads["d" + key]``, of its parameter's shape, library
        and dtype."""
        fname = f"{type(self).__name__}.step"
        _dict(fname, "grads", grads)
        missing = [f"d{k}" for k in self.parameters if f"d{k}" not in grads]
        if missing:
            raise ValueError(f"{fname}: grads is missing {', '.join(missing)}")
        self._match(fname, {f"grads['d{k}']": (k, grads[f"d{k}"]) for k in self.parameters})
        return {k: grads[f"d{k}"] for k in self.parameters}

    def _match(self, fname, arrays):
        """The parameters' namespace, once each of ``arrays`` (``name: (key, array)``) is checked
        to have the shape, library, dtype and device of ``parameters[key]``."""
        named = {f"parameters[{k!r}]": (v, None) for k, v in self.parameters.items()}
        named.update({n: (a, tuple(self.parameters[k].shape)) for n, (k, a) in arrays.items()})
        return check(fname, named)[0]

    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state: ``{"steps": int, slot: {key: array}}``."""
        return {"steps": self.steps, **{k: dict(v) for k, v in self.state.items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Take the state that :meth:`state_dict` gave, checked against this optimiser: its
        slots, a state of each parameter's shape for every parameter (none before the first
        step), nothing else."""
        fname = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping) or "steps" not in state:
            raise TypeError(f"{fname}: state must be the dict that state_dict() returns")
        steps = state["steps"]
        if traced(steps):  # under jax.jit, a 0-D integer array: the slots say if it started
            started = any(state.get(name) for name in self.slots)
        elif isinstance(steps, bool) or not isinstance(steps, Integral) or steps < 0:
            raise ValueError(f"{fname}: state['steps'] must be an int >= 0; got {steps!r}")
        else:
            steps = int(steps)
            started = steps > 0
        slots = {k: v for k, v in state.items() if k != "steps" and (started or v)}
        expected = self.slots if started else ()
        if set(slots) != set(expected):
            raise ValueError(
                f"{fname}: state must hold the slots {list(expected)} after {steps} steps; "
                f"got {list(slots)}"
            )
        for name, slot in slots.items():
            keys = set(slot) if isinstance(slot, Mapping) else None
            if keys != set(self.parameters):
                raise ValueError(
                    f"{fname}: state[{name!r}] must be a dict with the parameters' keys "
                    f"{sorted(self.parameters)}; got {sorted(keys) if keys else slot!r}"
                )
            self._match(fname, {f"state[{name!r}][{k!r}]": (k, v) for k, v in slot.items()})
            for k, v in slot.items():
                if math.prod(v.shape) == 0 or traced(v):
                    continue
                low, high = float(self.xp.min(v)), float(self.xp.max(v))
                if not (math.isfinite(low) and math.isfinite(high)) or (
                    name == "exp_avg_sq" and low < 0
                ):
                    must = "finite and >= 0" if name == "exp_avg_sq" else "finite"
                    raise ValueError(f"{fname}: state[{name!r}][{k!r}] must be {must}")
        self.steps = steps
        self.state = {k: dict(v) for k, v in slots.items()}


class SGD(_Optimizer):
    """``v = momentum v + (g + weight_decay p)``; ``p -= lr v`` (plain SGD without momentum)."""

    def __init__(
        self,
        parameters: dict[str, Array],
        lr: float = 0.1,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ):
        super().__init__(parameters, lr)
        self.momentum = _number("SGD", "momentum", momentum, "in [0, 1)")
        self.weight_decay = _number("SGD", "weight_decay", weight_decay, ">= 0")
        self.slots = ("momentum",) if self.momentum else ()

    def step(self, grads: Mapping[str, Array]) -> None:
        grads = self._gradients(grads)
        self.steps += 1
        for k, g in grads.items():
            p = self.parameters[k]
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum:
                buf = self.state.setdefault("momentum", {})
                buf[k] = g * 1.0 if k not in buf else buf[k] * self.momentum + g  # never g itself
                g = buf[k]
            p -= self.lr * g
            self.parameters[k] = p


class Adam(_Optimizer):
    """Adam (Kingma and Ba), with L2 ``weight_decay`` added to the gradient, as PyTorch's."""

    decoupled = False
    slots = ("exp_avg", "exp_avg_sq")

    def __init__(
        self,
        parameters: dict[str, Array],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(parameters, lr)
        name = type(self).__name__
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2); got {betas!r}")
        self.betas = tuple(
            _number(name, f"betas[{i}]", b, "in [0, 1)") for i, b in enumerate(betas)
        )
        self.eps = _number(name, "eps", eps, "> 0")
        self.weight_decay = _number(name, "weight_decay", weight_decay, ">= 0")

    def step(self, grads: Mapping[str, Array]) -> None:
        grads = self._gradients(grads)
        self.steps += 1
        b1, b2 = self.betas
        first, root2 = self._corrections(grads)
        step_size = self.lr / first
        for k, g in grads.items():
            p = self.parameters[k]
            if self.weight_decay and self.decoupled:
                p *= 1 - self.lr * self.weight_decay
            elif self.weight_decay:
                g = g + self.weight_decay * p
            m, v = self._slot("exp_avg", k), self._slot("exp_avg_sq", k)
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            denom = self.xp.sqrt(v)
            denom /= root2
            denom += self.eps
            p -= step_size * (m / denom)
            self.parameters[k], self.state["exp_avg"][k], self.state["exp_avg_sq"][k] = p, m, v

    def _corrections(self, grads):
        """``(1 - b1^t, sqrt(1 - b2^t))`` after ``t`` steps: numbers, or under ``jax.jit``
        (``t`` traced) 0-D arrays of the gradients' dtype."""
        (b1, b2), t = self.betas, self.steps
        if not traced(t):
            return 1 - b1**t, math.sqrt(1 - b2**t)
        t = self.xp.astype(t, next(iter(grads.values())).dtype)
        return 1 - b1**t, self.xp.sqrt(1 - b2**t)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): ``p *= 1 - lr weight_decay``."""

    decoupled = True

    def __init__(
        self,
        parameters: dict[str, Array],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ):
        super().__init__(parameters, lr, betas, eps, weight_decay)


def clip_by_value(grads: Mapping[str, Array], max_value: float) -> dict[str, Array]:
    """Every gradient clipped to ``[-max_value, max_value]`` (the course's ``clip``)."""
    max_value = _number("clip_by_value", "max_value", max_value, "> 0")
    xp, _ = check("clip_by_value", _arrays("clip_by_value", grads))
    return {k: xp.clip(g, -max_value, max_value) for k, g in grads.items()}


def clip_by_global_norm(
    grads: Mapping[str, Array], max_norm: float
) -> tuple[dict[str, Array], float]:
    """Gradients scaled by ``max_norm / (norm + 1e-6)`` when their global Euclidean norm is
    above ``max_norm`` (PyTorch's ``clip_grad_norm_``); returns ``(grads, norm)``."""
    max_norm = _number("clip_by_global_norm", "max_norm", max_norm, "> 0")
    xp, norm = _norm("clip_by_global_norm", grads)
    if traced(norm):  # under jax.jit, without reading the norm
        scale = xp.clip(max_norm / (norm + 1e-6), max=1.0)
        return {k: g * scale for k, g in grads.items()}, norm
    scale = max_norm / (norm + 1e-6)
    if scale < 1:
        return {k: g * scale for k, g in grads.items()}, norm
    return dict(grads), norm


def global_norm(grads: Mapping[str, Array], fname: str = "global_norm") -> float:
    """The Euclidean norm of all the gradients together, a Python float (NaN or inf where a
    gradient holds one); under ``jax.jit``, a 0-D array."""
    return _norm(fname, grads)[1]


def _norm(fname, grads):
    """``(xp, norm)``: the gradients' namespace and :func:`global_norm`."""
    xp, _ = check(fname, _arrays(fname, grads))
    squares = sum(xp.sum(g * g) for g in grads.values())
    return xp, xp.sqrt(squares) if traced(squares) else math.sqrt(float(squares))


def _arrays(fname, grads):
    _dict(fname, "grads", grads)
    if not grads:
        raise ValueError(f"{fname}: grads must hold at least one array; got an empty dict")
    return {f"grads[{k!r}]": (v, None) for k, v in grads.items()}


def _dict(fname, name, value):
    if not isinstance(value, Mapping):
        raise TypeError(f"{fname}: {name} must be a dict of arrays; got {type(value).__name__}")


_RANGES = {  # how a hyperparameter's range is spelled, and the test of it
    "> 0": lambda v: v > 0,
    ">= 0": lambda v: v >= 0,
    "in [0, 1)": lambda v: 0 <= v < 1,
}


def _number(fname, name, value, expected):
    """``value`` as a float: a finite real number ``expected`` (a key of ``_RANGES``)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{fname}: {name} must be a number; got {type(value).__name__}")
    if not (math.isfinite(value) and _RANGES[expected](value)):
        raise ValueError(f"{fname}: {name} must be a finite number {expected}; got {value!r}")
    return float(value)

"""Optimisers and gradient clipping for dictionaries of parameters, on the array API.

Gradients are dictionaries keyed as xrnn's backward passes key them: ``grads["dWf"]`` is the
gradient of ``parameters["Wf"]``. Updates happen in place (``p -= step``) where the backend's
arrays allow it, and the dictionary always holds the updated arrays. The formulas are
PyTorch's (``torch.optim.SGD``, ``Adam``, ``AdamW``, ``clip_grad_norm_``), step for step, so
that the same model trained the same way gives the same numbers.
"""

import math

from ._checks import check

__all__ = ["SGD", "Adam", "AdamW", "clip_by_global_norm", "clip_by_value"]


class _Optimizer:
    def __init__(self, parameters, lr):
        if not isinstance(lr, int | float) or lr <= 0:
            raise ValueError(f"{type(self).__name__}: lr must be a positive number; got {lr!r}")
        self.parameters, self.lr, self.steps = parameters, lr, 0
        self.xp, _ = check(type(self).__name__, {k: (v, None) for k, v in parameters.items()})
        self.state = {}  # slot name -> {key: array}

    def _slot(self, name, key):
        slot = self.state.setdefault(name, {})
        if key not in slot:
            slot[key] = self.xp.zeros_like(self.parameters[key])
        return slot[key]

    def _gradients(self, grads):
        missing = [f"d{k}" for k in self.parameters if f"d{k}" not in grads]
        if missing:
            raise ValueError(f"{type(self).__name__}.step: grads is missing {', '.join(missing)}")
        return {k: grads[f"d{k}"] for k in self.parameters}

    def state_dict(self):
        """The optimiser's state: ``{"steps": int, slot: {key: array}}``."""
        return {"steps": self.steps, **{k: dict(v) for k, v in self.state.items()}}

    def load_state_dict(self, state):
        self.steps = int(state["steps"])
        self.state = {k: dict(v) for k, v in state.items() if k != "steps"}


class SGD(_Optimizer):
    """``v = momentum v + (g + weight_decay p)``; ``p -= lr v`` (plain SGD without momentum)."""

    def __init__(self, parameters, lr=0.1, momentum=0.0, weight_decay=0.0):
        super().__init__(parameters, lr)
        self.momentum, self.weight_decay = momentum, weight_decay

    def step(self, grads):
        self.steps += 1
        for k, g in self._gradients(grads).items():
            p = self.parameters[k]
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum:
                buf = self.state.setdefault("momentum", {})
                buf[k] = g if k not in buf else buf[k] * self.momentum + g
                g = buf[k]
            p -= self.lr * g
            self.parameters[k] = p


class Adam(_Optimizer):
    """Adam (Kingma and Ba), with L2 ``weight_decay`` added to the gradient, as PyTorch's."""

    decoupled = False

    def __init__(self, parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(parameters, lr)
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay

    def step(self, grads):
        self.steps += 1
        b1, b2 = self.betas
        step_size = self.lr / (1 - b1**self.steps)
        root2 = math.sqrt(1 - b2**self.steps)
        for k, g in self._gradients(grads).items():
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


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): ``p *= 1 - lr weight_decay``."""

    decoupled = True

    def __init__(self, parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(parameters, lr, betas, eps, weight_decay)


def clip_by_value(grads, max_value):
    """Every gradient clipped to ``[-max_value, max_value]`` (the course's ``clip``)."""
    xp, _ = check("clip_by_value", {k: (v, None) for k, v in grads.items()})
    return {k: xp.clip(g, -max_value, max_value) for k, g in grads.items()}


def clip_by_global_norm(grads, max_norm):
    """Gradients scaled by ``max_norm / (norm + 1e-6)`` when their global Euclidean norm is
    above ``max_norm`` (PyTorch's ``clip_grad_norm_``); returns ``(grads, norm)``."""
    xp, _ = check("clip_by_global_norm", {k: (v, None) for k, v in grads.items()})
    norm = math.sqrt(float(sum(xp.sum(g * g) for g in grads.values())))
    scale = max_norm / (norm + 1e-6)
    if scale < 1:
        grads = {k: g * scale for k, g in grads.items()}
    return grads, norm

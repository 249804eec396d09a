"""Finite-difference gradient checks, for xrnn's backward passes and for yours."""

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from ._arrays import Array
from ._checks import check

__all__ = ["gradcheck", "numerical_gradient"]


def numerical_gradient(loss: Callable[[], Any], x: Array, eps: float = 1e-6) -> Array:
    """Central differences ``(loss(x + eps) - loss(x - eps)) / 2 eps`` for every element of ``x``.

    ``loss()`` takes no argument and returns a scalar (a float or a 0-D array) computed from
    ``x``, which is perturbed in place one element at a time and restored exactly. Use float64.
    """
    xp, _ = check("numerical_gradient", {"x": (x, None)})
    grad = xp.zeros_like(x)
    for idx in itertools.product(*map(range, x.shape)):
        old = float(x[idx])
        x[idx] = old + eps
        up = float(loss())
        x[idx] = old - eps
        down = float(loss())
        x[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


def gradcheck(
    loss: Callable[[], Any],
    inputs: Mapping[str, Array],
    grads: Mapping[str, Array],
    *,
    eps: float = 1e-6,
    rtol: float = 1e-6,
) -> dict[str, float]:
    """Compare analytic gradients with central differences; return the relative errors.

    ``inputs`` maps names to the arrays that ``loss()`` reads (perturbed in place, then restored);
    ``grads`` maps the same names to the analytic gradients of ``loss()`` with respect to them.
    The error of each is ``|g - n| / (|g| + |n|)`` in the Euclidean norm (0 when both vanish).
    Raises ``AssertionError`` listing every error above ``rtol``.
    """
    if set(inputs) != set(grads):
        raise ValueError(
            f"gradcheck: inputs and grads must have the same names; got "
            f"{sorted(inputs)} and {sorted(grads)}"
        )
    errors = {}
    for name, x in inputs.items():
        g = grads[name]
        xp, _ = check(
            "gradcheck",
            {f"inputs[{name!r}]": (x, tuple(x.shape)), f"grads[{name!r}]": (g, tuple(x.shape))},
        )
        n = numerical_gradient(loss, x, eps)
        diff = float(xp.sum((g - n) ** 2)) ** 0.5
        scale = float(xp.sum(g * g)) ** 0.5 + float(xp.sum(n * n)) ** 0.5
        errors[name] = diff / scale if scale else 0.0
    bad = {k: e for k, e in errors.items() if e > rtol}
    if bad:
        raise AssertionError(
            f"gradcheck: relative error above {rtol:g} for "
            + ", ".join(f"{k} ({e:.2e})" for k, e in sorted(bad.items(), key=lambda kv: -kv[1]))
        )
    return errors

"""Finite-difference gradient checks, for xrnn's backward passes and for yours.

The loss comes in two forms. ``loss()``, with no argument, reads the arrays themselves, which
are perturbed in place one element at a time and restored exactly (NumPy, PyTorch, CuPy).
``loss(inputs)`` (functional, for arrays that refuse in-place writes, JAX's, and for any
other) takes the inputs, one of them perturbed: :func:`numerical_gradient` passes the
perturbed array, :func:`gradcheck` a dict of all the inputs by name; nothing is written.
"""

import inspect
import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

import array_api_compat

from ._arrays import Array
from ._checks import check

__all__ = ["gradcheck", "numerical_gradient"]


def numerical_gradient(loss: Callable[..., Any], x: Array, eps: float = 1e-6) -> Array:
    """Central differences ``(loss(x + eps) - loss(x - eps)) / 2 eps`` for every element of
    ``x``, an array like ``x``.

    ``loss`` returns a scalar (a float or a 0-D array): ``loss(x')`` of an ``x'`` equal to
    ``x`` but for one element (functional), or ``loss()`` of ``x`` itself, perturbed in place
    and restored exactly. Use float64.
    """
    xp, _ = check("numerical_gradient", {"x": (x, None)})
    functional = _takes_an_argument(loss)
    device = array_api_compat.device(x)
    positions = xp.arange(math.prod(x.shape), device=device)
    values = []
    for i, idx in enumerate(itertools.product(*map(range, x.shape))):
        if functional:
            at = xp.reshape(positions == i, x.shape)
            up = float(loss(xp.where(at, x + eps, x)))
            down = float(loss(xp.where(at, x - eps, x)))
        else:
            old = float(x[idx])
            x[idx] = old + eps
            up = float(loss())
            x[idx] = old - eps
            down = float(loss())
            x[idx] = old
        values.append((up - down) / (2 * eps))
    return xp.reshape(xp.asarray(values, dtype=x.dtype, device=device), x.shape)


def gradcheck(
    loss: Callable[..., Any],
    inputs: Mapping[str, Array],
    grads: Mapping[str, Array],
    *,
    eps: float = 1e-6,
    rtol: float = 1e-6,
) -> dict[str, float]:
    """Compare analytic gradients with central differences; return the relative errors.

    ``inputs`` maps names to the arrays of which ``loss`` is a function: ``loss(inputs')``
    takes a dict like ``inputs`` with one array perturbed (functional), or ``loss()`` reads
    them (perturbed in place, then restored). ``grads`` maps the same names to the analytic
    gradients of the loss with respect to them. The error of each is ``|g - n| / (|g| + |n|)``
    in the Euclidean norm (0 when both vanish). Raises ``AssertionError`` listing every error
    above ``rtol``.
    """
    if set(inputs) != set(grads):
        raise ValueError(
            f"gradcheck: inputs and grads must have the same names; got "
            f"{sorted(inputs)} and {sorted(grads)}"
        )
    functional = _takes_an_argument(loss)
    errors = {}
    for name, x in inputs.items():
        g = grads[name]
        xp, _ = check(
            "gradcheck",
            {f"inputs[{name!r}]": (x, tuple(x.shape)), f"grads[{name!r}]": (g, tuple(x.shape))},
        )
        if functional:
            n = numerical_gradient(lambda v, name=name: loss({**inputs, name: v}), x, eps)
        else:
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


def _takes_an_argument(loss):
    """Whether ``loss`` is the functional form: it can be called with one argument and not
    with none."""
    try:
        signature = inspect.signature(loss)
    except (TypeError, ValueError):  # no signature to read: the in-place form
        return False
    try:
        signature.bind(None)
    except TypeError:
        return False
    try:
        signature.bind()
    except TypeError:
        return True
    return False

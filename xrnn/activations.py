"""Numerically stable activations: exact for any finite input, no overflow, no warnings.

``sigmoid(z) = e / (e + 1)`` with ``e = exp(z)``, and ``tanh(z) = 2 / (1 + exp(-2z)) - 1``,
each ``exp``'s argument clipped where it would overflow. (On a CPU, ``exp`` is several times
faster than ``tanh``, and the first form needs no negation.) The private helpers are the
cells' named activations and the derivatives their backward passes go through.
"""

import math

from ._arrays import Array, put
from ._checks import check

__all__ = ["sigmoid", "softmax"]


def sigmoid(z: Array) -> Array:
    """Logistic function ``1 / (1 + exp(-z))``, elementwise, any shape."""
    xp, _ = check("sigmoid", {"z": (z, None)})
    return _sigmoid(z, xp)


def softmax(z: Array) -> Array:
    """Softmax over axis 0 (the ``n_y`` classes): each column of the result sums to one."""
    xp, _ = check("softmax", {"z": (z, None)})
    if z.ndim == 0:
        raise ValueError("softmax: z must have at least 1 dimension (classes on axis 0); got 0-D")
    return _softmax(z, xp)


_LIMITS: dict = {}  # (namespace, dtype) -> the largest u for which exp(u) + 1 is finite, less 1


def _limit(dtype, xp):
    limit = _LIMITS.get((xp, dtype))
    if limit is None:
        limit = _LIMITS[xp, dtype] = math.log(xp.finfo(dtype).max) - 1
    return limit


def _sigmoid(z, xp):
    e = xp.exp(xp.minimum(z, _limit(z.dtype, xp)))
    d = e + 1
    e /= d
    return e


def _tanh(z, xp):
    e = xp.exp(xp.minimum(z * -2, _limit(z.dtype, xp)))
    e += 1
    t = 2 / e
    t -= 1  # tanh(z) = 2 / (1 + exp(-2z)) - 1
    return t


def _sigmoid_tanh(zx, zh, k, xp):
    """``z = zx + zh``'s first ``k`` columns through the sigmoid and the others through tanh,
    with one ``exp`` for all: the tanh columns are doubled, and ``tanh(z) = 2 sigmoid(2z) - 1``."""
    z = zx + zh
    z = put(z, (slice(None), slice(k, None)), z[:, k:] * 2)
    s = _sigmoid(z, xp)
    t = 2 * s[:, k:]
    t -= 1
    return put(s, (slice(None), slice(k, None)), t)


def _through_sigmoid(d, s):
    """``d * sigmoid'(z)`` from ``s = sigmoid(z)``: ``d * s (1 - s)``."""
    g = 1 - s
    g *= s
    g *= d
    return g


def _through_tanh(d, t):
    """``d * tanh'(z)`` from ``t = tanh(z)``: ``d (1 - t^2)``, as ``d - d t^2``."""
    g = t * t
    g *= d
    return d - g


def _softmax(z, xp, axis=0, overwrite=False):
    """Softmax over ``axis``; ``overwrite=True`` lets it use ``z``'s memory."""
    m = xp.max(z, axis=axis, keepdims=True)  # the largest exponent is 0: no overflow
    if overwrite:
        z -= m
    else:
        z = z - m
    e = xp.exp(z)
    e /= xp.sum(e, axis=axis, keepdims=True)
    return e

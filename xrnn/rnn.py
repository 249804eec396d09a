"""Vanilla RNN: one cell and the whole sequence, forward beside backward.

.. math::

    a^{<t>} = \\tanh(W_{ax} x^{<t>} + W_{aa} a^{<t-1>} + b_a), \\qquad
    \\hat y^{<t>} = \\mathrm{softmax}(W_{ya} a^{<t>} + b_y)

Shapes follow the course: ``x`` is ``(n_x, m, T_x)``, states are ``(n_a, m)``, outputs
``(n_y, m)``; parameters are ``Wax (n_a, n_x)``, ``Waa (n_a, n_a)``, ``ba (n_a, 1)``,
``Wya (n_y, n_a)``, ``by (n_y, 1)``.
"""

from ._checks import check, check_caches, unpack
from .activations import _softmax

__all__ = ["rnn_backward", "rnn_cell_backward", "rnn_cell_forward", "rnn_forward"]

PARAMS = {
    "Wax": ("n_a", "n_x"),
    "Waa": ("n_a", "n_a"),
    "ba": ("n_a", 1),
    "Wya": ("n_y", "n_a"),
    "by": ("n_y", 1),
}
BACKWARD_PARAMS = {k: PARAMS[k] for k in ("Wax", "Waa", "ba")}
CACHE = {"a_next": ("n_a", "m"), "a_prev": ("n_a", "m"), "xt": ("n_x", "m"), "parameters": None}


def rnn_cell_forward(xt, a_prev, parameters):
    """One RNN step.

    ``xt (n_x, m)``, ``a_prev (n_a, m)`` -> ``a_next (n_a, m)``, ``yt_pred (n_y, m)`` and
    ``cache = (a_next, a_prev, xt, parameters)``.
    """
    xp, _ = check(
        "rnn_cell_forward",
        {"xt": (xt, ("n_x", "m")), "a_prev": (a_prev, ("n_a", "m"))},
        parameters,
        PARAMS,
    )
    return _cell_forward(xt, a_prev, parameters, xp)


def rnn_cell_backward(da_next, cache):
    """Backward of one RNN step, from ``da_next (n_a, m)`` = dJ/d(a_next).

    Returns ``{"dxt", "da_prev", "dWax", "dWaa", "dba"}``, shaped like ``xt``, ``a_prev``,
    ``Wax``, ``Waa``, ``ba``.
    """
    fname = "rnn_cell_backward"
    a_next, a_prev, xt, parameters = unpack(fname, "cache", cache, CACHE)
    xp, _ = check(
        fname,
        {
            "cache a_next": (a_next, ("n_a", "m")),
            "cache a_prev": (a_prev, ("n_a", "m")),
            "cache xt": (xt, ("n_x", "m")),
            "da_next": (da_next, ("n_a", "m")),
        },
        parameters,
        BACKWARD_PARAMS,
    )
    return _cell_backward(da_next, cache, xp)


def rnn_forward(x, a0, parameters):
    """RNN over a whole sequence.

    ``x (n_x, m, T_x)``, ``a0 (n_a, m)`` -> ``a (n_a, m, T_x)``, ``y_pred (n_y, m, T_x)`` and
    ``caches = ([cache of each step], x)``.
    """
    xp, sizes = check(
        "rnn_forward", {"x": (x, ("n_x", "m", "T_x")), "a0": (a0, ("n_a", "m"))}, parameters, PARAMS
    )
    a_next, a, y, caches = a0, [], [], []
    for t in range(sizes["T_x"]):
        a_next, yt, cache = _cell_forward(x[:, :, t], a_next, parameters, xp)
        a.append(a_next)
        y.append(yt)
        caches.append(cache)
    return xp.stack(a, axis=2), xp.stack(y, axis=2), (caches, x)


def rnn_backward(da, caches):
    """Backward of :func:`rnn_forward`, from ``da (n_a, m, T_x)`` = dJ/da at every step.

    Returns ``{"dx", "da0", "dWax", "dWaa", "dba"}``, shaped like ``x``, ``a0``, ``Wax``, ``Waa``,
    ``ba``.
    """
    xp, sizes, steps = check_caches("rnn_backward", da, caches, CACHE, BACKWARD_PARAMS)
    da_prev = xp.zeros_like(da[:, :, 0])
    dx = [None] * sizes["T_x"]
    sums = {}
    for t in reversed(range(sizes["T_x"])):
        g = _cell_backward(da[:, :, t] + da_prev, steps[t], xp)
        dx[t], da_prev = g.pop("dxt"), g.pop("da_prev")
        sums = {k: sums[k] + v for k, v in g.items()} if sums else g
    return {"dx": xp.stack(dx, axis=2), "da0": da_prev, **sums}


def _cell_forward(xt, a_prev, parameters, xp):
    p = parameters
    a_next = xp.tanh(p["Wax"] @ xt + p["Waa"] @ a_prev + p["ba"])
    yt_pred = _softmax(p["Wya"] @ a_next + p["by"], xp)
    return a_next, yt_pred, (a_next, a_prev, xt, parameters)


def _cell_backward(da_next, cache, xp):
    a_next, a_prev, xt, p = cache
    dz = (1 - a_next * a_next) * da_next  # backprop through tanh
    return {
        "dxt": p["Wax"].T @ dz,
        "da_prev": p["Waa"].T @ dz,
        "dWax": dz @ xt.T,
        "dWaa": dz @ a_prev.T,
        "dba": xp.sum(dz, axis=1, keepdims=True),
    }

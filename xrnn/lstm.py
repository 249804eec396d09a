"""LSTM: one cell and the whole sequence, forward beside backward.

.. math::

    \\Gamma_f = \\sigma(W_f [a^{<t-1>}; x^{<t>}] + b_f), \\quad
    \\Gamma_i = \\sigma(W_i [\\cdot] + b_i), \\quad
    \\Gamma_o = \\sigma(W_o [\\cdot] + b_o), \\quad
    \\tilde c = \\tanh(W_c [\\cdot] + b_c)

    c^{<t>} = \\Gamma_f * c^{<t-1>} + \\Gamma_i * \\tilde c, \\qquad
    a^{<t>} = \\Gamma_o * \\tanh(c^{<t>}), \\qquad
    \\hat y^{<t>} = \\mathrm{softmax}(W_y a^{<t>} + b_y)

Shapes follow the course: ``x`` is ``(n_x, m, T_x)``, states are ``(n_a, m)``; the gate weights
``Wf, Wi, Wc, Wo`` are ``(n_a, n_a + n_x)`` and act on ``[a_prev; xt]`` (state rows first), the
biases ``bf, bi, bc, bo`` are ``(n_a, 1)``, ``Wy`` is ``(n_y, n_a)`` and ``by`` is ``(n_y, 1)``.
"""

from ._checks import check, check_caches, unpack
from .activations import _sigmoid, _softmax

__all__ = ["lstm_backward", "lstm_cell_backward", "lstm_cell_forward", "lstm_forward"]

GATES = ("f", "i", "c", "o")
PARAMS = {
    **{f"W{g}": ("n_a", "n_a+n_x") for g in GATES},
    **{f"b{g}": ("n_a", 1) for g in GATES},
    "Wy": ("n_y", "n_a"),
    "by": ("n_y", 1),
}
BACKWARD_PARAMS = {f"W{g}": PARAMS[f"W{g}"] for g in GATES}
_STATE = ("n_a", "m")
CACHE = {
    "a_next": _STATE,
    "c_next": _STATE,
    "a_prev": _STATE,
    "c_prev": _STATE,
    "ft": _STATE,
    "it": _STATE,
    "cct": _STATE,
    "ot": _STATE,
    "xt": ("n_x", "m"),
    "parameters": None,
}


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """One LSTM step.

    ``xt (n_x, m)``, ``a_prev``, ``c_prev (n_a, m)`` -> ``a_next``, ``c_next (n_a, m)``,
    ``yt_pred (n_y, m)`` and
    ``cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)``.
    """
    xp, _ = check(
        "lstm_cell_forward",
        {"xt": (xt, ("n_x", "m")), "a_prev": (a_prev, _STATE), "c_prev": (c_prev, _STATE)},
        parameters,
        PARAMS,
    )
    return _cell_forward(xt, a_prev, c_prev, parameters, xp)


def lstm_cell_backward(da_next, dc_next, cache):
    """Backward of one LSTM step, from ``da_next``, ``dc_next (n_a, m)``.

    Returns ``{"dxt", "da_prev", "dc_prev", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo",
    "dbo"}``, each shaped like the array it differentiates.
    """
    fname = "lstm_cell_backward"
    cache = unpack(fname, "cache", cache, CACHE)
    arrays = {f"cache {k}": (v, CACHE[k]) for k, v in zip(CACHE, cache[:-1], strict=False)}
    arrays.update({"da_next": (da_next, _STATE), "dc_next": (dc_next, _STATE)})
    xp, _ = check(fname, arrays, cache[-1], BACKWARD_PARAMS)
    return _cell_backward(da_next, dc_next, cache, xp)


def lstm_forward(x, a0, parameters, c0=None):
    """LSTM over a whole sequence.

    ``x (n_x, m, T_x)``, ``a0 (n_a, m)`` and optional ``c0 (n_a, m)`` (zeros by default) ->
    ``a``, ``c (n_a, m, T_x)``, ``y (n_y, m, T_x)`` and ``caches = ([cache of each step], x)``,
    returned as ``a, y, c, caches``.
    """
    arrays = {"x": (x, ("n_x", "m", "T_x")), "a0": (a0, _STATE)}
    if c0 is not None:
        arrays["c0"] = (c0, _STATE)
    xp, sizes = check("lstm_forward", arrays, parameters, PARAMS)
    a_next, c_next = a0, xp.zeros_like(a0) if c0 is None else c0
    a, y, c, caches = [], [], [], []
    for t in range(sizes["T_x"]):
        a_next, c_next, yt, cache = _cell_forward(x[:, :, t], a_next, c_next, parameters, xp)
        a.append(a_next)
        c.append(c_next)
        y.append(yt)
        caches.append(cache)
    return xp.stack(a, axis=2), xp.stack(y, axis=2), xp.stack(c, axis=2), (caches, x)


def lstm_backward(da, caches):
    """Backward of :func:`lstm_forward`, from ``da (n_a, m, T_x)`` = dJ/da at every step.

    Returns ``{"dx", "da0", "dc0", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"}``,
    shaped like ``x``, ``a0``, ``c0`` and the parameters. Unlike the seed, the gradients
    reaching ``a_prev`` and ``c_prev`` are carried from each step into the one before.
    """
    xp, sizes, steps = check_caches("lstm_backward", da, caches, CACHE, BACKWARD_PARAMS)
    da_prev = dc_prev = xp.zeros_like(da[:, :, 0])
    dx = [None] * sizes["T_x"]
    sums = {}
    for t in reversed(range(sizes["T_x"])):
        g = _cell_backward(da[:, :, t] + da_prev, dc_prev, steps[t], xp)
        dx[t], da_prev, dc_prev = g.pop("dxt"), g.pop("da_prev"), g.pop("dc_prev")
        sums = {k: sums[k] + v for k, v in g.items()} if sums else g
    return {"dx": xp.stack(dx, axis=2), "da0": da_prev, "dc0": dc_prev, **sums}


def _cell_forward(xt, a_prev, c_prev, parameters, xp):
    p = parameters
    concat = xp.concat([a_prev, xt], axis=0)
    ft = _sigmoid(p["Wf"] @ concat + p["bf"], xp)
    it = _sigmoid(p["Wi"] @ concat + p["bi"], xp)
    cct = xp.tanh(p["Wc"] @ concat + p["bc"])
    ot = _sigmoid(p["Wo"] @ concat + p["bo"], xp)
    c_next = ft * c_prev + it * cct
    a_next = ot * xp.tanh(c_next)
    yt_pred = _softmax(p["Wy"] @ a_next + p["by"], xp)
    return a_next, c_next, yt_pred, (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p)


def _cell_backward(da_next, dc_next, cache, xp):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache
    n_a = a_next.shape[0]
    tanh_c = xp.tanh(c_next)
    dc = dc_next + da_next * ot * (1 - tanh_c * tanh_c)  # all that reaches c_next
    dzo = da_next * tanh_c * ot * (1 - ot)  # through a = o * tanh(c), then sigmoid
    dzc = dc * it * (1 - cct * cct)  # through c = f * c_prev + i * cc, then tanh
    dzi = dc * cct * it * (1 - it)
    dzf = dc * c_prev * ft * (1 - ft)
    concat = xp.concat([a_prev, xt], axis=0)
    dconcat = p["Wf"].T @ dzf + p["Wi"].T @ dzi + p["Wc"].T @ dzc + p["Wo"].T @ dzo
    grads = {"dxt": dconcat[n_a:, :], "da_prev": dconcat[:n_a, :], "dc_prev": dc * ft}
    for g, dz in zip(GATES, (dzf, dzi, dzc, dzo), strict=True):
        grads[f"dW{g}"] = dz @ concat.T
        grads[f"db{g}"] = xp.sum(dz, axis=1, keepdims=True)
    return grads

"""Vanilla RNN: one cell and the whole sequence, forward beside backward.

.. math::

    a^{<t>} = \\tanh(W_{ax} x^{<t>} + W_{aa} a^{<t-1>} + b_a), \\qquad
    \\hat y^{<t>} = \\mathrm{softmax}(W_{ya} a^{<t>} + b_y)

Shapes follow the course: ``x`` is ``(n_x, m, T_x)``, states are ``(n_a, m)``, outputs
``(n_y, m)``; parameters are ``Wax (n_a, n_x)``, ``Waa (n_a, n_a)``, ``ba (n_a, 1)``,
``Wya (n_y, n_a)``, ``by (n_y, 1)``.

Inside, a batch is computed as rows, ``z (m, n_a) = a_prev^T Waa^T + xt^T Wax^T + ba^T``, with
the weights multiplied by -2 once so that ``tanh(z) = 2 logistic(-2z) - 1`` takes one ``exp``.
"""

from array_api_compat import device

from . import _engine
from ._checks import check, check_caches, check_lengths, optional, unpack
from ._engine import put, time_major
from .activations import _logistic, _softmax

__all__ = ["rnn_backward", "rnn_cell_backward", "rnn_cell_forward", "rnn_forward"]

PARAMS = {
    "Wax": ("n_a", "n_x"),
    "Waa": ("n_a", "n_a"),
    "ba": ("n_a", 1),
    "Wya": ("n_y", "n_a"),
    "by": ("n_y", 1),
}
BACKWARD_PARAMS = {k: PARAMS[k] for k in ("Wax", "Waa", "ba")}
OPTIONAL = {"baa": ("n_a", 1)}  # PyTorch's second bias, on the state's side
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
        optional(PARAMS, parameters, OPTIONAL),
    )
    p = parameters
    u = a_prev.T @ (-2 * p["Waa"]).T
    u += xt.T @ (-2 * p["Wax"]).T
    u -= 2 * _engine.bias(p, "ba").T
    a_next = _activation(u, xp).T
    yt_pred = _softmax(p["Wya"] @ a_next + p["by"], xp)
    return a_next, yt_pred, (a_next, a_prev, xt, p)


def rnn_cell_backward(da_next, cache):
    """Backward of one RNN step, from ``da_next (n_a, m)`` = dJ/d(a_next).

    Returns ``{"dxt", "da_prev", "dWax", "dWaa", "dba"}``, shaped like ``xt``, ``a_prev``,
    ``Wax``, ``Waa``, ``ba``.
    """
    fname = "rnn_cell_backward"
    a_next, a_prev, xt, p = unpack(fname, "cache", cache, CACHE)
    xp, _ = check(
        fname,
        {
            "cache a_next": (a_next, ("n_a", "m")),
            "cache a_prev": (a_prev, ("n_a", "m")),
            "cache xt": (xt, ("n_x", "m")),
            "da_next": (da_next, ("n_a", "m")),
        },
        p,
        BACKWARD_PARAMS,
    )
    dz = _step_backward(da_next.T, a_next.T)
    grads = {
        "dxt": (dz @ p["Wax"]).T,
        "da_prev": (dz @ p["Waa"]).T,
        "dWax": dz.T @ xt.T,
        "dWaa": dz.T @ a_prev.T,
        "dba": xp.reshape(xp.sum(dz, axis=0), (-1, 1)),
    }
    return _engine.recurrent_bias_grads(grads, p, ["ba"])


def rnn_forward(x, a0, parameters, lengths=None):
    """RNN over a whole sequence.

    ``x (n_x, m, T_x)``, ``a0 (n_a, m)`` -> ``a (n_a, m, T_x)``, ``y_pred (n_y, m, T_x)`` and
    ``caches = ([cache of each step], x)``. With ``lengths`` (one per example), steps past an
    example's length leave its state as it was and output zeros (their caches mean nothing).
    """
    fname = "rnn_forward"
    xp, sizes = check(
        fname,
        {"x": (x, ("n_x", "m", "T_x")), "a0": (a0, ("n_a", "m"))},
        parameters,
        optional(PARAMS, parameters, OPTIONAL),
    )
    lengths = check_lengths(fname, lengths, sizes["m"], sizes["T_x"], xp, x)
    p = parameters
    A, _ = _forward(x, a0, p, lengths, xp)
    a = [A[t, ...].T for t in range(A.shape[0])]  # a_next of one step is a_prev of the next
    steps = [(a[t + 1], a[t], x[:, :, t], p) for t in range(sizes["T_x"])]
    caches = (_engine.Steps(steps, (A[:-1, ...], A[1:, ...], lengths)), x)
    y = _engine.outputs(A[1:, ...], p["Wya"], p["by"], xp, _engine.masks(lengths, len(steps), xp))
    return xp.permute_dims(A[1:, ...], (2, 1, 0)), y, caches


def rnn_backward(da, caches):
    """Backward of :func:`rnn_forward`, from ``da (n_a, m, T_x)`` = dJ/da at every step.

    Returns ``{"dx", "da0", "dWax", "dWaa", "dba"}``, shaped like ``x``, ``a0``, ``Wax``, ``Waa``,
    ``ba``. ``caches`` are left as they were.
    """
    xp, _, steps = check_caches("rnn_backward", da, caches, CACHE, BACKWARD_PARAMS)
    if isinstance(steps, _engine.Steps):
        A_prev, A_next, lengths = steps.buffers
    else:
        A_prev, A_next = (xp.stack([s[k].T for s in steps]) for k in (1, 0))
        lengths = None
    return _backward(da, None, A_prev, A_next, caches[1], steps[0][-1], lengths, xp)


def _forward(x, a0, p, lengths, xp):
    """The states ``A (T+1, m, n)`` (``A[0] = a0``; zero past each length) and the final state."""
    _, m, T = x.shape
    n = a0.shape[0]
    Waa_T = (-2 * p["Waa"]).T
    K, F, _ = _engine.active(lengths, m, T, xp, x.dtype)
    # The input's share of every step in one product, written where each step's state goes;
    # each step adds its recurrent share and overwrites it with the state.
    A = xp.empty((T + 1, m, n), dtype=x.dtype, device=device(x))
    A = put(A, (slice(1, None), ...), xp.reshape(time_major(x, xp) @ (-2 * p["Wax"]).T, (T, m, n)))
    A = put(A, (0, ...), a0.T)
    b = -2 * _engine.bias(p, "ba").T
    for t, k in enumerate(K):
        u = A[t, :k, :] @ Waa_T
        for rows in _engine.chunks(u, n, xp):
            ur = u[rows, :]
            ur += A[t + 1, rows, :]
            ur += b
            a = _activation(ur, xp)
            if F is not None:
                a *= F[t, rows, :]
            put(A, (t + 1, rows, slice(None)), a)
        if k < m:  # the examples that have ended output zeros
            put(A, (t + 1, slice(k, None), slice(None)), 0.0)
    return A, _engine.final(A, lengths, xp)


def _backward(da, da_final, A_prev, A_next, x, p, lengths, xp, need_dx=True):
    """Gradients from ``da`` at every step and ``da_final``, that of the final state (or None);
    ``A_prev``, ``A_next`` are the states ``(T, m, n)`` before and after each step."""
    T, m, n = A_prev.shape
    K, F, M = _engine.active(lengths, m, T, xp, A_prev.dtype)
    dZ = xp.empty_like(A_prev)  # dJ/dz of every step
    dh_next = xp.zeros_like(A_prev[0, ...]) if da_final is None else da_final
    for t in reversed(range(T)):
        k, da_t = K[t], da[:, :, t].T
        for rows in _engine.chunks(A_prev[0, :k, :], n, xp):
            dz = _step_backward(da_t[rows, :] + dh_next[rows, :], A_next[t, rows, :])
            if F is not None:
                dz *= F[t, rows, :]
            put(dZ, (t, rows, slice(None)), dz)
        if k < m:  # the examples that have ended: no gradient, their states' passes through
            put(dZ, (t, slice(k, None), slice(None)), 0.0)
        dh_next = _engine.passed(dZ[t, :k, :] @ p["Waa"], dh_next, t, M, xp)
    dZ = xp.reshape(dZ, (T * m, n))
    grads = {"dx": None, "da0": dh_next.T, "dWax": dZ.T @ time_major(x, xp)}
    grads["dx"] = _engine.dx(dZ, p["Wax"], T, m, xp) if need_dx else None
    grads["dWaa"] = dZ.T @ xp.reshape(A_prev, (T * m, n))
    grads["dba"] = xp.reshape(xp.sum(dZ, axis=0), (n, 1))
    return _engine.recurrent_bias_grads(grads, p, ["ba"])


def _activation(u, xp):
    """``a = tanh(z)`` from the scaled pre-activation ``u = -2z``."""
    a = 2 * _logistic(u, xp)
    a -= 1
    return a


def _step_backward(dh, a):
    """``dJ/dz = dJ/da * (1 - a^2)``: through tanh."""
    dz = dh * a
    dz *= a
    return dh - dz

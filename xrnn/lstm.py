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

Inside, the gates are stacked in the order f, i, o, c~ into one ``(4 n_a, n_a + n_x)`` matrix and
computed for a batch as rows: ``z (m, 4 n_a) = [a_prev; xt]^T W^T + b^T``. The forward pass
multiplies the rows of W and b by ``-1`` (sigmoid gates) and ``-2`` (candidate) once, so that one
``logistic(u) = 1 / (1 + exp(u))`` gives all four: ``sigmoid(z) = logistic(-z)`` and
``tanh(z) = 2 logistic(-2z) - 1``.
"""

from array_api_compat import device

from . import _engine
from ._checks import check, check_caches, check_lengths, optional, unpack
from ._engine import put, time_major
from .activations import _logistic, _softmax, _tanh

__all__ = ["lstm_backward", "lstm_cell_backward", "lstm_cell_forward", "lstm_forward"]

GATES = ("f", "i", "o", "c")  # stacked order: the sigmoid gates, then the candidate
PARAMS = {
    **{f"W{g}": ("n_a", "n_a+n_x") for g in "fico"},
    **{f"b{g}": ("n_a", 1) for g in "fico"},
    "Wy": ("n_y", "n_a"),
    "by": ("n_y", 1),
}
BACKWARD_PARAMS = {f"W{g}": PARAMS[f"W{g}"] for g in "fico"}
OPTIONAL = {f"b{g}a": ("n_a", 1) for g in "fico"}  # PyTorch's second biases, the state's side
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
        optional(PARAMS, parameters, OPTIONAL),
    )
    p = parameters
    Wa, Wx, b = _scaled(*_stacked(p, xp), xp)
    u = a_prev.T @ Wa.T
    u += xt.T @ Wx.T
    u += b.T
    gates = _gates(u, xp)
    c, _, a = _state(gates, c_prev.T, xp)
    f, i, o, cc = _blocks(gates)
    yt_pred = _softmax(p["Wy"] @ a.T + p["by"], xp)
    return a.T, c.T, yt_pred, (a.T, c.T, a_prev, c_prev, f.T, i.T, cc.T, o.T, xt, p)


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
    _, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache
    gates = xp.concat([ft.T, it.T, ot.T, cct.T], axis=1)
    dz3, dzc, dc_prev = _step_backward(
        da_next.T, dc_next.T, gates, c_prev.T, _tanh(c_next.T, xp), xp
    )
    dz = xp.concat([dz3, dzc], axis=1)
    Wa, Wx, _ = _stacked(p, xp)
    n = a_prev.shape[0]
    grads = {"dxt": (dz @ Wx).T, "da_prev": (dz @ Wa).T, "dc_prev": dc_prev.T}
    return {
        **grads,
        **_split(dz.T @ xp.concat([a_prev, xt], axis=0).T, xp.sum(dz, axis=0), n, p, xp),
    }


def lstm_forward(x, a0, parameters, c0=None, lengths=None):
    """LSTM over a whole sequence.

    ``x (n_x, m, T_x)``, ``a0 (n_a, m)`` and optional ``c0 (n_a, m)`` (zeros by default) ->
    ``a``, ``c (n_a, m, T_x)``, ``y (n_y, m, T_x)`` and ``caches = ([cache of each step], x)``,
    returned as ``a, y, c, caches``. With ``lengths`` (one per example), steps past an
    example's length leave its state as it was and output zeros (their caches mean nothing).
    """
    fname = "lstm_forward"
    arrays = {"x": (x, ("n_x", "m", "T_x")), "a0": (a0, _STATE)}
    if c0 is not None:
        arrays["c0"] = (c0, _STATE)
    xp, sizes = check(fname, arrays, parameters, optional(PARAMS, parameters, OPTIONAL))
    T = sizes["T_x"]
    lengths = check_lengths(fname, lengths, sizes["m"], T, xp, x)
    p = parameters
    A, C, R, TC = _forward(x, a0, xp.zeros_like(a0) if c0 is None else c0, p, lengths, xp)
    a = [A[t, ...].T for t in range(T + 1)]  # a_next of one step is a_prev of the next
    c = [C[t, ...].T for t in range(T + 1)]
    steps = [
        (a[t + 1], c[t + 1], a[t], c[t], *_cache_gates(R[t, ...]), x[:, :, t], p) for t in range(T)
    ]
    caches = (_engine.Steps(steps, (A[:T, ...], C[:T, ...], R, TC, lengths)), x)
    y = _engine.outputs(A[1:, ...], p["Wy"], p["by"], xp, _engine.masks(lengths, T, xp))
    return (
        xp.permute_dims(A[1:, ...], (2, 1, 0)),
        y,
        xp.permute_dims(C[1:, ...], (2, 1, 0)),
        caches,
    )


def lstm_backward(da, caches):
    """Backward of :func:`lstm_forward`, from ``da (n_a, m, T_x)`` = dJ/da at every step.

    Returns ``{"dx", "da0", "dc0", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"}``,
    shaped like ``x``, ``a0``, ``c0`` and the parameters. Unlike the seed, the gradients
    reaching ``a_prev`` and ``c_prev`` are carried from each step into the one before.

    The gradients of the gates overwrite the gates kept in ``caches``, as PyTorch frees its graph
    after a backward pass: ``caches`` is then spent (emptied), and a second backward pass needs
    a new forward pass. Caches built by hand in the seed's format are left as they were.
    """
    xp, _, steps = check_caches("lstm_backward", da, caches, CACHE, BACKWARD_PARAMS)
    p = steps[0][-1]
    if isinstance(steps, _engine.Steps):
        buffers = steps.buffers
        steps.spend()
    else:
        buffers = (*_stack_caches(steps, xp), None)
    return _backward(da, None, None, *buffers, caches[1], p, xp)


def _forward(x, a0, c0, p, lengths, xp):
    """States ``A``, ``C (T+1, m, n)`` (``A[0] = a0``, ``C[0] = c0``; zero past each length),
    gates ``R (T, m, 4n)`` and ``TC = tanh(C[1:])``."""
    _, m, T = x.shape
    n = a0.shape[0]
    Wa, Wx, b = _scaled(*_stacked(p, xp), xp)
    Wa_T = Wa.T
    K, F, _ = _engine.active(lengths, m, T, xp, x.dtype)
    # The input's share of every step in one product; each step then adds its recurrent share
    # and overwrites its block with the activated gates.
    R = time_major(x, xp) @ Wx.T
    R += b.T
    R = xp.reshape(R, (T, m, 4 * n))
    A = put(xp.empty((T + 1, m, n), dtype=x.dtype, device=device(x)), (0, ...), a0.T)
    C = put(xp.empty((T + 1, m, n), dtype=x.dtype, device=device(x)), (0, ...), c0.T)
    TC = xp.empty((T, m, n), dtype=x.dtype, device=device(x))
    for t, k in enumerate(K):
        u = A[t, :k, :] @ Wa_T
        for rows in _engine.chunks(u, 4 * n, xp):
            ur = u[rows, :]
            ur += R[t, rows, :]
            gates = _gates(ur, xp)
            c, tc, a = _state(gates, C[t, rows, :], xp)
            if F is not None:
                c *= F[t, rows, :]
                a *= F[t, rows, :]
            put(R, (t, rows, slice(None)), gates)
            put(C, (t + 1, rows, slice(None)), c)
            put(TC, (t, rows, slice(None)), tc)
            put(A, (t + 1, rows, slice(None)), a)
        if k < m:  # the examples that have ended output zeros
            put(A, (t + 1, slice(k, None), slice(None)), 0.0)
            put(C, (t + 1, slice(k, None), slice(None)), 0.0)
    return A, C, R, TC


def _backward(da, da_final, dc_final, A_prev, C_prev, R, TC, lengths, x, p, xp, need_dx=True):
    """Gradients from ``da`` at every step and from those of the final states (or None).
    ``A_prev``, ``C_prev (T, m, n)`` are the states before each step; ``R`` holds the gates
    and receives their gradients."""
    T, m, n = A_prev.shape
    Wa, Wx, _ = _stacked(p, xp)
    K, F, M = _engine.active(lengths, m, T, xp, A_prev.dtype)
    dh_next = xp.zeros_like(A_prev[0, ...]) if da_final is None else da_final
    dc_next = xp.zeros_like(A_prev[0, ...]) if dc_final is None else dc_final
    for t in reversed(range(T)):
        k = K[t]
        da_t, dc_prev = da[:, :, t].T, xp.empty_like(dc_next)
        for rows in _engine.chunks(A_prev[0, :k, :], 4 * n, xp):
            dh = da_t[rows, :] + dh_next[rows, :]
            dz3, dzc, dc = _step_backward(
                dh, dc_next[rows, :], R[t, rows, :], C_prev[t, rows, :], TC[t, rows, :], xp
            )
            if F is not None:
                dz3 *= F[t, rows, :]
                dzc *= F[t, rows, :]
                dc = xp.where(M[t, rows, :], dc, dc_next[rows, :])
            put(R, (t, rows, slice(0, 3 * n)), dz3)
            put(R, (t, rows, slice(3 * n, 4 * n)), dzc)
            put(dc_prev, (rows, slice(None)), dc)
        if k < m:  # the examples that have ended: no gradient, their states' passes through
            put(R, (t, slice(k, None), slice(None)), 0.0)
            put(dc_prev, (slice(k, None), slice(None)), dc_next[k:, :])
        dh_next, dc_next = _engine.passed(R[t, :k, :] @ Wa, dh_next, t, M, xp), dc_prev
    dZ = xp.reshape(R, (T * m, 4 * n))
    dW = xp.concat([dZ.T @ xp.reshape(A_prev, (T * m, n)), dZ.T @ time_major(x, xp)], axis=1)
    grads = {
        "dx": _engine.dx(dZ, Wx, T, m, xp) if need_dx else None,
        "da0": dh_next.T,
        "dc0": dc_next.T,
    }
    return {**grads, **_split(dW, xp.sum(dZ, axis=0), n, p, xp)}


def _gates(u, xp):
    """Gates ``[f, i, o, c~] (m, 4n)`` from scaled pre-activations ``[-z_f, -z_i, -z_o, -2z_c]``."""
    n = u.shape[1] // 4
    gates = _logistic(u, xp)  # sigmoid(z) for f, i, o; sigmoid(2 z_c) for the candidate
    cc = 2 * gates[:, 3 * n :]
    cc -= 1  # tanh(z_c) = 2 sigmoid(2 z_c) - 1
    return put(gates, (slice(None), slice(3 * n, None)), cc)


def _state(gates, c_prev, xp):
    """``c = f * c_prev + i * c~``, ``tanh(c)`` and ``a = o * tanh(c)``, all ``(m, n)``."""
    f, i, o, cc = _blocks(gates)
    c = f * c_prev
    c += i * cc
    tc = _tanh(c, xp)
    return c, tc, o * tc


def _step_backward(dh, dc_next, gates, c_prev, tc, xp):
    """From ``dh = dJ/da`` and ``dc_next = dJ/dc`` of a step: the gradients of its
    pre-activations, ``(m, 3n)`` for f, i, o and ``(m, n)`` for c~, and ``dJ/dc_prev``."""
    f, i, o, cc = _blocks(gates)
    dc = dh * o
    dtc = dc * tc
    dtc *= tc
    dc -= dtc
    dc += dc_next  # dJ/dc = dc_next + dh * o * (1 - tanh(c)^2)
    dz3 = xp.concat([dc * c_prev, dc * cc, dh * tc], axis=1)  # dJ/df, dJ/di, dJ/do
    s = gates[:, : 3 * f.shape[1]]
    ds = 1 - s
    ds *= s
    dz3 *= ds  # through sigmoid' = s (1 - s)
    dzc = dc * i
    dcc = cc * cc
    dzc -= dzc * dcc  # through tanh' = 1 - c~^2
    return dz3, dzc, dc * f


def _blocks(gates):
    n = gates.shape[1] // 4
    return tuple(gates[:, k * n : (k + 1) * n] for k in range(4))


def _cache_gates(gates):
    """``ft, it, cct, ot`` of the seed's cache, ``(n_a, m)`` views of a step's gates."""
    f, i, o, cc = _blocks(gates)
    return f.T, i.T, cc.T, o.T


def _stacked(p, xp):
    """``Wa (4n, n)``, ``Wx (4n, n_x)`` and ``b (4n, 1)``: the gates' parameters in the order
    f, i, o, c, the state's and the input's columns apart (each contiguous, for BLAS)."""
    n = p["Wf"].shape[0]
    Wa = xp.concat([p[f"W{g}"][:, :n] for g in GATES])
    Wx = xp.concat([p[f"W{g}"][:, n:] for g in GATES])
    return Wa, Wx, xp.concat([_engine.bias(p, f"b{g}") for g in GATES])


def _scaled(Wa, Wx, b, xp):
    """``Wa``, ``Wx`` and ``b`` with the sigmoid gates' rows times -1, the candidate's times -2."""
    n = Wa.shape[0] // 4
    scale = xp.concat(
        [
            xp.full((3 * n, 1), -1.0, dtype=Wa.dtype, device=device(Wa)),
            xp.full((n, 1), -2.0, dtype=Wa.dtype, device=device(Wa)),
        ]
    )
    return Wa * scale, Wx * scale, b * scale


def _split(dW, db, n, p, xp):
    """The stacked gradients ``dW (4n, n + n_x)``, ``db (4n,)`` as the seed's
    ``dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo``."""
    db = xp.reshape(db, (4 * n, 1))
    grads = {}
    for g in "fico":
        k = GATES.index(g)
        grads[f"dW{g}"] = dW[k * n : (k + 1) * n, :]
        grads[f"db{g}"] = db[k * n : (k + 1) * n, :]
    return _engine.recurrent_bias_grads(grads, p, [f"b{g}" for g in "fico"])


def _stack_caches(steps, xp):
    """The engine's buffers from per-step caches in the seed's format (built by hand)."""
    A = xp.stack([s[2].T for s in steps])
    C = xp.stack([s[3].T for s in steps])
    R = xp.stack([xp.concat([s[4].T, s[5].T, s[7].T, s[6].T], axis=1) for s in steps])
    TC = _tanh(xp.stack([s[1].T for s in steps]), xp)
    return A, C, R, TC

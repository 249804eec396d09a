"""GRU: one cell and the whole sequence, forward beside backward, in the course's notation.

.. math::

    \\Gamma_u = \\sigma(W_u [a^{<t-1>}; x^{<t>}] + b_u), \\qquad
    \\Gamma_r = \\sigma(W_r [a^{<t-1>}; x^{<t>}] + b_r)

    \\tilde c = \\tanh(W_c [\\Gamma_r * a^{<t-1>}; x^{<t>}] + b_c), \\qquad
    a^{<t>} = \\Gamma_u * \\tilde c + (1 - \\Gamma_u) * a^{<t-1>}

With ``reset_after=True`` (the form of cuDNN, PyTorch and Keras's default) the reset gate acts
after the recurrent product, which has a bias of its own, ``bca``:
``c~ = tanh(Wc[:, n_a:] x + bc + Γr * (Wc[:, :n_a] a_prev + bca))``. PyTorch writes the update
``h = (1 - z) * n + z * h_prev``: its ``n`` is ``c~``, its ``r`` is ``Γr`` and its ``z`` is
``1 - Γu``, so its update gate's weights and biases are ours negated (see
:func:`xrnn.from_torch`). The two forms differ only in where ``Γr`` acts, and coincide when it
is 1.

Shapes follow the course: ``x`` is ``(n_x, m, T_x)``, states ``(n_a, m)``; ``Wu, Wr, Wc`` are
``(n_a, n_a + n_x)`` (state columns first), ``bu, br, bc`` (and ``bca``) ``(n_a, 1)``, ``Wy``
``(n_y, n_a)``, ``by`` ``(n_y, 1)``. A step's cache is
``(a_next, a_prev, ut, rt, cct, xt, parameters)``; a sequence's is ``([cache of each step], x)``.
The backward passes read the form from the parameters: ``bca`` is there exactly when the
forward pass had ``reset_after=True``.

Inside, the gates are stacked in the order u, r, c, a batch is rows, and the weight rows are
multiplied by -1 (gates) and -2 (candidate) so that one ``exp`` gives every activation.
"""

from array_api_compat import device

from . import _engine
from ._checks import check, check_caches, check_lengths, optional, unpack
from ._engine import put, time_major
from .activations import _logistic, _softmax

__all__ = ["gru_backward", "gru_cell_backward", "gru_cell_forward", "gru_forward"]

GATES = ("u", "r", "c")
_STATE = ("n_a", "m")
PARAMS = {
    **{f"W{g}": ("n_a", "n_a+n_x") for g in GATES},
    **{f"b{g}": ("n_a", 1) for g in GATES},
    "Wy": ("n_y", "n_a"),
    "by": ("n_y", 1),
}
OPTIONAL = {"bua": ("n_a", 1), "bra": ("n_a", 1)}  # PyTorch's second biases, the state's side
CACHE = {
    "a_next": _STATE,
    "a_prev": _STATE,
    "ut": _STATE,
    "rt": _STATE,
    "cct": _STATE,
    "xt": ("n_x", "m"),
    "parameters": None,
}


def gru_cell_forward(xt, a_prev, parameters, reset_after=False):
    """One GRU step.

    ``xt (n_x, m)``, ``a_prev (n_a, m)`` -> ``a_next (n_a, m)``, ``yt_pred (n_y, m)`` and
    ``cache = (a_next, a_prev, ut, rt, cct, xt, parameters)``.
    """
    p = parameters
    xp, _ = check(
        "gru_cell_forward",
        {"xt": (xt, ("n_x", "m")), "a_prev": (a_prev, _STATE)},
        p,
        _spec("gru_cell_forward", p, reset_after),
    )
    Wa, Wx, b = _scaled(p, xp)
    gx = xt.T @ Wx.T
    gx += b.T
    gates, _ = _forward_step(gx, a_prev.T, Wa, _bca(p, xp), reset_after, xp)
    a = _next_state(gates, a_prev.T)
    yt_pred = _softmax(p["Wy"] @ a.T + p["by"], xp)
    return a.T, yt_pred, (a.T, a_prev, *_cache_gates(gates), xt, p)


def gru_cell_backward(da_next, cache):
    """Backward of one GRU step, from ``da_next (n_a, m)``.

    Returns ``{"dxt", "da_prev", "dWu", "dbu", "dWr", "dbr", "dWc", "dbc"}`` (and ``"dbca"``
    in the reset-after form), each shaped like the array it differentiates.
    """
    fname = "gru_cell_backward"
    cache = unpack(fname, "cache", cache, CACHE)
    p, reset_after = cache[-1], _reset_after(cache[-1])
    arrays = {f"cache {k}": (v, CACHE[k]) for k, v in zip(CACHE, cache[:-1], strict=False)}
    arrays["da_next"] = (da_next, _STATE)
    xp, _ = check(fname, arrays, p, _spec(fname, p, reset_after, backward=True))
    _, a_prev, ut, rt, cct, xt, _ = cache
    gates = xp.concat([ut.T, rt.T, cct.T], axis=1)
    Wa, Wx, _ = _stacked(p, xp)
    e = _kept(gates, a_prev.T, Wa, p, reset_after, xp)
    dz, de, da_prev = _backward_step(da_next.T, gates, a_prev.T, e, Wa, reset_after, xp)
    grads = {"dxt": (dz @ Wx).T, "da_prev": da_prev.T}
    grads.update(_weight_grads(dz, de, a_prev.T, e, xt.T, reset_after, xp))
    return _engine.recurrent_bias_grads(grads, p, ["bu", "br"])


def gru_forward(x, a0, parameters, reset_after=False, lengths=None):
    """GRU over a whole sequence.

    ``x (n_x, m, T_x)``, ``a0 (n_a, m)`` -> ``a (n_a, m, T_x)``, ``y (n_y, m, T_x)`` and
    ``caches = ([cache of each step], x)``. With ``lengths`` (one per example), steps past an
    example's length leave its state as it was and output zeros (their caches mean nothing).
    """
    fname = "gru_forward"
    p = parameters
    xp, sizes = check(
        fname, {"x": (x, ("n_x", "m", "T_x")), "a0": (a0, _STATE)}, p, _spec(fname, p, reset_after)
    )
    T = sizes["T_x"]
    lengths = check_lengths(fname, lengths, sizes["m"], T, xp, x)
    A, G, E = _forward(x, a0, p, reset_after, lengths, xp)
    a = [A[t, ...].T for t in range(T + 1)]  # a_next of one step is a_prev of the next
    steps = [(a[t + 1], a[t], *_cache_gates(G[t, ...]), x[:, :, t], p) for t in range(T)]
    caches = (_engine.Steps(steps, (A[:T, ...], G, E, lengths)), x)
    y = _engine.outputs(A[1:, ...], p["Wy"], p["by"], xp, _engine.masks(lengths, T, xp))
    return xp.permute_dims(A[1:, ...], (2, 1, 0)), y, caches


def gru_backward(da, caches):
    """Backward of :func:`gru_forward`, from ``da (n_a, m, T_x)`` = dJ/da at every step.

    Returns ``{"dx", "da0", "dWu", "dbu", "dWr", "dbr", "dWc", "dbc"}`` (and ``"dbca"`` in the
    reset-after form). As :func:`xrnn.lstm_backward` does, it writes the gates' gradients over
    the gates kept in ``caches`` and spends them; caches built by hand are left as they were.
    """
    fname = "gru_backward"
    p = _first_parameters(caches)
    reset_after = _reset_after(p)
    xp, _, steps = check_caches(
        fname, da, caches, CACHE, _spec(fname, p, reset_after, backward=True)
    )
    if isinstance(steps, _engine.Steps):
        buffers = steps.buffers
        steps.spend()
    else:
        Wa = _stacked(p, xp)[0]
        A = xp.stack([s[1].T for s in steps])
        G = xp.stack([xp.concat([s[2].T, s[3].T, s[4].T], axis=1) for s in steps])
        E = xp.stack(
            [_kept(G[t, ...], A[t, ...], Wa, p, reset_after, xp) for t in range(len(steps))]
        )
        buffers = (A, G, E, None)
    return _backward(da, None, *buffers, caches[1], p, reset_after, xp)


def _forward(x, a0, p, reset_after, lengths, xp):
    """States ``A (T+1, m, n)`` (``A[0] = a0``; zero past each length), gates ``G (T, m, 3n)``
    and ``E (T, m, n)``: ``r * a_prev``, or (reset after) ``Wc_a a_prev + bca``."""
    _, m, T = x.shape
    n = a0.shape[0]
    Wa, Wx, b = _scaled(p, xp)
    bca = _bca(p, xp)
    K, F, _ = _engine.active(lengths, m, T, xp, x.dtype)
    # The input's share of every step in one product; each step adds its recurrent share and
    # overwrites its block with the gates u, r, c~.
    G = time_major(x, xp) @ Wx.T
    G += b.T
    G = xp.reshape(G, (T, m, 3 * n))
    A = put(xp.empty((T + 1, m, n), dtype=x.dtype, device=device(x)), (0, ...), a0.T)
    E = xp.empty((T, m, n), dtype=x.dtype, device=device(x))
    for t, k in enumerate(K):
        rows = (t, slice(0, k), slice(None))
        gates, e = _forward_step(G[rows], A[rows], Wa, bca, reset_after, xp)
        a = _next_state(gates, A[rows])
        if F is not None:
            a *= F[t, ...]
        put(G, rows, gates)
        put(E, rows, e)
        put(A, (t + 1, slice(0, k), slice(None)), a)
        if k < m:  # the examples that have ended output zeros
            put(A, (t + 1, slice(k, None), slice(None)), 0.0)
            put(E, (t, slice(k, None), slice(None)), 0.0)
    return A, G, E


def _backward(da, da_final, A_prev, G, E, lengths, x, p, reset_after, xp, need_dx=True):
    """Gradients from ``da`` at every step and ``da_final``, that of the final state (or None).
    ``A_prev (T, m, n)`` are the states before each step; ``G`` and (reset after) ``E``
    receive the gradients of what they hold."""
    T, m, n = A_prev.shape
    Wa, Wx, _ = _stacked(p, xp)
    K, F, M = _engine.active(lengths, m, T, xp, A_prev.dtype)
    dh_next = xp.zeros_like(A_prev[0, ...]) if da_final is None else da_final
    for t in reversed(range(T)):
        k = K[t]
        rows = (t, slice(0, k), slice(None))
        dh = da[:, :k, t].T + dh_next[:k, :]
        dz, de, carry = _backward_step(dh, G[rows], A_prev[rows], E[rows], Wa, reset_after, xp)
        if F is not None:
            dz *= F[t, ...]
            if de is not None:
                de *= F[t, ...]
        put(G, rows, dz)
        if reset_after:
            put(E, rows, de)
        if k < m:  # the examples that have ended: no gradient, their states' passes through
            put(G, (t, slice(k, None), slice(None)), 0.0)
            put(E, (t, slice(k, None), slice(None)), 0.0)
        dh_next = _engine.passed(carry, dh_next, t, M, xp)
    dZ = xp.reshape(G, (T * m, 3 * n))
    flat = (xp.reshape(E, (T * m, n)), xp.reshape(A_prev, (T * m, n)))
    grads = _weight_grads(dZ, flat[0], flat[1], flat[0], time_major(x, xp), reset_after, xp)
    dx = _engine.dx(dZ, Wx, T, m, xp) if need_dx else None
    grads = {"dx": dx, "da0": dh_next.T, **grads}
    return _engine.recurrent_bias_grads(grads, p, ["bu", "br"])


def _forward_step(gx, a_prev, Wa, bca, reset_after, xp):
    """Gates ``[u, r, c~] (m, 3n)`` of a step from its input share ``gx`` and ``a_prev``, and
    what the backward needs besides: ``r * a_prev``, or (reset after) ``Wc_a a_prev + bca``.

    ``gx``, ``Wa`` and ``bca`` carry the scale -1 (u, r) and -2 (c~) of :func:`_scaled`.
    """
    n = a_prev.shape[1]
    if reset_after:
        h = a_prev @ Wa.T
        ur = h[:, : 2 * n] + gx[:, : 2 * n]
        ur = _logistic(ur, xp)  # sigmoid of the pre-activations
        hn = h[:, 2 * n :] + bca.T  # -2 (Wc_a a_prev + bca)
        cc = gx[:, 2 * n :] + ur[:, n:] * hn
        e = hn * -0.5
    else:
        ur = a_prev @ Wa[: 2 * n, :].T
        ur += gx[:, : 2 * n]
        ur = _logistic(ur, xp)
        e = ur[:, n:] * a_prev  # r * a_prev
        cc = e @ Wa[2 * n :, :].T
        cc += gx[:, 2 * n :]
    cc = 2 * _logistic(cc, xp)
    cc -= 1  # tanh(z) = 2 sigmoid(2z) - 1
    return xp.concat([ur, cc], axis=1), e


def _next_state(gates, a_prev):
    """``a = u * c~ + (1 - u) * a_prev``."""
    n = a_prev.shape[1]
    a = gates[:, 2 * n :] - a_prev
    a *= gates[:, :n]
    a += a_prev
    return a


def _backward_step(dh, gates, a_prev, e, Wa, reset_after, xp):
    """From ``dh = dJ/da`` of a step: the gradients of its pre-activations ``(m, 3n)`` for u, r,
    c~, the gradient of ``Wc_a a_prev + bca`` (reset after; else None), and ``dJ/da_prev``.
    ``Wa`` is the unscaled ``[Wu; Wr; Wc][:, :n]``."""
    n = a_prev.shape[1]
    u, r, cc = (gates[:, k * n : (k + 1) * n] for k in range(3))
    dzu = cc - a_prev
    dzu *= dh
    dzu *= u - u * u  # through a = a_prev + u (c~ - a_prev), then sigmoid
    dzc = dh * u
    dzc -= dzc * cc * cc  # through tanh
    da_prev = dh - dh * u
    if reset_after:
        dhn = dzc * r
        dzr = dzc * e
        dzr *= r - r * r
        da_prev += xp.concat([dzu, dzr, dhn], axis=1) @ Wa
    else:
        dhn = None
        dra = dzc @ Wa[2 * n :, :]  # dJ/d(r * a_prev)
        dzr = dra * a_prev
        dzr *= r - r * r
        da_prev += dra * r
        da_prev += xp.concat([dzu, dzr], axis=1) @ Wa[: 2 * n, :]
    return xp.concat([dzu, dzr, dzc], axis=1), dhn, da_prev


def _weight_grads(dz, dhn, a_prev, e, x, reset_after, xp):
    """``dWu, dbu, dWr, dbr, dWc, dbc`` (and ``dbca``) from the gradients of all steps' rows.

    ``dz (rows, 3n)``, ``a_prev (rows, n)``, ``x (rows, n_x)``; reset after, ``dhn`` holds the
    gradients of ``Wc_a a_prev + bca``; before, ``e`` holds ``r * a_prev``."""
    n = a_prev.shape[1]
    if reset_after:
        dWa = xp.concat([dz[:, : 2 * n], dhn], axis=1).T @ a_prev
    else:
        dWa = xp.concat([dz[:, : 2 * n].T @ a_prev, dz[:, 2 * n :].T @ e], axis=0)
    dW = xp.concat([dWa, dz.T @ x], axis=1)
    db = xp.reshape(xp.sum(dz, axis=0), (3 * n, 1))
    grads = {}
    for k, g in enumerate(GATES):
        grads[f"dW{g}"] = dW[k * n : (k + 1) * n, :]
        grads[f"db{g}"] = db[k * n : (k + 1) * n, :]
    if reset_after:
        grads["dbca"] = xp.reshape(xp.sum(dhn, axis=0), (n, 1))
    return grads


def _kept(gates, a_prev, Wa, p, reset_after, xp):
    """What the forward keeps besides the gates, recomputed from a cache built by hand."""
    n = a_prev.shape[1]
    if reset_after:
        return a_prev @ Wa[2 * n :, :].T + p["bca"].T
    return gates[:, n : 2 * n] * a_prev


def _cache_gates(gates):
    """``ut, rt, cct`` of the seed-style cache, ``(n_a, m)`` views of a step's gates."""
    n = gates.shape[1] // 3
    return tuple(gates[:, k * n : (k + 1) * n].T for k in range(3))


def _stacked(p, xp):
    """``Wa (3n, n)``, ``Wx (3n, n_x)`` and ``b (3n, 1)`` in the order u, r, c, the state's and
    the input's columns apart (each contiguous, for BLAS); ``bca`` stays apart."""
    n = p["Wu"].shape[0]
    Wa = xp.concat([p[f"W{g}"][:, :n] for g in GATES])
    Wx = xp.concat([p[f"W{g}"][:, n:] for g in GATES])
    return Wa, Wx, xp.concat([_engine.bias(p, "bu"), _engine.bias(p, "br"), p["bc"]])


def _scaled(p, xp):
    """Stacked ``Wa``, ``Wx``, ``b`` with the gates' rows times -1 and the candidate's times -2."""
    Wa, Wx, b = _stacked(p, xp)
    n = Wa.shape[0] // 3
    scale = xp.concat(
        [
            xp.full((2 * n, 1), -1.0, dtype=Wa.dtype, device=device(Wa)),
            xp.full((n, 1), -2.0, dtype=Wa.dtype, device=device(Wa)),
        ]
    )
    return Wa * scale, Wx * scale, b * scale


def _bca(p, xp):
    return -2 * p["bca"] if "bca" in p else None


def _reset_after(p):
    return isinstance(p, dict) and "bca" in p


def _spec(fname, p, reset_after, backward=False):
    """The parameter keys and dims of the form; ``bca`` must be there exactly with it."""
    if not reset_after and _reset_after(p):
        raise ValueError(
            f"{fname}: parameters has 'bca', the recurrent bias of the reset-after "
            f"form; pass reset_after=True, or drop 'bca'"
        )
    spec = {k: PARAMS[k] for k in (("Wu", "Wr", "Wc") if backward else PARAMS)}
    if reset_after:
        spec["bca"] = ("n_a", 1)
    return optional(spec, p, OPTIONAL)


def _first_parameters(caches):
    """The parameter dictionary of the first step's cache, if caches have that shape."""
    try:
        return caches[0][0][-1]
    except (TypeError, IndexError, KeyError):
        return None

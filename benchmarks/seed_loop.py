"""The baseline: the seed's LSTM and RNN loops, line for line, on the array API.

Per step: a concatenate, a separate product per gate, and the weight gradients of that step
(``dW += dz @ concat.T``), as the course writes them. ``da`` carries to the step before (the
seed's bug fixed, so that both compute the same gradients). Activations are the seed's:
``xp.tanh`` and ``1 / (1 + exp(-z))``.
"""

from xrnn.activations import _softmax


def _sigmoid(z, xp):
    return 1 / (1 + xp.exp(-z))


def lstm_forward(x, a0, p, xp):
    _, m, T_x = x.shape
    n_y, n_a = p["Wy"].shape
    a = xp.zeros((n_a, m, T_x), dtype=x.dtype)
    c = xp.zeros((n_a, m, T_x), dtype=x.dtype)
    y = xp.zeros((n_y, m, T_x), dtype=x.dtype)
    a_next, c_next, caches = a0, xp.zeros_like(a0), []
    for t in range(T_x):
        xt, a_prev, c_prev = x[:, :, t], a_next, c_next
        concat = xp.concat([a_prev, xt], axis=0)
        ft = _sigmoid(p["Wf"] @ concat + p["bf"], xp)
        it = _sigmoid(p["Wi"] @ concat + p["bi"], xp)
        cct = xp.tanh(p["Wc"] @ concat + p["bc"])
        c_next = ft * c_prev + it * cct
        ot = _sigmoid(p["Wo"] @ concat + p["bo"], xp)
        a_next = ot * xp.tanh(c_next)
        a[:, :, t] = a_next
        c[:, :, t] = c_next
        y[:, :, t] = _softmax(p["Wy"] @ a_next + p["by"], xp)
        caches.append((a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p))
    return a, y, c, (caches, x)


def lstm_backward(da, caches, xp):
    caches, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    p = caches[0][9]
    dx = xp.zeros((n_x, m, T_x), dtype=da.dtype)
    grads = {f"d{k}{g}": xp.zeros_like(p[f"{k}{g}"]) for g in "fico" for k in "Wb"}
    da_prevt = xp.zeros((n_a, m), dtype=da.dtype)
    dc_prevt = xp.zeros((n_a, m), dtype=da.dtype)
    for t in reversed(range(T_x)):
        _, c_next, a_prev, c_prev, ft, it, cct, ot, xt, _ = caches[t]
        da_next, dc_next = da[:, :, t] + da_prevt, dc_prevt
        tanh_c = xp.tanh(c_next)
        dot = da_next * tanh_c * ot * (1 - ot)
        dcct = (dc_next * it + ot * (1 - tanh_c**2) * it * da_next) * (1 - cct**2)
        dit = (dc_next * cct + ot * (1 - tanh_c**2) * cct * da_next) * it * (1 - it)
        dft = (dc_next * c_prev + ot * (1 - tanh_c**2) * c_prev * da_next) * ft * (1 - ft)
        concat = xp.concat([a_prev, xt], axis=0)
        for g, d in zip("fico", (dft, dit, dcct, dot), strict=True):
            grads[f"dW{g}"] += d @ concat.T
            grads[f"db{g}"] += xp.sum(d, axis=1, keepdims=True)
        dz = (dft, dit, dcct, dot)
        da_prevt = sum(p[f"W{g}"][:, :n_a].T @ d for g, d in zip("fico", dz, strict=True))
        dx[:, :, t] = sum(p[f"W{g}"][:, n_a:].T @ d for g, d in zip("fico", dz, strict=True))
        dc_prevt = dc_next * ft + ot * (1 - tanh_c**2) * ft * da_next
    return {"dx": dx, "da0": da_prevt, "dc0": dc_prevt, **grads}


def rnn_forward(x, a0, p, xp):
    _, m, T_x = x.shape
    n_y, n_a = p["Wya"].shape
    a = xp.zeros((n_a, m, T_x), dtype=x.dtype)
    y = xp.zeros((n_y, m, T_x), dtype=x.dtype)
    a_next, caches = a0, []
    for t in range(T_x):
        xt, a_prev = x[:, :, t], a_next
        a_next = xp.tanh(p["Wax"] @ xt + p["Waa"] @ a_prev + p["ba"])
        a[:, :, t] = a_next
        y[:, :, t] = _softmax(p["Wya"] @ a_next + p["by"], xp)
        caches.append((a_next, a_prev, xt, p))
    return a, y, (caches, x)


def rnn_backward(da, caches, xp):
    caches, x = caches
    n_a, m, T_x = da.shape
    p = caches[0][3]
    dx = xp.zeros((x.shape[0], m, T_x), dtype=da.dtype)
    dWax, dWaa, dba = (xp.zeros_like(p[k]) for k in ("Wax", "Waa", "ba"))
    da_prevt = xp.zeros((n_a, m), dtype=da.dtype)
    for t in reversed(range(T_x)):
        a_next, a_prev, xt, _ = caches[t]
        dtanh = (1 - a_next**2) * (da[:, :, t] + da_prevt)
        dx[:, :, t] = p["Wax"].T @ dtanh
        da_prevt = p["Waa"].T @ dtanh
        dWax += dtanh @ xt.T
        dWaa += dtanh @ a_prev.T
        dba += xp.sum(dtanh, axis=1, keepdims=True)
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}

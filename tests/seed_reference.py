"""The seed's own NumPy code, kept as the oracle for the reference tests, and its input draws.

The functions are the seed's cells with comments trimmed; ``softmax`` and ``sigmoid`` are the
course's ``rnn_utils``. ``lstm_backward`` keeps the seed's bug (it never carries ``da_prev`` and
``dc_prev`` to the step before); ``lstm_backward_carried`` is the same code with the two carries
added, an independent check of xrnn's corrected values.
"""

import numpy as np

RNN_KEYS = ("Waa", "Wax", "Wya", "ba", "by")
LSTM_KEYS = ("Wf", "Wi", "Wo", "Wc", "Wy", "bf", "bi", "bo", "bc", "by")

_LSTM_PARAMS = [
    ("Wf", (5, 8)),
    ("bf", (5, 1)),
    ("Wi", (5, 8)),
    ("bi", (5, 1)),
    ("Wo", (5, 8)),
    ("bo", (5, 1)),
    ("Wc", (5, 8)),
    ("bc", (5, 1)),
]
_OUT = [("Wy", (2, 5)), ("by", (2, 1))]

# What each test cell draws after np.random.seed(1), in order (In [n] of the notebook).
DRAWS = {
    14: [
        ("xt", (3, 10)),
        ("a_prev", (5, 10)),
        ("Waa", (5, 5)),
        ("Wax", (5, 3)),
        ("Wya", (2, 5)),
        ("ba", (5, 1)),
        ("by", (2, 1)),
    ],
    16: [
        ("x", (3, 10, 4)),
        ("a0", (5, 10)),
        ("Waa", (5, 5)),
        ("Wax", (5, 3)),
        ("Wya", (2, 5)),
        ("ba", (5, 1)),
        ("by", (2, 1)),
    ],
    18: [("xt", (3, 10)), ("a_prev", (5, 10)), ("c_prev", (5, 10)), *_LSTM_PARAMS, *_OUT],
    20: [("x", (3, 10, 7)), ("a0", (5, 10)), *_LSTM_PARAMS, *_OUT],
    # In [22] draws ``b`` but its parameters use the ``ba`` of In [16].
    22: [
        ("xt", (3, 10)),
        ("a_prev", (5, 10)),
        ("Wax", (5, 3)),
        ("Waa", (5, 5)),
        ("Wya", (2, 5)),
        ("b", (5, 1)),
        ("by", (2, 1)),
        ("da_next", (5, 10)),
    ],
    34: [
        ("x", (3, 10, 4)),
        ("a0", (5, 10)),
        ("Wax", (5, 3)),
        ("Waa", (5, 5)),
        ("Wya", (2, 5)),
        ("ba", (5, 1)),
        ("by", (2, 1)),
        ("da", (5, 10, 4)),
    ],
    43: [
        ("xt", (3, 10)),
        ("a_prev", (5, 10)),
        ("c_prev", (5, 10)),
        *_LSTM_PARAMS,
        *_OUT,
        ("da_next", (5, 10)),
        ("dc_next", (5, 10)),
    ],
    # In [49] draws no Wy, by (it uses those of In [43]) and a da of 4 steps for 7 of x.
    49: [("x", (3, 10, 7)), ("a0", (5, 10)), *_LSTM_PARAMS, ("da", (5, 10, 4))],
}


def draw(cell):
    """The arrays that test cell ``In [cell]`` draws, by name, as the notebook ran it."""
    np.random.seed(1)
    values = {name: np.random.randn(*shape) for name, shape in DRAWS[cell]}
    if cell == 22:
        values["ba"] = draw(16)["ba"]
    if cell == 49:
        values.update({k: draw(43)[k] for k in ("Wy", "by")})
    return values


def params(values, keys):
    return {k: values[k] for k in keys}


def softmax(x):
    e_x = np.exp(x - np.max(x))
    return e_x / e_x.sum(axis=0)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def rnn_cell_forward(xt, a_prev, parameters):
    Wax, Waa, Wya = parameters["Wax"], parameters["Waa"], parameters["Wya"]
    ba, by = parameters["ba"], parameters["by"]
    a_next = np.tanh(np.dot(Wax, xt) + np.dot(Waa, a_prev) + ba)
    yt_pred = softmax(np.dot(Wya, a_next) + by)
    return a_next, yt_pred, (a_next, a_prev, xt, parameters)


def rnn_forward(x, a0, parameters):
    caches = []
    _n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wya"].shape
    a = np.zeros((n_a, m, T_x))
    y_pred = np.zeros((n_y, m, T_x))
    a_next = a0
    for t in range(T_x):
        a_next, yt_pred, cache = rnn_cell_forward(x[:, :, t], a_next, parameters)
        a[:, :, t] = a_next
        y_pred[:, :, t] = yt_pred
        caches.append(cache)
    return a, y_pred, (caches, x)


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    p = parameters
    n_x, m = xt.shape
    _n_y, n_a = p["Wy"].shape
    concat = np.zeros((n_x + n_a, m))
    concat[:n_a, :] = a_prev
    concat[n_a:, :] = xt
    ft = sigmoid(np.dot(p["Wf"], concat) + p["bf"])
    it = sigmoid(np.dot(p["Wi"], concat) + p["bi"])
    cct = np.tanh(np.dot(p["Wc"], concat) + p["bc"])
    c_next = ft * c_prev + it * cct
    ot = sigmoid(np.dot(p["Wo"], concat) + p["bo"])
    a_next = ot * np.tanh(c_next)
    yt_pred = softmax(np.dot(p["Wy"], a_next) + p["by"])
    return a_next, c_next, yt_pred, (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p)


def lstm_forward(x, a0, parameters):
    caches = []
    _n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wy"].shape
    a = np.zeros((n_a, m, T_x))
    c = np.zeros((n_a, m, T_x))
    y = np.zeros((n_y, m, T_x))
    a_next = a0
    c_next = np.zeros((n_a, m))
    for t in range(T_x):
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t] = a_next
        y[:, :, t] = yt
        c[:, :, t] = c_next
        caches.append(cache)
    return a, y, c, (caches, x)


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, parameters = cache
    Wax, Waa = parameters["Wax"], parameters["Waa"]
    dtanh = (1 - a_next**2) * da_next
    return {
        "dxt": np.dot(Wax.T, dtanh),
        "da_prev": np.dot(Waa.T, dtanh),
        "dWax": np.dot(dtanh, xt.T),
        "dWaa": np.dot(dtanh, a_prev.T),
        "dba": np.sum(dtanh, keepdims=True, axis=1),
    }


def rnn_backward(da, caches):
    caches, _x = caches
    _a1, _a0, x1, _parameters = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x))
    dWax = np.zeros((n_a, n_x))
    dWaa = np.zeros((n_a, n_a))
    dba = np.zeros((n_a, 1))
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        gradients = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        dxt, da_prevt = gradients["dxt"], gradients["da_prev"]
        dx[:, :, t] = dxt
        dWax += gradients["dWax"]
        dWaa += gradients["dWaa"]
        dba += gradients["dba"]
    return {"dx": dx, "da0": da_prevt, "dWax": dWax, "dWaa": dWaa, "dba": dba}


def lstm_cell_backward(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    p = parameters
    n_a, _m = a_next.shape
    dot = da_next * np.tanh(c_next) * ot * (1 - ot)
    dcct = (dc_next * it + ot * (1 - np.square(np.tanh(c_next))) * it * da_next) * (
        1 - np.square(cct)
    )
    dit = (dc_next * cct + ot * (1 - np.square(np.tanh(c_next))) * cct * da_next) * it * (1 - it)
    dft = (
        (dc_next * c_prev + ot * (1 - np.square(np.tanh(c_next))) * c_prev * da_next)
        * ft
        * (1 - ft)
    )
    concat = np.concatenate((a_prev, xt), axis=0)
    grads = {
        "dxt": sum(np.dot(p[f"W{g}"][:, n_a:].T, d) for g, d in zip("fico", (dft, dit, dcct, dot))),
        "da_prev": sum(
            np.dot(p[f"W{g}"][:, :n_a].T, d) for g, d in zip("fico", (dft, dit, dcct, dot))
        ),
        "dc_prev": dc_next * ft + ot * (1 - np.square(np.tanh(c_next))) * ft * da_next,
    }
    for g, d in zip("fico", (dft, dit, dcct, dot)):
        grads[f"dW{g}"] = np.dot(d, concat.T)
        grads[f"db{g}"] = np.sum(d, axis=1, keepdims=True)
    return grads


def lstm_backward(da, caches, carry=False):
    """The seed's lstm_backward; ``carry=True`` adds the two missing carries."""
    caches, _x = caches
    n_a, m, T_x = da.shape
    n_x, m = caches[0][8].shape
    dx = np.zeros((n_x, m, T_x))
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    sums = {f"d{k}{g}": 0.0 for g in "fico" for k in "Wb"}
    for t in reversed(range(T_x)):
        gradients = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        dx[:, :, t] = gradients["dxt"]
        for k in sums:
            sums[k] = sums[k] + gradients[k]
        if carry:
            da_prevt, dc_prevt = gradients["da_prev"], gradients["dc_prev"]
    return {"dx": dx, "da0": gradients["da_prev"], **sums}


def lstm_backward_carried(da, caches):
    return lstm_backward(da, caches, carry=True)

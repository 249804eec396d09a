"""GRU: its parameters and one step, forward beside backward, and the course's functions.

.. math::

    u = \\sigma(W_u [a_{prev}; x] + b_u), \\qquad
    r = \\sigma(W_r [a_{prev}; x] + b_r)

    g = \\tanh(W_c [r * a_{prev}; x] + b_c), \\qquad
    a = u * g + (1 - u) * a_{prev}

The course writes the gates ``Γu, Γr`` and the candidate ``c~`` (``cct`` in its caches). With
``reset_after=True`` (the form of cuDNN, PyTorch and Keras's default) the reset gate acts
after the recurrent product, which has a bias of its own, ``bca``:
``g = tanh(Wc[:, n_a:] x + bc + r * (Wc[:, :n_a] a_prev + bca))``. PyTorch writes the update
``h = (1 - z) * n + z * h_prev``: its ``n`` is ``g``, its ``r`` is ``r`` and its ``z`` is
``1 - u``, so its update gate's weights and biases are ours negated (see
:func:`xrnn.from_torch`). The two forms differ only in where ``r`` acts, and coincide when it
is 1.

Shapes follow the course: ``x`` is ``(n_x, m, T_x)``, states ``(n_a, m)``; ``Wu, Wr, Wc`` are
``(n_a, n_a + n_x)`` (state columns first), ``bu, br, bc`` (and ``bca``) ``(n_a, 1)``, ``Wy``
``(n_y, n_a)``, ``by`` ``(n_y, 1)``. A step's cache is
``(a_next, a_prev, ut, rt, cct, xt, parameters)``; a sequence's is ``([cache of each step], x)``.
The backward passes read the form from the parameters: ``bca`` is there exactly when the
forward pass had ``reset_after=True``.

The engine stacks the gates in the order u, r, g; a step works on rows, one per example. The
state's share ``zh`` covers u, r and (reset after) the candidate's ``Wc_a a_prev``; in the
course's form the candidate's needs ``r`` first, and the step makes that product itself.
"""

from . import _sequence
from ._arrays import Array, Grads, Lengths, Params
from ._cell import Cell, bias, bias_row, register, stack_gates, unstack_gates
from .activations import _sigmoid, _tanh, _through_sigmoid, _through_tanh

__all__ = ["gru_backward", "gru_cell_backward", "gru_cell_forward", "gru_forward"]

GATES = ("u", "r", "c")
RESET_AFTER = {"bca": ("n_a", 1)}  # the parameter of the reset-after form, beside the course's


def stack(p, *, xp):
    """``Wx (3n, n_x)``, ``b (1, 3n)``; ``Wh`` the state's columns of u, r and (reset after,
    with ``bca``) c; in the course's form ``Wc``, those of c, apart."""
    n = p["Wu"].shape[0]
    Wh, Wx = stack_gates(p, GATES, n, xp)
    b = bias_row([bias(p, "bu"), bias(p, "br"), p["bc"]], xp)  # bca is not bc's: see step
    if "bca" in p:
        bca = xp.asarray(xp.reshape(p["bca"], (1, -1)), copy=True)
        return {"Wx": Wx, "b": b, "Wh": Wh, "bca": bca}
    return {"Wx": Wx, "b": b, "Wh": Wh[: 2 * n, :], "Wc": Wh[2 * n :, :]}


def unstack(g, w, *, xp):
    n = g["Wh"].shape[1]
    dWh = g["Wh"] if "bca" in w else xp.concat([g["Wh"], g["Wc"]])
    grads = unstack_gates(dWh, g["Wx"], g["b"], GATES, n, xp)
    if "bca" in w:
        grads["dbca"] = xp.reshape(g["bca"], (n, 1))
    return grads


def step(w, zx, zh, prev, *, xp):
    """``(a,)`` and the saved ``(gates, e)`` from ``zx (rows, 3n)``, ``zh`` and
    ``prev = (a_prev,)``; ``gates = [u, r, g]``, ``e`` what the candidate's state share is
    made of: ``Wc_a a_prev + bca`` (reset after) or ``r * a_prev``."""
    (a_prev,) = prev
    n = a_prev.shape[1]
    ur = _sigmoid(zx[:, : 2 * n] + zh[:, : 2 * n], xp)
    u, r = ur[:, :n], ur[:, n:]
    if "bca" in w:
        e = zh[:, 2 * n :] + w["bca"]
        g = _tanh(zx[:, 2 * n :] + r * e, xp)
    else:
        e = r * a_prev
        g = _tanh(zx[:, 2 * n :] + e @ w["Wc"].T, xp)
    a = a_prev + u * (g - a_prev)  # u * g + (1 - u) * a_prev
    return (a,), (xp.concat([ur, g], axis=1), e)


def step_backward(w, prev, state, saved, d, *, xp):
    """From ``d = (da,)``: ``dJ/dz`` of u, r and the candidate; reset after, that of ``zh``'s
    tail ``Wc_a a_prev`` (the rest of ``zh`` was added to u's and r's); ``dJ/da_prev``'s
    direct part."""
    (a_prev,) = prev
    gates, e = saved
    (da,) = d
    n = a_prev.shape[1]
    u, r, g = (gates[:, k * n : (k + 1) * n] for k in range(3))
    du = g - a_prev
    du *= da
    du = _through_sigmoid(du, u)  # through a = a_prev + u * (g - a_prev), then sigmoid
    dau = da * u
    dg = _through_tanh(dau, g)
    da_prev = da - dau  # (1 - u) da
    if "bca" in w:  # g = tanh(zx_c + r * e)
        dr = _through_sigmoid(dg * e, r)
        return xp.concat([du, dr, dg], axis=1), dg * r, (da_prev,)
    de = dg @ w["Wc"]  # dJ/de, e = r * a_prev
    dr = _through_sigmoid(de * a_prev, r)
    de *= r
    da_prev += de
    return xp.concat([du, dr, dg], axis=1), None, (da_prev,)


def weight_grads(w, dZ, dZh, S, V, *, xp):
    """``bca``'s gradient (reset after), or ``Wc``'s, the candidate's state columns."""
    n = S[0].shape[2]
    if "bca" in w:
        return {"bca": xp.sum(dZh, axis=0)}
    return {"Wc": dZ[:, 2 * n :].T @ xp.reshape(V[0], (-1, n))}


CELL = register(
    Cell(
        name="gru",
        weights={
            **{f"W{k}": ("n_a", "n_a+IN") for k in GATES},
            **{f"b{k}": ("n_a", 1) for k in GATES},
        },
        states=("a",),
        gates={"ut": 0, "rt": 1, "cct": 2},
        stack=stack,
        unstack=unstack,
        step=step,
        step_backward=step_backward,
        weight_grads=weight_grads,
        optional={"bua": ("n_a", 1), "bra": ("n_a", 1)},  # PyTorch's second biases
    )
)


def _form(fname, parameters, reset_after):
    """The parameters the form adds: ``bca`` exactly with ``reset_after``."""
    if not reset_after and isinstance(parameters, dict) and "bca" in parameters:
        raise ValueError(
            f"{fname}: parameters has 'bca', the recurrent bias of the reset-after "
            f"form; pass reset_after=True, or drop 'bca'"
        )
    return RESET_AFTER if reset_after else {}


def _own_form(p):
    return RESET_AFTER if isinstance(p, dict) and "bca" in p else {}


def gru_cell_forward(
    xt: Array, a_prev: Array, parameters: Params, reset_after: bool = False
) -> tuple[Array, Array, tuple]:
    """One GRU step.

    ``xt (n_x, m)``, ``a_prev (n_a, m)`` -> ``a_next (n_a, m)``, ``yt_pred (n_y, m)`` and
    ``cache = (a_next, a_prev, ut, rt, cct, xt, parameters)``.
    """
    fname = "gru_cell_forward"
    extra = _form(fname, parameters, reset_after)
    (a,), y, cache = _sequence.cell_forward(CELL, fname, xt, {"a_prev": a_prev}, parameters, extra)
    return a, y, cache


def gru_cell_backward(da_next: Array, cache: tuple) -> Grads:
    """Backward of one GRU step, from ``da_next (n_a, m)``.

    Returns ``{"dxt", "da_prev", "dWu", "dbu", "dWr", "dbr", "dWc", "dbc"}`` (and ``"dbca"``
    in the reset-after form), each shaped like the array it differentiates.
    """
    d = {"da_next": da_next}
    return _sequence.cell_backward(CELL, "gru_cell_backward", d, cache, _own_form)


def gru_forward(
    x: Array, a0: Array, parameters: Params, reset_after: bool = False, lengths: Lengths = None
) -> tuple[Array, Array, tuple]:
    """GRU over a whole sequence.

    ``x (n_x, m, T_x)``, ``a0 (n_a, m)`` -> ``a (n_a, m, T_x)``, ``y (n_y, m, T_x)`` and
    ``caches = ([cache of each step], x)``. With ``lengths`` (one per example), steps past an
    example's length leave its state as it was and output zeros (their caches mean nothing).
    """
    fname = "gru_forward"
    extra = _form(fname, parameters, reset_after)
    (a,), y, caches = _sequence.forward(CELL, fname, x, {"a0": a0}, parameters, lengths, extra)
    return a, y, caches


def gru_backward(da: Array, caches: tuple) -> Grads:
    """Backward of :func:`gru_forward`, from ``da (n_a, m, T_x)`` = dJ/da at every step.

    Returns ``{"dx", "da0", "dWu", "dbu", "dWr", "dbr", "dWc", "dbc"}`` (and ``"dbca"`` in the
    reset-after form). As :func:`xrnn.lstm_backward` does, it writes the gates' gradients over
    the gates kept in ``caches`` and spends them; caches built by hand are left as they were.
    """
    return _sequence.backward(CELL, "gru_backward", da, caches, _own_form)

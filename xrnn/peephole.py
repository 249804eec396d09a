"""Peephole LSTM (Gers, Schraudolph and Schmidhuber, 2002): the input and forget gates also see
``c_prev``, and the output gate sees ``c``, through diagonal weights ``pi, pf, po (n_a, 1)``.

.. math::

    f = \\sigma(W_f [a_{prev}; x] + p_f * c_{prev} + b_f), \\quad
    i = \\sigma(W_i [a_{prev}; x] + p_i * c_{prev} + b_i), \\quad
    g = \\tanh(W_c [a_{prev}; x] + b_c)

    c = f * c_{prev} + i * g, \\qquad
    o = \\sigma(W_o [a_{prev}; x] + p_o * c + b_o), \\qquad
    a = o * \\tanh(c)

Parameters, shapes and functions are the LSTM's (:mod:`xrnn.lstm`, :mod:`xrnn.layers`), plus
the peepholes ``pf, pi, po``.
"""

from dataclasses import replace

from . import _sequence, layers
from ._arrays import Array, Grads, Lengths, Params
from ._cell import bias, bias_row, register, stack_gates, unstack_gates
from .activations import _sigmoid, _tanh, _through_sigmoid, _through_tanh
from .lstm import CELL as LSTM

__all__ = ["peephole_backward", "peephole_forward", "peephole_layers", "peephole_layers_backward"]

GATES = ("f", "i", "o", "c")
PEEPHOLES = ("pf", "pi", "po")


def stack(p, *, xp):
    """The LSTM's stacked gates f, i, o, g, and the peepholes as rows ``(1, n)``."""
    Wh, Wx = stack_gates(p, GATES, p["Wf"].shape[0], xp)
    b = bias_row([bias(p, f"b{k}") for k in GATES], xp)
    rows = {k: xp.asarray(xp.reshape(p[k], (1, -1)), copy=True) for k in PEEPHOLES}
    return {"Wx": Wx, "b": b, "Wh": Wh, **rows}


def unstack(g, w, *, xp):
    n = g["Wh"].shape[1]
    grads = unstack_gates(g["Wh"], g["Wx"], g["b"], GATES, n, xp, order="fico")
    return {**grads, **{f"d{k}": xp.reshape(g[k], (n, 1)) for k in PEEPHOLES}}


def step(w, zx, zh, prev, *, xp):
    """``(a, c)`` and the saved ``(gates, tanh(c))``; ``gates = [f, i, o, g]``."""
    _, c_prev = prev
    n = c_prev.shape[1]
    z = zx + zh
    f = _sigmoid(z[:, :n] + w["pf"] * c_prev, xp)
    i = _sigmoid(z[:, n : 2 * n] + w["pi"] * c_prev, xp)
    g = _tanh(z[:, 3 * n :], xp)
    c = f * c_prev + i * g
    o = _sigmoid(z[:, 2 * n : 3 * n] + w["po"] * c, xp)
    tc = _tanh(c, xp)
    return (o * tc, c), (xp.concat([f, i, o, g], axis=1), tc)


def step_backward(w, prev, state, saved, d, *, xp):
    """From ``d = (da, dc)``: ``dJ/dz`` of the gates (as blocks) and ``dJ/dc_prev``."""
    _, c_prev = prev
    gates, tc = saved
    da, dc = d
    n = tc.shape[1]
    f, i, o, g = (gates[:, k * n : (k + 1) * n] for k in range(4))
    do = _through_sigmoid(da * tc, o)
    dc = dc + _through_tanh(da * o, tc) + do * w["po"]  # c reaches a, and o through po
    df = _through_sigmoid(dc * c_prev, f)
    di = _through_sigmoid(dc * g, i)
    dg = _through_tanh(dc * i, g)
    dc_prev = dc * f + df * w["pf"] + di * w["pi"]
    return [df, di, do, dg], None, (None, dc_prev)


def weight_grads(w, dZ, dZh, S, V, *, xp):
    """The peepholes': ``dJ/dz`` of their gate times the ``c`` they see, summed over rows."""
    n = S[1].shape[2]
    c_prev, c = (xp.reshape(C, (-1, n)) for C in (S[1][:-1, ...], S[1][1:, ...]))
    seen = {"pf": (0, c_prev), "pi": (1, c_prev), "po": (2, c)}
    return {k: xp.sum(dZ[:, j * n : (j + 1) * n] * v, axis=0) for k, (j, v) in seen.items()}


CELL = register(
    replace(  # the LSTM's states, gates and recurrent biases, with the peepholes
        LSTM,
        name="peephole",
        weights={**LSTM.weights, **{k: ("n_a", 1) for k in PEEPHOLES}},
        stack=stack,
        unstack=unstack,
        step=step,
        step_backward=step_backward,
        weight_grads=weight_grads,
    )
)


def peephole_forward(
    x: Array, a0: Array, parameters: Params, c0: Array | None = None, lengths: Lengths = None
) -> tuple[Array, Array, Array, tuple]:
    """As :func:`xrnn.lstm_forward`: ``a, y, c, caches``."""
    states0 = {"a0": a0, "c0": c0}
    fname = "peephole_forward"
    (a, c), y, caches = _sequence.forward(CELL, fname, x, states0, parameters, lengths)
    return a, y, c, caches


def peephole_backward(da: Array, caches: tuple) -> Grads:
    """As :func:`xrnn.lstm_backward`, with the peepholes' gradients ``dpf, dpi, dpo``."""
    return _sequence.backward(CELL, "peephole_backward", da, caches)


def peephole_layers(
    x: Array,
    parameters: Params,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    a0: Array | None = None,
    c0: Array | None = None,
    lengths: Lengths = None,
) -> tuple[Array, tuple[Array, Array], dict]:
    """As :func:`xrnn.lstm_layers`: ``a, (a_n, c_n), cache``."""
    states0 = {"a0": a0, "c0": c0}
    return layers.forward(
        CELL, "peephole_layers", x, parameters, num_layers, bidirectional, states0, lengths
    )


def peephole_layers_backward(
    da: Array,
    cache: dict,
    da_n: Array | None = None,
    dc_n: Array | None = None,
    *,
    need_dx: bool = True,
) -> Grads:
    """As :func:`xrnn.lstm_layers_backward`."""
    d = {"da_n": da_n, "dc_n": dc_n}
    return layers.backward(CELL, "peephole_layers_backward", da, cache, d, need_dx)

"""LSTM: its parameters and one step, forward beside backward, and the course's functions.

.. math::

    f = \\sigma(W_f [a_{prev}; x] + b_f), \\quad
    i = \\sigma(W_i [a_{prev}; x] + b_i), \\quad
    o = \\sigma(W_o [a_{prev}; x] + b_o), \\quad
    g = \\tanh(W_c [a_{prev}; x] + b_c)

    c = f * c_{prev} + i * g, \\qquad a = o * \\tanh(c), \\qquad
    \\hat y = \\mathrm{softmax}(W_y a + b_y)

The course writes the gates ``Γf, Γi, Γo`` and the candidate ``c~`` (``cct`` in its caches);
``g`` is PyTorch's name for the candidate. Shapes follow the course: ``x`` is
``(n_x, m, T_x)``, states are ``(n_a, m)``; the gate weights ``Wf, Wi, Wc, Wo`` are
``(n_a, n_a + n_x)`` and act on ``[a_prev; xt]`` (state rows first), the biases ``bf, bi, bc,
bo`` are ``(n_a, 1)``, ``Wy`` is ``(n_y, n_a)`` and ``by`` is ``(n_y, 1)``.

The engine stacks the gates in the order f, i, o, g (the sigmoid gates first), and a step works
on rows, one per example: ``z (m, 4 n_a) = zx + zh``, the input's and the state's shares.
"""

from . import _sequence
from ._arrays import Array, Grads, Lengths, Params
from ._cell import Cell, bias, bias_row, register, stack_gates, unstack_gates
from .activations import _sigmoid_tanh, _tanh, _through_sigmoid, _through_tanh

__all__ = ["lstm_backward", "lstm_cell_backward", "lstm_cell_forward", "lstm_forward"]

GATES = ("f", "i", "o", "c")  # the parameter keys of the stacked gates, in their order


def stack(p, *, xp):
    """``Wh (4n, n)``, ``Wx (4n, n_x)``, ``b (1, 4n)``: the gates f, i, o, g stacked."""
    Wh, Wx = stack_gates(p, GATES, p["Wf"].shape[0], xp)
    return {"Wx": Wx, "b": bias_row([bias(p, f"b{k}") for k in GATES], xp), "Wh": Wh}


def unstack(g, w, *, xp):
    """The gradients in the course's order: ``dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo``."""
    return unstack_gates(g["Wh"], g["Wx"], g["b"], GATES, g["Wh"].shape[1], xp, order="fico")


def step(w, zx, zh, prev, *, xp):
    """``(a, c)`` and the saved ``(gates, tanh(c))`` from ``zx, zh (rows, 4n)`` and
    ``prev = (a_prev, c_prev)``; ``gates = [f, i, o, g]``."""
    _, c_prev = prev
    n = c_prev.shape[1]
    gates = _sigmoid_tanh(zx, zh, 3 * n, xp)
    f, i, o, g = (gates[:, k * n : (k + 1) * n] for k in range(4))
    c = f * c_prev + i * g
    tc = _tanh(c, xp)
    return (o * tc, c), (gates, tc)


def step_backward(w, prev, state, saved, d, *, xp):
    """From ``d = (da, dc)``, the gradients reaching ``a`` and ``c``: ``dJ/dz`` of the four
    gates' pre-activations (``zh`` was added: it has the same) and ``dJ/dc_prev``."""
    _, c_prev = prev
    gates, tc = saved
    da, dc = d
    n = tc.shape[1]
    f, i, o, g = (gates[:, k * n : (k + 1) * n] for k in range(4))
    dc = _through_tanh(da * o, tc) + dc  # through a = o * tanh(c), and from the next step
    dfio = xp.concat([dc * c_prev, dc * g, da * tc], axis=1)  # dJ/df, dJ/di, dJ/do
    dz = [_through_sigmoid(dfio, gates[:, : 3 * n]), _through_tanh(dc * i, g)]
    return dz, None, (None, dc * f)


_W, _B = ("n_a", "n_a+IN"), ("n_a", 1)
CELL = register(
    Cell(
        name="lstm",
        weights={**{f"W{k}": _W for k in "fico"}, **{f"b{k}": _B for k in "fico"}},
        states=("a", "c"),
        gates={"ft": 0, "it": 1, "cct": 3, "ot": 2},
        stack=stack,
        unstack=unstack,
        step=step,
        step_backward=step_backward,
        optional={f"b{k}a": _B for k in "fico"},  # PyTorch's second biases, the state's side
    )
)


def lstm_cell_forward(
    xt: Array, a_prev: Array, c_prev: Array, parameters: Params
) -> tuple[Array, Array, Array, tuple]:
    """One LSTM step.

    ``xt (n_x, m)``, ``a_prev``, ``c_prev (n_a, m)`` -> ``a_next``, ``c_next (n_a, m)``,
    ``yt_pred (n_y, m)`` and
    ``cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)``.
    """
    prev = {"a_prev": a_prev, "c_prev": c_prev}
    (a, c), y, cache = _sequence.cell_forward(CELL, "lstm_cell_forward", xt, prev, parameters)
    return a, c, y, cache


def lstm_cell_backward(da_next: Array, dc_next: Array, cache: tuple) -> Grads:
    """Backward of one LSTM step, from ``da_next``, ``dc_next (n_a, m)``.

    Returns ``{"dxt", "da_prev", "dc_prev", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo",
    "dbo"}``, each shaped like the array it differentiates.
    """
    d = {"da_next": da_next, "dc_next": dc_next}
    return _sequence.cell_backward(CELL, "lstm_cell_backward", d, cache)


def lstm_forward(
    x: Array, a0: Array, parameters: Params, c0: Array | None = None, lengths: Lengths = None
) -> tuple[Array, Array, Array, tuple]:
    """LSTM over a whole sequence.

    ``x (n_x, m, T_x)``, ``a0 (n_a, m)`` and optional ``c0 (n_a, m)`` (zeros by default) ->
    ``a``, ``c (n_a, m, T_x)``, ``y (n_y, m, T_x)`` and ``caches = ([cache of each step], x)``,
    returned as ``a, y, c, caches``. With ``lengths`` (one per example), steps past an
    example's length leave its state as it was and output zeros (their caches mean nothing).
    """
    states0 = {"a0": a0, "c0": c0}
    (a, c), y, caches = _sequence.forward(CELL, "lstm_forward", x, states0, parameters, lengths)
    return a, y, c, caches


def lstm_backward(da: Array, caches: tuple) -> Grads:
    """Backward of :func:`lstm_forward`, from ``da (n_a, m, T_x)`` = dJ/da at every step.

    Returns ``{"dx", "da0", "dc0", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"}``,
    shaped like ``x``, ``a0``, ``c0`` and the parameters. Unlike the seed, the gradients
    reaching ``a_prev`` and ``c_prev`` are carried from each step into the one before.

    The gradients of the gates overwrite the gates kept in ``caches``, as PyTorch frees its graph
    after a backward pass: ``caches`` is then spent (emptied), and a second backward pass needs
    a new forward pass. Caches built by hand are left as they were.
    """
    return _sequence.backward(CELL, "lstm_backward", da, caches)

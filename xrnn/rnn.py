"""Vanilla RNN: its parameters and one step, forward beside backward, and the course's functions.

.. math::

    a = \\tanh(W_{ax} x + W_{aa} a_{prev} + b_a), \\qquad
    \\hat y = \\mathrm{softmax}(W_{ya} a + b_y)

Shapes follow the course: ``x`` is ``(n_x, m, T_x)``, states are ``(n_a, m)``, outputs
``(n_y, m)``; parameters are ``Wax (n_a, n_x)``, ``Waa (n_a, n_a)``, ``ba (n_a, 1)``,
``Wya (n_y, n_a)``, ``by (n_y, 1)``. A step works on rows, one per example:
``z (m, n_a) = zx + zh``, the input's and the state's shares.
"""

from . import _sequence
from ._arrays import Array, Grads, Lengths, Params
from ._cell import Cell, bias, register
from .activations import _tanh, _through_tanh

__all__ = ["rnn_backward", "rnn_cell_backward", "rnn_cell_forward", "rnn_forward"]


def stack(p, *, xp):
    """``Wx = Wax``, ``b = ba^T`` and ``Wh = Waa``, as new arrays."""
    b = xp.reshape(bias(p, "ba"), (1, -1))
    return {k: xp.asarray(v, copy=True) for k, v in (("Wx", p["Wax"]), ("b", b), ("Wh", p["Waa"]))}


def unstack(g, w, *, xp):
    return {"dWax": g["Wx"], "dWaa": g["Wh"], "dba": xp.reshape(g["b"], (-1, 1))}


def step(w, zx, zh, prev, *, xp):
    """``(a,)`` from ``zx, zh (rows, n)``; it saves nothing, its backward needs only ``a``."""
    return (_tanh(zx + zh, xp),), ()


def step_backward(w, prev, state, saved, d, *, xp):
    """``dJ/dz = dJ/da * (1 - a^2)``, through tanh; ``zh`` was added: it has the same."""
    return _through_tanh(d[0], state[0]), None, (None,)


CELL = register(
    Cell(
        name="rnn",
        weights={"Wax": ("n_a", "IN"), "Waa": ("n_a", "n_a"), "ba": ("n_a", 1)},
        states=("a",),
        gates={},
        stack=stack,
        unstack=unstack,
        step=step,
        step_backward=step_backward,
        optional={"baa": ("n_a", 1)},  # PyTorch's second bias, on the state's side
        output=("Wya", "by"),
    )
)


def rnn_cell_forward(xt: Array, a_prev: Array, parameters: Params) -> tuple[Array, Array, tuple]:
    """One RNN step.

    ``xt (n_x, m)``, ``a_prev (n_a, m)`` -> ``a_next (n_a, m)``, ``yt_pred (n_y, m)`` and
    ``cache = (a_next, a_prev, xt, parameters)``.
    """
    (a,), y, cache = _sequence.cell_forward(
        CELL, "rnn_cell_forward", xt, {"a_prev": a_prev}, parameters
    )
    return a, y, cache


def rnn_cell_backward(da_next: Array, cache: tuple) -> Grads:
    """Backward of one RNN step, from ``da_next (n_a, m)`` = dJ/d(a_next).

    Returns ``{"dxt", "da_prev", "dWax", "dWaa", "dba"}``, shaped like ``xt``, ``a_prev``,
    ``Wax``, ``Waa``, ``ba``.
    """
    return _sequence.cell_backward(CELL, "rnn_cell_backward", {"da_next": da_next}, cache)


def rnn_forward(
    x: Array, a0: Array, parameters: Params, lengths: Lengths = None
) -> tuple[Array, Array, tuple]:
    """RNN over a whole sequence.

    ``x (n_x, m, T_x)``, ``a0 (n_a, m)`` -> ``a (n_a, m, T_x)``, ``y_pred (n_y, m, T_x)`` and
    ``caches = ([cache of each step], x)``. With ``lengths`` (one per example), steps past an
    example's length leave its state as it was and output zeros (their caches mean nothing).
    """
    (a,), y, caches = _sequence.forward(CELL, "rnn_forward", x, {"a0": a0}, parameters, lengths)
    return a, y, caches


def rnn_backward(da: Array, caches: tuple) -> Grads:
    """Backward of :func:`rnn_forward`, from ``da (n_a, m, T_x)`` = dJ/da at every step.

    Returns ``{"dx", "da0", "dWax", "dWaa", "dba"}``, shaped like ``x``, ``a0``, ``Wax``, ``Waa``,
    ``ba``. ``caches`` are left as they were.
    """
    return _sequence.backward(CELL, "rnn_backward", da, caches)

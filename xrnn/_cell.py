"""What a cell is, the cells xrnn knows, and the helpers cell files share.

A cell is a handful of pure functions in its own file, forward beside backward (``xrnn/lstm.py``
is the model to copy): its parameters, how they stack into the engine's layout, and one time
step on a batch of rows. :mod:`xrnn._engine` runs the time loop for every cell,
:mod:`xrnn._sequence` gives each cell the course's functions, :mod:`xrnn.layers` stacks it.

The engine's layout of a cell's weights, ``w = stack(p, xp)``, a dict of new arrays (never
views of ``p``, so that changing ``p`` after a forward pass cannot change its backward):

- ``w["Wx"] (G, n_x)`` and ``w["b"] (1, G)``: the input's share of the pre-activations of a
  step, ``zx = x Wx^T + b``, for all ``G`` of them (for example the LSTM's ``4 n_a`` gate rows);
- ``w["Wh"] (H, n_a)``: the state's share, ``zh = a_prev Wh^T`` (``H <= G``; for the LSTM, all
  ``G``), one product for the whole batch that the engine makes before each step;
- anything else the step uses (the GRU's ``bca``, the peepholes), under names of its own;
- ``w["optional"]``: the optional parameter keys it folded in (see :func:`stack_weights`).
"""

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CELLS",
    "Cell",
    "bias",
    "bias_row",
    "grads_by_key",
    "register",
    "stack_gates",
    "stack_weights",
    "unstack_gates",
]


@dataclass(frozen=True)
class Cell:
    """A recurrent cell, for the engine.

    - ``weights``: parameter key -> dims; ``"IN"`` stands for the input's width;
    - ``states``: the names of the carried states, the output first: ``("a",)``, ``("a", "c")``;
    - ``gates``: the seed-format cache's names of the blocks of the saved gates, in the order
      the cache holds them, each with its block's index in the stacked gates;
    - ``stack(p, *, xp) -> w`` and ``unstack(g, w, *, xp) -> grads``: the weights into the
      engine's layout, and the gradients of ``w``'s entries (``g["Wx"]``, ...) back under the
      parameters' keys (``{"dWf": ..., ...}``);
    - ``step(w, zx, zh, prev, *, xp) -> (state, saved)``: one step for a batch of rows, from the
      input's and the state's shares of the pre-activations ``zx (rows, G)``, ``zh (rows, H)``
      and the previous states (a list of ``(rows, n_a)``) to the new states and what the
      backward needs; when ``saved[0]`` is as wide as ``zx`` (the gates), the engine keeps it
      in ``zx``'s place. The states it returns are new arrays (the engine may zero rows of
      them in place);
    - ``step_backward(w, prev, state, saved, d, *, xp) -> (dzx, dzh, dprev)``: from ``d``, the
      gradients reaching the new states, the gradient of ``zx`` (an array, or a list of its
      column blocks, which the engine writes side by side), that of ``zh`` (None when ``zh``
      was simply added to ``zx``'s first ``H`` columns: it is then ``dzx[:, :H]``; otherwise
      that of its last columns, where it was not, the rest having been added) and those
      reaching the previous states through the step's own arithmetic (None for none; the
      engine adds ``dzh Wh`` to the output's). It writes into none of its arguments, and
      returns new arrays;
    - ``weight_grads(w, dZ, dZh, S, V, *, xp) -> {name: gradient}``: the gradients of ``w``'s
      entries besides ``Wx``, ``b`` and ``Wh``, from the gradients ``dZ (T*m, G)`` of all steps,
      those of ``zh``'s tail ``dZh (T*m, h)`` (or None) and the engine's buffers ``S``, ``V``
      (see the engine; the tail's gradients may have taken the place of the last of ``V`` as
      wide);
    - ``optional``: the parameter keys that may be there, PyTorch's second (recurrent) biases
      ``b...a``, added to ``b...``; ``output``: the keys of the course's output layer.
    """

    name: str
    weights: dict
    states: tuple
    gates: dict
    stack: Any
    unstack: Any
    step: Any
    step_backward: Any
    weight_grads: Any = None
    optional: dict = field(default_factory=dict)
    output: tuple = ("Wy", "by")


CELLS: dict[str, "Cell"] = {}


def register(cell):
    """Add ``cell`` to the cells that :func:`xrnn.init_parameters` and the layers know."""
    CELLS[cell.name] = cell
    return cell


def stack_weights(cell, p, xp):
    """``cell.stack(p)``, with the optional biases that ``p`` has, whose gradients the backward
    adds (each equal to its input-side twin's)."""
    w = cell.stack(p, xp=xp)
    w["optional"] = tuple(k for k in cell.optional if k in p)
    return w


def grads_by_key(cell, g, w, xp):
    """The gradients of ``w``'s entries under the parameters' keys, ``d`` in front."""
    grads = cell.unstack(g, w, xp=xp)
    return {**grads, **{f"d{k}": grads[f"d{k[:-1]}"] for k in w["optional"]}}


def bias(p, key):
    """The bias ``p[key]``, plus the recurrent bias ``p[key + "a"]`` where there is one."""
    return p[key] + p[key + "a"] if key + "a" in p else p[key]


def stack_gates(p, keys, n, xp):
    """``Wh (len(keys) n, n)`` and ``Wx (len(keys) n, n_x)`` of the gates whose weights
    ``p["W" + k] (n, n + n_x)`` act on ``[a_prev; x]``, stacked in the order of ``keys``, the
    state's and the input's columns apart (each contiguous, for BLAS)."""
    Wh = xp.concat([p[f"W{k}"][:, :n] for k in keys])
    Wx = xp.concat([p[f"W{k}"][:, n:] for k in keys])
    return Wh, Wx


def bias_row(biases, xp):
    """The biases ``(n, 1)`` of the stacked gates as one row ``(1, len(biases) n)``."""
    return xp.reshape(xp.concat(biases), (1, -1))


def unstack_gates(dWh, dWx, db, keys, n, xp, order=None):
    """``{"dW" + k, "db" + k}`` of the gates stacked in the order of ``keys``, given in the
    order ``order`` (by default ``keys``'s)."""
    grads = {}
    for k in order or keys:
        rows = slice(keys.index(k) * n, (keys.index(k) + 1) * n)
        grads[f"dW{k}"] = xp.concat([dWh[rows, :], dWx[rows, :]], axis=1)
        grads[f"db{k}"] = xp.reshape(db[rows], (n, 1))
    return grads

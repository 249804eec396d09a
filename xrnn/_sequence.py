"""The course's functions for any cell, in the course's layout, on the engine.

``x`` is ``(n_x, m, T_x)`` and states are ``(n_a, m)``, as in the course; parameters have the
course's keys (``Wf, bf, ...``, and the output layer's ``Wy, by``). A step's cache is a tuple
in the seed's format: the new states, the previous ones, the blocks of the gates the cell names
(``ft, it, cct, ot``), ``xt`` and the parameters, for example
``(a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)``. A sequence's caches are
``(steps, x)``: :class:`Steps`, the list of every step's cache as views of the engine's buffers,
which it keeps (its ``tape``) for the backward pass. Caches built by hand in the same format
(from the cell functions, step by step) are accepted too: the backward replays their steps.
"""

from . import _engine
from ._cell import grads_by_key, stack_weights
from ._checks import check, check_caches, check_lengths, unpack
from ._lengths import Lengths

__all__ = ["Step", "Steps", "backward", "cell_backward", "cell_forward", "forward", "spec"]

_STATE = ("n_a", "m")


class Steps(list):
    """The per-step caches of a sequence in the seed's format, as views of the buffers of
    ``tape``, the engine's record of the forward pass, which the backward pass reads. A backward
    pass that writes its gradients over what they hold spends the tape (see
    :class:`xrnn._engine.Tape`) and empties the list."""

    def __init__(self, steps, tape):
        super().__init__(steps)
        self.tape = tape

    @property
    def spent(self):
        return self.tape.spent


class Step(tuple):
    """The cache of one step in the seed's format (a tuple), which also keeps ``w``, the
    weights of its forward pass, for its backward."""

    def __new__(cls, items, w):
        step = super().__new__(cls, items)
        step.w = w
        return step


def spec(cell, parameters, output=True, extra=None):
    """The parameter keys and dims of ``cell`` in the course's functions (``IN`` is ``n_x``),
    with the optional keys that ``parameters`` has, ``extra`` (or ``extra(parameters)``) and
    the output layer's."""
    dims = {k: tuple(_course(d) for d in v) for k, v in cell.weights.items()}
    if output:
        dims.update({cell.output[0]: ("n_y", "n_a"), cell.output[1]: ("n_y", 1)})
    dims.update((extra(parameters) if callable(extra) else extra) or {})
    if isinstance(parameters, dict):
        dims.update({k: v for k, v in cell.optional.items() if k in parameters})
    return dims


def _course(dim):
    return dim.replace("IN", "n_x") if isinstance(dim, str) else dim


def fields(cell):
    """The seed-format cache of a step: its items' names and dims."""
    return {
        **{f"{s}_next": _STATE for s in cell.states},
        **{f"{s}_prev": _STATE for s in cell.states},
        **{g: _STATE for g in cell.gates},
        "xt": ("n_x", "m"),
        "parameters": None,
    }


def forward(cell, fname, x, states0, parameters, lengths=None, extra=None):
    """The states ``(n_a, m, T_x)`` after every step (each state's), ``y (n_y, m, T_x)`` and
    ``caches = (steps, x)``. ``states0`` maps ``a0`` (and ``c0``) to the initial states, or to
    None for zeros (not ``a0``)."""
    if states0["a0"] is None:  # the course's functions take a0; only c0 defaults to zeros
        raise TypeError(f"{fname}: a0 must be an array (n_a, m), the initial state; got None")
    arrays = {"x": (x, ("n_x", "m", "T_x"))}
    arrays.update({k: (v, _STATE) for k, v in states0.items() if v is not None})
    xp, sizes = check(fname, arrays, parameters, spec(cell, parameters, extra=extra))
    lengths = check_lengths(fname, lengths, sizes["m"], sizes["T_x"], xp, x)
    a0 = states0["a0"]
    rows = tuple(xp.zeros_like(a0.T) if v is None else v.T for v in states0.values())
    w = stack_weights(cell, parameters, xp)
    tape = _engine.forward(cell, w, x, rows, lengths, xp=xp)
    steps = Steps(_views(cell, tape, x, parameters), tape)
    Wy, by = (parameters[k] for k in cell.output)
    y = _engine.outputs(tape.S[0][1:, ...], Wy, by, lengths.masks, xp)
    states = tuple(xp.permute_dims(S[1:, ...], (2, 1, 0)) for S in tape.S)
    return states, y, (steps, x)


def backward(cell, fname, da, caches, extra=None):
    """Gradients of :func:`forward` from ``da (n_a, m, T_x)``: ``dx``, ``da0`` (and ``dc0``)
    and those of the parameters."""
    xp, _, steps = check_caches(
        fname, da, caches, fields(cell), lambda p: spec(cell, p, False, extra)
    )
    if isinstance(steps, Steps) and steps.tape.cell is not cell:
        raise TypeError(
            f"{fname}: caches come from the forward pass of another cell, "
            f"{steps.tape.cell.name}; pass them to its backward function"
        )
    tape = steps.tape if isinstance(steps, Steps) else _replay(cell, steps, caches[1], xp)
    grads, dx, d0 = _engine.backward(tape, da, None, xp=xp)
    if isinstance(steps, Steps) and tape.spent:
        steps.clear()
    return {"dx": dx, **_named(cell, d0, "0"), **grads_by_key(cell, grads, tape.w, xp)}


def cell_forward(cell, fname, xt, prev, parameters, extra=None):
    """One step: the new states ``(n_a, m)``, ``yt_pred (n_y, m)`` and the step's cache.
    ``prev`` maps ``a_prev`` (and ``c_prev``) to the previous states."""
    arrays = {"xt": (xt, ("n_x", "m"))}
    arrays.update({k: (v, _STATE) for k, v in prev.items()})
    xp, _ = check(fname, arrays, parameters, spec(cell, parameters, extra=extra))
    x = xp.expand_dims(xt, axis=2)
    lengths = Lengths(None, xt.shape[1], 1, xp, xt)
    w = stack_weights(cell, parameters, xp)
    tape = _engine.forward(cell, w, x, tuple(v.T for v in prev.values()), lengths, xp=xp)
    (cache,) = _views(cell, tape, x, parameters)
    Wy, by = (parameters[k] for k in cell.output)
    y = _engine.outputs(tape.S[0][1:, ...], Wy, by, None, xp)[:, :, 0]
    return tuple(S[1, ...].T for S in tape.S), y, Step(cache, w)


def cell_backward(cell, fname, d, cache, extra=None):
    """Gradients of one step from ``d``, which maps ``da_next`` (and ``dc_next``) to the
    gradients of the new states: ``dxt``, ``da_prev`` (``dc_prev``) and the parameters'."""
    names, w = fields(cell), getattr(cache, "w", None)
    cache = unpack(fname, "cache", cache, names)
    p = cache[-1]
    arrays = {f"cache {k}": (v, names[k]) for k, v in zip(names, cache[:-1], strict=False)}
    arrays.update({k: (v, _STATE) for k, v in d.items()})
    if w is None:  # a cache built by hand: its parameters
        xp, _ = check(fname, arrays, p, spec(cell, p, False, extra))
    else:  # the cell function's: the weights its forward pass used
        xp, _ = check(fname, arrays)
    xt = cache[-2]
    tape = _replay(cell, [cache], xp.expand_dims(xt, axis=2), xp, w)
    da = xp.expand_dims(d["da_next"], axis=2)
    dfinal = (None, *(v.T for k, v in d.items() if k != "da_next"))
    grads, dx, d0 = _engine.backward(tape, da, dfinal, xp=xp)
    return {
        "dxt": dx[:, :, 0],
        **_named(cell, d0, "_prev"),
        **grads_by_key(cell, grads, tape.w, xp),
    }


def _named(cell, rows, suffix):
    """``{"da" + suffix: ...}`` of the states' gradients, given as rows ``(m, n_a)``."""
    return {f"d{s}{suffix}": v.T for s, v in zip(cell.states, rows, strict=True)}


def _views(cell, tape, x, parameters):
    """Every step's cache in the seed's format, as views of the tape's buffers."""
    S, Z, T = tape.S, tape.Z, x.shape[2]
    n = S[0].shape[2]
    blocks = {g: (slice(None), slice(k * n, (k + 1) * n)) for g, k in cell.gates.items()}
    state = [tuple(s[t, ...].T for s in S) for t in range(T + 1)]
    return [
        (
            *state[t + 1],
            *state[t],
            *(Z[t, ...][i].T for i in blocks.values()),
            x[:, :, t],
            parameters,
        )
        for t in range(T)
    ]


def _replay(cell, steps, x, xp, w=None):
    """The tape of the steps of caches in the seed's format: the states before each step and
    after the last that they hold, and what each step saves, recomputed by the cell's step from
    them, all steps at once, with the weights ``w`` (by default, those of the parameters they
    hold). The states after step ``t`` are those before step ``t + 1``: the caches of a
    sequence, step after step."""
    k = len(cell.states)
    w = stack_weights(cell, steps[0][-1], xp) if w is None else w
    prev = tuple(xp.stack([s[k + i].T for s in steps]) for i in range(k))
    last = tuple(steps[-1][i].T for i in range(k))
    return _engine.replay(cell, w, x, prev, last, xp=xp)

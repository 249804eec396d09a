"""Stacked and bidirectional layers of RNN, LSTM and GRU cells, with variable lengths.

One entry point per cell type, as PyTorch's ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` have::

    a, a_n, cache = rnn_layers(x, parameters, num_layers=2, bidirectional=True)
    a, (a_n, c_n), cache = lstm_layers(x, parameters, ..., a0=None, c0=None, lengths=None)
    a, a_n, cache = gru_layers(x, parameters, ..., reset_after=True)
    grads = lstm_layers_backward(da, cache, da_n=None, dc_n=None)

Shapes follow the course: ``x`` is ``(n_x, m, T_x)``; the outputs ``a`` of every step are
``(D n_a, m, T_x)``, the forward direction's rows first (``D`` is 2 when bidirectional); the
initial and final states ``a0``, ``c0``, ``a_n``, ``c_n`` are ``(num_layers * D, n_a, m)``,
layer by layer, the forward direction first (PyTorch's order). Layer ``k > 0`` reads the outputs
of layer ``k - 1``.

Parameters are the cell's keys with a suffix for the layer and direction, PyTorch's:
``Wf_l0``, ``bf_l0``, ..., ``Wf_l0_reverse``, ..., ``Wf_l1``, ... (the RNN's ``Wax, Waa, ba``;
the LSTM's ``Wf, Wi, Wc, Wo, bf, bi, bc, bo``; the GRU's ``Wu, Wr, Wc, bu, br, bc``, and ``bca``
when ``reset_after``; each cell's optional recurrent biases too). The gradients have the same
keys with a ``d`` in front, beside ``dx`` and ``da0`` (and ``dc0``).

With ``lengths``, each example's steps past its length leave its state as it was and output
zeros, its final state is the one after its own last step, and the reverse direction reads each
example from its own last step back.
"""

from collections.abc import Mapping
from typing import NamedTuple

from . import _engine, gru, lstm, rnn
from ._checks import check, check_lengths

__all__ = [
    "gru_layers",
    "gru_layers_backward",
    "lstm_layers",
    "lstm_layers_backward",
    "rnn_layers",
    "rnn_layers_backward",
]


class _Cell(NamedTuple):
    name: str
    weights: dict  # key -> dims, with "IN" for the layer's input width
    optional: dict
    states: tuple  # names of the state arrays: ("a",) or ("a", "c")
    forward: object  # (x, states0, p, lengths, xp, reset_after) -> (A, finals, buffers)
    backward: object  # (da, dfinals, buffers, x, p, lengths, xp, reset_after, need_dx) -> grads


def _rnn_forward(x, s0, p, lengths, xp, reset_after):
    A, final = rnn._forward(x, s0[0], p, lengths, xp)
    return A, (final,), (A,)


def _rnn_backward(da, dfinal, buffers, x, p, lengths, xp, reset_after, need_dx):
    (A,) = buffers
    return rnn._backward(da, dfinal[0], A[:-1, ...], A[1:, ...], x, p, lengths, xp, need_dx)


def _lstm_forward(x, s0, p, lengths, xp, reset_after):
    A, C, R, TC = lstm._forward(x, s0[0], s0[1], p, lengths, xp)
    finals = (_engine.final(A, lengths, xp), _engine.final(C, lengths, xp))
    return A, finals, (A, C, R, TC)


def _lstm_backward(da, dfinal, buffers, x, p, lengths, xp, reset_after, need_dx):
    A, C, R, TC = buffers
    return lstm._backward(da, *dfinal, A[:-1, ...], C[:-1, ...], R, TC, lengths, x, p, xp, need_dx)


def _gru_forward(x, s0, p, lengths, xp, reset_after):
    A, G, E = gru._forward(x, s0[0], p, reset_after, lengths, xp)
    return A, (_engine.final(A, lengths, xp),), (A, G, E)


def _gru_backward(da, dfinal, buffers, x, p, lengths, xp, reset_after, need_dx):
    A, G, E = buffers
    return gru._backward(da, dfinal[0], A[:-1, ...], G, E, lengths, x, p, reset_after, xp, need_dx)


_W = ("n_a", "n_a+IN")
_B = ("n_a", 1)
CELLS = {
    "rnn": _Cell(
        "rnn",
        {"Wax": ("n_a", "IN"), "Waa": ("n_a", "n_a"), "ba": _B},
        rnn.OPTIONAL,
        ("a",),
        _rnn_forward,
        _rnn_backward,
    ),
    "lstm": _Cell(
        "lstm",
        {**{f"W{g}": _W for g in "fico"}, **{f"b{g}": _B for g in "fico"}},
        lstm.OPTIONAL,
        ("a", "c"),
        _lstm_forward,
        _lstm_backward,
    ),
    "gru": _Cell(
        "gru",
        {**{f"W{g}": _W for g in "urc"}, **{f"b{g}": _B for g in "urc"}},
        gru.OPTIONAL,
        ("a",),
        _gru_forward,
        _gru_backward,
    ),
}


def suffix(layer, direction):
    """The parameter-key suffix of a layer and direction (0 forward, 1 reverse): ``_l0``, ..."""
    return f"_l{layer}" + ("_reverse" if direction else "")


def rnn_layers(x, parameters, *, num_layers=1, bidirectional=False, a0=None, lengths=None):
    """Stacked (and bidirectional) RNN layers: ``a (D n_a, m, T_x)``, ``a_n`` and a cache."""
    a, (a_n,), cache = _forward(
        CELLS["rnn"], "rnn_layers", x, parameters, num_layers, bidirectional, {"a0": a0}, lengths
    )
    return a, a_n, cache


def rnn_layers_backward(da, cache, da_n=None, *, need_dx=True):
    """Gradients of :func:`rnn_layers` from ``da`` (every step) and ``da_n`` (final states);
    ``need_dx=False`` skips ``dx``, the input's."""
    return _backward("rnn_layers_backward", da, cache, {"da_n": da_n}, need_dx)


def lstm_layers(
    x, parameters, *, num_layers=1, bidirectional=False, a0=None, c0=None, lengths=None
):
    """Stacked (and bidirectional) LSTM layers: ``a (D n_a, m, T_x)``, ``(a_n, c_n)``, cache."""
    a, finals, cache = _forward(
        CELLS["lstm"],
        "lstm_layers",
        x,
        parameters,
        num_layers,
        bidirectional,
        {"a0": a0, "c0": c0},
        lengths,
    )
    return a, finals, cache


def lstm_layers_backward(da, cache, da_n=None, dc_n=None, *, need_dx=True):
    """Gradients of :func:`lstm_layers` from ``da`` (every step) and ``da_n``, ``dc_n``;
    ``need_dx=False`` skips ``dx``, the input's."""
    return _backward("lstm_layers_backward", da, cache, {"da_n": da_n, "dc_n": dc_n}, need_dx)


def gru_layers(
    x, parameters, *, num_layers=1, bidirectional=False, reset_after=False, a0=None, lengths=None
):
    """Stacked (and bidirectional) GRU layers: ``a (D n_a, m, T_x)``, ``a_n`` and a cache."""
    a, (a_n,), cache = _forward(
        CELLS["gru"],
        "gru_layers",
        x,
        parameters,
        num_layers,
        bidirectional,
        {"a0": a0},
        lengths,
        reset_after,
    )
    return a, a_n, cache


def gru_layers_backward(da, cache, da_n=None, *, need_dx=True):
    """Gradients of :func:`gru_layers` from ``da`` (every step) and ``da_n`` (final states);
    ``need_dx=False`` skips ``dx``, the input's."""
    return _backward("gru_layers_backward", da, cache, {"da_n": da_n}, need_dx)


def _forward(
    cell, fname, x, parameters, num_layers, bidirectional, states0, lengths, reset_after=False
):
    if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
        raise ValueError(f"{fname}: num_layers must be a positive int; got {num_layers!r}")
    if not isinstance(bidirectional, bool):
        raise TypeError(f"{fname}: bidirectional must be True or False; got {bidirectional!r}")
    D = 2 if bidirectional else 1
    xp, sizes = _check(cell, fname, x, parameters, num_layers, D, states0, reset_after)
    n, m, T = sizes["n_a"], sizes["m"], sizes["T_x"]
    lengths = check_lengths(fname, lengths, m, T, xp, x)
    zeros = xp.zeros((num_layers * D, n, m), dtype=x.dtype, device=_engine.device(x))
    S0 = [zeros if states0[f"{s}0"] is None else states0[f"{s}0"] for s in cell.states]
    finals, layers, inp = [[] for _ in cell.states], [], x
    for k in range(num_layers):
        outputs, runs = [], []
        for d in range(D):
            p = _parameters(cell, parameters, k, d, reset_after)
            xin = inp if d == 0 else _reverse(inp, lengths, xp)
            A, fin, buffers = cell.forward(
                xin, tuple(S[k * D + d, ...] for S in S0), p, lengths, xp, reset_after
            )
            outputs.append(A[1:, ...] if d == 0 else _reverse_tm(A[1:, ...], lengths, xp))
            runs.append((xin, p, buffers))
            for f, v in zip(finals, fin, strict=True):
                f.append(v.T)
        layers.append(runs)
        out = outputs[0] if D == 1 else xp.concat(outputs, axis=2)  # (T, m, D n)
        inp = xp.permute_dims(out, (2, 1, 0))
    cache = {
        "cell": cell.name,
        "layers": layers,
        "lengths": lengths,
        "sizes": (n, m, T, D),
        "reset_after": reset_after,
        "spent": False,
        "xp": xp,
    }
    return inp, tuple(xp.stack(f) for f in finals), cache


def _backward(fname, da, cache, dfinals, need_dx=True):
    if not isinstance(cache, dict) or "layers" not in cache:
        raise TypeError(
            f"{fname}: cache must be the cache that the layers' forward pass "
            f"returns; got {type(cache).__name__}"
        )
    if cache["spent"]:
        raise ValueError(
            f"{fname}: cache was spent by an earlier backward pass, which reused "
            f"its memory for the gradients; run the forward pass again"
        )
    cell, xp, lengths = CELLS[cache["cell"]], cache["xp"], cache["lengths"]
    n, m, T, D = cache["sizes"]
    L = len(cache["layers"])
    arrays = {"da": (da, (D * n, m, T))}
    arrays.update({k: (v, (L * D, n, m)) for k, v in dfinals.items() if v is not None})
    check(fname, arrays)
    grads, dstates = {}, {s: [None] * (L * D) for s in cell.states}
    for k in reversed(range(L)):
        dinp = None
        for d, (xin, p, buffers) in enumerate(cache["layers"][k]):
            dfin = tuple(_row(dfinals[f"d{s}_n"], k * D + d) for s in cell.states)
            da_d = da[d * n : (d + 1) * n, :, :]
            if d:
                da_d = _reverse(da_d, lengths, xp)
            g = cell.backward(
                da_d, dfin, buffers, xin, p, lengths, xp, cache["reset_after"], need_dx or k > 0
            )
            dx = g.pop("dx")
            if d and dx is not None:
                dx = _reverse(dx, lengths, xp)
            dinp = dx if dinp is None else dinp + dx
            for s in cell.states:
                dstates[s][k * D + d] = g.pop(f"d{s}0")
            grads.update({f"{key}{suffix(k, d)}": v for key, v in g.items()})
        da = dinp
    cache["spent"], cache["layers"] = True, None
    dx = {"dx": da} if need_dx else {}
    return {**dx, **{f"d{s}0": xp.stack(v) for s, v in dstates.items()}, **grads}


def _row(a, i):
    """Row ``i`` of the final states' gradients ``(L D, n_a, m)`` as ``(m, n_a)``, or None."""
    return None if a is None else a[i, ...].T


def _parameters(cell, parameters, k, d, reset_after):
    """The parameters of layer ``k``, direction ``d``, under the cell's own keys."""
    sfx = suffix(k, d)
    keys = [*cell.weights, *cell.optional, *(["bca"] if reset_after else [])]
    return {key: parameters[key + sfx] for key in keys if key + sfx in parameters}


def _check(cell, fname, x, parameters, L, D, states0, reset_after):
    """Validate ``x``, the states and every layer's parameters; return ``(xp, sizes)``."""
    given = parameters if isinstance(parameters, Mapping) else {}
    if cell.name == "gru" and not reset_after and any(k.startswith("bca_") for k in given):
        raise ValueError(
            f"{fname}: parameters has 'bca_...' keys, the recurrent biases of the "
            f"reset-after form; pass reset_after=True, or drop them"
        )

    def spec(k, d, width):
        sfx = suffix(k, d)
        own = {key[: -len(sfx)] for key in given if key.endswith(sfx)}
        keys = {**cell.weights, **({"bca": _B} if reset_after else {})}
        keys.update({key: dims for key, dims in cell.optional.items() if key in own})
        return {key + sfx: tuple(_width(v, width) for v in dims) for key, dims in keys.items()}

    first = next(iter(spec(0, 0, "n_x")))
    n_a = getattr(given.get(first), "shape", (None,))[0]
    if not isinstance(n_a, int):  # let the first layer's check say what is wrong
        check(fname, {"x": (x, ("n_x", "m", "T_x"))}, parameters, spec(0, 0, "n_x"))
    full = {}
    for k in range(L):
        for d in range(D):
            full.update(spec(k, d, "n_x" if k == 0 else D * n_a))
    arrays = {"x": (x, ("n_x", "m", "T_x"))}
    arrays.update({k: (v, (L * D, "n_a", "m")) for k, v in states0.items() if v is not None})
    return check(fname, arrays, parameters, full)


def _width(dim, width):
    """A dim of :data:`CELLS` with the layer's input width put in for ``IN``."""
    if not isinstance(dim, str) or "IN" not in dim:
        return dim
    if dim == "IN":
        return width
    return dim.replace("IN", str(width))


def _reverse(a, lengths, xp):
    """``a (w, m, T)`` with each example's steps in reverse order, within its own length."""
    return xp.permute_dims(_reverse_tm(xp.permute_dims(a, (2, 1, 0)), lengths, xp), (2, 1, 0))


def _reverse_tm(a, lengths, xp):
    """Time-major ``a (T, m, w)`` reversed in time, each example within its own length."""
    if lengths is None:
        return xp.flip(a, axis=0)
    T, m, w = a.shape
    t = xp.reshape(xp.arange(T, dtype=lengths.dtype, device=_engine.device(a)), (T, 1))
    L = xp.reshape(lengths, (1, m))
    src = xp.where(t < L, L - 1 - t, t)  # the step each one comes from
    rows = src * m + xp.reshape(xp.arange(m, dtype=lengths.dtype, device=_engine.device(a)), (1, m))
    return xp.reshape(
        xp.take(xp.reshape(a, (T * m, w)), xp.reshape(rows, (T * m,)), axis=0), (T, m, w)
    )

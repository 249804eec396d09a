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
keys with a ``d`` in front, beside ``dx`` and ``da0`` (and ``dc0``). Keys with a layer suffix
that a call does not use (a layer past ``num_layers``, the reverse direction of a one-way call,
a misspelt name) are an error, not silently left out.

With ``lengths``, each example's steps past its length leave its state as it was and output
zeros, its final state is the one after its own last step, and the reverse direction reads each
example from its own last step back.
"""

from collections.abc import Mapping

from array_api_compat import device

from . import _engine
from ._arrays import Array, Grads, Lengths, Params
from ._cell import grads_by_key, stack_weights
from ._checks import check, check_lengths
from .gru import CELL as GRU
from .gru import RESET_AFTER
from .lstm import CELL as LSTM
from .rnn import CELL as RNN

__all__ = [
    "backward",
    "forward",
    "gru_layers",
    "gru_layers_backward",
    "lstm_layers",
    "lstm_layers_backward",
    "rnn_layers",
    "rnn_layers_backward",
]

_BCA = "the recurrent biases of the reset-after form; pass reset_after=True, or drop them"


def suffix(layer, direction):
    """The parameter-key suffix of a layer and direction (0 forward, 1 reverse): ``_l0``, ..."""
    return f"_l{layer}" + ("_reverse" if direction else "")


_OUTPUT = ("Wy", "by", "Wya")  # the output layer's keys, which the layers leave alone


def rnn_layers(
    x: Array,
    parameters: Params,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    a0: Array | None = None,
    lengths: Lengths = None,
) -> tuple[Array, Array, dict]:
    """Stacked (and bidirectional) RNN layers: ``a (D n_a, m, T_x)``, ``a_n`` and a cache."""
    a, (a_n,), cache = forward(
        RNN, "rnn_layers", x, parameters, num_layers, bidirectional, {"a0": a0}, lengths
    )
    return a, a_n, cache


def rnn_layers_backward(
    da: Array, cache: dict, da_n: Array | None = None, *, need_dx: bool = True
) -> Grads:
    """Gradients of :func:`rnn_layers` from ``da`` (every step) and ``da_n`` (final states);
    ``need_dx=False`` skips ``dx``, the input's."""
    return backward(RNN, "rnn_layers_backward", da, cache, {"da_n": da_n}, need_dx)


def lstm_layers(
    x: Array,
    parameters: Params,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    a0: Array | None = None,
    c0: Array | None = None,
    lengths: Lengths = None,
) -> tuple[Array, tuple[Array, Array], dict]:
    """Stacked (and bidirectional) LSTM layers: ``a (D n_a, m, T_x)``, ``(a_n, c_n)``, cache."""
    a, finals, cache = forward(
        LSTM,
        "lstm_layers",
        x,
        parameters,
        num_layers,
        bidirectional,
        {"a0": a0, "c0": c0},
        lengths,
    )
    return a, finals, cache


def lstm_layers_backward(
    da: Array,
    cache: dict,
    da_n: Array | None = None,
    dc_n: Array | None = None,
    *,
    need_dx: bool = True,
) -> Grads:
    """Gradients of :func:`lstm_layers` from ``da`` (every step) and ``da_n``, ``dc_n``;
    ``need_dx=False`` skips ``dx``, the input's."""
    return backward(LSTM, "lstm_layers_backward", da, cache, {"da_n": da_n, "dc_n": dc_n}, need_dx)


def gru_layers(
    x: Array,
    parameters: Params,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    reset_after: bool = False,
    a0: Array | None = None,
    lengths: Lengths = None,
) -> tuple[Array, Array, dict]:
    """Stacked (and bidirectional) GRU layers: ``a (D n_a, m, T_x)``, ``a_n`` and a cache."""
    extra = RESET_AFTER if reset_after else {}
    stray = {} if reset_after else {"bca": _BCA}
    a, (a_n,), cache = forward(
        GRU,
        "gru_layers",
        x,
        parameters,
        num_layers,
        bidirectional,
        {"a0": a0},
        lengths,
        extra,
        stray,
    )
    return a, a_n, cache


def gru_layers_backward(
    da: Array, cache: dict, da_n: Array | None = None, *, need_dx: bool = True
) -> Grads:
    """Gradients of :func:`gru_layers` from ``da`` (every step) and ``da_n`` (final states);
    ``need_dx=False`` skips ``dx``, the input's."""
    return backward(GRU, "gru_layers_backward", da, cache, {"da_n": da_n}, need_dx)


def forward(
    cell, fname, x, parameters, num_layers, bidirectional, states0, lengths, extra=None, stray=None
):
    """Layers of ``cell``: the last layer's outputs ``(D n_a, m, T_x)``, the final states
    ``(num_layers * D, n_a, m)`` (one array per state) and the cache. ``states0`` maps ``a0``
    (and ``c0``) to the initial states or None; ``extra`` adds keys and dims to every layer's
    parameters (the GRU's ``bca``); ``stray`` maps keys that must not be there to why."""
    if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
        raise ValueError(f"{fname}: num_layers must be a positive int; got {num_layers!r}")
    if not isinstance(bidirectional, bool):
        raise TypeError(f"{fname}: bidirectional must be True or False; got {bidirectional!r}")
    D = 2 if bidirectional else 1
    given = parameters if isinstance(parameters, Mapping) else {}
    for key, why in (stray or {}).items():
        if any(k.startswith(f"{key}_") for k in given):
            raise ValueError(f"{fname}: parameters has '{key}_...' keys, {why}")
    extra = extra or {}
    xp, sizes = _check(cell, fname, x, parameters, num_layers, D, states0, extra)
    n, m, T = sizes["n_a"], sizes["m"], sizes["T_x"]
    lengths = check_lengths(fname, lengths, m, T, xp, x)
    zeros = xp.zeros((num_layers * D, n, m), dtype=x.dtype, device=device(x))
    S0 = [zeros if states0[f"{s}0"] is None else states0[f"{s}0"] for s in cell.states]
    finals, layers, inp = [[] for _ in cell.states], [], x
    for k in range(num_layers):
        outputs, tapes = [], []
        for d in range(D):
            w = stack_weights(cell, _parameters(cell, parameters, k, d, extra), xp)
            first = tuple(S[k * D + d, ...].T for S in S0)
            tape = _engine.forward(cell, w, inp, first, lengths, reverse=d == 1, xp=xp)
            outputs.append(tape.output())
            tapes.append(tape)
            for f, v in zip(finals, tape.finals(), strict=True):
                f.append(v.T)
        layers.append(tapes)
        out = outputs[0] if D == 1 else xp.concat(outputs, axis=2)  # (T, m, D n)
        inp = xp.permute_dims(out, (2, 1, 0))
    cache = {"cell": cell, "layers": layers, "sizes": (n, m, T, D), "xp": xp}
    return inp, tuple(xp.stack(f) for f in finals), cache


def backward(cell, fname, da, cache, dfinals, need_dx=True):
    """Gradients of :func:`forward` from ``da`` and ``dfinals``, which maps ``da_n`` (and
    ``dc_n``) to the final states' gradients or None. A tape that fails half way is spent
    (:class:`xrnn._engine.Tape`): the cache is then refused."""
    if not isinstance(cache, dict) or "layers" not in cache:
        raise TypeError(
            f"{fname}: cache must be the cache that the layers' forward pass "
            f"returns; got {type(cache).__name__}"
        )
    if cache["cell"] is not cell:
        raise TypeError(
            f"{fname}: cache comes from the layers of another cell, {cache['cell'].name}; "
            f"pass it to its backward function"
        )
    tapes = [tape for layer in cache["layers"] or () for tape in layer]
    if cache["layers"] is None or any(tape.spent for tape in tapes):
        raise ValueError(
            f"{fname}: cache was spent by an earlier backward pass, which reused "
            f"its memory for the gradients; run the forward pass again"
        )
    xp = cache["xp"]
    n, m, T, D = cache["sizes"]
    L = len(cache["layers"])
    arrays = {"da": (da, (D * n, m, T))}
    arrays.update({k: (v, (L * D, n, m)) for k, v in dfinals.items() if v is not None})
    arrays["the forward pass's x"] = (tapes[0].x, None)
    check(fname, arrays)
    grads, dstates = {}, {s: [None] * (L * D) for s in cell.states}
    for k in reversed(range(L)):
        dinp = None
        for d, tape in enumerate(cache["layers"][k]):
            dfin = tuple(_row(dfinals[f"d{s}_n"], k * D + d) for s in cell.states)
            g, dx, d0 = _engine.backward(
                tape, da[d * n : (d + 1) * n, ...], dfin, need_dx=need_dx or k > 0, xp=xp
            )
            dinp = dx if dinp is None else dinp + dx
            for s, v in zip(cell.states, d0, strict=True):
                dstates[s][k * D + d] = v.T
            grads.update(
                {f"{key}{suffix(k, d)}": v for key, v in grads_by_key(cell, g, tape.w, xp).items()}
            )
        da = dinp
    if any(tape.spent for tape in tapes):
        cache["layers"] = None
    dx = {"dx": da} if need_dx else {}
    return {**dx, **{f"d{s}0": xp.stack(v) for s, v in dstates.items()}, **grads}


def _row(a, i):
    """Row ``i`` of the final states' gradients ``(L D, n_a, m)`` as ``(m, n_a)``, or None."""
    return None if a is None else a[i, ...].T


def _parameters(cell, parameters, k, d, extra):
    """The parameters of layer ``k``, direction ``d``, under the cell's own keys."""
    sfx = suffix(k, d)
    keys = [*cell.weights, *cell.optional, *extra]
    return {key: parameters[key + sfx] for key in keys if key + sfx in parameters}


def _check(cell, fname, x, parameters, L, D, states0, extra):
    """Validate ``x``, the states and every layer's parameters; return ``(xp, sizes)``."""
    given = parameters if isinstance(parameters, Mapping) else {}

    def spec(k, d, width):
        sfx = suffix(k, d)
        own = {key[: -len(sfx)] for key in given if key.endswith(sfx)}
        keys = {**cell.weights, **extra}
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
    unused = [k for k in given if k not in full and k not in _OUTPUT]
    if unused:
        shown = ", ".join(map(repr, unused[:8])) + (" and more" if len(unused) > 8 else "")
        raise ValueError(
            f"{fname}: parameters has layer keys that num_layers={L}, bidirectional={D == 2} "
            f"do not use: {shown}; pass the num_layers and bidirectional they were made "
            f"for, or drop or correct them"
        )
    arrays = {"x": (x, ("n_x", "m", "T_x"))}
    arrays.update({k: (v, (L * D, "n_a", "m")) for k, v in states0.items() if v is not None})
    return check(fname, arrays, parameters, full)


def _width(dim, width):
    """A dim of a cell's weights with the layer's input width put in for ``IN``."""
    if not isinstance(dim, str) or "IN" not in dim:
        return dim
    if dim == "IN":
        return width
    return dim.replace("IN", str(width))

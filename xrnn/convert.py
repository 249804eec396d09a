"""Weights between PyTorch's ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` and xrnn's layer parameters.

PyTorch stacks a layer's gates into ``weight_ih_l{k}`` (input side), ``weight_hh_l{k}`` (state
side) and two biases, ``bias_ih_l{k}`` and ``bias_hh_l{k}``, in the gate orders ``i, f, g, o``
(LSTM) and ``r, z, n`` (GRU), with ``_reverse`` after the layer for the reverse direction. xrnn
keeps one matrix per gate acting on ``[a_prev; x]`` (state columns first) and the keys of
:mod:`xrnn.layers`; PyTorch's second bias becomes the optional recurrent bias (``bfa``, ...),
so that both conversions are exact and each undoes the other:

=============  =======================  ======================================
xrnn           PyTorch                  Keras
=============  =======================  ======================================
``Wax``        ``weight_ih``            ``kernel``
``Waa``        ``weight_hh``            ``recurrent_kernel``
``ba``, baa    ``bias_ih``, ``bias_hh``  ``bias``
``Wi, bi``     rows ``i`` (1st)         ``i`` (1st quarter of the columns)
``Wf, bf``     rows ``f`` (2nd)         ``f`` (2nd)
``Wc, bc``     rows ``g`` (3rd)         ``c`` (3rd)
``Wo, bo``     rows ``o`` (4th)         ``o`` (4th)
``Wr, br``     rows ``r`` (1st)         ``r`` (2nd)
``Wu, bu``     minus rows ``z`` (2nd)   minus ``z`` (1st)
``Wc, bc``     rows ``n`` (3rd)         ``h`` (3rd)
``bca``        ``bias_hh`` rows ``n``   recurrent bias of ``h`` (reset_after)
=============  =======================  ======================================

(PyTorch's GRU is the reset-after form; its update gate ``z`` is xrnn's ``1 - Γu``.)
"""

import re
from collections.abc import Mapping
from typing import Any

from array_api_compat import is_numpy_namespace

from ._arrays import Array, Params
from ._checks import check
from ._host import to_torch_tensors
from .layers import suffix

__all__ = ["from_keras", "from_torch", "to_keras", "to_torch"]

_ORDER = {"rnn": ("a",), "lstm": ("i", "f", "c", "o"), "gru": ("r", "u", "c")}
_SIGN = {"u": -1}  # xrnn's update gate is PyTorch's z negated
_NET = {1: "an RNN", 4: "an LSTM", 3: "a GRU"}  # by the number of gates
_KINDS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
_TORCH_KEY = re.compile(r"(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(0|[1-9]\d*)(_reverse)?")
_XRNN_KEY = re.compile(r"([A-Za-z]+)_l(0|[1-9]\d*)(_reverse)?")


def from_torch(state_dict: Any, cell: str) -> dict[str, Array]:
    """xrnn layer parameters from an ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` or its
    ``state_dict()``; ``cell`` (``"rnn"``, ``"lstm"``, ``"gru"``) must be what the shapes say.
    Checked: ``weight_ih_l{k} (G n, n_in)``, ``weight_hh_l{k} (G n, n)``, ``bias_ih_l{k}``,
    ``bias_hh_l{k} (G n,)``, with ``G`` = 1, 4, 3 gates, ``n_in`` = ``n_x`` for layer 0 and
    ``D n`` after it, layers 0..L-1, ``_reverse`` in all or none, one dtype. Refused:
    projections (``proj_size``), ``bias=False``, and ``nonlinearity="relu"`` (seen only on a
    module). Arrays stay in their library (``.numpy()`` the tensors first for NumPy). A GRU
    comes out in the reset-after form: pass ``reset_after=True`` to xrnn's GRU functions."""
    fname = "from_torch"
    _check_cell(fname, cell)
    if callable(getattr(state_dict, "state_dict", None)):  # the module itself
        if getattr(state_dict, "mode", None) == "RNN_RELU":
            raise ValueError(f"{fname}: nn.RNN(nonlinearity='relu') is not supported (tanh only)")
        state_dict = state_dict.state_dict()
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"{fname}: state_dict must be an nn.RNN, nn.LSTM or nn.GRU or its state_dict(); "
            f"got {type(state_dict).__name__}"
        )
    found = set()
    for key in state_dict:
        m = _TORCH_KEY.fullmatch(key) if isinstance(key, str) else None
        if m is None:
            raise ValueError(
                f"{fname}: state_dict has the key {key!r}, which no nn.RNN, nn.LSTM or nn.GRU "
                f"has (expected weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ...)"
            )
        if m[1] == "weight_hr":
            raise ValueError(
                f"{fname}: state_dict has {key}: LSTM projections (proj_size > 0) are not supported"
            )
        found.add((int(m[2]), bool(m[3])))
    if not found:
        raise ValueError(
            f"{fname}: state_dict has no weight_ih_l0; is it an nn.RNN, "
            f"nn.LSTM or nn.GRU's state_dict()?"
        )
    D, sfxs = _layers(fname, "state_dict", found)
    keys = [kind + s for s in sfxs for kind in _KINDS]
    missing = [k for k in keys if k not in state_dict]
    if missing:
        bias = all(k.startswith("bias") for k in missing)
        raise ValueError(
            f"{fname}: state_dict is missing {', '.join(missing)}"
            + (" (bias=False is not supported)" if bias else "")
        )
    xp, _ = check(fname, {f"state_dict[{k!r}]": (state_dict[k], None) for k in keys})
    shape, G = tuple(state_dict["weight_hh_l0"].shape), len(_ORDER[cell])
    if len(shape) != 2 or not shape[1] or shape[0] % shape[1] or shape[0] // shape[1] not in _NET:
        raise ValueError(
            f"{fname}: state_dict['weight_hh_l0'] must have shape (G*n, n) for hidden size n "
            f"and G = 1, 4 or 3 gates (RNN, LSTM, GRU); got {shape}"
        )
    n, g = shape[1], shape[0] // shape[1]
    if g != G:
        raise ValueError(
            f"{fname}: the state dict holds {_NET[g]} (weight_hh_l0 has {g} x {n} rows for "
            f"hidden size {n}); got cell={cell!r}"
        )
    ih0 = tuple(state_dict["weight_ih_l0"].shape)
    n_x = ih0[1] if len(ih0) == 2 else "n_x"
    gn = _times(G, "n")
    for i, s in enumerate(sfxs):  # layer 0's D directions first
        n_in, spell = (n_x, "n_x") if i < D else (D * n, _times(D, "n"))
        want = {
            f"weight_ih{s}": ((G * n, n_in), f"({gn}, {spell})"),
            f"weight_hh{s}": ((G * n, n), f"({gn}, n)"),
            f"bias_ih{s}": ((G * n,), f"({gn},)"),
            f"bias_hh{s}": ((G * n,), f"({gn},)"),
        }
        for key, (expected, dims) in want.items():
            got = tuple(state_dict[key].shape)
            if got != expected:
                raise ValueError(
                    f"{fname}: state_dict[{key!r}] must have shape {dims} = "
                    f"({', '.join(map(str, expected))}{',' * (len(expected) == 1)}) for "
                    f"{_NET[G]} of hidden size n = {n}; got {got}"
                )
    out = {}
    for s in sfxs:
        w_ih, w_hh, b_ih, b_hh = (state_dict[kind + s] for kind in _KINDS)
        for k, g in enumerate(_ORDER[cell]):
            rows = slice(k * n, (k + 1) * n)
            sign = _SIGN.get(g, 1) if cell == "gru" else 1
            if cell == "rnn":
                out[f"Wax{s}"], out[f"Waa{s}"] = w_ih, w_hh
            else:
                out[f"W{g}{s}"] = sign * xp.concat([w_hh[rows, :], w_ih[rows, :]], axis=1)
            b = "ba" if cell == "rnn" else f"b{g}"
            out[f"{b}{s}"] = sign * xp.reshape(b_ih[rows], (n, 1))
            out[f"{b}a{s}"] = sign * xp.reshape(b_hh[rows], (n, 1))
    return out


def to_torch(parameters: Params, cell: str, *, tensors: bool = True) -> dict[str, Array]:
    """The ``state_dict`` of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (PyTorch's keys, see
    :func:`from_torch`) holding xrnn layer parameters: ``Wax_l{k} (n_a, n_in)``,
    ``Waa_l{k} (n_a, n_a)`` or ``W{gate}_l{k} (n_a, n_a + n_in)``, biases ``(n_a, 1)``, with
    ``n_in`` = ``n_x`` for layer 0 and ``D n_a`` after it, all checked. Missing recurrent
    biases become zeros; a GRU must be in the reset-after form (have ``bca``); keys without a
    layer suffix (``Wy``, ``by``) are left out. NumPy arrays come back as torch tensors sharing
    their memory (``torch.from_numpy``), so ``net.load_state_dict(to_torch(p, "lstm"))`` works;
    ``tensors=False``, or torch not installed, keeps them NumPy. Other libraries' arrays (torch
    tensors, ...) keep their library."""
    fname = "to_torch"
    _check_cell(fname, cell, parameters)
    gates = _ORDER[cell]
    weights = ["Wax", "Waa", "ba"] if cell == "rnn" else [f"{p}{g}" for p in "Wb" for g in gates]
    weights += ["bca"] if cell == "gru" else []
    optional = ["baa"] if cell == "rnn" else [f"b{g}a" for g in gates if f"b{g}a" not in weights]
    found = set()
    for key in parameters:
        m = _XRNN_KEY.fullmatch(key) if isinstance(key, str) else None
        if m is None and isinstance(key, str) and re.search(r"_l\d", key):
            raise ValueError(
                f"{fname}: parameters has {key!r}; layer keys end in _l{{k}} or _l{{k}}_reverse"
            )
        if m is None and key in ("Wy", "by", "Wya"):
            continue  # the output layer's
        if m is None:
            raise ValueError(
                f"{fname}: parameters has {key!r}, which is neither a layer key (with an "
                f"_l{{k}} suffix) nor the output layer's Wy, by"
            )
        if m[1] not in weights + optional:
            raise ValueError(
                f"{fname}: parameters has {key!r}, which {_NET[len(gates)]} layer does not "
                f"have (expected {', '.join(weights + optional)} with _l{{k}} suffixes); "
                f"is cell={cell!r} right?"
            )
        found.add((int(m[2]), bool(m[3])))
    first = f"{weights[0]}_l0"
    if not found:
        raise ValueError(
            f"{fname}: parameters has no {first}; are they {cell} layer "
            f"parameters (keys with _l0 suffixes)?"
        )
    D, sfxs = _layers(fname, "parameters", found)
    if cell == "gru":
        for s in sfxs:
            if f"bca{s}" not in parameters:
                raise ValueError(
                    f"{fname}: PyTorch's GRU is the reset-after form; parameters has no bca{s}"
                )
    _, sizes = check(fname, {}, parameters, {first: ("n_a", "columns")})
    n_a, n_x = sizes["n_a"], sizes["columns"] - (0 if cell == "rnn" else sizes["n_a"])
    if n_a < 1 or n_x < 1:
        dims = "(n_a, n_x)" if cell == "rnn" else "(n_a, n_a+n_x)"
        raise ValueError(
            f"{fname}: parameters[{first!r}] must have shape {dims} with n_a, n_x >= 1; "
            f"got {tuple(parameters[first].shape)}"
        )
    spec = {}
    for i, s in enumerate(sfxs):  # layer 0's D directions first
        n_in = n_x if i < D else D * n_a
        if cell == "rnn":
            own = {"Wax": ("n_a", n_in), "Waa": ("n_a", "n_a")}
        else:
            own = {f"W{g}": ("n_a", f"n_a+{n_in}") for g in gates}
        own.update({key: ("n_a", 1) for key in weights + optional if key[0] == "b"})
        spec.update({k + s: v for k, v in own.items() if k in weights or k + s in parameters})
    xp, _ = check(fname, {}, parameters, spec)
    out = {}
    for s in sfxs:
        w_ih, w_hh, b_ih, b_hh = [], [], [], []
        for g in gates:
            sign = _SIGN.get(g, 1) if cell == "gru" else 1
            bias = "ba" if cell == "rnn" else f"b{g}"
            if cell == "rnn":
                w_ih.append(parameters[f"Wax{s}"])
                w_hh.append(parameters[f"Waa{s}"])
            else:
                W = parameters[f"W{g}{s}"]
                w_hh.append(sign * W[:, :n_a])
                w_ih.append(sign * W[:, n_a:])
            b = parameters[f"{bias}{s}"]
            recurrent = parameters.get(f"{bias}a{s}", xp.zeros_like(b))
            b_ih.append(sign * b[:, 0])
            b_hh.append(sign * recurrent[:, 0])
        for kind, parts in zip(_KINDS, (w_ih, w_hh, b_ih, b_hh), strict=True):
            out[kind + s] = xp.concat(parts)
    return to_torch_tensors(out) if tensors and is_numpy_namespace(xp) else out


def _layers(fname, name, found):
    """``(D, suffixes)`` from the ``(layer, reverse)`` pairs of the keys: layers 0..L-1,
    the reverse direction in all of them or none, and their keys' suffixes, layer by layer."""
    layers = sorted({k for k, _ in found})
    L = layers[-1] + 1
    if layers != list(range(L)):
        gap = min(set(range(L)) - set(layers))
        raise ValueError(
            f"{fname}: {name} has layers {layers} but no layer {gap} (_l{gap} keys); layers "
            f"must be numbered 0..L-1"
        )
    reverse = sorted(k for k, r in found if r)
    if reverse and reverse != layers:
        raise ValueError(
            f"{fname}: {name} has _reverse keys for layers {reverse} but not for all of "
            f"{layers}; a bidirectional network has both directions in every layer"
        )
    D = 2 if reverse else 1
    return D, [suffix(k, d) for k in range(L) for d in range(D)]


def _times(c, symbol):
    return symbol if c == 1 else f"{c}*{symbol}"


def _check_cell(fname, cell, parameters=None):
    """``cell`` is one PyTorch and Keras have; ``parameters``, where given, a dict."""
    if cell not in _ORDER:
        raise ValueError(f"{fname}: cell must be 'rnn', 'lstm' or 'gru'; got {cell!r}")
    if parameters is not None and not isinstance(parameters, Mapping):
        raise TypeError(
            f"{fname}: parameters must be a dict of xrnn layer parameters; "
            f"got {type(parameters).__name__}"
        )


def from_keras(
    weights: Any, cell: str, *, reset_after: bool = True, layer: int = 0, reverse: bool = False
) -> dict[str, Array]:
    """xrnn layer parameters (keys with the suffix of ``layer`` and ``reverse``) from the
    weights of a Keras 3 ``SimpleRNN``, ``LSTM`` or ``GRU`` layer: the layer itself or its
    ``get_weights()``, ``[kernel (n_x, G n), recurrent_kernel (n, G n), bias]``, gates in
    Keras's order (``i, f, c, o``; ``z, r, h``). The bias is ``(G n,)``, or ``(2, G n)`` (input
    and recurrent) for a GRU with ``reset_after=True``, Keras's default, which gives xrnn's
    reset-after GRU; ``reset_after=False`` gives the course's GRU. Checked as
    :func:`from_torch` checks, whose layout Keras's transposes."""
    fname = "from_keras"
    _check_cell(fname, cell)
    if callable(getattr(weights, "get_weights", None)):  # the layer itself
        weights = weights.get_weights()
    if not isinstance(weights, list | tuple) or len(weights) != 3:
        raise TypeError(
            f"{fname}: weights must be a Keras layer or its get_weights(), [kernel, "
            f"recurrent_kernel, bias]; got {_describe(weights)}"
        )
    kernel, recurrent, bias = weights
    xp, s = check(
        fname,
        {
            "kernel": (kernel, ("n_x", "G*n")),
            "recurrent_kernel": (recurrent, ("n", "G*n")),
        },
    )
    G, n = len(_ORDER[cell]), s["n"]
    if s["G*n"] != G * n:
        raise ValueError(
            f"{fname}: recurrent_kernel must have shape (n, {_times(G, 'n')}) for {_NET[G]} "
            f"({cell!r}); got {tuple(recurrent.shape)}"
        )
    two = cell == "gru" and reset_after
    want = (2, G * n) if two else (G * n,)
    if tuple(getattr(bias, "shape", ())) != want:
        raise ValueError(
            f"{fname}: bias must have shape {want} for {_NET[G]} of {n} units"
            + (f" with reset_after={reset_after}" if cell == "gru" else "")
            + f"; got {tuple(getattr(bias, 'shape', ()))}"
        )
    check(fname, {"kernel": (kernel, None), "bias": (bias, None)})  # one library and dtype
    order = [1, 0, 2] if cell == "gru" else list(range(G))  # Keras's z, r, h to r, z, n

    def torch_rows(a):  # columns of Keras's gates to rows of PyTorch's
        return xp.concat([a[..., g * n : (g + 1) * n] for g in order], axis=-1).T

    b_ih, b_hh = (bias[0, :], bias[1, :]) if two else (bias, xp.zeros_like(bias))
    b_ih, b_hh = (torch_rows(xp.reshape(b, (1, G * n)))[:, 0] for b in (b_ih, b_hh))
    state = {
        "weight_ih_l0": torch_rows(kernel),
        "weight_hh_l0": torch_rows(recurrent),
        "bias_ih_l0": b_ih,
        "bias_hh_l0": b_hh,
    }
    out = from_torch(state, cell)
    if not two:  # Keras has one bias; a GRU without reset_after is the course's form
        out = {k: v for k, v in out.items() if not re.fullmatch(r"b[a-z]a_l0", k)}
    return {k.removesuffix("_l0") + suffix(layer, reverse): v for k, v in out.items()}


def to_keras(
    parameters: Params, cell: str, *, layer: int = 0, reverse: bool = False
) -> list[Array]:
    """The weights of a Keras 3 ``SimpleRNN``, ``LSTM`` or ``GRU`` layer, for its
    ``set_weights()``, from the xrnn layer parameters of ``layer`` (and ``reverse``): ``[kernel,
    recurrent_kernel, bias]`` in the parameters' library (see :func:`from_keras`). A GRU with
    ``bca`` (the reset-after form) gives Keras's ``reset_after=True`` weights, with a ``(2, 3n)``
    bias; without it, ``reset_after=False``'s. Recurrent biases of an RNN or LSTM are added to
    the bias (Keras has one)."""
    fname = "to_keras"
    _check_cell(fname, cell, parameters)
    s = suffix(layer, reverse)
    own = {k[: -len(s)] + "_l0": v for k, v in parameters.items() if k.endswith(s)}
    if not own:
        raise ValueError(f"{fname}: parameters has no keys of layer {layer} ({s})")
    two = cell == "gru" and "bca_l0" in own
    if cell == "gru" and not two:  # the course's form: Keras's reset_after=False
        if "bc_l0" not in own:
            raise ValueError(f"{fname}: parameters has no bc{s}")
        own["bca_l0"] = own["bc_l0"] * 0  # a zero stand-in, so that to_torch checks the rest
    state = to_torch(own, cell, tensors=False)
    xp, _ = check(fname, {"weights": (state["weight_hh_l0"], None)})
    G, n = len(_ORDER[cell]), state["weight_hh_l0"].shape[1]
    order = [1, 0, 2] if cell == "gru" else list(range(G))  # PyTorch's r, z, n to z, r, h

    def keras_columns(a):  # rows of PyTorch's gates to columns of Keras's
        return xp.concat([a[g * n : (g + 1) * n, ...] for g in order], axis=0).T

    b_ih, b_hh = (
        xp.reshape(keras_columns(b), (G * n,)) for b in (state["bias_ih_l0"], state["bias_hh_l0"])
    )
    bias = xp.stack([b_ih, b_hh]) if two else b_ih + b_hh
    return [keras_columns(state["weight_ih_l0"]), keras_columns(state["weight_hh_l0"]), bias]


def _describe(value):
    return f"a list of {len(value)}" if isinstance(value, list | tuple) else type(value).__name__

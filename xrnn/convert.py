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

from array_api_compat import array_namespace

__all__ = ["from_torch", "to_torch"]

_ORDER = {"rnn": ("a",), "lstm": ("i", "f", "c", "o"), "gru": ("r", "u", "c")}
_SIGN = {"u": -1}  # xrnn's update gate is PyTorch's z negated


def from_torch(state_dict, cell):
    """xrnn layer parameters from the ``state_dict()`` of an ``nn.RNN``, ``nn.LSTM`` or
    ``nn.GRU`` (``cell`` is ``"rnn"``, ``"lstm"`` or ``"gru"``); arrays stay in their library
    (convert torch tensors with ``.numpy()`` first for NumPy). A GRU comes out in the
    reset-after form: pass ``reset_after=True`` to xrnn's GRU functions."""
    _check_cell("from_torch", cell)
    out = {}
    for key in state_dict:
        if not key.startswith("weight_ih_l"):
            continue
        sfx = key[len("weight_ih") :]
        names = [f"{kind}{sfx}" for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        missing = [k for k in names if k not in state_dict]
        if missing:
            raise ValueError(
                f"from_torch: state_dict has {key} but not {', '.join(missing)} "
                f"(bias=False is not supported)"
            )
        w_ih, w_hh, b_ih, b_hh = (state_dict[k] for k in names)
        xp = array_namespace(w_ih)
        n = w_hh.shape[1]
        for k, g in enumerate(_ORDER[cell]):
            rows = slice(k * n, (k + 1) * n)
            sign = _SIGN.get(g, 1) if cell == "gru" else 1
            if cell == "rnn":
                out[f"Wax{sfx}"], out[f"Waa{sfx}"] = w_ih, w_hh
            else:
                out[f"W{g}{sfx}"] = sign * xp.concat([w_hh[rows, :], w_ih[rows, :]], axis=1)
            bias = "ba" if cell == "rnn" else f"b{g}"
            out[f"{bias}{sfx}"] = sign * xp.reshape(b_ih[rows], (n, 1))
            out[f"{bias}a{sfx}"] = sign * xp.reshape(b_hh[rows], (n, 1))
    if not out:
        raise ValueError(
            "from_torch: state_dict has no weight_ih_l0; is it an nn.RNN, "
            "nn.LSTM or nn.GRU's state_dict()?"
        )
    return out


def to_torch(parameters, cell):
    """The ``state_dict`` (a dict of arrays under PyTorch's keys) of xrnn layer parameters,
    for ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU.load_state_dict`` once made torch tensors. Missing
    recurrent biases become zeros; a GRU must be in the reset-after form (have ``bca``)."""
    _check_cell("to_torch", cell)
    out = {}
    first = "Wax" if cell == "rnn" else f"W{_ORDER[cell][0]}"
    for key in parameters:
        if not key.startswith(first + "_l"):
            continue
        sfx = key[len(first) :]
        if cell == "gru" and f"bca{sfx}" not in parameters:
            raise ValueError(
                f"to_torch: PyTorch's GRU is the reset-after form; parameters has no bca{sfx}"
            )
        xp = array_namespace(parameters[key])
        w_ih, w_hh, b_ih, b_hh = [], [], [], []
        for g in _ORDER[cell]:
            sign = _SIGN.get(g, 1) if cell == "gru" else 1
            bias = "ba" if cell == "rnn" else f"b{g}"
            if cell == "rnn":
                w_ih.append(parameters[f"Wax{sfx}"])
                w_hh.append(parameters[f"Waa{sfx}"])
            else:
                W = parameters[f"W{g}{sfx}"]
                n = W.shape[0]
                w_hh.append(sign * W[:, :n])
                w_ih.append(sign * W[:, n:])
            b = parameters[f"{bias}{sfx}"]
            recurrent = parameters.get(f"{bias}a{sfx}", xp.zeros_like(b))
            b_ih.append(sign * b[:, 0])
            b_hh.append(sign * recurrent[:, 0])
        out.update(
            {
                f"weight_ih{sfx}": xp.concat(w_ih),
                f"weight_hh{sfx}": xp.concat(w_hh),
                f"bias_ih{sfx}": xp.concat(b_ih),
                f"bias_hh{sfx}": xp.concat(b_hh),
            }
        )
    if not out:
        raise ValueError(
            f"to_torch: parameters has no {first}_l0; are they {cell} layer "
            f"parameters (keys with _l0 suffixes)?"
        )
    return out


def _check_cell(fname, cell):
    if cell not in _ORDER:
        raise ValueError(f"{fname}: cell must be 'rnn', 'lstm' or 'gru'; got {cell!r}")

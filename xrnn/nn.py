"""Module objects as PyTorch's: ``RNN``, ``LSTM``, ``GRU``, ``PeepholeLSTM``, ``Linear`` and
``CrossEntropy``, thin over the functional API, with hand-written backward passes::

    lstm = xrnn.nn.LSTM(input_size=10, hidden_size=20, num_layers=2, batch_first=True)
    out, (h_n, c_n), cache = lstm(x)               # x (m, T, 10): out (m, T, 20)
    grads = lstm.backward(d_out, cache)            # "dWf_l0", ..., "dx", "dh0", "dc0"
    lstm.load_state_dict(torch_lstm.state_dict())  # PyTorch's keys, arrays or tensors

Data is laid out as PyTorch lays it out: ``x (T, m, input_size)`` (``(m, T, input_size)`` with
``batch_first``), outputs ``(T, m, D hidden_size)``, states ``(num_layers D, m, hidden_size)``
(``D`` is 2 when bidirectional). ``parameters`` holds the arrays by xrnn's layer keys
(:mod:`xrnn.layers`); ``state_dict()`` gives them under PyTorch's names, in the module's own
array library. ``to(xp=..., device=..., dtype=...)`` moves them. The arrays' library is NumPy
unless ``xp`` says another (any array API namespace: ``array_api_compat.torch``, CuPy, ...).
"""

import math
from collections.abc import Mapping
from typing import Any

import array_api_compat

from . import layers, peephole
from ._arrays import Array, Lengths
from ._host import default_namespace, generator, to_numpy
from .convert import from_torch, to_torch
from .loss import softmax_cross_entropy

__all__ = ["GRU", "LSTM", "RNN", "CrossEntropy", "Linear", "PeepholeLSTM"]


class _Module:
    """What every module has: ``parameters`` (arrays by name, which optimisers update in
    place), ``to``, ``state_dict`` and ``load_state_dict``."""

    _weights: dict  # every array the computation takes, fixed zeros included
    xp: Any  # the arrays' namespace

    @property
    def parameters(self):
        return {k: v for k, v in self._weights.items() if self._learned(k)}

    def _learned(self, key):
        return True

    def to(self, xp: Any = None, device: Any = None, dtype: Any = None) -> "_Module":
        """The module with its arrays in the namespace ``xp``, on ``device``, of ``dtype``
        (each as now when not given); returns the module."""
        first = next(iter(self._weights.values()))
        xp = xp or self.xp
        dtype = dtype or getattr(xp, str(first.dtype).rpartition(".")[2])
        device = device or (array_api_compat.device(first) if xp is self.xp else None)
        self._weights = {k: _move(v, xp, dtype, device) for k, v in self._weights.items()}
        self.xp = xp
        return self

    def _moved(self, arrays):
        """``arrays`` (of any library) in the module's namespace, dtype and device."""
        first = next(iter(self._weights.values()))
        dev = array_api_compat.device(first)
        return {k: _move(v, self.xp, first.dtype, dev) for k, v in arrays.items()}

    def _loaded(self, new):
        """Take ``new`` (xrnn's keys) as the arrays, if they are exactly the module's."""
        name = f"{type(self).__name__}.load_state_dict"
        if set(new) != set(self._weights):
            missing = sorted(set(self._weights) - set(new))
            extra = sorted(set(new) - set(self._weights))
            raise ValueError(f"{name}: the state dict lacks {missing} and has {extra} extra")
        for k, v in new.items():
            if tuple(v.shape) != tuple(self._weights[k].shape):
                raise ValueError(
                    f"{name}: {k} has shape {tuple(v.shape)}; this module's is "
                    f"{tuple(self._weights[k].shape)}"
                )
        self._weights = new


class _Recurrent(_Module):
    _cell: str  # "rnn", "lstm", "gru", "peephole"
    _torch: str  # its PyTorch cell

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        bidirectional: bool = False,
        *,
        xp: Any = None,
        dtype: Any = None,
        device: Any = None,
        seed: Any = None,
        **options: Any,
    ):
        name = type(self).__name__
        for arg, value in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(value, bool):
                raise TypeError(f"{name}: {arg} must be True or False; got {value!r}")
        self.xp = xp or default_namespace()
        self.num_layers, self.bidirectional = num_layers, bidirectional
        self.bias, self.batch_first, self.options = bias, batch_first, options
        self._weights = self._drawn(input_size, hidden_size, seed, dtype, device)
        if not bias:  # zeros that stay zeros: no parameters, no gradients
            self._weights = {k: v * 0 if _is_bias(k) else v for k, v in self._weights.items()}

    def _learned(self, key):
        return self.bias or not _is_bias(key)

    def _drawn(self, n_x, n, seed, dtype, device):
        """Weights drawn as PyTorch draws them, uniform in ``±1/sqrt(n)``, PyTorch's two
        biases included (the second becomes xrnn's recurrent bias)."""
        name = type(self).__name__
        for arg, value in (
            ("input_size", n_x),
            ("hidden_size", n),
            ("num_layers", self.num_layers),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive int; got {value!r}")
        if not isinstance(self.bidirectional, bool):
            raise TypeError(f"{name}: bidirectional must be True or False")
        D, G = 2 if self.bidirectional else 1, _GATES[self._torch]
        rng, k = generator(seed, name), 1 / math.sqrt(n)
        drawn = {}
        for layer in range(self.num_layers):
            for d in range(D):
                s = layers.suffix(layer, d)
                n_in = n_x if layer == 0 else D * n
                shapes = {"weight_ih": (G * n, n_in), "weight_hh": (G * n, n)}
                shapes.update(bias_ih=(G * n,), bias_hh=(G * n,))
                if self._cell == "peephole":
                    shapes.update(weight_pf=(n,), weight_pi=(n,), weight_po=(n,))
                drawn.update({key + s: rng.uniform(-k, k, shape) for key, shape in shapes.items()})
        dtype = dtype or self.xp.float64
        drawn = {key: self.xp.asarray(v, dtype=dtype, device=device) for key, v in drawn.items()}
        weights = self._from_torch(drawn)
        if self.options.get("reset_after") is False:  # the course's GRU has no bca
            weights = {key: v for key, v in weights.items() if not key.startswith("bca")}
        return weights

    def _from_torch(self, arrays):
        """xrnn's keys from PyTorch's (and the peepholes' ``weight_pf_l0``, ...)."""
        arrays = dict(arrays)
        peep = {k: arrays.pop(k) for k in list(arrays) if k[len("weight_") :][:2] in _PEEPHOLES}
        new = from_torch(arrays, self._torch)
        new.update({k[len("weight_") :]: self.xp.reshape(v, (-1, 1)) for k, v in peep.items()})
        return new

    def __call__(
        self, x: Array, state: Any = None, lengths: Lengths = None
    ) -> tuple[Array, Any, dict]:
        """``out, state, cache`` from ``x (T, m, input_size)`` (``(m, T, input_size)`` with
        ``batch_first``) and the initial ``state`` (the LSTM's a pair ``(h0, c0)``; each
        ``(num_layers D, m, hidden_size)``; zeros by default), each example running its own
        ``lengths`` of steps (all ``T`` by default)."""
        xp = self.xp
        if getattr(x, "ndim", None) != 3:
            raise ValueError(
                f"{type(self).__name__}: x must be a 3-D array "
                + ("(m, T, input_size)" if self.batch_first else "(T, m, input_size)")
                + f"; got {_describe(x)}"
            )
        x = xp.permute_dims(x, (2, 0, 1) if self.batch_first else (2, 1, 0))
        a, finals, cache = _LAYERS[self._cell][0](
            x,
            self._weights,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            lengths=lengths,
            **self._states(state),
            **self.options,
        )
        out = xp.permute_dims(a, (1, 2, 0) if self.batch_first else (2, 1, 0))
        finals = tuple(xp.permute_dims(s, (0, 2, 1)) for s in _tuple(finals))
        return out, finals if self._paired else finals[0], cache

    def backward(self, d_out: Array, cache: dict, d_state: Any = None) -> dict[str, Array]:
        """Gradients from ``d_out`` (the outputs', laid out as they are) and ``d_state`` (the
        final states', as ``state``; zeros by default): a dict with the gradient of every
        parameter under its key with a ``d`` in front (what :mod:`xrnn.optim` takes), of the
        input (``"dx"``, laid out as ``x``) and of the initial states (``"dh0"``, and the
        LSTM's ``"dc0"``)."""
        xp = self.xp
        d_a = xp.permute_dims(d_out, (2, 0, 1) if self.batch_first else (2, 1, 0))
        finals = {}
        if d_state is not None:
            names = ("da_n", "dc_n") if self._paired else ("da_n",)
            given = _tuple(d_state) if self._paired else (d_state,)
            finals = {k: xp.permute_dims(v, (0, 2, 1)) for k, v in zip(names, given, strict=True)}
        g = _LAYERS[self._cell][1](d_a, cache, **finals)
        grads = {"d" + k: g["d" + k] for k in self.parameters}
        grads["dx"] = xp.permute_dims(g["dx"], (1, 2, 0) if self.batch_first else (2, 1, 0))
        grads["dh0"] = xp.permute_dims(g["da0"], (0, 2, 1))
        if self._paired:
            grads["dc0"] = xp.permute_dims(g["dc0"], (0, 2, 1))
        return grads

    @property
    def _paired(self):
        return self._cell in ("lstm", "peephole")

    def _states(self, state):
        if state is None:
            return {}
        names = ("a0", "c0") if self._paired else ("a0",)
        given = _tuple(state) if self._paired else (state,)
        if len(given) != len(names):
            raise TypeError(
                f"{type(self).__name__}: state must be "
                + ("a pair (h0, c0)" if self._paired else "an array h0")
                + f", each (num_layers D, m, hidden_size); got {_describe(state)}"
            )
        return {k: self.xp.permute_dims(v, (0, 2, 1)) for k, v in zip(names, given, strict=True)}

    def state_dict(self) -> dict[str, Array]:
        """The parameters under PyTorch's names (``weight_ih_l0``, ...; the peephole LSTM's
        diagonal weights as ``weight_pf_l0``, ...), arrays of the module's library."""
        peep = {k: v for k, v in self._weights.items() if k[:2] in _PEEPHOLES}
        rest = {k: v for k, v in self._weights.items() if k not in peep}
        out = to_torch(rest, self._torch, tensors=False)
        out.update({"weight_" + k: self.xp.reshape(v, (-1,)) for k, v in peep.items()})
        return {k: v for k, v in out.items() if self.bias or not k.startswith("bias")}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """The parameters from PyTorch's names (the ``state_dict()`` of an ``nn.RNN``,
        ``nn.LSTM``, ``nn.GRU`` of the same shape, or of this module), arrays of any library,
        kept in the module's."""
        if not hasattr(state_dict, "items"):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict: state_dict must be a dict of arrays; "
                f"got {type(state_dict).__name__}"
            )
        own = self.state_dict()
        if set(state_dict) != set(own):
            missing, extra = sorted(set(own) - set(state_dict)), sorted(set(state_dict) - set(own))
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state dict lacks {missing} and "
                f"has {extra} extra"
            )
        arrays = self._moved(dict(state_dict))
        if not self.bias:  # PyTorch's bias=False: zeros
            zeros = to_torch(self._weights, self._torch, tensors=False)
            arrays.update({k: v for k, v in zeros.items() if k.startswith("bias")})
        self._loaded(self._from_torch(arrays))


class RNN(_Recurrent):
    """PyTorch's ``nn.RNN`` (tanh)."""

    _cell = _torch = "rnn"


class LSTM(_Recurrent):
    """PyTorch's ``nn.LSTM`` (no projections)."""

    _cell = _torch = "lstm"


class GRU(_Recurrent):
    """PyTorch's ``nn.GRU``, the reset-after form; ``reset_after=False`` gives the course's,
    which has no PyTorch state dict."""

    _cell = _torch = "gru"

    def __init__(self, *args, reset_after=True, **kwargs):
        super().__init__(*args, reset_after=reset_after, **kwargs)


class PeepholeLSTM(_Recurrent):
    """The peephole LSTM (:mod:`xrnn.peephole`): PyTorch's ``nn.LSTM`` with diagonal weights
    from ``c`` into its gates (in the state dict as ``weight_pf_l0``, ...)."""

    _cell, _torch = "peephole", "lstm"


class Linear(_Module):
    """PyTorch's ``nn.Linear``: ``y = x weight^T + bias`` over the last axis of ``x (..., in)``;
    ``weight (out, in)`` and ``bias (out,)`` drawn uniform in ``±1/sqrt(in)``."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        xp: Any = None,
        dtype: Any = None,
        device: Any = None,
        seed: Any = None,
    ):
        self.xp = xp or default_namespace()
        self.bias = bias
        rng, k = generator(seed, "Linear"), 1 / math.sqrt(in_features)
        drawn = {"weight": rng.uniform(-k, k, (out_features, in_features))}
        drawn["bias"] = rng.uniform(-k, k, (out_features,)) * (1.0 if bias else 0.0)
        dtype = dtype or self.xp.float64
        self._weights = {
            n: self.xp.asarray(v, dtype=dtype, device=device) for n, v in drawn.items()
        }

    def _learned(self, key):
        return self.bias or key != "bias"

    def __call__(self, x: Array) -> tuple[Array, Array]:
        """``y, cache``: ``y (..., out)`` from ``x (..., in)``."""
        w = self._weights
        return x @ w["weight"].T + w["bias"], x

    def backward(self, dy: Array, cache: Array) -> dict[str, Array]:
        """Gradients from ``dy (..., out)``: ``dweight``, ``dbias`` (if learned) and ``dx``."""
        xp, x, w = self.xp, cache, self._weights["weight"]
        dy2 = xp.reshape(dy, (-1, dy.shape[-1]))
        grads = {"dweight": dy2.T @ xp.reshape(x, (-1, x.shape[-1]))}
        if self.bias:
            grads["dbias"] = xp.sum(dy2, axis=0)
        grads["dx"] = dy @ w
        return grads

    def state_dict(self):
        return dict(self.parameters)

    def load_state_dict(self, state_dict):
        arrays = self._moved(dict(state_dict))
        if not self.bias:
            arrays["bias"] = self._weights["bias"]
        self._loaded(arrays)


class CrossEntropy:
    """PyTorch's ``nn.CrossEntropyLoss`` over sequences: ``loss, cache = ce(logits, targets,
    lengths=None)`` with ``logits (T, m, C)`` (``(m, T, C)`` with ``batch_first``) and integer
    ``targets (T, m)`` (``(m, T)``), averaged (``reduction="mean"``) or summed over the steps
    within ``lengths``; ``ce.backward(cache)`` is the logits' gradient."""

    def __init__(self, reduction: str = "mean", batch_first: bool = False):
        self.reduction, self.batch_first = reduction, batch_first

    def __call__(
        self, logits: Array, targets: Array, lengths: Lengths = None
    ) -> tuple[Array, tuple]:
        xp = array_api_compat.array_namespace(logits)
        z = xp.permute_dims(logits, (2, 0, 1) if self.batch_first else (2, 1, 0))
        t = targets if self.batch_first else xp.permute_dims(targets, (1, 0))
        loss, dz = softmax_cross_entropy(z, t, lengths=lengths, reduction=self.reduction)
        return loss, (xp, dz)

    def backward(self, cache: tuple, d_loss: float = 1.0) -> Array:
        """``d_loss`` times the gradient of the loss by the logits, laid out as they are."""
        xp, dz = cache
        return xp.permute_dims(dz, (1, 2, 0) if self.batch_first else (2, 1, 0)) * d_loss


_LAYERS = {
    "rnn": (layers.rnn_layers, layers.rnn_layers_backward),
    "lstm": (layers.lstm_layers, layers.lstm_layers_backward),
    "gru": (layers.gru_layers, layers.gru_layers_backward),
    "peephole": (peephole.peephole_layers, peephole.peephole_layers_backward),
}
_PEEPHOLES = ("pf", "pi", "po")
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _is_bias(key):
    return key.startswith("b")


def _tuple(value):
    return tuple(value) if isinstance(value, tuple | list) else (value,)


def _describe(value):
    shape = getattr(value, "shape", None)
    return f"shape {tuple(shape)}" if shape is not None else type(value).__name__


def _move(a, xp, dtype, device):
    """``a`` (of any library) as an array of ``xp``, ``dtype``, ``device``."""
    if array_api_compat.array_namespace(a) is not xp:
        a = to_numpy(a)
    return xp.asarray(a, dtype=dtype, device=device)

"""A character-level language model: recurrent layers, an output layer and a softmax
cross-entropy, with its gradients, its evaluation and its sampling. Array API throughout; the
random draws of sampling come from a seeded generator on the host (:mod:`xrnn._host`).

Parameters are those of :mod:`xrnn.layers` (``Wf_l0``, ...) plus the output layer ``Wy, by``.
"""

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

import array_api_compat

from . import layers
from ._arrays import Array, Lengths
from ._host import categorical, generator, to_list
from .data import END, CorpusError, Vocab, _check_positive, one_hot
from .init import init_parameters
from .loss import output_backward, output_forward, softmax_cross_entropy

__all__ = ["Model", "evaluate", "generate", "loss_and_grads"]

_LAYERS = {  # cell -> its layers' forward and backward
    cell: (getattr(layers, f"{cell}_layers"), getattr(layers, f"{cell}_layers_backward"))
    for cell in ("rnn", "lstm", "gru")
}


@dataclass(frozen=True)
class Model:
    """The shape of a model: its cell, layers, hidden units and vocabulary size."""

    cell: str = "lstm"
    layers: int = 1
    hidden: int = 128
    vocab: int = 27

    def __post_init__(self):
        if self.cell not in _LAYERS:
            raise ValueError(f"cell must be 'rnn', 'lstm' or 'gru'; got {self.cell!r}")
        for name in ("layers", "hidden", "vocab"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")

    def init(self, seed=0, xp=None, dtype=None, device=None):
        """Parameters drawn as PyTorch draws them (the GRU in its reset-after form)."""
        return init_parameters(
            self.cell,
            self.vocab,
            self.hidden,
            n_y=self.vocab,
            num_layers=self.layers,
            reset_after=self.cell == "gru",
            seed=seed,
            xp=xp,
            dtype=dtype,
            device=device,
        )

    def dict(self):
        return asdict(self)

    def _layers(self, x, params, states=None, lengths=None):
        forward = _LAYERS[self.cell][0]
        kw = {"reset_after": True} if self.cell == "gru" else {}
        states = states or {}
        a, finals, cache = forward(
            x, params, num_layers=self.layers, lengths=lengths, **kw, **states
        )
        finals = finals if self.cell == "lstm" else (finals,)
        return a, dict(zip(("a0", "c0"), finals, strict=False)), cache


def loss_and_grads(
    model: "Model", params: Mapping[str, Array], x: Array, targets: Array, lengths: Lengths
) -> tuple[Array, dict[str, Array]]:
    """Mean cross-entropy per character of a batch, and its gradients ``{"d" + key: ...}``."""
    a, _, cache = model._layers(x, params, lengths=lengths)
    z = output_forward(a, params["Wy"], params["by"])
    loss, dz = softmax_cross_entropy(z, targets, lengths=lengths)
    out = output_backward(dz, a, params["Wy"])
    grads = _LAYERS[model.cell][1](out["da"], cache, need_dx=False)
    for k in ("da0", "dc0"):
        grads.pop(k, None)
    return loss, {**grads, "dWy": out["dWy"], "dby": out["dby"]}


def evaluate(model: "Model", params: Mapping[str, Array], batches: Iterable) -> float:
    """Cross-entropy per character (nats) over all the characters of ``batches``."""
    total, count = 0.0, 0
    for x, targets, lengths in batches:
        a, _, _ = model._layers(x, params, lengths=lengths)
        loss, _ = softmax_cross_entropy(
            output_forward(a, params["Wy"], params["by"]), targets, lengths=lengths, reduction="sum"
        )
        total += float(loss)
        count += sum(to_list(lengths))
    if not count:
        raise ValueError("evaluate: batches must hold at least one character; got none")
    return total / count


def generate(
    model, params, vocab, n=1, prefix="", temperature=1.0, top_k=None, seed=None, max_len=40
):
    """``n`` new texts, each starting with ``prefix``, drawn one character at a time from the
    softmax of the logits divided by ``temperature`` (restricted to the ``top_k`` likeliest
    when given) until the end character or ``max_len`` characters. ``prefix`` is text of
    ``vocab`` without the end character."""
    _check_positive("generate", n=n, max_len=max_len)
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"generate: temperature must be a number; got {temperature!r}")
    if not 0 < temperature < math.inf:
        raise ValueError(f"generate: temperature must be positive and finite; got {temperature!r}")
    if not isinstance(vocab, Vocab):
        raise TypeError(f"generate: vocab must be a data.Vocab; got {type(vocab).__name__}")
    if not isinstance(model, Model):
        raise TypeError(f"generate: model must be a charmodel.Model; got {type(model).__name__}")
    if not isinstance(params, dict) or not {"Wy", "by"} <= params.keys():
        raise ValueError("generate: params must be the model's, with its output layer Wy, by")
    if tuple(params["Wy"].shape) != (len(vocab), model.hidden):
        raise ValueError(
            f"generate: params['Wy'] must have shape (len(vocab), hidden) = "
            f"({len(vocab)}, {model.hidden}); got {tuple(params['Wy'].shape)}"
        )
    if top_k is not None and not (isinstance(top_k, int) and 1 <= top_k <= len(vocab)):
        raise ValueError(f"generate: top_k must be an int in 1..{len(vocab)}; got {top_k!r}")
    if not isinstance(prefix, str):
        raise TypeError(f"generate: prefix must be a str; got {type(prefix).__name__}")
    if END in prefix:
        raise ValueError(
            f"generate: prefix must not hold the end character {END!r}, which ends a text; "
            f"got {prefix!r}"
        )
    try:
        start = [0, *vocab.encode(prefix)]  # END, then the prefix
    except CorpusError as e:
        raise ValueError(f"generate: prefix has {e}") from None
    rng = generator(seed, "generate")
    W = params["Wy"]
    xp, device = array_api_compat.array_namespace(W), array_api_compat.device(W)
    texts = [list(prefix) for _ in range(n)]
    done = [False] * n
    seq, states = [start] * n, None
    for _ in range(max_len):
        x = one_hot(xp.asarray(seq, device=device), len(vocab), W.dtype)
        a, states, _ = model._layers(x, params, states)
        z = output_forward(a[:, :, -1:], W, params["by"])[:, :, 0]
        drawn = categorical(rng, z.T, temperature, top_k)
        seq = [[c] for c in drawn]
        for j, c in enumerate(drawn):
            done[j] = done[j] or c == 0
            if not done[j]:
                texts[j].append(vocab.chars[c])
        if all(done):
            break
    return ["".join(t) for t in texts]

"""What defines an ``xrnn train`` run, and what its checkpoint must say of it.

:data:`RUN` holds the options that define a run (a resumed run keeps them) with their
defaults; :func:`check_saved` checks a loaded checkpoint's metadata field by field against the
schema below and against its parameters (their keys and shapes are those of the model the
metadata describes, in the configured dtype), so that a resumed run continues exactly the run
that was saved, or stops with a one-line :class:`xrnn.checkpoint.CheckpointError`.
"""

import math
import re

from . import data, optim
from .charmodel import Model
from .checkpoint import CheckpointError

__all__ = ["OPTIMIZERS", "RUN", "check_saved", "invalid", "wrong"]

RUN = {
    "cell": "lstm",
    "layers": 1,
    "hidden": 128,
    "dtype": "float32",
    "optimizer": "adam",
    "lr": 5e-3,
    "weight_decay": 0.0,
    "momentum": 0.9,
    "clip": 5.0,
    "clip_value": None,
    "batch": 64,
    "seq_len": 32,
    "val_fraction": 0.1,
    "seed": 0,
}
OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD}


def _int(low):
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


def _real(test):
    return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and test(v)


def _finite(v):
    return _real(math.isfinite)(v)


_CONFIG = {  # a test of each value, and what it must do, in words
    "cell": (lambda v: v in ("lstm", "gru", "rnn"), "be 'lstm', 'gru' or 'rnn'"),
    "layers": (_int(1), "be a positive integer"),
    "hidden": (_int(1), "be a positive integer"),
    "dtype": (lambda v: v in ("float32", "float64"), "be 'float32' or 'float64'"),
    "optimizer": (lambda v: v in OPTIMIZERS, "be " + " or ".join(map(repr, OPTIMIZERS))),
    "lr": (_real(lambda v: 0 < v < math.inf), "be positive and finite"),
    "weight_decay": (_real(lambda v: 0 <= v < math.inf), "be finite and not negative"),
    "momentum": (_real(lambda v: 0 <= v < 1), "lie in [0, 1)"),
    "clip": (lambda v: v is None or _real(lambda v: 0 < v < math.inf)(v), "be positive"),
    "clip_value": (lambda v: v is None or _real(lambda v: 0 < v < math.inf)(v), "be positive"),
    "batch": (_int(1), "be a positive integer"),
    "seq_len": (_int(2), "be at least 2"),
    "val_fraction": (_real(lambda v: 0 < v < 1), "lie between 0 and 1"),
    "seed": (_int(0), "be an integer >= 0"),
}


def wrong(key, value):
    """What the run option ``key`` must do, in words, where ``value`` is not right for it;
    None where it is."""
    test, must = _CONFIG[key]
    return None if test(value) else must


def invalid(cfg):
    """The first of the options ``cfg`` that a run cannot take, as ``(key, what it must do)``;
    None if every one is right."""
    for key in _CONFIG:
        must = wrong(key, cfg[key])
        if must:
            return key, must
    return None


def check_saved(path, params, state, meta):
    """Raise :class:`CheckpointError` unless ``meta`` is a run's whole metadata and fits
    ``params``; returns the run's :class:`xrnn.data.Vocab`."""

    def fail(what):
        raise CheckpointError(f"checkpoint {path}: {what}")

    keys = {"config", "vocab", "step", "history", "bigram", "corpus", "model"}
    if not keys <= meta.keys():
        fail(f"its metadata lacks {', '.join(sorted(keys - meta.keys()))}")
    cfg = meta["config"]
    if not isinstance(cfg, dict) or cfg.keys() != RUN.keys():
        fail("its config does not hold the options of a run")
    wrong = invalid(cfg)
    if wrong:
        fail(f"config {wrong[0]} must {wrong[1]}; got {cfg[wrong[0]]!r}")
    vocab = meta["vocab"]
    if (
        not isinstance(vocab, list)
        or not all(isinstance(c, str) and len(c) == 1 for c in vocab)
        or vocab[:1] != [data.END]
        or vocab[1:] != sorted(set(vocab[1:]) - {data.END})
    ):
        fail("its vocabulary is not a list of distinct characters, the end mark first")
    step = meta["step"]
    if not _int(0)(step) or state["steps"] != step:
        fail(f"step must be an int >= 0, the optimiser's step count; got {step!r}")
    history = meta["history"]
    if (
        not isinstance(history, dict)
        or history.keys() != {"train", "val"}
        or not isinstance(history["train"], list)
        or len(history["train"]) != step
        or not all(_finite(v) for v in history["train"])
        or not isinstance(history["val"], list)
        or not all(
            isinstance(p, list) and len(p) == 2 and _int(1)(p[0]) and p[0] <= step and _finite(p[1])
            for p in history["val"]
        )
    ):
        fail("its loss history is not one finite loss per step and (step, loss) evaluations")
    if not _real(lambda v: 0 < v < math.inf)(meta["bigram"]):
        fail(f"bigram must be a finite number > 0; got {meta['bigram']!r}")
    corpus = meta["corpus"]
    if (
        not isinstance(corpus, dict)
        or corpus.keys() != {"name", "sha256"}
        or not isinstance(corpus["name"], str)
        or not isinstance(corpus["sha256"], str)
        or not re.fullmatch("[0-9a-f]{64}", corpus["sha256"])
    ):
        fail("its corpus is not a name and a SHA-256")
    model = {k: cfg[k] for k in ("cell", "layers", "hidden")} | {"vocab": len(vocab)}
    if meta["model"] != model:
        fail(f"its model {meta['model']!r} is not the config's and vocabulary's {model!r}")
    if sum(math.prod(v.shape) for v in params.values()) != _size(**model):  # before building
        fail(f"its parameters are not the size of the model of its metadata {model!r}")
    shapes = {k: tuple(v.shape) for k, v in Model(**model).init().items()}
    got = {k: tuple(v.shape) for k, v in params.items()}
    if got != shapes:
        wrong = sorted(k for k in shapes.keys() | got.keys() if shapes.get(k) != got.get(k))
        shown = ", ".join(wrong[:8]) + (" and more" if len(wrong) > 8 else "")
        fail(f"parameters {shown} do not fit the model of its metadata {model!r}")
    dtype = str(next(iter(params.values())).dtype)
    if dtype != cfg["dtype"]:
        fail(f"parameters are {dtype}; its config says {cfg['dtype']}")
    return data.Vocab("".join(vocab))


def _size(cell, layers, hidden, vocab):
    """How many numbers the parameters of :class:`xrnn.charmodel.Model` hold, computed (a
    model's shapes are not built before its size is known to be the file's)."""
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    per_layer = [gates * hidden * (hidden + n_in + 1) for n_in in [vocab] + [hidden] * (layers - 1)]
    reset_after = hidden * layers if cell == "gru" else 0  # the GRU's bca
    return sum(per_layer) + reset_after + vocab * (hidden + 1)

"""Text in, batches out: a character vocabulary, the default corpus and minibatches.

Text is read and encoded in plain Python on the host; the batches are arrays of whatever
namespace and device the caller names.
"""

import importlib.resources
import itertools
import math

import array_api_compat

from ._host import default_namespace

__all__ = [
    "CorpusError",
    "Vocab",
    "batches",
    "bigram_loss",
    "examples",
    "one_hot",
    "read_corpus",
]

END = "\n"  # ends every example, and starts it as the first input


class CorpusError(ValueError):
    """A corpus that cannot be trained on, with a one-line reason."""


def read_corpus(path=None):
    """The text of ``path`` (UTF-8), or of the default corpus: 5,163 US first names (the 1990
    census lists, public domain), one per line."""
    if path is None:
        return importlib.resources.files("xrnn").joinpath("corpora/names.txt").read_text("utf-8")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise CorpusError(
            f"corpus {path} is not UTF-8 text ({e.reason} at byte {e.start})"
        ) from None
    except OSError as e:
        raise CorpusError(f"cannot read corpus {path}: {e.strerror}") from None
    if not text.strip():
        raise CorpusError(f"corpus {path} is empty")
    return text


def examples(text, seq_len):
    """The corpus's examples: its non-empty lines, each cut into pieces short enough to fit
    ``seq_len`` steps with the end character."""
    pieces = []
    for line in text.splitlines():
        line = line.strip()
        pieces += [line[i : i + seq_len - 1] for i in range(0, len(line), seq_len - 1)]
    return pieces


class Vocab:
    """The characters of a corpus, with ``END`` first: ``encode`` and ``decode``."""

    def __init__(self, chars):
        self.chars = [END, *sorted(set(chars) - {END})]
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise CorpusError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return [self.index[c] for c in text]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def batches(ids, batch_size, order, vocab_size, xp=None, dtype=None, device=None):
    """Minibatches ``(x, targets, lengths)`` of encoded examples ``ids``, in ``order`` (a
    permutation of their indices), ``batch_size`` at a time (a smaller last batch).

    Example ``j`` of length ``L`` gives ``L + 1`` steps: inputs ``END, c_1, ..., c_L`` as
    one-hot columns of ``x (vocab_size, m, T)``, targets ``c_1, ..., c_L, END`` in
    ``targets (m, T)``; ``T`` is the batch's longest, and ``lengths (m,)`` says where each ends.
    Each batch is sorted longest first, so that each step computes only the examples running.
    """
    xp = xp or default_namespace()
    dtype = dtype or xp.float64
    for start in range(0, len(order), batch_size):
        # longest first: then the examples still running at a step are the first ones
        rows = sorted((ids[i] for i in order[start : start + batch_size]), key=len, reverse=True)
        T = len(rows[0]) + 1
        inputs = [[0, *r] + [0] * (T - 1 - len(r)) for r in rows]
        targets = [[*r] + [0] * (T - len(r)) for r in rows]
        inputs, targets, lengths = (
            xp.asarray(a, dtype=xp.int64, device=device)
            for a in (inputs, targets, [len(r) + 1 for r in rows])
        )
        classes = xp.reshape(xp.arange(vocab_size, device=device), (vocab_size, 1, 1))
        x = xp.astype(classes == inputs[None, ...], dtype)
        yield x, targets, lengths


def one_hot(ids, vocab_size, dtype):
    """``ids (m, T)`` as one-hot columns ``(vocab_size, m, T)`` of ``dtype``, on their device."""
    xp = array_api_compat.array_namespace(ids)
    classes = xp.arange(vocab_size, device=array_api_compat.device(ids))
    return xp.astype(xp.reshape(classes, (vocab_size, 1, 1)) == ids[None, ...], dtype)


def bigram_loss(train_ids, test_ids, vocab_size, smoothing=0.1):
    """Cross-entropy per character (nats) on ``test_ids`` of a bigram model fitted on
    ``train_ids``, with add-``smoothing`` counts: the baseline a recurrent model must beat."""
    counts = [[smoothing] * vocab_size for _ in range(vocab_size)]
    for r in train_ids:
        s = [0, *r, 0]
        for a, b in itertools.pairwise(s):
            counts[a][b] += 1
    logp = [[math.log(c / sum(row)) for c in row] for row in counts]
    total, n = 0.0, 0
    for r in test_ids:
        s = [0, *r, 0]
        total -= sum(logp[a][b] for a, b in itertools.pairwise(s))
        n += len(s) - 1
    return total / n

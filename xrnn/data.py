"""Text in, batches out: a character vocabulary, the default corpus and minibatches.

Text is read and encoded in plain Python on the host; the batches are arrays of whatever
namespace and device the caller names.
"""

import collections
import importlib.resources
import itertools
import math
import numbers
import os
import stat

import array_api_compat

from ._arrays import index_dtype
from ._host import default_namespace

__all__ = [
    "MAX_CORPUS_BYTES",
    "CorpusError",
    "Vocab",
    "batches",
    "bigram_loss",
    "examples",
    "one_hot",
    "read_corpus",
]

END = "\n"  # ends every example, and starts it as the first input
MAX_CORPUS_BYTES = 100_000_000  # read_corpus refuses larger files


class CorpusError(ValueError):
    """A corpus that cannot be trained on, with a one-line reason."""


def read_corpus(path=None):
    """The text of ``path`` (UTF-8, a leading byte-order mark dropped), or of the default
    corpus: 5,163 US first names (the 1990 census lists, public domain), one per line.

    Only a regular file of at most :data:`MAX_CORPUS_BYTES` is read: a device, a FIFO or a
    directory is refused before it is opened."""
    if path is None:
        return importlib.resources.files("xrnn").joinpath("corpora/names.txt").read_text("utf-8")
    if not isinstance(path, str | os.PathLike):  # an int would be read as a file descriptor
        raise TypeError(f"read_corpus: path must be a str or a path; got {type(path).__name__}")
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            kind = next(
                (k for k, test in _KINDS.items() if test(info.st_mode)), "another kind of file"
            )
            raise CorpusError(f"corpus {path} must be a regular file; got {kind}")
        size = info.st_size
        if size <= MAX_CORPUS_BYTES:
            with open(path, "rb") as f:
                raw = f.read(MAX_CORPUS_BYTES + 1)  # bounded: the file may have grown since
            size = len(raw)
    except OSError as e:
        raise CorpusError(f"cannot read corpus {path}: {e.strerror}") from None
    if size > MAX_CORPUS_BYTES:
        raise CorpusError(
            f"corpus {path} must be at most {MAX_CORPUS_BYTES:,} bytes (data.MAX_CORPUS_BYTES); "
            f"got {size:,}"
        )
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")  # a byte-order mark is no character
    except UnicodeDecodeError as e:
        raise CorpusError(
            f"corpus {path} is not UTF-8 text ({e.reason} at byte {e.start})"
        ) from None
    if not text.strip():
        raise CorpusError(f"corpus {path} is empty")
    return text


_KINDS = {
    "a directory": stat.S_ISDIR,
    "a FIFO": stat.S_ISFIFO,
    "a character device": stat.S_ISCHR,
    "a block device": stat.S_ISBLK,
    "a socket": stat.S_ISSOCK,
}


def examples(text, seq_len):
    """The corpus's examples: its non-empty lines, each cut into pieces short enough to fit
    ``seq_len`` steps with the end character."""
    if not (_is_int(seq_len) and seq_len >= 2):
        raise ValueError(
            f"examples: seq_len must be an int >= 2, a character and the end; got {seq_len!r}"
        )
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
        try:
            return [self.index[c] for c in text]
        except KeyError:
            unknown = sorted({c for c in text if c not in self.index})
            raise CorpusError(f"characters not in the vocabulary: {''.join(unknown)!r}") from None

    def decode(self, ids):
        _check_ids("Vocab.decode", "ids", [ids], len(self))
        return "".join(self.chars[i] for i in ids)


def batches(ids, batch_size, order, vocab_size, xp=None, dtype=None, device=None):
    """Minibatches ``(x, targets, lengths)`` of encoded examples ``ids``, in ``order`` (a
    permutation of their indices), ``batch_size`` at a time (a smaller last batch).

    Example ``j`` of length ``L`` gives ``L + 1`` steps: inputs ``END, c_1, ..., c_L`` as
    one-hot columns of ``x (vocab_size, m, T)``, targets ``c_1, ..., c_L, END`` in
    ``targets (m, T)``; ``T`` is the batch's longest, and ``lengths (m,)`` says where each ends.
    Each batch is sorted longest first, so that each step computes only the examples running.
    The arguments are checked at the call, the ids of the examples that ``order`` names too.
    """
    _check_positive("batches", batch_size=batch_size, vocab_size=vocab_size)
    order = list(order)
    _check_ids("batches", "order", [order], len(ids), "len(ids)")
    _check_ids("batches", "ids", (ids[i] for i in order), vocab_size)
    return _batches(ids, batch_size, order, vocab_size, xp, dtype, device)


def _batches(ids, batch_size, order, vocab_size, xp, dtype, device):
    xp = xp or default_namespace()
    dtype = dtype or xp.float64
    for start in range(0, len(order), batch_size):
        # longest first: then the examples still running at a step are the first ones
        rows = sorted((ids[i] for i in order[start : start + batch_size]), key=len, reverse=True)
        T = len(rows[0]) + 1
        inputs = [[0, *r] + [0] * (T - 1 - len(r)) for r in rows]
        targets = [[*r] + [0] * (T - len(r)) for r in rows]
        inputs, targets, lengths = (
            xp.asarray(a, dtype=index_dtype(xp, device), device=device)
            for a in (inputs, targets, [len(r) + 1 for r in rows])
        )
        classes = xp.reshape(xp.arange(vocab_size, device=device), (vocab_size, 1, 1))
        x = xp.astype(classes == inputs[None, ...], dtype)
        yield x, targets, lengths


def _is_int(i):
    return type(i) is int or (isinstance(i, numbers.Integral) and not isinstance(i, bool))


def _check_positive(fname, **values):
    for name, v in values.items():
        if not (_is_int(v) and v >= 1):
            raise ValueError(f"{fname}: {name} must be a positive int; got {v!r}")


def _few(values):
    """Up to five of ``values``, for a message."""
    values = list(dict.fromkeys(values))
    return ", ".join(map(repr, values[:5])) + (
        f" and {len(values) - 5} more" if len(values) > 5 else ""
    )


def _check_ids(fname, name, rows, n, size="vocab_size"):
    """Every item of ``rows`` (sequences of ints) an int in ``0..n-1`` (``n`` is ``size``), or
    a ValueError naming the others: ids out of the vocabulary would be silently zero one-hot
    columns, or another id's counts."""
    bad = [i for r in rows for i in r if not (_is_int(i) and 0 <= i < n)]
    if bad:
        raise ValueError(
            f"{fname}: {name} must be ints in 0..{size}-1 = 0..{n - 1}; got {_few(bad)}"
        )


def one_hot(ids, vocab_size, dtype):
    """``ids (m, T)`` as one-hot columns ``(vocab_size, m, T)`` of ``dtype``, on their device;
    every id in ``0..vocab_size-1``."""
    xp = array_api_compat.array_namespace(ids)
    _check_positive("one_hot", vocab_size=vocab_size)
    if not xp.isdtype(ids.dtype, "integral"):
        raise TypeError(f"one_hot: ids must be an integer array; got {ids.dtype}")
    if math.prod(ids.shape) and not (0 <= int(xp.min(ids)) and int(xp.max(ids)) < vocab_size):
        raise ValueError(
            f"one_hot: ids must lie in 0..vocab_size-1 = 0..{vocab_size - 1}; got values from "
            f"{int(xp.min(ids))} to {int(xp.max(ids))}"
        )
    classes = xp.arange(vocab_size, device=array_api_compat.device(ids))
    return xp.astype(xp.reshape(classes, (vocab_size, 1, 1)) == ids[None, ...], dtype)


def bigram_loss(train_ids, test_ids, vocab_size, smoothing=0.1):
    """Cross-entropy per character (nats) on ``test_ids`` of a bigram model fitted on
    ``train_ids``, with add-``smoothing`` counts: the baseline a recurrent model must beat.

    Linear in the characters: a pair's probability is ``(smoothing + count) / (vocab_size *
    smoothing + the first character's count)``, looked up only for the pairs of ``test_ids``."""
    _check_positive("bigram_loss", vocab_size=vocab_size)
    if not (isinstance(smoothing, numbers.Real) and 0 < smoothing < math.inf):
        raise ValueError(f"bigram_loss: smoothing must be a finite number > 0; got {smoothing!r}")
    for name, ids in (("train_ids", train_ids), ("test_ids", test_ids)):
        _check_ids("bigram_loss", name, ids, vocab_size)
    if len(test_ids) == 0:
        raise ValueError("bigram_loss: test_ids must hold at least one example; got none")
    pairs, firsts = collections.Counter(), collections.Counter()
    for r in train_ids:
        s = [0, *r, 0]
        pairs.update(itertools.pairwise(s))
        firsts.update(s[:-1])
    total, n = 0.0, 0
    for r in test_ids:
        s = [0, *r, 0]
        total -= sum(
            math.log((smoothing + pairs[a, b]) / (vocab_size * smoothing + firsts[a]))
            for a, b in itertools.pairwise(s)
        )
        n += len(s) - 1
    return total / n

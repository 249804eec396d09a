"""Hostile corpora (the issue's item 10): what ``xrnn train --corpus FILE`` reads through
:func:`xrnn.data.read_corpus`, and the vocabulary, examples and bigram baseline made of it.

Only a regular file of at most ``data.MAX_CORPUS_BYTES`` is read (a FIFO or a device is refused
before it is opened, so nothing blocks or reads without bound); a byte-order mark is no
character; text that is not UTF-8, or holds nothing, is a :class:`xrnn.data.CorpusError`. The
vocabulary and the bigram baseline take time linear in the text, whatever the vocabulary's size.
"""

import itertools
import math
import os
import threading

import numpy as np
import pytest

from xrnn import data


def _old_bigram_loss(train_ids, test_ids, vocab_size, smoothing=0.1):
    """The formula as it was: a dense table of counts, each row normalised (cubic in V)."""
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


@pytest.mark.parametrize(
    "text, smoothing",
    [(None, 0.1), ("abc\nbca\ncab\naab\nc\n\nbbbbbbbbbbbbbbb\nzy\n", 0.5)],
    ids=["names", "small"],
)
def test_bigram_loss_is_the_old_formulas(text, smoothing):
    text = text or data.read_corpus()
    vocab = data.Vocab(text)
    ids = [vocab.encode(e) for e in data.examples(text, 8)]
    train, test = ids[::2], ids[1::2]
    expected = _old_bigram_loss(train, test, len(vocab), smoothing)
    assert data.bigram_loss(train, test, len(vocab), smoothing) == pytest.approx(expected, 1e-12)


def test_five_thousand_distinct_characters_are_linear_not_cubic(tmp_path):
    """5,000 characters: a dense V x V table normalised row by row (1.25e11 operations) would
    not finish; every bigram is seen once, so each has probability (s + 1) / (V s + 1)."""
    chars = "".join(chr(0x4E00 + i) for i in range(5000))  # CJK ideographs, no line breaks
    path = tmp_path / "wide.txt"
    path.write_text(chars + "\n", encoding="utf-8")
    text = data.read_corpus(path)
    vocab = data.Vocab(text)
    assert len(vocab) == 5001
    pieces = data.examples(text, 3)  # 2,500 encodings of two characters each
    ids = [vocab.encode(p) for p in pieces]
    assert "".join(vocab.decode(i) for i in ids) == chars
    whole = [vocab.encode(chars)]
    loss = data.bigram_loss(whole, whole, len(vocab), smoothing=0.1)
    assert loss == pytest.approx(-math.log(1.1 / (5001 * 0.1 + 1)), rel=1e-12)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    caught = []

    def read():
        try:
            data.read_corpus(fifo)
        except data.CorpusError as e:
            caught.append(str(e))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # blocked in open(): give it a writer so that it ends
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not reader.is_alive() and caught == [f"corpus {fifo} must be a regular file; got a FIFO"]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused(device):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    with pytest.raises(data.CorpusError, match=f"corpus {device} must be a regular file; got a "):
        data.read_corpus(device)


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(data.CorpusError, match="must be a regular file; got a directory"):
        data.read_corpus(tmp_path)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:
        f.truncate(data.MAX_CORPUS_BYTES + 1)  # sparse: nothing written, nothing read
    with pytest.raises(
        data.CorpusError,
        match=r"must be at most 100,000,000 bytes \(data.MAX_CORPUS_BYTES\); got 100,000,001",
    ):
        data.read_corpus(path)


def test_a_byte_order_mark_is_no_character(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfanna\nbob\n")
    text = data.read_corpus(path)
    assert text == "anna\nbob\n"
    assert "\ufeff" not in data.Vocab(text).chars


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"\xef\xbb\xbf \n", "is empty"),
        (b"ab\xffcd", r"is not UTF-8 text \(invalid start byte at byte 2\)"),
        (b"\xef\xbb\xbfab\xffcd", r"is not UTF-8 text \(invalid start byte at byte 5\)"),
        (b"ab\xc3", r"is not UTF-8 text \(unexpected end of data at byte 2\)"),
    ],
    ids=["empty", "only-a-bom", "invalid-byte", "invalid-after-bom", "truncated"],
)
def test_unreadable_text(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(data.CorpusError, match=rf"corpus .*corpus\.txt {message}"):
        data.read_corpus(path)


def test_a_missing_file(tmp_path):
    with pytest.raises(data.CorpusError, match=r"cannot read corpus .*: No such file"):
        data.read_corpus(tmp_path / "nothing.txt")


@pytest.mark.parametrize("seq_len", [1, 0, -3, 2.5])
def test_examples_need_room_for_a_character_and_the_end(seq_len):
    with pytest.raises(ValueError, match=rf"examples: seq_len must be an int >= 2.*{seq_len}"):
        data.examples("abc\n", seq_len)


@pytest.mark.parametrize(
    "train, test, smoothing, message",
    [
        ([[1, 2]], [[1, 5]], 0.1, r"test_ids must be ints in 0..vocab_size-1 = 0..2; got 5"),
        ([[-1, 2]], [[1]], 0.1, r"train_ids must be ints in 0..vocab_size-1 = 0..2; got -1"),
        ([[1, 2.0]], [[1]], 0.1, r"train_ids must be ints .*; got 2.0"),
        ([[1, 2]], [], 0.1, r"test_ids must hold at least one example; got none"),
        ([[1, 2]], [[2, 1]], 0, r"smoothing must be a finite number > 0; got 0"),
        ([[1, 2]], [[2, 1]], float("nan"), r"smoothing must be a finite number > 0; got nan"),
    ],
    ids=["id-too-large", "negative-id", "float-id", "no-test-examples", "no-smoothing", "nan"],
)
def test_bigram_loss_refuses_what_it_cannot_score(train, test, smoothing, message):
    with pytest.raises(ValueError, match=rf"bigram_loss: {message}"):
        data.bigram_loss(train, test, 3, smoothing)


@pytest.mark.parametrize(
    "ids, error, message",
    [
        (np.array([[0, 7]]), ValueError, r"one_hot: ids must lie in 0..vocab_size-1 = 0..5; got"),
        (np.array([[-1, 2]]), ValueError, r"got values from -1 to 2"),
        (np.array([[1.5, 2.0]]), TypeError, r"one_hot: ids must be an integer array"),
    ],
    ids=["too-large", "negative", "float"],
)
def test_one_hot_refuses_ids_out_of_the_vocabulary(ids, error, message):
    from xrnn import data

    with pytest.raises(error, match=message):
        data.one_hot(ids, 6, np.float64)

"""Hostile input, integer dtypes: lengths and targets of any integer dtype (int8, uint8, int16,
int32, int64) give the int64 result, where the values fit the dtype but sums and products of
them do not (m = 20, T = 100: index arithmetic up to m T = 2,000; 200 classes)."""

import numpy as np
import pytest

import xrnn

INTEGERS = ["int8", "uint8", "int16", "int32", "int64"]


def _as(backend, values, dtype):
    return backend.xp.asarray(np.asarray(values, dtype=dtype), device=backend.device)


@pytest.mark.parametrize("dtype", INTEGERS)
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_lengths_of_any_integer_dtype(backend, cell, dtype):
    n_x, n_a, m, T = 2, 3, 20, 100
    rng = np.random.default_rng(0)
    p = backend.asarray(xrnn.init_parameters(cell, n_x, n_a, n_y=2, seed=0))
    x = backend.asarray(rng.standard_normal((n_x, m, T)))
    a0 = backend.asarray(rng.standard_normal((n_a, m)))
    da = backend.asarray(rng.standard_normal((n_a, m, T)))
    lengths = [int(v) for v in rng.integers(1, T + 1, m)]  # unsorted, up to 100
    forward, backward = getattr(xrnn, f"{cell}_forward"), getattr(xrnn, f"{cell}_backward")
    results = []
    for given in (_as(backend, lengths, "int64"), _as(backend, lengths, dtype)):
        out = forward(x, a0, p, lengths=given)
        results.append({"a": out[0], "y": out[1], **backward(da, out[-1])})
    for key, want in results[0].items():
        np.testing.assert_array_equal(
            backend.to_numpy(results[1][key]), backend.to_numpy(want), err_msg=key
        )


@pytest.mark.parametrize("dtype", INTEGERS)
def test_targets_and_loss_lengths_of_any_integer_dtype(backend, dtype):
    n_y, m, T = 200 if dtype != "int8" else 120, 4, 120
    rng = np.random.default_rng(1)
    z = backend.asarray(rng.standard_normal((n_y, m, T)))
    targets = rng.integers(0, n_y, (m, T))
    lengths = [120, 119, 100, 64]  # in int8's range; their sum (403) and m T are not
    want = xrnn.softmax_cross_entropy(
        z, _as(backend, targets, "int64"), lengths=_as(backend, lengths, "int64")
    )
    got = xrnn.softmax_cross_entropy(
        z, _as(backend, targets, dtype), lengths=_as(backend, lengths, dtype)
    )
    assert float(backend.to_numpy(got[0])) == float(backend.to_numpy(want[0]))
    np.testing.assert_array_equal(backend.to_numpy(got[1]), backend.to_numpy(want[1]))


@pytest.mark.parametrize("dtype", INTEGERS)
def test_batches_of_any_integer_ids_dtype(dtype):
    """Sequences of ids as NumPy arrays of any integer dtype give the same batch."""
    from xrnn import data

    ids = [[1, 2, 3, 4], [5, 6], [7]]
    want = next(data.batches(ids, 3, range(3), 9))
    got = next(data.batches([np.asarray(s, dtype=dtype) for s in ids], 3, range(3), 9))
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

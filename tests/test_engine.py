"""The engine keeps the seed's contract: caches in the seed's format as views of its buffers,
caches built by hand accepted, results independent of how a step is split into batch chunks."""

import numpy as np
import pytest

import xrnn
from xrnn import _engine


def _lstm(backend, n_x=3, n_a=4, m=5, T=6, seed=0):
    rng = np.random.default_rng(seed)
    p = {f"W{g}": rng.standard_normal((n_a, n_a + n_x)) for g in "fico"}
    p.update({f"b{g}": rng.standard_normal((n_a, 1)) for g in "fico"})
    p.update(Wy=rng.standard_normal((2, n_a)), by=rng.standard_normal((2, 1)))
    arrays = {
        k: rng.standard_normal(s)
        for k, s in [("x", (n_x, m, T)), ("a0", (n_a, m)), ("c0", (n_a, m)), ("da", (n_a, m, T))]
    }
    return backend.asarray(p), backend.asarray(arrays)


def _rnn(backend, n_x=3, n_a=4, m=5, T=6, seed=0):
    rng = np.random.default_rng(seed)
    shapes = {"Wax": (n_a, n_x), "Waa": (n_a, n_a), "ba": (n_a, 1), "Wya": (2, n_a), "by": (2, 1)}
    p = {k: rng.standard_normal(s) for k, s in shapes.items()}
    arrays = {
        k: rng.standard_normal(s)
        for k, s in [("x", (n_x, m, T)), ("a0", (n_a, m)), ("da", (n_a, m, T))]
    }
    return backend.asarray(p), backend.asarray(arrays)


def test_lstm_forward_is_its_cell_step_after_step(backend):
    p, d = _lstm(backend)
    _, y, _, (steps, x) = xrnn.lstm_forward(d["x"], d["a0"], p, c0=d["c0"])
    a_t, c_t = d["a0"], d["c0"]
    for t, step in enumerate(steps):
        a_t, c_t, y_t, cache = xrnn.lstm_cell_forward(d["x"][:, :, t], a_t, c_t, p)
        backend.assert_close(step[:9], tuple(backend.to_numpy(v) for v in cache[:9]), rtol=1e-12)
        backend.assert_close(y[:, :, t], backend.to_numpy(y_t), rtol=1e-12)
    assert x is d["x"] and all(step[9] is p for step in steps)


def test_lstm_backward_accepts_caches_built_by_hand(backend):
    p, d = _lstm(backend)
    *_, caches = xrnn.lstm_forward(d["x"], d["a0"], p, c0=d["c0"])
    by_hand, a_t, c_t = [], d["a0"], d["c0"]
    for t in range(d["x"].shape[2]):
        a_t, c_t, _, cache = xrnn.lstm_cell_forward(d["x"][:, :, t], a_t, c_t, p)
        by_hand.append(cache)
    expected = {k: backend.to_numpy(v) for k, v in xrnn.lstm_backward(d["da"], caches).items()}
    backend.assert_close(xrnn.lstm_backward(d["da"], (by_hand, d["x"])), expected, rtol=1e-12)
    # caches built by hand are not spent: a second backward pass gives the same again
    backend.assert_close(xrnn.lstm_backward(d["da"], (by_hand, d["x"])), expected, rtol=1e-12)


def test_rnn_backward_accepts_caches_built_by_hand_and_leaves_caches_intact(backend):
    p, d = _rnn(backend)
    *_, caches = xrnn.rnn_forward(d["x"], d["a0"], p)
    by_hand, a_t = [], d["a0"]
    for t in range(d["x"].shape[2]):
        a_t, _, cache = xrnn.rnn_cell_forward(d["x"][:, :, t], a_t, p)
        by_hand.append(cache)
    expected = {k: backend.to_numpy(v) for k, v in xrnn.rnn_backward(d["da"], caches).items()}
    backend.assert_close(xrnn.rnn_backward(d["da"], (by_hand, d["x"])), expected, rtol=1e-12)
    backend.assert_close(xrnn.rnn_backward(d["da"], caches), expected, rtol=0, atol=0)


def test_lstm_caches_are_spent_by_the_backward_pass(backend):
    p, d = _lstm(backend)
    *_, caches = xrnn.lstm_forward(d["x"], d["a0"], p)
    xrnn.lstm_backward(d["da"], caches)
    assert len(caches[0]) == 0
    with pytest.raises(
        ValueError,
        match=r"lstm_backward: caches were spent by an earlier "
        r"backward pass.*run the forward pass again",
    ):
        xrnn.lstm_backward(d["da"], caches)


def test_caches_are_views_of_the_outputs():
    backend = pytest.importorskip("backends").load("numpy")
    p, d = _lstm(backend)
    a, _, c, (steps, _) = xrnn.lstm_forward(d["x"], d["a0"], p)
    for t, step in enumerate(steps):
        assert np.shares_memory(step[0], a) and np.shares_memory(step[1], c)
        assert np.shares_memory(step[8], d["x"])
        np.testing.assert_array_equal(step[0], a[:, :, t])
    a, _, (steps, _) = xrnn.rnn_forward(d["x"], d["a0"], _rnn(backend)[0])
    assert all(np.shares_memory(step[0], a) for step in steps)


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_results_do_not_depend_on_the_batch_chunks(backend, cell, monkeypatch):
    p, d = (_lstm if cell == "lstm" else _rnn)(backend, m=7)
    forward = getattr(xrnn, f"{cell}_forward")
    backward = getattr(xrnn, f"{cell}_backward")

    def run():
        out = forward(d["x"], d["a0"], p)
        grads = backward(d["da"], out[-1])
        return [backend.to_numpy(v) for v in (*out[:-1], *grads.values())]

    whole = run()
    monkeypatch.setattr(_engine, "CACHE_BYTES", 8)  # one row per chunk, on a CPU
    assert len(_engine.chunks(d["a0"].T, 16, backend.xp)) in (1, 7)
    for got, expected in zip(run(), whole, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)

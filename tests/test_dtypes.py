"""Results come back in the caller's namespace, on the caller's device, in the caller's dtype:
outputs, caches and gradients alike."""

import subprocess
import sys

import numpy as np
import pytest
import seed_reference as seed

import xrnn


def _arrays(tree):
    if isinstance(tree, dict):
        tree = list(tree.values())
    if isinstance(tree, tuple | list):
        return [a for item in tree for a in _arrays(item)]
    return [tree]


def _run_all(backend, dtype):
    """Every public function on the seed's inputs, cast to ``dtype``; all that they return."""
    rnn = backend.asarray(seed.draw(34), dtype)
    p = seed.params(rnn, seed.RNN_KEYS)
    _a_next, _yt, cache = out1 = xrnn.rnn_cell_forward(rnn["x"][:, :, 0], rnn["a0"], p)
    out2 = xrnn.rnn_cell_backward(rnn["da"][:, :, 0], cache)
    _a, _y, caches = out3 = xrnn.rnn_forward(rnn["x"], rnn["a0"], p)
    out4 = xrnn.rnn_backward(rnn["da"], caches)

    lstm = backend.asarray(seed.draw(43), dtype)
    q = seed.params(lstm, seed.LSTM_KEYS)
    x = backend.xp.stack([lstm["xt"], lstm["xt"] * 2], axis=2)
    *_, cache = out5 = xrnn.lstm_cell_forward(lstm["xt"], lstm["a_prev"], lstm["c_prev"], q)
    out6 = xrnn.lstm_cell_backward(lstm["da_next"], lstm["dc_next"], cache)
    *_, caches = out7 = xrnn.lstm_forward(x, lstm["a_prev"], q, c0=lstm["c_prev"])
    da = backend.xp.stack([lstm["da_next"], lstm["dc_next"]], axis=2)
    out8 = xrnn.lstm_backward(da, caches)
    out9 = xrnn.sigmoid(lstm["xt"]), xrnn.softmax(lstm["xt"])
    return [out1, out2, out3, out4, out5, out6, out7, out8, out9]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_outputs_caches_and_gradients_keep_namespace_device_and_dtype(backend, dtype):
    arrays = _arrays(_run_all(backend, dtype))
    assert len(arrays) > 100
    for a in arrays:
        backend.assert_array(a, dtype)


def test_float32_agrees_with_float64(backend):
    for lo, hi in zip(
        _arrays(_run_all(backend, "float32")), _arrays(_run_all(backend, "float64")), strict=True
    ):
        lo, hi = backend.to_numpy(lo), backend.to_numpy(hi)
        assert abs(lo - hi).max() <= 1e-4 * max(1.0, abs(hi).max())


def test_import_xrnn_imports_no_array_library_but_numpy():
    """``import xrnn`` must not pull in CuPy, PyTorch or JAX (nor array-api-strict)."""
    code = (
        "import sys, xrnn; "
        "print(sorted(m for m in ('cupy', 'torch', 'jax', 'array_api_strict') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_breadth_keeps_namespace_device_and_dtype(backend, dtype):
    xp = backend.xp
    kw = {"xp": xp, "dtype": getattr(xp, dtype), "device": backend.device, "seed": 0}
    x = backend.asarray(np.random.default_rng(0).standard_normal((3, 4, 5)), dtype)
    a0 = backend.asarray(np.zeros((6, 4)), dtype)
    lengths = xp.asarray([5, 2, 3, 1], device=backend.device)
    out = []
    for reset_after in (False, True):
        p = xrnn.init_parameters("gru", 3, 6, n_y=2, reset_after=reset_after, **kw)
        a, y, caches = xrnn.gru_forward(x, a0, p, reset_after=reset_after, lengths=lengths)
        out += [p, a, y, xrnn.gru_backward(a, caches)]
        out += [
            xrnn.gru_cell_backward(a0, xrnn.gru_cell_forward(x[:, :, 0], a0, p, reset_after)[-1])
        ]
    q = xrnn.init_parameters("lstm", 3, 6, num_layers=2, bidirectional=True, n_y=2, **kw)
    a, (a_n, c_n), cache = xrnn.lstm_layers(x, q, num_layers=2, bidirectional=True, lengths=lengths)
    out += [a, a_n, c_n, xrnn.lstm_layers_backward(a, cache, da_n=a_n, dc_n=c_n)]
    z = xrnn.output_forward(a, q["Wy"], q["by"])
    targets = xp.asarray(np.zeros((4, 5), dtype=np.int64), device=backend.device)
    loss, dz = xrnn.softmax_cross_entropy(z, targets, lengths=lengths)
    out += [z, loss, dz, xrnn.output_backward(dz, a, q["Wy"])]
    arrays = _arrays(out)
    assert len(arrays) > 60
    for arr in arrays:
        backend.assert_array(arr, dtype)

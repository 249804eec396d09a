"""Hostile input, padding: NaN or inf in ``x`` or ``da`` past an example's length never reaches
an output or a gradient, for every cell, lengths sorted (rows that stop) or not (masks), a
reversed direction, on the compiled and the reference steps: as with PyTorch's packed
sequences, the results are those of the same input with zeros there."""

import numpy as np
import pytest

import xrnn

CELLS = ["rnn", "lstm", "gru", "peephole"]
LENGTHS = {"sorted": [6, 4, 4, 2, 1], "unsorted": [2, 6, 1, 4, 3]}


def _problem(cell, lengths, poison, seed=0):
    """Parameters, ``x``, ``a0`` and ``da`` (NumPy), with ``poison`` past each length in ``x``
    and ``da``, and the same with zeros there."""
    n_x, n_a, m, T = 3, 4, 5, 6
    rng = np.random.default_rng(seed)
    p = xrnn.init_parameters(cell, n_x, n_a, n_y=2, seed=seed)
    x, da = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m, T))
    a0 = rng.standard_normal((n_a, m))
    past = np.arange(T)[None, None, :] >= np.asarray(lengths)[None, :, None]
    clean = (np.where(past, 0.0, x), a0, np.where(past, 0.0, da))
    return p, (np.where(past, poison, x), a0, np.where(past, poison, da)), clean


def _run(cell, p, x, a0, da, lengths):
    forward = getattr(xrnn, f"{cell}_forward")
    backward = getattr(xrnn, f"{cell}_backward")
    out = forward(x, a0, p, lengths=lengths)
    grads = backward(da, out[-1])
    return {"a": out[0], "y": out[1], **grads}


@pytest.mark.parametrize("path", ["compiled", "reference"])
@pytest.mark.parametrize("poison", [np.nan, np.inf, -np.inf, 1e300])
@pytest.mark.parametrize("order", list(LENGTHS))
@pytest.mark.parametrize("cell", CELLS)
def test_nothing_past_a_length_reaches_the_results(backend, monkeypatch, cell, order, poison, path):
    if path == "reference":
        monkeypatch.setenv("XRNN_KERNELS", "reference")
    lengths = LENGTHS[order]
    p, poisoned, clean = _problem(cell, lengths, poison)
    got = _run(cell, backend.asarray(p), *backend.asarray(poisoned), lengths)
    want = _run(cell, p, *clean, lengths)
    for key, value in want.items():
        value = backend.to_numpy(got[key])
        assert np.isfinite(value).all(), key
        np.testing.assert_allclose(value, want[key], rtol=1e-10, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("order", list(LENGTHS))
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_nothing_past_a_length_reaches_bidirectional_layers(backend, cell, order):
    """Two bidirectional layers: the reverse direction reads each example from its own end."""
    lengths = LENGTHS[order]
    n_x, n_a, m, T = 3, 4, 5, 6
    rng = np.random.default_rng(1)
    p = xrnn.init_parameters(cell, n_x, n_a, num_layers=2, bidirectional=True, seed=1)
    x, da = rng.standard_normal((n_x, m, T)), rng.standard_normal((2 * n_a, m, T))
    past = np.arange(T)[None, None, :] >= np.asarray(lengths)[None, :, None]
    layers = getattr(xrnn, f"{cell}_layers")
    layers_backward = getattr(xrnn, f"{cell}_layers_backward")

    def run(x, da, p):
        a, _, cache = layers(x, p, num_layers=2, bidirectional=True, lengths=lengths)
        return {"a": a, **layers_backward(da, cache)}

    want = run(np.where(past, 0.0, x), np.where(past, 0.0, da), p)
    got = run(
        *backend.asarray((np.where(past, np.nan, x), np.where(past, np.inf, da))),
        backend.asarray(p),
    )
    for key, value in want.items():
        np.testing.assert_allclose(
            backend.to_numpy(got[key]), value, rtol=1e-10, atol=1e-12, err_msg=key
        )


def test_the_loss_ignores_logits_past_a_length(backend):
    lengths = LENGTHS["unsorted"]
    rng = np.random.default_rng(2)
    z = rng.standard_normal((3, 5, 6))
    targets = rng.integers(0, 3, (5, 6))
    past = np.arange(6)[None, None, :] >= np.asarray(lengths)[None, :, None]
    want = xrnn.softmax_cross_entropy(np.where(past, 0.0, z), targets, lengths=lengths)
    got = xrnn.softmax_cross_entropy(
        backend.asarray(np.where(past, np.nan, z)),
        backend.xp.asarray(targets, device=backend.device),
        lengths=lengths,
    )
    np.testing.assert_allclose(float(backend.to_numpy(got[0])), float(want[0]), rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(got[1]), want[1], rtol=1e-12, atol=1e-15)

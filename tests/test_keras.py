"""Keras 3 weights (``SimpleRNN``, ``LSTM``, ``GRU`` with ``reset_after`` both ways) through
``from_keras`` / ``to_keras``: xrnn's layers give what Keras's documented equations give, on
Keras's weight layout, to rounding; the weights come back exactly; and, where Keras installs
(on its torch backend), Keras's own layers agree."""

import os

import numpy as np
import pytest

import xrnn

FORMS = [("rnn", True), ("lstm", True), ("gru", True), ("gru", False)]
IDS = ["SimpleRNN", "LSTM", "GRU-reset_after", "GRU-reset_before"]
n_x, n, m, T = 3, 4, 5, 6


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _weights(cell, reset_after, rng):
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    bias = (2, G * n) if cell == "gru" and reset_after else (G * n,)
    return [rng.normal(0, 0.5, s) for s in ((n_x, G * n), (n, G * n), bias)]


def _keras_equations(cell, reset_after, weights, x):
    """Keras's layers as its documentation writes them: ``x (m, T, n_x)`` to ``(m, T, n)``."""
    kernel, recurrent, bias = weights
    h, c, out = np.zeros((m, n)), np.zeros((m, n)), []
    for t in range(T):
        if cell == "rnn":
            h = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
        elif cell == "lstm":
            i, f, g, o = np.split(x[:, t] @ kernel + h @ recurrent + bias, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
        else:
            b_in, b_rec = (bias[0], bias[1]) if reset_after else (bias, 0 * bias)
            xz, xr, xh = np.split(x[:, t] @ kernel + b_in, 3, axis=1)
            if reset_after:
                hz, hr, hh = np.split(h @ recurrent + b_rec, 3, axis=1)
                z, r = _sigmoid(xz + hz), _sigmoid(xr + hr)
                candidate = np.tanh(xh + r * hh)
            else:
                uz, ur, uh = np.split(recurrent, 3, axis=1)
                z, r = _sigmoid(xz + h @ uz), _sigmoid(xr + h @ ur)
                candidate = np.tanh(xh + (r * h) @ uh)
            h = z * h + (1 - z) * candidate
        out.append(h)
    return np.stack(out, axis=1)


def _xrnn(cell, reset_after, params, x):
    extra = {"reset_after": reset_after} if cell == "gru" else {}
    a = getattr(xrnn, f"{cell}_layers")(np.transpose(x, (2, 0, 1)), params, **extra)[0]
    return np.transpose(a, (1, 2, 0))


@pytest.mark.parametrize(("cell", "reset_after"), FORMS, ids=IDS)
def test_keras_weights_give_kerass_equations_and_come_back_exactly(cell, reset_after):
    rng = np.random.default_rng(0)
    weights, x = _weights(cell, reset_after, rng), rng.standard_normal((m, T, n_x))
    params = xrnn.from_keras(weights, cell, reset_after=reset_after)
    want = _keras_equations(cell, reset_after, weights, x)
    np.testing.assert_allclose(_xrnn(cell, reset_after, params, x), want, rtol=1e-12, atol=1e-14)
    for back, w in zip(xrnn.to_keras(params, cell), weights, strict=True):
        np.testing.assert_array_equal(back, w)


def test_keras_weights_of_a_second_reverse_layer():
    rng = np.random.default_rng(1)
    weights = _weights("lstm", True, rng)
    params = xrnn.from_keras(weights, "lstm", layer=1, reverse=True)
    assert sorted(params) == sorted(f"{k}_l1_reverse" for k in "Wc Wf Wi Wo bc bf bi bo".split())
    for back, w in zip(xrnn.to_keras(params, "lstm", layer=1, reverse=True), weights, strict=True):
        np.testing.assert_array_equal(back, w)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda w: xrnn.from_keras(w, "gru"), ValueError, r"recurrent_kernel must have shape"),
        (lambda w: xrnn.from_keras(w[:2], "lstm"), TypeError, r"\[kernel, recurrent_kernel, bias"),
        (lambda w: xrnn.from_keras([*w[:2], w[2][:-1]], "lstm"), ValueError, r"bias must have"),
        (lambda w: xrnn.from_keras(w, "cnn"), ValueError, r"cell must be 'rnn', 'lstm' or 'gru'"),
        (lambda w: xrnn.to_keras({"Wf_l0": w[0]}, "lstm", layer=2), ValueError, r"no keys of"),
    ],
    ids=["lstm-as-gru", "two-weights", "bias-length", "cell", "no-layer"],
)
def test_keras_conversion_errors(call, error, message):
    weights = _weights("lstm", True, np.random.default_rng(2))
    with pytest.raises(error, match=message):
        call(weights)


@pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")  # Keras's own, of NumPy 2
@pytest.mark.parametrize(("cell", "reset_after"), FORMS, ids=IDS)
def test_kerass_own_layers_agree(cell, reset_after):
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"Keras runs on {keras.backend.backend()} here")
    layer = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}
    kw = {"reset_after": reset_after} if cell == "gru" else {}
    rng = np.random.default_rng(3)
    x = rng.standard_normal((m, T, n_x)).astype("float32")
    net = layer[cell](n, return_sequences=True, **kw)
    net.build((None, T, n_x))
    net.set_weights([w.astype("float32") for w in _weights(cell, reset_after, rng)])
    want = keras.ops.convert_to_numpy(net(x))
    params = xrnn.from_keras(net, cell, reset_after=reset_after)
    np.testing.assert_allclose(_xrnn(cell, reset_after, params, x), want, rtol=1e-5, atol=1e-6)
    net.set_weights(xrnn.to_keras(params, cell))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(net(x)), want)

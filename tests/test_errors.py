"""Bad input gets a TypeError or ValueError that names the argument, the expected shape or
dtype, and what was received: never a silent broadcast, never a NaN."""

import numpy as np
import pytest
import seed_reference as seed

import xrnn


@pytest.fixture
def rnn(backend):
    d = seed.draw(34)
    return backend.asarray(
        {"x": d["x"], "a0": d["a0"], "da": d["da"], "parameters": seed.params(d, seed.RNN_KEYS)}
    )


@pytest.fixture
def lstm(backend):
    d = seed.draw(20)
    return backend.asarray(
        {
            "x": d["x"],
            "a0": d["a0"],
            "c0": d["a0"] * 0.5,
            "da": np.ones((5, 10, 7)),
            "parameters": seed.params(d, seed.LSTM_KEYS),
        }
    )


def _without(d, key):
    return {k: v for k, v in d.items() if k != key}


def test_missing_parameter_key(rnn):
    with pytest.raises(
        ValueError,
        match=r"rnn_forward: parameters is missing 'Waa' "
        r"\(expected keys Wax, Waa, ba, Wya, by",
    ):
        xrnn.rnn_forward(rnn["x"], rnn["a0"], _without(rnn["parameters"], "Waa"))


def test_parameters_not_a_dict(rnn):
    with pytest.raises(
        TypeError,
        match=r"rnn_forward: parameters must be a dict of arrays "
        r"with keys Wax, Waa, ba, Wya, by; got list",
    ):
        xrnn.rnn_forward(rnn["x"], rnn["a0"], list(rnn["parameters"].values()))


def test_misshaped_parameter(lstm, backend):
    p = {**lstm["parameters"], "Wo": backend.asarray(np.ones((5, 7)))}
    with pytest.raises(
        ValueError,
        match=r"lstm_forward: parameters\['Wo'\] must have shape "
        r"\(n_a, n_a\+n_x\) = \(5, 8\) \(n_a from a0, n_x from "
        r"x\); got \(5, 7\)",
    ):
        xrnn.lstm_forward(lstm["x"], lstm["a0"], p)


def test_bias_must_be_a_column_not_a_vector(rnn, backend):
    p = {**rnn["parameters"], "ba": backend.asarray(np.ones(5))}
    with pytest.raises(
        ValueError,
        match=r"parameters\['ba'\] must be a 2-D array of shape "
        r"\(n_a, 1\); got a 1-D array of shape \(5,\)",
    ):
        xrnn.rnn_forward(rnn["x"], rnn["a0"], p)


def test_x_whose_n_x_disagrees_with_the_weights(rnn, backend):
    x = backend.asarray(np.ones((4, 10, 4)))
    with pytest.raises(
        ValueError,
        match=r"rnn_forward: parameters\['Wax'\] must have shape "
        r"\(n_a, n_x\) = \(5, 4\) \(n_a from a0, n_x from x\); "
        r"got \(5, 3\)",
    ):
        xrnn.rnn_forward(x, rnn["a0"], rnn["parameters"])


def test_a0_of_the_wrong_batch_size(rnn, backend):
    with pytest.raises(
        ValueError,
        match=r"rnn_forward: a0 must have shape \(n_a, m\) = "
        r"\(5, 10\) \(m from x\); got \(5, 9\)",
    ):
        xrnn.rnn_forward(rnn["x"], backend.asarray(np.ones((5, 9))), rnn["parameters"])


def test_c0_of_the_wrong_shape(lstm, backend):
    with pytest.raises(
        ValueError,
        match=r"lstm_forward: c0 must have shape \(n_a, m\) = "
        r"\(5, 10\) \(n_a from a0, m from x\); got \(6, 10\)",
    ):
        xrnn.lstm_forward(
            lstm["x"], lstm["a0"], lstm["parameters"], c0=backend.asarray(np.ones((6, 10)))
        )


def test_x_with_the_wrong_number_of_dimensions(rnn):
    with pytest.raises(
        ValueError,
        match=r"rnn_forward: x must be a 3-D array of shape "
        r"\(n_x, m, T_x\); got a 2-D array of shape \(3, 10\)",
    ):
        xrnn.rnn_forward(rnn["x"][:, :, 0], rnn["a0"], rnn["parameters"])


def test_xt_with_the_wrong_number_of_dimensions(lstm):
    with pytest.raises(
        ValueError,
        match=r"lstm_cell_forward: xt must be a 2-D array of shape "
        r"\(n_x, m\); got a 3-D array",
    ):
        xrnn.lstm_cell_forward(lstm["x"], lstm["a0"], lstm["c0"], lstm["parameters"])


def test_integer_input(rnn, backend):
    x = backend.xp.astype(rnn["x"], backend.xp.int64)
    with pytest.raises(
        TypeError,
        match=r"rnn_forward: x must have a real floating dtype "
        r"\(float32 or float64\); got .*int64",
    ):
        xrnn.rnn_forward(x, rnn["a0"], rnn["parameters"])


def test_boolean_input(lstm, backend):
    a0 = lstm["a0"] > 0
    with pytest.raises(
        TypeError,
        match=r"lstm_forward: a0 must have a real floating dtype "
        r"\(float32 or float64\); got .*bool",
    ):
        xrnn.lstm_forward(lstm["x"], a0, lstm["parameters"])


def test_non_array_input(rnn, backend):
    with pytest.raises(
        TypeError,
        match=r"rnn_cell_forward: xt must be an array \(NumPy, CuPy, "
        r"PyTorch or another array API library\); got list",
    ):
        xrnn.rnn_cell_forward([[1.0] * 10] * 3, rnn["a0"], rnn["parameters"])


def test_python_float_is_not_an_array(rnn):
    with pytest.raises(TypeError, match=r"sigmoid: z must be an array .*; got float"):
        xrnn.sigmoid(1.0)


def test_two_floating_dtypes(rnn, backend):
    a0 = backend.xp.astype(rnn["a0"], backend.xp.float32)
    with pytest.raises(
        TypeError,
        match=r"rnn_forward: all arrays must share one floating dtype; "
        r"x is .*float64 but a0 is .*float32",
    ):
        xrnn.rnn_forward(rnn["x"], a0, rnn["parameters"])


def test_two_namespaces(rnn, backend):
    other = (
        np.ones((5, 10))
        if backend.name != "numpy"
        else pytest.importorskip("array_api_strict").ones((5, 10))
    )
    with pytest.raises(
        TypeError,
        match=r"rnn_forward: all arrays must come from one array "
        r"library; x is .* but a0 is ",
    ):
        xrnn.rnn_forward(rnn["x"], other, rnn["parameters"])


def test_two_devices():
    xp = pytest.importorskip("array_api_strict")
    x = xp.ones((3, 10, 4), dtype=xp.float64)
    a0 = xp.ones((5, 10), dtype=xp.float64, device=xp.Device("device1"))
    p = {k: xp.asarray(v) for k, v in seed.params(seed.draw(16), seed.RNN_KEYS).items()}
    with pytest.raises(
        ValueError,
        match=r"rnn_forward: all arrays must be on one device; x is "
        r"on .*CPU_DEVICE.* but a0 is on .*device1",
    ):
        xrnn.rnn_forward(x, a0, p)


def test_da_whose_batch_disagrees_with_the_caches(rnn, backend):
    *_, caches = xrnn.rnn_forward(rnn["x"], rnn["a0"], rnn["parameters"])
    with pytest.raises(
        ValueError,
        match=r"rnn_backward: da must have shape \(n_a, m, T_x\) = "
        r"\(5, 10, 4\) .*; got \(5, 8, 4\)",
    ):
        xrnn.rnn_backward(rnn["da"][:, :8, :], caches)


def test_da_with_another_number_of_steps(lstm, backend):
    *_, caches = xrnn.lstm_forward(lstm["x"], lstm["a0"], lstm["parameters"])
    with pytest.raises(
        ValueError,
        match=r"lstm_backward: da must cover the T_x = 7 steps of the "
        r"forward pass.*got 9 steps",
    ):
        xrnn.lstm_backward(backend.asarray(np.ones((5, 10, 9))), caches)


def test_dc_next_of_the_wrong_shape(lstm):
    *_, cache = xrnn.lstm_cell_forward(
        lstm["x"][:, :, 0], lstm["a0"], lstm["c0"], lstm["parameters"]
    )
    with pytest.raises(
        ValueError,
        match=r"lstm_cell_backward: dc_next must have shape "
        r"\(n_a, m\) = \(5, 10\) .*; got \(5, 1\)",
    ):
        xrnn.lstm_cell_backward(lstm["a0"], lstm["c0"][:, :1], cache)


def test_caches_that_are_not_the_forward_pass_tuple(rnn):
    _a, _, (steps, x) = xrnn.rnn_forward(rnn["x"], rnn["a0"], rnn["parameters"])
    with pytest.raises(
        TypeError,
        match=r"rnn_backward: caches must be the tuple \(list of "
        r"per-step caches, x\) that the forward pass returns; "
        r"got list of length 4",
    ):
        xrnn.rnn_backward(rnn["da"], steps)
    with pytest.raises(
        TypeError,
        match=r"rnn_cell_backward: cache must be the tuple \(a_next, "
        r"a_prev, xt, parameters\) that the forward pass "
        r"returns; got tuple of length 2",
    ):
        xrnn.rnn_cell_backward(rnn["da"][:, :, 0], (steps, x))


def test_softmax_of_a_scalar(backend):
    with pytest.raises(ValueError, match=r"softmax: z must have at least 1 dimension"):
        xrnn.softmax(backend.asarray(np.asarray(1.0)))

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


@pytest.fixture
def gru(backend):
    p = xrnn.init_parameters("gru", 3, 5, n_y=2, seed=0, xp=backend.xp, device=backend.device)
    return p, backend.asarray(np.ones((3, 4, 6))), backend.asarray(np.zeros((5, 4)))


def test_gru_form_and_bca_must_agree(gru, backend):
    p, x, a0 = gru
    with pytest.raises(ValueError, match=r"gru_forward: parameters is missing 'bca'"):
        xrnn.gru_forward(x, a0, p, reset_after=True)
    p = {**p, "bca": backend.asarray(np.zeros((5, 1)))}
    with pytest.raises(ValueError, match=r"gru_forward: parameters has 'bca'.*reset_after=True"):
        xrnn.gru_forward(x, a0, p)


@pytest.mark.parametrize(
    "lengths, error, message",
    [
        (
            [6, 6, 6],
            ValueError,
            r"lengths must have shape \(m,\) = \(4,\), one per example; "
            r"got \(3,\)",
        ),
        ([6, 0, 3, 2], ValueError, r"lengths must lie in 1..T_x = 1..6; got values from 0 to 6"),
        ([7, 1, 3, 2], ValueError, r"lengths must lie in 1..T_x = 1..6; got values from 1 to 7"),
        ([6.0, 1, 3, 2], TypeError, r"lengths must be integers"),
        ("6132", TypeError, r"lengths must be a 1-D integer array or a list of ints"),
    ],
)
def test_bad_lengths(gru, lengths, error, message):
    p, x, a0 = gru
    with pytest.raises(error, match=rf"gru_forward: {message}"):
        xrnn.gru_forward(x, a0, p, lengths=lengths)


def test_float_lengths(gru, backend):
    p, x, a0 = gru
    with pytest.raises(TypeError, match=r"lengths must have an integer dtype; got .*float64"):
        xrnn.gru_forward(x, a0, p, lengths=backend.asarray(np.full(4, 6.0)))


def test_layers_bad_arguments(backend):
    xp = backend.xp
    p = xrnn.init_parameters(
        "lstm", 3, 5, num_layers=2, bidirectional=True, seed=0, xp=xp, device=backend.device
    )
    x = backend.asarray(np.ones((3, 4, 6)))
    with pytest.raises(ValueError, match=r"lstm_layers: num_layers must be a positive int; got 0"):
        xrnn.lstm_layers(x, p, num_layers=0)
    with pytest.raises(TypeError, match=r"bidirectional must be True or False; got 'yes'"):
        xrnn.lstm_layers(x, p, bidirectional="yes")
    with pytest.raises(ValueError, match=r"lstm_layers: parameters is missing 'Wf_l2'"):
        xrnn.lstm_layers(x, p, num_layers=3, bidirectional=True)
    with pytest.raises(
        ValueError,
        match=r"lstm_layers: a0 must have shape \(4, n_a, m\) = "
        r"\(4, 5, 4\).*; got \(2, 5, 4\)",
    ):
        xrnn.lstm_layers(
            x, p, num_layers=2, bidirectional=True, a0=backend.asarray(np.zeros((2, 5, 4)))
        )
    a, _, cache = xrnn.lstm_layers(x, p, num_layers=2, bidirectional=True)
    with pytest.raises(
        ValueError,
        match=r"lstm_layers_backward: da must have shape "
        r"\(10, 4, 6\); got \(5, 4, 6\)",
    ):
        xrnn.lstm_layers_backward(a[:5, ...], cache)
    xrnn.lstm_layers_backward(a, cache)
    with pytest.raises(ValueError, match=r"cache was spent by an earlier backward pass"):
        xrnn.lstm_layers_backward(a, cache)


def test_loss_bad_targets(backend):
    xp = backend.xp
    z = backend.asarray(np.zeros((3, 2, 4)))
    good = xp.asarray(np.zeros((2, 4), dtype=np.int64), device=backend.device)
    with pytest.raises(
        ValueError,
        match=r"targets must be class indices in 0..n_y-1 = 0..2 "
        r"within the lengths; got values from 0 to 3",
    ):
        bad = xp.asarray(np.eye(2, 4, dtype=np.int64) * 3, device=backend.device)
        xrnn.softmax_cross_entropy(z, bad)
    with pytest.raises(TypeError, match=r"targets must have an integer dtype"):
        xrnn.softmax_cross_entropy(z, backend.asarray(np.zeros((2, 4))))
    with pytest.raises(
        ValueError,
        match=r"targets must have shape \(m, T_x\) = \(2, 4\); "
        r"got \(4, 2\)",
    ):
        xrnn.softmax_cross_entropy(z, xp.permute_dims(good, (1, 0)))
    with pytest.raises(ValueError, match=r"reduction must be 'mean' or 'sum'; got 'max'"):
        xrnn.softmax_cross_entropy(z, good, reduction="max")


def test_conversion_bad_arguments():
    with pytest.raises(ValueError, match=r"from_torch: cell must be 'rnn', 'lstm' or 'gru'"):
        xrnn.from_torch({}, "cnn")
    p = xrnn.init_parameters("gru", 3, 5, num_layers=1, seed=0)
    with pytest.raises(ValueError, match=r"to_torch: PyTorch's GRU is the reset-after form"):
        xrnn.to_torch(p, "gru")

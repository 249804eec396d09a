"""Hostile input to the weight conversion (from_torch, to_torch): a state dict of another cell,
LSTM projections, a module instead of its state dict, keys missing, unknown or with a layer gap,
biases of the wrong length, mixed dtypes and libraries. Each gets a ValueError or TypeError
naming the function, the key and what was expected, never a silent wrong answer; and to_torch of
NumPy parameters is what nn.RNN / nn.LSTM / nn.GRU.load_state_dict takes."""

import numpy as np
import pytest

import xrnn

torch = pytest.importorskip("torch")
NETS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def _net(cell, num_layers=1, bidirectional=False, **kw):
    torch.manual_seed(0)
    return NETS[cell](
        3, 5, num_layers=num_layers, bidirectional=bidirectional, dtype=torch.float64, **kw
    )


def _sd(cell, num_layers=1, bidirectional=False):
    """A state dict of NumPy arrays (n_x = 3, hidden size 5)."""
    net = _net(cell, num_layers, bidirectional)
    return {k: v.numpy().copy() for k, v in net.state_dict().items()}


def _params(cell, num_layers=1, bidirectional=False):
    return xrnn.from_torch(_sd(cell, num_layers, bidirectional), cell)


@pytest.mark.parametrize(
    "held, cell, what",
    [
        ("lstm", "gru", "an LSTM (weight_hh_l0 has 4 x 5 rows"),
        ("lstm", "rnn", "an LSTM (weight_hh_l0 has 4 x 5 rows"),
        ("gru", "lstm", "a GRU (weight_hh_l0 has 3 x 5 rows"),
        ("rnn", "gru", "an RNN (weight_hh_l0 has 1 x 5 rows"),
    ],
)
def test_from_torch_refuses_a_state_dict_of_another_cell(held, cell, what):
    with pytest.raises(ValueError) as e:
        xrnn.from_torch(_sd(held, 2, True), cell)
    msg = str(e.value)
    assert msg.startswith(f"from_torch: the state dict holds {what} for hidden size 5)"), msg
    assert msg.endswith(f"got cell='{cell}'"), msg


def test_from_torch_refuses_proj_size():
    net = _net("lstm", proj_size=2)
    for given in (net, net.state_dict()):
        with pytest.raises(
            ValueError,
            match=r"^from_torch: state_dict has weight_hr_l0: LSTM projections \(proj_size > 0\) "
            r"are not supported$",
        ):
            xrnn.from_torch(given, "lstm")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_from_torch_takes_the_module_as_its_state_dict(cell):
    net = _net(cell, 2, True)
    got, expected = xrnn.from_torch(net, cell), xrnn.from_torch(net.state_dict(), cell)
    assert list(got) == list(expected)
    for k in expected:
        assert isinstance(got[k], torch.Tensor)
        assert torch.equal(got[k], expected[k]), k


def test_from_torch_refuses_a_relu_rnn_module():
    with pytest.raises(ValueError, match=r"^from_torch: nn.RNN\(nonlinearity='relu'\) is not"):
        xrnn.from_torch(_net("rnn", nonlinearity="relu"), "rnn")


def test_from_torch_refuses_what_is_not_a_state_dict():
    with pytest.raises(TypeError, match=r"^from_torch: state_dict must be an nn.RNN, .* got list"):
        xrnn.from_torch([np.zeros((20, 3))], "lstm")


def test_from_torch_refuses_a_bias_of_the_wrong_length():
    sd = _sd("lstm")
    sd["bias_hh_l0"] = sd["bias_hh_l0"][:-1]
    with pytest.raises(
        ValueError,
        match=r"^from_torch: state_dict\['bias_hh_l0'\] must have shape \(4\*n,\) = \(20,\) "
        r"for an LSTM of hidden size n = 5; got \(19,\)$",
    ):
        xrnn.from_torch(sd, "lstm")


def test_from_torch_refuses_a_bias_of_the_wrong_rank():
    sd = _sd("gru")
    sd["bias_ih_l0"] = sd["bias_ih_l0"][:, None]
    with pytest.raises(
        ValueError, match=r"^from_torch: state_dict\['bias_ih_l0'\] must have shape \(3\*n,\) = "
    ):
        xrnn.from_torch(sd, "gru")


def test_from_torch_refuses_an_input_weight_narrower_than_the_layer_below():
    sd, one_way = _sd("gru", 2, True), _sd("gru", 2, False)
    sd["weight_ih_l1"] = one_way["weight_ih_l1"]
    with pytest.raises(
        ValueError,
        match=r"^from_torch: state_dict\['weight_ih_l1'\] must have shape \(3\*n, 2\*n\) = "
        r"\(15, 10\) for a GRU of hidden size n = 5; got \(15, 5\)$",
    ):
        xrnn.from_torch(sd, "gru")


def test_from_torch_refuses_a_recurrent_weight_that_is_no_cell():
    sd = _sd("rnn")
    sd["weight_hh_l0"] = np.zeros((7, 5))
    with pytest.raises(
        ValueError,
        match=r"^from_torch: state_dict\['weight_hh_l0'\] must have shape \(G\*n, n\) .* "
        r"got \(7, 5\)$",
    ):
        xrnn.from_torch(sd, "rnn")


def test_from_torch_names_a_missing_key():
    sd = _sd("lstm", 2)
    del sd["weight_hh_l1"]
    with pytest.raises(ValueError, match=r"^from_torch: state_dict is missing weight_hh_l1$"):
        xrnn.from_torch(sd, "lstm")


def test_from_torch_refuses_bias_false():
    net = _net("gru", bias=False)
    with pytest.raises(
        ValueError,
        match=r"^from_torch: state_dict is missing bias_ih_l0, bias_hh_l0 "
        r"\(bias=False is not supported\)$",
    ):
        xrnn.from_torch(net, "gru")


def test_from_torch_refuses_an_unknown_key():
    sd = {f"lstm.{k}": v for k, v in _sd("lstm").items()}  # a whole model's state dict
    with pytest.raises(
        ValueError,
        match=r"^from_torch: state_dict has the key 'lstm.weight_ih_l0', which no nn.RNN, "
        r"nn.LSTM or nn.GRU has \(expected weight_ih_l0, ",
    ):
        xrnn.from_torch(sd, "lstm")


def test_from_torch_refuses_a_layer_gap():
    sd = {k: v for k, v in _sd("rnn", 3).items() if not k.endswith("_l1")}
    with pytest.raises(
        ValueError,
        match=r"^from_torch: state_dict has layers \[0, 2\] but no layer 1 \(_l1 keys\); "
        r"layers must be numbered 0..L-1$",
    ):
        xrnn.from_torch(sd, "rnn")


def test_from_torch_refuses_a_reverse_direction_in_some_layers_only():
    sd = {k: v for k, v in _sd("lstm", 2, True).items() if not k.endswith("_l1_reverse")}
    with pytest.raises(
        ValueError,
        match=r"^from_torch: state_dict has _reverse keys for layers \[0\] but not for all of "
        r"\[0, 1\]",
    ):
        xrnn.from_torch(sd, "lstm")


def test_from_torch_refuses_mixed_dtypes():
    sd = _sd("lstm")
    sd["bias_hh_l0"] = sd["bias_hh_l0"].astype(np.float32)
    with pytest.raises(
        TypeError,
        match=r"^from_torch: all arrays must share one floating dtype; "
        r"state_dict\['weight_ih_l0'\] is float64 but state_dict\['bias_hh_l0'\] is float32$",
    ):
        xrnn.from_torch(sd, "lstm")


def test_from_torch_refuses_mixed_libraries():
    sd = _sd("gru")
    sd["bias_hh_l0"] = torch.from_numpy(sd["bias_hh_l0"])
    with pytest.raises(
        TypeError, match=r"^from_torch: all arrays must come from one array library; "
    ):
        xrnn.from_torch(sd, "gru")


def test_to_torch_refuses_a_recurrent_bias_of_the_wrong_length():
    p = _params("lstm")
    p["bfa_l0"] = p["bfa_l0"][:-1]
    with pytest.raises(
        ValueError,
        match=r"^to_torch: parameters\['bfa_l0'\] must have shape \(n_a, 1\) = \(5, 1\) "
        r"\(n_a from parameters\['Wi_l0'\]\); got \(4, 1\)$",
    ):
        xrnn.to_torch(p, "lstm")


def test_to_torch_refuses_a_weight_narrower_than_the_layer_below():
    p = _params("rnn", 2, True)
    p["Wax_l1_reverse"] = p["Wax_l1_reverse"][:, :5]
    with pytest.raises(
        ValueError,
        match=r"^to_torch: parameters\['Wax_l1_reverse'\] must have shape \(n_a, 10\) = \(5, 10\)"
        r" \(n_a from parameters\['Wax_l0'\]\); got \(5, 5\)$",
    ):
        xrnn.to_torch(p, "rnn")


def test_to_torch_names_a_missing_key():
    p = _params("gru", 2)
    del p["Wc_l1"]
    with pytest.raises(ValueError, match=r"^to_torch: parameters is missing 'Wc_l1' \(expected"):
        xrnn.to_torch(p, "gru")


@pytest.mark.parametrize(
    "held, cell, key, net",
    [("lstm", "gru", "Wi_l0", "a GRU"), ("gru", "rnn", "Wr_l0", "an RNN")],
)
def test_to_torch_refuses_the_parameters_of_another_cell(held, cell, key, net):
    with pytest.raises(
        ValueError,
        match=rf"^to_torch: parameters has '{key}', which {net} layer does not have "
        rf"\(expected .*\); is cell='{cell}' right\?$",
    ):
        xrnn.to_torch(_params(held), cell)


def test_to_torch_refuses_an_unknown_layer_key():
    p = _params("lstm")
    p["pf_l0"] = np.zeros((5, 1))  # a peephole, which nn.LSTM has no place for
    with pytest.raises(
        ValueError, match=r"^to_torch: parameters has 'pf_l0', which an LSTM layer does not have"
    ):
        xrnn.to_torch(p, "lstm")


def test_to_torch_refuses_a_layer_gap():
    p = {k: v for k, v in _params("gru", 3).items() if not k.endswith("_l1")}
    with pytest.raises(
        ValueError, match=r"^to_torch: parameters has layers \[0, 2\] but no layer 1 \(_l1 keys\)"
    ):
        xrnn.to_torch(p, "gru")


def test_to_torch_refuses_mixed_dtypes():
    p = _params("rnn")
    p["baa_l0"] = p["baa_l0"].astype(np.float32)
    with pytest.raises(
        TypeError,
        match=r"^to_torch: all arrays must share one floating dtype; .* "
        r"but parameters\['baa_l0'\] is float32$",
    ):
        xrnn.to_torch(p, "rnn")


@pytest.mark.parametrize("layers", [(1, False), (2, True)], ids=["one-layer", "two-bidirectional"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_to_torch_of_numpy_parameters_loads_into_the_module(cell, layers):
    """NumPy in, torch tensors out; the output layer's Wy, by are left out; missing recurrent
    biases load as zeros."""
    L, bidirectional = layers
    p = xrnn.init_parameters(
        cell,
        3,
        5,
        n_y=2,
        num_layers=L,
        bidirectional=bidirectional,
        reset_after=cell == "gru",
        seed=0,
    )
    sd = xrnn.to_torch(p, cell)
    assert all(isinstance(v, torch.Tensor) and v.dtype == torch.float64 for v in sd.values())
    net = _net(cell, L, bidirectional)
    net.load_state_dict(sd)
    back = xrnn.from_torch(net, cell)
    for k, v in back.items():
        np.testing.assert_array_equal(v.numpy(), p[k] if k in p else np.zeros((5, 1)), err_msg=k)


def test_to_torch_tensors_false_keeps_numpy():
    sd = xrnn.to_torch(_params("lstm"), "lstm", tensors=False)
    assert all(type(v) is np.ndarray for v in sd.values())


@pytest.mark.parametrize("key", ["bfa_10", "Wf_L0"])
def test_to_torch_refuses_a_misspelt_key(key):
    p = xrnn.init_parameters("lstm", 3, 4, num_layers=1, seed=0)
    p[key] = p["bf_l0"]
    with pytest.raises(ValueError, match=rf"to_torch: parameters has '{key}'"):
        xrnn.to_torch(p, "lstm", tensors=False)

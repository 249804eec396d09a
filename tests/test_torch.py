"""Agreement with PyTorch (float64, to 1e-10): nn.GRU (reset after), nn.LSTM and nn.RNN with
num_layers=2 and bidirectional=True, on packed sequences of different lengths; outputs, final
states and every gradient, with the weights converted by xrnn.from_torch. xrnn runs on the
backend under test, torch on the CPU."""

import numpy as np
import pytest

import xrnn

torch = pytest.importorskip("torch")
NETS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
LENGTHS = {"packed": [7, 1, 4, 7, 2, 5], "sorted": [7, 7, 5, 4, 2, 1]}
TOL = {"rtol": 1e-10, "atol": 1e-12}


def _torch_run(cell, num_layers, bidirectional, lengths, seed=0):
    """Weights, inputs, upstream gradients and torch's outputs and gradients, as NumPy."""
    torch.manual_seed(seed)
    n_x, n, T, m = 3, 4, 7, 6
    D = 2 if bidirectional else 1
    net = NETS[cell](
        n_x, n, num_layers=num_layers, bidirectional=bidirectional, dtype=torch.float64
    )
    rng = np.random.default_rng(seed)
    states = (num_layers * D, n, m)
    x, a0, c0 = (rng.standard_normal(s) for s in [(n_x, m, T), states, states])
    da, da_n, dc_n = (rng.standard_normal(s) for s in [(D * n, m, T), states, states])
    xt = torch.tensor(x.transpose(2, 1, 0), requires_grad=True)
    h0 = torch.tensor(a0.transpose(0, 2, 1), requires_grad=True)
    c0t = torch.tensor(c0.transpose(0, 2, 1), requires_grad=True)
    inp = xt
    if lengths:
        inp = torch.nn.utils.rnn.pack_padded_sequence(
            xt, torch.tensor(LENGTHS[lengths]), enforce_sorted=False
        )
    out, states = net(inp, (h0, c0t)) if cell == "lstm" else net(inp, h0)
    if lengths:
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=T)
    states = states if cell == "lstm" else (states,)
    loss = (out * torch.tensor(da.transpose(2, 1, 0))).sum()
    for s, d in zip(states, (da_n, dc_n), strict=False):
        loss = loss + (s * torch.tensor(d.transpose(0, 2, 1))).sum()
    loss.backward()

    def np_(t):
        return t.detach().numpy()

    expected = {
        "a": np_(out).transpose(2, 1, 0),
        "dx": np_(xt.grad).transpose(2, 1, 0),
        "da0": np_(h0.grad).transpose(0, 2, 1),
    }
    expected.update(
        {f"{s}_n": np_(v).transpose(0, 2, 1) for s, v in zip("ac", states, strict=False)}
    )
    if cell == "lstm":
        expected["dc0"] = np_(c0t.grad).transpose(0, 2, 1)
    grads = {k: np_(v.grad) for k, v in net.named_parameters()}
    weights = {k: np_(v) for k, v in net.state_dict().items()}
    inputs = {"x": x, "a0": a0, "c0": c0, "da": da, "da_n": da_n, "dc_n": dc_n}
    return weights, inputs, expected, grads


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("lengths", [None, "packed", "sorted"], ids=["padded", "packed", "sorted"])
def test_two_bidirectional_layers_agree_with_torch(backend, cell, lengths):
    """Lengths in any order (packed) and longest first (sorted: each step computes a prefix of
    the batch, as torch's packed sequences do)."""
    weights, inputs, expected, torch_grads = _torch_run(cell, 2, True, lengths)
    p = backend.asarray(xrnn.from_torch(weights, cell))
    d = backend.asarray(inputs)
    lens = backend.xp.asarray(LENGTHS[lengths], device=backend.device) if lengths else None
    kw = {"reset_after": True} if cell == "gru" else {}
    if cell == "lstm":
        a, (a_n, c_n), cache = xrnn.lstm_layers(
            d["x"], p, num_layers=2, bidirectional=True, a0=d["a0"], c0=d["c0"], lengths=lens
        )
        g = xrnn.lstm_layers_backward(d["da"], cache, da_n=d["da_n"], dc_n=d["dc_n"])
        backend.assert_close(c_n, expected["c_n"], **TOL)
    else:
        layers = getattr(xrnn, f"{cell}_layers")
        a, a_n, cache = layers(
            d["x"], p, num_layers=2, bidirectional=True, a0=d["a0"], lengths=lens, **kw
        )
        g = getattr(xrnn, f"{cell}_layers_backward")(d["da"], cache, da_n=d["da_n"])
    backend.assert_close(a, expected["a"], **TOL)
    backend.assert_close(a_n, expected["a_n"], **TOL)
    for k in ("dx", "da0", "dc0"):
        if k in expected:
            backend.assert_close(g[k], expected[k], **TOL)
    grads = {k[1:]: v for k, v in g.items() if k[:2] in ("dW", "db")}
    ours = xrnn.to_torch(grads, cell, tensors=False)
    backend.assert_close(ours, torch_grads, **TOL)


def test_gru_sequence_functions_agree_with_torch(backend):
    """The seed-style gru_forward / gru_backward are nn.GRU's layer (reset after)."""
    weights, inputs, expected, torch_grads = _torch_run("gru", 1, False, None, seed=1)
    p = {k[: -len("_l0")]: v for k, v in xrnn.from_torch(weights, "gru").items()}
    rng = np.random.default_rng(0)
    p.update(Wy=rng.standard_normal((2, 4)), by=rng.standard_normal((2, 1)))
    p, d = backend.asarray(p), backend.asarray(inputs)
    a, _, caches = xrnn.gru_forward(d["x"], d["a0"][0, ...], p, reset_after=True)
    backend.assert_close(a, expected["a"], **TOL)
    # torch's final-state gradient enters at the last step
    da = backend.xp.concat(
        [d["da"][:, :, :-1], (d["da"][:, :, -1] + d["da_n"][0, ...])[:, :, None]], axis=2
    )
    g = xrnn.gru_backward(da, caches)
    backend.assert_close(g["dx"], expected["dx"], **TOL)
    backend.assert_close(g["da0"], expected["da0"][0, ...], **TOL)
    grads = {f"{k[1:]}_l0": v for k, v in g.items() if k[:2] in ("dW", "db")}
    ours = xrnn.to_torch(grads, "gru", tensors=False)
    backend.assert_close(ours, torch_grads, **TOL)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_conversion_round_trips_are_exact(cell):
    weights, *_ = _torch_run(cell, 2, True, None)
    p = xrnn.from_torch(weights, cell)
    back = xrnn.to_torch(p, cell)
    assert set(back) == set(weights)
    for k in weights:
        np.testing.assert_array_equal(back[k], weights[k])
    again = xrnn.from_torch(back, cell)
    assert set(again) == set(p)
    for k in p:
        np.testing.assert_array_equal(again[k], p[k])

"""``xrnn.nn``: the module objects against PyTorch's. The same model built in PyTorch and in
``xrnn.nn`` (weights moved both ways through ``state_dict``) gives the same outputs, final
states and gradients to 1e-10 in float64, in PyTorch's layouts, with ``batch_first``, two
bidirectional layers, lengths and ``bias=False``; modules move between libraries with ``to``."""

import numpy as np
import pytest

import xrnn
from xrnn import nn

torch = pytest.importorskip("torch")

CELLS = {
    "rnn": (nn.RNN, torch.nn.RNN),
    "lstm": (nn.LSTM, torch.nn.LSTM),
    "gru": (nn.GRU, torch.nn.GRU),
}
CONFIGS = [
    {"num_layers": 1},
    {"num_layers": 2, "bidirectional": True},
    {"num_layers": 2, "batch_first": True},
    {"num_layers": 1, "bias": False, "bidirectional": True},
]


def _np(t):
    return t.detach().numpy()


def _pair(cell, config, direction):
    """An xrnn module and a PyTorch one with the same weights, moved ``direction``."""
    ours = CELLS[cell][0](3, 4, seed=0, **config)
    theirs = CELLS[cell][1](3, 4, **config).double()
    if direction == "from torch":
        ours.load_state_dict(theirs.state_dict())
    else:
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("direction", ["from torch", "to torch"])
@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items())
)
@pytest.mark.parametrize("cell", list(CELLS))
def test_modules_agree_with_pytorch(cell, config, direction):
    ours, theirs = _pair(cell, config, direction)
    D = 2 if config.get("bidirectional") else 1
    L, m, T = config["num_layers"], 5, 6
    rng = np.random.default_rng(1)
    x = rng.standard_normal((m, T, 3) if config.get("batch_first") else (T, m, 3))
    h0 = rng.standard_normal((L * D, m, 4))
    state = (h0, rng.standard_normal((L * D, m, 4))) if cell == "lstm" else h0
    d_out = rng.standard_normal((*x.shape[:2], D * 4))
    tx = torch.tensor(x, requires_grad=True)
    tstate = (
        tuple(torch.tensor(s, requires_grad=True) for s in state)
        if cell == "lstm"
        else torch.tensor(state, requires_grad=True)
    )
    tout, tfinal = theirs(tx, tstate)
    out, final, cache = ours(x, state)
    np.testing.assert_allclose(out, _np(tout), rtol=1e-10, atol=1e-12)
    for a, b in zip(
        final if cell == "lstm" else (final,), tfinal if cell == "lstm" else (tfinal,), strict=True
    ):
        np.testing.assert_allclose(a, _np(b), rtol=1e-10, atol=1e-12)
    d_final = tuple(rng.standard_normal(s.shape) for s in (final if cell == "lstm" else (final,)))
    loss = (tout * torch.from_numpy(d_out)).sum() + sum(
        (t * torch.from_numpy(d)).sum()
        for t, d in zip(tfinal if cell == "lstm" else (tfinal,), d_final, strict=True)
    )
    loss.backward()
    grads = ours.backward(d_out, cache, d_final if cell == "lstm" else d_final[0])
    theirs_grads = {k: p.grad for k, p in theirs.named_parameters()}
    ours_sd = (
        xrnn.to_torch({k: grads["d" + k] for k in ours.parameters}, cell, tensors=False)
        if config.get("bias", True)
        else None
    )
    if ours_sd is not None:
        for k, g in theirs_grads.items():
            np.testing.assert_allclose(ours_sd[k], _np(g), rtol=1e-10, atol=1e-12, err_msg=k)
    np.testing.assert_allclose(grads["dx"], _np(tx.grad), rtol=1e-10, atol=1e-12)
    states = tstate if cell == "lstm" else (tstate,)
    for key, t in zip(("dh0", "dc0"), states, strict=False):
        np.testing.assert_allclose(grads[key], _np(t.grad), rtol=1e-10, atol=1e-12)
    want = (
        {"d" + k for k in ours.parameters} | {"dx", "dh0"} | ({"dc0"} if cell == "lstm" else set())
    )
    assert set(grads) == want


def test_a_model_with_linear_and_cross_entropy_agrees_with_pytorch():
    """LSTM + Linear + CrossEntropy, lengths, batch_first: loss and every gradient."""
    rng = np.random.default_rng(2)
    m, T, C = 4, 5, 6
    lstm, linear, ce = (
        nn.LSTM(3, 4, batch_first=True, seed=0),
        nn.Linear(4, C, seed=0),
        nn.CrossEntropy(batch_first=True),
    )
    tlstm, tlinear = torch.nn.LSTM(3, 4, batch_first=True).double(), torch.nn.Linear(4, C).double()
    tlstm.load_state_dict({k: torch.from_numpy(v) for k, v in lstm.state_dict().items()})
    tlinear.load_state_dict({k: torch.from_numpy(v) for k, v in linear.state_dict().items()})
    x, targets, lengths = rng.standard_normal((m, T, 3)), rng.integers(0, C, (m, T)), [5, 3, 5, 1]
    out, _, cache = lstm(x, lengths=lengths)
    logits, lcache = linear(out)
    loss, ccache = ce(logits, targets, lengths=lengths)
    tx = torch.tensor(x, requires_grad=True)
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        tx, lengths, batch_first=True, enforce_sorted=False
    )
    tout, _ = torch.nn.utils.rnn.pad_packed_sequence(
        tlstm(packed)[0], batch_first=True, total_length=T
    )
    tlogits = tlinear(tout)
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]
    tloss = torch.nn.functional.cross_entropy(tlogits[mask], torch.from_numpy(targets)[mask])
    tloss.backward()
    np.testing.assert_allclose(float(loss), tloss.item(), rtol=1e-12)
    glin = linear.backward(ce.backward(ccache), lcache)
    glstm = lstm.backward(glin["dx"], cache)
    for k, p in tlinear.named_parameters():
        np.testing.assert_allclose(glin["d" + k], _np(p.grad), rtol=1e-10, atol=1e-13, err_msg=k)
    ours = xrnn.to_torch({k: glstm["d" + k] for k in lstm.parameters}, "lstm", tensors=False)
    for k, p in tlstm.named_parameters():
        np.testing.assert_allclose(ours[k], _np(p.grad), rtol=1e-10, atol=1e-13, err_msg=k)
    np.testing.assert_allclose(glstm["dx"], _np(tx.grad), rtol=1e-10, atol=1e-13)


def test_to_moves_a_module_between_libraries():
    import array_api_compat.torch as xt

    lstm = nn.LSTM(3, 4, seed=0)
    x = np.random.default_rng(3).standard_normal((6, 2, 3))
    want = lstm(x)[0]
    lstm.to(xp=xt)
    assert all(isinstance(v, torch.Tensor) for v in lstm.parameters.values())
    np.testing.assert_allclose(_np(lstm(torch.from_numpy(x))[0]), want, rtol=1e-12)
    lstm.to(dtype=xt.float32)
    assert lstm.parameters["Wf_l0"].dtype == torch.float32
    assert set(lstm.state_dict()) == set(torch.nn.LSTM(3, 4).state_dict())


def test_peephole_state_dict_round_trip():
    a, b = nn.PeepholeLSTM(3, 4, num_layers=2, seed=0), nn.PeepholeLSTM(3, 4, num_layers=2, seed=1)
    b.load_state_dict(a.state_dict())
    assert "weight_pf_l1" in a.state_dict()
    for k, v in a.parameters.items():
        np.testing.assert_array_equal(b.parameters[k], v)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: nn.LSTM(3, 4)(np.zeros((2, 3))),
            ValueError,
            r"x must be a 3-D array \(T, m, input_size\)",
        ),
        (
            lambda: nn.LSTM(3, 4)(np.zeros((2, 1, 3)), np.zeros((1, 1, 4))),
            TypeError,
            r"a pair \(h0, c0\)",
        ),
        (
            lambda: nn.LSTM(3, 4).load_state_dict(torch.nn.GRU(3, 4).state_dict()),
            ValueError,
            "the state dict holds a GRU",
        ),
        (
            lambda: nn.LSTM(3, 4).load_state_dict(torch.nn.LSTM(3, 5).state_dict()),
            ValueError,
            "shape",
        ),
        (lambda: nn.LSTM(3, 4, bias=1), TypeError, "bias must be True or False"),
    ],
    ids=["x-2d", "state-not-pair", "gru-into-lstm", "hidden-size", "bias-int"],
)
def test_module_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()

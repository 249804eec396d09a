"""Training pieces: optimisers and clipping as PyTorch's, batches, sampling, and 50 steps of
training that give PyTorch's losses."""

import numpy as np
import pytest

import xrnn
from xrnn import charmodel, data, optim


def _params(backend, seed=0):
    rng = np.random.default_rng(seed)
    return backend.asarray({"W": rng.standard_normal((3, 4)), "b": rng.standard_normal((3, 1))})


def _grads(backend, step):
    rng = np.random.default_rng(100 + step)
    return backend.asarray({"dW": rng.standard_normal((3, 4)), "db": rng.standard_normal((3, 1))})


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
        ("SGD", {"lr": 0.5}),
        ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
        ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ],
)
def test_optimisers_step_as_pytorch_does(backend, name, kwargs):
    torch = pytest.importorskip("torch")
    params = _params(backend)
    tparams = {k: torch.tensor(backend.to_numpy(v), requires_grad=True) for k, v in params.items()}
    ours = getattr(optim, name)(params, **kwargs)
    theirs = getattr(torch.optim, name)(list(tparams.values()), **kwargs)
    for step in range(5):
        grads = _grads(backend, step)
        ours.step(grads)
        for k, t in tparams.items():
            t.grad = torch.tensor(backend.to_numpy(grads[f"d{k}"]))
        theirs.step()
    for k, t in tparams.items():
        backend.assert_close(params[k], t.detach().numpy(), rtol=1e-13, atol=1e-14)


def test_clipping(backend):
    torch = pytest.importorskip("torch")
    grads = _grads(backend, 0)
    clipped, norm = optim.clip_by_global_norm(grads, 1.5)
    tgrads = [torch.tensor(backend.to_numpy(g)) for g in grads.values()]
    for t in tgrads:
        t.grad = t.clone()
    expected = torch.nn.utils.clip_grad_norm_(tgrads, 1.5)
    assert abs(norm - float(expected)) < 1e-12
    for g, t in zip(clipped.values(), tgrads, strict=True):
        backend.assert_close(g, t.grad.numpy(), rtol=1e-14)
    same, _ = optim.clip_by_global_norm(grads, 1e9)
    assert all(same[k] is grads[k] for k in grads)
    backend.assert_close(
        optim.clip_by_value(grads, 0.5),
        {k: np.clip(backend.to_numpy(g), -0.5, 0.5) for k, g in grads.items()},
    )


def test_batches_and_vocabulary(backend):
    vocab = data.Vocab("ab\ncab\n")
    assert vocab.chars == ["\n", "a", "b", "c"] and vocab.decode(vocab.encode("cab")) == "cab"
    ids = [vocab.encode(e) for e in data.examples("ab\n\ncab\nabcabca\n", seq_len=4)]
    assert [vocab.decode(i) for i in ids] == ["ab", "cab", "abc", "abc", "a"]
    (x, targets, lengths), *_ = data.batches(
        ids, 3, [1, 0, 4], 4, backend.xp, backend.xp.float64, backend.device
    )
    backend.assert_array(x, "float64", (4, 3, 4))
    np.testing.assert_array_equal(backend.to_numpy(lengths), [4, 3, 2])
    np.testing.assert_array_equal(
        backend.to_numpy(targets), [[3, 1, 2, 0], [1, 2, 0, 0], [1, 0, 0, 0]]
    )
    inputs = backend.to_numpy(x).argmax(axis=0)
    np.testing.assert_array_equal(inputs[0], [0, 3, 1, 2])
    with pytest.raises(data.CorpusError, match="characters not in the vocabulary: 'z'"):
        vocab.encode("az")


def test_bigram_loss_is_the_entropy_of_a_deterministic_chain():
    ids = [[1, 2]] * 10  # always "ab": every transition certain
    assert data.bigram_loss(ids, ids, 3, smoothing=1e-9) < 1e-7


def test_generate_is_seeded_and_respects_its_options(backend):
    model = charmodel.Model("gru", 1, 8, 4)
    params = model.init(seed=0, xp=backend.xp, device=backend.device)
    vocab = data.Vocab("abc")
    one = charmodel.generate(model, params, vocab, n=4, prefix="ab", seed=3)
    assert one == charmodel.generate(model, params, vocab, n=4, prefix="ab", seed=3)
    assert all(t.startswith("ab") for t in one)
    greedy = charmodel.generate(model, params, vocab, n=3, top_k=1, seed=1, max_len=5)
    assert len(set(greedy)) == 1 and len(greedy[0]) <= 5
    with pytest.raises(ValueError, match="temperature must be positive"):
        charmodel.generate(model, params, vocab, temperature=0)


def test_fifty_steps_of_training_give_pytorchs_losses():
    """nn.LSTM + nn.Linear + torch.optim.Adam against xrnn's layers, output layer, loss,
    clipping and Adam: the same initial weights and batches, float64."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    text = data.read_corpus()
    vocab = data.Vocab(text)
    ids = [vocab.encode(e) for e in data.examples(text, 16)]
    V, H = len(vocab), 24
    lstm = torch.nn.LSTM(V, H, dtype=torch.float64)
    linear = torch.nn.Linear(H, V, dtype=torch.float64)
    tparams = [*lstm.parameters(), *linear.parameters()]
    params = xrnn.from_torch(
        {k: v.detach().numpy().copy() for k, v in lstm.state_dict().items()}, "lstm"
    )
    params.update(
        Wy=linear.weight.detach().numpy().copy(), by=linear.bias.detach().numpy()[:, None].copy()
    )
    model = charmodel.Model("lstm", 1, H, V)
    ours, theirs = optim.Adam(params, lr=5e-3), torch.optim.Adam(tparams, lr=5e-3)
    order = np.random.default_rng(0).permutation(len(ids))
    losses = []
    for step, (x, targets, lengths) in enumerate(data.batches(ids, 16, order, V)):
        if step == 50:
            break
        loss, grads = charmodel.loss_and_grads(model, params, x, targets, lengths)
        grads, _ = optim.clip_by_global_norm(grads, 1.0)
        ours.step(grads)

        xt = torch.tensor(x.transpose(2, 1, 0))
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            xt, torch.tensor(lengths), enforce_sorted=False
        )
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(lstm(packed)[0], total_length=x.shape[2])
        mask = np.arange(x.shape[2])[None, :] < lengths[:, None]
        tt = torch.tensor(np.where(mask, targets, -100).T)
        tloss = torch.nn.functional.cross_entropy(linear(out).reshape(-1, V), tt.reshape(-1))
        theirs.zero_grad()
        tloss.backward()
        torch.nn.utils.clip_grad_norm_(tparams, 1.0)
        theirs.step()
        losses.append((float(loss), float(tloss.detach())))
    ours_, theirs_ = np.array(losses).T
    assert len(ours_) == 50 and theirs_[-1] < theirs_[0] - 0.5
    np.testing.assert_allclose(ours_, theirs_, rtol=1e-8, atol=0)


@pytest.mark.parametrize(
    "name, kwargs, error, message",
    [
        ("SGD", {"lr": float("nan")}, ValueError, r"SGD: lr must be a finite number > 0; got nan"),
        ("SGD", {"lr": float("inf")}, ValueError, r"lr must be a finite number > 0; got inf"),
        ("SGD", {"lr": 0}, ValueError, r"lr must be a finite number > 0; got 0"),
        ("SGD", {"lr": True}, TypeError, r"lr must be a number; got bool"),
        ("SGD", {"lr": "0.1"}, TypeError, r"lr must be a number; got str"),
        ("SGD", {"momentum": -0.5}, ValueError, r"momentum must be a finite number in \[0, 1\)"),
        ("SGD", {"weight_decay": float("nan")}, ValueError, r"weight_decay must be a finite"),
        ("Adam", {"betas": (0.9, 1.0)}, ValueError, r"Adam: betas\[1\] must be .* in \[0, 1\)"),
        ("Adam", {"betas": (1.0, 0.999)}, ValueError, r"betas\[0\] must be .* got 1.0"),
        ("Adam", {"betas": 0.9}, TypeError, r"betas must be a pair"),
        ("Adam", {"eps": 0}, ValueError, r"Adam: eps must be a finite number > 0; got 0"),
        ("AdamW", {"weight_decay": -1}, ValueError, r"AdamW: weight_decay must be .* >= 0"),
    ],
)
def test_optimisers_refuse_bad_hyperparameters(backend, name, kwargs, error, message):
    with pytest.raises(error, match=message):
        getattr(optim, name)(_params(backend), **kwargs)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_optimisers_refuse_gradients_of_another_shape_or_dtype(backend, name):
    params = _params(backend)
    opt = getattr(optim, name)(params, lr=0.1)
    grads = _grads(backend, 0)
    wide = backend.asarray({"dW": np.ones((3, 4)), "db": np.ones((1, 3))})
    with pytest.raises(ValueError, match=r"step: grads\['db'\] must have shape \(3, 1\); got"):
        opt.step({**grads, "db": wide["db"]})
    with pytest.raises(
        ValueError, match=r"grads\['db'\] must be a 2-D array of shape \(3, 1\); got a 1-D"
    ):
        opt.step({**grads, "db": grads["db"][:, 0]})
    narrow = backend.asarray({"db": np.ones((3, 1))}, dtype="float32")
    with pytest.raises(TypeError, match=r"one floating dtype"):
        opt.step({**grads, "db": narrow["db"]})
    with pytest.raises(TypeError, match=r"grads must be a dict of arrays; got list"):
        opt.step([grads["dW"]])
    assert opt.steps == 0 and all(
        np.array_equal(backend.to_numpy(v), backend.to_numpy(w))
        for v, w in zip(params.values(), _params(backend).values(), strict=True)
    )


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_optimiser_state_dicts_are_checked(backend, name):
    kwargs = {"momentum": 0.9} if name == "SGD" else {}
    opt = getattr(optim, name)(_params(backend), lr=0.1, **kwargs)
    opt.step(_grads(backend, 0))
    good = opt.state_dict()
    fresh = getattr(optim, name)(_params(backend), lr=0.1, **kwargs)
    fresh.load_state_dict(good)
    assert fresh.steps == 1
    slot = next(k for k in good if k != "steps")
    bad = {
        "foreign slot": ({**good, "velocity": good[slot]}, r"must hold the slots"),
        "foreign key": ({**good, slot: {**good[slot], "Wq": good[slot]["W"]}}, "parameters' keys"),
        "missing key": ({**good, slot: {"W": good[slot]["W"]}}, r"parameters' keys"),
        "shape": ({**good, slot: {**good[slot], "W": good[slot]["W"][:2, ...]}}, r"shape \(3, 4\)"),
        "steps": ({**good, "steps": -1}, r"state\['steps'\] must be an int >= 0; got -1"),
        "no slots": ({"steps": 3}, r"must hold the slots"),
    }
    for case, (state, message) in bad.items():
        with pytest.raises((ValueError, TypeError), match=message):
            fresh.load_state_dict(state)
        assert fresh.steps == 1, case
    with pytest.raises(TypeError, match=r"state must be the dict that state_dict\(\) returns"):
        fresh.load_state_dict([1])


def test_clipping_refuses_bad_limits(backend):
    grads = _grads(backend, 0)
    for value in (-1, 0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"clip_by_value: max_value must be a finite number"):
            optim.clip_by_value(grads, value)
        with pytest.raises(ValueError, match=r"clip_by_global_norm: max_norm must be a finite"):
            optim.clip_by_global_norm(grads, value)
    with pytest.raises(TypeError, match=r"clip_by_global_norm: grads must be a dict of arrays"):
        optim.clip_by_global_norm(list(grads.values()), 1.0)

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

"""Finite-difference checks (float64, relative error below 1e-6) of everything past the seed:
the GRU in both forms, variable lengths, stacked and bidirectional layers, the output layer and
the loss, with the edges m=1, T=1, n_a=1 among the shapes."""

import numpy as np
import pytest
from backends import finite_differences, replaced

import xrnn

SHAPES = [(1, 1, 1, 1), (2, 3, 1, 3), (3, 1, 3, 2), (2, 2, 3, 4)]  # n_x, n_a, m, T


def _data(backend, n_x, n_a, m, T, seed=0, order="unsorted"):
    """Inputs, and lengths: in any order (each step masks the examples that have ended), sorted
    longest first (each step computes a prefix of the batch), or sorted and all short of T."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x": rng.standard_normal((n_x, m, T)),
        "a0": rng.standard_normal((n_a, m)),
        "da": rng.standard_normal((n_a, m, T)),
    }
    lengths = rng.integers(1, T + 1, m)
    lengths[0] = T
    if order == "short":  # no example runs the last step: that step computes nothing
        lengths = np.minimum(lengths, max(T - 1, 1))
    if order in ("sorted", "short"):
        lengths = np.sort(lengths)[::-1].copy()
    return backend.asarray(arrays), backend.xp.asarray(lengths, device=backend.device)


def _check(backend, loss, inputs, grads):
    finite_differences(backend)
    errors = xrnn.gradcheck(loss, inputs, {k: grads[f"d{k}"] for k in inputs})
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("reset_after", [False, True], ids=["course", "reset_after"])
@pytest.mark.parametrize("n_x, n_a, m, T", SHAPES)
def test_gru_cell_and_sequence(backend, reset_after, n_x, n_a, m, T):
    xp = backend.xp
    p = xrnn.init_parameters(
        "gru", n_x, n_a, n_y=2, reset_after=reset_after, seed=1, xp=xp, device=backend.device
    )
    d, _ = _data(backend, n_x, n_a, m, T)
    x, a0, da = d["x"], d["a0"], d["da"]
    g = xrnn.gru_backward(da, xrnn.gru_forward(x, a0, p, reset_after=reset_after)[-1])
    inputs = {"x": x, "a0": a0, **{k: v for k, v in p.items() if k not in ("Wy", "by")}}
    forward = xrnn.gru_forward
    _check(
        backend,
        lambda v: xp.sum(forward(v["x"], v["a0"], replaced(p, v), reset_after=reset_after)[0] * da),
        inputs,
        g,
    )
    xt, dt = x[:, :, 0], da[:, :, 0]
    g = xrnn.gru_cell_backward(dt, xrnn.gru_cell_forward(xt, a0, p, reset_after)[-1])
    inputs = {"xt": xt, "a_prev": a0, **{k: v for k, v in p.items() if k not in ("Wy", "by")}}
    cell = xrnn.gru_cell_forward
    _check(
        backend,
        lambda v: xp.sum(cell(v["xt"], v["a_prev"], replaced(p, v), reset_after)[0] * dt),
        inputs,
        g,
    )


@pytest.mark.parametrize("order", ["unsorted", "sorted", "short"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("n_x, n_a, m, T", [*SHAPES, (2, 2, 5, 4)])
def test_sequences_with_lengths(backend, cell, n_x, n_a, m, T, order):
    xp = backend.xp
    p = xrnn.init_parameters(cell, n_x, n_a, n_y=2, seed=2, xp=xp, device=backend.device)
    d, lengths = _data(backend, n_x, n_a, m, T, order=order)
    x, a0, da = d["x"], d["a0"], d["da"]
    forward, backward = getattr(xrnn, f"{cell}_forward"), getattr(xrnn, f"{cell}_backward")
    g = backward(da, forward(x, a0, p, lengths=lengths)[-1])
    inputs = {"x": x, "a0": a0, **{k: v for k, v in p.items() if k not in ("Wy", "Wya", "by")}}
    _check(
        backend,
        lambda v: xp.sum(forward(v["x"], v["a0"], replaced(p, v), lengths=lengths)[0] * da),
        inputs,
        g,
    )


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("n_x, n_a, m, T", SHAPES[1:])
@pytest.mark.parametrize("lengths_", [False, True], ids=["full", "lengths"])
def test_layers(backend, cell, n_x, n_a, m, T, lengths_):
    """Two layers, bidirectional, with gradients reaching the outputs and the final states.

    Not on array-api-strict, where four stacked passes per perturbed element take minutes: the
    layers' gradients are proven there against PyTorch's (test_torch.py), to 1e-10."""
    if backend.name.startswith("array_api_strict"):
        pytest.skip("finite differences of stacked layers: see test_torch.py on this backend")
    xp = backend.xp
    kw = {"reset_after": True} if cell == "gru" else {}
    p = xrnn.init_parameters(
        cell, n_x, n_a, num_layers=2, bidirectional=True, seed=3, xp=xp, device=backend.device, **kw
    )
    d, lengths = _data(backend, n_x, n_a, m, T)
    lengths = lengths if lengths_ else None
    rng = np.random.default_rng(4)
    states = {
        s: backend.asarray(rng.standard_normal((4, n_a, m)))
        for s in (("a0", "c0") if cell == "lstm" else ("a0",))
    }
    da = backend.asarray(rng.standard_normal((2 * n_a, m, T)))
    dfin = {f"d{s[0]}_n": backend.asarray(rng.standard_normal((4, n_a, m))) for s in states}
    layers = getattr(xrnn, f"{cell}_layers")

    def run(v):
        given = {s: v[s] for s in states}
        a, fin, cache = layers(
            v["x"], replaced(p, v), num_layers=2, bidirectional=True, lengths=lengths, **given, **kw
        )
        return a, (fin if cell == "lstm" else (fin,)), cache

    def loss(v):
        a, fin, _ = run(v)
        return xp.sum(a * da) + sum(xp.sum(f * dfin[k]) for f, k in zip(fin, dfin, strict=True))

    _, _, cache = run({"x": d["x"], **states})
    g = getattr(xrnn, f"{cell}_layers_backward")(da, cache, **dfin)
    _check(backend, loss, {"x": d["x"], **states, **p}, g)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("n_x, n_a, m, T", SHAPES)
def test_output_layer_and_loss(backend, reduction, n_x, n_a, m, T):
    xp = backend.xp
    rng = np.random.default_rng(5)
    a, Wy, by = (backend.asarray(rng.standard_normal(s)) for s in [(n_a, m, T), (3, n_a), (3, 1)])
    targets = xp.asarray(rng.integers(0, 3, (m, T)), device=backend.device)
    _, lengths = _data(backend, n_x, n_a, m, T)
    for lens in (None, lengths):

        def loss(v, lens=lens):
            z = xrnn.output_forward(v["a"], v["Wy"], v["by"])
            return xrnn.softmax_cross_entropy(z, targets, lengths=lens, reduction=reduction)[0]

        _, dz = xrnn.softmax_cross_entropy(
            xrnn.output_forward(a, Wy, by), targets, lengths=lens, reduction=reduction
        )
        g = xrnn.output_backward(dz, a, Wy)
        _check(backend, loss, {"a": a, "Wy": Wy, "by": by}, g)


def test_loss_is_stable_at_large_logits(backend):
    xp = backend.xp
    z = backend.asarray(np.array([[[1e4]], [[-1e4]], [[0.0]]]))
    targets = xp.asarray(np.array([[1]]), device=backend.device)
    loss, dz = xrnn.softmax_cross_entropy(z, targets)
    np.testing.assert_allclose(float(loss), 2e4, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(dz)[:, 0, 0], [1.0, -1.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_layers_backward_without_dx(backend, cell):
    """``need_dx=False`` leaves out ``dx`` and changes no other gradient."""
    p = xrnn.init_parameters(
        cell, 3, 4, num_layers=2, bidirectional=True, seed=4, xp=backend.xp, device=backend.device
    )
    d, lengths = _data(backend, 3, 8, 5, 4, order="sorted")
    forward, backward = getattr(xrnn, f"{cell}_layers"), getattr(xrnn, f"{cell}_layers_backward")
    runs = [
        backward(
            d["da"],
            forward(d["x"], p, num_layers=2, bidirectional=True, lengths=lengths)[-1],
            need_dx=need,
        )
        for need in (True, False)
    ]
    assert "dx" in runs[0] and "dx" not in runs[1]
    assert runs[0].keys() - {"dx"} == runs[1].keys()
    for k, v in runs[1].items():
        backend.assert_close(v, backend.to_numpy(runs[0][k]), rtol=0, atol=0)

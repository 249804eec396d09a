"""The peephole LSTM, the cell added in one file: its forward against the equations written
out step by step in NumPy, and every backward by finite differences (float64) on the sequence
(lengths in any order) and on two bidirectional layers with lengths."""

import numpy as np
import pytest
from backends import finite_differences, replaced

import xrnn

SHAPES = [(1, 1, 1, 1), (2, 3, 1, 3), (3, 1, 3, 2), (2, 2, 4, 3)]  # n_x, n_a, m, T


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def peephole_reference(x, a0, c0, p, lengths):
    """The equations of xrnn/peephole.py, one example column and one step at a time."""
    _, m, T = x.shape
    a, c = np.zeros((a0.shape[0], m, T)), np.zeros((a0.shape[0], m, T))
    for j in range(m):
        a_t, c_t = a0[:, j : j + 1], c0[:, j : j + 1]
        for t in range(lengths[j]):
            v = np.concatenate([a_t, x[:, j : j + 1, t]])
            f = _sigmoid(p["Wf"] @ v + p["pf"] * c_t + p["bf"])
            i = _sigmoid(p["Wi"] @ v + p["pi"] * c_t + p["bi"])
            c_t = f * c_t + i * np.tanh(p["Wc"] @ v + p["bc"])
            o = _sigmoid(p["Wo"] @ v + p["po"] * c_t + p["bo"])
            a_t = o * np.tanh(c_t)
            a[:, j, t], c[:, j, t] = a_t[:, 0], c_t[:, 0]
    return a, c


def _problem(backend, n_x, n_a, m, T, order="unsorted", seed=0):
    rng = np.random.default_rng(seed)
    p = xrnn.init_parameters("peephole", n_x, n_a, n_y=2, seed=seed)
    p = {k: v * 2 for k, v in p.items()}  # peepholes and gates far from their linear range
    arrays = {k: rng.standard_normal((n_a, m)) for k in ("a0", "c0")}
    arrays.update(x=rng.standard_normal((n_x, m, T)), da=rng.standard_normal((n_a, m, T)))
    lengths = rng.integers(1, T + 1, m)
    lengths[0] = T
    if order == "sorted":
        lengths = np.sort(lengths)[::-1].copy()
    return p, arrays, lengths


@pytest.mark.parametrize("order", ["unsorted", "sorted", "full"])
def test_forward_is_the_equations(backend, order):
    p, d, lengths = _problem(backend, 3, 4, 5, 6, order)
    lengths = np.full(5, 6) if order == "full" else lengths
    a, c = peephole_reference(d["x"], d["a0"], d["c0"], p, lengths)
    b = backend.asarray({**d, "p": p})
    got = xrnn.peephole_forward(
        b["x"], b["a0"], b["p"], c0=b["c0"], lengths=None if order == "full" else lengths.tolist()
    )
    backend.assert_close(got[0], a, rtol=1e-12, atol=1e-14)
    backend.assert_close(got[2], c, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("order", ["unsorted", "sorted"])
@pytest.mark.parametrize("n_x, n_a, m, T", SHAPES)
def test_sequence_gradients(backend, n_x, n_a, m, T, order):
    finite_differences(backend)
    xp = backend.xp
    p, d, lengths = _problem(backend, n_x, n_a, m, T, order)
    p, d = backend.asarray(p), backend.asarray(d)
    lengths = xp.asarray(lengths, device=backend.device)
    x, a0, c0, da = d["x"], d["a0"], d["c0"], d["da"]
    *_, caches = xrnn.peephole_forward(x, a0, p, c0=c0, lengths=lengths)
    g = xrnn.peephole_backward(da, caches)
    inputs = {"x": x, "a0": a0, "c0": c0, **{k: v for k, v in p.items() if k not in ("Wy", "by")}}
    errors = xrnn.gradcheck(
        lambda v: xp.sum(
            xrnn.peephole_forward(v["x"], v["a0"], replaced(p, v), c0=v["c0"], lengths=lengths)[0]
            * da
        ),
        inputs,
        {k: g[f"d{k}"] for k in inputs},
    )
    assert max(errors.values()) < 1e-6, errors
    assert len(caches[0]) == 0  # spent, as the LSTM's


@pytest.mark.parametrize("lengths_", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("n_x, n_a, m, T", SHAPES[1:])
def test_layers_gradients(backend, n_x, n_a, m, T, lengths_):
    """Two bidirectional layers, gradients reaching the outputs and both final states."""
    finite_differences(backend)
    if backend.name.startswith("array_api_strict"):
        pytest.skip("finite differences of stacked layers take minutes here: numpy and torch")
    xp = backend.xp
    p = xrnn.init_parameters(
        "peephole", n_x, n_a, num_layers=2, bidirectional=True, seed=3, xp=xp, device=backend.device
    )
    rng = np.random.default_rng(4)
    x = backend.asarray(rng.standard_normal((n_x, m, T)))
    states = {s: backend.asarray(rng.standard_normal((4, n_a, m))) for s in ("a0", "c0")}
    da = backend.asarray(rng.standard_normal((2 * n_a, m, T)))
    dfin = {k: backend.asarray(rng.standard_normal((4, n_a, m))) for k in ("da_n", "dc_n")}
    lengths = [T, *rng.integers(1, T + 1, m - 1).tolist()] if lengths_ else None

    def run(v):
        given = {s: v[s] for s in states}
        return xrnn.peephole_layers(
            v["x"], replaced(p, v), num_layers=2, bidirectional=True, lengths=lengths, **given
        )

    def loss(v):
        a, (a_n, c_n), _ = run(v)
        return xp.sum(a * da) + xp.sum(a_n * dfin["da_n"]) + xp.sum(c_n * dfin["dc_n"])

    g = xrnn.peephole_layers_backward(da, run({"x": x, **states})[-1], **dfin)
    inputs = {"x": x, **states, **p}
    errors = xrnn.gradcheck(loss, inputs, {k: g[f"d{k}"] for k in inputs})
    assert max(errors.values()) < 1e-6, errors


def test_recurrent_biases_as_the_lstms(backend):
    """PyTorch's second biases, ``bfa, ...``, add to the gates' and get their gradients."""
    p, d, _ = _problem(backend, 3, 4, 5, 6)
    split = {**p, **{f"b{k}a": p[f"b{k}"] * 0.25 for k in "fico"}}
    split.update({f"b{k}": p[f"b{k}"] * 0.75 for k in "fico"})
    p, split, d = backend.asarray(p), backend.asarray(split), backend.asarray(d)
    one = xrnn.peephole_forward(d["x"], d["a0"], p, c0=d["c0"])
    two = xrnn.peephole_forward(d["x"], d["a0"], split, c0=d["c0"])
    backend.assert_close(two[0], backend.to_numpy(one[0]), rtol=1e-12, atol=1e-14)
    g1, g2 = (xrnn.peephole_backward(d["da"], out[-1]) for out in (one, two))
    for k in "fico":
        backend.assert_close(g2[f"db{k}a"], backend.to_numpy(g1[f"db{k}"]), rtol=1e-12)

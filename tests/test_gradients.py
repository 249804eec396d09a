"""Finite-difference checks of every backward pass, float64, through the public xrnn.gradcheck.

Each loss is a random projection of the forward outputs, ``J = sum(a * da)`` (plus
``sum(c * dc)`` for the LSTM cell), so the backward's input ``da`` is exactly dJ/da.
Shapes ``(n_x, n_a, m, T_x)`` include the edges m=1, T=1, n_x=1, n_a=1.
"""

import numpy as np
import pytest
from backends import finite_differences, replaced
from hypothesis import given, settings
from hypothesis import strategies as st

import xrnn

EDGES = [(1, 1, 1, 1), (1, 3, 2, 4), (3, 1, 4, 2), (2, 3, 1, 3), (3, 2, 2, 1)]
sizes = st.integers(min_value=1, max_value=4)


def random_shapes(test):
    shapes = given(n_x=sizes, n_a=sizes, m=sizes, T=sizes)
    return settings(max_examples=6, deadline=None, derandomize=True)(shapes(test))


def _randn(rng, backend, *shape):
    return backend.asarray(rng.standard_normal(shape))


def _rnn(backend, n_x, n_a, m, n_y=2, seed=0):
    rng = np.random.default_rng(seed)
    shapes = {
        "Wax": (n_a, n_x),
        "Waa": (n_a, n_a),
        "ba": (n_a, 1),
        "Wya": (n_y, n_a),
        "by": (n_y, 1),
    }
    return rng, {k: _randn(rng, backend, *s) for k, s in shapes.items()}


def _lstm(backend, n_x, n_a, m, n_y=2, seed=0):
    rng = np.random.default_rng(seed)
    shapes = {
        **{f"W{g}": (n_a, n_a + n_x) for g in "fico"},
        **{f"b{g}": (n_a, 1) for g in "fico"},
        "Wy": (n_y, n_a),
        "by": (n_y, 1),
    }
    return rng, {k: _randn(rng, backend, *s) for k, s in shapes.items()}


def _check(backend, loss, inputs, grads):
    finite_differences(backend)
    errors = xrnn.gradcheck(loss, inputs, grads)
    assert max(errors.values()) < 1e-6, errors


def check_rnn_cell(backend, n_x, n_a, m):
    xp = backend.xp
    rng, p = _rnn(backend, n_x, n_a, m)
    xt, a_prev, da_next = (_randn(rng, backend, *s) for s in [(n_x, m), (n_a, m), (n_a, m)])
    *_, cache = xrnn.rnn_cell_forward(xt, a_prev, p)
    g = xrnn.rnn_cell_backward(da_next, cache)

    def loss(v):
        return xp.sum(
            xrnn.rnn_cell_forward(v["dxt"], v["da_prev"], replaced(p, v, "d"))[0] * da_next
        )

    inputs = {"dxt": xt, "da_prev": a_prev, **{f"d{k}": p[k] for k in ("Wax", "Waa", "ba")}}
    _check(backend, loss, inputs, {k: g[k] for k in inputs})


def check_rnn(backend, n_x, n_a, m, T):
    xp = backend.xp
    rng, p = _rnn(backend, n_x, n_a, m)
    x, a0, da = (_randn(rng, backend, *s) for s in [(n_x, m, T), (n_a, m), (n_a, m, T)])
    *_, caches = xrnn.rnn_forward(x, a0, p)
    g = xrnn.rnn_backward(da, caches)

    def loss(v):
        return xp.sum(xrnn.rnn_forward(v["dx"], v["da0"], replaced(p, v, "d"))[0] * da)

    inputs = {"dx": x, "da0": a0, **{f"d{k}": p[k] for k in ("Wax", "Waa", "ba")}}
    _check(backend, loss, inputs, {k: g[k] for k in inputs})


def check_lstm_cell(backend, n_x, n_a, m):
    xp = backend.xp
    rng, p = _lstm(backend, n_x, n_a, m)
    xt, a_prev, c_prev, da_next, dc_next = (
        _randn(rng, backend, *s) for s in [(n_x, m)] + [(n_a, m)] * 4
    )
    *_, cache = xrnn.lstm_cell_forward(xt, a_prev, c_prev, p)
    g = xrnn.lstm_cell_backward(da_next, dc_next, cache)

    def loss(v):
        q = replaced(p, v, "d")
        a_next, c_next, *_ = xrnn.lstm_cell_forward(v["dxt"], v["da_prev"], v["dc_prev"], q)
        return xp.sum(a_next * da_next) + xp.sum(c_next * dc_next)

    inputs = {
        "dxt": xt,
        "da_prev": a_prev,
        "dc_prev": c_prev,
        **{f"d{w}{g}": p[f"{w}{g}"] for w in "Wb" for g in "fico"},
    }
    _check(backend, loss, inputs, {k: g[k] for k in inputs})


def check_lstm(backend, n_x, n_a, m, T):
    xp = backend.xp
    rng, p = _lstm(backend, n_x, n_a, m)
    x, a0, c0, da = (
        _randn(rng, backend, *s) for s in [(n_x, m, T), (n_a, m), (n_a, m), (n_a, m, T)]
    )
    *_, caches = xrnn.lstm_forward(x, a0, p, c0=c0)
    g = xrnn.lstm_backward(da, caches)

    def loss(v):
        q = replaced(p, v, "d")
        return xp.sum(xrnn.lstm_forward(v["dx"], v["da0"], q, c0=v["dc0"])[0] * da)

    inputs = {
        "dx": x,
        "da0": a0,
        "dc0": c0,
        **{f"d{w}{g}": p[f"{w}{g}"] for w in "Wb" for g in "fico"},
    }
    _check(backend, loss, inputs, {k: g[k] for k in inputs})


@pytest.mark.parametrize("n_x, n_a, m, T", EDGES)
def test_rnn_cell_backward_edges(backend, n_x, n_a, m, T):
    check_rnn_cell(backend, n_x, n_a, m)


@pytest.mark.parametrize("n_x, n_a, m, T", EDGES)
def test_rnn_backward_edges(backend, n_x, n_a, m, T):
    check_rnn(backend, n_x, n_a, m, T)


@pytest.mark.parametrize("n_x, n_a, m, T", EDGES)
def test_lstm_cell_backward_edges(backend, n_x, n_a, m, T):
    check_lstm_cell(backend, n_x, n_a, m)


@pytest.mark.parametrize("n_x, n_a, m, T", EDGES)
def test_lstm_backward_edges(backend, n_x, n_a, m, T):
    check_lstm(backend, n_x, n_a, m, T)


@random_shapes
def test_rnn_backward_random_shapes(backend, n_x, n_a, m, T):
    check_rnn_cell(backend, n_x, n_a, m)
    check_rnn(backend, n_x, n_a, m, T)


@random_shapes
def test_lstm_backward_random_shapes(backend, n_x, n_a, m, T):
    check_lstm_cell(backend, n_x, n_a, m)
    check_lstm(backend, n_x, n_a, m, T)


def test_lstm_backward_of_the_seed_case_by_finite_differences(backend):
    """In [49]'s inputs with da padded to 7 steps: the corrected values are the true gradient."""
    import seed_reference as seed

    xp = backend.xp
    d = seed.draw(49)
    p = backend.asarray(seed.params(d, seed.LSTM_KEYS))
    x, a0 = backend.asarray((d["x"], d["a0"]))
    da = backend.asarray(np.concatenate([d["da"], np.zeros((5, 10, 3))], axis=2))
    g = xrnn.lstm_backward(da, xrnn.lstm_forward(x, a0, p)[3])

    def loss(v):
        return xp.sum(xrnn.lstm_forward(x, v["da0"], replaced(p, v, "d"))[0] * da)

    inputs = {"da0": a0, **{f"d{w}{g}": p[f"{w}{g}"] for w in "Wb" for g in "fico"}}
    _check(backend, loss, inputs, {k: g[k] for k in inputs})


@pytest.mark.parametrize("form", ["functional", "in place"])
def test_gradcheck_reports_a_wrong_gradient(backend, form):
    """Both forms of the loss: ``loss(inputs)``, and ``loss()`` reading arrays perturbed in
    place (not on JAX's, which refuse it), which are left as they were."""
    xp = backend.xp
    w = backend.asarray(np.array([1.0, -2.0, 0.5]))
    if form == "in place":
        if backend.name == "jax":
            pytest.skip("JAX's arrays refuse in-place writes: the functional form")
        loss = lambda: xp.sum(w * w * w)  # noqa: E731
    else:
        loss = lambda v: xp.sum(v["w"] * v["w"] * v["w"])  # noqa: E731
    assert xrnn.gradcheck(loss, {"w": w}, {"w": 3 * w * w})["w"] < 1e-8
    with pytest.raises(AssertionError, match=r"relative error above 1e-06 for w"):
        xrnn.gradcheck(loss, {"w": w}, {"w": 2 * w * w})
    backend.assert_close(w, np.array([1.0, -2.0, 0.5]), rtol=0, atol=0)
    backend.assert_close(
        xrnn.numerical_gradient(lambda v: xp.sum(v * v * v), w), 3 * np.array([1.0, 4.0, 0.25])
    )

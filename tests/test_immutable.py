"""Every cell, the layers and the character model's loss on arrays that refuse in-place writes
(JAX's): every write into a buffer goes through ``put``, whose result is always used, so they
give NumPy's values, forward and backward."""

import numpy as np
import pytest
from backends import load

import xrnn
from xrnn import charmodel

CELLS = ["rnn", "lstm", "gru", "gru-ra", "peephole"]
LENGTHS = {"full": None, "sorted": [4, 4, 3, 1], "masked": [2, 4, 1, 3]}


@pytest.fixture(scope="module")
def jax():
    return load("jax")


@pytest.fixture(scope="module")
def numpy():
    return load("numpy")


def _both(backend, numpy, run):
    """``run`` on ``backend`` and on NumPy; the first's results against the second's."""
    expected = run(numpy)
    backend.assert_close(run(backend), _to_numpy(numpy, expected), rtol=1e-12, atol=1e-14)


def _to_numpy(numpy, tree):
    if isinstance(tree, dict):
        return {k: _to_numpy(numpy, v) for k, v in tree.items()}
    if isinstance(tree, tuple | list):
        return [_to_numpy(numpy, v) for v in tree]
    return numpy.to_numpy(tree)


def _form(cell):
    return cell.split("-")[0], {"reset_after": True} if cell == "gru-ra" else {}


def test_the_arrays_refuse_in_place_writes(jax):
    a = jax.asarray(np.zeros((2, 3)))
    with pytest.raises(TypeError):
        a[0, ...] = 1.0


@pytest.mark.parametrize("order", LENGTHS)
@pytest.mark.parametrize("cell", CELLS)
def test_sequences(jax, numpy, cell, order):
    name, kw = _form(cell)
    rng = np.random.default_rng(0)
    p = xrnn.init_parameters(name, 3, 2, n_y=2, seed=0, **kw)
    d = {"x": rng.standard_normal((3, 4, 4)), "a0": rng.standard_normal((2, 4))}
    d["da"] = rng.standard_normal((2, 4, 4))

    def run(b):
        q, e = b.asarray(p), b.asarray(d)
        out = getattr(xrnn, f"{name}_forward")(e["x"], e["a0"], q, lengths=LENGTHS[order], **kw)
        return [*out[:-1], getattr(xrnn, f"{name}_backward")(e["da"], out[-1])]

    _both(jax, numpy, run)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "gru-ra"])
def test_cells(jax, numpy, cell):
    name, kw = _form(cell)
    rng = np.random.default_rng(1)
    p = xrnn.init_parameters(name, 3, 2, n_y=2, seed=1, **kw)
    d = {k: rng.standard_normal(s) for k, s in [("xt", (3, 4)), ("a", (2, 4)), ("c", (2, 4))]}
    states = ("a", "c") if name == "lstm" else ("a",)

    def run(b):
        q, e = b.asarray(p), b.asarray(d)
        form = [kw["reset_after"]] if kw else []
        *new, y, cache = getattr(xrnn, f"{name}_cell_forward")(
            e["xt"], *(e[s] for s in states), q, *form
        )
        return [*new, y, getattr(xrnn, f"{name}_cell_backward")(*new, cache)]

    _both(jax, numpy, run)


@pytest.mark.parametrize("cell", CELLS)
def test_layers(jax, numpy, cell):
    name, kw = _form(cell)
    p = xrnn.init_parameters(name, 3, 2, num_layers=2, bidirectional=True, seed=2, **kw)
    x = np.random.default_rng(2).standard_normal((3, 4, 4))

    def run(b):
        layers = getattr(xrnn, f"{name}_layers")
        opts = {"num_layers": 2, "bidirectional": True, "lengths": LENGTHS["masked"], **kw}
        a, finals, cache = layers(b.asarray(x), b.asarray(p), **opts)
        return [a, finals, getattr(xrnn, f"{name}_layers_backward")(a, cache)]

    _both(jax, numpy, run)


@pytest.mark.slow(reason="eager JAX dispatches every array operation: 5-11 s")
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_character_model_loss_and_gradients(jax, numpy, cell):
    model = charmodel.Model(cell, layers=2, hidden=3, vocab=5)
    rng = np.random.default_rng(3)
    x = np.eye(5)[rng.integers(0, 5, (4, 6))].transpose(2, 0, 1)  # one-hot (V, m, T)
    targets = rng.integers(0, 5, (4, 6))

    def run(b):
        params = model.init(seed=3, xp=b.xp, device=b.device)
        t = b.xp.asarray(targets, device=b.device)
        return list(charmodel.loss_and_grads(model, params, b.asarray(x), t, [6, 5, 3, 1]))

    _both(jax, numpy, run)

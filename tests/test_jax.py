"""JAX. Eager: every cell, the layers and the character model's loss on arrays that refuse
in-place writes: every write into a buffer goes through ``put``, whose result is always used,
so they give NumPy's values, forward and backward. Under ``jax.jit``: the engine's time loops
are ``jax.lax.scan`` (the Python loop is never entered), with lengths known or traced, and
the character model's loss, gradient clipping and the optimisers compile: NumPy's values
again. (Compile times and speed: the benchmark's ``--cells jax`` rows.)"""

import contextlib
import warnings

import numpy as np
import pytest
from backends import load

import xrnn
from xrnn import _engine, charmodel, optim

CELLS = ["rnn", "lstm", "gru", "gru-ra", "peephole"]
LENGTHS = {"full": None, "sorted": [4, 4, 3, 1], "masked": [2, 4, 1, 3]}


@pytest.fixture(scope="module")
def jax():
    return load("jax")


@pytest.fixture(scope="module")
def numpy():
    return load("numpy")


@pytest.fixture(scope="module")
def jit(jax):
    import jax as module

    return module.jit


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


@contextlib.contextmanager
def _python_loop(monkeypatch, allowed):
    """Counts the steps the engine's Python loop runs; fails at the first unless ``allowed``."""
    real, steps = _engine.scan, []

    def scan(f, carry, xs, reverse=False):
        if not allowed:
            raise AssertionError("the Python loop ran under jax.jit")
        steps.extend(xs)
        return real(f, carry, xs, reverse)

    with monkeypatch.context() as patch:
        patch.setattr(_engine, "scan", scan)
        yield steps


# every cell with lengths in any order that jit traces; the LSTM with each kind as a list too
JITTED = [(cell, "masked", "traced") for cell in CELLS]
JITTED += [("lstm", order, "list") for order in LENGTHS] + [("lstm", "sorted", "traced")]


@pytest.mark.parametrize(("cell", "order", "given"), JITTED)
def test_layers_under_jit_scan(jax, numpy, jit, cell, order, given, monkeypatch):
    """Two bidirectional layers forward and backward in one ``jax.jit``: NumPy's values, every
    time loop a ``jax.lax.scan``; lengths as a list (known while tracing) or as an array that
    ``jit`` traces."""
    name, kw = _form(cell)
    p = xrnn.init_parameters(name, 3, 2, num_layers=2, bidirectional=True, seed=4, **kw)
    x = np.random.default_rng(4).standard_normal((3, 4, 5))
    lengths = LENGTHS[order] and [min(v + 1, 5) for v in LENGTHS[order]]
    layers, backward = getattr(xrnn, f"{name}_layers"), getattr(xrnn, f"{name}_layers_backward")
    opts = {"num_layers": 2, "bidirectional": True, **kw}

    def run(x, p, lengths):
        a, finals, cache = layers(x, p, lengths=lengths, **opts)
        return [a, finals, backward(a, cache)]

    expected = _to_numpy(numpy, run(x, p, lengths))
    traced = given == "traced" and lengths is not None
    f = jit(run) if traced else jit(lambda x, p: run(x, p, lengths))
    args = (jax.asarray(x), jax.asarray(p)) + ((jax.xp.asarray(lengths),) if traced else ())
    with _python_loop(monkeypatch, allowed=False):
        got = f(*args)
    jax.assert_close(got, expected, rtol=1e-12, atol=1e-14)


def test_the_reference_switch_turns_the_scan_off(jax, numpy, jit, monkeypatch):
    """``XRNN_KERNELS=reference``: under ``jax.jit`` too, the Python loop (unrolled)."""
    p = xrnn.init_parameters("lstm", 3, 2, num_layers=1, seed=5)
    x = np.random.default_rng(5).standard_normal((3, 4, 3))

    def run(x, p):
        a, _, cache = xrnn.lstm_layers(x, p)
        return [a, xrnn.lstm_layers_backward(a, cache)]

    expected = _to_numpy(numpy, run(x, p))
    monkeypatch.setenv("XRNN_KERNELS", "reference")
    with _python_loop(monkeypatch, allowed=True) as steps:
        got = jit(run)(jax.asarray(x), jax.asarray(p))
    assert len(steps) == 2 * 3  # forward and backward, three steps each
    jax.assert_close(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_training_step_under_jit(jax, numpy, jit, cell, monkeypatch):
    """The character model's loss and gradients, clipping and Adam, in one ``jax.jit`` with
    the batch, its lengths and the optimiser's state traced: two steps give NumPy's."""
    model = charmodel.Model(cell, layers=2, hidden=3, vocab=5)
    rng = np.random.default_rng(6)
    batches = [
        (np.eye(5)[rng.integers(0, 5, (4, 6))].transpose(2, 0, 1), rng.integers(0, 5, (4, 6)), n)
        for n in ([6, 5, 3, 1], [4, 6, 6, 2])
    ]

    def step(params, state, x, targets, lengths):
        loss, grads = charmodel.loss_and_grads(model, params, x, targets, lengths)
        grads, norm = optim.clip_by_global_norm(grads, 0.5)
        opt = optim.Adam(dict(params), lr=0.1, weight_decay=0.01)
        opt.load_state_dict(state)
        opt.step(grads)
        return opt.parameters, opt.state_dict(), loss, norm

    def train(b, step):
        params = model.init(seed=6, xp=b.xp, device=b.device)
        state = optim.Adam(dict(params)).state_dict()
        out = []
        for x, targets, lengths in batches:
            lengths = b.xp.asarray(lengths, device=b.device)
            targets = b.xp.asarray(targets, device=b.device)
            params, state, loss, norm = step(params, state, b.asarray(x), targets, lengths)
            out += [loss, norm]
        return [params, state, out]

    expected = _to_numpy(numpy, train(numpy, step))
    with _python_loop(monkeypatch, allowed=False):
        got = train(jax, jit(step))
    jax.assert_close(got, expected, rtol=1e-12, atol=1e-14)


def test_eager_jax_keeps_the_checks_that_read_values(jax):
    """Values are checked where they are known: eagerly on JAX as on NumPy."""
    z = jax.asarray(np.zeros((3, 2, 4)))
    targets = jax.xp.asarray([[0, 1, 2, 3], [0, 0, 0, 0]])
    with pytest.raises(ValueError, match=r"targets must be class indices in 0..n_y-1"):
        xrnn.softmax_cross_entropy(z, targets)
    with pytest.raises(ValueError, match=r"lengths must lie in 1..T_x = 1..4; got values from"):
        xrnn.softmax_cross_entropy(z, targets * 0, lengths=jax.xp.asarray([0, 4]))


@pytest.mark.parametrize("lengths", [None, [6, 5, 3, 2, 1], [2, 6, 1, 3, 5]])
def test_float32_without_x64(jax, numpy, jit, lengths):
    """JAX's default, 32 bits (float32, int32 indices): two layers and the loss, eager and under
    ``jit`` with the lengths traced, NumPy's float32 values to rounding, and nothing asks for a
    64-bit dtype (JAX would warn and truncate)."""
    import jax as module

    model = charmodel.Model("gru", layers=2, hidden=4, vocab=3)
    rng = np.random.default_rng(7)
    x = np.eye(3, dtype=np.float32)[rng.integers(0, 3, (5, 6))].transpose(2, 0, 1)
    targets = rng.integers(0, 3, (5, 6))
    params = model.init(seed=7, dtype=np.float32)

    def run(p, x, targets, lengths):
        return charmodel.loss_and_grads(model, p, x, targets, lengths)

    expected = _to_numpy(numpy, run(params, x, targets, lengths))
    with module.enable_x64(False), warnings.catch_warnings():
        warnings.simplefilter("error")
        xp = module.numpy
        args = (
            {k: xp.asarray(v) for k, v in params.items()},
            xp.asarray(x),
            xp.asarray(targets),
            None if lengths is None else xp.asarray(lengths),
        )
        assert args[2].dtype == xp.int32
        for f in (run, jit(run)):
            loss, grads = f(*args)
            assert loss.dtype == xp.float32
            jax.assert_close([loss, grads], expected, rtol=2e-4, atol=1e-5)

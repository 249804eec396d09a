"""The engine keeps the seed's contract: caches in the seed's format as views of its buffers,
caches built by hand accepted. One engine for every cell: results independent of how a step
is split into batch chunks, one rule for spending caches, a backward pass that differentiates
the forward pass that ran whatever happens to the parameters after it, and a cache that a
failed backward pass leaves usable or refuses."""

import contextlib

import numpy as np
import pytest

import xrnn
from xrnn import _checks, _engine, _kernels

CELLS = ["rnn", "lstm", "gru", "gru-ra", "peephole"]  # gru-ra: the GRU's reset-after form


def _lstm(backend, n_x=3, n_a=4, m=5, T=6, seed=0):
    rng = np.random.default_rng(seed)
    p = {f"W{g}": rng.standard_normal((n_a, n_a + n_x)) for g in "fico"}
    p.update({f"b{g}": rng.standard_normal((n_a, 1)) for g in "fico"})
    p.update(Wy=rng.standard_normal((2, n_a)), by=rng.standard_normal((2, 1)))
    arrays = {
        k: rng.standard_normal(s)
        for k, s in [("x", (n_x, m, T)), ("a0", (n_a, m)), ("c0", (n_a, m)), ("da", (n_a, m, T))]
    }
    return backend.asarray(p), backend.asarray(arrays)


def _rnn(backend, n_x=3, n_a=4, m=5, T=6, seed=0):
    rng = np.random.default_rng(seed)
    shapes = {"Wax": (n_a, n_x), "Waa": (n_a, n_a), "ba": (n_a, 1), "Wya": (2, n_a), "by": (2, 1)}
    p = {k: rng.standard_normal(s) for k, s in shapes.items()}
    arrays = {
        k: rng.standard_normal(s)
        for k, s in [("x", (n_x, m, T)), ("a0", (n_a, m)), ("da", (n_a, m, T))]
    }
    return backend.asarray(p), backend.asarray(arrays)


def test_lstm_forward_is_its_cell_step_after_step(backend):
    p, d = _lstm(backend)
    _, y, _, (steps, x) = xrnn.lstm_forward(d["x"], d["a0"], p, c0=d["c0"])
    a_t, c_t = d["a0"], d["c0"]
    for t, step in enumerate(steps):
        a_t, c_t, y_t, cache = xrnn.lstm_cell_forward(d["x"][:, :, t], a_t, c_t, p)
        backend.assert_close(step[:9], tuple(backend.to_numpy(v) for v in cache[:9]), rtol=1e-12)
        backend.assert_close(y[:, :, t], backend.to_numpy(y_t), rtol=1e-12)
    assert x is d["x"] and all(step[9] is p for step in steps)


def test_lstm_backward_accepts_caches_built_by_hand(backend):
    p, d = _lstm(backend)
    *_, caches = xrnn.lstm_forward(d["x"], d["a0"], p, c0=d["c0"])
    by_hand, a_t, c_t = [], d["a0"], d["c0"]
    for t in range(d["x"].shape[2]):
        a_t, c_t, _, cache = xrnn.lstm_cell_forward(d["x"][:, :, t], a_t, c_t, p)
        by_hand.append(cache)
    expected = {k: backend.to_numpy(v) for k, v in xrnn.lstm_backward(d["da"], caches).items()}
    backend.assert_close(xrnn.lstm_backward(d["da"], (by_hand, d["x"])), expected, rtol=1e-12)
    # caches built by hand are not spent: a second backward pass gives the same again
    backend.assert_close(xrnn.lstm_backward(d["da"], (by_hand, d["x"])), expected, rtol=1e-12)


def test_rnn_backward_accepts_caches_built_by_hand_and_leaves_caches_intact(backend):
    p, d = _rnn(backend)
    *_, caches = xrnn.rnn_forward(d["x"], d["a0"], p)
    by_hand, a_t = [], d["a0"]
    for t in range(d["x"].shape[2]):
        a_t, _, cache = xrnn.rnn_cell_forward(d["x"][:, :, t], a_t, p)
        by_hand.append(cache)
    expected = {k: backend.to_numpy(v) for k, v in xrnn.rnn_backward(d["da"], caches).items()}
    backend.assert_close(xrnn.rnn_backward(d["da"], (by_hand, d["x"])), expected, rtol=1e-12)
    backend.assert_close(xrnn.rnn_backward(d["da"], caches), expected, rtol=0, atol=0)


def test_lstm_caches_are_spent_by_the_backward_pass(backend):
    p, d = _lstm(backend)
    *_, caches = xrnn.lstm_forward(d["x"], d["a0"], p)
    xrnn.lstm_backward(d["da"], caches)
    assert len(caches[0]) == 0
    with pytest.raises(
        ValueError,
        match=r"lstm_backward: caches were spent by an earlier "
        r"backward pass.*run the forward pass again",
    ):
        xrnn.lstm_backward(d["da"], caches)


def test_caches_are_views_of_the_outputs():
    backend = pytest.importorskip("backends").load("numpy")
    p, d = _lstm(backend)
    a, _, c, (steps, _) = xrnn.lstm_forward(d["x"], d["a0"], p)
    for t, step in enumerate(steps):
        assert np.shares_memory(step[0], a) and np.shares_memory(step[1], c)
        assert np.shares_memory(step[8], d["x"])
        np.testing.assert_array_equal(step[0], a[:, :, t])
    a, _, (steps, _) = xrnn.rnn_forward(d["x"], d["a0"], _rnn(backend)[0])
    assert all(np.shares_memory(step[0], a) for step in steps)


def _sequence(backend, cell, m=7, T=5, n_x=3, n_a=4, lengths=None, seed=0):
    """A cell's sequence functions, bound to its form, with inputs: ``(forward, backward, args)``
    where ``forward(p)`` runs on the inputs and ``backward(da, caches)`` returns gradients."""
    name = cell.split("-")[0]
    kw = {"reset_after": True} if cell == "gru-ra" else {}
    rng = np.random.default_rng(seed)
    p = xrnn.init_parameters(name, n_x, n_a, n_y=2, seed=seed, **kw)
    d = {"x": rng.standard_normal((n_x, m, T)), "a0": rng.standard_normal((n_a, m))}
    d["da"] = rng.standard_normal((n_a, m, T))
    p, d = backend.asarray(p), backend.asarray(d)
    fwd, bwd = getattr(xrnn, f"{name}_forward"), getattr(xrnn, f"{name}_backward")

    def forward(p):
        return fwd(d["x"], d["a0"], p, lengths=lengths, **kw)

    return forward, bwd, p, d


def _numpy(backend, tree):
    return {k: backend.to_numpy(v) for k, v in tree.items()}


def _run(backend, cell, lengths=None, **kw):
    forward, backward, p, d = _sequence(backend, cell, lengths=lengths, **kw)
    out = forward(p)
    grads = backward(d["da"], out[-1])
    return [backend.to_numpy(v) for v in (*out[:-1], *grads.values())]


LENGTHS = {"full": None, "sorted": [5, 5, 4, 3, 3, 2, 1], "masked": [2, 5, 1, 4, 5, 3, 3]}


@pytest.mark.parametrize("order", LENGTHS)
@pytest.mark.parametrize("cell", CELLS)
def test_results_do_not_depend_on_the_batch_chunks(backend, cell, order, monkeypatch):
    whole = _run(backend, cell, LENGTHS[order])
    monkeypatch.setattr(_engine, "CACHE_BYTES", 8)  # one row per chunk, on a CPU
    a = backend.asarray(np.zeros((7, 4)))
    assert len(_engine.chunks(a, 16, backend.xp)) in (1, 7)
    for got, expected in zip(_run(backend, cell, LENGTHS[order]), whole, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("cell", CELLS)
def test_layers_do_not_depend_on_the_batch_chunks(backend, cell, monkeypatch):
    name, kw = cell.split("-")[0], {"reset_after": True} if cell == "gru-ra" else {}
    p = xrnn.init_parameters(
        name,
        3,
        4,
        num_layers=2,
        bidirectional=True,
        seed=1,
        xp=backend.xp,
        device=backend.device,
        **kw,
    )
    x = backend.asarray(np.random.default_rng(2).standard_normal((3, 7, 5)))
    layers, backward = getattr(xrnn, f"{name}_layers"), getattr(xrnn, f"{name}_layers_backward")

    def run():
        a, _, cache = layers(
            x, p, num_layers=2, bidirectional=True, lengths=LENGTHS["masked"], **kw
        )
        return backend.to_numpy(a), _numpy(backend, backward(a, cache))

    a, grads = run()
    monkeypatch.setattr(_engine, "CACHE_BYTES", 8)
    a2, grads2 = run()
    np.testing.assert_allclose(a2, a, rtol=1e-13, atol=1e-15)
    for k, v in grads.items():
        np.testing.assert_allclose(grads2[k], v, rtol=1e-13, atol=1e-15, err_msg=k)


@pytest.mark.parametrize("cell", CELLS)
def test_every_cell_follows_one_rule_for_spending(backend, cell):
    """A backward pass writes its gradients over the gates the forward kept, when the cell keeps
    any: the caches are then spent. The RNN keeps none: its caches can be used again."""
    forward, backward, p, d = _sequence(backend, cell)
    caches = forward(p)[-1]
    first = _numpy(backend, backward(d["da"], caches))
    if cell == "rnn":
        backend.assert_close(backward(d["da"], caches), first, rtol=0, atol=0)
        return
    assert len(caches[0]) == 0
    with pytest.raises(ValueError, match=r"caches were spent by an earlier backward pass"):
        backward(d["da"], caches)


@pytest.mark.parametrize("cell", CELLS)
def test_backward_differentiates_the_forward_that_ran(backend, cell):
    """Changing the parameters after the forward pass, in place or by replacing and removing
    their entries, changes nothing in its backward pass."""
    forward, backward, p, d = _sequence(backend, cell)
    expected = _numpy(backend, backward(d["da"], forward(p)[-1]))
    caches = forward(p)[-1]
    for k in list(p) if backend.writable else ():
        p[k][...] = 0.5  # the optimiser's step, taken too early (not on JAX: immutable)
    first = next(k for k in p if k.startswith("W"))
    p[first] = p[first] * 3
    p.pop("bca", None)  # the GRU's form, taken from the forward pass, not the parameters now
    p.pop(first.replace("W", "b", 1), None)
    backend.assert_close(backward(d["da"], caches), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_layers_backward_differentiates_the_forward_that_ran(backend, cell):
    name, kw = cell.split("-")[0], {"reset_after": True} if cell == "gru-ra" else {}
    p = xrnn.init_parameters(
        name, 3, 4, num_layers=2, seed=1, xp=backend.xp, device=backend.device, **kw
    )
    x = backend.asarray(np.random.default_rng(2).standard_normal((3, 5, 4)))
    layers, backward = getattr(xrnn, f"{name}_layers"), getattr(xrnn, f"{name}_layers_backward")
    a, _, cache = layers(x, p, num_layers=2, **kw)
    expected = _numpy(backend, backward(a, layers(x, p, num_layers=2, **kw)[-1]))
    for k in list(p) if backend.writable else ():
        p[k][...] = 0.0
    p.clear()
    backend.assert_close(backward(a, cache), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_a_backward_refused_before_it_starts_leaves_the_cache_as_it_was(backend, cell):
    """A ``da`` from another array library, or of another dtype, is refused with a clear error
    before anything is written: the cache gives the right gradients afterwards."""
    forward, backward, p, d = _sequence(backend, cell)
    expected = _numpy(backend, backward(d["da"], forward(p)[-1]))
    caches = forward(p)[-1]
    if backend.name == "numpy":
        xps = pytest.importorskip("array_api_strict")
        other = xps.ones((4, 7, 5), dtype=xps.float64)
    else:
        other = np.ones((4, 7, 5))
    with pytest.raises(TypeError, match=r"all arrays must come from one array library"):
        backward(other, caches)
    with pytest.raises(TypeError, match=r"all arrays must share one floating dtype"):
        backward(backend.xp.astype(d["da"], backend.xp.float32), caches)
    backend.assert_close(backward(d["da"], caches), expected, rtol=0, atol=0)


@contextlib.contextmanager
def _failing_at_step(n, monkeypatch):
    """The backward passes' time loops raise at their ``n``-th step (in the Python loop, which
    runs step by step: JAX's ``lax.scan`` runs its body's Python once)."""
    real, calls = _engine.scan, []

    def scan(f, carry, xs, reverse=False):
        def g(c, x):
            calls.append(x)
            if len(calls) == n:
                raise RuntimeError(f"a fault in step {n}")
            return f(c, x)

        return real(g if reverse else f, carry, xs, reverse)

    with monkeypatch.context() as patch:
        patch.setattr(_engine, "scan", scan)
        patch.setattr(_kernels, "loop", lambda *arrays: None)  # JAX's scan steps in Python too
        yield


@pytest.mark.parametrize("cell", CELLS)
def test_a_backward_that_fails_half_way_leaves_the_cache_spent_or_as_it_was(
    backend, cell, monkeypatch
):
    """A failure in the middle of the time loop: a cache whose gates were being overwritten is
    refused afterwards, with the error that says why; the RNN's is as good as before."""
    forward, backward, p, d = _sequence(backend, cell)
    expected = _numpy(backend, backward(d["da"], forward(p)[-1]))
    caches = forward(p)[-1]
    with _failing_at_step(3, monkeypatch), pytest.raises(RuntimeError, match="step 3"):
        backward(d["da"], caches)
    if cell == "rnn":
        backend.assert_close(backward(d["da"], caches), expected, rtol=0, atol=0)
    else:
        with pytest.raises(ValueError, match=r"caches were spent by an earlier backward pass"):
            backward(d["da"], caches)


def test_a_layers_backward_that_fails_half_way_is_refused_afterwards(backend, monkeypatch):
    p = xrnn.init_parameters(
        "lstm", 3, 4, num_layers=2, seed=1, xp=backend.xp, device=backend.device
    )
    x = backend.asarray(np.ones((3, 5, 4)))
    a, _, cache = xrnn.lstm_layers(x, p, num_layers=2)
    with _failing_at_step(3, monkeypatch), pytest.raises(RuntimeError, match="step 3"):
        xrnn.lstm_layers_backward(a, cache)  # in the top layer
    with pytest.raises(ValueError, match=r"cache was spent by an earlier backward pass"):
        xrnn.lstm_layers_backward(a, cache)


def test_lengths_come_to_the_host_once_per_forward_pass(backend, monkeypatch):
    """Two bidirectional layers with lengths: one transfer of the lengths to the host in the
    forward pass (checked there), none in the backward, none per step."""
    calls = []
    real = _checks.to_list
    monkeypatch.setattr(_checks, "to_list", lambda a: calls.append(1) or real(a))
    xp = backend.xp
    p = xrnn.init_parameters(
        "lstm", 3, 4, num_layers=2, bidirectional=True, seed=1, xp=xp, device=backend.device
    )
    x = backend.asarray(np.ones((3, 5, 6)))
    lengths = xp.asarray([6, 2, 5, 1, 3], device=backend.device)
    a, _, cache = xrnn.lstm_layers(x, p, num_layers=2, bidirectional=True, lengths=lengths)
    assert len(calls) == 1
    xrnn.lstm_layers_backward(a, cache)
    assert len(calls) == 1


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32"])
def test_any_integer_dtype_of_lengths_gives_the_int64_result(backend, dtype):
    """Lengths of a narrow integer dtype, with m = 20 and T = 100, where ``length * m`` and
    the steps' indices overflow int8; two bidirectional layers and the loss."""
    xp = backend.xp
    if not hasattr(xp, dtype):
        pytest.skip(f"{backend.name} has no {dtype}")
    m, T = 20, 100
    rng = np.random.default_rng(0)
    values = rng.integers(1, T + 1, m)
    p = xrnn.init_parameters(
        "gru",
        2,
        3,
        num_layers=2,
        bidirectional=True,
        reset_after=True,
        n_y=4,
        seed=0,
        xp=xp,
        device=backend.device,
    )
    x = backend.asarray(rng.standard_normal((2, m, T)))
    targets = xp.asarray(rng.integers(0, 4, (m, T)), device=backend.device)

    def run(lengths):
        a, a_n, cache = xrnn.gru_layers(
            x, p, num_layers=2, bidirectional=True, reset_after=True, lengths=lengths
        )
        z = xrnn.output_forward(a, p["Wy"], p["by"])
        loss, dz = xrnn.softmax_cross_entropy(z, xp.astype(targets, getattr(xp, dtype)), lengths)
        grads = xrnn.gru_layers_backward(xrnn.output_backward(dz, a, p["Wy"])["da"], cache)
        return {"a": a, "a_n": a_n, "loss": loss, **grads}

    expected = _numpy(backend, run(xp.asarray(values, dtype=xp.int64, device=backend.device)))
    got = run(xp.asarray(values, dtype=getattr(xp, dtype), device=backend.device))
    backend.assert_close(got, expected, rtol=1e-12, atol=1e-14)


def test_targets_of_a_narrow_dtype_with_many_classes(backend):
    """300 classes with uint8 targets (the class indices themselves fit)."""
    xp = backend.xp
    if not hasattr(xp, "uint8"):
        pytest.skip(f"{backend.name} has no uint8")
    rng = np.random.default_rng(0)
    z = backend.asarray(rng.standard_normal((300, 3, 4)))
    t = rng.integers(0, 256, (3, 4))
    expected = xrnn.softmax_cross_entropy(z, xp.asarray(t, dtype=xp.int64, device=backend.device))
    got = xrnn.softmax_cross_entropy(z, xp.asarray(t, dtype=xp.uint8, device=backend.device))
    backend.assert_close(got, tuple(backend.to_numpy(v) for v in expected), rtol=1e-13)


@pytest.mark.parametrize("cell", CELLS)
def test_an_empty_batch_and_an_empty_sequence(backend, cell):
    """m = 0 runs forward and backward, as T = 0 runs forward (its backward has no steps to
    differentiate, and says so)."""
    name, kw = cell.split("-")[0], {"reset_after": True} if cell == "gru-ra" else {}
    xp = backend.xp
    p = xrnn.init_parameters(name, 3, 4, n_y=2, seed=0, xp=xp, device=backend.device, **kw)
    forward, backward = getattr(xrnn, f"{name}_forward"), getattr(xrnn, f"{name}_backward")
    out = forward(backend.asarray(np.zeros((3, 0, 5))), backend.asarray(np.zeros((4, 0))), p, **kw)
    grads = backward(backend.asarray(np.zeros((4, 0, 5))), out[-1])
    backend.assert_array(grads["dx"], shape=(3, 0, 5))
    out = forward(backend.asarray(np.zeros((3, 2, 0))), backend.asarray(np.zeros((4, 2))), p, **kw)
    backend.assert_array(out[0], shape=(4, 2, 0))
    with pytest.raises(TypeError, match=r"caches\[0\] must be the non-empty list"):
        backward(backend.asarray(np.zeros((4, 2, 0))), out[-1])
    q = xrnn.init_parameters(
        name, 3, 4, num_layers=2, bidirectional=True, seed=0, xp=xp, device=backend.device, **kw
    )
    layers = getattr(xrnn, f"{name}_layers")
    a, _, cache = layers(
        backend.asarray(np.zeros((3, 0, 5))), q, num_layers=2, bidirectional=True, **kw
    )
    grads = getattr(xrnn, f"{name}_layers_backward")(a, cache)
    backend.assert_array(grads["dx"], shape=(3, 0, 5))


def test_caches_go_back_to_their_own_cell(backend):
    forward, _, p, d = _sequence(backend, "peephole")
    with pytest.raises(
        TypeError,
        match=r"lstm_backward: caches come from the forward pass of "
        r"another cell, peephole",
    ):
        xrnn.lstm_backward(d["da"], forward(p)[-1])
    q = xrnn.init_parameters(
        "peephole", 3, 4, num_layers=1, seed=0, xp=backend.xp, device=backend.device
    )
    a, _, cache = xrnn.peephole_layers(d["x"], q)
    with pytest.raises(
        TypeError,
        match=r"lstm_layers_backward: cache comes from the layers of "
        r"another cell, peephole",
    ):
        xrnn.lstm_layers_backward(a, cache)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "gru-ra"])
def test_cell_backward_differentiates_the_forward_that_ran(backend, cell):
    """The cell functions' caches keep the weights of their forward pass too (and are never
    spent: the backward of one step can run again)."""
    name, kw = cell.split("-")[0], {"reset_after": True} if cell == "gru-ra" else {}
    _, _, p, d = _sequence(backend, cell)
    xt, a_prev = d["x"][:, :, 0], d["a0"]
    prev = (a_prev, a_prev * 0.5) if name == "lstm" else (a_prev,)
    form = [True] if kw else []
    forward, backward = (getattr(xrnn, f"{name}_cell_{k}") for k in ("forward", "backward"))
    *new, _, cache = forward(xt, *prev, p, *form)
    expected = _numpy(backend, backward(*new, forward(xt, *prev, p, *form)[-1]))
    for k in list(p) if backend.writable else ():
        p[k][...] = 0.5
    backend.assert_close(backward(*new, cache), expected, rtol=1e-12, atol=1e-14)
    backend.assert_close(backward(*new, cache), expected, rtol=1e-12, atol=1e-14)

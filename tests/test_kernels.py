"""The compiled steps (xrnn/_kernels) against the array-API steps they replace on NumPy: every
cell, both float dtypes, edge shapes and lengths in any order, whole sequences, batch chunks
and bidirectional layers, equal to rounding; where the kernels apply and where they do not;
the compiled time-major copy; and the scalar exp, sigmoid and tanh they share against NumPy's.

NumPy only: the kernels run on nothing else, so these tests take no ``backend``."""

import collections
import dataclasses

import numpy as np
import pytest

import xrnn
from xrnn import _engine, _kernels
from xrnn._kernels import _threads

numba = pytest.importorskip("numba")
_math = pytest.importorskip("xrnn._kernels._math")

CELLS = ["rnn", "lstm", "gru", "gru-ra", "peephole"]  # gru-ra: the GRU's reset-after form
DTYPES = [np.float64, np.float32]
TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-12}, np.float32: {"rtol": 1e-5, "atol": 1e-5}}
# n_x, n_a, m, T: one of everything, n_a=1, m=1, T=1, and widths past a vector's lanes
SHAPES = [(1, 1, 1, 1), (3, 1, 4, 5), (1, 3, 1, 4), (3, 2, 3, 1), (2, 4, 5, 6), (2, 17, 6, 7)]
ORDERS = ["none", "sorted", "unsorted"]


def _cases():
    for n_x, n_a, m, T in SHAPES:
        for order in ORDERS:
            if order == "unsorted" and (m == 1 or T == 1):
                continue  # no order of lengths is unsorted there
            yield pytest.param((n_x, n_a, m, T), order, id=f"{n_x}-{n_a}-{m}-{T}-{order}")


def _lengths(order, m, T, rng):
    """``None``; sorted longest first; or unsorted (the shortest first, a full one last). With
    two examples or more, one has length 1 and one length ``T``; one example alone stops a step
    early (no example runs the last step)."""
    if order == "none":
        return None
    if m == 1:
        return [max(1, T - 1)]
    values = [int(v) for v in rng.integers(1, T + 1, m)]
    values[0], values[-1] = 1, T
    if order == "sorted":
        return sorted(values, reverse=True)
    assert values != sorted(values, reverse=True)
    return values


def _problem(cell, shape, order, dtype, seed=0):
    """Parameters (initialised, then scaled and perturbed so that no gate is near-constant),
    ``x``, initial states, ``da`` and lengths, all in ``dtype``."""
    n_x, n_a, m, T = shape
    rng = np.random.default_rng(seed)
    name = "gru" if cell == "gru-ra" else cell
    p = xrnn.init_parameters(name, n_x, n_a, n_y=3, reset_after=cell == "gru-ra", seed=seed)
    p = {k: (2 * v + rng.normal(0, 0.5, v.shape)).astype(dtype) for k, v in p.items()}
    d = {
        "x": rng.standard_normal((n_x, m, T)),
        "a0": rng.standard_normal((n_a, m)),
        "c0": rng.standard_normal((n_a, m)),
        "da": rng.standard_normal((n_a, m, T)),
    }
    d = {k: v.astype(dtype) for k, v in d.items()}
    return p, d, _lengths(order, m, T, rng)


def _run(cell, p, d, lengths):
    """Forward and backward of one sequence: the outputs (``a``, ``y``, ``c``) and every
    gradient, by name (on copies: nothing is shared between runs)."""
    p = {k: v.copy() for k, v in p.items()}
    x, a0, c0, da = (d[k].copy() for k in ("x", "a0", "c0", "da"))
    if cell == "rnn":
        a, y, caches = xrnn.rnn_forward(x, a0, p, lengths=lengths)
        return {"a": a, "y": y, **xrnn.rnn_backward(da, caches)}
    if cell in ("gru", "gru-ra"):
        a, y, caches = xrnn.gru_forward(x, a0, p, reset_after=cell == "gru-ra", lengths=lengths)
        return {"a": a, "y": y, **xrnn.gru_backward(da, caches)}
    forward, backward = {
        "lstm": (xrnn.lstm_forward, xrnn.lstm_backward),
        "peephole": (xrnn.peephole_forward, xrnn.peephole_backward),
    }[cell]
    a, y, c, caches = forward(x, a0, p, c0=c0, lengths=lengths)
    return {"a": a, "y": y, "c": c, **backward(da, caches)}


@pytest.fixture
def compiled(monkeypatch):
    """Counts of the engine's time loops that ran compiled (``forward``, ``backward``), so that
    a test knows which path it compared."""
    calls = collections.Counter()
    for name in ("forward", "backward"):
        loop = getattr(_kernels, name)

        def spy(*args, _name=name, _loop=loop):
            calls[_name] += 1
            return _loop(*args)

        monkeypatch.setattr(_kernels, name, spy)
    return calls


def _reference_and_fused(monkeypatch, compiled, run):
    """``run()`` on the reference steps (``XRNN_KERNELS=reference``), then on the kernels."""
    monkeypatch.setenv("XRNN_KERNELS", "reference")
    reference = run()
    assert not compiled, "the reference run went through the kernels"
    monkeypatch.delenv("XRNN_KERNELS")
    fused = run()
    assert compiled["forward"] and compiled["backward"], "the kernels did not run"
    return reference, fused


def _assert_equal_to_rounding(fused, reference, dtype):
    """Same keys, dtypes and shapes, and each entry within ``rtol`` of the reference's or
    ``atol`` times the largest of its array (at least 1): a gradient summed over many steps
    carries the rounding of its largest terms (both paths are that far from float64's)."""
    assert fused.keys() == reference.keys()
    for key, want in reference.items():
        got = fused[key]
        assert got.dtype == want.dtype == dtype, (key, got.dtype, want.dtype)
        scale = max(1.0, float(np.abs(want).max(initial=0)))
        rtol, atol = TOL[dtype]["rtol"], TOL[dtype]["atol"] * scale
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=key)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize(("shape", "order"), list(_cases()))
def test_fused_sequence_is_the_reference(monkeypatch, compiled, cell, dtype, shape, order):
    """One sequence, forward and backward: the outputs and every gradient of the kernels are
    the reference steps' to rounding, for every cell, dtype, edge shape and order of lengths."""
    p, d, lengths = _problem(cell, shape, order, dtype)
    reference, fused = _reference_and_fused(
        monkeypatch, compiled, lambda: _run(cell, p, d, lengths)
    )
    _assert_equal_to_rounding(fused, reference, dtype)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("cell", CELLS)
def test_fused_is_the_reference_split_into_chunks(monkeypatch, compiled, cell, order):
    """With the reference's steps split into one chunk per row (a tiny cache), the kernels,
    which take every row at once, still give its outputs and gradients."""
    monkeypatch.setattr(_engine, "CACHE_BYTES", 8)  # one float64: a chunk per row, any width
    assert len(_engine.chunks(np.zeros((5, 1)), 1, np)) == 5
    p, d, lengths = _problem(cell, (3, 4, 5, 6), order, np.float64, seed=1)
    reference, fused = _reference_and_fused(
        monkeypatch, compiled, lambda: _run(cell, p, d, lengths)
    )
    _assert_equal_to_rounding(fused, reference, np.float64)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("cell", CELLS)
def test_fused_in_row_blocks_on_threads_is_the_reference(monkeypatch, compiled, cell, order):
    """With the rows split into blocks, each a time loop on a thread of its own (as under
    load), and the big products split the same way, the kernels still give the reference's
    outputs and gradients."""
    monkeypatch.setattr(_threads, "MIN_ROWS", 1)
    monkeypatch.setattr(_threads, "MIN_WORK", 1)
    monkeypatch.setattr(_threads, "MIN_BLOCK", 1)
    token = _threads._WORKERS.set(3)  # what the policy sets under load, 3 blocks
    try:
        p, d, lengths = _problem(cell, (3, 4, 7, 6), order, np.float64, seed=3)
        reference, fused = _reference_and_fused(
            monkeypatch, compiled, lambda: _run(cell, p, d, lengths)
        )
    finally:
        _threads._WORKERS.reset(token)
    _assert_equal_to_rounding(fused, reference, np.float64)


def test_fused_backward_takes_a_memmap_da(monkeypatch, compiled, tmp_path):
    """A ``da`` that is an ndarray subclass (a memmap of gradients on disk) gives the
    reference's gradients."""
    p, d, lengths = _problem("lstm", (3, 4, 5, 6), "unsorted", np.float64)
    da = np.memmap(tmp_path / "da", dtype=np.float64, mode="w+", shape=d["da"].shape)
    da[...] = d["da"]
    d["da"] = da
    reference, fused = _reference_and_fused(
        monkeypatch, compiled, lambda: _run("lstm", p, d, lengths)
    )
    _assert_equal_to_rounding(fused, reference, np.float64)


def _run_layers(cell, p, d, lengths):
    """Two bidirectional layers, forward and backward: outputs, final states, every gradient."""
    p = {k: v.copy() for k, v in p.items()}
    x, a0, c0, da, da_n, dc_n = (d[k].copy() for k in ("x", "a0", "c0", "da", "da_n", "dc_n"))
    kw = {"num_layers": 2, "bidirectional": True, "a0": a0, "lengths": lengths}
    if cell == "rnn":
        a, a_n, cache = xrnn.rnn_layers(x, p, **kw)
        return {"a": a, "a_n": a_n, **xrnn.rnn_layers_backward(da, cache, da_n)}
    if cell in ("gru", "gru-ra"):
        a, a_n, cache = xrnn.gru_layers(x, p, reset_after=cell == "gru-ra", **kw)
        return {"a": a, "a_n": a_n, **xrnn.gru_layers_backward(da, cache, da_n)}
    forward, backward = {
        "lstm": (xrnn.lstm_layers, xrnn.lstm_layers_backward),
        "peephole": (xrnn.peephole_layers, xrnn.peephole_layers_backward),
    }[cell]
    a, (a_n, c_n), cache = forward(x, p, c0=c0, **kw)
    return {"a": a, "a_n": a_n, "c_n": c_n, **backward(da, cache, da_n, dc_n)}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("cell", CELLS)
def test_fused_layers_are_the_reference(monkeypatch, compiled, cell, dtype):
    """Two bidirectional layers with unsorted lengths (the reverse direction reads each example
    from its own end): outputs, final states and every gradient, from gradients reaching the
    outputs and the final states, are the reference's to rounding."""
    n_x, n_a, m, T = 3, 4, 5, 6
    rng = np.random.default_rng(2)
    name = "gru" if cell == "gru-ra" else cell
    p = xrnn.init_parameters(
        name, n_x, n_a, num_layers=2, bidirectional=True, reset_after=cell == "gru-ra", seed=2
    )
    p = {k: (2 * v + rng.normal(0, 0.5, v.shape)).astype(dtype) for k, v in p.items()}
    shapes = {"x": (n_x, m, T), "da": (2 * n_a, m, T)}
    shapes.update({k: (4, n_a, m) for k in ("a0", "c0", "da_n", "dc_n")})
    d = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
    lengths = [3, 6, 1, 4, 6]
    reference, fused = _reference_and_fused(
        monkeypatch, compiled, lambda: _run_layers(cell, p, d, lengths)
    )
    assert compiled["forward"] == compiled["backward"] == 4  # 2 layers, 2 directions
    _assert_equal_to_rounding(fused, reference, dtype)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "peephole"])
def test_steps_chooses_the_kernels_for_numpy_floats_only(monkeypatch, cell):
    """The kernel module for NumPy float32 and float64 arrays (the LSTM's for the peephole
    LSTM); None with ``XRNN_KERNELS=reference``, and for integer or float16 arrays."""
    from xrnn._cell import CELLS as REGISTERED

    monkeypatch.delenv("XRNN_KERNELS", raising=False)
    own = REGISTERED[cell]
    expected = f"xrnn._kernels.{'lstm' if cell == 'peephole' else cell}"
    for dtype in DTYPES:
        assert _kernels.steps(own, np.zeros((2, 3, 4), dtype)).__name__ == expected
    for dtype in (np.int64, np.int32, np.float16):
        assert _kernels.steps(own, np.zeros((2, 3, 4), dtype)) is None
    monkeypatch.setenv("XRNN_KERNELS", "reference")
    assert _kernels.steps(own, np.zeros((2, 3, 4))) is None
    monkeypatch.setenv("XRNN_KERNELS", "Reference")
    assert _kernels.steps(own, np.zeros((2, 3, 4))) is None


def test_steps_refuses_a_cell_that_is_not_xrnns(monkeypatch):
    """A cell of the caller's own, even a copy of one of xrnn's under its own name or under
    xrnn's name, runs the reference steps."""
    monkeypatch.delenv("XRNN_KERNELS", raising=False)
    x = np.zeros((2, 3, 4))
    assert _kernels.steps(dataclasses.replace(xrnn.lstm.CELL, name="mine"), x) is None
    assert _kernels.steps(dataclasses.replace(xrnn.lstm.CELL), x) is None


def test_steps_refuses_torch_tensors(monkeypatch):
    """A torch tensor, even a float32 one on the CPU, runs the reference steps."""
    torch = pytest.importorskip("torch")
    monkeypatch.delenv("XRNN_KERNELS", raising=False)
    assert _kernels.steps(xrnn.lstm.CELL, torch.zeros((2, 3, 4), dtype=torch.float32)) is None
    assert _kernels.time_major(torch.zeros((2, 3, 4), dtype=torch.float32)) is None


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_time_major_is_numpys_copy(monkeypatch, dtype):
    """The compiled copy into ``(T, m, w)`` is NumPy's, bit for bit, for an odd ``T`` (a last
    block of fewer than 8 steps) and a strided input; None for an array already in that order
    and with ``XRNN_KERNELS=reference``."""
    monkeypatch.delenv("XRNN_KERNELS", raising=False)
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 4, 13)).astype(dtype)
    for v in (a, a[:, ::2, :], a[::-1, :, 1:]):
        got = _kernels.time_major(v)
        want = np.ascontiguousarray(v.transpose(2, 1, 0))
        assert got.dtype == dtype and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)
    already = np.ascontiguousarray(a.transpose(2, 1, 0)).transpose(2, 1, 0)
    assert _kernels.time_major(already) is None
    monkeypatch.setenv("XRNN_KERNELS", "reference")
    assert _kernels.time_major(a) is None


def _elementwise(f):
    """A compiled loop applying the kernels' scalar function ``f`` to each entry of an array,
    with the kernels' own compile options (not cached: it is the test's)."""

    @numba.njit(**{**_math.OPTIONS, "cache": False})
    def apply(z):
        out = np.empty_like(z)
        for i in range(z.size):
            out[i] = f(z[i])
        return out

    return apply


EXP, SIGMOID, TANH = (_elementwise(f) for f in (_math.exp, _math.sigmoid, _math.tanh))
EDGES = {np.float64: [0.0, 700, -700, 1000, -1000], np.float32: [0.0, 80, -80, 100, -100]}


def _ulps(got, want, dtype, floor=0.0):
    """``|got - want|`` in units of the last place in ``dtype`` of ``max(|want|, floor)``;
    ``want`` computed in float64."""
    scale = np.spacing(np.maximum(np.abs(want), floor).astype(dtype)).astype(np.float64)
    return np.abs(got.astype(np.float64) - want) / scale


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_scalar_math_is_numpys_to_a_few_ulps(dtype):
    """On [-50, 50] (and densely near 0), ``exp`` and the sigmoid are within a few ulps of
    NumPy's, computed in float64, and tanh within a few ulps of ``max(|tanh|, 1/2)``: its
    ``2 / (1 + exp(-2z)) - 1``, as :mod:`xrnn.activations` computes it, is accurate to an ulp
    of 1 near 0, not to an ulp of the result."""
    rng = np.random.default_rng(4)
    z = np.concatenate([rng.uniform(-50, 50, 100_000), rng.uniform(-1, 1, 20_000)]).astype(dtype)
    z64 = z.astype(np.float64)
    for f in (EXP, SIGMOID, TANH):
        assert f(z).dtype == dtype
    assert _ulps(EXP(z), np.exp(z64), dtype).max() <= 4
    assert _ulps(SIGMOID(z), 1 / (1 + np.exp(-z64)), dtype).max() <= 6
    assert _ulps(TANH(z), np.tanh(z64), dtype, floor=0.5).max() <= 6


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_scalar_math_at_the_edges(dtype):
    """Far out (``exp`` past its range for the dtype) nothing overflows: ``exp`` is finite and
    positive, the sigmoid in [0, 1] and tanh in [-1, 1], both at their limits; at 0 they are
    exact; NaN in gives NaN out."""
    z = np.array(EDGES[dtype], dtype)
    e, s, t = EXP(z), SIGMOID(z), TANH(z)
    assert np.isfinite(e).all() and (e > 0).all()
    assert ((s >= 0) & (s <= 1)).all() and ((t >= -1) & (t <= 1)).all()
    assert (e[0], s[0], t[0]) == (1, 0.5, 0)
    big = np.abs(z) >= 80
    np.testing.assert_allclose(s[big], (z[big] > 0).astype(dtype), rtol=0, atol=1e-30)
    np.testing.assert_array_equal(t[big], np.sign(z[big]))
    if dtype is np.float64:  # ±700 is within float64's range: NumPy's to a few ulps there
        assert _ulps(e[1:3], np.exp(z[1:3]), dtype).max() <= 4
    nan = np.array([np.nan, 1.0, np.nan], dtype)
    for f in (EXP, SIGMOID, TANH):
        out = f(nan)
        assert np.isnan(out[[0, 2]]).all() and not np.isnan(out[1])


@pytest.mark.parametrize("cell", CELLS)
def test_a_step_is_a_few_calls(monkeypatch, cell):
    """A compiled time step, forward and backward together, is its products (``np.matmul``
    into buffers of the pass) and its kernels: 4 calls, 8 in the GRU's course form, whose
    candidate's product comes between two kernels each way (with the slices that name their
    rows, 8 and 14 array operations a step)."""
    monkeypatch.delenv("XRNN_KERNELS", raising=False)
    shape, T = (2, 3, 4, 6), 6
    p, d, _ = _problem(cell, shape, "none", np.float64)
    counts = collections.Counter()
    matmul = np.matmul
    monkeypatch.setattr(np, "matmul", lambda *a, **k: counts.update(["matmul"]) or matmul(*a, **k))
    module = _kernels.steps(_cell(cell), np.ones(1))
    for name in dir(module):
        f = getattr(module, name)
        if isinstance(f, numba.core.registry.CPUDispatcher):
            monkeypatch.setattr(module, name, _counted(f, counts))
    _run(cell, p, d, None)
    assert sum(counts.values()) == (8 if cell == "gru" else 4) * T, counts


def _counted(f, counts):
    return lambda *args: counts.update(["kernel"]) or f(*args)


def _cell(cell):
    return xrnn._cell.CELLS["gru" if cell == "gru-ra" else cell]

"""Hostile arguments to the rest of the public API (the issue's item 11): layer parameters for
layers or directions the call does not run, ``init_parameters`` options, seeds, ids out of the
vocabulary in ``data.batches``, and ``charmodel.generate``'s ``n`` and ``prefix``. Each is a
TypeError or ValueError naming the function and the argument, or the right result."""

import numpy as np
import pytest

import xrnn
from xrnn import charmodel, data
from xrnn._host import permutation

LAYERS = {"rnn": xrnn.rnn_layers, "lstm": xrnn.lstm_layers, "gru": xrnn.gru_layers}


def _layer_params(backend, cell, **kw):
    return xrnn.init_parameters(cell, 3, 4, seed=0, xp=backend.xp, device=backend.device, **kw)


@pytest.mark.parametrize("cell", LAYERS)
@pytest.mark.parametrize(
    "made, used, unused",
    [
        ({"num_layers": 2}, {"num_layers": 1}, "_l1'"),
        ({"num_layers": 1, "bidirectional": True}, {}, "_l0_reverse'"),
        ({"num_layers": 3, "bidirectional": True}, {"num_layers": 2, "bidirectional": True}, "_l2"),
    ],
    ids=["unused-layer", "unused-direction", "unused-both"],
)
def test_layer_keys_that_the_call_does_not_use(backend, cell, made, used, unused):
    p = _layer_params(backend, cell, **made)
    x = backend.asarray(np.ones((3, 2, 5)))
    with pytest.raises(
        ValueError, match=rf"{cell}_layers: parameters has layer keys that num_layers=.*{unused}"
    ):
        LAYERS[cell](x, p, **used)


def test_a_misspelt_layer_key(backend):
    p = _layer_params(backend, "lstm", num_layers=1)
    p["Wq_l0"] = p["Wf_l0"]
    with pytest.raises(ValueError, match=r"lstm_layers: parameters has layer keys .*: 'Wq_l0'"):
        xrnn.lstm_layers(backend.asarray(np.ones((3, 2, 5))), p)


@pytest.mark.parametrize("key", ["bfa_10", "bfa_l0_rev", "Wf_L0", "wf_l0"])
def test_a_misspelt_optional_key_is_not_dropped(backend, key):
    p = _layer_params(backend, "lstm", num_layers=1)
    p[key] = p["bf_l0"]
    with pytest.raises(ValueError, match=rf"do not use: '{key}'"):
        xrnn.lstm_layers(backend.asarray(np.ones((3, 2, 5))), p)


def test_the_output_layer_keys_are_not_layer_keys(backend):
    p = _layer_params(backend, "gru", num_layers=1, n_y=2)
    a, _, _ = xrnn.gru_layers(backend.asarray(np.ones((3, 2, 5))), p)
    backend.assert_array(a, "float64", (4, 2, 5))


@pytest.mark.parametrize("cell", LAYERS)
def test_bidirectional_without_num_layers_is_one_bidirectional_layer(backend, cell):
    p = _layer_params(backend, cell, bidirectional=True, n_y=2)
    q = _layer_params(backend, cell, bidirectional=True, num_layers=1, n_y=2)
    assert set(p) == set(q) and f"{'Wax' if cell == 'rnn' else 'Wc'}_l0_reverse" in p
    backend.assert_close(p, {k: backend.to_numpy(v) for k, v in q.items()}, rtol=0, atol=0)
    backend.assert_array(p["Wy"], "float64", (2, 8))
    a, _, _ = LAYERS[cell](backend.asarray(np.ones((3, 2, 5))), p, bidirectional=True)
    backend.assert_array(a, "float64", (8, 2, 5))


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "complex128"])
def test_init_parameters_refuses_a_dtype_that_is_not_real_floating(backend, dtype):
    if not hasattr(backend.xp, dtype):
        pytest.skip(f"{backend.name} has no {dtype}")
    with pytest.raises(TypeError, match=r"init_parameters: dtype must be a real floating dtype"):
        xrnn.init_parameters("lstm", 3, 4, xp=backend.xp, dtype=backend.dtype(dtype))


def test_init_parameters_refuses_a_dtype_that_is_no_dtype(backend):
    with pytest.raises(TypeError, match=r"init_parameters: dtype must be .*; got 'float32'"):
        xrnn.init_parameters("lstm", 3, 4, xp=backend.xp, dtype="float32")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"bidirectional": "yes"}, TypeError, r"bidirectional must be True or False; got 'yes'"),
        ({"reset_after": 1}, TypeError, r"reset_after must be True or False; got 1"),
        ({"reset_after": True}, ValueError, r"reset_after=True is the GRU's form; got cell 'lstm'"),
    ],
    ids=["bidirectional", "reset_after-type", "reset_after-cell"],
)
def test_init_parameters_refuses_options_it_would_ignore(kwargs, error, message):
    with pytest.raises(error, match=rf"init_parameters: {message}"):
        xrnn.init_parameters("lstm", 3, 4, **kwargs)


SEEDS = [
    (-1, ValueError, r"-1"),
    ([3, -2], ValueError, r"\[3, -2\]"),
    (1.5, TypeError, r"1.5"),
    ("7", TypeError, r"'7'"),
    (True, TypeError, r"True"),
]
SEED_IDS = ["negative", "negative-in-a-list", "float", "str", "bool"]


def _model(backend):
    model = charmodel.Model("lstm", 1, 6, 4)
    return model, model.init(seed=0, xp=backend.xp, device=backend.device)


@pytest.mark.parametrize("seed, error, got", SEEDS, ids=SEED_IDS)
def test_a_bad_seed_of_init_parameters(seed, error, got):
    with pytest.raises(
        error, match=rf"init_parameters: seed must be None, an int >= 0.*; got {got}"
    ):
        xrnn.init_parameters("rnn", 3, 4, seed=seed)


@pytest.mark.parametrize("seed, error, got", SEEDS, ids=SEED_IDS)
def test_a_bad_seed_of_generate(backend, seed, error, got):
    model, params = _model(backend)
    with pytest.raises(error, match=rf"generate: seed must be None, an int >= 0.*; got {got}"):
        charmodel.generate(model, params, data.Vocab("abc"), seed=seed)


def test_a_bad_seed_of_a_permutation():
    with pytest.raises(ValueError, match=r"permutation: seed must be .*; got \[-1, 0\]"):
        permutation([-1, 0], 5)


def test_good_seeds_are_as_before():
    expected = np.random.default_rng([3, 0]).permutation(5)
    np.testing.assert_array_equal(permutation([3, 0], 5), expected)
    np.testing.assert_array_equal(
        permutation(np.int64(3), 5), np.random.default_rng(3).permutation(5)
    )
    rng = np.random.default_rng(1)
    assert xrnn.init_parameters("rnn", 2, 2, seed=rng)["Wax"].shape == (2, 2)


@pytest.mark.parametrize(
    "ids, order, kwargs, message",
    [
        ([[1, 2], [3, 4]], [0, 1], {}, r"ids must be ints in 0..vocab_size-1 = 0..3; got 4"),
        ([[1, -1]], [0], {}, r"ids must be ints in 0..vocab_size-1 = 0..3; got -1"),
        ([[1, 2]], [1], {}, r"order must be ints in 0..len\(ids\)-1 = 0..0; got 1"),
        ([[1, 2]], [-1], {}, r"order must be ints in 0..len\(ids\)-1 = 0..0; got -1"),
        ([[1, 2]], [0], {"batch_size": 0}, r"batch_size must be a positive int; got 0"),
        ([[1, 2]], [0], {"vocab_size": 0}, r"vocab_size must be a positive int; got 0"),
    ],
    ids=["id-too-large", "negative-id", "order-too-large", "negative-order", "batch", "vocab"],
)
def test_batches_refuse_ids_out_of_the_vocabulary(backend, ids, order, kwargs, message):
    args = {"batch_size": 2, "vocab_size": 4, **kwargs}
    with pytest.raises(ValueError, match=rf"batches: {message}"):
        data.batches(ids, args["batch_size"], order, args["vocab_size"], backend.xp)


def test_decode_refuses_ids_out_of_the_vocabulary():
    with pytest.raises(ValueError, match=r"Vocab.decode: ids must be ints .* = 0..3; got -1, 7"):
        data.Vocab("abc").decode([1, -1, 7])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n": 0}, ValueError, r"n must be a positive int; got 0"),
        ({"n": -2}, ValueError, r"n must be a positive int; got -2"),
        ({"n": 2.0}, ValueError, r"n must be a positive int; got 2.0"),
        ({"max_len": 0}, ValueError, r"max_len must be a positive int; got 0"),
        ({"prefix": "ab\n"}, ValueError, r"prefix must not hold the end character '\\n'"),
        ({"prefix": "\n"}, ValueError, r"prefix must not hold the end character '\\n'"),
        ({"prefix": "abz"}, ValueError, r"prefix has characters not in the vocabulary: 'z'"),
        ({"prefix": None}, TypeError, r"prefix must be a str; got NoneType"),
    ],
    ids=[
        "n-zero",
        "n-negative",
        "n-float",
        "max_len",
        "prefix-end",
        "prefix-only-end",
        "prefix-unknown",
        "prefix-none",
    ],
)
def test_generate_refuses_bad_arguments(backend, kwargs, error, message):
    model, params = _model(backend)
    with pytest.raises(error, match=rf"generate: {message}"):
        charmodel.generate(model, params, data.Vocab("abc"), **kwargs)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "peephole"])
def test_a0_none_is_a_clear_error(backend, cell):
    p = backend.asarray(xrnn.init_parameters(cell, 3, 4, n_y=2, seed=0))
    with pytest.raises(TypeError, match=rf"{cell}_forward: a0 must be an array \(n_a, m\)"):
        getattr(xrnn, f"{cell}_forward")(backend.asarray(np.ones((3, 2, 5))), None, p)


@pytest.mark.parametrize("make", ["SGD", "Adam"])
def test_optimisers_refuse_no_parameters(make):
    with pytest.raises(ValueError, match=f"{make}: parameters must hold at least one array"):
        getattr(xrnn.optim, make)({})
    with pytest.raises(ValueError, match="clip_by_value: grads must hold at least one array"):
        xrnn.optim.clip_by_value({}, 1.0)


def test_sgd_momentum_does_not_keep_the_callers_gradient():
    p = {"W": np.zeros(3)}
    opt = xrnn.optim.SGD(p, lr=1.0, momentum=0.9)
    g = np.ones(3)
    opt.step({"dW": g})
    g[:] = 2.0
    opt.step({"dW": g})
    np.testing.assert_allclose(p["W"], -3.9)  # torch.optim.SGD's: -1, then -(0.9 + 2)


def test_optimiser_state_must_be_finite():
    p = {"W": np.zeros(3)}
    opt = xrnn.optim.Adam(p)
    opt.step({"dW": np.ones(3)})
    state = opt.state_dict()
    state["exp_avg_sq"] = {"W": np.array([1.0, -1.0, 1.0])}
    with pytest.raises(ValueError, match=r"state\['exp_avg_sq'\]\['W'\] must be finite and >= 0"):
        xrnn.optim.Adam(p).load_state_dict(state)
    state["exp_avg_sq"] = {"W": np.ones(3)}
    state["exp_avg"] = {"W": np.array([np.nan, 0.0, 0.0])}
    with pytest.raises(ValueError, match=r"state\['exp_avg'\]\['W'\] must be finite"):
        xrnn.optim.Adam(p).load_state_dict(state)


def test_sampling_at_a_tiny_temperature_is_greedy():
    from xrnn import _host

    rng = np.random.default_rng(0)
    assert _host.categorical(rng, np.array([[0.0, 3.0, 1.0]]), temperature=1e-320) == [1]


def test_read_corpus_refuses_a_file_descriptor():
    from xrnn import data

    with pytest.raises(TypeError, match="read_corpus: path must be a str or a path; got int"):
        data.read_corpus(1)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"temperature": "hot"}, TypeError, "generate: temperature must be a number"),
        ({"temperature": float("inf")}, ValueError, "temperature must be positive and finite"),
        ({"vocab": "abc"}, TypeError, "generate: vocab must be a data.Vocab"),
        ({"params": {}}, ValueError, "generate: params must be the model's"),
    ],
    ids=["temperature-str", "temperature-inf", "vocab-str", "no-output-layer"],
)
def test_generate_refuses_what_it_cannot_use(kwargs, error, message):
    from xrnn import charmodel, data

    vocab = data.Vocab("abc")
    model = charmodel.Model("lstm", 1, 4, len(vocab))
    args = {"model": model, "params": model.init(seed=0), "vocab": vocab, **kwargs}
    with pytest.raises(error, match=message):
        charmodel.generate(**args)


@pytest.mark.parametrize(
    "args, message",
    [
        (({"W": [1.0]}, {"steps": 0}, {}), r"params\['W'\] must be an array; got list"),
        (({"W": np.zeros(2)}, None, {}), "optimizer_state must be a dict; got NoneType"),
        (({"W": np.zeros(2)}, {"steps": 0}, {"x": {1}}), "meta must be JSON-serialisable"),
    ],
    ids=["list-param", "no-state", "meta-set"],
)
def test_checkpoint_save_refuses_what_it_cannot_write(tmp_path, args, message):
    from xrnn import checkpoint

    with pytest.raises(TypeError, match=message):
        checkpoint.save(tmp_path / "c.npz", *args)
    assert not list(tmp_path.iterdir())

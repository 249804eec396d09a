"""Hostile input, optimisers and clipping: hyperparameters that are not finite or out of
their range, gradients of another shape (never broadcast), dtype or type, state dicts with
foreign, missing or misshapen slots, and clipping limits that would flip or flatten every
gradient: each a clear error naming the argument, and nothing changed by a refused call."""

import numpy as np
import pytest
from test_train import _grads, _params

from xrnn import optim


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

"""``xrnn.nn`` on every backend: a module in the backend's namespace (on its device) gives
the NumPy module's outputs and gradients, its state dict stays in its library, and ``to``
moves it between devices."""

import numpy as np
import pytest

from xrnn import nn


@pytest.mark.parametrize("make", [nn.RNN, nn.LSTM, nn.GRU, nn.PeepholeLSTM])
def test_a_module_on_the_backend_is_the_numpy_module(backend, make):
    kw = {"num_layers": 2, "bidirectional": True, "batch_first": True, "seed": 0}
    ours = make(3, 4, xp=backend.xp, device=backend.device, **kw)
    reference = make(3, 4, **kw)
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    out, _, cache = ours(backend.asarray(x), lengths=[5, 3])
    want, _, want_cache = reference(x, lengths=[5, 3])
    backend.assert_close(out, want, rtol=1e-12, atol=1e-14)
    grads = ours.backward(backend.xp.ones_like(out), cache)
    backend.assert_close(grads, reference.backward(np.ones_like(want), want_cache), rtol=1e-10)
    state = ours.state_dict()
    backend.assert_close(state, reference.state_dict(), rtol=0, atol=0)
    ours.load_state_dict(reference.state_dict())  # NumPy arrays in, the backend's kept
    for value in ours.parameters.values():
        backend.assert_array(value, "float64")


def test_linear_and_cross_entropy_on_the_backend(backend):
    linear = nn.Linear(4, 3, xp=backend.xp, device=backend.device, seed=0)
    x = np.random.default_rng(1).standard_normal((5, 2, 4))
    y, cache = linear(backend.asarray(x))
    want, _ = nn.Linear(4, 3, seed=0)(x)
    backend.assert_close(y, want, rtol=1e-12)
    targets = backend.xp.asarray(np.zeros((5, 2), dtype=np.int64), device=backend.device)
    loss, loss_cache = nn.CrossEntropy()(y, targets)
    backend.assert_array(loss, "float64", ())
    grads = linear.backward(nn.CrossEntropy().backward(loss_cache), cache)
    assert set(grads) == {"dweight", "dbias", "dx"}
    backend.assert_array(grads["dx"], "float64", (5, 2, 4))

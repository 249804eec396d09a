"""Stable sigmoid and softmax: finite, correct and silent (warnings are errors) at |z| = 1e4."""

import math

import numpy as np
import pytest

import xrnn


def _expit(z):
    return math.exp(z) / (1 + math.exp(z)) if z < 0 else 1 / (1 + math.exp(-z))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_at_large_magnitudes(backend, dtype):
    z = np.array([-1e4, -745.0, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1e4])
    s = xrnn.sigmoid(backend.asarray(z, dtype))
    backend.assert_array(s, dtype, z.shape)
    expected = np.array([_expit(v) for v in z.astype(dtype).astype(float)])
    tiny = np.finfo(dtype).tiny  # values below it flush to zero or lose digits, as they must
    np.testing.assert_allclose(
        backend.to_numpy(s), expected, rtol=4 * np.finfo(dtype).eps, atol=tiny
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_at_large_magnitudes(backend, dtype):
    z = np.array([[1e4, -1e4, 0.0], [0.0, 1e4, 1e4], [-1e4, 1e4, 1e4 - 1.0]])
    s = backend.to_numpy(xrnn.softmax(backend.asarray(z, dtype)))
    e = 1 / (1 + math.exp(-1.0))
    expected = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, e], [0.0, 0.5, 1 - e]])
    np.testing.assert_allclose(s, expected, rtol=0, atol=4 * np.finfo(dtype).eps)
    np.testing.assert_allclose(s.sum(axis=0), 1.0, rtol=4 * np.finfo(dtype).eps)


def test_softmax_normalises_over_axis_0(backend):
    z = np.random.default_rng(0).standard_normal((4, 3, 5))
    s = backend.to_numpy(xrnn.softmax(backend.asarray(z)))
    np.testing.assert_allclose(s.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(s, np.exp(z) / np.exp(z).sum(axis=0), rtol=1e-12)

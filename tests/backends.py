"""The backends the tests run on, and helpers to move NumPy data onto them and compare results.

A backend name is ``numpy``, ``array_api_strict``, ``array_api_strict:device1`` (a second fake
device), ``torch`` (CPU tensors through array-api-compat) or ``cupy``; ``jax`` (CPU, float64
enabled), whose arrays refuse in-place writes, is loaded by the tests that need it.
"""

import importlib
from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np
import pytest

ALL = ("numpy", "array_api_strict", "array_api_strict:device1", "torch", "jax", "cupy")


@dataclass
class Backend:
    name: str
    xp: Any  # the array API namespace
    device: Any

    def asarray(self, a, dtype="float64"):
        """NumPy data (or a nested tuple/list/dict of it) on this backend, in ``dtype``."""
        if isinstance(a, dict):
            return {k: self.asarray(v, dtype) for k, v in a.items()}
        if isinstance(a, tuple | list):
            return type(a)(self.asarray(v, dtype) for v in a)
        if not isinstance(a, np.ndarray):
            return a
        return self.xp.asarray(np.asarray(a, dtype=dtype), device=self.device)

    def to_numpy(self, a):
        if self.name == "cupy":
            return a.get()
        if self.name == "torch":
            return a.detach().cpu().numpy()
        if self.name.startswith("array_api_strict"):
            return np.asarray(a.to_device(self.xp.Device("CPU_DEVICE")))
        return np.asarray(a)

    @property
    def writable(self):
        """Whether its arrays take in-place writes (JAX's do not)."""
        return self.name != "jax"

    def dtype(self, name):
        return getattr(self.xp, name)

    def assert_array(self, a, dtype="float64", shape=None):
        """``a`` is an array of this backend's namespace, on its device, in ``dtype``."""
        assert array_api_compat.array_namespace(a) is self.xp, type(a)
        assert a.dtype == self.dtype(dtype), (a.dtype, dtype)
        assert array_api_compat.device(a) == self.device, array_api_compat.device(a)
        if shape is not None:
            assert tuple(a.shape) == tuple(shape), (tuple(a.shape), shape)

    def assert_close(self, got, expected, rtol=1e-9, atol=1e-13, path="result"):
        """Nested results agree with NumPy ``expected``: arrays of this backend (namespace,
        dtype, device, shape) equal to ``rtol``; dicts on the expected keys."""
        if isinstance(expected, dict):
            assert isinstance(got, dict), f"{path}: {type(got)}"
            assert set(expected) <= set(got), f"{path}: missing {set(expected) - set(got)}"
            for k in expected:
                self.assert_close(got[k], expected[k], rtol, atol, f"{path}[{k!r}]")
        elif isinstance(expected, tuple | list):
            assert isinstance(got, tuple | list), f"{path}: {type(got)}"
            assert len(got) == len(expected), f"{path}: length {len(got)} != {len(expected)}"
            for i, (g, e) in enumerate(zip(got, expected, strict=True)):
                self.assert_close(g, e, rtol, atol, f"{path}[{i}]")
        else:
            self.assert_array(got, str(expected.dtype), expected.shape)
            np.testing.assert_allclose(
                self.to_numpy(got), expected, rtol=rtol, atol=atol, err_msg=path
            )


def finite_differences(backend):
    """Skips a finite-difference check on JAX: in eager JAX, every perturbed element's forward
    pass is hundreds of dispatches and copies (these checks would take 20 minutes). Its
    gradients are held to NumPy's instead (tests/test_jax.py and every backend test),
    which these checks prove on NumPy, PyTorch and array-api-strict."""
    if backend.name == "jax":
        pytest.skip("finite differences in eager JAX: its gradients are held to NumPy's")


def replaced(params, inputs, prefix=""):
    """``params`` with the arrays of ``inputs`` (a functional gradcheck's, named ``prefix`` and
    the parameter's key) in place of theirs."""
    return {k: inputs.get(prefix + k, v) for k, v in params.items()}


def load(name):
    """The backend called ``name``, or a pytest skip saying why it is unavailable."""
    if name == "numpy":
        return Backend(name, array_api_compat.array_namespace(np.empty(0)), "cpu")
    if name.startswith("array_api_strict"):
        xp = pytest.importorskip("array_api_strict")
        device = xp.Device(name.partition(":")[2] or "CPU_DEVICE")
        return Backend(name, xp, device)
    if name == "torch":
        torch = pytest.importorskip("torch", reason="torch is not installed")
        return Backend(name, array_api_compat.array_namespace(torch.empty(0)), torch.device("cpu"))
    if name == "jax":
        jax = pytest.importorskip("jax", reason="jax is not installed")
        jax.config.update("jax_enable_x64", True)
        return Backend(name, jax.numpy, jax.devices("cpu")[0])
    if name == "cupy":
        try:
            cupy = importlib.import_module("cupy")
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as e:  # ImportError, or CUDA's own error without a driver
            pytest.skip(f"cupy backend unavailable: {type(e).__name__}: {e}".splitlines()[0])
        if count == 0:
            pytest.skip("cupy backend unavailable: no CUDA device")
        xp = array_api_compat.array_namespace(cupy.empty(0))
        return Backend(name, xp, cupy.cuda.Device(0))
    raise ValueError(f"unknown backend {name!r}; choose from {', '.join(ALL)}")

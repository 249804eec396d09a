"""Compiled steps: each cell's elementwise work of a step as one kernel each way (numba), for
NumPy arrays on the CPU. The array-API steps of the cells stay the reference, and the path on
every other backend; :func:`steps` is the one place that chooses, and ``XRNN_KERNELS=reference``
turns the kernels off.

A cell's kernel module has three functions. ``weights(w, n, dtype)``: what its kernels take of
the engine's weights ``w`` besides ``Wh``, once per pass (``own``). ``forward(own, t, rows,
mask, Z, ZH, S, V, Q)``: step ``t`` from ``zx`` (``x Wx^T`` in ``Z[t]``: the kernel adds the
bias ``b``, which saves a pass over all of ``Z``) and ``zh`` in ``ZH``, the new states and
what the step saves written into the engine's buffers ``S``, ``Z``, ``V``
(:mod:`xrnn._engine`). ``backward(own, t, rows, mask, Z, DH, S, V, dA, P, D, Q)``:
``dJ/dzx`` written over ``Z[t]`` (a tail's ``dJ/dzh`` into ``DH[t]``); it returns an
``(m, w)`` array whose rows hold ``dJ/dzh`` for the product ``P = dJ/dzh Wh``. The gradient
reaching ``a`` after step ``t`` is ``P + D[0] + dA[t]`` (``D[0]`` the part that does not come
through ``Wh``), that reaching ``c`` is ``D[1]``. A call works on the rows ``lo`` to ``hi`` of
``rows = (lo, hi, k)`` only, so that blocks of rows run on threads of their own
(:func:`xrnn._kernels._threads.parallel`): rows never meet within a time loop. Rows from ``k``
on, or where ``mask[t]`` is false, do not run: zero states forward; backward, zero gradients and
theirs passed on (``D[0] += P``, ``P = 0``). ``Q (m, G)`` is scratch.

Kernels compile on first use and are cached on disk (numba's ``cache=True``).

The same place chooses the engine's time loop (:func:`loop`): JAX's ``lax.scan`` for JAX
arrays (:mod:`xrnn._kernels._scan`), which ``jax.jit`` compiles once for all steps; the
engine's Python loop everywhere else and with ``XRNN_KERNELS=reference``.
"""

import importlib
import os

import array_api_compat
import numpy as np

from . import _threads

__all__ = ["backward", "forward", "loop", "steps", "time_major"]

_MODULES = {"rnn": "rnn", "lstm": "lstm", "peephole": "lstm", "gru": "gru"}


def steps(cell, x):
    """The kernel module of ``cell`` for arrays like ``x``, or None for the reference steps:
    None unless ``x`` is a float32 or float64 NumPy array, the cell one of xrnn's, numba
    installed and ``XRNN_KERNELS`` not ``reference``."""
    from .._cell import CELLS

    if cell.name not in _MODULES or CELLS.get(cell.name) is not cell:
        return None
    return _module(_MODULES[cell.name], x)


def loop(*arrays):
    """The native time loop for ``arrays`` (:func:`xrnn._kernels._scan.scan`, a
    ``jax.lax.scan``, where one of them is a JAX array, concrete or traced by ``jax.jit``), or
    None for the engine's Python loop; None too with ``XRNN_KERNELS=reference``."""
    if not any(array_api_compat.is_jax_array(a) for a in arrays) or _reference():
        return None
    from ._scan import scan

    return scan


def time_major(a):
    """``a (w, m, T)`` as a new ``(T, m, w)`` array, by a compiled copy (2-3 times faster than
    NumPy's for these strides); None where the kernels do not apply, or where ``a``'s memory
    is already in that order."""
    layout = _module("_layout", a)
    if layout is None or a.ndim != 3 or a.T.flags.c_contiguous:
        return None
    out = np.empty(a.shape[::-1], a.dtype)
    layout.transpose(a, out)
    return out


def _module(name, x):
    """The kernel module ``name`` for arrays like ``x``, or None (see :func:`steps`)."""
    if _reference() or type(x) is not np.ndarray or x.dtype not in (np.float32, np.float64):
        return None
    try:
        return importlib.import_module(f".{name}", __name__)
    except ImportError:  # numba is not installed
        return None


def _reference():
    return os.environ.get("XRNN_KERNELS", "").lower() == "reference"


def forward(kernels, w, S, Z, V, lengths, scan):
    """The forward time loop on the buffers ``S``, ``Z``, ``V`` (:mod:`xrnn._engine`), run by
    the engine's loop driver ``scan``."""
    Wh_T = w["Wh"].T
    ZH = np.empty((Z.shape[1], Wh_T.shape[1]), Z.dtype)
    Q = np.empty(Z.shape[1:], Z.dtype)
    mask = _mask(lengths)
    own = kernels.weights(w, S[0].shape[2], Z.dtype)

    def rows(lo, hi):
        def step(carry, tk):
            t, k = tk
            np.matmul(S[0][t, lo : min(k, hi), :], Wh_T, out=ZH[lo : min(k, hi), :])
            kernels.forward(own, t, (lo, hi, k), mask, Z, ZH, S, V, Q)
            return carry

        scan(step, None, list(enumerate(lengths.running)))

    _threads.parallel(rows, Z.shape[1], Wh_T.size, lengths.running)


def backward(kernels, w, S, Z, V, DH, dA, dS, lengths, scan):
    """The backward time loop from ``dA (T, m, n)``, the outputs' gradients, and ``dS``, those
    reaching the final states (rows ``(m, n)``): ``dJ/dzx`` over ``Z``, the tail's into ``DH``.
    Returns the gradients reaching the initial states."""
    Wh = w["Wh"]
    if type(dA) is not np.ndarray or not dA.flags.c_contiguous:
        copy = time_major(dA.T)
        dA = np.ascontiguousarray(dA) if copy is None else copy
    P = np.zeros((Z.shape[1], Wh.shape[1]), Z.dtype)
    D = [np.array(d, dtype=Z.dtype, order="C") for d in dS]  # new arrays: the kernels add up
    Q = np.empty(Z.shape[1:], Z.dtype)
    mask = _mask(lengths)
    own = kernels.weights(w, S[0].shape[2], Z.dtype)

    def rows(lo, hi):
        def step(carry, tk):
            t, k = tk
            dzh = kernels.backward(own, t, (lo, hi, k), mask, Z, DH, S, V, dA, P, D, Q)
            np.matmul(dzh[lo : min(k, hi), :], Wh, out=P[lo : min(k, hi), :])
            return carry

        scan(step, None, list(enumerate(lengths.running)), reverse=True)

    _threads.parallel(rows, Z.shape[1], Wh.size, lengths.running)
    D[0] += P
    return D


def _mask(lengths):
    """``(T, m)`` booleans: where step ``t`` runs example ``j`` (all true where the count of
    running examples says it, with lengths sorted)."""
    M = lengths.step_masks
    if M is None:
        return np.ones((lengths.T, lengths.m), np.bool_)
    return np.ascontiguousarray(M[:, :, 0])

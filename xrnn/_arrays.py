"""The array helpers every module below the cells uses: the one write, the time-major view and
the dtype of indices; and the names the public API's type hints use."""

from collections.abc import Mapping, Sequence
from typing import Any

import array_api_compat

from . import _kernels

__all__ = ["Array", "Grads", "Lengths", "Params", "index_dtype", "put", "time_major"]

Array = Any  # an array of any array API library (NumPy, CuPy, torch, ...)
Params = Mapping[str, Array]  # parameters by key
Grads = dict[str, Array]  # gradients by key, with a "d" in front
Lengths = Sequence[int] | Array | None  # each example's length


def put(buf, index, value):
    """``buf`` with ``buf[index] = value``: the one write into an existing array in xrnn, whose
    result is always used (``A = put(A, index, value)``). In place where the array allows it;
    a new array where it does not (JAX's, or a read-only NumPy array): :func:`_join_write` where
    ``index`` is one block along one axis, array-api-extra's ``at`` otherwise."""
    try:
        buf[index] = value
    except (TypeError, ValueError):
        if array_api_compat.is_writeable_array(buf):
            raise  # a real error: the value does not fit the index
        joined = _join_write(buf, index, value)
        if joined is not None:
            return joined
        import array_api_extra as xpx  # only immutable arrays need it

        return xpx.at(buf, index).set(value)
    return buf


def _join_write(buf, index, value):
    """``buf`` with ``buf[index] = value`` joined from pieces (``concat``), where ``index`` is
    an integer or a slice of step 1 along one axis, whole along the others, and ``value`` an
    array of that block's shape and ``buf``'s dtype; None otherwise. (Under ``jax.jit`` a join
    fuses with what follows, where the scatter of ``at`` splits a fused pass: the LSTM's
    forward step ran 1.6x slower with it.)"""
    index = index if isinstance(index, tuple) else (index,)
    dots = [i for i, k in enumerate(index) if k is Ellipsis]
    if len(dots) > 1 or not hasattr(value, "shape"):
        return None
    if dots:
        i = dots[0]
        index = index[:i] + (slice(None),) * (buf.ndim - len(index) + 1) + index[i + 1 :]
    index += (slice(None),) * (buf.ndim - len(index))
    axes = [a for a, k in enumerate(index) if not (isinstance(k, slice) and k == slice(None))]
    if len(index) != buf.ndim or len(axes) != 1:
        return None
    axis, k = axes[0], index[axes[0]]
    n = buf.shape[axis]
    xp = array_api_compat.array_namespace(buf)
    if isinstance(k, int) and not isinstance(k, bool) and -n <= k < n:
        k, value = slice(k % n, k % n + 1), xp.expand_dims(value, axis=axis)
    if not isinstance(k, slice) or k.step not in (None, 1):
        return None
    lo, hi, _ = k.indices(n)
    hi = max(hi, lo)
    block = (*buf.shape[:axis], hi - lo, *buf.shape[axis + 1 :])
    if tuple(value.shape) != block or value.dtype != buf.dtype:
        return None
    before, after = (
        buf[(slice(None),) * axis + (piece,)] for piece in (slice(0, lo), slice(hi, n))
    )
    return xp.concat([p for p in (before, value, after) if p.shape[axis]] or [value], axis=axis)


def index_dtype(xp, device):
    """``xp``'s integer dtype for indices on ``device``: int64 (int32 on JAX without x64)."""
    return xp.__array_namespace_info__().default_dtypes(device=device)["indexing"]


def time_major(a, xp):
    """``a (width, m, T)`` as the ``(T*m, width)`` matrix whose rows are steps, then examples:
    a view when ``a`` already has that memory layout, else one copy (a compiled one where
    :mod:`xrnn._kernels` applies)."""
    width, m, T = a.shape
    copy = _kernels.time_major(a)
    return xp.reshape(xp.permute_dims(a, (2, 1, 0)) if copy is None else copy, (T * m, width))

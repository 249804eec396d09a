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
    a new array where it does not (JAX's, or a read-only NumPy array)."""
    try:
        buf[index] = value
    except (TypeError, ValueError):
        if array_api_compat.is_writeable_array(buf):
            raise  # a real error: the value does not fit the index
        import array_api_extra as xpx  # only immutable arrays need it

        return xpx.at(buf, index).set(value)
    return buf


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

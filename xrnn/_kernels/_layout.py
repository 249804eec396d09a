"""A compiled copy into the engine's time-major layout."""

from numba import njit

from ._math import OPTIONS


@njit(**OPTIONS)
def transpose(a, out):
    """``out[t, j, i] = a[i, j, t]``: ``a (w, m, T)`` into ``out (T, m, w)``, in blocks of 8
    steps, each read as one cache line and written as 8 rows that stay in the cache."""
    w, m, T = a.shape
    for j in range(m):
        for t0 in range(0, T, 8):
            for i in range(w):
                for t in range(t0, min(t0 + 8, T)):
                    out[t, j, i] = a[i, j, t]

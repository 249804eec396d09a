"""The RNN's step, compiled: forward beside backward, in the symbols of :mod:`xrnn.rnn`, on
the engine's buffers (see :mod:`xrnn._kernels`)."""

from numba import njit

from ._math import OPTIONS, dtanh, passes_on, tanh


def weights(w, n, dtype):
    """The bias ``b (n,)``."""
    return (w["b"][0],)


def forward(w, t, rows, mask, Z, ZH, S, V, Q):
    _forward(t, rows, mask, Z, ZH, S[0], *w)


def backward(w, t, rows, mask, Z, DH, S, V, dA, P, D, Q):
    _backward(t, rows, mask, Z, S[0], dA, P, D[0])
    return Z[t]


@njit(**OPTIONS)
def _forward(t, rows, mask, Z, ZH, A, b):
    """Step ``t``: ``a = tanh(zx + zh)`` into ``A[t + 1]``, from ``zx - b`` in ``Z[t]`` and
    ``zh`` in ``ZH``."""
    lo, hi, k = rows
    for r in range(lo, hi):
        a = A[t + 1, r]
        if r >= k or not mask[t, r]:
            a[:] = 0
            continue
        zx, zh = Z[t, r], ZH[r]
        for j in range(a.shape[0]):
            a[j] = tanh(zx[j] + b[j] + zh[j])


@njit(**OPTIONS)
def _backward(t, rows, mask, Z, A, dA, P, Da):
    """Step ``t`` backward: ``dJ/dz`` into ``Z[t]`` from ``da = P + Da + dA[t]``."""
    lo, hi, k = rows
    for r in range(lo, hi):
        p, d_a, dz = P[r], Da[r], Z[t, r]
        if passes_on(r, t, k, mask, p, d_a, dz):
            continue
        a, da_t = A[t + 1, r], dA[t, r]
        for j in range(dz.shape[0]):
            dz[j] = (p[j] + d_a[j] + da_t[j]) * dtanh(a[j])
            d_a[j] = 0

"""The LSTM's step (and the peephole LSTM's), compiled: forward beside backward, in the symbols
of :mod:`xrnn.lstm` and :mod:`xrnn.peephole`, on the engine's buffers (see
:mod:`xrnn._kernels`). The plain LSTM is the peephole LSTM with zero peepholes.
"""

import numpy as np
from numba import njit

from ._math import OPTIONS, dsigmoid, dtanh, passes_on, sigmoid, tanh


def weights(w, n, dtype):
    """The bias ``b (4n,)`` and the peepholes ``pf, pi, po (n,)``; zeros for the plain LSTM."""
    if "pf" in w:
        return w["b"][0], w["pf"][0], w["pi"][0], w["po"][0]
    return (w["b"][0], *(np.zeros(n, dtype),) * 3)


def forward(w, t, rows, mask, Z, ZH, S, V, Q):
    _forward(t, rows, mask, Z, ZH, S[0], S[1], V[0], *w)


def backward(w, t, rows, mask, Z, DH, S, V, dA, P, D, Q):
    _backward(t, rows, mask, Z, S[1], V[0], dA, P, D[0], D[1], *w[1:])
    return Z[t]


@njit(**OPTIONS)
def _forward(t, rows, mask, Z, ZH, A, C, TC, b, pf, pi, po):
    """Step ``t``: the gates over ``zx - b`` in ``Z[t]`` (``zh`` in ``ZH``), ``a``, ``c`` into
    ``A[t + 1]``, ``C[t + 1]`` and ``tanh(c)`` into ``TC[t]``; zeros for the rows that do not
    run (from ``k`` on, or masked)."""
    lo, hi, k = rows
    n = C.shape[2]
    for r in range(lo, hi):
        a, c, tc, c_prev = A[t + 1, r], C[t + 1, r], TC[t, r], C[t, r]
        if r >= k or not mask[t, r]:
            a[:] = 0
            c[:] = 0
            tc[:] = 0
            continue
        z, zh = Z[t, r], ZH[r]
        zf, zi, zo, zg = z[:n], z[n : 2 * n], z[2 * n : 3 * n], z[3 * n :]
        hf, hi, ho, hg = zh[:n], zh[n : 2 * n], zh[2 * n : 3 * n], zh[3 * n :]
        bf, bi, bo, bg = b[:n], b[n : 2 * n], b[2 * n : 3 * n], b[3 * n :]
        for j in range(n):
            f = sigmoid(zf[j] + bf[j] + hf[j] + pf[j] * c_prev[j])
            i = sigmoid(zi[j] + bi[j] + hi[j] + pi[j] * c_prev[j])
            g = tanh(zg[j] + bg[j] + hg[j])
            cj = f * c_prev[j] + i * g
            o = sigmoid(zo[j] + bo[j] + ho[j] + po[j] * cj)
            tcj = tanh(cj)
            zf[j], zi[j], zo[j], zg[j] = f, i, o, g
            c[j], tc[j], a[j] = cj, tcj, o * tcj


@njit(**OPTIONS)
def _backward(t, rows, mask, Z, C, TC, dA, P, Da, Dc, pf, pi, po):
    """Step ``t`` backward: ``dJ/dz`` of the gates over the gates in ``Z[t]``, ``dJ/dc_prev``
    into ``Dc``, from ``da = P + Da + dA[t]`` and ``dc = Dc``; the rows that do not run pass
    their gradients on (see :mod:`xrnn._kernels`)."""
    lo, hi, k = rows
    n = C.shape[2]
    for r in range(lo, hi):
        p, d_a, dc_row, z = P[r], Da[r], Dc[r], Z[t, r]
        if passes_on(r, t, k, mask, p, d_a, z):
            continue
        da_t, tc, c_prev = dA[t, r], TC[t, r], C[t, r]
        zf, zi, zo, zg = z[:n], z[n : 2 * n], z[2 * n : 3 * n], z[3 * n :]
        for j in range(n):
            f, i, o, g = zf[j], zi[j], zo[j], zg[j]
            da = p[j] + d_a[j] + da_t[j]
            do = da * tc[j] * dsigmoid(o)
            dc = dc_row[j] + da * o * dtanh(tc[j]) + do * po[j]
            df = dc * c_prev[j] * dsigmoid(f)
            di = dc * g * dsigmoid(i)
            zf[j], zi[j], zo[j], zg[j] = df, di, do, dc * i * dtanh(g)
            dc_row[j] = dc * f + df * pf[j] + di * pi[j]
            d_a[j] = 0

"""The GRU's step, compiled, both forms: forward beside backward, in the symbols of
:mod:`xrnn.gru`, on the engine's buffers (see :mod:`xrnn._kernels`). Reset after, a step is one
kernel each way; in the course's form the candidate's product ``(r * a_prev) Wc^T`` comes
between two (and ``dg Wc`` backward).
"""

import numpy as np
from numba import njit

from ._math import OPTIONS, dsigmoid, dtanh, passes_on, sigmoid, tanh


def weights(w, n, dtype):
    """The bias ``b (3n,)``; reset after, ``(True, b, bca (n,))``, in the course's form
    ``(False, b, Wc)``."""
    b = w["b"][0]
    return (True, b, w["bca"][0]) if "bca" in w else (False, b, w["Wc"])


def forward(w, t, rows, mask, Z, ZH, S, V, Q):
    (A,), (E,), (after, b, u) = S, V, w
    if after:
        _forward_after(t, rows, mask, Z, ZH, A, E, b, u)
        return
    lo, hi, k = rows
    _gates(t, rows, mask, Z, ZH, A, E, b)
    np.matmul(E[t, lo : min(k, hi), :], u.T, out=Q[lo : min(k, hi), : A.shape[2]])
    _candidate(t, rows, mask, Z, Q, A, b)


def backward(w, t, rows, mask, Z, DH, S, V, dA, P, D, Q):
    (A,), (E,), (Da,), (after, _, u) = S, V, D, w
    if after:
        _backward_after(t, rows, mask, Z, DH, A, E, dA, P, Da, Q)
        return Q
    n, (lo, hi, k) = A.shape[2], rows
    _backward_candidate(t, rows, mask, Z, A, dA, P, Da)
    np.matmul(Z[t, lo : min(k, hi), 2 * n :], u, out=Q[lo : min(k, hi), :n])
    _backward_reset(t, rows, mask, Z, A, Q, Da)
    return Z[t, :, : 2 * n]


@njit(**OPTIONS)
def _forward_after(t, rows, mask, Z, ZH, A, E, b, bca):
    """Reset after: ``u, r, g`` over ``zx - b`` in ``Z[t]``, ``e = Wc_a a_prev + bca`` into
    ``E[t]``, ``a`` into ``A[t + 1]``."""
    lo, hi, k = rows
    n = A.shape[2]
    for row in range(lo, hi):
        a, e = A[t + 1, row], E[t, row]
        if row >= k or not mask[t, row]:
            a[:] = 0
            e[:] = 0
            continue
        z, zh, a_prev = Z[t, row], ZH[row], A[t, row]
        zu, zr, zc = z[:n], z[n : 2 * n], z[2 * n :]
        hu, hr, hc = zh[:n], zh[n : 2 * n], zh[2 * n :]
        bu, br, bc = b[:n], b[n : 2 * n], b[2 * n :]
        for j in range(n):
            u = sigmoid(zu[j] + bu[j] + hu[j])
            r = sigmoid(zr[j] + br[j] + hr[j])
            ej = hc[j] + bca[j]
            g = tanh(zc[j] + bc[j] + r * ej)
            zu[j], zr[j], zc[j], e[j] = u, r, g, ej
            a[j] = a_prev[j] + u * (g - a_prev[j])


@njit(**OPTIONS)
def _backward_after(t, rows, mask, Z, DH, A, E, dA, P, Da, Q):
    """Reset after, backward: ``dJ/dz`` of u, r, g into ``Z[t]``, that of ``zh``'s tail
    (``dg * r``) into ``DH[t]`` (which may be ``E``), both into ``Q`` beside those of u, r for
    the product with ``Wh``, and ``dJ/da_prev``'s direct part into ``Da``."""
    lo, hi, k = rows
    n = A.shape[2]
    for row in range(lo, hi):
        p, d_a, z = P[row], Da[row], Z[t, row]
        if passes_on(row, t, k, mask, p, d_a, z):
            Q[row, :] = 0
            DH[t, row, :] = 0
            continue
        a_prev, da_t, e, dh, q = A[t, row], dA[t, row], E[t, row], DH[t, row], Q[row]
        zu, zr, zc = z[:n], z[n : 2 * n], z[2 * n :]
        qu, qr, qc = q[:n], q[n : 2 * n], q[2 * n :]
        for j in range(n):
            u, r, g = zu[j], zr[j], zc[j]
            da = p[j] + d_a[j] + da_t[j]
            dau = da * u
            dg = dau * dtanh(g)
            du = da * (g - a_prev[j]) * dsigmoid(u)
            dr = dg * e[j] * dsigmoid(r)
            zu[j], zr[j], zc[j] = du, dr, dg
            qu[j], qr[j], qc[j] = du, dr, dg * r
            dh[j] = dg * r
            d_a[j] = da - dau


@njit(**OPTIONS)
def _gates(t, rows, mask, Z, ZH, A, E, b):
    """The course's form, first half: ``u, r`` over ``zx - b`` in ``Z[t]``, ``e = r * a_prev``
    into ``E[t]``."""
    lo, hi, k = rows
    n = A.shape[2]
    for row in range(lo, hi):
        e = E[t, row]
        if row >= k or not mask[t, row]:
            e[:] = 0
            continue
        z, zh, a_prev = Z[t, row], ZH[row], A[t, row]
        zu, zr, hu, hr = z[:n], z[n : 2 * n], zh[:n], zh[n:]
        bu, br = b[:n], b[n : 2 * n]
        for j in range(n):
            u = sigmoid(zu[j] + bu[j] + hu[j])
            r = sigmoid(zr[j] + br[j] + hr[j])
            zu[j], zr[j], e[j] = u, r, r * a_prev[j]


@njit(**OPTIONS)
def _candidate(t, rows, mask, Z, Q, A, b):
    """Second half: ``g = tanh(zx_c + e Wc^T)`` (``zx_c - b_c`` in ``Z[t]``, the product in
    ``Q``), ``a`` into ``A[t + 1]``."""
    lo, hi, k = rows
    n = A.shape[2]
    for row in range(lo, hi):
        a = A[t + 1, row]
        if row >= k or not mask[t, row]:
            a[:] = 0
            continue
        z, ec, a_prev = Z[t, row], Q[row], A[t, row]
        zu, zc, bc = z[:n], z[2 * n :], b[2 * n :]
        for j in range(n):
            g = tanh(zc[j] + bc[j] + ec[j])
            zc[j] = g
            a[j] = a_prev[j] + zu[j] * (g - a_prev[j])


@njit(**OPTIONS)
def _backward_candidate(t, rows, mask, Z, A, dA, P, Da):
    """The course's form, backward, first half: ``dJ/dz`` of u and g into ``Z[t]``, the
    direct part ``(1 - u) da`` of ``dJ/da_prev`` into ``Da``."""
    lo, hi, k = rows
    n = A.shape[2]
    for row in range(lo, hi):
        p, d_a, z = P[row], Da[row], Z[t, row]
        if passes_on(row, t, k, mask, p, d_a, z):
            continue
        a_prev, da_t = A[t, row], dA[t, row]
        zu, zc = z[:n], z[2 * n :]
        for j in range(n):
            u, g = zu[j], zc[j]
            da = p[j] + d_a[j] + da_t[j]
            dau = da * u
            zu[j] = da * (g - a_prev[j]) * dsigmoid(u)
            zc[j] = dau * dtanh(g)
            d_a[j] = da - dau


@njit(**OPTIONS)
def _backward_reset(t, rows, mask, Z, A, Q, Da):
    """Second half: from ``de = dg Wc`` in ``Q``, ``dJ/dz`` of r into ``Z[t]`` and
    ``de * r`` added to ``Da``."""
    lo, hi, k = rows
    n = A.shape[2]
    for row in range(lo, min(k, hi)):
        if not mask[t, row]:
            continue
        z, de, a_prev, d_a = Z[t, row], Q[row], A[t, row], Da[row]
        zr = z[n : 2 * n]
        for j in range(n):
            r = zr[j]
            zr[j] = de[j] * a_prev[j] * dsigmoid(r)
            d_a[j] += de[j] * r

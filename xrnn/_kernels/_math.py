"""The scalar functions the compiled steps share: ``exp``, the sigmoid and tanh, and the
options every kernel compiles with.

``math.exp`` compiles to the C library's scalar ``exp``, which no loop vectorises; this one is
a polynomial that LLVM vectorises: ``exp(x) = 2^k p(r)``, ``k = round(x / ln 2)``,
``r = x - k ln 2`` (``|r| <= ln 2 / 2``), ``p`` the Taylor polynomial of degree 13 (float64, in
Estrin's form) or 7 (float32), within 2 ulp of NumPy's. ``x`` is clipped to where ``2^k`` is
a normal number, as :mod:`xrnn.activations` clips it where ``exp`` would overflow.
"""

import math
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

# fastmath without "reassoc" (which would reorder the polynomial, up to 210 ulps) and without
# "nnan"/"ninf" (NaN stays NaN); error_model="numpy": no division check to block vectors;
# nogil: blocks of rows run on threads of their own (xrnn._kernels._threads.parallel).
OPTIONS: dict[str, Any] = {
    "fastmath": {"nsz", "arcp", "contract"},
    "error_model": "numpy",
    "nogil": True,
    "cache": True,
}

_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_ROUND = 1.5 * 2.0**52  # x + _ROUND - _ROUND rounds x to an integer, for |x| < 2^51


@intrinsic
def _as_float(typingctx, bits):
    """The float whose bits are the int ``bits`` (int64 -> float64, int32 -> float32)."""
    wide = bits.bitwidth == 64
    out = types.float64 if wide else types.float32

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType() if wide else ir.FloatType())

    return out(bits), codegen


@intrinsic
def _as_int(typingctx, x):
    """The bits of the float64 ``x`` as an int64."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(x), codegen


def _scalar(build):
    """A function of one float for compiled code: ``build(ft)`` makes it for the float type
    ``ft`` (``np.float32`` or ``np.float64``), its constants of that type, so that float32
    arithmetic stays float32."""

    def stub(z):
        raise TypeError(f"{build.__name__} runs in compiled code only")

    def typed(z):
        return build(np.float32 if z == types.float32 else np.float64)

    overload(stub, inline="always", jit_options=OPTIONS)(typed)
    stub.__name__ = stub.__qualname__ = build.__name__
    stub.__doc__ = build.__doc__
    return stub


@_scalar
def exp(ft):
    """``exp(z)``."""
    return _exp32 if ft is np.float32 else _exp64


@_scalar
def sigmoid(ft):
    """``1 / (1 + exp(-z))``, as ``e / (e + 1)``, ``e = exp(z)``."""
    one = ft(1)

    def f(z):
        e = exp(z)
        return e / (e + one)

    return f


@_scalar
def tanh(ft):
    """``2 / (1 + exp(-2z)) - 1``."""
    one, two = ft(1), ft(2)

    def f(z):
        return two / (exp(-two * z) + one) - one

    return f


@_scalar
def dsigmoid(ft):
    """``sigmoid'`` from ``s = sigmoid(z)``: ``s (1 - s)``."""
    one = ft(1)

    def f(z):
        return z * (one - z)

    return f


@_scalar
def dtanh(ft):
    """``tanh'`` from ``t = tanh(z)``: ``1 - t^2``."""
    one = ft(1)

    def f(z):
        return one - z * z

    return f


def _exp64(z):
    x = min(max(z, -708.0), 708.0)
    kk = x * 1.4426950408889634 + _ROUND  # k in its last bits: no float -> int64 (not in AVX2)
    k = kk - _ROUND
    r = x - k * _LN2_HI - k * _LN2_LO
    r2 = r * r  # the polynomial in Estrin's form: short chains of products, for the pipelines
    r4 = r2 * r2
    p = (1 + r) + (1 / 2 + 1 / 6 * r) * r2
    p += ((1 / 24 + 1 / 120 * r) + (1 / 720 + 1 / 5040 * r) * r2) * r4
    q = (1 / 40320 + 1 / 362880 * r) + (1 / 3628800 + 1 / 39916800 * r) * r2
    p += (q + (1 / 479001600 + 1 / 6227020800 * r) * r4) * (r4 * r4)
    return p * _as_float((_as_int(kk) + 1023) << 52)


_F32 = tuple(
    np.float32(v) for v in (-87, 88, 1.442695, 0.5, 0.693145751953125, 1.428606765330187e-06)
)
_C32 = tuple(np.float32(1 / math.factorial(j)) for j in range(8))


def _exp32(z):
    lo, hi, log2e, half, ln2_hi, ln2_lo = _F32
    c0, c1, c2, c3, c4, c5, c6, c7 = _C32
    x = min(max(z, lo), hi)
    k = np.floor(x * log2e + half)
    r = x - k * ln2_hi - k * ln2_lo
    p = (((c7 * r + c6) * r + c5) * r + c4) * r + c3
    p = ((p * r + c2) * r + c1) * r + c0
    return p * _as_float(np.int32((np.int32(k) + 127) << 23))


@njit(inline="always", **OPTIONS)
def passes_on(row, t, k, mask, p, d_a, dz):
    """Backward, whether row ``row`` does not run at step ``t`` (from ``k`` on, or masked); if
    so its gradient passes on to the step before (``d_a += p``, ``p = 0``) and its ``dz`` is
    zero."""
    if row < k and mask[t, row]:
        return False
    d_a += p
    p[:] = 0
    dz[:] = 0
    return True

"""The time loop's machinery, shared by every cell type.

- Storage is time-major: a sequence's arrays are ``(T, m, width)``, so that step ``t`` is one
  contiguous ``(m, width)`` block, and all steps together are one ``(T*m, width)`` matrix for
  the products done once per sequence.
- :func:`put` is the engine's only write into an existing array. An immutable backend (JAX) can
  swap it for array-api-extra's ``at(buf)[index].set(value)`` without touching the cell math.
  In-place operators (``+=``, ``*=``) only ever update the array a name holds, never one that
  another name sees, so that on an immutable backend they would merely rebind the name.
- :func:`chunks` splits a step's elementwise work into batch rows: on a CPU into pieces that fit
  a core's cache (a step's arrays are then read from cache, not memory, pass after pass); on an
  accelerator into one piece.
- :class:`Steps` is the list of per-step caches in the seed's format, built as views of the
  engine's buffers, which it keeps for the backward pass.
"""

import itertools
import math

from array_api_compat import device

from .activations import _softmax

__all__ = [
    "Steps",
    "active",
    "bias",
    "chunks",
    "dx",
    "final",
    "masks",
    "outputs",
    "put",
    "recurrent_bias_grads",
    "time_major",
]

CACHE_BYTES = 1 << 18  # one chunk's widest array: a quarter of a typical per-core L2 cache


def bias(p, key):
    """The bias ``p[key]``, plus the recurrent bias ``p[key + "a"]`` where there is one.

    PyTorch keeps two biases per gate, one on the input's side and one on the state's; the
    optional ``a`` keys carry the second, so that its weights convert exactly both ways.
    """
    return p[key] + p[key + "a"] if key + "a" in p else p[key]


def recurrent_bias_grads(grads, p, keys):
    """``grads`` with ``d{key}a``, equal to ``d{key}``, for each optional recurrent bias."""
    return {**grads, **{f"d{k}a": grads[f"d{k}"] for k in keys if k + "a" in p}}


def put(buf, index, value):
    """``buf[index] = value``; returns ``buf``."""
    buf[index] = value
    return buf


def time_major(a, xp):
    """``a (width, m, T)`` as the ``(T*m, width)`` matrix whose rows are steps, then examples:
    a view when ``a`` already has that memory layout, else one copy."""
    width, m, T = a.shape
    return xp.reshape(xp.permute_dims(a, (2, 1, 0)), (T * m, width))


def outputs(A, Wy, by, xp, M=None):
    """``y = softmax(Wy a + by)`` of every step at once, from ``A (T, m, n_a)``: ``(n_y, m, T)``;
    zero where the masks ``M (T, m, 1)`` are false."""
    T, m, n = A.shape
    z = xp.reshape(A, (T * m, n)) @ Wy.T
    z += by.T
    y = xp.reshape(_softmax(z, xp, axis=1, overwrite=True), (T, m, Wy.shape[0]))
    if M is not None:
        y = xp.where(M, y, 0.0)
    return xp.permute_dims(y, (2, 1, 0))


def dx(dZ, Wx, T, m, xp):
    """``dJ/dx (n_x, m, T)`` from the pre-activations' gradients ``dZ (T*m, G)`` of all steps
    and the input weights ``Wx (G, n_x)``: one product. (The caller frees its copy of ``x``
    first: the two are never held at once.)"""
    return xp.permute_dims(xp.reshape(dZ @ Wx, (T, m, Wx.shape[1])), (2, 1, 0))


def masks(lengths, T, xp):
    """``(T, m, 1)`` boolean masks, true where step ``t`` is within example ``j``'s length;
    None without lengths."""
    if lengths is None:
        return None
    steps = xp.reshape(xp.arange(T, dtype=lengths.dtype, device=device(lengths)), (T, 1, 1))
    return xp.reshape(lengths, (1, -1, 1)) > steps


def active(lengths, m, T, xp, dtype):
    """``(K, F, M)``: how many examples step ``t`` computes, ``K[t]``, and the ``(T, m, 1)``
    masks of what lies past the lengths among them, as floats ``F`` and booleans ``M``, or None.

    With ``lengths`` sorted longest first (as :func:`xrnn.data.batches` yields them), the
    examples still running at step ``t`` are the first ``K[t]``: each step computes only those,
    as PyTorch's packed sequences do, and needs no masks. Otherwise every step computes all
    ``m`` examples and masks those past their length (multiplying by the float masks zeroes
    in place, cheaper than a ``where``).
    """
    if lengths is None:
        return [m] * T, None, None
    M = masks(lengths, T, xp)
    if m == 1 or bool(xp.all(lengths[:-1] >= lengths[1:])):
        running = xp.sum(xp.astype(M[:, :, 0], lengths.dtype), axis=1)
        return [int(running[t]) for t in range(T)], None, None
    return [m] * T, xp.astype(M, dtype), M


def passed(new, old, t, M, xp):
    """The gradient reaching the states before step ``t``, ``(m, n)``: ``new`` where the step
    ran, and ``old``, the gradient after it, for the examples past their length: those beyond
    the ``new.shape[0]`` the step computed (lengths sorted), or those ``M`` masks."""
    if M is not None:
        return xp.where(M[t, ...], new, old)
    k = new.shape[0]
    return new if k == old.shape[0] else xp.concat([new, old[k:, :]], axis=0)


def final(S, lengths, xp):
    """Each example's state after its own last step, from ``S (T+1, m, n)`` (``S[0]`` the
    initial state): ``S[T]``, or with ``lengths`` row ``j`` of ``S[lengths[j]]``."""
    if lengths is None:
        return S[-1, ...]
    T1, m, n = S.shape
    rows = lengths * m + xp.arange(m, dtype=lengths.dtype, device=device(lengths))
    return xp.take(xp.reshape(S, (T1 * m, n)), rows, axis=0)


def chunks(a, width, xp):
    """Row slices of a batch ``a (m, ...)`` for elementwise work ``width`` wide: on a CPU (the
    array's DLPack device type is 1), pieces whose widest array fits the cache; elsewhere, one;
    none for an empty batch."""
    m = a.shape[0]
    if m == 0:  # no example runs this step
        return []
    k = 1
    if getattr(a, "__dlpack_device__", lambda: (0, 0))()[0] == 1:
        k = min(m, max(1, math.ceil(m * width * xp.finfo(a.dtype).bits / 8 / CACHE_BYTES)))
    edges = [round(i * m / k) for i in range(k + 1)]
    return [slice(lo, hi) for lo, hi in itertools.pairwise(edges)]


class Steps(list):
    """The per-step caches of a sequence, in the seed's format, as views of the engine's
    buffers (``self.buffers``), which the backward pass reads directly.

    A backward pass that reuses the buffers' memory marks them ``spent`` and empties the list.
    """

    def __init__(self, steps, buffers):
        super().__init__(steps)
        self.buffers = buffers
        self.spent = False

    def spend(self):
        self.buffers, self.spent = None, True
        self.clear()

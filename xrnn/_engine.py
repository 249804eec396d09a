"""The engine: one time loop for every cell, forward and backward.

A cell (:class:`xrnn._cell.Cell`) brings its weights in the engine's layout ``w`` and one step,
forward beside backward; the engine does everything else, once: the products over all steps,
the time loops, lengths, batch chunks, buffers and what a backward pass may overwrite.

Buffers of one pass over a sequence (one layer, one direction), time-major: step ``t`` of every
buffer is one contiguous ``(m, width)`` block of rows, one row per example.

=========  ===============  ==================================================================
buffer     shape            holds
=========  ===============  ==================================================================
``x``      ``(n_x, m, T)``  the input as the course lays it out (reversed within each length
                            for the reverse direction); :func:`time_major` makes it ``X``, the
                            ``(T*m, n_x)`` matrix of all steps' rows
``S[i]``   ``(T+1, m, n)``  state ``i`` (``a``, then ``c`` for the LSTM): ``S[i][0]`` the
                            initial state, ``S[i][t+1]`` the state after step ``t``; zero past
                            each example's length. ``S[0][1:]`` is the output ``a``
``Z``      ``(T, m, G)``    forward: ``zx = x Wx^T + b``, the input's share of every step's
                            pre-activations, one product for all steps (without ``b``, which
                            the compiled steps of :mod:`xrnn._kernels` add as they read it);
                            step ``t`` then keeps its gates there (the first value it saves,
                            when as wide as ``zx``).
                            Backward: ``dJ/dzx`` of step ``t``, written over what step ``t``
                            saved there
``V[j]``   ``(T, m, w_j)``  the other values the steps save (the LSTM's ``tanh(c)``)
``DH``     ``(T, m, h)``    backward, for cells whose ``zh`` is not simply added to ``zx``
                            in its last ``h`` columns (the GRU's candidate, reset after):
                            ``dJ/dzh`` there. It takes the place of the last saved value as
                            wide, which only step ``t`` reads, or else has a buffer of its own
``dS[i]``  ``(m, n)``       backward: the gradient reaching state ``i`` after step ``t``
=========  ===============  ==================================================================

How step ``t`` flows::

    forward    zh = S[0][t] Wh^T                                 one product, all rows running
               for each chunk of rows:
                   S[:][t+1], saved = step(w, Z[t], zh, S[:][t])
                   Z[t], V[:][t]    = saved
    backward   d = (dS[0] + da[t], dS[1], ...)
               for each chunk of rows:
                   dzx, dzh, dprev = step_backward(w, S[:][t], S[:][t+1], saved, d)
                   Z[t], DH[t]     = dzx, dzh
               dS[0] = dprev[0] + [Z[t][:, :H-h], DH[t]] Wh       one product, all rows running
               dS[i] = dprev[i]
    then       dWx = dZ^T X,  db = sum(dZ),  dx = dZ Wx,  dWh = [dZ[:, :H-h], DH]^T S[0][:T]
               (products over all steps) and the cell's own ``weight_grads``

Lengths (:class:`xrnn._lengths.Lengths`): sorted longest first, step ``t`` computes only the
first ``running[t]`` rows, like PyTorch's packed sequences; in any other order every step
computes all rows and keeps, where the masks are false, zero states forward and the gradients
that were there backward. The reverse direction reads each example from its own last step
back: its input is reversed within each length, and its outputs and gradients back again.

The loops have the form of ``jax.lax.scan``: a step's body takes the carry (the states
forward, their gradients backward) and step ``t`` of the inputs, and returns what step ``t``
writes into the buffers (:func:`_loop`). In Python (:func:`scan`) the writes go into the
buffers as the steps run, ``A = put(A, index, value)``, in place where the backend allows;
a backend with a loop of its own (JAX's ``lax.scan``, :func:`xrnn._kernels.loop`) takes
its place, with masks for the lengths and one piece of rows a step (the same shapes at
every step), and stacks the steps' writes, without touching a cell. What a cell saves, and
whether its ``zh`` has a tail, the engine learns before the loops from its functions run on
no rows, so that the carries and writes keep one structure.
"""

import itertools
import math

from array_api_compat import device

from . import _kernels
from ._arrays import put, time_major
from ._kernels import _threads
from ._kernels._threads import matmul
from ._lengths import Lengths
from .activations import _softmax

__all__ = ["CACHE_BYTES", "Tape", "backward", "chunks", "forward", "outputs", "replay", "scan"]

# One chunk's widest array: twice a core's L2 cache here (512 KiB), so that each step's arrays
# stay in the caches while the Python work per chunk stays small against the arithmetic
# (measured against 256 and 512 KiB: as fast at medium and large sizes, 2-6% faster at bigbatch).
CACHE_BYTES = 1 << 20


class Tape:
    """What a forward pass keeps for its backward: the cell, the stacked weights ``w`` it used
    (new arrays, so that the parameters may change afterwards), its input ``x``, the lengths,
    the direction and the buffers ``S``, ``Z``, ``V`` of the legend above.

    The one rule for spending: a backward pass writes its gradients over what the forward pass
    saved, ``Z``'s gates (``gated``) and the values in ``V`` that ``DH`` takes the place of;
    when it writes over anything it reads, the tape is spent before the first such write, so
    that a second backward pass, or one after a failed pass, is refused instead of reading
    gradients as saved values. (The RNN saves nothing: its tapes can be used again.)
    """

    def __init__(self, cell, w, x, lengths, reverse, S, Z, V, gated):
        self.cell, self.w, self.x, self.lengths, self.reverse = cell, w, x, lengths, reverse
        self.S, self.Z, self.V, self.gated = S, Z, V, gated
        self.spent = False

    def output(self):
        """The output ``a`` of every step, ``(T, m, n)``, in the input's time order."""
        A = self.S[0][1:, ...]
        return self.lengths.reverse(A) if self.reverse else A

    def finals(self):
        """Each example's states after its own last step, rows ``(m, n)``."""
        return tuple(self.lengths.final(S) for S in self.S)


def scan(f, carry, xs, reverse=False):
    """The time loop: ``carry = f(carry, x)`` for each ``x`` of ``xs``, the last first with
    ``reverse``; returns the last carry."""
    for x in reversed(xs) if reverse else xs:
        carry = f(carry, x)
    return carry


def forward(cell, w, x, states0, lengths, *, reverse=False, xp):
    """Run ``cell`` over ``x (n_x, m, T)`` from the initial states ``states0`` (rows
    ``(m, n)``, one per state): a :class:`Tape`. (Under xrnn's thread policy.)"""
    with _threads.policy(x):
        return _forward(cell, w, x, states0, lengths, reverse, xp)


def _forward(cell, w, x, states0, lengths, reverse, xp):
    x = lengths.within(x)
    if reverse:
        x = xp.permute_dims(lengths.reverse(xp.permute_dims(x, (2, 1, 0))), (2, 1, 0))
    _, m, T = x.shape
    n = states0[0].shape[1]
    kernels = _kernels.steps(cell, x)
    Z = _project(x, w, xp, bias=kernels is None)  # the kernels add the bias themselves
    S = [put(_empty((T + 1, m, n), x, xp), (0, ...), s) for s in states0]
    gated, widths = _layout(cell, w, Z, S, xp)
    V = [_empty((T, m, width), x, xp) for width in widths]
    if kernels is not None:
        _kernels.forward(kernels, w, S, Z, V, lengths, scan)
        return Tape(cell, w, x, lengths, reverse, tuple(S), Z, tuple(V), gated)
    lengths, loop = _loop(lengths, Z, xp)
    Wh_T = w["Wh"].T

    def body(prev, step, k, pieces):
        zx, f = step
        zh = prev[0][:k, :] @ Wh_T
        y = [[] for _ in range(len(S) + len(widths) + gated)]
        for rows in pieces:
            state, saved = cell.step(w, zx[rows, :], zh[rows, :], [s[rows, :] for s in prev], xp=xp)
            if f is not None:
                state = [_zeroed(v, f[rows, :]) for v in state]
            for out, v in zip(y, [*state, *saved], strict=True):
                out.append(v)
        return None, y

    def finish(prev, step, parts, written, k):
        return written[: len(S)]

    xs = (Z, lengths.step_scales(x.dtype))
    ys = [*((s, 1) for s in S), *([(Z, 0)] if gated else []), *((v, 0) for v in V)]
    _, ys = loop(body, finish, list(states0), xs, ys)
    S, Z, V = ys[: len(S)], ys[len(S)] if gated else Z, ys[len(S) + gated :]
    return Tape(cell, w, x, lengths, reverse, tuple(S), Z, tuple(V), gated)


def backward(tape, da, dfinal=None, *, need_dx=True, xp):
    """Gradients of a :class:`Tape`'s pass from ``da (n, m, T)``, those of the outputs, and
    ``dfinal``, those of each example's final states (rows ``(m, n)``, or None for zeros):
    ``(grads, dx, d0)``, the gradients of ``w``'s entries, of ``x`` (None without
    ``need_dx``) and of the initial states (rows). (Under xrnn's thread policy.)"""
    with _threads.policy(da):
        return _backward(tape, da, dfinal, need_dx, xp)


def _backward(tape, da, dfinal, need_dx, xp):
    if tape.spent:
        raise ValueError("the tape was spent by an earlier backward pass: run the forward again")
    cell, w, S, V, lengths = tape.cell, tape.w, tape.S, tape.V, tape.lengths
    T, m, G = tape.Z.shape
    n = S[0].shape[2]
    DH, over = _tail(tape, xp)
    tape.spent = tape.gated or over  # before anything is written over what the backward reads
    da = xp.permute_dims(lengths.within(da), (2, 1, 0))  # time-major (T, m, n)
    if tape.reverse:
        da = lengths.reverse(da)
    Wh = w["Wh"]
    H = Wh.shape[0]
    step_backward, gated = cell.step_backward, tape.gated
    dfinal = dfinal or (None,) * len(S)
    dS = [_zeros((m, n), da, xp) if d is None else d for d in dfinal]

    kernels = _kernels.steps(cell, tape.Z)
    if kernels is not None:
        Z = tape.Z
        dS = _kernels.backward(kernels, w, S, Z, V, DH, da, dS, lengths, scan)
    else:
        lengths, loop = _loop(lengths, tape.Z, xp, da)

        def body(dS, step, k, pieces):
            d = [dS[0][:k, :] + step["da"][:k, :], *(v[:k, :] for v in dS[1:])]
            f, y, parts = step["F"], [[], []], []
            for rows in pieces:
                dzx, dzh, dprev = step_backward(
                    w,
                    [s[rows, :] for s in step["prev"]],
                    [s[rows, :] for s in step["next"]],
                    [v[rows, :] for v in step["saved"]],
                    d if len(pieces) == 1 else [v[rows, :] for v in d],
                    xp=xp,
                )
                blocks = list(dzx) if isinstance(dzx, list | tuple) else [dzx]
                if f is not None:
                    blocks = [_zeroed(block, f[rows, :]) for block in blocks]
                    dzh = None if dzh is None else _zeroed(dzh, f[rows, :])
                y[0].append(blocks)
                y[1].append(dzh)
                parts.append(dprev)
            return parts, y[: 1 + (DH is not None)]

        def finish(dS, step, parts, written, k):
            dz = written[0][:k, :]
            if DH is None:  # zh was added to zx's first H columns: it has their gradients
                dh = dz[:, :H] @ Wh
            else:
                dh = xp.concat([dz[:, : H - DH.shape[2]], written[1][:k, :]], axis=1) @ Wh
            new = []
            for i, old in enumerate(dS):
                v = parts[0][i] if len(parts) == 1 else _joined([p[i] for p in parts], xp)
                if i == 0:
                    if v is not None:
                        dh += v
                    v = dh
                elif v is None:
                    v = _zeros((k, n), old, xp)
                new.append(_passed(v, old, step["M"], xp))
            return new

        xs = {
            "prev": [s[:T, ...] for s in S],
            "next": [s[1:, ...] for s in S],
            "saved": [*([tape.Z] if gated else []), *V],
            "da": da,
            "M": lengths.step_masks,
            "F": lengths.step_scales(da.dtype),
        }
        ys = [(tape.Z, 0), *([] if DH is None else [(DH, 0)])]
        dS, ys = loop(body, finish, dS, xs, ys, reverse=True)
        Z, DH = ys[0], ys[1] if DH is not None else None
    dZ = xp.reshape(Z, (T * m, G))
    dZh = None if DH is None else xp.reshape(DH, (T * m, DH.shape[2]))
    A = xp.reshape(S[0][:T, ...], (T * m, n))
    grads = {"Wx": matmul(dZ.T, time_major(tape.x, xp)), "b": xp.sum(dZ, axis=0)}
    if dZh is None:
        grads["Wh"] = matmul(dZ[:, :H].T, A)
    else:
        grads["Wh"] = xp.concat([matmul(dZ[:, : H - dZh.shape[1]].T, A), matmul(dZh.T, A)])
    if cell.weight_grads is not None:
        grads.update(cell.weight_grads(w, dZ, dZh, S, V, xp=xp))
    dx = None
    if need_dx:
        dx = xp.reshape(matmul(dZ, w["Wx"]), (T, m, w["Wx"].shape[1]))
        dx = xp.permute_dims(lengths.reverse(dx) if tape.reverse else dx, (2, 1, 0))
    if tape.spent:  # nothing in it can be used again: let its memory go
        tape.S = tape.Z = tape.V = None
    else:
        tape.Z = Z
    return grads, dx, tuple(dS)


def replay(cell, w, x, prev, last, *, xp):
    """The :class:`Tape` of steps whose states are known (caches built by hand): ``prev`` the
    states before each step, ``(T, m, n)`` each, and ``last`` those after the last step, rows
    ``(m, n)``; what each step saves is recomputed by the cell's step, all steps at once."""
    _, m, T = x.shape
    n = prev[0].shape[2]
    S = tuple(xp.concat([p, xp.expand_dims(q, axis=0)]) for p, q in zip(prev, last, strict=True))
    Z = _project(x, w, xp)
    G = Z.shape[2]
    rows = tuple(xp.reshape(p, (T * m, n)) for p in prev)
    zh = rows[0] @ w["Wh"].T
    _, saved = cell.step(w, xp.reshape(Z, (T * m, G)), zh, rows, xp=xp)
    gated = _gates_kept(saved, G)
    if gated:
        Z = xp.reshape(saved[0], (T, m, G))
    V = tuple(xp.reshape(v, (T, m, v.shape[1])) for v in saved[int(gated) :])
    return Tape(cell, w, x, Lengths(None, m, T, xp, x), False, S, Z, V, gated)


def outputs(A, Wy, by, masks, xp):
    """``y = softmax(Wy a + by)`` of every step at once, from ``A (T, m, n_a)``: ``(n_y, m, T)``;
    zero where the masks ``(T, m, 1)`` are false."""
    T, m, n = A.shape
    with _threads.policy(A):
        z = matmul(xp.reshape(A, (T * m, n)), Wy.T)
    z += by.T
    y = xp.reshape(_softmax(z, xp, axis=1, overwrite=True), (T, m, Wy.shape[0]))
    if masks is not None:
        y = xp.where(masks, y, 0.0)
    return xp.permute_dims(y, (2, 1, 0))


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


def _loop(lengths, Z, xp, *others):
    """``(lengths, loop)``: the time loop over buffers like ``Z (T, m, G)``.

    ``carry, ys = loop(body, finish, carry, xs, ys, reverse=False)`` runs every step ``t``
    (:func:`_plan`), the last first with ``reverse``: ``parts, y = body(carry, step, k,
    pieces)`` from ``step``, step ``t`` of every array in ``xs`` (a dict or list of arrays of
    ``T`` steps, or None), then ``carry = finish(carry, step, parts, written, k)``. ``y``
    holds, for each buffer ``(B, offset)`` of ``ys``, one value per row piece (an array, or a
    list of column blocks side by side), and ``written`` the rows ``(m, w)`` they fill:
    ``B[t + offset]``, zero past the ``k`` examples the step computed. Returns the last carry
    and the buffers.

    The backend's native loop (:func:`xrnn._kernels.loop`, for arrays like ``Z`` or
    ``others``) takes :func:`scan`'s place where there is one: every step then computes all
    rows in one piece, the lengths returned mask those that have ended, and the buffers are
    new arrays, each step's rows stacked."""
    T, m = Z.shape[:2]
    native = _kernels.loop(Z, *others)
    if native is not None:
        every = [slice(0, m)]

        def run(body, finish, carry, xs, ys, reverse=False):
            def f(carry, x):
                parts, y = body(carry, x, m, every)
                y = [_whole(v, xp) for (v,) in y]
                return finish(carry, x, parts, y, m), y

            carry, steps = native(f, carry, xs, reverse)
            ys = [put(b, (slice(o, o + T), ...), v) for (b, o), v in zip(ys, steps, strict=True)]
            return carry, ys

        return lengths.masked(), run
    plan = _plan(lengths, Z, xp)

    def loop(body, finish, carry, xs, ys, reverse=False):
        def f(c, step):
            carry, ys = c
            t, k, pieces = step
            x = _at(xs, t)
            parts, y = body(carry, x, k, pieces)
            ys = [(_write(b, t + o, k, pieces, v), o) for (b, o), v in zip(ys, y, strict=True)]
            return finish(carry, x, parts, [b[t + o, ...] for b, o in ys], k), ys

        carry, ys = scan(f, (carry, ys), plan, reverse)
        return carry, [b for b, _ in ys]

    return lengths, loop


def _at(xs, t):
    """Step ``t`` of every array in ``xs`` (a dict, list or tuple of them, or None)."""
    if xs is None:
        return None
    if isinstance(xs, dict):
        return {key: _at(v, t) for key, v in xs.items()}
    if isinstance(xs, list | tuple):
        return type(xs)(_at(v, t) for v in xs)
    return xs[t, ...]


def _write(buf, t, k, pieces, values):
    """``buf`` with step ``t``'s rows written: ``values``, one per piece of rows (an array, or
    column blocks side by side), and zeros from row ``k`` on."""
    for rows, v in zip(pieces, values, strict=True):
        j = 0
        for block in v if isinstance(v, list | tuple) else [v]:
            buf = put(buf, (t, rows, slice(j, j + block.shape[1])), block)
            j += block.shape[1]
    if k < buf.shape[1]:  # the examples that have ended
        buf = put(buf, (t, slice(k, None), ...), 0.0)
    return buf


def _whole(v, xp):
    """A step's value as one array: column blocks side by side."""
    return xp.concat(v, axis=1) if isinstance(v, list | tuple) else v


def _plan(lengths, Z, xp):
    """The time loop's inputs: ``(t, k, pieces)``, step ``t`` computing ``k`` examples in the
    row slices ``pieces`` (:func:`chunks`; worked out once for each ``k``)."""
    G = Z.shape[2]
    pieces = {k: chunks(Z[0, :k, :], G, xp) for k in set(lengths.running)}
    return [(t, k, pieces[k]) for t, k in enumerate(lengths.running)]


def _joined(parts, xp):
    """Row pieces of one array (None for none) as one."""
    if not parts or parts[0] is None:
        return None
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)


def _project(x, w, xp, bias=True):
    """``Z (T, m, G)``: ``zx = x Wx^T + b`` of every step (without ``b``: ``x Wx^T``), one
    product."""
    _, m, T = x.shape
    Z = matmul(time_major(x, xp), w["Wx"].T)
    if bias:
        Z += w["b"]
    return xp.reshape(Z, (T, m, Z.shape[1]))


def _zeroed(v, f):
    """``v * f``: zero where the scales ``f`` are (past each length). In place where the
    backend allows: ``v`` is a new array from a cell's step."""
    v *= f
    return v


def _passed(new, old, mask, xp):
    """The gradient reaching a state before a step, ``(m, n)``: ``new`` where the step ran, and
    ``old``, the gradient after it, for the examples past their length: those beyond the
    ``new.shape[0]`` the step computed (lengths sorted), or those the step's ``mask (m, 1)``
    leaves out."""
    if mask is not None:
        return xp.where(mask, new, old)
    k = new.shape[0]
    return new if k == old.shape[0] else xp.concat([new, old[k:, :]], axis=0)


def _layout(cell, w, Z, S, xp):
    """What the cell's step saves, learnt from a step on no rows: whether it keeps its gates in
    ``Z`` (the first value it saves, when as wide as ``Z``) and the widths of the others."""
    prev = [_no_rows(s, xp) for s in S]
    _, saved = cell.step(w, _no_rows(Z, xp), prev[0] @ w["Wh"].T, prev, xp=xp)
    gated = _gates_kept(saved, Z.shape[2])
    return gated, [v.shape[1] for v in saved[int(gated) :]]


def _gates_kept(saved, G):
    return bool(saved) and saved[0].shape[1] == G


def _tail(tape, xp):
    """``(DH, over)``: where the gradients of ``zh``'s tail go, learnt from a backward step on no
    rows (None: the cell has no tail), and whether that is over a saved value ``V`` as wide
    (its last), which only step ``t`` reads, before its gradients are written there."""
    S, Z, V = tape.S, tape.Z, tape.V
    rows = [_no_rows(s, xp) for s in S]
    saved = [_no_rows(b, xp) for b in ((Z,) if tape.gated else ()) + V]
    _, dzh, _ = tape.cell.step_backward(tape.w, rows, rows, saved, rows, xp=xp)
    if dzh is None:
        return None, False
    same = [v for v in V if v.shape[2] == dzh.shape[1]]
    if same:
        return same[-1], True
    return _zeros((*Z.shape[:2], dzh.shape[1]), Z, xp), False


def _no_rows(buffer, xp):
    """No rows of a buffer ``(..., width)``: ``(0, width)``, for a cell's functions to show
    the shapes of what they return."""
    return xp.reshape(buffer, (-1, buffer.shape[-1]))[:0, :]


def _empty(shape, like, xp):
    return xp.empty(shape, dtype=like.dtype, device=device(like))


def _zeros(shape, like, xp):
    return xp.zeros(shape, dtype=like.dtype, device=device(like))

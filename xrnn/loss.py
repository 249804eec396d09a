"""The output layer and a softmax cross-entropy over time steps, forward beside backward.

.. math::

    z^{<t>} = W_y a^{<t>} + b_y, \\qquad
    J = -\\sum_{t < T_j} \\log \\mathrm{softmax}(z^{<t>})_{y^{<t>}}
      = \\sum_{t < T_j} \\big(\\log \\textstyle\\sum_k e^{z_k^{<t>}} - z_{y^{<t>}}^{<t>}\\big)

Shapes follow the course: ``a`` is ``(n_a, m, T_x)``, logits ``z`` are ``(n_y, m, T_x)``,
targets (class indices) ``(m, T_x)``. The log-sum-exp subtracts each column's maximum, so no
``exp`` overflows and no ``log`` sees a zero; the loss never goes through ``log(softmax)``.
"""

import array_api_compat
from array_api_compat import device

from ._arrays import Array, Grads, Lengths, index_dtype, time_major
from ._checks import check, check_lengths
from ._host import traced
from ._kernels._threads import matmul, policy

__all__ = ["output_backward", "output_forward", "softmax_cross_entropy"]


def output_forward(a: Array, Wy: Array, by: Array) -> Array:
    """Logits ``z = Wy a + by`` of every step: ``a (n_a, m, T_x)`` -> ``z (n_y, m, T_x)``."""
    xp, s = check(
        "output_forward",
        {"a": (a, ("n_a", "m", "T_x")), "Wy": (Wy, ("n_y", "n_a")), "by": (by, ("n_y", 1))},
    )
    with policy(a):
        z = matmul(time_major(a, xp), Wy.T)
    z += by.T
    return xp.permute_dims(xp.reshape(z, (s["T_x"], s["m"], s["n_y"])), (2, 1, 0))


def output_backward(dz: Array, a: Array, Wy: Array) -> Grads:
    """From ``dz = dJ/dz (n_y, m, T_x)``: ``{"dWy", "dby", "da"}``, shaped like ``Wy``,
    ``by (n_y, 1)`` and ``a``."""
    xp, s = check(
        "output_backward",
        {
            "dz": (dz, ("n_y", "m", "T_x")),
            "a": (a, ("n_a", "m", "T_x")),
            "Wy": (Wy, ("n_y", "n_a")),
        },
    )
    dZ = time_major(dz, xp)
    with policy(dz):
        da = xp.reshape(matmul(dZ, Wy), (s["T_x"], s["m"], s["n_a"]))
        dWy = matmul(dZ.T, time_major(a, xp))
    return {
        "dWy": dWy,
        "dby": xp.reshape(xp.sum(dZ, axis=0), (s["n_y"], 1)),
        "da": xp.permute_dims(da, (2, 1, 0)),
    }


def softmax_cross_entropy(
    z: Array, targets: Array, lengths: Lengths = None, reduction: str = "mean"
) -> tuple[Array, Array]:
    """Cross-entropy of the softmax of logits ``z (n_y, m, T_x)`` against integer ``targets
    (m, T_x)``, over the steps within ``lengths`` (all by default), summed or averaged over
    them (``reduction="sum"`` or ``"mean"``). Returns ``(loss, dz)``: a 0-D array and
    ``dJ/dz``, shaped like ``z`` (zero past each length)."""
    fname = "softmax_cross_entropy"
    if reduction not in ("mean", "sum"):
        raise ValueError(f"{fname}: reduction must be 'mean' or 'sum'; got {reduction!r}")
    xp, s = check(fname, {"z": (z, ("n_y", "m", "T_x"))})
    n_y, m, T = s["n_y"], s["m"], s["T_x"]
    _check_targets(fname, targets, xp, z, (m, T))
    index = index_dtype(xp, device(z))
    targets = xp.astype(targets, index)  # class indices of any integer dtype, no overflow
    spans = check_lengths(fname, lengths, m, T, xp, z)
    counted = None if spans.full else xp.permute_dims(spans.masks[:, :, 0], (1, 0))
    classes = xp.reshape(xp.arange(n_y, dtype=index, device=device(z)), (n_y, 1, 1))
    safe = targets if counted is None else xp.where(counted, targets, 0)
    low, high = (0, 0) if traced(safe) else (int(xp.min(safe)), int(xp.max(safe)))
    if low < 0 or high >= n_y:
        raise ValueError(
            f"{fname}: targets must be class indices in 0..n_y-1 = 0..{n_y - 1} "
            f"within the lengths; got values from {low} to {high}"
        )
    hit = classes == xp.reshape(safe, (1, m, T))  # one-hot of the targets
    top = xp.max(z, axis=0, keepdims=True)
    e = xp.exp(z - top)
    total = xp.sum(e, axis=0)
    lse = top[0, ...] + xp.log(total)  # log-sum-exp (m, T)
    losses = lse - xp.sum(xp.where(hit, z, 0.0), axis=0)
    e /= total
    dz = e - xp.astype(hit, z.dtype)  # softmax - one-hot
    if counted is not None:
        losses = xp.where(counted, losses, 0.0)
        dz = xp.where(counted, dz, 0.0)
    loss = xp.sum(losses)
    if reduction == "mean":
        count = spans.total
        loss = loss / count
        dz /= count
    return loss, dz


def _check_targets(fname, targets, xp, like, shape, name="z"):
    """``targets``: class indices ``shape`` of ``xp`` on the device of ``like``, named ``name``."""
    if not array_api_compat.is_array_api_obj(targets) or isinstance(targets, int | float):
        raise TypeError(
            f"{fname}: targets must be an integer array (m, T_x); got {type(targets).__name__}"
        )
    if array_api_compat.array_namespace(targets) is not xp:
        raise TypeError(f"{fname}: targets must come from the same array library as {name}")
    if not xp.isdtype(targets.dtype, "integral"):
        raise TypeError(
            f"{fname}: targets must have an integer dtype (class indices); got {targets.dtype}"
        )
    if array_api_compat.device(targets) != array_api_compat.device(like):
        raise ValueError(f"{fname}: targets must be on the device of {name}")
    if tuple(targets.shape) != shape:
        raise ValueError(
            f"{fname}: targets must have shape (m, T_x) = {shape}; got {tuple(targets.shape)}"
        )

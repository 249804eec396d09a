"""Beyond one device: the character model's training step with its batch split among devices.

Data parallel, exact: each part of the batch gives its mean loss per character and its
gradients (:func:`xrnn.charmodel.loss_and_grads`), weighted by its share of the batch's
characters and summed, which is the loss and the gradients of the whole batch. Nothing here is
a new computation; it only places the same one.
"""

from collections.abc import Callable

from .charmodel import Model, loss_and_grads

__all__ = ["sharded_loss_and_grads"]


def sharded_loss_and_grads(model: Model, mesh, axis: str = "batch") -> Callable:
    """``f(params, x, targets, lengths) -> (loss, grads)``: :func:`loss_and_grads` of the whole
    batch (``x (V, m, T)``, ``targets (m, T)``, ``lengths (m,)``, JAX arrays) under ``jax.jit``,
    its ``m`` examples split evenly among the devices of ``mesh``'s ``axis`` by JAX's
    ``shard_map``; the parameters are copied to every device (the arrays are placed there
    first, wherever they are)."""
    import jax
    from jax.sharding import PartitionSpec as P

    def part(params, x, targets, lengths):
        loss, grads = loss_and_grads(model, params, x, targets, lengths)
        chars = jax.numpy.astype(jax.numpy.sum(lengths), loss.dtype)
        share = chars / jax.lax.psum(chars, axis)

        def total(v):
            return jax.lax.psum(v * share, axis)

        return total(loss), {k: total(g) for k, g in grads.items()}

    specs = (P(), P(None, axis, None), P(axis, None), P(axis))
    # check_vma=False: the time loops start from states that do not vary along the axis
    step = jax.jit(
        jax.shard_map(part, mesh=mesh, in_specs=specs, out_specs=(P(), P()), check_vma=False)
    )

    def f(params, x, targets, lengths):
        placed = [
            jax.device_put(a, jax.sharding.NamedSharding(mesh, spec))
            for a, spec in zip((params, x, targets, lengths), specs, strict=True)
        ]
        return step(*placed)

    return f

"""Beyond one process: the character model's inference and training step with the batch split
among the workers of a Dask cluster, or among the devices of a JAX mesh.

Data parallel, exact: each part of a batch gives its mean loss per character and its
gradients (:func:`xrnn.charmodel.loss_and_grads`), weighted by its share of the batch's
characters and summed, which is the loss and the gradients of the whole batch. Nothing here is
a new computation; it only places the same one.

Dask's workers compute their part in blocks of :data:`ROWS` examples. Dask starts its workers
with ``MALLOC_TRIM_THRESHOLD_=65536``, which makes glibc map every array over 128 KiB afresh
(and fault in its pages) each time it is made: a worker then computes 10-20% slower (the
training step and inference of the benchmark's ``--cells dask``; more with bigger blocks).
:func:`local_cluster` starts workers without it; for a cluster started with ``dask worker``,
set ``DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__MALLOC_TRIM_THRESHOLD_=None`` where the
workers start, and :func:`dask_loss_and_grads` warns when its workers have the setting.
"""

import math
import os
import warnings
from collections.abc import Callable, Mapping
from itertools import pairwise

import array_api_compat

from ._arrays import Array, Lengths
from ._checks import check, check_lengths
from ._host import to_list
from .charmodel import Model, loss_and_grads
from .loss import _check_targets, output_forward

__all__ = [
    "ROWS",
    "dask_loss_and_grads",
    "local_cluster",
    "predict",
    "sharded_loss_and_grads",
]

ROWS = 256  # the examples a worker computes at once: buffers that malloc reuses
_TRIM = "MALLOC_TRIM_THRESHOLD_"
_UNSET_TRIM = {f"distributed.nanny.pre-spawn-environ.{_TRIM}": None}


def local_cluster(n_workers: int = 2, **kwargs):
    """A ``dask.distributed.LocalCluster`` of ``n_workers`` processes of one thread each
    (``kwargs`` go to it), started without ``MALLOC_TRIM_THRESHOLD_``: neither Dask's setting
    nor this process's variable (which Dask's own clusters leave behind in the process that
    starts them)."""
    import dask
    from distributed import LocalCluster

    kwargs = {"threads_per_worker": 1, "processes": True, "dashboard_address": ":0"} | kwargs
    saved = os.environ.pop(_TRIM, None)
    try:
        with dask.config.set(_UNSET_TRIM):
            return LocalCluster(n_workers=n_workers, **kwargs)
    finally:
        if saved is not None:
            os.environ[_TRIM] = saved


def predict(
    model: Model, params: Mapping[str, Array], x, lengths: Lengths = None, *, rows: int = ROWS
):
    """The logits ``(V, m, T)`` of the model's output layer for ``x (V, m, T)``, a Dask array
    split into chunks along the batch ``m`` only (its other axes are joined): a Dask array with
    ``x``'s chunks, each computed where the scheduler puts it, ``rows`` examples at a time.
    ``lengths``: None, or the ``m`` examples' lengths (a list, an array or a Dask array);
    logits past an example's length are those of a zero state."""
    import dask
    import dask.array as da

    if not isinstance(x, da.Array):
        raise TypeError(f"predict: x must be a Dask array (V, m, T); got {type(x).__name__}")
    if x.ndim != 3 or x.shape[0] != model.vocab:
        raise ValueError(
            f"predict: x must have shape (V, m, T), V = model.vocab = {model.vocab}; "
            f"got shape {x.shape}"
        )
    _check_rows("predict", rows)
    x = x.rechunk({0: -1, 2: -1})
    n = None
    if lengths is not None:
        n = da.asarray(lengths)
        if n.shape != (x.shape[1],):
            raise ValueError(
                f"predict: lengths must have shape (m,) = ({x.shape[1]},); got {n.shape}"
            )
        n = n.rechunk((x.chunks[1],))
    return da.blockwise(
        _logits,
        "vmt",
        x,
        "vmt",
        *((n, "m") if n is not None else (None, None)),
        adjust_chunks={"v": model.vocab},
        dtype=x.dtype,
        model=model,
        params=dask.delayed(params, pure=True, traverse=False),  # once in the graph
        rows=rows,
    )


def dask_loss_and_grads(model: Model, client, *, rows: int = ROWS) -> Callable:
    """``f(params, x, targets, lengths) -> (loss, grads)``: :func:`loss_and_grads` of the whole
    batch (``x (V, m, T)``, ``targets (m, T)``, ``lengths``, on this process), its ``m``
    examples split evenly among the threads of ``client``'s workers (a
    ``dask.distributed.Client``), each part computed ``rows`` examples at a time. Warns if
    the workers run with ``MALLOC_TRIM_THRESHOLD_`` set."""
    _check_rows("dask_loss_and_grads", rows)
    trims = {v for v in client.run(os.environ.get, _TRIM).values() if v is not None}
    if trims:
        warnings.warn(
            f"the Dask workers run with {_TRIM}={', '.join(sorted(trims))}, which slows "
            f"xrnn there: start them with xrnn.distributed.local_cluster, or with "
            f"DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__{_TRIM}=None in their environment",
            RuntimeWarning,
            stacklevel=2,
        )

    def f(params, x, targets, lengths=None):
        fname = "dask_loss_and_grads"  # the whole batch checked here, its parts there
        xp, sizes = check(fname, {"x": (x, ("n_x", "m", "T_x"))})
        m = sizes["m"]
        _check_targets(fname, targets, xp, x, (m, sizes["T_x"]), name="x")
        check_lengths(fname, lengths, m, sizes["T_x"], xp, x)
        n = min(sum(client.nthreads().values()), m)
        bounds = [m * i // n for i in range(n + 1)]
        [placed] = client.scatter([params], broadcast=True, hash=False)
        parts = client.scatter(
            [
                (x[:, lo:hi], targets[lo:hi], None if lengths is None else lengths[lo:hi])
                for lo, hi in pairwise(bounds)
            ],
            hash=False,
        )
        futures = [client.submit(_part, model, placed, part, rows, pure=False) for part in parts]
        loss, grads, _ = _weighted(client.gather(futures))
        return loss, grads

    return f


def _check_rows(name, rows):
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"{name}: rows must be a positive integer; got {rows!r}")


def _logits(x, lengths, model, params, rows):
    """The output layer's logits of one chunk, ``rows`` examples at a time."""
    xp = array_api_compat.array_namespace(x)
    out = []
    for lo in range(0, x.shape[1], rows):
        r = slice(lo, lo + rows)
        a, _, _ = model._layers(x[:, r], params, lengths=None if lengths is None else lengths[r])
        out.append(output_forward(a, params["Wy"], params["by"]))
    return out[0] if len(out) == 1 else xp.concat(out, axis=1)


def _part(model, params, batch, rows):
    """``(loss, grads, characters)`` of one part of a batch, ``(x, targets, lengths)``,
    ``rows`` examples at a time."""
    x, targets, lengths = batch
    blocks = []
    for lo in range(0, x.shape[1], rows):
        r = slice(lo, lo + rows)
        n = None if lengths is None else lengths[r]
        chars = math.prod(targets[r].shape) if n is None else sum(to_list(n))
        blocks.append((*loss_and_grads(model, params, x[:, r], targets[r], n), chars))
    return _weighted(blocks)


def _weighted(parts):
    """``(loss, grads, characters)`` of a batch from its parts', each weighted by its share
    of the characters."""
    total = sum(chars for *_, chars in parts)
    loss = sum(part_loss * (chars / total) for part_loss, _, chars in parts)
    grads = {k: sum(g[k] * (chars / total) for _, g, chars in parts) for k in parts[0][1]}
    return loss, grads, total


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

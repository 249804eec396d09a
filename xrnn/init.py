"""Initial parameters for every cell, single-step (the course's keys) or stacked layers.

The array API has no random numbers: they come from a seeded ``numpy.random.Generator`` (see
:mod:`xrnn._host`; reproducible on every backend) and move to the caller's namespace, dtype
and device.
"""

from typing import Any

from ._arrays import Array
from ._cell import CELLS
from ._host import default_namespace, generator
from .layers import suffix

__all__ = ["init_parameters"]


def init_parameters(
    cell: str,
    n_x: int,
    n_a: int,
    *,
    n_y: int | None = None,
    num_layers: int | None = None,
    bidirectional: bool = False,
    reset_after: bool = False,
    seed: Any = None,
    xp: Any = None,
    dtype: Any = None,
    device: Any = None,
) -> dict[str, Array]:
    """Parameters of ``cell`` (``"rnn"``, ``"lstm"``, ``"gru"``, ``"peephole"``: any registered
    cell) drawn as PyTorch draws them:
    uniform in ``±1/sqrt(n_a)`` (the output layer: ``±1/sqrt`` of its input width).

    Without ``num_layers``: the course's keys for one layer (``Wf, ..., bo``), with the output
    layer ``Wy, by`` (``Wya, by`` for the RNN) when ``n_y`` is given. With ``num_layers``, or
    ``bidirectional`` (one layer, as PyTorch's default): the layer keys of :mod:`xrnn.layers`
    (``Wf_l0``, ..., ``Wf_l0_reverse``, ...), plus ``Wy, by`` when ``n_y`` is given.
    ``reset_after`` adds the GRU's ``bca``. ``seed`` is an int >= 0, a list of them or a
    ``numpy.random.Generator``; ``xp`` (default NumPy), ``dtype`` (a real floating dtype of
    ``xp``, default float64) and ``device`` say where they go.
    """
    if cell not in CELLS:
        names = ", ".join(map(repr, sorted(CELLS)))
        raise ValueError(f"init_parameters: cell must be one of {names}; got {cell!r}")
    for name, v in (("n_x", n_x), ("n_a", n_a), ("n_y", n_y), ("num_layers", num_layers)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise ValueError(f"init_parameters: {name} must be a positive int; got {v!r}")
    for name, v in (("bidirectional", bidirectional), ("reset_after", reset_after)):
        if not isinstance(v, bool):
            raise TypeError(f"init_parameters: {name} must be True or False; got {v!r}")
    if reset_after and cell != "gru":
        raise ValueError(f"init_parameters: reset_after=True is the GRU's form; got cell {cell!r}")
    if bidirectional and num_layers is None:
        num_layers = 1  # two directions need the layer keys
    rng = generator(seed, "init_parameters")
    xp = xp or default_namespace()
    dtype = dtype or xp.float64
    try:  # a name is no dtype, though JAX's isdtype takes one
        floating = not isinstance(dtype, str) and xp.isdtype(dtype, "real floating")
    except (TypeError, ValueError, AttributeError):  # not a dtype of xp
        floating = False
    if not floating:
        raise TypeError(
            f"init_parameters: dtype must be a real floating dtype of {xp.__name__} "
            f"(float32 or float64); got {dtype!r}"
        )
    D = 2 if bidirectional else 1
    bound = n_a**-0.5
    shapes = {}
    for k in range(num_layers or 1):
        width = n_x if k == 0 else D * n_a
        for d in range(D if num_layers else 1):
            sfx = suffix(k, d) if num_layers else ""
            for key, dims in CELLS[cell].weights.items():
                shapes[key + sfx] = tuple(_size(v, n_a, width) for v in dims)
            if cell == "gru" and reset_after:
                shapes["bca" + sfx] = (n_a, 1)
    out = {k: rng.uniform(-bound, bound, s) for k, s in shapes.items()}
    if n_y is not None:
        width = D * n_a if num_layers else n_a
        out["Wya" if cell == "rnn" and not num_layers else "Wy"] = rng.uniform(
            -(width**-0.5), width**-0.5, (n_y, width)
        )
        out["by"] = rng.uniform(-(width**-0.5), width**-0.5, (n_y, 1))
    return {k: xp.asarray(v, dtype=dtype, device=device) for k, v in out.items()}


def _size(dim, n_a, width):
    if isinstance(dim, int):
        return dim
    return sum(n_a if s == "n_a" else width for s in dim.split("+"))

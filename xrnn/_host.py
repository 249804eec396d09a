"""The host side: the one module of xrnn that imports NumPy, for the two things the array API
standard does not have.

- Random numbers: a seeded ``numpy.random.Generator`` draws initial weights, shuffles batches
  and samples characters, so that a seed gives the same run on every backend.
- Files: the ``.npz`` format of checkpoints.
- Transfers to the host: an array's values as Python numbers, in one copy.

What comes from here reaches the compute code only through ``xp.asarray`` in the caller's
namespace, dtype and device; the compute code never sees NumPy.
"""

import array_api_compat
import numpy as np

__all__ = [
    "categorical",
    "default_namespace",
    "generator",
    "permutation",
    "read_npz",
    "to_list",
    "to_numpy",
    "write_npz",
]


def default_namespace():
    """NumPy's array API namespace, for callers that name none."""
    return array_api_compat.array_namespace(np.empty(0))


def generator(seed):
    """A ``numpy.random.Generator`` from an int, a list of ints or a generator (returned as is)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def permutation(seed, n):
    """The indices ``0..n-1`` shuffled by ``generator(seed)``."""
    return generator(seed).permutation(n)


def to_numpy(a):
    """A NumPy array of an array of any namespace and device (a view where it can be)."""
    try:
        return np.from_dlpack(a)  # the CPU arrays of any library
    except (BufferError, TypeError, ValueError, RuntimeError):
        return np.asarray(array_api_compat.to_device(a, "cpu"))  # CuPy, torch on a GPU


def to_list(a):
    """The values of a list, a tuple or a 1-D array of any namespace and device as a list of
    Python numbers: one transfer to the host."""
    return list(a) if isinstance(a, list | tuple) else to_numpy(a).tolist()


def categorical(rng, logits, temperature=1.0, top_k=None):
    """One draw per row of ``logits (n, V)`` (any namespace) from the softmax of
    ``logits / temperature``, among the ``top_k`` likeliest when given: a list of ``n`` ints."""
    logits = np.asarray(to_numpy(logits), dtype=np.float64) / temperature
    if top_k is not None:
        cut = np.sort(logits, axis=1)[:, -top_k][:, None]
        logits = np.where(logits < cut, -np.inf, logits)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return [int(rng.choice(p.shape[1], p=row)) for row in p]


def write_npz(file, arrays):
    """``arrays`` (arrays of any namespace, or strings) into the open binary ``file``."""
    np.savez(
        file, **{k: np.asarray(v) if isinstance(v, str) else to_numpy(v) for k, v in arrays.items()}
    )


def read_npz(file):
    """The arrays of an ``.npz`` file as NumPy arrays (0-D string arrays as ``str``), read
    without pickles."""
    with np.load(file, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return {k: str(v) if v.dtype.kind == "U" else v for k, v in arrays.items()}

"""The host side: the one module of xrnn that imports NumPy, for the two things the array API
standard does not have.

- Random numbers: a seeded ``numpy.random.Generator`` draws initial weights, shuffles batches
  and samples characters, so that a seed gives the same run on every backend.
- Files: the ``.npz`` format of checkpoints.
- Transfers to the host: an array's values as Python numbers, in one copy; NumPy arrays as
  torch tensors for PyTorch's ``load_state_dict``; whether there are values to transfer
  (none while ``jax.jit`` traces).

What comes from here reaches the compute code only through ``xp.asarray`` in the caller's
namespace, dtype and device; the compute code never sees NumPy.
"""

import math
import numbers
import os
import sys
import zipfile

import array_api_compat
import numpy as np

__all__ = [
    "array_bytes",
    "categorical",
    "default_namespace",
    "generator",
    "permutation",
    "read_npz",
    "to_list",
    "to_numpy",
    "to_torch_tensors",
    "traced",
    "write_npz",
]


def default_namespace():
    """NumPy's array API namespace, for callers that name none."""
    return array_api_compat.array_namespace(np.empty(0))


def generator(seed, fname="generator"):
    """A ``numpy.random.Generator`` from None, an int >= 0, a list of them, or a generator
    (returned as is); anything else is an error that names ``fname``, the public function."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence | np.random.BitGenerator):
        return np.random.default_rng(seed)
    ints = seed if isinstance(seed, list | tuple) else [seed]
    expected = "None, an int >= 0, a list of ints >= 0 or a numpy.random.Generator"
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in ints):
        raise TypeError(f"{fname}: seed must be {expected}; got {seed!r}")
    if any(s < 0 for s in ints):
        raise ValueError(f"{fname}: seed must be {expected}; got {seed!r}")
    return np.random.default_rng(seed)


def permutation(seed, n, fname="permutation"):
    """The indices ``0..n-1`` shuffled by ``generator(seed)``."""
    return generator(seed, fname).permutation(n)


def traced(*arrays):
    """Whether one of ``arrays`` is a value that ``jax.jit`` is tracing: its values are not
    known until the compiled function runs, so the checks that read values skip it."""
    core = sys.modules.get("jax.core")
    return core is not None and any(isinstance(a, core.Tracer) for a in arrays)


def to_numpy(a):
    """A NumPy array of an array of any namespace and device (a view where it can be)."""
    if callable(getattr(a, "detach", None)):  # a tensor that autograd tracks: its values
        a = a.detach()
    try:
        return np.from_dlpack(a)  # the CPU arrays of any library
    except (BufferError, TypeError, ValueError, RuntimeError):
        return np.asarray(array_api_compat.to_device(a, "cpu"))  # CuPy, torch on a GPU


def to_torch_tensors(arrays):
    """The NumPy ``arrays`` (a dict) as torch tensors sharing their memory; as they are where
    torch is not installed."""
    try:
        import torch
    except ImportError:
        return arrays
    return {k: torch.from_numpy(v) for k, v in arrays.items()}


def to_list(a):
    """The values of a list, a tuple or a 1-D array of any namespace and device as a list of
    Python numbers: one transfer to the host."""
    return list(a) if isinstance(a, list | tuple) else to_numpy(a).tolist()


def categorical(rng, logits, temperature=1.0, top_k=None):
    """One draw per row of ``logits (n, V)`` (any namespace) from the softmax of
    ``logits / temperature``, among the ``top_k`` likeliest when given: a list of ``n`` ints."""
    logits = np.asarray(to_numpy(logits), dtype=np.float64)
    if top_k is not None:
        cut = np.sort(logits, axis=1)[:, -top_k][:, None]
        logits = np.where(logits < cut, -np.inf, logits)
    with np.errstate(over="ignore"):  # a tiny temperature: -inf but for the likeliest
        p = np.exp((logits - logits.max(axis=1, keepdims=True)) / temperature)
    p /= p.sum(axis=1, keepdims=True)
    return [int(rng.choice(p.shape[1], p=row)) for row in p]


def array_bytes(name, a):
    """What identifies the NumPy array ``a`` named ``name``: name, dtype, shape and its bytes
    in C order."""
    a = np.ascontiguousarray(a)
    return f"{name}:{a.dtype.str}:{a.shape}".encode() + a.tobytes()


def write_npz(file, arrays):
    """``arrays`` (NumPy arrays, or strings) into the open binary ``file``, uncompressed."""
    np.savez(file, **{k: np.asarray(v) for k, v in arrays.items()})


def read_npz(file):
    """The arrays of an uncompressed ``.npz`` file (open, binary) as NumPy arrays (0-D string
    arrays as ``str``), read without pickles. Every member's declared size, and the size its
    header declares, are checked against the file before anything is allocated: a ``ValueError``
    for anything else."""
    size = os.fstat(file.fileno()).st_size
    arrays = {}
    with zipfile.ZipFile(file) as npz:
        members = npz.infolist()
        if sum(info.file_size for info in members) > size:
            raise ValueError("its members declare more bytes than the file holds")
        for info in members:
            if not info.filename.endswith(".npy") or info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"member {info.filename!r} is not a stored .npy array")
            with npz.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version not in ((1, 0), (2, 0)):
                    raise ValueError(f"member {info.filename!r} has .npy version {version}")
                read_header = getattr(np.lib.format, f"read_array_header_{version[0]}_0")
                shape, fortran, dtype = read_header(f, max_header_size=1024)
                count = math.prod(shape) * dtype.itemsize
                if dtype.hasobject or f.tell() + count != info.file_size:
                    raise ValueError(f"member {info.filename!r} declares {shape} of {dtype}")
                a = np.frombuffer(f.read(count), dtype)
                a = a.reshape(shape, order="F" if fortran else "C")
            arrays[info.filename[: -len(".npy")]] = str(a) if a.dtype.kind == "U" else a.copy()
    return arrays

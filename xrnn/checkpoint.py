"""Checkpoints that never lose work: one ``.npz`` file, written whole or not at all.

A checkpoint holds the parameters (``param.<key>``), the optimiser's state
(``opt.<slot>.<key>``) and a JSON document (``meta``: configuration, vocabulary, step, loss
history, ...). It is written to a temporary file beside the target, flushed to disk and then
renamed over it (``os.replace``), so that the target is always either the old checkpoint or the
new one; it is read with ``allow_pickle=False`` (the file work is :mod:`xrnn._host`'s).
"""

import json
import os
import zipfile
from pathlib import Path

from ._host import read_npz, write_npz

__all__ = ["CheckpointError", "load", "save"]

FORMAT, VERSION = "xrnn-checkpoint", 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit, with a one-line reason."""


def save(path, params, optimizer_state, meta):
    """Write params, optimiser state and ``meta`` (JSON-able) to ``path``, atomically."""
    path = Path(path)
    arrays = {f"param.{k}": v for k, v in params.items()}
    for slot, values in optimizer_state.items():
        if slot != "steps":
            arrays.update({f"opt.{slot}.{k}": v for k, v in values.items()})
    meta = {
        "format": FORMAT,
        "version": VERSION,
        **meta,
        "optimizer_steps": int(optimizer_state.get("steps", 0)),
    }
    arrays["meta"] = json.dumps(meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load(path):
    """``(params, optimizer_state, meta)`` of the checkpoint at ``path``, as NumPy arrays."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with open(path, "rb") as f:
            arrays = read_npz(f)
        meta = json.loads(arrays.pop("meta"))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as e:
        raise CheckpointError(
            f"checkpoint {path} is truncated or corrupted ({type(e).__name__}: {e})"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an xrnn checkpoint")
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {meta.get('version')}; "
            f"this xrnn reads version {VERSION}"
        )
    params = {k[len("param.") :]: v for k, v in arrays.items() if k.startswith("param.")}
    state = {"steps": meta["optimizer_steps"]}
    for k, v in arrays.items():
        if k.startswith("opt."):
            _, slot, key = k.split(".", 2)
            state.setdefault(slot, {})[key] = v
    return params, state, meta

"""Checkpoints that never lose work: one ``.npz`` file, written whole or not at all.

A checkpoint holds the parameters (``param.<key>``), the optimiser's state
(``opt.<slot>.<key>``) and a JSON document (``meta``: configuration, vocabulary, step, loss
history, ...). It is written to a temporary file beside the target, flushed to disk and then
renamed over it (``os.replace``), so that the target is always either the old checkpoint or the
new one. The temporary file's name, ``.NAME.PID.tmp``, tells a stale one (after ``kill -9``).

``meta`` carries the SHA-256 of everything else in the file, so that any change to its bytes
is found on loading: the file is read without pickles, every size it declares checked before
anything is allocated (the file work is :mod:`xrnn._host`'s), and every fault is a
:class:`CheckpointError`.
"""

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import array_api_compat

from ._host import array_bytes, default_namespace, read_npz, to_numpy, write_npz
from .charmodel import Model

__all__ = ["Checkpoint", "CheckpointError", "load", "save"]

FORMAT, VERSION = "xrnn-checkpoint", 2


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit, with a one-line reason."""


class Checkpoint(NamedTuple):
    """What :func:`load` returns (it unpacks as ``params, optimizer_state, meta``).

    - ``params``: the parameters, NumPy arrays by name;
    - ``optimizer_state``: what the optimiser's ``load_state_dict`` takes (``steps`` and its
      slots, NumPy arrays by parameter name);
    - ``meta``: the rest, as saved: for a run of ``xrnn train``, ``config`` (its options),
      ``vocab`` (its characters, the end mark first), ``step``, ``history`` (``train``: the
      loss of every step; ``val``: ``[step, held-out loss]`` pairs), ``bigram``, ``corpus``
      and ``model`` (the keyword arguments of :class:`xrnn.charmodel.Model`).
    """

    params: dict[str, Any]
    optimizer_state: dict[str, Any]
    meta: dict[str, Any]

    @property
    def config(self):
        return self.meta.get("config")

    @property
    def vocab(self):
        return self.meta.get("vocab")

    @property
    def step(self):
        return self.meta.get("step")

    @property
    def history(self):
        return self.meta.get("history")

    def model(self, xp=None, device=None):
        """The run's :class:`xrnn.charmodel.Model` and its parameters, as arrays of ``xp``
        (NumPy's namespace by default) on ``device``: ready for ``generate`` or ``evaluate``."""
        xp = xp or default_namespace()
        params = {k: xp.asarray(v, device=device) for k, v in self.params.items()}
        return Model(**self.meta["model"]), params


def save(
    path: str | os.PathLike,
    params: Mapping[str, Any],
    optimizer_state: Mapping[str, Any],
    meta: Mapping[str, Any],
) -> None:
    """Write params, optimiser state and ``meta`` (JSON-able) to ``path``, atomically."""
    path = Path(path)
    for name, value in (("params", params), ("optimizer_state", optimizer_state), ("meta", meta)):
        if not isinstance(value, Mapping):
            raise TypeError(f"checkpoint.save: {name} must be a dict; got {type(value).__name__}")
    named = [(f"params[{k!r}]", v) for k, v in params.items()]
    named += [
        (f"optimizer_state[{s!r}][{k!r}]", v)
        for s, slot in optimizer_state.items()
        if s != "steps"
        for k, v in (slot.items() if isinstance(slot, Mapping) else [(None, slot)])
    ]
    for name, value in named:
        if not array_api_compat.is_array_api_obj(value) or isinstance(value, int | float):
            raise TypeError(f"checkpoint.save: {name} must be an array; got {type(value).__name__}")
    try:
        json.dumps(meta)
    except (TypeError, ValueError) as e:
        raise TypeError(f"checkpoint.save: meta must be JSON-serialisable ({e})") from None
    reserved = sorted({"format", "version", "optimizer_steps", "sha256"} & set(meta))
    if reserved:
        raise ValueError(f"checkpoint.save: meta must not hold {reserved}: the file's own")
    bad = [s for s in optimizer_state if s != "steps" and ("." in s or not s)]
    if bad:
        raise ValueError(f"checkpoint.save: optimiser slot names must have no dots; got {bad}")
    values = {k: to_numpy(v) for k, v in params.items()}
    state: dict[str, Any] = {"steps": int(optimizer_state.get("steps", 0))}
    state.update(
        {
            s: {k: to_numpy(v) for k, v in slot.items()}
            for s, slot in optimizer_state.items()
            if s != "steps"
        }
    )
    try:
        _check_arrays(path, values, state)
    except CheckpointError as e:
        raise ValueError(f"checkpoint.save: {e}") from None
    arrays: dict[str, Any] = {f"param.{k}": v for k, v in values.items()}
    for slot, slot_values in state.items():
        if slot != "steps":
            arrays.update({f"opt.{slot}.{k}": v for k, v in slot_values.items()})
    own = {**meta, "format": FORMAT, "version": VERSION, "optimizer_steps": state["steps"]}
    own = json.loads(json.dumps(own))  # as it will be read: lists, string keys
    own["sha256"] = _digest(arrays, own)
    arrays["meta"] = json.dumps(own)
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


def load(path: str | os.PathLike) -> Checkpoint:
    """The :class:`Checkpoint` at ``path`` (a file, or a run directory holding
    ``checkpoint.npz``): the file whole and unchanged since it was saved, its parameters and
    optimiser state floating-point arrays of one dtype and of matching keys and shapes."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.npz"
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with open(path, "rb") as f:
            arrays = read_npz(f)
        meta = json.loads(arrays.pop("meta", "null"))
    except Exception as e:  # any fault in the file's bytes
        reason = f"{type(e).__name__}: {e}".splitlines()[0][:200]
        raise CheckpointError(f"checkpoint {path} is truncated or corrupted ({reason})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an xrnn checkpoint")
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {meta.get('version')!r}; "
            f"this xrnn reads version {VERSION}"
        )
    if meta.pop("sha256", None) != _digest(arrays, meta):
        raise CheckpointError(f"checkpoint {path} is corrupted: its checksum does not match")
    params = {k[len("param.") :]: v for k, v in arrays.items() if k.startswith("param.")}
    steps = meta.get("optimizer_steps")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise CheckpointError(f"checkpoint {path}: optimizer_steps must be an int >= 0")
    state: dict[str, Any] = {"steps": steps}
    for k, v in arrays.items():
        if k.startswith("opt."):
            _, slot, key = k.split(".", 2)
            state.setdefault(slot, {})[key] = v
    _check_arrays(path, params, state)
    return Checkpoint(params, state, meta)


def _check_arrays(path, params, state):
    if not params:
        raise CheckpointError(f"checkpoint {path} holds no parameters")
    dtypes = {str(v.dtype) for v in params.values()}
    if len(dtypes) != 1 or dtypes - {"float32", "float64"}:
        raise CheckpointError(
            f"checkpoint {path}: parameters must be float32 or float64, all alike; got "
            f"{', '.join(sorted(dtypes))}"
        )
    for slot, values in state.items():
        if slot == "steps":
            continue
        for k, v in values.items():
            if k not in params or v.shape != params[k].shape or v.dtype != params[k].dtype:
                raise CheckpointError(
                    f"checkpoint {path}: optimiser state {slot}.{k} does not match a parameter"
                )
    bad = [k for k, v in params.items() if not _finite(v)]
    if bad:
        raise CheckpointError(
            f"checkpoint {path}: parameters {', '.join(bad)} are not finite (NaN or inf)"
        )


def _finite(a):
    xp = array_api_compat.array_namespace(a)
    return bool(xp.all(xp.isfinite(a)))


def _digest(arrays, meta):
    """SHA-256 of the arrays (names, dtypes, shapes, bytes) and of ``meta`` (JSON)."""
    h = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    for k in sorted(arrays):
        h.update(array_bytes(k, arrays[k]))
    return h.hexdigest()

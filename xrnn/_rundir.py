"""The output directory of a training run, held for the run's duration: checked to be
writable before any training, locked against a second run, and swept of the temporary files
that a killed run left.

A run takes an exclusive ``flock`` on ``DIR/.lock`` (released by the system when the process
ends, however it ends) and writes its PID there, so a second run on the same directory fails at
once and names the first. Under the lock no other run writes in the directory, so every
``DIR/.*.tmp`` (the temporary files of atomic writes, :mod:`xrnn.checkpoint`) is a stale one
and is removed. A probe file of the size the checkpoint will take is then written, flushed and
removed: a directory that is a file, lies under a file, is read-only or on a full disk fails
here, not after training to the first save.
"""

import contextlib
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no lock
    fcntl = None  # type: ignore[assignment]

__all__ = ["RunDirError", "hold"]


class RunDirError(OSError):
    """An output directory that cannot be used, with a one-line reason."""


class hold:
    """``with hold(out) as rundir:`` the directory ``out``, created if need be, locked and
    swept (see the module); ``rundir.probe(nbytes)`` checks it takes a file of ``nbytes``."""

    def __init__(self, out):
        self.out, self._fd = Path(out), None

    def __enter__(self):
        if self.out.exists() and not self.out.is_dir():
            raise RunDirError(f"--out {self.out} is a file, not a directory")
        self._created = not self.out.exists()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.out / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise RunDirError(f"--out {self.out} cannot be used: {_reason(e)}") from None
        try:
            self._prepare()
        except BaseException as e:
            self.__exit__(type(e), e, None)
            raise
        return self

    def _prepare(self):
        self._lock()
        for stale in self.out.glob(".*.tmp"):
            stale.unlink(missing_ok=True)

    def probe(self, nbytes):
        """Raise :class:`RunDirError` unless a file of ``nbytes`` can be written here."""
        probe = self.out / f".probe.{os.getpid()}.tmp"
        try:
            with open(probe, "wb") as f:
                if hasattr(os, "posix_fallocate"):
                    os.posix_fallocate(f.fileno(), 0, max(1, nbytes))
                else:
                    f.write(bytes(nbytes))
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise RunDirError(
                f"--out {self.out} cannot take a checkpoint of {nbytes:,} bytes: {_reason(e)}"
            ) from None
        finally:
            probe.unlink(missing_ok=True)

    def _lock(self):
        if fcntl is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pid = os.pread(self._fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise RunDirError(
                f"--out {self.out} is in use by another xrnn train (PID {pid}); wait for it "
                f"to end or choose another --out"
            ) from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def __exit__(self, kind, error, traceback):
        if self._fd is None:
            return
        if kind is not None and self._created:  # a run that failed leaves no directory
            (self.out / ".lock").unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self.out.rmdir()  # if empty
        os.close(self._fd)  # releases the lock
        self._fd = None


def _reason(e):
    """An OSError's reason, without its path (the caller names the directory)."""
    return e.strerror or type(e).__name__

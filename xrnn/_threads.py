"""xrnn's thread policy around its own work on NumPy arrays: BLAS threads only on cores that no
other process is using.

OpenBLAS splits each product between its threads and waits for the slowest; its idle threads
spin for a while after each product. On a machine whose other cores are busy, a BLAS thread
waits for a core, and the step that follows a product waits for it: two competing processes
on two cores made a training run 3-10x slower with two BLAS threads than with one. So each
engine pass counts the runnable threads of other processes (the kernel's count of runnable
threads in ``/proc/loadavg``, less this process's own: its thread and its BLAS threads) and,
for its own duration, lets BLAS use at most the cores they leave free (at least one); an idle
machine keeps the user's setting. The compiled steps are serial: nothing of xrnn's spins
against BLAS. The user's own settings are restored after each pass. ``XRNN_THREADS=user``
turns the policy off.
"""

import contextlib
import os

__all__ = ["policy"]

_BLAS = []


def policy(x):
    """A context in which BLAS runs at most on the cores that other processes leave free, for
    work on arrays like ``x`` (NumPy's); a context that changes nothing otherwise."""
    if type(x).__module__ != "numpy" or os.environ.get("XRNN_THREADS", "").lower() == "user":
        return contextlib.nullcontext()
    blas = _blas()
    if blas is None:
        return contextlib.nullcontext()
    threads = max((lib.num_threads for lib in blas.lib_controllers), default=1)
    free = _free_cores(threads)
    if free is None or threads <= free:
        return contextlib.nullcontext()
    return blas.limit(limits=max(1, free))


def _blas():
    """threadpoolctl's controller of the BLAS libraries, made once (it inspects every loaded
    library); None without threadpoolctl."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _BLAS.append(None)
        else:
            _BLAS.append(ThreadpoolController().select(user_api="blas"))
    return _BLAS[0]


def _free_cores(threads):
    """The cores this process may use less the runnable threads of other processes (the count
    of runnable threads less this one and its ``threads - 1`` BLAS threads, which may be
    spinning), or None where the system does not say."""
    try:
        with open("/proc/loadavg", "rb") as f:
            running = int(f.read().split()[3].split(b"/")[0])
    except (OSError, IndexError, ValueError):
        return None
    return len(os.sched_getaffinity(0)) - max(0, running - threads)

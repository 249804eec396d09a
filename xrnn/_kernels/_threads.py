"""xrnn's thread policy around its own work on NumPy arrays (the NumPy path's, beside its
kernels): on a machine whose cores other processes are using, threads of its own that never
wait for each other in a time loop and never spin, in place of BLAS's.

OpenBLAS splits each product between its threads and waits for the slowest; its idle threads
spin for a while after each product. A time loop is a product and a compiled step after
another: on a machine whose other cores are busy, each product waits for a BLAS thread to get
a core, and the step waits for the product (two competing processes on two cores made a
training run 3-10x slower with two BLAS threads than with one). The rows of a batch never
meet within a time loop, though. So each engine pass counts the runnable threads of other
processes (``/proc/loadavg``'s count less this process's own); where they leave fewer cores
free than BLAS has threads, the pass runs BLAS on one thread and blocks of rows on as many
threads of xrnn's own as BLAS had: each block a whole time loop (:func:`parallel`), and each
big product before or after the loop split the same way (:func:`matmul`). No thread waits for
another until its block is done, and none spins, so each keeps its fair share of a core. Only
blocks with enough work between two returns to Python get a thread (:data:`MIN_WORK`): every
return takes the GIL, and a thread preempted while it holds the GIL stops the others (blocks
of a training step at the default size, 2 million multiply-adds, ran 3.7x slower under load
than idle; a medium LSTM's, 8 million, under 2x). And only blocks with enough work in all
(:data:`MIN_BLOCK`): a thread started on a machine whose cores are busy waits milliseconds,
a time slice of the scheduler's, before it runs (the default training step with its products
split in two ran 1.7x slower under load than with none split). An idle machine keeps the
user's setting; the user's settings are restored after each pass.
``XRNN_THREADS=user`` turns the policy off.
"""

import contextlib
import contextvars
import os
import threading

__all__ = ["MIN_BLOCK", "MIN_ROWS", "MIN_WORK", "matmul", "parallel", "policy"]

MIN_ROWS = 16  # the fewest rows worth a thread of their own
MIN_WORK = 4_000_000  # the fewest multiply-adds between two returns to Python worth a thread
MIN_BLOCK = 100_000_000  # the fewest multiply-adds in all worth a thread (~10 ms on a core)
_BLAS: list = []  # the controller, once made
_WORKERS = contextvars.ContextVar("xrnn_workers", default=1)


@contextlib.contextmanager
def policy(x):
    """A context for work on arrays like ``x``: on NumPy's, where other processes leave fewer
    cores free than BLAS has threads, one in which BLAS runs on one thread and
    :func:`parallel` and :func:`matmul` on as many as BLAS had; one that changes nothing
    otherwise."""
    off = type(x).__module__ != "numpy" or os.environ.get("XRNN_THREADS", "").lower() == "user"
    blas = None if off else _blas()
    threads = max((lib.num_threads for lib in blas.lib_controllers), default=1) if blas else 1
    free = _free_cores(threads) if threads > 1 else None
    if free is None or free >= threads:
        yield
        return
    token = _WORKERS.set(threads)
    try:
        with blas.limit(limits=1):
            yield
    finally:
        _WORKERS.reset(token)


def parallel(f, m, cost, running=None):
    """``f(lo, hi)`` for blocks of the rows ``0`` to ``m`` that together cover them, each block
    on a thread of its own (the first on this one), as many as the :func:`policy` allows, of at
    least :data:`MIN_ROWS` rows, :data:`MIN_WORK` multiply-adds between two returns to Python
    (which take the GIL; ``cost``, a row's) and :data:`MIN_BLOCK` in all; ``f(0, m)`` alone
    otherwise. ``running``: the count of rows each step of a time loop runs (the first ones),
    ``f`` a block's whole loop; blocks get equal shares of the steps' rows. Without it, ``f``
    returns to Python once."""
    total = cost * (m if running is None else sum(running))
    n = min(_WORKERS.get(), m // MIN_ROWS, m * cost // MIN_WORK, total // MIN_BLOCK)
    if n <= 1:
        f(0, m)
        return
    bounds = [m * i // n for i in range(n + 1)]
    if running is not None:
        import numpy as np

        steps = np.cumsum(np.bincount(running, minlength=m + 1)[::-1])[::-1][1:]  # of each row
        middle = np.cumsum(steps) - steps / 2  # of each row's work, counted from row 0
        cut = np.searchsorted(middle, steps.sum() * np.arange(1, n) / n)  # the nearest bounds
        bounds = [0, *np.clip(cut, np.arange(1, n), m - n + np.arange(1, n)).tolist(), m]
    errors = []

    def run(lo, hi):
        try:
            f(lo, hi)
        except BaseException as e:  # raised again on the calling thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=bounds[i : i + 2]) for i in range(1, n)]
    for t in threads:
        t.start()
    run(*bounds[:2])
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def matmul(a, b):
    """``a @ b``, blocks of ``a``'s rows on threads of their own (:func:`parallel`) in a pass
    under the :func:`policy`."""
    if _WORKERS.get() <= 1 or a.shape[0] < 2 * MIN_ROWS:
        return a @ b
    import numpy as np  # only NumPy arrays get here

    out = np.empty((a.shape[0], b.shape[1]), np.result_type(a, b))
    cost = a.shape[1] * b.shape[1]
    parallel(lambda lo, hi: np.matmul(a[lo:hi], b, out=out[lo:hi]), a.shape[0], cost)
    return out


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

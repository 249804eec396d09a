"""xrnn's thread policy (xrnn/_kernels/_threads.py): blocks of rows on threads of their own,
products split by rows, and the policy that turns them on under load and restores BLAS's setting.

NumPy only: the policy applies to nothing else, so these tests take no ``backend``."""

import threading

import numpy as np
import pytest

from xrnn._kernels import _threads


@pytest.fixture
def workers(monkeypatch):
    """Three workers, as the policy allows under load, and blocks of any size."""
    monkeypatch.setattr(_threads, "MIN_ROWS", 1)
    monkeypatch.setattr(_threads, "MIN_WORK", 1)
    monkeypatch.setattr(_threads, "MIN_BLOCK", 1)
    token = _threads._WORKERS.set(3)
    yield 3
    _threads._WORKERS.reset(token)


def _blocks(m, cost=1, running=None):
    """The blocks ``parallel`` gives, in order, and the threads they ran on."""
    seen = []
    _threads.parallel(
        lambda lo, hi: seen.append((lo, hi, threading.current_thread())), m, cost, running
    )
    return sorted(seen)


def test_parallel_covers_the_rows_once_on_threads_of_their_own(workers):
    blocks = _blocks(10)
    assert [(lo, hi) for lo, hi, _ in blocks] == [(0, 3), (3, 6), (6, 10)]
    assert blocks[0][2] is threading.current_thread()  # the first on the calling thread
    assert len({id(thread) for *_, thread in blocks}) == 3


def test_parallel_balances_the_rows_that_run(workers):
    """Sorted lengths: the first rows run more steps, so they get smaller blocks."""
    running = [9, 9, 9, 6, 3, 3]  # rows running at each step
    steps = np.array([6, 6, 6, 4, 4, 4, 3, 3, 3])  # steps each row runs: 39, 13 a block
    blocks = [(lo, hi) for lo, hi, _ in _blocks(9, running=running)]
    assert blocks == [(0, 2), (2, 5), (5, 9)]
    assert [int(steps[lo:hi].sum()) for lo, hi in blocks] == [12, 14, 13]


def test_parallel_stays_on_one_thread_below_the_least_work(workers, monkeypatch):
    monkeypatch.setattr(_threads, "MIN_WORK", 100)
    assert [(lo, hi) for lo, hi, _ in _blocks(10, cost=10)] == [(0, 10)]  # 100 in all
    assert len(_blocks(10, cost=20)) == 2  # 200: two blocks of at least 100
    monkeypatch.setattr(_threads, "MIN_ROWS", 4)
    assert len(_blocks(10, cost=1000)) == 2  # no block under 4 rows


def test_parallel_stays_on_one_thread_below_the_least_work_in_all(workers, monkeypatch):
    """A block must outweigh the wait for a core: a product's whole work, or a time loop's."""
    monkeypatch.setattr(_threads, "MIN_BLOCK", 100)
    assert len(_blocks(10, cost=10)) == 1  # a product of 100 in all
    assert len(_blocks(10, cost=20)) == 2
    assert len(_blocks(10, cost=2, running=[10] * 6)) == 1  # 6 steps of 20
    assert len(_blocks(10, cost=2, running=[10] * 10)) == 2  # 10 steps of 20


def test_parallel_raises_a_blocks_error_on_the_calling_thread(workers):
    def f(lo, hi):
        if lo > 0:
            raise KeyError(lo)

    with pytest.raises(KeyError):
        _threads.parallel(f, 9, 1)


def test_matmul_in_blocks_is_the_product(workers):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((40, 7)), rng.standard_normal((7, 5))
    np.testing.assert_allclose(_threads.matmul(a, b), a @ b, rtol=1e-14)
    np.testing.assert_allclose(_threads.matmul(a[:, :3].T, a[:, 3:]), a[:, :3].T @ a[:, 3:])


def test_the_policy_under_load_restores_the_users_setting(monkeypatch):
    """Under load (no core free), BLAS on one thread and xrnn's own threads in its place, for
    the pass only; nothing changes on an idle machine, for other arrays or with
    ``XRNN_THREADS=user``."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = _threads._blas()
    if blas is None or not blas.lib_controllers:
        pytest.skip("no BLAS that threadpoolctl controls")
    monkeypatch.delenv("XRNN_THREADS", raising=False)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = [lib.num_threads for lib in blas.lib_controllers]
        monkeypatch.setattr(_threads, "_free_cores", lambda threads: 0)
        with _threads.policy(np.zeros(1)):
            assert _threads._WORKERS.get() == 2
            assert all(lib.num_threads == 1 for lib in _threads._blas().lib_controllers)
        assert _threads._WORKERS.get() == 1
        assert [lib.num_threads for lib in blas.lib_controllers] == before
        for x, env in [(np.zeros(1), "user"), ([0.0], None)]:
            if env:
                monkeypatch.setenv("XRNN_THREADS", env)
            with _threads.policy(x):
                assert _threads._WORKERS.get() == 1
        monkeypatch.delenv("XRNN_THREADS")
        monkeypatch.setattr(_threads, "_free_cores", lambda threads: 2)
        with _threads.policy(np.zeros(1)):
            assert _threads._WORKERS.get() == 1

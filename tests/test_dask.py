"""xrnn.distributed on a Dask cluster of two worker processes (the ``tests-dask`` session; the
others skip it): batch-parallel inference and the data-parallel training step give one
process's values, ``fit`` and ``xrnn train --scheduler`` train with it as without, and the
workers start without Dask's ``MALLOC_TRIM_THRESHOLD_``."""

import os

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("distributed")

from test_hostile_cli import SMALL, one_line_error, run  # noqa: E402
from test_readme import ROOT, _blocks  # noqa: E402

from xrnn import charmodel, checkpoint, distributed, optim  # noqa: E402
from xrnn.loss import output_forward  # noqa: E402
from xrnn.training import fit  # noqa: E402

V, T = 7, 6


@pytest.fixture(scope="module")
def client():
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # as a cluster of Dask's leaves it
        cluster = distributed.local_cluster(2)
    with cluster, dd.Client(cluster) as c:
        yield c


def _batch(m, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, V, (m, T))
    return np.eye(V)[ids].transpose(2, 0, 1), np.roll(ids, -1, axis=1), rng.integers(1, T + 1, m)


def _model(cell):
    model = charmodel.Model(cell, layers=2, hidden=5, vocab=V)
    return model, model.init(seed=1)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("given", ["none", "list", "array", "dask"])
def test_predict_gives_one_process_logits(client, cell, given):
    model, params = _model(cell)
    x, _, lengths = _batch(11)
    a, _, _ = model._layers(x, params, lengths=None if given == "none" else lengths)
    expected = output_forward(a, params["Wy"], params["by"])
    lengths = {
        "none": None,
        "list": lengths.tolist(),
        "array": lengths,
        "dask": da.from_array(lengths, chunks=5),
    }[given]
    logits = distributed.predict(model, params, da.from_array(x, chunks=(V, 4, 3)), lengths, rows=3)
    assert logits.chunks == ((V,), (4, 4, 3), (T,))
    np.testing.assert_allclose(logits.compute(), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize(("m", "given"), [(9, "list"), (9, "array"), (9, "none"), (1, "list")])
def test_the_data_parallel_step_gives_the_whole_batch(client, cell, m, given):
    model, params = _model(cell)
    x, targets, lengths = _batch(m)
    lengths = {"none": None, "list": lengths.tolist(), "array": lengths}[given]
    loss, grads = charmodel.loss_and_grads(model, params, x, targets, lengths)
    step = distributed.dask_loss_and_grads(model, client, rows=2)
    got_loss, got = step(params, x, targets, lengths)
    assert abs(float(got_loss) - float(loss)) < 1e-12
    assert got.keys() == grads.keys()
    for k in grads:
        np.testing.assert_allclose(got[k], grads[k], rtol=0, atol=1e-12, err_msg=k)


def test_fit_trains_on_the_cluster_as_here(client):
    model, start = _model("lstm")
    batches = [_batch(16, seed) for seed in range(3)]
    trained = []
    for step in (None, distributed.dask_loss_and_grads(model, client)):
        params = {k: v.copy() for k, v in start.items()}
        losses: list[float] = []
        fit(
            model,
            params,
            optim.Adam(params, lr=1e-2),
            batches.__getitem__,
            steps=3,
            clip=1.0,
            on_step=lambda _, loss, losses=losses: losses.append(loss),
            loss_and_grads=step,
        )
        trained.append((losses, params))
    (losses, here), (cluster_losses, there) = trained
    np.testing.assert_allclose(cluster_losses, losses, rtol=1e-12)
    for k in here:
        np.testing.assert_allclose(there[k], here[k], rtol=0, atol=1e-12, err_msg=k)


def test_xrnn_train_on_a_scheduler(client, tmp_path, capsys):
    args = ["--steps", 4, "--no-plot", "--dtype", "float64", *SMALL]
    rc, out, err = run(capsys, "train", "--out", tmp_path / "here", *args)
    assert rc == 0, err
    address = client.scheduler.address
    rc, out, err = run(capsys, "train", "--out", tmp_path / "there", "--scheduler", address, *args)
    assert rc == 0, err
    assert f"on the Dask scheduler at {address}: 2 workers, 2 threads" in out
    here = checkpoint.load(tmp_path / "here" / "checkpoint.npz")
    there = checkpoint.load(tmp_path / "there" / "checkpoint.npz")
    assert there.step == here.step == 4
    for k in here.params:
        np.testing.assert_allclose(there.params[k], here.params[k], rtol=0, atol=1e-12)


def test_xrnn_train_says_when_the_workers_have_the_trim_setting(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # Dask's nannies set it here too
    with (
        dd.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster,
        dd.Client(cluster) as c,
    ):
        args = ["--scheduler", c.scheduler.address, "--steps", 1, "--no-plot", *SMALL]
        rc, _, err = run(capsys, "train", "--out", tmp_path, *args)
    assert rc == 0, err
    assert "xrnn: warning: the Dask workers run with MALLOC_TRIM_THRESHOLD_=65536" in err


def test_a_scheduler_address_that_is_not_one(tmp_path, capsys):
    rc, _, err = run(capsys, "train", "--out", tmp_path, "--scheduler", "nowhere://x", *SMALL)
    one_line_error(rc, err, "--scheduler nowhere://x: no Dask scheduler there")


def test_the_workers_start_without_the_trim_setting(client):
    assert set(client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()) == {None}


def test_workers_with_the_trim_setting_get_a_warning():
    class Client:  # a cluster whose workers run with Dask's setting
        def run(self, f, *args):
            return {"tcp://a": "65536", "tcp://b": "65536"}

    model, _ = _model("gru")
    with pytest.warns(RuntimeWarning, match="MALLOC_TRIM_THRESHOLD_=65536, which slows"):
        distributed.dask_loss_and_grads(model, Client())


def test_bad_input_is_named(client):
    model, params = _model("lstm")
    x, _, lengths = _batch(4)
    with pytest.raises(TypeError, match=r"predict: x must be a Dask array .* got ndarray"):
        distributed.predict(model, params, x)
    for wrong in (x[0], x[1:]):
        with pytest.raises(ValueError, match=r"predict: x must have shape \(V, m, T\), V = "):
            distributed.predict(model, params, da.from_array(wrong))
    with pytest.raises(ValueError, match=r"lengths must have shape \(m,\) = \(4,\); got \(3,\)"):
        distributed.predict(model, params, da.from_array(x), lengths[:3])
    step = distributed.dask_loss_and_grads(model, client)
    x, targets, lengths = _batch(9)
    fname = "dask_loss_and_grads: "
    with pytest.raises(ValueError, match=fname + r"targets must have shape \(m, T_x\) = \(9, 6\)"):
        step(params, x, targets[:, 1:], lengths)
    with pytest.raises(ValueError, match=fname + r"lengths must have shape \(m,\) = \(9,\)"):
        step(params, x, targets, lengths[1:])
    with pytest.raises(ValueError, match=fname + "lengths must lie in 1..T_x = 1..6"):
        step(params, x, targets, lengths + 1)
    with pytest.raises(ValueError, match=fname + "x must be a 3-D array of shape"):
        step(params, x[0], targets, lengths)
    for rows in (0, 1.5, True):
        with pytest.raises(ValueError, match="rows must be a positive integer"):
            distributed.predict(model, params, da.from_array(x), rows=rows)
        with pytest.raises(ValueError, match="rows must be a positive integer"):
            distributed.dask_loss_and_grads(model, client, rows=rows)


def test_the_dask_examples_run():
    namespace = {}
    for block in _blocks(ROOT / "docs" / "scaling-out.md"):
        if "distributed import Client" in block:
            exec(block, namespace)
    assert namespace["logits"].shape == (27, 64, 12)
    assert abs(float(namespace["loss"]) - np.log(27)) < 0.05  # an untrained model's
    assert namespace["grads"]["dWy"].shape == (27, 32)

"""Hostile checkpoints: corrupted bytes, files that are not checkpoints, members that declare
more than the file holds, a zip without parameters, and tampered metadata (types, ranges, a
vocabulary that disagrees with the parameters' shapes, a changed config) each give a one-line
error (exit 2 from the command), never a raw traceback, never a resumed run on something else."""

import io
import json
import zipfile

import numpy as np
import pytest

from xrnn import _run, checkpoint, cli

SMALL = ["--hidden", "8", "--batch", "16", "--eval-every", "2", "--sample-every", "50"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The bytes of a good checkpoint at step 2."""
    out = tmp_path_factory.mktemp("saved")
    assert cli.main(["train", "--out", str(out), "--steps", "2", "--no-plot", *SMALL]) == 0
    return (out / "checkpoint.npz").read_bytes()


def refused(tmp_path, capsys, content, text):
    """``content`` at a run's checkpoint: ``xrnn train --resume`` and ``xrnn sample`` refuse it
    with a one-line error containing ``text``, and leave it as it was."""
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(content)
    for args in (
        ["train", "--out", tmp_path, "--resume", "--steps", 4, *SMALL],
        ["sample", "--checkpoint", path],
    ):
        rc = cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        assert rc == 2, (out, err)
        assert err.count("\n") == 1 and err.startswith("xrnn: error: "), err
        assert text in err, err
    assert path.read_bytes() == content


def test_every_single_byte_corruption_is_refused_or_harmless(tmp_path, saved):
    """Single bytes changed all over the file (every 7th, to three values): each load raises
    CheckpointError, or gives exactly what was saved (a byte the zip format does not read)."""
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(saved)
    good = checkpoint.load(path)
    harmless = 0
    for i in range(0, len(saved), 7):
        for value in {0, 255, saved[i] ^ 1}:
            path.write_bytes(saved[:i] + bytes([value]) + saved[i + 1 :])
            try:
                params, _, meta = checkpoint.load(path)
            except checkpoint.CheckpointError:
                continue
            harmless += 1
            assert meta == good[2]
            for k, v in good[0].items():
                np.testing.assert_array_equal(params[k], v)
    assert harmless < len(saved) // 7  # most are caught


def _npz(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def _npy(a, shape=None):
    buffer = io.BytesIO()
    np.save(buffer, a)
    data = buffer.getvalue()
    if shape is not None:  # declare another shape in the header, keep the data
        data = data.replace(repr(a.shape).encode(), repr(shape).encode().ljust(len(repr(a.shape))))
    return data


@pytest.mark.parametrize(
    "content, text",
    [
        (_npy(np.zeros(3)), "is truncated or corrupted"),  # a raw .npy
        (b"PK\x05\x06" + bytes(18), "is not an xrnn checkpoint"),  # an empty zip
        (_npz({"param.W.npy": _npy(np.zeros(3))}), "is not an xrnn checkpoint"),  # no meta
        (_npz({"meta.npy": _npy(np.zeros((100,)), shape=(10**12,))}), "is truncated or corrupted"),
        (_npz({"meta.npy": _npy(np.array("{}"))}), "is not an xrnn checkpoint"),
        (_npz({"x.txt": b"hello"}), "is truncated or corrupted"),
    ],
    ids=["raw-npy", "empty-zip", "no-meta", "terabytes", "meta-not-xrnn", "not-npy"],
)
def test_files_that_are_not_checkpoints(tmp_path, capsys, content, text):
    refused(tmp_path, capsys, content, text)


def test_a_member_declaring_terabytes_allocates_nothing(tmp_path):
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(_npz({"param.W.npy": _npy(np.zeros(100), shape=(10**6, 10**6))}))
    with pytest.raises(checkpoint.CheckpointError, match="declares"):
        checkpoint.load(path)


def _resave(path, saved, change):
    """The checkpoint ``saved`` with ``change(params, state, meta)`` applied, saved again
    with a valid checksum and without save's own checks (as another program could write it):
    what checks the content on loading is the schema."""
    path.write_bytes(saved)
    params, state, meta = checkpoint.load(path)
    change(params, state, meta)
    meta = {k: v for k, v in meta.items() if k not in ("format", "version", "optimizer_steps")}
    check = checkpoint._check_arrays
    checkpoint._check_arrays = lambda *args: None
    try:
        checkpoint.save(path, params, state, meta)
    finally:
        checkpoint._check_arrays = check
    return path.read_bytes()


def _set(*keys, value):
    def change(params, state, meta):
        target = meta
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value

    return change


def _huge_model(params, state, meta):  # 20000 hidden units would take gigabytes to build
    meta["config"]["hidden"] = meta["model"]["hidden"] = 20000


def _drop_param(params, state, meta):
    key = sorted(params)[0]
    del params[key]
    for slot in ("exp_avg", "exp_avg_sq"):
        del state[slot][key]


def _zip_without_parameters(params, state, meta):
    params.clear()
    state.update(exp_avg={}, exp_avg_sq={})


def _float16(params, state, meta):
    for k in params:
        params[k] = params[k].astype(np.float16)


@pytest.mark.parametrize(
    "change, text",
    [
        (_set("config", "lr", value="fast"), "config lr must be positive and finite; got 'fast'"),
        (_set("config", "seq_len", value=1), "config seq_len must be at least 2"),
        (_set("config", "seed", value=-1), "config seed must be an integer >= 0"),
        (_set("config", "optimizer", value="rmsprop"), "config optimizer must be"),
        (_set("config", "dtype", value="float64"), "parameters are float32; its config says"),
        (_set("config", "optimizer", value="sgd"), "does not fit its own config"),
        (_set("step", value="2"), "step must be an int >= 0"),
        (_set("step", value=3), "step must be an int >= 0, the optimiser's step count"),
        (_set("vocab", value=["\n", "a", "b"]), "is not the config's and vocabulary's"),
        (_set("vocab", value=["a", "\n"]), "its vocabulary is not a list of distinct"),
        (_set("model", "hidden", value=9), "is not the config's and vocabulary's"),
        (_set("history", "train", value=[1.0]), "its loss history is not"),
        (_set("corpus", "sha256", value="x"), "its corpus is not a name and a SHA-256"),
        (_set("bigram", value=float("nan")), "bigram must be a finite number"),
        (_drop_param, "not the size of the model of its metadata"),
        (_huge_model, "not the size of the model of its metadata"),
        (_zip_without_parameters, "holds no parameters"),
        (_float16, "parameters must be float32 or float64"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_tampered_content_is_refused(tmp_path, capsys, saved, change, text):
    content = _resave(tmp_path / "checkpoint.npz", saved, change)
    if "optimizer" in text or "does not fit its own config" in text:  # train only reads those
        path = tmp_path / "checkpoint.npz"
        rc = cli.main(
            [str(a) for a in ["train", "--out", tmp_path, "--resume", "--steps", 4, *SMALL]]
        )
        _, err = capsys.readouterr()
        assert rc == 2 and err.count("\n") == 1 and text in err, err
        assert path.read_bytes() == content
        return
    refused(tmp_path, capsys, content, text)


@pytest.mark.parametrize("key", ["config", "vocab", "step"])
def test_metadata_edited_in_place_fails_the_checksum(tmp_path, capsys, saved, key):
    """The metadata changed in the file itself (seed, split, vocabulary, step), without
    xrnn's help: the checksum no longer matches."""
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(saved)
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    meta = json.loads(np.load(io.BytesIO(members["meta.npy"])).item())
    meta[key] = {
        "config": {**meta["config"], "seed": 1, "val_fraction": 0.2},
        "vocab": meta["vocab"][:-1],
        "step": 1,
    }[key]
    members["meta.npy"] = _npy(np.array(json.dumps(meta)))
    refused(tmp_path, capsys, _npz(members), "its checksum does not match")


def test_the_schema_names_each_option():
    assert set(_run.RUN) == set(_run._CONFIG)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p, s, m: m.update(format="mine"), r"meta must not hold \['format'\]"),
        (lambda p, s, m: s.update({"my.slot": {}}), "slot names must have no dots"),
        (lambda p, s, m: p.update(W=np.ones(3, dtype=np.int64)), "float32 or float64"),
        (lambda p, s, m: p.update(W=np.full(3, np.inf)), "parameters W are not finite"),
    ],
    ids=["format", "dotted-slot", "int-params", "inf-params"],
)
def test_save_refuses_what_load_would_refuse(tmp_path, change, message):
    params, state, meta = {"W": np.zeros(3)}, {"steps": 0}, {"note": "mine"}
    change(params, state, meta)
    with pytest.raises(ValueError, match=message):
        checkpoint.save(tmp_path / "c.npz", params, state, meta)
    assert not list(tmp_path.iterdir())

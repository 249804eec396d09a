"""Hostile conditions for ``xrnn train``: divergence (a non-finite loss or gradient stops
training with a one-line error naming the step; the last good checkpoint stays; a checkpoint of
non-finite parameters is refused), where output goes (checked before training), two runs on one
``--out`` (the second refused, naming the first's PID) and signals (SIGTERM saves as Ctrl-C
does; Ctrl-C during start-up or a save prints one line, no traceback)."""

import errno
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from test_cli import after_step

from xrnn import _rundir, charmodel, checkpoint, cli

SMALL = ["--hidden", "8", "--batch", "16", "--eval-every", "2", "--sample-every", "50"]


def run(capsys, *args):
    rc = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(rc, err, *texts, code=2):
    """``rc`` is ``code`` and standard error ends with the one line of an error (after the
    progress bar, if training began), with no traceback."""
    assert rc == code, err
    last = err.rstrip("\n").rpartition("\n")[2]
    assert last.startswith("xrnn: ") and "Traceback" not in err, err
    for text in texts:
        assert text in last, err


@pytest.fixture
def good(tmp_path, capsys):
    """A run directory with a good checkpoint at step 4, and its bytes."""
    out = tmp_path / "run"
    assert run(capsys, "train", "--out", out, "--steps", 4, "--no-plot", *SMALL)[0] == 0
    return out, (out / "checkpoint.npz").read_bytes()


# Divergence


def test_a_huge_learning_rate_stops_at_the_step_that_diverged(good, capsys):
    out, _before = good
    rc, stdout, err = run(
        capsys, "train", "--out", out, "--force", "--steps", 50, "--lr", 1e38, "--no-plot", *SMALL
    )
    one_line_error(rc, err, "training diverged", "step ", "try a smaller --lr")
    params = checkpoint.load(out / "checkpoint.npz")[0]  # good, or the one before
    assert all(np.isfinite(v).all() for v in params.values())
    assert "saved" not in stdout


def test_a_nan_loss_keeps_the_last_good_checkpoint(good, capsys, monkeypatch):
    out, _before = good
    real = charmodel.loss_and_grads
    calls = []

    def poisoned(model, params, *args):
        calls.append(1)
        loss, grads = real(model, params, *args)
        return (float("nan") if len(calls) == 3 else loss), grads

    monkeypatch.setattr(charmodel, "loss_and_grads", poisoned)
    rc, _, err = run(capsys, "train", "--out", out, "--force", "--steps", 8, "--no-plot", *SMALL)
    one_line_error(
        rc, err, "step 3: training diverged (loss nan", f"{out / 'checkpoint.npz'} keeps step 2"
    )
    assert checkpoint.load(out / "checkpoint.npz")[2]["step"] == 2  # the evaluation before


def test_an_infinite_gradient_stops_training(good, capsys, monkeypatch):
    out, _ = good
    real = charmodel.loss_and_grads

    def poisoned(model, params, *args):
        loss, grads = real(model, params, *args)
        key = next(iter(grads))
        grads[key] = grads[key] + float("inf")
        return loss, grads

    monkeypatch.setattr(charmodel, "loss_and_grads", poisoned)
    rc, _, err = run(capsys, "train", "--out", out, "--resume", "--steps", 8, *SMALL)
    one_line_error(rc, err, "step 5: training diverged", "gradient norm inf")


def test_a_checkpoint_of_non_finite_parameters_is_refused(good, capsys, monkeypatch):
    out, _ = good
    params, state, meta = checkpoint.load(out / "checkpoint.npz")
    key = sorted(params)[0]
    params[key][...] = np.nan
    meta = {k: v for k, v in meta.items() if k not in ("format", "version", "optimizer_steps")}
    with pytest.raises(ValueError, match=f"checkpoint.save: .*parameters {key} are not finite"):
        checkpoint.save(out / "checkpoint.npz", params, state, meta)
    with monkeypatch.context() as m:  # written anyway, as a fault or another program would
        m.setattr(checkpoint, "_check_arrays", lambda *args: None)
        checkpoint.save(out / "checkpoint.npz", params, state, meta)
    rc, _, err = run(capsys, "train", "--out", out, "--resume", "--steps", 8, *SMALL)
    one_line_error(rc, err, f"parameters {key} are not finite")
    rc, _, err = run(capsys, "sample", "--checkpoint", out / "checkpoint.npz")
    one_line_error(rc, err, "not finite")


# Where output goes


def test_out_that_is_a_file_or_under_a_file(tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("mine")
    rc, out, err = run(capsys, "train", "--out", a_file, "--steps", 2, *SMALL)
    one_line_error(rc, err, f"--out {a_file} is a file, not a directory")
    rc, out, err = run(capsys, "train", "--out", a_file / "run", "--steps", 2, *SMALL)
    one_line_error(rc, err, f"--out {a_file / 'run'} cannot be used: Not a directory")
    assert a_file.read_text() == "mine" and "step" not in out


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_out_that_is_read_only(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        rc, _out, err = run(capsys, "train", "--out", ro, "--steps", 2, *SMALL)
    finally:
        ro.chmod(0o755)
    one_line_error(rc, err, f"--out {ro} cannot be used: Permission denied")


def test_out_on_a_full_disk_fails_before_training(tmp_path, capsys, monkeypatch):
    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    rc, out, err = run(capsys, "train", "--out", tmp_path / "run", "--steps", 2, *SMALL)
    one_line_error(rc, err, "cannot take a checkpoint of", "No space left on device")
    assert "step" not in out and not list((tmp_path / "run").glob(".*.tmp"))


def test_a_save_that_fails_says_so_in_one_line(good, capsys, monkeypatch):
    out, before = good

    def failing(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoint, "write_npz", failing)
    rc, _, err = run(capsys, "train", "--out", out, "--resume", "--steps", 8, *SMALL)
    one_line_error(rc, err, "step 6: could not save", "No space left on device", "unchanged")
    assert (out / "checkpoint.npz").read_bytes() == before
    assert not list(out.glob(".*.tmp"))


def test_stale_temporary_files_are_removed_by_the_next_run(good, capsys):
    out, _ = good
    for name in (".checkpoint.npz.99999.tmp", ".loss.png.tmp", ".probe.1.tmp"):
        (out / name).write_bytes(b"left by kill -9")
    assert run(capsys, "train", "--out", out, "--resume", "--steps", 6, *SMALL)[0] == 0
    assert not list(out.glob(".*.tmp"))


# Two runs on one --out


def test_a_second_run_on_a_locked_out_names_the_first(good, capsys):
    out, before = good
    with _rundir.hold(out):
        rc, stdout, err = run(capsys, "train", "--out", out, "--force", "--steps", 2, *SMALL)
        one_line_error(rc, err, f"is in use by another xrnn train (PID {os.getpid()})")
    assert (out / "checkpoint.npz").read_bytes() == before and "step" not in stdout
    assert run(capsys, "train", "--out", out, "--resume", "--steps", 6, *SMALL)[0] == 0


def test_two_processes_on_one_out(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "xrnn.cli", "train", "--out", str(out), *SMALL]
    first = subprocess.Popen([*command, "--steps", "100000"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            not (out / ".lock").exists() or not (out / ".lock").read_text().strip()
        ):
            time.sleep(0.05)
        second = subprocess.run([*command, "--steps", "2"], capture_output=True, text=True)
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=60)
    assert second.returncode == 2
    assert f"(PID {first.pid})" in second.stderr and second.stderr.count("\n") == 1
    assert first.returncode == 130  # SIGTERM: saved, as Ctrl-C
    assert checkpoint.load(out / "checkpoint.npz")[2]["step"] >= 1


# Signals


def test_sigterm_saves_as_ctrl_c_does(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    after_step(monkeypatch, lambda s: s == 3 and os.kill(os.getpid(), signal.SIGTERM))
    rc, stdout, err = run(capsys, "train", "--out", out, "--steps", 10, *SMALL)
    assert rc == 130 and "xrnn:" not in err and "Traceback" not in err
    assert f"terminated at step 3: saved {out / 'checkpoint.npz'}" in stdout
    assert checkpoint.load(out / "checkpoint.npz")[2]["step"] == 3


@pytest.mark.parametrize("where", ["start-up", "save"])
def test_ctrl_c_during_start_up_or_a_save_prints_one_line(good, capsys, monkeypatch, where):
    out, before = good

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(
        *((cli.data, "read_corpus") if where == "start-up" else (checkpoint, "write_npz")),
        interrupted,
    )
    rc, _, err = run(capsys, "train", "--out", out, "--resume", "--steps", 8, *SMALL)
    one_line_error(rc, err, "xrnn: interrupted", code=130)
    assert (out / "checkpoint.npz").read_bytes() == before
    assert not list(out.glob(".*.tmp"))


def test_out_on_a_read_only_filesystem(tmp_path, capsys, monkeypatch):
    """As root can write into a read-only directory, the file system's refusal is simulated."""
    real = os.open

    def read_only(path, flags, *args):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
        return real(path, flags, *args)

    out = tmp_path / "run"
    out.mkdir()
    monkeypatch.setattr(os, "open", read_only)
    rc, stdout, err = run(capsys, "train", "--out", out, "--steps", 2, *SMALL)
    one_line_error(rc, err, f"--out {out} cannot be used: Read-only file system")
    assert "step" not in stdout


# The rest of the command line


@pytest.mark.parametrize(
    "args, text",
    [
        (["train", "--seed", "-1"], "argument --seed: must be an integer >= 0; got -1"),
        (["train", "--lr", "nan"], "argument --lr: must be positive and finite; got nan"),
        (["train", "--lr", "inf"], "argument --lr: must be positive and finite; got inf"),
        (["train", "--momentum", "1"], "argument --momentum: must lie in [0, 1); got 1"),
        (["train", "--weight-decay", "nan"], "argument --weight-decay: must be finite and not"),
        (["train", "--layers", "2.5"], "argument --layers: must be an integer; got '2.5'"),
        (["sample", "--seed", "-1"], "argument --seed: must be an integer >= 0; got -1"),
        (["sample", "-n", "0"], "argument -n: must be a positive integer; got 0"),
        (["sample", "--max-len", "-3"], "argument --max-len: must be a positive integer"),
        (["sample", "--temperature", "nan"], "argument --temperature: must be positive"),
    ],
)
def test_bad_numbers_on_the_command_line(tmp_path, capsys, args, text):
    if args[0] == "train":
        args = [*args, "--out", tmp_path / "run", *SMALL]
    with pytest.raises(SystemExit) as exit:
        run(capsys, *args)
    one_line_error(exit.value.code, capsys.readouterr().err, text)
    assert not (tmp_path / "run").exists()


def test_a_cuda_device_on_a_cpu_only_torch(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this torch has CUDA")
    rc, _, err = run(
        capsys, "train", "--out", tmp_path, "--backend", "torch", "--device", "cuda", *SMALL
    )
    one_line_error(rc, err, "--backend torch --device cuda:")

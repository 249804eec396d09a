"""The ``xrnn`` command: training, sampling, checkpoints that never lose work, exact resumption,
Ctrl-C, and one-line errors."""

import importlib.util
import os
import signal

import numpy as np
import pytest

from xrnn import charmodel, checkpoint, cli, data

SMALL = [
    "--hidden",
    "16",
    "--batch",
    "32",
    "--eval-every",
    "8",
    "--sample-every",
    "16",
    "--no-plot",
]


def run(capsys, *args):
    rc = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_train_then_sample(tmp_path, capsys):
    rc, out, _ = run(
        capsys,
        "train",
        "--out",
        tmp_path,
        "--steps",
        20,
        "--hidden",
        16,
        "--eval-every",
        10,
        "--sample-every",
        10,
    )
    assert rc == 0, out
    assert "held-out loss" in out and "% below" in out and "samples:" in out
    assert (tmp_path / "checkpoint.npz").is_file()
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:  # xrnn[plot] is not installed (a GPU box, say): training says how to get the plot
        assert "for the loss plot" in out and not (tmp_path / "loss.png").exists()
    params, state, meta = checkpoint.load(tmp_path / "checkpoint.npz")
    assert meta["step"] == 20 and state["steps"] == 20 and len(meta["history"]["train"]) == 20
    assert meta["config"]["cell"] == "lstm" and "Wf_l0" in params and "exp_avg" in state
    rc, out, _ = run(
        capsys,
        "sample",
        "--checkpoint",
        tmp_path / "checkpoint.npz",
        "-n",
        7,
        "--temperature",
        0.8,
        "--prefix",
        "jo",
        "--seed",
        1,
    )
    assert rc == 0 and len(out.splitlines()) == 7
    assert all(line.startswith("jo") for line in out.splitlines())


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_other_cells_and_two_layers(tmp_path, capsys, cell):
    rc, out, _ = run(
        capsys, "train", "--out", tmp_path, "--steps", 8, "--cell", cell, "--layers", 2, *SMALL
    )
    assert rc == 0, out
    assert checkpoint.load(tmp_path / "checkpoint.npz")[2]["model"] == {
        "cell": cell,
        "layers": 2,
        "hidden": 16,
        "vocab": 27,
    }


def after_step(monkeypatch, hook):
    """``hook(step)`` after each step of ``xrnn train``'s loop (:func:`xrnn.training.fit`)."""
    real = cli.fit

    def fit(*args, on_step, **kwargs):
        def both(step, loss):
            on_step(step, loss)
            hook(step)

        return real(*args, on_step=both, **kwargs)

    monkeypatch.setattr(cli, "fit", fit)


def _interrupt_at(step):
    def hook(s):
        if s == step:
            os.kill(os.getpid(), signal.SIGINT)

    return hook


def test_interrupted_and_resumed_run_gives_the_same_losses(tmp_path, capsys, monkeypatch):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    common = ["--steps", 24, "--dtype", "float64", *SMALL]
    assert run(capsys, "train", "--out", whole, *common)[0] == 0
    after_step(monkeypatch, _interrupt_at(13))
    rc, out, _ = run(capsys, "train", "--out", parts, *common)
    assert rc == 130
    assert f"interrupted at step 13: saved {parts / 'checkpoint.npz'}" in out
    assert checkpoint.load(parts / "checkpoint.npz")[2]["step"] == 13
    monkeypatch.undo()
    rc, out, _ = run(
        capsys,
        "train",
        "--out",
        parts,
        "--resume",
        "--steps",
        24,
        "--eval-every",
        8,
        "--sample-every",
        16,
        "--no-plot",
    )
    assert rc == 0 and "resuming" in out
    a, b = checkpoint.load(whole / "checkpoint.npz"), checkpoint.load(parts / "checkpoint.npz")
    assert a[2]["history"] == b[2]["history"]  # every loss, exactly
    for k in a[0]:
        np.testing.assert_array_equal(a[0][k], b[0][k])
    for slot in ("exp_avg", "exp_avg_sq"):
        for k in a[1][slot]:
            np.testing.assert_array_equal(a[1][slot][k], b[1][slot][k])


def _one_line_error(rc, err, text):
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("xrnn: error: "), err
    assert text in err, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    assert cli.main(["train", "--out", str(out), "--steps", "8", *SMALL]) == 0
    return out / "checkpoint.npz"


@pytest.mark.parametrize(
    "damage, text",
    [
        (lambda b: b[: len(b) // 2], "is truncated or corrupted"),
        (lambda b: b[:200] + b"\x00garbage\x00" * 50 + b[600:], "is truncated or corrupted"),
        (lambda b: b"", "is truncated or corrupted"),
    ],
    ids=["truncated", "corrupted", "empty"],
)
def test_a_broken_checkpoint_is_refused_and_left_alone(tmp_path, capsys, trained, damage, text):
    broken = tmp_path / "checkpoint.npz"
    broken.write_bytes(damage(trained.read_bytes()))
    before = broken.read_bytes()
    rc, _, err = run(capsys, "train", "--out", tmp_path, "--resume", "--steps", 20)
    _one_line_error(rc, err, text)
    rc, _, err = run(capsys, "sample", "--checkpoint", broken)
    _one_line_error(rc, err, text)
    assert broken.read_bytes() == before


def test_an_existing_checkpoint_is_never_overwritten_by_a_new_run(tmp_path, capsys, trained):
    (tmp_path / "checkpoint.npz").write_bytes(trained.read_bytes())
    rc, _, err = run(capsys, "train", "--out", tmp_path, "--steps", 4)
    _one_line_error(rc, err, "exists: pass --resume to continue that run, or --force")
    assert (tmp_path / "checkpoint.npz").read_bytes() == trained.read_bytes()


def test_a_mismatched_checkpoint(tmp_path, capsys, trained):
    (tmp_path / "checkpoint.npz").write_bytes(trained.read_bytes())
    rc, _, err = run(capsys, "train", "--out", tmp_path, "--resume", "--steps", 20, "--hidden", 32)
    _one_line_error(rc, err, "mismatched checkpoint: it was trained with --hidden 16, not 32")
    corpus = tmp_path / "other.txt"
    corpus.write_text("\n".join(["abc", "bcd"] * 100), encoding="utf-8")
    rc, _, err = run(
        capsys, "train", "--out", tmp_path, "--resume", "--steps", 20, "--corpus", corpus
    )
    _one_line_error(rc, err, "was trained on names (default), not on this corpus")
    rc, _, err = run(capsys, "train", "--out", tmp_path, "--resume", "--steps", 8)
    _one_line_error(rc, err, "is at step 8 already; ask for more --steps")
    assert (tmp_path / "checkpoint.npz").read_bytes() == trained.read_bytes()


@pytest.mark.parametrize(
    "content, text",
    [
        (b"", "is empty"),
        (b"  \n\n ", "is empty"),
        (b"\xff\xfenames", "is not UTF-8 text"),
        (b"ann\nbob\n", "gives 1 training examples, fewer than one batch of 64"),
    ],
    ids=["empty", "blank", "not-utf8", "smaller-than-a-batch"],
)
def test_a_bad_corpus(tmp_path, capsys, content, text):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(content)
    rc, _, err = run(capsys, "train", "--out", tmp_path / "run", "--corpus", corpus)
    _one_line_error(rc, err, text)
    assert not (tmp_path / "run").exists()


def test_a_missing_corpus(tmp_path, capsys):
    rc, _, err = run(capsys, "train", "--out", tmp_path, "--corpus", tmp_path / "nothing.txt")
    _one_line_error(rc, err, "cannot read corpus")


@pytest.mark.parametrize(
    "args, text",
    [
        (["--hidden", "0"], "argument --hidden: must be a positive integer; got 0"),
        (["--layers", "-1"], "argument --layers: must be a positive integer"),
        (["--lr", "-0.1"], "argument --lr: must be positive and finite; got -0.1"),
        (["--val-fraction", "1.5"], "argument --val-fraction: must lie between 0 and 1"),
        (["--seq-len", "1"], "argument --seq-len: must be at least 2"),
        (["--steps", "0"], "argument --steps: must be a positive integer"),
        (["--clip", "0"], "argument --clip: must be positive"),
        (["--hidden", "abc"], "argument --hidden: must be an integer; got 'abc'"),
        (["--cell", "cnn"], "argument --cell: invalid choice: 'cnn'"),
        (["--backend", "numpy", "--device", "cuda:0"], "--backend numpy runs on the cpu only"),
    ],
)
def test_impossible_options(tmp_path, capsys, args, text):
    with pytest.raises(SystemExit) if "argument" in text else _nothing():
        rc, _, err = run(capsys, "train", "--out", tmp_path, *args)
        _one_line_error(rc, err, text)
    if "argument" in text:
        _one_line_error(2, capsys.readouterr().err, text)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_sample_errors(tmp_path, capsys, trained):
    rc, _, err = run(capsys, "sample", "--checkpoint", tmp_path / "none.npz")
    _one_line_error(rc, err, "no checkpoint at")
    with pytest.raises(SystemExit):
        run(capsys, "sample", "--checkpoint", trained, "--temperature", 0)
    _one_line_error(2, capsys.readouterr().err, "argument --temperature: must be positive")
    rc, _, err = run(capsys, "sample", "--checkpoint", trained, "--prefix", "Zq")
    _one_line_error(rc, err, "--prefix has characters not in the vocabulary: 'Z'; it holds 'ab")
    assert "try it in lower case" in err


def test_sample_says_its_seed_and_clamps_top_k(trained, capsys):
    rc, out, err = run(capsys, "sample", "--checkpoint", trained, "-n", 4, "--top-k", 1000)
    seed = err.strip().rpartition("--seed ")[2]
    assert rc == 0 and len(out.splitlines()) == 4 and seed.isdigit()
    again = run(capsys, "sample", "--checkpoint", trained, "-n", 4, "--top-k", 1000, "--seed", seed)
    assert again[1] == out


def test_no_sub_command_prints_help(capsys):
    rc, out, _ = run(capsys)
    assert rc == 0 and "train" in out and "sample" in out and out.startswith("usage: xrnn")


def test_every_option_says_its_default():
    """Each option's help ends with its default in parentheses (flags and paths aside)."""
    sub = next(a for a in cli._parser()._actions if a.dest == "==SUPPRESS==" and a.choices)
    for command, parser in sub.choices.items():
        for action in parser._actions:
            if action.option_strings and action.nargs != 0 and action.dest not in ("corpus",):
                assert action.help and action.help.endswith(")"), (command, action.dest)


@pytest.mark.slow(reason="trains the default model in full, about 10 s")
def test_default_training_beats_the_bigram_model_by_15_percent(tmp_path, capsys):
    """``xrnn train`` with its defaults, once (NumPy, the default backend)."""
    rc, out, _ = run(capsys, "train", "--out", tmp_path, "--no-plot")
    assert rc == 0
    val, bigram = _held_out(out)
    assert val <= 0.85 * bigram


def test_training_on_the_backend_under_test(tmp_path, capsys, backend):
    """A short ``xrnn train`` on the backend under test (NumPy, torch or CuPy) learns: its
    held-out loss after 200 steps is below the bigram model's."""
    if backend.name not in ("numpy", "torch", "cupy"):
        pytest.skip("xrnn train runs on --backend numpy, torch or cupy")
    args = ("--steps", 200, "--eval-every", 200, "--sample-every", 200, "--no-plot")
    rc, out, _ = run(capsys, "train", "--out", tmp_path, "--backend", backend.name, *args)
    assert rc == 0
    val, bigram = _held_out(out)
    assert val < bigram


def _held_out(out):
    """The last held-out loss ``xrnn train`` printed, and the bigram model's."""
    line = [s for s in out.splitlines() if s.startswith("held-out loss")][-1]
    return float(line.split()[2]), float(line.split("bigram model ")[1].split(":")[0])


def test_sample_takes_the_run_directory_and_load_a_documented_checkpoint(trained, capsys):
    rc, out, _ = run(capsys, "sample", "--checkpoint", trained.parent, "-n", 3, "--seed", 1)
    assert rc == 0 and len(out.splitlines()) == 3
    assert run(capsys, "sample", "--checkpoint", trained, "-n", 3, "--seed", 1)[1] == out
    saved = checkpoint.load(trained.parent)
    assert isinstance(saved, checkpoint.Checkpoint)
    assert saved.step == 8 and saved.vocab[0] == "\n" and saved.config["hidden"] == 16
    assert len(saved.history["train"]) == 8 and saved.optimizer_state["steps"] == 8
    params, _, meta = saved
    assert params is saved.params and meta["step"] == 8
    model, rebuilt = saved.model()  # in one call: generate takes them
    assert model.hidden == 16 and set(rebuilt) == set(params)
    assert len(charmodel.generate(model, rebuilt, data.Vocab("".join(saved.vocab)), n=2)) == 2


def test_the_best_held_out_model_is_kept(tmp_path, capsys, monkeypatch):
    losses = iter([2.0, 1.5, 1.7, 1.8])
    monkeypatch.setattr(cli, "evaluate", lambda *args: next(losses))
    rc, out, _ = run(
        capsys, "train", "--out", tmp_path, "--steps", 8, *SMALL[:4], "--eval-every", 2, "--no-plot"
    )
    assert rc == 0
    assert "step 4: held-out loss 1.500 (bigram" in out and "best so far" in out
    assert "step 6: held-out loss 1.700" in out and "not below step 4's 1.500" in out
    assert "the held-out loss stopped improving at step 4 (1.500): best.npz" in out
    assert checkpoint.load(tmp_path / "best.npz").step == 4
    assert checkpoint.load(tmp_path / "checkpoint.npz").step == 8

"""The scripts in examples/ run and print what they promise (on NumPy)."""

import pathlib
import subprocess
import sys

EXAMPLES = pathlib.Path(__file__).parents[1] / "examples"


def _run(*args):
    done = subprocess.run(
        [sys.executable, *map(str, args)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_walkthrough():
    out = _run(EXAMPLES / "walkthrough.py")
    assert "All gradients match finite differences" in out


def test_train_names():
    out = _run(EXAMPLES / "train_names.py", 10)
    assert "step 10: held-out loss" in out and "bigram model:" in out
    assert len(out.strip().splitlines()[-1].split(", ")) == 10  # the samples

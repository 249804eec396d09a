"""The seed's test cells, run unchanged after ``from xrnn import *``, print the seed's values.

Both printouts are split into text and numbers: the text must be the same and every number must
agree to the precision it was printed with (NumPy prints arrays to 8 decimals; scalars print in
full, and there they agree to 1e-9 relative). ``In [49]`` is the exception the README explains:
it passes a ``da`` of 4 steps for an ``x`` of 7, which xrnn refuses with a ValueError.
"""

import contextlib
import io
import re

import pytest
import seed_notebook

NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")


def _split(text):
    """Text with numbers replaced by ``#`` (whitespace collapsed), and the numbers."""
    skeleton = " ".join(NUMBER.sub("#", text).split())
    return skeleton, NUMBER.findall(text)


def _agree(got, expected):
    g, e = float(got), float(expected)
    decimals = len(expected.partition(".")[2])
    if decimals <= 8:  # NumPy's 8-decimal array print: the last digit may round either way
        return abs(g - e) <= 1.000001e-8
    return abs(g - e) <= max(1e-9 * abs(e), 10.0**-decimals)


def run_cells():
    """Run every cell in one namespace; return ``{n: printed text or the exception}``."""
    namespace = {}
    exec("import numpy as np\nfrom xrnn import *", namespace)
    printed = {}
    for n, code, _ in seed_notebook.CELLS:
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(code, namespace)
            printed[n] = out.getvalue()
        except ValueError as e:
            printed[n] = e
    return printed


@pytest.fixture(scope="module")
def printed():
    return run_cells()


@pytest.mark.parametrize(
    "n, seed_output",
    [(n, out) for n, _, out in seed_notebook.CELLS[:-1]],
    ids=[f"In[{n}]" for n, _, _ in seed_notebook.CELLS[:-1]],
)
def test_cell_prints_the_seed_values(printed, n, seed_output):
    ours, theirs = _split(printed[n]), _split(seed_output)
    assert ours[0] == theirs[0]
    assert len(ours[1]) == len(theirs[1])
    bad = [(g, e) for g, e in zip(*(ours[1], theirs[1]), strict=True) if not _agree(g, e)]
    assert not bad, f"In [{n}]: (ours, seed) differ: {bad}"


def test_lstm_backward_cell_refuses_a_da_shorter_than_x(printed):
    n, _, _ = seed_notebook.CELLS[-1]
    assert n == 49
    error = printed[n]
    assert isinstance(error, ValueError)
    assert "da must cover the T_x = 7 steps" in str(error)
    assert "got 4 steps (shape (5, 10, 4))" in str(error)

"""The README's Python examples run as written (the CuPy one where a CUDA device is present)."""

import pathlib
import re

from backends import load

README = pathlib.Path(__file__).parents[1] / "README.md"


def test_readme_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 3
    namespace = {}
    for block in blocks:
        if "import cupy" in block:
            continue
        exec(block, namespace)
    assert namespace["a"].shape == (10, 10, 7) and namespace["a_n"].shape == (4, 5, 10)
    assert namespace["grads"]["dWf_l1_reverse"].shape == (5, 15)
    assert float(abs(namespace["a"][:, 1, 3:]).max()) == 0.0
    assert abs(float(namespace["loss"]) - 1.3862943611198906) < 1e-12
    assert namespace["errors"]["po"] < 1e-6


def test_the_cell_walkthrough_shows_the_cells_code():
    """The code that "Write your own cell" shows is xrnn/peephole.py's, line for line."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Write your own cell") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```\n(def .*?)```", section, re.S)
    source = (README.parent / "xrnn" / "peephole.py").read_text(encoding="utf-8")
    assert len(blocks) == 4
    for block in blocks:
        assert block in source, block


def test_readme_cupy_example_runs():
    load("cupy")  # skips without CuPy or a CUDA device
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    namespace = {}
    for block in blocks[:2]:  # the NumPy example, then the CuPy one that reuses its data
        exec(block, namespace)
    assert type(namespace["grads"]["dWf"]).__module__.startswith("cupy")

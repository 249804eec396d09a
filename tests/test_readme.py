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
    assert namespace["grads"]["dWf"].shape == (5, 8)


def test_readme_cupy_example_runs():
    load("cupy")  # skips without CuPy or a CUDA device
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    namespace = {}
    for block in blocks[:2]:  # the NumPy example, then the CuPy one that reuses its data
        exec(block, namespace)
    assert type(namespace["grads"]["dWf"]).__module__.startswith("cupy")

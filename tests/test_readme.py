"""The Python examples of the README and of the documentation's pages run as written (the CuPy
one where a CUDA device is present, the JAX ones where JAX is installed, the Dask ones in
tests/test_dask.py), and the cell walkthrough shows xrnn/peephole.py's code."""

import pathlib
import re

from backends import load

ROOT = pathlib.Path(__file__).parents[1]
README = ROOT / "README.md"


def _pages():
    """The documentation's pages in the order of its navigation (mkdocs.yml)."""
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return [ROOT / "docs" / page for page in re.findall(r":\s*(\S+\.md)\s*$", nav, re.M)]


def _blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def _run(paths):
    namespace = {}
    for path in paths:
        for block in _blocks(path):
            if not any(f"import {name}" in block for name in ("cupy", "jax", "Client")):
                exec(block, namespace)
    return namespace


def test_readme_examples_run():
    namespace = _run([README])
    assert namespace["grads"]["dWf"].shape == (5, 8)
    assert namespace["out"].shape == (8, 6, 5) and "weight_ih_l1" in namespace["state"]
    assert namespace["module_grads"]["dWf_l1"].shape == (5, 10)


def test_documentation_examples_run_in_the_order_of_its_pages():
    pages = _pages()
    assert sum(len(_blocks(p)) for p in pages) >= 6
    namespace = _run(pages)
    assert namespace["a"].shape == (10, 10, 7) and namespace["a_n"].shape == (4, 5, 10)
    assert namespace["grads"]["dWf_l1_reverse"].shape == (5, 15)
    assert float(abs(namespace["a"][:, 1, 3:]).max()) == 0.0
    assert abs(float(namespace["loss"]) - 1.3862943611198906) < 1e-12
    assert namespace["errors"]["po"] < 1e-6


def test_the_cell_walkthrough_shows_the_cells_code():
    """The code that "Writing a cell" shows is xrnn/peephole.py's, line for line."""
    text = (ROOT / "docs" / "guide" / "writing-a-cell.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```\n(def .*?)```", text, re.S)
    source = (ROOT / "xrnn" / "peephole.py").read_text(encoding="utf-8")
    assert len(blocks) == 4
    for block in blocks:
        assert block in source, block


def test_readme_cupy_example_runs():
    load("cupy")  # skips without CuPy or a CUDA device
    page = ROOT / "docs" / "guide" / "course-api.md"
    namespace = {}
    for block in _blocks(page)[:2]:  # the NumPy example, then the CuPy one that reuses its data
        exec(block, namespace)
    assert type(namespace["grads"]["dWf"]).__module__.startswith("cupy")


def test_the_jax_examples_run():
    load("jax")  # skips without JAX
    namespace = {}
    for block in _blocks(ROOT / "docs" / "scaling-out.md"):
        if "import jax" in block:
            exec(block, namespace)
    assert namespace["step"] == 2 and float(namespace["loss"]) < 3.3  # ln 27 = 3.30
    assert namespace["grads"]["dWy"].shape == (27, 32)

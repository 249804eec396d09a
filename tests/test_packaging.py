"""What a non-editable install holds: every package of xrnn (an editable one maps the folder,
and would hide a package left out)."""

import pathlib
import re

ROOT = pathlib.Path(__file__).parents[1]


def test_every_package_is_listed_for_setuptools():
    listed = re.search(r"^packages = \[(.*)\]", (ROOT / "pyproject.toml").read_text(), re.M)
    packages = {p.strip().strip('"') for p in listed.group(1).split(",")}
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "xrnn").rglob("__init__.py")
    }
    assert packages == found

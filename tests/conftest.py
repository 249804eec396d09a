"""Backend selection: ``pytest --backend numpy --backend torch`` or ``XRNN_BACKENDS=numpy,torch``.

Without either, every backend in :data:`backends.ALL` runs; those that are not installed (or,
for CuPy, have no CUDA device) skip with the reason.
"""

import os

import pytest
from backends import ALL, load


def pytest_addoption(parser):
    parser.addoption(
        "--backend",
        action="append",
        default=[],
        choices=ALL,
        help=f"run the backend tests on this backend (repeatable; default: $XRNN_BACKENDS or all "
        f"of {', '.join(ALL)})",
    )
    parser.addoption(
        "--backend-tests-only",
        action="store_true",
        help="leave out the tests that take no backend (for a session whose others run elsewhere)",
    )


def _selected(config):
    chosen = config.getoption("backend")
    if not chosen and os.environ.get("XRNN_BACKENDS"):
        chosen = [b.strip() for b in os.environ["XRNN_BACKENDS"].split(",") if b.strip()]
    unknown = [b for b in chosen if b not in ALL]
    if unknown:
        raise pytest.UsageError(f"unknown backend(s) {unknown}; choose from {', '.join(ALL)}")
    return chosen or list(ALL)


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        names = _selected(metafunc.config)
        metafunc.parametrize("backend", names, ids=names, indirect=True, scope="session")


def pytest_collection_modifyitems(config, items):
    if config.getoption("backend_tests_only"):
        kept, others = [], []
        for item in items:
            (kept if "backend" in getattr(item, "fixturenames", ()) else others).append(item)
        config.hook.pytest_deselected(items=others)
        items[:] = kept


@pytest.fixture(scope="session")
def backend(request):
    return load(request.param)


def pytest_report_header(config):
    return f"xrnn backends: {', '.join(_selected(config))}"

"""The test matrix: ``nox`` runs the sessions below; the CuPy one skips without a CUDA device.

nox                    # tests-numpy, tests-strict, tests-torch, tests-dask, tests-cupy, lint, docs
nox -s tests-jax       # the suite on JAX (2.5-7 minutes: not in the default matrix)
nox -s tests-torch     # one backend
nox -s tests-numpy -- -k lstm   # arguments after -- go to pytest
"""

import os
import re
import shutil
import subprocess

import nox

nox.options.sessions = [
    "tests-numpy",
    "tests-strict",
    "tests-torch",
    "tests-dask",
    "tests-cupy",
    "lint",
    "docs",
]
nox.options.reuse_venv = "yes"

BACKENDS = {
    "numpy": ["numpy"],
    "strict": ["array_api_strict", "array_api_strict:device1"],
    "torch": ["torch"],
    "jax": ["jax"],
    "cupy": ["cupy"],
}
# A CPU build of torch. On these machines `torch==2.13.0` is one (a local file); elsewhere set
# XRNN_TORCH, e.g. to "torch --index-url https://download.pytorch.org/whl/cpu".
TORCH = os.environ.get("XRNN_TORCH", "torch==2.13.0")


def cuda_major():
    """The CUDA major version the driver supports, or None without an NVIDIA GPU."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    version = re.search(r"CUDA Version:\s*(\d+)", out)
    return int(version.group(1)) if version and "MiB" in out else None


def run_tests(session, backend, *options):
    """The whole test suite, its backend tests on ``backend``."""
    extras = "test,plot"  # plot: the loss plot of `xrnn train`, which the tests check
    if backend == "cupy":
        cuda = cuda_major()
        if cuda is None:
            session.skip("no CUDA device: nvidia-smi is missing or lists no GPU")
        extras += ",cuda13" if cuda >= 13 else ",cuda12"
    session.install(f".[{extras}]")
    if backend in ("numpy", "jax"):  # CPU jaxlib; numpy: tests/test_jax.py
        session.install("jax")
        # JAX's compilation cache: eager JAX compiles each time loop's lax.scan anew, and the
        # tests run the same programs again and again (the engine's tests: 99 s without, 59 s
        # with an empty cache, 28 s with a full one)
        session.env.update(
            JAX_COMPILATION_CACHE_DIR=str(session.cache_dir / "jax"),
            JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
            JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0",
        )
    if backend == "torch":  # and Keras 3, on its torch backend: tests/test_keras.py
        session.install(*TORCH.split(), "keras")
    backends = [f"--backend={b}" for b in BACKENDS[backend]]
    session.run("pytest", "-n", "2", *backends, *options, *session.posargs)  # 2 processes
    if backend == "torch":  # the agreement with torch, on the other CPU backends too
        others = [f"--backend={b}" for name in ("numpy", "strict") for b in BACKENDS[name]]
        session.run("pytest", "tests/test_torch.py", *others, *session.posargs)


@nox.session(name="tests-numpy")
def tests_numpy(session):
    run_tests(session, "numpy")


@nox.session(name="tests-strict")
def tests_strict(session):
    """array-api-strict, on its default device and on a second fake one: the backend tests
    (the others, which need nothing this session has, run in tests-numpy)."""
    run_tests(session, "strict", "--backend-tests-only")


@nox.session(name="tests-torch")
def tests_torch(session):
    """PyTorch CPU tensors through array-api-compat."""
    run_tests(session, "torch")


@nox.session(name="tests-jax")
def tests_jax(session):
    """JAX's arrays on the CPU, float64 enabled: immutable, so every write is functional."""
    run_tests(session, "jax")


@nox.session(name="tests-dask")
def tests_dask(session):
    """xrnn.distributed on a local Dask cluster of two worker processes."""
    session.install(".[test,dask]")
    session.run("pytest", "tests/test_dask.py", *session.posargs)


@nox.session(name="tests-cupy")
def tests_cupy(session):
    """CuPy on a CUDA GPU; skips with the reason where there is none."""
    run_tests(session, "cupy")


@nox.session
def lint(session):
    """ruff: lint rules and formatting; mypy: the type hints of the public API."""
    session.install("ruff", "mypy")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def docs(session):
    """The documentation site from docs/ and the docstrings (MkDocs, mkdocstrings), warnings
    as errors, into site/."""
    session.install(".[docs]")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session
def bench(session):
    """The benchmark (not run by a plain ``nox``): ``nox -s bench -- --sizes medium``."""
    session.install(".[dask]", "threadpoolctl", "jax", *TORCH.split())  # --cells dask, jax
    session.run("python", "benchmarks/bench.py", *session.posargs)

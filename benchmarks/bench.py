"""Forward+backward speed and memory of xrnn against its baselines, measured in one process.

    python benchmarks/bench.py                       # every size, both dtypes, LSTM and RNN
    python benchmarks/bench.py --sizes medium --cells lstm --dtypes float64
    python benchmarks/bench.py --device cuda         # CuPy against torch's cuDNN

Contenders, all through their public entry points, on the same inputs:

- ``xrnn``: ``lstm_forward`` + ``lstm_backward`` (or the RNN's) on NumPy arrays;
- ``gemm``: the GEMM bound, the matrix products xrnn performs, each timed alone at its shape and
  memory layout: the input projection, T recurrent products forward and T backward, the weight
  gradients, ``dx`` and the output layer. Everything above it is elementwise work, memory
  traffic and Python;
- ``seed``: the seed's loops (per-step concatenate, a product per gate, per-step weight
  gradients), benchmarks/seed_loop.py;
- ``torch``: ``nn.LSTM`` / ``nn.RNN`` with the same weights: forward, output softmax, backward
  from ``da`` (autograd), when torch is installed;
- ``xrnn-torch``: xrnn on torch CPU tensors;
- ``base``: xrnn as it was at another git revision (``--baseline REV``), on the same inputs, to
  measure a change in one run (``base/x`` = its time / xrnn's: at least 1 is no slower).

``--only`` times some of them (``--only xrnn base``). ``--cells load``: the medium LSTM and
``xrnn train`` (its defaults, as a command) idle and with two busy processes competing for the
cores, each time the median of its runs. ``--cells jax``: ``jax.jit`` of two bidirectional LSTM
layers with lengths, forward and backward, and of the character model's loss and gradients, at
T = 1000: compile time (trace and compile, a new function each time) and the compiled run
against xrnn on NumPy. ``--cells dask``: the character model (one LSTM layer of 128, 27
characters, T = 50) on a local Dask cluster of two single-threaded workers
(``xrnn.distributed``) against this process alone: inference at m = 8192 (logits of a Dask
array already on the workers, gathered here) and a training step at m = 4096 (the batch here,
loss and gradients back here); ``blocks``: this process in the workers' blocks of rows.

Each time is the best of ``--repeat`` runs, the contenders taking turns. Thread counts are set
for every contender alike (``--threads``). The machine's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE,
which slow a current OpenBLAS, are unset for this process only. Results also go to JSON.
"""

import os
import sys

_SLOW_BLAS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(v in os.environ for v in _SLOW_BLAS):  # re-run without them, before NumPy loads BLAS
    env = {k: v for k, v in os.environ.items() if k not in _SLOW_BLAS}
    env["XRNN_BENCH_UNSET"] = ",".join(v for v in _SLOW_BLAS if v in os.environ)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import array_api_compat  # noqa: E402
import numpy as np  # noqa: E402
import seed_loop  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

import xrnn  # noqa: E402

SIZES = {  # n_x, n_a, m, T
    "small": (32, 64, 16, 50),
    "medium": (128, 256, 64, 100),
    "large": (512, 512, 128, 50),
    "long": (64, 128, 32, 1000),
    "bigbatch": (128, 256, 1024, 20),
}
CELLS = {  # gates per step, the layers' (input, directions), and whether a seed loop exists
    "lstm": (4, "seq", True),
    "rnn": (1, "seq", True),
    "gru": (3, "seq", False),
    "lstm2bi": (4, "layers", False),  # two layers, bidirectional
    "lstm-len": (4, "seq", False),  # lengths uniform in 1..T, against the full length
    "lstm-sorted": (4, "seq", False),  # the same lengths, sorted longest first
}
EXTRA = ["train", "load", "jax", "dask"]  # not cells: training, under load, JAX's jit, Dask
JAX_SIZES = {"long": SIZES["long"], "long-narrow": (32, 64, 16, 1000)}
BASE = {"lstm2bi": "lstm", "lstm-len": "lstm", "lstm-sorted": "lstm"}
LENGTHS = ("lstm-len", "lstm-sorted")


def best(fns, repeat):
    """Best wall time of each function in ``fns``, after one warm-up, taking turns in an order
    rotated each round (whatever runs after torch meets its thread pool still spinning)."""
    for f in fns.values():
        f()
    times = {k: float("inf") for k in fns}
    order = list(fns)
    for r in range(repeat):
        for k in order[r % len(order) :] + order[: r % len(order)]:
            f = fns[k]
            t = time.perf_counter()
            f()
            times[k] = min(times[k], time.perf_counter() - t)
    return times


def peak_bytes(f):
    """Peak traced allocation of one call of ``f`` (NumPy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    f()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def make_problem(cell, size, dtype, seed=0):
    """NumPy inputs: parameters (the course's keys, or layer keys), x, a0 (and c0), da."""
    n_x, n, m, T = SIZES[size]
    rng = np.random.default_rng(seed)
    base = BASE.get(cell, cell)
    layers = CELLS[cell][1] == "layers"
    p = xrnn.init_parameters(
        base,
        n_x,
        n,
        n_y=None if layers else n_x,
        seed=rng,
        num_layers=2 if layers else None,
        bidirectional=layers,
        reset_after=cell == "gru",
    )
    D, L = (2, 2) if layers else (1, 1)

    def randn(*shape, scale=1.0):
        return (scale * rng.standard_normal(shape)).astype(dtype)

    states = (L * D, n, m) if layers else (n, m)
    prob = {
        "p": {k: v.astype(dtype) for k, v in p.items()},
        "x": randn(n_x, m, T),
        "a0": randn(*states, scale=0.1),
        "c0": randn(*states, scale=0.1),
        "da": randn(D * n, m, T),
    }
    if cell in LENGTHS:
        prob["lengths"] = rng.integers(1, T + 1, m)
        if cell == "lstm-sorted":
            prob["lengths"] = np.sort(prob["lengths"])[::-1].copy()
    return prob


def load_baseline(rev):
    """The ``xrnn`` package as it was at the git revision ``rev``, imported as ``xrnn_base``
    from a temporary folder."""
    folder = tempfile.mkdtemp(prefix="xrnn-base-")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    command = ["git", "-C", root, "archive", rev, "xrnn"]
    tar = subprocess.run(command, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", folder], input=tar.stdout, check=True)
    os.rename(os.path.join(folder, "xrnn"), os.path.join(folder, "xrnn_base"))
    sys.path.insert(0, folder)
    return importlib.import_module("xrnn_base")


def xrnn_run(cell, prob, lengths=True, xrnn=xrnn):
    """fwd+bwd through xrnn's public functions (of the module ``xrnn``), on whatever arrays
    ``prob`` holds."""
    x, a0, c0, p, da = (prob[k] for k in ("x", "a0", "c0", "p", "da"))
    if cell == "lstm2bi":
        _, _, cache = xrnn.lstm_layers(x, p, num_layers=2, bidirectional=True, a0=a0, c0=c0)
        return xrnn.lstm_layers_backward(da, cache)
    if cell in ("lstm", *LENGTHS):
        lens = prob.get("lengths") if lengths else None
        *_, caches = xrnn.lstm_forward(x, a0, p, c0=c0, lengths=lens)
        return xrnn.lstm_backward(da, caches)
    if cell == "gru":
        *_, caches = xrnn.gru_forward(x, a0, p, reset_after=True)
        return xrnn.gru_backward(da, caches)
    *_, caches = xrnn.rnn_forward(x, a0, p)
    return xrnn.rnn_backward(da, caches)


def seed_run(cell, prob, xp):
    if cell == "lstm":
        *_, caches = seed_loop.lstm_forward(prob["x"], prob["a0"], prob["p"], xp)
        return seed_loop.lstm_backward(prob["da"], caches, xp)
    *_, caches = seed_loop.rnn_forward(prob["x"], prob["a0"], prob["p"], xp)
    return seed_loop.rnn_backward(prob["da"], caches, xp)


def gemm_bound(cell, prob, xp, repeat):
    """Time of each matrix product xrnn performs, alone, at its shape and layout (for lengths:
    the full length's)."""
    n_x, m, T = prob["x"].shape
    n = prob["a0"].shape[-2]
    gates, kind, _ = CELLS[cell]
    G = gates * n
    dt = prob["x"].dtype

    def arr(*shape):
        return xp.asarray(np.ones(shape, dtype=np.float64) * 0.01, dtype=dt)

    runs = [n_x] if kind == "seq" else [n_x, n_x, 2 * n, 2 * n]  # each layer's input width
    times = {}
    for i, width in enumerate(runs):
        W = arr(G, n + width)  # stacked weights as the engine holds them
        X, A, dZ, h, dz = arr(T * m, width), arr(T * m, n), arr(T * m, G), arr(m, n), arr(m, G)
        products = {
            "input": lambda X=X, W=W, n=n: X @ W[:, n:].T,
            "forward step": lambda h=h, W=W, n=n: h @ W[:, :n].T,
            "backward step": lambda dz=dz, W=W, n=n: dz @ W[:, :n],
            "dW": lambda dZ=dZ, A=A, X=X: (dZ.T @ A, dZ.T @ X),
            "dx": lambda dZ=dZ, W=W, n=n: dZ @ W[:, n:],
        }
        if kind == "seq":
            Wy = arr(n_x, n)
            products["output"] = lambda A=A, Wy=Wy: A @ Wy.T
        t = best(products, max(repeat, 5) * 2)
        t["forward step"] *= T
        t["backward step"] *= T
        times.update({f"{k} {i}" if len(runs) > 1 else k: v for k, v in t.items()})
    return times


def torch_problem(cell, prob, torch, device="cpu"):
    """``nn.LSTM`` / ``nn.RNN`` / ``nn.GRU`` holding the same weights (converted with
    ``xrnn.to_torch``), and a fwd+bwd: forward, output softmax (one layer), backward from da."""
    base, layers = BASE.get(cell, cell), CELLS[cell][1] == "layers"
    p = prob["p"]
    n_x = prob["x"].shape[0]
    n = prob["a0"].shape[-2]
    dtype = torch.float64 if prob["x"].dtype == np.float64 else torch.float32
    net = {"lstm": torch.nn.LSTM, "rnn": torch.nn.RNN, "gru": torch.nn.GRU}[base](
        n_x, n, num_layers=2 if layers else 1, bidirectional=layers, device=device, dtype=dtype
    )
    weights = (
        p if layers else {f"{k}_l0": v for k, v in p.items() if not k.startswith(("Wy", "by"))}
    )
    net.load_state_dict({k: torch.as_tensor(v) for k, v in xrnn.to_torch(weights, base).items()})
    Wy, by = (
        (None, None)
        if layers
        else (
            torch.as_tensor(p["Wy" if "Wy" in p else "Wya"], device=device),
            torch.as_tensor(p["by"], device=device),
        )
    )

    def tm(a):  # (width, m, T) -> time-major (T, m, width)
        return torch.as_tensor(a, device=device).permute(2, 1, 0).contiguous()

    def states(a):
        a = a if layers else a[None]
        return torch.as_tensor(a, device=device).permute(0, 2, 1).contiguous().requires_grad_()

    x, h0, c0, da = (
        tm(prob["x"]).requires_grad_(),
        states(prob["a0"]),
        states(prob["c0"]),
        tm(prob["da"]),
    )
    lengths = prob.get("lengths")
    leaves = [x, h0, c0, *net.parameters()]

    def run():
        for leaf in leaves:
            leaf.grad = None
        inp = x
        if lengths is not None:
            inp = torch.nn.utils.rnn.pack_padded_sequence(
                x, torch.as_tensor(lengths), enforce_sorted=False
            )
        out, _ = net(inp, (h0, c0)) if base == "lstm" else net(inp, h0)
        if lengths is not None:
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])
        if Wy is not None:
            torch.softmax(out @ Wy.T + by.T, dim=-1)
        out.backward(da)
        return x.grad

    return run


def run_cuda(args):
    """CuPy against torch's cuDNN on the GPU, and against xrnn on NumPy on the CPU."""
    try:
        import cupy
        import torch

        if cupy.cuda.runtime.getDeviceCount() == 0 or not torch.cuda.is_available():
            raise RuntimeError("no CUDA device")
    except Exception as e:  # ImportError, or CUDA's own error without a driver
        print(f"--device cuda needs CuPy, torch and a CUDA device: {type(e).__name__}: {e}")
        return []
    torch.set_num_threads(args.threads)
    print(
        f"xrnn {xrnn.__version__}, CuPy {cupy.__version__}, torch {torch.__version__}, "
        f"{torch.cuda.get_device_name()}, cuDNN {torch.backends.cudnn.version()}; "
        f"NumPy on {args.threads} CPU threads ({blas_summary()})\n"
    )
    print(
        f"{'cell':5} {'size':9} {'dtype':8} {'cupy ms':>9} {'cudnn ms':>9} {'cupy/cudnn':>10} "
        f"{'numpy ms':>9} {'numpy/cupy':>10}"
    )

    def synced(f, sync):
        return lambda: (f(), sync())

    rows = []
    with threadpool_limits(args.threads):
        for cell in args.cells:
            for size in args.sizes:
                for dtype in args.dtypes:
                    prob = make_problem(cell, size, dtype)
                    gpu = {k: cupy.asarray(v) for k, v in prob.items() if k != "p"}
                    gpu["p"] = {k: cupy.asarray(v) for k, v in prob["p"].items()}
                    sync = cupy.cuda.Device().synchronize
                    fns = {
                        "cupy": synced(lambda g=gpu, c=cell: xrnn_run(c, g), sync),
                        "cudnn": synced(
                            torch_problem(cell, prob, torch, "cuda"), torch.cuda.synchronize
                        ),
                        "numpy": lambda pr=prob, c=cell: xrnn_run(c, pr),
                    }
                    ms = {k: 1e3 * v for k, v in best(fns, args.repeat).items()}
                    rows.append({"cell": cell, "size": size, "dtype": dtype, "ms": ms})
                    print(
                        f"{cell:5} {size:9} {dtype:8} {ms['cupy']:9.2f} {ms['cudnn']:9.2f} "
                        f"{ms['cupy'] / ms['cudnn']:10.2f} {ms['numpy']:9.1f} "
                        f"{ms['numpy'] / ms['cupy']:10.1f}",
                        flush=True,
                    )
    return rows


def run_training(args, torch):
    """Characters per second of a full training step (forward, loss, backward, clipping,
    Adam) of ``xrnn train``'s default model on batches of the default corpus."""
    from xrnn import charmodel, data

    text = data.read_corpus()
    vocab = data.Vocab(text)
    ids = [vocab.encode(e) for e in data.examples(text, 32)]
    order = np.random.default_rng(0).permutation(len(ids))[: 64 * 20]
    model = charmodel.Model("lstm", 1, 128, len(vocab))
    print(
        "\ntraining step of xrnn train's default model (lstm 1x128, batch 64 names, Adam, "
        "clipping), characters per second"
    )
    print(f"{'dtype':8} {'xrnn':>10} {'xrnn-torch':>11} {'torch':>10} {'xrnn/torch':>11}")
    rows = []
    for dtype in args.dtypes:
        xp = array_api_compat.array_namespace(np.empty(0))
        batches = list(data.batches(ids, 64, order, len(vocab), xp, getattr(xp, dtype)))
        chars = sum(int(b[2].sum()) for b in batches)
        fns = {"xrnn": _xrnn_training(model, batches, xp, getattr(xp, dtype))}
        if torch is not None:
            tx = array_api_compat.array_namespace(torch.empty(0))
            tb = [tuple(torch.as_tensor(a) for a in b) for b in batches]
            fns["xrnn-torch"] = _xrnn_training(model, tb, tx, getattr(tx, dtype))
            fns["torch"] = _torch_training(torch, tb, len(vocab), getattr(torch, dtype))
        rate = {k: chars / v for k, v in best(fns, max(2, args.repeat // 2)).items()}
        ratio = f"{rate['xrnn'] / rate['torch']:.2f}" if "torch" in rate else "-"
        print(
            f"{dtype:8} {rate['xrnn']:10,.0f} {rate.get('xrnn-torch', float('nan')):11,.0f} "
            f"{rate.get('torch', float('nan')):10,.0f} {ratio:>11}",
            flush=True,
        )
        rows.append({"cell": "train", "dtype": dtype, "chars_per_s": rate})
    return rows


def _xrnn_training(model, batches, xp, dtype):
    from xrnn import optim
    from xrnn.training import fit

    def run():
        params = model.init(seed=0, xp=xp, dtype=dtype)
        opt = optim.Adam(params, lr=1e-3)
        fit(model, params, opt, batches.__getitem__, steps=len(batches), clip=5.0)

    return run


def _torch_training(torch, batches, V, dtype):
    lstm, linear = torch.nn.LSTM(V, 128, dtype=dtype), torch.nn.Linear(128, V, dtype=dtype)
    params = [*lstm.parameters(), *linear.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    prepared = []
    for x, targets, lengths in batches:
        T = x.shape[2]
        mask = torch.arange(T)[None, :] < lengths[:, None]
        prepared.append(
            (x.permute(2, 1, 0).contiguous(), torch.where(mask, targets, -100).T, lengths)
        )

    def run():
        for x, targets, lengths in prepared:
            packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(
                lstm(packed)[0], total_length=x.shape[0]
            )
            loss = torch.nn.functional.cross_entropy(
                linear(out).reshape(-1, V), targets.reshape(-1)
            )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()

    return run


def blas_summary():
    info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return ", ".join(
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
        f"{i.get('num_threads')} threads)"
        for i in info
    )


def run_cpu(args):
    torch = None
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            print("torch is not installed: no torch columns")
    xp = array_api_compat.array_namespace(np.empty(0))
    rows = []
    with threadpool_limits(args.threads):
        print(header(args, torch))
        for cell in [c for c in args.cells if c not in EXTRA]:
            for size in args.sizes:
                for dtype in args.dtypes:
                    rows.append(measure(cell, size, dtype, args, xp, torch))
                    print(format_row(rows[-1]), flush=True)
        if "train" in args.cells:
            rows += run_training(args, torch)
        if "load" in args.cells:
            rows += run_load(args)
        if "jax" in args.cells:
            rows += run_jax(args)
        if "dask" in args.cells:
            rows += run_dask(args)
    return rows


def run_dask(args):
    """``xrnn.distributed`` on two workers against this process (best of ``--repeat``)."""
    import dask.array as da
    from distributed import Client

    from xrnn import charmodel, distributed
    from xrnn.distributed import ROWS, _logits, _part

    model, T = charmodel.Model("lstm", 1, 128, 27), 50
    print("\nDask: 2 workers of 1 thread (local_cluster) against this process; ms")
    print(f"{'what':30} {'one':>8} {'blocks':>8} {'dask':>8} {'one/dask':>9}")
    out = []
    with distributed.local_cluster(2) as cluster, Client(cluster) as client:
        on_cluster = distributed.dask_loss_and_grads(model, client)
        for dtype in args.dtypes:
            p = model.init(seed=0, dtype=np.dtype(dtype))
            rng = np.random.default_rng(0)
            for what, m in (("inference", 8192), ("training step", 4096)):
                ids = rng.integers(0, 27, (m, T))
                x = np.eye(27, dtype=dtype)[ids].transpose(2, 0, 1).copy()
                if what == "inference":
                    chunks = client.persist(da.from_array(x, chunks=(27, m // 2, T)))
                    fns = {
                        "one": lambda x=x, p=p: _logits(x, None, model, p, x.shape[1]),
                        "blocks": lambda x=x, p=p: _logits(x, None, model, p, ROWS),
                        "dask": lambda c=chunks, p=p: distributed.predict(model, p, c).compute(),
                    }
                else:
                    b = (x, np.roll(ids, -1, axis=1), rng.integers(T // 2, T + 1, m))
                    fns = {
                        "one": lambda b=b, p=p: charmodel.loss_and_grads(model, p, *b),
                        "blocks": lambda b=b, p=p: _part(model, p, b, ROWS),
                        "dask": lambda b=b, p=p: on_cluster(p, *b),
                    }
                times = best(fns, args.repeat)
                name = f"{what} m={m} {dtype}"
                print(
                    f"{name:30} {1e3 * times['one']:8.0f} {1e3 * times['blocks']:8.0f} "
                    f"{1e3 * times['dask']:8.0f} {times['one'] / times['dask']:9.2f}",
                    flush=True,
                )
                out.append(
                    {
                        "cell": "dask",
                        "what": what,
                        "shape": {"V": 27, "n_a": 128, "m": m, "T": T},
                        "dtype": dtype,
                        "ms": {k: 1e3 * v for k, v in times.items()},
                    }
                )
    return out


def run_jax(args):
    """``jax.jit`` against xrnn on NumPy, same function, same inputs: compile time (seconds)
    and the compiled function's run time (best of ``--repeat``)."""
    import jax

    from xrnn import charmodel

    jax.config.update("jax_enable_x64", "float64" in args.dtypes)
    print(f"\njax.jit, JAX {jax.__version__} on {jax.devices()[0].platform}: compile (s), run (ms)")
    print(f"{'what':38} {'compile':>8} {'jax':>9} {'numpy':>9} {'jax/np':>7}")
    rows = []
    for size, (n_x, n, m, T) in JAX_SIZES.items():
        rng = np.random.default_rng(0)
        lengths = np.sort(rng.integers(T // 2, T + 1, m))[::-1].copy()  # traced by jit
        model = charmodel.Model("lstm", 1, n, n_x)
        targets = rng.integers(0, n_x, (m, T))

        def layers(p, x, lengths):
            a, _, cache = xrnn.lstm_layers(x, p, num_layers=2, bidirectional=True, lengths=lengths)
            return a, xrnn.lstm_layers_backward(a, cache)

        def loss(p, x, targets, lengths, model=model):
            return charmodel.loss_and_grads(model, p, x, targets, lengths)

        for dtype in args.dtypes:
            x = np.eye(n_x, dtype=dtype)[rng.integers(0, n_x, (m, T))].transpose(2, 0, 1)
            p2 = xrnn.init_parameters(
                "lstm", n_x, n, num_layers=2, bidirectional=True, seed=0, dtype=np.dtype(dtype)
            )
            jobs = {
                "lstm 2 layers bidirectional": (layers, (p2, x, lengths)),
                "char model loss and gradients": (
                    loss,
                    (model.init(seed=0, dtype=np.dtype(dtype)), x, targets, lengths),
                ),
            }
            for what, (f, inputs) in jobs.items():
                on_jax = jax.tree.map(jax.numpy.asarray, inputs)
                t = time.perf_counter()
                compiled = jax.jit(lambda *a, f=f: f(*a)).lower(*on_jax).compile()
                compile_s = time.perf_counter() - t
                times = best(
                    {
                        "jax": lambda c=compiled, a=on_jax: jax.block_until_ready(c(*a)),
                        "numpy": lambda f=f, a=inputs: f(*a),
                    },
                    args.repeat,
                )
                name = f"{what} {size} {dtype}"
                print(
                    f"{name:38} {compile_s:8.2f} {1e3 * times['jax']:9.1f} "
                    f"{1e3 * times['numpy']:9.1f} {times['jax'] / times['numpy']:7.2f}",
                    flush=True,
                )
                rows.append(
                    {
                        "cell": "jax",
                        "what": what,
                        "size": size,
                        "dtype": dtype,
                        "shape": dict(zip(("n_x", "n_a", "m", "T"), (n_x, n, m, T), strict=True)),
                        "compile_s": compile_s,
                        "ms": {k: 1e3 * v for k, v in times.items()},
                    }
                )
    return rows


def run_load(args):
    """Wall times idle and with two busy processes (one per core) competing: the medium LSTM's
    forward+backward and ``xrnn train`` with its defaults."""
    print("\nunder load: two busy processes competing for the cores; median wall time")
    print(f"{'what':28} {'idle':>9} {'loaded':>9} {'loaded/idle':>12}")
    jobs = {}
    for dtype in args.dtypes:
        prob = make_problem("lstm", "medium", dtype)
        jobs[f"lstm medium {dtype}"] = (lambda prob=prob: xrnn_run("lstm", prob), 5)
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "xrnn.cli", "train", "--out", out, "--force", "--no-plot"]
        jobs["xrnn train (default)"] = (lambda: subprocess.run(command, capture_output=True), 3)
        rows = []
        for name, (f, runs) in jobs.items():
            f()  # warm: compiled kernels, caches
            idle = _median(f, runs)
            with _busy(2):
                loaded = _median(f, runs)
            print(f"{name:28} {idle:8.2f}s {loaded:8.2f}s {loaded / idle:12.2f}", flush=True)
            rows.append({"cell": "load", "what": name, "idle_s": idle, "loaded_s": loaded})
    return rows


def _median(f, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


@contextlib.contextmanager
def _busy(n):
    """``n`` processes that keep a core busy each, for the duration."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    time.sleep(0.5)
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def measure(cell, size, dtype, args, xp, torch):
    prob = make_problem(cell, size, dtype)
    fns = {"xrnn": lambda: xrnn_run(cell, prob)}
    if args.base is not None:
        fns["base"] = lambda: xrnn_run(cell, prob, xrnn=args.base)
    if CELLS[cell][2]:
        fns["seed"] = lambda: seed_run(cell, prob, xp)
    if cell in LENGTHS:
        fns["full"] = lambda: xrnn_run(cell, prob, lengths=False)
    if torch is not None:
        tprob = {k: (v if k == "p" else torch.as_tensor(v)) for k, v in prob.items()}
        tprob["p"] = {k: torch.as_tensor(v) for k, v in prob["p"].items()}
        fns["torch"] = torch_problem(cell, prob, torch)
        fns["xrnn-torch"] = lambda: xrnn_run(cell, tprob)
    fns = {k: f for k, f in fns.items() if args.only is None or k in args.only}
    times = best(fns, args.repeat)
    row = {
        "cell": cell,
        "size": size,
        "dtype": dtype,
        "shape": dict(zip(("n_x", "n_a", "m", "T"), SIZES[size], strict=True)),
        "ms": {k: 1e3 * v for k, v in times.items()},
    }
    if args.only is None or "gemm" in args.only:
        gemm = gemm_bound(cell, prob, xp, args.repeat)
        row["gemm_ms"] = {k: 1e3 * v for k, v in gemm.items()}
        row["ms"]["gemm"] = sum(row["gemm_ms"].values())
    if not args.no_memory:
        row["peak_mb"] = {k: peak_bytes(fns[k]) / 2**20 for k in ("xrnn", "seed") if k in fns}
    return row


def header(args, torch):
    lines = [
        f"xrnn {xrnn.__version__}, NumPy {np.__version__}"
        + (f", torch {torch.__version__}" if torch else "")
        + f", Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs",
        f"BLAS: {blas_summary()}",
        f"threads: BLAS {args.threads}, torch {args.threads if torch else '-'} "
        f"(xrnn's elementwise work runs on one); repeat {args.repeat}, best time",
    ]
    if args.baseline:
        lines.append(f"base: xrnn at git revision {args.baseline}")
    if os.environ.get("XRNN_BENCH_UNSET"):
        lines.append(f"unset for this run: {os.environ['XRNN_BENCH_UNSET']}")
    cols = (
        f"{'cell':8} {'size':9} {'dtype':8} {'xrnn ms':>9} {'gemm ms':>9} {'x/gemm':>7} "
        f"{'seed/x':>7} {'torch/x':>7} {'xt/x':>6} {'MB x':>8} {'MB seed':>8} {'len/full':>8}"
        f" {'base/x':>7}"
    )
    return "\n".join([*lines, "", cols])


def format_row(r):
    ms = r["ms"]

    def ratio(k):
        return f"{ms[k] / ms['xrnn']:.2f}" if k in ms else "-"

    xt = f"{ms['xrnn'] / ms['xrnn-torch']:.2f}" if "xrnn-torch" in ms else "-"
    mem = r.get("peak_mb", {})
    full = f"{ms['xrnn'] / ms['full']:.2f}" if "full" in ms else "-"
    gemm = ms.get("gemm", float("nan"))
    return (
        f"{r['cell']:8} {r['size']:9} {r['dtype']:8} {ms['xrnn']:9.1f} {gemm:9.1f} "
        f"{ms['xrnn'] / gemm:7.2f} {ratio('seed'):>7} {ratio('torch'):>7} {xt:>6} "
        f"{mem.get('xrnn', float('nan')):8.1f} {mem.get('seed', float('nan')):8.1f} {full:>8}"
        f" {ratio('base'):>7}"
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    ap.add_argument("--cells", nargs="+", default=[*CELLS, "train"], choices=[*CELLS, *EXTRA])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--baseline", metavar="REV", help="also time xrnn at this git revision")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="time only these contenders")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--json", default="bench.json", help="where to write the results")
    args = ap.parse_args(argv)
    args.base = load_baseline(args.baseline) if args.baseline else None
    rows = run_cuda(args) if args.device == "cuda" else run_cpu(args)
    with open(args.json, "w") as f:
        json.dump(
            {"device": args.device, "blas": blas_summary(), "threads": args.threads, "rows": rows},
            f,
            indent=1,
        )
    print(
        f"\nwrote {args.json}; ratios: x/gemm = xrnn / GEMM bound, seed/x and torch/x = "
        f"their time / xrnn's, xt/x = xrnn-on-NumPy time / xrnn-on-torch time"
    )


if __name__ == "__main__":
    main()

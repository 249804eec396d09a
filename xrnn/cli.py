"""The ``xrnn`` command: ``xrnn train`` and ``xrnn sample``.

``xrnn train`` trains a character-level language model (an LSTM by default) on a corpus (by
default 5,163 US first names, which ship with xrnn), shows its progress, evaluates it on a
held-out split against a bigram model, prints samples as it goes, and writes a checkpoint and a
loss plot into ``--out``. ``--resume`` continues a run exactly where it stopped; Ctrl-C saves a
checkpoint and stops. ``xrnn sample --checkpoint PATH`` prints new text.
"""

import argparse
import contextlib
import hashlib
import math
import secrets
import signal
import sys
import time
import warnings
from pathlib import Path

import array_api_compat

from . import __version__, checkpoint, data, optim
from ._host import permutation
from ._run import OPTIMIZERS, RUN, check_saved, wrong
from ._rundir import RunDirError, hold
from .charmodel import Model, evaluate, generate
from .training import Diverged, fit

__all__ = ["main"]


class Error(Exception):
    """A one-line error for the user."""


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    old = signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops as Ctrl-C does
    try:
        return args.run(args)
    except (Error, data.CorpusError, checkpoint.CheckpointError, RunDirError) as e:
        print(f"xrnn: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        saved = "; nothing was saved since the last checkpoint" if args.run is train else ""
        print(f"xrnn: interrupted{saved}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, old)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, as every other error
        self.exit(2, f"xrnn: error: {message}\n")


def _parser():
    parser = _Parser(prog="xrnn", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"xrnn {__version__}")
    sub = parser.add_subparsers(metavar="{train,sample}", parser_class=_Parser)

    t = sub.add_parser("train", help="train a character-level language model")
    t.set_defaults(run=train)
    t.add_argument("--corpus", help="a UTF-8 text file, one example per line (default: names)")
    t.add_argument("--out", default="xrnn-run", help="where the checkpoint and plot go (xrnn-run)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out")
    t.add_argument("--force", action="store_true", help="start over even if --out has a run")
    t.add_argument("--steps", type=_positive, default=1250, help="training steps in all (1250)")
    t.add_argument("--cell", choices=["lstm", "gru", "rnn"], help="the cell (lstm)")
    t.add_argument("--dtype", choices=["float32", "float64"], help="the float type (float32)")
    t.add_argument("--optimizer", choices=list(OPTIMIZERS), help="adam, adamw or sgd (adam)")
    options = {  # the options that define a run: type, and what it is
        "layers": (int, "stacked layers"),
        "hidden": (int, "hidden units per layer"),
        "lr": (float, "learning rate"),
        "weight_decay": (float, "weight decay"),
        "momentum": (float, "SGD's momentum"),
        "clip": (float, "clip the gradients' global norm to this"),
        "clip_value": (float, "clip each gradient to ±this"),
        "batch": (int, "examples per step"),
        "seq_len": (int, "longest example, in steps"),
        "val_fraction": (float, "held-out share of the examples"),
        "seed": (int, "seed of every random draw"),
    }
    for key, (kind, what) in options.items():
        default = "off" if RUN[key] is None else RUN[key]
        t.add_argument(
            "--" + key.replace("_", "-"), type=_typed(kind, key), help=f"{what} ({default})"
        )
    t.add_argument(
        "--backend",
        choices=["numpy", "torch", "cupy"],
        default="numpy",
        help="the array library (numpy)",
    )
    t.add_argument("--device", help="the backend's device, e.g. cuda:0 (its default)")
    t.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a Dask scheduler, e.g. tcp://host:8786: each step's batch is split among its "
        "workers (none: this process computes it)",
    )
    t.add_argument(
        "--eval-every",
        type=_positive,
        default=100,
        help="steps between evaluations and checkpoints (100)",
    )
    t.add_argument(
        "--sample-every", type=_positive, default=250, help="steps between printed samples (250)"
    )
    t.add_argument("--no-plot", action="store_true", help="write no loss plot")

    s = sub.add_parser("sample", help="print text from a trained checkpoint, one a line")
    s.set_defaults(run=sample)
    s.add_argument(
        "--checkpoint",
        default="xrnn-run",
        help="a checkpoint file, or the --out directory of xrnn train (xrnn-run)",
    )
    s.add_argument("-n", type=_positive, default=10, help="how many samples (10)")
    s.add_argument(
        "--temperature",
        type=_typed(float, must="be positive and finite", test=lambda v: 0 < v < math.inf),
        default=1.0,
        help="below 1: likelier characters, above 1: more varied (1.0)",
    )
    s.add_argument(
        "--top-k", type=_positive, help="draw each character among the k likeliest only (off)"
    )
    s.add_argument("--prefix", default="", help="the text each sample starts with (none)")
    s.add_argument(
        "--seed", type=_typed(int, "seed"), help="seed of the draws (a new one each time, printed)"
    )
    s.add_argument(
        "--max-len", type=_positive, default=40, help="longest sample, in characters (40)"
    )
    s.add_argument(
        "--backend",
        choices=["numpy", "torch", "cupy"],
        default="numpy",
        help="the array library (numpy)",
    )
    s.add_argument("--device", help="the backend's device, e.g. cuda:0 (its default)")
    return parser


def _typed(kind, key=None, must=None, test=None):
    """An argparse type: ``kind`` (int or float) of the text, checked as the run option
    ``key`` is (:func:`xrnn._run.wrong`), or by ``test``, which ``must`` says in words."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            noun = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"must be {noun}; got {text!r}") from None
        problem = wrong(key, value) if key else None if test(value) else must
        if problem:
            raise argparse.ArgumentTypeError(f"must {problem}; got {text}")
        return value

    return parse


_positive = _typed(int, must="be a positive integer", test=lambda v: v >= 1)


def train(args):
    if not args.out.strip():
        raise Error("--out must name a directory; got an empty string")
    out = Path(args.out)
    with hold(out) as rundir:  # locked against another run, stale temporary files removed
        return _train(args, out, out / "checkpoint.npz", rundir)


def _train(args, out, path, rundir):
    saved = vocab = None
    if args.resume:
        saved = checkpoint.load(path)
        vocab = check_saved(path, *saved)
    elif path.exists() and not args.force:
        raise Error(f"{path} exists: pass --resume to continue that run, or --force to start over")
    cfg = _run_config(args, saved.config if saved else None)
    corpus = _Corpus(args.corpus, cfg, saved, vocab, path)
    run = _Run(args, cfg, corpus, saved, out, path)
    rundir.probe(run.checkpoint_bytes())
    print(
        f"xrnn {__version__}: {cfg['cell']} {cfg['layers']}x{cfg['hidden']} on "
        f"{corpus.name} ({len(corpus.train)} training and {len(corpus.val)} held-out examples, "
        f"{len(corpus.vocab)} characters), {args.backend} {cfg['dtype']}; bigram model's "
        f"held-out loss {corpus.bigram:.3f} nats/char",
        flush=True,
    )
    if saved:
        print(f"resuming {path} at step {run.step}", flush=True)
    with (
        _on_cluster(args.scheduler, run.model) as loss_and_grads,
        _StopOnInterrupt() as stop,
        _progress(args.steps, run.step) as run.bar,
    ):
        try:
            fit(
                run.model,
                run.params,
                run.opt,
                run.batch,
                steps=args.steps,
                start=run.step,
                clip=cfg["clip"],
                clip_value=cfg["clip_value"],
                evaluate=run.evaluate,
                eval_every=args.eval_every,
                on_step=run.on_step,
                on_eval=run.on_eval,
                stop=lambda: stop.requested,
                loss_and_grads=loss_and_grads,
            )
        except Diverged as e:
            raise Error(f"{e}; {_kept(path, run.saved_at)}") from None
        run.bar.close()
        if stop.requested:
            run.save(path)
            _plot(out, run.history, corpus.bigram, args.no_plot)
            print(
                f"{stop.requested} at step {run.step}: saved {path}; continue with: xrnn train "
                f"--out {args.out} --resume --steps {args.steps}"
            )
            return 130
    run.report(_plot(out, run.history, corpus.bigram, args.no_plot))
    return 0


@contextlib.contextmanager
def _on_cluster(address, model):
    """The training step on the workers of the Dask scheduler at ``address``; None (this
    process's) without one."""
    if address is None:
        yield None
        return
    try:
        from distributed import Client

        from .distributed import dask_loss_and_grads
    except ImportError:
        raise Error("--scheduler needs Dask: pip install 'xrnn[dask]'") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, ValueError, TypeError) as e:
        raise Error(f"--scheduler {address}: no Dask scheduler there ({e})") from None
    with client:
        threads = client.nthreads()
        print(
            f"on the Dask scheduler at {address}: {len(threads)} workers, "
            f"{sum(threads.values())} threads",
            flush=True,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            step = dask_loss_and_grads(model, client)
        for w in caught:
            print(f"xrnn: warning: {w.message}", file=sys.stderr, flush=True)
        yield step


class _Corpus:
    """A run's text, split into training and held-out examples by the seed, with its
    vocabulary (a resumed run's own) and the bigram model's held-out loss."""

    def __init__(self, name, cfg, saved, vocab, path):
        text = data.read_corpus(name)
        self.name = name or "names (default)"
        self.sha256 = hashlib.sha256(text.encode()).hexdigest()
        if saved and saved.meta["corpus"]["sha256"] != self.sha256:
            raise Error(
                f"mismatched checkpoint: {path} was trained on {saved.meta['corpus']['name']}, "
                f"not on this corpus"
            )
        self.vocab = vocab or data.Vocab(text)
        ids = [self.vocab.encode(p) for p in data.examples(text, cfg["seq_len"])]
        order = permutation([cfg["seed"], 0], len(ids))
        n_val = max(1, round(cfg["val_fraction"] * len(ids)))
        self.train = [ids[i] for i in order[n_val:]]
        self.val = [ids[i] for i in order[:n_val]]
        if len(self.train) < cfg["batch"]:
            raise Error(
                f"the corpus gives {len(self.train)} training examples, fewer than one "
                f"batch of {cfg['batch']}; use a smaller --batch or a larger corpus"
            )
        self.bigram = data.bigram_loss(self.train, self.val, len(self.vocab))


class _Run:
    """A training run's model, parameters, optimiser and history, new or resumed, and what
    :func:`xrnn.training.fit` calls back: the batch of a step, a step done, an evaluation."""

    def __init__(self, args, cfg, corpus, saved, out, path):
        self.args, self.cfg, self.corpus, self.out, self.path = args, cfg, corpus, out, path
        self.xp, self.device = _backend(args.backend, args.device)
        self.dtype = getattr(self.xp, cfg["dtype"])
        self.model = Model(cfg["cell"], cfg["layers"], cfg["hidden"], len(corpus.vocab))
        self.history, self.step = {"train": [], "val": []}, 0
        self.saved_at = None  # the step of the last checkpoint this run saved or resumed
        if saved:
            self.params = self._to(saved.params)
        else:
            self.params = self.model.init(
                seed=cfg["seed"], xp=self.xp, dtype=self.dtype, device=self.device
            )
        self.opt = _optimizer(cfg, self.params)
        if saved:
            state = {
                k: v if k == "steps" else self._to(v) for k, v in saved.optimizer_state.items()
            }
            try:
                self.opt.load_state_dict(state)
            except (TypeError, ValueError) as e:
                raise Error(f"checkpoint {path} does not fit its own config: {e}") from None
            self.history, self.step = saved.history, saved.step
            self.saved_at = self.step
            if args.steps <= self.step:
                raise Error(f"{path} is at step {self.step} already; ask for more --steps")
        self.best = min(((v, s) for s, v in self.history["val"]), default=None)  # (loss, step)
        self.per_epoch = math.ceil(len(corpus.train) / cfg["batch"])
        self.chars, self.started, self.rows = 0, time.perf_counter(), []

    def _to(self, arrays):
        return {
            k: self.xp.asarray(v, dtype=self.dtype, device=self.device) for k, v in arrays.items()
        }

    def checkpoint_bytes(self):
        values = sum(math.prod(v.shape) for v in self.params.values()) * (1 + len(self.opt.slots))
        return values * self.xp.finfo(self.dtype).bits // 8 + 2**16  # and the metadata

    def save(self, target):
        meta = {
            "config": self.cfg,
            "vocab": self.corpus.vocab.chars,
            "step": self.step,
            "history": self.history,
            "bigram": self.corpus.bigram,
            "corpus": {"name": self.corpus.name, "sha256": self.corpus.sha256},
            "model": self.model.dict(),
        }
        try:
            checkpoint.save(target, self.params, self.opt.state_dict(), meta)
        except OSError as e:
            raise Error(
                f"step {self.step}: could not save {target} ({e.strerror or e}); the last "
                f"checkpoint there is unchanged"
            ) from None
        if target == self.path:
            self.saved_at = self.step

    def batch(self, step):  # an epoch's shuffle, from the seed: the same on resuming
        epoch, k = divmod(step, self.per_epoch)
        b, train = self.cfg["batch"], self.corpus.train
        self.rows[:] = permutation([self.cfg["seed"], 1, epoch], len(train))[k * b : (k + 1) * b]
        vocab = len(self.corpus.vocab)
        return next(data.batches(train, b, self.rows, vocab, self.xp, self.dtype, self.device))

    def evaluate(self):
        val, vocab = self.corpus.val, len(self.corpus.vocab)
        batches = data.batches(val, 256, range(len(val)), vocab, self.xp, self.dtype, self.device)
        return evaluate(self.model, self.params, batches)

    def on_step(self, step, loss):
        self.step = step
        self.history["train"].append(loss)
        self.chars += sum(len(self.corpus.train[i]) + 1 for i in self.rows)
        self.bar.update(1, loss, self.chars / (time.perf_counter() - self.started))
        if step % self.args.sample_every == 0 and step != self.args.steps:
            names = ", ".join(self.samples(5, [self.cfg["seed"], 2, step]))
            self.bar.write(f"step {step}: samples: {names}")

    def on_eval(self, step, val):
        self.history["val"].append([step, val])
        self.save(self.path)
        if self.best is None or val < self.best[0]:
            self.best = (val, step)
            self.save(self.out / "best.npz")
            note = "the best so far, saved as best.npz"
        else:
            note = f"not below step {self.best[1]}'s {self.best[0]:.3f}"
        self.bar.write(
            f"step {step}: held-out loss {val:.3f} (bigram {self.corpus.bigram:.3f}), {note}"
        )

    def samples(self, n, seed):
        return generate(self.model, self.params, self.corpus.vocab, n=n, temperature=0.8, seed=seed)

    def report(self, plotted):
        """The end of a finished run: the held-out loss, when it stopped improving, samples."""
        val, bigram = self.history["val"][-1][1], self.corpus.bigram
        print(
            f"held-out loss {val:.3f} nats/char, bigram model {bigram:.3f}: "
            f"{100 * (1 - val / bigram):.1f}% below"
        )
        best, step = self.best, self.step
        if best[1] != step:
            print(
                f"the held-out loss stopped improving at step {best[1]} ({best[0]:.3f}): best.npz"
            )
        print(f"samples: {', '.join(self.samples(10, [self.cfg['seed'], 3]))}")
        plot = f" and {self.out / 'loss.png'}" if plotted else ""
        print(f"saved {self.path}, {self.out / 'best.npz'}{plot}")


def sample(args):
    path = Path(args.checkpoint)
    path = path / "checkpoint.npz" if path.is_dir() else path
    params, state, meta = checkpoint.load(path)
    vocab = check_saved(path, params, state, meta)
    unknown = sorted(set(args.prefix) - set(vocab.chars[1:]))
    if unknown:
        shown = "".join(vocab.chars[1:])
        lower = set(args.prefix.lower()) <= set(vocab.chars[1:])
        raise Error(
            f"--prefix has characters not in the vocabulary: {''.join(unknown)!r}; it holds "
            f"{shown!r}" + ("; try it in lower case" if lower else "")
        )
    xp, device = _backend(args.backend, args.device)
    model, params = checkpoint.Checkpoint(params, state, meta).model(xp, device)
    seed = secrets.randbelow(2**31) if args.seed is None else args.seed
    texts = generate(
        model,
        params,
        vocab,
        n=args.n,
        prefix=args.prefix,
        temperature=args.temperature,
        top_k=None if args.top_k is None else min(args.top_k, len(vocab)),
        seed=seed,
        max_len=args.max_len,
    )
    print("\n".join(texts))
    if args.seed is None:  # so that the draw can be repeated
        print(f"xrnn: drawn with --seed {seed}", file=sys.stderr)
    return 0


def _kept(path, step):
    """What is left of a run that diverged, whose last save was at ``step`` (None: none)."""
    if step is not None:
        kept = f"{path} keeps step {step}"
    else:
        kept = f"{path} is unchanged" if path.exists() else "nothing was saved"
    return f"{kept}; try a smaller --lr"


def _run_config(args, saved):
    """The run's options: given ones, else the checkpoint's (resuming), else the defaults.
    A resumed run must not change any."""
    cfg = {}
    for key, default in RUN.items():
        given = getattr(args, key)
        if saved is not None:
            if given is not None and given != saved[key]:
                flag = "--" + key.replace("_", "-")
                raise Error(
                    f"mismatched checkpoint: it was trained with {flag} {saved[key]}, not {given}"
                )
            cfg[key] = saved[key]
        else:
            cfg[key] = default if given is None else given
    return cfg


def _backend(name, device):
    """The array namespace and device of ``--backend`` and ``--device``."""
    try:
        module = __import__(name)
    except ImportError:
        raise Error(f"--backend {name} needs {name}, which is not installed") from None
    if name == "numpy":
        if device not in (None, "cpu"):
            raise Error(f"--backend numpy runs on the cpu only; got --device {device}")
        return array_api_compat.array_namespace(module.empty(0)), None
    try:
        if name == "torch":
            dev = module.device(device or "cpu")
            module.zeros(1, device=dev).tolist()  # a device torch cannot compute on fails here
        else:
            count = module.cuda.runtime.getDeviceCount()
            index = int((device or "cuda:0").rpartition(":")[2] or 0)
            if not 0 <= index < count:
                raise Error(f"--device {device}: this machine has {count} CUDA device(s)")
            dev = module.cuda.Device(index)
        return array_api_compat.array_namespace(module.empty(0)), dev
    except Error:
        raise
    except Exception as e:  # no driver, a bad device string
        raise Error(f"--backend {name} --device {device}: {e}".splitlines()[0]) from None


def _optimizer(cfg, params):
    kind = OPTIMIZERS[cfg["optimizer"]]
    if kind is optim.SGD:
        return kind(
            params, lr=cfg["lr"], momentum=cfg["momentum"], weight_decay=cfg["weight_decay"]
        )
    return kind(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])


_SIGNALS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


class _StopOnInterrupt:
    """Within ``with``: the first Ctrl-C or SIGTERM asks the loop to stop after its step
    (``requested`` says which); a second one interrupts at once."""

    requested = None

    def __enter__(self):
        self._old = {s: signal.signal(s, self._handle) for s in _SIGNALS}
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = _SIGNALS[signum]

    def __exit__(self, *exc):
        for s, handler in self._old.items():
            signal.signal(s, handler)


class _progress:
    """A tqdm bar showing the loss and characters per second, or plain lines without tqdm."""

    def __init__(self, total, initial):
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
            print("(pip install tqdm for a progress bar)", flush=True)
            return
        self.bar = tqdm(
            total=total, initial=initial, unit="step", mininterval=0.5, dynamic_ncols=True
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def update(self, n, loss, rate):
        if self.bar is not None:
            self.bar.set_postfix_str(f"loss {loss:.3f}, {rate:,.0f} chars/s", refresh=False)
            self.bar.update(n)

    def write(self, text):
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _plot(out, history, bigram, skip):
    """``out/loss.png``: training loss per step (and its moving average), held-out loss at
    each evaluation, the bigram model's as a line. Returns whether it drew one."""
    if skip:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(pip install matplotlib, or xrnn[plot], for the loss plot)")
        return False
    train = history["train"]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    steps = range(1, len(train) + 1)
    ax.plot(steps, train, color="#9ecae1", lw=0.8, label="training batch")
    w = min(50, len(train))
    if w > 1:
        avg = [sum(train[i - w : i]) / w for i in range(w, len(train) + 1)]
        ax.plot(steps[w - 1 :], avg, color="#3182bd", lw=1.5, label=f"training ({w}-step mean)")
    if history["val"]:
        v_steps, v_loss = zip(*history["val"], strict=True)
        ax.plot(v_steps, v_loss, "o-", color="#e6550d", lw=1.5, ms=3, label="held out")
    ax.axhline(bigram, color="gray", ls="--", lw=1, label="bigram model (held out)")
    ax.set(xlabel="step", ylabel="cross-entropy (nats per character)", title="xrnn train")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = out / ".loss.png.tmp"
    fig.savefig(tmp, format="png")
    plt.close(fig)
    tmp.replace(out / "loss.png")
    return True


if __name__ == "__main__":
    sys.exit(main())

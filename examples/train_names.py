"""What `xrnn train` does, in library calls: a character-level LSTM that invents first names.

    python examples/train_names.py            # 1250 steps, about half a minute on 2 cores
    python examples/train_names.py 200        # fewer steps

On a GPU, import ``array_api_compat.cupy as xp`` instead: nothing else changes.
"""

import sys

import array_api_compat.numpy as xp
import numpy as np

from xrnn import charmodel, data, optim
from xrnn.training import fit

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1250
text = data.read_corpus()  # the census first names that ship with xrnn, one per line
vocab = data.Vocab(text)
ids = [vocab.encode(name) for name in data.examples(text, seq_len=32)]
order = np.random.default_rng(0).permutation(len(ids))
val, train = [ids[i] for i in order[:500]], [ids[i] for i in order[500:]]

model = charmodel.Model("lstm", layers=1, hidden=128, vocab=len(vocab))
params = model.init(seed=0, xp=xp, dtype=xp.float32)
rng = np.random.default_rng(1)


def batch(step):  # 64 names drawn at random
    rows = rng.choice(len(train), size=64, replace=False)
    return next(data.batches(train, 64, rows, len(vocab), xp, xp.float32))


def held_out():
    batches = data.batches(val, 256, range(len(val)), len(vocab), xp, xp.float32)
    return charmodel.evaluate(model, params, batches)


held_out_losses = []


def report(step, loss):
    held_out_losses.append(loss)
    print(f"step {step}: held-out loss {loss:.3f}")


fit(
    model,
    params,
    optim.Adam(params, lr=5e-3),  # updates params in place
    batch,
    steps=steps,
    clip=5.0,
    evaluate=held_out,
    eval_every=250,
    on_eval=report,
)
bigram = data.bigram_loss(train, val, len(vocab))
print(
    f"bigram model: {bigram:.3f}; the LSTM is {100 * (1 - held_out_losses[-1] / bigram):.1f}% below"
)
print(", ".join(charmodel.generate(model, params, vocab, n=10, temperature=0.8, seed=0)))

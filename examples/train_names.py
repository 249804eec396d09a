"""What `xrnn train` does, in library calls: a character-level LSTM that invents first names.

    python examples/train_names.py            # 1250 steps, about half a minute on 2 cores
    python examples/train_names.py 200        # fewer steps

On a GPU, import ``array_api_compat.cupy as xp`` instead: nothing else changes.
"""

import sys

import array_api_compat.numpy as xp
import numpy as np

from xrnn import charmodel, data, optim

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1250
text = data.read_corpus()  # the census first names that ship with xrnn, one per line
vocab = data.Vocab(text)
ids = [vocab.encode(name) for name in data.examples(text, seq_len=32)]
order = np.random.default_rng(0).permutation(len(ids))
val, train = [ids[i] for i in order[:500]], [ids[i] for i in order[500:]]

model = charmodel.Model("lstm", layers=1, hidden=128, vocab=len(vocab))
params = model.init(seed=0, xp=xp, dtype=xp.float32)
opt = optim.Adam(params, lr=5e-3)
rng = np.random.default_rng(1)
for step in range(1, steps + 1):
    rows = rng.choice(len(train), size=64, replace=False)
    x, targets, lengths = next(data.batches(train, 64, rows, len(vocab), xp, xp.float32))
    loss, grads = charmodel.loss_and_grads(model, params, x, targets, lengths)
    grads, _ = optim.clip_by_global_norm(grads, 5.0)
    opt.step(grads)  # updates params in place
    if step % 250 == 0 or step == steps:
        held_out = charmodel.evaluate(
            model, params, data.batches(val, 256, range(len(val)), len(vocab), xp, xp.float32)
        )
        print(f"step {step}: batch loss {float(loss):.3f}, held-out loss {held_out:.3f}")

bigram = data.bigram_loss(train, val, len(vocab))
print(f"bigram model: {bigram:.3f}; the LSTM is {100 * (1 - held_out / bigram):.1f}% below")
print(", ".join(charmodel.generate(model, params, vocab, n=10, temperature=0.8, seed=0)))

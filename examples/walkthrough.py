"""The seed notebook's flow with xrnn: one cell, a whole sequence, the backward pass, and a
finite-difference proof that the gradients are right -- for the RNN and the LSTM.

    python examples/walkthrough.py            # NumPy
    python examples/walkthrough.py torch      # the same code on PyTorch tensors
    python examples/walkthrough.py cupy       # ... or on a CUDA GPU
"""

import sys

import numpy as np

import xrnn


def namespace(name):
    """The array namespace to run on: numpy, torch, cupy or array_api_strict."""
    import array_api_compat

    module = __import__(name)
    return array_api_compat.array_namespace(module.asarray([0.0]))


def main(backend="numpy"):
    xp = namespace(backend)
    np.random.seed(1)  # the seed's draws, then moved to the chosen library

    def randn(*shape):
        return xp.asarray(np.random.randn(*shape))

    print(f"xrnn {xrnn.__version__} on {xp.__name__}\n")
    n_x, n_a, n_y, m, T_x = 3, 5, 2, 10, 4

    print("1. RNN cell: a<t> = tanh(Wax x<t> + Waa a<t-1> + ba), y<t> = softmax(Wya a<t> + by)")
    rnn = {
        "Waa": randn(n_a, n_a),
        "Wax": randn(n_a, n_x),
        "Wya": randn(n_y, n_a),
        "ba": randn(n_a, 1),
        "by": randn(n_y, 1),
    }
    xt, a_prev = randn(n_x, m), randn(n_a, m)
    a_next, yt, _cache = xrnn.rnn_cell_forward(xt, a_prev, rnn)
    print(
        "   a_next[4, :4] =",
        [round(float(a_next[4, j]), 6) for j in range(4)],
        "  shape",
        tuple(a_next.shape),
    )
    print(
        "   every column of y<t> is a distribution:",
        bool(xp.all(xp.abs(xp.sum(yt, axis=0) - 1) < 1e-12)),
    )

    print(f"\n2. RNN over {T_x} steps, and its backward pass from a random dJ/da")
    x, a0, da = randn(n_x, m, T_x), randn(n_a, m), randn(n_a, m, T_x)
    a, y, caches = xrnn.rnn_forward(x, a0, rnn)
    grads = xrnn.rnn_backward(da, caches)
    print(
        "   a:",
        a.shape,
        " y:",
        y.shape,
        " gradients:",
        {k: tuple(v.shape) for k, v in grads.items()},
    )

    def rnn_loss():
        return xp.sum(xrnn.rnn_forward(x, a0, rnn)[0] * da)

    errors = xrnn.gradcheck(
        rnn_loss,
        {"x": x, "a0": a0, "Wax": rnn["Wax"], "Waa": rnn["Waa"], "ba": rnn["ba"]},
        {
            "x": grads["dx"],
            "a0": grads["da0"],
            "Wax": grads["dWax"],
            "Waa": grads["dWaa"],
            "ba": grads["dba"],
        },
    )
    print("   finite differences agree, relative errors:", _fmt(errors))

    print("\n3. LSTM cell and sequence: gates f, i, o, candidate c~, c<t>, a<t> = o * tanh(c<t>)")
    lstm = {
        **{f"W{g}": randn(n_a, n_a + n_x) for g in "fioc"},
        **{f"b{g}": randn(n_a, 1) for g in "fioc"},
        "Wy": randn(n_y, n_a),
        "by": randn(n_y, 1),
    }
    c0 = randn(n_a, m)
    a, y, _c, caches = xrnn.lstm_forward(x, a0, lstm, c0=c0)
    grads = xrnn.lstm_backward(da, caches)
    print("   a, c:", a.shape, " y:", y.shape, " gradients:", sorted(grads))

    def lstm_loss():
        return xp.sum(xrnn.lstm_forward(x, a0, lstm, c0=c0)[0] * da)

    names = ["x", "a0", "c0", *lstm][:-2]  # Wy, by do not reach a
    inputs = {"x": x, "a0": a0, "c0": c0, **lstm}
    errors = xrnn.gradcheck(
        lstm_loss, {k: inputs[k] for k in names}, {k: grads[f"d{k}"] for k in names}
    )
    print("   finite differences agree, relative errors:", _fmt(errors))
    print("\nAll gradients match finite differences to better than 1e-6.")


def _fmt(errors):
    return ", ".join(f"{k} {e:.0e}" for k, e in errors.items())


if __name__ == "__main__":
    main(*sys.argv[1:])

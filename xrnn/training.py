"""The training loop, once: :func:`fit` runs it for ``xrnn train``, ``examples/`` and the
benchmark alike::

    model = charmodel.Model("lstm", layers=1, hidden=128, vocab=len(vocab))
    params = model.init(seed=0)
    fit(model, params, optim.Adam(params, lr=5e-3), lambda step: batch_of(step), steps=1250,
        clip=5.0, evaluate=lambda: charmodel.evaluate(model, params, held_out), eval_every=100,
        on_eval=lambda step, loss: print(step, loss))

Each step takes the batch ``batches(step)``, computes the loss and gradients
(:func:`xrnn.charmodel.loss_and_grads`), clips them and lets the optimiser update the parameters
in place. A loss or gradient that is not finite, or a held-out loss that is not, stops the
loop with :class:`Diverged` before anything is updated with it or reported.
"""

import functools
import math
import warnings
from collections.abc import Callable
from typing import Any

from . import charmodel, optim
from ._arrays import Array
from .charmodel import Model

__all__ = ["Diverged", "fit"]

# NumPy's warnings of inf and NaN: the loop checks the loss and the gradients itself
_FLOATING_POINT_WARNINGS = r"(overflow|invalid value|divide by zero) encountered"


class Diverged(ArithmeticError):
    """Training gave a non-finite loss, gradient or held-out loss at ``step``."""

    def __init__(self, step, what):
        super().__init__(f"step {step}: training diverged ({what})")
        self.step = step


def fit(
    model: Model,
    params: dict[str, Array],
    optimizer: Any,
    batches: Callable[[int], tuple[Array, Array, Array]],
    *,
    steps: int,
    start: int = 0,
    clip: float | None = None,
    clip_value: float | None = None,
    evaluate: Callable[[], float] | None = None,
    eval_every: int | None = None,
    on_step: Callable[[int, float], Any] | None = None,
    on_eval: Callable[[int, float], Any] | None = None,
    stop: Callable[[], bool] | None = None,
    loss_and_grads: Callable | None = None,
) -> int:
    """Train ``params`` (a :class:`xrnn.charmodel.Model`'s, updated in place by ``optimizer``)
    from step ``start`` to ``steps`` on ``batches(step)``, ``(x, targets, lengths)`` each, with
    each gradient clipped to ``±clip_value`` and their global norm to ``clip`` (either may be
    None). After each step ``on_step(step, loss)``; every ``eval_every`` steps (if given) and
    after the last, ``on_eval(step, evaluate())``. ``stop()``, asked before each step, ends
    the loop early. ``loss_and_grads(params, x, targets, lengths) -> (loss, grads)`` computes a
    step's (default: :func:`xrnn.charmodel.loss_and_grads` of ``model`` here; for example
    :func:`xrnn.distributed.dask_loss_and_grads` on a Dask cluster). Returns the step reached;
    raises :class:`Diverged`."""
    if loss_and_grads is None:
        loss_and_grads = functools.partial(charmodel.loss_and_grads, model)
    step = start
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _FLOATING_POINT_WARNINGS, RuntimeWarning)
        while step < steps and not (stop is not None and stop()):
            x, targets, lengths = batches(step)
            loss, grads = loss_and_grads(params, x, targets, lengths)
            loss, norm = float(loss), optim.global_norm(grads)
            if not (math.isfinite(loss) and math.isfinite(norm)):
                raise Diverged(step + 1, f"loss {loss}, gradient norm {norm}")
            if clip_value is not None:
                grads = optim.clip_by_value(grads, clip_value)
            if clip is not None:
                grads, _ = optim.clip_by_global_norm(grads, clip)
            optimizer.step(grads)
            step += 1
            if on_step is not None:
                on_step(step, loss)
            if evaluate is not None and ((eval_every and step % eval_every == 0) or step == steps):
                held_out = evaluate()
                if not math.isfinite(held_out):
                    raise Diverged(step, f"held-out loss {held_out}")
                if on_eval is not None:
                    on_eval(step, held_out)
    return step

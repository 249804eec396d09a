"""JAX's own loop: the engine's time loop as one ``jax.lax.scan``, which ``jax.jit`` compiles
once whatever the number of steps (a Python loop would unroll into one copy of its body per
step)."""

import jax

__all__ = ["scan"]


def scan(f, carry, xs, reverse=False):
    """``carry, y = f(carry, x)`` for each step ``x`` of ``xs`` (arrays of ``T`` steps), the
    last first with ``reverse``: the last carry and every step's ``y``, stacked."""
    return jax.lax.scan(f, carry, xs, reverse=reverse)

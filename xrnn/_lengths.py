"""Each example's length, and every index computed from it: one place, once per forward pass.

The lengths come to the host once, as Python ints (:func:`xrnn._checks.check_lengths`): the
count of examples each step computes is a list of them, and nothing in a time loop asks the
device for a value.
The index arrays the device needs have the namespace's index dtype (int64; int32 on JAX without
x64) whatever the integer dtype the caller used, so that no index arithmetic can overflow.
"""

import copy
import itertools
from functools import cached_property

from array_api_compat import device

from ._arrays import index_dtype

__all__ = ["Lengths"]


class Lengths:
    """The lengths ``values`` (Python ints) of ``m`` examples of ``T`` steps; all ``T`` when
    ``values`` is None; unknown when ``values`` is an integer array that ``jax.jit`` is
    tracing (every step then masks). Arrays go to the namespace ``xp`` and the device of
    ``like``.

    - ``running[t]``: how many examples step ``t`` computes. With lengths sorted longest first
      (as :func:`xrnn.data.batches` yields them) the examples still running at step ``t`` are
      the first ``running[t]``, as in PyTorch's packed sequences, and no step needs masks;
      otherwise every step computes all ``m`` and masks those that have ended.
    - ``masks``: ``(T, m, 1)`` booleans, true where step ``t`` lies within example ``j``'s
      length; None when every example runs every step.
    - ``step_masks``: the masks a step applies (None with sorted lengths), and
      ``step_scales(dtype)`` the same as 1.0 and 0.0, which zero by multiplying in place.
    """

    def __init__(self, values, m, T, xp, like):
        self.m, self.T, self.xp, self.device = m, T, xp, device(like)
        self.index = index_dtype(xp, self.device)
        self.full = values is None
        self.values = [T] * m if values is None else values
        known = isinstance(self.values, list)
        self.total = sum(self.values) if known else xp.sum(values)  # an int, or a 0-D array
        self.sorted = known and all(a >= b for a, b in itertools.pairwise(self.values))
        running, j = [m] * T, m
        for t in range(T) if self.sorted else ():  # count those longer than t from the end
            while j and self.values[j - 1] <= t:
                j -= 1
            running[t] = j
        self.running = running
        self._scales = {}

    def masked(self):
        """These lengths with masks at every step, even sorted (``running`` all ``m``): for a
        time loop whose steps must all have one shape."""
        if self.full or not self.sorted:
            return self
        other = copy.copy(self)
        other.sorted, other.running, other._scales = False, [self.m] * self.T, {}
        return other

    @cached_property
    def array(self):
        """The lengths as an array ``(m,)`` of the index dtype on the device."""
        if isinstance(self.values, list):
            return self.xp.asarray(self.values, dtype=self.index, device=self.device)
        return self.xp.astype(self.values, self.index)

    @cached_property
    def masks(self):
        if self.full:
            return None
        steps = self.xp.arange(self.T, dtype=self.index, device=self.device)
        return self.xp.reshape(self.array, (1, self.m, 1)) > self.xp.reshape(steps, (-1, 1, 1))

    @property
    def step_masks(self):
        return None if self.sorted else self.masks

    def step_scales(self, dtype):
        if self.sorted:
            return None
        if dtype not in self._scales:
            self._scales[dtype] = self.xp.astype(self.masks, dtype)
        return self._scales[dtype]

    def within(self, a):
        """``a (w, m, T)`` with zeros past each example's length (a new array; ``a`` itself
        when every example runs every step): what lies there, NaN or inf included, never
        reaches an output or a gradient."""
        if self.full:
            return a
        return self.xp.where(self.xp.permute_dims(self.masks, (2, 1, 0)), a, 0.0)

    def final(self, S):
        """Each example's state after its own last step, ``(m, n)``, from the states
        ``S (T+1, m, n)`` (``S[0]`` the initial state)."""
        if self.full:
            return S[-1, ...]
        T1, m, n = S.shape
        return self.xp.take(self.xp.reshape(S, (T1 * m, n)), self._final_rows, axis=0)

    def reverse(self, a):
        """Time-major ``a (T, m, w)`` reversed in time, each example within its own length
        (what lies past a length stays where it is)."""
        if self.full:
            return self.xp.flip(a, axis=0)
        T, m, w = a.shape
        rows = self.xp.take(self.xp.reshape(a, (T * m, w)), self._reverse_rows, axis=0)
        return self.xp.reshape(rows, (T, m, w))

    @cached_property
    def _final_rows(self):
        """Row ``L_j m + j`` of ``S (T+1, m, n)`` as a ``((T+1) m, n)`` matrix."""
        return self.array * self.m + self._examples

    @cached_property
    def _reverse_rows(self):
        """Row ``t m + j`` of a reversed ``(T*m, w)`` matrix comes from row ``s m + j``, with
        ``s = L_j - 1 - t`` within the length ``L_j``, else ``t``."""
        xp = self.xp
        t = xp.reshape(xp.arange(self.T, dtype=self.index, device=self.device), (-1, 1))
        v = xp.reshape(self.array, (1, -1))
        return xp.reshape(xp.where(t < v, v - 1 - t, t) * self.m + self._examples, (-1,))

    @cached_property
    def _examples(self):
        return self.xp.arange(self.m, dtype=self.index, device=self.device)

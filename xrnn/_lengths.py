"""Each example's length, and every index computed from it: one place, once per forward pass.

The lengths come to the host once, as Python ints (:func:`xrnn._checks.check_lengths`): the
count of examples each step computes is a list of them, and nothing in a time loop asks the
device for a value.
The index arrays the device needs are int64 whatever the integer dtype the caller used, so
that no index arithmetic can overflow.
"""

import itertools
from functools import cached_property

from array_api_compat import device

__all__ = ["Lengths"]


class Lengths:
    """The lengths ``values`` (Python ints) of ``m`` examples of ``T`` steps; all ``T`` when
    ``values`` is None. Arrays go to the namespace ``xp`` and the device of ``like``.

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
        self.full = values is None
        self.values = [T] * m if values is None else values
        self.total = sum(self.values)
        self.sorted = all(a >= b for a, b in itertools.pairwise(self.values))
        running, j = [], m
        for t in range(T):  # sorted lengths: count those longer than t from the short end
            while j and self.values[j - 1] <= t:
                j -= 1
            running.append(j)
        self.running = running if self.sorted else [m] * T
        self._scales = {}

    @cached_property
    def array(self):
        """The lengths as an int64 array ``(m,)`` on the device."""
        return self.xp.asarray(self.values, dtype=self.xp.int64, device=self.device)

    @cached_property
    def masks(self):
        if self.full:
            return None
        steps = self.xp.arange(self.T, dtype=self.xp.int64, device=self.device)
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
        return self.xp.asarray(
            [v * self.m + j for j, v in enumerate(self.values)],
            dtype=self.xp.int64,
            device=self.device,
        )

    @cached_property
    def _reverse_rows(self):
        """Row ``t m + j`` of a reversed ``(T*m, w)`` matrix comes from row ``s m + j``, with
        ``s = L_j - 1 - t`` within the length ``L_j``, else ``t``."""
        rows = [
            (v - 1 - t if t < v else t) * self.m + j
            for t in range(self.T)
            for j, v in enumerate(self.values)
        ]
        return self.xp.asarray(rows, dtype=self.xp.int64, device=self.device)

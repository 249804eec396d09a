"""One place that turns bad input into a clear error.

Every public function calls :func:`check` (and :func:`unpack` for caches) once, at its top, before
any arithmetic: it gets the array namespace there and nowhere else. Messages name the function,
the argument, what was expected and what was received.
"""

from collections.abc import Mapping

import array_api_compat

from ._host import to_list, traced
from ._lengths import Lengths

__all__ = ["check", "check_caches", "check_lengths", "unpack"]


def check(fname, arrays, parameters=None, spec=None):
    """Validate named arrays (and a parameter dictionary); return ``(xp, sizes)``.

    ``arrays`` maps a name to ``(value, dims)``; ``spec`` maps a parameter key to its dims. A dim
    is a symbol such as ``"n_a"``, a sum such as ``"n_a+n_x"``, or an int; ``dims=None`` takes
    any shape. A symbol takes its size from the first array that has it; later arrays must
    agree. ``sizes`` maps symbols to sizes.
    """
    named = dict(arrays)
    if spec is not None:
        if not isinstance(parameters, Mapping):
            raise TypeError(
                f"{fname}: parameters must be a dict of arrays with keys {', '.join(spec)}; "
                f"got {type(parameters).__name__}"
            )
        missing = [k for k in spec if k not in parameters]
        if missing:
            raise ValueError(
                f"{fname}: parameters is missing {', '.join(map(repr, missing))} "
                f"(expected keys {', '.join(spec)}; got {', '.join(map(str, parameters))})"
            )
        named.update({f"parameters[{k!r}]": (parameters[k], dims) for k, dims in spec.items()})
    xp = _namespace(fname, {name: value for name, (value, _) in named.items()})
    shapes = _Shapes(fname)
    for name, (value, dims) in named.items():
        shapes.check(name, value, dims)
    return xp, {k: n for k, (n, _) in shapes.sizes.items()}


def unpack(fname, name, value, fields):
    """``value`` as a tuple of ``len(fields)`` items, or a TypeError naming ``fields``."""
    if not isinstance(value, tuple | list) or len(value) != len(fields):
        kind = "list" if isinstance(value, list) else type(value).__name__
        got = f"{kind} of length {len(value)}" if isinstance(value, tuple | list) else kind
        raise TypeError(
            f"{fname}: {name} must be the tuple ({', '.join(fields)}) that the forward pass "
            f"returns; got {got}"
        )
    return tuple(value)


def check_caches(fname, da, caches, fields, spec):
    """Validate ``da (n_a, m, T_x)`` against ``caches = ([per-step cache], x)``.

    ``fields`` maps each item of a step's cache to its dims (the last item is the parameter
    dictionary, which every step must share). Caches that the forward pass built (which carry
    its ``tape``) are trusted step by step, and their backward reads the weights the forward
    pass used; caches built by hand are checked at every step, and their parameters against
    ``spec(parameters)``, the keys and dims the backward uses. Returns ``(xp, sizes, steps)``.
    """
    steps, x = unpack(fname, "caches", caches, ("list of per-step caches", "x"))
    if getattr(steps, "spent", False):
        raise ValueError(
            f"{fname}: caches were spent by an earlier backward pass, which reused their "
            f"memory for the gradients; run the forward pass again"
        )
    if not isinstance(steps, list | tuple) or not steps:
        raise TypeError(
            f"{fname}: caches[0] must be the non-empty list of per-step caches that "
            f"the forward pass returns; got {type(steps).__name__}"
        )
    names, arrays = list(fields), {"caches x": (x, ("n_x", "m", "T_x"))}
    trusted = getattr(steps, "tape", None) is not None
    for t, step in enumerate(steps[:1] if trusted else steps):
        step = unpack(fname, f"caches[0][{t}]", step, names)
        if step[-1] is not steps[0][-1]:
            raise ValueError(
                f"{fname}: every step's cache must hold the same parameters "
                f"dictionary; caches[0][{t}] holds another one than caches[0][0]"
            )
        arrays.update(
            {
                f"caches[0][{t}] {k}": (v, fields[k])
                for k, v in zip(names[:-1], step[:-1], strict=True)
            }
        )
    T_x = len(steps)
    if getattr(x, "ndim", None) == 3 and x.shape[2] != T_x:
        raise ValueError(
            f"{fname}: caches hold {T_x} steps but caches x has "
            f"T_x = {x.shape[2]} (shape {tuple(x.shape)})"
        )
    if getattr(da, "ndim", None) == 3 and da.shape[2] != T_x:
        raise ValueError(
            f"{fname}: da must cover the T_x = {T_x} steps of the forward pass, shape "
            f"(n_a, m, T_x) = (..., {T_x}); got {da.shape[2]} steps (shape {tuple(da.shape)}). "
            f"To backpropagate from some steps only, give zeros for the others."
        )
    arrays["da"] = (da, ("n_a", "m", "T_x"))
    if trusted:
        xp, sizes = check(fname, arrays)
    else:
        p = steps[0][-1]
        xp, sizes = check(fname, arrays, p, spec(p))
    return xp, sizes, steps


def check_lengths(fname, lengths, m, T, xp, like):
    """``lengths`` (None, or one int per example, each in 1..T, in a list or an integer array
    of ``xp`` on the device of ``like``) as :class:`xrnn._lengths.Lengths`. Values that
    ``jax.jit`` traces are not known: their range is not checked."""
    if lengths is None:
        return Lengths(None, m, T, xp, like)
    if isinstance(lengths, list | tuple):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in lengths):
            raise TypeError(f"{fname}: lengths must be integers; got {lengths!r}")
        shape = (len(lengths),)
    elif not array_api_compat.is_array_api_obj(lengths):
        raise TypeError(
            f"{fname}: lengths must be a 1-D integer array or a list of ints, one "
            f"per example; got {type(lengths).__name__}"
        )
    elif array_api_compat.array_namespace(lengths) is not xp:
        raise TypeError(f"{fname}: lengths must come from the same array library as x")
    elif not xp.isdtype(lengths.dtype, "integral"):
        raise TypeError(f"{fname}: lengths must have an integer dtype; got {lengths.dtype}")
    elif array_api_compat.device(lengths) != array_api_compat.device(like):
        raise ValueError(
            f"{fname}: lengths must be on the device of x, "
            f"{array_api_compat.device(like)}; got {array_api_compat.device(lengths)}"
        )
    else:
        shape = tuple(lengths.shape)
    if shape != (m,):
        raise ValueError(
            f"{fname}: lengths must have shape (m,) = ({m},), one per example; got {shape}"
        )
    if traced(lengths):  # under jax.jit: known when the compiled function runs
        return Lengths(lengths, m, T, xp, like)
    values = to_list(lengths)
    low, high = min(values), max(values)
    if low < 1 or high > T:
        raise ValueError(
            f"{fname}: lengths must lie in 1..T_x = 1..{T}; got values from {low} to {high}"
        )
    return Lengths(values, m, T, xp, like)


def _namespace(fname, arrays):
    """The one namespace of ``arrays``: real floating, one library, one dtype, one device."""
    for name, a in arrays.items():
        if isinstance(a, bool | int | float | complex) or not array_api_compat.is_array_api_obj(a):
            raise TypeError(
                f"{fname}: {name} must be an array (NumPy, CuPy, PyTorch or another array API "
                f"library); got {type(a).__name__}"
            )
    by_type = {}  # arrays of one Python type share a namespace: look it up once per type
    spaces = {
        name: by_type.get(type(a))
        or by_type.setdefault(type(a), array_api_compat.array_namespace(a))
        for name, a in arrays.items()
    }
    (first, xp), *rest = spaces.items()
    for name, other in rest:
        if other is not xp:
            raise TypeError(
                f"{fname}: all arrays must come from one array library; {first} is "
                f"{xp.__name__} but {name} is {other.__name__}"
            )
    floating = {}
    for name, a in arrays.items():
        ok = floating.get(a.dtype)
        if ok is None:
            ok = floating[a.dtype] = xp.isdtype(a.dtype, "real floating")
        if not ok:
            raise TypeError(
                f"{fname}: {name} must have a real floating dtype (float32 or float64); "
                f"got {a.dtype}"
            )
    a0 = arrays[first]
    dev0 = array_api_compat.device(a0)
    for name, a in arrays.items():
        if a.dtype != a0.dtype:
            raise TypeError(
                f"{fname}: all arrays must share one floating dtype; {first} is {a0.dtype} "
                f"but {name} is {a.dtype}"
            )
        dev = array_api_compat.device(a)
        if dev != dev0:
            raise ValueError(
                f"{fname}: all arrays must be on one device; {first} is on {dev0} "
                f"but {name} is on {dev}"
            )
    return xp


class _Shapes:
    """Binds dimension symbols to sizes, remembering which argument fixed each one."""

    def __init__(self, fname):
        self.fname = fname
        self.sizes = {}  # symbol -> (size, name of the argument it came from)

    def _size(self, dim):
        if isinstance(dim, int):
            return dim
        return sum(int(d) if d.isdigit() else self.sizes[d][0] for d in dim.split("+"))

    def check(self, name, value, dims):
        if dims is None:
            return
        shape = tuple(value.shape)
        spelled = f"({', '.join(map(str, dims))})"
        if len(shape) != len(dims):
            raise ValueError(
                f"{self.fname}: {name} must be a {len(dims)}-D array of shape {spelled}; "
                f"got a {len(shape)}-D array of shape {shape}"
            )
        for dim, n in zip(dims, shape, strict=True):
            if isinstance(dim, str) and "+" not in dim:
                self.sizes.setdefault(dim, (n, name))
        expected = tuple(self._size(d) for d in dims)
        if shape != expected:
            symbols = [
                s for d in dims if isinstance(d, str) for s in d.split("+") if not s.isdigit()
            ]
            sources = [
                f"{s} from {self.sizes[s][1]}"
                for s in dict.fromkeys(symbols)
                if self.sizes[s][1] != name
            ]
            origin = f" ({', '.join(sources)})" if sources else ""
            raise ValueError(
                f"{self.fname}: {name} must have shape {_spell(dims, expected)}{origin}; "
                f"got {shape}"
            )


def _spell(dims, sizes):
    """``(n_a, m) = (5, 10)``, or just ``(5, 10)`` when the dims are numbers already."""
    if all(isinstance(d, int) for d in dims):
        return str(sizes)
    return f"({', '.join(map(str, dims))}) = {sizes}"

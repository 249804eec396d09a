"""``put``, the one write: in place where the array allows it, a new array where it does not
(read-only NumPy arrays here, JAX's where JAX is installed), equal to the in-place write for
every form of index, whether joined from pieces or written by array-api-extra's ``at``."""

import numpy as np
import pytest

from xrnn._arrays import _join_write, put

SHAPE = (5, 4, 3)
CASES = [  # index, the value's shape, whether it is joined from pieces
    ((slice(None), slice(2, None)), (5, 2, 3), True),
    ((0, ...), (4, 3), True),
    ((-1, ...), (4, 3), True),
    ((slice(1, 4), ...), (3, 4, 3), True),
    ((..., slice(1, 2)), (5, 4, 1), True),
    ((slice(None), 3), (5, 3), True),
    ((slice(2, 2), ...), (0, 4, 3), True),
    (slice(0, 5), SHAPE, True),
    ((1, slice(0, 2), slice(1, 3)), (2, 2), False),  # two axes
    ((slice(0, 5, 2), ...), (3, 4, 3), False),  # a step
    ((slice(1, 3), ...), (4, 3), False),  # broadcast
    ((0, ...), None, False),  # a scalar
    ((slice(3, 1), ...), (0, 4, 3), True),  # an empty slice backwards
    ((np.int64(1), ...), (4, 3), False),  # an integer not Python's
]


def _buffer():
    return np.arange(np.prod(SHAPE), dtype=np.float64).reshape(SHAPE)


def _value(shape, dtype):
    """The value to write: a scalar for no shape, else distinct numbers of that shape."""
    if shape is None:
        return -1.0
    return -np.arange(1, 1 + np.prod(shape), dtype=dtype).reshape(shape)


@pytest.mark.parametrize(("index", "shape", "joined"), CASES)
def test_put_on_read_only_arrays_equals_the_write(index, shape, joined):
    value = _value(shape, np.float64)
    expected = _buffer()
    expected[index] = value
    buf = _buffer()
    buf.flags.writeable = False
    out = put(buf, index, value)
    assert out is not buf
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(buf, _buffer())  # left as it was
    assert (_join_write(buf, index, value) is not None) == joined


def test_put_on_read_only_arrays_refuses_what_the_write_refuses():
    buf = _buffer()
    buf.flags.writeable = False
    with pytest.raises(IndexError):
        put(buf, (5, ...), np.zeros((4, 3)))


def test_put_writes_in_place_where_it_can():
    buf = _buffer()
    assert put(buf, (0, ...), np.zeros((4, 3))) is buf
    assert not buf[0].any()
    with pytest.raises(ValueError):  # a real error: the value does not fit
        put(buf, (0, ...), np.zeros((2, 2)))


@pytest.mark.parametrize(("index", "shape", "joined"), CASES)
def test_put_on_jax_arrays_equals_the_write(index, shape, joined):
    jnp = pytest.importorskip("jax.numpy")
    value = _value(shape, np.float32)
    expected = _buffer().astype(np.float32)
    expected[index] = value
    out = put(
        jnp.asarray(_buffer(), dtype=jnp.float32),
        index,
        value if shape is None else jnp.asarray(value),
    )
    np.testing.assert_array_equal(np.asarray(out), expected)

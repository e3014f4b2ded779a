"""Tensor constructors with PyTorch's names: ``zeros``, ``ones``, ``full``, ``randn``,
``rand``, ``arange``, ``zeros_like``, ``ones_like``.

Every one takes ``dtype=`` (float32 unless said otherwise) and ``requires_grad=``.  A shape
is given either as separate ints or as one tuple: ``zeros(2, 3)`` is ``zeros((2, 3))``.
The random ones draw from the global generator (``random.py``: ``manual_seed``) unless
they are given their own ``rng``.
"""
import numpy as np

from .ops.checks import float_dtype, real_number
from .random import get_rng
from .tensor import DEFAULT_DTYPE, Tensor, _shape_args


def _make(array, dtype, requires_grad) -> Tensor:
    return Tensor(array.astype(dtype, copy=False), requires_grad=requires_grad)


def _shape(op, shape) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` both give (2, 3); a negative size is an error."""
    dims = _shape_args(shape, op)
    if any(n < 0 for n in dims):
        raise ValueError(f"{op}: sizes must be >= 0, got shape {dims}.")
    return dims


def zeros(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> Tensor:
    """A tensor of the given shape filled with 0."""
    return _make(np.zeros(_shape("zeros", shape)), dtype, requires_grad)


def ones(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> Tensor:
    """A tensor of the given shape filled with 1."""
    return _make(np.ones(_shape("ones", shape)), dtype, requires_grad)


def full(shape, fill_value, dtype=DEFAULT_DTYPE, requires_grad=False) -> Tensor:
    """A tensor of shape ``shape`` (an int or a tuple) filled with ``fill_value``."""
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    fill_value = real_number("full", "fill_value", fill_value,
                             "give the value as a number, e.g. full((2, 2), 0.5).",
                             allow_bool=True)
    return _make(np.full(_shape("full", shape), fill_value), dtype, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False) -> Tensor:
    """Zeros with the shape of ``t`` (a Tensor or array) and its dtype unless ``dtype``."""
    data = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _make(np.zeros(data.shape), dtype or data.dtype, requires_grad)


def ones_like(t, dtype=None, requires_grad=False) -> Tensor:
    """Ones with the shape of ``t`` (a Tensor or array) and its dtype unless ``dtype``."""
    data = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _make(np.ones(data.shape), dtype or data.dtype, requires_grad)


def randn(*shape, dtype=DEFAULT_DTYPE, requires_grad=False, rng=None) -> Tensor:
    """Samples of the standard normal distribution N(0, 1) (a floating-point dtype)."""
    dtype = float_dtype("randn", dtype)
    return _make(get_rng(rng).standard_normal(_shape("randn", shape)), dtype, requires_grad)


def rand(*shape, dtype=DEFAULT_DTYPE, requires_grad=False, rng=None) -> Tensor:
    """Samples of the uniform distribution on [0, 1) (a floating-point dtype)."""
    dtype = float_dtype("rand", dtype)
    return _make(get_rng(rng).random(_shape("rand", shape)), dtype, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    """start, start + step, ... up to (not including) ``end``; ``arange(n)`` is 0 .. n-1.

    As in PyTorch, integer arguments give int64 (handy as indices: ``x[arange(n), y]``)
    and any float argument gives float32; ``dtype=`` overrides both.
    """
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else DEFAULT_DTYPE
    if step == 0:
        raise ValueError("arange: step must not be 0.")
    return _make(np.arange(start, end, step), dtype, requires_grad)

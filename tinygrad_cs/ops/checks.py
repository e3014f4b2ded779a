"""Argument checks shared by the ops: one place that says what an axis, a size or an
input dtype must be, so every op words its refusal the same way.

They run once per call on small Python values (an axis, a dtype), never on the data.
"""
import numpy as np


def is_int(value) -> bool:
    """A Python or NumPy integer; bool is not counted (``True`` as an axis is a slip)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_axis(op: str, axis, ndim: int, name: str = "axis") -> int:
    """``axis`` as an index in [0, ndim), or an error naming the op, the value and the range.

    Negative axes count from the end (-1 is the last), as in NumPy and PyTorch.  A float such
    as 1.5 is a TypeError: it is not rounded, since no rounding can be the one meant.
    ``ndim`` is the number of axes the value may name (one more than x.ndim for unsqueeze).
    """
    if not is_int(axis):
        raise TypeError(f"{op}: {name} must be an int, got {axis!r} "
                        f"({type(axis).__name__}); use an integer in [{-ndim}, {ndim - 1}].")
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"{op}: {name} {axis} is out of range for a tensor with {ndim} "
                         f"dimension(s); use an integer in [{-ndim}, {ndim - 1}].")
    return int(axis) % max(ndim, 1)


def check_size(op: str, value, name: str = "size", minimum: int = 0) -> int:
    """A size or count: an integer >= ``minimum`` (floats such as 2.5 are refused)."""
    if not is_int(value):
        raise TypeError(f"{op}: {name} must be an int, got {value!r} "
                        f"({type(value).__name__}); sizes are whole numbers.")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value}.")
    return int(value)


def require_float(op: str, *arrays):
    """Refuse integer and bool inputs to an op whose result is not an integer function of
    them (exp, mean, softmax, batch norm, pooling, convolution, ...): NumPy would either
    truncate the result back to integers or compute in float64 behind the user's back."""
    for a in arrays:
        if a is not None and a.dtype.kind != "f":
            raise TypeError(f"{op}: expected a floating-point tensor, got dtype {a.dtype}; "
                            "convert with .float() (or .astype(np.float32)) first.")

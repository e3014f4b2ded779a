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

    A 0-d tensor accepts 0 and -1, as in PyTorch: it is treated as holding one element, so
    a reduction over "its" axis reduces nothing (callers see index 0 and check ``ndim``).
    """
    low, high = (-ndim, ndim - 1) if ndim > 0 else (-1, 0)
    if not is_int(axis):
        raise TypeError(f"{op}: {name} must be an int, got {axis!r} "
                        f"({type(axis).__name__}); use an integer in [{low}, {high}].")
    if not low <= axis <= high:
        raise ValueError(f"{op}: {name} {axis} is out of range for a tensor with {ndim} "
                         f"dimension(s); use an integer in [{low}, {high}].")
    return int(axis) % max(ndim, 1)


def real_number(op: str, name: str, value, fix: str, allow_bool: bool = False) -> float:
    """``value`` as a Python float if it is one real number: a Python or NumPy int or float,
    or a 0-d array or Tensor of one (``float()`` of it).  Anything else (None, a string, a
    complex number, an array of several values) is a TypeError naming the op, the
    argument, the value and ``fix``.  bool is refused unless ``allow_bool``: True as a
    slope or an eps is a slip."""
    if isinstance(value, (bool, np.bool_)):
        if allow_bool:
            return value
    elif isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    elif getattr(value, "ndim", None) == 0 and getattr(value, "dtype", None) is not None \
            and np.dtype(value.dtype).kind in ("iuf" + ("b" if allow_bool else "")):
        return float(value)  # a 0-d np.ndarray or Tensor
    raise TypeError(f"{op}: {name} must be a real number, got {value!r:.60} "
                    f"({type(value).__name__}); {fix}")


def check_size(op: str, value, name: str = "size", minimum: int = 0) -> int:
    """A size or count: an integer >= ``minimum`` (floats such as 2.5 are refused)."""
    if not is_int(value):
        raise TypeError(f"{op}: {name} must be an int, got {value!r} "
                        f"({type(value).__name__}); sizes are whole numbers.")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value}.")
    return int(value)


def numeric_dtype(op: str, dtype) -> np.dtype:
    """``dtype`` as a NumPy dtype a Tensor can hold (bool, integer or floating-point), or a
    TypeError naming the op.  None is refused (NumPy would read it as float64)."""
    try:
        dt = None if dtype is None else np.dtype(dtype)
    except (TypeError, ValueError):
        dt = None
    if dt is None or dt.kind not in "biuf":
        raise TypeError(f"{op}: dtype must be a bool, integer or floating-point NumPy dtype, "
                        f"got {dt if dt is not None else repr(dtype)}; use e.g. np.float32, "
                        "np.float64 or np.int64.")
    return dt


def float_dtype(op: str, dtype) -> np.dtype:
    """A floating-point dtype (for random samples, which integers would truncate)."""
    dt = numeric_dtype(op, dtype)
    if dt.kind != "f":
        raise TypeError(f"{op}: dtype must be floating-point, got {dt}: the samples are "
                        "real numbers that an integer dtype would truncate; use np.float32 "
                        "(or np.float64), and .astype() the result if integers are wanted.")
    return dt


def require_float(op: str, *arrays):
    """Refuse integer and bool inputs to an op whose result is not an integer function of
    them (exp, mean, softmax, batch norm, pooling, convolution, ...): NumPy would either
    truncate the result back to integers or compute in float64 behind the user's back."""
    for a in arrays:
        if a is not None and a.dtype.kind != "f":
            raise TypeError(f"{op}: expected a floating-point tensor, got dtype {a.dtype}; "
                            "convert with .float() (or .astype(np.float32)) first.")

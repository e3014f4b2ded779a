"""The Tensor: a NumPy array plus what autograd needs (``requires_grad``, ``grad``, ``grad_fn``).

Most methods are one line that calls an op from ``tinygrad_cs.ops`` (primitive ops, each with
forward and backward) or from ``tinygrad_cs.functional`` (ops built out of other ops).
"""
from __future__ import annotations

import numpy as np

from . import autograd
from .random import get_rng

DEFAULT_DTYPE = np.float32


def _to_array(data, dtype=None) -> np.ndarray:
    """Python data becomes float32 (ints stay int64, bools bool); NumPy arrays keep dtype."""
    if isinstance(data, Tensor):
        data = data.data
    from_python = not isinstance(data, (np.ndarray, np.generic))
    arr = np.asarray(data, dtype=dtype)
    if dtype is None and from_python and arr.dtype == np.float64:
        arr = arr.astype(DEFAULT_DTYPE)
    if not arr.dtype.isnative:  # e.g. '>f4' read from a file: the kernels want native order
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad          # d(sum x^2)/dx = 2x
    Tensor([[2., 4.],
            [6., 8.]], dtype=float32)

    Python floats and lists become float32; a NumPy array keeps its dtype (float64 stays
    float64, which is what gradcheck wants).
    """

    __array_priority__ = 1000  # so that ndarray * Tensor calls Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        try:
            self.data = _to_array(data, dtype)
        except (ValueError, TypeError) as e:  # ragged lists, unconvertible values
            raise TypeError(f"Tensor: cannot make an array of {type(data).__name__} data ({e}); "
                            "give a number, a nested list of numbers of one shape, or a "
                            "NumPy array.") from None
        if self.data.dtype.kind not in "biuf":  # bool, signed/unsigned int, float
            raise TypeError(f"Tensor: data of dtype {self.data.dtype} (from "
                            f"{type(data).__name__}) is not numeric; a Tensor holds bool, "
                            "integer or floating-point numbers. Convert strings or objects "
                            "first, e.g. np.asarray(x, np.float32).")
        self.grad: Tensor | None = None
        self.grad_fn = None
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _from_op(cls, data, grad_fn):
        t = cls.__new__(cls)
        t.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        t.grad = None
        t.grad_fn = grad_fn
        t._requires_grad = grad_fn is not None
        return t

    # -- autograd state ---------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool):
        value = bool(value)
        if value and not np.issubdtype(self.data.dtype, np.floating):
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, got "
                f"dtype {self.data.dtype}. Convert first, e.g. "
                "Tensor(x, dtype=np.float32) or t.astype(np.float32).")
        if not value and self.grad_fn is not None:
            raise RuntimeError("requires_grad: cannot turn gradients off for a non-leaf "
                               "tensor; use .detach() instead.")
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def detach(self) -> "Tensor":
        """The same data as a new leaf that records nothing (shares memory, like PyTorch)."""
        return Tensor._from_op(self.data, None)

    def zero_grad(self):
        self.grad = None

    def backward(self, grad=None, create_graph: bool = False, retain_graph: bool | None = None):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``grad`` is the upstream gradient (same shape as self); it may be omitted only for a
        scalar.  ``create_graph=True`` records the backward pass so that the gradients can be
        differentiated again.  The graph is freed afterwards unless ``retain_graph=True``
        (default: ``create_graph``).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no grad_fn. Did you "
                "forget requires_grad=True on an input, or compute it under no_grad()?")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for scalar outputs, but "
                    f"this tensor has shape {self.shape}. Reduce it first (e.g. .sum()) or "
                    "pass grad=<tensor of the same shape>.")
            grad = Tensor(np.ones_like(self.data))
        grad = grad if isinstance(grad, Tensor) else Tensor(_to_array(grad, self.dtype))
        if grad.shape != self.shape:
            raise ValueError(f"backward: grad has shape {grad.shape} but the tensor has "
                             f"shape {self.shape}; they must match.")
        autograd.run_backward([self], [grad], create_graph=create_graph,
                              retain_graph=retain_graph)

    # -- array-like properties --------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor: it has no first axis; use .item() for "
                            "its value or .size for the number of elements.")
        return len(self.data)

    def __iter__(self):
        """Iterate over the first axis, like PyTorch: each item is ``self[i]`` (recorded,
        so gradients flow back).  A 0-d tensor has no axis to iterate over."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor: it has no first axis; use .item() "
                            "for its value.")
        return (self[i] for i in range(len(self.data)))

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)`` gives the data (no gradient is recorded through NumPy)."""
        if dtype is None:
            return self.data if not copy else self.data.copy()
        return self.data.astype(dtype, copy=bool(copy) or self.data.dtype != np.dtype(dtype))

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor has a single value, this one "
                             f"has shape {self.shape} ({self.data.size} elements); use "
                             ".tolist() or .numpy() for all of them.")
        return self.data.item()

    def __float__(self):
        return float(self._one_value("float"))

    def __int__(self):
        return int(self._one_value("int"))

    def _one_value(self, what):
        if self.data.size != 1:
            raise TypeError(f"{what}(Tensor): only a one-element tensor converts to a Python "
                            f"number, this one has shape {self.shape}.")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", precision=4, prefix="Tensor(")
        extra = f", dtype={self.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"

    # -- constructors (more in creation.py: tg.zeros, tg.randn, tg.arange, ...) --------
    @staticmethod
    def zeros(*shape, dtype=DEFAULT_DTYPE, requires_grad=False):
        return Tensor(np.zeros(_shape_args(shape, "zeros"), dtype), requires_grad=requires_grad)

    @staticmethod
    def ones(*shape, dtype=DEFAULT_DTYPE, requires_grad=False):
        return Tensor(np.ones(_shape_args(shape, "ones"), dtype), requires_grad=requires_grad)

    @staticmethod
    def randn(*shape, dtype=DEFAULT_DTYPE, requires_grad=False, rng=None):
        """N(0, 1) samples from ``rng``, else from the global generator (``manual_seed``)."""
        dtype = float_dtype("Tensor.randn", dtype)
        return Tensor(get_rng(rng).standard_normal(_shape_args(shape, "randn")).astype(dtype),
                      requires_grad=requires_grad)

    @staticmethod
    def uniform(*shape, low=0.0, high=1.0, dtype=DEFAULT_DTYPE, requires_grad=False, rng=None):
        """U(low, high) samples from ``rng``, else from the global generator; low <= high."""
        dtype = float_dtype("Tensor.uniform", dtype)
        low, high = (real_number("Tensor.uniform", name, v, "give the bounds as numbers.")
                     for name, v in (("low", low), ("high", high)))
        if not (np.isfinite(low) and np.isfinite(high) and low <= high):
            raise ValueError(f"Tensor.uniform: needs finite bounds with low <= high, got "
                             f"low={low}, high={high}; swap them if they are reversed.")
        return Tensor(get_rng(rng).uniform(low, high, _shape_args(shape, "uniform")).astype(dtype),
                      requires_grad=requires_grad)

    def _lift(self, other) -> "Tensor":
        """Turn the other operand of an arithmetic op into a Tensor.

        Type promotion, as in PyTorch: a Python or NumPy scalar, or a Python list, takes
        self's dtype when self is floating-point (``float32 tensor * 2.5`` stays float32;
        ``float32 tensor + [1, 2]`` too).  A NumPy array or a Tensor keeps its own dtype,
        and the op then promotes like NumPy (float32 with float64 gives float64).
        """
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, np.number, np.bool_)):  # bool is an int
            if self.data.dtype.kind == "f":
                return Tensor._from_op(np.asarray(other, dtype=self.data.dtype), None)
            return Tensor(other)
        if isinstance(other, np.ndarray):
            return Tensor(other)
        if isinstance(other, (list, tuple)):
            t = Tensor(other)  # a clear TypeError for ragged or non-numeric lists
            if self.data.dtype.kind == "f" and t.dtype != self.dtype:
                t = Tensor._from_op(t.data.astype(self.dtype), None)
            return t
        raise TypeError(f"Tensor arithmetic: cannot combine a Tensor with a "
                        f"{type(other).__name__} ({other!r:.40}); the other operand must be a "
                        "number, a list of numbers, a NumPy array or a Tensor.")

    # -- elementwise arithmetic (ops/elementwise.py) ----------------------------------
    def __add__(self, other):
        return _ew.Add.apply(self, self._lift(other))

    def __radd__(self, other):
        return _ew.Add.apply(self._lift(other), self)

    def __sub__(self, other):
        return _ew.Sub.apply(self, self._lift(other))

    def __rsub__(self, other):
        return _ew.Sub.apply(self._lift(other), self)

    def __mul__(self, other):
        return _ew.Mul.apply(self, self._lift(other))

    def __rmul__(self, other):
        return _ew.Mul.apply(self._lift(other), self)

    def __truediv__(self, other):
        return _ew.Div.apply(self, self._lift(other))

    def __rtruediv__(self, other):
        return _ew.Div.apply(self._lift(other), self)

    def __pow__(self, exponent):
        return _ew.Pow.apply(self, self._lift(exponent))

    def __rpow__(self, base):
        return _ew.Pow.apply(self._lift(base), self)

    def __mod__(self, other):
        return _ew.Mod.apply(self, self._lift(other))

    def __rmod__(self, other):
        return _ew.Mod.apply(self._lift(other), self)

    def __neg__(self):
        return _ew.Neg.apply(self)

    def __matmul__(self, other):
        return _mm.matmul(self, self._lift(other))

    def __rmatmul__(self, other):
        return _mm.matmul(self._lift(other), self)

    # -- in-place operators: x += y, x -= y, x *= y, x /= y ----------------------------
    # On a leaf that requires grad (a weight), recording ``x += y`` would lose the value
    # that x had, which the graph may still need; PyTorch refuses, and so do we.  Inside
    # ``no_grad()`` nothing is recorded, so the update is done in place on ``x.data``: the
    # hand-written SGD step ``with no_grad(): w -= lr * w.grad`` works as in PyTorch.
    # On any other tensor, ``x += y`` means ``x = x + y``: a new tensor (recorded as usual
    # if x or y requires grad); other names for the old tensor keep the old value.
    def _in_place(self, other, symbol, np_op, out_of_place):
        if not (self._requires_grad and self.grad_fn is None):
            return out_of_place(other)
        if autograd.is_grad_enabled():
            raise RuntimeError(
                f"Tensor {symbol}: a leaf Tensor that requires grad is used in an in-place "
                f"operation (shape {self.shape}). Update its values without recording: "
                f"`with tg.no_grad(): x {symbol} ...` (or `x.data {symbol} ...`), or write "
                f"`y = x {symbol[0]} ...` to get a new tensor.")
        value = other.data if isinstance(other, Tensor) else np.asarray(other)
        try:
            np_op(self.data, value, out=self.data, casting="same_kind")
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"Tensor {symbol}: cannot update a tensor of shape {self.shape} and dtype "
                f"{self.dtype} in place with a value of shape {value.shape} and dtype "
                f"{value.dtype}; the value must broadcast to {self.shape} ({err}).") from None
        return self

    def __iadd__(self, other):
        return self._in_place(other, "+=", np.add, self.__add__)

    def __isub__(self, other):
        return self._in_place(other, "-=", np.subtract, self.__sub__)

    def __imul__(self, other):
        return self._in_place(other, "*=", np.multiply, self.__mul__)

    def __itruediv__(self, other):
        return self._in_place(other, "/=", np.divide, self.__truediv__)

    # comparisons give boolean tensors that record nothing (they have no useful gradient)
    def _compare(self, other, np_op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(np_op(self.data, other))

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    __hash__ = object.__hash__  # tensors are used as dict keys by identity

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"bool(Tensor): ambiguous for a tensor of shape {self.shape}; "
                             "use .any() / .all() on .data, or .item() on a scalar.")
        return bool(self.data)

    def exp(self):
        return _ew.Exp.apply(self)

    def log(self):
        return _ew.Log.apply(self)

    def sqrt(self):
        return _ew.Sqrt.apply(self)

    def square(self):
        return _ew.Square.apply(self)

    def abs(self):
        return _ew.Abs.apply(self)

    def relu(self):
        return _ew.Relu.apply(self)

    def leaky_relu(self, alpha: float = 0.01):
        """x if x > 0 else alpha * x; ``alpha`` (PyTorch: negative_slope) is one real number."""
        return _ew.LeakyRelu.apply(self, alpha=leaky_relu_slope("leaky_relu", alpha))

    def sigmoid(self):
        return _ew.Sigmoid.apply(self)

    def tanh(self):
        return _ew.Tanh.apply(self)

    def softplus(self):
        return _ew.Softplus.apply(self)

    def clip(self, min=None, max=None):
        """Bounds may be numbers, arrays or Tensors (their values are used: no gradient
        flows into a bound); the result keeps self's dtype."""
        return _ew.Clip.apply(self, low=_ew.clip_bound(self, min, "min"),
                              high=_ew.clip_bound(self, max, "max"))

    clamp = clip

    def maximum(self, other):
        return _ew.Maximum.apply(self, self._lift(other))

    def minimum(self, other):
        return F.minimum(self, self._lift(other))

    def astype(self, dtype):
        """A copy in another dtype (bool, integer or floating-point, as the constructor
        accepts); differentiable (the gradient is cast back)."""
        dtype = numeric_dtype("astype", dtype)
        if dtype == self.dtype:
            return self
        return _ew.Cast.apply(self, dtype=dtype)

    def to(self, dtype):
        """PyTorch's name for ``astype``: ``x.to(np.float64)``; differentiable."""
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"Tensor.to: expected a NumPy dtype such as np.float64, got "
                            f"{dtype!r} (there are no devices here: every tensor lives in "
                            "NumPy memory).") from None
        return self.astype(dtype)

    float = lambda self: self.astype(np.float32)  # noqa: E731
    double = lambda self: self.astype(np.float64)  # noqa: E731

    # -- reductions (ops/reduce.py, functional.py) -------------------------------------
    # ``dim``/``keepdim`` are PyTorch's names for ``axis``/``keepdims``; either may be used.
    # Unlike PyTorch, ``x.max(dim=1)`` returns only the values; use ``x.argmax(dim=1)``
    # for the indices.
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _red.dim_args("sum", axis, dim, keepdims, keepdim)
        return _red.Sum.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _red.dim_args("max", axis, dim, keepdims, keepdim)
        return _red.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return F.amin(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return F.mean(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def var(self, axis=None, keepdims=False, correction=1, *, dim=None, keepdim=None):
        return F.var(self, axis, keepdims, correction, dim=dim, keepdim=keepdim)

    def std(self, axis=None, keepdims=False, correction=1, *, dim=None, keepdim=None):
        return F.std(self, axis, keepdims, correction, dim=dim, keepdim=keepdim)

    def norm(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return F.norm(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return F.logsumexp(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def softmax(self, axis=None, *, dim=None):
        return F.softmax(self, axis, dim=dim)

    def log_softmax(self, axis=None, *, dim=None):
        return F.log_softmax(self, axis, dim=dim)

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Indices of the maxima as an int64 Tensor that records nothing (no gradient)."""
        return F.argmax(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Indices of the minima as an int64 Tensor that records nothing (no gradient)."""
        return F.argmin(self, axis, keepdims, dim=dim, keepdim=keepdim)

    # -- movement (ops/movement.py) ---------------------------------------------------
    def reshape(self, *shape):
        return _mov.Reshape.apply(self, shape=_shape_args(shape, "reshape"))

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        return F.flatten(self, start_dim, end_dim)

    def permute(self, *axes):
        return _mov.Permute.apply(self, axes=_shape_args(axes, "permute"))

    def transpose(self, dim0=-2, dim1=-1):
        """Swap two axes (PyTorch's meaning; NumPy's full permutation is ``permute``)."""
        dim0, dim1 = (check_axis("transpose", d, self.ndim, name) for d, name in
                      ((dim0, "dim0"), (dim1, "dim1")))
        if self.ndim == 0:  # dims 0 and -1 of a 0-d tensor name its one element
            return self
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return self.permute(*axes)

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    def expand(self, *shape):
        return _mov.Expand.apply(self, shape=_shape_args(shape, "expand"))

    broadcast_to = expand

    def squeeze(self, axis=None, *, dim=None):
        return F.squeeze(self, axis, dim=dim)

    def unsqueeze(self, axis=None, *, dim=None):
        return F.unsqueeze(self, axis, dim=dim)

    def __getitem__(self, index):
        return _mov.GetItem.apply(self, index=_mov.normalize_index(index))

    def pad(self, pad_width, value=0.0):
        value = real_number("pad", "value", value, "give the fill value as a number, e.g. "
                            "value=0.0.", allow_bool=True)
        return _mov.Pad.apply(self, pad_width=_mov.normalize_pad(pad_width, self.ndim),
                              value=value)

    def split(self, split_size_or_sections, axis=None, *, dim=None):
        return F.split(self, split_size_or_sections, axis, dim=dim)


def _shape_args(shape, op="shape"):
    """Accept both f(2, 3) and f((2, 3)); every entry must be an integer (2.5 is refused,
    not rounded)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    if not all(is_int(s) for s in shape):
        raise TypeError(f"{op}: sizes must be integers, got {tuple(shape)}; write whole "
                        "numbers, e.g. int(n).")
    return tuple(int(s) for s in shape)


# The op modules import Tensor, so they are imported after the class is defined.
from .ops import elementwise as _ew  # noqa: E402
from .ops import matmul as _mm  # noqa: E402
from .ops import movement as _mov  # noqa: E402
from .ops import reduce as _red  # noqa: E402
from . import functional as F  # noqa: E402
from .ops.checks import (check_axis, float_dtype, is_int, numeric_dtype,  # noqa: E402
                         real_number)
from .ops.elementwise import leaky_relu_slope  # noqa: E402

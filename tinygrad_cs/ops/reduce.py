"""Reductions: sum and max (mean, var, min and norm are built from them in functional.py),
and ``unbroadcast``, the helper every broadcasting op uses in its backward.
"""
import numpy as np

from ..autograd import Function
from ..registry import Case, Input
from .checks import check_axis


def normalize_axis(op: str, axis, ndim: int) -> tuple:
    """``axis`` (None, int or tuple, negatives allowed) as a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = [check_axis(op, a, ndim) for a in axes]
    if ndim == 0:  # axis 0 or -1 of a 0-d tensor: one element, nothing to reduce over
        return ()
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {axis} names the same dimension twice.")
    return tuple(sorted(out))


def dim_args(op: str, axis, dim, keepdims=False, keepdim=None, default=None):
    """Merge PyTorch's argument names into NumPy's: ``dim`` -> ``axis``, ``keepdim`` ->
    ``keepdims``.  Returns ``(axis, keepdims)``; ``axis`` is ``default`` if neither is given.

    Both names of the same argument at once is a TypeError (which one should win?).
    ``keepdims=False`` cannot be told apart from "not given", so only ``keepdims=True``
    together with ``keepdim`` counts as both.
    """
    if axis is not None and dim is not None:
        raise TypeError(f"{op}: got both axis={axis!r} and dim={dim!r}; they are the same "
                        "argument (dim is PyTorch's name, axis NumPy's), pass only one.")
    if keepdim is not None and keepdims:
        raise TypeError(f"{op}: got both keepdims={keepdims!r} and keepdim={keepdim!r}; they "
                        "are the same argument, pass only one.")
    axis = axis if axis is not None else dim
    return (default if axis is None else axis), bool(keepdims or keepdim)


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the adjoint of NumPy broadcasting.

    If ``x`` of shape (3, 1) was broadcast to (2, 3, 4), every element of x was used 2*4
    times, so its gradient is the sum over the broadcast axes: axis 0 (added in front) and
    axis 2 (where x had size 1).  Built from Sum and Reshape, so it is differentiable.
    """
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class Sum(Function):
    """out = sum of x over ``axis``;  dx = g broadcast back to x's shape."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis("sum", axis, x.ndim)
        self.keepdims = keepdims
        return np.sum(x, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        x = self.inputs[0]
        return _restore_reduced(g, self.axes, self.keepdims, x.shape).expand(x.shape)

    cases = [Case(lambda x: x.sum(), [Input((2, 3))], forward=np.sum),
             Case(lambda x: x.sum(axis=1), [Input((2, 3, 2))],
                  forward=lambda x: x[:, 0] + x[:, 1] + x[:, 2]),
             Case(lambda x: x.sum(axis=(0, 2), keepdims=True), [Input((2, 3, 2))],
                  forward=lambda x: np.sum(x, axis=(0, 2), keepdims=True)),
             Case(lambda x: x.sum(axis=-1), [Input((3, 2))], forward=lambda x: x[:, 0] + x[:, 1])]


def _restore_reduced(g, axes, keepdims, shape):
    """Reshape a reduced gradient to keepdims form, so that it broadcasts against x."""
    if keepdims:
        return g
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    return g.reshape(kept)


class Max(Function):
    """out = max of x over ``axis``;  dx = g at the position(s) of the maximum.

    Ties share the gradient equally, so the result is a valid subgradient.
    """

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis("max", axis, x.ndim)
        self.keepdims = keepdims
        if x.size == 0:
            raise ValueError(f"max: cannot reduce an empty tensor of shape {x.shape}.")
        return np.max(x, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        x = self.inputs[0]
        out = np.max(x.data, axis=self.axes, keepdims=True)
        hit = (x.data == out).astype(g.dtype)
        share = hit / hit.sum(axis=self.axes, keepdims=True)
        return _restore_reduced(g, self.axes, self.keepdims, x.shape) * share

    cases = [Case(lambda x: x.max(), [Input((2, 3), "distinct")], forward=np.max),
             Case(lambda x: x.max(axis=0), [Input((3, 2), "distinct")],
                  forward=lambda x: np.maximum(np.maximum(x[0], x[1]), x[2])),
             Case(lambda x: x.max(axis=(1, 2), keepdims=True), [Input((2, 2, 3), "distinct")],
                  forward=lambda x: np.sort(x.reshape(2, -1))[:, -1:, None])]

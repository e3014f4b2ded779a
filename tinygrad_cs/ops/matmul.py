"""Matrix multiplication, batched and broadcasting over leading axes like ``np.matmul``."""
import numpy as np

from ..autograd import Function
from ..backends import kernels
from ..registry import Case, Input, composite
from .reduce import unbroadcast


class MatMul(Function):
    """out = a @ b for a (..., n, k), b (..., k, m) -> (..., n, m).

    da = g @ b^T and db = a^T @ g (transposing the last two axes), each summed over the
    batch axes that were broadcast.
    """

    def forward(self, a, b):
        if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} do not fit: the last axis of the "
                f"first ({a.shape[-1] if a.ndim else '-'}) must equal the second-to-last "
                f"axis of the second ({b.shape[-2] if b.ndim >= 2 else '-'}).")
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(f"matmul: batch axes of {a.shape} and {b.shape} cannot be "
                             "broadcast together.") from None
        return kernels.matmul(a, b)

    def backward(self, g):
        a, b = self.inputs
        da = db = None
        if self.needs_input_grad[0]:
            da = unbroadcast(g @ b.transpose(-1, -2), a.shape)
        if self.needs_input_grad[1]:
            db = unbroadcast(a.transpose(-1, -2) @ g, b.shape)
        return da, db

    cases = [Case(lambda a, b: a @ b, [Input((2, 3)), Input((3, 4))],
                  forward=lambda a, b: np.einsum("ij,jk->ik", a, b)),
             Case(lambda a, b: a @ b, [Input((2, 2, 3)), Input((3, 2))],
                  description="batched, b broadcast over the batch",
                  forward=lambda a, b: np.einsum("nij,jk->nik", a, b))]


@composite(cases=[Case(lambda a, b: matmul(a, b), [Input((3,)), Input((3, 2))],
                       forward=lambda a, b: np.einsum("j,jk->k", a, b)),
                  Case(lambda a, b: matmul(a, b), [Input((2, 3)), Input((3,))],
                       forward=lambda a, b: np.einsum("ij,j->i", a, b)),
                  Case(lambda a, b: matmul(a, b), [Input((3,)), Input((3,))],
                       forward=lambda a, b: np.sum(a * b))])
def matmul(a, b):
    """``a @ b`` with NumPy's rules for 1-D operands: a vector is treated as a row (first
    operand) or column (second operand) and that axis is removed from the result."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes "
                         f"{a.shape} and {b.shape}; use * for scalars.")
    squeeze = []
    if a.ndim == 1:
        a = a.reshape(1, a.shape[0])
        squeeze.append(-2)
    if b.ndim == 1:
        b = b.reshape(b.shape[0], 1)
        squeeze.append(-1)
    out = MatMul.apply(a, b)
    if squeeze:
        out = out.reshape(out.shape[:out.ndim - 2] + tuple(
            n for ax, n in zip((-2, -1), out.shape[-2:]) if ax not in squeeze))
    return out


class Gram(Function):
    """out = x @ x^T for x (..., n, k) -> (..., n, n): the inner products of x's rows with
    each other (style transfer's Gram matrix of features).

    dx = (g + g^T) @ x.  Why an op of its own: as ``MatMul(x, x^T)`` the same gradient
    takes two products, g @ x and (x^T @ g)^T, and the addition of two (n, k) arrays;
    symmetrising the small (n, n) gradient first needs one product, about half the work.
    """

    def forward(self, x):
        if x.ndim < 2:
            raise ValueError(f"gram: expected x (..., n, k), got shape {x.shape}; use "
                             "x.reshape(1, -1) for a single vector.")
        return kernels.matmul(x, x.swapaxes(-1, -2))

    def backward(self, g):
        (x,) = self.inputs
        return ((g + g.transpose(-1, -2)) @ x,)

    cases = [Case(lambda x: Gram.apply(x), [Input((3, 4))],
                  forward=lambda x: np.einsum("ik,jk->ij", x, x)),
             Case(lambda x: Gram.apply(x), [Input((2, 3, 5))], description="batched",
                  forward=lambda x: np.einsum("nik,njk->nij", x, x))]


def gram(x):
    """x (..., n, k) -> x @ x^T (..., n, n), with a one-product gradient (see ``Gram``)."""
    return Gram.apply(x)


class Linear(Function):
    """y = x @ W^T + b for x (..., in), W (out, in), b (out,) -> (..., out).

    dx = g @ W,   dW = g^T @ x (with the leading axes of x and g flattened),   db = sum of g.

    It is ``x @ W.T + b`` as one op rather than three, so that dW comes out as an (out, in)
    array like W itself, not as the transposed view of an (in, out) array that a transpose
    op would pass back.
    """

    def forward(self, x, w, b=None):
        if w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[1]:
            raise ValueError(f"linear: input of shape {x.shape} does not fit a weight of shape "
                             f"{w.shape}: the input's last axis must equal weight.shape[1].")
        if b is not None and b.shape != (w.shape[0],):
            raise ValueError(f"linear: bias has shape {b.shape}, expected ({w.shape[0]},).")
        if x.dtype != w.dtype:
            raise TypeError(f"linear: input is {x.dtype} but the weight is {w.dtype}; convert "
                            "one (e.g. x.astype(np.float32)).")
        y = kernels.matmul(x.reshape(-1, x.shape[-1]), w.T).reshape(x.shape[:-1] + (w.shape[0],))
        if b is not None:
            y += b.astype(y.dtype, copy=False)
        return y

    def backward(self, g):
        x, w = self.inputs[:2]
        need = self.needs_input_grad
        g_rows = g.reshape(-1, g.shape[-1])  # (everything but the last axis, out)
        dx = g @ w if need[0] else None
        dw = g_rows.T @ x.reshape(-1, x.shape[-1]) if need[1] else None
        if len(self.inputs) == 2:
            return dx, dw
        return dx, dw, (g_rows.sum(axis=0) if need[2] else None)

    cases = [Case(lambda x, w, b: Linear.apply(x, w, b),
                  [Input((3, 4)), Input((2, 4)), Input((2,))],
                  forward=lambda x, w, b: np.einsum("ni,oi->no", x, w) + b),
             Case(lambda x, w: Linear.apply(x, w), [Input((2, 3, 4)), Input((5, 4))],
                  description="no bias, two leading axes",
                  forward=lambda x, w: np.einsum("abi,oi->abo", x, w))]


def linear(x, weight, bias=None):
    """PyTorch's ``F.linear``: x (..., in) @ weight(out, in)^T + bias(out,)."""
    return Linear.apply(x, weight) if bias is None else Linear.apply(x, weight, bias)

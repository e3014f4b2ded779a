"""Elementwise routines the ops and the optimizer call through the backend.

Most elementwise math lives in the ops themselves as NumPy expressions (``a + b``).  The
few here are the ones the fast backend fuses into one pass over memory: the leaky ReLU
and its gradient, adding one gradient into another, and the Adam update.
"""
import numpy as np


def leaky_relu(x, alpha):
    """max(x, 0) + alpha * min(x, 0)."""
    return np.where(x > 0, x, x * np.asarray(alpha, x.dtype))


def leaky_relu_backward(g, x, alpha):
    """g * (1 where x > 0, else alpha)."""
    return g * np.where(x > 0, 1, alpha).astype(g.dtype)


def accumulate(total, value, out=None):
    """total + value: one more gradient for a tensor used twice.  With ``out`` (which may be
    ``total`` itself) the sum is written there."""
    return np.add(total, value, out=out)


def matmul(a, b):
    """a (..., n, k) @ b (..., k, m) -> (..., n, m), broadcasting over leading axes."""
    return np.matmul(a, b)


def adam_update(w, g, m, v, lr, b1, b2, eps, step):
    """In place, at step t:

        m = b1 m + (1 - b1) g                     (running mean of the gradient)
        v = b2 v + (1 - b2) g^2                   (running mean of its square)
        w -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps)

    The (1 - b^t) factors undo the bias of m and v towards their zero start."""
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * (g * g)
    denom = np.sqrt(v / (1 - b2 ** step)) + eps
    w -= ((lr / (1 - b1 ** step)) * m / denom).astype(w.dtype, copy=False)

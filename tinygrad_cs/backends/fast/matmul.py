"""Matrix products on both cores, with OpenBLAS held to one thread (see policy.py).

A product C = A @ B splits into independent pieces: rows of A give rows of C, columns of
B give columns of C.  ``matmul`` cuts the longer side into one slice per core and runs
the slices at the same time on the batch-split pool (split.py), each slice a one-thread
BLAS product.  Small products, and products inside a slice that already runs on one
core, are one plain ``np.matmul``.
"""
import numpy as np

from .split import on_one_core, split_batch

# Below this many multiply-adds a product is done on one core: sharing it costs more than
# it saves (a hand-off to the other core takes tens of microseconds).
SPLIT_MIN_WORK = 1 << 20


def matmul(a, b, out=None):
    """a (..., n, k) @ b (..., k, m) -> (..., n, m), written into ``out`` when given."""
    if on_one_core() or a.ndim < 2 or b.ndim < 2 or a.size * b.shape[-1] < SPLIT_MIN_WORK:
        return np.matmul(a, b, out=out)
    if a.ndim == 2 and b.ndim == 2:
        return _two_d(a, b, out)
    if a.ndim == b.ndim == 3 and a.shape[0] == b.shape[0]:
        if a.shape[0] == 1:  # a stack of one (a single image's features): one 2-D product
            out = np.empty((1, a.shape[1], b.shape[2]), np.result_type(a, b)) if out is None else out
            _two_d(a[0], b[0], out[0])
            return out
        return _batched(a, b, out)
    return np.matmul(a, b, out=out)


def _two_d(a, b, out):
    """(n, k) @ (k, m): the rows of a, or the columns of b, split between the cores.

    The bigger operand is the one cut in two: each core's BLAS copies the whole of the
    other one into its packed blocks, so the small one should be the one copied twice."""
    n, m = a.shape[0], b.shape[1]
    if out is None:
        out = np.empty((n, m), np.result_type(a, b))
    if n >= m:
        def rows(lo, hi):
            np.matmul(a[lo:hi], b, out=out[lo:hi])
        split_batch(rows, n)
    else:
        def columns(lo, hi):  # a block of columns of out: BLAS writes it in place
            np.matmul(a, b[:, lo:hi], out=out[:, lo:hi])
        split_batch(columns, m)
    return out


def _batched(a, b, out):
    """A stack of products (a[i] @ b[i]), the stack split between the cores."""
    if out is None:
        out = np.empty(a.shape[:2] + b.shape[2:], np.result_type(a, b))

    def some(lo, hi):
        np.matmul(a[lo:hi], b[lo:hi], out=out[lo:hi])
    split_batch(some, a.shape[0])
    return out

"""Moving the axes of a batch of images, on both cores.

The convolutions (conv.py) change layouts several times per layer: images to channels-last
for the patches, images to channel planes for the weight gradient, and results back to
(N, C, H, W).  In NumPy each is a one-liner, ``np.ascontiguousarray(x.transpose(...))``,
which copies on one core.  The loops below copy the same numbers on both, each image's
H x W pixels counted as one axis (so the inner loop is long even for 7x7 images).  For
the big arrays of a batch-128 GAN step that halves the time or better (measured with 2
threads, alone: channel planes of (128, 32, 24, 24) 2.1 -> 0.66 ms, of (41, 128, 7, 7)
0.17 -> 0.10 ms; channels-last of (128, 32, 24, 24) 4.3 -> 2.5 ms).  Inside a DCGAN step,
where the arrays come from memory rather than cache, these moves take ~30 ms per step
(~42 ms when H and W were two loops); switching to the NumPy one-liners in one process
made whole steps ~5% slower (median).  Small arrays take the NumPy one-liner.

All three take an optional ``out`` (a contiguous array of the result's shape), so a result
can be written straight into its place in a bigger array.
"""
import numpy as np

from . import USE_NUMBA, njit, parallel_pays, prange


def _numpy_copy(moved, out):
    if out is None:
        return np.ascontiguousarray(moved)
    out[...] = moved
    return out


def _use_numba(x, out):
    """Big enough for both cores, and in arrays whose pixels can be counted as one axis
    (a free reshape of each image's H x W)."""
    return (USE_NUMBA and parallel_pays(x.size) and x.flags.c_contiguous
            and (out is None or out.flags.c_contiguous))


# -- (N, C, H, W) -> (N, H, W, C) ------------------------------------------------------------

@njit(parallel=True)
def _to_channels_last_numba(x, out):
    """x (N, C, S) -> out (N, S, C), S = H*W pixels."""
    N, C, S = x.shape
    for nc in prange(N * C):  # one channel plane each, spread over its pixels' rows
        n = nc // C
        c = nc % C
        for k in range(S):
            out[n, k, c] = x[n, c, k]
    return out


def to_channels_last(x, out=None):
    """(N, C, H, W) -> a contiguous (N, H, W, C) copy."""
    if not _use_numba(x, out):
        return _numpy_copy(x.transpose(0, 2, 3, 1), out)
    N, C, H, W = x.shape
    if out is None:
        out = np.empty((N, H, W, C), x.dtype)
    _to_channels_last_numba(x.reshape(N, C, H * W), out.reshape(N, H * W, C))
    return out


# -- (N, H, W, C) -> (N, C, H, W) ------------------------------------------------------------

@njit(parallel=True)
def _to_channels_first_numba(x, out):
    """x (N, S, C) -> out (N, C, S), S = H*W pixels."""
    N, S, C = x.shape
    for nc in prange(N * C):  # one output plane each: S numbers in a row
        n = nc // C
        c = nc % C
        for k in range(S):
            out[n, c, k] = x[n, k, c]
    return out


def to_channels_first(x, out=None):
    """(N, H, W, C) -> a contiguous (N, C, H, W) copy."""
    if not _use_numba(x, out):
        return _numpy_copy(x.transpose(0, 3, 1, 2), out)
    N, H, W, C = x.shape
    if out is None:
        out = np.empty((N, C, H, W), x.dtype)
    _to_channels_first_numba(x.reshape(N, H * W, C), out.reshape(N, C, H * W))
    return out


# -- (A, B, H, W) -> (B, A, H, W): whole planes change places ---------------------------------------

@njit(parallel=True)
def _swap_first_axes_numba(x, out):
    """x (A, B, S) -> out (B, A, S): S numbers in a row move together."""
    A, B, S = x.shape
    for ba in prange(B * A):  # one plane each
        b = ba // A
        a = ba % A
        for k in range(S):
            out[b, a, k] = x[a, b, k]
    return out


def swap_first_axes(x, out=None):
    """(A, B, H, W) -> a contiguous (B, A, H, W) copy: (N, C, ...) images to C planes of
    N images each, and back."""
    if not _use_numba(x, out):
        return _numpy_copy(x.transpose(1, 0, 2, 3), out)
    A, B, H, W = x.shape
    if out is None:
        out = np.empty((B, A, H, W), x.dtype)
    _swap_first_axes_numba(x.reshape(A, B, H * W), out.reshape(B, A, H * W))
    return out

"""Moving the axes of a batch of images, on both cores.

The convolutions (conv.py) change layouts several times per layer: images to channels-last
for the patches, images to channel planes for the weight gradient, and results back to
(N, C, H, W).  In NumPy each is a one-liner, ``np.ascontiguousarray(x.transpose(...))``,
which copies on one core.  Two numba loops copy the same numbers on both: one swaps the
last two axes of a 3-D view (channels to last and back, each image's H x W pixels counted
as one axis, so the inner loop is long even for 7x7 images), the other the first two
(channel planes).  Each writes whole rows of its output, except for images of a few pixels
with more channels (below).  For the big arrays of a
batch-128 GAN step that halves the time or better (measured with 2 threads, alone:
channel planes of (128, 32, 24, 24) 2.1 -> 0.66 ms, of (41, 128, 7, 7) 0.17 -> 0.10 ms;
channels-last of (128, 64, 14, 14) 2.9 -> 1.3 ms).  Inside a DCGAN step,
where the arrays come from memory rather than cache, these moves take ~30 ms per step
(~42 ms when H and W were two loops); switching to the NumPy one-liners in one process
made whole steps ~5% slower (median).  Small arrays take the NumPy one-liner.

All three take an optional ``out`` (a contiguous array of the result's shape), so a result
can be written straight into its place in a bigger array.
"""
import numpy as np

from .compile import njit, parallel_pays, prange, sized


def _numpy_copy(moved, out):
    if out is None:
        return np.ascontiguousarray(moved)
    out[...] = moved
    return out


def _use_numba(x, out):
    """Big enough for both cores, and in arrays whose pixels can be counted as one axis
    (a free reshape of each image's H x W)."""
    return (parallel_pays(x.size) and x.flags.c_contiguous
            and (out is None or out.flags.c_contiguous))


def _move(x, axes, out, kernel, x3, out3):
    """The contiguous copy of x.transpose(axes), written into ``out`` if given: by
    ``kernel`` on x and out seen as the 3-D arrays x3 and out3, or by NumPy."""
    if not _use_numba(x, out):
        return _numpy_copy(x.transpose(axes), out)
    if out is None:
        out = np.empty(tuple(x.shape[a] for a in axes), x.dtype)
    sized(kernel, x.size)(x.reshape(x3), out.reshape(out3))
    return out


@njit(parallel=True)
def _swap_last_axes_numba(x, out):
    """x (A, B, C) -> out (A, C, B)."""
    A, B, C = x.shape
    for ac in prange(A * C):  # one row of out each: B numbers in a row
        a = ac // C
        c = ac % C
        for b in range(B):
            out[a, c, b] = x[a, b, c]
    return out


@njit(parallel=True)
def _swap_first_axes_numba(x, out):
    """x (A, B, S) -> out (B, A, S): rows of S numbers change places."""
    A, B, S = x.shape
    for ba in prange(B * A):  # one row each
        b = ba // A
        a = ba % A
        for k in range(S):
            out[b, a, k] = x[a, b, k]
    return out


# Images with at most this many pixels, and more channels than pixels, go back to (N, C, H, W)
# one image per iteration (_swap_last_axes_by_image_numba): their output rows are too short
# for the row loop.  The case of a convolution's weight gradient, (O, kh, kw, C) -> (O, C,
# kh, kw).  Measured with 2 threads, median of 300: (256, 3, 3, 64) 0.20-0.24 -> 0.04-0.055
# ms (NumPy: 0.14-0.21), (128, 4, 4, 64) 0.12 -> 0.04-0.05, (64, 5, 5, 32) 0.04 -> 0.025-0.03.
# With more pixels the image loop was as often slower as faster ((128, 8, 8, 128): 0.53 ->
# 0.82 ms; (128, 7, 7, 128): 0.44 -> 0.32).
SMALL_IMAGE = 32


@njit(parallel=True)
def _swap_last_axes_by_image_numba(x, out):
    """x (A, B, C) -> out (A, C, B) for a small B, one (B, C) block per iteration: it reads
    whole rows of x, and its scattered writes stay inside one small block of out."""
    A, B, C = x.shape
    for a in prange(A):
        for b in range(B):
            for c in range(C):
                out[a, c, b] = x[a, b, c]
    return out


def to_channels_last(x, out=None):
    """(N, C, H, W) -> a contiguous (N, H, W, C) copy."""
    N, C, H, W = x.shape
    return _move(x, (0, 2, 3, 1), out, _swap_last_axes_numba, (N, C, H * W), (N, H * W, C))


def to_channels_first(x, out=None):
    """(N, H, W, C) -> a contiguous (N, C, H, W) copy."""
    N, H, W, C = x.shape
    small = H * W <= SMALL_IMAGE and H * W < C
    kernel = _swap_last_axes_by_image_numba if small else _swap_last_axes_numba
    return _move(x, (0, 3, 1, 2), out, kernel, (N, H * W, C), (N, C, H * W))


def swap_first_axes(x, out=None):
    """(A, B, H, W) -> a contiguous (B, A, H, W) copy: (N, C, ...) images to C planes of
    N images each, and back."""
    A, B, H, W = x.shape
    return _move(x, (1, 0, 2, 3), out, _swap_first_axes_numba, (A, B, H * W), (B, A, H * W))


def swap_last_axes(x, out=None):
    """(A, B) -> a contiguous (B, A) copy: x.T, made row-major."""
    A, B = x.shape
    return _move(x, (1, 0), out, _swap_last_axes_numba, (1, A, B), (1, B, A))

"""Pooling kernels: max pooling (with the position of each maximum) and average pooling.

Window (ho, wo) of an (H, W) plane covers rows ho*s - p ... ho*s - p + k - 1 (columns
likewise), clipped to the plane: padding never wins a max.  ``pool_out_size`` gives the
output size, with PyTorch's ceil_mode rule (a last window that would start inside the
right padding is dropped).
"""
import math

import numpy as np

from . import USE_NUMBA, njit, prange, sized


def pool_out_size(size, k, stride, padding, ceil_mode=False):
    span = size + 2 * padding - k
    if span < 0:
        raise ValueError(f"pool: a window of {k} with padding {padding} does not fit size {size}.")
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window would start in the padding
    return out


# -- max pooling -------------------------------------------------------------------------

def maxpool_reference(x, kh, kw, sh, sw, ph, pw, Ho, Wo):
    """x (N, C, H, W) -> (out (N, C, Ho, Wo), argmax (N, C, Ho, Wo) flat index in H*W)."""
    N, C, H, W = x.shape
    # pad with -inf on every side, enough for ceil mode's extra window too
    bottom = max(0, (Ho - 1) * sh + kh - H - ph)
    right = max(0, (Wo - 1) * sw + kw - W - pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, bottom), (pw, right)), constant_values=-np.inf)
    windows = np.empty((kh * kw, N, C, Ho, Wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            windows[i * kw + j] = xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw]
    best = windows.argmax(axis=0)                       # which offset (i, j) won
    out = np.take_along_axis(windows, best[None], 0)[0]
    rows = np.arange(Ho)[:, None] * sh - ph + best // kw
    cols = np.arange(Wo)[None, :] * sw - pw + best % kw
    return out, (rows * W + cols).astype(np.int64)


@njit(parallel=True)
def _maxpool_numba(x, kh, kw, sh, sw, ph, pw, Ho, Wo):
    """Two passes per plane, as max over a rectangle is max over rows of max over columns:
    first the best of each window's kw columns in every input row, then the best of kh of
    those rows.  A 3x3/2 window then costs 2 + 2 comparisons (rows shared by overlapping
    windows are reduced once) instead of 8.  Ties keep the first position in (row, column)
    order, as the reference's argmax does.  The comparisons are written as selects
    (``a if take else b``), not ``if`` blocks: on random data a branch is mispredicted half
    the time, and the plane took ~40% longer."""
    N, C, H, W = x.shape
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    arg = np.empty((N, C, Ho, Wo), dtype=np.int64)
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        row_best = np.empty((H, Wo), dtype=x.dtype)   # best of window wo's columns in row i
        row_col = np.empty((H, Wo), dtype=np.int64)   # ... and the column it is in
        for i in range(H):
            for wo in range(Wo):
                j0 = max(wo * sw - pw, 0)             # padding never wins: clip the window
                best, col = x[n, c, i, j0], j0
                for j in range(j0 + 1, min(wo * sw - pw + kw, W)):
                    v = x[n, c, i, j]
                    take = v > best
                    col = j if take else col
                    best = v if take else best
                row_best[i, wo] = best
                row_col[i, wo] = col
        for ho in range(Ho):
            i0 = max(ho * sh - ph, 0)
            for wo in range(Wo):
                best, row = row_best[i0, wo], i0
                for i in range(i0 + 1, min(ho * sh - ph + kh, H)):
                    v = row_best[i, wo]
                    take = v > best
                    row = i if take else row
                    best = v if take else best
                out[n, c, ho, wo] = best
                arg[n, c, ho, wo] = row * W + row_col[row, wo]
    return out, arg


def maxpool(x, kh, kw, sh, sw, ph, pw, Ho, Wo):
    if not USE_NUMBA:
        return maxpool_reference(x, kh, kw, sh, sw, ph, pw, Ho, Wo)
    kernel = sized(_maxpool_numba, x.size * kh * kw)
    return kernel(np.ascontiguousarray(x), kh, kw, sh, sw, ph, pw, Ho, Wo)


# -- scatter / gather at the argmax positions (max pooling's gradient and its gradient) ----

def scatter_reference(g, arg, H, W):
    """out[n, c].flat[arg[n, c, k]] += g[n, c].flat[k]  -> (N, C, H, W)."""
    N, C = g.shape[:2]
    out = np.zeros((N * C, H * W), dtype=g.dtype)
    planes = np.repeat(np.arange(N * C), g[0, 0].size)
    np.add.at(out, (planes, arg.ravel()), g.ravel())  # windows may share a maximum
    return out.reshape(N, C, H, W)


@njit(parallel=True)
def _scatter_numba(g, arg, H, W):
    N, C, Ho, Wo = g.shape
    out = np.zeros((N, C, H * W), dtype=g.dtype)
    for nc in prange(N * C):  # one thread per plane: no two threads write the same pixel
        n = nc // C
        c = nc % C
        for ho in range(Ho):
            for wo in range(Wo):
                out[n, c, arg[n, c, ho, wo]] += g[n, c, ho, wo]
    return out.reshape(N, C, H, W)


def scatter(g, arg, H, W):
    if not USE_NUMBA:
        return scatter_reference(g, arg, H, W)
    kernel = sized(_scatter_numba, g.shape[0] * g.shape[1] * H * W)
    return kernel(np.ascontiguousarray(g), arg, H, W)


def gather(x, arg):
    """out[n, c].flat[k] = x[n, c].flat[arg[n, c, k]]  (plain NumPy is fast here)."""
    N, C = x.shape[:2]
    flat = x.reshape(N, C, -1)
    return np.take_along_axis(flat, arg.reshape(N, C, -1), axis=2).reshape(arg.shape)


# -- average pooling (count_include_pad=True: always divide by kh*kw) --------------------------

def avgpool_reference(x, kh, kw, sh, sw, ph, pw, Ho, Wo):
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros(x.shape[:2] + (Ho, Wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out += xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw]
    return out / np.asarray(kh * kw, x.dtype)


def avgpool_backward_reference(g, H, W, kh, kw, sh, sw, ph, pw):
    """The adjoint of avgpool: each output's gradient / (kh*kw) goes to its window."""
    N, C, Ho, Wo = g.shape
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=g.dtype)
    share = g / np.asarray(kh * kw, g.dtype)
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw] += share
    return xp[:, :, ph:ph + H, pw:pw + W]


@njit(parallel=True)
def _avgpool_numba(x, kh, kw, sh, sw, ph, pw, Ho, Wo):
    N, C, H, W = x.shape
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        for ho in range(Ho):
            y0 = ho * sh - ph
            for wo in range(Wo):
                x0 = wo * sw - pw
                s = 0.0
                for i in range(max(y0, 0), min(y0 + kh, H)):
                    for j in range(max(x0, 0), min(x0 + kw, W)):
                        s += x[n, c, i, j]
                out[n, c, ho, wo] = s / (kh * kw)
    return out


@njit(parallel=True)
def _avgpool_backward_numba(g, H, W, kh, kw, sh, sw, ph, pw):
    N, C, Ho, Wo = g.shape
    out = np.zeros((N, C, H, W), dtype=g.dtype)
    for nc in prange(N * C):
        n = nc // C
        c = nc % C
        for ho in range(Ho):
            y0 = ho * sh - ph
            for wo in range(Wo):
                x0 = wo * sw - pw
                share = g[n, c, ho, wo] / (kh * kw)
                for i in range(max(y0, 0), min(y0 + kh, H)):
                    for j in range(max(x0, 0), min(x0 + kw, W)):
                        out[n, c, i, j] += share
    return out


def avgpool(x, kh, kw, sh, sw, ph, pw, Ho, Wo):
    if not USE_NUMBA:
        return avgpool_reference(x, kh, kw, sh, sw, ph, pw, Ho, Wo)
    kernel = sized(_avgpool_numba, x.shape[0] * x.shape[1] * Ho * Wo * kh * kw)
    return kernel(np.ascontiguousarray(x), kh, kw, sh, sw, ph, pw, Ho, Wo)


def avgpool_backward(g, H, W, kh, kw, sh, sw, ph, pw):
    if not USE_NUMBA:
        return avgpool_backward_reference(g, H, W, kh, kw, sh, sw, ph, pw)
    kernel = sized(_avgpool_backward_numba, g.size * kh * kw)
    return kernel(np.ascontiguousarray(g), H, W, kh, kw, sh, sw, ph, pw)

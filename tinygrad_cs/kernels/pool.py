"""Pooling kernels: max pooling (with the position of each maximum) and average pooling.

Window (ho, wo) of an (H, W) plane covers rows ho*s - p ... ho*s - p + k - 1 (columns
likewise), clipped to the plane: padding never wins a max.  ``pool_out_size`` gives the
output size, with PyTorch's ceil_mode rule (a last window that would start inside the
right padding is dropped).
"""
import functools
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

def _minus_inf_border(x, kh, kw, sh, sw, ph, pw, Ho, Wo):
    """x with -inf added wherever a window reaches past it: ph rows on top, pw columns on
    the left, and at the bottom and right as far as the last window (ceil mode's extra
    window included).  -> (padded x, (bottom, right))."""
    H, W = x.shape[2:]
    bottom = max(0, (Ho - 1) * sh + kh - H - ph)
    right = max(0, (Wo - 1) * sw + kw - W - pw)
    if not (ph or pw or bottom or right):
        return x, (0, 0)  # no border needed (np.pad would still copy)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, bottom), (pw, right)), constant_values=-np.inf)
    return xp, (bottom, right)


def maxpool_reference(x, kh, kw, sh, sw, ph, pw, Ho, Wo):
    """x (N, C, H, W) -> (out (N, C, Ho, Wo), argmax (N, C, Ho, Wo) flat index in H*W)."""
    N, C, H, W = x.shape
    xp, (bottom, right) = _minus_inf_border(x, kh, kw, sh, sw, ph, pw, Ho, Wo)
    inside = np.pad(np.ones((H, W), bool), ((ph, bottom), (pw, right)))  # False on padding
    windows = np.empty((kh * kw, N, C, Ho, Wo), dtype=x.dtype)
    real = np.empty((kh * kw, 1, 1, Ho, Wo), dtype=bool)
    for i in range(kh):
        for j in range(kw):
            windows[i * kw + j] = xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw]
            real[i * kw + j] = inside[i:i + sh * Ho:sh, j:j + sw * Wo:sw]
    out = windows.max(axis=0)
    # which offset (i, j) won: the first real pixel holding the maximum (padding never
    # wins, even beside pixels that are -inf themselves)
    best = np.argmax((windows == out) & real, axis=0)
    rows = np.arange(Ho)[:, None] * sh - ph + best // kw
    cols = np.arange(Wo)[None, :] * sw - pw + best % kw
    return out, (rows * W + cols).astype(np.int64)


# The numba kernel is compiled once per window shape and stride (kh, kw, sh, sw), with
# those four numbers as constants (numba treats a closure's variables as constants): LLVM
# then unrolls the window loop and vectorises across output columns.  The same loops with
# them as arguments ran a 2x2/2 pool ~5x slower.  Measured with 2 threads, against the
# two-pass kernel (a row pass, then a column pass) this one replaced: 2x2/2 on
# (128, 32, 24, 24) 4.4 -> 0.54 ms, on (128, 64, 8, 8) 1.2 -> 0.19 ms; 3x3/2 on SqueezeNet's
# (1, 64, 95, 127) 1.6 -> 1.3 ms, on (1, 128, 47, 63) 0.76 -> 0.61 ms.
@functools.cache
def _maxpool_kernel(kh, kw, sh, sw):
    """The numba max pool for kh x kw windows at stride (sh, sw), built on first use."""

    def maxpool_windows(xp, ph, pw, W, Ho, Wo):
        """xp: the input, padded with -inf wherever a window reaches past it (ph rows at
        the top, pw columns at the left); W: the unpadded width, for the flat positions.
        Every window then lies inside xp, so the loops need no clipping."""
        N, C = xp.shape[:2]
        out = np.empty((N, C, Ho, Wo), dtype=xp.dtype)
        arg = np.empty((N, C, Ho, Wo), dtype=np.int64)
        for nc in prange(N * C):
            n = nc // C
            c = nc % C
            for ho in range(Ho):
                for wo in range(Wo):
                    i0 = ho * sh  # the window's top-left corner in xp
                    j0 = wo * sw
                    best = xp[n, c, i0, j0]
                    k = 0  # the winner's offset di * kw + dj in the window
                    for di in range(kh):
                        for dj in range(kw):
                            v = xp[n, c, i0 + di, j0 + dj]
                            # strict >: ties keep the first maximum in (row, column) order,
                            # as the reference's argmax does
                            take = v > best
                            k = di * kw + dj if take else k
                            best = v if take else best
                    # back to unpadded coordinates.  Padding wins only when every pixel of
                    # the window is -inf too; the max() then moves it to the first pixel.
                    row = max(i0 + k // kw, ph) - ph
                    col = max(j0 + k % kw, pw) - pw
                    out[n, c, ho, wo] = best
                    arg[n, c, ho, wo] = row * W + col
        return out, arg

    # numba's cache files are named after the function: one name per window and stride
    maxpool_windows.__name__ = maxpool_windows.__qualname__ = f"maxpool_{kh}x{kw}_stride_{sh}x{sw}"
    return njit(parallel=True)(maxpool_windows)


def maxpool(x, kh, kw, sh, sw, ph, pw, Ho, Wo):
    if not USE_NUMBA:
        return maxpool_reference(x, kh, kw, sh, sw, ph, pw, Ho, Wo)
    N, C, H, W = x.shape
    xp, _ = _minus_inf_border(x, kh, kw, sh, sw, ph, pw, Ho, Wo)
    kernel = sized(_maxpool_kernel(kh, kw, sh, sw), N * C * Ho * Wo * kh * kw)
    return kernel(np.ascontiguousarray(xp), ph, pw, W, Ho, Wo)


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
    out = np.empty((N, C, H * W), dtype=g.dtype)
    for nc in prange(N * C):  # one thread per plane: no two threads write the same pixel
        n = nc // C
        c = nc % C
        # each thread zeroes its own planes (np.zeros would do it all on one core first)
        out[n, c, :] = 0
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

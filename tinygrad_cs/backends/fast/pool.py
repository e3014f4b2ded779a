"""Pooling kernels in numba: the reference backend's pool.py (read that first), one
(image, channel) plane per thread.
"""
import functools

import numpy as np

from ..reference.pool import _minus_inf_border, gather  # noqa: F401  (gather: NumPy is fast here)
from .compile import njit, prange, sized




# -- max pooling -------------------------------------------------------------------------





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
                            # as the reference's argmax does.  A NaN wins (the first one,
                            # then nothing beats it), so a NaN is never pooled away.
                            take = v > best or (v != v and best == best)
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
    N, C, H, W = x.shape
    xp, _ = _minus_inf_border(x, kh, kw, sh, sw, ph, pw, Ho, Wo)
    kernel = sized(_maxpool_kernel(kh, kw, sh, sw), N * C * Ho * Wo * kh * kw)
    return kernel(np.ascontiguousarray(xp), ph, pw, W, Ho, Wo)


# -- scatter / gather at the argmax positions (max pooling's gradient and its gradient) ----



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
    kernel = sized(_scatter_numba, g.shape[0] * g.shape[1] * H * W)
    return kernel(np.ascontiguousarray(g), arg, H, W)




# -- average pooling (count_include_pad=True: always divide by kh*kw) --------------------------





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
    kernel = sized(_avgpool_numba, x.shape[0] * x.shape[1] * Ho * Wo * kh * kw)
    return kernel(np.ascontiguousarray(x), kh, kw, sh, sw, ph, pw, Ho, Wo)


def avgpool_backward(g, H, W, kh, kw, sh, sw, ph, pw):
    kernel = sized(_avgpool_backward_numba, g.size * kh * kw)
    return kernel(np.ascontiguousarray(g), H, W, kh, kw, sh, sw, ph, pw)

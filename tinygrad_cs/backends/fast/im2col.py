"""im2col and col2im as numba kernels: the reference backend's im2col.py (read that first
for what they compute), as explicit loops that write into a buffer the caller reuses.

Why channels last (NHWC)?  One window row (j = 0..kw-1, all c) is then kw*C numbers next
to each other in memory, so building the patch matrix is a series of contiguous copies.
From NCHW every one of those numbers would come from a different place: measured on the
second convolution of the WGAN-GP critic, the NCHW im2col took 3x as long as this one plus
the transpose to NHWC.
"""
import numpy as np

from ..shapes import conv_out_size
from .compile import njit, prange, sized


# -- numba ---------------------------------------------------------------------------------

@njit(parallel=True)
def _im2col_numba(x, kh, kw, sh, sw, ph, pw, Ho, Wo, cols):
    """Writes into ``cols`` (N*Ho*Wo, kh*kw*C), a preallocated buffer (see conv.py)."""
    N, H, W, C = x.shape
    for nh in prange(N * Ho):  # rows of windows are independent (and N may be 1)
        n = nh // Ho
        ho = nh % Ho
        for wo in range(Wo):
            row = nh * Wo + wo
            for i in range(kh):
                y = ho * sh + i - ph
                for j in range(kw):
                    xx = wo * sw + j - pw
                    start = (i * kw + j) * C
                    if 0 <= y < H and 0 <= xx < W:
                        for c in range(C):  # C contiguous numbers in and out
                            cols[row, start + c] = x[n, y, xx, c]
                    else:  # this pixel of the window lies in the zero padding
                        for c in range(C):
                            cols[row, start + c] = 0
    return cols


@njit(parallel=True)
def _col2im_numba(cols, N, H, W, C, kh, kw, sh, sw, ph, pw, Ho, Wo):
    out = np.zeros((N, H, W, C), dtype=cols.dtype)
    for n in prange(N):  # each image is written by one iteration only
        for ho in range(Ho):
            for wo in range(Wo):
                row = (n * Ho + ho) * Wo + wo
                for i in range(kh):
                    y = ho * sh + i - ph
                    if y < 0 or y >= H:
                        continue
                    for j in range(kw):
                        xx = wo * sw + j - pw
                        if 0 <= xx < W:
                            start = (i * kw + j) * C
                            for c in range(C):
                                out[n, y, xx, c] += cols[row, start + c]
    return out


# -- dispatch --------------------------------------------------------------------------------

def build_patches(kernel, x, shape, window, hw, out):
    """Run an im2col: ``kernel`` (numba) into ``out`` or a new array of ``shape``.
    window = (kh, kw, sh, sw, ph, pw), hw = the output's (Ho, Wo).  Shared by both layouts
    (here and im2col_nchw.py)."""
    if out is None:
        out = np.empty(shape, dtype=x.dtype)
    return sized(kernel, out.size)(np.ascontiguousarray(x), *window, *hw, out)


def im2col(x, kh, kw, sh, sw, ph, pw, out=None):
    """x (N, H, W, C) -> cols (N*Ho*Wo, kh*kw*C), written into ``out`` when given (reusing
    a buffer avoids the page faults of a fresh allocation on every call)."""
    N, H, W, C = x.shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    return build_patches(_im2col_numba, x, (N * Ho * Wo, kh * kw * C),
                         (kh, kw, sh, sw, ph, pw), (Ho, Wo), out)


def add_patches_back(kernel, cols, x_shape, window, hw):
    """Run a col2im: ``kernel`` (numba), which takes the image's sizes in the order of
    ``x_shape``.  window and hw as in ``build_patches``.  Shared by both layouts (here and
    im2col_nchw.py)."""
    return sized(kernel, cols.size)(np.ascontiguousarray(cols), *x_shape, *window, *hw)


def col2im(cols, x_shape, kh, kw, sh, sw, ph, pw):
    """cols (N*Ho*Wo, kh*kw*C) -> x (N, H, W, C) with x_shape = (N, H, W, C)."""
    N, H, W, C = x_shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    return add_patches_back(_col2im_numba, cols, x_shape,
                            (kh, kw, sh, sw, ph, pw), (Ho, Wo))

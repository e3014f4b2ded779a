"""im2col and col2im: turn a convolution into one matrix multiplication.

For an image batch in channels-last layout, x (N, H, W, C), a kh x kw kernel, stride s and
zero padding p, the output has Ho = (H + 2p - kh) // s + 1 rows (Wo likewise).  im2col
builds one row per window, the window's pixels flattened:

    cols[(n, ho, wo), (i, j, c)] = x_padded[n, ho*s + i, wo*s + j, c]

a (N*Ho*Wo, kh*kw*C) matrix, so that a convolution is  cols @ w_mat^T  with the weights
flattened in the same (i, j, c) order.

col2im is its adjoint: it adds every entry back to the pixel it came from (pixels covered
by several windows receive several contributions).  That is what the gradient of im2col,
and transposed convolution, need.

Why channels last (NHWC)?  One window row (j = 0..kw-1, all c) is then kw*C numbers next
to each other in memory, so building the patch matrix is a series of contiguous copies.
From NCHW every one of those numbers would come from a different place: measured on the
second convolution of the WGAN-GP critic, the NCHW im2col took 3x as long as this one plus
the transpose to NHWC.
"""
import numpy as np

from . import USE_NUMBA, njit, prange, sized


def conv_out_size(size, k, stride, padding):
    return (size + 2 * padding - k) // stride + 1


def to_channels_last(x):
    """(N, C, H, W) -> a contiguous (N, H, W, C) copy: the plain NumPy one, for the
    references (the fast path uses layout.to_channels_last, the same copy on both cores)."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


# -- reference (NumPy) -------------------------------------------------------------------

def im2col_reference(x, kh, kw, sh, sw, ph, pw):
    """x (N, H, W, C) -> cols (N*Ho*Wo, kh*kw*C).  One strided slice per kernel offset."""
    N, H, W, C = x.shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    cols = np.empty((N, Ho, Wo, kh, kw, C), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            # the (i, j) pixel of every window at once: rows i, i+s, i+2s, ...
            cols[:, :, :, i, j, :] = xp[:, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :]
    return cols.reshape(N * Ho * Wo, kh * kw * C)


def col2im_reference(cols, x_shape, kh, kw, sh, sw, ph, pw):
    """cols (N*Ho*Wo, kh*kw*C) -> x (N, H, W, C), adding overlapping contributions."""
    N, H, W, C = x_shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    cols = cols.reshape(N, Ho, Wo, kh, kw, C)
    xp = np.zeros((N, H + 2 * ph, W + 2 * pw, C), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            # the slices of one offset never overlap each other, so += is safe here
            xp[:, i:i + sh * Ho:sh, j:j + sw * Wo:sw, :] += cols[:, :, :, i, j, :]
    return xp[:, ph:ph + H, pw:pw + W, :]


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

def build_patches(reference, kernel, x, shape, window, hw, out):
    """Run an im2col: ``kernel`` (numba) into ``out`` or a new array of ``shape``, or the
    NumPy ``reference`` when numba is off.  window = (kh, kw, sh, sw, ph, pw), hw = the
    output's (Ho, Wo).  Shared by both layouts (here and im2col_nchw.py)."""
    if not USE_NUMBA:
        cols = reference(x, *window)
        if out is not None:
            out[...] = cols
            return out
        return cols
    if out is None:
        out = np.empty(shape, dtype=x.dtype)
    return sized(kernel, out.size)(np.ascontiguousarray(x), *window, *hw, out)


def im2col(x, kh, kw, sh, sw, ph, pw, out=None):
    """x (N, H, W, C) -> cols (N*Ho*Wo, kh*kw*C), written into ``out`` when given (reusing
    a buffer avoids the page faults of a fresh allocation on every call)."""
    N, H, W, C = x.shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    return build_patches(im2col_reference, _im2col_numba, x, (N * Ho * Wo, kh * kw * C),
                         (kh, kw, sh, sw, ph, pw), (Ho, Wo), out)


def add_patches_back(reference, kernel, cols, x_shape, window, hw):
    """Run a col2im: ``kernel`` (numba), which takes the image's sizes in the order of
    ``x_shape``, or the NumPy ``reference`` when numba is off.  window and hw as in
    ``build_patches``.  Shared by both layouts (here and im2col_nchw.py)."""
    if not USE_NUMBA:
        return reference(cols, x_shape, *window)
    return sized(kernel, cols.size)(np.ascontiguousarray(cols), *x_shape, *window, *hw)


def col2im(cols, x_shape, kh, kw, sh, sw, ph, pw):
    """cols (N*Ho*Wo, kh*kw*C) -> x (N, H, W, C) with x_shape = (N, H, W, C)."""
    N, H, W, C = x_shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    return add_patches_back(col2im_reference, _col2im_numba, cols, x_shape,
                            (kh, kw, sh, sw, ph, pw), (Ho, Wo))

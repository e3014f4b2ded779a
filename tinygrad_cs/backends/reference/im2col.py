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

Why channels last?  Then a window's row of pixels (j = 0..kw-1, every c) is kw*C numbers
side by side in memory, and a patch row is a few contiguous pieces.
"""
import numpy as np

from ..shapes import conv_out_size


def to_channels_last(x):
    """(N, C, H, W) -> a contiguous (N, H, W, C) copy."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def im2col(x, kh, kw, sh, sw, ph, pw):
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


def col2im(cols, x_shape, kh, kw, sh, sw, ph, pw):
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

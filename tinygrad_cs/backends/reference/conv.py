"""Convolution on arrays: im2col + one matrix product, and its two adjoints.

    conv2d:              y[n, o, ho, wo] = sum_{c,i,j} x_pad[n, c, ho*s + i, wo*s + j] w[o, c, i, j]
    conv_transpose2d:    the adjoint of conv2d in x: each input pixel spreads x * w over
                         the window it would have come from
    conv2d_weight_grad:  dL/dw[o, c, i, j] = sum_{n,ho,wo} g[n, o, ho, wo] x_pad[n, c, ho*s + i, wo*s + j]

All three are one im2col (or col2im) and one matrix product (im2col.py).  Layout: NCHW
in and out; the patches are built from a channels-last copy.
"""
import numpy as np

from ..shapes import conv_out_size
from .im2col import col2im, im2col, to_channels_last


def _weight_rows(w):
    """(A, B, kh, kw) -> (A, kh*kw*B): each row flattened in the (i, j, channel) order of a
    patch row."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


def _to_nchw(rows, N, H, W):
    """(N*H*W, C) rows, one per pixel -> a contiguous (N, C, H, W) array."""
    return np.ascontiguousarray(rows.reshape(N, H, W, rows.shape[1]).transpose(0, 3, 1, 2))


def conv2d(x, w, stride, padding):
    """x (N, C, H, W), w (O, C, kh, kw) -> (N, O, Ho, Wo): one im2col, one product.

    cols (N*Ho*Wo, kh*kw*C) @ w_rows^T (kh*kw*C, O) = one row of O outputs per window."""
    N, _, H, W = x.shape
    O, _, kh, kw = w.shape
    cols = im2col(to_channels_last(x), kh, kw, *stride, *padding)
    Ho, Wo = (conv_out_size(n, k, s, p) for n, k, s, p in zip((H, W), (kh, kw), stride, padding))
    return _to_nchw(cols @ _weight_rows(w).T, N, Ho, Wo)


def conv_transpose2d(x, w, stride, padding, out_hw):
    """x (N, C_in, H, W), w (C_in, C_out, kh, kw) -> (N, C_out, *out_hw).

    The adjoint of conv2d: one product gives every input pixel's contribution to its
    window, (N*H*W, C_in) @ (C_in, kh*kw*C_out), and col2im adds them into place."""
    N, Cin, H, W = x.shape
    Cout = w.shape[1]
    cols = to_channels_last(x).reshape(-1, Cin) @ _weight_rows(w)
    out = col2im(cols, (N,) + tuple(out_hw) + (Cout,), *w.shape[2:], *stride, *padding)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def conv2d_weight_grad(x, g, kernel_hw, stride, padding):
    """dL/dw of y = conv2d(x, w) for upstream g (N, O, Ho, Wo) -> (O, C, kh, kw).

    g as an (O, N*Ho*Wo) matrix times the patches (N*Ho*Wo, kh*kw*C): each weight meets
    every window it was multiplied with."""
    C, O = x.shape[1], g.shape[1]
    cols = im2col(to_channels_last(x), *kernel_hw, *stride, *padding)
    dw_rows = to_channels_last(g).reshape(-1, O).T @ cols
    return np.ascontiguousarray(dw_rows.reshape((O,) + tuple(kernel_hw) + (C,)).transpose(0, 3, 1, 2))


def add_channel_bias(y, b):
    """y (N, C, ...) += b (C,) in place: one number per channel (a convolution's bias)."""
    y += b.reshape((1, -1) + (1,) * (y.ndim - 2)).astype(y.dtype, copy=False)
    return y

"""Convolution on arrays: im2col + GEMM, and its two adjoints.

The reference functions are the whole idea in three lines each: build the (C*kh*kw,
N*Ho*Wo) matrix of patches, multiply by the (O, C*kh*kw) weight matrix.  The fast versions
compute the same thing a few images at a time: the patch matrix of a whole batch can be
hundreds of MB (conv2 of an MNIST CNN at batch 128: 160 MB), and writing that much fresh
memory costs more than the multiplication.  A chunk small enough to stay in cache, in a
buffer reused across chunks, makes the GEMM the dominant cost again.
"""
import numpy as np

from . import USE_NUMBA
from .im2col import col2im, conv_out_size, im2col

CHUNK_ELEMENTS = 1 << 20  # patch-matrix entries per chunk (4 MB in float32)


def _chunk(N, K, HoWo):
    return max(1, min(N, CHUNK_ELEMENTS // max(1, K * HoWo)))


# -- references ----------------------------------------------------------------------------

def conv2d_reference(x, w, stride, padding):
    """x (N, C, H, W), w (O, C, kh, kw) -> (N, O, Ho, Wo): one im2col, one GEMM."""
    N = x.shape[0]
    O, _, kh, kw = w.shape
    cols = im2col(x, kh, kw, *stride, *padding)                    # (C*kh*kw, N*Ho*Wo)
    Ho, Wo = (conv_out_size(n, k, s, p) for n, k, s, p in zip(x.shape[2:], (kh, kw), stride, padding))
    y = w.reshape(O, -1) @ cols                                    # (O, N*Ho*Wo)
    return np.ascontiguousarray(y.reshape(O, N, Ho, Wo).transpose(1, 0, 2, 3))


def conv_transpose2d_reference(x, w, stride, padding, out_hw):
    """x (N, C_in, H, W), w (C_in, C_out, kh, kw) -> (N, C_out, *out_hw): the adjoint of
    conv2d: one GEMM gives every input pixel's contribution to its window, col2im adds
    them into place."""
    N, Cin = x.shape[:2]
    _, Cout, kh, kw = w.shape
    cols = w.reshape(Cin, -1).T @ x.transpose(1, 0, 2, 3).reshape(Cin, -1)
    return col2im(cols, (N, Cout) + tuple(out_hw), kh, kw, *stride, *padding)


def weight_grad_reference(x, g, kernel_hw, stride, padding):
    """dL/dw of conv2d for upstream g (N, O, Ho, Wo): g as a matrix times the patches^T."""
    C, O = x.shape[1], g.shape[1]
    cols = im2col(x, *kernel_hw, *stride, *padding)
    g_mat = g.transpose(1, 0, 2, 3).reshape(O, -1)
    return (g_mat @ cols.T).reshape((O, C) + tuple(kernel_hw))


# -- 1x1 convolutions are plain matrix products (no patches to gather) -------------------------------

def _is_pointwise(kernel_hw, stride, padding):
    return tuple(kernel_hw) == (1, 1) and tuple(stride) == (1, 1) and tuple(padding) == (0, 0)


def conv2d_pointwise(x, w):
    """y[n] = W (O, C) @ x[n] (C, H*W), batched over n."""
    N, C, H, W = x.shape
    return np.matmul(w.reshape(w.shape[0], C), x.reshape(N, C, H * W)).reshape(N, -1, H, W)


def conv_transpose2d_pointwise(x, w):
    N, Cin, H, W = x.shape
    return np.matmul(w.reshape(Cin, -1).T, x.reshape(N, Cin, H * W)).reshape(N, -1, H, W)


def weight_grad_pointwise(x, g):
    N, C, H, W = x.shape
    O = g.shape[1]
    g_mat = g.reshape(N, O, H * W)
    x_mat = x.reshape(N, C, H * W)
    if N == 1:
        return (g_mat[0] @ x_mat[0].T).reshape(O, C, 1, 1)
    return np.einsum("nok,nck->oc", g_mat, x_mat, optimize=True).reshape(O, C, 1, 1)


# -- chunked versions (same results) -----------------------------------------------------------

def conv2d_chunked(x, w, stride, padding):
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    if _is_pointwise((kh, kw), stride, padding):
        return conv2d_pointwise(x, w)
    Ho, Wo = conv_out_size(H, kh, stride[0], padding[0]), conv_out_size(W, kw, stride[1], padding[1])
    K, HW = C * kh * kw, Ho * Wo
    b = _chunk(N, K, HW)
    w_mat = w.reshape(O, K)
    cols_buf = np.empty((K, b * HW), x.dtype)
    y_buf = np.empty((O, b * HW), x.dtype)
    out = np.empty((N, O, Ho, Wo), x.dtype)
    for n0 in range(0, N, b):
        n1 = min(N, n0 + b)
        m = (n1 - n0) * HW
        cols = im2col(x[n0:n1], kh, kw, *stride, *padding, out=cols_buf[:, :m])
        np.matmul(w_mat, cols, out=y_buf[:, :m])
        out[n0:n1] = y_buf[:, :m].reshape(O, n1 - n0, Ho, Wo).transpose(1, 0, 2, 3)
    return out


def conv_transpose2d_chunked(x, w, stride, padding, out_hw):
    N, Cin, H, W = x.shape
    _, Cout, kh, kw = w.shape
    if _is_pointwise((kh, kw), stride, padding) and tuple(out_hw) == (H, W):
        return conv_transpose2d_pointwise(x, w)
    K, HW = Cout * kh * kw, H * W
    b = _chunk(N, K, HW)
    w_t = np.ascontiguousarray(w.reshape(Cin, K).T)
    out = np.empty((N, Cout) + tuple(out_hw), x.dtype)
    cols_buf = np.empty((K, b * HW), x.dtype)
    for n0 in range(0, N, b):
        n1 = min(N, n0 + b)
        x_mat = x[n0:n1].transpose(1, 0, 2, 3).reshape(Cin, -1)
        cols = np.matmul(w_t, x_mat, out=cols_buf[:, :x_mat.shape[1]])
        out[n0:n1] = col2im(cols, (n1 - n0, Cout) + tuple(out_hw), kh, kw, *stride, *padding)
    return out


def weight_grad_chunked(x, g, kernel_hw, stride, padding):
    if _is_pointwise(kernel_hw, stride, padding) and x.shape[2:] == g.shape[2:]:
        return weight_grad_pointwise(x, g)
    N, C = x.shape[:2]
    O, Ho, Wo = g.shape[1:]
    kh, kw = kernel_hw
    K, HW = C * kh * kw, Ho * Wo
    b = _chunk(N, K, HW)
    cols_buf = np.empty((K, b * HW), x.dtype)
    dw = np.zeros((O, K), np.result_type(x.dtype, g.dtype))
    for n0 in range(0, N, b):
        n1 = min(N, n0 + b)
        cols = im2col(x[n0:n1], kh, kw, *stride, *padding, out=cols_buf[:, :(n1 - n0) * HW])
        g_mat = g[n0:n1].transpose(1, 0, 2, 3).reshape(O, -1)
        dw += g_mat @ cols.T
    return dw.reshape(O, C, kh, kw)


if USE_NUMBA:
    conv2d, conv_transpose2d, weight_grad = conv2d_chunked, conv_transpose2d_chunked, weight_grad_chunked
else:
    conv2d, conv_transpose2d, weight_grad = (conv2d_reference, conv_transpose2d_reference,
                                             weight_grad_reference)

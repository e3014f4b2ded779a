"""Convolution on arrays: im2col + GEMM, and its two adjoints.

The reference functions are the whole idea in a few lines each: build the (N*Ho*Wo,
kh*kw*C) matrix of windows, multiply by the weights flattened to (O, kh*kw*C).  The
patches are built from a channels-last copy of the input (see im2col.py for why); the
results are returned in the usual (N, C, H, W) layout.

The fast versions compute the same thing a few images at a time: the patch matrix of a
whole batch can be hundreds of MB (conv2 of an MNIST CNN at batch 128: 160 MB), and writing
that much fresh memory costs more than the multiplication.  A chunk that fits in a core's
cache, in a buffer reused across chunks, makes the GEMM the dominant cost again.  Each core
takes its own slice of the batch, chunk by chunk (split.py says why).  They also build the
patches of images with few channels (1 or 3) from NCHW instead (im2col_nchw.py says why),
and pick the faster way round for each product (ROWS_MIN_K).

The weight gradient builds the patches again rather than keeping the forward's: from
cache that is cheaper than writing a whole batch's patches to memory and reading them back
(DCGAN conv2, forward + both gradients, a slice per core, 2 MB chunks, the two ways
alternating in one process, medians of 30: 23.1 ms kept, 20.0 ms built again).
"""
import numpy as np

from . import USE_NUMBA
from .im2col import col2im, conv_out_size, im2col, to_channels_last
from .im2col_nchw import col2im_nchw, im2col_nchw
from . import layout
from .split import split_batch

# Patch-matrix entries per chunk (2 MB in float32: one core's L2 cache on the workplace
# machine; a chunk stays there from its im2col to its product).  Forward + both gradients
# through the ops, one slice of the batch per core, medians of 24 in one process, ms, for
# 2**17 / 2**18 / 2**19 / 2**20 / 2**21 entries: DCGAN conv2 23.8 / 21.0 / 20.2 / 22.0 /
# 24.0, its conv1 12.2 / 12.3 / 12.4 / 14.6 / 14.5, the WGAN-GP critic's conv2 43.6 / 36.9 /
# 36.2 / 37.9 / 40.3, a ConvTranspose 128 -> 64 at 7x7 44.2 / 37.2 / 35.7 / 37.1 / 40.2.
# (With both cores on every chunk, before the batch was split, 8 MB chunks were best.)
CHUNK_ELEMENTS = 1 << 19


# Patch-row length from which conv2d multiplies patches @ weights^T rather than weights @
# patches^T.  Best of 8 runs, 2 threads, whole forward: DCGAN conv2 (K = 800) 13.0 -> 10.3
# ms, WGAN-GP critic conv2 (K = 1024) 15.6 -> 14.1 ms; with short rows the other way is
# faster (MNIST conv1, K = 25: 1.13x slower; critic conv1, K = 16: 1.39x slower).  Still
# so with the batch split between the cores (2 MB chunks), forward + both gradients,
# medians in one process: DCGAN conv2 21.7 ms (rows) against 22.9 (planes), the critic's
# conv2 40.5 against 41.8.
ROWS_MIN_K = 512

# Images with at most this many channels (MNIST's 1, RGB's 3) get their patches from NCHW;
# see im2col_nchw.py.  Forward, 2 threads: MNIST conv1 12.7 -> 5.8 ms, SqueezeNet conv1 on
# one 192x256 image 2.1 -> 0.57 ms.  With 16-64 channels the NHWC patches were as fast or
# faster once the input gradient is counted, and 1.5x faster at batch 128 (DCGAN conv2).
FEW_CHANNELS = 4


def _chunk(N, K, HoWo):
    return max(1, min(N, CHUNK_ELEMENTS // max(1, K * HoWo)))


def _weight_rows(w):
    """(A, B, kh, kw) -> (A, kh*kw*B): each row flattened in the (i, j, channel) order of a
    patch row."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1)


def _planes(x):
    """(N, C, H, W) -> (C, N*H*W): channel c's planes side by side.  A free reshape when
    N = 1; otherwise a copy of whole H*W planes (cheap, unlike a full transpose)."""
    if x.shape[0] == 1:
        return x.reshape(x.shape[1], -1)
    return layout.swap_first_axes(x).reshape(x.shape[1], -1)


def _to_nchw(rows, N, H, W):
    """(N*H*W, C) rows, one per pixel -> a contiguous (N, C, H, W) array."""
    return np.ascontiguousarray(rows.reshape(N, H, W, -1).transpose(0, 3, 1, 2))


# -- references ----------------------------------------------------------------------------

def conv2d_reference(x, w, stride, padding):
    """x (N, C, H, W), w (O, C, kh, kw) -> (N, O, Ho, Wo): one im2col, one GEMM."""
    N, _, H, W = x.shape
    O, _, kh, kw = w.shape
    cols = im2col(to_channels_last(x), kh, kw, *stride, *padding)  # (N*Ho*Wo, kh*kw*C)
    Ho, Wo = (conv_out_size(n, k, s, p) for n, k, s, p in zip((H, W), (kh, kw), stride, padding))
    y = _to_nchw(cols @ _weight_rows(w).T, N, Ho, Wo)                # rows (N*Ho*Wo, O)
    return y


def conv_transpose2d_reference(x, w, stride, padding, out_hw):
    """x (N, C_in, H, W), w (C_in, C_out, kh, kw) -> (N, C_out, *out_hw): the adjoint of
    conv2d: one GEMM gives every input pixel's contribution to its window, col2im adds
    them into place."""
    N, Cin, H, W = x.shape
    Cout = w.shape[1]
    cols = to_channels_last(x).reshape(-1, Cin) @ _weight_rows(w)   # (N*H*W, kh*kw*C_out)
    out = col2im(cols, (N,) + tuple(out_hw) + (Cout,), *w.shape[2:], *stride, *padding)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def weight_grad_reference(x, g, kernel_hw, stride, padding):
    """dL/dw of conv2d for upstream g (N, O, Ho, Wo): g^T as a matrix times the patches."""
    C, O = x.shape[1], g.shape[1]
    cols = im2col(to_channels_last(x), *kernel_hw, *stride, *padding)
    dw_rows = to_channels_last(g).reshape(-1, O).T @ cols           # (O, kh*kw*C)
    return np.ascontiguousarray(dw_rows.reshape((O,) + tuple(kernel_hw) + (C,)).transpose(0, 3, 1, 2))


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
# With few channels (C <= FEW_CHANNELS) the patches are built from NCHW as a (K, pixels)
# matrix (im2col_nchw.py, which says why); otherwise from NHWC as (pixels, K).  Both are
# handled as the (pixels, K) patch matrix P below: for few channels P is a transposed view.
# The weights are flattened in the matching (c, i, j) or (i, j, c) order.

def _few(C):
    return C <= FEW_CHANNELS


def _prepare(x, few):
    """The input in the layout its patches are built from."""
    return np.ascontiguousarray(x) if few else layout.to_channels_last(x)


def _weights(w, few):
    """(A, B, kh, kw) -> (A, K) in the patch columns' order (_weight_rows's copy, on both
    cores: for one image, as in SqueezeNet, moving the weights took a fifth of the time)."""
    if few:
        return w.reshape(w.shape[0], -1)
    return layout.to_channels_last(w).reshape(w.shape[0], -1)


def _patches(x, kh, kw, stride, padding, buf, few, m, K):
    """P (m, K) for the images of x (prepared): m output pixels, patch rows of length K,
    written at the start of the flat buffer ``buf`` (stored as its transpose for few
    channels, so P is then a transposed view)."""
    if few:
        cols = buf[:K * m].reshape(K, m)                     # one row per kernel tap
        im2col_nchw(x, kh, kw, *stride, *padding, out=cols)
        return cols.T
    P = buf[:m * K].reshape(m, K)
    im2col(x, kh, kw, *stride, *padding, out=P)
    return P


def _chunks(lo, hi, b):
    """(n0, n1) for consecutive chunks of at most b images of lo..hi."""
    return [(n0, min(hi, n0 + b)) for n0 in range(lo, hi, b)]


def conv2d_chunked(x, w, stride, padding):
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    if _is_pointwise((kh, kw), stride, padding):
        return conv2d_pointwise(x, w)
    Ho, Wo = conv_out_size(H, kh, stride[0], padding[0]), conv_out_size(W, kw, stride[1], padding[1])
    K, HW = C * kh * kw, Ho * Wo
    few = _few(C)
    x = _prepare(x, few)
    w_mat = _weights(w, few)                                 # (O, K)
    out = np.empty((N, O, Ho, Wo), x.dtype)

    def convolve(lo, hi):  # images lo..hi, one chunk at a time (one slice of the batch)
        b = _chunk(hi - lo, K, HW)
        # Which way round to multiply: both give the same numbers; OpenBLAS is faster with
        # the patches as the left operand when patch rows are long, and the planes layout
        # then costs only a transpose of the small result.  See ROWS_MIN_K.
        rows = b > 1 and K >= ROWS_MIN_K and not few
        buf = np.empty(b * HW * K, x.dtype)
        y_buf = None if b == 1 else np.empty((b * HW, O) if rows else (O, b * HW), x.dtype)
        for n0, n1 in _chunks(lo, hi, b):
            m = (n1 - n0) * HW
            P = _patches(x[n0:n1], kh, kw, stride, padding, buf, few, m, K)
            if n1 - n0 == 1:  # one image: its (O, Ho*Wo) block of out is the result's layout
                np.matmul(w_mat, P.T, out=out[n0].reshape(O, HW))
            elif rows:        # (m, K) @ (K, O): a row of O numbers per output pixel
                y = np.matmul(P, w_mat.T, out=y_buf[:m])
                layout.to_channels_first(y.reshape(n1 - n0, Ho, Wo, O), out=out[n0:n1])
            else:
                # (O, K) @ (K, m): the result holds whole output planes (O, images, Ho*Wo),
                # so going to NCHW copies planes, not single numbers.
                y = np.matmul(w_mat, P.T, out=y_buf[:, :m])
                layout.swap_first_axes(y.reshape(O, n1 - n0, Ho, Wo), out=out[n0:n1])

    split_batch(convolve, N)
    return out


def conv_transpose2d_chunked(x, w, stride, padding, out_hw):
    N, Cin, H, W = x.shape
    _, Cout, kh, kw = w.shape
    if _is_pointwise((kh, kw), stride, padding) and tuple(out_hw) == (H, W):
        return conv_transpose2d_pointwise(x, w)
    K, HW = Cout * kh * kw, H * W
    few = _few(Cout)
    w_mat = _weights(w, few)                                 # (C_in, K)
    out = np.empty((N, Cout) + tuple(out_hw), x.dtype)

    def convolve(lo, hi):  # images lo..hi, one chunk at a time (one slice of the batch)
        b = _chunk(hi - lo, K, HW)
        buf = np.empty(b * HW * K, x.dtype)
        for n0, n1 in _chunks(lo, hi, b):
            m = (n1 - n0) * HW
            planes = _planes(x[n0:n1])                       # (C_in, images*H*W)
            if few:  # (K, m): a column per input pixel, added back from NCHW
                cols = np.matmul(w_mat.T, planes, out=buf[:K * m].reshape(K, m))
                out[n0:n1] = col2im_nchw(cols, (n1 - n0, Cout) + tuple(out_hw), kh, kw,
                                         *stride, *padding)
            else:    # (m, K): a row per input pixel, added back into NHWC
                cols = np.matmul(planes.T, w_mat, out=buf[:m * K].reshape(m, K))
                part = col2im(cols, (n1 - n0,) + tuple(out_hw) + (Cout,), kh, kw, *stride,
                              *padding)
                layout.to_channels_first(part, out=out[n0:n1])

    split_batch(convolve, N)
    return out


def weight_grad_chunked(x, g, kernel_hw, stride, padding):
    if _is_pointwise(kernel_hw, stride, padding) and x.shape[2:] == g.shape[2:]:
        return weight_grad_pointwise(x, g)
    N, C = x.shape[:2]
    O, Ho, Wo = g.shape[1:]
    kh, kw = kernel_hw
    K, HW = C * kh * kw, Ho * Wo
    few = _few(C)
    x = _prepare(x, few)
    dtype = np.result_type(x.dtype, g.dtype)

    def accumulate(lo, hi):  # the sum over images lo..hi (one slice of the batch)
        b = _chunk(hi - lo, K, HW)
        buf = np.empty(b * HW * K, x.dtype)
        dw = np.empty((O, K), dtype)
        for n0, n1 in _chunks(lo, hi, b):
            P = _patches(x[n0:n1], kh, kw, stride, padding, buf, few, (n1 - n0) * HW, K)
            if n0 == lo:  # the first chunk's product goes straight into dw
                np.matmul(_planes(g[n0:n1]), P, out=dw)
            else:
                dw += _planes(g[n0:n1]) @ P
        return dw

    dw, *others = split_batch(accumulate, N)                 # (O, K): one sum per slice
    for part in others:
        dw += part
    if few:                                                  # columns in (c, i, j) order
        return dw.reshape(O, C, kh, kw)
    return layout.to_channels_first(dw.reshape(O, kh, kw, C))


if USE_NUMBA:
    conv2d, conv_transpose2d, weight_grad = conv2d_chunked, conv_transpose2d_chunked, weight_grad_chunked
else:
    conv2d, conv_transpose2d, weight_grad = (conv2d_reference, conv_transpose2d_reference,
                                             weight_grad_reference)

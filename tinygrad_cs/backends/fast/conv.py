"""Convolution on arrays, fast: the reference backend's conv.py (read that first), a few
images at a time.

The patch matrix of a whole batch can be hundreds of MB (conv2 of an MNIST CNN at batch
128: 160 MB), and writing that much fresh memory costs more than the multiplication.  A
chunk that fits in a core's cache, in a buffer reused across chunks, makes the product the
dominant cost again.  Each core takes its own slice of the batch, chunk by chunk
(split.py says why); a single image has its products split between the cores instead
(matmul.py).  Images with few channels (1 or 3) get their patches from NCHW
(im2col_nchw.py says why), and each product is done the faster way round (ROWS_MIN_K).

The weight gradient builds the patches again rather than keeping the forward's: from
cache that is cheaper than writing a whole batch's patches to memory and reading them back
(docs/performance.md).
"""
import numpy as np

from ..shapes import conv_out_size
from . import layout
from .im2col import col2im, im2col
from .im2col_nchw import col2im_nchw, im2col_nchw
from .matmul import matmul
from .split import split_batch

# Patch-matrix entries per chunk (2 MB in float32: one core's L2 cache on a 2-core Intel
# Xeon; a chunk stays there from its im2col to its product).  Forward + both gradients
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


def _planes(x):
    """(N, C, H, W) -> (C, N*H*W): channel c's planes side by side.  A free reshape when
    N = 1; otherwise a copy of whole H*W planes (cheap, unlike a full transpose)."""
    if x.shape[0] == 1:
        return x.reshape(x.shape[1], -1)
    return layout.swap_first_axes(x).reshape(x.shape[1], -1)


# -- 1x1 convolutions are plain matrix products (no patches to gather) -------------------------------

def _is_pointwise(kernel_hw, stride, padding):
    return tuple(kernel_hw) == (1, 1) and tuple(stride) == (1, 1) and tuple(padding) == (0, 0)


def conv2d_pointwise(x, w):
    """y[n] = W (O, C) @ x[n] (C, H*W), the images split between the cores."""
    N, C, H, W = x.shape
    return _per_image(w.reshape(w.shape[0], C), x.reshape(N, C, H * W)).reshape(N, -1, H, W)


def conv_transpose2d_pointwise(x, w):
    """y[n] = W^T (C_out, C_in) @ x[n] (C_in, H*W)."""
    N, Cin, H, W = x.shape
    return _per_image(w.reshape(Cin, -1).T, x.reshape(N, Cin, H * W)).reshape(N, -1, H, W)


def _per_image(w, x):
    """w (A, B) @ x[n] (B, P) for every n -> (N, A, P).  One image: one product split
    between the cores; several: a slice of the images per core."""
    N = x.shape[0]
    if N == 1:
        return matmul(w, x[0])[None]
    out = np.empty((N, w.shape[0], x.shape[2]), np.result_type(w, x))

    def some(lo, hi):
        np.matmul(w, x[lo:hi], out=out[lo:hi])
    split_batch(some, N)
    return out


def weight_grad_pointwise(x, g):
    """dw (O, C) = sum over images of g[n] (O, H*W) @ x[n]^T (H*W, C)."""
    N, C, H, W = x.shape
    O = g.shape[1]
    g_mat = g.reshape(N, O, H * W)
    x_mat = x.reshape(N, C, H * W)
    if N == 1:
        return matmul(g_mat[0], x_mat[0].T).reshape(O, C, 1, 1)

    def some(lo, hi):  # the sum over images lo..hi
        return np.einsum("nok,nck->oc", g_mat[lo:hi], x_mat[lo:hi], optimize=True)
    dw, *others = split_batch(some, N)
    for part in others:
        dw += part
    return dw.reshape(O, C, 1, 1)


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
    """(A, B, kh, kw) -> (A, K) in the patch columns' order (the reference's weight rows,
    moved on both cores: for one image, as in SqueezeNet, moving the weights took a fifth of
    the time)."""
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
                matmul(w_mat, P.T, out=out[n0].reshape(O, HW))
            elif rows:        # (m, K) @ (K, O): a row of O numbers per output pixel
                y = matmul(P, w_mat.T, out=y_buf[:m])
                layout.to_channels_first(y.reshape(n1 - n0, Ho, Wo, O), out=out[n0:n1])
            else:
                # (O, K) @ (K, m): the result holds whole output planes (O, images, Ho*Wo),
                # so going to NCHW copies planes, not single numbers.
                y = matmul(w_mat, P.T, out=y_buf[:, :m])
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
                cols = matmul(w_mat.T, planes, out=buf[:K * m].reshape(K, m))
                out[n0:n1] = col2im_nchw(cols, (n1 - n0, Cout) + tuple(out_hw), kh, kw,
                                         *stride, *padding)
            else:    # (m, K): a row per input pixel, added back into NHWC
                cols = matmul(planes.T, w_mat, out=buf[:m * K].reshape(m, K))
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
                matmul(_planes(g[n0:n1]), P, out=dw)
            else:
                dw += matmul(_planes(g[n0:n1]), P)
        return dw

    dw, *others = split_batch(accumulate, N)                 # (O, K): one sum per slice
    for part in others:
        dw += part
    if few:                                                  # columns in (c, i, j) order
        return dw.reshape(O, C, kh, kw)
    return layout.to_channels_first(dw.reshape(O, kh, kw, C))


# the backend's interface
conv2d, conv_transpose2d, conv2d_weight_grad = conv2d_chunked, conv_transpose2d_chunked, weight_grad_chunked

"""Slow, obviously correct NumPy versions of the ops whose closed form does not fit in a
one-line lambda: convolution, pooling, batch normalisation.

They serve as *forward references* (``Case(..., forward=...)`` next to the ops, and the layer
cases in ``layers/cases.py``): the tests compare the outputs of ops and layers with them.
They are written from the definitions, with plain loops or SciPy, and never call the engine or its kernels, so a
forward that is wrong together with a matching backward is still caught.

Layout as in the ops: x (N, C, H, W); conv2d weights (O, C, kh, kw); conv_transpose2d
weights (C_in, C_out, kh, kw).
"""
import math

import numpy as np


def _pad_planes(x, padding, value=0.0):
    (ph, pw) = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0)):
    """y[n, o] = sum over c of the cross-correlation of x[n, c] with w[o, c], every
    stride-th position.  SciPy's ``correlate`` of the (C, H, W) block with the (C, kh, kw)
    kernel in "valid" mode sums over the channels too (its channel axis has length 1)."""
    from scipy.signal import correlate  # here, not at the top: only the tests need SciPy
    xp = _pad_planes(x, padding)
    (sh, sw) = stride
    y = np.array([[correlate(xp[n], w[o], mode="valid")[0, ::sh, ::sw]
                   for o in range(w.shape[0])] for n in range(x.shape[0])])
    return y if b is None else y + b[None, :, None, None]


def conv_transpose2d(x, w, b=None, stride=(1, 1), padding=(0, 0), out_hw=None):
    """Every input pixel x[n, c, h, v] adds x * w[c, :, :, :] to the output window that
    starts at (h * sh, v * sw); then ``padding`` rows/columns are cut off each border.
    ``out_hw`` (default: the smallest size) may add up to stride - 1 rows/columns."""
    N, C, H, W = x.shape
    O, kh, kw = w.shape[1:]
    (sh, sw), (ph, pw) = stride, padding
    Ho, Wo = out_hw or ((H - 1) * sh - 2 * ph + kh, (W - 1) * sw - 2 * pw + kw)
    full = np.zeros((N, O, max((H - 1) * sh + kh, ph + Ho), max((W - 1) * sw + kw, pw + Wo)))
    for h in range(H):
        for v in range(W):
            full[:, :, h * sh:h * sh + kh, v * sw:v * sw + kw] += np.einsum(
                "nc,coij->noij", x[:, :, h, v], w)
    y = full[:, :, ph:ph + Ho, pw:pw + Wo]
    return y if b is None else y + b[None, :, None, None]


def conv2d_weight_grad(x, g, kernel_hw, stride=(1, 1), padding=(0, 0)):
    """dw[o, c, i, j] = sum over n, h, v of g[n, o, h, v] * xpad[n, c, h*sh + i, v*sw + j]:
    the weight gradient of y = conv2d(x, w) for the upstream gradient g."""
    xp = _pad_planes(x, padding)
    (sh, sw), (Ho, Wo) = stride, g.shape[2:]
    dw = np.zeros((g.shape[1], x.shape[1]) + tuple(kernel_hw))
    for i in range(kernel_hw[0]):
        for j in range(kernel_hw[1]):
            window = xp[:, :, i:i + sh * (Ho - 1) + 1:sh, j:j + sw * (Wo - 1) + 1:sw]
            dw[:, :, i, j] = np.einsum("nohv,nchv->oc", g, window)
    return dw


def pool_out_size(size, k, s, p, ceil_mode=False):
    """floor((size + 2p - k) / s) + 1, or ceil with ``ceil_mode``; a last window that would
    start in the right padding is dropped (PyTorch's rule)."""
    rounding = math.ceil if ceil_mode else math.floor
    out = rounding((size + 2 * p - k) / s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def max_pool2d(x, kernel, stride, padding=(0, 0), ceil_mode=False):
    """y[n, c, h, v] = max of x[n, c] over the window starting at (h*sh - ph, v*sw - pw),
    clipped to the image (padding never wins)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    Ho = pool_out_size(x.shape[2], kh, sh, ph, ceil_mode)
    Wo = pool_out_size(x.shape[3], kw, sw, pw, ceil_mode)
    y = np.empty(x.shape[:2] + (Ho, Wo))
    for h in range(Ho):
        for v in range(Wo):
            top, left = max(h * sh - ph, 0), max(v * sw - pw, 0)
            window = x[:, :, top:h * sh - ph + kh, left:v * sw - pw + kw]
            y[:, :, h, v] = window.max(axis=(2, 3))
    return y


def avg_pool2d(x, kernel, stride, padding=(0, 0)):
    """y = mean of each kh x kw window of x padded with zeros (the zeros count)."""
    (kh, kw), (sh, sw) = kernel, stride
    xp = _pad_planes(x, padding)
    Ho = (xp.shape[2] - kh) // sh + 1
    Wo = (xp.shape[3] - kw) // sw + 1
    y = np.empty(x.shape[:2] + (Ho, Wo))
    for h in range(Ho):
        for v in range(Wo):
            y[:, :, h, v] = xp[:, :, h * sh:h * sh + kh, v * sw:v * sw + kw].mean(axis=(2, 3))
    return y


def _per_channel(a, ndim):
    """(C,) -> (1, C, 1, 1) (or (1, C)), to broadcast against x."""
    return np.asarray(a).reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm_train(x, weight, bias, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias, with the mean and the biased variance
    of each channel over the batch (and the plane)."""
    axes = (0,) + tuple(range(2, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return ((x - mean) / np.sqrt(var + eps) * _per_channel(weight, x.ndim)
            + _per_channel(bias, x.ndim))


def batch_norm_eval(x, running_mean, running_var, weight, bias, eps=1e-5):
    """The same map with the running statistics in place of the batch ones."""
    d = x.ndim
    return ((x - _per_channel(running_mean, d)) / np.sqrt(_per_channel(running_var, d) + eps)
            * _per_channel(weight, d) + _per_channel(bias, d))

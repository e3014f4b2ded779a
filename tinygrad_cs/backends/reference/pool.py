"""Pooling on arrays: max pooling (with the position of each maximum) and average pooling.

Window (ho, wo) of an (H, W) plane covers rows ho*s - p ... ho*s - p + k - 1 (columns
likewise).  For max pooling the padding is -inf, so it never wins; for average pooling it
is 0 and every window is divided by kh*kw (PyTorch's count_include_pad=True).

Max pooling's gradient sends each output's gradient to the pixel that won its window:
``scatter`` (an add at the argmax positions).  Its own gradient reads the upstream
gradient back at those positions: ``gather``.  So the argmax the forward returns is all
the backward needs.
"""
import numpy as np


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


def maxpool(x, kh, kw, sh, sw, ph, pw, Ho, Wo):
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
    # (a NaN wins its window, as in PyTorch: the first NaN, since NaN == NaN is False)
    best = np.argmax(((windows == out) | np.isnan(windows)) & real, axis=0)
    rows = np.arange(Ho)[:, None] * sh - ph + best // kw
    cols = np.arange(Wo)[None, :] * sw - pw + best % kw
    return out, (rows * W + cols).astype(np.int64)


def scatter(g, arg, H, W):
    """out[n, c].flat[arg[n, c, k]] += g[n, c].flat[k]  -> (N, C, H, W)."""
    N, C = g.shape[:2]
    out = np.zeros((N * C, H * W), dtype=g.dtype)
    planes = np.repeat(np.arange(N * C), g[0, 0].size)
    np.add.at(out, (planes, arg.ravel()), g.ravel())  # windows may share a maximum
    return out.reshape(N, C, H, W)


def gather(x, arg):
    """out[n, c].flat[k] = x[n, c].flat[arg[n, c, k]]  (plain NumPy is fast here)."""
    N, C = x.shape[:2]
    flat = x.reshape(N, C, -1)
    return np.take_along_axis(flat, arg.reshape(N, C, -1), axis=2).reshape(arg.shape)


def avgpool(x, kh, kw, sh, sw, ph, pw, Ho, Wo):
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros(x.shape[:2] + (Ho, Wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out += xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw]
    return out / np.asarray(kh * kw, x.dtype)


def avgpool_backward(g, H, W, kh, kw, sh, sw, ph, pw):
    """The adjoint of avgpool: each output's gradient / (kh*kw) goes to its window."""
    N, C, Ho, Wo = g.shape
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=g.dtype)
    share = g / np.asarray(kh * kw, g.dtype)
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw] += share
    return xp[:, :, ph:ph + H, pw:pw + W]

"""im2col and col2im: turn a convolution into one matrix multiplication.

For x of shape (N, C, H, W), a kh x kw kernel, stride s and zero padding p, the output has
Ho = (H + 2p - kh) // s + 1 rows (Wo likewise).  im2col builds

    cols[(c, i, j), (n, ho, wo)] = x_padded[n, c, ho*s + i, wo*s + j]

a (C*kh*kw, N*Ho*Wo) matrix, so that conv2d is  w.reshape(O, C*kh*kw) @ cols.

col2im is its adjoint: it adds every column entry back to the pixel it came from (pixels
covered by several windows receive several contributions).  That is what the gradient of
im2col, and transposed convolution, need.
"""
import numpy as np

from . import USE_NUMBA, njit, prange


def conv_out_size(size, k, stride, padding):
    return (size + 2 * padding - k) // stride + 1


# -- reference (NumPy) -------------------------------------------------------------------

def im2col_reference(x, kh, kw, sh, sw, ph, pw):
    """x (N, C, H, W) -> cols (C*kh*kw, N*Ho*Wo).  One strided slice per kernel offset."""
    N, C, H, W = x.shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((C, kh, kw, N, Ho, Wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            # all windows' (i, j) element at once: rows i, i+s, i+2s, ...
            patch = xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw]  # (N, C, Ho, Wo)
            cols[:, i, j] = patch.transpose(1, 0, 2, 3)
    return cols.reshape(C * kh * kw, N * Ho * Wo)


def col2im_reference(cols, x_shape, kh, kw, sh, sw, ph, pw):
    """cols (C*kh*kw, N*Ho*Wo) -> x (N, C, H, W), adding overlapping contributions."""
    N, C, H, W = x_shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    cols = cols.reshape(C, kh, kw, N, Ho, Wo)
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            # the slices of one offset never overlap each other, so += is safe here
            xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw] += cols[:, i, j].transpose(1, 0, 2, 3)
    return xp[:, :, ph:ph + H, pw:pw + W]


# -- numba ---------------------------------------------------------------------------------

@njit(parallel=True)
def _im2col_numba(x, kh, kw, sh, sw, ph, pw, Ho, Wo, cols):
    """Writes into ``cols`` (C*kh*kw, N*Ho*Wo), a preallocated buffer (see conv.py)."""
    N, C, H, W = x.shape
    for r in prange(C * kh * kw):  # one row per (c, i, j): rows are independent
        c = r // (kh * kw)
        i = (r // kw) % kh
        j = r % kw
        for n in range(N):
            base = n * Ho * Wo
            for ho in range(Ho):
                y = ho * sh + i - ph
                if y < 0 or y >= H:
                    for wo in range(Wo):
                        cols[r, base + ho * Wo + wo] = 0
                    continue
                for wo in range(Wo):
                    xx = wo * sw + j - pw
                    cols[r, base + ho * Wo + wo] = x[n, c, y, xx] if 0 <= xx < W else 0
    return cols


@njit(parallel=True)
def _col2im_numba(cols, N, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo):
    out = np.zeros((N, C, H, W), dtype=cols.dtype)
    for nc in prange(N * C):  # each (n, c) image plane is written by one iteration only
        n = nc // C
        c = nc % C
        base = n * Ho * Wo
        plane = out[n, c]
        for i in range(kh):
            for j in range(kw):
                r = (c * kh + i) * kw + j
                # output columns wo whose input column wo*sw + j - pw lies inside [0, W)
                lo = 0
                while lo < Wo and lo * sw + j - pw < 0:
                    lo += 1
                hi = Wo
                while hi > lo and (hi - 1) * sw + j - pw >= W:
                    hi -= 1
                off = j - pw
                for ho in range(Ho):
                    y = ho * sh + i - ph
                    if y < 0 or y >= H:
                        continue
                    src = base + ho * Wo
                    if sw == 1:  # a separate loop without the multiply vectorises better
                        for wo in range(lo, hi):
                            plane[y, wo + off] += cols[r, src + wo]
                    else:
                        for wo in range(lo, hi):
                            plane[y, wo * sw + off] += cols[r, src + wo]
    return out


# -- dispatch --------------------------------------------------------------------------------

def im2col(x, kh, kw, sh, sw, ph, pw, out=None):
    """cols (C*kh*kw, N*Ho*Wo), written into ``out`` when given (reusing a buffer avoids
    the page faults of a fresh allocation on every call)."""
    if not USE_NUMBA:
        cols = im2col_reference(x, kh, kw, sh, sw, ph, pw)
        if out is not None:
            out[...] = cols
            return out
        return cols
    N, C, H, W = x.shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    if out is None:
        out = np.empty((C * kh * kw, N * Ho * Wo), dtype=x.dtype)
    return _im2col_numba(np.ascontiguousarray(x), kh, kw, sh, sw, ph, pw, Ho, Wo, out)


def col2im(cols, x_shape, kh, kw, sh, sw, ph, pw):
    if not USE_NUMBA:
        return col2im_reference(cols, x_shape, kh, kw, sh, sw, ph, pw)
    N, C, H, W = x_shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    return _col2im_numba(np.ascontiguousarray(cols), N, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo)

"""im2col the classic way round, for images with few channels.

``im2col.py`` builds one *row* per window from a channels-last copy of the input; a
window's pixels are then runs of C contiguous numbers.  With C = 1 (MNIST) or 3 (RGB) those
runs are one to three numbers long, and the copy spends its time on bookkeeping: the
MNIST CNN's first layer took 7 ms to build 7 MB of patches.

Here the patch matrix is the transpose, one *row* per kernel tap (c, i, j) and one column
per output pixel (n, ho, wo), read straight from the (N, C, H, W) input:

    cols[(c, i, j), (n, ho, wo)] = x_padded[n, c, ho*s + i, wo*s + j]

For one tap and one output row, the values are Wo numbers of one input row, every s-th:
long runs, whatever C is.  A convolution is then  w.reshape(O, C*kh*kw) @ cols, whose
(O, pixels) result already holds whole output planes.  Same MNIST layer, whole forward:
12.7 -> 5.8 ms.  With more channels the channels-last rows were as fast or faster (much
faster at batch 128), so conv.py uses this layout only for few channels (``FEW_CHANNELS``).

col2im_nchw is the adjoint: it adds every entry back into the pixel it came from.
"""
import numpy as np

from ..shapes import conv_out_size
from .compile import njit, prange
from .im2col import add_patches_back, build_patches


# -- in NumPy (what the kernels compute; the tests compare them) -------------------------------------------------------------------

def im2col_nchw_reference(x, kh, kw, sh, sw, ph, pw):
    """x (N, C, H, W) -> cols (C*kh*kw, N*Ho*Wo).  One strided slice per tap."""
    N, C, H, W = x.shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((C, kh, kw, N, Ho, Wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            # tap (i, j) of every window: rows i, i+s, ...; columns j, j+s, ...
            cols[:, i, j] = xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw].transpose(1, 0, 2, 3)
    return cols.reshape(C * kh * kw, N * Ho * Wo)


def col2im_nchw_reference(cols, x_shape, kh, kw, sh, sw, ph, pw):
    """cols (C*kh*kw, N*Ho*Wo) -> x (N, C, H, W), adding overlapping contributions."""
    N, C, H, W = x_shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    cols = cols.reshape(C, kh, kw, N, Ho, Wo)
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw] += cols[:, i, j].transpose(1, 0, 2, 3)
    return xp[:, :, ph:ph + H, pw:pw + W]


# -- numba ---------------------------------------------------------------------------------

@njit()
def _valid_columns(j, sw, pw, W, Wo):
    """Output columns wo whose tap j lands inside the row: lo <= wo < hi."""
    lo = min(Wo, max(0, (pw - j + sw - 1) // sw))
    hi = max(lo, min(Wo, (W - 1 + pw - j) // sw + 1))
    return lo, hi


@njit(parallel=True)
def _im2col_nchw_numba(x, kh, kw, sh, sw, ph, pw, Ho, Wo, cols):
    """Writes into ``cols`` (C*kh*kw, N*Ho*Wo), a preallocated buffer."""
    N, C, H, W = x.shape
    for tap in prange(C * kh * kw):  # each thread fills whole rows of cols
        c = tap // (kh * kw)
        i = tap // kw % kh
        j = tap % kw
        lo, hi = _valid_columns(j, sw, pw, W, Wo)
        for n in range(N):
            for ho in range(Ho):
                y = ho * sh + i - ph
                start = (n * Ho + ho) * Wo
                if y < 0 or y >= H:  # the whole output row looks at padding
                    for wo in range(Wo):
                        cols[tap, start + wo] = 0
                    continue
                for wo in range(lo):
                    cols[tap, start + wo] = 0
                # a run of Wo numbers, every sw-th of one input row.  The index is unsigned
                # (it is never negative here): numba then skips its check for negative
                # indices (which count from the end), and the compiler vectorises the copy;
                # 2.5-3x faster for 16 channels.
                row = x[n, c, y]
                first = lo * sw + j - pw
                for k in range(hi - lo):
                    cols[tap, start + lo + k] = row[np.uintp(first + k * sw)]
                for wo in range(hi, Wo):
                    cols[tap, start + wo] = 0
    return cols


@njit(parallel=True)
def _col2im_nchw_numba(cols, N, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo):
    out = np.zeros((N, C, H, W), dtype=cols.dtype)
    for nc in prange(N * C):  # each (image, channel) plane is written by one iteration only
        n = nc // C
        c = nc % C
        for i in range(kh):
            for j in range(kw):
                tap = (c * kh + i) * kw + j
                lo, hi = _valid_columns(j, sw, pw, W, Wo)
                for ho in range(Ho):
                    y = ho * sh + i - ph
                    if 0 <= y < H:
                        row = out[n, c, y]
                        first = lo * sw + j - pw
                        start = (n * Ho + ho) * Wo + lo
                        for k in range(hi - lo):
                            row[np.uintp(first + k * sw)] += cols[tap, start + k]
    return out


# -- dispatch --------------------------------------------------------------------------------

def im2col_nchw(x, kh, kw, sh, sw, ph, pw, out=None):
    """x (N, C, H, W) -> cols (C*kh*kw, N*Ho*Wo), written into ``out`` when given."""
    N, C, H, W = x.shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    return build_patches(_im2col_nchw_numba, x, (C * kh * kw, N * Ho * Wo),
                         (kh, kw, sh, sw, ph, pw), (Ho, Wo), out)


def col2im_nchw(cols, x_shape, kh, kw, sh, sw, ph, pw):
    """cols (C*kh*kw, N*Ho*Wo) -> x (N, C, H, W) with x_shape = (N, C, H, W)."""
    N, C, H, W = x_shape
    Ho, Wo = conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)
    return add_patches_back(_col2im_nchw_numba, cols, x_shape,
                            (kh, kw, sh, sw, ph, pw), (Ho, Wo))

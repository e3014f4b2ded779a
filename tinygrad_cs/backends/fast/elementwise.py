"""Fused elementwise kernels: one pass over memory instead of several NumPy temporaries.

leaky_relu forward/backward, gradient accumulation and per-channel bias additions on both
cores, and the Adam update (which in plain NumPy makes about ten passes over every
parameter array per step).  Arrays these kernels do not handle (mixed dtypes,
broadcasting, strided views) go to the reference backend's NumPy versions.
"""
import numpy as np

from ..reference import conv as reference_conv
from ..reference import elementwise as reference
from . import layout
from .compile import njit, parallel_pays, prange, sized
from .matmul import matmul  # noqa: F401  (part of the backend's interface)


# The elementwise kernels take flat (1-D) arrays: the callers flatten them with reshape(-1),
# a view for contiguous arrays.  (Inside a parallel numba function, ravel() may copy, and
# an in-place update of a copy is lost.)

@njit(parallel=True)
def _leaky_relu_numba(x, alpha):
    out = np.empty_like(x)
    a = x.dtype.type(alpha)
    for i in prange(x.size):
        v = x[i]
        out[i] = v if v > 0 else v * a
    return out


@njit(parallel=True)
def _leaky_relu_backward_numba(g, x, alpha):
    out = np.empty_like(g)
    a = g.dtype.type(alpha)
    for i in prange(g.size):
        out[i] = g[i] if x[i] > 0 else g[i] * a
    return out


def _flat(a):
    return np.ascontiguousarray(a).reshape(-1)


def leaky_relu(x, alpha):
    if np.ndim(alpha) != 0:  # a slope per element: NumPy broadcasts it
        return reference.leaky_relu(x, alpha)
    return sized(_leaky_relu_numba, x.size)(_flat(x), alpha).reshape(x.shape)


def leaky_relu_backward(g, x, alpha):
    if g.shape != x.shape or np.ndim(alpha) != 0:
        return reference.leaky_relu_backward(g, x, alpha)
    kernel = sized(_leaky_relu_backward_numba, g.size)
    return kernel(_flat(g), _flat(x), alpha).reshape(g.shape)


# -- arithmetic on both cores --------------------------------------------------------------
# NumPy's +, - and * run on one core.  For big arrays (style transfer's feature maps hold
# 0.4-0.8 million numbers) a parallel loop is about twice as fast: adding two arrays of
# 772,160 float32 took 0.48 ms in NumPy and 0.24 ms in parallel.  The engine uses it to add
# gradients (``accumulate`` below); the ops themselves write NumPy's + - *.  Small jobs,
# mixed dtypes, broadcasting other than with a single number, and non-contiguous arrays
# stay with NumPy.

BINARY_OPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply}
_CODES = {name: code for code, name in enumerate(BINARY_OPS)}


@njit(parallel=True)
def _binary_numba(a, b, op, out):
    """out = a (op) b for flat arrays: b of a's size, or of size 1 (a single number).
    op: 0 add, 1 sub, 2 mul.  One loop per case, so that each is vectorised."""
    if b.size == 1:
        s = b[0]
        if op == 0:
            for i in prange(a.size):
                out[i] = a[i] + s
        elif op == 1:
            for i in prange(a.size):
                out[i] = a[i] - s
        else:
            for i in prange(a.size):
                out[i] = a[i] * s
    elif op == 0:
        for i in prange(a.size):
            out[i] = a[i] + b[i]
    elif op == 1:
        for i in prange(a.size):
            out[i] = a[i] - b[i]
    else:
        for i in prange(a.size):
            out[i] = a[i] * b[i]
    return out


def _one_number(x):
    """x as a 1-element array if it holds a single number (also a broadcast view of one,
    whose strides are all 0, as a sum's gradient is), else None."""
    if x.size == 1:
        return x.reshape(1)
    if x.size and not any(x.strides):
        return x.reshape(-1)[:1]
    return None


def binary(op, a, b, out=None):
    """a (op) b with NumPy's broadcasting rules; op is "add", "sub" or "mul".  With ``out``
    (an array of the result's shape, which may be ``a`` itself) the result is written there."""
    if parallel_pays(max(a.size, b.size)) and a.dtype == b.dtype \
            and a.dtype.kind == "f":
        if op != "sub" and a.size < b.size:
            a, b = b, a                     # + and * commute: the big array first
        small = b if b.shape == a.shape and b.flags.c_contiguous else _one_number(b)
        if small is not None and a.flags.c_contiguous \
                and np.broadcast_shapes(a.shape, b.shape) == a.shape \
                and (out is None or out.flags.c_contiguous and out.dtype == a.dtype):
            out = np.empty_like(a) if out is None else out
            _binary_numba(a.reshape(-1), small.reshape(-1), _CODES[op], out.reshape(-1))
            return out
    return BINARY_OPS[op](a, b, out=out)


@njit(parallel=True)
def _add_channel_bias_numba(y, b):
    """y (N, C, P) += b[c], one (n, c) plane per iteration."""
    N, C, P = y.shape
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        v = b[c]
        for p in range(P):
            y[n, c, p] += v


def add_channel_bias(y, b):
    """The reference on both cores.  NumPy's broadcast add runs on one; measured with 2
    threads, float32: (128, 64, 14, 14) 0.63 -> 0.17 ms, (128, 32, 24, 24) 1.0 -> 0.24 ms."""
    b = np.ascontiguousarray(b, dtype=y.dtype)  # the bias in the output's dtype, once
    if y.ndim >= 2 and y.flags.c_contiguous:
        planes = y.reshape(y.shape[0], y.shape[1], -1)
        sized(_add_channel_bias_numba, y.size)(planes, b)
        return y
    return reference_conv.add_channel_bias(y, b)


# -- Adam ----------------------------------------------------------------------------------------

@njit(parallel=True)
def _adam_numba(wf, gf, mf, vf, lr, b1, b2, eps, step):
    """Flat views of the parameter, its gradient and the two moments, updated in place."""
    t = wf.dtype.type  # all arithmetic in the parameters' dtype, as the reference does
    step_size = t(lr / (1 - b1 ** step))
    inv_correction2 = t(1 / (1 - b2 ** step))
    b1_, b2_, eps_ = t(b1), t(b2), t(eps)
    c1, c2 = t(1 - b1), t(1 - b2)
    for i in prange(wf.size):
        gi = gf[i]
        mi = b1_ * mf[i] + c1 * gi
        vi = b2_ * vf[i] + c2 * (gi * gi)
        mf[i] = mi
        vf[i] = vi
        wf[i] -= step_size * mi / (np.sqrt(vi * inv_correction2) + eps_)


def adam_update(w, g, m, v, lr, b1, b2, eps, step):
    contiguous = all(a.flags.c_contiguous for a in (w, g, m, v))
    if not contiguous:
        return reference.adam_update(w, g, m, v, lr, b1, b2, eps, step)
    sized(_adam_numba, 4 * w.size)(w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                               float(lr), float(b1), float(b2), float(eps), step)


# -- adding one gradient into another --------------------------------------------------------

def _transposed(x):
    """Is x a transposed view of a contiguous array (its last two axes swapped)?"""
    return x.ndim == 2 and not x.flags.c_contiguous and x.T.flags.c_contiguous


def accumulate(total, value, out=None):
    """total + value on both cores.  A gradient that comes back through a transpose (in
    ``a @ a.T``, say) is a transposed view; adding it to a row-major one reads memory
    across rows, so it is first copied row-major by the layout kernel."""
    if _transposed(value) and total.flags.c_contiguous:
        value = layout.swap_last_axes(value.T)
    elif _transposed(total) and value.flags.c_contiguous and out is None:
        total = layout.swap_last_axes(total.T)
    return binary("add", total, value, out=out)

"""Fused elementwise kernels: one pass over memory instead of several NumPy temporaries.

leaky_relu forward/backward, and the Adam update (which in plain NumPy makes about ten
passes over every parameter array per step).
"""
import numpy as np

from . import USE_NUMBA, njit, prange, sized


def leaky_relu_reference(x, alpha):
    return np.where(x > 0, x, x * np.asarray(alpha, x.dtype))


def leaky_relu_backward_reference(g, x, alpha):
    return g * np.where(x > 0, 1, alpha).astype(g.dtype)


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
    if not USE_NUMBA:
        return leaky_relu_reference(x, alpha)
    return sized(_leaky_relu_numba, x.size)(_flat(x), alpha).reshape(x.shape)


def leaky_relu_backward(g, x, alpha):
    if not USE_NUMBA or g.shape != x.shape:
        return leaky_relu_backward_reference(g, x, alpha)
    kernel = sized(_leaky_relu_backward_numba, g.size)
    return kernel(_flat(g), _flat(x), alpha).reshape(g.shape)


# -- Adam ----------------------------------------------------------------------------------------

def adam_reference(w, g, m, v, lr, b1, b2, eps, step):
    """In place: m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
    w -= lr / (1-b1^t) * m / (sqrt(v / (1-b2^t)) + eps)."""
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * (g * g)
    denom = np.sqrt(v / (1 - b2 ** step)) + eps
    w -= ((lr / (1 - b1 ** step)) * m / denom).astype(w.dtype, copy=False)


@njit(parallel=True, fastmath=True)
def _adam_numba(wf, gf, mf, vf, lr, b1, b2, eps, step):
    """Flat views of the parameter, its gradient and the two moments, updated in place."""
    t = wf.dtype.type  # do the arithmetic in the parameters' dtype (float32 is faster)
    step_size = t(lr / (1 - b1 ** step))
    inv_correction2 = t(1 / (1 - b2 ** step))
    b1_, b2_, eps_ = t(b1), t(b2), t(eps)
    for i in prange(wf.size):
        gi = gf[i]
        mi = b1_ * mf[i] + (1 - b1_) * gi
        vi = b2_ * vf[i] + (1 - b2_) * gi * gi
        mf[i] = mi
        vf[i] = vi
        wf[i] -= step_size * mi / (np.sqrt(vi * inv_correction2) + eps_)


def adam_update(w, g, m, v, lr, b1, b2, eps, step):
    contiguous = all(a.flags.c_contiguous for a in (w, g, m, v))
    if not USE_NUMBA or not contiguous:
        return adam_reference(w, g, m, v, lr, b1, b2, eps, step)
    sized(_adam_numba, w.size)(w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                               float(lr), float(b1), float(b2), float(eps), step)

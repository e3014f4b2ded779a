"""Fused elementwise kernels: one pass over memory instead of several NumPy temporaries.

leaky_relu forward/backward, and the Adam update (which in plain NumPy makes about ten
passes over every parameter array per step).
"""
import numpy as np

from . import USE_NUMBA, njit, prange


def leaky_relu_reference(x, alpha):
    return np.where(x > 0, x, x * np.asarray(alpha, x.dtype))


def leaky_relu_backward_reference(g, x, alpha):
    return g * np.where(x > 0, 1, alpha).astype(g.dtype)


@njit(parallel=True)
def _leaky_relu_numba(x, alpha):
    flat = x.ravel()
    out = np.empty_like(flat)
    a = flat.dtype.type(alpha)
    for i in prange(flat.size):
        v = flat[i]
        out[i] = v if v > 0 else v * a
    return out.reshape(x.shape)


@njit(parallel=True)
def _leaky_relu_backward_numba(g, x, alpha):
    gf, xf = g.ravel(), x.ravel()
    out = np.empty_like(gf)
    a = gf.dtype.type(alpha)
    for i in prange(gf.size):
        out[i] = gf[i] if xf[i] > 0 else gf[i] * a
    return out.reshape(g.shape)


def leaky_relu(x, alpha):
    if not USE_NUMBA:
        return leaky_relu_reference(x, alpha)
    return _leaky_relu_numba(np.ascontiguousarray(x), alpha)


def leaky_relu_backward(g, x, alpha):
    if not USE_NUMBA or g.shape != x.shape:
        return leaky_relu_backward_reference(g, x, alpha)
    return _leaky_relu_backward_numba(np.ascontiguousarray(g), np.ascontiguousarray(x), alpha)


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
def _adam_numba(w, g, m, v, lr, b1, b2, eps, step):
    wf, gf, mf, vf = w.ravel(), g.ravel(), m.ravel(), v.ravel()  # views: w is contiguous
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
    _adam_numba(w, g, m, v, float(lr), float(b1), float(b2), float(eps), step)

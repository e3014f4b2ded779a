"""Batch normalisation in training mode, forward and backward, fused per channel.

x is viewed as (N, C, S) (S = H*W, or 1 for (N, C) input); statistics are per channel c
over the M = N*S values x[:, c, :]:

    mean = sum(x) / M,   var = sum((x - mean)^2) / M,   invstd = 1 / sqrt(var + eps)
    xhat = (x - mean) * invstd,   y = weight * xhat + bias

backward, for upstream g (the classic three-term formula, derived from the chain rule
through mean and var):

    dbias   = sum(g)
    dweight = sum(g * xhat)
    dx      = weight * invstd / M * (M*g - dbias - xhat * dweight)
"""
import numpy as np

from . import USE_NUMBA, njit, prange


# -- reference (NumPy) ---------------------------------------------------------------------

def batchnorm_forward_reference(x, weight, bias, eps):
    """x (N, C, S) -> y (N, C, S), mean (C,), var (C,) (biased), invstd (C,)."""
    mean = x.mean(axis=(0, 2))
    var = x.var(axis=(0, 2))
    invstd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean[:, None]) * invstd[:, None]
    y = xhat * weight[:, None] + bias[:, None]
    return y.astype(x.dtype), mean, var, invstd.astype(x.dtype)


def batchnorm_backward_reference(g, x, weight, mean, invstd):
    """-> dx (N, C, S), dweight (C,), dbias (C,)."""
    M = x.shape[0] * x.shape[2]
    xhat = (x - mean[:, None]) * invstd[:, None]
    dbias = g.sum(axis=(0, 2))
    dweight = (g * xhat).sum(axis=(0, 2))
    dx = (weight * invstd / M)[:, None] * (M * g - dbias[:, None] - xhat * dweight[:, None])
    return dx.astype(x.dtype), dweight.astype(x.dtype), dbias.astype(x.dtype)


# -- numba: one channel per thread ------------------------------------------------------------

@njit(parallel=True)
def _forward_numba(x, weight, bias, eps):
    N, C, S = x.shape
    y = np.empty_like(x)
    mean = np.empty(C, np.float64)
    var = np.empty(C, np.float64)
    invstd = np.empty(C, x.dtype)
    M = N * S
    for c in prange(C):
        s = 0.0
        for n in range(N):
            for k in range(S):
                s += x[n, c, k]
        m = s / M
        ss = 0.0
        for n in range(N):
            for k in range(S):
                d = x[n, c, k] - m
                ss += d * d
        v = ss / M
        inv = 1.0 / np.sqrt(v + eps)
        scale = weight[c] * inv
        shift = bias[c] - m * scale
        for n in range(N):
            for k in range(S):
                y[n, c, k] = x[n, c, k] * scale + shift
        mean[c] = m
        var[c] = v
        invstd[c] = inv
    return y, mean, var, invstd


@njit(parallel=True)
def _backward_numba(g, x, weight, mean, invstd):
    N, C, S = x.shape
    dx = np.empty_like(x)
    dweight = np.empty(C, x.dtype)
    dbias = np.empty(C, x.dtype)
    M = N * S
    for c in prange(C):
        sg = 0.0
        sgx = 0.0
        m = mean[c]
        inv = invstd[c]
        for n in range(N):
            for k in range(S):
                gv = g[n, c, k]
                sg += gv
                sgx += gv * (x[n, c, k] - m) * inv
        a = weight[c] * inv / M
        for n in range(N):
            for k in range(S):
                xhat = (x[n, c, k] - m) * inv
                dx[n, c, k] = a * (M * g[n, c, k] - sg - xhat * sgx)
        dweight[c] = sgx
        dbias[c] = sg
    return dx, dweight, dbias


def batchnorm_forward(x, weight, bias, eps):
    if not USE_NUMBA:
        return batchnorm_forward_reference(x, weight, bias, eps)
    return _forward_numba(np.ascontiguousarray(x), weight, bias, eps)


def batchnorm_backward(g, x, weight, mean, invstd):
    if not USE_NUMBA:
        return batchnorm_backward_reference(g, x, weight, mean, invstd)
    return _backward_numba(np.ascontiguousarray(g), np.ascontiguousarray(x), weight, mean,
                           invstd)

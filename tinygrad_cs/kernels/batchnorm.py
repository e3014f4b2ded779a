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

from . import USE_NUMBA, njit


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


# -- numba: walk x in memory order, with one accumulator per channel ---------------------------
# (a loop per channel would jump through memory with stride C*S for (N, C) input)

@njit()
def _forward_numba(x, weight, bias, eps):
    N, C, S = x.shape
    M = N * S
    mean = np.zeros(C, np.float64)
    for n in range(N):
        for c in range(C):
            for k in range(S):
                mean[c] += x[n, c, k]
    mean /= M
    var = np.zeros(C, np.float64)
    for n in range(N):
        for c in range(C):
            m = mean[c]
            for k in range(S):
                d = x[n, c, k] - m
                var[c] += d * d
    var /= M
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
    scale = (weight * invstd).astype(x.dtype)
    shift = (bias - mean * scale).astype(x.dtype)
    y = np.empty_like(x)
    for n in range(N):
        for c in range(C):
            a = scale[c]
            b = shift[c]
            for k in range(S):
                y[n, c, k] = x[n, c, k] * a + b
    return y, mean, var, invstd


@njit()
def _backward_numba(g, x, weight, mean, invstd):
    N, C, S = x.shape
    M = N * S
    sum_g = np.zeros(C, np.float64)
    sum_gx = np.zeros(C, np.float64)  # sum of g * xhat
    for n in range(N):
        for c in range(C):
            m = mean[c]
            inv = invstd[c]
            for k in range(S):
                gv = g[n, c, k]
                sum_g[c] += gv
                sum_gx[c] += gv * (x[n, c, k] - m) * inv
    dx = np.empty_like(x)
    for n in range(N):
        for c in range(C):
            a = weight[c] * invstd[c] / M
            m = mean[c]
            inv = invstd[c]
            sg = sum_g[c]
            sgx = sum_gx[c]
            for k in range(S):
                xhat = (x[n, c, k] - m) * inv
                dx[n, c, k] = a * (M * g[n, c, k] - sg - xhat * sgx)
    return dx, sum_gx.astype(x.dtype), sum_g.astype(x.dtype)


def batchnorm_forward(x, weight, bias, eps):
    # (N, C) input (S == 1): NumPy's reductions over rows are vectorised across channels and
    # measured faster than the loop kernel, so the reference is the fast path there
    if not USE_NUMBA or x.shape[2] == 1:
        return batchnorm_forward_reference(x, weight, bias, eps)
    return _forward_numba(np.ascontiguousarray(x), weight, bias, eps)


def batchnorm_backward(g, x, weight, mean, invstd):
    if not USE_NUMBA or x.shape[2] == 1:
        return batchnorm_backward_reference(g, x, weight, mean, invstd)
    return _backward_numba(np.ascontiguousarray(g), np.ascontiguousarray(x), weight, mean,
                           invstd)

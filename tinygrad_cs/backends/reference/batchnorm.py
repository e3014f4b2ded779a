"""Batch normalisation in training mode, forward and backward, per channel.

x is viewed as (N, C, S) (S = H*W, or 1 for (N, C) input); statistics are per channel c
over the M = N*S values x[:, c, :]:

    mean = sum(x) / M,   var = sum((x - mean)^2) / M,   invstd = 1 / sqrt(var + eps)
    xhat = (x - mean) * invstd,   y = weight * xhat + bias

backward, for upstream g (the chain rule through mean and var, collected into three terms):

    dbias   = sum(g)
    dweight = sum(g * xhat)
    dx      = weight * invstd / M * (M*g - dbias - xhat * dweight)

Why the middle terms?  Moving one x moves the mean and the variance of its whole channel,
so every other output of the channel changes too: -dbias is the path through the mean,
-xhat * dweight the path through the variance.
"""
import numpy as np


def batchnorm_forward(x, weight, bias, eps):
    """x (N, C, S), weight (C,), bias (C,) -> y (N, C, S), mean (C,), var (C,) (biased),
    invstd (C,)."""
    mean = x.mean(axis=(0, 2))
    var = ((x - mean[:, None]) ** 2).mean(axis=(0, 2))
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    xhat = (x - mean[:, None]) * invstd[:, None]
    y = weight[:, None] * xhat + bias[:, None]
    return y.astype(x.dtype, copy=False), mean, var, invstd


def batchnorm_backward(g, x, weight, mean, invstd):
    """-> dx (N, C, S), dweight (C,), dbias (C,)."""
    M = x.shape[0] * x.shape[2]
    xhat = (x - mean[:, None]) * invstd[:, None]
    dbias = g.sum(axis=(0, 2))
    dweight = (g * xhat).sum(axis=(0, 2))
    dx = (weight * invstd / M)[:, None] * (M * g - dbias[:, None] - xhat * dweight[:, None])
    return (dx.astype(x.dtype, copy=False), dweight.astype(x.dtype, copy=False),
            dbias.astype(x.dtype, copy=False))

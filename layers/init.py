"""Weight initialisers (in place, like ``torch.nn.init``), with PyTorch's formulas.

fan_in of a weight (out, in, *kernel) is in * prod(kernel); fan_out is out * prod(kernel).
All draw from tinygrad_cs's global generator (``tinygrad_cs/random.py``) unless given an
``rng``, so ``manual_seed(s)`` makes model creation reproducible.
"""
import math

import numpy as np

from tinygrad_cs.random import get_rng, manual_seed  # noqa: F401  (init.manual_seed works too)


def fans(shape):
    if len(shape) < 2:
        raise ValueError(f"init: fan in/out need a weight with at least 2 dims, got {shape}.")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fill(t, values):
    t.data[...] = values.astype(t.dtype)
    return t


def uniform_(t, low=0.0, high=1.0, rng=None):
    return _fill(t, get_rng(rng).uniform(low, high, t.shape))


def normal_(t, mean=0.0, std=1.0, rng=None):
    return _fill(t, get_rng(rng).normal(mean, std, t.shape))


def zeros_(t):
    t.data[...] = 0
    return t


def ones_(t):
    t.data[...] = 1
    return t


def xavier_uniform_(t, gain=1.0, rng=None):
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio, 2010)."""
    fan_in, fan_out = fans(t.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, rng)


def kaiming_uniform_(t, a=0.0, mode="fan_in", rng=None):
    """U(-b, b) with b = gain * sqrt(3 / fan), gain = sqrt(2 / (1 + a^2))  (He et al., 2015).

    PyTorch's default for Linear and Conv weights is a = sqrt(5), which gives b = 1/sqrt(fan_in).
    """
    fan_in, fan_out = fans(t.shape)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = math.sqrt(2.0 / (1 + a * a)) * math.sqrt(3.0 / fan)
    return uniform_(t, -bound, bound, rng)


def default_init_(weight, bias, fan_in, rng=None):
    """PyTorch's default for Linear/Conv: kaiming_uniform_(a=sqrt(5)) and bias U(+-1/sqrt(fan_in))."""
    kaiming_uniform_(weight, a=math.sqrt(5), rng=rng)
    if bias is not None:
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound, rng)

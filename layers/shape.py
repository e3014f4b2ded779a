"""Layers that reshape or regularise: Flatten, Unflatten, Dropout."""
import numpy as np

import tinygrad_cs.functional as F
from tinygrad_cs.random import get_rng

from .module import Module


class Flatten(Module):
    """(N, C, H, W) -> (N, C*H*W) (axes start_dim..end_dim merged)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)


class Unflatten(Module):
    """Split axis ``dim`` into ``sizes``: Unflatten(1, (128, 7, 7)) maps (N, 6272) -> (N, 128, 7, 7)."""

    def __init__(self, dim, sizes):
        super().__init__()
        self.dim, self.sizes = dim, tuple(sizes)

    def forward(self, x):
        d = self.dim % x.ndim
        return x.reshape(x.shape[:d] + self.sizes + x.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.sizes}"


class Dropout(Module):
    """Zero each element with probability p in training (scaling the rest by 1/(1-p));
    the identity in eval mode.

    The masks come from ``rng`` if given, else from the global generator, so after
    ``manual_seed(s)`` the same calls drop the same elements.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.number)) \
                or not 0 <= p < 1:
            raise ValueError(f"Dropout: p is the probability of zeroing an element and must "
                             f"lie in [0, 1), got {p!r}.")
        self.p, self.rng = p, rng

    def forward(self, x):
        return F.dropout(x, self.p, self.training, get_rng(self.rng))

    def extra_repr(self):
        return f"p={self.p}"

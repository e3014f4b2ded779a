"""Fully connected layer."""
import numpy as np

from tinygrad_cs import functional as F

from .conv import check_channels
from .init import default_init_, fans
from .module import Module, Parameter


class Linear(Module):
    """y = x @ W^T + b.  x: (N, in_features) -> (N, out_features); W: (out, in), b: (out,)."""

    def __init__(self, in_features, out_features, bias=True, rng=None):
        super().__init__()
        check_channels("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), np.float32))
        self.bias = Parameter(np.empty(out_features, np.float32)) if bias else None
        default_init_(self.weight, self.bias, fans(self.weight.shape)[0], rng)

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: expected input with last dimension {self.in_features}, "
                             f"got shape {x.shape}.")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")

"""Batch normalisation layers (running statistics are buffers, saved in the state dict)."""
import numpy as np

import tinygrad_cs.functional as F
from tinygrad_cs.ops.norm import check_eps_momentum

from .module import Module, Parameter


class _BatchNorm(Module):
    """``momentum=None`` keeps a cumulative average: after k training batches the running
    statistics are the plain mean of the k batch statistics (batch k has weight 1/k)."""
    expected_ndim = 4

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True):
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, (bool, np.bool_)) or not isinstance(num_features, (int, np.integer)) \
                or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive integer, got {num_features!r}.")
        eps, momentum = check_eps_momentum(name, eps, momentum, momentum_may_be_none=True)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features, np.float32)) if affine else None
        self.bias = Parameter(np.zeros(num_features, np.float32)) if affine else None
        self.register_buffer("running_mean", np.zeros(num_features, np.float32))
        self.register_buffer("running_var", np.ones(num_features, np.float32))
        self.register_buffer("num_batches_tracked", np.zeros((), np.int64))

    def forward(self, x):
        if x.ndim != self.expected_ndim or x.shape[1] != self.num_features:
            want = "(N, C)" if self.expected_ndim == 2 else "(N, C, H, W)"
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input "
                             f"{want} with C={self.num_features}, got shape {x.shape}.")
        momentum = self.momentum
        if self.training:
            self.num_batches_tracked += 1
            if momentum is None:  # cumulative average: batch k gets weight 1/k, as PyTorch
                momentum = 1.0 / float(self.num_batches_tracked)
        elif momentum is None:
            momentum = 0.0  # eval mode does not update the running statistics
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=self.training, momentum=momentum, eps=self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Normalise each feature of x (N, C) over the batch."""
    expected_ndim = 2


class BatchNorm2d(_BatchNorm):
    """Normalise each channel of x (N, C, H, W) over the batch and the plane."""
    expected_ndim = 4

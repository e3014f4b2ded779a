"""Convolution layers."""
import numpy as np

import tinygrad_cs.functional as F
from tinygrad_cs.ops.conv import pair

from .init import default_init_
from .module import Module, Parameter


def check_channels(layer, **counts):
    """Channel counts must be positive integers (NumPy integers are fine)."""
    for name, n in counts.items():
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{layer}: {name} must be a positive integer, got {n!r}.")


class Conv2d(Module):
    """x (N, C_in, H, W) -> (N, C_out, Ho, Wo); weight (C_out, C_in, kh, kw), bias (C_out,)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 rng=None):
        super().__init__()
        check_channels("Conv2d", in_channels=in_channels, out_channels=out_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", 1, "Conv2d")
        self.stride = pair(stride, "stride", 1, "Conv2d")
        self.padding = pair(padding, "padding", 0, "Conv2d")
        self.weight = Parameter(np.empty((out_channels, in_channels) + self.kernel_size,
                                         np.float32))
        self.bias = Parameter(np.empty(out_channels, np.float32)) if bias else None
        default_init_(self.weight, self.bias, in_channels * int(np.prod(self.kernel_size)), rng)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


class ConvTranspose2d(Module):
    """x (N, C_in, H, W) -> (N, C_out, Ho, Wo), Ho = (H-1)*stride - 2*padding + k + output_padding;
    weight (C_in, C_out, kh, kw) as in PyTorch."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, bias=True, rng=None):
        super().__init__()
        check_channels("ConvTranspose2d", in_channels=in_channels, out_channels=out_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", 1, "ConvTranspose2d")
        self.stride = pair(stride, "stride", 1, "ConvTranspose2d")
        self.padding = pair(padding, "padding", 0, "ConvTranspose2d")
        self.output_padding = pair(output_padding, "output_padding", 0, "ConvTranspose2d")
        if any(op >= s for op, s in zip(self.output_padding, self.stride)):
            raise ValueError(f"ConvTranspose2d: output_padding {self.output_padding} must be "
                             f"smaller than the stride {self.stride}.")
        self.weight = Parameter(np.empty((in_channels, out_channels) + self.kernel_size,
                                         np.float32))
        self.bias = Parameter(np.empty(out_channels, np.float32)) if bias else None
        # PyTorch computes the fan from weight.shape[1] (= out_channels) here; we follow it
        default_init_(self.weight, self.bias, out_channels * int(np.prod(self.kernel_size)), rng)

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")

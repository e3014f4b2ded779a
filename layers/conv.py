"""Convolution layers."""
import numpy as np

import tinygrad_cs.functional as F
from tinygrad_cs.ops.conv import pair

from .init import default_init_
from .module import Module, Parameter


class Conv2d(Module):
    """x (N, C_in, H, W) -> (N, C_out, Ho, Wo); weight (C_out, C_in, kh, kw), bias (C_out,)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 rng=None):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = pair(kernel_size), pair(stride), pair(padding)
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
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = pair(kernel_size), pair(stride), pair(padding)
        self.output_padding = pair(output_padding)
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

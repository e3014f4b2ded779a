"""Pooling ops.

Max pooling picks one input per window, so its gradient *scatters* g to the winning
positions; the gradient of that scatter is a *gather* from the same positions, and the
gradient of the gather is the scatter again.  Average pooling is linear: its gradient
spreads g/(kh*kw) over each window, and the gradient of that is average pooling again.
"""
import numpy as np

from ..autograd import Function
from ..backends import kernels
from ..backends.shapes import pool_out_size
from ..registry import Case, Input, composite
from .conv import pair
from .checks import require_float


def _check_4d(op, x):
    if x.ndim != 4:
        raise ValueError(f"{op}: expected x of shape (N, C, H, W), got {x.shape}.")


class MaxPool2d(Function):
    """y[n,c,ho,wo] = max of x over window (ho, wo);  dx = g scattered to the argmax."""

    def forward(self, x, kernel=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=False):
        _check_4d("max_pool2d", x)
        (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
        if ph > kh // 2 or pw > kw // 2:
            raise ValueError(f"max_pool2d: padding {padding} must be at most half the kernel "
                             f"{kernel}.")
        Ho = pool_out_size(x.shape[2], kh, sh, ph, ceil_mode, op="max_pool2d")
        Wo = pool_out_size(x.shape[3], kw, sw, pw, ceil_mode, op="max_pool2d")
        out, self.saved_argmax = kernels.maxpool(x, kh, kw, sh, sw, ph, pw, Ho, Wo)
        return out

    def backward(self, g):
        x = self.inputs[0]
        return MaxPoolScatter.apply(g, argmax=self.saved_argmax, hw=x.shape[2:])

    cases = [Case(lambda x: MaxPool2d.apply(x), [Input((2, 2, 4, 4), "distinct")],
                  forward=lambda x: Case.oracle.max_pool2d(x, (2, 2), (2, 2))),
             Case(lambda x: MaxPool2d.apply(x, kernel=(3, 3), stride=(2, 2), ceil_mode=True),
                  [Input((1, 2, 6, 6), "distinct")], description="ceil mode, overlapping",
                  forward=lambda x: Case.oracle.max_pool2d(x, (3, 3), (2, 2), ceil_mode=True)),
             Case(lambda x: MaxPool2d.apply(x, kernel=(3, 2), stride=(1, 2), padding=(1, 1)),
                  [Input((1, 1, 4, 5), "distinct")],
                  forward=lambda x: Case.oracle.max_pool2d(x, (3, 2), (1, 2), (1, 1)))]


class MaxPoolScatter(Function):
    """out (N, C, H, W) = zeros with g[n,c,k] added at position argmax[n,c,k] of plane (n,c).
    Max pooling's gradient.  Its gradient: gather G at the same positions."""

    def forward(self, g, argmax=None, hw=(1, 1)):
        self.saved_argmax = argmax
        return kernels.scatter(g, argmax, *hw)

    def backward(self, G):
        return MaxPoolGather.apply(G, argmax=self.saved_argmax)

    cases = [Case(lambda g: MaxPoolScatter.apply(g, argmax=np.array([[[[0, 3], [3, 5]]]]),
                                                 hw=(2, 3)), [Input((1, 1, 2, 2))],
                  # positions 0, 3, 3, 5 of a 2x3 plane: the two g's aimed at 3 add up
                  forward=lambda g: np.bincount([0, 3, 3, 5], g.ravel(), 6).reshape(1, 1, 2, 3))]


class MaxPoolGather(Function):
    """out[n,c,k] = x[n,c].flat[argmax[n,c,k]].  Its gradient: scatter g back."""

    def forward(self, x, argmax=None):
        self.saved_argmax = argmax
        return kernels.gather(x, argmax)

    def backward(self, g):
        return MaxPoolScatter.apply(g, argmax=self.saved_argmax, hw=self.inputs[0].shape[2:])

    cases = [Case(lambda x: MaxPoolGather.apply(x, argmax=np.array([[[[0, 3], [3, 5]]]])),
                  [Input((1, 1, 2, 3))],
                  forward=lambda x: np.array([[x[0, 0, 0, 0], x[0, 0, 1, 0]],
                                              [x[0, 0, 1, 0], x[0, 0, 1, 2]]])[None, None])]


class AvgPool2d(Function):
    """y = mean of x over each window (padding counts as zeros, as PyTorch's default);
    dx = g / (kh*kw) spread over each window."""

    def forward(self, x, kernel=(2, 2), stride=(2, 2), padding=(0, 0)):
        _check_4d("avg_pool2d", x)
        (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
        self.kernel, self.stride, self.padding = kernel, stride, padding
        Ho = pool_out_size(x.shape[2], kh, sh, ph, op="avg_pool2d")
        Wo = pool_out_size(x.shape[3], kw, sw, pw, op="avg_pool2d")
        return kernels.avgpool(x, kh, kw, sh, sw, ph, pw, Ho, Wo)

    def backward(self, g):
        return AvgPool2dGrad.apply(g, hw=self.inputs[0].shape[2:], kernel=self.kernel,
                                   stride=self.stride, padding=self.padding)

    cases = [Case(lambda x: AvgPool2d.apply(x), [Input((2, 2, 4, 4))],
                  forward=lambda x: Case.oracle.avg_pool2d(x, (2, 2), (2, 2))),
             Case(lambda x: AvgPool2d.apply(x, kernel=(3, 3), stride=(2, 1), padding=(1, 1)),
                  [Input((1, 2, 5, 4))],
                  forward=lambda x: Case.oracle.avg_pool2d(x, (3, 3), (2, 1), (1, 1)))]


class AvgPool2dGrad(Function):
    """The adjoint of AvgPool2d: g (N, C, Ho, Wo) -> (N, C, H, W).  Its gradient is
    AvgPool2d of the upstream gradient."""

    def forward(self, g, hw=(1, 1), kernel=(2, 2), stride=(2, 2), padding=(0, 0)):
        self.kernel, self.stride, self.padding = kernel, stride, padding
        return kernels.avgpool_backward(g, *hw, *kernel, *stride, *padding)

    def backward(self, G):
        return AvgPool2d.apply(G, kernel=self.kernel, stride=self.stride, padding=self.padding)

    cases = [Case(lambda g: AvgPool2dGrad.apply(g, hw=(5, 4), kernel=(3, 3), stride=(2, 1),
                                                padding=(1, 1)), [Input((1, 2, 3, 4))],
                  # the adjoint of averaging: a transposed convolution, per channel, with
                  # every kernel weight 1/9
                  forward=lambda g: Case.oracle.conv_transpose2d(
                      g, np.eye(2)[:, :, None, None] * np.full((3, 3), 1 / 9), stride=(2, 1),
                      padding=(1, 1), out_hw=(5, 4)))]


# -- the functional API ---------------------------------------------------------------------

def pool_args(op, kernel_size, stride, padding):
    """Check and expand pooling arguments: kernel >= 1, stride >= 1 (default: the kernel),
    0 <= padding <= kernel // 2 (as PyTorch: a window must not lie wholly in the padding)."""
    kernel = pair(kernel_size, "kernel_size", 1, op)
    stride = kernel if stride is None else pair(stride, "stride", 1, op)
    padding = pair(padding, "padding", 0, op)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel {kernel}.")
    return kernel, stride, padding


def max_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Max pooling, PyTorch's ``F.max_pool2d``: x (N, C, H, W); stride defaults to the
    kernel size; ``ceil_mode=True`` keeps a last partial window (SqueezeNet uses it)."""
    kernel, stride, padding = pool_args("max_pool2d", kernel_size, stride, padding)
    return MaxPool2d.apply(x, kernel=kernel, stride=stride, padding=padding,
                           ceil_mode=ceil_mode)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Average pooling (count_include_pad=True), PyTorch's ``F.avg_pool2d``."""
    kernel, stride, padding = pool_args("avg_pool2d", kernel_size, stride, padding)
    require_float("avg_pool2d", x)
    return AvgPool2d.apply(x, kernel=kernel, stride=stride, padding=padding)


@composite(cases=[Case(lambda x: adaptive_avg_pool2d(x, 1), [Input((2, 3, 3, 2))],
                       forward=lambda x: x.sum(axis=(2, 3), keepdims=True) / 6)])
def adaptive_avg_pool2d(x, output_size=1):
    """Average over the whole plane: (N, C, H, W) -> (N, C, 1, 1).  Only output_size 1
    (global average pooling, as in SqueezeNet's head) is supported."""
    if pair(output_size, "output_size", 1, "adaptive_avg_pool2d") != (1, 1):
        raise ValueError(f"adaptive_avg_pool2d: only output_size 1 is supported, got "
                         f"{output_size}; use avg_pool2d for other sizes.")
    _check_4d("adaptive_avg_pool2d", x)
    require_float("adaptive_avg_pool2d", x)
    return x.mean(axis=(2, 3), keepdims=True)

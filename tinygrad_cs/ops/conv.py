"""Convolution ops: conv2d, conv_transpose2d and conv2d_weight_grad.

The three are each other's gradients, so every derivative of any order is again one of
them (bias gradients are sums):

    y = conv2d(x, w)                 dx = conv_transpose2d(g, w)     dw = conv2d_weight_grad(x, g)
    y = conv_transpose2d(x, w)       dx = conv2d(g, w)               dw = conv2d_weight_grad(g, x)
    y = conv2d_weight_grad(x, g)     dx = conv_transpose2d(g, G)     dg = conv2d(x, G)

Layout: x (N, C, H, W); conv2d weights (O, C, kh, kw); conv_transpose2d weights
(C_in, C_out, kh, kw) as in PyTorch.  Like PyTorch, "conv" means cross-correlation (the
kernel is not flipped).
"""

import numpy as np

from ..autograd import Function
from ..backends import kernels
from ..backends.shapes import conv_out_size
from ..registry import Case, Input
from .checks import require_float


def pair(v, name="value", minimum=None, op=None):
    """2 -> (2, 2); (1, 2) -> (1, 2).

    Each entry must be a Python or NumPy integer: a float such as 1.7 is refused (TypeError)
    rather than truncated.  With ``minimum``, smaller entries are refused (ValueError).
    ``op`` names the caller in the messages."""
    where = f"{op}: " if op else ""
    items = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(items) != 2:
        raise ValueError(f"{where}{name} must be an int or a pair of ints, got {v!r}.")
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"{where}{name} must be an int or a pair of ints, got {v!r} "
                            f"(a {type(item).__name__}); give whole numbers, e.g. {name}=2.")
    out = int(items[0]), int(items[1])
    if minimum is not None and min(out) < minimum:
        hint = " (PyTorch refuses it too; to crop the input, slice it)" if name == "padding" else ""
        raise ValueError(f"{where}{name} must be at least {minimum}, got {v!r}{hint}.")
    return out


def _float_native(op, *tensors):
    """Refuse integer inputs, and give big-endian ones (e.g. '>f4' read from a file) in
    native byte order, so that x and the weight always have the same dtype, in the forward
    and in every backward op."""
    require_float(op, *tensors)
    return [t if t is None or t.dtype.isnative else t.astype(t.dtype.newbyteorder("="))
            for t in tensors]


def _check_weight(op, weight):
    """A weight with a zero-length axis (0 output channels, an empty kernel) is refused."""
    if weight.ndim == 4 and 0 in weight.shape:
        raise ValueError(f"{op}: the weight has shape {tuple(weight.shape)}, with an empty "
                         "axis; channels and kernel sizes must be at least 1.")


def _check_conv(op, x, w, channels_axis_of_w):
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"{op}: expected x (N, C, H, W) and a 4-D weight, got shapes "
                         f"{x.shape} and {w.shape}. Reshape a single image with x[None].")
    if x.shape[1] != w.shape[channels_axis_of_w]:
        raise ValueError(f"{op}: x has {x.shape[1]} channels (shape {x.shape}) but the weight "
                         f"(shape {w.shape}) expects {w.shape[channels_axis_of_w]} on axis "
                         f"{channels_axis_of_w}.")
    if x.dtype != w.dtype:
        raise TypeError(f"{op}: x is {x.dtype} but the weight is {w.dtype}; convert one "
                        "(e.g. .astype(np.float32)).")


def _add_bias(y, b):
    """y (N, O, H, W) += b (O,) in place: one pass, no extra output array."""
    if b is not None:
        if b.shape != (y.shape[1],):
            raise ValueError(f"conv: bias has shape {b.shape}, expected ({y.shape[1]},) for "
                             f"{y.shape[1]} output channels.")
        kernels.add_channel_bias(y, b)
    return y


def _bias_grad(node, g):
    """(db,) = (sum of g over N, H, W,) when the op has a bias input, else ()."""
    if len(node.inputs) < 3:
        return ()
    if not node.needs_input_grad[2]:
        return (None,)
    return (g.sum(axis=(0, 2, 3)),)


class Conv2d(Function):
    """y = conv2d(x, w): x (N, C, H, W), w (O, C, kh, kw) -> (N, O, Ho, Wo),
    Ho = (H + 2p - kh) // s + 1.   dx = conv_transpose2d(g, w),  dw = conv2d_weight_grad(x, g).
    """

    def forward(self, x, w, b=None, stride=(1, 1), padding=(0, 0)):
        _check_conv("conv2d", x, w, 1)
        self.stride, self.padding = stride, padding
        Ho, Wo = (conv_out_size(n, k, s, p) for n, k, s, p in zip(x.shape[2:], w.shape[2:],
                                                                    stride, padding))
        if Ho <= 0 or Wo <= 0:
            raise ValueError(f"conv2d: a {w.shape[2]}x{w.shape[3]} kernel with padding "
                             f"{padding} does not fit an input of spatial size {x.shape[2:]}.")
        return _add_bias(kernels.conv2d(x, w, stride, padding), b)

    def backward(self, g):
        x, w = self.inputs[:2]
        dx = dw = None
        if self.needs_input_grad[0]:
            dx = ConvTranspose2d.apply(g, w, stride=self.stride, padding=self.padding,
                                       out_hw=x.shape[2:])
        if self.needs_input_grad[1]:
            dw = Conv2dWeightGrad.apply(x, g, kernel_hw=w.shape[2:], stride=self.stride,
                                        padding=self.padding)
        return (dx, dw) + _bias_grad(self, g)

    cases = [Case(lambda x, w: Conv2d.apply(x, w), [Input((2, 2, 5, 5)), Input((3, 2, 3, 3))],
                  forward=Case.oracle.conv2d),
             Case(lambda x, w, b: Conv2d.apply(x, w, b, stride=(1, 2)),
                  [Input((2, 2, 4, 5)), Input((3, 2, 3, 3)), Input((3,))], description="bias",
                  forward=lambda x, w, b: Case.oracle.conv2d(x, w, b, stride=(1, 2))),
             Case(lambda x, w: Conv2d.apply(x, w, stride=(2, 1), padding=(1, 2)),
                  [Input((1, 2, 6, 5)), Input((2, 2, 3, 2))],
                  forward=lambda x, w: Case.oracle.conv2d(x, w, stride=(2, 1), padding=(1, 2))),
             Case(lambda x, w: Conv2d.apply(x, w, stride=(2, 2), padding=(1, 1)),
                  [Input((2, 5, 5, 4)), Input((3, 5, 3, 3))],
                  description="5 channels",
                  forward=lambda x, w: Case.oracle.conv2d(x, w, stride=(2, 2), padding=(1, 1)))]


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w): x (N, C_in, H, W), w (C_in, C_out, kh, kw) ->
    (N, C_out, *out_hw).  ``out_hw`` is one of the sizes a stride-s conv2d maps back to
    (H, W): (H - 1) s - 2p + kh plus up to s - 1 (the functional ``conv_transpose2d``
    computes it from ``output_padding``).
    dx = conv2d(g, w),  dw = conv2d_weight_grad(g, x).
    """

    def forward(self, x, w, b=None, stride=(1, 1), padding=(0, 0), out_hw=None):
        _check_conv("conv_transpose2d", x, w, 0)
        self.stride, self.padding = stride, padding
        return _add_bias(kernels.conv_transpose2d(x, w, stride, padding, out_hw), b)

    def backward(self, g):
        x, w = self.inputs[:2]
        dx = dw = None
        if self.needs_input_grad[0]:
            dx = Conv2d.apply(g, w, stride=self.stride, padding=self.padding)
        if self.needs_input_grad[1]:
            dw = Conv2dWeightGrad.apply(g, x, kernel_hw=w.shape[2:], stride=self.stride,
                                        padding=self.padding)
        return (dx, dw) + _bias_grad(self, g)

    cases = [Case(lambda x, w: ConvTranspose2d.apply(x, w, stride=(2, 2), padding=(1, 1),
                                                     out_hw=(6, 6)),
                  [Input((2, 3, 3, 3)), Input((3, 2, 4, 4))],
                  forward=lambda x, w: Case.oracle.conv_transpose2d(x, w, stride=(2, 2),
                                                                       padding=(1, 1))),
             Case(lambda x, w: ConvTranspose2d.apply(x, w, stride=(2, 1), padding=(0, 1),
                                                     out_hw=(6, 3)),
                  [Input((1, 2, 2, 3)), Input((2, 1, 3, 3))], description="output_padding 1",
                  forward=lambda x, w: Case.oracle.conv_transpose2d(
                      x, w, stride=(2, 1), padding=(0, 1), out_hw=(6, 3))),
             Case(lambda x, w, b: ConvTranspose2d.apply(x, w, b, stride=(2, 2), padding=(1, 1),
                                                        out_hw=(4, 4)),
                  [Input((1, 2, 2, 2)), Input((2, 3, 4, 4)), Input((3,))], description="bias",
                  forward=lambda x, w, b: Case.oracle.conv_transpose2d(x, w, b, stride=(2, 2),
                                                                          padding=(1, 1))),
             Case(lambda x, w: ConvTranspose2d.apply(x, w, stride=(2, 2), padding=(1, 1),
                                                     out_hw=(5, 5)),
                  [Input((2, 3, 3, 3)), Input((3, 5, 3, 3))],
                  description="5 output channels",
                  forward=lambda x, w: Case.oracle.conv_transpose2d(x, w, stride=(2, 2),
                                                                       padding=(1, 1)))]


class Conv2dWeightGrad(Function):
    """dw = conv2d_weight_grad(x, g): the weight gradient of y = conv2d(x, w) for upstream g.
    x (N, C, H, W), g (N, O, Ho, Wo) -> (O, C, kh, kw).  Bilinear in (x, g):
    with upstream G:  dx = conv_transpose2d(g, G),  dg = conv2d(x, G).
    """

    def forward(self, x, g, kernel_hw=(1, 1), stride=(1, 1), padding=(0, 0)):
        self.stride, self.padding = stride, padding
        return kernels.conv2d_weight_grad(x, g, kernel_hw, stride, padding)

    def backward(self, G):
        x, g = self.inputs
        dx = dg = None
        if self.needs_input_grad[0]:
            dx = ConvTranspose2d.apply(g, G, stride=self.stride, padding=self.padding,
                                       out_hw=x.shape[2:])
        if self.needs_input_grad[1]:
            dg = Conv2d.apply(x, G, stride=self.stride, padding=self.padding)
        return dx, dg

    cases = [Case(lambda x, g: Conv2dWeightGrad.apply(x, g, kernel_hw=(3, 3), stride=(2, 2),
                                                      padding=(1, 1)),
                  [Input((2, 2, 5, 5)), Input((2, 3, 3, 3))],
                  forward=lambda x, g: Case.oracle.conv2d_weight_grad(x, g, (3, 3), (2, 2),
                                                                         (1, 1))),
             Case(lambda x, g: Conv2dWeightGrad.apply(x, g, kernel_hw=(2, 2)),
                  [Input((1, 5, 3, 4)), Input((1, 2, 2, 3))],
                  description="5 channels",
                  forward=lambda x, g: Case.oracle.conv2d_weight_grad(x, g, (2, 2)))]


# -- the functional API ---------------------------------------------------------------------

def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D convolution (cross-correlation), PyTorch's ``F.conv2d``.

    x: (N, C, H, W); weight: (O, C, kh, kw); bias: (O,) or None; stride, padding: int or
    pair.  Returns (N, O, Ho, Wo) with Ho = (H + 2*padding - kh) // stride + 1.
    """
    stride = pair(stride, "stride", 1, "conv2d")
    padding = pair(padding, "padding", 0, "conv2d")
    _check_weight("conv2d", weight)
    x, weight, bias = _float_native("conv2d", x, weight, bias)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return Conv2d.apply(*inputs, stride=stride, padding=padding)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Transposed convolution (the gradient of conv2d w.r.t. its input), PyTorch's
    ``F.conv_transpose2d``.

    x: (N, C_in, H, W); weight: (C_in, C_out, kh, kw); returns (N, C_out, Ho, Wo) with
    Ho = (H - 1)*stride - 2*padding + kh + output_padding.  output_padding < stride picks
    among the output sizes that a stride-s conv2d maps to the same H.
    """
    stride = pair(stride, "stride", 1, "conv_transpose2d")
    padding = pair(padding, "padding", 0, "conv_transpose2d")
    output_padding = pair(output_padding, "output_padding", 0, "conv_transpose2d")
    _check_weight("conv_transpose2d", weight)
    x, weight, bias = _float_native("conv_transpose2d", x, weight, bias)
    if any(op >= s for op, s in zip(output_padding, stride)) or min(output_padding) < 0:
        raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be >= 0 and "
                         f"smaller than the stride {stride}.")
    if x.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"conv_transpose2d: expected x (N, C, H, W) and weight (C_in, C_out, "
                         f"kh, kw), got shapes {x.shape} and {weight.shape}.")
    out_hw = tuple((n - 1) * s - 2 * p + k + op for n, s, p, k, op in
                   zip(x.shape[2:], stride, padding, weight.shape[2:], output_padding))
    if min(out_hw) <= 0:
        raise ValueError(f"conv_transpose2d: padding {padding} is too large for input {x.shape}"
                         f" and kernel {weight.shape[2:]}.")
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return ConvTranspose2d.apply(*inputs, stride=stride, padding=padding, out_hw=out_hw)

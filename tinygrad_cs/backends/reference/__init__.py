"""The reference backend: every array routine the ops need, in plain NumPy.

This is the backend to read.  Each function is written to look like the math in its
docstring: shapes, the formula, and a loop over the kernel's offsets where that is
clearer than a trick.  The fast backend (``backends/fast/``) computes the same things with
numba kernels and more machinery; the tests check that the two agree.

The ops reach these functions through ``tinygrad_cs.backends.kernels`` (see
``backends/__init__.py``), never directly, so that the fast backend can stand in for them.
"""
from .batchnorm import batchnorm_backward, batchnorm_forward
from .conv import add_channel_bias, conv2d, conv2d_weight_grad, conv_transpose2d
from .elementwise import accumulate, adam_update, leaky_relu, leaky_relu_backward, matmul
from .pool import avgpool, avgpool_backward, gather, maxpool, scatter

NAME = "reference"

"""The fast backend: the reference backend's functions as numba kernels, on both cores.

This is the performance chapter; read the reference backend (``backends/reference/``)
first.  The pieces, each in its own file:

* ``compile.py``: compiling kernels with numba (``cache=True``), parallel and serial builds;
* ``im2col.py``, ``im2col_nchw.py``, ``conv.py``: convolution in cache-sized chunks;
* ``split.py``: each core takes its own slice of a batch;
* ``matmul.py``: big matrix products split between the cores;
* ``layout.py``: moving axes (NCHW <-> NHWC) on both cores;
* ``pool.py``, ``batchnorm.py``, ``elementwise.py``: fused kernels;
* ``policy.py``: the process-wide settings speed needs, applied when this module is
  first imported, which ``backends/__init__.py`` does on the first op that needs it.

docs/performance.md says what each piece buys, measured.
"""
from . import compile, policy

compile.say_if_first_run()
policy.apply()

from .batchnorm import batchnorm_backward, batchnorm_forward  # noqa: E402
from .conv import conv2d, conv2d_weight_grad, conv_transpose2d  # noqa: E402
from .elementwise import (accumulate, adam_update, add_channel_bias, leaky_relu,  # noqa: E402
                          leaky_relu_backward, matmul)
from .pool import avgpool, avgpool_backward, gather, maxpool, scatter  # noqa: E402

NAME = "fast"

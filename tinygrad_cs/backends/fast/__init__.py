"""The fast backend: the reference backend's functions as numba kernels, on both cores.

This is the performance chapter; read the reference backend (``backends/reference/``)
first.  The pieces, each in its own file:

* ``compile.py``: compiling kernels with numba (``cache=True``), parallel and serial builds;
* ``im2col.py``, ``im2col_nchw.py``, ``conv.py``: convolution in cache-sized chunks;
* ``split.py``: each core takes its own slice of a batch;
* ``matmul.py``: big matrix products split between the cores;
* ``layout.py``: moving axes (NCHW <-> NHWC) on both cores;
* ``pool.py``, ``batchnorm.py``, ``elementwise.py``: fused kernels;
* ``policy.py``: the process-wide settings speed needs, applied on the first kernel call
  (so ``policy.switch_off`` still works after this module is imported).

docs/performance.md says what each piece buys, measured.
"""
import functools

import numpy as np

from .. import reference
from . import batchnorm, compile, conv, elementwise, policy, pool

NAME = "fast"

# The kernels are compiled for native float32 and float64 data (and int64 positions: max
# pooling's argmax).  Anything else (float16, integers, big-endian data, bool, ...) is
# handed to the reference backend, which NumPy handles for every dtype: the same result,
# only slower.
FLOATS = {np.dtype(np.float32), np.dtype(np.float64)}
KERNEL_DTYPES = FLOATS | {np.dtype(np.int64)}


def _kernels_take(args):
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    # (a big-endian dtype is not equal to the native one, so it is not in these sets)
    return (not arrays or arrays[0].dtype in FLOATS) and all(
        a.dtype in KERNEL_DTYPES for a in arrays)


def _or_reference(name, fast):
    """``fast``, or the reference backend's ``name`` for arrays whose dtype the kernels are
    not compiled for."""
    slow = getattr(reference, name)

    @functools.wraps(slow)
    def call(*args, **kwargs):
        if _kernels_take(args) and (not kwargs or _kernels_take(kwargs.values())):
            if not _started:
                _start()
            return fast(*args, **kwargs)
        return slow(*args, **kwargs)
    return call


_started = False


def _start():
    """On the first kernel call: the process-wide settings (policy.py), and a word to the
    user if the kernels still have to be compiled on this machine."""
    global _started
    _started = True
    compile.say_if_first_run()
    policy.apply()


conv2d = _or_reference("conv2d", conv.conv2d)
conv_transpose2d = _or_reference("conv_transpose2d", conv.conv_transpose2d)
conv2d_weight_grad = _or_reference("conv2d_weight_grad", conv.conv2d_weight_grad)
add_channel_bias = _or_reference("add_channel_bias", elementwise.add_channel_bias)
maxpool = _or_reference("maxpool", pool.maxpool)
scatter = _or_reference("scatter", pool.scatter)
gather = _or_reference("gather", pool.gather)
avgpool = _or_reference("avgpool", pool.avgpool)
avgpool_backward = _or_reference("avgpool_backward", pool.avgpool_backward)
batchnorm_forward = _or_reference("batchnorm_forward", batchnorm.batchnorm_forward)
batchnorm_backward = _or_reference("batchnorm_backward", batchnorm.batchnorm_backward)
leaky_relu = _or_reference("leaky_relu", elementwise.leaky_relu)
leaky_relu_backward = _or_reference("leaky_relu_backward", elementwise.leaky_relu_backward)
accumulate = _or_reference("accumulate", elementwise.accumulate)
matmul = _or_reference("matmul", elementwise.matmul)
adam_update = _or_reference("adam_update", elementwise.adam_update)

"""tinygrad_cs: a small, readable reverse-mode autodiff engine on NumPy.

Start reading at ``tensor.py`` (the Tensor), then ``autograd.py`` (how backward works),
then ``ops/`` (forward and backward of each op side by side), then
``backends/reference/`` (the array routines the ops call: convolution, pooling, batch norm).
Importing tinygrad_cs changes nothing outside it: no environment variable, no thread or
memory setting.  The fast backend makes its settings when the first op needs it
(``backends/fast/policy.py``).
"""
from .backends import get_backend, set_backend
from .autograd import Function, enable_grad, grad, is_grad_enabled, no_grad
from .tensor import Tensor
from . import functional
from . import functional as F
from .functional import cat, concatenate, stack, where
from .gradcheck import (GradcheckError, gradcheck, gradcheck_module, gradgradcheck,
                        gradgradcheck_module)
from . import creation, random
from .creation import arange, full, ones, ones_like, rand, randn, zeros, zeros_like
from .functional import argmax, argmin
from .random import default_generator, manual_seed
from .graph import draw_graph

__all__ = [
    "Tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled", "grad",
    "functional", "F", "cat", "concatenate", "stack", "where",
    "gradcheck", "gradgradcheck", "gradcheck_module", "gradgradcheck_module", "GradcheckError",
    "draw_graph",
    "set_backend", "get_backend",
    "manual_seed", "default_generator", "zeros", "ones", "full", "randn", "rand", "arange",
    "zeros_like", "ones_like", "argmax", "argmin",
]
__version__ = "0.1.0"

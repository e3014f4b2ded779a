"""tinygrad_cs: a small, readable reverse-mode autodiff engine on NumPy.

Start reading at ``tensor.py`` (the Tensor), then ``autograd.py`` (how backward works),
then ``ops/`` (forward and backward of each op side by side).
"""
from . import threads  # first: must run before NumPy is imported (see threads.py)
from . import memory  # noqa: F401  (keeps freed memory for reuse, see memory.py)
from .autograd import Function, enable_grad, grad, is_grad_enabled, no_grad
from .tensor import Tensor
from . import functional
from . import functional as F
from .functional import cat, concatenate, stack, where
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import draw_graph

__all__ = [
    "Tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled", "grad",
    "functional", "F", "cat", "concatenate", "stack", "where",
    "gradcheck", "gradgradcheck", "GradcheckError", "draw_graph",
]
__version__ = "0.1.0"

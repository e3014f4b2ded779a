"""Batch normalisation.

Training mode uses batch statistics and is one op (``BatchNormTrain``).  Its backward
has two paths that compute the same thing:

* when nothing is recorded (the usual ``loss.backward()``), the backend's
  ``batchnorm_backward`` on arrays (backends/reference/batchnorm.py has the formula);
* under ``create_graph=True`` (double backward, e.g. a WGAN-GP critic with batchnorm), the
  same formula written with Tensor ops, so that it can be differentiated again.

Eval mode uses the running statistics: an affine map, composed from Tensor ops.
"""
import numpy as np

from ..autograd import Function, is_grad_enabled
from ..backends import kernels
from ..registry import Case, Input, composite
from .checks import real_number, require_float


def check_eps_momentum(op: str, eps, momentum, momentum_may_be_none: bool = False):
    """eps a finite real number > 0; momentum a real number in [0, 1] (or None, where the
    caller supports a cumulative average).  Returns them as floats (momentum maybe None)."""
    eps = real_number(op, "eps", eps, "give a small positive number, e.g. eps=1e-5.")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"{op}: eps must be positive and finite (it keeps 1/sqrt(var + eps) "
                         f"finite), got {eps}; e.g. eps=1e-5.")
    if momentum is None and momentum_may_be_none:
        return eps, None
    none_hint = (" or None (a cumulative average)" if momentum_may_be_none else
                 "; for a cumulative average use the layer with momentum=None")
    momentum = real_number(op, "momentum", momentum,
                           f"give a number in [0, 1], e.g. momentum=0.1{none_hint}.")
    if not 0 <= momentum <= 1:
        raise ValueError(f"{op}: momentum must lie in [0, 1] (the weight of the new batch in "
                         f"the running statistics), got {momentum}; e.g. momentum=0.1.")
    return eps, momentum


def _check_stat(name, r, C, training):
    """running_mean / running_var: a NumPy array (a Tensor too in eval mode) of shape
    (C,); in training mode a writable floating-point array, since it is updated in place."""
    from ..tensor import Tensor
    if not isinstance(r, (np.ndarray, Tensor)) or (training and isinstance(r, Tensor)):
        raise TypeError(f"batch_norm: {name} must be a NumPy array of shape ({C},), got "
                        f"{type(r).__name__}; convert it, e.g. np.asarray({name}, np.float32)"
                        f" (kept in a variable: training mode updates it in place).")
    if training and not np.issubdtype(r.dtype, np.floating):
        raise TypeError(f"batch_norm: {name} must be a floating-point NumPy array (it is "
                        f"updated in place in training mode), got dtype {r.dtype}; convert "
                        f"it, e.g. {name}.astype(np.float32).")
    if training and not r.flags.writeable:
        raise ValueError(f"batch_norm: {name} is a read-only array, but training mode updates "
                         f"it in place; pass a writable copy, e.g. {name}.copy().")


def _as_ncs(shape):
    return (shape[0], shape[1], int(np.prod(shape[2:])) if len(shape) > 2 else 1)


def _channel_view(t, ndim):
    """(C,) -> (1, C, 1, 1) (or (1, C) for 2-D input), to broadcast against x."""
    return t.reshape((1, -1) + (1,) * (ndim - 2))


class BatchNormTrain(Function):
    """y = weight * (x - mean) / sqrt(var + eps) + bias with batch mean and (biased) var
    per channel.  x: (N, C) or (N, C, H, W); weight, bias: (C,).  See backends/reference/batchnorm.py
    for the backward formula."""

    def forward(self, x, weight, bias, eps=1e-5, running_mean=None, running_var=None,
                momentum=0.1):
        self.eps = eps
        y, mean, var, invstd = kernels.batchnorm_forward(x.reshape(_as_ncs(x.shape)), weight, bias, eps)
        self.saved_mean, self.saved_invstd = mean.astype(x.dtype), invstd
        if running_mean is not None:  # update the running statistics in place
            M = x.size // x.shape[1]
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += momentum * var * (M / (M - 1))  # unbiased, as PyTorch
        return y.reshape(x.shape)

    def backward(self, g):
        x, weight, bias = self.inputs
        if is_grad_enabled():
            return self._backward_in_tensor_ops(g)
        ncs = _as_ncs(x.shape)
        dx, dw, db = kernels.batchnorm_backward(g.data.reshape(ncs), x.data.reshape(ncs), weight.data,
                                        self.saved_mean, self.saved_invstd)
        from ..tensor import Tensor
        return Tensor(dx.reshape(x.shape)), Tensor(dw), Tensor(db)

    def _backward_in_tensor_ops(self, g):
        x, weight, _ = self.inputs
        axes = (0,) + tuple(range(2, x.ndim))
        M = x.size // x.shape[1]
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        invstd = ((centred * centred).mean(axis=axes, keepdims=True) + self.eps) ** -0.5
        xhat = centred * invstd
        dbias = g.sum(axis=axes)
        dweight = (g * xhat).sum(axis=axes)
        dx = (_channel_view(weight, x.ndim) * invstd / M) * (
            M * g - _channel_view(dbias, x.ndim) - xhat * _channel_view(dweight, x.ndim))
        return dx, dweight, dbias

    cases = [Case(lambda x, w, b: BatchNormTrain.apply(x, w, b),
                  [Input((4, 3)), Input((3,)), Input((3,))],
                  forward=Case.oracle.batch_norm_train),
             Case(lambda x, w, b: BatchNormTrain.apply(x, w, b),
                  [Input((2, 2, 3, 2)), Input((2,)), Input((2,))],
                  forward=Case.oracle.batch_norm_train)]


@composite(cases=[
    Case(lambda x, w, b: batch_norm(x, np.zeros(3), np.ones(3), w, b, training=True),
         [Input((5, 3)), Input((3,)), Input((3,))], forward=Case.oracle.batch_norm_train),
    Case(lambda x, w, b: batch_norm(x, np.full(2, 0.1), np.full(2, 1.5), w, b, training=False),
         [Input((2, 2, 2, 2)), Input((2,)), Input((2,))], description="eval mode",
         forward=lambda x, w, b: Case.oracle.batch_norm_eval(x, np.full(2, 0.1),
                                                                np.full(2, 1.5), w, b))])
def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """PyTorch's ``F.batch_norm``.  x: (N, C) or (N, C, H, W); running_mean/var: (C,)
    arrays, updated **in place** in training mode:

        running_mean = (1 - momentum) * running_mean + momentum * batch_mean
        running_var  = (1 - momentum) * running_var  + momentum * batch_var * M / (M - 1)

    (the running variance uses the unbiased batch variance, as PyTorch does).
    """
    from ..tensor import Tensor
    if x.ndim not in (2, 4):
        raise ValueError(f"batch_norm: expected x of shape (N, C) or (N, C, H, W), got {x.shape}.")
    require_float("batch_norm", x)
    eps, momentum = check_eps_momentum("batch_norm", eps, momentum)
    C = x.shape[1]
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, (Tensor, np.ndarray)):
            raise TypeError(f"batch_norm: {name} must be a Tensor of shape ({C},) or None, "
                            f"got {type(t).__name__}; convert it, e.g. Tensor(np.asarray("
                            f"{name}, np.float32)).")
    for name, r in (("running_mean", running_mean), ("running_var", running_var)):
        if r is not None:
            _check_stat(name, r, C, training)
    weight = Tensor(np.ones(C, x.dtype)) if weight is None else weight
    bias = Tensor(np.zeros(C, x.dtype)) if bias is None else bias
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (C,):
            raise ValueError(f"batch_norm: {name} has shape {tuple(t.shape)}, expected ({C},)"
                             f" for input of shape {x.shape}.")
    if training:
        M = x.size // C
        if M < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got "
                             f"input of shape {x.shape}; use eval mode for a single sample.")
        return BatchNormTrain.apply(x, weight, bias, eps=eps, running_mean=running_mean,
                                    running_var=running_var, momentum=momentum)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: eval mode needs running_mean and running_var.")
    invstd = (np.asarray(running_var, np.float64) + eps) ** -0.5
    scale = _channel_view(weight, x.ndim) * invstd.astype(x.dtype).reshape(
        (1, C) + (1,) * (x.ndim - 2))
    shift = np.asarray(running_mean, x.dtype).reshape((1, C) + (1,) * (x.ndim - 2))
    return (x - shift) * scale + _channel_view(bias, x.ndim)


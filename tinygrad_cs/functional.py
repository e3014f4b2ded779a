"""The functional API (``import tinygrad_cs.functional as F``).

Ops built from other ops live here: their gradients come for free from the primitives
they use, and each is still registered with gradcheck cases (``@composite``).  Thin
wrappers around primitive ops are here too, so that ``F.relu(x)`` works like in PyTorch.

Every function with an ``axis`` also takes PyTorch's name ``dim`` (and ``keepdim`` for
``keepdims``): ``F.softmax(x, dim=1)`` is ``F.softmax(x, axis=1)``.
"""
import numpy as np

from .ops import elementwise as _ew
from .ops import movement as _mov
from .ops.conv import conv2d, conv_transpose2d  # noqa: F401  (re-exported)
from .ops.matmul import gram, linear, matmul  # noqa: F401
from .ops.norm import batch_norm  # noqa: F401
from .ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d  # noqa: F401
from .ops.checks import check_axis, check_size, is_int, real_number, require_float
from .ops.reduce import dim_args, normalize_axis
from .random import get_rng
from .registry import Case, Input, composite


def _tensor(x):
    from .tensor import Tensor
    return x if isinstance(x, Tensor) else Tensor(x)


# -- activations ------------------------------------------------------------------------

def relu(x):
    return _tensor(x).relu()


def leaky_relu(x, negative_slope=0.01):
    return _tensor(x).leaky_relu(negative_slope)


def sigmoid(x):
    return _tensor(x).sigmoid()


def tanh(x):
    return _tensor(x).tanh()


def softplus(x):
    return _tensor(x).softplus()


@composite(cases=[Case(lambda x: logsigmoid(x), [Input((2, 3))],
                       forward=lambda x: np.log(1 / (1 + np.exp(-x))))])
def logsigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return -(-_tensor(x)).softplus()


@composite(cases=[Case(lambda a, b: minimum(a, b), requires_grad=[True, True],
                       make_inputs=lambda rng: _ew._separated_pair(rng, (2, 3), (3,)),
                       forward=lambda a, b: np.where(a < b, a, b))])
def minimum(a, b):
    """min(a, b) elementwise = -max(-a, -b)."""
    return -_ew.Maximum.apply(-_tensor(a), -_tensor(b))


def where(cond, a, b):
    """``a`` where ``cond`` is true, else ``b`` (broadcasting).  cond: bool array/Tensor."""
    from .tensor import Tensor
    cond = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    if isinstance(a, Tensor):
        b = a._lift(b)      # a Python number takes the tensor's dtype
    else:
        a = _tensor(b)._lift(a)
        b = _tensor(b)
    return _ew.Where.apply(cond.astype(bool), a, b)


# -- reductions built from sum and max -------------------------------------------------------

def _count(x, axis, op="mean") -> int:
    return int(np.prod([x.shape[a] for a in normalize_axis(op, axis, x.ndim)]))


@composite(cases=[Case(lambda x: mean(x), [Input((2, 3))], forward=np.mean),
                  Case(lambda x: mean(x, (0, 2), True), [Input((2, 3, 2))],
                       forward=lambda x: np.mean(x, axis=(0, 2), keepdims=True))])
def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """sum(x) / n over ``axis`` (all axes if None)."""
    axis, keepdims = dim_args("mean", axis, dim, keepdims, keepdim)
    require_float("mean", x)
    n = _count(x, axis)  # checks axis first, so that errors say mean, not sum
    return x.sum(axis, keepdims) / n


@composite(cases=[Case(lambda x: amin(x, 1), [Input((2, 3), "distinct")],
                       forward=lambda x: np.sort(x, axis=1)[:, 0])])
def amin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """min over ``axis`` = -max(-x)."""
    axis, keepdims = dim_args("min", axis, dim, keepdims, keepdim)
    normalize_axis("min", axis, x.ndim)  # checked here, so that errors say min, not max
    if x.size == 0:
        raise ValueError(f"min: cannot reduce an empty tensor of shape {x.shape}.")
    return -(-x).max(axis, keepdims)


@composite(cases=[Case(lambda x: var(x), [Input((5,))], forward=lambda x: np.var(x, ddof=1)),
                  Case(lambda x: var(x, axis=0, keepdims=True, correction=0), [Input((4, 2))],
                       forward=lambda x: np.var(x, axis=0, keepdims=True))])
def var(x, axis=None, keepdims=False, correction=1, *, dim=None, keepdim=None):
    """sum((x - mean)^2) / (n - correction).  correction=1 (PyTorch's default) is the
    unbiased estimate; correction=0 is NumPy's default."""
    axis, keepdims = dim_args("var", axis, dim, keepdims, keepdim)
    require_float("var", x)
    n = _count(x, axis, "var")
    if n - correction <= 0:
        raise ValueError(f"var: {n} element(s) along axis {axis} are too few for "
                         f"correction={correction}.")
    centred = x - mean(x, axis, keepdims=True)
    return (centred * centred).sum(axis, keepdims) / (n - correction)


@composite(cases=[Case(lambda x: std(x), [Input((5,))], forward=lambda x: np.std(x, ddof=1)),
                  Case(lambda x: std(x, dim=1, keepdim=True), [Input((2, 4))],
                       forward=lambda x: np.std(x, axis=1, ddof=1, keepdims=True))])
def std(x, axis=None, keepdims=False, correction=1, *, dim=None, keepdim=None):
    """sqrt(var(x)): the standard deviation over ``axis`` (see ``var`` for correction)."""
    axis, keepdims = dim_args("std", axis, dim, keepdims, keepdim)
    require_float("std", x)
    return var(x, axis, keepdims, correction).sqrt()


@composite(cases=[Case(lambda x: norm(x), [Input((2, 3))], forward=np.linalg.norm),
                  Case(lambda x: norm(x, axis=1), [Input((2, 3))],
                       forward=lambda x: np.linalg.norm(x, axis=1))])
def norm(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Euclidean norm sqrt(sum x^2) over ``axis`` (not differentiable at x = 0)."""
    axis, keepdims = dim_args("norm", axis, dim, keepdims, keepdim)
    require_float("norm", x)
    return (x * x).sum(axis, keepdims).sqrt()


@composite(cases=[Case(lambda x: logsumexp(x, 1), [Input((2, 4))],
                       forward=lambda x: np.log(np.exp(x).sum(axis=1))),
                  Case(lambda x: logsumexp(x * 50, -1), [Input((3,))], description="large",
                       forward=lambda x: np.log(np.exp(50 * x).sum()))])
def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """log(sum(exp(x))) along ``axis`` (default -1), shifted by the (constant) max so that
    exp never overflows."""
    axis, keepdims = dim_args("logsumexp", axis, dim, keepdims, keepdim, default=-1)
    require_float("logsumexp", x)
    axes = normalize_axis("logsumexp", axis, x.ndim)  # () for a 0-d tensor
    m = x.data.max(axis=axes, keepdims=True)
    out = (x - m).exp().sum(axis, keepdims=True).log() + m
    return out if keepdims else squeeze(out, axis)


@composite(cases=[Case(lambda x: log_softmax(x), [Input((2, 4))],
                       forward=lambda x: np.log(np.exp(x) / np.exp(x).sum(1, keepdims=True))),
                  Case(lambda x: log_softmax(x, 0), [Input((3, 2))],
                       forward=lambda x: np.log(np.exp(x) / np.exp(x).sum(0)))])
def log_softmax(x, axis=None, *, dim=None):
    """x - logsumexp(x): log-probabilities along ``axis`` (default -1)."""
    axis, _ = dim_args("log_softmax", axis, dim, default=-1)
    require_float("log_softmax", x)
    check_axis("log_softmax", axis, x.ndim)
    return x - logsumexp(x, axis, keepdims=True)


@composite(cases=[Case(lambda x: softmax(x), [Input((2, 4))],
                       forward=lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True))])
def softmax(x, axis=None, *, dim=None):
    """exp(x) / sum(exp(x)) along ``axis`` (default -1): x (N, C) -> probabilities (N, C)
    whose rows sum to 1 for ``dim=1``."""
    axis, _ = dim_args("softmax", axis, dim, default=-1)
    require_float("softmax", x)
    check_axis("softmax", axis, x.ndim)
    return log_softmax(x, axis).exp()


# -- shape helpers built from reshape, getitem and concatenate --------------------------------

@composite(cases=[Case(lambda x: flatten(x, 1), [Input((2, 2, 3))],
                       forward=lambda x: np.hstack([x[:, 0], x[:, 1]]))])
def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) for start_dim=1."""
    if x.ndim == 0:
        return x.reshape(1)
    start = check_axis("flatten", start_dim, x.ndim, "start_dim")
    end = check_axis("flatten", end_dim, x.ndim, "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                         f"tensor of shape {x.shape}; start_dim must not be after end_dim.")
    merged = int(np.prod(x.shape[start:end + 1]))
    return x.reshape(x.shape[:start] + (merged,) + x.shape[end + 1:])


@composite(cases=[Case(lambda x: squeeze(x), [Input((2, 1, 3, 1))],
                       forward=lambda x: x[:, 0, :, 0]),
                  Case(lambda x: squeeze(x, 1), [Input((2, 1, 3, 1))],
                       forward=lambda x: x[:, 0])])
def squeeze(x, axis=None, *, dim=None):
    """Remove size-1 axes (all of them, or those in ``axis``; a named axis of another
    size is kept, as in PyTorch: ``x.squeeze(0)`` of shape (3, 1) stays (3, 1))."""
    axis, _ = dim_args("squeeze", axis, dim)
    if axis is None:
        axes = [i for i, n in enumerate(x.shape) if n == 1]
    else:
        # as in PyTorch, a named axis whose size is not 1 is left as it is
        axes = [a for a in normalize_axis("squeeze", axis, x.ndim) if x.shape[a] == 1]
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


@composite(cases=[Case(lambda x: unsqueeze(x, 0), [Input((2, 3))], forward=lambda x: x[None]),
                  Case(lambda x: unsqueeze(x, -1), [Input((2, 3))],
                       forward=lambda x: x[:, :, None])])
def unsqueeze(x, axis=None, *, dim=None):
    """Insert a size-1 axis at ``axis`` (negative counts from the end of the result)."""
    axis, _ = dim_args("unsqueeze", axis, dim)
    if axis is None:
        raise TypeError("unsqueeze: say where the new axis goes, e.g. unsqueeze(x, 0) "
                        "or unsqueeze(x, dim=0).")
    axis = check_axis("unsqueeze", axis, x.ndim + 1)  # the result has ndim + 1 axes
    return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


def concatenate(tensors, axis=None, *, dim=None):
    """Join tensors along an existing axis (default 0), like ``torch.cat``."""
    axis, _ = dim_args("cat", axis, dim, default=0)
    return _mov.Concatenate.apply(*[_tensor(t) for t in tensors], axis=axis)


cat = concatenate


@composite(cases=[Case(lambda a, b: stack([a, b], 1), [Input((2, 3)), Input((2, 3))],
                       forward=lambda a, b: np.stack([a, b], axis=1))])
def stack(tensors, axis=None, *, dim=None):
    """Join tensors of equal shape along a new axis (default 0)."""
    axis, _ = dim_args("stack", axis, dim, default=0)
    tensors = [_tensor(t) for t in tensors]
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}.")
    return concatenate([unsqueeze(t, axis) for t in tensors], axis)


@composite(cases=[Case(lambda x: stack(split(x, 2, 1), 0), [Input((2, 4))],
                       forward=lambda x: np.array([x[:, :2], x[:, 2:]])),
                  Case(lambda x: concatenate(split(x, [1, 2], 0)[::-1], 0), [Input((3, 2))],
                       forward=lambda x: x[[1, 2, 0]])])
def split(x, split_size_or_sections, axis=None, *, dim=None):
    """Cut ``x`` along ``axis`` (default 0) into pieces of the given size (int) or sizes
    (list)."""
    axis, _ = dim_args("split", axis, dim, default=0)
    if x.ndim == 0:
        raise ValueError("split: a 0-d tensor has no axis to split; reshape it first, "
                         "e.g. x.reshape(1).")
    axis = check_axis("split", axis, x.ndim)
    n = x.shape[axis]
    if is_int(split_size_or_sections):
        check_size("split", split_size_or_sections, "split_size", minimum=1)
        sizes = [split_size_or_sections] * (n // split_size_or_sections)
        if n % split_size_or_sections:
            sizes.append(n % split_size_or_sections)
    else:
        sizes = list(split_size_or_sections)
        for size in sizes:
            check_size("split", size, f"each size in {sizes}", minimum=0)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, but axis {axis} "
                             f"of shape {x.shape} has {n} elements.")
    lead = (slice(None),) * (axis % x.ndim)
    bounds = np.cumsum([0] + sizes)
    return [x[lead + (slice(int(a), int(b)),)] for a, b in zip(bounds[:-1], bounds[1:])]


def argmax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the largest value along ``axis`` (of the flattened tensor if None).

    Returns an int64 Tensor that records nothing: an index has no gradient.  Ties give
    the first index, as in NumPy.
    """
    return _arg_reduce("argmax", np.argmax, x, axis, keepdims, dim, keepdim)


def argmin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the smallest value along ``axis``; see ``argmax``."""
    return _arg_reduce("argmin", np.argmin, x, axis, keepdims, dim, keepdim)


def _arg_reduce(op, np_fn, x, axis, keepdims, dim, keepdim):
    from .tensor import Tensor
    x = _tensor(x)
    axis, keepdims = dim_args(op, axis, dim, keepdims, keepdim)
    if x.size == 0:
        raise ValueError(f"{op}: the tensor of shape {x.shape} is empty; there is no "
                         "index to return.")
    if axis is not None:
        if not np.isscalar(axis):
            raise TypeError(f"{op}: axis must be one int (or None), got {axis!r}.")
        axes = normalize_axis(op, axis, x.ndim)
        axis = axes[0] if axes else None  # a 0-d tensor: its one element, index 0
    out = np_fn(x.data, axis=axis, keepdims=keepdims)
    return Tensor(np.asarray(out, dtype=np.int64))


def pad(x, pad_width, value=0.0):
    """Constant padding, ``pad_width`` as in ``np.pad``: ((before, after), ...) per axis."""
    return _tensor(x).pad(pad_width, value)


# -- losses --------------------------------------------------------------------------------

@composite(cases=[Case(lambda x, t: binary_cross_entropy_with_logits(x, t),
                       [Input((4, 1)), Input((4, 1), "unit", requires_grad=False)],
                       # the textbook form: -[t log s + (1 - t) log(1 - s)], s = sigmoid(x)
                       forward=lambda x, t: np.mean(-t * np.log(1 / (1 + np.exp(-x)))
                                                    - (1 - t) * np.log(1 / (1 + np.exp(x)))))])
def binary_cross_entropy_with_logits(logits, targets, reduction="mean"):
    """Mean of  -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))]  =  softplus(x) - t x.

    The right-hand form never takes log(0) or exp(large), so it is exact for |x| in the
    hundreds where the textbook form gives inf or nan.
    """
    logits, targets = _tensor(logits), _tensor(targets)
    if logits.shape != targets.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: logits shape {logits.shape} and "
                         f"targets shape {targets.shape} must match.")
    loss = logits.softplus() - targets * logits
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


@composite(cases=[Case(lambda a, b: mse_loss(a, b), [Input((3, 2)), Input((3, 2))],
                       forward=lambda a, b: np.mean((a - b) ** 2))])
def mse_loss(input, target, reduction="mean"):
    """Mean of (input - target)^2."""
    input, target = _tensor(input), _tensor(target)
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} and target shape "
                         f"{target.shape} must match.")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


@composite(cases=[Case(lambda x: cross_entropy(x, np.array([2, 0, 2])), [Input((3, 4))],
                       forward=lambda x: -np.mean(np.log(np.exp(x[[0, 1, 2], [2, 0, 2]])
                                                         / np.exp(x).sum(axis=1))))])
def cross_entropy(logits, targets, reduction="mean"):
    """-log softmax(logits)[target]:  logits (N, C) float, targets (N,) integer class ids."""
    from .tensor import Tensor
    logits = _tensor(logits)
    t = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if logits.ndim != 2 or t.shape != (logits.shape[0],) or t.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy: expected logits (N, C) and integer targets (N,), "
                         f"got logits {logits.shape} and targets {t.shape} of dtype {t.dtype}.")
    if t.size and (t.min() < 0 or t.max() >= logits.shape[1]):
        raise ValueError(f"cross_entropy: targets must lie in [0, {logits.shape[1] - 1}], "
                         f"got values in [{t.min()}, {t.max()}].")
    picked = log_softmax(logits, axis=1)[np.arange(len(t)), t]
    return _reduce(-picked, reduction, "cross_entropy")


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}.")


@composite(cases=[Case(lambda x: dropout(x, 0.5, True, np.random.default_rng(3)),
                       [Input((3, 4))],
                       forward=lambda x: np.where(np.random.default_rng(3).random((3, 4)) < 0.5,
                                                  0.0, 2 * x))])
def dropout(x, p=0.5, training=True, rng=None):
    """Zero each element with probability p and scale the survivors by 1/(1-p), so the
    expected value is unchanged; the identity when not training.  The mask is drawn from
    ``rng``, or from the global generator (``manual_seed``) when it is None."""
    p = real_number("dropout", "p", p, "give the drop probability as a number in [0, 1), "
                    "e.g. p=0.5.")
    if not 0 <= p < 1:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}.")
    if not training or p == 0:
        return x
    rng = get_rng(rng)
    keep = (rng.random(x.shape) >= p).astype(x.dtype) / np.asarray(1 - p, x.dtype)
    return x * keep

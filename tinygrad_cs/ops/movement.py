"""Movement ops: they rearrange elements without arithmetic.  Each backward is the inverse
rearrangement (reshape back, permute back, sum over broadcast axes, scatter, slice).
"""
import numpy as np

from ..autograd import Function
from ..registry import Case, Input
from .reduce import unbroadcast


class Reshape(Function):
    """out = x viewed with a new shape (one entry may be -1);  dx = g reshaped back."""

    def forward(self, x, shape=()):
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                             f"({x.size} elements) into shape {tuple(shape)}.") from None

    def backward(self, g):
        return g.reshape(self.inputs[0].shape)

    cases = [Case(lambda x: x.reshape(3, 2), [Input((2, 3))],
                  forward=lambda x: np.array([x[0, :2], [x[0, 2], x[1, 0]], x[1, 1:]])),
             Case(lambda x: x.reshape(-1), [Input((2, 2, 2))], forward=np.ravel)]


class Permute(Function):
    """out = x with its axes reordered;  dx = g with the inverse order."""

    def forward(self, x, axes=()):
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"permute: axes {tuple(axes)} are not a permutation of the "
                             f"{x.ndim} axes of a tensor of shape {x.shape}.")
        self.axes = tuple(a % max(x.ndim, 1) for a in axes)
        return np.transpose(x, self.axes)

    def backward(self, g):
        return g.permute(*np.argsort(self.axes))

    cases = [Case(lambda x: x.permute(2, 0, 1), [Input((2, 3, 2))],
                  forward=lambda x: np.einsum("abc->cab", x)),
             Case(lambda x: x.T, [Input((2, 3))], forward=lambda x: np.einsum("ij->ji", x))]


class Expand(Function):
    """out = x broadcast to ``shape`` (no copy);  dx = g summed over the broadcast axes."""

    def forward(self, x, shape=()):
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"expand: a tensor of shape {x.shape} cannot be broadcast to "
                             f"{tuple(shape)}; only size-1 axes (or new leading axes) can "
                             "grow.") from None

    def backward(self, g):
        return unbroadcast(g, self.inputs[0].shape)

    cases = [Case(lambda x: x.expand(2, 3, 4), [Input((3, 1))],
                  forward=lambda x: np.tile(x, (2, 1, 4)))]


# -- indexing ---------------------------------------------------------------------------

def normalize_index(index):
    """Turn Tensors inside an index into arrays and lists into integer arrays."""
    from ..tensor import Tensor

    def fix(i):
        if isinstance(i, Tensor):
            i = i.data
        if isinstance(i, list):
            # an empty list selects nothing; np.asarray([]) would be float64, not an index
            i = np.asarray(i) if i else np.zeros(0, np.intp)
        if isinstance(i, np.ndarray) and i.dtype.kind not in "iub":
            raise TypeError(f"getitem: index arrays must be integer or boolean, got dtype "
                            f"{i.dtype}.")
        return i
    return tuple(fix(i) for i in index) if isinstance(index, tuple) else fix(index)


def _uses_arrays(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) for i in parts)


class GetItem(Function):
    """out = x[index] (slices, ints, None, ..., integer or boolean arrays);
    dx = zeros like x with g scattered (added) at ``index``.
    """

    def forward(self, x, index=()):
        self.index = index
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(f"getitem: index {index!r} does not fit shape {x.shape}: {e}") from None

    def backward(self, g):
        return IndexAdd.apply(g, index=self.index, shape=self.inputs[0].shape)

    cases = [Case(lambda x: x[1:, ::2], [Input((3, 4))],
                  forward=lambda x: np.array([[x[1, 0], x[1, 2]], [x[2, 0], x[2, 2]]])),
             Case(lambda x: x[:, 1], [Input((3, 4))], forward=lambda x: x.T[1]),
             Case(lambda x: x[np.array([0, 2, 0]), np.array([1, 1, 3])], [Input((3, 4))],
                  description="integer arrays with a repeated element",
                  forward=lambda x: np.array([x[0, 1], x[2, 1], x[0, 3]])),
             Case(lambda x: x[None, ..., np.array([2, 0])], [Input((2, 3))],
                  forward=lambda x: np.stack([x[:, 2], x[:, 0]], axis=1)[None])]


class IndexAdd(Function):
    """out = zeros(shape) with g added at ``index`` (repeated positions accumulate).

    This is GetItem's backward; its own backward is GetItem again, so indexing can be
    differentiated any number of times.
    """

    def forward(self, g, index=(), shape=()):
        self.index = index
        out = np.zeros(shape, dtype=g.dtype)
        if _uses_arrays(index):
            np.add.at(out, index, g)  # integer arrays may repeat a position: accumulate
        else:
            out[index] += g           # basic indexing never repeats: a fast view
        return out

    def backward(self, g):
        return GetItem.apply(g, index=self.index)

    cases = [Case(lambda g: IndexAdd.apply(g, index=(np.array([0, 2, 0]),), shape=(3, 2)),
                  [Input((3, 2))],
                  forward=lambda g: np.stack([g[0] + g[2], np.zeros(2), g[1]])),
             Case(lambda g: IndexAdd.apply(g, index=(slice(1, 3),), shape=(4, 2)),
                  [Input((2, 2))],
                  forward=lambda g: np.concatenate([np.zeros((1, 2)), g, np.zeros((1, 2))]))]


# -- padding and joining ------------------------------------------------------------------

def normalize_pad(pad_width, ndim: int) -> tuple:
    """NumPy's pad_width convention: int, (before, after), or one pair per axis."""
    arr = np.asarray(pad_width)
    if arr.dtype.kind not in "iu":  # 1.5 would be truncated to 1 by dtype=int: refuse it
        raise TypeError(f"pad: pad widths must be integers, got {pad_width!r}; give an int, "
                        "a pair (before, after) or one pair per axis.")
    try:
        arr = np.broadcast_to(arr, (ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor with {ndim} "
                         "dimension(s); give an int, a pair (before, after) or one pair per "
                         "axis.") from None
    if (arr < 0).any():
        raise ValueError(f"pad: pad widths must be >= 0, got {pad_width}.")
    return tuple(map(tuple, arr.tolist()))


class Pad(Function):
    """out = x surrounded by ``value`` (pad_width as in np.pad);  dx = the centre of g."""

    def forward(self, x, pad_width=(), value=0.0):
        self.pad_width = pad_width
        return np.pad(x, pad_width, mode="constant", constant_values=value)

    def backward(self, g):
        index = tuple(slice(before, g.shape[i] - after)
                      for i, (before, after) in enumerate(self.pad_width))
        return g[index]

    cases = [Case(lambda x: x.pad(((0, 1), (2, 1))), [Input((2, 3))],
                  forward=lambda x: np.block([[np.zeros((2, 2)), x, np.zeros((2, 1))],
                                              [np.zeros((1, 6))]])),
             Case(lambda x: x.pad(1, value=0.5), [Input((2, 2))],
                  forward=lambda x: np.pad(x, 1, constant_values=0.5))]


class Concatenate(Function):
    """out = inputs joined along ``axis``;  each input gets its slice of g."""

    def forward(self, *arrays, axis=0):
        shapes = [a.shape for a in arrays]
        if not arrays:
            raise ValueError("concatenate: needs at least one tensor.")
        ndim = arrays[0].ndim
        if any(a.ndim != ndim for a in arrays) or not -ndim <= axis < ndim:
            raise ValueError(f"concatenate: tensors of shapes {shapes} cannot be joined along "
                             f"axis {axis}: they need the same number of dimensions.")
        self.axis = axis % ndim
        try:
            return np.concatenate(arrays, axis=self.axis)
        except ValueError:
            raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}; all "
                             "other dimensions must match.") from None

    def backward(self, g):
        grads, start = [], 0
        for t, need in zip(self.inputs, self.needs_input_grad):
            stop = start + t.shape[self.axis]
            index = (slice(None),) * self.axis + (slice(start, stop),)
            grads.append(g[index] if need else None)
            start = stop
        return tuple(grads)

    cases = [Case(lambda a, b: Concatenate.apply(a, b, axis=1), [Input((2, 1)), Input((2, 3))],
                  forward=lambda a, b: np.hstack([a, b])),
             Case(lambda a, b, c: Concatenate.apply(a, b, c, axis=-1),
                  [Input((2,)), Input((1,)), Input((3,))],
                  forward=lambda a, b, c: np.array([*a, *b, *c]))]

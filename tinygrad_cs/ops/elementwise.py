"""Elementwise ops.  Binary ops broadcast like NumPy; their backward sums the gradient back
to each input's shape with ``unbroadcast``.

Notation in the docstrings: ``g`` is the gradient flowing in from the output.
"""
import math

import numpy as np

from ..autograd import Function
from ..backends import kernels
from ..registry import Case, Input
from .checks import real_number, require_float
from .reduce import unbroadcast


def check_broadcast(op: str, *shapes) -> tuple:
    """The broadcast shape of ``shapes``, or a ValueError naming the op and the shapes."""
    largest = max(shapes, key=len)
    if all(s == largest or s == () for s in shapes):  # the common cases, checked quickly
        return largest
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {' and '.join(map(str, shapes))} cannot be broadcast together. "
            "Trailing dimensions must be equal or 1; reshape or unsqueeze one operand."
        ) from None


def _pair(shape_a, shape_b, domain_b="real"):
    return [Input(shape_a), Input(shape_b, domain_b)]


# -- binary arithmetic ----------------------------------------------------------------

class Add(Function):
    """out = a + b;  da = g,  db = g (each summed back to its shape)."""

    def forward(self, a, b):
        check_broadcast("add", a.shape, b.shape)
        return a + b

    def backward(self, g):
        a, b = self.inputs
        need = self.needs_input_grad  # a broadcast constant (no grad) needs no summing back
        return (unbroadcast(g, a.shape) if need[0] else None,
                unbroadcast(g, b.shape) if need[1] else None)

    cases = [Case(lambda a, b: a + b, _pair((2, 3), (3,)), forward=np.add),
             Case(lambda a, b: a + b, _pair((2, 1, 3), (4, 1)), forward=np.add),
             Case(lambda a, b: a + b, [Input((2, 3)), Input((3,), requires_grad=False)],
                  description="a broadcast constant", forward=np.add)]


class Sub(Function):
    """out = a - b;  da = g,  db = -g."""

    def forward(self, a, b):
        check_broadcast("sub", a.shape, b.shape)
        return a - b

    def backward(self, g):
        a, b = self.inputs
        db = unbroadcast(-g, b.shape) if self.needs_input_grad[1] else None  # (a target: none)
        return unbroadcast(g, a.shape), db

    cases = [Case(lambda a, b: a - b, _pair((2, 3), (2, 1)), forward=np.subtract),
             Case(lambda a, b: 1.5 - a - b, _pair((3,), (2, 3)),
                  forward=lambda a, b: 1.5 - a - b),
             Case(lambda a, b: a - b, [Input((2, 3)), Input((2, 3), requires_grad=False)],
                  description="a constant target", forward=np.subtract)]


class Mul(Function):
    """out = a * b;  da = g * b,  db = g * a."""

    def forward(self, a, b):
        check_broadcast("mul", a.shape, b.shape)
        return a * b

    def backward(self, g):
        a, b = self.inputs
        da = unbroadcast(g * b, a.shape) if self.needs_input_grad[0] else None
        db = unbroadcast(g * a, b.shape) if self.needs_input_grad[1] else None
        return da, db

    cases = [Case(lambda a, b: a * b, _pair((2, 3), (3,)), forward=np.multiply),
             Case(lambda a: a * a * 0.5, [Input((4,))], forward=lambda a: 0.5 * a ** 2),
             Case(lambda a, b: a * b, [Input((2, 2)), Input((2, 2), requires_grad=False)],
                  forward=np.multiply)]


class Div(Function):
    """out = a / b;  da = g / b,  db = -g * a / b^2."""

    def forward(self, a, b):
        check_broadcast("div", a.shape, b.shape)
        return a / b

    def backward(self, g):
        a, b = self.inputs
        da = unbroadcast(g / b, a.shape) if self.needs_input_grad[0] else None
        db = unbroadcast(-g * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return da, db

    cases = [Case(lambda a, b: a / b, _pair((2, 3), (3,), "away_from_zero"),
                  forward=np.divide),
             Case(lambda b: 2.0 / b, [Input((3,), "positive")], forward=lambda b: 2.0 / b)]


class Mod(Function):
    """out = a mod b = a - b * floor(a / b) (the sign of b, like Python's % and PyTorch's
    remainder);  da = g,  db = -g * floor(a / b).

    out jumps where a / b crosses an integer; elsewhere floor(a / b) is constant, which
    gives the gradients above.  Integer tensors give integer results.
    """

    def forward(self, a, b):
        check_broadcast("mod", a.shape, b.shape)
        return np.mod(a, b)

    def backward(self, g):
        a, b = self.inputs
        da = unbroadcast(g, a.shape) if self.needs_input_grad[0] else None
        db = None
        if self.needs_input_grad[1]:
            quotient = np.floor(a.data / b.data).astype(g.dtype)  # a constant: no gradient
            db = unbroadcast(-g * quotient, b.shape)
        return da, db

    cases = [Case(lambda a, b: a % b, requires_grad=[True, True],
                  # a / b well inside (1, 2) or (-2, -1), away from the jumps of floor
                  make_inputs=lambda rng: [np.array([[1.3, -1.4, 1.6], [-1.7, 1.5, -1.35]]),
                                           np.array([1.0, 1.0, 1.0]) * [0.9, 1.0, 1.1]],
                  forward=lambda a, b: a - b * np.floor(a / b)),
             Case(lambda a: a % 0.75, make_inputs=lambda rng: [np.array([0.2, 1.0, -0.4])],
                  forward=lambda a: np.array([0.2, 0.25, 0.35]) + 0 * a)]


class Pow(Function):
    """out = a ** b;  da = g * b * a^(b-1),  db = g * out * log(a)  (needs a > 0).

    A Python-number exponent (``x ** 2``) becomes a constant tensor, so ``db`` is never
    computed and negative bases are fine.
    """

    def forward(self, a, b):
        check_broadcast("pow", a.shape, b.shape)
        return np.power(a, b)

    def backward(self, g):
        a, b = self.inputs
        da = db = None
        if self.needs_input_grad[0]:
            da = unbroadcast(g * b * a ** (b - 1), a.shape)
        if self.needs_input_grad[1]:
            db = unbroadcast(g * self.output() * a.log(), b.shape)
        return da, db

    cases = [Case(lambda a: a ** 3, [Input((2, 3))], forward=lambda a: a * a * a),
             Case(lambda a: a ** -0.5, [Input((3,), "positive")],
                  forward=lambda a: 1 / np.sqrt(a)),
             Case(lambda a, b: a ** b, [Input((2, 3), "positive"), Input((3,))],
                  forward=lambda a, b: np.exp(b * np.log(a))),
             Case(lambda b: 2.0 ** b, [Input((3,))], forward=lambda b: np.exp(b * np.log(2)))]


class Maximum(Function):
    """out = max(a, b) elementwise; the gradient goes to the larger input (half each on ties)."""

    def forward(self, a, b):
        check_broadcast("maximum", a.shape, b.shape)
        return np.maximum(a, b)

    def backward(self, g):
        a, b = self.inputs
        share_a = (a.data > b.data) + 0.5 * (a.data == b.data)
        share_a = share_a.astype(g.dtype)
        need = self.needs_input_grad
        return (unbroadcast(g * share_a, a.shape) if need[0] else None,
                unbroadcast(g * (1 - share_a), b.shape) if need[1] else None)

    cases = [Case(lambda a, b: a.maximum(b), requires_grad=[True, True],
                  make_inputs=lambda rng: _separated_pair(rng, (2, 3), (3,)),
                  forward=lambda a, b: np.where(a > b, a, b))]


def _separated_pair(rng, shape_a, shape_b):
    """Two arrays that differ by at least 0.2 everywhere (no ties for max/min)."""
    b = rng.uniform(-2, 2, shape_b)
    gap = rng.uniform(0.2, 1.0, shape_a) * rng.choice([-1.0, 1.0], shape_a)
    return [b + gap, b]


class Where(Function):
    """out = a where cond else b;  da = g where cond,  db = g where not cond."""

    def forward(self, cond, a, b):
        check_broadcast("where", cond.shape, a.shape, b.shape)
        return np.where(cond, a, b)

    def backward(self, g):
        cond, a, b = self.inputs
        zero = np.zeros((), g.dtype)
        da = unbroadcast(Where.apply(cond, g, zero), a.shape) if self.needs_input_grad[1] else None
        db = unbroadcast(Where.apply(cond, zero, g), b.shape) if self.needs_input_grad[2] else None
        return None, da, db

    cases = [Case(lambda a, b: Where.apply(np.array([True, False, True]), a, b),
                  _pair((2, 3), (2, 1)),
                  forward=lambda a, b: np.stack([a[:, 0], b[:, 0], a[:, 2]], axis=1))]


# -- unary ------------------------------------------------------------------------------

class Neg(Function):
    """out = -x;  dx = -g."""

    def forward(self, x):
        if x.dtype == bool:
            raise TypeError("neg: a bool tensor has no negative; for logical not use "
                            "~t.data, or convert first with .float().")
        return -x

    def backward(self, g):
        return -g

    cases = [Case(lambda x: -x, [Input((2, 3))], forward=lambda x: 0.0 - x)]


class Exp(Function):
    """out = e^x;  dx = g * out."""

    def forward(self, x):
        require_float("exp", x)
        return np.exp(x)

    def backward(self, g):
        return g * self.output()

    cases = [Case(lambda x: x.exp(), [Input((2, 3))], forward=np.exp)]


class Log(Function):
    """out = ln x  (x > 0);  dx = g / x."""

    def forward(self, x):
        require_float("log", x)
        return np.log(x)

    def backward(self, g):
        return g / self.inputs[0]

    cases = [Case(lambda x: x.log(), [Input((2, 3), "positive")], forward=np.log)]


class Sqrt(Function):
    """out = sqrt(x);  dx = g / (2 out)."""

    def forward(self, x):
        require_float("sqrt", x)
        return np.sqrt(x)

    def backward(self, g):
        return g / (2 * self.output())

    cases = [Case(lambda x: x.sqrt(), [Input((2, 3), "positive")], forward=lambda x: x ** 0.5)]


class Square(Function):
    """out = x^2;  dx = 2 x g.

    Its own op, not ``x * x``: through Mul the gradient is g*x + x*g, two products and an
    addition, where 2 x g needs one product and a scaling (the content and style losses
    square feature maps every iteration).
    """

    def forward(self, x):
        return x * x

    def backward(self, g):
        return g * (2 * self.inputs[0])

    cases = [Case(lambda x: x.square(), [Input((2, 3))], forward=lambda x: x ** 2)]


class Abs(Function):
    """out = |x|;  dx = g * sign(x)  (0 at x = 0, as PyTorch)."""

    def forward(self, x):
        return np.abs(x)

    def backward(self, g):
        return g * np.sign(self.inputs[0].data).astype(g.dtype)

    cases = [Case(lambda x: x.abs(), [Input((2, 3), "away_from_zero")],
                  forward=lambda x: np.where(x < 0, -x, x))]


def leaky_relu_slope(op: str, slope) -> float:
    """The negative slope as a Python float (one real number, finite), else a clear error.

    Checked here, at the entry, so that both backends see the same float: a 0-d array or
    Tensor would be accepted by one and not by the other."""
    example = "nn.LeakyReLU(0.2)" if op == "LeakyReLU" else "x.leaky_relu(0.2)"
    slope = real_number(op, "negative_slope", slope, f"give one number, e.g. {example}.")
    if not math.isfinite(slope):
        raise ValueError(f"{op}: negative_slope must be finite, got {slope}.")
    return slope


class LeakyRelu(Function):
    """out = x if x > 0 else alpha * x;  dx = g * (1 or alpha)."""

    def forward(self, x, alpha=0.01):
        if alpha != 0:  # relu (alpha 0) maps integers to integers; a slope does not
            require_float("leaky_relu", x)
        self.alpha = alpha
        return kernels.leaky_relu(x, alpha)

    def backward(self, g):
        return LeakyReluBackward.apply(g, x=self.inputs[0].data, alpha=self.alpha)

    cases = [Case(lambda x: x.leaky_relu(0.2), [Input((2, 3), "away_from_zero")],
                  forward=lambda x: np.where(x > 0, x, 0.2 * x))]


class LeakyReluBackward(Function):
    """out = g * (1 if x > 0 else alpha): the leaky ReLU's gradient.

    An op of its own so that it can be differentiated (``create_graph=True``, e.g. the
    WGAN-GP gradient penalty) with the same backend routine: it is linear in g, so its
    gradient w.r.t. g is this same op applied to the upstream G.  x only chooses the slope
    (its derivative w.r.t. x is 0 wherever it exists), so x is a constant here, not an input.
    """

    def forward(self, g, x=None, alpha=0.01):
        self.x, self.alpha = x, alpha
        return kernels.leaky_relu_backward(g, x, alpha)

    def backward(self, G):
        return LeakyReluBackward.apply(G, x=self.x, alpha=self.alpha)

    cases = [Case(lambda g: LeakyReluBackward.apply(g, x=np.array([[1.0, -2.0, 3.0],
                                                                   [-0.5, 0.5, -4.0]]),
                                                    alpha=0.2), [Input((2, 3))],
                  forward=lambda g: g * np.array([[1, 0.2, 1], [0.2, 1, 0.2]]))]


class Relu(LeakyRelu):
    """out = max(x, 0);  dx = g * [x > 0].  A leaky ReLU with slope 0: the same forward
    and the same backward."""

    def forward(self, x):
        return super().forward(x, 0.0)

    cases = [Case(lambda x: x.relu(), [Input((2, 3), "away_from_zero")],
                  forward=lambda x: np.where(x > 0, x, 0.0))]


class Sigmoid(Function):
    """out = 1 / (1 + e^-x);  dx = g * out * (1 - out)."""

    def forward(self, x):
        require_float("sigmoid", x)
        return 0.5 * (1 + np.tanh(0.5 * x))  # equal to 1/(1+e^-x), never overflows

    def backward(self, g):
        s = self.output()
        return g * s * (1 - s)

    cases = [Case(lambda x: x.sigmoid(), [Input((2, 3))], forward=lambda x: 1 / (1 + np.exp(-x)))]


class Tanh(Function):
    """out = tanh x;  dx = g * (1 - out^2)."""

    def forward(self, x):
        require_float("tanh", x)
        return np.tanh(x)

    def backward(self, g):
        t = self.output()
        return g * (1 - t * t)

    cases = [Case(lambda x: x.tanh(), [Input((2, 3))],
                  forward=lambda x: (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1))]


class Softplus(Function):
    """out = log(1 + e^x), computed stably;  dx = g * sigmoid(x)."""

    def forward(self, x):
        require_float("softplus", x)
        return np.logaddexp(0, x)

    def backward(self, g):
        return g * self.inputs[0].sigmoid()

    cases = [Case(lambda x: x.softplus(), [Input((2, 3))],
                  forward=lambda x: np.log(1 + np.exp(x))),
             Case(lambda x: (x * 30).softplus(), [Input((4,))], description="large |x|",
                  forward=lambda x: np.log1p(np.exp(30 * x)))]


def clip_bound(x, bound, name):
    """A bound of ``clip`` as an array (or None): numbers, arrays and Tensors are accepted,
    their values are used (no gradient flows into a bound), and a floating-point x keeps
    its dtype (a float64 bound on a float32 x gives a float32 result)."""
    if bound is None:
        return None
    from ..tensor import Tensor
    value = bound.data if isinstance(bound, Tensor) else bound
    try:
        value = np.asarray(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"clip: {name}={bound!r:.40} is not a number or an array ({e}).") from None
    if value.dtype.kind not in "biuf":
        raise TypeError(f"clip: {name} must be a number, a NumPy array or a Tensor, got "
                        f"{type(bound).__name__} {bound!r:.40}.")
    try:
        fits = np.broadcast_shapes(x.shape, value.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"clip: {name} of shape {value.shape} does not broadcast to the "
                         f"tensor's shape {x.shape}; give a number or a matching array.")
    return value.astype(x.dtype) if x.dtype.kind == "f" else value


class Clip(Function):
    """out = min(max(x, low), high);  dx = g where low <= x <= high, else 0."""

    def forward(self, x, low=None, high=None):
        self.low, self.high = low, high
        return np.clip(x, low, high)

    def backward(self, g):
        x = self.inputs[0].data
        inside = np.ones(x.shape, bool)
        if self.low is not None:
            inside &= x >= self.low
        if self.high is not None:
            inside &= x <= self.high
        return g * inside.astype(g.dtype)

    cases = [Case(lambda x: x.clip(-0.5, 0.5),
                  make_inputs=lambda rng: [np.array([-1.5, -0.3, 0.1, 0.4, 0.9, 1.7])],
                  forward=lambda x: np.array([-0.5, -0.3, 0.1, 0.4, 0.5, 0.5])),
             Case(lambda x: x.clamp(min=0.25), make_inputs=lambda rng: [np.array([-1.0, 1.0])],
                  forward=lambda x: np.array([0.25, 1.0]))]


class Cast(Function):
    """out = x converted to ``dtype``;  dx = g converted back to x's dtype."""

    def forward(self, x, dtype=np.float32):
        return x.astype(dtype)

    def backward(self, g):
        return g.astype(self.inputs[0].dtype)

    # longdouble holds every float64 exactly, so the round trip loses nothing
    cases = [Case(lambda x: x.astype(np.longdouble).astype(np.float64) * 2, [Input((3,))],
                  forward=lambda x: x + x)]

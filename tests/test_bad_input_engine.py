"""Bad input to the engine's API (Tensor, ops, layers, optimizers, gradcheck, draw_graph)
gives a clear error naming the function, the argument and the value; the conversions that
used to go wrong silently now give the right result.  Every test runs on both backends."""
import re

import numpy as np
import pytest

import layers as nn
import tinygrad_cs as tg
import tinygrad_cs.functional as F
from models.mnist import batches
from tinygrad_cs import Tensor
from tinygrad_cs.optim import SGD, Adam, RMSprop, StepLR

pytestmark = pytest.mark.usefixtures("backend")


def f32(*shape):
    return Tensor(np.arange(np.prod(shape), dtype=np.float32).reshape(shape) / 7 - 0.5)


def leaf(*shape, dtype=np.float32):
    return Tensor(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape).astype(dtype),
                  requires_grad=True)


def leaf64(*shape):
    return leaf(*shape, dtype=np.float64)


def ints(*shape):
    return Tensor(np.arange(np.prod(shape), dtype=np.int64).reshape(shape) - 2)


def check(call, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        call()


# -- the Tensor as a Python and NumPy object -----------------------------------------------------

TENSOR_ERRORS = [  # call, error type, fragment of the message
    (lambda: len(Tensor(3.0)), TypeError, "len() of a 0-d tensor"),
    (lambda: list(Tensor(3.0)), TypeError, "iteration over a 0-d tensor"),
    (lambda: Tensor([1.0, 2.0]).item(), ValueError, "item: only a one-element tensor"),
    (lambda: float(Tensor([1.0, 2.0])), TypeError, "float(Tensor): only a one-element tensor"),
    (lambda: int(Tensor([[1, 2]])), TypeError, "int(Tensor): only a one-element tensor"),
    (lambda: Tensor([1.0]) + "a", TypeError, "cannot combine a Tensor with a str"),
    (lambda: "a" * Tensor([1.0]), TypeError, "cannot combine a Tensor with a str"),
    (lambda: -Tensor([True]), TypeError, "neg: a bool tensor has no negative"),
    (lambda: f32(0, 3).min(), ValueError, "min: cannot reduce an empty tensor of shape (0, 3)"),
    (lambda: f32(0, 3).max(), ValueError, "max: cannot reduce an empty tensor"),
]


@pytest.mark.parametrize("call, error, fragment", TENSOR_ERRORS,
                         ids=[f[2][:40] for f in TENSOR_ERRORS])
def test_tensor_misuse_is_a_clear_error(call, error, fragment):
    check(call, error, fragment)


def test_tensor_iterates_over_its_first_axis_and_gradients_flow():
    x = leaf(3, 2)
    rows = list(x)
    assert len(rows) == 3 and all(r.shape == (2,) for r in rows)
    np.testing.assert_array_equal(rows[2].data, x.data[2])
    (rows[0] * 2 + rows[2]).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[2, 2], [0, 0], [1, 1]])


def test_tensor_converts_to_numpy_and_python_numbers():
    a = np.asarray(Tensor([1.0, 2.0]))
    assert a.dtype == np.float32 and a.tolist() == [1.0, 2.0]
    assert np.asarray(Tensor([1, 2]), dtype=np.float64).dtype == np.float64
    assert np.array([Tensor(1.5), Tensor(2.5)]).tolist() == [1.5, 2.5]
    assert float(Tensor([[2.5]])) == 2.5 and int(Tensor(7)) == 7
    assert Tensor([4.0]).item() == 4.0
    assert len(Tensor(np.zeros((5, 2)))) == 5


def test_big_endian_data_becomes_native():
    t = Tensor(np.arange(3, dtype=">f4"))
    assert t.dtype.isnative and t.dtype == np.float32
    assert t.tolist() == [0.0, 1.0, 2.0]


# -- axes, sizes, split, pad ---------------------------------------------------------------------

AXIS_ERRORS = [
    (lambda: f32(2, 3).flatten(5), ValueError, "flatten: start_dim 5 is out of range"),
    (lambda: f32(2, 3, 4).flatten(2, 1), ValueError, "flatten: start_dim 2 comes after end_dim 1"),
    (lambda: f32(2, 3).flatten(1.5), TypeError, "flatten: start_dim must be an int, got 1.5"),
    (lambda: f32(2, 3).unsqueeze(9), ValueError, "unsqueeze: axis 9 is out of range"),
    (lambda: f32(2, 3).unsqueeze(-9), ValueError, "unsqueeze: axis -9 is out of range"),
    (lambda: f32(2, 3).sum(axis=1.5), TypeError, "sum: axis must be an int, got 1.5"),
    (lambda: f32(2, 3).max(axis=0.9), TypeError, "max: axis must be an int, got 0.9"),
    (lambda: f32(2, 3).min(axis=4), ValueError, "min: axis 4 is out of range"),
    (lambda: f32(2, 3).mean(axis=(0, 1.0)), TypeError, "mean: axis must be an int"),
    (lambda: f32(2, 4).reshape(2.5, 4), TypeError, "reshape: sizes must be integers"),
    (lambda: tg.zeros(2.5), TypeError, "zeros: sizes must be integers"),
    (lambda: Tensor.ones(2, 1.5), TypeError, "ones: sizes must be integers"),
    (lambda: f32(2, 3).pad(1.5), TypeError, "pad: pad widths must be integers, got 1.5"),
    (lambda: f32(2, 3).pad(((1, 1), (1, 1), (1, 1))), ValueError, "pad: pad_width"),
    (lambda: f32(2, 3).softmax(axis=9), ValueError, "softmax: axis 9 is out of range"),
    (lambda: f32(2, 3).log_softmax(axis=-3), ValueError, "log_softmax: axis -3 is out of range"),
    (lambda: f32(2, 3).logsumexp(axis=2), ValueError, "logsumexp: axis 2 is out of range"),
    (lambda: f32(2, 3).transpose(0, 5), ValueError, "transpose: dim1 5 is out of range"),
    (lambda: f32(2, 3).transpose(0.5, 1), TypeError, "transpose: dim0 must be an int"),
    (lambda: f32(3, 2).split([2, -1, 2]), ValueError, "split: each size in [2, -1, 2] must be at least 0, got -1"),
    (lambda: f32(3, 2).split(0), ValueError, "split: split_size must be at least 1, got 0"),
    (lambda: f32(3, 2).split(-2), ValueError, "split: split_size must be at least 1"),
    (lambda: f32(3, 2).split([1.5, 1.5]), TypeError, "split: each size in [1.5, 1.5] must be an int"),
    (lambda: f32(3, 2).split(1, axis=2), ValueError, "split: axis 2 is out of range"),
]


@pytest.mark.parametrize("call, error, fragment", AXIS_ERRORS,
                         ids=[f[2][:40] for f in AXIS_ERRORS])
def test_bad_axes_and_sizes_are_clear_errors(call, error, fragment):
    check(call, error, fragment)


def test_good_axes_still_work():
    x = f32(2, 3, 4)
    assert x.flatten(1).shape == (2, 12) and x.flatten(-2, -1).shape == (2, 12)
    assert x.unsqueeze(-1).shape == (2, 3, 4, 1) and x.unsqueeze(3).shape == (2, 3, 4, 1)
    assert x.transpose(0, -1).shape == (4, 3, 2)
    assert x.sum(axis=np.int64(1)).shape == (2, 4)
    assert [p.shape for p in x.split([1, 0, 2], axis=1)] == [(2, 1, 4), (2, 0, 4), (2, 2, 4)]
    assert x.reshape(np.int64(6), -1).shape == (6, 4)


# -- clip and type promotion ---------------------------------------------------------------------

def test_clip_takes_tensor_array_and_number_bounds_and_keeps_the_dtype():
    x = Tensor(np.array([-2.0, -0.2, 0.3, 2.0], np.float32), requires_grad=True)
    y = x.clip(Tensor(-0.5), np.array([0.25], np.float64))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, np.array([-0.5, -0.2, 0.25, 0.25], np.float32))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 1, 0, 0])
    assert x.clip(np.float64(0.0)).dtype == np.float32
    check(lambda: x.clip("a"), TypeError, "clip: min must be a number")
    check(lambda: x.clip(max=np.zeros(3)), ValueError, "clip: max of shape (3,) does not broadcast")


def test_python_numbers_and_lists_take_the_tensors_float_dtype():
    x = Tensor(np.array([1.0, 2.0], np.float32))
    assert (x + [1, 2]).dtype == np.float32 and (x + [1, 2]).tolist() == [2.0, 4.0]
    assert ([0.5, 1] * x).dtype == np.float32
    assert (x * 2.5).dtype == np.float32 and (x / np.float64(2)).dtype == np.float32
    d = Tensor(np.array([1.0], np.float64))
    assert (d + [1]).dtype == np.float64
    # a NumPy array keeps its dtype, and NumPy promotes: float32 with float64 is float64
    assert (x + np.ones(2)).dtype == np.float64


# -- integer inputs to ops whose result is not an integer ----------------------------------------

INT_REFUSED = [
    ("batch_norm", lambda: F.batch_norm(ints(4, 2), np.zeros(2, np.float32),
                                        np.ones(2, np.float32), training=True)),
    ("leaky_relu", lambda: ints(4).leaky_relu(0.5)),
    ("avg_pool2d", lambda: F.avg_pool2d(ints(1, 1, 2, 2), 2)),
    ("adaptive_avg_pool2d", lambda: F.adaptive_avg_pool2d(ints(1, 1, 2, 2), 1)),
    ("softmax", lambda: ints(2, 3).softmax(1)),
    ("log_softmax", lambda: F.log_softmax(ints(2, 3), 1)),
    ("mean", lambda: ints(4).mean()),
    ("var", lambda: ints(4).var()),
    ("std", lambda: ints(4).std()),
    ("sigmoid", lambda: ints(3).sigmoid()),
    ("tanh", lambda: ints(3).tanh()),
    ("exp", lambda: ints(3).exp()),
    ("log", lambda: ints(3).log()),
    ("sqrt", lambda: ints(3).sqrt()),
    ("softplus", lambda: ints(3).softplus()),
    ("conv2d", lambda: F.conv2d(ints(1, 1, 3, 3), ints(1, 1, 2, 2))),
    ("conv_transpose2d", lambda: F.conv_transpose2d(ints(1, 1, 3, 3), ints(1, 1, 2, 2))),
]


@pytest.mark.parametrize("op, call", INT_REFUSED, ids=[op for op, _ in INT_REFUSED])
def test_integer_tensors_are_refused_where_the_result_is_not_an_integer(op, call):
    with pytest.raises(TypeError, match=re.escape(f"{op}: expected a floating-point tensor, "
                                                  "got dtype int64; convert with .float()")):
        call()


def test_integer_functions_of_integers_still_work():
    x = Tensor(np.array([-3, 2]))
    assert x.relu().tolist() == [0, 2] and x.relu().dtype == np.int64
    assert (x * 2).tolist() == [-6, 4] and x.sum().item() == -1 and x.max().item() == 2
    assert x.float().leaky_relu(0.5).tolist() == [-1.5, 2.0]


def test_big_endian_weight_with_native_input_trains():
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    w_np = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    grads = []
    for w_data in (w_np, w_np.astype(">f4")):
        x, w = Tensor(x_np, requires_grad=True), Tensor(w_np, requires_grad=True)
        w.data = w_data  # as a file reader may leave it: big-endian behind the Tensor's back
        F.conv2d(x, w, padding=1).square().sum().backward()
        grads.append((x.grad.data, w.grad.data))
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-5)
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-5)


# -- layers ----------------------------------------------------------------------------------------

class WithCount(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.register_buffer("count", np.zeros(2, np.int64))


LAYER_ERRORS = [
    (lambda: nn.Sequential(nn.Linear(2, 2), nn.ReLU), TypeError,
     "entry 1 is the class nn.ReLU, not a layer; use nn.ReLU()"),
    (lambda: nn.Sequential(nn.Linear(2, 2), lambda x: x), TypeError, "entry 1 is a function"),
    (lambda: nn.Sequential().append(nn.Tanh), TypeError, "use nn.Tanh()"),
    (lambda: setattr(nn.Linear(2, 2), "weight", np.ones((2, 2))), TypeError,
     "Linear: cannot assign a ndarray to 'weight', which is a Parameter"),
    (lambda: setattr(nn.Linear(2, 2), "bias", Tensor([1.0, 2.0])), TypeError,
     "cannot assign a Tensor to 'bias'"),
    (lambda: nn.Linear(0, 3), ValueError, "Linear: in_features must be a positive integer, got 0"),
    (lambda: nn.Linear(-1, 3), ValueError, "Linear: in_features must be a positive integer, got -1"),
    (lambda: nn.Linear(2.5, 3), ValueError, "Linear: in_features must be a positive integer, got 2.5"),
    (lambda: nn.Linear(3, 0), ValueError, "Linear: out_features must be a positive integer, got 0"),
    (lambda: nn.Dropout(1.0), ValueError, "Dropout: p is the probability"),
    (lambda: nn.Dropout(-0.1), ValueError, "must lie in [0, 1), got -0.1"),
    (lambda: nn.Dropout("0.5"), ValueError, "got '0.5'"),
    (lambda: nn.Linear(2, 2).to("cuda"), TypeError, "devices are not supported"),
]


@pytest.mark.parametrize("call, error, fragment", LAYER_ERRORS,
                         ids=[f[2][:40] for f in LAYER_ERRORS])
def test_layer_misuse_is_a_clear_error(call, error, fragment):
    check(call, error, fragment)


def test_parameter_can_be_replaced_by_a_parameter_or_removed_with_none():
    lin = nn.Linear(2, 2)
    lin.weight = nn.Parameter(np.ones((2, 2), np.float32))
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    assert lin(Tensor(np.ones((1, 2), np.float32))).tolist() == [[2.0, 2.0]]


@pytest.mark.parametrize("key, value, fragment", [
    ("lin.bias", np.array(["a", "b"]), "lin.bias has dtype <U1, not real numbers"),
    ("lin.bias", np.array([None, None]), "lin.bias has dtype object"),
    ("lin.bias", np.array([1 + 2j, 3j]), "lin.bias has dtype complex128"),
    ("lin.bias", None, "shape mismatch for lin.bias"),
    ("count", np.array([2.7, 1.0]), "count holds floats (float64) but the model's buffer is int64"),
    ("count", np.ones(3, np.int64), "shape mismatch for count"),
])
def test_load_state_dict_checks_everything_before_writing_anything(key, value, fragment):
    model = WithCount()
    before = model.state_dict()
    sd = {k: np.full_like(v, 5) for k, v in before.items()}  # good entries, written first ...
    sd[key] = value                                            # ... unless this one is bad
    check(lambda: model.load_state_dict(sd), ValueError, fragment)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=f"{k} was written")


def test_load_state_dict_accepts_safe_conversions():
    model = WithCount()
    sd = {"lin.weight": np.ones((2, 2), np.float64), "lin.bias": np.array([1, 2]),
          "count": np.array([3, 4], np.int32)}
    model.load_state_dict(sd)
    assert model.lin.weight.dtype == np.float32 and model.lin.bias.tolist() == [1.0, 2.0]
    assert model.count.tolist() == [3, 4] and model.count.dtype == np.int64


# -- optimizers ------------------------------------------------------------------------------------

def one_param():
    return [leaf(2)]


OPTIM_ERRORS = [
    (lambda: SGD(leaf(2), lr=0.1), TypeError, "SGD: params is a single Tensor; pass a list: SGD([t], ...)"),
    (lambda: Adam(nn.Linear(2, 2)), TypeError, "Adam: params is a Linear; pass model.parameters()"),
    (lambda: SGD([leaf(2) * 2], lr=0.1), ValueError, "SGD: parameter 0 (shape (2,)) is not a leaf"),
    (lambda: SGD([np.ones(2)], lr=0.1), TypeError, "SGD: parameter 0 is a ndarray, not a Tensor"),
    (lambda: SGD(7, lr=0.1), TypeError, "SGD: params must be a list of Tensors"),
    (lambda: SGD(one_param() * 2, lr=0.1), ValueError, "parameter 1 (shape (2,)) is the same tensor as parameter 0"),
    (lambda: SGD(one_param(), lr=float("nan")), ValueError, "SGD: lr must be a finite number in [0, inf), got nan"),
    (lambda: SGD(one_param(), lr=float("inf")), ValueError, "SGD: lr must be a finite number"),
    (lambda: SGD(one_param(), lr="0.1"), TypeError, "SGD: lr must be a number, got '0.1'"),
    (lambda: SGD(one_param(), lr=-1), ValueError, "SGD: lr must be a finite number in [0, inf), got -1"),
    (lambda: SGD(one_param(), lr=0.1, momentum=-0.5), ValueError, "SGD: momentum must be a finite number in [0, inf)"),
    (lambda: SGD(one_param(), lr=0.1, weight_decay=float("nan")), ValueError, "SGD: weight_decay must be a finite"),
    (lambda: Adam(one_param(), weight_decay=-1e-4), ValueError, "Adam: weight_decay must be a finite number in [0, inf)"),
    (lambda: Adam(one_param(), eps=0), ValueError, "Adam: eps must be a finite number in (0, inf), got 0"),
    (lambda: Adam(one_param(), eps=-1e-8), ValueError, "Adam: eps must be"),
    (lambda: Adam(one_param(), betas=(0.9,)), ValueError, "Adam: betas must be a pair (beta1, beta2)"),
    (lambda: Adam(one_param(), betas=0.9), ValueError, "Adam: betas must be a pair"),
    (lambda: Adam(one_param(), betas=(0.9, 1.0)), ValueError, "Adam: betas[1] must be a finite number in [0, 1), got 1.0"),
    (lambda: Adam(one_param(), betas=(-0.1, 0.9)), ValueError, "Adam: betas[0] must be"),
    (lambda: RMSprop(one_param(), alpha=1.5), ValueError, "RMSprop: alpha must be a finite number in [0, 1], got 1.5"),
    (lambda: RMSprop(one_param(), alpha=-0.01), ValueError, "RMSprop: alpha must be"),
    (lambda: RMSprop(one_param(), eps=0.0), ValueError, "RMSprop: eps must be"),
    (lambda: StepLR(SGD(one_param(), lr=0.1), 0), ValueError, "StepLR: step_size is the number of step() calls"),
    (lambda: StepLR(SGD(one_param(), lr=0.1), 2.5), ValueError, "must be a positive integer, got 2.5"),
    (lambda: StepLR(SGD(one_param(), lr=0.1), 2, gamma=float("nan")), ValueError, "StepLR: gamma must be"),
    (lambda: StepLR([], 2), TypeError, "StepLR: expected an optimizer"),
]


@pytest.mark.parametrize("call, error, fragment", OPTIM_ERRORS,
                         ids=[f[2][:40] for f in OPTIM_ERRORS])
def test_optimizer_arguments_are_checked_at_construction(call, error, fragment):
    check(call, error, fragment)


def trained(opt_class, **kwargs):
    p = leaf(3)
    opt = opt_class([p], **kwargs)
    (p * p).sum().backward()
    opt.step()
    return p, opt


def bad_state(opt_class, change, **kwargs):
    sd = trained(opt_class, **kwargs)[1].state_dict()
    change(sd)
    return sd


@pytest.mark.parametrize("opt_class, kwargs, sd_maker, fragment", [
    (SGD, {"lr": 0.1}, lambda: bad_state(SGD, lambda sd: sd.update(extra=np.ones(1)), lr=0.1),
     "unexpected keys ['extra']"),
    (SGD, {"lr": 0.1}, lambda: trained(Adam)[1].state_dict(),
     "the state dict of another optimizer?"),
    (Adam, {}, lambda: trained(RMSprop)[1].state_dict(), "missing keys ['betas']"),
    (Adam, {}, lambda: bad_state(Adam, lambda sd: sd.update({"param.x.exp_avg": np.ones(3)})),
     "key 'param.x.exp_avg' is not param.<i>.<name>"),
    (Adam, {}, lambda: bad_state(Adam, lambda sd: sd.update({"param.0.momentum": np.ones(3)})),
     "with <name> one of exp_avg, exp_avg_sq"),
    (Adam, {}, lambda: bad_state(Adam, lambda sd: sd.update({"param.3.exp_avg": np.ones(3)})),
     "param.3.exp_avg with shape (3,) does not fit"),
    (Adam, {}, lambda: bad_state(Adam, lambda sd: sd.update(lr=np.asarray(-1.0))),
     "Adam.load_state_dict: lr must be a finite number in [0, inf), got -1.0"),
    (Adam, {}, lambda: bad_state(Adam, lambda sd: sd.update(betas=np.asarray([0.9, 1.5]))),
     "Adam.load_state_dict: betas[1] must be"),
    (RMSprop, {}, lambda: bad_state(RMSprop, lambda sd: sd.update(alpha=np.asarray(2.0))),
     "RMSprop.load_state_dict: alpha must be"),
    (SGD, {"lr": 0.1}, lambda: bad_state(SGD, lambda sd: sd.update(step_count=np.asarray(1.5)),
                                         lr=0.1), "step_count must be an integer >= 0"),
])
def test_optimizer_load_state_dict_checks_before_writing(opt_class, kwargs, sd_maker, fragment):
    p, opt = trained(opt_class, **kwargs)
    before = opt.state_dict()
    check(lambda: opt.load_state_dict(sd_maker()), ValueError, fragment)
    after = opt.state_dict()
    assert after.keys() == before.keys()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k], err_msg=f"{k} was changed")


def test_optimizer_state_round_trip_still_works():
    p, opt = trained(Adam, lr=0.01, betas=(0.8, 0.9))
    q = Tensor(p.data.copy(), requires_grad=True)
    opt2 = Adam([q])
    opt2.load_state_dict(opt.state_dict())
    assert opt2.betas == (0.8, 0.9) and opt2.lr == 0.01 and opt2.step_count == 1
    for o, t in ((opt, p), (opt2, q)):
        t.grad = Tensor(np.full(3, 0.5, np.float32))
        o.step()
    np.testing.assert_array_equal(p.data, q.data)


def test_adam_on_float16_weights_stays_finite_and_follows_float32():
    w0 = np.array([0.5, -0.25, 1.0], np.float16)
    g = np.array([1e-4, -3e-5, 2e-3], np.float32)  # g*g underflows in float16
    results = {}
    for dtype in (np.float16, np.float32):
        p = Tensor(w0.astype(dtype), requires_grad=True)
        opt = Adam([p], lr=1e-3)
        for _ in range(3):
            p.grad = Tensor(g.astype(dtype))
            opt.step()
        results[dtype] = p.data
    assert results[np.float16].dtype == np.float16
    assert np.isfinite(results[np.float16]).all()
    np.testing.assert_allclose(results[np.float16], results[np.float32], atol=1e-3)
    assert (results[np.float16] != w0).any()  # it moved


# -- data loader -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, fragment", [
    ({"batch_size": 0}, "batches: batch_size must be a positive integer, got 0"),
    ({"batch_size": -4}, "got -4"),
    ({"batch_size": 2.5}, "got 2.5"),
    ({"y": np.arange(4)}, "batches: x has 5 rows but y has 4"),
])
def test_batches_checks_its_arguments_at_the_call(kwargs, fragment):
    args = {"x": np.zeros((5, 2)), "y": np.arange(5), "batch_size": 2, **kwargs}
    check(lambda: batches(**args), ValueError, fragment)  # no next(): refused at once


# -- gradcheck and grad ----------------------------------------------------------------------------

GRADCHECK_ERRORS = [
    (lambda: tg.gradcheck(lambda x: x.sum(), leaf64(2)), TypeError,
     "gradcheck: inputs is a single Tensor; pass a list or tuple"),
    (lambda: tg.gradgradcheck(lambda x: x.sum(), leaf64(2)), TypeError,
     "gradgradcheck: inputs is a single Tensor"),
    (lambda: tg.gradcheck(lambda x: x.sum(), np.ones(2)), TypeError,
     "gradcheck: inputs must be a list or tuple"),
    (lambda: tg.gradcheck(lambda x: 3, [leaf64(2)]), TypeError,
     "gradcheck: the function returned a int, not a Tensor"),
    (lambda: tg.gradcheck(lambda x: x.data * 2, [leaf64(2)]), TypeError,
     "gradcheck: the function returned a ndarray, not a Tensor"),
    (lambda: tg.gradcheck(lambda x: (x, x.data), [leaf64(2)]), TypeError, "as output 1"),
    (lambda: tg.gradcheck(lambda x: x.sum(), [Tensor(np.zeros(0), requires_grad=True)]),
     ValueError, "gradcheck: input 0 has shape (0,), no element to check"),
    (lambda: tg.gradcheck(lambda x: x.sum(), [leaf64(2)], eps=0), ValueError,
     "gradcheck: eps is the finite-difference step and must be a number > 0"),
    (lambda: tg.gradcheck(lambda x: x.sum(), [leaf64(2)], eps=-1e-6), ValueError, "got -1e-06"),
    (lambda: tg.gradgradcheck(lambda x: (x * x).sum(), [leaf64(2)], eps=float("nan")), ValueError,
     "gradgradcheck: eps"),
    (lambda: tg.grad(np.ones(3), leaf64(3)), TypeError,
     "grad: outputs must be a Tensor or a list of Tensors, got ndarray"),
    (lambda: tg.grad(leaf64(3).sum(), np.ones(3)), TypeError, "grad: inputs must be a Tensor"),
    (lambda: tg.grad([leaf64(3).sum(), 2.0], [leaf64(3)]), TypeError,
     "grad: outputs[1] is a float, not a Tensor"),
]


@pytest.mark.parametrize("call, error, fragment", GRADCHECK_ERRORS,
                         ids=[f[2][:40] for f in GRADCHECK_ERRORS])
def test_gradcheck_and_grad_misuse_is_a_clear_error(call, error, fragment):
    check(call, error, fragment)


def test_gradcheck_still_takes_a_tuple_and_arrays():
    assert tg.gradcheck(lambda a, b: (a * b).sum(), (leaf64(2), np.ones(2)))


# -- draw_graph ------------------------------------------------------------------------------------

def chain(n):
    x = leaf(2)
    y = x
    for _ in range(n):
        y = y * 1.0
    return y.sum()


def test_draw_graph_refuses_a_picture_too_large_to_read(tmp_path):
    loss = chain(300)
    check(lambda: tg.draw_graph(loss, tmp_path / "g.png"), ValueError,
          "too small to read. Write the DOT text instead (a path ending in .dot)")
    assert not list(tmp_path.iterdir())  # nothing written
    dot = tg.draw_graph(loss, tmp_path / "g.dot")  # the text has no limit
    assert dot.count('label="Mul"') == 300


def test_draw_graph_draws_a_readable_chain(tmp_path):
    tg.draw_graph(chain(40), tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 0


@pytest.mark.parametrize("name, first_line", [
    ("my graph", 'digraph "my graph" {'),
    ('a {b} "c"', 'digraph "a {b} \\"c\\"" {'),
    ("tinygrad", 'digraph "tinygrad" {'),
])
def test_draw_graph_quotes_the_name(name, first_line):
    assert tg.draw_graph(chain(1), name=name).splitlines()[0] == first_line


def test_draw_graph_of_an_array_is_a_type_error():
    check(lambda: tg.draw_graph(np.ones(3)), TypeError,
          "draw_graph: expected the Tensor whose graph to draw (e.g. the loss), got ndarray")


# -- one-number arguments: slopes, eps, momentum, fill values, probabilities ------------------------

def bn_stats(C=2):
    return np.zeros(C, np.float32), np.ones(C, np.float32)


def read_only(a):
    a.flags.writeable = False
    return a


NUMBER_ERRORS = [
    (lambda: f32(4).leaky_relu(None), TypeError,
     "leaky_relu: negative_slope must be a real number, got None (NoneType); give one number"),
    (lambda: f32(4).leaky_relu("0.1"), TypeError, "negative_slope must be a real number, got '0.1'"),
    (lambda: f32(4).leaky_relu(np.array([0.1, 0.2])), TypeError, "leaky_relu: negative_slope must be"),
    (lambda: f32(4).leaky_relu(0.1j), TypeError, "leaky_relu: negative_slope must be a real number"),
    (lambda: f32(4).leaky_relu(True), TypeError, "got True (bool)"),
    (lambda: f32(4).leaky_relu(float("nan")), ValueError, "leaky_relu: negative_slope must be finite"),
    (lambda: F.leaky_relu(f32(4), None), TypeError, "leaky_relu: negative_slope must be"),
    (lambda: nn.LeakyReLU(None), TypeError,
     "LeakyReLU: negative_slope must be a real number, got None (NoneType); give one number, "
     "e.g. nn.LeakyReLU(0.2)"),
    (lambda: nn.LeakyReLU("0.2"), TypeError, "LeakyReLU: negative_slope must be a real number, got '0.2'"),
    (lambda: F.batch_norm(f32(4, 2), *bn_stats(), training=True, eps=np.ones(2)), TypeError,
     "batch_norm: eps must be a real number, got array"),
    (lambda: F.batch_norm(f32(4, 2), *bn_stats(), eps=1e-5j), TypeError,
     "batch_norm: eps must be a real number"),
    (lambda: F.batch_norm(f32(4, 2), *bn_stats(), eps=None), TypeError, "eps must be a real number, got None"),
    (lambda: F.batch_norm(f32(4, 2), *bn_stats(), training=True, eps="a"), TypeError, "got 'a'"),
    (lambda: F.batch_norm(f32(4, 2), *bn_stats(), eps=-1.0), ValueError,
     "batch_norm: eps must be positive and finite (it keeps 1/sqrt(var + eps) finite), got -1.0"),
    (lambda: F.batch_norm(f32(4, 2), *bn_stats(), training=True, eps=0), ValueError, "got 0.0"),
    (lambda: F.batch_norm(f32(4, 2), *bn_stats(), eps=float("nan")), ValueError, "eps must be positive and finite"),
    (lambda: F.batch_norm(f32(4, 2), *bn_stats(), training=True, momentum=2.0), ValueError,
     "batch_norm: momentum must lie in [0, 1] (the weight of the new batch in the running "
     "statistics), got 2.0"),
    (lambda: F.batch_norm(f32(4, 2), *bn_stats(), training=True, momentum=None), TypeError,
     "for a cumulative average use the layer with momentum=None"),
    (lambda: F.batch_norm(f32(4, 2), *bn_stats(), training=True, momentum="0.1"), TypeError,
     "batch_norm: momentum must be a real number, got '0.1'"),
    (lambda: nn.BatchNorm2d(2, eps=None), TypeError, "BatchNorm2d: eps must be a real number, got None"),
    (lambda: nn.BatchNorm2d(2, eps=0), ValueError, "BatchNorm2d: eps must be positive and finite"),
    (lambda: nn.BatchNorm1d(2, momentum=1.5), ValueError, "BatchNorm1d: momentum must lie in [0, 1]"),
    (lambda: nn.BatchNorm1d(2, momentum="0.1"), TypeError,
     "BatchNorm1d: momentum must be a real number, got '0.1' (str); give a number in [0, 1], "
     "e.g. momentum=0.1 or None (a cumulative average)"),
    (lambda: F.batch_norm(f32(4, 2), *bn_stats(), weight=[1.0, 1.0]), TypeError,
     "batch_norm: weight must be a Tensor of shape (2,) or None, got list"),
    (lambda: F.batch_norm(f32(4, 2), *bn_stats(), bias=(0.0, 0.0), training=True), TypeError,
     "batch_norm: bias must be a Tensor of shape (2,) or None, got tuple"),
    (lambda: F.batch_norm(f32(4, 2), [0.0, 0.0], np.ones(2, np.float32)), TypeError,
     "batch_norm: running_mean must be a NumPy array of shape (2,), got list"),
    (lambda: F.batch_norm(f32(4, 2), np.zeros(2, np.float32), [1.0, 1.0], training=True),
     TypeError, "batch_norm: running_var must be a NumPy array of shape (2,), got list"),
    (lambda: F.batch_norm(f32(4, 2), read_only(np.zeros(2, np.float32)), np.ones(2, np.float32),
                          training=True), ValueError,
     "batch_norm: running_mean is a read-only array, but training mode updates it in place; "
     "pass a writable copy, e.g. running_mean.copy()"),
    (lambda: f32(2, 3).pad(1, value="a"), TypeError, "pad: value must be a real number, got 'a'"),
    (lambda: f32(2, 3).pad(1, value=None), TypeError, "pad: value must be a real number, got None"),
    (lambda: tg.full((2, 2), "a"), TypeError, "full: fill_value must be a real number, got 'a'"),
    (lambda: tg.full((2, 2), [1, 2]), TypeError, "full: fill_value must be a real number"),
    (lambda: F.dropout(f32(4), "0.5"), TypeError, "dropout: p must be a real number, got '0.5'"),
    (lambda: F.dropout(f32(4), None), TypeError, "dropout: p must be a real number, got None"),
    (lambda: Tensor.uniform(3, low=1, high=0), ValueError,
     "Tensor.uniform: needs finite bounds with low <= high, got low=1.0, high=0.0"),
    (lambda: Tensor.uniform(3, high="1"), TypeError, "Tensor.uniform: high must be a real number"),
    (lambda: Tensor.uniform(3, dtype=np.int64), TypeError,
     "Tensor.uniform: dtype must be floating-point, got int64"),
    (lambda: tg.randn(3, dtype=np.int64), TypeError,
     "randn: dtype must be floating-point, got int64: the samples are real numbers that an "
     "integer dtype would truncate"),
    (lambda: tg.rand(3, dtype=bool), TypeError, "rand: dtype must be floating-point, got bool"),
    (lambda: Tensor.randn(3, dtype=np.int32), TypeError, "Tensor.randn: dtype must be floating-point"),
    (lambda: tg.randn(3, dtype="floaty"), TypeError, "randn: dtype must be a bool, integer or"),
]


@pytest.mark.parametrize("call, error, fragment", NUMBER_ERRORS,
                         ids=[f[2][:40] for f in NUMBER_ERRORS])
def test_one_number_arguments_are_checked_at_the_entry(call, error, fragment):
    check(call, error, fragment)


@pytest.mark.parametrize("slope", [0.25, np.float64(0.25), np.float32(0.25), np.array(0.25),
                                   Tensor(0.25), Tensor(np.float64(0.25)), np.array([[0.25]])[0, 0]])
def test_leaky_relu_takes_any_one_real_number_on_both_backends(slope):
    x = Tensor(np.array([-2.0, -0.5, 0.0, 3.0], np.float32), requires_grad=True)
    y = x.leaky_relu(slope)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, [-0.5, -0.125, 0.0, 3.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.25, 0.25, 0.25, 1.0])
    layer = nn.LeakyReLU(slope)
    assert type(layer.negative_slope) is float and layer.negative_slope == 0.25
    np.testing.assert_allclose(layer(x).data, y.data)
    assert x.leaky_relu(0).tolist() == x.relu().tolist() == [0.0, 0.0, 0.0, 3.0]


def test_batch_norm_takes_numpy_scalars_for_eps_and_momentum():
    x = Tensor(np.array([[0.0, 1.0], [2.0, 5.0]], np.float32))
    mean, var = bn_stats()
    y = F.batch_norm(x, mean, var, training=True, eps=np.float32(1.0), momentum=np.array(0.5))
    # per column: values (0, 2) and (1, 5), batch variances 1 and 4, eps 1
    np.testing.assert_allclose(y.data, [[-1 / np.sqrt(2), -2 / np.sqrt(5)],
                                        [1 / np.sqrt(2), 2 / np.sqrt(5)]], rtol=1e-6)
    np.testing.assert_allclose(mean, [0.5, 1.5])            # 0.5 * 0 + 0.5 * (1, 3)
    np.testing.assert_allclose(var, [1.5, 4.5])             # 0.5 * 1 + 0.5 * (2, 8)


def test_batch_norm_layer_with_momentum_none_keeps_a_cumulative_average():
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((5, 3)).astype(np.float32) * (k + 1) + k for k in range(3)]
    bn = nn.BatchNorm1d(3, momentum=None)
    assert bn.momentum is None and "momentum=None" in repr(bn)
    for b in batches:
        bn(Tensor(b))
    assert int(bn.num_batches_tracked) == 3
    # the plain mean of the three batches' statistics (the start values 0 and 1 drop out)
    np.testing.assert_allclose(bn.running_mean, np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var, np.mean([b.var(0, ddof=1) for b in batches], 0),
                               rtol=1e-5)
    bn.eval()
    before = bn.running_mean.copy()
    bn(Tensor(batches[0]))
    np.testing.assert_array_equal(bn.running_mean, before)  # eval mode changes nothing


# -- 0-d tensors: axis 0 and -1 name their one element, as in PyTorch --------------------------------

SCALAR_AXIS_ERRORS = [
    (lambda: Tensor(np.float32(3.0)).sum(axis=1), ValueError,
     "sum: axis 1 is out of range for a tensor with 0 dimension(s); use an integer in [-1, 0]"),
    (lambda: Tensor(np.float32(3.0)).softmax(-2), ValueError, "softmax: axis -2 is out of range"),
    (lambda: Tensor(np.float32(3.0)).max(axis=0.5), TypeError,
     "max: axis must be an int, got 0.5 (float); use an integer in [-1, 0]"),
    (lambda: Tensor(np.float32(3.0)).split(1), ValueError, "split: a 0-d tensor has no axis to split"),
]


@pytest.mark.parametrize("call, error, fragment", SCALAR_AXIS_ERRORS,
                         ids=[f[2][:40] for f in SCALAR_AXIS_ERRORS])
def test_0d_axis_errors_state_a_possible_range(call, error, fragment):
    check(call, error, fragment)


@pytest.mark.parametrize("axis", [0, -1, np.int64(0)])
def test_0d_tensors_reduce_over_axis_0_and_minus_1(axis):
    s = Tensor(np.float32(3.0), requires_grad=True)
    for out in (s.sum(axis), s.mean(axis), s.max(axis), s.min(axis), s.logsumexp(axis),
                s.sum(dim=axis, keepdim=True), s.squeeze(axis), s.transpose(axis, axis)):
        assert out.shape == () and out.item() == 3.0
    assert s.argmax(axis).item() == 0 and s.argmax(axis).shape == ()
    p, logp = s.softmax(axis), s.log_softmax(dim=axis)
    assert p.shape == logp.shape == () and p.item() == 1.0 and logp.item() == 0.0
    (s.sum(axis) * 2).backward()
    assert s.grad.item() == 2.0
    s.grad = None
    F.softmax(s).backward()  # the constant 1: no gradient
    assert s.grad.item() == 0.0


# -- dtypes ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype, shown", [(object, "object"), (np.complex64, "complex64"),
                                          ("floaty", "'floaty'"), (None, "None"), (str, "<U0")])
def test_astype_and_to_accept_only_dtypes_a_tensor_holds(dtype, shown):
    x = f32(3)
    check(lambda: x.astype(dtype), TypeError,
          f"astype: dtype must be a bool, integer or floating-point NumPy dtype, got {shown}")
    if dtype not in ("floaty", None):  # those are not dtypes at all: Tensor.to says so itself
        check(lambda: x.to(dtype), TypeError, "astype: dtype must be")


def test_astype_still_converts_between_numeric_dtypes():
    x = Tensor(np.array([-1.5, 0.0, 2.5], np.float32), requires_grad=True)
    assert x.astype(np.int64).tolist() == [-1, 0, 2] and x.astype("int32").dtype == np.int32
    assert x.astype(bool).tolist() == [True, False, True]
    assert x.to(np.float64).dtype == np.float64 and x.astype(np.float32) is x
    assert tg.randn(2, dtype=np.float64).dtype == np.float64
    assert Tensor.uniform(4, low=2, high=2).tolist() == [2.0] * 4


# -- window sizes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
def test_a_pooling_window_larger_than_the_input_names_the_op(op):
    x = f32(1, 1, 4, 3)
    check(lambda: getattr(F, op)(x, (5, 2)), ValueError,
          f"{op}: a window of 5 with padding 0 does not fit an input of size 4; use "
          "kernel_size <= 4 or more padding")
    check(lambda: getattr(F, op)(x, 4, padding=(0, 0)), ValueError,
          f"{op}: a window of 4 with padding 0 does not fit an input of size 3")
    assert getattr(F, op)(x, 3).shape == (1, 1, 1, 1)


# -- PyTorch habits ----------------------------------------------------------------------------------

def test_an_empty_index_list_selects_nothing():
    x = leaf(2, 3)
    assert x[[]].shape == (0, 3) and x[:, []].shape == (2, 0)
    assert x[Tensor(np.zeros(0, np.int64))].shape == (0, 3)
    (x[[]].sum() + x[[1]].sum()).backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 0], [1, 1, 1]])


def test_squeeze_keeps_a_named_axis_whose_size_is_not_1():
    x = f32(3, 1)
    assert x.squeeze(0).shape == (3, 1) and x.squeeze(dim=-2).shape == (3, 1)
    assert x.squeeze((0, 1)).shape == (3,) and F.squeeze(x, 1).shape == (3,)
    check(lambda: x.squeeze(2), ValueError, "squeeze: axis 2 is out of range")


def test_optimizers_skip_frozen_parameters():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    for p in model[0].parameters():
        p.requires_grad = False
    frozen = [p.data.copy() for p in model[0].parameters()]
    trained = [p.data.copy() for p in model[1].parameters()]
    opt = Adam(model.parameters(), lr=0.1)
    assert opt.params == [model[1].weight, model[1].bias]
    model(Tensor(np.ones((3, 2), np.float32))).sum().backward()
    opt.step()
    for p, before in zip(model[0].parameters(), frozen):
        np.testing.assert_array_equal(p.data, before)
        assert p.grad is None
    for p, before in zip(model[1].parameters(), trained):
        assert (p.data != before).all()  # Adam's first step moves every weight by lr
    check(lambda: Adam(model[0].parameters()), ValueError,
          "Adam: all 2 parameter(s) are frozen (each does not require grad), so there is "
          "nothing to train")
    check(lambda: SGD([Tensor([1.0]), leaf(2) * 2], lr=0.1), ValueError,
          "SGD: parameter 1 (shape (2,)) is not a leaf")  # the index counts frozen ones too


def test_remainder_operator_follows_python_and_pytorch():
    x = Tensor(np.array([5.0, -5.0, 5.5, -0.5], np.float32))
    assert (x % 3).dtype == np.float32
    assert (x % 3).tolist() == [2.0, 1.0, 2.5, 2.5]          # the sign of the divisor
    assert (x % -3).tolist() == [-1.0, -2.0, -0.5, -0.5]
    assert (7 % Tensor([3.0, -3.0])).tolist() == [1.0, -2.0]
    assert (Tensor([7, -7]) % 3).tolist() == [1, 2] and (Tensor([7]) % 3).dtype == np.int64
    a = Tensor(np.array([5.0, -5.0]), requires_grad=True)
    b = Tensor(np.array([3.0, 3.0]), requires_grad=True)
    (a % b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(b.grad.data, [-1.0, 2.0])  # -floor(5/3), -floor(-5/3)
    check(lambda: x % "a", TypeError, "cannot combine a Tensor with a str")
    check(lambda: f32(2, 3) % f32(2), ValueError, "mod: shapes (2, 3) and (2,) cannot be broadcast")

"""Module.to converts in place: the same Parameter objects, so optimizers keep working."""
import numpy as np
import pytest

import layers as nn
import tinygrad_cs.functional as F
from tinygrad_cs import Tensor
from tinygrad_cs.optim import SGD, Adam
from tinygrad_cs.random import manual_seed


def model_and_data():
    manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]])
    return model, x, y


def train(model, opt, x, y, steps, dtype):
    losses = []
    for _ in range(steps):
        loss = F.mse_loss(model(Tensor(x.astype(dtype))), Tensor(y.astype(dtype)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("make_opt", [lambda p: Adam(p, lr=0.05),
                                      lambda p: SGD(p, lr=0.05, momentum=0.9)],
                         ids=["adam", "sgd-momentum"])
def test_optimizer_made_before_to_still_trains(make_opt):
    model, x, y = model_and_data()
    params_before = model.parameters()
    opt = make_opt(params_before)
    train(model, opt, x, y, 2, np.float32)  # optimizer state now exists, in float32
    start = [p.data.copy() for p in params_before]

    assert model.to(np.float64) is model
    assert all(a is b for a, b in zip(model.parameters(), params_before))  # same objects
    assert all(p.dtype == np.float64 for p in model.parameters())
    losses = train(model, opt, x, y, 30, np.float64)

    assert losses[-1] < 0.5 * losses[0]
    # every parameter moved, except the bias right before batch norm (which cancels it,
    # so its gradient is zero up to rounding)
    moved = [not np.allclose(p.data, s) for p, s in zip(model.parameters(), start)]
    names = [name for name, _ in model.named_parameters()]
    assert [n for n, m in zip(names, moved) if not m] in ([], ["0.bias"])
    assert sum(moved) >= len(moved) - 1
    assert all(p.dtype == np.float64 for p in model.parameters())
    for state in opt.state:  # moments / momentum buffers followed the parameters
        assert state and all(v.dtype == np.float64 for v in state.values())


def test_optimizer_state_created_after_to():
    model, x, y = model_and_data()
    opt = Adam(model.parameters(), lr=0.05)
    model.to(np.float64)
    losses = train(model, opt, x, y, 30, np.float64)
    assert losses[-1] < 0.5 * losses[0]
    assert all(v.dtype == np.float64 for state in opt.state for v in state.values())


def test_buffers_and_grads_are_converted():
    model, x, y = model_and_data()
    bn = model[1]
    train(model, SGD(model.parameters(), lr=0.01), x, y, 1, np.float32)
    mean_before = bn.running_mean.copy()
    model.to(np.float64)
    assert bn.running_mean.dtype == np.float64 and bn.running_var.dtype == np.float64
    assert dict(bn.named_buffers())["running_mean"] is bn.running_mean
    np.testing.assert_array_equal(bn.running_mean, mean_before)
    assert bn.num_batches_tracked.dtype == np.int64  # not a float: left alone
    assert all(p.grad.dtype == np.float64 for p in model.parameters())
    model(Tensor(x))  # running statistics keep updating in the new dtype
    assert bn.running_mean.dtype == np.float64
    assert not np.allclose(bn.running_mean, mean_before)


def test_shared_parameter_converted_once_and_stays_shared():
    lin = nn.Linear(2, 2)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    model.to(np.float64)
    assert model[0].weight is model[2].weight and lin.weight.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.int32, "cuda", bool])
def test_non_float_dtype_is_a_clear_error(dtype):
    model, _, _ = model_and_data()
    with pytest.raises(TypeError, match="Sequential.to: expected a floating-point NumPy dtype"):
        model.to(dtype)
    assert all(p.dtype == np.float32 for p in model.parameters())  # nothing changed

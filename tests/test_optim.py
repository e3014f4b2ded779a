"""Optimizers follow their formulas, minimise, and resume exactly from a saved state."""
import numpy as np
import pytest

from tinygrad_cs import Tensor
from tinygrad_cs.optim import SGD, Adam, RMSprop, StepLR

rng = np.random.default_rng(0)


def quadratic_grads(w, target):
    return 2 * (w - target)


def run(opt_cls, steps, **kw):
    target = np.array([1.0, -2.0, 3.0])
    w = Tensor(np.zeros(3), requires_grad=True)
    opt = opt_cls([w], **kw)
    for _ in range(steps):
        opt.zero_grad()
        ((w - Tensor(target)) ** 2).sum().backward()
        opt.step()
    return w.data, opt


def test_sgd_momentum_formula():
    w, _ = run(SGD, 2, lr=0.1, momentum=0.9)
    t = np.array([1.0, -2.0, 3.0])
    w1 = 0 - 0.1 * quadratic_grads(0, t)
    buf = 0.9 * quadratic_grads(0, t) + quadratic_grads(w1, t)
    np.testing.assert_allclose(w, w1 - 0.1 * buf)


def test_adam_formula():
    w, _ = run(Adam, 3, lr=0.1, betas=(0.8, 0.9))
    t = np.array([1.0, -2.0, 3.0])
    x, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
    for step in range(1, 4):
        g = quadratic_grads(x, t)
        m = 0.8 * m + 0.2 * g
        v = 0.9 * v + 0.1 * g * g
        x = x - 0.1 * (m / (1 - 0.8 ** step)) / (np.sqrt(v / (1 - 0.9 ** step)) + 1e-8)
    np.testing.assert_allclose(w, x)


def test_rmsprop_formula():
    w, _ = run(RMSprop, 2, lr=0.01, alpha=0.9)
    t = np.array([1.0, -2.0, 3.0])
    x, v = np.zeros(3), np.zeros(3)
    for _ in range(2):
        g = quadratic_grads(x, t)
        v = 0.9 * v + 0.1 * g * g
        x = x - 0.01 * g / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(w, x)


@pytest.mark.parametrize("opt_cls,kw", [(SGD, dict(lr=0.1)), (SGD, dict(lr=0.05, momentum=0.9)),
                                        (Adam, dict(lr=0.1)), (RMSprop, dict(lr=0.05))])
def test_optimizers_minimise_a_quadratic(opt_cls, kw):
    w, _ = run(opt_cls, 300, **kw)
    np.testing.assert_allclose(w, [1.0, -2.0, 3.0], atol=0.05)


@pytest.mark.parametrize("opt_cls,kw", [(SGD, dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
                                        (Adam, dict(lr=0.1, betas=(0.5, 0.999))),
                                        (RMSprop, dict(lr=0.05, momentum=0.5))])
def test_state_dict_resumes_exactly(opt_cls, kw):
    _, opt = run(opt_cls, 5, **kw)
    w_full, _ = run(opt_cls, 10, **kw)
    # resume: 5 steps, save, new optimizer, load, 5 more
    target = Tensor(np.array([1.0, -2.0, 3.0]))
    w = Tensor(np.zeros(3), requires_grad=True)
    first = opt_cls([w], **kw)
    for _ in range(5):
        first.zero_grad()
        ((w - target) ** 2).sum().backward()
        first.step()
    saved = {k: np.array(v) for k, v in first.state_dict().items()}
    w2 = Tensor(w.data.copy(), requires_grad=True)
    second = opt_cls([w2], lr=123.0)
    second.load_state_dict(saved)
    for _ in range(5):
        second.zero_grad()
        ((w2 - target) ** 2).sum().backward()
        second.step()
    np.testing.assert_array_equal(w2.data, w_full)


def test_step_lr_and_plain_tensor_params():
    img = Tensor(np.zeros((1, 3, 2, 2), np.float32), requires_grad=True)
    opt = Adam([img], lr=3.0)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    lrs = [sched.step() for _ in range(5)]
    assert lrs == [3.0, 1.5, 1.5, 0.75, 0.75]


def test_optimizer_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="does not require grad"):
        SGD([Tensor(np.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="betas"):
        Adam([Tensor(np.ones(2), requires_grad=True)], betas=(1.0, 0.9))

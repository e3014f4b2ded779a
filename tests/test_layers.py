"""Modules: registration, state dicts, modes, initialisation, gradients through layers."""
import math
import os

import numpy as np
import pytest

import layers as nn
from layers import init
from layers.cases import CASES, layer_classes, layers_without_cases
from tinygrad_cs import GradcheckError, Tensor, gradcheck
from tinygrad_cs.gradcheck import gradcheck_module, gradgradcheck_module


def small_cnn():
    init.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 8),
                         nn.BatchNorm1d(8), nn.LeakyReLU(0.2), nn.Dropout(0.5),
                         nn.Linear(8, 3))


def test_parameter_counts_follow_the_architecture():
    assert nn.Linear(784, 256).num_parameters() == 784 * 256 + 256
    assert nn.Conv2d(3, 64, 3).num_parameters() == 64 * 3 * 9 + 64
    assert nn.ConvTranspose2d(128, 64, 4).num_parameters() == 128 * 64 * 16 + 64
    assert nn.BatchNorm2d(64).num_parameters() == 128
    assert nn.Linear(5, 2, bias=False).num_parameters() == 10


def test_state_dict_names_and_round_trip(tmp_path):
    m = small_cnn()
    sd = m.state_dict()
    assert list(sd)[:7] == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                            "1.running_var", "1.num_batches_tracked"]
    m(Tensor(np.random.default_rng(1).standard_normal((4, 1, 8, 8)).astype(np.float32)))
    path = tmp_path / "model.npz"
    m.save(path)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary file left behind
    other = small_cnn()
    other.load(path)
    for (k, a), (k2, b) in zip(m.state_dict().items(), other.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(a, b)
    assert other[1].num_batches_tracked == 1


def test_load_state_dict_names_missing_unexpected_and_mismatched_keys():
    m = small_cnn()
    sd = m.state_dict()
    del sd["0.bias"]
    sd["10.weight"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"missing keys: 0\.bias.*unexpected keys: 10\.weight"):
        m.load_state_dict(sd)
    sd = m.state_dict()
    sd["5.weight"] = np.zeros((8, 65))
    with pytest.raises(ValueError, match=r"shape mismatch for 5\.weight: the model has \(8, 64\)"):
        m.load_state_dict(sd)
    sd = m.state_dict()
    del sd["0.bias"]
    missing, unexpected = m.load_state_dict(sd, strict=False)
    assert missing == ["0.bias"] and unexpected == []


def test_train_eval_modes():
    m = small_cnn()
    x = Tensor(np.random.default_rng(2).standard_normal((6, 1, 8, 8)).astype(np.float32))
    m.eval()
    assert all(not mod.training for mod in m.modules())
    a, b = m(x).data, m(x).data
    np.testing.assert_array_equal(a, b)  # no dropout, running statistics: deterministic
    m.train()
    assert all(mod.training for mod in m.modules())
    assert not np.array_equal(m(x).data, m(x).data)  # dropout differs


def test_sequential_indexing_and_repr():
    m = small_cnn()
    assert isinstance(m[0], nn.Conv2d) and isinstance(m[-1], nn.Linear) and len(m) == 10
    assert len(m[:3]) == 3
    text = repr(m)
    assert "(0): Conv2d(1, 4, kernel_size=(3, 3)" in text and "(9): Linear(in_features=8" in text


def test_default_init_bounds_match_pytorch():
    init.manual_seed(0)
    lin = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.weight.data).max() > 0.9 * bound
    assert np.abs(lin.bias.data).max() <= bound
    conv = nn.Conv2d(8, 4, 3)
    assert np.abs(conv.weight.data).max() <= 1 / math.sqrt(72)
    w = Tensor(np.zeros((200, 300)))
    init.xavier_uniform_(w)
    b = math.sqrt(6 / 500)
    assert np.abs(w.data).max() <= b and w.data.std() == pytest.approx(b / math.sqrt(3), rel=0.05)
    init.kaiming_uniform_(w, a=0)
    assert np.abs(w.data).max() <= math.sqrt(6 / 300)


def test_manual_seed_makes_models_reproducible():
    a, b = small_cnn(), small_cnn()
    for x, y in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(x.data, y.data)


def test_gradcheck_through_a_small_model_in_float64():
    init.manual_seed(3)
    m = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.BatchNorm2d(3), nn.Tanh(),
                      nn.AvgPool2d(2), nn.Flatten(), nn.Linear(3, 2), nn.Sigmoid()).to(np.float64)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 2, 4, 4)), requires_grad=True)
    before = m.state_dict()
    assert gradcheck_module(m, x)  # the input and all 10 parameters
    for (key, a), b in zip(before.items(), m.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=key)  # running statistics restored
    with pytest.raises(GradcheckError, match="input 1 .* does not affect the output: does "
                       "the function use a tensor it captured instead of its argument"):
        gradcheck(lambda inp, *params: m(inp), [x] + m.parameters())  # reads m's own weights
    up = nn.ConvTranspose2d(2, 1, 4, stride=2, padding=1).to(np.float64)
    assert gradcheck(lambda inp: up(inp), [Tensor(np.ones((1, 2, 3, 3)), requires_grad=True)])
    assert up(Tensor(np.ones((1, 2, 7, 7)))).shape == (1, 1, 14, 14)


def test_layer_input_errors():
    with pytest.raises(ValueError, match=r"Linear: expected input with last dimension 4"):
        nn.Linear(4, 2)(Tensor(np.ones((3, 5), np.float32)))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input \(N, C, H, W\)"):
        nn.BatchNorm2d(3)(Tensor(np.ones((2, 3), np.float32)))
    with pytest.raises(ValueError, match="conv2d: x has 2 channels"):
        nn.Conv2d(3, 4, 3)(Tensor(np.ones((1, 2, 5, 5), np.float32)))
    with pytest.raises(TypeError, match="conv2d: x is float64 but the weight is float32"):
        nn.Conv2d(3, 4, 3)(Tensor(np.ones((1, 3, 5, 5))))


def test_unflatten_and_frozen_parameters():
    u = nn.Unflatten(1, (2, 3))
    assert u(Tensor(np.ones((4, 6)))).shape == (4, 2, 3)
    m = nn.Linear(3, 2).requires_grad_(False)
    assert all(not p.requires_grad for p in m.parameters())
    assert not m(Tensor(np.ones((1, 3), np.float32))).requires_grad


# -- the layer registry: every layer class, forward values and gradients ---------------------

LAYER_PARAMS = [pytest.param(cls, k, id=f"{cls.__name__}-{k}") for cls in layer_classes()
                for k in range(max(len(CASES.get(cls, [])), 1))]


def test_every_layer_has_a_case():
    assert layers_without_cases() == [], "layers without a case: add one in layers/cases.py"


@pytest.mark.parametrize("cls,k", LAYER_PARAMS)
def test_layer_case(cls, k):
    """Forward values against NumPy, then first (and second) derivatives with respect to
    the input and every parameter."""
    if not CASES.get(cls):
        pytest.fail(f"layer {cls.__name__} has no case: add a LayerCase in layers/cases.py")
    case = CASES[cls][k]
    label = f"{cls.__name__} case {k}" + (f" ({case.description})" if case.description else "")
    rng = np.random.default_rng(k)
    layer, arrays = case.build(rng), case.draw(rng)
    want = case.forward(layer, *[a.copy() for a in arrays])
    got = layer(*[Tensor(a) for a in arrays])
    assert got.shape == want.shape, f"{label}: output shape {got.shape}, reference {want.shape}"
    np.testing.assert_allclose(got.data, want, rtol=1e-9, atol=1e-12,
                               err_msg=f"{label}: forward differs from the NumPy reference")
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck_module(layer, *xs, name=f"gradcheck_module of {label}")
    if case.gradgrad:
        assert gradgradcheck_module(layer, *xs, name=f"gradgradcheck_module of {label}")


def test_a_layer_class_without_a_case_is_noticed():
    class Doubler(nn.Module):
        __module__ = "layers.experimental"  # as if defined in the layers package

        def forward(self, x):
            return x * 2

    try:
        assert Doubler in layer_classes()
        assert "Doubler" in layers_without_cases()
    finally:
        Doubler.__module__ = __name__
    assert "Doubler" not in layers_without_cases()
    assert nn.Linear in layer_classes() and nn.BatchNorm2d in layer_classes()
    assert not any(cls.__name__.startswith("_") for cls in layer_classes())  # _BatchNorm

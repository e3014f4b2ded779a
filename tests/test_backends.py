"""The seam: both backends provide the same functions, agree on them, and can be chosen."""
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_cs as tg
from tinygrad_cs import backends
from tinygrad_cs.backends import fast, reference
from tinygrad_cs.backends.shapes import conv_out_size, pool_out_size

rng = np.random.default_rng(7)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_both_backends_expose_exactly_the_interface():
    for module in (reference, fast):
        public = {n for n in dir(module) if callable(getattr(module, n)) and not n.startswith("_")}
        missing = set(backends.INTERFACE) - public
        assert not missing, f"{module.NAME} lacks {missing}"
    with pytest.raises(AttributeError, match="no backend function"):
        backends.kernels.convolve


def test_the_reference_backend_imports_no_numba():
    code = ("import sys, tinygrad_cs as tg, numpy as np; tg.set_backend('reference'); "
            "import layers as nn; m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), "
            "nn.MaxPool2d(2)); m(tg.Tensor(np.ones((2, 1, 6, 6), np.float32))).sum().backward(); "
            "print('numba' in sys.modules, 'threadpoolctl' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out == ["False", "False"]


def test_choosing_a_backend():
    before = tg.get_backend()
    try:
        tg.set_backend("reference")
        assert tg.get_backend() == "reference"
        with pytest.raises(ValueError, match="unknown backend 'numba'"):
            tg.set_backend("numba")
    finally:
        tg.set_backend(before)
    for env, want in ((dict(TINYGRAD_CS_BACKEND="reference"), "reference"),
                      (dict(TINYGRAD_CS_NUMBA="0"), "reference"), ({}, "fast")):
        clean = {k: v for k, v in os.environ.items()
                 if k not in ("TINYGRAD_CS_BACKEND", "TINYGRAD_CS_NUMBA")}
        code = "import tinygrad_cs as tg; print(tg.get_backend())"
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, text=True,
                             capture_output=True, env={**clean, **env}).stdout.strip()
        assert out == want


# (N, C, H, W, O, k, stride, padding): odd sizes, strides, padding, few and many channels
CONVS = [(1, 1, 5, 5, 2, 1, 1, 0), (2, 3, 7, 6, 4, 3, 1, 1), (3, 2, 9, 8, 3, 3, 2, 1),
         (2, 6, 8, 7, 5, (4, 2), (2, 1), (1, 0)), (1, 7, 6, 6, 3, 5, 1, 2), (4, 5, 5, 5, 6, 1, 1, 0)]


def _two(v):
    return v if isinstance(v, tuple) else (v, v)


@pytest.mark.parametrize("case", CONVS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_convolutions_agree(case, dtype):
    N, C, H, W, O, k, s, p = case
    (kh, kw), s, p = _two(k), _two(s), _two(p)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((O, C, kh, kw)).astype(dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    y = reference.conv2d(x, w, s, p)
    np.testing.assert_allclose(fast.conv2d(x, w, s, p), y, **tol)
    g = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(fast.conv2d_weight_grad(x, g, (kh, kw), s, p),
                               reference.conv2d_weight_grad(x, g, (kh, kw), s, p), **tol)
    wt = rng.standard_normal((O, C, kh, kw)).astype(dtype)
    np.testing.assert_allclose(fast.conv_transpose2d(g, wt, s, p, (H, W)),
                               reference.conv_transpose2d(g, wt, s, p, (H, W)), **tol)
    b = rng.standard_normal(O).astype(dtype)
    np.testing.assert_allclose(fast.add_channel_bias(y.copy(), b),
                               reference.add_channel_bias(y.copy(), b), **tol)


POOLS = [(2, 3, 7, 7, 3, 2, 0, True), (1, 2, 6, 5, 3, 1, 1, False), (3, 1, 9, 8, 2, 2, 1, True),
         (2, 2, 5, 5, 2, 2, 0, False)]


@pytest.mark.parametrize("case", POOLS)
def test_pooling_agrees_also_with_nan_and_inf(case):
    N, C, H, W, k, s, p, ceil = case
    Ho, Wo = pool_out_size(H, k, s, p, ceil), pool_out_size(W, k, s, p, ceil)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    x.flat[rng.choice(x.size, 3, replace=False)] = [np.nan, np.inf, -np.inf]
    window = (k, k, s, s, p, p, Ho, Wo)
    (out_r, arg_r), (out_f, arg_f) = reference.maxpool(x, *window), fast.maxpool(x, *window)
    np.testing.assert_array_equal(out_f, out_r)                  # NaN where the reference has NaN
    np.testing.assert_array_equal(arg_f, arg_r)
    g = rng.standard_normal(out_r.shape).astype(np.float32)
    np.testing.assert_allclose(fast.scatter(g, arg_r, H, W), reference.scatter(g, arg_r, H, W),
                               rtol=1e-6)
    np.testing.assert_array_equal(fast.gather(x, arg_r), reference.gather(x, arg_r))
    Ha, Wa = pool_out_size(H, k, s, p), pool_out_size(W, k, s, p)   # average pooling: no ceil
    np.testing.assert_allclose(fast.avgpool(x, k, k, s, s, p, p, Ha, Wa),
                               reference.avgpool(x, k, k, s, s, p, p, Ha, Wa), rtol=1e-5)
    gA = rng.standard_normal((N, C, Ha, Wa))
    np.testing.assert_allclose(fast.avgpool_backward(gA, H, W, k, k, s, s, p, p),
                               reference.avgpool_backward(gA, H, W, k, k, s, s, p, p), rtol=1e-10)


@pytest.mark.parametrize("position", range(4))
def test_a_nan_anywhere_in_a_window_is_pooled_as_nan(position):
    x = np.array([1.0, 2.0, 3.0, 4.0], np.float32).reshape(1, 1, 2, 2)
    x.flat[position] = np.nan
    for backend in (reference, fast):
        out, arg = backend.maxpool(x, 2, 2, 2, 2, 0, 0, 1, 1)
        assert np.isnan(out[0, 0, 0, 0]), backend.NAME
        assert arg[0, 0, 0, 0] == position, backend.NAME


@pytest.mark.parametrize("shape", [(4, 3, 1), (2, 5, 12), (3, 37, 5), (6, 1100, 1)])
def test_batch_norm_agrees(shape):
    x = rng.standard_normal(shape) * 3 + 1
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    ref, fst = reference.batchnorm_forward(x, w, b, 1e-5), fast.batchnorm_forward(x, w, b, 1e-5)
    for a, r in zip(fst, ref):
        np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(shape)
    for a, r in zip(fast.batchnorm_backward(g, x, w, ref[1], ref[3]),
                    reference.batchnorm_backward(g, x, w, ref[1], ref[3])):
        np.testing.assert_allclose(a, r, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("shape", [(7,), (300, 500), (3, 400, 200)])
def test_elementwise_and_products_agree(shape):
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    np.testing.assert_array_equal(fast.leaky_relu(x, 0.2), reference.leaky_relu(x, 0.2))
    np.testing.assert_array_equal(fast.leaky_relu_backward(g, x, 0.2),
                                  reference.leaky_relu_backward(g, x, 0.2))
    np.testing.assert_array_equal(fast.accumulate(x, g), reference.accumulate(x, g))
    if len(shape) == 2:  # a transposed view, as a gradient through a.T is
        t = rng.standard_normal(shape[::-1]).T
        np.testing.assert_array_equal(fast.accumulate(x, t), x + t)
        np.testing.assert_array_equal(fast.accumulate(t, x), x + t)
        b = rng.standard_normal((shape[1], 90))
        np.testing.assert_allclose(fast.matmul(x, b), x @ b, rtol=1e-12)
        np.testing.assert_allclose(fast.matmul(b.T, x.T), b.T @ x.T, rtol=1e-12)  # columns split
    if len(shape) == 3:
        b = rng.standard_normal((shape[0], shape[2], 40))
        np.testing.assert_allclose(fast.matmul(x, b), x @ b, rtol=1e-12)
    w = [rng.standard_normal(shape) for _ in range(2)]
    m, v = [rng.standard_normal(shape) for _ in range(2)]
    v = np.abs(v)
    states = [(w[0].copy(), m.copy(), v.copy()) for _ in range(2)]
    for backend, (w_, m_, v_) in zip((reference, fast), states):
        backend.adam_update(w_, g, m_, v_, 0.01, 0.9, 0.999, 1e-8, 3)
    for a, b in zip(*states):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("size", [3, 100_000])
def test_adam_with_a_nan_gradient_makes_nan_weights_on_both_backends(size):
    for backend in (reference, fast):
        w = np.ones(size, np.float32)
        g = np.ones(size, np.float32)
        g[0] = np.nan
        m, v = np.zeros_like(w), np.zeros_like(w)
        backend.adam_update(w, g, m, v, 0.1, 0.9, 0.999, 1e-8, 1)   # no exception
        assert np.isnan(w[0]) and np.isfinite(w[1:]).all(), backend.NAME


def test_ops_give_the_same_gradients_on_both_backends_first_and_second_order():
    """A small network through every heavy op; gradients, and a gradient of a gradient."""
    import tinygrad_cs.functional as F
    from tinygrad_cs import Tensor
    x0 = rng.standard_normal((2, 3, 9, 9))
    w0, w1 = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((4, 2, 3, 3))
    results = {}
    before = tg.get_backend()
    try:
        for name in backends.BACKENDS:
            tg.set_backend(name)
            x, wa, wb = (Tensor(a, requires_grad=True) for a in (x0, w0, w1))
            h = F.conv2d(x, wa, stride=2, padding=1).leaky_relu(0.2)
            h = F.max_pool2d(F.batch_norm(h, None, None, training=True), 2, ceil_mode=True)
            h = F.conv_transpose2d(h, wb, stride=2)
            loss = (h * h).sum()
            gx, gw = tg.grad(loss, [x, wa], create_graph=True)
            (ggx,) = tg.grad((gx * gx).sum() + (gw * gw).sum(), [x])
            results[name] = [t.data for t in (loss, gx, gw, ggx)]
    finally:
        tg.set_backend(before)
    for a, b in zip(results["reference"], results["fast"]):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("dtype", ["float16", ">f4", ">f8"])
def test_dtypes_the_kernels_are_not_built_for_give_the_reference_result(dtype):
    """float16 and big-endian arrays: the fast backend hands them to the reference."""
    x = rng.standard_normal((2, 3, 6, 6)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    for name, args in [("conv2d", (x, w, (1, 1), (1, 1))),
                       ("maxpool", (x, 2, 2, 2, 2, 0, 0, 3, 3)),
                       ("leaky_relu", (x, 0.2)),
                       ("batchnorm_forward", (x.reshape(2, 3, 36), w[0, :, 0, 0],
                                              w[1, :, 0, 0], 1e-5))]:
        got, want = getattr(fast, name)(*args), getattr(reference, name)(*args)
        for g, r in zip(got if isinstance(got, tuple) else [got],
                        want if isinstance(want, tuple) else [want]):
            assert g.dtype == r.dtype
            np.testing.assert_array_equal(g, r)


def test_a_float16_network_trains_on_both_backends():
    import layers as nn
    import tinygrad_cs.functional as F
    from tinygrad_cs import Tensor
    before = tg.get_backend()
    try:
        for name in backends.BACKENDS:
            tg.set_backend(name)
            tg.manual_seed(0)
            model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.LeakyReLU(0.2),
                                  nn.MaxPool2d(2)).to(np.float16)
            x = Tensor(rng.standard_normal((2, 1, 4, 4)).astype(np.float16))
            loss = (model(x) ** 2).sum()
            loss.backward()
            assert loss.dtype == np.float16 and np.isfinite(loss.data)
            assert all(p.grad.dtype == np.float16 for p in model.parameters())
    finally:
        tg.set_backend(before)


def test_the_backends_agree_on_edge_cases():
    """Integer data, an empty batch, a slope per element, and Adam's overflow."""
    ints = np.arange(32).reshape(2, 1, 4, 4)
    np.testing.assert_array_equal(fast.avgpool(ints, 2, 2, 2, 2, 0, 0, 2, 2),
                                  reference.avgpool(ints, 2, 2, 2, 2, 0, 0, 2, 2))
    empty = np.zeros((0, 3, 8, 8), np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    for backend in (reference, fast):
        y = backend.conv2d(empty, w, (1, 1), (1, 1))
        assert y.shape == (0, 4, 8, 8), backend.NAME
        assert backend.conv2d_weight_grad(empty, y, (3, 3), (1, 1), (1, 1)).shape == w.shape
        assert backend.conv_transpose2d(y, w, (1, 1), (1, 1), (8, 8)).shape == empty.shape
    x = rng.standard_normal((2, 3)).astype(np.float32)
    slopes = np.array([0.1, 0.2, 0.3], np.float32)
    np.testing.assert_array_equal(fast.leaky_relu(x, slopes), reference.leaky_relu(x, slopes))
    states = [[np.ones(3, np.float32), np.zeros(3, np.float32), np.zeros(3, np.float32)]
              for _ in range(2)]
    g = np.full(3, 1e30, np.float32)                       # g * g overflows float32
    with np.errstate(over="ignore"):
        for backend, (w_, m_, v_) in zip((reference, fast), states):
            backend.adam_update(w_, g, m_, v_, 0.1, 0.9, 0.999, 1e-8, 1)
    np.testing.assert_array_equal(states[0][0], states[1][0])

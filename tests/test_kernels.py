"""The fast backend's numba kernels == the reference backend == independent oracles."""
import itertools

import numpy as np
import pytest
from scipy import signal

import tinygrad_cs.functional as F
from tinygrad_cs import Tensor, grad
from tinygrad_cs.backends.fast import batchnorm as BN
from tinygrad_cs.backends.fast import im2col as IM
from tinygrad_cs.backends.fast import pool as P
from tinygrad_cs.backends.reference import batchnorm as RBN
from tinygrad_cs.backends.reference import conv as RC
from tinygrad_cs.backends.reference import elementwise as RE
from tinygrad_cs.backends.reference import im2col as RIM
from tinygrad_cs.backends.reference import pool as RP
from tinygrad_cs.backends.shapes import conv_out_size, pool_out_size

rng = np.random.default_rng(0)

# (N, C, H, W, k, stride, padding): odd sizes, stride 2, padding, kernel sizes 1, 3, 4, 5
CONV_SHAPES = [(1, 1, 5, 5, 1, 1, 0), (2, 3, 7, 6, 3, 1, 1), (2, 2, 9, 8, 3, 2, 1),
               (1, 3, 8, 8, 4, 2, 1), (3, 2, 11, 9, 5, 1, 2), (2, 1, 10, 7, 5, 2, 0),
               (1, 2, 6, 7, (3, 2), (2, 1), (1, 0)),
               (2, 6, 7, 6, 3, 2, 1)]  # more than FEW_CHANNELS: channels-last patches


@pytest.fixture(autouse=True, params=["parallel", "serial"])
def kernel_threads(request, monkeypatch):
    """Every test here runs twice: with each numba kernel's parallel build and with its serial
    twin (which the dispatchers pick for small jobs, and so for most shapes in the suite)."""
    import tinygrad_cs.backends.fast.compile as KS
    monkeypatch.setattr(KS, "PARALLEL_MIN_WORK", 0 if request.param == "parallel" else 1 << 62)
    return request.param


def _pairs(k, s, p):
    as2 = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    return as2(k), as2(s), as2(p)


@pytest.mark.parametrize("shape", CONV_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_and_col2im_numba_equal_reference(shape, dtype):
    N, C, H, W, k, s, p = shape
    (kh, kw), (sh, sw), (ph, pw) = _pairs(k, s, p)
    x = rng.standard_normal((N, H, W, C)).astype(dtype)  # channels last
    cols = RIM.im2col(x, kh, kw, sh, sw, ph, pw)
    buf = np.full(cols.shape, np.nan, dtype)  # every entry must be written
    np.testing.assert_array_equal(IM._im2col_numba(x, kh, kw, sh, sw, ph, pw,
                                                   *_out_hw(H, W, kh, kw, sh, sw, ph, pw), buf),
                                  cols)
    back_ref = RIM.col2im(cols, x.shape, kh, kw, sh, sw, ph, pw)
    back = IM._col2im_numba(cols, N, H, W, C, kh, kw, sh, sw, ph, pw,
                            *_out_hw(H, W, kh, kw, sh, sw, ph, pw))
    np.testing.assert_allclose(back, back_ref, rtol=1e-5 if dtype == np.float32 else 1e-12)
    # col2im is the adjoint of im2col: <im2col(x), c> == <x, col2im(c)>
    c = rng.standard_normal(cols.shape)
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * RIM.col2im(
        c, x.shape, kh, kw, sh, sw, ph, pw)), rtol=1e-4)


@pytest.mark.parametrize("shape", CONV_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_nchw_is_the_transposed_patch_matrix(shape, dtype):
    from tinygrad_cs.backends.fast import im2col_nchw as IMN
    N, C, H, W, k, s, p = shape
    (kh, kw), (sh, sw), (ph, pw) = _pairs(k, s, p)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    cols = IMN.im2col_nchw_reference(x, kh, kw, sh, sw, ph, pw)
    # the channels-last reference's rows (pixel, (i, j, c)), reordered to ((c, i, j), pixel)
    rows = RIM.im2col(x.transpose(0, 2, 3, 1), kh, kw, sh, sw, ph, pw)
    np.testing.assert_array_equal(
        cols, rows.reshape(-1, kh, kw, C).transpose(3, 1, 2, 0).reshape(cols.shape))
    buf = np.full(cols.shape, np.nan, dtype)  # every entry must be written
    np.testing.assert_array_equal(IMN._im2col_nchw_numba(
        x, kh, kw, sh, sw, ph, pw, *_out_hw(H, W, kh, kw, sh, sw, ph, pw), buf), cols)
    c = rng.standard_normal(cols.shape).astype(dtype)
    back_ref = IMN.col2im_nchw_reference(c, x.shape, kh, kw, sh, sw, ph, pw)
    np.testing.assert_allclose(IMN._col2im_nchw_numba(c, N, C, H, W, kh, kw, sh, sw, ph, pw,
                                                      *_out_hw(H, W, kh, kw, sh, sw, ph, pw)),
                               back_ref, rtol=1e-5 if dtype == np.float32 else 1e-12)
    # col2im_nchw is the adjoint of im2col_nchw: <im2col(x), c> == <x, col2im(c)>
    np.testing.assert_allclose(np.sum(cols * c, dtype=np.float64),
                               np.sum(x * back_ref, dtype=np.float64), rtol=1e-4)


def _out_hw(H, W, kh, kw, sh, sw, ph, pw):
    return conv_out_size(H, kh, sh, ph), conv_out_size(W, kw, sw, pw)


def conv2d_oracle(x, w, b, stride, padding):
    """Direct definition with scipy.signal.correlate, then subsampling for the stride."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, O = x.shape[0], w.shape[0]
    full = np.stack([np.stack([sum(signal.correlate(xp[n, c], w[o, c], mode="valid")
                                   for c in range(x.shape[1])) for o in range(O)])
                     for n in range(N)])
    return full[:, :, ::sh, ::sw] + b[None, :, None, None]


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("shape", CONV_SHAPES)
def test_conv2d_equals_scipy_oracle(shape):
    N, C, H, W, k, s, p = shape
    (kh, kw), stride, padding = _pairs(k, s, p)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((4, C, kh, kw))
    b = rng.standard_normal(4)
    ours = F.conv2d(Tensor(x), Tensor(w), Tensor(b), stride, padding).data
    np.testing.assert_allclose(ours, conv2d_oracle(x, w, b, stride, padding), atol=1e-10)


def conv_transpose2d_oracle(x, w, stride, padding, output_padding):
    """Direct definition: every input pixel adds w * x into a window of the output."""
    (sh, sw), (ph, pw), (oh, ow) = stride, padding, output_padding
    N, Cin, H, W = x.shape
    _, Cout, kh, kw = w.shape
    Ho, Wo = (H - 1) * sh + kh + oh, (W - 1) * sw + kw + ow
    out = np.zeros((N, Cout, Ho, Wo))
    for n, ci, i, j in itertools.product(range(N), range(Cin), range(H), range(W)):
        out[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += x[n, ci, i, j] * w[ci]
    return out[:, :, ph:Ho - ph, pw:Wo - pw]


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("case", [((2, 3, 3, 3), (3, 2, 4, 4), 2, 1, 0),
                                  ((1, 2, 4, 3), (2, 3, 3, 3), 2, 1, 1),
                                  ((2, 1, 5, 5), (1, 1, 5, 5), 1, 2, 0),
                                  ((1, 4, 7, 7), (4, 2, 4, 4), 2, 1, 0)])
def test_conv_transpose2d_equals_direct_oracle(case):
    xs, ws, s, p, op = case
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    ours = F.conv_transpose2d(Tensor(x), Tensor(w), stride=s, padding=p, output_padding=op).data
    expected = conv_transpose2d_oracle(x, w, (s, s), (p, p), (op, op))
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, atol=1e-10)


@pytest.mark.usefixtures("backend")
def test_conv_gradients_are_the_transpose_and_weight_grad():
    x = Tensor(rng.standard_normal((2, 3, 7, 7)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    g = rng.standard_normal((2, 4, 4, 4))
    y = F.conv2d(x, w, stride=2, padding=1)
    dx, dw = grad(y, [x, w], [Tensor(g)])
    # <conv2d(x, w), g> is linear in x and in w: check against finite differences
    # of the whole inner product along random directions
    u, v = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    f = lambda a, b: np.sum(F.conv2d(Tensor(a), Tensor(b), stride=2, padding=1).data * g)  # noqa
    np.testing.assert_allclose(np.sum(dx.data * u), f(x.data + u, w.data) - f(x.data, w.data),
                               rtol=1e-9)
    np.testing.assert_allclose(np.sum(dw.data * v), f(x.data, w.data + v) - f(x.data, w.data),
                               rtol=1e-9)


def maxpool_oracle(x, k, s, p, ceil_mode):
    N, C, H, W = x.shape
    Ho, Wo = pool_out_size(H, k, s, p, ceil_mode), pool_out_size(W, k, s, p, ceil_mode)
    out = np.empty((N, C, Ho, Wo))
    for i, j in itertools.product(range(Ho), range(Wo)):
        r0, c0 = i * s - p, j * s - p
        win = x[:, :, max(r0, 0):min(r0 + k, H), max(c0, 0):min(c0 + k, W)]
        out[:, :, i, j] = win.max(axis=(2, 3))
    return out


POOL_CASES = [(1, 1, 4, 4, 2, 2, 0, False), (2, 3, 7, 7, 3, 2, 0, True),
              (2, 2, 13, 13, 3, 2, 0, True), (1, 2, 6, 5, 3, 1, 1, False),
              (3, 1, 9, 8, 2, 2, 1, True), (1, 1, 5, 5, 5, 1, 2, False)]


@pytest.mark.parametrize("case", POOL_CASES)
def test_maxpool_numba_reference_oracle(case):
    N, C, H, W, k, s, p, ceil = case
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    Ho, Wo = pool_out_size(H, k, s, p, ceil), pool_out_size(W, k, s, p, ceil)
    out_ref, arg_ref = RP.maxpool(x, k, k, s, s, p, p, Ho, Wo)
    out_nb, arg_nb = P.maxpool(x, k, k, s, s, p, p, Ho, Wo)
    np.testing.assert_array_equal(out_nb, out_ref)
    np.testing.assert_array_equal(arg_nb, arg_ref)
    np.testing.assert_array_equal(out_ref, maxpool_oracle(x, k, s, p, ceil))
    np.testing.assert_array_equal(P.gather(x, arg_ref), out_ref)
    # many ties (values 0, 1, 2): both keep the first maximum in (row, column) order
    ties = rng.integers(0, 3, x.shape).astype(np.float32)
    np.testing.assert_array_equal(P.maxpool(ties, k, k, s, s, p, p, Ho, Wo)[1],
                                  RP.maxpool(ties, k, k, s, s, p, p, Ho, Wo)[1])
    g = rng.standard_normal(out_ref.shape).astype(np.float32)
    np.testing.assert_allclose(P._scatter_numba(g, arg_ref, H, W),
                               RP.scatter(g, arg_ref, H, W), rtol=1e-6)


def test_maxpool_padding_never_wins_even_against_minus_infinity():
    # windows over the border hold -inf padding next to -inf pixels: the winner must still
    # be a pixel of the plane, as PyTorch's indices are
    x = np.full((1, 2, 5, 6), -np.inf, np.float32)
    x[0, 1, 2, 3] = 1.0
    for k, s, p, ceil in [(3, 2, 1, True), (2, 2, 1, True), (3, 1, 1, False)]:
        Ho, Wo = pool_out_size(5, k, s, p, ceil), pool_out_size(6, k, s, p, ceil)
        out, arg = P.maxpool(x, k, k, s, s, p, p, Ho, Wo)
        assert ((0 <= arg) & (arg < 30)).all()
        np.testing.assert_array_equal(P.gather(x, arg), out)
        np.testing.assert_array_equal(out, maxpool_oracle(x, k, s, p, ceil))


def test_ceil_mode_sizes_match_pytorch_rule():
    # SqueezeNet: 111 -> 55 -> 27 -> 13 with kernel 3 stride 2 ceil mode; 8 -> 4 (not 5)
    assert [pool_out_size(n, 3, 2, 0, True) for n in (111, 55, 27)] == [55, 27, 13]
    assert pool_out_size(8, 2, 2, 0, True) == 4
    assert pool_out_size(6, 3, 2, 0, True) == 3 and pool_out_size(6, 3, 2, 0, False) == 2
    assert pool_out_size(5, 2, 2, 1, True) == 3  # last window starts at 3 < 5 + 1


@pytest.mark.parametrize("case", [(2, 3, 6, 6, 2, 2, 0), (1, 2, 7, 5, 3, 2, 1),
                                  (2, 1, 5, 5, 3, 1, 1)])
def test_avgpool_numba_reference_oracle(case):
    N, C, H, W, k, s, p = case
    x = rng.standard_normal((N, C, H, W))
    Ho, Wo = pool_out_size(H, k, s, p), pool_out_size(W, k, s, p)
    ref = RP.avgpool(x, k, k, s, s, p, p, Ho, Wo)
    np.testing.assert_allclose(P._avgpool_numba(x, k, k, s, s, p, p, Ho, Wo), ref)
    ones = np.ones((1, 1, k, k)) / (k * k)
    oracle = np.stack([np.stack([conv2d_oracle(x[n:n + 1, c:c + 1], ones, np.zeros(1), (s, s),
                                               (p, p))[0, 0] for c in range(C)])
                       for n in range(N)])
    np.testing.assert_allclose(ref, oracle, atol=1e-12)
    g = rng.standard_normal(ref.shape)
    np.testing.assert_allclose(P._avgpool_backward_numba(g, H, W, k, k, s, s, p, p),
                               RP.avgpool_backward(g, H, W, k, k, s, s, p, p))


# 37 channels: several of the (N, C, S) kernels' channel blocks, the last one partial;
# 1100 channels: three of the (N, C) kernels' column blocks, the last one partial
@pytest.mark.parametrize("shape", [(4, 3, 1), (2, 5, 12), (1, 2, 9), (3, 37, 5), (6, 1100, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm_numba_equals_reference(shape, dtype):
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    w, b = rng.standard_normal(shape[1]).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    ref = RBN.batchnorm_forward(x, w, b, 1e-5)
    nb = BN.batchnorm_forward(x, w, b, 1e-5)
    for a, r in zip(nb, ref):
        assert a.shape == r.shape
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol)
    g = rng.standard_normal(shape).astype(dtype)
    for a, r in zip(BN.batchnorm_backward(g, x, w, ref[1], ref[3]),
                    RBN.batchnorm_backward(g, x, w, ref[1], ref[3])):
        assert a.shape == r.shape and a.dtype == r.dtype
        np.testing.assert_allclose(a, r, rtol=tol * 10, atol=tol * 10)


@pytest.mark.usefixtures("backend")
def test_batch_norm_running_stats_and_eval_mode():
    x = rng.standard_normal((8, 3, 2, 2)) * 2 + 5
    rm, rv = np.zeros(3), np.ones(3)
    y = F.batch_norm(Tensor(x), rm, rv, training=True, momentum=0.1)
    mean, var_unbiased = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(rm, 0.1 * mean)
    np.testing.assert_allclose(rv, 0.9 + 0.1 * var_unbiased)
    expected = (x - mean[None, :, None, None]) / np.sqrt(x.var(axis=(0, 2, 3)) + 1e-5)[
        None, :, None, None]
    np.testing.assert_allclose(y.data, expected, atol=1e-10)
    y_eval = F.batch_norm(Tensor(x), rm, rv, training=False)
    np.testing.assert_allclose(y_eval.data, (x - rm[None, :, None, None]) /
                               np.sqrt(rv + 1e-5)[None, :, None, None], atol=1e-10)


@pytest.mark.usefixtures("backend")
def test_batchnorm_backward_paths_agree():
    """The fused kernel (default backward) and the Tensor-op formula (create_graph)."""
    x = Tensor(rng.standard_normal((5, 3, 2, 2)), requires_grad=True)
    w = Tensor(rng.standard_normal(3), requires_grad=True)
    b = Tensor(rng.standard_normal(3), requires_grad=True)
    g = Tensor(rng.standard_normal((5, 3, 2, 2)))
    fast = grad(F.batch_norm(x, None, None, w, b, training=True), [x, w, b], [g])
    graph = grad(F.batch_norm(x, None, None, w, b, training=True), [x, w, b], [g],
                 create_graph=True)
    for a, c in zip(fast, graph):
        np.testing.assert_allclose(a.data, c.data, atol=1e-12)
    assert graph[0].grad_fn is not None and fast[0].grad_fn is None


def test_fused_elementwise_kernels_equal_references():
    from tinygrad_cs.backends.fast import elementwise as E
    x = rng.standard_normal((3, 5, 7)).astype(np.float32)
    g = rng.standard_normal((3, 5, 7)).astype(np.float32)
    np.testing.assert_array_equal(E.leaky_relu(x, 0.2), RE.leaky_relu(x, 0.2))
    np.testing.assert_array_equal(E.leaky_relu_backward(g, x, 0.2),
                                  RE.leaky_relu_backward(g, x, 0.2))
    # 2-D, like a weight matrix: the update must land in the caller's arrays
    w1, m1, v1 = [rng.standard_normal((5, 10)).astype(np.float32) for _ in range(3)]
    v1 = np.abs(v1)
    w2, m2, v2 = w1.copy(), m1.copy(), v1.copy()
    grad_ = rng.standard_normal((5, 10)).astype(np.float32)
    RE.adam_update(w1, grad_, m1, v1, 0.01, 0.9, 0.999, 1e-8, 3)
    E.adam_update(w2, grad_, m2, v2, 0.01, 0.9, 0.999, 1e-8, 3)
    for a, b in ((w1, w2), (m1, m2), (v1, v2)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (4, 3), (2, 64, 40, 41)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_channel_bias_equals_reference_in_place(shape, dtype):
    from tinygrad_cs.backends.fast import elementwise as E
    y = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    expected = y + b.reshape((1, -1) + (1,) * (len(shape) - 2))
    out = E.add_channel_bias(y, b)
    assert out is y  # in place: a convolution adds its bias into its fresh output
    np.testing.assert_array_equal(y, expected)
    strided = rng.standard_normal((shape[0], 2 * shape[1]) + shape[2:]).astype(dtype)[:, ::2]
    expected = strided + b.reshape((1, -1) + (1,) * (len(shape) - 2))
    np.testing.assert_array_equal(E.add_channel_bias(strided, b), expected)


@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_arithmetic_equals_numpy_bit_for_bit(op, dtype):
    """Every case binary() takes to the compiled loop, and the ones it leaves to NumPy."""
    from tinygrad_cs.backends.fast import elementwise as E
    a = rng.standard_normal((3, 4, 5)).astype(dtype)
    b = rng.standard_normal((3, 4, 5)).astype(dtype)
    one = np.asarray(rng.standard_normal(), dtype)
    cases = [(a, b), (a, one), (one, a), (a, one.reshape(1, 1)),
             (a, np.broadcast_to(one, a.shape)),           # a sum's gradient: strides 0
             (a, b.transpose(0, 2, 1).copy().transpose(0, 2, 1)),  # not contiguous
             (a, b[0, 0]), (a[:, :1], b),                  # real broadcasting
             (a, b.astype(np.float16)),                    # mixed dtypes
             (a, one.reshape(1, 1, 1, 1))]                 # the result has more axes
    for x, y in cases:
        got, want = E.binary(op, x, y), E.BINARY_OPS[op](x, y)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    into = a.copy()                                        # in place, as gradient sums are
    assert E.binary(op, into, b, out=into) is into
    np.testing.assert_array_equal(into, E.BINARY_OPS[op](a, b))


@pytest.mark.parametrize("N", [1, 3, 5])
@pytest.mark.parametrize("cores", [1, 2])               # the batch split between cores or not
@pytest.mark.parametrize("rows_min_k", [1, 10 ** 9])  # both ways round of conv2d's product
@pytest.mark.parametrize("few_channels", [0, 4])      # NHWC patches / NCHW patches
def test_chunked_conv_paths_equal_the_references(N, cores, rows_min_k, few_channels, monkeypatch):
    """The chunked im2col path (with several chunks per slice of the batch) and the 1x1
    matrix-product path."""
    from tinygrad_cs.backends.fast import conv as KC
    from tinygrad_cs.backends.fast import split
    monkeypatch.setattr(split, "cores", lambda: cores)
    monkeypatch.setattr(KC, "ROWS_MIN_K", rows_min_k)
    monkeypatch.setattr(KC, "FEW_CHANNELS", few_channels)
    for (k, s, p) in [(3, 2, 1), (1, 1, 0), (4, 2, 1)]:
        x = rng.standard_normal((N, 3, 7, 6))
        w = rng.standard_normal((5, 3, k, k))
        # chunks of two images (a patch row is 3*k*k long, one image has Ho*Wo of them):
        # with N = 5 and two cores, slices of 2 and 3 images, the second in two chunks
        Ho, Wo = (conv_out_size(n, k, s, p) for n in (7, 6))
        monkeypatch.setattr(KC, "CHUNK_ELEMENTS", 2 * 3 * k * k * Ho * Wo)
        y = RC.conv2d(x, w, (s, s), (p, p))
        np.testing.assert_allclose(KC.conv2d_chunked(x, w, (s, s), (p, p)), y, atol=1e-12)
        g = rng.standard_normal(y.shape)
        np.testing.assert_allclose(KC.weight_grad_chunked(x, g, (k, k), (s, s), (p, p)),
                                   RC.conv2d_weight_grad(x, g, (k, k), (s, s), (p, p)), atol=1e-12)
        wt = rng.standard_normal((5, 3, k, k))
        np.testing.assert_allclose(KC.conv_transpose2d_chunked(g, wt, (s, s), (p, p), (7, 6)),
                                   RC.conv_transpose2d(g, wt, (s, s), (p, p), (7, 6)),
                                   atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5, 4, 6), (4, 3, 3, 10)])  # the second: a small image
def test_layout_moves_equal_numpy_transposes(dtype, shape):
    """backends/fast/layout.py (numba when parallel pays, which the autouse fixture switches)."""
    from tinygrad_cs.backends.fast import layout as L
    x = rng.standard_normal(shape).astype(dtype)
    for move, axes in ((L.to_channels_last, (0, 2, 3, 1)), (L.to_channels_first, (0, 3, 1, 2)),
                       (L.swap_first_axes, (1, 0, 2, 3))):
        want = x.transpose(axes)
        got = move(x)
        assert got.flags.c_contiguous and got.dtype == x.dtype
        np.testing.assert_array_equal(got, want)
        into = np.zeros((2,) + want.shape, dtype)[1]     # a contiguous slab of a bigger array
        assert move(x, out=into) is into
        np.testing.assert_array_equal(into, want)
        np.testing.assert_array_equal(move(x[:, :, ::2]), x[:, :, ::2].transpose(axes))

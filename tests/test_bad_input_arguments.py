"""Bad arguments give a clear error naming the op or program, the argument and the value,
before any work: the demos' flags (argparse), the conv and pooling ops and layers, batch
norm, and Tensor construction."""
import argparse

import numpy as np
import pytest

import layers as nn
import tinygrad_cs.functional as F
from demos import args as demo_args
from demos import classify, evaluate_gan, gan, style_transfer, train_mnist_classifier
from tinygrad_cs import Tensor


def no_work(*args, **kwargs):
    pytest.fail("the work started before the arguments were checked")


# the first function each demo calls after parsing its arguments
HEAVY = {gan: "load_mnist", train_mnist_classifier: "load_mnist", style_transfer: "load_squeezenet",
         evaluate_gan: "load_mnist", classify: "load_squeezenet"}

DEMO_FLAGS = [  # demo, argv, fragment of argparse's message
    (style_transfer, ["--image-size", "0"], "argument --image-size: must be a positive integer"),
    (style_transfer, ["--image-size", "-5"], "got -5"),
    (style_transfer, ["--iters", "0"], "argument --iters: must be a positive integer"),
    (style_transfer, ["--iters", "-3"], "argument --iters"),
    (style_transfer, ["--gif", "--gif-every", "0"], "argument --gif-every"),
    (style_transfer, ["--blend", "-1", "2"], "argument --blend: must lie between 0 and 1, got -1.0"),
    (style_transfer, ["--style", "a.jpg", "b.jpg", "--blend", "0.5"], "--blend: 1 weights for 2 style"),
    (style_transfer, ["--style", "a.jpg", "--blend", "0"], "the weights are all 0"),
    (style_transfer, ["--style-layers", "1", "4", "--style-weights", "3"], "1 weights for 2 --style-layers"),
    (style_transfer, ["--style-weights", "-1"], "argument --style-weights: must be 0 or more"),
    (style_transfer, ["--tv-weight", "nan"], "expected a finite number, got 'nan'"),
    (style_transfer, ["--style-scale", "0"], "argument --style-scale: must be a number greater than 0"),
    (style_transfer, ["--content-layer", "-1"], "argument --content-layer"),
    (style_transfer, ["--iters", "2.5"], "argument --iters: expected an integer, got '2.5'"),
    (gan, ["--batch-size", "0"], "argument --batch-size: must be a positive integer"),
    (gan, ["--sample-every", "0"], "argument --sample-every"),
    (gan, ["--checkpoint-every", "0"], "argument --checkpoint-every"),
    (gan, ["--epochs", "-1"], "argument --epochs: must be a number greater than 0, got -1.0"),
    (gan, ["--epochs", "inf"], "argument --epochs: expected a finite number"),
    (gan, ["--iters", "0"], "argument --iters"),
    (gan, ["--seed", "-1"], "argument --seed: must be 0 or more"),
    (train_mnist_classifier, ["--epochs", "0"], "argument --epochs"),
    (train_mnist_classifier, ["--batch-size", "-2"], "argument --batch-size"),
    (train_mnist_classifier, ["--lr", "0"], "argument --lr: must be a number greater than 0"),
    (train_mnist_classifier, ["--train-limit", "0"], "argument --train-limit"),
    (evaluate_gan, ["-n", "0"], "argument -n: must be at least 2 (a covariance needs two or more"),
    (evaluate_gan, ["--test-limit", "1"], "argument --test-limit: must be at least 2"),
    (classify, ["missing.jpg"], "no such image file: missing.jpg"),
    (style_transfer, ["--content-layer", "99"],
     "--content-layer: layer 99 does not exist; SqueezeNet has feature layers 0..12"),
    (style_transfer, ["--content-layer", "13"], "layer 13 does not exist"),
    (style_transfer, ["--style-layers", "1", "99"], "--style-layers: layer 99 does not exist"),
    (style_transfer, ["--image-size", "1"], "--image-size: 1 pixels is too small"),
    (style_transfer, ["--style-size", "24"], "at least 25 pixels"),
    (style_transfer, ["--image-size", "100", "--style-scale", "0.2"], "--style-scale: 0.2"),
    (gan, ["--variant", "dcgan", "--batch-size", "1"], "--batch-size 1: the dcgan generator uses batch norm"),
    (gan, ["--variant", "wgan-gp", "--batch-size", "1"], "at least 2 samples per batch"),
    (evaluate_gan, ["run", "-n", "1000000"], "-n 1000000: at most 100000 samples"),
    (evaluate_gan, [], "no run folders given"),
]


@pytest.mark.parametrize("demo, argv, fragment", DEMO_FLAGS,
                         ids=[f"{d.__name__.split('.')[-1]} {' '.join(a)}" for d, a, _ in DEMO_FLAGS])
def test_demo_flags_are_checked_before_any_work(demo, argv, fragment, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(demo, HEAVY[demo], no_work)
    monkeypatch.chdir(tmp_path)  # nothing is written where the tests run
    with pytest.raises(SystemExit) as e:
        demo.main(argv)
    assert e.value.code == 2
    assert fragment in capsys.readouterr().err


@pytest.mark.parametrize("kind, text, value", [
    (demo_args.positive_int, "3", 3), (demo_args.nonnegative_int, "0", 0),
    (demo_args.positive_float, "1e-3", 1e-3), (demo_args.nonnegative_float, "0", 0.0),
    (demo_args.unit_float, "1", 1.0), (demo_args.at_least_2, "2", 2),
])
def test_argument_types_accept_good_values(kind, text, value):
    assert kind(text) == value


@pytest.mark.parametrize("kind, text", [
    (demo_args.positive_int, "0"), (demo_args.positive_int, "x"), (demo_args.nonnegative_int, "-1"),
    (demo_args.positive_float, "-0.5"), (demo_args.positive_float, "nan"),
    (demo_args.nonnegative_float, "-inf"), (demo_args.unit_float, "1.01"), (demo_args.at_least_2, "1"),
])
def test_argument_types_refuse_bad_values(kind, text):
    with pytest.raises(argparse.ArgumentTypeError):
        kind(text)


def test_check_finite_names_the_program_and_iteration():
    demo_args.check_finite(1.5, 1, "p")
    with pytest.raises(FloatingPointError, match="p: loss is NaN at iteration 7"):
        demo_args.check_finite(float("nan"), 7, "p")
    with pytest.raises(FloatingPointError, match=r"p: loss is infinite \(inf\) at iteration 2"):
        demo_args.check_finite(np.float32("inf"), 2, "p")


# -- ops and layers ------------------------------------------------------------------------------

x = Tensor(np.ones((1, 3, 8, 8), np.float32))
w = Tensor(np.ones((2, 3, 3, 3), np.float32))
wt = Tensor(np.ones((3, 2, 3, 3), np.float32))

OP_ERRORS = [  # call, error type, fragment
    (lambda: F.conv2d(x, w, padding=-1), ValueError, "conv2d: padding must be at least 0, got -1"),
    (lambda: F.conv2d(x, w, padding=(1, -1)), ValueError, "conv2d: padding must be at least 0"),
    (lambda: F.conv2d(x, w, stride=0), ValueError, "conv2d: stride must be at least 1, got 0"),
    (lambda: F.conv2d(x, w, stride=1.7), TypeError, "conv2d: stride must be an int or a pair of ints, got 1.7"),
    (lambda: F.conv2d(x, w, padding=2.5), TypeError, "conv2d: padding must be an int"),
    (lambda: F.conv2d(x, w, stride=(1, 2, 3)), ValueError, "conv2d: stride must be an int or a pair"),
    (lambda: F.conv2d(x, Tensor(np.ones((0, 3, 3, 3), np.float32))), ValueError,
     r"conv2d: the weight has shape \(0, 3, 3, 3\), with an empty axis"),
    (lambda: F.conv_transpose2d(x, wt, padding=-1), ValueError, "conv_transpose2d: padding must be at least 0"),
    (lambda: F.conv_transpose2d(x, wt, stride=0), ValueError, "conv_transpose2d: stride must be at least 1"),
    (lambda: F.conv_transpose2d(x, wt, stride=2.5), TypeError, "conv_transpose2d: stride must be an int"),
    (lambda: F.conv_transpose2d(x, wt, stride=2, output_padding=-1), ValueError, "output_padding must be at least 0"),
    (lambda: F.max_pool2d(x, 2, stride=0), ValueError, "max_pool2d: stride must be at least 1, got 0"),
    (lambda: F.max_pool2d(x, 2, stride=-1), ValueError, "max_pool2d: stride must be at least 1, got -1"),
    (lambda: F.max_pool2d(x, 2, padding=-1), ValueError, "max_pool2d: padding must be at least 0"),
    (lambda: F.max_pool2d(x, 0), ValueError, "max_pool2d: kernel_size must be at least 1"),
    (lambda: F.avg_pool2d(x, 2, stride=0), ValueError, "avg_pool2d: stride must be at least 1"),
    (lambda: F.avg_pool2d(x, 2, padding=-1), ValueError, "avg_pool2d: padding must be at least 0"),
    (lambda: F.avg_pool2d(x, 2, padding=2), ValueError, "avg_pool2d: padding .* must be at most half"),
    (lambda: F.avg_pool2d(x, 1.5), TypeError, "avg_pool2d: kernel_size must be an int"),
    (lambda: nn.Conv2d(3, 2, 0), ValueError, "Conv2d: kernel_size must be at least 1, got 0"),
    (lambda: nn.Conv2d(3, 2, 3, stride=0), ValueError, "Conv2d: stride must be at least 1"),
    (lambda: nn.Conv2d(3, 2, 3, padding=-1), ValueError, "Conv2d: padding must be at least 0"),
    (lambda: nn.Conv2d(3, 2, 2.5), TypeError, "Conv2d: kernel_size must be an int"),
    (lambda: nn.Conv2d(3, 0, 3), ValueError, "Conv2d: out_channels must be a positive integer, got 0"),
    (lambda: nn.Conv2d(3.0, 2, 3), ValueError, "Conv2d: in_channels must be a positive integer, got 3.0"),
    (lambda: nn.ConvTranspose2d(3, 2, 4, padding=-1), ValueError, "ConvTranspose2d: padding must be at least 0"),
    (lambda: nn.ConvTranspose2d(3, 2, 4, stride=2, output_padding=2), ValueError,
     "ConvTranspose2d: output_padding .* must be smaller than the stride"),
    (lambda: nn.MaxPool2d(2, 0), ValueError, "MaxPool2d: stride must be at least 1"),
    (lambda: nn.MaxPool2d(2, padding=-1), ValueError, "MaxPool2d: padding must be at least 0"),
    (lambda: nn.AvgPool2d(3, 1.5), TypeError, "AvgPool2d: stride must be an int"),
    (lambda: nn.BatchNorm2d(0), ValueError, "BatchNorm2d: num_features must be a positive integer"),
    (lambda: nn.BatchNorm1d(4, eps=0), ValueError, "BatchNorm1d: eps must be positive"),
    (lambda: nn.BatchNorm1d(4, momentum=2), ValueError, r"BatchNorm1d: momentum must lie in \[0, 1\]"),
    (lambda: F.batch_norm(Tensor(np.ones((4, 3), np.float32)), np.zeros(3, np.int64),
                          np.ones(3, np.float32), training=True),
     TypeError, "batch_norm: running_mean must be a floating-point NumPy array .* dtype int64"),
    (lambda: Tensor(["a", "b"]), TypeError, "Tensor: data of dtype <U1 .* is not numeric"),
    (lambda: Tensor(None), TypeError, "Tensor: data of dtype object .* is not numeric"),
    (lambda: Tensor(np.array([1.0, None])), TypeError, "Tensor: data of dtype object"),
    (lambda: Tensor([[1, 2], [3]]), TypeError, "Tensor: cannot make an array of list data"),
    (lambda: Tensor(np.array([1 + 2j])), TypeError, "Tensor: data of dtype complex128"),
]


@pytest.mark.parametrize("call, error, fragment", OP_ERRORS, ids=range(len(OP_ERRORS)))
def test_ops_and_layers_refuse_bad_arguments(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()


def test_numpy_integers_and_pairs_are_fine():
    i = np.int64
    y = F.conv2d(x, w, stride=i(2), padding=(i(1), 1))
    assert y.shape == (1, 2, 4, 4)
    assert nn.Conv2d(i(3), np.int32(2), i(3), stride=(1, i(1)))(x).shape == (1, 2, 6, 6)
    assert F.max_pool2d(x, i(2)).shape == (1, 3, 4, 4)
    assert nn.AvgPool2d(np.int32(2))(x).shape == (1, 3, 4, 4)
    assert nn.BatchNorm1d(i(3))(Tensor(np.ones((2, 3), np.float32))).shape == (2, 3)


def test_valid_tensors_still_construct():
    assert Tensor([True, False]).dtype == np.bool_
    assert Tensor(np.uint8(3)).dtype == np.uint8
    assert Tensor([1, 2]).dtype == np.int64
    assert Tensor([1.5]).dtype == np.float32


def test_batch_norm_eval_accepts_integer_statistics():
    # eval mode only reads the statistics, so integers are converted, not refused
    xb = Tensor(np.array([[1.0, 2.0], [3.0, 6.0]], np.float32))
    y = F.batch_norm(xb, np.array([1, 2]), np.array([4, 4]), training=False, eps=1e-12)
    np.testing.assert_allclose(y.data, [[0.0, 0.0], [1.0, 2.0]])


def test_layer_and_size_limits_match_squeezenet():
    """The limits style_transfer.py checks at parse time are those of the network itself."""
    from models.squeezenet import SqueezeNet
    from tinygrad_cs import no_grad
    model = SqueezeNet()
    assert len(model.features) == style_transfer.FEATURE_LAYERS

    def passes(size):
        x = Tensor(np.zeros((1, 3, size, size), np.float32))
        with no_grad():
            for layer in model.features:
                x = layer(x)
        return x.shape[2:]

    assert passes(style_transfer.MIN_IMAGE_SIZE) == (1, 1)
    with pytest.raises(ValueError, match="does not fit"):
        passes(style_transfer.MIN_IMAGE_SIZE - 1)


def test_batch_norm_variants_are_those_with_batch_norm():
    from layers.norm import BatchNorm1d, BatchNorm2d
    from models.gan_training import VARIANTS
    has_bn = sorted(v for v, spec in VARIANTS.items() if any(
        isinstance(m, (BatchNorm1d, BatchNorm2d)) for m in spec["G"]().modules()))
    assert has_bn == sorted(gan.BATCH_NORM_VARIANTS)


@pytest.mark.parametrize("demo, make, argv, fragment", [
    (style_transfer, "file", ["--out", "{}"], "is a file, not a folder"),
    (gan, "file", ["--out", "{}"], "is a file, not a folder"),
    (train_mnist_classifier, "file", ["--out", "{}"], "is a file, not a folder"),
    (classify, "folder", ["{}"], "a folder, not an image file"),
])
def test_paths_of_the_wrong_kind_are_named(demo, make, argv, fragment, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(demo, HEAVY[demo], no_work)
    path = tmp_path / "thing.jpg"
    if make == "file":
        path.write_text("a file")
    else:
        path.mkdir()
    with pytest.raises(SystemExit) as e:
        demo.main([a.format(path) for a in argv])
    assert e.value.code == 2
    assert fragment in capsys.readouterr().err

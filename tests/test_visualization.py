"""Saliency maps, fooling images and class visualization (models/visualization.py) and the
demo that draws them (demos/visualize.py)."""
import os

import numpy as np
import pytest
from PIL import Image

import layers as nn
from models.images import STD
from models.visualization import (PIXEL_MAX, PIXEL_MIN, FoolingError, class_index,
                                  class_visualization, jitter, make_fooling_image,
                                  saliency_maps, select_images)
from tinygrad_cs import Tensor, no_grad

DATA = os.environ.get("TINYGRAD_CS_DATA")
needs_data = pytest.mark.skipif(not DATA, reason="needs TINYGRAD_CS_DATA (CI sets it)")


class TinyNet(nn.Module):
    """The interface of SqueezeNet at toy size: images (N, 3, H, W) -> scores (N, 5).
    tanh instead of ReLU keeps the scores smooth for finite differences."""

    def __init__(self, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.conv = nn.Conv2d(3, 4, 3, padding=1, rng=rng)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 5, rng=rng)

    def forward(self, x):
        return self.fc(self.pool(self.conv(x).tanh()).flatten(1))


def tiny_model(dtype=np.float32):
    return TinyNet().to(dtype).eval().requires_grad_(False)


# -- saliency ----------------------------------------------------------------------------------

def test_saliency_equals_finite_differences_on_a_tiny_network():
    model = tiny_model(np.float64)
    X = np.random.default_rng(1).standard_normal((2, 3, 5, 6))
    y = np.array([3, 1])
    S = saliency_maps(model, X, y)
    assert S.shape == (2, 5, 6)

    def score(n, x):
        with no_grad():
            return model(Tensor(x[None])).data[0, y[n]]

    eps = 1e-6
    expected = np.zeros((2, 3, 5, 6))
    for n in range(2):
        for idx in np.ndindex(3, 5, 6):
            plus, minus = X[n].copy(), X[n].copy()
            plus[idx] += eps
            minus[idx] -= eps
            expected[n][idx] = (score(n, plus) - score(n, minus)) / (2 * eps)
    np.testing.assert_allclose(S, np.abs(expected).max(axis=1), rtol=1e-6, atol=1e-10)


def test_saliency_input_errors():
    model = tiny_model()
    X = np.zeros((2, 3, 6, 6), np.float32)
    with pytest.raises(ValueError, match=r"saliency_maps: expected normalised images of shape \(N, 3"):
        saliency_maps(model, np.zeros((2, 4, 6, 6), np.float32), [0, 1])
    with pytest.raises(ValueError, match="saliency_maps: expected normalised float images, got dtype uint8"):
        saliency_maps(model, np.zeros((2, 3, 6, 6), np.uint8), [0, 1])
    with pytest.raises(ValueError, match="saliency_maps: y must be 2 integer class indices"):
        saliency_maps(model, X, [0, 1, 2])
    with pytest.raises(ValueError, match=r"saliency_maps: y holds class 7, out of range.*0\.\.4"):
        saliency_maps(model, X, [0, 7])
    with pytest.raises(ValueError, match=r"training mode.*model\.eval\(\)"):
        saliency_maps(TinyNet(), X, [0, 1])  # a fresh module is in training mode


# -- fooling images ----------------------------------------------------------------------------

def test_fooling_on_the_tiny_network_and_its_failure_report():
    model = tiny_model()
    X = np.random.default_rng(2).standard_normal((1, 3, 6, 6)).astype(np.float32)
    with no_grad():
        start = int(model(Tensor(X)).data.argmax())
    target = (start + 1) % 5
    img, steps = make_fooling_image(model, X, target, lr=0.5, max_iters=500)
    with no_grad():
        assert int(model(Tensor(img)).data.argmax()) == target
    # each step has L2 length lr, so the whole change is at most steps * lr long
    assert 0 < steps and np.linalg.norm(img - X) <= steps * 0.5 + 1e-4
    assert make_fooling_image(model, X, start)[1] == 0  # already classified as the target
    with pytest.raises(FoolingError, match=r"after 1 steps.*still predicts class") as e:
        make_fooling_image(model, X, target, lr=1e-6, max_iters=1)
    assert e.value.steps == 1 and e.value.predicted == start and e.value.image.shape == X.shape


def test_fooling_input_errors():
    model = tiny_model()
    with pytest.raises(ValueError, match=r"make_fooling_image: expected one image.*X\[i:i \+ 1\]"):
        make_fooling_image(model, np.zeros((2, 3, 6, 6), np.float32), 1)
    with pytest.raises(TypeError, match="make_fooling_image: target_y must be an int"):
        make_fooling_image(model, np.zeros((1, 3, 6, 6), np.float32), "tarantula")
    with pytest.raises(ValueError, match="make_fooling_image: target_y holds class 5, out of range"):
        make_fooling_image(model, np.zeros((1, 3, 6, 6), np.float32), 5)


# -- class visualization -----------------------------------------------------------------------

def test_class_visualization_on_the_tiny_network():
    model = tiny_model()
    r = class_visualization(model, 2, iters=6, lr=0.5, size=16, max_jitter=2, blur_every=3,
                            frame_every=2, seed=0)
    assert r.image.shape == (1, 3, 16, 16) and r.target == 2
    assert len(r.probs) == len(r.scores) == 6
    assert [t for t, _ in r.frames] == [2, 4, 6] and r.frames[0][1].shape == (16, 16, 3)
    assert np.all(r.image >= PIXEL_MIN - 1e-6) and np.all(r.image <= PIXEL_MAX + 1e-6)
    with no_grad():
        final = model(Tensor(r.image)).data[0, 2]
    assert final > r.scores[0]
    again = class_visualization(model, 2, iters=6, lr=0.5, size=16, max_jitter=2, blur_every=3,
                                seed=0)
    np.testing.assert_array_equal(again.image, r.image)  # a seed makes it repeatable


def test_jitter_is_undone_by_the_opposite_roll():
    X = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    moved = jitter(X, 2, -1)
    assert moved[0, 0, 0, 2] == X[0, 0, 1, 0]  # right by 2, up by 1
    np.testing.assert_array_equal(jitter(moved, -2, 1), X)


def test_class_visualization_errors():
    model = tiny_model()
    names = ["cat", "dog", "tarantula", "wolf spider", "gorilla"]
    with pytest.raises(ValueError, match="target_y holds class 9, out of range"):
        class_visualization(model, 9, iters=1, size=16)
    with pytest.raises(ValueError, match="is a name; pass class_names"):
        class_visualization(model, "dog", iters=1, size=16)
    with pytest.raises(ValueError, match=r"unknown class name 'tarantla'.*'tarantula'"):
        class_visualization(model, "tarantla", class_names=names, iters=1, size=16)
    with pytest.raises(ValueError, match="need iters >= 0, lr > 0"):
        class_visualization(model, 1, lr=-1, size=16)
    with pytest.raises(TypeError, match="target_y must be an int class index or a name"):
        class_visualization(model, 1.5, size=16)


def test_class_index_and_select_images():
    names = ["tench, Tinca tinca", "goldfish, Carassius auratus", "great white shark"]
    assert class_index("goldfish", names) == 1          # one synonym of the name
    assert class_index("Great White Shark", names) == 2
    assert class_index("2", names) == 2 and class_index(0, names) == 0
    with pytest.raises(ValueError, match=r"class index 3 is out of range; give an index in 0\.\.2"):
        class_index(3, names)
    with pytest.raises(ValueError, match=r"unknown class name 'goldfsh'.*Did you mean"):
        class_index("goldfsh", names)
    with pytest.raises(TypeError, match="a class is an int index or a str name"):
        class_index(None, names)
    X, y = np.zeros((4, 3, 2, 2)), np.arange(4)
    assert select_images(X, y, [3, 1])[1].tolist() == [3, 1]
    with pytest.raises(ValueError, match=r"image index 4 is out of range; there are 4 images"):
        select_images(X, y, [0, 4])


# -- the real SqueezeNet (needs the data directory) --------------------------------------------

@pytest.fixture(scope="module")
def squeezenet():
    from models.squeezenet import load_squeezenet
    return load_squeezenet("onnxzoo")


@pytest.fixture(scope="module")
def val25():
    from models.visualization import load_imagenet_val
    return load_imagenet_val()


@needs_data
def test_saliency_shape_on_squeezenet(squeezenet, val25):
    X, y = val25
    S = saliency_maps(squeezenet, X[:2], y[:2])
    assert S.shape == (2, 224, 224) and S.dtype == np.float32
    assert np.all(S >= 0) and S.max() > 0


@needs_data
def test_fooling_images_fool_squeezenet_with_a_small_change(squeezenet, val25):
    from models.squeezenet import classify
    X, _ = val25
    targets = [6, 76, 368, 113, 945]  # stingray, tarantula, gibbon, snail, bell pepper
    fooled = 0
    for i, target in enumerate(targets):
        try:
            img, steps = make_fooling_image(squeezenet, X[i:i + 1], target, lr=1, max_iters=100)
        except FoolingError:
            continue
        fooled += 1
        assert classify(squeezenet, img, top=1)[0][0][0] == target
        change = np.abs(img - X[i:i + 1])            # normalised units
        assert np.sqrt((change ** 2).sum()) <= steps * 1 + 1e-3  # steps of L2 length lr = 1
        pixels = change * STD.reshape(1, 3, 1, 1)   # in 0..1 pixel units
        # "small", in grey levels of 0..255: on average less than one level (invisible),
        # 99% of the values within 8 levels, and no value moved by more than 32 levels
        # (1/8 of the range; the few large changes are isolated pixels).  These images
        # need 2-9 steps and move 0.14-0.55 levels on average, 7-18 levels at most.
        assert pixels.mean() < 1 / 255 and np.percentile(pixels, 99) < 8 / 255
        assert pixels.max() < 32 / 255
    assert fooled >= 4


@needs_data
def test_class_visualization_raises_the_target_score(squeezenet):
    r = class_visualization(squeezenet, 76, iters=8, size=64, seed=0)  # tarantula
    with no_grad():
        final = squeezenet(Tensor(r.image)).data[0, 76]
    assert final > r.scores[0] + 1


@needs_data
def test_class_names_of_imagenet():
    from models.visualization import load_class_names
    names = load_class_names()
    assert class_index("tarantula", names) == 76 and class_index("gorilla", names) == 366
    with pytest.raises(ValueError, match="'tarantula'"):
        class_index("tarantla", names)


# -- the demo ----------------------------------------------------------------------------------

def _is_png(path):
    with Image.open(path) as img:
        return img.format == "PNG" and min(img.size) >= 40


@needs_data
def test_demo_saliency(tmp_path):
    from demos import visualize
    path = visualize.main(["saliency", "--images", "0", "3", "--out", str(tmp_path)])
    assert _is_png(path)


@needs_data
def test_demo_fool_success_and_failure(tmp_path):
    from demos import visualize
    ok = visualize.main(["fool", "--image", "3", "--target", "snail", "--out", str(tmp_path)])
    assert ok["fooled"] and ok["after"] == 113 and _is_png(ok["path"])
    bad = visualize.main(["fool", "--image", "0", "--target", "6", "--max-iters", "0",
                          "--out", str(tmp_path / "bad")])
    assert not bad["fooled"] and bad["steps"] == 0 and _is_png(bad["path"])


@needs_data
def test_demo_classviz(tmp_path):
    from demos import visualize
    results = visualize.main(["classviz", "tarantula", "366", "--iters", "2", "--size", "40",
                              "--gif", "--gif-every", "1", "--priors", "--out", str(tmp_path)])
    assert [r.target for r in results] == [76, 366]
    for name in ("classviz.png", "classviz_priors.png", "classviz_76_tarantula.png",
                 "classviz_366_gorilla.png"):
        assert _is_png(tmp_path / name), name
    with Image.open(tmp_path / "classviz_76_tarantula.gif") as gif:
        assert gif.n_frames == 2


@needs_data
def test_demo_bad_input(tmp_path):
    from demos import visualize
    with pytest.raises(ValueError, match=r"unknown class name 'gorila'.*'gorilla'"):
        visualize.main(["classviz", "gorila", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match=r"--image: image index 25 is out of range"):
        visualize.main(["fool", "--image", "25", "--target", "6", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match=r"class index 1000 is out of range"):
        visualize.main(["fool", "--target", "1000", "--out", str(tmp_path)])

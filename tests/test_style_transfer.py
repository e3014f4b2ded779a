"""Style-transfer losses against direct NumPy formulas, a gradcheck of the style loss through
the real network, and short runs of the loop."""
import os

import numpy as np
import pytest

from models.squeezenet import SqueezeNet, load_squeezenet
from models.style_transfer import (content_loss, extract_features, gram_matrix, style_loss,
                                   style_transfer, tv_loss)
from tinygrad_cs import Tensor, gradcheck

DATA = os.environ.get("TINYGRAD_CS_DATA")
needs_data = pytest.mark.skipif(not DATA, reason="needs TINYGRAD_CS_DATA (CI sets it)")
rng = np.random.default_rng(0)


def test_losses_match_numpy_formulas():
    f, p = rng.standard_normal((1, 4, 3, 5)), rng.standard_normal((1, 4, 3, 5))
    assert content_loss(0.3, Tensor(f), Tensor(p)).item() == pytest.approx(0.3 * ((f - p) ** 2).sum())
    F2 = f.reshape(1, 4, 15)
    G = np.einsum("nik,njk->nij", F2, F2)
    np.testing.assert_allclose(gram_matrix(Tensor(f)).data, G / (3 * 5 * 4))
    np.testing.assert_allclose(gram_matrix(Tensor(f), normalize=False).data, G)
    feats = [Tensor(rng.standard_normal((1, 2, 4, 4))), Tensor(f)]
    targets = [rng.standard_normal((1, 2, 2)), rng.standard_normal((1, 4, 4))]
    expected = sum(w * ((np.einsum("nik,njk->nij", a, a) / (a.shape[1] * a.shape[2]) - t) ** 2).sum()
                   for w, a, t in zip([2.0, 5.0], [feats[0].data.reshape(1, 2, 16), F2], targets))
    got = style_loss(feats, [0, 1], [Tensor(t) for t in targets], [2.0, 5.0]).item()
    assert got == pytest.approx(expected)
    img = rng.standard_normal((1, 3, 4, 5))
    tv = ((img[:, :, 1:] - img[:, :, :-1]) ** 2).sum() + ((img[:, :, :, 1:] - img[:, :, :, :-1]) ** 2).sum()
    assert tv_loss(Tensor(img), 0.7).item() == pytest.approx(0.7 * tv)


def test_style_loss_gradcheck_through_the_network():
    """Full style + content + tv loss w.r.t. a tiny image, float64, through SqueezeNet
    layers 0..4 (random weights: the check is about the derivatives, not the values)."""
    from layers import init
    init.manual_seed(0)
    model = SqueezeNet().to(np.float64).requires_grad_(False)
    x0 = Tensor(rng.standard_normal((1, 3, 23, 23)))
    feats0 = extract_features(model, x0, 4)
    targets = [gram_matrix(feats0[k]).detach() * 0.5 for k in (1, 4)]
    content_target = feats0[3].detach()

    def loss(img):
        feats = extract_features(model, img, 4)
        return (style_loss(feats, [1, 4], targets, [10.0, 3.0]) +
                content_loss(0.1, feats[3], content_target) + tv_loss(img, 0.05))

    img = Tensor(rng.standard_normal((1, 3, 23, 23)), requires_grad=True)
    for seed in range(3):
        assert gradcheck(loss, [img], fast_mode=True, seed=seed, rtol=1e-4)
    small = Tensor(rng.standard_normal((1, 3, 15, 15)), requires_grad=True)
    assert gradcheck(lambda im: style_loss(extract_features(model, im, 1), [1], [targets[0] * 0],
                                           [1.0]), [small])


@needs_data
def test_a_short_run_lowers_the_loss_and_presets_work():
    model = load_squeezenet("torchvision")
    styles = os.path.join(DATA, "styles")
    common = dict(image_size=48, style_size=48, content_layer=3, content_weight=6e-2,
                  style_layers=(1, 4, 6, 7), style_weights=(300000, 1000, 15, 3), tv_weight=2e-2,
                  model=model, quiet=True)
    r = style_transfer(os.path.join(styles, "tubingen.jpg"), os.path.join(styles, "starry_night.jpg"),
                       num_iters=10, lr=0.1, **common)
    assert r.history["total"][-1] < r.history["total"][0]
    assert r.image.shape == (1, 3, 48, 64) and r.to_uint8().shape == (48, 64, 3)
    # texture synthesis (no content term) from noise, L-BFGS, blended styles, kept colours
    r2 = style_transfer(os.path.join(styles, "tubingen.jpg"),
                        [os.path.join(styles, "starry_night.jpg"), os.path.join(styles, "the_scream.jpg")],
                        num_iters=8, optimizer="lbfgs", init_random=True, seed=0,
                        style_blend_weights=[0.5, 0.5], preserve_colors=True, frame_every=2,
                        **dict(common, content_weight=0))
    assert r2.history["content"][0] == 0 and r2.history["total"][-1] < r2.history["total"][0]
    assert len(r2.frames) >= 4


def test_bad_arguments():
    model = SqueezeNet().requires_grad_(False)
    img = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(ValueError, match="3 style layers but 2 style weights"):
        style_transfer(img, img, image_size=20, style_size=20, style_layers=(1, 2, 3),
                       style_weights=(1, 2), model=model, num_iters=1, quiet=True)
    with pytest.raises(ValueError, match="layer 15 does not exist"):
        style_transfer(img, img, image_size=20, style_size=20, style_layers=(15,),
                       style_weights=(1,), model=model, num_iters=1, quiet=True)
    with pytest.raises(ValueError, match="optimizer must be"):
        style_transfer(img, img, image_size=20, style_size=20, model=model, num_iters=1,
                       optimizer="sgd", quiet=True)

"""Neural style transfer (Gatys, Ecker & Bethge, 2016) as taught in Stanford CS231n.

We optimise the *pixels* of an image so that

* its features at ``content_layer`` match the content image's   (content loss),
* the Gram matrices of its features at ``style_layers`` match the style image's
  (style loss: which features occur together, regardless of where),
* neighbouring pixels are similar                               (total-variation loss).

The network (SqueezeNet 1.1) is frozen; only the image receives gradients.  Feature
inversion (style weights 0) and texture synthesis (content weight 0) are the same loop.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinygrad_cs import Tensor, no_grad
import tinygrad_cs.functional as F
from tinygrad_cs.optim import Adam
from tinygrad_cs.progress import progress
from tinygrad_cs.random import get_rng

from .images import MEAN, STD, deprocess, load_image, preprocess


# -- the losses (signatures as in the course, so that learners can compare) ------------------

def content_loss(content_weight, content_current, content_original):
    """w * sum((F - P)^2):  F, P (1, C, H, W) features of the current and the content image."""
    if content_current.shape != tuple(np.shape(content_original)):
        raise ValueError(f"content_loss: current features {content_current.shape} and original "
                         f"{tuple(np.shape(content_original))} differ in shape.")
    diff = content_current - content_original
    return content_weight * diff.square().sum()


def gram_matrix(features, normalize=True):
    """features (N, C, H, W) -> G (N, C, C) with G[n, i, j] = sum_hw F[n,i,hw] F[n,j,hw],
    divided by H*W*C when ``normalize``."""
    if features.ndim != 4:
        raise ValueError(f"gram_matrix: expected features (N, C, H, W), got {features.shape}.")
    N, C, H, W = features.shape
    gram = F.gram(features.reshape(N, C, H * W))  # f @ f^T, with a one-product gradient
    return gram / float(H * W * C) if normalize else gram


def style_loss(feats, style_layers, style_targets, style_weights):
    """sum_l w_l * sum((G_l - A_l)^2): G_l the Gram matrix of feats[style_layers[l]],
    A_l = style_targets[l] the style image's."""
    if not len(style_layers) == len(style_targets) == len(style_weights):
        raise ValueError(f"style_loss: {len(style_layers)} layers, {len(style_targets)} targets "
                         f"and {len(style_weights)} weights; they must be the same number.")
    loss = 0.0
    for layer, target, weight in zip(style_layers, style_targets, style_weights):
        diff = gram_matrix(feats[layer]) - target
        loss = loss + weight * diff.square().sum()
    return loss


def tv_loss(img, tv_weight):
    """w * (sum of squared differences between vertical neighbours + between horizontal
    neighbours), over all channels.  img: (1, 3, H, W)."""
    down = img[:, :, 1:, :] - img[:, :, :-1, :]
    right = img[:, :, :, 1:] - img[:, :, :, :-1]
    return tv_weight * (down.square().sum() + right.square().sum())


# -- the optimisation ----------------------------------------------------------------------

@dataclass
class Result:
    image: Tensor                       # (1, 3, H, W), normalised
    history: dict = field(default_factory=dict)  # "content", "style", "tv", "total" per iteration
    frames: list = field(default_factory=list)   # (iteration, uint8 image) pairs
    content: Tensor | None = None       # the preprocessed content image

    def to_uint8(self, rescale=False):
        return deprocess(self.image, rescale)


def extract_features(model, x, upto):
    """Outputs of model.features[0..upto] for x (only as deep as the losses need)."""
    return model.extract_features(x, upto)


def style_targets_for(model, style_images, style_layers, blend_weights=None):
    """Gram matrices of each style layer; several style images are blended by a weighted
    average of their Gram matrices (as in Johnson's neural-style)."""
    blend = np.ones(len(style_images)) if blend_weights is None else np.asarray(blend_weights, float)
    if len(blend) != len(style_images) or blend.sum() <= 0:
        raise ValueError(f"style_transfer: {len(style_images)} style images need as many "
                         f"positive blend weights, got {list(blend)}.")
    blend = blend / blend.sum()
    targets = [0.0] * len(style_layers)
    with no_grad():
        for img, b in zip(style_images, blend):
            feats = extract_features(model, img, max(style_layers))
            for k, layer in enumerate(style_layers):
                targets[k] = targets[k] + b * gram_matrix(feats[layer]).data
    return [Tensor(t.astype(np.float32)) for t in targets]


def style_transfer(content_image, style_image, image_size=192, style_size=192, content_layer=3,
                   content_weight=6e-2, style_layers=(1, 4, 6, 7),
                   style_weights=(300000, 1000, 15, 3), tv_weight=2e-2, init_random=False,
                   num_iters=200, lr=3.0, decayed_lr=0.1, decay_lr_at=180, clamp_until=190,
                   optimizer="adam", model=None, data_dir=None, style_blend_weights=None,
                   style_scale=None, preserve_colors=False, frame_every=0, seed=None,
                   quiet=False, callback=None) -> Result:
    """Run style transfer; returns a Result with the image, per-term loss history and frames.

    content_image, style_image: file paths, PIL images or uint8 arrays; ``style_image`` may
      be a list (blended with ``style_blend_weights``).
    image_size / style_size: shorter side of the content / style image in pixels;
      ``style_scale`` (if given) sets style_size = style_scale * image_size.
    Adam with learning rate ``lr`` until ``decay_lr_at``, then a fresh Adam with
    ``decayed_lr`` (as the course does); pixels clamped to [-1.5, 1.5] while
    t < ``clamp_until``.  ``optimizer="lbfgs"`` uses scipy's L-BFGS-B instead (Gatys et al.).
    init_random: start from uniform [0, 1] noise instead of the content image.
    preserve_colors: keep the content image's colours (transfer luminance only).
    """
    from .squeezenet import load_squeezenet
    model = model if model is not None else load_squeezenet("torchvision", data_dir)
    styles = style_image if isinstance(style_image, (list, tuple)) else [style_image]
    if style_scale is not None:
        style_size = max(16, int(round(style_scale * image_size)))
    content = _as_tensor_image(content_image, image_size)
    style_imgs = [_as_tensor_image(s, style_size) for s in styles]
    style_layers, style_weights = list(style_layers), list(style_weights)
    if len(style_layers) != len(style_weights):
        raise ValueError(f"style_transfer: {len(style_layers)} style layers but "
                         f"{len(style_weights)} style weights.")
    deepest = max([content_layer] + style_layers)
    if not 0 <= deepest < len(model.features):
        raise ValueError(f"style_transfer: layer {deepest} does not exist; SqueezeNet has "
                         f"feature layers 0..{len(model.features) - 1}.")
    with no_grad():
        content_target = extract_features(model, content, content_layer)[content_layer]
    targets = style_targets_for(model, style_imgs, style_layers, style_blend_weights)

    rng = np.random.default_rng(seed) if seed is not None else get_rng()  # tg.manual_seed
    start = rng.uniform(0, 1, content.shape).astype(np.float32) if init_random else content.data.copy()
    img = Tensor(start, requires_grad=True)
    history = {"content": [], "style": [], "tv": [], "total": []}
    frames = []

    def losses():
        feats = extract_features(model, img, deepest)
        c = content_loss(content_weight, feats[content_layer], content_target) if content_weight else 0.0
        s = style_loss(feats, style_layers, targets, style_weights) if any(style_weights) else 0.0
        t = tv_loss(img, tv_weight) if tv_weight else 0.0
        total = c + s + t
        for name, v in (("content", c), ("style", s), ("tv", t), ("total", total)):
            history[name].append(float(v.item() if isinstance(v, Tensor) else v))
        return total

    def after_step(t, bar):
        bar.set(**{k: v[-1] for k, v in history.items()})
        if frame_every and (t % frame_every == 0 or t == num_iters - 1):
            frames.append((t, deprocess(img)))
        if callback:
            callback(t, img, history)

    bar = progress(total=num_iters, desc="style transfer", disable=quiet)
    if optimizer == "adam":
        opt = Adam([img], lr=lr)
        for t in range(num_iters):
            if t < clamp_until:
                np.clip(img.data, -1.5, 1.5, out=img.data)
            opt.zero_grad()
            losses().backward()
            if t == decay_lr_at:
                opt = Adam([img], lr=decayed_lr)  # a fresh optimizer, as in the course
            opt.step()
            after_step(t, bar)
            bar.update()
    elif optimizer == "lbfgs":
        _run_lbfgs(img, losses, num_iters, lambda t: (after_step(t, bar), bar.update()))
    else:
        raise ValueError(f"style_transfer: optimizer must be 'adam' or 'lbfgs', got {optimizer!r}.")
    bar.close()
    if preserve_colors:
        img = Tensor(_keep_colors(content.data, img.data))
    return Result(img.detach(), history, frames, content)


def _as_tensor_image(image, size):
    if isinstance(image, Tensor):
        return image
    if isinstance(image, np.ndarray):
        return preprocess(image, size)
    if hasattr(image, "convert"):  # a PIL image
        return preprocess(image, size)
    return preprocess(load_image(image), size)


def _run_lbfgs(img, losses, num_iters, after_step):
    """scipy's L-BFGS-B on the flattened pixels (in float64, as scipy wants)."""
    from scipy.optimize import minimize
    shape, evals = img.shape, [0]

    def fun(flat):
        img.data[...] = flat.reshape(shape).astype(np.float32)
        img.grad = None
        loss = losses()
        loss.backward()
        after_step(evals[0])
        evals[0] += 1
        return float(loss.item()), img.grad.data.astype(np.float64).ravel()

    minimize(fun, img.data.astype(np.float64).ravel(), jac=True, method="L-BFGS-B",
             options={"maxfun": num_iters, "maxiter": num_iters})


def _keep_colors(content, result):
    """Luminance of ``result`` with the chrominance (YIQ's I and Q) of ``content``."""
    def to_rgb(x):
        return x[0].transpose(1, 2, 0) * STD + MEAN
    yiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    c, r = to_rgb(content) @ yiq.T, to_rgb(result) @ yiq.T
    mixed = np.concatenate([r[..., :1], c[..., 1:]], axis=-1) @ np.linalg.inv(yiq).T
    return (((mixed - MEAN) / STD).transpose(2, 0, 1)[None]).astype(np.float32)


PRESETS = {
    "composition_vii": dict(style="composition_vii.jpg", style_size=512, content_weight=5e-2,
                            style_weights=(20000, 500, 12, 1), tv_weight=5e-2),
    "the_scream": dict(style="the_scream.jpg", style_size=224, content_weight=3e-2,
                       style_weights=(200000, 800, 12, 1), tv_weight=2e-2),
    "starry_night": dict(style="starry_night.jpg", style_size=192, content_weight=6e-2,
                         style_weights=(300000, 1000, 15, 3), tv_weight=2e-2),
    "feature_inversion": dict(style="starry_night.jpg", style_size=192, content_weight=6e-2,
                              style_weights=(0, 0, 0, 0), tv_weight=2e-2, init_random=True),
    "texture": dict(style="starry_night.jpg", style_size=192, content_weight=0,
                    style_weights=(300000, 1000, 15, 3), tv_weight=2e-2, init_random=True),
}
COMMON = dict(content="tubingen.jpg", image_size=192, content_layer=3, style_layers=(1, 4, 6, 7))

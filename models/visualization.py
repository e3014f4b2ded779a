"""Seeing what a trained CNN sees: saliency maps, fooling images, class visualization.

All three take gradients of a class *score* (the logit s_y, before the softmax) with
respect to the input *pixels*, while the network's weights stay fixed:

* ``saliency_maps``: M[i, j] = max over colour channels c of |d s_y / d X[c, i, j]|,
  which pixels would change the score most if nudged (Simonyan et al., 2014).
* ``make_fooling_image``: gradient ascent on s_target from a real image until the network
  predicts ``target``; the change needed is tiny (Szegedy et al., 2014).
* ``class_visualization``: gradient ascent on s_y - l2_reg * ||I||^2 from noise, with
  jitter, clamping and blurring as image priors (Yosinski et al., 2015).

``model`` is any network that maps normalised images (N, 3, H, W) to class scores
(N, num_classes), in eval mode: SqueezeNet 1.1 from ``models.squeezenet.load_squeezenet``
(which also freezes its weights), or a tiny test network.  Images are in the normalised
space of ``models.images.preprocess``: (pixel / 255 - MEAN) / STD per channel.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter

import tinygrad_cs as tg
import tinygrad_cs.functional as F
from tinygrad_cs import Tensor, no_grad
from tinygrad_cs.progress import progress

from .data import find_file
from .images import MEAN, STD, deprocess

# The valid range of each channel in the normalised space: pixel values 0 and 1 mapped
# through (p - MEAN) / STD.  Shape (1, 3, 1, 1), so it broadcasts over (1, 3, H, W).
PIXEL_MIN = (-MEAN / STD).reshape(1, 3, 1, 1)
PIXEL_MAX = ((1 - MEAN) / STD).reshape(1, 3, 1, 1)


# -- data: class names and the 25-image ImageNet sample ----------------------------------------

def load_class_names(data_dir=None) -> list:
    """The 1000 ImageNet class names; line k of imagenet_classes.txt names class k."""
    return find_file("imagenet_classes.txt", data_dir).read_text().splitlines()


def load_imagenet_val(data_dir=None):
    """The 25 labelled ImageNet validation images -> X (25, 3, 224, 224) float32 normalised,
    y (25,) int64 class indices."""
    with np.load(find_file("imagenet_val_25.npz", data_dir), allow_pickle=False) as f:
        X, y = f["X"], f["y"]
    X = ((X.astype(np.float32) / 255 - MEAN) / STD).transpose(0, 3, 1, 2).copy()
    return X, y.astype(np.int64)


def select_images(X, y, indices, who="select_images"):
    """X[indices], y[indices], checking that every index names one of the images."""
    indices = list(indices)
    for i in indices:
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool):
            raise TypeError(f"{who}: image indices must be ints, got {i!r}.")
        if not 0 <= i < len(X):
            raise ValueError(f"{who}: image index {i} is out of range; there are {len(X)} "
                             f"images, indices 0..{len(X) - 1}.")
    if not indices:
        raise ValueError(f"{who}: no image index given; pick some of 0..{len(X) - 1}.")
    return X[indices], y[indices]


def class_index(target, class_names, who="class_index") -> int:
    """A class given by index (int) or by name ("tarantula") -> its index.

    Names are matched case-insensitively, on the whole name or on one of its
    comma-separated synonyms; an unknown name raises a ValueError listing the closest names.
    """
    n = len(class_names)
    if isinstance(target, str) and target.strip().lstrip("-").isdigit():
        target = int(target)  # "76" from a command line
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not 0 <= target < n:
            raise ValueError(f"{who}: class index {target} is out of range; give an index in "
                             f"0..{n - 1} or a class name.")
        return int(target)
    if not isinstance(target, str):
        raise TypeError(f"{who}: a class is an int index or a str name, got "
                        f"{type(target).__name__} {target!r}.")
    wanted = target.strip().lower()
    spellings = {}  # every lower-case full name and synonym -> the full names it belongs to
    for k, name in enumerate(class_names):
        for s in [name] + name.split(","):
            spellings.setdefault(s.strip().lower(), []).append(k)
    if wanted in spellings:
        return spellings[wanted][0]
    close = difflib.get_close_matches(wanted, list(spellings), n=5, cutoff=0.6)
    suggestions = list(dict.fromkeys(class_names[k] for s in close for k in spellings[s]))
    hint = (f" Did you mean: {', '.join(repr(c) for c in suggestions)}?" if suggestions
            else f" Give a class index 0..{n - 1} or a name from imagenet_classes.txt.")
    raise ValueError(f"{who}: unknown class name {target!r}.{hint}")


# -- checks shared by the three techniques -------------------------------------------------------

def _check_model(model, who):
    if getattr(model, "training", False):
        raise ValueError(f"{who}: the model is in training mode, so dropout would make the "
                         "class scores random; call model.eval() first (load_squeezenet "
                         "returns an eval-mode model).")


def _as_images(X, who, single=False) -> np.ndarray:
    """X: (N, 3, H, W) array or Tensor -> a float NumPy array (float32 unless float64)."""
    a = X.data if isinstance(X, Tensor) else np.asarray(X)
    if a.ndim != 4 or a.shape[1] != 3:
        raise ValueError(f"{who}: expected normalised images of shape (N, 3, H, W), got "
                         f"{a.shape}. Use models.images.preprocess to prepare an image.")
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"{who}: expected normalised float images, got dtype {a.dtype}; raw "
                         "0..255 pixels must go through models.images.preprocess first.")
    if single and a.shape[0] != 1:
        raise ValueError(f"{who}: expected one image of shape (1, 3, H, W), got {a.shape}; "
                         "pass X[i:i + 1] to pick image i.")
    return a.astype(a.dtype if a.dtype == np.float64 else np.float32, copy=True)


def _check_classes(y, num_classes, who, name="y"):
    bad = [int(k) for k in np.ravel(y) if not 0 <= k < num_classes]
    if bad:
        raise ValueError(f"{who}: {name} holds class {bad[0]}, out of range; the model has "
                         f"classes 0..{num_classes - 1}.")


def score_gradient(model, X: np.ndarray, y: np.ndarray, who="score_gradient", name="y"):
    """Scores (N, K) and d(sum_i s[i, y_i]) / dX (N, 3, H, W), both NumPy.

    Summing the chosen scores of the batch is fine because image i's score depends on
    image i only (eval mode), so the gradient of the sum w.r.t. image i is d s[i, y_i]/dX_i.
    """
    x = Tensor(X, requires_grad=True)
    scores = model(x)
    _check_classes(y, scores.shape[1], who, name)
    chosen = np.zeros(scores.shape, scores.dtype)  # one-hot: picks s[i, y_i] in each row
    chosen[np.arange(len(y)), y] = 1
    (g,) = tg.grad((scores * Tensor(chosen)).sum(), x)
    return scores.data, g.data


# -- 1. saliency maps ----------------------------------------------------------------------------

def saliency_maps(model, X, y) -> np.ndarray:
    """Saliency of each image for its class: X (N, 3, H, W) normalised, y (N,) ints ->
    (N, H, W) NumPy array, S[n, i, j] = max_c |d s[n, y_n] / d X[n, c, i, j]|."""
    who = "saliency_maps"
    _check_model(model, who)
    X = _as_images(X, who)
    y = np.asarray(y)
    if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{who}: y must be {X.shape[0]} integer class indices (one per "
                         f"image), got shape {y.shape} dtype {y.dtype}.")
    _, grad = score_gradient(model, X, y, who)
    return np.abs(grad).max(axis=1)


# -- 2. fooling images ---------------------------------------------------------------------------

class FoolingError(RuntimeError):
    """make_fooling_image ran ``max_iters`` steps and the model still does not predict the
    target.  ``image`` is the last image, ``predicted`` the model's class for it."""

    def __init__(self, message, image, steps, predicted):
        super().__init__(message)
        self.image, self.steps, self.predicted = image, steps, predicted


def make_fooling_image(model, X, target_y, lr=1.0, max_iters=100):
    """Change X (1, 3, H, W) a little until the model classifies it as ``target_y``.

    Each step adds lr * g / ||g||_2, with g = d s_target / dX: a step of L2 length ``lr``
    in the direction that raises the target score fastest.  Returns (image, steps): the
    fooling image (1, 3, H, W) NumPy, normalised, and the number of steps taken (0 when X
    is already classified as target_y).  Raises FoolingError after ``max_iters`` steps
    without success.  The total change has L2 norm at most steps * lr.
    """
    who = "make_fooling_image"
    _check_model(model, who)
    X = _as_images(X, who, single=True)
    if not isinstance(target_y, (int, np.integer)) or isinstance(target_y, bool):
        raise TypeError(f"{who}: target_y must be an int class index, got {target_y!r} "
                        "(use class_index(name, class_names) for a name).")
    if not (lr > 0 and max_iters >= 0):
        raise ValueError(f"{who}: need lr > 0 and max_iters >= 0, got lr={lr}, "
                         f"max_iters={max_iters}.")
    y = np.array([target_y])
    img = X.copy()
    for step in range(max_iters + 1):
        scores, g = score_gradient(model, img, y, who, "target_y")  # checks target_y
        predicted = int(scores[0].argmax())
        if predicted == target_y:
            return img, step
        if step == max_iters:
            break
        img += lr * g / (np.linalg.norm(g) + 1e-12)
    raise FoolingError(f"{who}: after {max_iters} steps of lr={lr} the model still predicts "
                       f"class {predicted}, not {target_y}; raise max_iters or lr.",
                       img, max_iters, predicted)


# -- 3. class visualization ----------------------------------------------------------------------

def jitter(X, ox, oy):
    """Roll the image ox pixels right and oy pixels down (what falls off one edge comes
    back on the other); jitter(X, -ox, -oy) undoes it exactly."""
    return np.roll(X, (oy, ox), axis=(2, 3))


def blur_image(X, sigma=0.5):
    """Gaussian blur of each channel of X (1, 3, H, W), over H and W only."""
    return gaussian_filter(X, sigma=(0, 0, sigma, sigma))


@dataclass
class ClassVisualization:
    image: np.ndarray                             # (1, 3, H, W), normalised
    target: int
    probs: list = field(default_factory=list)     # softmax probability of target, per step
    scores: list = field(default_factory=list)    # score s_target, per step
    frames: list = field(default_factory=list)    # (step, (H, W, 3) uint8) pairs

    def to_uint8(self) -> np.ndarray:
        return deprocess(self.image)


def class_visualization(model, target_y, iters=100, lr=25.0, l2_reg=1e-3, blur_every=10,
                        max_jitter=16, seed=None, size=224, blur_sigma=0.5, frame_every=0,
                        class_names=None, quiet=True) -> ClassVisualization:
    """An image the model scores highly as class ``target_y``, grown from random noise.

    Each of ``iters`` steps:
      1. jitter: roll the image by random (ox, oy) in [-max_jitter, max_jitter];
      2. gradient ascent on  s_y(I) - l2_reg * ||I||^2:  I += lr * g;
      3. un-jitter, clamp every pixel to the valid range (PIXEL_MIN..PIXEL_MAX);
      4. every ``blur_every`` steps, a Gaussian blur of ``blur_sigma`` pixels.
    target_y: class index, or a name when ``class_names`` is given.  ``probs``/``scores``
    of the result are the target's softmax probability and score at each step (of the
    jittered image the step starts from); with ``frame_every`` > 0, ``frames`` holds the
    image every ``frame_every`` steps and at the end.  quiet=False shows a progress bar.
    """
    who = "class_visualization"
    _check_model(model, who)
    if isinstance(target_y, str):
        if class_names is None:
            raise ValueError(f"{who}: target_y={target_y!r} is a name; pass class_names "
                             "(see load_class_names) or a class index.")
        target_y = class_index(target_y, class_names, who)
    elif class_names is not None:
        target_y = class_index(target_y, class_names, who)
    elif not isinstance(target_y, (int, np.integer)) or isinstance(target_y, bool):
        raise TypeError(f"{who}: target_y must be an int class index or a name, got "
                        f"{target_y!r}.")
    if iters < 0 or lr <= 0 or l2_reg < 0 or blur_every < 0 or max_jitter < 0 or size < 15:
        raise ValueError(f"{who}: need iters >= 0, lr > 0, l2_reg >= 0, blur_every >= 0, "
                         f"max_jitter >= 0, size >= 15; got iters={iters}, lr={lr}, "
                         f"l2_reg={l2_reg}, blur_every={blur_every}, max_jitter={max_jitter}, "
                         f"size={size}.")
    rng = np.random.default_rng(seed)
    img = rng.standard_normal((1, 3, size, size)).astype(np.float32)
    img = np.clip(img, PIXEL_MIN, PIXEL_MAX)
    result = ClassVisualization(img, int(target_y))
    with no_grad():  # check the class index before the loop, with one cheap forward
        _check_classes([target_y], model(Tensor(img)).shape[1], who, "target_y")
    bar = progress(total=iters, desc=f"class {target_y}", disable=quiet)
    for t in range(iters):
        ox, oy = rng.integers(-max_jitter, max_jitter + 1, size=2)
        x = Tensor(jitter(img, ox, oy), requires_grad=True)
        scores = model(x)
        objective = scores[0, target_y] - l2_reg * x.square().sum()
        (g,) = tg.grad(objective, x)
        with no_grad():
            prob = float(F.softmax(scores.detach(), axis=1).data[0, target_y])
        result.probs.append(prob)
        result.scores.append(float(scores.data[0, target_y]))
        img = jitter(x.data + lr * g.data, -ox, -oy)
        img = np.clip(img, PIXEL_MIN, PIXEL_MAX)
        if blur_every and (t + 1) % blur_every == 0:
            img = blur_image(img, blur_sigma)
        if frame_every and ((t + 1) % frame_every == 0 or t == iters - 1):
            result.frames.append((t + 1, deprocess(img)))
        bar.set(prob=prob)
        bar.update()
    bar.close()
    result.image = img.astype(np.float32)
    return result

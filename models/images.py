"""Loading images and converting them to and from the network's input format.

preprocess: PIL image -> shorter side resized to ``size`` (bilinear) -> [0, 1] -> subtract
the ImageNet mean, divide by the std -> (1, 3, H, W) float32.  deprocess undoes it.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, UnidentifiedImageError

from tinygrad_cs import Tensor

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def load_image(path, size=None) -> Image.Image:
    """Open an image file as RGB; with ``size``, resize its shorter side to ``size``."""
    try:
        img = Image.open(path)
        img.load()
    except FileNotFoundError:
        raise FileNotFoundError(f"load_image: no such file {str(path)!r}.") from None
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"load_image: {str(path)!r} is not an image PIL can read ({e}).") from None
    img = img.convert("RGB")
    return resize_shorter_side(img, size) if size else img


def resize_shorter_side(img: Image.Image, size: int) -> Image.Image:
    w, h = img.size
    scale = size / min(w, h)
    return img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR)


def preprocess(img, size=None) -> Tensor:
    """PIL image or (H, W, 3) uint8 array -> normalised (1, 3, H, W) float32 Tensor."""
    if isinstance(img, np.ndarray):
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"preprocess: expected an (H, W, 3) uint8 RGB array, got shape "
                             f"{img.shape} dtype {img.dtype}.")
        img = Image.fromarray(img)
    if size:
        img = resize_shorter_side(img, size)
    x = np.asarray(img.convert("RGB"), np.float32) / 255.0
    x = (x - MEAN) / STD
    return Tensor(x.transpose(2, 0, 1)[None].copy())


def deprocess(x, rescale=False) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) normalised -> (H, W, 3) uint8.  ``rescale`` stretches the
    values to the full 0..255 range first (useful for images far from natural ones)."""
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    if a.ndim == 4:
        a = a[0]
    a = a.transpose(1, 2, 0) * STD + MEAN
    if rescale:
        lo, hi = a.min(), a.max()
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    return (np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8)

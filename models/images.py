"""Loading images and converting them to and from the network's input format.

preprocess: PIL image -> shorter side resized to ``size`` (bilinear) -> optional centre
crop -> [0, 1] -> subtract the ImageNet mean, divide by the std -> (1, 3, H, W) float32.
deprocess undoes it.

Limits, so that a small hostile file cannot take gigabytes: PIL refuses to decode images
of more than ``Image.MAX_IMAGE_PIXELS`` pixels (a "decompression bomb": a tiny compressed
file that decodes to a huge image), and preprocessing refuses to produce an image with more
than ``MAX_PIXELS`` pixels or a side ratio above ``MAX_ASPECT``.
"""
from __future__ import annotations

import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tinygrad_cs import Tensor

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
MAX_PIXELS = 4096 * 4096  # of a preprocessed image: 200 MB as (3, H, W) float32
MAX_ASPECT = 20           # long side / short side

# 16-bit and 32-bit integer grey images: PIL's convert("RGB") would clip them to 0..255
_WIDE_GREY_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def load_image(path, size=None) -> Image.Image:
    """Open an image file as RGB; with ``size``, resize its shorter side to ``size``.

    16-bit grey images (modes "I;16", "I;16B", "I") are scaled from 0..65535 to 0..255.
    A photo's EXIF orientation tag is applied: a camera stores the pixels as the sensor
    saw them and records how to turn them upright, so without this a portrait photo
    would reach the network lying on its side.
    """
    try:
        with warnings.catch_warnings():
            # PIL only warns between MAX_IMAGE_PIXELS and twice that; refuse those too
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            img.load()
            img = ImageOps.exif_transpose(img)  # a new, upright image; unchanged without the tag
    except FileNotFoundError:
        raise FileNotFoundError(f"load_image: no such file {str(path)!r}.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ValueError(f"load_image: {str(path)!r} is too large to open safely ({e}); "
                         "shrink it first with an image editor.") from None
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"load_image: {str(path)!r} is not an image PIL can read ({e}).") from None
    img = to_rgb(img)
    return resize_shorter_side(img, size) if size else img


def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL image -> 8-bit RGB.  Wide grey modes are rescaled, not clipped."""
    if img.mode in _WIDE_GREY_MODES:
        # values 0..65535 (a 16-bit PNG opens as "I;16" or, in older PIL versions, as "I")
        grey = np.clip(np.asarray(img, np.float64), 0, 65535) * (255 / 65535)
        img = Image.fromarray((grey + 0.5).astype(np.uint8), "L")
    return img.convert("RGB")


def _check_output_size(w, h, new_w, new_h, what):
    aspect = max(w, h) / max(1, min(w, h))
    if aspect > MAX_ASPECT:
        raise ValueError(f"{what}: the image is {w}x{h} pixels, a side ratio of {aspect:.0f}:1; "
                         f"at most {MAX_ASPECT}:1 is accepted. Crop it to a less elongated "
                         "region first.")
    if new_w * new_h > MAX_PIXELS:
        raise ValueError(f"{what}: a {w}x{h} image would become {new_w}x{new_h} pixels, more "
                         f"than the {MAX_PIXELS} accepted (models.images.MAX_PIXELS). Use a "
                         "smaller size.")


def _resized_size(img, size):
    w, h = img.size
    scale = size / min(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def resize_shorter_side(img: Image.Image, size: int) -> Image.Image:
    """Resize (bilinear) so that the shorter side is ``size`` pixels, keeping the aspect."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"resize_shorter_side: size must be a positive integer, got {size!r}.")
    new_w, new_h = _resized_size(img, size)
    _check_output_size(*img.size, new_w, new_h, "resize_shorter_side")
    return img.resize((new_w, new_h), Image.BILINEAR)


def resize_and_center_crop(img: Image.Image, size: int, crop: int) -> Image.Image:
    """torchvision's eval transform, Resize(size) then CenterCrop(crop), computed on the crop
    only: the crop box is mapped back to the original image and just that region is
    resampled, so a very wide image never becomes a very wide array first."""
    if crop > size:
        raise ValueError(f"resize_and_center_crop: crop {crop} is larger than the resized "
                         f"shorter side {size}.")
    w, h = img.size
    new_w, new_h = _resized_size(img, size)
    _check_output_size(w, h, crop, crop, "resize_and_center_crop")
    left, top = (new_w - crop) // 2, (new_h - crop) // 2
    sx, sy = w / new_w, h / new_h  # original pixels per resized pixel
    box = (left * sx, top * sy, (left + crop) * sx, (top + crop) * sy)
    return img.resize((crop, crop), Image.BILINEAR, box=box)


def preprocess(img, size=None, crop=None) -> Tensor:
    """PIL image or (H, W, 3) uint8 array -> normalised (1, 3, H, W) float32 Tensor.

    size: resize the shorter side to ``size`` first; crop: then keep the centre
    ``crop`` x ``crop`` square (needs ``size``).  Normalisation comes last, on the small image.
    """
    if isinstance(img, np.ndarray):
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"preprocess: expected an (H, W, 3) uint8 RGB array, got shape "
                             f"{img.shape} dtype {img.dtype}.")
        img = Image.fromarray(img)
    img = to_rgb(img)
    if crop:
        if not size:
            raise ValueError("preprocess: crop needs size (the shorter side before cropping).")
        img = resize_and_center_crop(img, size, crop)
    elif size:
        img = resize_shorter_side(img, size)
    else:
        _check_output_size(*img.size, *img.size, "preprocess")
    x = np.asarray(img, np.float32) / 255.0
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

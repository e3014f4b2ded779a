"""Saving figures and image grids atomically (shared by the demos)."""
import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from tinygrad_cs.io import atomic_path  # noqa: E402


def save_figure(fig, path):
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=str(path).rsplit(".", 1)[-1], dpi=100, bbox_inches="tight")
    plt.close(fig)


def save_image(array_uint8, path):
    fmt = {"jpg": "JPEG", "jpeg": "JPEG"}.get(str(path).rsplit(".", 1)[-1].lower(), "PNG")
    with atomic_path(path) as tmp:
        Image.fromarray(array_uint8).save(tmp, format=fmt)


def image_grid(images, rows, cols, pad=2):
    """images (N, H, W) or (N, H, W, 3) uint8 -> one (rows*H, cols*W) uint8 grid."""
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad) + images.shape[3:], 255,
                   np.uint8)
    for k in range(min(n, rows * cols)):
        r, c = divmod(k, cols)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = images[k]
    return grid


def plot_curves(curves: dict, path, xlabel="iteration", ylabel="loss", title=None, logy=False):
    """curves: name -> list of values (or (xs, ys))."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, values in curves.items():
        xs, ys = values if isinstance(values, tuple) else (np.arange(1, len(values) + 1), values)
        ax.plot(xs, ys, label=name, linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, path)

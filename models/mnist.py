"""MNIST: 70,000 28x28 greyscale digits (60,000 for training, 10,000 for testing).

``load_mnist(data_dir)`` reads, from the data directory (or ``TINYGRAD_CS_DATA``, or the
cache), either ``mnist/mnist.npz`` (arrays x_train, y_train, x_test, y_test) or the four
official idx files (``.gz`` or not, in ``mnist/`` or at the top).  With ``download_missing`` and
none of these present it fetches the official gzipped idx files into the cache (through
``models.data.find_file``), checking their MD5 (the checksums published with the data set).
"""
from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from tinygrad_cs.io import DamagedFileError, load_npz
from tinygrad_cs.random import get_rng

from .data import DataNotFoundError, find_file, locate

IDX_FILES = {  # array -> official file name (its URLs and MD5 are in models/data.py)
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def read_idx(path) -> np.ndarray:
    """Parse an idx file (optionally gzipped): magic 0x0000 08 <ndim>, big-endian int32 sizes,
    then the uint8 payload.

    Raises DamagedFileError (a ValueError) naming the file if it is truncated, not gzip
    data though named .gz, or its header does not describe exactly the bytes that follow."""
    path = Path(path)

    def damaged(detail):
        return DamagedFileError(f"read_idx: the MNIST file {str(path)!r} is damaged ({detail}). "
                                "Delete it and download it again (or use mnist/mnist.npz).")

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:  # a cut or corrupt .gz
        raise damaged(f"{type(e).__name__}: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise damaged(f"not an idx file of unsigned bytes: bad magic number {raw[:4].hex()!r}")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise damaged(f"the header claims {ndim} sizes of 4 bytes but the file holds only "
                      f"{len(raw)} bytes")
    dims = [int(d) for d in np.frombuffer(raw, ">i4", count=ndim, offset=4)]
    if any(d < 0 for d in dims):
        raise damaged(f"the header gives negative sizes {tuple(dims)}")
    payload = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    count = math.prod(dims)  # exact Python integers: no overflow
    if payload.size != count:
        raise damaged(f"the header says shape {tuple(dims)} ({count} bytes) but {payload.size} "
                      "bytes follow: truncated or corrupt")
    return payload.reshape(dims)


def _check(arrays, sources):
    """Every array present with MNIST's shapes (any number of images, at least one), and
    one label per image.  ``sources``: array name -> the file it came from, for messages."""
    expected = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28),
                "y_test": (10000,)}

    def damaged(key, detail):
        return DamagedFileError(f"load_mnist: the MNIST file {str(sources[key])!r} is damaged: "
                                f"{detail}. Delete it and download it again.")

    for key, shape in expected.items():
        if key not in arrays:
            raise damaged(key, f"missing array {key!r} (expected x_train, y_train, x_test, "
                               "y_test)")
        a = arrays[key]
        if a.shape[1:] != shape[1:] or a.ndim != len(shape) or a.dtype != np.uint8:
            raise damaged(key, f"{key} has shape {a.shape} dtype {a.dtype}, expected "
                               f"{shape} uint8")
        if len(a) == 0:
            raise damaged(key, f"{key} holds no examples")
    for images, labels in (("x_train", "y_train"), ("x_test", "y_test")):
        if len(arrays[images]) != len(arrays[labels]):
            raise damaged(labels, f"{labels} has {len(arrays[labels])} labels but "
                                  f"{images} has {len(arrays[images])} images; every image "
                                  "needs exactly one label")
    return arrays


def load_mnist(data_dir=None, download_missing=True) -> dict:
    """dict with x_train (60000, 28, 28) uint8, y_train (60000,) uint8, x_test, y_test."""
    npz = locate(["mnist/mnist.npz", "mnist.npz"], data_dir)
    if npz is not None:
        return _check(load_npz(npz, what="MNIST data file"), dict.fromkeys(IDX_FILES, npz))
    arrays, sources = {}, {}
    for key, name in IDX_FILES.items():
        path = locate([f"mnist/{name}", f"mnist/{name}.gz", name, f"{name}.gz"], data_dir)
        if path is None and download_missing:
            try:
                path = find_file(f"mnist/{name}.gz", data_dir)
            except DataNotFoundError as e:
                raise DataNotFoundError(
                    f"{e} MNIST is the four files mnist/"
                    f"{'.gz, mnist/'.join(IDX_FILES.values())}.gz; a data directory may hold "
                    "those or one mnist/mnist.npz (arrays x_train, y_train, x_test, y_test)."
                ) from None
        if path is None:
            raise DataNotFoundError(
                f"MNIST not found: no mnist/mnist.npz and no {name}[.gz] in the data directory "
                "or the cache. Pass --data DIR (or set TINYGRAD_CS_DATA=DIR) for a folder "
                "holding mnist/mnist.npz or the four official idx files.")
        arrays[key], sources[key] = read_idx(path), path
    return _check(arrays, sources)


def to_float(x_uint8, low=-1.0, high=1.0) -> np.ndarray:
    """uint8 pixels 0..255 -> float32 in [low, high] ([-1, 1] for GANs, [0, 1] for classifiers)."""
    return (x_uint8.astype(np.float32) * np.float32((high - low) / 255.0) + np.float32(low))


def to_uint8(x, low=-1.0, high=1.0) -> np.ndarray:
    """The inverse of ``to_float``: values in [low, high] -> (N, 28, 28) uint8 digits
    (rounded, clipped), e.g. a generator's tanh output."""
    x = (np.asarray(x, np.float32) - low) * (255.0 / (high - low))
    return (x + 0.5).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)


def batches(x, y=None, batch_size=128, seed=None, shuffle=True, drop_last=False):
    """The data loader: yield minibatches ``(x_b, y_b)`` (or ``x_b`` alone when y is None).

    x: array (N, ...) and y: array (N,) (NumPy arrays, or anything indexable by an integer
    array); every batch has ``batch_size`` rows except perhaps the last, which is dropped
    with ``drop_last=True``.  One pass over the generator is one epoch:

        for xb, yb in batches(x_train, y_train, batch_size=64):
            loss = F.cross_entropy(model(Tensor(xb)), yb)

    With ``shuffle`` (the default) the order is a fresh permutation each call: from
    ``seed`` if given, else from the global generator (``manual_seed``), so a seeded
    program sees the same batches every run.  PyTorch's ``DataLoader(dataset, batch_size,
    shuffle=True)`` plays the same part.
    """
    # checked now, at the call, not at the first next(): a generator would run nothing yet
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batches: batch_size must be a positive integer, got {batch_size!r}.")
    n = len(x)
    if y is not None and len(y) != n:
        raise ValueError(f"batches: x has {n} rows but y has {len(y)}; every example needs "
                         "exactly one label.")
    rng = np.random.default_rng(seed) if seed is not None else get_rng()
    order = rng.permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    return _batches(x, y, order, stop, batch_size)


def _batches(x, y, order, stop, batch_size):
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield (x[idx], y[idx]) if y is not None else x[idx]

"""Atomic file writing: write to a temporary file in the same folder, then rename.

A reader (or a crash in the middle of writing) never sees a half-written checkpoint,
image or plot: ``os.replace`` swaps the complete file in at once.
"""
import contextlib
import os
import tempfile

import numpy as np


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``.

    >>> with atomic_path("out.png") as tmp:
    ...     image.save(tmp, format="PNG")
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    base = os.path.basename(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{base}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path, text: str):
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write(text)


def save_npz_atomic(path, arrays: dict):
    """``np.savez`` of a name -> array dict, atomically (no pickled objects inside)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})


def load_npz(path) -> dict:
    """Load an .npz written by ``save_npz_atomic`` (``allow_pickle=False``: never runs code)."""
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}

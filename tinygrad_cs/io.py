"""Atomic file writing and safe ``.npz`` reading.

Writing: write to a temporary file in the same folder, then rename.  A reader (or a crash
in the middle of writing) never sees a half-written checkpoint, image or plot:
``os.replace`` swaps the complete file in at once.  A file the user made read-only is
never replaced.

Reading: ``load_npz`` never unpickles (so it never runs code) and turns the many ways a
damaged file fails inside NumPy or zipfile into one clear message.
"""
import contextlib
import glob
import os
import stat
import tempfile
import zipfile
import zlib

import numpy as np


def check_replaceable(path):
    """Raise PermissionError if ``path`` exists and its owner-write bit is off.

    ``os.replace`` only needs write permission on the folder, so without this check a
    read-only file would be swapped for a new, writable one.  The mode bits are checked
    rather than ``os.access``, which always says yes to root."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not mode & stat.S_IWUSR:
        raise PermissionError(f"save: {path!r} is read-only (mode {stat.S_IMODE(mode):o}); not "
                              "replacing it. Make it writable (chmod u+w) or save elsewhere.")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``.

    >>> with atomic_path("out.png") as tmp:
    ...     image.save(tmp, format="PNG")

    Raises PermissionError before anything is written if ``path`` exists and is
    read-only.  An existing file keeps its permissions.
    """
    path = os.fspath(path)
    check_replaceable(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    base = os.path.basename(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{base}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        check_replaceable(path)  # it may have been made read-only while we wrote
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()  # mkstemp makes 0600; give the usual permissions
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def remove_stale_temporaries(path) -> list:
    """Delete temporary files that ``atomic_path(path)`` left behind when the program was
    killed in the middle of a save (``.<name>.*.tmp`` beside ``path``).  Returns their paths.

    Call it only when no other program is saving to ``path`` at the same time."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    pattern = os.path.join(glob.escape(folder), f".{glob.escape(os.path.basename(path))}.*.tmp")
    removed = []
    for tmp in glob.glob(pattern):
        os.remove(tmp)
        removed.append(tmp)
    return removed


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


class DamagedFileError(ValueError):
    """A file exists but cannot be read: truncated, corrupt, or of another format."""


def load_npz(path, what="file") -> dict:
    """name -> array for every array of an ``.npz`` file, read with ``allow_pickle=False``
    (a pickled object is refused, so loading never runs code).

    ``what`` says what the file is for ("weights", "checkpoint", "MNIST data"), for the
    messages.  Raises FileNotFoundError for a missing file and DamagedFileError (a
    ValueError) for one that is empty, truncated, corrupt, not an ``.npz`` at all, or
    holds pickled objects.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_npz: the {what} {path!r} does not exist.")
    def damaged(detail):
        return DamagedFileError(
            f"load_npz: the {what} {path!r} is not a readable .npz ({detail}): it is damaged "
            "(truncated or corrupt) or of another format. Delete it and save or download it "
            "again.")

    with open(path, "rb") as f:
        head = f.read(4)
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):  # how a zip archive (an .npz) starts
        raise damaged("the file is empty" if not head else "it does not start like a zip archive")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except ValueError as e:
        if "allow_pickle" in str(e):  # NumPy's advice (allow_pickle=True) would be unsafe
            raise DamagedFileError(
                f"load_npz: the {what} {path!r} holds pickled Python objects, which are never "
                "loaded (unpickling can run code); save plain numeric arrays instead.") from None
        raise damaged(str(e)) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as e:
        raise damaged(f"{type(e).__name__}: {e}") from None

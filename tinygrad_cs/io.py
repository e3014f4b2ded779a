"""Atomic file writing and safe ``.npz`` reading.

Writing: write to a temporary file in the same folder, then rename.  A reader (or a crash
in the middle of writing) never sees a half-written checkpoint, image or plot:
``os.replace`` swaps the complete file in at once.  A file the user made read-only is
never replaced.

Reading: ``load_npz`` never unpickles (so it never runs code), checks every member's
``.npy`` header against the member's size before loading anything (a header can claim a
terabyte), refuses a zip bomb (a small file that unpacks to gigabytes) and any file whose
arrays exceed a size limit, and turns the many ways a damaged file fails inside NumPy or
zipfile into one clear message.
"""
import contextlib
import glob
import math
import os
import stat
import tempfile
import zipfile
import zlib

import numpy as np


def check_replaceable(path):
    """Raise an OSError with a clear message if a file cannot be saved at ``path``:

    * IsADirectoryError: ``path`` is a folder (give a file name inside it);
    * NotADirectoryError: a parent of ``path`` is a file, so no folder can be made there;
    * PermissionError: ``path`` exists and its owner-write bit is off.

    ``os.replace`` only needs write permission on the folder, so without the last check a
    read-only file would be swapped for a new, writable one.  The mode bits are checked
    rather than ``os.access``, which always says yes to root."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: {path!r} is a folder, not a file; give a file name "
                                "(inside it, say) to save to.")
    # the nearest part of the path that exists must be a folder for the file to be made
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent) and os.path.dirname(parent) != parent:
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise NotADirectoryError(f"save: cannot save {path!r}: {parent!r} is a file, not a "
                                 "folder. Choose an output path whose folders are folders.")
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


class FileTooLargeError(ValueError):
    """An ``.npz`` whose arrays would take more memory than the caller allowed."""


# The largest file the project reads (MNIST as one .npz) unpacks to about 55 MB.
MAX_BYTES = 2 * 1024 ** 3
# Deflate, the compression np.savez_compressed uses, shrinks data at most about 1030:1 (an
# array of zeros does that); real weights and images shrink far less.  A big member packed
# tighter than 1000:1 is a zip bomb or an array of almost nothing but zeros, so it is
# refused unless the caller says otherwise (max_ratio=None).
MAX_RATIO = 1000
_RATIO_FLOOR = 16 * 1024 ** 2  # small members may have any ratio: they cannot fill memory


def load_npz(path, what="file", max_bytes=MAX_BYTES, max_ratio=MAX_RATIO) -> dict:
    """name -> array for every array of an ``.npz`` file, read with ``allow_pickle=False``
    (a pickled object is refused, so loading never runs code).

    ``what`` says what the file is for ("weights", "checkpoint", "MNIST data"), for the
    messages.  Raises FileNotFoundError for a missing file and DamagedFileError (a
    ValueError) for one that is empty, truncated, corrupt, not an ``.npz`` at all, holds
    pickled objects, or is encrypted or compressed in a way zipfile cannot read.

    Raises FileTooLargeError (a ValueError), from the zip's table of contents, before
    anything is unpacked, if

    * the arrays together hold more than ``max_bytes`` bytes (default 2 GiB), or
    * a member over 16 MB unpacks to more than ``max_ratio`` (default 1000) times its
      packed size: the mark of a zip bomb, a small file made to fill the memory.

    To load a genuinely large file, pass a larger ``max_bytes`` or ``max_ratio=None``.
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
        _check_sizes(path, what, max_bytes, max_ratio, damaged)
        _check_members(path, damaged)
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except _PickledObjects:
        raise DamagedFileError(
            f"load_npz: the {what} {path!r} holds pickled Python objects, which are never "
            "loaded (unpickling can run code); save plain numeric arrays instead.") from None
    except ValueError as e:
        if isinstance(e, (DamagedFileError, FileTooLargeError)):
            raise
        if "allow_pickle" in str(e):  # NumPy's advice (allow_pickle=True) would be unsafe
            raise DamagedFileError(
                f"load_npz: the {what} {path!r} holds pickled Python objects, which are never "
                "loaded (unpickling can run code); save plain numeric arrays instead.") from None
        raise damaged(str(e)) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, NotImplementedError,
            RuntimeError) as e:
        # zipfile raises NotImplementedError for an unknown compression method and
        # RuntimeError for an encrypted member (both also checked in _check_sizes)
        raise damaged(f"{type(e).__name__}: {e}") from None


class _PickledObjects(Exception):
    pass


def _check_sizes(path, what, max_bytes, max_ratio, damaged):
    """From the zip's table of contents alone (nothing unpacked): no member may be
    encrypted, packed with a method zipfile cannot read, or packed more than ``max_ratio``
    times tighter than it unpacks (if over 16 MB), and all members together must fit in
    ``max_bytes``."""
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    for info in infos:
        if info.flag_bits & 0x1:  # bit 0 of the flags: the member is encrypted
            raise damaged(f"member {info.filename!r} is encrypted; .npz files are never "
                          "encrypted")
        if info.compress_type not in _READABLE_METHODS:
            raise damaged(f"member {info.filename!r} uses compression method "
                          f"{info.compress_type}, which cannot be read here (np.savez "
                          "stores, np.savez_compressed deflates)")
        if max_ratio is not None and info.file_size > _RATIO_FLOOR \
                and info.file_size > max_ratio * info.compress_size:
            raise FileTooLargeError(
                f"load_npz: the {what} {path!r}: member {info.filename!r} unpacks from "
                f"{info.compress_size} to {info.file_size} bytes, more than max_ratio="
                f"{max_ratio} times its packed size, as a zip bomb does; not loading it. If "
                "the file is genuine (an array of zeros packs that tightly) and the memory is "
                "there, call load_npz(path, max_ratio=None).")
    total = sum(info.file_size for info in infos)
    if total > max_bytes:
        raise FileTooLargeError(
            f"load_npz: the {what} {path!r} holds {total} bytes of arrays, more than "
            f"max_bytes={max_bytes}; not loading it. If the file is genuinely that large and "
            f"the memory is there, call load_npz(path, max_bytes={total}) (or larger).")


# the compression methods this Python's zipfile can unpack (stored, deflate, bzip2, lzma)
_READABLE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                     zipfile.ZIP_LZMA}


def _check_members(path, damaged):
    """Before any array is loaded: every member must be an ``.npy`` whose header's shape
    and dtype fit in the member's size.  A header may claim any shape (10**12 elements,
    say); NumPy would try to allocate it before noticing the data is not there."""
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if not info.filename.endswith(".npy"):
                raise damaged(f"member {info.filename!r} is not an .npy array")
            with z.open(info) as member:
                try:
                    version = np.lib.format.read_magic(member)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                except ValueError as e:
                    raise damaged(f"member {info.filename!r} has a bad .npy header: {e}") from None
                if dtype.hasobject:
                    raise _PickledObjects()
                needed = math.prod(shape) * dtype.itemsize  # exact: no overflow
                if member.tell() + needed > info.file_size:
                    raise damaged(f"member {info.filename!r} claims shape {shape} of {dtype} "
                                  f"({needed} bytes) but holds {info.file_size - member.tell()}")

"""Where data and weights come from.

``find_file(relative_path, ...)`` looks, in order, in

1. the data directory given by the caller (a ``--data`` flag),
2. the ``TINYGRAD_CS_DATA`` environment variable,
3. the download cache (``$TINYGRAD_CS_CACHE`` or ``~/.cache/tinygrad_cs``),

and, when a URL is known, downloads the official file into the cache with a progress bar,
checks its hash, and renames it into place only when complete.  The data directory is
only read, never written.
"""
from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

from tinygrad_cs.io import atomic_path
from tinygrad_cs.progress import progress

ENV_DATA = "TINYGRAD_CS_DATA"
ENV_CACHE = "TINYGRAD_CS_CACHE"


class DataNotFoundError(FileNotFoundError):
    """A needed file is in none of the places we look, and cannot be downloaded."""


def cache_dir() -> Path:
    return Path(os.environ.get(ENV_CACHE) or Path.home() / ".cache" / "tinygrad_cs")


def data_dirs(data_dir=None) -> list:
    dirs = []
    for d in (data_dir, os.environ.get(ENV_DATA)):
        if d:
            p = Path(d).expanduser()
            if not p.is_dir():
                raise DataNotFoundError(
                    f"data directory {str(p)!r} does not exist. Pass --data DIR (or set "
                    f"{ENV_DATA}=DIR) pointing at a folder that holds the data files.")
            dirs.append(p)
    dirs.append(cache_dir())
    return dirs


def file_hash(path, algorithm="sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_hash(path, expected: str | None):
    """``expected`` is "sha256:<hex or hex prefix>" or "md5:<hex>"; None skips the check."""
    if not expected:
        return
    algorithm, _, digest = expected.partition(":")
    actual = file_hash(path, algorithm)
    if not actual.startswith(digest.lower()):
        raise ValueError(f"checksum mismatch for {path}: expected {algorithm} {digest}, got "
                         f"{actual}. The file is corrupt or not the expected one; delete it "
                         "and download it again.")


def download(url: str, dest: Path, expected_hash: str | None = None, quiet=False) -> Path:
    """Download ``url`` to ``dest`` (atomically, with a progress bar) and check its hash."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dest) as tmp:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with progress(total=total, desc=f"downloading {dest.name}", disable=quiet) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
        check_hash(tmp, expected_hash)  # a bad download never reaches dest
    return dest


def locate(candidates, data_dir=None):
    """The first existing file among ``candidates`` (relative paths) in the places we look,
    or None."""
    for d in data_dirs(data_dir):
        for relative in candidates:
            if (d / relative).is_file():
                return d / relative
    return None


def find_file(relative: str, data_dir=None, url: str | None = None,
              expected_hash: str | None = None, quiet=False) -> Path:
    """The path of ``relative`` in the first place that has it (checking its hash), else
    a download of ``url`` into the cache, else a DataNotFoundError saying what to do."""
    dirs = data_dirs(data_dir)
    for d in dirs:
        path = d / relative
        if path.is_file():
            check_hash(path, expected_hash)
            return path
    if url is None:
        raise DataNotFoundError(
            f"{relative} was not found in {', '.join(str(d) for d in dirs)}. Pass --data DIR "
            f"(or set {ENV_DATA}=DIR) for a folder containing {relative}.")
    try:
        return download(url, cache_dir() / relative, expected_hash, quiet=quiet)
    except OSError as e:
        raise DataNotFoundError(
            f"{relative} is not available locally and downloading {url} failed ({e}). Without "
            f"internet, pass --data DIR (or set {ENV_DATA}=DIR) for a folder containing "
            f"{relative}.") from e

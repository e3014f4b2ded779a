"""Where data and weights come from: one table of files, one way to find each.

``find_file("styles/starry_night.jpg", data_dir)`` looks, in order, in

1. the data directory: ``data_dir`` (a ``--data DIR`` flag), else ``$TINYGRAD_CS_DATA``;
2. the download cache: ``$TINYGRAD_CS_CACHE``, else ``~/.cache/tinygrad_cs``;
3. the file's pinned official URL (``SOURCES`` below): downloaded with a progress bar into
   a temporary file beside its place in the cache, checked against its hash, and only then
   renamed into place.  A bad or interrupted download never looks like a good file.

Files are found under the same relative name everywhere (``styles/tubingen.jpg``), so a
cache folder copied from another machine also works as a data directory.  The data
directory is only read, never written.

``TINYGRAD_CS_MIRROR`` (a base URL, or a local folder) replaces every official URL: the
file's relative name is appended to it, e.g. ``$TINYGRAD_CS_MIRROR/styles/tubingen.jpg``.
It serves machines behind a proxy, and the tests, which never touch the network.
"""
from __future__ import annotations

import hashlib
import os
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tinygrad_cs.io import atomic_path
from tinygrad_cs.progress import progress

ENV_DATA = "TINYGRAD_CS_DATA"
ENV_CACHE = "TINYGRAD_CS_CACHE"
ENV_MIRROR = "TINYGRAD_CS_MIRROR"


@dataclass(frozen=True)
class Source:
    """One file we know: where it lives (relative to a data directory or the cache), where
    it can be downloaded, the hash it must have, and what it is."""
    relative: str
    urls: tuple    # official URLs, tried in order; () when there is no public download
    checksum: str  # "sha256:<hex>" or "md5:<hex>"; a shorter hex is checked as a prefix
    about: str


def _github(repo, commit, path):
    # a raw file at a fixed commit: the bytes can never change under the same URL
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


NEURAL_STYLE = ("jcjohnson/neural-style", "07c4b8299f8fbdafec0c514fc820ff1d7ff62e46")
# a copy of the CS231n assignment 3 files (the course publishes them only as a zip archive)
CS231N_ASSIGNMENT = ("yankainan/cs231n-assignment", "15c8bd19ae3387f005732c2f7a9deb6e6913a94f")
PYTORCH_HUB = ("pytorch/hub", "c7895df70c7767403e36f82786d6b611b7984557")
MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")

SOURCES = {s.relative: s for s in [
    # torchvision's SqueezeNet 1.1 checkpoint (features and classifier).  Its full sha256 is
    # not written down anywhere we could check; torchvision names the file after the first
    # 8 hex digits of it and checks only those, so we check the same prefix.
    Source("squeezenet/squeezenet1_1-b8a52dc0.pth",
           ("https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",),
           "sha256:b8a52dc0", "torchvision's SqueezeNet 1.1 ImageNet weights"),
    Source("styles/tubingen.jpg",
           (_github(*NEURAL_STYLE, "examples/inputs/tubingen.jpg"),),
           "sha256:e67d1869f01fd805385c681a80d9ebcf0f70ea4a5fe6127f0606bb1c7f4bf506",
           "the Neckarfront in Tübingen, photo by Andreas Praefcke"),
    Source("styles/starry_night.jpg",
           (_github(*NEURAL_STYLE, "examples/inputs/starry_night_google.jpg"),),
           "sha256:c31741a09141c2e2d07fc7aa6bdf135c369b804f9433e43fa3ceac19386d1ee6",
           "Vincent van Gogh, The Starry Night, 1889"),
    Source("styles/the_scream.jpg",
           (_github(*NEURAL_STYLE, "examples/inputs/the_scream.jpg"),),
           "sha256:f3075cddeb974a9ee1d6418f7f33fd05185a7ac7dcb4288bd2805d499a9dcaee",
           "Edvard Munch, The Scream, 1893"),
    Source("styles/composition_vii.jpg",
           (_github(*CS231N_ASSIGNMENT, "assignment3/styles/composition_vii.jpg"),),
           "sha256:8f992ed4aecd6dd56972d7bc8166761de7c94e670ee6effa8fd05f3daeb33409",
           "Wassily Kandinsky, Composition VII, 1913"),
    Source("imagenet_classes.txt",
           (_github(*PYTORCH_HUB, "imagenet_classes.txt"),),
           "sha256:1f386e0d1cb6e28b9c2dac651c3dea6801e98ad1b41a14ce6bb1a093d72069f5",
           "the 1000 ImageNet class names, in class-index order"),
    # MNIST's official gzipped idx files, with the MD5s published alongside them
    *[Source(f"mnist/{name}.gz", tuple(base + name + ".gz" for base in MNIST_URLS),
             f"md5:{md5}", f"MNIST {what}")
      for name, md5, what in [
          ("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873", "training images"),
          ("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432", "training labels"),
          ("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3", "test images"),
          ("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c", "test labels")]],
    # only in a data directory: converted files with no public download of their own
    Source("squeezenet/squeezenet1_1.npz", (),
           "sha256:d93ddd97c67fea9a17380d10cac44bdf76c3cdf377a3315240c1b5a4d3e63158",
           "torchvision's SqueezeNet 1.1 feature weights (no classifier), as .npz"),
    Source("squeezenet/squeezenet1_1_onnxzoo.npz", (),
           "sha256:6f6464225ae68d6aa9071a2022e1fdf64fc477a6b7b2c8abbb69eed3ef959f89",
           "a complete SqueezeNet 1.1 from the ONNX model zoo, as .npz"),
    Source("imagenet_val_25.npz", (),
           "sha256:94249c3a68eda4154759dfda4f5ce166ffc9294a350018b4fde395dd1354404d",
           "25 labelled ImageNet validation images, the CS231n sample"),
]}


class DataNotFoundError(FileNotFoundError):
    """A needed file is in none of the places we look, and cannot be downloaded."""


class ChecksumError(ValueError):
    """A file's bytes are not the ones expected: corrupt, truncated, or another file."""


# -- the places we look --------------------------------------------------------------------

def cache_dir() -> Path:
    return Path(os.environ.get(ENV_CACHE) or Path.home() / ".cache" / "tinygrad_cs").expanduser()


def data_dir_of(data_dir=None):
    """The data directory in use (``data_dir``, else $TINYGRAD_CS_DATA), or None."""
    d = data_dir or os.environ.get(ENV_DATA)
    if not d:
        return None
    p = Path(d).expanduser()
    if not p.is_dir():
        where = "--data" if data_dir else ENV_DATA
        problem = "is a file, not a folder" if p.exists() else "does not exist"
        raise DataNotFoundError(
            f"data directory {str(p)!r} (from {where}) {problem}. Pass --data DIR (or set "
            f"{ENV_DATA}=DIR) for an existing folder, or leave both unset to download what is "
            "needed into the cache.")
    return p


def data_dirs(data_dir=None) -> list:
    """Where files are looked for, in order: the data directory (if any), then the cache."""
    d = data_dir_of(data_dir)
    return ([d] if d else []) + [cache_dir()]


def locate(candidates, data_dir=None):
    """The first existing file among ``candidates`` (relative paths) in the places we look,
    or None.  No download, no hash check."""
    for d in data_dirs(data_dir):
        for relative in candidates:
            if (d / relative).is_file():
                return d / relative
    return None


# -- hashes and downloads ------------------------------------------------------------------

def file_hash(path, algorithm="sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_hash(path, checksum: str | None, origin=None):
    """Raise ChecksumError unless the file's hash matches ``checksum`` ("sha256:<hex or hex
    prefix>" or "md5:<hex>"); None skips the check.  ``origin`` names where the bytes came
    from (a URL) in the message."""
    if not checksum:
        return
    algorithm, _, expected = checksum.partition(":")
    actual = file_hash(path, algorithm)
    if not actual.startswith(expected.lower()):
        raise ChecksumError(
            f"checksum mismatch for {origin or path}: expected {algorithm} {expected}"
            f"{' (a prefix)' if len(expected) < len(actual) else ''}, got {actual}. "
            + ("The download was deleted; try again later, or another source."
               if origin else "The file is corrupt or not the expected one; delete it."))


def mirror_url(relative: str, mirror: str) -> str:
    """``relative`` appended to the mirror (a URL, or a local folder made a file:// URL)."""
    if "://" not in mirror:
        mirror = Path(mirror).expanduser().resolve().as_uri()
    return mirror.rstrip("/") + "/" + urllib.parse.quote(relative)


def source_urls(source: Source) -> list:
    """The URLs to try for ``source``: the mirror's alone when TINYGRAD_CS_MIRROR is set
    (a file without a public download stays without one)."""
    mirror = os.environ.get(ENV_MIRROR)
    return [mirror_url(source.relative, mirror)] if mirror and source.urls else list(source.urls)


def download(url: str, dest: Path, checksum: str | None = None, quiet=False) -> Path:
    """Download ``url`` to ``dest`` with a progress bar; the hash is checked on a temporary
    file beside ``dest``, which is renamed to ``dest`` only when it is right (and deleted
    otherwise)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dest) as tmp:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with progress(total=total, desc=f"downloading {dest.name}", disable=quiet, unit="B") as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
        check_hash(tmp, checksum, origin=url)  # raising here deletes tmp
    return dest


# -- the one way to find a file ------------------------------------------------------------

def find_file(relative: str, data_dir=None, source: Source | None = None, quiet=False) -> Path:
    """The path of ``relative``: from the data directory, else the cache, else downloaded
    into the cache from its pinned URL.  ``source`` defaults to ``SOURCES[relative]``; a
    file with neither a source nor a local copy is a DataNotFoundError."""
    source = source or SOURCES.get(relative)
    checksum = source.checksum if source else None
    dirs = data_dirs(data_dir)
    for d in dirs:
        if (d / relative).is_file():
            check_hash(d / relative, checksum)
            return d / relative
    where = " nor in ".join(str(d) for d in dirs)
    about = f" ({source.about})" if source else ""
    offline = (f"pass --data DIR (or set {ENV_DATA}=DIR) for a folder that holds {relative}")
    urls = source_urls(source) if source else []
    if not urls:
        why = ("it has no public download: it is read only from a data directory" if source
               else "it is not one of the files with a known download (models/data.py)")
        raise DataNotFoundError(f"{relative}{about} is not in {where}, and {why}. To use it, "
                                f"{offline}.")
    dest = cache_dir() / relative
    errors = []
    for url in urls:
        if not quiet:
            print(f"{relative} is not here yet: downloading it once from {url} into "
                  f"{dest.parent}", file=sys.stderr, flush=True)
        try:
            return download(url, dest, checksum, quiet=quiet)
        except OSError as e:  # no network, a 404, a refused connection, a full disk
            errors.append(f"{url}: {getattr(e, 'reason', None) or e}")
    raise DataNotFoundError(
        f"{relative}{about} is missing: it is not in {where}, and downloading it failed "
        f"({'; '.join(errors)}). Without internet: download {source.urls[0]} on another machine "
        f"and save it as {dest}, or {offline}, or "
        + (f"put {relative} into the mirror {os.environ[ENV_MIRROR]!r} ({ENV_MIRROR})."
           if os.environ.get(ENV_MIRROR) else
           f"set {ENV_MIRROR} to a folder or URL holding {relative}."))

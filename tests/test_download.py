"""A fresh machine: no data directory, an empty cache.  The demos download what they need
from a local mirror (TINYGRAD_CS_MIRROR, file:// URLs; the network is never touched),
check every hash, cache the files, and need no download the second time.

The mirror is built here from the data directory's files (TINYGRAD_CS_DATA, which CI sets).
Two kinds of mirror file are not byte copies of the official ones, so their pinned hashes
are replaced for the test: torchvision's .pth (not in the data directory; written here from
the complete ONNX-zoo weights, torch-free) and MNIST's idx files (rebuilt from mnist.npz).
"""
import dataclasses
import gzip
import hashlib
import os
import pickle
import shutil
import zipfile

import numpy as np
import pytest

from models import data as D
from models.pth import load_pth_state_dict
from models.squeezenet import TORCHVISION_NPZ, TORCHVISION_PTH

DATA = os.environ.get("TINYGRAD_CS_DATA")
pytestmark = pytest.mark.skipif(not DATA, reason="needs TINYGRAD_CS_DATA (CI sets it)")

MNIST_NAMES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
               "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


# -- a torch-free writer of PyTorch's zip checkpoint layout ------------------------------------

class _Global:
    """Pickled as a reference to ``module.name`` (a torch function or class), which need not
    exist here: the reader maps these names to its own stand-ins."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle wants the function of a reduce to be callable
        raise TypeError("only a name to pickle")


class _Storage:
    def __init__(self, key, array):
        self.key, self.array = key, array


class _Tensor:
    def __init__(self, storage, shape):
        self.storage, self.shape = storage, shape

    def __reduce__(self):
        strides = tuple(s // 4 for s in np.empty(self.shape, np.float32).strides)
        return _Global("torch._utils", "_rebuild_tensor_v2"), (self.storage, 0, self.shape, strides)


class _Pickler(pickle._Pickler):  # the pure-Python pickler: its dispatch table can be extended
    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[_Global] = lambda self, g: self.write(
        pickle.GLOBAL + f"{g.module}\n{g.name}\n".encode())

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", _Global("torch", "FloatStorage"), obj.key, "cpu", obj.array.size)
        return None


def write_pth(path, state):
    """Save a name -> float32 array dict as PyTorch's zip layout: archive/data.pkl (the dict
    of tensors, storages by key) plus one raw little-endian file per storage."""
    import collections
    import io
    storages = {k: _Storage(str(i), np.ascontiguousarray(v, "<f4"))
                for i, (k, v) in enumerate(state.items())}
    tensors = collections.OrderedDict((k, _Tensor(storages[k], tuple(v.shape)))
                                      for k, v in state.items())
    buf = io.BytesIO()
    _Pickler(buf, protocol=2).dump(tensors)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        for s in storages.values():
            z.writestr(f"archive/data/{s.key}", s.array.tobytes())


def test_the_pth_writer_round_trips(tmp_path):
    state = {"a.weight": np.arange(24, dtype=np.float32).reshape(2, 3, 4),
             "a.bias": np.ones(3, np.float32)}
    write_pth(tmp_path / "t.pth", state)
    back = load_pth_state_dict(tmp_path / "t.pth")
    assert list(back) == list(state)
    for k in state:
        np.testing.assert_array_equal(back[k], state[k])


# -- the mirror --------------------------------------------------------------------------------

def _sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """A folder laid out like the official sources (relative names as in models.data), and
    the checksums that replace the pinned ones for the files rebuilt here."""
    root = tmp_path_factory.mktemp("mirror")
    for relative in ("styles/tubingen.jpg", "styles/starry_night.jpg", "imagenet_classes.txt"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(os.path.join(DATA, relative), root / relative)
    checksums = {}
    (root / "squeezenet").mkdir()
    with np.load(os.path.join(DATA, "squeezenet", "squeezenet1_1_onnxzoo.npz")) as f:
        write_pth(root / TORCHVISION_PTH, {k: f[k] for k in f.files})
    checksums[TORCHVISION_PTH] = "sha256:" + _sha256(root / TORCHVISION_PTH)
    (root / "mnist").mkdir()
    with np.load(os.path.join(DATA, "mnist", "mnist.npz")) as f:
        for key, name in MNIST_NAMES.items():
            a = f[key]
            with gzip.open(root / "mnist" / f"{name}.gz", "wb", compresslevel=1) as out:
                header = bytes([0, 0, 8, a.ndim]) + np.array(a.shape, ">i4").tobytes()
                out.write(header + a.tobytes())
            md5 = hashlib.md5(open(root / "mnist" / f"{name}.gz", "rb").read()).hexdigest()
            checksums[f"mnist/{name}.gz"] = f"md5:{md5}"
    return root, checksums


@pytest.fixture
def fresh_machine(mirror, tmp_path, monkeypatch):
    """No data directory, an empty cache, the mirror in place of the official URLs."""
    root, checksums = mirror
    for relative, checksum in checksums.items():
        monkeypatch.setitem(D.SOURCES, relative,
                            dataclasses.replace(D.SOURCES[relative], checksum=checksum))
    monkeypatch.delenv(D.ENV_DATA, raising=False)
    monkeypatch.setenv(D.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setenv(D.ENV_MIRROR, str(root))
    return tmp_path / "cache"


def cached_files(cache):
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())


# -- the demos, twice ----------------------------------------------------------------------------

def test_style_transfer_downloads_once_then_uses_the_cache(fresh_machine, tmp_path, monkeypatch,
                                                          capfd):
    from demos import style_transfer
    argv = ["--preset", "starry_night", "--iters", "2", "--image-size", "32", "--style-size", "32"]
    style_transfer.main(argv + ["--out", str(tmp_path / "run1")])
    assert (tmp_path / "run1" / "starry_night.png").stat().st_size > 0
    err = capfd.readouterr().err
    for relative in ("styles/tubingen.jpg", "styles/starry_night.jpg", TORCHVISION_PTH):
        assert f"{relative} is not here yet: downloading" in err, relative
    assert cached_files(fresh_machine) == sorted(["styles/tubingen.jpg", "styles/starry_night.jpg",
                                                  TORCHVISION_PTH, TORCHVISION_NPZ])
    # the second run needs neither the mirror nor the .pth: the converted .npz is used
    monkeypatch.setenv(D.ENV_MIRROR, str(tmp_path / "no mirror here"))
    (fresh_machine / TORCHVISION_PTH).unlink()
    style_transfer.main(argv + ["--out", str(tmp_path / "run2")])
    assert (tmp_path / "run2" / "starry_night.png").stat().st_size > 0
    assert "downloading" not in capfd.readouterr().err


def test_classify_downloads_the_complete_checkpoint(fresh_machine, capsys):
    from demos import classify
    classify.main([os.path.join(DATA, "styles", "tubingen.jpg")])
    out = capsys.readouterr().out
    # the mirror's checkpoint holds the ONNX-zoo weights, whose top class here is "castle"
    assert "castle" in out.splitlines()[1]
    assert (fresh_machine / "imagenet_classes.txt").is_file()
    assert (fresh_machine / TORCHVISION_NPZ).is_file()


def test_val25_needs_a_data_directory(fresh_machine):
    from demos import classify
    with pytest.raises(D.DataNotFoundError, match="imagenet_val_25.npz .*no public download"):
        classify.main(["--val25"])
    assert not fresh_machine.exists()  # it failed before downloading anything


def test_gan_quick_downloads_mnist(fresh_machine, tmp_path, monkeypatch):
    from demos import gan
    gan.main(["--variant", "vanilla", "--quick", "--iters", "2", "--sample-every", "2",
              "--out", str(tmp_path / "gan")])
    assert (tmp_path / "gan" / "samples_8x8_final.png").exists()
    assert cached_files(fresh_machine) == sorted(f"mnist/{n}.gz" for n in MNIST_NAMES.values())
    monkeypatch.setenv(D.ENV_MIRROR, str(tmp_path / "no mirror here"))
    from models.mnist import load_mnist
    assert load_mnist()["y_test"].shape == (10000,)  # from the cache


# -- what goes wrong -----------------------------------------------------------------------------

def test_a_corrupt_mirror_file_is_refused_and_leaves_nothing(fresh_machine, mirror, tmp_path,
                                                             monkeypatch):
    from demos import style_transfer
    root, _ = mirror
    bad = tmp_path / "bad mirror"
    shutil.copytree(root / "styles", bad / "styles")
    data = bytearray((bad / "styles" / "starry_night.jpg").read_bytes())
    data[1000] ^= 0xFF  # one flipped byte
    (bad / "styles" / "starry_night.jpg").write_bytes(bytes(data))
    monkeypatch.setenv(D.ENV_MIRROR, str(bad))
    expected = D.SOURCES["styles/starry_night.jpg"].checksum.split(":")[1]
    actual = hashlib.sha256(bytes(data)).hexdigest()
    url = D.mirror_url("styles/starry_night.jpg", str(bad))
    with pytest.raises(D.ChecksumError, match=f"checksum mismatch for {url}: expected sha256 "
                                              f"{expected}, got {actual}"):
        style_transfer.main(["--preset", "starry_night", "--out", str(tmp_path / "out")])
    assert cached_files(fresh_machine) == ["styles/tubingen.jpg"]  # no partial file, no temp file
    assert not (tmp_path / "out").exists()  # refused before any work


def test_offline_error_names_the_file_the_places_and_the_ways_out(fresh_machine, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv(D.ENV_MIRROR, str(tmp_path / "no_mirror"))
    with pytest.raises(D.DataNotFoundError) as e:
        D.find_file("styles/the_scream.jpg", quiet=True)
    message = str(e.value)
    for part in ["styles/the_scream.jpg (Edvard Munch, The Scream, 1893) is missing",
                 f"not in {fresh_machine}", "no_mirror/styles/the_scream.jpg",
                 f"download {D.SOURCES['styles/the_scream.jpg'].urls[0]} on another machine",
                 "--data DIR", D.ENV_DATA]:
        assert part in message, part


def test_an_unknown_weights_name_is_refused_before_any_download(fresh_machine):
    from models.squeezenet import load_squeezenet
    with pytest.raises(ValueError, match="weights='torchvison' is neither a known name "
                                         r"\(torchvision, onnxzoo, torchvision-pth\)"):
        load_squeezenet("torchvison")
    assert not fresh_machine.exists()

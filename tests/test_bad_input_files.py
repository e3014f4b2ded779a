"""Damaged files say they are damaged: every .npz the project loads (weights, checkpoints,
MNIST) goes through one safe loader.  And images of other bit depths load with the right
values (a 16-bit grey PNG is scaled, not clipped)."""
import io
import os
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

import layers as nn
from models.gan_training import GANTrainer
from models.images import load_image, to_rgb
from models.mnist import load_mnist, read_idx
from models.squeezenet import load_squeezenet
from tinygrad_cs.io import (DamagedFileError, check_replaceable, load_npz, save_npz_atomic,
                            write_text_atomic)


def good_npz(path):
    save_npz_atomic(path, {"a": np.arange(300.0), "b": np.ones((2, 3), np.float32)})
    return path


def damage(kind, path):
    """Write a damaged version of a good .npz (built here) to ``path``."""
    good = good_npz(str(path) + ".good.npz")
    data = open(good, "rb").read()
    os.remove(good)
    damaged = {
        "empty": b"",
        "truncated half": data[:len(data) // 2],
        "truncated end": data[:-30],
        "random bytes": np.random.default_rng(0).bytes(500),
        "zip header then garbage": data[:4] + bytes(200),
        "flipped bytes": data[:200] + bytes(b ^ 0xFF for b in data[200:260]) + data[260:],
    }[kind]
    with open(path, "wb") as f:
        f.write(damaged)
    return path


KINDS = ["empty", "truncated half", "truncated end", "random bytes", "zip header then garbage",
         "flipped bytes"]


@pytest.mark.parametrize("kind", KINDS)
def test_load_npz_calls_damage_damage(tmp_path, kind):
    path = damage(kind, tmp_path / "w.npz")
    with pytest.raises(DamagedFileError, match=r"the checkpoint '.*w.npz' is not a readable .npz "
                                               r"\(.*\): it is damaged \(truncated or corrupt\)"):
        load_npz(path, what="checkpoint")


def test_load_npz_never_advises_allow_pickle(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DamagedFileError, match="holds pickled Python objects, which are never "
                                               "loaded") as e:
        load_npz(path)
    assert "allow_pickle=True" not in str(e.value)


def test_load_npz_reads_a_good_file_and_names_a_missing_one(tmp_path):
    arrays = load_npz(good_npz(tmp_path / "g.npz"))
    np.testing.assert_array_equal(arrays["a"], np.arange(300.0))
    with pytest.raises(FileNotFoundError, match="the weights 'nothing.npz' does not exist"):
        load_npz("nothing.npz", what="weights")


CONSUMERS = [  # what loads an .npz, and the name it gives the file
    ("Module.load", lambda p: nn.Linear(2, 3).load(p), "weights file"),
    ("load_squeezenet", lambda p: load_squeezenet(str(p)), "SqueezeNet weights file"),
    ("GANTrainer.load", lambda p: GANTrainer("vanilla", np.zeros((4, 784), np.float32), batch_size=2).load(p),
     "GAN checkpoint"),
]


@pytest.mark.parametrize("kind", ["empty", "truncated half", "random bytes"])
@pytest.mark.parametrize("name, load, what", CONSUMERS, ids=[c[0] for c in CONSUMERS])
def test_every_npz_consumer_reports_damage(tmp_path, name, load, what, kind):
    path = damage(kind, tmp_path / "file.npz")
    with pytest.raises(ValueError, match=f"the {what} .*truncated or corrupt"):
        load(path)


@pytest.mark.parametrize("kind", ["empty", "truncated half"])
def test_damaged_mnist_npz_is_reported(tmp_path, kind):
    os.makedirs(tmp_path / "mnist")
    damage(kind, tmp_path / "mnist" / "mnist.npz")
    with pytest.raises(ValueError, match="the MNIST data file .*mnist.npz.*truncated or corrupt"):
        load_mnist(str(tmp_path), download_missing=False)


def test_resume_from_a_file_that_is_not_a_checkpoint(tmp_path, monkeypatch, capsys):
    from demos import gan
    run = tmp_path / "run"
    os.makedirs(run)
    nn.Linear(2, 2).save(run / "checkpoint.npz")  # a good .npz, but a model's weights
    monkeypatch.setattr(gan, "load_mnist", lambda *a: {
        "x_train": np.zeros((64, 28, 28), np.uint8)})
    with pytest.raises(ValueError, match="not a GAN checkpoint .*variant.*resume from the "
                                         "checkpoint.npz that demos/gan.py wrote"):
        gan.main(["--quick", "--batch-size", "16", "--out", str(run), "--resume"])


# -- image bit depths ---------------------------------------------------------------------------

LEVELS = np.arange(256, dtype=np.uint16).reshape(16, 16)  # every 8-bit level once


def test_16_bit_grey_png_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "g16.png"
    Image.fromarray(LEVELS * 257).save(path)  # 16-bit: level k is k * 257 (65535 = 255 * 257)
    assert Image.open(path).mode.startswith("I")
    rgb = np.asarray(load_image(path))
    assert rgb.shape == (16, 16, 3) and rgb.dtype == np.uint8
    for c in range(3):
        np.testing.assert_array_equal(rgb[..., c], LEVELS)


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I"])
def test_wide_grey_modes_are_scaled(mode):
    wide = (LEVELS * 257).astype(np.int64)
    if mode == "I":
        img = Image.fromarray(wide.astype(np.int32), "I")
    else:
        order = "<" if mode == "I;16" else ">"
        img = Image.frombytes(mode, (16, 16), wide.astype(order + "u2").tobytes())
    np.testing.assert_array_equal(np.asarray(to_rgb(img))[..., 1], LEVELS)


def test_8_bit_images_are_unchanged(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    np.testing.assert_array_equal(np.asarray(load_image(tmp_path / "c.png")), rgb)
    Image.fromarray(rgb[..., 0]).save(tmp_path / "l.png")
    np.testing.assert_array_equal(np.asarray(load_image(tmp_path / "l.png"))[..., 2], rgb[..., 0])


def test_checkpoint_of_another_batch_size_is_refused(tmp_path):
    images = np.zeros((8, 784), np.float32)
    GANTrainer("vanilla", images, batch_size=4).save(tmp_path / "c.npz")
    GANTrainer("vanilla", images, batch_size=4).load(tmp_path / "c.npz")  # the same: fine
    with pytest.raises(ValueError, match="trained with batch size 4, not 2"):
        GANTrainer("vanilla", images, batch_size=2).load(tmp_path / "c.npz")


# -- .npz members that lie, and output paths that cannot be files ------------------------------

def _npz_with_members(path, members):
    """An .npz (a zip) holding ``members``: name -> raw bytes."""
    with zipfile.ZipFile(path, "w") as z:
        for name, raw in members.items():
            z.writestr(name, raw)
    return path


def _npy_header(shape, descr="<f8"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


LYING_NPZ = [  # members, fragment of the message
    ({"a.npy": _npy_header((10 ** 12,)) + bytes(16)},
     "member 'a.npy' claims shape (1000000000000,) of float64 (8000000000000 bytes) but holds 16"),
    ({"a.npy": _npy_header((3, 4)) + bytes(95)}, "claims shape (3, 4) of float64 (96 bytes)"),
    ({"notes.txt": b"hello"}, "member 'notes.txt' is not an .npy array"),
    ({"a.npy": b"\x93NUMPY\x01\x00" + b"\x10\x00" + b"{'descr': 'zz'} "}, "bad .npy header"),
]


@pytest.mark.parametrize("members, fragment", LYING_NPZ, ids=["huge shape", "short data",
                                                               "not npy", "bad header"])
def test_npz_members_that_lie_are_damage(tmp_path, members, fragment):
    path = _npz_with_members(tmp_path / "w.npz", members)
    with pytest.raises(DamagedFileError, match=re.escape(fragment)):
        load_npz(path, what="weights")


def test_npz_member_with_pickled_objects_is_refused_by_its_header(tmp_path):
    path = _npz_with_members(tmp_path / "o.npz", {"a.npy": _npy_header((2,), "|O") + bytes(16)})
    with pytest.raises(DamagedFileError, match="holds pickled Python objects"):
        load_npz(path)


def test_exact_npz_members_still_load(tmp_path):
    raw = np.arange(12.0).reshape(3, 4)
    path = _npz_with_members(tmp_path / "w.npz", {"a.npy": _npy_header((3, 4)) + raw.tobytes()})
    np.testing.assert_array_equal(load_npz(path)["a"], raw)


def _unsavable(tmp_path, kind):
    """An output path that cannot become a file."""
    (tmp_path / "afile").write_text("a file")
    os.makedirs(tmp_path / "adir")
    return {"parent is a file": tmp_path / "afile" / "w.npz",
            "grandparent is a file": tmp_path / "afile" / "sub" / "w.npz",
            "target is a folder": tmp_path / "adir"}[kind]


UNSAVABLE = [  # kind, error, fragment
    ("parent is a file", NotADirectoryError, "afile' is a file, not a folder"),
    ("grandparent is a file", NotADirectoryError, "afile' is a file, not a folder"),
    ("target is a folder", IsADirectoryError, "adir' is a folder, not a file"),
]
SAVERS = [
    ("check_replaceable", check_replaceable),
    ("save_npz_atomic", lambda p: save_npz_atomic(p, {"x": np.ones(2)})),
    ("write_text_atomic", lambda p: write_text_atomic(p, "text")),
    ("Module.save", lambda p: nn.Linear(2, 2).save(p)),
]


@pytest.mark.parametrize("name, save", SAVERS, ids=[s[0] for s in SAVERS])
@pytest.mark.parametrize("kind, error, fragment", UNSAVABLE, ids=[u[0] for u in UNSAVABLE])
def test_unsavable_paths_are_named_clearly(tmp_path, name, save, kind, error, fragment):
    path = _unsavable(tmp_path, kind)
    with pytest.raises(error, match=re.escape(fragment)):
        save(path)
    assert sorted(os.listdir(tmp_path)) == ["adir", "afile"] and not os.listdir(tmp_path / "adir")


# -- EXIF orientation ---------------------------------------------------------------------------

def test_exif_orientation_is_applied(tmp_path):
    """Stored 40 wide x 20 high, left half red, right half blue, with Orientation 6 ("turn
    90 degrees clockwise to view"): upright it is 20 wide x 40 high, red on top."""
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = (255, 0, 0)
    stored[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # the Orientation tag
    Image.fromarray(stored).save(tmp_path / "photo.jpg", exif=exif, quality=95)
    upright = np.asarray(load_image(tmp_path / "photo.jpg")).astype(int)
    assert upright.shape == (40, 20, 3)
    assert np.abs(upright[5, 10] - (255, 0, 0)).max() < 30
    assert np.abs(upright[35, 10] - (0, 0, 255)).max() < 30


def test_image_without_exif_is_unchanged(tmp_path):
    stored = np.random.default_rng(0).integers(0, 256, (6, 9, 3), dtype=np.uint8)
    Image.fromarray(stored).save(tmp_path / "plain.png")
    np.testing.assert_array_equal(np.asarray(load_image(tmp_path / "plain.png")), stored)


# -- zip members that cannot be read: encrypted, or packed with an unknown method -------------

def _patched_zip(path, flags=None, method=None):
    """A one-member .npz whose flag bits or compression method are overwritten, in the
    member's local header and in the central directory alike (as a real tool would write
    them)."""
    _npz_with_members(path, {"a.npy": _npy_header((2,)) + bytes(16)})
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.index(signature)
        if flags is not None:
            data[start + flag_at:start + flag_at + 2] = flags.to_bytes(2, "little")
        if method is not None:
            data[start + flag_at + 2:start + flag_at + 4] = method.to_bytes(2, "little")
    path.write_bytes(bytes(data))
    return path


UNREADABLE_MEMBERS = [  # how the member is written, fragment of the message
    (dict(flags=1), "member 'a.npy' is encrypted"),
    (dict(method=99), "member 'a.npy' uses compression method 99, which cannot be read here"),
    (dict(method=6), "member 'a.npy' uses compression method 6"),  # "implode", from the 1980s
]


@pytest.mark.parametrize("patch, fragment", UNREADABLE_MEMBERS, ids=["encrypted", "AES", "implode"])
def test_unreadable_zip_members_are_damage(tmp_path, patch, fragment):
    path = _patched_zip(tmp_path / "w.npz", **patch)
    with pytest.raises(DamagedFileError, match=r"the weights '.*w.npz' is not a readable .npz \("
                                               + re.escape(fragment)):
        load_npz(path, what="weights")


# -- damaged MNIST files: one clear error naming the file --------------------------------------

def _idx(header_dims, payload, ndim=None):
    dims = list(header_dims)
    return bytes([0, 0, 8, len(dims) if ndim is None else ndim]) + \
        np.array(dims, ">i4").tobytes() + payload


def _gz(raw):
    import gzip
    return gzip.compress(raw)


GOOD_IDX = _idx((2, 28, 28), bytes(2 * 28 * 28))
DAMAGED_IDX = [  # file name, its bytes, fragment of the message
    ("x.gz", _gz(GOOD_IDX)[:-20], "EOFError: Compressed file ended"),
    ("x.gz", b"not gzip at all", "BadGzipFile: Not a gzipped file"),
    ("x", GOOD_IDX[:3] + bytes([255]) + GOOD_IDX[4:40],
     "the header claims 255 sizes of 4 bytes but the file holds only 40 bytes"),
    ("x", _idx((-2, 28, 28), bytes(10)), "the header gives negative sizes (-2, 28, 28)"),
    ("x", _idx((-2, -28, 28), bytes(2 * 28 * 28)), "negative sizes (-2, -28, 28)"),
    ("x", GOOD_IDX[:5], "the header claims 3 sizes of 4 bytes but the file holds only 5 bytes"),
    ("x", GOOD_IDX[:-1], "header says shape (2, 28, 28) (1568 bytes) but 1567 bytes follow"),
    ("x", b"", "bad magic number ''"),
]


@pytest.mark.parametrize("name, raw, fragment", DAMAGED_IDX,
                         ids=["cut gz", "not gz", "ndim 255", "negative dim", "negative dims",
                              "5 bytes", "one byte short", "empty"])
def test_damaged_idx_file_is_named(tmp_path, name, raw, fragment):
    path = tmp_path / name
    path.write_bytes(raw)
    with pytest.raises(DamagedFileError, match=re.escape(f"read_idx: the MNIST file {str(path)!r} "
                                                         "is damaged (") + ".*" + re.escape(fragment)):
        read_idx(path)


def _mnist_npz(folder, n_train=3, n_train_labels=None):
    os.makedirs(folder / "mnist", exist_ok=True)
    path = folder / "mnist" / "mnist.npz"
    save_npz_atomic(path, {"x_train": np.zeros((n_train, 28, 28), np.uint8),
                           "y_train": np.zeros(n_train if n_train_labels is None else n_train_labels,
                                               np.uint8),
                           "x_test": np.zeros((2, 28, 28), np.uint8),
                           "y_test": np.zeros(2, np.uint8)})
    return path


BAD_MNIST_NPZ = [  # images, labels, fragment
    (0, 0, "x_train holds no examples"),
    (3, 2, "y_train has 2 labels but x_train has 3 images; every image needs exactly one label"),
]


@pytest.mark.parametrize("n_images, n_labels, fragment", BAD_MNIST_NPZ, ids=["no images", "labels"])
def test_mnist_npz_without_images_or_with_other_labels_is_damage(tmp_path, n_images, n_labels,
                                                                   fragment):
    path = _mnist_npz(tmp_path, n_images, n_labels)
    with pytest.raises(DamagedFileError, match=re.escape(f"the MNIST file {str(path)!r} is "
                                                         f"damaged: {fragment}")):
        load_mnist(str(tmp_path), download_missing=False)
    assert len(load_mnist(str(_mnist_npz(tmp_path / "good").parent.parent),
                          download_missing=False)["x_train"]) == 3


def test_damaged_mnist_file_ends_the_demo_without_a_traceback(tmp_path, capsys, monkeypatch):
    """run_program reports the damaged file as a user's error (exit status 1, one line)."""
    from demos import gan
    from demos.args import run_program
    _mnist_npz(tmp_path, 0, 0)
    monkeypatch.setattr("sys.argv", ["gan.py"])
    with pytest.raises(SystemExit) as e:
        run_program(lambda: gan.main(["--quick", "--data", str(tmp_path),
                                      "--out", str(tmp_path / "run")]))
    assert str(e.value.code).startswith("gan.py: error: load_mnist: the MNIST file ")
    assert "x_train holds no examples" in str(e.value.code)

"""Hostile input: crafted .pth files that lie about where a tensor's numbers are, damaged
.pth files, and images built to take gigabytes.  Every file is made here, by hand."""
import io
import os
import pickle
import re
import time
import warnings
import zipfile

import numpy as np
import pytest
from PIL import Image

from models import images, pth
from models.images import load_image, preprocess
from models.pth import LEGACY_MAGIC, UnsafePickleError, load_pth_state_dict
from tinygrad_cs.io import FileTooLargeError, load_npz

FIX = os.path.join(os.path.dirname(__file__), "fixtures")


# -- writing .pth files without torch --------------------------------------------------------
# A state dict pickle is an OrderedDict of name -> _rebuild_tensor_v2(storage, offset, size,
# stride, requires_grad, hooks); each storage is a persistent id.  The opcodes are written
# directly; plain values (strings, ints, tuples) are pickled by the pickle module itself.

def _value(x) -> bytes:
    return pickle.dumps(x, protocol=2)[2:-1]  # without PROTO and STOP


def _global(module, name) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _state_dict_pickle(tensors, legacy=False) -> bytes:
    """tensors: dicts with name, storage_type, key, numel, offset, size, stride and, for
    the legacy layout, an optional view (key, offset, size)."""
    out = b"\x80\x02" + _global("collections", "OrderedDict") + b")R"
    for t in tensors:
        pid = [_value("storage"), _global("torch", t["storage_type"]), _value(t["key"]),
               _value("cpu"), _value(t["numel"])]
        if legacy:
            pid.append(_value(t.get("view")))
        out += _value(t["name"]) + _global("torch._utils", "_rebuild_tensor_v2")
        out += b"(" + b"(" + b"".join(pid) + b"tQ"  # the storage: a persistent id
        out += _value(t["offset"]) + _value(t["size"]) + _value(t["stride"]) + _value(False)
        out += _global("collections", "OrderedDict") + b")R" + b"tRs"
    return out + b"."


def write_zip_pth(path, tensors, storages):
    """storages: key -> raw bytes."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", _state_dict_pickle(tensors))
        for key, raw in storages.items():
            z.writestr(f"archive/data/{key}", raw)
    return path


def write_legacy_pth(path, tensors, storages, counts=None):
    """The pre-1.6 layout: four pickles, the storage keys, then count + bytes per storage."""
    with open(path, "wb") as f:
        for obj in (LEGACY_MAGIC, 1001, {"little_endian": True}):
            pickle.dump(obj, f, protocol=2)
        f.write(_state_dict_pickle(tensors, legacy=True))
        pickle.dump(list(storages), f, protocol=2)
        for key, (raw, itemsize) in storages.items():
            count = (counts or {}).get(key, len(raw) // itemsize)
            f.write(np.int64(count).tobytes() + raw)
    return path


def tensor(size, stride, offset=0, storage_type="FloatStorage", numel=16, name="w", key="0",
           view=None):
    return dict(name=name, storage_type=storage_type, key=key, numel=numel, offset=offset,
                size=size, stride=stride, view=view)


ZEROS_64_BYTES = bytes(64)  # 16 float32 zeros


def test_crafted_file_reads_correctly_when_honest(tmp_path):
    values = np.arange(16, dtype="<f4")
    path = write_zip_pth(tmp_path / "ok.pth", [tensor((2, 3), (1, 2), offset=4)],
                         {"0": values.tobytes()})
    got = load_pth_state_dict(path)["w"]
    np.testing.assert_array_equal(got, [[4, 6, 8], [5, 7, 9]])  # element (i, j) = 4 + i + 2j


HOSTILE = [  # size, stride, offset, fragment of the message
    ((16,), (-1,), 0, "negative offset, size or stride"),          # read heap bytes before it
    ((100000,), (-1000,), 0, "negative offset, size or stride"),   # segfault
    ((4,), (1,), -4, "negative offset, size or stride"),           # read from the end
    ((17,), (1,), 0, "reaches element 17 of storage 0, which has 16"),
    ((4,), (1,), 13, "reaches element 17"),
    ((2 ** 40,), (1,), 0, "reaches element"),                       # huge size
    ((2 ** 31, 2 ** 31), (2 ** 33, 1), 0, "reaches element"),      # exact ints: no overflow
    ((2 ** 40,), (0,), 0, "expanded tensors are not supported"),   # a 4 TB copy of one value
    ((4,), (1,), 1.5, "non-integer"),
    ((4.0,), (1,), 0, "non-integer"),
    ((4,), (True,), 0, "non-integer"),
    ((4, 2), (1,), 0, "has size (4, 2) but stride (1,)"),
    ((4,), (1,), 17, "reaches element"),                            # an empty tensor past the end
]


@pytest.mark.parametrize("layout", ["zip", "legacy"])
@pytest.mark.parametrize("size, stride, offset, fragment", HOSTILE)
def test_hostile_offsets_sizes_and_strides_are_refused(tmp_path, layout, size, stride, offset,
                                                       fragment):
    t = tensor(size, stride, offset)
    if layout == "zip":
        path = write_zip_pth(tmp_path / "h.pth", [t], {"0": ZEROS_64_BYTES})
    else:
        path = write_legacy_pth(tmp_path / "h.pth", [t], {"0": (ZEROS_64_BYTES, 4)})
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        load_pth_state_dict(path)


def test_empty_tensor_at_the_end_is_fine(tmp_path):
    path = write_zip_pth(tmp_path / "e.pth", [tensor((0,), (1,), 16)], {"0": ZEROS_64_BYTES})
    assert load_pth_state_dict(path)["w"].shape == (0,)


@pytest.mark.parametrize("view, fragment", [
    (("v", -8, 4), "malformed view"),           # a negative offset would slice from the end
    (("v", 12, 8), "reaches past the end of storage 0"),
    (("v", 0.5, 4), "malformed view"),
])
def test_hostile_legacy_views_are_refused(tmp_path, view, fragment):
    path = write_legacy_pth(tmp_path / "v.pth", [tensor((2,), (1,), view=view)],
                            {"0": (ZEROS_64_BYTES, 4)})
    with pytest.raises(ValueError, match=fragment):
        load_pth_state_dict(path)


@pytest.mark.parametrize("count, fragment", [(-1, "claims -1 elements"),
                                             (2 ** 60, "more than the file holds")])
def test_legacy_impossible_element_count_is_damage(tmp_path, count, fragment):
    path = write_legacy_pth(tmp_path / "n.pth", [tensor((2,), (1,))],
                            {"0": (ZEROS_64_BYTES, 4)}, counts={"0": count})
    with pytest.raises(ValueError, match="truncated or corrupt.*" + fragment):
        load_pth_state_dict(path)


@pytest.mark.parametrize("size", [16, "16", None])
def test_size_that_is_not_a_tuple_is_refused(tmp_path, size):
    path = write_zip_pth(tmp_path / "s.pth", [tensor(size, (1,))], {"0": ZEROS_64_BYTES})
    with pytest.raises(ValueError, match="non-integer offset, size or stride"):
        load_pth_state_dict(path)


def test_malformed_storage_reference_is_refused(tmp_path):
    pkl = (b"\x80\x02" + _global("collections", "OrderedDict") + b")R" + _value("w")
           + b"(" + _value("storage") + _global("torch", "FloatStorage") + b"tQs.")
    with zipfile.ZipFile(tmp_path / "r.pth", "w") as z:
        z.writestr("archive/data.pkl", pkl)
    with pytest.raises(ValueError, match="malformed storage reference"):
        load_pth_state_dict(tmp_path / "r.pth")


# -- damaged is not unsafe ---------------------------------------------------------------------

@pytest.mark.parametrize("fixture", ["tiny_zip.pth", "tiny_legacy.pth", "tiny_params.pth"])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_truncated_files_are_called_truncated_not_unsafe(tmp_path, fixture, keep):
    data = open(os.path.join(FIX, fixture), "rb").read()
    cut = tmp_path / "cut.pth"
    cut.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(ValueError, match="truncated or corrupt") as e:
        load_pth_state_dict(cut)
    assert not isinstance(e.value, UnsafePickleError)


def test_empty_pth_is_damaged(tmp_path):
    (tmp_path / "e.pth").write_bytes(b"")
    with pytest.raises(ValueError, match="truncated or corrupt.*empty"):
        load_pth_state_dict(tmp_path / "e.pth")


def test_storage_of_a_partial_element_is_damaged(tmp_path):
    path = write_zip_pth(tmp_path / "p.pth", [tensor((2,), (1,))], {"0": bytes(7)})
    with pytest.raises(ValueError, match="truncated or corrupt.*7 bytes"):
        load_pth_state_dict(path)


def test_missing_storage_is_damaged(tmp_path):
    path = write_zip_pth(tmp_path / "m.pth", [tensor((2,), (1,))], {})
    with pytest.raises(ValueError, match="truncated or corrupt.*data/0 is missing"):
        load_pth_state_dict(path)


def test_unknown_storage_type_is_unsupported_not_unsafe(tmp_path):
    path = write_zip_pth(tmp_path / "c.pth", [tensor((2,), (1,), storage_type="ComplexFloatStorage")],
                         {"0": ZEROS_64_BYTES})
    with pytest.raises(ValueError, match="unsupported storage type 'ComplexFloatStorage'") as e:
        load_pth_state_dict(path)
    assert not isinstance(e.value, UnsafePickleError)


def test_code_is_still_refused_in_the_zip_layout(tmp_path):
    evil = b"\x80\x02" + _global("os", "system") + _value("echo hi") + b"\x85R."
    with zipfile.ZipFile(tmp_path / "evil.pth", "w") as z:
        z.writestr("archive/data.pkl", evil)
    with pytest.raises(UnsafePickleError, match="os.system"):
        load_pth_state_dict(tmp_path / "evil.pth")


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_bfloat16_loads_as_float32(tmp_path, layout):
    # values with at most 8 significant bits are exact in bfloat16
    values = np.array([1.0, -2.5, 3.140625, 0.0, 65536.0, -0.0078125], np.float32)
    words = (values.view(np.uint32) >> 16).astype("<u2")  # the upper halves
    t = tensor((3, 2), (1, 3), storage_type="BFloat16Storage", numel=6)
    if layout == "zip":
        path = write_zip_pth(tmp_path / "b.pth", [t], {"0": words.tobytes()})
    else:
        path = write_legacy_pth(tmp_path / "b.pth", [t], {"0": (words.tobytes(), 2)})
    got = load_pth_state_dict(path)["w"]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, values.reshape(2, 3).T)


# -- images ------------------------------------------------------------------------------------

def _png(path, array, mode=None):
    Image.fromarray(array, mode).save(path) if mode else Image.fromarray(array).save(path)
    return path


def test_a_tiny_very_wide_png_is_refused_before_any_big_array(tmp_path):
    path = _png(tmp_path / "wide.png", np.zeros((1, 4000), np.uint8))
    assert os.path.getsize(path) < 200
    with pytest.raises(ValueError, match="4000x1 pixels, a side ratio of 4000:1; at most 20:1"):
        preprocess(load_image(path), 256, crop=224)
    with pytest.raises(ValueError, match="side ratio"):
        load_image(path, 192)


def test_classify_refuses_the_wide_png_before_loading_the_model(tmp_path, monkeypatch, capsys):
    from demos import classify
    monkeypatch.setattr(classify, "load_squeezenet", lambda *a: pytest.fail("model loaded"))
    path = _png(tmp_path / "wide.png", np.zeros((1, 4000), np.uint8))
    with pytest.raises(SystemExit):
        classify.main([str(path)])
    assert "wide.png: resize_and_center_crop: the image is 4000x1" in capsys.readouterr().err


def test_preprocess_output_pixel_limit(monkeypatch):
    with pytest.raises(ValueError, match="would become 5000x5000 pixels"):
        preprocess(np.zeros((10, 10, 3), np.uint8), 5000)
    monkeypatch.setattr(images, "MAX_PIXELS", 99)
    with pytest.raises(ValueError, match="would become 10x10 pixels, more than the 99"):
        preprocess(np.zeros((10, 10, 3), np.uint8))


def test_crop_first_gives_the_same_pixels_as_resize_then_crop():
    rng = np.random.default_rng(0)
    rgb = (rng.uniform(size=(30, 41, 3)) * 255).astype(np.uint8)
    full = preprocess(rgb, 32).data
    top, left = (full.shape[2] - 24) // 2, (full.shape[3] - 24) // 2
    cropped = preprocess(rgb, 32, crop=24).data
    assert cropped.shape == (1, 3, 24, 24)
    # the same sampling grid: at most one grey level apart (rounding to uint8)
    np.testing.assert_allclose(cropped, full[:, :, top:top + 24, left:left + 24],
                               atol=1.01 / 255 / images.STD.min())


# PIL only warns for images between MAX_IMAGE_PIXELS and twice that, and errors above
@pytest.mark.parametrize("limit", [1000, 700])
def test_decompression_bomb_is_refused(tmp_path, monkeypatch, limit):
    path = _png(tmp_path / "bomb.png", np.zeros((40, 40), np.uint8))  # 1600 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the point is that the warning is turned into an error
        with pytest.raises(ValueError, match="too large to open safely"):
            load_image(path)



# -- pickles shaped to take forever, and zip members that unzip to far more than they say ------

def _zip_with_pickle(path, obj):
    """A zip-layout .pth whose data.pkl is ``obj`` pickled as it is (no tensors needed)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(obj, protocol=2))
    return path


def _shared_nest(depth):
    level = 0
    for _ in range(depth):
        level = [level, level]  # both items are the same object: 2**depth paths, depth lists
    return level


def _deep_nest(depth):
    level = 0
    for _ in range(depth):
        level = [level]
    return level


def _self_containing():
    loop = []
    loop.append(loop)
    return loop


HOSTILE_PICKLES = [  # what data.pkl holds, fragment of the message
    ({"w": _shared_nest(40)}, "does not hold a state dict of tensors"),  # resolved in 40 visits
    ({"w": _self_containing()}, "a list contains itself"),
    ({"w": _deep_nest(150)}, "nested more than 100 deep"),
]


@pytest.mark.parametrize("obj, fragment", HOSTILE_PICKLES, ids=["shared", "cycle", "deep"])
def test_hostile_pickle_structures_are_refused_at_once(tmp_path, obj, fragment):
    path = _zip_with_pickle(tmp_path / "p.pth", obj)
    assert os.path.getsize(path) < 2000  # a small file ...
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=fragment):
        load_pth_state_dict(path)
    assert time.perf_counter() - t0 < 5  # ... refused at once, not after 2**40 visits


def test_too_many_objects_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(pth, "MAX_NODES", 50)
    path = _zip_with_pickle(tmp_path / "p.pth", {f"k{i}": [i, -i] for i in range(40)})
    with pytest.raises(pth.DamagedPthError, match="more than 50 objects"):
        load_pth_state_dict(path)


def test_shared_tensors_stay_shared_and_correct(tmp_path):
    values = np.arange(16, dtype="<f4")
    path = write_zip_pth(tmp_path / "s.pth", [tensor((4,), (1,), name="a"),
                                              tensor((2, 2), (2, 1), offset=8, name="b")],
                         {"0": values.tobytes()})
    got = load_pth_state_dict(path)
    np.testing.assert_array_equal(got["a"], [0, 1, 2, 3])
    np.testing.assert_array_equal(got["b"], [[8, 9], [10, 11]])


ZIP_BOMBS = [  # bytes in the member, fragment (the tensor's storage needs 16 float32: 64 bytes)
    (10_000_000, "should hold 16 elements (64 bytes), but its member unzips to 10000000 bytes"),
    (32, "should hold 16 elements (64 bytes), but its member unzips to 32 bytes"),
]


@pytest.mark.parametrize("n_bytes, fragment", ZIP_BOMBS)
def test_storage_member_of_the_wrong_size_is_refused_before_unzipping(tmp_path, monkeypatch,
                                                                       n_bytes, fragment):
    path = tmp_path / "bomb.pth"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", _state_dict_pickle([tensor((16,), (1,))]))
        z.writestr("archive/data/0", bytes(n_bytes))
    assert os.path.getsize(path) < 50_000  # 10 MB of zeros deflate to about 10 KB
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: (
        opened.append(getattr(name, "filename", name)), real_open(self, name, *a, **k))[1])
    with pytest.raises(pth.DamagedPthError, match=re.escape(fragment)):
        load_pth_state_dict(path)
    assert "archive/data/0" not in opened  # refused from the zip directory alone


def test_tensors_sharing_a_storage_read_it_once(tmp_path, monkeypatch):
    values = np.arange(16, dtype="<f4")
    tensors = [tensor((4,), (1,), offset=k % 13, name=f"t{k}") for k in range(50)]
    path = write_zip_pth(tmp_path / "many.pth", tensors, {"0": values.tobytes()})
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: (
        opened.append(getattr(name, "filename", name)), real_open(self, name, *a, **k))[1])
    got = load_pth_state_dict(path)
    assert opened.count("archive/data/0") == 1
    for k in range(50):
        np.testing.assert_array_equal(got[f"t{k}"], values[k % 13:k % 13 + 4])


# -- .npz files that unpack to far more than they hold ----------------------------------------

def _npz_of_zeros(path, shape, dtype="<f4"):
    """An honest .npz (header and data agree) of one zero array, deflated as tightly as
    deflate goes: a zip bomb when the array is large."""
    from numpy.lib import format as npy
    header = io.BytesIO()
    npy.write_array_header_1_0(header, {"descr": dtype, "fortran_order": False, "shape": shape})
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("a.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            for start in range(0, size, 1 << 22):  # in 4 MB pieces, never all at once
                member.write(bytes(min(1 << 22, size - start)))
    return path


def test_npz_zip_bomb_is_refused_before_unpacking(tmp_path, monkeypatch):
    path = _npz_of_zeros(tmp_path / "bomb.npz", (5 * 2 ** 20,))  # 20 MB in about 20 KB
    assert os.path.getsize(path) < 40_000
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: (
        opened.append(getattr(name, "filename", name)), real_open(self, name, *a, **k))[1])
    with pytest.raises(FileTooLargeError, match=r"load_npz: the weights '.*bomb.npz': member "
                                                r"'a.npy' unpacks from \d+ to 20971648 bytes, "
                                                r"more than max_ratio=1000 times .*"
                                                r"call load_npz\(path, max_ratio=None\)"):
        load_npz(path, what="weights")
    assert opened == []  # refused from the zip's table of contents alone
    monkeypatch.undo()
    assert load_npz(path, max_ratio=None)["a"].shape == (5 * 2 ** 20,)  # if it is genuine


NPZ_SIZE_LIMITS = [  # max_bytes, refused?
    (100, True),
    (2 * 4 * 10 + 128 * 2 - 1, True),  # one byte less than the two members hold
    (2 * 4 * 10 + 128 * 2, False),
]


@pytest.mark.parametrize("max_bytes, refused", NPZ_SIZE_LIMITS)
def test_npz_over_max_bytes_is_refused_and_says_how_to_load_it(tmp_path, max_bytes, refused):
    path = tmp_path / "w.npz"
    np.savez(path, a=np.zeros(10, np.float32), b=np.ones(10, np.float32))
    total = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    assert total == 2 * 4 * 10 + 128 * 2  # two arrays of 40 bytes, each after a 128-byte header
    if not refused:
        assert load_npz(path, max_bytes=max_bytes)["b"].sum() == 10
        return
    with pytest.raises(FileTooLargeError, match=re.escape(
            f"holds {total} bytes of arrays, more than max_bytes={max_bytes}; not loading it") +
            r".*" + re.escape(f"call load_npz(path, max_bytes={total})")):
        load_npz(path, what="weights", max_bytes=max_bytes)

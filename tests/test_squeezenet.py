"""SqueezeNet 1.1: architecture, weight import and its errors, features against a plain
NumPy forward, and classification against the numbers PyTorch gave (PROVENANCE.md)."""
import os

import numpy as np
import pytest

from models.images import MEAN, STD, deprocess, load_image, preprocess
from models.squeezenet import SqueezeNet, classify, load_squeezenet, load_weights
from tinygrad_cs import Tensor

DATA = os.environ.get("TINYGRAD_CS_DATA")
needs_data = pytest.mark.skipif(not DATA, reason="needs TINYGRAD_CS_DATA (CI sets it)")


def test_architecture_keys_and_parameter_count():
    m = SqueezeNet()
    sd = m.state_dict()
    assert m.num_parameters() == 1_235_496
    assert sum(v.size for k, v in sd.items() if k.startswith("features.")) == 722_496
    assert sd["features.0.weight"].shape == (64, 3, 3, 3)
    assert sd["features.12.expand3x3.weight"].shape == (256, 64, 3, 3)
    assert sd["classifier.1.weight"].shape == (1000, 512, 1, 1)
    assert len(m.features) == 13
    feats = m.extract_features(Tensor(np.zeros((2, 3, 224, 224), np.float32)))
    assert [f.shape[1:] for f in feats] == [
        (64, 111, 111), (64, 111, 111), (64, 55, 55), (128, 55, 55), (128, 55, 55), (128, 27, 27),
        (256, 27, 27), (256, 27, 27), (256, 13, 13), (384, 13, 13), (384, 13, 13), (512, 13, 13),
        (512, 13, 13)]
    assert m(Tensor(np.zeros((2, 3, 224, 224), np.float32))).shape == (2, 1000)


# -- a plain NumPy forward (no im2col, no kernels), to check the loaded features against -------

def np_conv(x, w, b, stride=1, padding=0):
    x = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    O, C, kh, kw = w.shape
    H = (x.shape[1] - kh) // stride + 1
    W = (x.shape[2] - kw) // stride + 1
    out = np.zeros((O, H, W))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + stride * H:stride, j:j + stride * W:stride]  # (C, H, W)
            out += np.einsum("oc,chw->ohw", w[:, :, i, j], patch)
    return out + b[:, None, None]


def np_maxpool_ceil(x, k=3, s=2):
    C, H, W = x.shape
    Ho, Wo = -(-(H - k) // s) + 1, -(-(W - k) // s) + 1
    out = np.empty((C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, i, j] = x[:, i * s:i * s + k, j * s:j * s + k].max(axis=(1, 2))
    return out


def np_features(x, sd):
    relu = lambda a: np.maximum(a, 0)  # noqa: E731
    outs = []
    x = np_conv(x, sd["features.0.weight"], sd["features.0.bias"], stride=2)
    outs.append(x)
    x = relu(x)
    outs.append(x)
    for idx in range(2, 13):
        if idx in (2, 5, 8):
            x = np_maxpool_ceil(x)
        else:
            p = f"features.{idx}."
            s = relu(np_conv(x, sd[p + "squeeze.weight"], sd[p + "squeeze.bias"]))
            x = np.concatenate([relu(np_conv(s, sd[p + "expand1x1.weight"], sd[p + "expand1x1.bias"])),
                                relu(np_conv(s, sd[p + "expand3x3.weight"], sd[p + "expand3x3.bias"], padding=1))])
        outs.append(x)
    return outs


@needs_data
def test_features_equal_a_plain_numpy_forward():
    model = load_squeezenet("torchvision")
    sd = {k: v.astype(np.float64) for k, v in model.state_dict().items()}
    x = preprocess(load_image(os.path.join(DATA, "styles", "tubingen.jpg")), 40)  # 40 x 53
    ours = model.extract_features(x)
    ref = np_features(x.data[0].astype(np.float64), sd)
    for k, (a, r) in enumerate(zip(ours, ref)):
        np.testing.assert_allclose(a.data[0], r, rtol=1e-4, atol=1e-4 * np.abs(r).max(),
                                   err_msg=f"feature layer {k}")


@needs_data
def test_features_only_model_refuses_to_classify():
    model = load_squeezenet("torchvision")
    assert not model.has_classifier
    assert all(not p.requires_grad for p in model.parameters())
    with pytest.raises(RuntimeError, match="features-only weights"):
        model(Tensor(np.zeros((1, 3, 64, 64), np.float32)))


@needs_data
def test_complete_model_classifies_like_pytorch_did():
    """PROVENANCE.md: with PyTorch, tubingen.jpg -> castle 0.42, wreck, palace, monastery,
    boathouse; the 25-image sample: top-1 12/25, top-5 18/25."""
    model = load_squeezenet("onnxzoo")
    classes = open(os.path.join(DATA, "imagenet_classes.txt")).read().splitlines()
    x = preprocess(load_image(os.path.join(DATA, "styles", "tubingen.jpg")), 256)
    t, l = (x.shape[2] - 224) // 2, (x.shape[3] - 224) // 2
    top = classify(model, x[:, :, t:t + 224, l:l + 224])[0]
    assert [classes[k] for k, _ in top] == ["castle", "wreck", "palace", "monastery", "boathouse"]
    assert top[0][1] == pytest.approx(0.42, abs=0.01)
    with np.load(os.path.join(DATA, "imagenet_val_25.npz")) as f:
        X, y = f["X"], f["y"]
    res = classify(model, ((X.astype(np.float32) / 255 - MEAN) / STD).transpose(0, 3, 1, 2).copy())
    assert sum(r[0][0] == t for r, t in zip(res, y)) == 12
    assert sum(t in [k for k, _ in r] for r, t in zip(res, y)) == 18


def test_weight_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_squeezenet(str(tmp_path / "missing.npz"))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage, not a zip")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_squeezenet(str(bad))
    sd = {k: v for k, v in SqueezeNet().state_dict().items() if k.startswith("features.")}
    sd["features.3.squeeze.weight"] = np.zeros((16, 64, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"shape mismatch for features\.3\.squeeze\.weight"):
        load_weights(SqueezeNet(), sd)
    del sd["features.3.squeeze.weight"]
    sd["features.3.sqeeze.weight"] = np.zeros((16, 64, 1, 1), np.float32)
    with pytest.raises(ValueError, match=r"missing keys: features\.3\.squeeze\.weight.*"
                                         r"unexpected keys: features\.3\.sqeeze\.weight"):
        load_weights(SqueezeNet(), sd)
    with pytest.raises(ValueError, match=r"expected normalised images of shape \(N, 3, H, W\)"):
        SqueezeNet().extract_features(Tensor(np.zeros((1, 1, 32, 32), np.float32)))


def test_weights_round_trip_through_npz(tmp_path):
    m = SqueezeNet()
    m.export_npz(tmp_path / "sq.npz")
    m2 = load_squeezenet(str(tmp_path / "sq.npz"))
    for (k, a), (_, b) in zip(m.state_dict().items(), m2.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert m2.has_classifier
    sd = {k: v for k, v in m.state_dict().items() if k.startswith("features.")}
    features_only = load_weights(SqueezeNet(), sd)
    features_only.export_npz(tmp_path / "f.npz")
    with np.load(tmp_path / "f.npz") as f:
        assert sorted(f.files) == sorted(sd)
    assert not load_squeezenet(str(tmp_path / "f.npz")).has_classifier


def test_image_helpers(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (30, 40, 3)).astype(np.uint8)
    x = preprocess(rgb)
    assert x.shape == (1, 3, 30, 40) and x.dtype == np.float32
    np.testing.assert_allclose(x.data[0, 1, 2, 3], (rgb[2, 3, 1] / 255 - 0.456) / 0.224, rtol=1e-5)
    np.testing.assert_array_equal(deprocess(x), rgb)
    assert preprocess(rgb, 15).shape == (1, 3, 15, 20)
    (tmp_path / "x.jpg").write_text("this is not an image")
    with pytest.raises(ValueError, match="not an image"):
        load_image(tmp_path / "x.jpg")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_image(tmp_path / "nothing.png")
    with pytest.raises(ValueError, match=r"expected an \(H, W, 3\) uint8"):
        preprocess(np.zeros((4, 4)))


def write_legacy_pth(path, state):
    """A minimal writer of PyTorch's legacy checkpoint layout (what torchvision's
    squeezenet1_1-b8a52dc0.pth uses), without torch: the pickle names
    torch._utils._rebuild_tensor_v2 and torch.FloatStorage through stand-in modules."""
    import collections
    import pickle
    import sys
    import types

    torch_mod, utils_mod = types.ModuleType("torch"), types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called while writing")

    class FloatStorage:
        pass

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    utils_mod._rebuild_tensor_v2, torch_mod.FloatStorage, torch_mod._utils = _rebuild_tensor_v2, FloatStorage, utils_mod

    class StorageRef:
        def __init__(self, key, array):
            self.key, self.array = key, array

    class TensorRef:
        def __init__(self, storage, shape):
            self.storage, self.shape = storage, shape

        def __reduce__(self):
            strides = tuple(int(s) for s in np.cumprod((1,) + self.shape[::-1][:-1])[::-1])
            return (_rebuild_tensor_v2, (self.storage, 0, self.shape, strides, False, collections.OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, StorageRef):
                return ("storage", FloatStorage, obj.key, "cpu", obj.array.size, None)
            return None

    storages = [StorageRef(str(i), np.ascontiguousarray(v, np.float32).ravel()) for i, v in enumerate(state.values())]
    obj = collections.OrderedDict((k, TensorRef(s, tuple(v.shape))) for (k, v), s in zip(state.items(), storages))
    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = torch_mod, utils_mod
    try:
        with open(path, "wb") as f:
            for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
                pickle.dump(header, f, protocol=2)
            Pickler(f, protocol=2).dump(obj)
            pickle.dump([s.key for s in storages], f, protocol=2)
            for s in storages:
                f.write(np.int64(s.array.size).tobytes())
                f.write(s.array.astype("<f4").tobytes())
    finally:
        for name, mod in saved.items():
            if mod is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = mod


def test_torchvision_checkpoint_is_downloaded_checked_cached_and_read(tmp_path, monkeypatch):
    """The download path of load_squeezenet('torchvision-pth'), on a file:// URL."""
    import dataclasses
    import hashlib

    import models.squeezenet as S
    from models import data as D
    sd = {k: v for k, v in SqueezeNet().state_dict().items() if k.startswith("features.")}
    src = tmp_path / "squeezenet1_1-test.pth"
    write_legacy_pth(src, sd)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    pinned = D.SOURCES[S.TORCHVISION_PTH]
    monkeypatch.setitem(D.SOURCES, S.TORCHVISION_PTH, dataclasses.replace(
        pinned, urls=(src.as_uri(),), checksum=f"sha256:{digest[:8]}"))
    monkeypatch.setenv(D.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.delenv(D.ENV_DATA, raising=False)
    monkeypatch.delenv(D.ENV_MIRROR, raising=False)
    model = load_squeezenet("torchvision-pth")
    assert (tmp_path / "cache" / S.TORCHVISION_PTH).exists()
    assert (tmp_path / "cache" / S.TORCHVISION_NPZ).exists()  # converted once
    for k, v in sd.items():
        np.testing.assert_array_equal(model.state_dict()[k], v, err_msg=k)
    monkeypatch.setitem(D.SOURCES, S.TORCHVISION_PTH, dataclasses.replace(
        pinned, urls=(src.as_uri(),), checksum="sha256:00000000"))
    for relative in (S.TORCHVISION_PTH, S.TORCHVISION_NPZ):
        (tmp_path / "cache" / relative).unlink()
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_squeezenet("torchvision-pth")

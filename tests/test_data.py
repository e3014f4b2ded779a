"""Data directory resolution, downloads with checksums (on file:// URLs made here), MNIST."""
import gzip
import hashlib
import os

import numpy as np
import pytest

from models import data as D
from models.mnist import batches, load_mnist, read_idx, to_float, to_uint8


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    monkeypatch.delenv(D.ENV_DATA, raising=False)
    monkeypatch.setenv(D.ENV_CACHE, str(tmp_path / "cache"))
    return tmp_path


def write_idx(path, array, gz=False):
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">i4").tobytes()
    payload = header + array.astype(np.uint8).tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(payload)


def test_idx_round_trip_and_corruption(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    write_idx(tmp_path / "a", a)
    write_idx(tmp_path / "a.gz", a, gz=True)
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), a)
    (tmp_path / "bad").write_bytes(b"\x12\x34\x56\x78rest")
    with pytest.raises(ValueError, match="bad magic number"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes((tmp_path / "a").read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_idx(tmp_path / "short")


def test_mnist_from_idx_files_in_a_data_dir(no_env):
    d = no_env / "data" / "mnist"
    d.mkdir(parents=True)
    rng = np.random.default_rng(1)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (60000, 28, 28)),
              "train-labels-idx1-ubyte": rng.integers(0, 10, 60000),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (10000, 28, 28)),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, 10000)}
    for name, a in arrays.items():
        write_idx(d / (name + ".gz"), a, gz=True)
    m = load_mnist(no_env / "data", download_missing=False)
    np.testing.assert_array_equal(m["y_test"], arrays["t10k-labels-idx1-ubyte"])
    assert m["x_train"].shape == (60000, 28, 28) and m["x_train"].dtype == np.uint8


def test_missing_data_says_how_to_provide_it(no_env):
    with pytest.raises(D.DataNotFoundError, match="--data DIR"):
        load_mnist(no_env, download_missing=False)
    with pytest.raises(D.DataNotFoundError, match="does not exist.*TINYGRAD_CS_DATA"):
        load_mnist(no_env / "nowhere")


def test_download_checks_hash_and_writes_atomically(no_env):
    src = no_env / "weights.bin"
    src.write_bytes(b"some weights" * 1000)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    url = src.as_uri()
    path = D.find_file("sub/weights.bin", url=url, expected_hash=f"sha256:{digest[:8]}", quiet=True)
    assert path == D.cache_dir() / "sub" / "weights.bin" and path.read_bytes() == src.read_bytes()
    # found in the cache the second time (no download): remove the source to prove it
    src.unlink()
    assert D.find_file("sub/weights.bin", url=url, expected_hash=f"sha256:{digest}") == path
    # a wrong checksum leaves nothing behind
    src.write_bytes(b"tampered")
    with pytest.raises(ValueError, match="checksum mismatch"):
        D.find_file("other.bin", url=url, expected_hash=f"sha256:{digest}", quiet=True)
    assert not (D.cache_dir() / "other.bin").exists()
    assert [f for f in os.listdir(D.cache_dir()) if f.startswith(".")] == []


def test_failed_download_explains_offline_use(no_env):
    with pytest.raises(D.DataNotFoundError, match="Without internet, pass --data DIR"):
        D.find_file("x.bin", url=(no_env / "missing.bin").as_uri(), quiet=True)


def test_corrupt_file_in_data_dir_is_reported(no_env, monkeypatch):
    d = no_env / "data"
    d.mkdir()
    (d / "w.bin").write_bytes(b"abc")
    monkeypatch.setenv(D.ENV_DATA, str(d))
    with pytest.raises(ValueError, match="checksum mismatch for .*w.bin"):
        D.find_file("w.bin", expected_hash="sha256:00")


def test_batches_and_scaling():
    x = np.arange(10)
    seen = np.concatenate([b for b in batches(x, batch_size=3, seed=0)])
    assert sorted(seen) == list(range(10)) and not np.array_equal(seen, x)
    assert [len(b) for b in batches(x, batch_size=3, seed=0, drop_last=True)] == [3, 3, 3]
    assert np.array_equal(np.concatenate(list(batches(x, batch_size=4, seed=5))),
                          np.concatenate(list(batches(x, batch_size=4, seed=5))))
    f = to_float(np.array([0, 255], np.uint8))
    assert f.dtype == np.float32 and f.tolist() == [-1.0, 1.0]
    digits = np.random.default_rng(0).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    np.testing.assert_array_equal(to_uint8(to_float(digits).reshape(3, 784)), digits)


@pytest.mark.skipif(not os.environ.get(D.ENV_DATA), reason="needs TINYGRAD_CS_DATA (CI sets it)")
def test_real_mnist_from_the_data_directory():
    m = load_mnist(download_missing=False)
    assert m["x_train"].shape == (60000, 28, 28) and m["x_test"].shape == (10000, 28, 28)
    assert np.bincount(m["y_test"]).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

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
    monkeypatch.delenv(D.ENV_MIRROR, raising=False)
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


def test_download_checks_hash_and_writes_atomically(no_env, capsys):
    src = no_env / "weights.bin"
    src.write_bytes(b"some weights" * 1000)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    url = src.as_uri()
    source = D.Source("sub/weights.bin", (url,), f"sha256:{digest[:8]}", "test weights")
    path = D.find_file("sub/weights.bin", source=source)
    assert path == D.cache_dir() / "sub" / "weights.bin" and path.read_bytes() == src.read_bytes()
    assert f"downloading it once from {url}" in capsys.readouterr().err
    # found in the cache the second time (no download): remove the source to prove it
    src.unlink()
    assert D.find_file("sub/weights.bin", source=source, quiet=True) == path
    # a wrong checksum leaves nothing behind, and the error names the URL and both hashes
    src.write_bytes(b"tampered")
    bad = D.Source("other.bin", (url,), f"sha256:{digest}", "test weights")
    actual = hashlib.sha256(b"tampered").hexdigest()
    with pytest.raises(D.ChecksumError, match=f"mismatch for {url}: expected sha256 {digest}, "
                                              f"got {actual}"):
        D.find_file("other.bin", source=bad, quiet=True)
    assert not (D.cache_dir() / "other.bin").exists()
    assert [f for f in os.listdir(D.cache_dir()) if f.startswith(".")] == []


def test_failed_download_explains_offline_use(no_env):
    url = (no_env / "missing.bin").as_uri()
    source = D.Source("x.bin", (url,), "sha256:00", "a test file")
    with pytest.raises(D.DataNotFoundError) as e:
        D.find_file("x.bin", source=source, quiet=True)
    message = str(e.value)
    for part in ["x.bin (a test file) is missing", f"not in {D.cache_dir()}", url,
                 f"save it as {D.cache_dir() / 'x.bin'}", "pass --data DIR", D.ENV_MIRROR]:
        assert part in message, part


def test_a_file_without_a_download_says_so(no_env):
    with pytest.raises(D.DataNotFoundError, match="imagenet_val_25.npz .*no public download.*"
                                                  "--data DIR"):
        D.find_file("imagenet_val_25.npz", quiet=True)
    with pytest.raises(D.DataNotFoundError, match="not one of the files with a known download"):
        D.find_file("styles/unknown.jpg", quiet=True)


def test_corrupt_file_in_data_dir_is_reported(no_env, monkeypatch):
    d = no_env / "data"
    d.mkdir()
    (d / "w.bin").write_bytes(b"abc")
    monkeypatch.setenv(D.ENV_DATA, str(d))
    with pytest.raises(D.ChecksumError, match="checksum mismatch for .*w.bin"):
        D.find_file("w.bin", source=D.Source("w.bin", (), "sha256:00", "a test file"))


def test_the_mirror_replaces_every_official_url(no_env, monkeypatch):
    source = D.SOURCES["styles/starry_night.jpg"]
    monkeypatch.delenv(D.ENV_MIRROR, raising=False)
    assert D.source_urls(source) == list(source.urls)
    monkeypatch.setenv(D.ENV_MIRROR, "https://example.org/files/")
    assert D.source_urls(source) == ["https://example.org/files/styles/starry_night.jpg"]
    monkeypatch.setenv(D.ENV_MIRROR, str(no_env / "my mirror"))  # a folder becomes a file:// URL
    assert D.source_urls(source) == [(no_env / "my mirror").as_uri() + "/styles/starry_night.jpg"]


def test_the_table_of_sources_is_pinned():
    """Every download names a fixed version: a git commit in GitHub URLs, a hash to check."""
    assert D.SOURCES["styles/starry_night.jpg"].urls[0].endswith("/starry_night_google.jpg")
    for relative, s in D.SOURCES.items():
        assert s.relative == relative and s.about
        algorithm, _, digest = s.checksum.partition(":")
        assert algorithm in ("sha256", "md5") and len(digest) >= 8, relative
        assert int(digest, 16) >= 0, relative
        for url in s.urls:
            assert url.startswith(("https://", "http://yann.lecun.com/")), url
            if "githubusercontent" in url:
                commit = url.split("/")[5]
                assert len(commit) == 40 and int(commit, 16) >= 0, url


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


def test_a_data_directory_that_is_a_file_is_called_one(tmp_path):
    from models.data import DataNotFoundError, data_dir_of
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(DataNotFoundError, match="is a file, not a folder"):
        data_dir_of(str(f))

"""The torch-free .pth reader, against files written by PyTorch itself (tests/fixtures)."""
import os
import pickle

import numpy as np
import pytest

from models.pth import UnsafePickleError, load_pth_state_dict

FIX = os.path.join(os.path.dirname(__file__), "fixtures")
EXPECTED = np.load(os.path.join(FIX, "tiny_expected.npz"))


@pytest.mark.parametrize("name", ["tiny_zip.pth", "tiny_legacy.pth"])
def test_reads_both_layouts_exactly(name):
    sd = load_pth_state_dict(os.path.join(FIX, name))
    assert list(sd) == ["features.0.weight", "features.0.bias", "transposed", "slice", "double",
                        "bn.num_batches_tracked", "int32"]
    for k, v in sd.items():
        assert v.dtype == EXPECTED[k].dtype and v.shape == EXPECTED[k].shape, k
        np.testing.assert_array_equal(v, EXPECTED[k])


def test_reads_parameters():
    sd = load_pth_state_dict(os.path.join(FIX, "tiny_params.pth"))
    np.testing.assert_array_equal(sd["weight"], EXPECTED["params.weight"])
    np.testing.assert_array_equal(sd["bias"], EXPECTED["params.bias"])


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_refuses_code_execution(tmp_path):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:  # the legacy layout: magic, protocol, sys info, payload
        for obj in (0x1950A86A20F9469CFC6C, 1001, {}, {"w": Evil()}):
            pickle.dump(obj, f, protocol=2)
    with pytest.raises(UnsafePickleError, match="posix.system|os.system"):
        load_pth_state_dict(path)


def test_corrupt_files(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="not a readable PyTorch checkpoint|magic"):
        load_pth_state_dict(bad)
    data = open(os.path.join(FIX, "tiny_legacy.pth"), "rb").read()
    cut = tmp_path / "cut.pth"
    cut.write_bytes(data[:-40])
    with pytest.raises(ValueError, match="truncated"):
        load_pth_state_dict(cut)

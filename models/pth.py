"""Read a PyTorch ``.pth`` state dict into NumPy arrays without torch, safely.

A ``.pth`` file is a pickle, and unpickling can run arbitrary code: a pickle names
functions that the loader calls.  This reader only lets a pickle name the handful of
things a state dict is made of (an OrderedDict, tensor storages, the functions that
rebuild tensors and parameters), each mapped to our own harmless stand-in.  Any other
name -- ``os.system``, say -- is refused with an error before anything runs.

Two layouts are supported:

* the zip layout (PyTorch >= 1.6): ``<root>/data.pkl`` plus one file ``<root>/data/<key>``
  of raw little-endian bytes per storage;
* the legacy layout (older checkpoints such as torchvision's squeezenet1_1-b8a52dc0.pth):
  four pickles in a row (magic number, protocol, system info, the object), the list of
  storage keys, then each storage as an int64 element count followed by its bytes.
"""
from __future__ import annotations

import collections
import io
import pickle
import zipfile

import numpy as np

STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class UnsafePickleError(pickle.UnpicklingError):
    """The file asks for something a state dict never contains."""


class _Storage:
    """A storage stand-in: dtype and key now, the bytes later (legacy files store them after
    the pickle)."""

    def __init__(self, dtype, key, array=None):
        self.dtype, self.key, self.array = dtype, key, array


class _LazyTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def resolve(self) -> np.ndarray:
        base = self.storage.array
        if base is None:
            raise ValueError(f"pth: storage {self.storage.key} has no data; the file is truncated.")
        needed = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride)) + 1
        if min(self.size, default=1) > 0 and needed > base.size:
            raise ValueError(f"pth: a tensor of shape {self.size} reaches element {needed} of "
                             f"storage {self.storage.key}, which has {base.size}; corrupt file.")
        item = base.itemsize
        view = np.lib.stride_tricks.as_strided(base[self.offset:], shape=self.size,
                                               strides=[s * item for s in self.stride])
        return np.array(view)  # a contiguous copy that owns its memory


def _rebuild_tensor(storage, storage_offset, size, stride, *unused):
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=None, backward_hooks=None, *unused):
    return data


class _Dtype:  # torch.float32 etc. may appear in metadata; we never need them
    def __init__(self, *args):
        pass


ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch", "Size"): tuple,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, load_storage):
        super().__init__(file)
        self.load_storage = load_storage

    def find_class(self, module, name):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return name  # a storage type: kept as its name, used by persistent_load
        raise UnsafePickleError(
            f"pth: the file asks to load {module}.{name}, which a state dict of tensors never "
            "contains; refusing to unpickle it (it could run arbitrary code).")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise UnsafePickleError(f"pth: unexpected persistent id {pid!r}.")
        return self.load_storage(*pid[1:])


def _dtype_of(storage_type):
    if storage_type not in STORAGE_DTYPES:
        raise ValueError(f"pth: unsupported storage type {storage_type!r}.")
    return np.dtype(STORAGE_DTYPES[storage_type]).newbyteorder("<")


def _resolve(obj):
    if isinstance(obj, _LazyTensor):
        return obj.resolve()
    if isinstance(obj, dict):
        return collections.OrderedDict((k, _resolve(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_resolve(v) for v in obj)
    return obj


def _load_zip(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        pkl = [n for n in names if n.endswith("data.pkl")]
        if not pkl:
            raise ValueError(f"pth: {path} is a zip file without data.pkl; not a PyTorch checkpoint.")
        root = pkl[0][:-len("data.pkl")]

        def load_storage(storage_type, key, location, numel, *rest):
            dtype = _dtype_of(storage_type)
            raw = z.read(f"{root}data/{key}")
            return _Storage(dtype, key, np.frombuffer(raw, dtype))

        return _RestrictedUnpickler(io.BytesIO(z.read(pkl[0])), load_storage).load()


def _load_legacy(f):
    storages = {}

    def load_storage(storage_type, root_key, location, size, view_metadata=None):
        root = storages.setdefault(root_key, _Storage(_dtype_of(storage_type), root_key))
        if view_metadata is None:
            return root
        view_key, offset, view_size = view_metadata
        view = _Storage(root.dtype, view_key)
        view.root, view.offset, view.size = root, offset, view_size
        storages.setdefault(("view", view_key), view)
        return view

    safe = lambda: _RestrictedUnpickler(f, load_storage)  # noqa: E731
    magic = safe().load()
    if magic != LEGACY_MAGIC:
        raise ValueError("pth: not a PyTorch checkpoint (wrong magic number).")
    safe().load()  # protocol version
    safe().load()  # system info (byte order, type sizes)
    result = safe().load()
    keys = safe().load()
    for key in keys:
        storage = storages[key]
        head = f.read(8)
        if len(head) != 8:
            raise ValueError(f"pth: storage {key} is truncated; the file is incomplete or corrupt.")
        count = int(np.frombuffer(head, "<i8")[0])
        raw = f.read(count * storage.dtype.itemsize)
        if len(raw) != count * storage.dtype.itemsize:
            raise ValueError(f"pth: storage {key} is truncated; the file is incomplete or corrupt.")
        storage.array = np.frombuffer(raw, storage.dtype)
    for k, view in list(storages.items()):
        if isinstance(k, tuple):  # views share their root's bytes
            view.array = view.root.array[view.offset:view.offset + view.size]
    return result


def load_pth_state_dict(path) -> "collections.OrderedDict[str, np.ndarray]":
    """name -> NumPy array for every tensor in a PyTorch state dict file."""
    if zipfile.is_zipfile(path):
        obj = _load_zip(path)
    else:
        with open(path, "rb") as f:
            try:
                obj = _load_legacy(f)
            except (pickle.UnpicklingError, EOFError) as e:
                if isinstance(e, UnsafePickleError):
                    raise
                raise ValueError(f"pth: {path} is not a readable PyTorch checkpoint ({e}).") from None
    obj = _resolve(obj)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, np.ndarray) for v in obj.values()):
        raise ValueError(f"pth: {path} does not hold a state dict of tensors.")
    return obj

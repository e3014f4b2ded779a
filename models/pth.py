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

A hostile file can also lie about where a tensor's numbers are: its offset, sizes and
strides are checked against the storage's length before any view is made, so no tensor
can read outside its storage.  Other lies are caught before they cost time or memory: a
storage member whose unzipped size differs from its element count in the pickle (a "zip
bomb" is a small member that unzips to gigabytes) is refused from the zip directory
alone, a storage shared by many tensors is read once, and the unpickled structure is
walked visiting each object once (a pickle can share one list in 2**40 places), refusing
cycles and nesting far deeper than a state dict has.  bfloat16 storages are converted to
float32.  A damaged (truncated or corrupt) file is reported as such, not as an unsafe one.
"""
from __future__ import annotations

import collections
import io
import math
import os
import pickle
import struct
import zipfile
import zlib

import numpy as np

STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
BFLOAT16 = "BFloat16Storage"  # stored as 16-bit words, converted to float32 on load
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class UnsafePickleError(pickle.UnpicklingError):
    """The file asks for something a state dict never contains."""


class DamagedPthError(ValueError):
    """The file is truncated or corrupt (not unsafe: just unreadable)."""


def _damaged(path, detail):
    return DamagedPthError(f"pth: {path} is not a readable PyTorch checkpoint: it is truncated "
                           f"or corrupt ({detail}). Download or save it again.")


def bfloat16_to_float32(words: np.ndarray) -> np.ndarray:
    """bfloat16 is the upper half of a float32 (sign, 8-bit exponent, 7 mantissa bits), so
    shifting the 16-bit words up by 16 bits gives the float32 with the same value."""
    return (words.astype(np.uint32) << 16).view(np.float32)


class _Storage:
    """A storage stand-in: dtype and key now, the bytes later (legacy files store them after
    the pickle)."""

    def __init__(self, dtype, key, array=None):
        self.dtype, self.key, self.array = dtype, key, array


class _LazyTensor:
    def __init__(self, storage, offset, size, stride):
        # anything but a tuple or list of sizes is kept as it is, for check() to refuse
        as_tuple = lambda v: tuple(v) if isinstance(v, (tuple, list)) else v  # noqa: E731
        self.storage, self.offset, self.size, self.stride = storage, offset, as_tuple(size), as_tuple(stride)

    def check(self, length):
        """Refuse an offset, sizes and strides that would reach outside a storage of
        ``length`` elements (or make a copy bigger than the storage), before any view."""
        key = self.storage.key
        whole = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
        if not (isinstance(self.size, tuple) and isinstance(self.stride, tuple)) or not (
                whole(self.offset) and all(map(whole, self.size)) and all(map(whole, self.stride))):
            raise ValueError(f"pth: a tensor of storage {key} has a non-integer offset, size or "
                             f"stride (offset {self.offset!r}, size {self.size!r}, stride "
                             f"{self.stride!r}); corrupt or hostile file.")
        if len(self.size) != len(self.stride):
            raise ValueError(f"pth: a tensor of storage {key} has size {self.size} but stride "
                             f"{self.stride}; corrupt or hostile file.")
        if self.offset < 0 or min(self.size, default=0) < 0 or min(self.stride, default=0) < 0:
            raise ValueError(f"pth: a tensor of storage {key} has a negative offset, size or "
                             f"stride (offset {self.offset}, size {self.size}, stride "
                             f"{self.stride}); corrupt or hostile file.")
        numel = math.prod(self.size)
        # exact Python integers: a huge size cannot overflow into a small one
        end = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride)) + 1
        if (numel > 0 and end > length) or self.offset > length:
            raise ValueError(f"pth: a tensor of shape {self.size} (offset {self.offset}, stride "
                             f"{self.stride}) reaches element {end} of storage {key}, which has "
                             f"{length}; corrupt or hostile file.")
        if numel > length:  # only repeated (stride-0) elements get here
            raise ValueError(f"pth: a tensor of shape {self.size} has {numel} elements, more than "
                             f"its storage {key} ({length}): expanded tensors are not supported.")

    def resolve(self) -> np.ndarray:
        base = self.storage.array
        if base is None:
            raise ValueError(f"pth: storage {self.storage.key} has no data; the file is "
                             "truncated or corrupt.")
        self.check(base.size)
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
        if module == "torch" and name.endswith("Storage"):
            return name  # a storage type: kept as its name (a string), used by persistent_load
        raise UnsafePickleError(
            f"pth: the file asks to load {module}.{name}, which a state dict of tensors never "
            "contains; refusing to unpickle it (it could run arbitrary code).")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise UnsafePickleError(f"pth: unexpected persistent id {pid!r}.")
        try:
            return self.load_storage(*pid[1:])
        except TypeError:  # too few or too many fields
            raise ValueError(f"pth: malformed storage reference {pid!r}; corrupt file.") from None


def _dtype_of(storage_type):
    """The NumPy dtype of a storage's bytes on disk (bfloat16: 16-bit words)."""
    if storage_type == BFLOAT16:
        return np.dtype("<u2")
    if storage_type not in STORAGE_DTYPES:
        raise ValueError(f"pth: unsupported storage type {storage_type!r}; supported: "
                         f"{', '.join(sorted(STORAGE_DTYPES))}, {BFLOAT16}.")
    return np.dtype(STORAGE_DTYPES[storage_type]).newbyteorder("<")


def _storage_array(storage_type, raw, key, path):
    """Raw little-endian bytes -> a 1-D array (bfloat16 becomes float32)."""
    dtype = _dtype_of(storage_type)
    if len(raw) % dtype.itemsize:
        raise _damaged(path, f"storage {key} has {len(raw)} bytes, not a whole number of "
                             f"{dtype.itemsize}-byte elements")
    array = np.frombuffer(raw, dtype)
    return bfloat16_to_float32(array) if storage_type == BFLOAT16 else array


# A state dict is a flat dict of tensors; these limits are far above any real checkpoint
# and keep a small hostile pickle (lists nested deep, or one object shared many times)
# from taking minutes or the whole stack.
MAX_NODES = 1_000_000  # distinct containers and values visited
MAX_DEPTH = 100        # nesting of dicts, lists and tuples


def _resolve(obj, path="the file"):
    """Replace every tensor stand-in by its array, visiting each object once.

    A pickle can share one object in many places (``[x, x]`` nested 40 deep is 2**40
    paths to the same few lists), so results are memoized by ``id``: a shared object is
    resolved once and shared in the result too.  A container that holds itself (a cycle)
    or structures past MAX_NODES / MAX_DEPTH are refused as damaged or hostile."""
    done, in_progress = {}, set()

    def visit(o, depth):
        key = id(o)
        if key in done:
            return done[key]
        if key in in_progress:
            raise _damaged(path, f"a {type(o).__name__} contains itself; a state dict never "
                                 "does (hostile or corrupt pickle)")
        if depth > MAX_DEPTH:
            raise _damaged(path, f"containers nested more than {MAX_DEPTH} deep; a state dict "
                                 "is a flat dict of tensors (hostile or corrupt pickle)")
        if len(done) >= MAX_NODES:
            raise _damaged(path, f"more than {MAX_NODES} objects; far more than a state dict "
                                 "holds (hostile or corrupt pickle)")
        in_progress.add(key)
        if isinstance(o, _LazyTensor):
            result = o.resolve()
        elif isinstance(o, dict):
            result = collections.OrderedDict((k, visit(v, depth + 1)) for k, v in o.items())
        elif isinstance(o, (list, tuple)):
            result = type(o)(visit(v, depth + 1) for v in o)
        else:
            result = o
        in_progress.discard(key)
        done[key] = result
        return result

    # ``done`` keeps each visited object's result, so ``id``s of freed objects are never reused
    return visit(obj, 0)


def _load_zip(path):
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise _damaged(path, f"a zip archive without its directory: {e}") from None
    with z:
        names = z.namelist()
        pkl = [n for n in names if n.endswith("data.pkl")]
        if not pkl:
            raise ValueError(f"pth: {path} is a zip file without data.pkl; not a PyTorch checkpoint.")
        root = pkl[0][:-len("data.pkl")]

        def read(name, limit=None):
            """The member's bytes; with ``limit``, at most that many are decompressed."""
            try:
                with z.open(name) as member:
                    return member.read() if limit is None else member.read(limit)
            except KeyError:
                raise _damaged(path, f"{name} is missing from the archive") from None
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
                raise _damaged(path, f"{name}: {e}") from None

        storages = {}  # key -> _Storage: tensors sharing a storage share its bytes, read once

        def load_storage(storage_type, key, location, numel, *rest):
            dtype = _dtype_of(storage_type)  # an unknown type is refused before reading its bytes
            if key in storages:
                if storages[key].storage_type != storage_type:
                    raise _damaged(path, f"storage {key} is referenced as both "
                                         f"{storages[key].storage_type} and {storage_type}")
                return storages[key]
            if isinstance(numel, bool) or not isinstance(numel, int) or numel < 0:
                raise _damaged(path, f"storage {key} claims {numel!r} elements")
            name = f"{root}data/{key}"
            try:
                declared = z.getinfo(name).file_size
            except KeyError:
                raise _damaged(path, f"{name} is missing from the archive") from None
            needed = numel * dtype.itemsize
            # checked before decompressing anything: a small member can unzip to gigabytes
            if declared != needed:
                raise _damaged(path, f"storage {key} should hold {numel} elements ({needed} "
                                     f"bytes), but its member unzips to {declared} bytes")
            array = _storage_array(storage_type, read(name, needed), key, path)
            if array.size != numel:  # the member held fewer bytes than it declared
                raise _damaged(path, f"storage {key} has {array.size} of its {numel} elements")
            storages[key] = storage = _Storage(array.dtype, key, array)
            storage.storage_type = storage_type
            return storage

        try:
            return _RestrictedUnpickler(io.BytesIO(read(pkl[0])), load_storage).load()
        except UnsafePickleError:
            raise
        except (pickle.UnpicklingError, EOFError, struct.error, TypeError, IndexError,
                KeyError, AttributeError) as e:  # a malformed pickle fails in many ways
            raise _damaged(path, f"{pkl[0]}: {type(e).__name__}: {e}") from None


def _load_legacy(f, path):
    storages = {}
    file_size = os.fstat(f.fileno()).st_size

    def load_storage(storage_type, root_key, location, size, view_metadata=None):
        root = storages.setdefault(root_key, _Storage(_dtype_of(storage_type), root_key))
        root.storage_type = storage_type
        if view_metadata is None:
            return root
        if not (isinstance(view_metadata, tuple) and len(view_metadata) == 3 and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in view_metadata[1:])):
            raise ValueError(f"pth: storage {root_key} has a malformed view {view_metadata!r} "
                             "(expected key, offset >= 0, size >= 0); corrupt or hostile file.")
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
    if not isinstance(keys, list) or any(k not in storages for k in keys):
        raise _damaged(path, "the list of storage keys does not match the storages")
    for key in keys:
        storage = storages[key]
        head = f.read(8)
        if len(head) != 8:
            raise _damaged(path, f"storage {key} is missing")
        count = int(np.frombuffer(head, "<i8")[0])
        if count < 0 or count * storage.dtype.itemsize > file_size - f.tell():
            # checked before reading: read(n) may allocate n bytes even at the end of the file
            raise _damaged(path, f"storage {key} claims {count} elements, more than the file holds"
                           if count >= 0 else f"storage {key} claims {count} elements")
        raw = f.read(count * storage.dtype.itemsize)
        if len(raw) != count * storage.dtype.itemsize:
            raise _damaged(path, f"storage {key} has {len(raw)} of its "
                                 f"{count * storage.dtype.itemsize} bytes")
        storage.array = _storage_array(storage.storage_type, raw, key, path)
    for k, view in list(storages.items()):
        if isinstance(k, tuple):  # views share their root's bytes
            if view.root.array is None or view.offset + view.size > view.root.array.size:
                raise ValueError(f"pth: view {view.key} (offset {view.offset}, size {view.size}) "
                                 f"reaches past the end of storage {view.root.key}; corrupt or "
                                 "hostile file.")
            view.array = view.root.array[view.offset:view.offset + view.size]
    return result


def load_pth_state_dict(path) -> "collections.OrderedDict[str, np.ndarray]":
    """name -> NumPy array for every tensor in a PyTorch state dict file.

    Raises UnsafePickleError for a file that asks for anything but tensors, DamagedPthError
    (a ValueError) for a truncated or corrupt one, ValueError for other malformed content.
    bfloat16 tensors are returned as float32 (the same values)."""
    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise _damaged(path, "the file is empty")
    # a zip archive starts with a local file header, "PK\x03\x04"; zipfile.is_zipfile
    # looks for the directory at the end, which a truncated download does not have
    if head == b"PK\x03\x04" or zipfile.is_zipfile(path):
        obj = _load_zip(path)
    else:
        with open(path, "rb") as f:
            try:
                obj = _load_legacy(f, path)
            except UnsafePickleError:
                raise
            except (pickle.UnpicklingError, EOFError, struct.error, TypeError, IndexError,
                    KeyError, AttributeError) as e:  # a malformed pickle fails in many ways
                raise _damaged(path, f"{type(e).__name__}: {e}") from None
    obj = _resolve(obj, path)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, np.ndarray) for v in obj.values()):
        raise ValueError(f"pth: {path} does not hold a state dict of tensors.")
    return obj

"""Read a bundle's ``.pt`` file into numpy arrays without importing torch.

Why: the live app runs the model on onnxruntime; importing torch only to read
the thresholds and config costs ~680 MB of RSS and about a second of start-up.

``torch.save`` writes a zip: ``<name>/data.pkl`` (the payload pickled, tensors
as persistent ids) and ``<name>/data/<key>`` (one raw little-endian storage per
key). The unpickler here admits exactly what a bundle holds — plain containers,
``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2`` and the typed
storages — like ``torch.load(weights_only=True)``: any other global is refused
(:class:`UnsafeBundleError`), so a bundle from the internet cannot run code.
A file it cannot read but torch might (another dtype, byte order or layout)
raises :class:`UnsupportedBundle`; the caller then loads it with torch.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["UnsafeBundleError", "UnsupportedBundle", "read_torch_zip"]

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class UnsupportedBundle(Exception):
    """The file may be a valid torch file, but not one this reader handles; torch should load it."""


class UnsafeBundleError(pickle.UnpicklingError):
    """The pickle asks for a global a bundle never holds (code a file must not run)."""


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name]).newbyteorder("<")  # torch writes little-endian (``byteorder``)


def _rebuild_tensor_v2(
    storage: object,
    offset: int,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    requires_grad: bool,
    backward_hooks: object,
    metadata: object = None,
) -> np.ndarray:
    """torch's tensor constructor, as a bounds-checked numpy copy of the storage's elements."""
    if not isinstance(storage, np.ndarray) or backward_hooks or metadata:
        raise UnsupportedBundle("tensor with hooks, metadata or a non-storage source")
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or any(not isinstance(n, int) or n < 0 for n in (offset, *size, *stride)):
        raise UnsupportedBundle(f"tensor layout size={size} stride={stride} offset={offset}")
    if 0 not in size and offset + sum((n - 1) * s for n, s in zip(size, stride)) >= storage.size:
        raise UnsafeBundleError(f"tensor reaches past its storage (size={size}, stride={stride}, offset={offset})")
    if 0 in size:
        return np.zeros(size, storage.dtype)
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size, strides=[s * storage.itemsize for s in stride], writeable=False
    )
    return np.array(view, copy=True)


_ALLOWED = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
}


class _BundleUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(io.BytesIO(data))
        self._archive = archive
        self._prefix = prefix
        self._storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[module, name]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module == "torch" or module.startswith("torch."):
            raise UnsupportedBundle(f"global {module}.{name}")
        raise UnsafeBundleError(f"refused global {module}.{name} (a bundle holds only tensors, numbers and text)")

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise UnsupportedBundle(f"persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel = pid
        if key not in self._storages:
            self._storages[key] = self._read_storage(str(key), storage_type.dtype, numel)
        return self._storages[key]

    def _read_storage(self, key: str, dtype: np.dtype, numel: int) -> np.ndarray:
        try:
            info = self._archive.getinfo(f"{self._prefix}data/{key}")
        except KeyError:
            raise UnsupportedBundle(f"storage {key!r} is missing from the archive") from None
        if info.compress_type != zipfile.ZIP_STORED or info.file_size != numel * dtype.itemsize:
            raise UnsupportedBundle(f"storage {key!r}: compressed or of another size than {numel} x {dtype}")
        return np.frombuffer(self._archive.read(info), dtype=dtype)


def read_torch_zip(path: Path) -> Any:
    """The payload of a ``torch.save`` zip file with every tensor as a numpy array."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsupportedBundle(f"not a torch zip file ({exc})") from None
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise UnsupportedBundle("no single <name>/data.pkl in the archive")
        prefix = pickles[0][: -len("data.pkl")]
        names = set(archive.namelist())
        if f"{prefix}byteorder" in names and archive.read(f"{prefix}byteorder") != b"little":
            raise UnsupportedBundle("big-endian storages")
        data = archive.read(pickles[0])
        return _BundleUnpickler(data, archive, prefix).load()

"""Save and load solutions (and checkpoints) as NetCDF-4/HDF5 files through xarray, no pickle.

A file holds one record (see :mod:`toolkit.records`): its arrays become variables, its
tree is JSON in the ``scalebridge_record`` attribute. Complex arrays are stored as a
trailing real/imaginary axis and booleans as int8, so any NetCDF-4 reader opens the file.
Writes are atomic: a temporary file in the same folder, ``fsync``, then ``os.replace``;
a killed process leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from . import records
from .errors import FileFormatError

__all__ = ["save", "load", "write_record", "read_record", "atomic_path"]

FORMAT = "scalebridge"
VERSION = 1


def _to_variables(arrays: dict[str, np.ndarray]):
    variables, kinds = {}, {}
    for i, (key, arr) in enumerate(arrays.items()):
        arr = np.ascontiguousarray(arr)
        kind = "plain"
        if arr.dtype.kind == "c":
            arr, kind = np.stack([arr.real, arr.imag], axis=-1), "complex"
        elif arr.dtype == np.bool_:
            arr, kind = arr.astype(np.int8), "bool"
        name = f"v{i}"
        variables[name] = (tuple(f"{name}_d{j}" for j in range(arr.ndim)), arr)
        kinds[name] = [key, kind, str(arrays[key].dtype)]
    return variables, kinds


def _from_variables(dataset, kinds) -> dict[str, np.ndarray]:
    arrays = {}
    for name, (key, kind, dtype) in kinds.items():
        arr = np.array(dataset[name].values)
        if kind == "complex":
            arr = arr[..., 0] + 1j * arr[..., 1]
        arrays[key] = np.ascontiguousarray(arr.astype(dtype, copy=False))
    return arrays


def atomic_path(path: Path):
    """A temporary path beside ``path`` (same filesystem, so the final rename is atomic)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_record(path, kind: str, obj, extra_attrs: dict | None = None) -> Path:
    """Atomically write ``obj`` (any record-able object) to a NetCDF file at ``path``."""
    import xarray as xr

    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    tree = records.encode(obj, arrays, "r")
    variables, kinds = _to_variables(arrays)
    attrs = {"format": FORMAT, "format_version": VERSION, "kind": kind,
             "scalebridge_record": json.dumps(tree), "scalebridge_arrays": json.dumps(kinds)}
    attrs.update(extra_attrs or {})
    tmp = atomic_path(path)
    try:
        xr.Dataset(variables, attrs=attrs).to_netcdf(tmp, engine="h5netcdf")
        _fsync(tmp)
        os.replace(tmp, path)
        try:
            _fsync(path.parent)
        except OSError:  # pragma: no cover - some filesystems refuse directory fsync
            pass
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def read_record(path, kind: str | None = None):
    """Read back what :func:`write_record` wrote; a foreign or corrupt file raises FileFormatError."""
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            ds.load()
            attrs = dict(ds.attrs)
            if attrs.get("format") != FORMAT:
                raise FileFormatError(f"{path} is a NetCDF file but not a scalebridge file "
                                      "(no 'format = scalebridge' attribute)")
            if int(attrs.get("format_version", -1)) > VERSION:
                raise FileFormatError(f"{path} was written by a newer scalebridge (format "
                                      f"{attrs.get('format_version')}); upgrade to read it")
            if kind is not None and attrs.get("kind") != kind:
                raise FileFormatError(f"{path} holds a {attrs.get('kind')!r}, not a {kind!r}")
            arrays = _from_variables(ds, json.loads(attrs["scalebridge_arrays"]))
            tree = json.loads(attrs["scalebridge_record"])
    except FileFormatError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FileFormatError(f"{path} is not a readable scalebridge file (corrupt, truncated or "
                              f"another format): {type(exc).__name__}: {exc}") from None
    return records.decode(tree, arrays), attrs


def save(solution, path) -> Path:
    """Write a Solution (arrays, metadata, problem and solver parameters) to a NetCDF file."""
    summary = {"problem": repr(solution.problem), "solver": repr(solution.solver),
               "retcode": str(solution.retcode)}
    return write_record(path, "solution", solution, summary)


def load(path):
    """Read a Solution written by :func:`save`, rebuilding (and re-validating) problem and solver."""
    solution, _ = read_record(path, "solution")
    return solution

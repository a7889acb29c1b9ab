"""Save and load solutions (and checkpoints) as NetCDF-4/HDF5 files through xarray, no pickle.

A file holds one record (see :mod:`toolkit.records`): its arrays become variables, its
tree is JSON in the ``scalebridge_record`` attribute. Complex arrays are stored as a
trailing real/imaginary axis and booleans as int8, so any NetCDF-4 reader opens the file.

A solution's file is also its ``to_xarray()`` dataset (:mod:`toolkit.conventions`): each array
field that the dataset shows unchanged is stored once, under the dataset's name, with its
dimensions, coordinates and CF ``units``/``long_name`` attributes, so ``xarray.open_dataset``
(or any netCDF reader) sees the same labelled variables; the dataset's other coordinates and
variables are added beside them. The array table (``scalebridge_arrays``) says which variables
make up the record; :func:`read_record` reads those and nothing else.
Writes are atomic: a temporary file in the same folder, ``fsync``, then ``os.replace``;
a killed process leaves either the old file or the new one, never a torn one.

Every file carries the SHA-256 of each array (over its dtype, shape and bytes) and of the
record tree in its attributes; :func:`read_record` verifies them and refuses a damaged file,
naming the damaged part. Before any array is read, the sizes the file declares are checked
against the file's own size, so a small crafted file cannot make a load allocate gigabytes.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from . import records
from .errors import FileFormatError, InvalidOptionError

__all__ = ["save", "load", "write_record", "read_record", "atomic_path", "checkpoint_lock", "array_digest"]

FORMAT = "scalebridge"
VERSION = 2
#: Bytes a file may declare beyond its own size (HDF5 stores uncompressed arrays at full size).
_SIZE_SLACK = 1 << 20


def array_digest(arr: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and C-order bytes (hex)."""
    arr = np.ascontiguousarray(arr)
    digest = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    digest.update(arr.view(np.uint8).reshape(-1) if arr.size else b"")
    return digest.hexdigest()


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


#: The trailing dimension of a complex array stored as real and imaginary parts.
_COMPLEX_DIM = "real_imaginary"


def _shown(arrays: dict[str, np.ndarray], view) -> dict[str, str]:
    """Record key -> name of the ``view`` variable that shows that array unchanged (``r.<field>``)."""
    if view is None:
        return {}
    shown = {}
    for name, var in view.variables.items():
        key = f"r.{name}"
        arr = arrays.get(key)
        if (isinstance(arr, np.ndarray) and key not in shown.values() and var.shape == arr.shape
                and var.dtype == arr.dtype and np.array_equal(var.values, arr, equal_nan=arr.dtype.kind in "fc")):
            shown[key] = name
    return shown


def _to_variables(arrays: dict[str, np.ndarray], view=None):
    """NetCDF variables for the record's arrays (named and labelled as in ``view`` where it shows
    them), the array table, and the names of the variables that are coordinates of ``view``."""
    shown = _shown(arrays, view)
    taken = set(view.variables) if view is not None else set()
    variables, kinds = {}, {}
    for i, (key, arr) in enumerate(arrays.items()):
        arr = np.ascontiguousarray(arr)
        kind = "plain"
        if arr.dtype.kind == "c":
            arr, kind = np.stack([arr.real, arr.imag], axis=-1), "complex"
        elif arr.dtype == np.bool_:
            arr, kind = arr.astype(np.int8), "bool"
        if key in shown:
            name = shown[key]
            var = view.variables[name]
            attrs = {k: _attr(v) for k, v in var.attrs.items()}
            dims = var.dims
            if kind == "complex":
                dims += (_COMPLEX_DIM,)
                attrs["comment"] = "complex: real and imaginary parts along the last dimension"
            variables[name] = (dims, arr, attrs)
        else:
            name = f"v{i}"
            while name in taken:
                name = f"_{name}"
            variables[name] = (tuple(f"{name}_d{j}" for j in range(arr.ndim)), arr)
        kinds[name] = [key, kind, str(arrays[key].dtype)]
    return variables, kinds


def _attr(value):
    """An attribute value NetCDF can hold (booleans as 0/1)."""
    return int(value) if isinstance(value, (bool, np.bool_)) else value


def _dataset(variables: dict, attrs: dict, view):
    """The file's dataset: the record's variables, plus the view's coordinates and the view's
    variables that no record array holds, and the view's attributes that the record lacks."""
    import xarray as xr

    if view is None:
        return xr.Dataset(variables, attrs=attrs)
    coords = {name: variables.pop(name) for name in list(variables) if name in view.coords}
    for name, var in view.variables.items():
        if name in variables or name in coords or var.dtype.kind == "c":
            continue
        target = coords if name in view.coords else variables
        target[name] = (var.dims, var.values, {k: _attr(v) for k, v in var.attrs.items()})
    if any(_COMPLEX_DIM in v[0] for v in variables.values()):
        coords.setdefault(_COMPLEX_DIM, (_COMPLEX_DIM, np.array(["real", "imaginary"]),
                                         {"units": "1", "long_name": "part of a complex number"}))
    merged = {"Conventions": "CF-1.10"}
    merged.update({k: _attr(v) for k, v in view.attrs.items() if isinstance(v, (str, int, float, np.number))})
    merged.update(attrs)
    return xr.Dataset(variables, coords=coords, attrs=merged)


def _from_variables(dataset, kinds) -> dict[str, np.ndarray]:
    arrays = {}
    for name, entry in kinds.items():
        if not (isinstance(entry, list) and len(entry) == 3 and all(isinstance(e, str) for e in entry)):
            raise FileFormatError(f"the array table's entry {name!r} is damaged: {entry!r}")
        key, kind, dtype = entry
        if kind not in ("plain", "complex", "bool") or np.dtype(dtype).kind not in "biufc":
            raise FileFormatError(f"array {key!r} is stored as {kind!r} {dtype!r}; files hold numeric "
                                  "and boolean arrays only")
        arr = np.array(dataset[name].values)
        if kind == "complex":
            arr = arr[..., 0] + 1j * arr[..., 1]
        arrays[key] = np.ascontiguousarray(arr.astype(dtype, copy=False))
    return arrays


@contextlib.contextmanager
def checkpoint_lock(path, clean: bool = True):
    """Hold an exclusive lock on checkpoint ``path`` for the length of a run.

    A second run that checkpoints to the same path (in this process or another) is refused
    instead of interleaving its checkpoints with the first one's. The lock is ``flock`` on a
    hidden ``.NAME.lock`` file beside it, released by the kernel if the process dies. With
    ``clean``, temporary files left by a killed writer (``.NAME.*.tmp``) are removed once the lock
    is held (a run does it on its first acquisition only).
    """
    import fcntl

    path = Path(path)
    lock = path.parent / f".{path.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InvalidOptionError(
                f"another run is checkpointing to {path} right now (it holds {lock}); give this run its "
                "own checkpoint path, or wait for the other to finish") from None
        if clean:
            for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
                stale.unlink(missing_ok=True)
        yield path
    finally:
        os.close(fd)


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


def write_record(path, kind: str, obj, extra_attrs: dict | None = None, view=None) -> Path:
    """Atomically write ``obj`` (any record-able object) to a NetCDF file at ``path``.

    ``view``: an ``xarray.Dataset`` showing ``obj`` (a solution's ``to_xarray()``); the file is
    then laid out as that dataset (see the module docstring). The record is the same either way.
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    tree = records.encode(obj, arrays, "r")
    variables, kinds = _to_variables(arrays, view)
    tree_text, kinds_text = json.dumps(tree), json.dumps(kinds)
    checksums = {key: array_digest(arr) for key, arr in arrays.items()}
    checksums["<record>"] = _text_digest(tree_text + kinds_text)
    attrs = {"format": FORMAT, "format_version": VERSION, "kind": kind,
             "scalebridge_record": tree_text, "scalebridge_arrays": kinds_text,
             "scalebridge_sha256": json.dumps(checksums)}
    attrs.update(extra_attrs or {})
    tmp = atomic_path(path)
    try:
        _dataset(variables, attrs, view).to_netcdf(tmp, engine="h5netcdf")
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
    """Read back what :func:`write_record` wrote; a foreign, damaged or crafted file raises FileFormatError."""
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    try:
        with xr.open_dataset(path, engine="h5netcdf", decode_times=False, decode_timedelta=False) as ds:
            attrs = dict(ds.attrs)
            if attrs.get("format") != FORMAT:
                raise FileFormatError(f"{path} is a NetCDF file but not a scalebridge file "
                                      "(no 'format = scalebridge' attribute)")
            version = int(attrs.get("format_version", -1))
            if version > VERSION:
                raise FileFormatError(f"{path} was written by a newer scalebridge (format "
                                      f"{attrs.get('format_version')}); upgrade to read it")
            if kind is not None and attrs.get("kind") != kind:
                raise FileFormatError(f"{path} holds a {attrs.get('kind')!r}, not a {kind!r}")
            tree_text, kinds_text = str(attrs["scalebridge_record"]), str(attrs["scalebridge_arrays"])
            kinds = json.loads(kinds_text)
            if not isinstance(kinds, dict):
                raise FileFormatError(f"{path}: the array table is not a table")
            checksums = _checksums(path, attrs, version)
            if checksums is not None and checksums.get("<record>") != _text_digest(tree_text + kinds_text):
                raise FileFormatError(f"{path} is damaged: the record (problem, solver and metadata) does "
                                      "not match its SHA-256 checksum")
            _check_declared_size(path, ds, kinds)
            arrays = _from_variables(ds, kinds)
            tree = json.loads(tree_text)
    except (FileFormatError, FileNotFoundError):
        raise
    except RecursionError:
        raise FileFormatError(f"{path} holds a record nested too deeply to be one of ours (crafted or "
                              "corrupt)") from None
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RuntimeError) as exc:
        raise FileFormatError(f"{path} is not a readable scalebridge file (corrupt, truncated or "
                              f"another format): {type(exc).__name__}: {exc}") from None
    if checksums is not None:
        for key, arr in arrays.items():
            if checksums.get(key) != array_digest(arr):
                raise FileFormatError(f"{path} is damaged: array {key!r} does not match its SHA-256 checksum")
    try:
        return records.decode(tree, arrays), attrs
    except RecursionError:
        raise FileFormatError(f"{path} holds a record nested too deeply (crafted or corrupt)") from None
    except FileFormatError as exc:
        raise FileFormatError(f"{path}: {exc}") from None


def _checksums(path: Path, attrs: dict, version: int) -> dict | None:
    """The file's checksum table (format 2 on); ``None`` for format-1 files, written before checksums."""
    if version < 2 and "scalebridge_sha256" not in attrs:
        return None
    if "scalebridge_sha256" not in attrs:
        raise FileFormatError(f"{path} has lost its checksum table (attribute 'scalebridge_sha256'); "
                              "the file is damaged")
    table = json.loads(str(attrs["scalebridge_sha256"]))
    if not isinstance(table, dict):
        raise FileFormatError(f"{path}: the checksum table is damaged")
    return table


def _check_declared_size(path: Path, dataset, kinds: dict) -> None:
    """Refuse a file whose variables (the record's and any other) declare more bytes than the file
    could hold."""
    for name in kinds:
        if name not in dataset.variables:
            raise FileFormatError(f"{path} lists array {name!r}, which the file does not hold (truncated?)")
    declared = 0
    for var in dataset.variables.values():
        declared += int(np.prod(var.shape, dtype=np.float64)) * var.dtype.itemsize
    limit = path.stat().st_size + _SIZE_SLACK
    if declared > limit:
        raise FileFormatError(f"{path} declares arrays of {declared / 2**20:.4g} MiB in a file of "
                              f"{path.stat().st_size / 2**20:.4g} MiB; it is crafted or damaged, not read")


def save(solution, path) -> Path:
    """Write a Solution (arrays, metadata, problem and solver parameters) to a NetCDF file.

    The file is also the solution's ``to_xarray()`` dataset, with its coordinates and CF
    attributes: ``xarray.open_dataset(path)`` shows the same labelled variables.
    """
    summary = {"problem": repr(solution.problem), "solver": repr(solution.solver),
               "retcode": str(solution.retcode)}
    try:
        view = solution.to_xarray()
    except Exception as exc:  # noqa: BLE001 - the labels are a courtesy; the record never depends on them
        warnings.warn(f"{type(solution).__name__}.to_xarray() failed ({type(exc).__name__}: {exc}); {path} is "
                      "saved without its dataset's labels (tk.load reads it back all the same)", stacklevel=2)
        view = None
    return write_record(path, "solution", solution, summary, view=view)


def load(path):
    """Read a Solution written by :func:`save`, rebuilding (and re-validating) problem and solver."""
    from .solution import Solution

    solution, _ = read_record(path, "solution")
    if not isinstance(solution, Solution):
        raise FileFormatError(f"{path} says it holds a solution but holds a {type(solution).__name__}")
    return solution

"""Turn problems, solvers and solutions into plain records, and back, without pickle.

A record is a JSON-able tree (``meta``) plus a flat ``dict`` of named NumPy arrays. Both
NetCDF files (``tk.save``) and checkpoints use it. Arrays round-trip bit for bit; floats in
the tree are written with ``repr`` precision. Only classes from trusted modules are rebuilt
(``toolkit``, ``problems``, ``solvers`` and any prefix passed to :func:`trust_module`), so
loading a file never runs code named by the file.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib

import numpy as np

from .errors import FileFormatError

__all__ = ["encode", "decode", "trust_module", "class_path"]

_TRUSTED = {"toolkit", "problems", "solvers"}


def trust_module(prefix: str) -> None:
    """Allow :func:`decode` to rebuild classes defined under the module ``prefix``."""
    _TRUSTED.add(prefix.split(".")[0])


def class_path(cls: type) -> str:
    """``module:QualName`` of a class, the form records store."""
    return f"{cls.__module__}:{cls.__qualname__}"


def _load_class(path: str) -> type:
    module, _, qualname = path.partition(":")
    if module.split(".")[0] not in _TRUSTED:
        raise FileFormatError(
            f"the file names class {path!r}, which is outside the trusted packages "
            f"{sorted(_TRUSTED)}; call toolkit.records.trust_module({module.split('.')[0]!r}) "
            "if you wrote that class and trust the file")
    try:
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise FileFormatError(f"the file names class {path!r}, which cannot be imported here: {exc}") from None
    return obj


def encode(obj, arrays: dict[str, np.ndarray], key: str):
    """Encode ``obj`` into a JSON-able tree, storing arrays in ``arrays`` under names from ``key``."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, enum.Enum):
        return {"__enum__": class_path(type(obj)), "value": obj.value}
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if isinstance(obj, (complex, np.complexfloating)):
        return {"__complex__": [float(obj.real), float(obj.imag)]}
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError(f"cannot store object array at {key}")
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, type):
        return {"__class__": class_path(obj)}
    if _is_scipy_sparse(obj):
        csr = obj.tocsr()
        return {"__scipy_sparse__": "csr", "shape": list(csr.shape),
                "data": encode(np.asarray(csr.data), arrays, key + ".data"),
                "indices": encode(np.asarray(csr.indices, dtype=np.int64), arrays, key + ".indices"),
                "indptr": encode(np.asarray(csr.indptr, dtype=np.int64), arrays, key + ".indptr")}
    if type(obj).__module__.startswith("sparse") and hasattr(obj, "coords") and hasattr(obj, "data"):
        return {"__pydata_sparse__": "coo", "shape": list(obj.shape),
                "coords": encode(np.asarray(obj.coords, dtype=np.int64), arrays, key + ".coords"),
                "data": encode(np.asarray(obj.data), arrays, key + ".data")}
    if dataclasses.is_dataclass(obj):
        fields = {f.name: encode(getattr(obj, f.name), arrays, f"{key}.{f.name}")
                  for f in dataclasses.fields(obj) if f.init}
        return {"__dataclass__": class_path(type(obj)), "fields": fields}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v, arrays, f"{key}.{i}") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [encode(v, arrays, f"{key}.{i}") for i, v in enumerate(obj)]
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError(f"cannot store a dict with non-string keys at {key}")
        return {"__dict__": {k: encode(v, arrays, f"{key}.{k}") for k, v in obj.items()}}
    raise TypeError(
        f"cannot store {key} of type {type(obj).__name__}: records hold numbers, strings, arrays, "
        "sparse matrices, enums, tuples, lists, dicts and dataclasses")


def decode(tree, arrays: dict[str, np.ndarray]):
    """Inverse of :func:`encode`."""
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    if isinstance(tree, list):
        return [decode(v, arrays) for v in tree]
    if not isinstance(tree, dict):
        raise FileFormatError(f"unexpected record entry {tree!r}")
    try:
        if "__array__" in tree:
            return arrays[tree["__array__"]]
        if "__complex__" in tree:
            re, im = tree["__complex__"]
            return complex(re, im)
        if "__enum__" in tree:
            return _load_class(tree["__enum__"])(tree["value"])
        if "__class__" in tree:
            return _load_class(tree["__class__"])
        if "__tuple__" in tree:
            return tuple(decode(v, arrays) for v in tree["__tuple__"])
        if "__dict__" in tree:
            return {k: decode(v, arrays) for k, v in tree["__dict__"].items()}
        if "__scipy_sparse__" in tree:
            import scipy.sparse as sp
            return sp.csr_matrix((decode(tree["data"], arrays), decode(tree["indices"], arrays),
                                  decode(tree["indptr"], arrays)), shape=tuple(tree["shape"]))
        if "__pydata_sparse__" in tree:
            import sparse
            return sparse.COO(decode(tree["coords"], arrays), decode(tree["data"], arrays),
                              shape=tuple(tree["shape"]))
        if "__dataclass__" in tree:
            cls = _load_class(tree["__dataclass__"])
            fields = {k: decode(v, arrays) for k, v in tree["fields"].items()}
            return cls(**fields)
    except KeyError as exc:
        raise FileFormatError(f"the record refers to missing array {exc}; the file is incomplete") from None
    raise FileFormatError(f"unknown record entry with keys {sorted(tree)}")


def _is_scipy_sparse(obj) -> bool:
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - scipy is a hard dependency
        return False
    return sp.issparse(obj)

"""Turn problems, solvers and solutions into plain records, and back, without pickle.

A record is a JSON-able tree (``meta``) plus a flat ``dict`` of named NumPy arrays. Both
NetCDF files (``tk.save``) and checkpoints use it. Arrays round-trip bit for bit; floats in
the tree are written with ``repr`` precision; torch tensors (trained parameters) are stored
as arrays with their dtype and come back as tensors.

Opening a file never runs code named by the file. A record names classes only as keys of an
explicit registry (``module:QualName`` -> class): every ``Problem``, ``Solver``,
``Solution`` and ``tk.Struct`` subclass registers itself when its class statement runs, a
family's spec components register through ``tk.register_family``, and anything else that
a record may hold (an enum, a plain frozen dataclass) is registered with :func:`register`.
A name outside the registry is refused; nothing is imported or looked up by attribute.
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np

from .errors import FileFormatError

__all__ = ["encode", "decode", "register", "register_alias", "registered", "class_path", "MAX_DEPTH"]

#: ``module:QualName`` -> class: the only classes a record may name.
_REGISTRY: dict[str, type] = {}

#: Deepest nesting a record may have (the project's own records are under 10 levels deep).
MAX_DEPTH = 64


def class_path(cls: type) -> str:
    """``module:QualName`` of a class, the form records store."""
    return f"{cls.__module__}:{cls.__qualname__}"


def register(cls: type) -> type:
    """Allow records to name ``cls`` (a dataclass or an enum); usable as a class decorator.

    ``Problem``, ``Solver``, ``Solution`` and ``tk.Struct`` subclasses need no call: they
    register themselves. Register a plain dataclass or an enum that a problem, solver or
    solution holds, so that files holding it can be read back.
    """
    if not isinstance(cls, type) or not (dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum)):
        raise TypeError(f"records.register needs a dataclass or an enum class, got {cls!r}")
    _REGISTRY[class_path(cls)] = cls
    return cls


def register_alias(path: str, cls: type) -> None:
    """Let records written under the old name ``path`` (``module:QualName``) rebuild ``cls``.

    For a class that moved between modules: files saved before the move name it by its old path.
    ``cls`` must itself be registered.
    """
    if _REGISTRY.get(class_path(cls)) is not cls:
        raise TypeError(f"register {class_path(cls)} before giving it the alias {path!r}")
    _REGISTRY[path] = cls


def registered() -> dict[str, type]:
    """A copy of the registry (``module:QualName`` -> class)."""
    return dict(_REGISTRY)


def _load_class(path) -> type:
    if not isinstance(path, str):
        raise FileFormatError(f"the file names a class by {path!r}, which is not a 'module:Name' string")
    cls = _REGISTRY.get(path)
    if cls is None:
        from .family import load_plugins

        load_plugins()  # the installed families register their types on import (a fixed module)
        cls = _REGISTRY.get(path)
    if cls is None:
        raise FileFormatError(
            f"the file names class {path!r}, which is not a registered scalebridge type; files can "
            "only hold problems, solvers, solutions and the types registered with "
            "toolkit.records.register. If you defined that class, import its module before loading "
            "(Problem, Solver, Solution and Struct subclasses register themselves)")
    return cls


def encode(obj, arrays: dict[str, np.ndarray], key: str):
    """Encode ``obj`` into a JSON-able tree, storing arrays in ``arrays`` under names from ``key``."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, enum.Enum):
        _check_registered(type(obj), key)
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
    if _is_torch_tensor(obj):
        return _encode_tensor(obj, arrays, key)
    if isinstance(obj, type):
        _check_registered(obj, key)
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
        _check_registered(type(obj), key)
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
        "torch tensors, sparse matrices, enums, tuples, lists, dicts and registered dataclasses")


def _check_registered(cls: type, key: str) -> None:
    if _REGISTRY.get(class_path(cls)) is not cls:
        raise TypeError(
            f"cannot store {key}: its class {class_path(cls)} is not registered, so the file could not "
            "be read back; decorate the class with @toolkit.records.register")


def decode(tree, arrays: dict[str, np.ndarray], depth: int = 0):
    """Inverse of :func:`encode`; a record that names an unregistered class raises FileFormatError."""
    if depth > MAX_DEPTH:
        raise FileFormatError(f"the record is nested more than {MAX_DEPTH} levels deep; the file is "
                              "corrupt or crafted")
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    depth += 1
    if isinstance(tree, list):
        return [decode(v, arrays, depth) for v in tree]
    if not isinstance(tree, dict):
        raise FileFormatError(f"unexpected record entry {tree!r}")
    try:
        if "__array__" in tree:
            return arrays[tree["__array__"]]
        if "__torch__" in tree:
            return _decode_tensor(tree, arrays)
        if "__complex__" in tree:
            re, im = tree["__complex__"]
            return complex(float(re), float(im))
        if "__enum__" in tree:
            cls = _load_class(tree["__enum__"])
            if not issubclass(cls, enum.Enum):
                raise FileFormatError(f"the file names {tree['__enum__']!r} as an enum, which it is not")
            return cls(tree["value"])
        if "__class__" in tree:
            return _load_class(tree["__class__"])
        if "__tuple__" in tree:
            return tuple(decode(v, arrays, depth) for v in _list(tree["__tuple__"]))
        if "__dict__" in tree:
            return {str(k): decode(v, arrays, depth) for k, v in _dict(tree["__dict__"]).items()}
        if "__scipy_sparse__" in tree:
            import scipy.sparse as sp
            return sp.csr_matrix((decode(tree["data"], arrays, depth), decode(tree["indices"], arrays, depth),
                                  decode(tree["indptr"], arrays, depth)), shape=_shape(tree["shape"]))
        if "__pydata_sparse__" in tree:
            import sparse
            return sparse.COO(decode(tree["coords"], arrays, depth), decode(tree["data"], arrays, depth),
                              shape=_shape(tree["shape"]))
        if "__dataclass__" in tree:
            return _decode_dataclass(tree, arrays, depth)
    except KeyError as exc:
        raise FileFormatError(f"the record refers to missing entry {exc}; the file is incomplete") from None
    except FileFormatError:
        raise
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        raise FileFormatError(f"a record entry with keys {sorted(map(str, tree))} cannot be rebuilt: "
                              f"{type(exc).__name__}: {exc}") from None
    raise FileFormatError(f"unknown record entry with keys {sorted(map(str, tree))}")


def _decode_dataclass(tree: dict, arrays, depth: int):
    path = tree["__dataclass__"]
    cls = _load_class(path)
    if not dataclasses.is_dataclass(cls):
        raise FileFormatError(f"the file names {path!r} as a dataclass, which it is not")
    fields = _dict(tree["fields"])
    allowed = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise FileFormatError(f"the file gives {path} the unknown fields {unknown}; it takes {sorted(allowed)}")
    values = {k: decode(v, arrays, depth) for k, v in fields.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise FileFormatError(f"the file's {cls.__name__} does not validate: {exc}") from None


def _list(value) -> list:
    if not isinstance(value, list):
        raise FileFormatError(f"expected a list in the record, got {type(value).__name__}")
    return value


def _dict(value) -> dict:
    if not isinstance(value, dict):
        raise FileFormatError(f"expected a table in the record, got {type(value).__name__}")
    return value


def _shape(value) -> tuple[int, ...]:
    shape = tuple(_list(value))
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**62 for n in shape):
        raise FileFormatError(f"the record gives the shape {shape!r}; a shape is a list of sizes >= 0")
    return shape


# ----------------------------------------------------------------------------------------
# torch tensors (trained parameters): stored as NumPy arrays with their dtype, no pickle

def _is_torch_tensor(obj) -> bool:
    return type(obj).__module__.startswith("torch") and type(obj).__name__ in {"Tensor", "Parameter"}


def _encode_tensor(tensor, arrays, key: str) -> dict:
    import torch

    requires_grad = bool(tensor.requires_grad)
    tensor = tensor.detach().cpu().contiguous()
    dtype = str(tensor.dtype).removeprefix("torch.")
    if tensor.dtype == torch.bfloat16:  # NumPy has no bfloat16: keep the bits
        arrays[key] = tensor.view(torch.int16).numpy().copy()
    else:
        arrays[key] = tensor.numpy().copy()
    return {"__torch__": key, "dtype": dtype,
            "requires_grad": requires_grad}


def _decode_tensor(tree: dict, arrays):
    import torch

    dtype = getattr(torch, str(tree["dtype"]), None)
    if not isinstance(dtype, torch.dtype):
        raise FileFormatError(f"the file stores a tensor of unknown dtype {tree['dtype']!r}")
    array = arrays[tree["__torch__"]]
    if dtype == torch.bfloat16:
        tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.int16)).view(torch.bfloat16)
    else:
        tensor = torch.from_numpy(np.array(array))
        if tensor.dtype != dtype:
            raise FileFormatError(f"the file's tensor {tree['__torch__']!r} holds {tensor.dtype}, "
                                  f"not the {dtype} its record says")
    return tensor.clone().requires_grad_(bool(tree.get("requires_grad", False)) and tensor.is_floating_point())


def _is_scipy_sparse(obj) -> bool:
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - scipy is a hard dependency
        return False
    return sp.issparse(obj)

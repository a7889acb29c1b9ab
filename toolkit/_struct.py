"""The frozen-dataclass machinery shared by ``Problem`` and ``Solver``.

Subclasses are turned into frozen, keyword-or-positional dataclasses automatically (no
``@dataclass`` decorator needed, as in equinox). ``_validate`` normalises and checks fields,
setting normalised values with ``self._set``. ``__repr__`` is compact: arrays show as
``float64[512,512]``, never their values.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import records


def summarize(value) -> str:
    """Compact text for a field value: shapes and scalars, never whole arrays."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype.name}[{','.join(map(str, value.shape))}]"
    if hasattr(value, "nnz") and hasattr(value, "shape"):
        return f"{type(value).__name__}[{','.join(map(str, value.shape))}, nnz={value.nnz}]"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (tuple, list)) and len(value) > 8:
        return f"{type(value).__name__}(len={len(value)})"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return repr(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _values_equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
            and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if hasattr(a, "nnz") or hasattr(b, "nnz"):
        try:
            return a.shape == b.shape and abs(a - b).sum() == 0
        except Exception:
            return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_values_equal(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_values_equal, a, b))
    try:
        return bool(a == b)
    except Exception:
        return False


_SCALARS = {"bool": bool, "int": int, "float": float, "str": str}


def _scalar_annotation(annotation) -> tuple[type | None, bool]:
    """(bool/int/float/str or None, whether None is allowed) for a field annotation.

    Handles classes and the strings of postponed annotations: ``float``, ``float | None``,
    ``Optional[int]``. Anything else (arrays, tuples, components) is left to ``_validate``.
    """
    if isinstance(annotation, str):
        text = annotation.replace(" ", "")
        if text.startswith("Optional[") and text.endswith("]"):
            text = text[9:-1] + "|None"
        names = text.split("|")
    else:
        args = getattr(annotation, "__args__", None) if type(annotation).__name__ in {"UnionType", "_UnionGenericAlias"} \
            else None
        names = [getattr(a, "__name__", str(a)) for a in (args or (annotation,))]
        names = ["None" if n == "NoneType" else n for n in names]
    optional = "None" in names
    kinds = [n for n in names if n != "None"]
    if len(kinds) == 1 and kinds[0] in _SCALARS:
        return _SCALARS[kinds[0]], optional
    return None, optional


def _check_scalar(kind: type, name: str, value, error):
    """The value of a field annotated bool/int/float/str, normalised, or an error naming the field."""
    from numbers import Integral, Real

    from .validate import _fail

    if kind is bool:
        if not isinstance(value, (bool, np.bool_)):
            _fail(error, name, value, "give True or False")
        return bool(value)
    if kind is str:
        if not isinstance(value, str):
            _fail(error, name, value, "give a string")
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        _fail(error, name, value, "give an integer" if kind is int else "give a real number")
    if kind is int:
        if not isinstance(value, Integral):
            _fail(error, name, value, "give an integer")
        return int(value)
    if value != value:
        _fail(error, name, value, "give a number, not NaN")
    return float(value)


class FrozenStruct:
    """Base of Problem and Solver: frozen dataclass, validated on construction.

    Fields annotated ``bool``, ``int``, ``float`` or ``str`` (optionally ``| None``) are checked
    and normalised automatically before ``_validate`` runs: a string where a number belongs, a
    NaN, or a float where an integer belongs is refused with an error naming the field.
    """

    #: The error raised for a bad field (Problem: InvalidProblemError; Solver: InvalidSolverError).
    _error = ValueError

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(cls, frozen=True, repr=False, eq=False)
        records.register(cls)
        checks = []
        for field in dataclasses.fields(cls):
            if not field.init:
                continue
            kind, optional = _scalar_annotation(field.type)
            if kind is not None:
                checks.append((field.name, kind, optional or field.default is None))
        cls._scalar_checks = tuple(checks)

    def __post_init__(self):
        for name, kind, optional in self._scalar_checks:
            value = getattr(self, name)
            if value is None and optional:
                continue
            object.__setattr__(self, name, _check_scalar(kind, name, value, self._error))
        self._validate()

    def _validate(self) -> None:
        """Check and normalise fields. Subclasses override and call ``self._set``."""

    def _set(self, name: str, value) -> None:
        """Store a normalised value in a frozen field (for use inside ``_validate``)."""
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        parts = [f"{f.name}={summarize(getattr(self, f.name))}"
                 for f in dataclasses.fields(self) if f.repr and f.init]
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return all(_values_equal(getattr(self, f.name), getattr(other, f.name))
                   for f in dataclasses.fields(self))

    def __hash__(self) -> int:
        # Consistent with the structural __eq__: equal structs share a type, hence a hash.
        return hash(type(self))

    def parameters(self) -> dict:
        """The constructor fields as a dict (arrays included, by reference)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}

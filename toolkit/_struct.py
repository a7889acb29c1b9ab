"""The frozen-dataclass machinery shared by ``Problem`` and ``Solver``.

Subclasses are turned into frozen, keyword-or-positional dataclasses automatically (no
``@dataclass`` decorator needed, as in equinox). ``_validate`` normalises and checks fields,
setting normalised values with ``self._set``. ``__repr__`` is compact: arrays show as
``float64[512,512]``, never their values.
"""

from __future__ import annotations

import dataclasses

import numpy as np


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
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_values_equal, a, b))
    try:
        return bool(a == b)
    except Exception:
        return False


class FrozenStruct:
    """Base of Problem and Solver: frozen dataclass, validated on construction."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(cls, frozen=True, repr=False, eq=False)

    def __post_init__(self):
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

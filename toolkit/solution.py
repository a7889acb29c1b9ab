"""``Solution``: what a solve returns, one dataclass per family with named fields.

Every solution carries the ``problem`` and ``solver`` that made it, a ``retcode``, a
``message`` and ``stats`` (wall time, steps, compile time...). Subclasses add named fields
(never a bare dict) and, where a picture says more than numbers, a ``plot()`` method.
They are declared like problems, by annotations alone (a keyword-only dataclass).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from . import records
from ._struct import summarize
from .retcode import ReturnCode

__all__ = ["Solution"]

_BASE_FIELDS = ("problem", "solver", "retcode", "message", "stats")


@dataclasses.dataclass(kw_only=True, repr=False, eq=False)
class Solution:
    """Base of every solution type.

    Class attributes subclasses may set:

    * ``dims``: field name -> dimension names, used by :meth:`to_xarray` (a property where the
      names depend on the instance, e.g. 2-D or 3-D fields);
    * ``compare_fields``: the fields :meth:`distance` compares (default: every array field).
    """

    dims: ClassVar[dict[str, tuple[str, ...]]] = {}
    compare_fields: ClassVar[tuple[str, ...] | None] = None

    problem: object
    solver: object
    retcode: ReturnCode = ReturnCode.Success
    message: str = ""
    stats: dict = dataclasses.field(default_factory=dict)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(cls, kw_only=True, repr=False, eq=False)
        records.register(cls)

    @property
    def successful(self) -> bool:
        """``True`` when the run ended with ``Success`` or a deliberate ``Terminated``."""
        return self.retcode.successful

    def data_fields(self) -> dict:
        """The family's own fields (everything but problem, solver, retcode, message, stats)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name not in _BASE_FIELDS}

    def __repr__(self) -> str:
        parts = [f"retcode={self.retcode}"]
        parts += [f"{k}={summarize(v)}" for k, v in self.data_fields().items()]
        wall = self.stats.get("wall_time") if isinstance(self.stats, dict) else None
        if wall is not None:
            parts.append(f"wall_time={wall:.3g}s")
        return f"{type(self).__name__}({', '.join(parts)})"

    def to_xarray(self):
        """The solution as an ``xarray.Dataset``: array fields become variables, scalars attributes."""
        import xarray as xr

        variables, attrs = {}, {"retcode": str(self.retcode), "message": self.message,
                                "problem": repr(self.problem), "solver": repr(self.solver)}
        for name, value in self.data_fields().items():
            if isinstance(value, np.ndarray):
                dims = self.dims.get(name) or tuple(f"{name}_dim{i}" for i in range(value.ndim))
                variables[name] = (dims, value)
            elif isinstance(value, (int, float, str, bool, np.number)):
                attrs[name] = value
        for key, value in (self.stats or {}).items():
            if isinstance(value, (int, float, str, np.number)):
                attrs[f"stats_{key}"] = value
        return xr.Dataset(variables, attrs=attrs)

    def distance(self, other: "Solution") -> float:
        """Largest relative L2 difference over the compared array fields (used by ``tk.compare``).

        ``|a - b| / max(|b|, tiny)`` per field; ``other`` plays the reference. Families
        override this where another measure is the meaningful one.
        """
        names = self.compare_fields or [k for k, v in self.data_fields().items()
                                        if isinstance(v, np.ndarray) and v.dtype.kind in "fc"]
        worst = 0.0
        for name in names:
            a, b = getattr(self, name, None), getattr(other, name, None)
            if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray) or a.shape != b.shape:
                continue
            scale = max(float(np.linalg.norm(b)), np.finfo(float).tiny)
            worst = max(worst, float(np.linalg.norm(a - b)) / scale)
        return worst

    def plot(self, ax=None):
        """Draw the solution with matplotlib (families that have a picture override this)."""
        raise NotImplementedError(f"{type(self).__name__} has no picture; use to_xarray() to inspect it")

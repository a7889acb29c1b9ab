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
    * ``coords``: dimension -> the (1-D) field whose values label it; that field becomes the
      dimension's coordinate (``{"energy": "energies"}``) and stays reachable under its own name;
    * ``cf``: field, dimension or coordinate name -> its CF attributes, built with
      :func:`toolkit.conventions.attrs`, ``reduced`` or ``index`` (a property where the units
      depend on the instance). A dimension with a ``cf`` entry and no coordinate field is
      labelled ``0, 1, ...``; else ``xyz``/``xyz2``/``component`` are labelled ``x, y, z``;
    * ``compare_fields``: the fields :meth:`distance` and ``tk.compare`` compare, each by its relative L2
      error against the reference (default: every real or complex array field; scalar fields allowed).

    :mod:`toolkit.conventions` states the convention and checks a dataset against it.
    """

    dims: ClassVar[dict[str, tuple[str, ...]]] = {}
    coords: ClassVar[dict[str, str]] = {}
    cf: ClassVar[dict[str, dict]] = {}
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
        """The solution as an ``xarray.Dataset``: array fields become variables, scalars attributes.

        Dimensions get coordinates and variables CF ``units``/``long_name`` attributes from the
        class's ``dims``, ``coords`` and ``cf`` (see :mod:`toolkit.conventions`), so
        ``ds[name].plot()`` labels its axes.
        """
        import xarray as xr

        attrs = {"retcode": str(self.retcode), "message": self.message,
                 "problem": repr(self.problem), "solver": repr(self.solver)}
        arrays = {}
        for name, value in self.data_fields().items():
            if isinstance(value, np.ndarray):
                arrays[name] = value
            elif isinstance(value, (int, float, str, bool, np.number)):
                attrs[name] = value
        for key, value in (self.stats or {}).items():
            if isinstance(value, (int, float, str, np.number)):
                attrs[f"stats_{key}"] = value
        dims_of, coord_fields = self.dims, self.coords
        as_coord = {field: dim for dim, field in coord_fields.items()
                    if isinstance(arrays.get(field), np.ndarray) and arrays[field].ndim == 1}
        variables, coordinates = {}, {}
        for name, value in arrays.items():
            dims = dims_of.get(name) or tuple(f"{name}_dim{i}" for i in range(value.ndim))
            if name in as_coord and tuple(dims) == (as_coord[name],):
                dim = as_coord[name]
                coordinates[dim] = (dim, value, self._cf_attrs(name, dim))
                if name != dim:  # the field keeps its own name too (a coordinate along ``dim``)
                    coordinates[name] = (dim, value, self._cf_attrs(name, dim))
            else:
                variables[name] = (dims, value, self._cf_attrs(name))
        coordinates.update(self._coordinates())
        dataset = xr.Dataset(variables, coords=coordinates, attrs=attrs)
        self._label_dimensions(dataset)
        return dataset

    def _cf_attrs(self, *names: str) -> dict:
        """The ``cf`` entry of the first of ``names`` that has one (a copy; empty if none)."""
        table = self.cf
        for name in names:
            if name in table:
                return dict(table[name])
        return {}

    def _coordinates(self) -> dict:
        """Coordinates that depend on the instance (element symbols...): name -> ``(dims, values,
        attrs)``. Subclasses override; the default has none."""
        return {}

    def _label_dimensions(self, dataset) -> None:
        """Give each dimension still without a coordinate ``x, y, z`` (Cartesian) or ``0, 1, ...``
        (one with a ``cf`` entry), and the ``cf`` attributes to coordinates that lack them."""
        from .conventions import CARTESIAN_DIMS, cartesian, index

        table = self.cf
        for dim, size in dataset.sizes.items():
            if dim in dataset.coords:
                continue
            if dim in table:
                dataset.coords[dim] = (dim, np.arange(size), self._cf_attrs(dim))
            elif dim in CARTESIAN_DIMS and size <= 3:
                dataset.coords[dim] = (dim, cartesian(size), index("Cartesian component"))
        for name, coord in dataset.coords.items():
            if not coord.attrs and name in table:
                coord.attrs.update(self._cf_attrs(name))

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

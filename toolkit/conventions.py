"""The metadata convention of every solution's ``to_xarray()`` dataset (CF-style, one place).

Every dimension of a solution's dataset has a coordinate, and every data variable and coordinate
carries two CF attributes (CF conventions 1.10, section 3.1 and 3.2):

* ``units``: a UDUNITS string in the family's physical units ("eV", "Angstrom", "fs", "s",
  "m s-1", "Pa"), or ``"1"`` for a dimensionless number (CF's spelling), which includes
  indices, labels (Cartesian components, element symbols) and **reduced** quantities;
* ``long_name``: what the quantity is, in words. A reduced quantity is written as the quantity
  over its scale, ``"energy / t"``, ``"time / (hbar/t)"``, ``"x / Δx"``, and carries a third
  attribute ``reduced_unit`` saying what the scale is (``"t: the Hamiltonian's energy unit"``).
  Reduced quantities are never labelled "eV" or "fs".

xarray's own plotting labels an axis ``long_name [units]``: ``ds.dos.plot()`` draws the DOS
against ``energy / t [1]``, ``ds.potential_energy.plot()`` against ``time [fs]``.

Where a family knows the species, the ``atom`` coordinate holds element symbols (``ds.sel(atom="O")``
picks the oxygens) and ``atom_index`` the positions in the molecule. Cartesian dimensions
(``xyz``, ``xyz2``, ``component``) are labelled ``"x", "y", "z"``.

A solution class declares its part of the convention with three class attributes (see
:class:`toolkit.Solution`): ``dims`` (field -> dimension names), ``coords`` (dimension -> the
field whose values label it) and ``cf`` (field, dimension or coordinate name -> ``attrs(...)``,
``reduced(...)`` or ``index(...)``). A dimension the class says nothing about gets no coordinate,
and :func:`check` (run over the whole dispatch table by the test suite) reports it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DIMENSIONLESS", "CARTESIAN", "CARTESIAN_DIMS", "attrs", "reduced", "index", "check", "cartesian"]

#: CF's ``units`` for a dimensionless number (an index, a label, a ratio, a reduced quantity).
DIMENSIONLESS = "1"
#: Labels of Cartesian components.
CARTESIAN = ("x", "y", "z")
#: Dimension names labelled by :data:`CARTESIAN` when a solution gives them no coordinate of its own.
CARTESIAN_DIMS = ("xyz", "xyz2", "component")


def _text(name: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} = {value!r} is not allowed: give a non-empty string (CF attribute {name!r})")
    return value


def attrs(units: str, long_name: str, **extra) -> dict:
    """CF attributes of a quantity in physical units: ``attrs("eV", "potential energy")``.

    ``units`` is a UDUNITS string (``"1"`` for a pure number); ``extra`` adds attributes
    (``standard_name``, ``comment``...).
    """
    return {"units": _text("units", units), "long_name": _text("long_name", long_name), **extra}


def reduced(long_name: str, scale: str, meaning: str | None = None, **extra) -> dict:
    """CF attributes of a reduced quantity: units ``"1"``, long_name ``"<long_name> / <scale>"``.

    ``reduced("energy", "t", "the Hamiltonian's energy unit")`` labels an axis
    ``energy / t [1]``; ``reduced_unit`` records ``"t: the Hamiltonian's energy unit"``.
    """
    scale = _text("scale", scale)
    note = scale if meaning is None else f"{scale}: {_text('meaning', meaning)}"
    return {"units": DIMENSIONLESS, "long_name": f"{_text('long_name', long_name)} / {scale}",
            "reduced_unit": note, **extra}


def index(long_name: str, **extra) -> dict:
    """CF attributes of an index or a label (units ``"1"``): ``index("site index")``."""
    return {"units": DIMENSIONLESS, "long_name": _text("long_name", long_name), **extra}


def cartesian(size: int) -> np.ndarray:
    """``["x", "y", "z"][:size]`` as a coordinate (or ``0, 1, ...`` past three components)."""
    if size <= len(CARTESIAN):
        return np.array(CARTESIAN[:size])
    return np.arange(size)


def _monotonic(values: np.ndarray) -> bool:
    if values.size < 2:
        return True
    step = np.diff(values.astype(np.float64))
    return bool(np.all(step > 0) or np.all(step < 0))


def check(dataset) -> list[str]:
    """What ``dataset`` lacks under this convention, one sentence per problem (empty: it conforms).

    Every dimension has a coordinate; every data variable and coordinate has non-empty string
    ``units`` and ``long_name``; a numeric dimension coordinate is strictly monotonic unless its
    attributes say ``monotonic = "no"``.
    """
    problems = []
    for dim in dataset.dims:
        if dim not in dataset.coords:
            problems.append(f"dimension {dim!r} has no coordinate: name a field for it in coords, or "
                            f"give it cf[{dim!r}] = index(...) (an index) in the solution class")
    for name, var in list(dataset.data_vars.items()) + list(dataset.coords.items()):
        kind = "coordinate" if name in dataset.coords else "variable"
        for key in ("units", "long_name"):
            value = var.attrs.get(key)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{kind} {name!r} has no {key!r} attribute: declare cf[{name!r}] with "
                                "attrs(...), reduced(...) or index(...)")
        if (name in dataset.dims and var.ndim == 1 and var.dtype.kind in "iuf"
                and var.attrs.get("monotonic") != "no" and not _monotonic(np.asarray(var.values))):
            problems.append(f"coordinate {name!r} is not strictly monotonic: {np.asarray(var.values)[:8]}...")
    return problems

"""Every solution's dataset follows :mod:`toolkit.conventions` (issue 22, item 2), over the whole table.

For every registered (problem, solver) pair with an example (the table of
``tests/test_compatibility.py``, read from the registered methods, so a new family or a new
solution class is covered as soon as it registers): ``to_xarray()`` gives every dimension a
coordinate and every variable and coordinate CF ``units`` and ``long_name``; numeric dimension
coordinates are strictly monotonic; and the file ``tk.save`` writes opens in plain netCDF readers
(xarray, h5netcdf) with the same variables, dimensions, coordinates and attributes.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np
import pytest
import xarray as xr

import toolkit as tk
from tests.test_compatibility import PAIRS, _all_subclasses, _name
from toolkit.conventions import attrs, check, index, reduced


@functools.lru_cache(maxsize=None)
def _solved(pair):
    """One solve per pair, shared by the tests of this file (the table's smallest examples)."""
    ptype, stype = pair
    solution = tk.solve(ptype.example(1), stype.example(), progress=False)
    assert solution.successful, f"{_name(pair)}: {solution.retcode} {solution.message}"
    return solution


@pytest.mark.parametrize("pair", PAIRS, ids=_name)
def test_every_dataset_labels_its_dimensions_and_units(pair):
    dataset = _solved(pair).to_xarray()
    problems = check(dataset)
    assert not problems, f"{_name(pair)} ({type(_solved(pair)).__name__}):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("pair", PAIRS, ids=_name)
def test_saved_files_open_in_plain_netcdf_readers_with_the_same_metadata(pair, tmp_path):
    import h5netcdf

    solution = _solved(pair)
    view = solution.to_xarray()
    path = tk.save(solution, tmp_path / "solution.nc")
    with xr.open_dataset(path) as ds, h5netcdf.File(path, "r") as raw:
        assert ds.attrs["Conventions"].startswith("CF-") and ds.attrs["retcode"] == view.attrs["retcode"]
        for name, var in view.variables.items():
            assert name in ds.variables, f"{_name(pair)}: the file lacks {name!r}"
            assert (name in ds.coords) == (name in view.coords), f"{_name(pair)}: {name!r} changed role"
            got = ds.variables[name]
            for key in ("units", "long_name"):
                assert got.attrs.get(key) == var.attrs[key], f"{_name(pair)}: {name}.{key}"
                assert raw.variables[name].attrs[key] == var.attrs[key], f"{_name(pair)}: raw {name}.{key}"
            if var.dtype.kind == "c":
                assert got.dims == var.dims + ("real_imaginary",)
                np.testing.assert_array_equal(got.values[..., 0] + 1j * got.values[..., 1], var.values)
            else:
                assert got.dims == var.dims, f"{_name(pair)}: {name} dims"
                np.testing.assert_array_equal(np.asarray(got.values).astype(var.dtype), var.values,
                                              err_msg=f"{_name(pair)}: {name}")
    back = tk.load(path)
    assert type(back) is type(solution) and not check(back.to_xarray())


def test_the_table_reaches_every_solution_class_of_the_families():
    """A solution class no pair of the table produces would escape the tests above."""
    produced = {type(_solved(pair)) for pair in PAIRS}
    families = [cls for cls in _all_subclasses(tk.Solution)
                if cls.__module__.split(".")[0] == "solvers" and not inspect.isabstract(cls)]
    missing = sorted(f"{c.__module__}.{c.__qualname__}" for c in families if c not in produced)
    assert not missing, (f"no (problem, solver) pair with an example returns {missing}: give its problem an "
                         "example() so the table covers it")


def test_a_solution_class_that_forgets_the_convention_is_reported():
    class Forgetful(tk.Solution):
        values: np.ndarray

        dims = {"values": ("sample",)}

    problems = check(Forgetful(problem=None, solver=None, values=np.arange(3.0)).to_xarray())
    assert any("dimension 'sample' has no coordinate" in p for p in problems)
    assert any("'values' has no 'units'" in p for p in problems)
    assert any("'values' has no 'long_name'" in p for p in problems)


def test_xarray_plots_label_their_axes_with_units():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_class = {type(_solved(pair)).__name__: _solved(pair) for pair in PAIRS}
    try:
        ax = by_class["TightBindingSolution"].to_xarray().dos.plot()[0].axes
        assert ax.get_xlabel() == "energy / t [1]" and ax.get_ylabel() == "DOS per orbital / (1/t) [1]"
        plt.close("all")
        md = by_class["MDSolution"].to_xarray()
        ax = md.potential_energy.plot()[0].axes
        assert (ax.get_xlabel(), ax.get_ylabel().replace("\n", " ")) == ("time [fs]", "potential energy [eV]")
        plt.close("all")
        species = by_class["MDSolution"].problem.molecule.species
        assert list(md.atom.values) == list(species)  # element symbols label the atoms
        fluid = by_class["FluidSolution"].to_xarray()
        ax = fluid.density.isel(time=-1).plot().axes  # xarray puts the last dimension (y) across
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("y / Δx [1]", "x / Δx [1]")
    finally:
        plt.close("all")


def test_reduced_units_are_labelled_as_reduced():
    label = reduced("energy", "ε", "the LJ well depth")
    assert label == {"units": "1", "long_name": "energy / ε", "reduced_unit": "ε: the LJ well depth"}
    assert attrs("eV", "energy") == {"units": "eV", "long_name": "energy"}
    assert index("site index")["units"] == "1"
    with pytest.raises(ValueError, match="units"):
        attrs("", "energy")
    with pytest.raises(ValueError, match="long_name"):
        attrs("eV", " ")
    reduced_families = ("tight_binding", "spin_dynamics", "density_field", "lattice_boltzmann")
    seen = set()
    for pair in PAIRS:  # the families in reduced units never borrow a physical unit ("eV", "fs"...)
        solution = _solved(pair)
        family = type(solution).__module__.split(".")[1] if type(solution).__module__.startswith("solvers.") else ""
        if family not in reduced_families:
            continue
        seen.add(family)
        for name, var in solution.to_xarray().variables.items():
            assert var.attrs["units"] == "1", f"{_name(pair)}: {name} is reduced but labelled {var.attrs['units']!r}"
    assert seen == set(reduced_families)

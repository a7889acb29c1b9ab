"""Solutions round-trip through NetCDF/HDF5; foreign and corrupt files get clear errors."""

import numpy as np
import pytest
import xarray as xr

import toolkit as tk
from tests.toolkit import toy


def test_solution_roundtrip_is_exact(tmp_path):
    sol = tk.solve(toy.Decay(x0=[1.0, -2.0], steps=30, noise=0.1), toy.Euler(seed=2))
    path = tk.save(sol, tmp_path / "sol.nc")
    back = tk.load(path)
    assert type(back) is toy.DecaySolution
    np.testing.assert_array_equal(back.x, sol.x)
    np.testing.assert_array_equal(back.times, sol.times)
    assert back.problem == sol.problem and back.solver == sol.solver
    assert back.retcode is sol.retcode and back.stats == sol.stats
    # other NetCDF readers see plain variables and a readable summary
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds.attrs["format"] == "scalebridge" and ds.attrs["retcode"] == "Success"
        assert "Decay(" in ds.attrs["problem"]


def test_complex_and_boolean_arrays_roundtrip(tmp_path):
    from toolkit import io

    obj = {"z": np.array([1 + 2j, 3 - 1j]), "mask": np.array([[True, False]]), "n": np.arange(3)}
    io.write_record(tmp_path / "r.nc", "test", obj)
    back, attrs = io.read_record(tmp_path / "r.nc", "test")
    for key in obj:
        np.testing.assert_array_equal(back[key], obj[key])
        assert back[key].dtype == obj[key].dtype


def test_foreign_corrupt_and_missing_files(tmp_path):
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(foreign, engine="h5netcdf")
    with pytest.raises(tk.FileFormatError, match="not a scalebridge file"):
        tk.load(foreign)
    good = tk.save(tk.solve(toy.Total(values=[1.0]), toy.NumpySum()), tmp_path / "good.nc")
    truncated = tmp_path / "truncated.nc"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(tk.FileFormatError, match="corrupt, truncated"):
        tk.load(truncated)
    garbage = tmp_path / "garbage.nc"
    garbage.write_bytes(b"\x00not netcdf at all" * 50)
    with pytest.raises(tk.FileFormatError):
        tk.load(garbage)
    with pytest.raises(FileNotFoundError):
        tk.load(tmp_path / "nope.nc")
    integ = tk.init(toy.Decay(x0=[1.0]), toy.Euler())
    integ.checkpoint(tmp_path / "ck.nc")
    with pytest.raises(tk.FileFormatError, match="checkpoint"):
        tk.load(tmp_path / "ck.nc")


def test_untrusted_class_is_not_imported(tmp_path):
    from tests.toolkit.crafted import craft

    path = tk.save(tk.solve(toy.Total(values=[1.0]), toy.NumpySum()), tmp_path / "sol.nc")
    evil = craft(path, tmp_path / "evil.nc", {"__dataclass__": "os:system", "fields": {}})
    with pytest.raises(tk.FileFormatError, match="not a registered scalebridge type"):
        tk.load(evil)

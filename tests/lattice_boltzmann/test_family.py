"""Integration with the core: resume, xarray, plot, save/load, tour, specs, compatibility."""

from pathlib import Path

import numpy as np
import pytest

import toolkit as tk
from problems.lattice_fluid import LatticeFluid, cylinder_channel
from solvers.lattice_boltzmann import BGK, MRT, TRT, FluidSolution

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("solver", [BGK(), TRT(precision="float32"), MRT()])
def test_resume_is_bit_identical(tmp_path, solver):
    p = cylinder_channel((30, 12), radius=2, center=(8, 6), reynolds=10, inflow=0.03, steps=40, save_every=10)
    full = tk.solve(p, solver, progress=False)
    integ = tk.init(p, solver, progress=False)
    integ.step(17)
    integ.checkpoint(tmp_path / "run.ckpt")
    resumed = tk.resume(tmp_path / "run.ckpt", progress=False)
    resumed.run()
    again = resumed.solution()
    for name in ("step", "density", "velocity", "force"):
        assert np.array_equal(getattr(again, name), getattr(full, name)), name


def test_solution_fields_xarray_plot_and_io(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = LatticeFluid.example(1)
    s = tk.solve(p, TRT(), progress=False)
    assert isinstance(s, FluidSolution) and s.successful
    ds = s.to_xarray()
    assert ds["velocity"].dims == ("time", "x", "y", "component")
    assert ds["vorticity"].dims == ("time", "x", "y")
    s.plot()
    plt.close("all")
    tk.save(s, tmp_path / "s.nc")
    back = tk.load(tmp_path / "s.nc")
    assert np.array_equal(back.velocity, s.velocity) and back.problem == p

    p3 = LatticeFluid(shape=(4, 5, 6), lattice="D3Q19", tau=0.8, steps=3)
    s3 = tk.solve(p3, BGK(), progress=False)
    assert s3.to_xarray()["vorticity"].dims == ("time", "x", "y", "z", "component")
    s3.plot()
    plt.close("all")


def test_every_pair_solves_its_examples():
    for solver in (BGK, TRT, MRT):
        assert solver in tk.solvers_for(LatticeFluid)
        for seed in range(3):
            assert tk.solve(LatticeFluid.example(seed), solver.example(), progress=False).successful
    assert isinstance(tk.solve(LatticeFluid.example(0), progress=False), FluidSolution)


def test_bad_solver_fields_name_the_field():
    with pytest.raises(tk.InvalidSolverError, match="magic"):
        TRT(magic=0)
    with pytest.raises(tk.InvalidSolverError, match="precision"):
        BGK(precision="float16")
    with pytest.raises(tk.InvalidSolverError, match="s_e"):
        MRT(s_e=2.5)
    with pytest.raises(tk.InvalidSolverError, match="D3Q27"):
        tk.init(LatticeFluid(shape=(3, 3, 3), lattice="D3Q27", tau=0.8), MRT())


def test_tour_cases_run():
    fam = next(f for f in tk.load_plugins() if f.name == "fluid")
    for case in fam.tour():
        assert tk.solve(case.problem, case.solver, **case.options).successful, case.label


@pytest.mark.parametrize("spec", sorted((ROOT / "tutorials" / "specs").glob("fluid-*.toml")))
def test_specs_parse_and_run_small(spec):
    from toolkit.spec import load_spec

    s = load_spec(spec)
    small = tk.remake(s.problem, steps=min(s.problem.steps, 20), save_every=None)
    assert tk.solve(small, s.solver, **{**s.options, "progress": False}).successful


@pytest.mark.parametrize("lattice,shape,solver", [("D2Q9", (6, 8), BGK()), ("D3Q19", (4, 3, 5), BGK()),
                                                  ("D3Q19", (4, 3, 5), TRT())])
def test_resume_at_an_odd_step_of_the_aa_pattern_is_bit_identical(tmp_path, lattice, shape, solver):
    """Periodic BGK and TRT stream in place (AA pattern); a checkpoint after an odd step count
    stores the converted (post-collision) populations, and the resumed run is bit-identical."""
    u = 0.02 * np.random.default_rng(2).uniform(-1, 1, shape + (len(shape),))
    p = LatticeFluid(shape=shape, lattice=lattice, tau=0.7, velocity=u, force=[1e-5] * len(shape), steps=12,
                     save_every=3)
    full = tk.init(p, solver, progress=False)
    assert full.stepper.in_place
    full.run()
    integ = tk.init(p, solver, progress=False)
    integ.step(7)
    integ.checkpoint(tmp_path / "run.ckpt")
    resumed = tk.resume(tmp_path / "run.ckpt", progress=False)
    resumed.run()
    assert np.array_equal(resumed.populations, full.populations)
    again, ref = resumed.solution(), full.solution()
    for name in ("step", "density", "velocity"):
        assert np.array_equal(getattr(again, name), getattr(ref, name)), name

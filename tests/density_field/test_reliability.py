"""Reliability: checkpoints that do not fit their problem are refused; no NaN in any result.

Issue 17, items 3, 5 (Unstable with the last good state; accuracy warnings) and 6 (absurd sizes and
counts refused before allocating) for the density-field family; item 7 is test_extreme_values.py.
"""

import time

import numpy as np
import pytest

import toolkit as tk
from toolkit.io import read_record, write_record
from problems.density_field import (DensityField, FieldDynamics, Functional, KacStep, Landau, LatticeGas,
                                    NucleationBarrier, Relaxation, bcc_droplet_seed, kac_lattice_gas_field,
                                    onion_barrier)
from solvers.density_field import (DimerMethod, ExplicitFD, GridNewtonKrylov, RadialNewtonKrylov, SemiImplicit,
                                   SizeScan, StringMethod)


# -------------------------------------------------------------------------------------------
# 17.3: a checkpoint is checked against its problem before any kernel touches it

def _lattice_gas_run():
    field = kac_lattice_gas_field(n=16, ndim=2, length=16.0, R=3.0, T=0.05, seed=1)
    return FieldDynamics(field=field, dynamics="B", temperature=0.01, dt=0.1, steps=20, save_every=5)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("field") / "c.nc"
    integ = tk.init(_lattice_gas_run(), SemiImplicit(seed=4), progress=False)
    integ.run(until=12)
    integ.checkpoint(path)
    return path


def _crafted(checkpoint, tmp_path, change):
    """A well-formed checkpoint (checksums rewritten) whose state ``change(state)`` has edited."""
    record, attrs = read_record(checkpoint, "checkpoint")
    change(record["state"])
    path = tmp_path / "crafted.nc"
    write_record(path, "checkpoint", record, {"step": attrs.get("step", 0)})
    return path


def _set(key, value):
    def change(state):
        state[key] = value(state[key]) if callable(value) else value
    return change


def _outside(phi):
    phi = phi.copy()
    phi[3, 4] = 1.2                                     # the lattice gas needs 0 < phi < 1
    return phi


def _nan(a):
    a = a.copy()
    a.flat[5] = np.nan
    return a


CRAFTED = {
    "phi of another grid": (_set("phi", lambda p: np.full((8, 8), 0.5)), r"'phi' has shape \(8, 8\).*needs shape \(16, 16\)"),
    "phi flattened": (_set("phi", lambda p: p.ravel()), r"'phi' has shape \(256,\)"),
    "phi in float32": (_set("phi", lambda p: p.astype(np.float32)), r"'phi'.*dtype float32.*needs.*dtype float64"),
    "phi as integers": (_set("phi", lambda p: np.zeros((16, 16), dtype=np.int64)), r"'phi'.*int64"),
    "phi with a NaN": (_set("phi", _nan), r"'phi'.*1 non-finite value"),
    "phi outside the domain": (_set("phi", _outside), r"'phi' holds densities .* to 1\.2.*LatticeGas.*\(0, 1\)"),
    "phi a list": (_set("phi", lambda p: p.tolist()), r"'phi' has a list"),
    "frames of another grid": (_set("frames", lambda f: f[:, :8, :8].copy()), r"'frames' has shape \(3, 8, 8\)"),
    "frames with NaN": (_set("frames", _nan), r"'frames'.*1 non-finite value"),
    "frames outside the domain": (_set("frames", lambda f: f - 0.6), r"'frames' holds densities from -"),
    "one frame too few": (_set("frames", lambda f: f[:2].copy()), r"'frames' has shape \(2, 16, 16\).*\(3, 16, 16\)"),
    "energies too short": (_set("energies", lambda e: e[:1].copy()), r"'energies' has shape \(1,\).*\(3,\)"),
    "energies with NaN": (_set("energies", lambda e: np.array([e[0], np.nan, e[2]])), r"'energies'.*non-finite"),
    "frame steps decreasing": (_set("frame_steps", lambda s: s[::-1].copy()), r"frame_steps = \[10  5  0\]"),
    "frame steps not save steps": (_set("frame_steps", lambda s: np.array([0, 5, 7])), r"multiples of save_every = 5"),
    "frame steps past the end": (_set("frame_steps", lambda s: np.array([0, 5, 25])), r"at most the problem's 20 steps"),
    "frame steps as floats": (_set("frame_steps", lambda s: s.astype(np.float64)), r"'frame_steps'.*integer dtype"),
    "no frame steps": (_set("frame_steps", lambda s: np.zeros(0, dtype=np.int64)), r"'frame_steps' has shape \(0,\)"),
    "rng of another generator": (_set("rng", lambda r: {**r, "bit_generator": "MT19937"}), r"'rng'.*MT19937.*PCG64"),
    "rng with a broken state": (_set("rng", lambda r: {**r, "state": {"state": "x"}}), r"'rng' is not a valid PCG64"),
    "phi missing": (lambda state: state.pop("phi"), r"lacks \['phi'\]"),
}


@pytest.mark.parametrize("case", list(CRAFTED), ids=lambda c: c.replace(" ", "-"))
def test_a_checkpoint_that_does_not_fit_its_problem_is_refused(checkpoint, tmp_path, case):
    change, message = CRAFTED[case]
    path = _crafted(checkpoint, tmp_path, change)
    with pytest.raises(tk.FileFormatError, match=message):
        tk.resume(path, progress=False)


def test_an_untouched_rewritten_checkpoint_still_resumes_bit_identically(checkpoint, tmp_path):
    path = _crafted(checkpoint, tmp_path, lambda state: None)
    resumed = tk.resume(path, progress=False)
    resumed.run()
    full = tk.solve(_lattice_gas_run(), SemiImplicit(seed=4), progress=False)
    assert np.array_equal(resumed.solution().phi, full.phi)
    assert np.array_equal(resumed.solution().free_energy, full.free_energy)


def test_a_checkpoint_of_another_field_problem_is_refused(checkpoint, tmp_path):
    # the whole state of a 16 x 16 run spliced into a checkpoint of a 12 x 12 problem
    small = FieldDynamics(field=kac_lattice_gas_field(n=12, ndim=2, length=12.0, R=3.0, T=0.05, seed=1),
                          dynamics="B", temperature=0.01, dt=0.1, steps=20, save_every=5)
    other = tmp_path / "other.nc"
    tk.init(small, ExplicitFD(seed=1), progress=False).checkpoint(other)
    record, _ = read_record(other, "checkpoint")
    record["state"] = read_record(checkpoint, "checkpoint")[0]["state"]
    write_record(other, "checkpoint", record)
    with pytest.raises(tk.FileFormatError, match=r"'phi' has shape \(16, 16\).*needs shape \(12, 12\)"):
        tk.resume(other, progress=False)


# -------------------------------------------------------------------------------------------
# 17.5: a run that leaves the functional's domain stops Unstable with the last good state

@pytest.mark.parametrize("solver", [SemiImplicit(stabilization=0.0), ExplicitFD()], ids=["spectral", "fd"])
def test_a_diverging_landau_run_stops_unstable_with_finite_fields(solver):
    # model A with a huge dt on the Landau polynomial: phi -> phi^3 growth overflows in a few steps
    field = DensityField.noisy((32,), 32.0, Functional(KacStep(R=4.0), Landau(eps=-0.3)), mean=0.0,
                               amplitude=0.3, seed=2)
    sol = tk.solve(FieldDynamics(field=field, dt=5.0, steps=200, save_every=3), solver, progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable and "diverged at step" in sol.message
    step = sol.stats["unstable_step"]
    assert 1 < step < 200
    assert np.all(np.isfinite(sol.phi)) and np.all(np.isfinite(sol.free_energy))
    # the last frame is the last good state, the one before the failing step
    assert sol.times[-1] == pytest.approx((step - 1) * 5.0)
    assert len(sol.times) == len(sol.phi) == len(sol.free_energy)


def test_an_unstable_lattice_gas_run_ends_on_its_last_good_state():
    field = DensityField.noisy((32,), 32.0, Functional(KacStep(R=4.0), LatticeGas(T=0.02)), mean=0.5,
                               amplitude=0.1, seed=1)
    sol = tk.solve(FieldDynamics(field=field, dt=50.0, steps=50, save_every=10), SemiImplicit(stabilization=0.0),
                   progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable
    assert np.all((sol.final > 0) & (sol.final < 1)) and np.all(np.isfinite(sol.free_energy))
    assert sol.times[-1] == (sol.stats["unstable_step"] - 1) * 50.0


def _no_nan(sol):
    for name in ("phi", "eigenvalues", "mode", "path_energy", "radius", "profile"):
        assert np.all(np.isfinite(getattr(sol, name))), name
    assert np.isfinite(sol.barrier) and np.isfinite(sol.residual)


def _lattice_gas_barrier(ndim=2):
    # a dense droplet in a dilute lattice gas: any big pseudo-time step leaves 0 < phi < 1
    n, L = 16, 16.0
    x = (np.arange(n) - n // 2) * L / n
    r = np.sqrt(sum(q ** 2 for q in np.meshgrid(*(x,) * ndim, indexing="ij")))
    initial = 0.1 + 0.7 * 0.5 * (1 - np.tanh((r - 2.0) / 0.5))
    field = DensityField(shape=(n,) * ndim, length=L, functional=Functional(KacStep(R=3.0, J=-1.0), LatticeGas(T=0.3)),
                         initial=initial)
    return NucleationBarrier(field=field, metastable=0.1)


@pytest.mark.parametrize("solver,codes", [
    (StringMethod(images=5, relax_dt=1e4, stabilization=0.0, max_iters=20, climb_after=5),
     (tk.ReturnCode.Unstable,)),
    (DimerMethod(dt=1e4, max_step=10.0, max_iters=20), (tk.ReturnCode.Unstable,)),
    (RadialNewtonKrylov(), (tk.ReturnCode.Failure,)),                  # 2D: not a 3D droplet
], ids=["string", "dimer", "radial-2d"])
def test_failed_barrier_searches_carry_no_nan(solver, codes):
    p = _lattice_gas_barrier()
    sol = tk.solve(p, solver)
    assert sol.retcode in codes, (sol.retcode, sol.message)
    _no_nan(sol)
    assert np.all((sol.phi > 0) & (sol.phi < 1))       # the last good state, inside the domain
    sol.to_xarray()


def test_size_scan_refusals_and_fallbacks_carry_no_nan():
    p = _lattice_gas_barrier()
    meta = np.full(p.field.shape, 0.1)
    meta[0, 0] = 0.2
    sol = tk.solve(tk.remake(p, metastable=meta), SizeScan.example())
    assert sol.retcode is tk.ReturnCode.Failure and "uniform metastable" in sol.message
    _no_nan(sol)


def test_grid_newton_falling_back_to_the_metastable_state_carries_no_nan():
    p = NucleationBarrier.example(0)
    tiny = tk.remake(p, field=tk.remake(p.field, initial=0.01 * p.field.initial))
    sol = tk.solve(tiny, GridNewtonKrylov.example())
    assert sol.retcode is tk.ReturnCode.ConvergenceFailure and "metastable" in sol.message
    _no_nan(sol)


# -------------------------------------------------------------------------------------------
# 17.5: a run that finishes past an accuracy limit keeps its return code and carries a warning

def _landau_run(dt, steps=40, **changes):
    field = DensityField.noisy((32,), 32.0, Functional(KacStep(R=4.0), Landau(eps=-0.3)), mean=0.0, amplitude=0.3,
                               seed=2)
    return FieldDynamics(**{**dict(field=field, dt=dt, steps=steps, save_every=2), **changes})


def test_a_semi_implicit_step_that_raises_the_free_energy_finishes_with_a_warning():
    # c = 0 is below half the largest f'': at dt = 2 F rises between frames without diverging
    sol = tk.solve(_landau_run(2.0), SemiImplicit(stabilization=0.0), progress=False)
    assert sol.retcode is tk.ReturnCode.Success
    (warning,) = sol.stats["warnings"]
    assert "free energy rose" in warning and "stabilization" in warning and warning in sol.message
    assert np.any(np.diff(sol.free_energy) > 0)
    # the same step with the default stabilisation lowers F all the way: no warning
    fine = tk.solve(_landau_run(2.0), SemiImplicit(), progress=False)
    assert fine.retcode is tk.ReturnCode.Success and "warnings" not in fine.stats and fine.message == ""
    assert np.all(np.diff(fine.free_energy) <= 1e-9)


def test_noisy_dynamics_is_not_warned_about_energy_rises():
    # thermal noise raises F by design: the rises are physics, not a step past a limit
    sol = tk.solve(_landau_run(0.5, temperature=0.5), SemiImplicit(), progress=False)
    assert sol.retcode is tk.ReturnCode.Success and "warnings" not in sol.stats
    assert np.any(np.diff(sol.free_energy) > 1e-3)


def test_an_explicit_step_above_its_stability_bound_finishes_with_a_warning():
    # forward Euler with dt above 2 / lambda_max: 10 steps grow grid-scale modes but do not diverge
    sol = tk.solve(_landau_run(1.0, steps=10), ExplicitFD(), progress=False)
    assert sol.retcode is tk.ReturnCode.Success
    assert any("linear stability bound" in w for w in sol.stats["warnings"]) and "dt = 1" in sol.message
    fine = tk.solve(_landau_run(0.3, steps=10), ExplicitFD(), progress=False)
    assert fine.retcode is tk.ReturnCode.Success and "warnings" not in fine.stats


def test_a_relaxation_whose_energy_rises_carries_a_warning():
    field = _landau_run(1.0).field
    sol = tk.solve(Relaxation(field=field), SemiImplicit(stabilization=0.0, relax_dt=2.0, max_iters=200))
    assert sol.retcode in (tk.ReturnCode.Success, tk.ReturnCode.MaxIters)
    assert any("free energy rose" in w and "relax_dt" in w for w in sol.stats["warnings"])
    fine = tk.solve(Relaxation(field=field), SemiImplicit(max_iters=200))
    assert "warnings" not in fine.stats


def test_a_successful_saddle_past_its_accuracy_limits_carries_warnings():
    from solvers.density_field.accuracy import saddle_warnings, with_warnings
    from solvers.density_field.saddle import empty_solution

    p = _lattice_gas_barrier()
    # the droplet guess called Success: max |dF/dphi| = 0.86, far above any tolerance
    sol = empty_solution(tk.remake(p, metastable=0.5), GridNewtonKrylov(), tk.ReturnCode.Success, "", 0.0)
    assert sol.barrier > 0
    warnings = saddle_warnings(sol, 1e-8)
    assert len(warnings) == 1 and "residual" in warnings[0] and "above the tolerance 1e-08" in warnings[0]
    # measured from metastable = 0.1 the same state lies lower (dF < 0): not a nucleation barrier
    sol = empty_solution(p, GridNewtonKrylov(), tk.ReturnCode.Success, "", 0.0)
    assert sol.barrier < 0
    warnings = saddle_warnings(sol, 1.0)
    assert len(warnings) == 1 and "not positive" in warnings[0]
    with_warnings(sol, warnings)
    assert sol.retcode is tk.ReturnCode.Success and sol.stats["warnings"] == warnings and "not positive" in sol.message
    failed = empty_solution(p, GridNewtonKrylov(), tk.ReturnCode.MaxIters, "did not converge", 0.0)
    assert saddle_warnings(failed, 1e-8) == []          # only Success results are checked


def test_a_converged_saddle_carries_no_warning():
    sol = tk.solve(tk.remake(NucleationBarrier.example(0)), GridNewtonKrylov.example())
    assert sol.retcode is tk.ReturnCode.Success and "warnings" not in sol.stats and sol.barrier > 0


# -------------------------------------------------------------------------------------------
# 17.6: absurd sizes are refused before allocating; counts are bounded to runs that can finish

@pytest.mark.parametrize("build, named", [
    (lambda: DensityField(shape=(10 ** 6, 10 ** 6), length=1e6, functional=Functional(KacStep(R=4e3))), "shape"),
    (lambda: DensityField.noisy((10 ** 5,) * 3, 1e5, Functional(KacStep(R=10.0))), "shape"),
    (lambda: kac_lattice_gas_field(n=10 ** 6, ndim=2), "n"),
    (lambda: kac_lattice_gas_field(n=16, ndim=10 ** 12), "ndim"),
    (lambda: onion_barrier(n=10 ** 5), "n"),
    (lambda: bcc_droplet_seed((10 ** 5,) * 3, (1e3,) * 3, 1.0, 2.0), "shape"),
], ids=["shape", "noisy", "builder-n", "builder-ndim", "onion", "bcc-seed"])
def test_absurd_grids_are_refused_before_allocating(build, named):
    t0 = time.perf_counter()
    with pytest.raises(tk.InvalidProblemError, match=rf"^{named} = .* not allowed") as info:
        build()
    assert time.perf_counter() - t0 < 2.0
    if named != "ndim":
        assert "GiB" in str(info.value) and "available" in str(info.value)


def test_a_grid_larger_than_the_memory_available_is_refused(monkeypatch):
    from toolkit import memory

    monkeypatch.setattr(memory, "available_memory", lambda: 1 << 20)        # 1 MiB
    with pytest.raises(tk.InvalidProblemError, match=r"shape = \(256, 256\).*1.5 MiB|shape = \(256, 256\).*GiB"):
        DensityField(shape=(256, 256), length=256.0, functional=Functional(KacStep(R=4.0)))
    DensityField(shape=(32, 32), length=32.0, functional=Functional(KacStep(R=4.0)))   # 24 KiB fits


def test_every_density_field_pair_has_a_memory_estimate():
    for ptype in (Relaxation, FieldDynamics, NucleationBarrier):
        problem = ptype.example(0)
        for stype in tk.solvers_for(problem):
            parts = tk.memory_estimate(problem, stype())
            assert parts and all(v > 0 for v in parts.values()), (ptype.__name__, stype.__name__, parts)


@pytest.mark.parametrize("problem, solver, part", [
    (lambda: tk.remake(_lattice_gas_run(), steps=10 ** 6, save_every=1), lambda: SemiImplicit(), "frames"),
    (lambda: NucleationBarrier.example(0), lambda: StringMethod(images=1000), "images"),
    (lambda: NucleationBarrier.example(0), lambda: DimerMethod(rotation_steps=1000), "lanczos"),
    (lambda: NucleationBarrier.example(0), lambda: GridNewtonKrylov(), "krylov"),
    (lambda: NucleationBarrier.example(0), lambda: SizeScan(), "lbfgs"),
    (lambda: NucleationBarrier.example(0), lambda: RadialNewtonKrylov(points=10 ** 7), "radial"),
], ids=["frames", "string-images", "dimer-lanczos", "newton-krylov", "size-scan", "radial-points"])
def test_pairs_that_need_more_memory_than_available_are_refused_with_the_estimate(monkeypatch, problem, solver, part):
    from toolkit import memory

    problem, solver = problem(), solver()
    need = tk.memory_estimate(problem, solver)
    assert part in need and need[part] > 0
    monkeypatch.setattr(memory, "available_memory", lambda: sum(need.values()) - 1)
    with pytest.raises(tk.InvalidProblemError, match=rf"needs about .*{part} .* available"):
        tk.init(problem, solver) if isinstance(problem, tk.TimeProblem) else tk.solve(problem, solver)


def test_a_field_run_saving_10_to_the_9_frames_is_refused_before_allocating():
    p = tk.remake(_lattice_gas_run(), steps=10 ** 9, save_every=1)
    with pytest.raises(tk.InvalidProblemError, match=r"frames .* GiB.* available"):
        tk.init(p, SemiImplicit())


@pytest.mark.parametrize("build, named", [
    (lambda: DimerMethod(rotation_steps=10 ** 12), "rotation_steps"), (lambda: DimerMethod(max_iters=10 ** 12), "max_iters"),
    (lambda: DimerMethod(seed=2 ** 63), "seed"), (lambda: StringMethod(images=10 ** 12), "images"),
    (lambda: StringMethod(zooms=10 ** 12), "zooms"), (lambda: StringMethod(climb_after=2 ** 63), "climb_after"),
    (lambda: StringMethod(max_iters=10 ** 12), "max_iters"), (lambda: SemiImplicit(threads=10 ** 12), "threads"),
    (lambda: SemiImplicit(seed=2 ** 64), "seed"), (lambda: SemiImplicit(max_iters=10 ** 12), "max_iters"),
    (lambda: ExplicitFD(max_iters=2 ** 63), "max_iters"), (lambda: ExplicitFD(seed=-1), "seed"),
    (lambda: GridNewtonKrylov(max_iters=10 ** 12), "max_iters"), (lambda: RadialNewtonKrylov(points=10 ** 12), "points"),
    (lambda: RadialNewtonKrylov(max_iters=10 ** 12), "max_iters"), (lambda: SizeScan(brackets=10 ** 12), "brackets"),
    (lambda: SizeScan(refinements=10 ** 12), "refinements"), (lambda: SizeScan(lbfgs_iters=10 ** 12), "lbfgs_iters"),
    (lambda: SizeScan(descents=10 ** 12), "descents"), (lambda: SizeScan(dimer_iters=10 ** 12), "dimer_iters"),
    (lambda: SizeScan(newton_iters=10 ** 12), "newton_iters"), (lambda: SizeScan(seed=2 ** 63), "seed"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_counts_that_cannot_finish_and_integers_reaching_c_code_are_range_checked(build, named):
    with pytest.raises(tk.InvalidSolverError, match=rf"{named} = .* not allowed: must be"):
        build()


@pytest.mark.parametrize("field, value", [("steps", 10 ** 12), ("save_every", 2 ** 63), ("dt", 1e308),
                                          ("temperature", 2 ** 64), ("mobility", 1e300)])
def test_field_dynamics_counts_and_scales_are_bounded(field, value):
    with pytest.raises(tk.InvalidProblemError, match=rf"^{field} = .* not allowed"):
        tk.remake(_lattice_gas_run(), **{field: value})


def test_a_diverging_field_reports_a_last_state_with_finite_free_energy():
    # huge noise on the Landau polynomial: the density passes 1e12 long before F overflows; the last
    # state reported is below that bound, so its F is finite (not inf from phi^4 past 1e77)
    sol = tk.solve(_landau_run(0.5, steps=20, temperature=1e6), SemiImplicit(), progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable and "passed" in sol.message
    assert np.all(np.isfinite(sol.phi)) and np.all(np.isfinite(sol.free_energy))

"""Reliability: checkpoints that do not fit their problem are refused; no NaN in any result.

Issue 17, items 3 and 5, for the density-field family.
"""

import numpy as np
import pytest

import toolkit as tk
from toolkit.io import read_record, write_record
from problems.density_field import (DensityField, FieldDynamics, Functional, KacStep, Landau, LatticeGas,
                                    NucleationBarrier, kac_lattice_gas_field)
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

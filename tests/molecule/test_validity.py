"""MD validity: drift past the stability limit stops Unstable at the step, past the accuracy limit
warns; crafted checkpoints whose state does not fit the run are refused naming the entry."""

from __future__ import annotations

import json

import numpy as np
import pytest

import toolkit as tk
from problems.molecule import LJ_TEMPERATURE_K, LJ_TIME_FS, MolecularDynamics, argon_cluster, lj_fluid
from solvers.molecule import Langevin, LennardJones, NoseHoover, VelocityVerlet
from tests.toolkit.crafted import craft, record_of

FIELDS = ("time", "potential_energy", "kinetic_energy", "thermostat_energy", "virial", "kinetic_tensor",
          "frame_time", "positions", "velocities")


def _finite(sol):
    for name in FIELDS:
        assert np.all(np.isfinite(getattr(sol, name))), name


def test_huge_time_step_stops_unstable_at_the_first_step_past_the_limit():
    """The issue's case: Ar13 at 30 K with dt = 1000 fs went from -0.35 eV to 2e16 eV with Success."""
    md = MolecularDynamics.example()
    sol = tk.solve(md, VelocityVerlet(dt=1000.0), progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable
    assert sol.stats["unstable_step"] == 1 and "step 1" in sol.message and "max_drift" in sol.message
    _finite(sol)
    assert np.allclose(sol.total_energy, sol.total_energy[0])        # only the good (initial) state
    with pytest.raises(tk.UnstableError):
        tk.solve(md, VelocityVerlet(dt=1000.0), progress=False, strict=True)
    # the same for the thermostats: the state handed back is the last good one, never NaN
    for solver in (Langevin(dt=1000.0, temperature=30.0), NoseHoover(dt=1000.0, temperature=30.0)):
        sol = tk.solve(md, solver, progress=False)
        assert sol.retcode is tk.ReturnCode.Unstable and sol.stats["unstable_step"] == 1
        _finite(sol)


def test_stop_is_at_the_step_the_drift_crosses_the_limit():
    """dt = 150 fs drifts slowly past max_drift: the run stops at that step, the state before it kept,
    and stepping one by one finds the same step (the check does not depend on how the run is cut)."""
    md = tk.remake(MolecularDynamics.example(), steps=100, save_every=1)
    sol = tk.solve(md, VelocityVerlet(dt=150.0), progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable
    step = sol.stats["unstable_step"]
    assert 2 < step < 100
    drift = np.abs(sol.total_energy - sol.total_energy[0])
    assert sol.time[-1] == (step - 1) * 150.0 and drift.max() / 0.4076 <= 0.5
    integ = tk.init(md, VelocityVerlet(dt=150.0), progress=False)
    for _ in integ:
        pass
    assert integ.retcode is tk.ReturnCode.Unstable and integ.stats["unstable_step"] == step


def _record_by_record(monkeypatch, problem, solver):
    """The run with one call of the jitted loop per thermo record (the path before records were kept
    inside the loop, still taken by the other schemes and to find a bad step)."""
    from solvers.molecule.dynamics import MDIntegrator

    with monkeypatch.context() as patch:
        patch.setattr(MDIntegrator, "_batched", lambda self, step, m: False)
        return tk.solve(problem, solver, progress=False)


@pytest.mark.parametrize("case", ["fluid", "drift", "blow-up"])
def test_records_kept_inside_the_jitted_loop_equal_the_record_by_record_run(case, monkeypatch):
    """Velocity Verlet with a pair potential keeps the thermo records between frames inside one call of
    the jitted loop: every record, frame and the drift monitor are bit for bit those of one call per
    record, and a run that goes bad between two frames stops at the same step with the same state."""
    if case == "fluid":
        md = MolecularDynamics(lj_fluid(cells=3, density=0.8442, temperature=0.722), LennardJones(cutoff=2.5),
                               steps=400, save_every=100, thermo_every=3)
        solver = VelocityVerlet(dt=0.005 * LJ_TIME_FS)
    elif case == "drift":      # the drift crosses max_drift between two frames (see the test above)
        md, solver = tk.remake(MolecularDynamics.example(), steps=100, save_every=50), VelocityVerlet(dt=150.0)
    else:                      # non-finite between two frames (step 14 on an Intel VM, ~50 on Zen 4: rounding), no drift limit
        md = MolecularDynamics(lj_fluid(cells=3, density=0.8442, temperature=0.722), LennardJones(),
                               steps=500, save_every=100, thermo_every=1)
        solver = VelocityVerlet(dt=0.06 * LJ_TIME_FS, max_drift=None)
    from solvers.molecule.dynamics import MDIntegrator

    batched, taken = MDIntegrator._batched, []

    def spy(self, step, m):
        taken.append(batched(self, step, m))
        return taken[-1]

    monkeypatch.setattr(MDIntegrator, "_batched", spy)
    kept = tk.solve(md, solver, progress=False)
    monkeypatch.undo()
    assert any(taken)                       # the records were kept inside the loop at least once
    one_by_one = _record_by_record(monkeypatch, md, solver)
    assert kept.retcode is one_by_one.retcode
    assert (kept.retcode is tk.ReturnCode.Success) == (case == "fluid")
    assert kept.stats.get("unstable_step") == one_by_one.stats.get("unstable_step")
    assert kept.stats["max_drift"] == one_by_one.stats["max_drift"] and kept.message == one_by_one.message
    assert len(kept.time) > 10
    if case == "blow-up":
        assert "finite" in kept.message
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(kept, name), getattr(one_by_one, name), err_msg=name)


def test_past_the_accuracy_limit_the_run_finishes_with_a_warning():
    md = tk.remake(MolecularDynamics.example(), steps=100)
    sol = tk.solve(md, VelocityVerlet(dt=100.0), progress=False)
    assert sol.retcode is tk.ReturnCode.Success
    assert sol.stats["warnings"] and "warn_drift" in sol.message and sol.stats["max_drift"] > 0.01
    good = tk.solve(md, VelocityVerlet(dt=10.0), progress=False)
    assert good.successful and "warnings" not in good.stats and good.message == ""
    quiet = tk.solve(md, VelocityVerlet(dt=100.0, warn_drift=None), progress=False)
    assert quiet.successful and "warnings" not in quiet.stats
    with pytest.raises(tk.InvalidSolverError, match="warn_drift"):
        VelocityVerlet(max_drift=0.1, warn_drift=0.2)


def test_atoms_lost_stop_the_run():
    """An atom shot away from an isolated molecule faster than light could carry it is refused;
    one that leaves the 1e8 Å world during the run stops it Unstable."""
    mol = argon_cluster()
    velocities = np.zeros((13, 3))
    velocities[0, 0] = 2000.0                                          # Å/fs
    md = MolecularDynamics(tk.remake(mol, velocities=velocities), LennardJones.argon(), steps=100, save_every=10)
    sol = tk.solve(md, VelocityVerlet(dt=1000.0, max_drift=None), progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable and "lost" in sol.message
    _finite(sol)
    assert np.abs(sol.positions).max() <= 1e8


def _checkpoint(tmp_path, solver):
    md = MolecularDynamics(lj_fluid(cells=3, density=0.8, temperature=1.5, seed=2), LennardJones(cutoff=2.5, skin=0.2),
                           steps=40, save_every=7, thermo_every=3)
    integ = tk.init(md, solver, progress=False)
    integ.step(10)
    assert integ.retcode is None and len(integ.frames["step"]) == 2
    return integ.checkpoint(tmp_path / "md.nc")


BAD_ARRAYS = {
    "x": np.zeros((107, 3)),                                  # another molecule
    "v": np.full((108, 3), np.nan),
    "f": np.zeros((108, 3), dtype=np.float32),
    "images": np.zeros((108, 3)),                             # floats, not counters
    "nh": np.zeros(7),                                        # another chain
    "virial": np.zeros(9),
    "x_ref": np.zeros((108, 2)),
    "thermo.potential": np.zeros(3),                          # not one per thermo record
    "thermo.virial": np.full((4, 3, 3), np.inf),
    "thermo.step": np.array([0, 6, 3, 9]),                    # not increasing
    "frames.positions": np.zeros((2, 107, 3)),
    "frames.velocities": np.full((2, 108, 3), np.nan),
    "frames.step": np.array([0, 700]),                        # past the run's end
}


@pytest.mark.parametrize("entry", sorted(BAD_ARRAYS))
def test_checkpoint_whose_state_does_not_fit_is_refused_naming_the_array(entry, tmp_path):
    path = _checkpoint(tmp_path, NoseHoover(dt=0.004 * LJ_TIME_FS, temperature=LJ_TEMPERATURE_K,
                                                tdamp=0.1 * LJ_TIME_FS))
    bad = craft(path, tmp_path / "bad.nc", arrays={f"r.state.{entry}": BAD_ARRAYS[entry]})
    with pytest.raises(tk.FileFormatError, match=entry.split(".")[0]) as info:
        tk.resume(bad, progress=False)
    assert entry.split(".")[-1] in str(info.value)
    tk.resume(path, progress=False).run()                   # the real one resumes


@pytest.mark.parametrize("change", ["energy", "drift", "rebuilds", "rng", "rng-type", "missing"])
def test_checkpoint_with_bad_scalars_or_rng_is_refused(change, tmp_path):
    path = _checkpoint(tmp_path, Langevin(dt=0.004 * LJ_TIME_FS, temperature=LJ_TEMPERATURE_K,
                                              friction=0.5 / LJ_TIME_FS, seed=3))
    tree = record_of(path)
    state = tree["__dict__"]["state"]["__dict__"]
    if change == "energy":
        state["energy"] = "NaN"
    elif change == "drift":
        state["drift"] = [1.0]
    elif change == "rebuilds":
        state["rebuilds"] = -4
    elif change == "rng":
        state["rng"] = {"__dict__": {"bit_generator": "PCG64", "state": 7, "has_uint32": 0, "uinteger": 0}}
    elif change == "rng-type":
        state["rng"]["__dict__"]["bit_generator"] = "MT19937"
    else:
        del state["x_ref"]
    bad = craft(path, tmp_path / "bad.nc", tree=tree)
    name = {"rng-type": "rng", "missing": "x_ref"}.get(change, change)
    with pytest.raises(tk.FileFormatError, match=name):
        tk.resume(bad, progress=False)
    json.dumps(record_of(path))   # the original is untouched


def test_absurd_runs_are_refused_by_their_memory_estimate():
    from problems.molecule import MolecularDynamics
    from solvers.molecule import VelocityVerlet

    problem = MolecularDynamics.example(0)
    parts = tk.memory_estimate(problem, VelocityVerlet())
    assert set(parts) == {"frames", "thermo", "atom state", "neighbour list"} and all(v > 0 for v in parts.values())
    huge = tk.remake(problem, steps=10**12, save_every=1)
    with pytest.raises(tk.InvalidProblemError, match="needs about .* frames"):
        tk.init(huge, VelocityVerlet())

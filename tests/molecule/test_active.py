"""Active learning (issue 20, first increment): ActiveLearning, QueryByCommittee, RandomSelection.

Measured when written (CPU, torch on one thread): on water labelled by GFN2-xTB (10 starting
snapshots at 200 K, a test set at 1000 K), a 4-member committee trained on the start set ranks
the test structures by true force error with Spearman 0.88 (its force spread against the
committee mean's largest per-atom force error); the tiny QBC and random campaigns below run in a
few seconds each.
"""

from __future__ import annotations

import numpy as np
import pytest

import toolkit as tk
from problems.datasets import ActiveLearning, AtomisticDataset, FitPotential
from problems.molecule import water
from solvers.molecule import ASECalculator, TBLite, VelocityVerlet, label_dataset, sample_configurations
from solvers.molecule.active import (ActiveLearningSolution, QueryByCommittee, RandomSelection, diverse_batch,
                                     sorted_distances, spread_scores)
from solvers.molecule.active.selection import descriptor_distance
from solvers.molecule.hipnn import HIPNN, HIPNNTraining

MODEL = HIPNN(features=8, sensitivities=8, interactions=1, atom_layers=1, cutoff=4.0, soft_min=0.7, soft_max=3.0,
              species=("H", "O"))
TRAIN = HIPNNTraining(model=MODEL, epochs=20, batch=8, learning_rate=5e-3, hierarchicality_weight=0.0,
                      dtype="float64", patience=None)


pytestmark = pytest.mark.usefixtures("one_torch_thread")     # tests/molecule/conftest.py


@pytest.fixture(scope="module")
def water_sets():
    """(start at 200 K, pool at 300-1500 K, test at 1000 K), all labelled by GFN2-xTB (about 2 s)."""
    start = sample_configurations(water(), TBLite(), temperatures=[200.0], steps=400, every=40, seed=1)
    pool = sample_configurations(water(), TBLite(), temperatures=[300.0, 800.0, 1500.0], steps=300, every=10,
                                 seed=2)
    test = sample_configurations(water(), TBLite(), temperatures=[1000.0], steps=600, every=20, seed=3)
    return start, pool, test


# -- validation ------------------------------------------------------------------------------------

def test_active_learning_validates_its_fields():
    p = ActiveLearning.example(0)
    unlabelled = p.pool
    with pytest.raises(tk.InvalidProblemError, match="start"):
        tk.remake(p, start=unlabelled)                       # no forces
    with pytest.raises(tk.InvalidProblemError, match="test"):
        tk.remake(p, test=p.start.positions)
    with pytest.raises(tk.InvalidProblemError, match="oracle"):
        tk.remake(p, oracle=1.0)
    with pytest.raises(tk.InvalidProblemError, match="budget"):
        tk.remake(p, budget=len(p.pool) + 1)
    with pytest.raises(tk.InvalidProblemError, match="budget"):
        tk.remake(p, budget=0)
    with pytest.raises(tk.InvalidProblemError, match="rounds"):
        tk.remake(p, rounds=0)
    other = AtomisticDataset(species=[10, 10, 10], positions=p.pool.positions[:3], offsets=[0, 3], energies=[0.0])
    with pytest.raises(tk.InvalidProblemError, match="pool.*start set lacks"):
        tk.remake(p, pool=other)
    with pytest.raises(tk.InvalidProblemError, match="start"):
        tk.remake(p, start=p.start[[0]])                      # too small to split
    with pytest.raises(tk.InvalidProblemError, match="oracle"):
        tk.remake(p, oracle=VelocityVerlet())                # not a potential
    with pytest.raises(tk.InvalidSolverError, match="committee"):
        QueryByCommittee(model=TRAIN, committee=1)
    with pytest.raises(tk.InvalidSolverError, match="criterion"):
        QueryByCommittee(model=TRAIN, criterion="variance")
    with pytest.raises(tk.InvalidSolverError, match="model"):
        RandomSelection(model=MODEL)                          # the architecture, not its training
    with pytest.raises(tk.InvalidSolverError, match="executor"):
        RandomSelection(model=TRAIN, executor="dask")
    with pytest.raises(tk.InvalidProblemError, match="species"):
        tk.init(p, QueryByCommittee(model=TRAIN))             # the model has no argon


# -- picking rules ---------------------------------------------------------------------------------

def _triatomics(xs):
    xs = np.asarray(xs, dtype=float)
    return AtomisticDataset(species=np.tile([8, 1, 1], len(xs)), positions=xs.reshape(-1, 3),
                            offsets=np.arange(len(xs) + 1) * 3, energies=np.zeros(len(xs)))


def test_descriptor_distance_is_invariant_and_batches_are_spread_out():
    base = water().positions
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    moved = base @ q.T + 1.7
    swapped = base[[0, 2, 1]]
    stretched = base.copy()
    stretched[1] += 0.2 * (base[1] - base[0])
    ds = _triatomics([base, moved, swapped, stretched])
    assert descriptor_distance(ds, 0, 1) < 1e-12 and descriptor_distance(ds, 0, 2) < 1e-12
    expected = np.sqrt(np.mean((sorted_distances(ds, 0) - sorted_distances(ds, 3)) ** 2))
    assert descriptor_distance(ds, 0, 3) == pytest.approx(expected) and expected > 0.05
    # near-duplicates of the top-scored configuration are skipped while others qualify ...
    scores = np.array([1.0, 0.9, 0.8, 0.1])
    assert diverse_batch(ds, np.arange(4), scores, 2, diversity=0.05).tolist() == [0, 3]
    assert diverse_batch(ds, np.arange(4), scores, 2, diversity=0.0).tolist() == [0, 1]
    # ... and fill the batch when nothing else is left
    assert diverse_batch(ds, np.arange(4), scores, 3, diversity=0.05).tolist() == [0, 3, 1]


def test_spread_scores_match_their_definition():
    rng = np.random.default_rng(1)
    energies, forces = rng.standard_normal((4, 3)), rng.standard_normal((4, 7, 3))
    offsets = np.array([0, 3, 5, 7])
    assert np.allclose(spread_scores(energies, forces, offsets, "energy_spread"), energies.std(axis=0, ddof=1))
    # the ANI-1x measure: the energy spread over sqrt(atoms), so a 3-atom and a 2-atom structure compare
    assert np.allclose(spread_scores(energies, forces, offsets, "scaled_energy_spread"),
                       energies.std(axis=0, ddof=1) / np.sqrt([3.0, 2.0, 2.0]))
    per_atom = np.linalg.norm(forces.std(axis=0, ddof=1), axis=1)
    expected = [per_atom[a:b].max() for a, b in zip(offsets[:-1], offsets[1:])]
    assert np.allclose(spread_scores(energies, forces, offsets, "force_spread"), expected)


def test_the_scaled_energy_spread_ranks_like_the_energy_spread_when_every_structure_has_as_many_atoms():
    """Argon trimers only: dividing by sqrt(3) changes no ranking, so both criteria pick alike, and the
    recorded spreads and errors differ by exactly sqrt(3)."""
    problem = ActiveLearning.example(0)
    assert set(np.diff(problem.test.offsets)) == {3}
    plain, scaled = (tk.solve(problem, tk.remake(QueryByCommittee.example(), criterion=c), progress=False)
                     for c in ("energy_spread", "scaled_energy_spread"))
    assert plain.chosen.tolist() == scaled.chosen.tolist()
    assert np.allclose(plain.test_spread, np.sqrt(3.0) * scaled.test_spread)
    assert np.allclose(plain.test_error, np.sqrt(3.0) * scaled.test_error)
    assert np.array_equal(plain.spread_spearman, scaled.spread_spearman)
    assert scaled.cf["test_spread"]["units"] == "eV"


# -- the committee's spread ranks configurations by true error ---------------------------------------

def test_committee_force_spread_ranks_configurations_by_true_error(water_sets):
    """Measured: Spearman 0.88 on the 1000 K test set (asked: at least 0.5)."""
    from scipy.stats import spearmanr

    start, pool, test = water_sets
    fit = FitPotential(start, targets=("energy", "forces"), validation=0.2, test=0.0)
    runs = tk.solve(tk.EnsembleProblem(fit, n=4, seed=0), TRAIN, progress=False)
    predicted = [label_dataset(test, m.potential) for m in runs.members]
    energies = np.array([d.energies for d in predicted])
    forces = np.array([d.forces for d in predicted])
    spread = spread_scores(energies, forces, test.offsets, "force_spread")
    error = np.maximum.reduceat(np.linalg.norm(forces.mean(axis=0) - test.forces, axis=1), test.offsets[:-1])
    rho = spearmanr(spread, error)[0]
    assert rho >= 0.5, rho


# -- campaigns with GFN2-xTB ------------------------------------------------------------------------

def test_qbc_and_random_campaigns_run_end_to_end_and_repeat_exactly(water_sets):
    start, pool, test = water_sets
    problem = ActiveLearning(start, pool, TBLite(), budget=8, test=test, rounds=2)
    qbc = QueryByCommittee(model=TRAIN, committee=3, batch=4, seed=0)
    first = tk.solve(problem, qbc, progress=False)
    assert isinstance(first, ActiveLearningSolution) and first.successful
    assert first.calls.tolist() == [0, 4, 8] and first.labels.tolist() == [len(start), len(start) + 4,
                                                                           len(start) + 8]
    assert len(set(first.chosen.tolist())) == 8 and first.chosen_round.tolist() == [0] * 4 + [1] * 4
    assert first.failed.size == 0 and len(first.dataset) == len(start) + 8
    assert np.all(first.force_mae > 0) and first.force_mae[-1] < first.force_mae[0]
    assert first.spread_spearman.shape == (3,) and first.test_spread.shape == (len(test),)
    # the oracle's labels are in the final dataset, and the final potential is a usable HIPNN
    oracle_labels = label_dataset(pool.subset(first.chosen), TBLite())
    assert np.allclose(first.dataset.energies[len(start):], oracle_labels.energies)
    assert isinstance(first.potential, HIPNN) and first.potential.parameters is not None
    again = tk.solve(problem, qbc, progress=False)                    # same seeds, same picks
    assert again.chosen.tolist() == first.chosen.tolist() and np.array_equal(again.force_mae, first.force_mae)
    # the baseline is a one-word swap
    random = tk.solve(problem, RandomSelection(model=TRAIN, batch=4, seed=0), progress=False)
    assert random.successful and random.calls.tolist() == [0, 4, 8] and random.spread_spearman.size == 0
    assert random.force_mae[0] == first.force_mae[0]                   # same start, same first model
    assert tk.solve(problem, RandomSelection(model=TRAIN, batch=4, seed=0), progress=False).chosen.tolist() == \
        random.chosen.tolist()
    import matplotlib

    matplotlib.use("Agg")
    first.plot(others=[random])
    curve, _ = first.plot(others=[random], error="committee_force_mae")
    assert np.allclose(curve.lines[0].get_ydata(), first.committee_force_mae)
    assert "committee-mean" in curve.get_ylabel()
    with pytest.raises(ValueError, match="error = 'energy'"):
        first.plot(error="energy")


# -- failures and resuming (cheap: argon with a Lennard-Jones oracle) -------------------------------

class _Flaky:
    """An ASE Lennard-Jones calculator for argon that raises on configurations whose second atom has
    x > 3.82 Å (a stand-in for an SCF that did not converge)."""

    def __new__(cls):
        from ase.calculators.lj import LennardJones

        class Flaky(LennardJones):
            def calculate(self, atoms=None, properties=("energy",), system_changes=()):
                if atoms is not None and atoms.positions[1, 0] > 3.82:
                    raise RuntimeError("SCF not converged (test)")
                super().calculate(atoms, properties, system_changes)

        return Flaky(sigma=3.405, epsilon=0.010323, rc=8.5)


def test_a_failing_oracle_call_is_recorded_and_skipped():
    p = tk.remake(ActiveLearning.example(0), oracle=ASECalculator(_Flaky()), budget=6, rounds=3)
    flaky = p.pool.positions[p.pool.offsets[:-1] + 1, 0] > 3.82
    assert 0 < flaky.sum() < len(p.pool)
    sol = tk.solve(p, RandomSelection.example(), progress=False)
    assert sol.successful and len(sol.chosen) == 6
    expected = [i for i in sol.chosen.tolist() if flaky[i]]
    assert sol.failed.tolist() == expected and len(expected) > 0
    assert all("SCF not converged" in reason for reason in sol.failure_reasons)
    assert len(sol.dataset) == len(p.start) + 6 - len(expected)
    assert sol.calls[-1] == 6                                          # a failed call spent budget


class _Killed(Exception):
    pass


def test_a_campaign_stopped_mid_round_resumes_without_repeating_an_oracle_call(tmp_path):
    p = tk.remake(ActiveLearning.example(0), budget=6, rounds=3)
    solver = tk.remake(QueryByCommittee.example(), batch=2)
    whole = tk.init(p, solver, checkpoint=tmp_path / "whole.nc", progress=False)
    whole.run()
    reference = whole.solution()
    assert reference.successful and len(reference.chosen) == 6

    before, after = [], []
    integ = tk.init(p, solver, checkpoint=tmp_path / "cut.nc", progress=False)

    def kill_after_three(index, outcome):
        before.append(index)
        if len(before) == 3:                     # the first call of round 1 is durable, the second is not made
            raise _Killed

    integ.on_oracle_result = kill_after_three
    with pytest.raises(_Killed):
        integ.run()
    assert (tmp_path / "cut.nc.oracle.nc").exists()
    resumed = tk.resume(tmp_path / "cut.nc", progress=False)      # no checkpoint=: the saved journal path is used
    assert resumed.step_index == 1
    resumed.on_oracle_result = lambda index, outcome: after.append(index)
    resumed.run()
    final = resumed.solution()
    assert not set(before) & set(after), (before, after)               # nothing asked twice
    assert len(before) + len(after) == 6
    assert final.chosen.tolist() == reference.chosen.tolist()
    assert np.array_equal(final.force_mae, reference.force_mae)
    # another campaign's journal at that path is refused
    other = tk.remake(p, pool=p.pool[[1, 0, 2, 3, 4, 5, 6, 7]])
    clash = tk.init(other, solver, checkpoint=tmp_path / "cut.nc", progress=False)
    with pytest.raises(tk.FileFormatError, match="another campaign"):
        clash.run()


def test_oracle_calls_on_threads_give_the_campaign_serial_gives():
    # numba Lennard-Jones: thread-safe (one shared ASE calculator instance is not: it keeps the last atoms)
    p = tk.remake(ActiveLearning.example(0), budget=5, rounds=2)
    serial = tk.solve(p, tk.remake(QueryByCommittee.example(), batch=3), progress=False)
    threads = tk.solve(p, tk.remake(QueryByCommittee.example(), batch=3, executor=tk.Threads(2)), progress=False)
    assert serial.chosen.tolist() == threads.chosen.tolist() and len(serial.chosen) == 5
    assert np.array_equal(serial.dataset.energies, threads.dataset.energies)
    assert np.array_equal(serial.force_mae, threads.force_mae)


def test_the_solution_saves_and_loads(tmp_path):
    sol = tk.solve(ActiveLearning.example(1), QueryByCommittee.example(), progress=False)
    back = tk.load(tk.save(sol, tmp_path / "campaign.nc"))
    assert isinstance(back, ActiveLearningSolution) and back.chosen.tolist() == sol.chosen.tolist()
    assert np.array_equal(back.force_mae, sol.force_mae) and back.potential == sol.potential
    assert np.array_equal(back.dataset.energies, sol.dataset.energies)


# -- extreme values: refused naming the field, or solved without NaN -----------------------------------

EXTREMES = [5e-324, 1e308, -1.0, float("nan"), float("inf"), 2 ** 63, 10 ** 12, 0, "", None, (), [], np.zeros(0),
            object()]


def _extreme_cases():
    import dataclasses

    for owner in (ActiveLearning.example(0), QueryByCommittee.example(), RandomSelection.example()):
        for field in dataclasses.fields(owner):
            for value in EXTREMES:
                yield owner, field.name, value


def test_extreme_values_are_refused_naming_the_field_or_solve_without_nan():
    import time

    errors = (tk.InvalidProblemError, tk.InvalidSolverError, tk.IncompatiblePairError)
    started, solved = time.perf_counter(), 0
    for owner, name, value in _extreme_cases():
        try:
            changed = tk.remake(owner, **{name: value})
        except errors as exc:
            assert name in str(exc), (name, value, exc)
            continue
        problem = changed if isinstance(changed, ActiveLearning) else ActiveLearning.example(0)
        solver = changed if not isinstance(changed, ActiveLearning) else QueryByCommittee.example()
        try:
            sol = tk.solve(problem, solver, progress=False)
        except errors as exc:              # refused when the pair is resolved, still naming the field
            assert name in str(exc), (name, value, exc)
            continue
        solved += 1
        for array in (sol.energy_mae, sol.force_mae, sol.spread_spearman):
            assert np.all(np.isfinite(array)), (name, value)
    assert solved > 0 and time.perf_counter() - started < 60

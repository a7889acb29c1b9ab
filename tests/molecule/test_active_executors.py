"""Determinism of a campaign on every executor: the same seeds pick the same configurations, get the
same oracle labels and train the same models whether the oracle calls ran serially, on threads, on
processes, or on a real dask.distributed cluster (a LocalCluster of worker processes reached by its
scheduler address, the path past one machine)."""

from __future__ import annotations

import numpy as np
import pytest

import toolkit as tk
from problems.datasets import ActiveLearning
from solvers.molecule.active import QueryByCommittee, RandomSelection


@pytest.fixture(scope="module")
def serial_runs():
    problem = tk.remake(ActiveLearning.example(0), budget=5, rounds=2)
    qbc = tk.remake(QueryByCommittee.example(), batch=3, seed=4)
    rnd = tk.remake(RandomSelection.example(), batch=3, seed=4)
    return problem, qbc, rnd, tk.solve(problem, qbc, progress=False), tk.solve(problem, rnd, progress=False)


def _same(a, b):
    assert a.chosen.tolist() == b.chosen.tolist() and len(a.chosen) == 5
    assert a.chosen_round.tolist() == b.chosen_round.tolist()
    assert np.array_equal(a.dataset.energies, b.dataset.energies)
    assert np.array_equal(a.dataset.forces, b.dataset.forces)
    assert np.array_equal(a.force_mae, b.force_mae) and np.array_equal(a.energy_mae, b.energy_mae)


@pytest.mark.parametrize("executor", [tk.Serial(), tk.Threads(2), tk.Processes(3)], ids=["serial", "threads",
                                                                                       "processes"])
def test_same_seeds_give_the_same_picks_on_every_executor(serial_runs, executor):
    problem, qbc, rnd, qbc_ref, rnd_ref = serial_runs
    _same(tk.solve(problem, tk.remake(qbc, executor=executor), progress=False), qbc_ref)
    if not isinstance(executor, tk.Processes):     # each oracle chunk starts a spawn pool (seconds): QBC only
        _same(tk.solve(problem, tk.remake(rnd, executor=executor), progress=False), rnd_ref)


def test_same_seeds_give_the_same_picks_on_a_dask_cluster(serial_runs):
    distributed = pytest.importorskip("distributed")
    problem, qbc, rnd, qbc_ref, rnd_ref = serial_runs
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        executor = tk.Dask(address=cluster.scheduler_address)
        _same(tk.solve(problem, tk.remake(qbc, executor=executor), progress=False), qbc_ref)
        with executor:                     # one client kept for every oracle chunk of the campaign
            _same(tk.solve(problem, tk.remake(rnd, executor=executor), progress=False), rnd_ref)
            assert executor._open is not None
        assert executor._open is None


def test_warm_started_campaigns_repeat_exactly_and_start_from_the_last_weights(serial_runs):
    problem, qbc, _, cold, _ = serial_runs
    warm = tk.remake(qbc, warm_start=True, warm_epochs=1)
    first = tk.solve(problem, warm, progress=False)
    _same(tk.solve(problem, tk.remake(warm, executor=tk.Threads(2)), progress=False), first)
    assert first.force_mae[0] == cold.force_mae[0]                   # the first training is the same
    assert first.potential != cold.potential                           # later ones start from it
    with pytest.raises(tk.InvalidSolverError, match="warm_epochs"):
        tk.remake(qbc, warm_epochs=0)


def test_member_splits_give_each_member_its_own_validation_part_and_repeat_exactly(serial_runs):
    from problems.datasets import FitPotential
    from solvers.molecule.active.campaign import _member_fit

    problem, qbc, rnd, shared, _ = serial_runs
    fit = FitPotential(problem.start, ("energy", "forces"), validation=0.34, test=0.0, split_seed=3)
    held_out = [tuple(_member_fit(fit, k, training=3).splits()[1].ids.tolist()) for k in range(4)]
    assert len(set(held_out)) > 1                                    # the members hold out different parts
    own = tk.remake(qbc, member_splits=True)
    first = tk.solve(problem, own, progress=False)
    _same(tk.solve(problem, tk.remake(own, executor=tk.Threads(2)), progress=False), first)
    assert first.force_mae[0] != shared.force_mae[0]                 # trained on other data than shared splits
    warm = tk.remake(own, warm_start=True, warm_epochs=1)
    _same(tk.solve(problem, warm, progress=False), tk.solve(problem, warm, progress=False))
    assert tk.solve(problem, tk.remake(rnd, member_splits=True), progress=False).calls[-1] == 5
    with pytest.raises(tk.InvalidSolverError, match="member_splits"):
        tk.remake(qbc, member_splits="yes")

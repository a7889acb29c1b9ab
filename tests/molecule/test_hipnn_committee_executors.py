"""A HIP-NN committee trained through ``tk.EnsembleProblem`` is the same on every executor: Serial,
Processes and a real dask.distributed cluster (a scheduler and worker processes) give bit-identical
models, so its spread is an uncertainty that does not depend on where it was computed (issue 19)."""

import distributed
import pytest
import torch

import toolkit as tk
from problems.datasets import FitPotential
from problems.molecule import water
from solvers.molecule import HIPNNTraining, committee_predict


@pytest.fixture(scope="module")
def committee():
    problem = FitPotential.example(0)
    solver = tk.remake(HIPNNTraining.example(), epochs=2)
    return tk.EnsembleProblem(problem, n=3, seed=11), solver


def test_processes_and_dask_train_the_same_committee_as_serial(committee):
    ensemble, solver = committee
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        serial = tk.solve(ensemble, solver, ensemble=tk.Serial())
        processes = tk.solve(ensemble, solver, ensemble=tk.Processes(2))
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
                as cluster:
            dask = tk.solve(ensemble, solver, ensemble=tk.Dask(cluster.scheduler_address))
    finally:
        torch.set_num_threads(before)
    for run in (serial, processes, dask):
        assert run.successful and len(run.members) == 3
    molecule = water()
    reference = committee_predict(serial, molecule)
    for run in (processes, dask):
        for a, b in zip(serial.members, run.members):
            assert a.potential == b.potential                       # the trained models are identical
        assert committee_predict(run, molecule) == reference       # and so is the committee's (mean, spread)
    assert reference[1] > 0

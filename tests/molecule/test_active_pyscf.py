"""A PySCF (HF/STO-3G) active-learning campaign on water, including SCF calls that do not converge
(recorded with their reason and skipped). Marked ``slow`` (run by CI).

The issue's QBC-vs-random criterion on ethanol with GFN2-xTB is measured by
``benchmarks/active_ethanol.py`` (it is not met on every seed at this model size; see the issue's notes).
"""

from __future__ import annotations

import numpy as np
import pytest

import toolkit as tk
from problems.datasets import ActiveLearning
from problems.molecule import water
from solvers.molecule import PySCF, sample_configurations
from solvers.molecule.active import QueryByCommittee, RandomSelection
from solvers.molecule.hipnn import HIPNN, HIPNNTraining


pytestmark = pytest.mark.usefixtures("one_torch_thread")     # tests/molecule/conftest.py


@pytest.mark.slow
def test_a_pyscf_campaign_on_water_keeps_going_past_scf_failures():
    """HF/STO-3G on water: 6 starting and 4 test snapshots labelled by PySCF; the oracle allows
    only 6 SCF cycles, so most configurations fail to converge: each failure is recorded with
    PySCF's reason, skipped, and still spends budget."""
    scf = PySCF(method="HF", basis="sto-3g")
    start = sample_configurations(water(), scf, temperatures=[300.0], steps=30, every=5, seed=1)
    test = sample_configurations(water(), scf, temperatures=[600.0], steps=40, every=10, seed=3)
    pool = sample_configurations(water(), scf, temperatures=[300.0, 2000.0], steps=40, every=10, seed=2)
    pool = tk.remake(pool, forces=None)
    model = HIPNN(features=4, sensitivities=4, interactions=1, atom_layers=1, cutoff=4.0, soft_min=0.7,
                  soft_max=3.0, species=("H", "O"))
    training = HIPNNTraining(model=model, epochs=3, batch=4, hierarchicality_weight=0.0, dtype="float64",
                             patience=None)
    problem = ActiveLearning(start, pool, tk.remake(scf, max_cycle=6), budget=6, test=test, rounds=2)
    sol = tk.solve(problem, QueryByCommittee(model=training, committee=2, batch=3, seed=0), progress=False)
    assert sol.successful and len(sol.chosen) == 6 and sol.calls[-1] == 6
    assert sol.failed.size >= 1                                         # measured: 7 of the 8 fail at 6 cycles
    assert len(sol.dataset) == len(start) + 6 - len(sol.failed)
    assert all("ConvergenceFailure" in reason and "did not converge" in reason for reason in sol.failure_reasons)
    answered = [i for i in sol.chosen.tolist() if i not in sol.failed.tolist()]
    full = tk.solve(tk.remake(problem, oracle=scf), RandomSelection(model=training, batch=3), progress=False)
    assert full.failed.size == 0                                        # with enough cycles every call converges
    if answered:                                                        # converged answers are PySCF's
        from solvers.molecule import label_dataset

        again = label_dataset(pool.subset(answered), scf)
        assert np.allclose(sol.dataset.energies[len(start):], again.energies, atol=1e-6)

"""The campaign's whole-dataset committee predictions equal the structure-by-structure ones."""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.datasets import FitPotential
from solvers.molecule import label_dataset
from solvers.molecule.active.predict import predict_dataset
from solvers.molecule.hipnn import HIPNN, HIPNNTraining


def test_batched_predictions_match_one_structure_at_a_time():
    problem = FitPotential.example(0)                      # 24 bent H-O-H, Morse energies
    model = HIPNN(features=4, sensitivities=4, interactions=2, atom_layers=1, cutoff=4.0, soft_min=0.7,
                  soft_max=3.0, species=("H", "O"))
    potential = tk.solve(problem, HIPNNTraining(model=model, epochs=3, batch=8, dtype="float64"),
                         progress=False).potential
    energies, forces = predict_dataset(potential, problem.dataset)
    one_by_one = label_dataset(problem.dataset, potential)
    assert np.allclose(energies, one_by_one.energies, rtol=0, atol=1e-10)
    assert np.allclose(forces, one_by_one.forces, rtol=0, atol=1e-10)
    assert np.ptp(energies) > 0 and np.abs(forces).max() > 0

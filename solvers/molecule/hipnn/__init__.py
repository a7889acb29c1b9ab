"""HIP-NN, the Hierarchically Interacting Particle Neural Network, as a potential (issue 19).

Lubbers, Smith & Barros, J. Chem. Phys. 148, 241715 (2018), doi:10.1063/1.5011181.
:class:`HIPNN` is the solver (a :class:`~solvers.molecule.potential.Potential`); the torch
module lives in :mod:`.model` (imported on first use, so ``import solvers`` does not load torch),
the pair lists in :mod:`.pairs`, the parameter layout in :mod:`.layout` and the composition fit
``E_0`` in :mod:`.composition`. Training is a solve: :class:`HIPNNTraining` fits a HIP-NN to a
``problems.datasets.FitPotential`` (:mod:`.training`, one step per epoch) and returns a
:class:`PotentialFit`; committees of independently seeded runs give an uncertainty
(:mod:`.committee`).
"""

from __future__ import annotations

from .committee import committee_potentials, committee_predict
from .composition import fit_composition, species_counts
from .fit_solution import PotentialFit
from .potential import HIPNN, HIPNNEvaluator
from .training import HIPNNTraining, TrainingIntegrator

__all__ = ["HIPNN", "HIPNNEvaluator", "HIPNNTraining", "PotentialFit", "TrainingIntegrator", "committee_potentials",
           "committee_predict", "fit_composition", "species_counts"]

"""HIP-NN, the Hierarchically Interacting Particle Neural Network, as a potential (issue 19).

Lubbers, Smith & Barros, J. Chem. Phys. 148, 241715 (2018), doi:10.1063/1.5011181.
:class:`HIPNN` is the solver (a :class:`~solvers.molecule.potential.Potential`); the torch
module lives in :mod:`.model` (imported on first use, so ``import solvers`` does not load torch),
the pair lists in :mod:`.pairs`, the parameter layout in :mod:`.layout` and the composition fit
``E_0`` in :mod:`.composition`.
"""

from __future__ import annotations

from .composition import fit_composition, species_counts
from .potential import HIPNN, HIPNNEvaluator

__all__ = ["HIPNN", "HIPNNEvaluator", "fit_composition", "species_counts"]

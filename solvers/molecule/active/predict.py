"""Committee predictions on a whole dataset at once (the campaign's scoring and test errors).

For a :class:`~solvers.molecule.hipnn.HIPNN` every structure of the dataset goes into one graph
(the pair lists of :class:`~solvers.molecule.hipnn.batches.PairGraph`, structures offset so no
pair crosses two of them): one forward pass gives each atom's block energies, summed per
structure, and one backward pass of the summed energy gives every atom's force
``F_i = -dE/dx_i`` (structures are independent, so the gradient of the sum is each structure's
own). Any other potential is evaluated structure by structure
(:func:`~solvers.molecule.sampling.label_dataset`). Both agree to rounding (a test checks 1e-10).
"""

from __future__ import annotations

import numpy as np

from ..hipnn import HIPNN
from ..sampling import label_dataset

__all__ = ["predict_dataset"]

#: Structures per forward pass (bounds the graph's memory).
CHUNK = 512


def predict_dataset(potential, dataset, charge: int = 0, spin: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(energies (n,) eV, forces (atoms, 3) eV/Å)`` of ``potential`` on every structure of ``dataset``."""
    if not isinstance(potential, HIPNN) or potential.parameters is None or dataset.periodic.any():
        out = label_dataset(dataset, potential, charge, spin)
        return out.energies, out.forces
    import torch

    from ..hipnn.batches import PairGraph

    graph = PairGraph(dataset, potential.species, potential.cutoff)
    model = potential.model().requires_grad_(False)
    dtype = next(model.parameters()).dtype
    device = potential.device
    energies = np.empty(len(dataset))
    forces = np.empty((int(dataset.offsets[-1]), 3))
    for start in range(0, len(dataset), CHUNK):
        batch = graph.batch(np.arange(start, min(start + CHUNK, len(dataset))))
        d = torch.as_tensor(graph.separations[batch.pairs], dtype=dtype, device=device).requires_grad_(True)
        first = torch.as_tensor(batch.first, device=device)
        second = torch.as_tensor(batch.second, device=device)
        with torch.enable_grad():
            atom_blocks = model(torch.as_tensor(graph.species[batch.atoms], device=device), first, second,
                                torch.linalg.vector_norm(d, dim=1))
            per_atom = atom_blocks.sum(dim=1)
            (g,) = torch.autograd.grad(per_atom.sum(), d)
        g = g.detach().to(torch.float64)
        f = torch.zeros((len(batch.atoms), 3), dtype=torch.float64, device=device)
        f.index_add_(0, first, g).index_add_(0, second, -g)
        e = torch.zeros(batch.m, dtype=torch.float64, device=device)
        e.index_add_(0, torch.as_tensor(batch.molecule, device=device), per_atom.detach().to(torch.float64))
        energies[batch.structures] = e.cpu().numpy()
        forces[batch.atoms] = f.cpu().numpy()
    return energies, forces

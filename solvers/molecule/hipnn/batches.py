"""A dataset as HIP-NN input: pair lists built once, mini-batches cut out by index arithmetic.

:class:`PairGraph` holds, for ``M`` structures (``N`` atoms, ``P`` directed pairs in all):

* ``species`` int64[N] — indices into the model's species list;
* ``atom_offsets`` int64[M+1], ``pair_offsets`` int64[M+1] — structure ``k`` owns atoms
  ``atom_offsets[k]:atom_offsets[k+1]`` and pairs ``pair_offsets[k]:pair_offsets[k+1]``;
* ``first``, ``second`` int64[P] — the pair's atoms, counted from the start of its structure
  (``first`` receives, as in :mod:`.model`);
* ``separations`` float64[P, 3] — ``d_p = x_second - x_first + shift`` (Å, periodic images
  included: :func:`.pairs.directed_pairs` with the model's cutoff);
* ``counts`` float64[M, S] — atoms of each model species per structure (the composition);
* ``energies`` float64[M] (eV), ``forces`` float64[N, 3] (eV/Å) or None.

:meth:`PairGraph.batch` gathers structures ``idx`` into one disconnected graph (atom indices
shifted by each structure's new atom offset), the form :class:`.model.HIPNNModel` takes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PairGraph", "Batch"]


class Batch:
    """Index arrays of a mini-batch of ``m`` structures (NumPy, int64)."""

    __slots__ = ("structures", "atoms", "pairs", "first", "second", "molecule", "m")

    def __init__(self, structures, atoms, pairs, first, second, molecule):
        self.structures, self.atoms, self.pairs = structures, atoms, pairs
        self.first, self.second, self.molecule = first, second, molecule
        self.m = len(structures)


class PairGraph:
    """Pair lists of every structure of a dataset for a model's species and cutoff (module docstring)."""

    def __init__(self, dataset, species: tuple, cutoff: float):
        from ase.data import atomic_numbers

        from .pairs import directed_pairs

        lookup = np.full(119, -1, dtype=np.int64)
        for k, symbol in enumerate(species):
            lookup[atomic_numbers[symbol]] = k
        index = lookup[dataset.species]
        if np.any(index < 0):
            from ase.data import chemical_symbols

            missing = sorted({chemical_symbols[z] for z in dataset.species[index < 0]})
            raise ValueError(f"the dataset holds {missing}, which the model's species {list(species)} lack")
        self.species = index
        self.atom_offsets = dataset.offsets
        n = len(dataset)
        firsts, seconds, seps, sizes = [], [], [], np.zeros(n, dtype=np.int64)
        periodic = dataset.periodic
        for k in range(n):
            a, b = dataset.offsets[k], dataset.offsets[k + 1]
            x = dataset.positions[a:b]
            cell = dataset.cells[k] if periodic[k] else None
            pbc = tuple(bool(p) for p in dataset.pbc[k]) if periodic[k] else (False,) * 3
            i, j, shift = directed_pairs(x, cell, pbc, cutoff)
            firsts.append(i)
            seconds.append(j)
            seps.append(x[j] - x[i] + shift)
            sizes[k] = i.size
        self.pair_offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.first = np.concatenate(firsts).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
        self.second = np.concatenate(seconds).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
        self.separations = np.concatenate(seps) if n else np.zeros((0, 3))
        self.counts = np.zeros((n, len(species)))
        np.add.at(self.counts, (np.repeat(np.arange(n), dataset.n_atoms), index), 1.0)
        self.energies = np.asarray(dataset.energies, dtype=np.float64)
        self.forces = dataset.forces
        self.n = n

    def __len__(self) -> int:
        return self.n

    @property
    def n_atoms(self) -> np.ndarray:
        return np.diff(self.atom_offsets)

    @property
    def n_pairs(self) -> np.ndarray:
        return np.diff(self.pair_offsets)

    def batch(self, structures) -> Batch:
        """The structures ``structures`` (int64 indices) as one graph (see the module docstring)."""
        idx = np.asarray(structures, dtype=np.int64)
        na, npair = self.n_atoms[idx], self.n_pairs[idx]
        new_atoms = np.concatenate([[0], np.cumsum(na)])
        new_pairs = np.concatenate([[0], np.cumsum(npair)])
        atoms = np.repeat(self.atom_offsets[idx] - new_atoms[:-1], na) + np.arange(new_atoms[-1])
        pairs = np.repeat(self.pair_offsets[idx] - new_pairs[:-1], npair) + np.arange(new_pairs[-1])
        shift = np.repeat(new_atoms[:-1], npair)
        return Batch(idx, atoms, pairs, self.first[pairs] + shift, self.second[pairs] + shift,
                     np.repeat(np.arange(len(idx), dtype=np.int64), na))

"""Atomistic datasets: many structures of varying size, with energies and (where known) forces.

An :class:`AtomisticDataset` holds ``n`` structures as flat arrays plus offsets, never as Python
lists of arrays: structure ``k`` owns atoms ``offsets[k]:offsets[k + 1]`` of

* ``species`` — atomic numbers (int64, 1..118);
* ``positions`` — Å (float64, one row per atom);
* ``forces`` — eV/Å (float64, one row per atom), or ``None`` for a dataset without forces
  (QM9 has none; the GFN2-xTB sampler gives them);

and owns entry ``k`` of ``energies`` (eV), ``ids`` (an integer label, e.g. the QM9 index), and,
for crystals or boxed liquids, ``cells`` (Å, three row vectors) and ``pbc`` (three booleans).
Units are eV and Å throughout (the molecule family's convention); :meth:`AtomisticDataset.from_structures`
converts from Hartree, kcal/mol, kJ/mol, Bohr or nm with the CODATA 2018 constants below.

Validation refuses, naming the field, the structure and what is allowed: ragged or mis-shaped
arrays, NaN or infinite values, unknown atomic numbers, and two atoms of one structure closer
than :data:`DATASET_MIN_DISTANCE` (0.1 Å; periodic images included), which almost always means
duplicated atoms or positions in the wrong unit.

Files: ``write(path)`` / ``AtomisticDataset.read(path)`` pick the format from the suffix —
``.nc`` (NetCDF-4 through ``toolkit.io``'s checksummed records, arrays bit for bit),
``.npz`` (NumPy, no pickle) and ``.xyz`` / ``.extxyz`` (extended XYZ through ASE, energies and
forces as ASE's single-point results, ~1e-8 text precision).

Splits: :meth:`AtomisticDataset.split` permutes the structures with
``numpy.random.default_rng(numpy.random.SeedSequence(seed)).permutation(n)`` and cuts the
permutation at ``floor(n * c_k)`` with ``c_k`` the cumulative fractions (the last cut is ``n``
when the fractions sum to one); each part keeps its structures in their original order.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

import toolkit as tk
from toolkit import records

from .molecule import PotentialEnergy  # the molecule family's data module: oracles serve PotentialEnergy
from toolkit import validate as v

__all__ = ["AtomisticDataset", "AtomicStructure", "FitPotential", "ActiveLearning", "CandidateSampler", "FixedPool",
           "CommitteeMDSampler", "NormalModeSampler", "NORMAL_MODE_RECIPES", "DATASET_MIN_DISTANCE", "HARTREE_EV",
           "BOHR_ANGSTROM", "KCAL_MOL_EV"]

#: Two atoms of one structure closer than this (Å) are refused as overlapping.
DATASET_MIN_DISTANCE = 0.1
#: One Hartree in eV (CODATA 2018: 27.211 386 245 988 eV).
HARTREE_EV = 27.211386245988
#: One Bohr radius in Å (CODATA 2018: 0.529 177 210 903 Å).
BOHR_ANGSTROM = 0.529177210903
#: eV per kcal/mol and per kJ/mol, from the exact SI e and N_A (thermochemical calorie, 4.184 J).
_MOLAR_EV = 1.0 / (1.602176634e-19 * 6.02214076e23)
#: One kcal/mol in eV (about 0.0433641 eV).
KCAL_MOL_EV = 4184.0 * _MOLAR_EV
ENERGY_UNITS = {"eV": 1.0, "Hartree": HARTREE_EV, "kcal/mol": 4184.0 * _MOLAR_EV, "kJ/mol": 1000.0 * _MOLAR_EV,
                "meV": 1e-3}
LENGTH_UNITS = {"Å": 1.0, "Angstrom": 1.0, "Bohr": BOHR_ANGSTROM, "nm": 10.0}
#: Largest coordinate or cell entry (Å) and largest |energy| per atom (eV) / |force| (eV/Å) accepted.
_MAX_COORDINATE, _MAX_ENERGY_PER_ATOM, _MAX_FORCE = 1e8, 1e7, 1e7
#: Pair-distance blocks of the overlap check hold at most this many entries.
_BLOCK = 1 << 21
#: Farthest pair distance (Å) searched for in a periodic structure.
_PERIODIC_REACH = 16.0
#: Structures with more atoms than this use a k-d tree for the overlap check.
_DENSE_LIMIT = 256

_E = tk.InvalidProblemError


def _fail(name, value, allowed):
    v._fail(_E, name, value, allowed)


@records.register
@dataclasses.dataclass(frozen=True, eq=False)
class AtomicStructure:
    """One structure of a dataset: views into its arrays (see :class:`AtomisticDataset`)."""

    species: np.ndarray
    positions: np.ndarray
    energy: float
    forces: np.ndarray | None
    cell: np.ndarray | None
    pbc: tuple
    id: int

    @property
    def n_atoms(self) -> int:
        return len(self.species)

    @property
    def symbols(self) -> tuple:
        from ase.data import chemical_symbols

        return tuple(chemical_symbols[z] for z in self.species)

    def to_ase(self):
        """An ``ase.Atoms`` carrying the energy and forces as single-point results."""
        from ase import Atoms
        from ase.calculators.singlepoint import SinglePointCalculator

        atoms = Atoms(numbers=self.species, positions=self.positions,
                      cell=np.zeros((3, 3)) if self.cell is None else self.cell, pbc=self.pbc)
        atoms.info["id"] = int(self.id)
        results = {"energy": float(self.energy)}
        if self.forces is not None:
            results["forces"] = np.array(self.forces)
        atoms.calc = SinglePointCalculator(atoms, **results)
        return atoms

    def __repr__(self) -> str:
        return f"AtomicStructure(id={self.id}, n_atoms={self.n_atoms}, energy={self.energy:.6g})"


class AtomisticDataset(tk.Struct):
    """Structures with energies (eV) and optional forces (eV/Å); see the module docstring.

    Build one with :meth:`from_structures` (lists of per-structure arrays, any unit),
    :meth:`from_ase` (``ase.Atoms`` frames with single-point results) or :meth:`read`; the
    constructor takes the flat arrays themselves.
    """

    species: np.ndarray
    positions: np.ndarray
    offsets: np.ndarray
    energies: np.ndarray
    forces: np.ndarray | None = None
    cells: np.ndarray | None = None
    pbc: np.ndarray | None = None
    ids: np.ndarray | None = None
    source: str = ""

    _error = _E

    # -- validation ---------------------------------------------------------------------
    def _validate(self):
        offsets = v.index_array("offsets", self.offsets, ndim=1, error=_E)
        if len(offsets) < 2 or offsets[0] != 0 or np.any(np.diff(offsets) < 1):
            _fail("offsets", offsets, "give n + 1 increasing atom offsets starting at 0 (structure k owns atoms "
                  "offsets[k]:offsets[k+1]; every structure needs at least one atom)")
        n, atoms = len(offsets) - 1, int(offsets[-1])
        self._set("offsets", offsets)
        self._set("species", _atomic_numbers(self.species, atoms))
        positions = _finite_rows("positions", self.positions, atoms, offsets, "Å")
        if np.abs(positions).max() > _MAX_COORDINATE:
            _fail("positions", positions, f"every coordinate must be within ±{_MAX_COORDINATE:g} Å")
        self._set("positions", positions)
        energies = _finite_values("energies", self.energies, n, "eV (one energy per structure)")
        per_atom = np.abs(energies) / np.diff(offsets)
        if per_atom.max() > _MAX_ENERGY_PER_ATOM:
            k = int(per_atom.argmax())
            _fail("energies", energies, f"structure {k} has {per_atom[k]:.4g} eV per atom, past "
                  f"{_MAX_ENERGY_PER_ATOM:g}: energies are in eV (convert with from_structures(energy_unit=...))")
        self._set("energies", energies)
        if self.forces is not None:
            forces = _finite_rows("forces", self.forces, atoms, offsets, "eV/Å")
            if np.abs(forces).max() > _MAX_FORCE:
                _fail("forces", forces, f"every component must be within ±{_MAX_FORCE:g} eV/Å (forces are in eV/Å)")
            self._set("forces", forces)
        self._set("cells", _cells(self.cells, n))
        self._set("pbc", _pbc(self.pbc, n, self.cells))
        self._set("ids", np.arange(n, dtype=np.int64) if self.ids is None else
                  v.index_array("ids", self.ids, shape=(n,), lower=None, error=_E))
        closest = self.closest_distances()
        if closest.min() < DATASET_MIN_DISTANCE:
            k = int(closest.argmin())
            raise _E(f"positions put two atoms of structure {k} (id {self.ids[k]}) {closest[k]:.3g} Å apart: atoms "
                     f"closer than {DATASET_MIN_DISTANCE} Å overlap. Remove duplicated atoms or check the units "
                     "(positions are in Å; from_structures(length_unit='Bohr' or 'nm') converts).")

    # -- sizes and access --------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_structures(self) -> int:
        return len(self)

    @property
    def n_atoms(self) -> np.ndarray:
        """Atoms per structure (int64[n])."""
        return np.diff(self.offsets)

    @property
    def has_forces(self) -> bool:
        return self.forces is not None

    @property
    def periodic(self) -> np.ndarray:
        """Whether each structure is periodic along any direction (bool[n])."""
        return np.zeros(len(self), dtype=bool) if self.pbc is None else self.pbc.any(axis=1)

    def structure(self, k: int) -> AtomicStructure:
        """Structure ``k`` (negative counts from the end); its arrays are read-only views."""
        n = len(self)
        k = v.integer("index", k, lower=-n, upper=n - 1, error=IndexError)
        k %= n
        a, b = self.offsets[k], self.offsets[k + 1]
        return AtomicStructure(species=_view(self.species[a:b]), positions=_view(self.positions[a:b]),
                               energy=float(self.energies[k]),
                               forces=None if self.forces is None else _view(self.forces[a:b]),
                               cell=None if self.cells is None else _view(self.cells[k]),
                               pbc=(False,) * 3 if self.pbc is None else tuple(bool(p) for p in self.pbc[k]),
                               id=int(self.ids[k]))

    def __getitem__(self, key):
        """``ds[k]`` is one :class:`AtomicStructure`; ``ds[a:b]`` and ``ds[[i, j]]`` are subsets."""
        if isinstance(key, slice):
            return self.subset(np.arange(len(self))[key])
        if isinstance(key, (list, tuple, np.ndarray)):
            return self.subset(key)
        return self.structure(key)

    def __iter__(self):
        return (self.structure(k) for k in range(len(self)))

    def composition(self, species=None) -> tuple[np.ndarray, np.ndarray]:
        """``(counts int64[n, s], species int64[s])``: how many atoms of each element each structure has.

        ``species`` (atomic numbers) fixes the columns; by default the elements present, ascending.
        """
        present = np.unique(self.species)
        columns = present if species is None else np.asarray(
            _atomic_numbers(species, len(np.atleast_1d(species))), dtype=np.int64)
        missing = np.setdiff1d(present, columns)
        if missing.size:
            _fail("species", columns, f"list every element of the dataset (missing {missing.tolist()})")
        column = np.searchsorted(columns, self.species) if np.all(np.diff(columns) > 0) else \
            np.array([int(np.flatnonzero(columns == z)[0]) for z in self.species])
        structure = np.repeat(np.arange(len(self)), self.n_atoms)
        counts = np.zeros((len(self), len(columns)), dtype=np.int64)
        np.add.at(counts, (structure, column), 1)
        return counts, columns

    def closest_distances(self) -> np.ndarray:
        """The smallest interatomic distance of each structure (Å; inf for one isolated atom), periodic
        images included along periodic directions (inf when no pair lies within 16 Å)."""
        n_atoms = self.n_atoms
        out = np.full(len(self), np.inf)
        periodic = self.periodic
        for count in np.unique(n_atoms):
            if count < 2:
                continue
            members = np.flatnonzero((n_atoms == count) & ~periodic)
            if count > _DENSE_LIMIT:
                from scipy.spatial import cKDTree

                for k in members:
                    x = self.positions[self.offsets[k]:self.offsets[k + 1]]
                    out[k] = float(cKDTree(x).query(x, k=2)[0][:, 1].min())
                continue
            chunk = max(1, _BLOCK // (count * count))
            for start in range(0, len(members), chunk):
                block = members[start:start + chunk]
                x = self.positions[self.offsets[block][:, None] + np.arange(count)]        # (m, c, 3)
                d2 = np.einsum("mijx,mijx->mij", x[:, :, None] - x[:, None], x[:, :, None] - x[:, None])
                d2[:, np.arange(count), np.arange(count)] = np.inf
                out[block] = np.sqrt(d2.reshape(len(block), -1).min(axis=1))
        for k in np.flatnonzero(periodic):
            from ase.neighborlist import neighbor_list

            atoms, reach = self.structure(k).to_ase(), 2.0
            while reach <= _PERIODIC_REACH:      # widen the search until a pair is found
                d = neighbor_list("d", atoms, reach)
                if d.size:
                    out[k] = float(d.min())
                    break
                reach *= 2.0
        return out

    # -- subsets and splits ----------------------------------------------------------------
    def subset(self, indices) -> "AtomisticDataset":
        """The structures at ``indices`` (any order; repeats allowed, e.g. for bootstrap committees)."""
        n = len(self)
        if isinstance(indices, (bool, np.bool_)) or indices is None:
            _fail("indices", indices, "give structure indices (integers)")
        raw = np.asarray(indices)
        if raw.dtype == np.bool_:
            if raw.shape != (n,):
                _fail("indices", raw, f"a boolean mask needs one entry per structure ({n})")
            raw = np.flatnonzero(raw)
        idx = v.index_array("indices", raw, ndim=1, lower=-n, upper=n, error=_E) % max(n, 1)
        if idx.size == 0:
            _fail("indices", raw, "select at least one structure")
        counts = self.n_atoms[idx]
        offsets = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        atoms = np.repeat(self.offsets[idx] - offsets[:-1], counts) + np.arange(offsets[-1])
        return self._trusted(
            species=self.species[atoms], positions=self.positions[atoms], offsets=offsets,
            energies=self.energies[idx], forces=None if self.forces is None else self.forces[atoms],
            cells=None if self.cells is None else self.cells[idx], pbc=None if self.pbc is None else self.pbc[idx],
            ids=self.ids[idx], source=self.source)

    def split(self, fractions, seed: int = 0) -> tuple["AtomisticDataset", ...]:
        """Disjoint parts holding ``fractions`` of the structures, drawn by the seeded rule of the module
        docstring (``SeedSequence(seed)``; the same seed always gives the same parts)."""
        if isinstance(fractions, (int, float, np.number)) and not isinstance(fractions, bool):
            fractions = (fractions, 1.0 - float(fractions))
        f = v.real_array("fractions", fractions, ndim=1, lower=0.0, upper=1.0, error=_E)
        total = float(f.sum())
        if len(f) < 1 or np.any(f <= 0) or total > 1.0 + 1e-9:
            _fail("fractions", fractions, "give positive fractions summing to at most 1, e.g. (0.8, 0.1, 0.1)")
        seed = v.integer("seed", seed, lower=0, upper=2 ** 63 - 1, error=_E)
        n = len(self)
        order = np.random.default_rng(np.random.SeedSequence(seed)).permutation(n)
        cuts = np.floor(n * np.cumsum(f) + 1e-9).astype(np.int64)
        if abs(total - 1.0) <= 1e-9:
            cuts[-1] = n
        bounds = np.concatenate([[0], np.minimum(cuts, n)])
        parts = []
        for k in range(len(f)):
            chosen = np.sort(order[bounds[k]:bounds[k + 1]])
            if chosen.size == 0:
                _fail("fractions", fractions, f"part {k} gets no structure out of {n}; raise its fraction or use "
                      "more data")
            parts.append(self.subset(chosen))
        return tuple(parts)

    @classmethod
    def concatenate(cls, datasets) -> "AtomisticDataset":
        """One dataset of all the structures of ``datasets``, in order (all with forces, or all without)."""
        datasets = list(datasets)
        if not datasets or not all(isinstance(d, AtomisticDataset) for d in datasets):
            _fail("datasets", datasets, "give a non-empty sequence of AtomisticDataset")
        with_forces = {d.has_forces for d in datasets}
        if len(with_forces) > 1:
            _fail("datasets", datasets, "give datasets that all have forces or all lack them")
        boxed = any(d.cells is not None for d in datasets)
        offsets = np.concatenate([[0], np.cumsum(np.concatenate([d.n_atoms for d in datasets]))])
        sources = list(dict.fromkeys(d.source for d in datasets if d.source))
        return cls._trusted(
            species=np.concatenate([d.species for d in datasets]),
            positions=np.concatenate([d.positions for d in datasets]), offsets=offsets.astype(np.int64),
            energies=np.concatenate([d.energies for d in datasets]),
            forces=np.concatenate([d.forces for d in datasets]) if with_forces == {True} else None,
            cells=np.concatenate([d.cells if d.cells is not None else np.zeros((len(d), 3, 3))
                                  for d in datasets]) if boxed else None,
            pbc=np.concatenate([d.pbc if d.pbc is not None else np.zeros((len(d), 3), dtype=bool)
                                for d in datasets]) if boxed else None,
            ids=np.concatenate([d.ids for d in datasets]), source="; ".join(sources))

    @classmethod
    def _trusted(cls, **fields) -> "AtomisticDataset":
        """A dataset from arrays cut out of validated datasets (no second validation pass)."""
        obj = object.__new__(cls)
        for f in dataclasses.fields(cls):
            value = fields.get(f.name, f.default)
            if isinstance(value, np.ndarray):
                value = np.ascontiguousarray(value)
            object.__setattr__(obj, f.name, value)
        return obj

    # -- builders --------------------------------------------------------------------------
    @classmethod
    def from_structures(cls, species, positions, energies, forces=None, cells=None, pbc=None, ids=None,
                        energy_unit: str = "eV", length_unit: str = "Å", source: str = "") -> "AtomisticDataset":
        """A dataset from per-structure sequences: ``species[k]`` (symbols or atomic numbers),
        ``positions[k]`` (``(n_k, 3)``), ``energies[k]`` and optionally ``forces[k]``, ``cells[k]``.

        ``energy_unit`` (eV, meV, Hartree, kcal/mol, kJ/mol) and ``length_unit`` (Å, Bohr, nm) convert
        to eV and Å; forces are taken in ``energy_unit / length_unit``.
        """
        e_scale = ENERGY_UNITS.get(energy_unit) if isinstance(energy_unit, str) else None
        if e_scale is None:
            _fail("energy_unit", energy_unit, "choose one of " + ", ".join(map(repr, ENERGY_UNITS)))
        l_scale = LENGTH_UNITS.get(length_unit) if isinstance(length_unit, str) else None
        if l_scale is None:
            _fail("length_unit", length_unit, "choose one of " + ", ".join(map(repr, LENGTH_UNITS)))
        species, positions = list(species), list(positions)
        n = len(species)
        if n == 0 or len(positions) != n:
            _fail("positions", positions, f"give one (n_k, 3) array per structure ({n} species lists)")
        zs = [_atomic_numbers(s, len(s), name=f"species[{k}]") for k, s in enumerate(species)]
        xs = [v.real_array(f"positions[{k}]", x, shape=(len(zs[k]), 3), error=_E) for k, x in enumerate(positions)]
        counts = np.array([len(z) for z in zs], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        f = None
        if forces is not None:
            forces = list(forces)
            if len(forces) != n:
                _fail("forces", forces, f"give one (n_k, 3) array per structure ({n})")
            f = np.concatenate([v.real_array(f"forces[{k}]", fk, shape=(counts[k], 3), error=_E)
                                for k, fk in enumerate(forces)]) * (e_scale / l_scale)
        c = None if cells is None else np.asarray(_cells(cells, n), dtype=float) * l_scale
        return cls(species=np.concatenate(zs), positions=np.concatenate(xs) * l_scale, offsets=offsets,
                   energies=np.asarray(v.real_array("energies", energies, shape=(n,), error=_E)) * e_scale,
                   forces=f, cells=c, pbc=pbc, ids=ids, source=source)

    @classmethod
    def from_ase(cls, frames, forces: bool | None = None, energy_key: str = "energy",
                 source: str = "") -> "AtomisticDataset":
        """A dataset from ``ase.Atoms`` frames whose energy (eV) is a single-point result or
        ``atoms.info[energy_key]``; forces from the results or ``atoms.arrays['forces']``.

        ``forces=None`` keeps forces when every frame has them (a mix is refused), ``False`` drops them,
        ``True`` requires them. Isolated frames (no cell, no pbc) give ``cells=None``.
        """
        frames = list(frames)
        if not frames:
            _fail("frames", frames, "give at least one ase.Atoms")
        energies, force_list, ids = [], [], []
        for k, atoms in enumerate(frames):
            results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
            energy = results.get("energy", atoms.info.get(energy_key))
            if energy is None:
                _fail(f"frames[{k}]", atoms, f"every frame needs an energy (eV): a single-point result or "
                      f"atoms.info[{energy_key!r}]")
            energies.append(float(energy))
            fk = results.get("forces", atoms.arrays.get("forces"))
            force_list.append(None if fk is None else np.asarray(fk, dtype=float))
            ids.append(int(atoms.info.get("id", k)))
        have = [fk is not None for fk in force_list]
        if forces is None:
            if any(have) and not all(have):
                _fail("forces", None, f"{sum(have)} of {len(have)} frames have forces: pass forces=False to drop "
                      "them, or label the rest")
            forces = all(have)
        elif forces and not all(have):
            _fail("forces", forces, f"frame {have.index(False)} has no forces; pass forces=False or None")
        boxed = any(a.cell.rank > 0 or a.pbc.any() for a in frames)
        return cls.from_structures(
            [a.numbers for a in frames], [a.positions for a in frames], energies,
            forces=force_list if forces else None,
            cells=[a.cell.array for a in frames] if boxed else None,
            pbc=np.array([a.pbc for a in frames]) if boxed else None, ids=ids, source=source)

    def to_ase(self) -> list:
        """Every structure as an ``ase.Atoms`` with single-point energy and forces."""
        return [s.to_ase() for s in self]

    # -- files ----------------------------------------------------------------------------
    def write(self, path) -> Path:
        """Write to ``path``: ``.nc`` (NetCDF record), ``.npz`` (NumPy) or ``.xyz`` / ``.extxyz`` (ASE)."""
        path = Path(path)
        kind = _format(path)
        if kind == "nc":
            from toolkit.io import write_record

            return write_record(path, "atomistic_dataset", self, {"source": self.source})
        if kind == "npz":
            arrays = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                      if isinstance(getattr(self, f.name), np.ndarray)}
            with open(path, "wb") as handle:
                np.savez_compressed(handle, format=np.array("scalebridge.AtomisticDataset/1"),
                                    source=np.array(self.source), **arrays)
            return path
        from ase.io import write

        write(path, self.to_ase(), format="extxyz")
        return path

    @classmethod
    def read(cls, path, **kwargs) -> "AtomisticDataset":
        """Read what :meth:`write` wrote (extxyz: any ASE extxyz file; ``kwargs`` go to :meth:`from_ase`)."""
        path = Path(path)
        kind = _format(path)
        if not path.is_file():
            raise FileNotFoundError(f"no file at {path}")
        if kind == "nc":
            from toolkit.io import read_record

            obj, _ = read_record(path, "atomistic_dataset")
            if not isinstance(obj, cls):
                raise tk.FileFormatError(f"{path} holds a {type(obj).__name__}, not an AtomisticDataset")
            return obj
        if kind == "npz":
            with np.load(path, allow_pickle=False) as data:
                if "format" not in data or str(data["format"]) != "scalebridge.AtomisticDataset/1":
                    raise tk.FileFormatError(f"{path} is not an AtomisticDataset .npz file (no format tag)")
                fields = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
                fields["source"] = str(data["source"])
            return cls(**fields)
        from ase.io import read

        return cls.from_ase(read(path, index=":", format="extxyz"), **kwargs)


# -- fitting a potential to a dataset ------------------------------------------------------------

#: Targets a potential can be fitted to.
FIT_TARGETS = ("energy", "forces")
#: Largest force weight accepted (a weight past this drowns the energy term entirely).
_MAX_FORCE_WEIGHT = 1e6


class FitPotential(tk.TimeProblem):
    """Fit a learned potential to the energies (and forces) of ``dataset``: training as a solve.

    The structures are split once, by :meth:`AtomisticDataset.split`'s seeded rule with
    ``split_seed``, into training, validation and test parts holding the fractions
    ``1 - validation - test``, ``validation`` and ``test`` (``test = 0``: no test part). The
    solver minimises, over the training part, the error loss

        L = RMSE_E + MAE_E + force_weight (RMSE_F + MAE_F)

    (energies per structure in eV, force components in eV/Å; the force terms only with
    ``"forces"`` among ``targets``), plus its own regularisation terms; the validation part picks
    the stopping epoch and the test part is only ever used for the reported metrics. One step of
    the run is one epoch (a pass over the training part); the number of epochs is the solver's.

    ``targets``: ``("energy",)`` or ``("energy", "forces")``; forces need a dataset with forces.
    """

    dataset: AtomisticDataset
    targets: tuple = ("energy",)
    validation: float = 0.1
    test: float = 0.1
    split_seed: int = 0
    force_weight: float = 1.0

    def _validate(self):
        if not isinstance(self.dataset, AtomisticDataset):
            _fail("dataset", self.dataset, "give an AtomisticDataset (load_qm9(...), sample_configurations(...) "
                  "or AtomisticDataset.read(path))")
        self._set("targets", _targets(self.targets))
        if "forces" in self.targets and not self.dataset.has_forces:
            _fail("targets", self.targets, "a dataset without forces (QM9 has none) can only be fitted to "
                  "('energy',); label it with forces first (sample_configurations or label_dataset)")
        self._set("validation", v.real_scalar("validation", self.validation, lower=0.0, upper=1.0,
                                              lower_open=True, upper_open=True, error=_E))
        self._set("test", v.real_scalar("test", self.test, lower=0.0, upper=1.0, upper_open=True, error=_E))
        if self.validation + self.test >= 1.0:
            _fail("test", self.test, f"validation + test must leave a training part (validation = "
                  f"{self.validation:g}, so test < {1.0 - self.validation:g})")
        self._set("split_seed", v.integer("split_seed", self.split_seed, lower=0, upper=2 ** 63 - 1, error=_E))
        self._set("force_weight", v.real_scalar("force_weight", self.force_weight, lower=0.0,
                                                upper=_MAX_FORCE_WEIGHT, error=_E))
        n = len(self.dataset)
        train, val, test = self.split_sizes()
        for name, size, part in (("validation", val, "validation"), ("test", test, "test"),
                                 ("validation", train, "training")):
            if size == 0 and not (part == "test" and self.test == 0.0):
                _fail(name, getattr(self, name), f"the {part} part of {n} structures would be empty "
                      f"(sizes {train}/{val}/{test}); change the fractions or use more data")

    def _fractions(self) -> tuple:
        parts = (1.0 - self.validation - self.test, self.validation)
        return parts + ((self.test,) if self.test > 0 else ())

    def split_sizes(self) -> tuple[int, int, int]:
        """``(training, validation, test)`` structure counts, by the cut rule of :meth:`AtomisticDataset.split`."""
        n = len(self.dataset)
        f = np.asarray(self._fractions(), dtype=np.float64)
        cuts = np.minimum(np.floor(n * np.cumsum(f) + 1e-9).astype(np.int64), n)
        if abs(float(f.sum()) - 1.0) <= 1e-9:
            cuts[-1] = n
        sizes = np.diff(np.concatenate([[0], cuts]))
        return int(sizes[0]), int(sizes[1]), int(sizes[2]) if len(sizes) > 2 else 0

    def splits(self) -> tuple:
        """``(training, validation, test)`` datasets (``test`` is None when ``test == 0``)."""
        parts = self.dataset.split(self._fractions(), seed=self.split_seed)
        return parts if len(parts) == 3 else (parts[0], parts[1], None)

    @property
    def total_steps(self) -> int:
        raise AttributeError("FitPotential has no steps of its own: the training solver's epochs set the run's "
                             "length (integrator.total_steps)")

    @classmethod
    def example(cls, seed: int = 0) -> "FitPotential":
        """24 bent triatomic H-O-H molecules with a Morse-bond energy (eV): a tiny fit, no forces."""
        rng = np.random.default_rng(seed)
        m = 24
        r = 0.96 + 0.08 * rng.standard_normal((m, 2))
        angle = np.deg2rad(104.5 + 8.0 * rng.standard_normal(m))
        positions = np.zeros((m, 3, 3))
        positions[:, 1, 0] = r[:, 0]
        positions[:, 2, 0] = r[:, 1] * np.cos(angle)
        positions[:, 2, 1] = r[:, 1] * np.sin(angle)
        hh = np.linalg.norm(positions[:, 1] - positions[:, 2], axis=1)
        energies = (4.0 * (1.0 - np.exp(-2.2 * (r - 0.96))) ** 2).sum(axis=1) + 0.3 * (hh - 1.52) ** 2 - 14.2
        return cls(AtomisticDataset(species=np.tile([8, 1, 1], m), positions=positions.reshape(-1, 3),
                                    offsets=np.arange(m + 1) * 3, energies=energies, source="example"),
                   validation=0.25, test=0.25, split_seed=seed)


def _targets(value) -> tuple:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value or \
            not all(isinstance(t, str) and t in FIT_TARGETS for t in value) or len(set(value)) != len(value):
        _fail("targets", value, "give ('energy',) or ('energy', 'forces')")
    if "energy" not in value:
        _fail("targets", value, "the energy is always fitted: give ('energy',) or ('energy', 'forces')")
    return tuple(t for t in FIT_TARGETS if t in value)


# -- active learning: where candidates come from ----------------------------------------------------

#: Per-mode energy rules of normal-mode sampling (``solvers.molecule.active.samplers``).
NORMAL_MODE_RECIPES = ("ani1", "thermal")
#: Most candidates one sampler may draw in a round.
_MAX_CANDIDATES = 10 ** 6


class CandidateSampler(tk.Struct):
    """Where an :class:`ActiveLearning` campaign's candidate configurations come from (a contract).

    A sampler is a description (data, no numerics): the campaign draws round ``r``'s candidates
    from it with the committee of round ``r - 1`` (``solvers.molecule.active.rounds``). A
    subclass provides :meth:`capacity` (the most candidates a round can give; candidate ``j`` of
    round ``r`` is named ``r * capacity + j``) and :meth:`atomic_numbers` (the elements it can
    produce). The draw of a round must follow only from the sampler, the round and the committee's
    weights, so a resumed campaign draws the same candidates again.
    """

    _error = _E

    def capacity(self) -> int:
        raise NotImplementedError

    def atomic_numbers(self) -> set:
        raise NotImplementedError


class FixedPool(CandidateSampler):
    """The same candidates every round: ``dataset``'s structures (energies and forces ignored; the
    oracle labels what is picked). A configuration is asked about at most once. ``ActiveLearning(...,
    sampler=FixedPool(ds))`` is stored as ``pool=ds`` (the two spellings are one problem)."""

    dataset: AtomisticDataset

    def _validate(self):
        if not isinstance(self.dataset, AtomisticDataset):
            _fail("dataset", self.dataset, "give an AtomisticDataset of candidate configurations")

    def capacity(self) -> int:
        return len(self.dataset)

    def atomic_numbers(self) -> set:
        return set(self.dataset.species.tolist())


def _molecules(value) -> tuple:
    from .molecule import Molecule

    items = (value,) if isinstance(value, Molecule) else value
    if not isinstance(items, (tuple, list)) or not items or not all(isinstance(m, Molecule) for m in items):
        _fail("molecules", value, "give a problems.molecule.Molecule or a list of them, e.g. [water()]")
    if any(any(m.pbc) for m in items):
        _fail("molecules", value, "the samplers are for isolated molecules: give molecules without periodicity")
    if any(m.n_atoms < 2 for m in items):
        _fail("molecules", value, "every molecule needs at least two atoms")
    return tuple(items)


def _temperatures(value) -> np.ndarray:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        value = [value]
    temps = v.real_array("temperatures", value, ndim=1, lower=0.0, upper=1e6, error=_E)
    if temps.size == 0 or np.any(temps <= 0.0):
        _fail("temperatures", value, "give one or more temperatures in K, each above 0 (at most 1e6)")
    return temps


def _symbols_to_numbers(molecules) -> set:
    from ase.data import atomic_numbers

    return {atomic_numbers[s] for m in molecules for s in m.species}


class CommitteeMDSampler(CandidateSampler):
    """Candidates the ALF way, drawn each round with the current committee (LANL's ALF loop; Smith
    et al., J. Chem. Phys. 148, 241733 (2018)): ``runs`` Langevin runs (BAOAB, ``dt`` fs,
    ``friction`` 1/fs) of each of ``molecules`` at each of ``temperatures`` (K) on the committee's
    mean force, each stopped when the committee's force spread ``max_i |std_k F_k,i|`` (eV/Å)
    passes ``threshold`` (checked every ``check_every`` steps, at most ``steps`` steps); the
    configuration where it stopped is a candidate, a run that never passes it gives none. A
    committee of one model (``RandomSelection``) has no spread: its runs go ``steps`` steps and
    their last configurations are the candidates. Run seeds: ``SeedSequence(seed, spawn_key=(r,
    j))`` for slot ``j = (molecule * len(temperatures) + temperature) * runs + run`` of round ``r``.
    """

    molecules: tuple
    temperatures: np.ndarray
    steps: int = 200
    threshold: float = 0.1
    runs: int = 1
    dt: float = 0.5
    friction: float = 0.02
    check_every: int = 1
    seed: int = 0

    def _validate(self):
        self._set("molecules", _molecules(self.molecules))
        self._set("temperatures", _temperatures(self.temperatures))
        self._set("steps", v.integer("steps", self.steps, lower=1, upper=10 ** 9, error=_E))
        self._set("threshold", v.real_scalar("threshold", self.threshold, lower=0.0, lower_open=True, upper=1e6,
                                             error=_E))
        self._set("runs", v.integer("runs", self.runs, lower=1, upper=10 ** 4, error=_E))
        self._set("dt", v.real_scalar("dt", self.dt, lower=0.0, lower_open=True, upper=100.0, error=_E))
        self._set("friction", v.real_scalar("friction", self.friction, lower=0.0, upper=1e3, error=_E))
        self._set("check_every", v.integer("check_every", self.check_every, lower=1, upper=self.steps, error=_E))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=2 ** 63 - 1, error=_E))
        if self.capacity() > _MAX_CANDIDATES:
            _fail("runs", self.runs, f"molecules x temperatures x runs must stay within {_MAX_CANDIDATES} a round")

    def capacity(self) -> int:
        return len(self.molecules) * len(self.temperatures) * self.runs

    def atomic_numbers(self) -> set:
        return _symbols_to_numbers(self.molecules)


class NormalModeSampler(CandidateSampler):
    """Candidates by normal-mode sampling (ANI-1: Smith, Isayev & Roitberg, Chem. Sci. 8, 3192
    (2017)) on the current model, drawn each round: each of ``molecules`` is relaxed on the
    committee's mean potential (``relax``), its normal modes are taken there, and ``count``
    configurations at each of ``temperatures`` (K) are displaced along them by ``recipe``
    (``"ani1"``: harmonic energy uniform on [0, 3/2 N k_B T]; ``"thermal"``: Boltzmann), as the
    "Less is more" loop does with its current ensemble (J. Chem. Phys. 148, 241733 (2018)). Draws
    closer than ``min_distance`` Å between two atoms are replaced. Seeds: ``SeedSequence(seed,
    spawn_key=(r, j))`` for block ``j = molecule * len(temperatures) + temperature`` of round ``r``.
    """

    molecules: tuple
    temperatures: np.ndarray
    count: int = 8
    recipe: str = "ani1"
    relax: bool = True
    min_distance: float = 0.5
    seed: int = 0

    def _validate(self):
        self._set("molecules", _molecules(self.molecules))
        self._set("temperatures", _temperatures(self.temperatures))
        self._set("count", v.integer("count", self.count, lower=1, upper=10 ** 5, error=_E))
        self._set("recipe", v.choice("recipe", self.recipe, NORMAL_MODE_RECIPES, error=_E))
        self._set("min_distance", v.real_scalar("min_distance", self.min_distance, lower=DATASET_MIN_DISTANCE,
                                                upper=10.0, error=_E))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=2 ** 63 - 1, error=_E))
        if self.capacity() > _MAX_CANDIDATES:
            _fail("count", self.count, f"molecules x temperatures x count must stay within {_MAX_CANDIDATES} a round")

    def capacity(self) -> int:
        return len(self.molecules) * len(self.temperatures) * self.count

    def atomic_numbers(self) -> set:
        return _symbols_to_numbers(self.molecules)


# -- active learning: a campaign of oracle calls ------------------------------------------------------

#: Most rounds accepted (each round trains models: more is never a small run).
_MAX_ROUNDS = 10 ** 5
#: Most oracle calls of a campaign whose candidates come from a sampler.
_MAX_BUDGET = 10 ** 7
_DATASET_ADVICE = "give an AtomisticDataset (sample_configurations(...), label_dataset(...) or " \
                  "AtomisticDataset.read(path))"


class ActiveLearning(tk.TimeProblem):
    """Grow a training set by asking an expensive ``oracle`` only where a learned potential is unsure.

    The campaign (query by committee: Seung, Opper & Sompolinsky, COLT 1992; Smith, Nebgen,
    Lubbers, Isayev & Roitberg, J. Chem. Phys. 148, 241733 (2018), doi:10.1063/1.5023802):

    * ``start`` — the labelled starting set (energies in eV and forces in eV/Å);
    * ``sampler`` — where each round's candidates come from, drawn with the models of the last
      round: :class:`CommitteeMDSampler` (MD on the committee stopped when its spread passes a
      threshold, as ALF does), :class:`NormalModeSampler` (ANI-1 normal modes of the current
      model) or :class:`FixedPool` (the same configurations every round);
    * ``pool`` — the fixed pool itself, an unlabelled dataset (``pool=ds`` and
      ``sampler=FixedPool(ds)`` are the same problem, stored as ``pool``). Pools come from MD
      (``solvers.molecule.sample_configurations``), ``normal_mode_samples`` or
      ``committee_md_pool`` run beforehand. Give ``pool`` or ``sampler``, not both;
    * ``oracle`` — any potential that solves ``PotentialEnergy`` (``TBLite()``, ``PySCF(...)``,
      ``ASECalculator(...)``); checked when the pair is resolved (``held_solvers``);
    * ``budget`` — oracle calls in all (a failed call counts: it was made); at most ``len(pool)``
      for a fixed pool;
    * ``test`` — a labelled set (with forces) on which every round's model is scored; its
      distribution is the user's statement of where the potential must be good (it may differ
      from the candidates': hotter, rarer);
    * ``rounds`` — steps of the run. One step is one round: draw candidates with the models of the
      last round, pick a batch, label it with the oracle, add it, retrain, score on ``test``. Each
      round asks for ``min(batch, budget left, candidates)`` labels (``batch`` is the solver's);
    * ``charge``, ``spin`` — of every configuration, as the oracle needs them;
    * ``validation`` — the fraction of each round's training data held out to pick the epoch.

    Every structure must hold only elements the starting set holds (the models learn those).
    """

    start: AtomisticDataset
    pool: AtomisticDataset | None = None
    oracle: object = None
    budget: int | None = None
    test: AtomisticDataset | None = None
    rounds: int = 4
    charge: int = 0
    spin: int = 0
    validation: float = 0.2
    sampler: CandidateSampler | None = None

    #: the oracle is run on ``PotentialEnergy`` problems (checked when the pair is resolved)
    held_solvers = {"oracle": PotentialEnergy}
    #: ``tk.remake(problem, sampler=...)`` drops the pool and ``pool=...`` the sampler
    exclusive_fields = (("pool", "sampler"),)

    def _validate(self):
        if isinstance(self.sampler, FixedPool) and self.pool is None:
            self._set("pool", self.sampler.dataset)
            self._set("sampler", None)
        if self.pool is not None and self.sampler is not None:
            _fail("sampler", self.sampler, "give either pool=dataset (a fixed pool) or sampler=... "
                  "(CommitteeMDSampler, NormalModeSampler or FixedPool), not both")
        if self.pool is None and self.sampler is None:
            _fail("sampler", self.sampler, "give pool=dataset (a fixed pool of candidates) or sampler="
                  "CommitteeMDSampler(...) / NormalModeSampler(...) / FixedPool(dataset)")
        if self.sampler is not None and (not isinstance(self.sampler, CandidateSampler) or
                                         type(self.sampler) is CandidateSampler):
            _fail("sampler", self.sampler, "give CommitteeMDSampler(...), NormalModeSampler(...) or "
                  "FixedPool(dataset) (problems.datasets), or pool=dataset")
        sets = (("start", True), ("test", True)) + ((("pool", False),) if self.pool is not None else ())
        for name, needs_forces in sets:
            value = getattr(self, name)
            if not isinstance(value, AtomisticDataset):
                _fail(name, value, _DATASET_ADVICE)
            if needs_forces and not value.has_forces:
                _fail(name, value, f"the {name} set must be labelled with forces (eV/Å): label it with the oracle "
                      "first (solvers.molecule.label_dataset(dataset, oracle))")
            if value.periodic.any():
                _fail(name, value, "periodic structures are not supported yet by the campaign; give molecules")
        if not isinstance(self.oracle, tk.ForceProvider):
            _fail("oracle", self.oracle, "give a potential that solves PotentialEnergy, e.g. "
                  "solvers.molecule.TBLite(), PySCF() or ASECalculator(...)")
        known = set(self.start.species.tolist())
        produced = (("pool", self.pool, set(self.pool.species.tolist())) if self.pool is not None
                    else ("sampler", self.sampler, self.sampler.atomic_numbers()))
        for name, value, numbers in (produced, ("test", self.test, set(self.test.species.tolist()))):
            extra = sorted(numbers - known)
            if extra:
                _fail(name, value, f"it holds atomic numbers {extra} that the start set lacks: the "
                      "models can only learn elements they have seen; add such structures to start")
        self._set("rounds", v.integer("rounds", self.rounds, lower=1, upper=_MAX_ROUNDS, error=_E))
        most = len(self.pool) if self.pool is not None else _MAX_BUDGET
        self._set("budget", v.integer("budget", self.budget, lower=1, upper=most, error=_E))
        self._set("charge", v.integer("charge", self.charge, lower=-100, upper=100, error=_E))
        self._set("spin", v.integer("spin", self.spin, lower=0, upper=100, error=_E))
        self._set("validation", v.real_scalar("validation", self.validation, lower=0.0, upper=1.0,
                                              lower_open=True, upper_open=True, error=_E))
        if int(np.floor(len(self.start) * self.validation + 1e-9)) < 1 or \
                int(np.floor(len(self.start) * self.validation + 1e-9)) >= len(self.start):
            _fail("start", self.start, f"{len(self.start)} starting structures with validation = "
                  f"{self.validation:g} leave an empty training or validation part; give more structures "
                  "(at least 2) or change validation")

    @property
    def candidates(self) -> CandidateSampler:
        """The candidate sampler: ``sampler``, or ``FixedPool(pool)`` for a fixed pool."""
        return FixedPool(self.pool) if self.pool is not None else self.sampler

    @property
    def total_steps(self) -> int:
        return self.rounds

    @classmethod
    def example(cls, seed: int = 0) -> "ActiveLearning":
        """Ar3 triangles jiggled at three widths, labelled with argon's Lennard-Jones (numbers computed
        here); the oracle is the default potential of argon (argon's Lennard-Jones)."""
        from .molecule import Molecule as molecule_type

        energy_type = PotentialEnergy

        rng = np.random.default_rng(seed)
        base = np.array([[0.0, 0.0, 0.0], [3.82, 0.0, 0.0], [1.91, 3.31, 0.0]])

        def jiggled(m, width):
            return base[None] + width * rng.standard_normal((m, 3, 3))

        def labelled(x):
            e, f = _argon_lj(x)
            m = len(x)
            return AtomisticDataset(species=np.full(3 * m, 18), positions=x.reshape(-1, 3),
                                    offsets=np.arange(m + 1) * 3, energies=e, forces=f.reshape(-1, 3),
                                    source="example")

        start, test = labelled(jiggled(6, 0.05)), labelled(jiggled(4, 0.2))
        pool = jiggled(8, 0.15)
        pool = AtomisticDataset(species=np.full(24, 18), positions=pool.reshape(-1, 3), offsets=np.arange(9) * 3,
                                energies=np.zeros(8), source="example pool")
        try:      # the default potential of argon (argon's Lennard-Jones), as problems.molecule finds it
            oracle = tk.init(energy_type(molecule_type(species=("Ar",) * 3, positions=base))).solver
        except TypeError:
            raise tk.InvalidProblemError("ActiveLearning.example needs a default potential: import "
                                         "solvers.molecule first") from None
        return cls(start, pool, oracle, budget=2, test=test, rounds=1, validation=0.34)


def _argon_lj(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Energies (eV) and forces (eV/Å) of argon's Lennard-Jones (eps 0.010323 eV, sigma 3.405 Å), no cutoff."""
    eps, sigma = 0.010323, 3.405
    d = x[:, :, None] - x[:, None]                                   # (m, n, n, 3)
    r2 = np.einsum("mijx,mijx->mij", d, d)
    n = x.shape[1]
    r2[:, np.arange(n), np.arange(n)] = np.inf
    s6 = (sigma * sigma / r2) ** 3
    energies = 0.5 * (4.0 * eps * (s6 * s6 - s6)).sum(axis=(1, 2))
    scale = 24.0 * eps * (2.0 * s6 * s6 - s6) / r2                   # -dE/dr / r per pair
    forces = np.einsum("mij,mijx->mix", scale, d)
    return energies, forces


# -- helpers ---------------------------------------------------------------------------------

def _view(array: np.ndarray) -> np.ndarray:
    out = array.view()
    out.flags.writeable = False
    return out


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".nc", ".h5", ".netcdf"):
        return "nc"
    if suffix == ".npz":
        return "npz"
    if suffix in (".xyz", ".extxyz"):
        return "extxyz"
    raise tk.InvalidOptionError(f"path = {str(path)!r} has suffix {suffix!r}: use .nc (NetCDF), .npz or "
                                ".xyz/.extxyz (extended XYZ)")


def _atomic_numbers(value, atoms: int, name: str = "species") -> np.ndarray:
    """Atomic numbers (int64) from numbers or element symbols."""
    if isinstance(value, (str, bytes)):
        _fail(name, value, "give a sequence of atomic numbers or element symbols, e.g. [8, 1, 1] or ['O', 'H', 'H']")
    raw = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if raw.dtype.kind in "USO":
        from ase.data import atomic_numbers

        try:
            raw = np.array([z if isinstance(z, (int, np.integer)) else atomic_numbers[str(z)] for z in raw.ravel()],
                           dtype=np.int64)
        except KeyError as exc:
            _fail(name, value, f"{exc.args[0]!r} is not an element symbol")
    z = v.index_array(name, raw, shape=(atoms,), lower=1, upper=119, error=_E)
    return z


def _first_bad_structure(bad_rows: np.ndarray, offsets: np.ndarray) -> int:
    return int(np.searchsorted(offsets, np.flatnonzero(bad_rows)[0], side="right") - 1)


def _finite_rows(name, value, atoms, offsets, unit) -> np.ndarray:
    arr = v.real_array(name, value, shape=(atoms, 3), finite=False, error=_E)
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        k = _first_bad_structure(bad, offsets)
        _fail(name, arr, f"structure {k} has NaN or infinite values; every value must be a finite number in {unit} "
              "(drop the structure with subset(), or label it again)")
    return arr


def _finite_values(name, value, n, unit) -> np.ndarray:
    arr = v.real_array(name, value, shape=(n,), finite=False, error=_E)
    bad = ~np.isfinite(arr)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        _fail(name, arr, f"structure {k} has {arr[k]}; give finite values in {unit} (drop unlabelled structures "
              "with subset())")
    return arr


def _cells(value, n) -> np.ndarray | None:
    if value is None:
        return None
    cells = v.real_array("cells", value, ndim=(2, 3), error=_E)
    if cells.shape == (n, 3):
        cells = np.einsum("ki,ij->kij", cells, np.eye(3))
    if cells.shape != (n, 3, 3):
        _fail("cells", cells, f"give one cell per structure: shape ({n}, 3, 3) row vectors or ({n}, 3) box "
              "lengths, in Å")
    if np.abs(cells).max(initial=0.0) > _MAX_COORDINATE:
        _fail("cells", cells, f"every entry must be within ±{_MAX_COORDINATE:g} Å")
    return np.ascontiguousarray(cells)


def _pbc(value, n, cells) -> np.ndarray | None:
    if value is None:
        return None if cells is None else np.zeros((n, 3), dtype=bool)
    if isinstance(value, (bool, np.bool_)):
        value = np.full((n, 3), bool(value))
    pbc = v.bool_array("pbc", value, error=_E)
    if pbc.shape == (3,):
        pbc = np.broadcast_to(pbc, (n, 3)).copy()
    if pbc.shape != (n, 3):
        _fail("pbc", pbc, f"give True/False, three booleans, or one row of three per structure, shape ({n}, 3)")
    if pbc.any():
        if cells is None:
            _fail("pbc", pbc, "periodic structures need cells (give cells=..., in Å)")
        cells = np.asarray(cells, dtype=float)
        if cells.ndim == 2:
            cells = np.einsum("ki,ij->kij", cells, np.eye(3))
        lengths = np.linalg.norm(cells, axis=2)
        short = pbc & (lengths <= 1e-9)
        full = pbc.all(axis=1)
        flat = full & (np.linalg.det(cells) <= 1e-12 * np.maximum(1.0, np.abs(cells).max(axis=(1, 2))) ** 3)
        if short.any() or flat.any():
            k = int(np.flatnonzero(short.any(axis=1) | flat)[0])
            _fail("cells", cells[k], f"structure {k} is periodic but its cell vectors along periodic directions "
                  "are zero or span no volume; give a right-handed cell in Å")
    return np.ascontiguousarray(pbc)

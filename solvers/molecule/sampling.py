"""Label configurations from molecular dynamics at several temperatures: training data for learned potentials.

``sample_configurations(molecule, potential, temperatures, steps, every, seed)`` runs Langevin
dynamics (BAOAB, :class:`~solvers.molecule.Langevin`) of ``molecule`` under ``potential`` at each
temperature, keeps a snapshot every ``every`` steps, and labels each snapshot with the energy
(eV) and forces (eV/Å) of ``label`` (the sampling potential by default; a costlier oracle such as
``TBLite()`` or ``PySCF()`` may label what a cheap one sampled). Any potential that serves
``PotentialEnergy`` works, numba pair potentials, tblite, PySCF, ASE calculators and learned ones alike.

The runs go through the core's ensembles: for temperature ``T_j`` an ``tk.EnsembleProblem`` of
``replicas`` members, each a ``MolecularDynamics`` whose starting velocities are drawn from
Maxwell–Boltzmann at ``T_j`` (with zero total momentum), is solved with ``Langevin(T_j)`` on the
executor ``ensemble`` (``tk.Serial()``, ``tk.Threads(k)``, ``tk.Processes(k)``, ``tk.Dask()``).
Temperature ``j`` gets the ensemble seed drawn from ``SeedSequence(seed).spawn(len(temperatures))[j]``;
inside it the core hands member ``r`` its velocity stream and its Langevin noise seed, so the
dataset is the same whichever executor ran it.

Snapshots are the frames at steps ``every, 2 every, ...`` after ``burn_in`` steps (the starting
geometry, shared by all runs, is never included). Each snapshot's dataset id is
``(j * replicas + r) * (steps + 1) + step`` (:func:`decode_sample_ids` inverts it).
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.datasets import AtomisticDataset, AtomicStructure
from problems.molecule import Molecule, MolecularDynamics, maxwell_boltzmann
from toolkit import validate as v

from .dynamics import Langevin
from .potential import force_function

__all__ = ["sample_configurations", "decode_sample_ids", "molecule_of", "label_dataset"]

_O = tk.InvalidOptionError


class _Thermalize:
    """``vary`` of an ensemble: the molecule with Maxwell–Boltzmann velocities at ``temperature`` (K)."""

    def __init__(self, temperature: float):
        self.temperature = temperature

    def __call__(self, problem, index, rng):
        molecule = problem.molecule
        velocities = maxwell_boltzmann(molecule.masses, self.temperature, rng)
        return tk.remake(problem, molecule=tk.remake(molecule, velocities=velocities))


def molecule_of(structure: AtomicStructure, charge: int = 0, spin: int = 0) -> Molecule:
    """The :class:`~problems.molecule.Molecule` of one dataset structure (``dataset[k]``)."""
    if not isinstance(structure, AtomicStructure):
        raise _O(f"structure = {v.show(structure)} is not allowed: give one structure of a dataset, dataset[k]")
    return Molecule(species=tuple(int(z) for z in structure.species), positions=np.array(structure.positions),
                    cell=None if structure.cell is None or not any(structure.pbc) else np.array(structure.cell),
                    pbc=structure.pbc if any(structure.pbc) else False, charge=charge, spin=spin)


def label_dataset(dataset: AtomisticDataset, potential, charge: int = 0, spin: int = 0) -> AtomisticDataset:
    """``dataset`` with its energies and forces replaced by those of ``potential`` (any force provider).

    One cache per run of structures with the same species (so tblite or neighbour lists are reused).
    """
    energies = np.empty(len(dataset))
    forces = np.empty_like(dataset.positions)
    compute, frame = None, None
    for k in range(len(dataset)):
        s = dataset[k]
        key = (s.species.tobytes(), None if s.cell is None else s.cell.tobytes(), s.pbc)
        if key != frame:
            _, compute = force_function(molecule_of(s, charge, spin), potential)
            frame = key
        e, f, _ = compute(np.array(s.positions))
        energies[k] = e
        forces[dataset.offsets[k]:dataset.offsets[k + 1]] = f
    return tk.remake(dataset, energies=energies, forces=forces,
                     source=f"{dataset.source}; labelled by {potential!r}".lstrip("; "))


def decode_sample_ids(ids, steps: int, replicas: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(temperature index, replica, step)`` of each snapshot id of :func:`sample_configurations`."""
    ids = np.asarray(ids, dtype=np.int64)
    run, step = np.divmod(ids, steps + 1)
    temperature, replica = np.divmod(run, replicas)
    return temperature, replica, step


def sample_configurations(molecule: Molecule, potential, temperatures, steps: int, every: int, seed: int = 0,
                          ensemble=None, *, dt: float = 0.5, friction: float = 0.02, replicas: int = 1,
                          burn_in: int = 0, label=None) -> AtomisticDataset:
    """An :class:`AtomisticDataset` of Langevin-MD snapshots at ``temperatures`` (K), labelled with
    energies and forces (see the module docstring).

    ``steps`` MD steps of ``dt`` fs per run, a snapshot every ``every`` steps, ``replicas`` runs per
    temperature, ``friction`` in 1/fs; ``ensemble`` is the core executor (``tk.Serial()`` by default).
    """
    if not isinstance(molecule, Molecule):
        raise _O(f"molecule = {v.show(molecule)} is not allowed: give a problems.Molecule")
    if not isinstance(potential, tk.ForceProvider):
        raise _O(f"potential = {v.show(potential)} is not allowed: give a force provider such as TBLite()")
    if label is not None and not isinstance(label, tk.ForceProvider):
        raise _O(f"label = {v.show(label)} is not allowed: give a force provider, or None to label with potential")
    temps = v.real_array("temperatures", np.atleast_1d(temperatures), ndim=1, lower=0.0, upper=1e6, error=_O)
    if temps.size == 0 or np.any(temps <= 0):
        raise _O(f"temperatures = {v.show(temperatures)} is not allowed: give one or more positive temperatures in K")
    steps = v.integer("steps", steps, lower=1, upper=10 ** 9, error=_O)
    every = v.integer("every", every, lower=1, upper=steps, error=_O)
    replicas = v.integer("replicas", replicas, lower=1, upper=10 ** 6, error=_O)
    burn_in = v.integer("burn_in", burn_in, lower=0, upper=steps - 1, error=_O)
    seed = v.integer("seed", seed, lower=0, upper=2 ** 63 - 1, error=_O)
    problem = MolecularDynamics(molecule, potential, steps=steps, save_every=every, thermo_every=every)
    children = np.random.SeedSequence(seed).spawn(len(temps))
    positions, ids = [], []
    for j, (temperature, child) in enumerate(zip(temps, children)):
        ensemble_seed = int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
        runs = tk.EnsembleProblem(problem, vary=_Thermalize(float(temperature)), n=replicas, seed=ensemble_seed)
        solver = Langevin(dt=dt, temperature=float(temperature), friction=friction)
        solved = tk.solve(runs, solver, ensemble=ensemble if ensemble is not None else tk.Serial())
        for r, member in enumerate(solved.members):
            if member is None:
                raise RuntimeError(f"the run at {temperature:g} K (replica {r}) failed: {solved.errors[r]}")
            if not member.successful:
                raise tk.UnstableError(f"the run at {temperature:g} K (replica {r}) ended {member.retcode}: "
                                       f"{member.message}. Lower dt or the temperature")
            frame_steps = np.rint(member.frame_time / dt).astype(np.int64)
            keep = (frame_steps > burn_in) & (frame_steps % every == 0)
            positions.extend(member.positions[keep])
            ids.extend(((j * replicas + r) * (steps + 1) + frame_steps[keep]).tolist())
    if not positions:
        raise _O(f"burn_in = {burn_in} leaves no snapshot: lower it below steps = {steps}")
    n_atoms = molecule.n_atoms
    from ase.data import atomic_numbers

    species = np.tile(np.array([atomic_numbers[s] for s in molecule.species], dtype=np.int64), len(positions))
    periodic = any(molecule.pbc)
    unlabelled = AtomisticDataset(
        species=species, positions=np.concatenate(positions), offsets=np.arange(len(positions) + 1) * n_atoms,
        energies=np.zeros(len(positions)), ids=np.asarray(ids, dtype=np.int64),
        cells=np.repeat(molecule.cell[None], len(positions), axis=0) if periodic else None,
        pbc=np.repeat(np.array(molecule.pbc)[None], len(positions), axis=0) if periodic else None,
        source=(f"Langevin MD of {''.join(molecule.species)} at {temps.tolist()} K, dt {dt:g} fs, every {every} steps, "
                f"under {potential!r}"))
    return label_dataset(unlabelled, potential if label is None else label, molecule.charge, molecule.spin)


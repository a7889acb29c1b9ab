"""Atoms and the questions asked about them: energies, dynamics, minimum-energy geometries.

Units (ASE's "metal" convention, documented once here and used throughout the family):

* positions and cell in Å, masses in amu (unified atomic mass units), energies in eV,
  forces in eV/Å, virials in eV, stresses and pressures in eV/Å³;
* time in fs and velocities in Å/fs (``Molecule.velocities``); temperatures in K.

Reduced Lennard-Jones units map onto these by choosing ``sigma = 1 Å``, ``epsilon = 1 eV`` and
``mass = 1 amu`` (as :func:`lj_fluid` does by default): one reduced time unit is then
``LJ_TIME_FS`` = 10.1805 fs, one reduced temperature ``LJ_TEMPERATURE_K`` = 11604.5 K and one
reduced pressure 1 eV/Å³.

Problems
--------
:class:`Molecule`
    species, positions, cell, periodicity, masses, velocities, charge and spin; validated
    (finite, known elements, positive-definite cell, no two atoms closer than ``MIN_DISTANCE``).
:class:`PotentialEnergy`
    energy, forces and virial of a molecule (any potential solver answers it).
:class:`MolecularDynamics`
    a molecule moved by a potential for ``steps`` steps (the dynamics solver picks the ensemble).
:class:`GeometryOptimization`
    the nearest local minimum of the potential energy.

Builders: :func:`lj_fluid` (fcc lattice at reduced density), :func:`water`, :func:`organic`.
"""

from __future__ import annotations

import numbers

import numpy as np

import toolkit as tk
from toolkit import validate as v

__all__ = ["Molecule", "PotentialEnergy", "MolecularDynamics", "GeometryOptimization", "HydrodynamicMeasurement",
           "lj_fluid", "water", "organic", "argon_cluster", "default_potential", "MIN_DISTANCE", "LJ_TIME_FS",
           "LJ_TEMPERATURE_K", "KB_EV", "FS", "MAX_COORDINATE", "MAX_SPEED"]

#: Two atoms closer than this (Å) are refused as overlapping.
MIN_DISTANCE = 0.1
#: Largest coordinate or cell entry accepted (Å): 1 cm, far past any simulation box.
MAX_COORDINATE = 1e8
#: Largest speed accepted (Å/fs): the speed of light, 2997.92 Å/fs.
MAX_SPEED = 2997.92458
#: Masses accepted (amu): from below the electron's (5.5e-4) to 1e9.
MASS_RANGE = (1e-4, 1e9)
#: Largest |charge| (e) and spin (unpaired electrons) accepted.
MAX_CHARGE = 10_000
#: Bytes a builder needs per atom (positions, velocities, masses, species, the k-d tree of the
#: overlap check and the temporaries of the lattice), used to refuse absurd sizes before allocating.
BYTES_PER_ATOM = 400
#: Most steps (and save / thermo intervals) of a dynamics run.
MAX_STEPS = 10 ** 12
#: Most steps of a geometry optimisation (the optimisers count in C ints).
MAX_OPTIMIZATION_STEPS = 10 ** 8
#: Boltzmann's constant in eV/K (CODATA 2018, as in ASE).
KB_EV = 8.617333262e-05
#: One fs in ASE's internal time unit Å·sqrt(amu/eV).
FS = 0.09822694788464063
#: One reduced LJ time unit sigma·sqrt(m/eps) in fs for sigma = 1 Å, eps = 1 eV, m = 1 amu.
LJ_TIME_FS = 1.0 / FS
#: One reduced LJ temperature eps/k_B in K for eps = 1 eV.
LJ_TEMPERATURE_K = 1.0 / KB_EV


def _symbols(value):
    from ase.data import atomic_numbers, chemical_symbols

    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
        raise tk.InvalidProblemError(
            f"species = {v.show(value)} is not allowed: give a list of element symbols or atomic "
            "numbers, e.g. ['O', 'H', 'H'] or [8, 1, 1].")
    out = []
    for k, s in enumerate(list(value)):
        if isinstance(s, (numbers.Integral, np.integer)) and not isinstance(s, bool):
            if not 1 <= int(s) < len(chemical_symbols):
                raise tk.InvalidProblemError(f"species[{k}] = {s!r} is not allowed: atomic numbers run "
                                             f"from 1 to {len(chemical_symbols) - 1}.")
            out.append(chemical_symbols[int(s)])
        elif isinstance(s, str) and s in atomic_numbers and s != "X":
            out.append(s)
        else:
            raise tk.InvalidProblemError(f"species[{k}] = {v.show(s)} is not allowed: give an element "
                                         "symbol such as 'Ar' or an atomic number such as 18.")
    if not out:
        raise tk.InvalidProblemError("species = [] is not allowed: a molecule needs at least one atom.")
    return tuple(out)


def _pbc(value):
    if isinstance(value, (bool, np.bool_)):
        return (bool(value),) * 3
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) == 3 and \
            all(isinstance(p, (bool, np.bool_)) for p in value):
        return tuple(bool(p) for p in value)
    raise tk.InvalidProblemError(f"pbc = {v.show(value)} is not allowed: give True, False or three "
                                 "booleans (one per cell vector).")


class Molecule(tk.Problem):
    """Atoms: ``species`` at ``positions`` (Å), in an optional ``cell`` (Å) with periodicity ``pbc``.

    ``masses`` default to the standard atomic masses (amu, IUPAC via ASE); ``velocities`` (Å/fs)
    default to zero. ``charge`` is the net charge in e and ``spin`` the number of unpaired
    electrons (2S, PySCF's convention). ``cell`` may be three lengths (an orthorhombic box) or
    a 3x3 matrix of row vectors; it is required along periodic directions.
    """

    species: tuple
    positions: np.ndarray
    cell: np.ndarray | None = None
    pbc: tuple = False
    masses: np.ndarray | None = None
    velocities: np.ndarray | None = None
    charge: int = 0
    spin: int = 0

    def _validate(self):
        from ase.data import atomic_masses, atomic_numbers

        species = _symbols(self.species)
        n = len(species)
        self._set("species", species)
        positions = v.real_array("positions", self.positions, shape=(n, 3))
        _bounded("positions", positions, MAX_COORDINATE, "Å")
        self._set("positions", positions)
        self._set("pbc", _pbc(self.pbc))
        cell = self.cell
        if cell is not None:
            if isinstance(cell, (str, bytes)):
                v._fail(tk.InvalidProblemError, "cell", cell, "give three box lengths or a 3x3 matrix in Å")
            cell = v.real_array("cell", cell, ndim=(1, 2))
            _bounded("cell", cell, MAX_COORDINATE, "Å")
            if cell.shape == (3,):
                cell = np.diag(cell)
            if cell.shape != (3, 3):
                v._fail(tk.InvalidProblemError, "cell", cell, "give three box lengths or a 3x3 matrix in Å")
            if np.linalg.det(cell) <= 1e-12 * max(1.0, float(np.abs(cell).max()) ** 3):
                v._fail(tk.InvalidProblemError, "cell", cell,
                        "the cell vectors must be right-handed and span a positive volume")
            cell = np.ascontiguousarray(cell)
        elif any(self.pbc):
            raise tk.InvalidProblemError("cell = None is not allowed with periodic boundaries: give the "
                                         "cell (three box lengths in Å) or set pbc=False.")
        self._set("cell", cell)
        if self.masses is None:
            masses = np.array([atomic_masses[atomic_numbers[s]] for s in species])
        else:
            masses = v.real_array("masses", self.masses, shape=(n,))
            lo, hi = MASS_RANGE
            if masses.min() < lo or masses.max() > hi:
                v._fail(tk.InvalidProblemError, "masses", masses,
                        f"every mass must be positive, between {lo:g} and {hi:g} amu")
        self._set("masses", masses)
        if self.velocities is None:
            velocities = np.zeros((n, 3))
        else:
            velocities = v.real_array("velocities", self.velocities, shape=(n, 3))
            speed = float(np.sqrt((velocities ** 2).sum(1)).max())
            if speed > MAX_SPEED:
                v._fail(tk.InvalidProblemError, "velocities", velocities,
                        f"every speed must be below the speed of light, {MAX_SPEED:g} Å/fs (velocities are in "
                        f"Å/fs; the fastest atom here moves at {speed:.3g})")
        self._set("velocities", velocities)
        self._set("charge", v.integer("charge", self.charge, lower=-MAX_CHARGE, upper=MAX_CHARGE))
        self._set("spin", v.integer("spin", self.spin, lower=0, upper=MAX_CHARGE))
        closest = self.closest_distance()
        if closest < MIN_DISTANCE:
            raise tk.InvalidProblemError(
                f"positions put two atoms {closest:.3g} Å apart: atoms closer than {MIN_DISTANCE} Å "
                "overlap. Remove duplicated atoms or check the units (positions are in Å).")

    # -- derived ------------------------------------------------------------------------
    @property
    def n_atoms(self) -> int:
        return len(self.species)

    @property
    def volume(self) -> float | None:
        """Cell volume in Å³ (``None`` for an isolated molecule without a cell)."""
        return None if self.cell is None else float(abs(np.linalg.det(self.cell)))

    @property
    def orthorhombic(self) -> bool:
        return self.cell is not None and bool(np.all(self.cell == np.diag(np.diag(self.cell))))

    def closest_distance(self) -> float:
        """The smallest interatomic distance (minimum image along periodic directions), Å."""
        n = self.n_atoms
        if n < 2:
            return np.inf
        from scipy.spatial import cKDTree

        if not any(self.pbc):
            d, _ = cKDTree(self.positions).query(self.positions, k=2)
            return float(d[:, 1].min())
        if all(self.pbc) and self.orthorhombic:
            box = np.diag(self.cell).copy()
            x = self.positions % box
            x[x >= box] = 0.0
            d, _ = cKDTree(x, boxsize=box).query(x, k=2)
            return float(d[:, 1].min())
        from ase.neighborlist import neighbor_list

        d = neighbor_list("d", self.to_ase(), MIN_DISTANCE)
        return float(d.min()) if d.size else np.inf

    def kinetic_energy(self) -> float:
        """``sum m v^2 / 2`` in eV."""
        return float(0.5 * np.sum(self.masses[:, None] * (self.velocities / FS) ** 2))

    # -- ASE interop ----------------------------------------------------------------------
    @classmethod
    def from_ase(cls, atoms, charge: int | None = None, spin: int | None = None) -> "Molecule":
        """Build from an ``ase.Atoms`` (velocities converted from ASE's units to Å/fs)."""
        cell = atoms.cell.array if atoms.cell.rank == 3 else None
        pbc = tuple(bool(p) for p in atoms.pbc) if cell is not None else False
        if charge is None:
            charge = int(round(float(atoms.get_initial_charges().sum())))
        if spin is None:
            spin = int(round(float(atoms.get_initial_magnetic_moments().sum())))
        velocities = atoms.get_velocities()
        return cls(species=tuple(atoms.get_chemical_symbols()), positions=atoms.get_positions(),
                   cell=cell, pbc=pbc, masses=atoms.get_masses(),
                   velocities=None if velocities is None else velocities * FS, charge=charge, spin=abs(spin))

    def to_ase(self):
        """An ``ase.Atoms`` with the same atoms, cell, masses and velocities."""
        from ase import Atoms

        atoms = Atoms(symbols=list(self.species), positions=self.positions, masses=self.masses,
                      cell=self.cell if self.cell is not None else np.zeros((3, 3)), pbc=self.pbc)
        atoms.set_velocities(self.velocities / FS)
        return atoms

    @classmethod
    def read(cls, path, index=-1, **kwargs) -> "Molecule":
        """Read one frame of any ASE-readable file (xyz, extxyz, cif, POSCAR, ...)."""
        from ase.io import read

        return cls.from_ase(read(path, index=index, **kwargs))

    def write(self, path, **kwargs):
        """Write through ASE; ``.xyz``/``.extxyz`` keep cell, pbc, masses and velocities."""
        from ase.io import write

        write(path, self.to_ase(), **kwargs)
        return path

    @classmethod
    def example(cls, seed: int = 0) -> "Molecule":
        return water(seed=seed)


def _bounded(name: str, array: np.ndarray, limit: float, unit: str) -> None:
    if array.size and float(np.abs(array).max()) > limit:
        v._fail(tk.InvalidProblemError, name, array, f"every entry must be within ±{limit:g} {unit}")


def _molecule(name: str, value) -> Molecule:
    if not isinstance(value, Molecule):
        raise tk.InvalidProblemError(f"{name} = {v.show(value)} is not allowed: give a "
                                     "problems.Molecule (e.g. problems.molecule.water() or "
                                     "Molecule.from_ase(atoms)).")
    return value


def _potential(value):
    """A force provider (``tk.ForceProvider``); whether it can serve PotentialEnergy is checked by
    ``tk.solve`` / ``tk.init`` when the pair is resolved (``held_solvers``)."""
    if not isinstance(value, tk.ForceProvider):
        raise tk.InvalidProblemError(f"potential = {v.show(value)} is not allowed: give a force provider "
                                     "(tk.ForceProvider) that solves PotentialEnergy, such as "
                                     "solvers.molecule.LennardJones(), Morse(), PySCF() or ASECalculator(...).")
    return value


def default_potential(molecule: Molecule):
    """The potential a molecule gets when none is named: the default the molecule solvers register
    for ``PotentialEnergy`` (``tk.register_default_solver``), so ``problems`` never imports ``solvers``."""
    try:
        return tk.init(PotentialEnergy(molecule)).solver
    except TypeError:
        raise tk.InvalidProblemError("no default potential is registered: import solvers.molecule (or "
                                     "solvers) first, or give potential=... explicitly") from None


class PotentialEnergy(tk.Problem):
    """Energy (eV), forces (eV/Å) and virial (eV) of ``molecule``; any potential solves it."""

    molecule: Molecule

    def _validate(self):
        self._set("molecule", _molecule("molecule", self.molecule))

    @classmethod
    def example(cls, seed: int = 0) -> "PotentialEnergy":
        return cls(water(seed=seed))


class MolecularDynamics(tk.TimeProblem):
    """Newton's equations for ``molecule`` under ``potential``: ``m x'' = -grad E(x)``.

    ``steps`` steps; positions and velocities are saved every ``save_every`` steps and the
    thermodynamic observables (energies, temperature, pressure tensor) every ``thermo_every``
    steps. The dynamics solver (VelocityVerlet, Langevin, NoseHoover) sets the time step and
    the ensemble.
    """

    molecule: Molecule
    potential: object
    steps: int = 100
    save_every: int = 10
    thermo_every: int = 1

    held_solvers = {"potential": PotentialEnergy}

    def _validate(self):
        self._set("molecule", _molecule("molecule", self.molecule))
        self._set("potential", _potential(self.potential))
        self._set("steps", v.integer("steps", self.steps, lower=1, upper=MAX_STEPS))
        self._set("save_every", v.integer("save_every", self.save_every, lower=1, upper=MAX_STEPS))
        self._set("thermo_every", v.integer("thermo_every", self.thermo_every, lower=1, upper=MAX_STEPS))

    @classmethod
    def example(cls, seed: int = 0) -> "MolecularDynamics":
        cluster = argon_cluster(temperature=30.0, seed=seed)
        return cls(cluster, default_potential(cluster), steps=20, save_every=5)


class GeometryOptimization(tk.Problem):
    """The local minimum of ``potential`` nearest ``molecule``: stop when every force < ``fmax`` eV/Å."""

    molecule: Molecule
    potential: object
    fmax: float = 0.05
    max_steps: int = 500

    held_solvers = {"potential": PotentialEnergy}

    def _validate(self):
        self._set("molecule", _molecule("molecule", self.molecule))
        self._set("potential", _potential(self.potential))
        self._set("fmax", v.real_scalar("fmax", self.fmax, lower=0, lower_open=True, upper=1e6))
        self._set("max_steps", v.integer("max_steps", self.max_steps, lower=1, upper=MAX_OPTIMIZATION_STEPS))

    @classmethod
    def example(cls, seed: int = 0) -> "GeometryOptimization":
        cluster = argon_cluster(temperature=0.0, seed=seed, jitter=0.1)
        return cls(cluster, default_potential(cluster), fmax=0.01)


def _shells(name: str, value, limit: int = 64) -> tuple:
    """Distinct positive integers |n|^2 of box wave vectors, ascending (at most ``limit``)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list, np.ndarray)) or len(value) == 0:
        raise tk.InvalidProblemError(f"{name} = {v.show(value)} is not allowed: give one or more shells |n|^2 of the "
                                     "box wave vectors k = 2 pi n / L, e.g. (1, 2, 3)")
    out = tuple(v.integer(f"{name}[{i}]", x, lower=1, upper=3 * limit ** 2) for i, x in enumerate(value))
    if len(set(out)) != len(out) or list(out) != sorted(out):
        raise tk.InvalidProblemError(f"{name} = {v.show(value)} is not allowed: give distinct shells in ascending "
                                     "order, e.g. (1, 2, 3)")
    if any(x in (7, 15, 23, 28, 31) for x in out):
        raise tk.InvalidProblemError(f"{name} = {v.show(value)} is not allowed: no integer vector n has |n|^2 = "
                                     f"{next(x for x in out if x in (7, 15, 23, 28, 31))} (sums of three squares "
                                     "never equal 4^a (8b + 7)); pick another shell")
    return out


class HydrodynamicMeasurement(tk.Problem):
    """The hydrodynamics of an atomistic fluid from independent equilibrium MD runs (issue 21).

    ``fluid``: the fluid as a ``MolecularDynamics`` set-up (a periodic cubic box of one species, e.g.
    ``lj_fluid(cells, density, temperature)`` under ``LennardJones(cutoff)``), whose ``steps``,
    ``save_every`` and ``thermo_every`` are each run's production length, frame interval (the
    Fourier modes) and pressure-tensor interval (Green-Kubo). ``shells``: |n|^2 of the wave vectors
    k = 2 pi n / L of the transverse-current correlations C_T(k, t) and eta(k); ``sk_shells``: those of
    the static structure factor S(k) (extrapolated to S(0), the isothermal sound speed); ``runs``:
    independent runs (>= 2: the error bars come from them); ``equilibrate_steps``: thermostatted
    steps before each run's production; ``max_lag``: the longest lag of C_T in reduced time units
    tau = sigma sqrt(m / epsilon); ``seed``: the runs' velocity streams.
    Solved by ``TransverseCurrents`` (``solvers.molecule``).
    """

    fluid: MolecularDynamics
    shells: tuple = (1, 2, 3)
    sk_shells: tuple = (1, 2, 3, 4, 5, 6)
    runs: int = 4
    equilibrate_steps: int = 0
    max_lag: float = 5.0
    seed: int = 0

    def _validate(self):
        if not isinstance(self.fluid, MolecularDynamics):
            raise tk.InvalidProblemError(f"fluid = {v.show(self.fluid)} is not allowed: give a MolecularDynamics "
                                         "set-up of the fluid, e.g. MolecularDynamics(lj_fluid(4), LennardJones("
                                         "cutoff=2.5), steps=2000, save_every=5, thermo_every=1)")
        mol = self.fluid.molecule
        if mol.cell is None or not all(np.atleast_1d(mol.pbc)):
            raise tk.InvalidProblemError("fluid.molecule is not allowed: the hydrodynamic modes need a periodic box "
                                         "(cell and pbc=True), e.g. lj_fluid(...)")
        cell = np.asarray(mol.cell, dtype=float)
        edges = np.diag(cell) if cell.ndim == 2 else cell
        if cell.ndim == 2 and np.any(np.abs(cell - np.diag(edges)) > 1e-12 * edges.max()) or \
                np.ptp(edges) > 1e-9 * edges.max():
            raise tk.InvalidProblemError(f"fluid.molecule.cell = {v.show(mol.cell)} is not allowed: give a cubic box "
                                         "(the wave-vector shells assume k = 2 pi n / L along three equal edges)")
        if len(set(mol.species)) != 1:
            raise tk.InvalidProblemError(f"fluid.molecule has species {sorted(set(mol.species))}: give a one-species "
                                         "fluid (the currents are those of a simple liquid)")
        self._set("shells", _shells("shells", self.shells))
        self._set("sk_shells", _shells("sk_shells", self.sk_shells))
        self._set("runs", v.integer("runs", self.runs, lower=2, upper=10 ** 5))
        self._set("equilibrate_steps", v.integer("equilibrate_steps", self.equilibrate_steps, lower=0,
                                                 upper=MAX_STEPS))
        self._set("max_lag", v.real_scalar("max_lag", self.max_lag, lower=0, lower_open=True, upper=1e6))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=2 ** 63 - 1))

    @classmethod
    def example(cls, seed: int = 0) -> "HydrodynamicMeasurement":
        """108 LJ atoms at rho* 0.8442, T* 0.722, two short runs (seconds; numbers not converged)."""
        molecule = lj_fluid(3, 0.8442, 0.722, seed=seed)
        fluid = MolecularDynamics(molecule, default_potential(molecule), steps=1000, save_every=2, thermo_every=1)
        return cls(fluid, shells=(1, 2), sk_shells=(1, 2, 3), runs=2, equilibrate_steps=500, max_lag=1.5, seed=seed)


# ---------------------------------------------------------------------------------------------
# Builders

def maxwell_boltzmann(masses, temperature, rng) -> np.ndarray:
    """Velocities (Å/fs) drawn at ``temperature`` (K), with zero total momentum."""
    masses = np.asarray(masses, dtype=float)
    if temperature <= 0:
        return np.zeros((len(masses), 3))
    sigma = np.sqrt(KB_EV * temperature / masses)[:, None]        # Å per internal time unit
    vel = rng.standard_normal((len(masses), 3)) * sigma
    if len(masses) > 1:
        vel -= (masses[:, None] * vel).sum(0) / masses.sum()
    return vel * FS


def _check_atoms(name: str, value: int, atoms: int) -> None:
    """Refuse a builder whose ``atoms`` would not fit the memory available now (before allocating)."""
    from toolkit.memory import available_memory

    need = atoms * BYTES_PER_ATOM
    available = available_memory()
    if need > available:
        raise tk.InvalidProblemError(
            f"{name} = {value} is not allowed: {atoms:.4g} atoms need about {need / 2**30:.3g} GiB "
            f"({BYTES_PER_ATOM} bytes per atom) but {available / 2**30:.3g} GiB is available; build fewer cells")


def lj_fluid(cells: int = 4, density: float = 0.8442, temperature: float = 0.722, sigma: float = 1.0,
             epsilon: float = 1.0, mass: float = 1.0, symbol: str = "Ar", seed: int = 0) -> Molecule:
    """A Lennard-Jones fluid started on an fcc lattice: ``4 cells^3`` atoms at reduced density.

    ``density`` is rho* = N sigma^3 / V and ``temperature`` T* = k_B T / epsilon (velocities drawn
    from Maxwell-Boltzmann). With the defaults (sigma = 1 Å, epsilon = 1 eV, mass = 1 amu) the
    molecule is in reduced LJ units; pass argon's (3.405 Å, 0.010325 eV, 39.948 amu) for argon.
    """
    cells = v.integer("cells", cells, lower=1)
    density = v.real_scalar("density", density, lower=1e-6, upper=1.5)
    temperature = v.real_scalar("temperature", temperature, lower=0, upper=1e6)
    sigma = v.real_scalar("sigma", sigma, lower=1e-3, upper=1e3)
    epsilon = v.real_scalar("epsilon", epsilon, lower=0, upper=1e6)
    mass = v.real_scalar("mass", mass, lower=MASS_RANGE[0], upper=MASS_RANGE[1])
    seed = v.integer("seed", seed, lower=0, upper=2 ** 63 - 1)
    _check_atoms("cells", cells, 4 * cells ** 3)
    a = sigma * (4.0 / density) ** (1.0 / 3.0)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.stack(np.meshgrid(*[np.arange(cells)] * 3, indexing="ij"), -1).reshape(-1, 3)
    positions = ((grid[:, None, :] + basis[None, :, :]).reshape(-1, 3) + 0.25) * a
    n = len(positions)
    masses = np.full(n, float(mass))
    rng = np.random.default_rng(seed)
    velocities = maxwell_boltzmann(masses, temperature * epsilon / KB_EV, rng)
    return Molecule(species=(symbol,) * n, positions=positions, cell=[cells * a] * 3, pbc=True,
                    masses=masses, velocities=velocities)


def argon_cluster(temperature: float = 0.0, seed: int = 0, jitter: float = 0.0) -> Molecule:
    """Ar13: a cuboctahedral fcc fragment at argon's nearest-neighbour distance 3.82 Å."""
    rng = np.random.default_rng(seed)
    shell = np.array([[1, 1, 0], [1, -1, 0], [-1, 1, 0], [-1, -1, 0], [1, 0, 1], [1, 0, -1],
                      [-1, 0, 1], [-1, 0, -1], [0, 1, 1], [0, 1, -1], [0, -1, 1], [0, -1, -1]])
    positions = np.vstack([[0, 0, 0], shell * 3.82 / np.sqrt(2)])
    positions = positions + jitter * rng.standard_normal(positions.shape)
    masses = np.full(13, 39.948)
    return Molecule(species=("Ar",) * 13, positions=positions,
                    velocities=maxwell_boltzmann(masses, temperature, rng))


def water(seed: int | None = None, jitter: float = 0.02) -> Molecule:
    """H2O near its gas-phase geometry (ASE's g2 set); ``seed`` adds a ``jitter`` Å perturbation."""
    return organic("H2O", seed=seed, jitter=jitter)


def organic(name: str = "CH4", seed: int | None = None, jitter: float = 0.02) -> Molecule:
    """A small molecule from ASE's g2 set by name (``'CH4'``, ``'C2H6'``, ``'CH3OH'``, ``'C6H6'``...)."""
    from ase.build import molecule
    from ase.collections import g2

    if name not in g2.names:
        raise tk.InvalidProblemError(f"name = {name!r} is not allowed: choose a molecule of ASE's g2 set, "
                                     f"e.g. {', '.join(g2.names[:8])}")
    atoms = molecule(name)
    positions = atoms.get_positions()
    if seed is not None:
        positions = positions + jitter * np.random.default_rng(seed).standard_normal(positions.shape)
    return Molecule(species=tuple(atoms.get_chemical_symbols()), positions=positions)

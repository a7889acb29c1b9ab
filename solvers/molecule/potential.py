"""The potential contract: a potential is a force provider whose cache drives any dynamics.

A potential is a :class:`Potential` (a :class:`toolkit.ForceProvider`: hyperparameters only).
``tk.init(PotentialEnergy(molecule), potential)`` returns a :class:`PotentialCache` (a
:class:`toolkit.ForceCache`) that keeps what does not change while the atoms move: the potential's
:class:`Evaluator` bound to the molecule's species, cell and periodicity, and, for the numba pair
potentials, the Verlet list (rebuilt only when an atom has moved half the skin). Dynamics and
optimisers obtain their evaluator this way and call

* ``cache.compute(positions) -> (energy eV, forces eV/Å, virial eV)`` in their hot loops;
* ``cache.energy_gradient(positions) -> (E, dE/dx = -forces)``, the force-provider contract;
* ``cache.update(molecule=...)`` / ``cache.solve()`` for a :class:`PotentialEnergySolution`, equal to
  ``tk.solve(PotentialEnergy(molecule), potential)`` to round-off (a kept Verlet list may order the
  pair sum differently from a fresh one; measured differences ~1e-15 relative).

A new potential (a machine-learned one, say) plugs in by subclassing :class:`Potential`, implementing
``evaluator(molecule) -> Evaluator`` and registering ``_init(PotentialEnergy, NewPotential)`` with
:func:`potential_cache` and ``_solve(PotentialEnergy, NewPotential)`` with :func:`potential_energy`. Numba pair potentials also expose
``evaluator.pair`` (kind, parameters, cutoff, skin) so that the dynamics can run their fully jitted
loop. Any other force provider that serves ``PotentialEnergy`` through ``tk.init`` works too
(:func:`force_function` adapts its cache).

The virial is ``W = sum_{i<j} r_ij (x) F_ij`` (``r_ij = x_i - x_j``, ``F_ij`` the force on ``i``
from ``j``); for a potential that only knows total forces on an isolated molecule it is
``sum_i x_i (x) F_i`` (equal for translation-invariant potentials). The stress is ``-W / V``.
"""

from __future__ import annotations

import time

import numpy as np

import toolkit as tk
from problems.molecule import Molecule, PotentialEnergy
from toolkit.conventions import attrs, index

__all__ = ["Potential", "Evaluator", "PotentialCache", "PotentialEnergySolution", "potential_energy",
           "potential_cache", "force_function", "orthorhombic_box"]


class Evaluator:
    """Energy, forces and virial of one molecule's atoms at given positions (Å).

    Built by ``Potential.evaluator(molecule)`` and kept by a :class:`PotentialCache`; it may keep
    whatever depends only on the species, cell and periodicity (and, refreshed as it sees fit,
    neighbour lists).
    """

    #: ``(kind, params float64[:], cutoff, skin)`` for numba pair potentials, else ``None``.
    pair = None

    def compute(self, positions: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError


class Potential(tk.ForceProvider):
    """Base of every potential: a force provider whose configuration is the atom positions (Å)."""

    abstract = True
    configuration = "positions"

    def evaluator(self, molecule: Molecule) -> Evaluator:  # pragma: no cover - abstract
        """The :class:`Evaluator` bound to ``molecule``'s species, cell and periodicity (the hook a
        new potential implements; users and other solvers go through ``tk.init``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement evaluator(molecule)")


def atom_coordinates(molecule: Molecule) -> dict:
    """The ``atom`` coordinate of a molecule's dataset: element symbols (``ds.sel(atom="O")``), with
    ``atom_index`` (0, 1, ...) beside it (see :mod:`toolkit.conventions`)."""
    return {"atom": ("atom", np.array(molecule.species, dtype=str), index("element symbol")),
            "atom_index": ("atom", np.arange(len(molecule.species)), index("atom index"))}


class PotentialEnergySolution(tk.Solution):
    """``energy`` (eV), ``forces`` (eV/Å, one row per atom) and ``virial`` (eV, 3x3)."""

    energy: float
    forces: np.ndarray
    virial: np.ndarray

    dims = {"forces": ("atom", "xyz"), "virial": ("xyz", "xyz2")}
    cf = {"forces": attrs("eV/Å", "force"), "virial": attrs("eV", "virial tensor W")}

    def _coordinates(self):
        return atom_coordinates(self.problem.molecule)

    @property
    def stress(self) -> np.ndarray:
        """``-virial / V`` in eV/Å³ (needs a cell)."""
        volume = self.problem.molecule.volume
        if volume is None:
            raise ValueError("stress needs a cell: this molecule is isolated (cell=None)")
        return -self.virial / volume

    def plot(self, ax=None):
        """|force| on each atom, atoms named by element (``O1 H2 H3``); reduced LJ units when the
        potential is the reduced Lennard-Jones one (:func:`lj_reduced`)."""
        from toolkit.plotting import label, new_axes

        molecule = self.problem.molecule
        n = len(self.forces)
        fig, ax, _ = new_axes(ax, figsize=(max(5.0, min(12.0, 2.5 + 0.25 * n)), 3.8))
        units = md_units(self.solver, molecule)
        ax.bar(np.arange(n), np.linalg.norm(self.forces, axis=1))
        ticks = np.arange(0, n, max(1, int(np.ceil(n / 40))))
        names = atom_labels_of(molecule)
        ax.set_xticks(ticks, [names[k] for k in ticks], rotation=90 if n > 12 else 0, fontsize=8 if n > 12 else None)
        ax.set_xlabel("atom")
        ax.set_ylabel(label("|force|", units["force"]))
        ax.set_title(f"forces on {formula(molecule.species)} ({type(self.solver).__name__}), "
                     f"E = {self.energy:.6g} {units['energy']}")
        return ax


def lj_reduced(potential, molecule) -> bool:
    """Whether ``potential`` on ``molecule`` is reduced Lennard-Jones: epsilon = 1 eV, sigma = 1 Å
    and every mass 1 amu (:func:`problems.molecule.lj_fluid`'s defaults), so that the numbers are
    in units of epsilon, sigma and tau = sigma sqrt(m / epsilon)."""
    from .pair import LennardJones

    return (isinstance(potential, LennardJones) and potential.epsilon == 1.0 and potential.sigma == 1.0
            and molecule.masses is not None and bool(np.all(molecule.masses == 1.0)))


def md_units(potential, molecule) -> dict:
    """Axis units of the family's figures: reduced LJ (ε, σ, τ) or eV, Å, fs."""
    from toolkit.plotting import reduced

    if lj_reduced(potential, molecule):
        return {"energy": reduced("ε"), "force": reduced("ε/σ"), "time": reduced("τ"), "length": reduced("σ"),
                "reduced": True}
    return {"energy": "eV", "force": "eV/Å", "time": "fs", "length": "Å", "reduced": False}


def atom_labels_of(molecule) -> list[str]:
    """``["O1", "H2", "H3"]`` for the molecule's atoms."""
    from toolkit.plotting import atom_labels

    return atom_labels(molecule.species)


def formula(species) -> str:
    """Hill formula: C, then H, then the other elements alphabetically (``H2O``, ``CH4``, ``Ar108``)."""
    counts: dict[str, int] = {}
    for s in species:
        counts[s] = counts.get(s, 0) + 1
    first = ["C", "H"] if "C" in counts else []
    order = first + sorted(k for k in counts if k not in first)
    return "".join(f"{k}{counts[k] if counts[k] > 1 else ''}" for k in order if k in counts)


def _frame(molecule: Molecule) -> tuple:
    """What an evaluator is bound to: species, cell, periodicity, charge and spin."""
    cell = None if molecule.cell is None else molecule.cell.tobytes()
    return molecule.species, cell, molecule.pbc, molecule.charge, molecule.spin


class PotentialCache(tk.ForceCache):
    """``tk.init(PotentialEnergy(molecule), potential)``: the potential's evaluator, kept while only
    the positions change (see the module docstring)."""

    def __init__(self, problem, solver, **options):
        super().__init__(problem, solver, **options)
        self.evaluator = solver.evaluator(problem.molecule)
        self._bound = _frame(problem.molecule)

    # -- what the dynamics use ----------------------------------------------------------
    @property
    def pair(self):
        """``(kind, params, cutoff, skin)`` of a numba pair potential (the jitted MD loop), else None."""
        return self.evaluator.pair

    def compute(self, positions: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """``(energy eV, forces eV/Å, virial eV)`` at ``positions`` (Å, shaped like the molecule's)."""
        return self.evaluator.compute(positions)

    def energy_gradient(self, configuration: np.ndarray) -> tuple[float, np.ndarray]:
        """``(E, dE/dx)`` at the positions ``configuration``: ``dE/dx`` is minus the forces."""
        energy, forces, _ = self.evaluator.compute(configuration)
        return float(energy), -np.asarray(forces, dtype=float)

    # -- the SolveCache contract ----------------------------------------------------------
    def _refresh(self, problem, changed) -> None:
        frame = _frame(problem.molecule)
        if frame != self._bound:   # other atoms or another box: a new evaluator
            self.evaluator = self.solver.evaluator(problem.molecule)
            self._bound = frame

    def _solve(self, *, strict: bool = False, progress: bool = False) -> PotentialEnergySolution:
        t0 = time.perf_counter()
        problem, solver = self.problem, self.solver
        n = problem.molecule.n_atoms
        empty = dict(energy=0.0, forces=np.zeros((n, 3)), virial=np.zeros((3, 3)))
        try:
            energy, forces, virial = self.compute(problem.molecule.positions)
        except RuntimeError as exc:   # a back end that did not converge (an SCF)
            solution = PotentialEnergySolution(problem=problem, solver=solver,
                                               retcode=tk.ReturnCode.ConvergenceFailure, message=str(exc),
                                               stats={"wall_time": time.perf_counter() - t0}, **empty)
        else:
            stats = {"wall_time": time.perf_counter() - t0}
            if np.isfinite(energy) and np.all(np.isfinite(forces)) and np.all(np.isfinite(virial)):
                solution = PotentialEnergySolution(problem=problem, solver=solver, stats=stats,
                                                   energy=float(energy),
                                                   forces=np.ascontiguousarray(forces, dtype=float),
                                                   virial=np.ascontiguousarray(virial, dtype=float))
            else:
                solution = PotentialEnergySolution(
                    problem=problem, solver=solver, retcode=tk.ReturnCode.Unstable, stats=stats,
                    message="the energy or forces are not finite; atoms may overlap", **empty)
        if strict and not solution.successful:
            raise tk.UnstableError(f"{type(solver).__name__} ended with {solution.retcode}: {solution.message}")
        return solution


def potential_cache(problem, solver: Potential) -> PotentialCache:
    """The shared ``_init(PotentialEnergy, potential)`` body."""
    return PotentialCache(problem, solver)


def potential_energy(problem, solver: Potential) -> PotentialEnergySolution:
    """The shared ``_solve(PotentialEnergy, potential)`` body: one evaluation, through the cache."""
    return PotentialCache(problem, solver)._solve()


def force_function(molecule: Molecule, potential):
    """``(cache, compute)`` for ``molecule`` under the force provider ``potential``, obtained through
    ``tk.init(PotentialEnergy(molecule), potential)``; ``compute(positions) -> (E, forces, virial)``.

    A :class:`PotentialCache` computes directly; another :class:`toolkit.ForceCache` through
    ``energy_gradient`` (virial ``sum_i x_i (x) F_i``); any other cache by solving the problem
    remade at the positions.
    """
    cache = tk.init(PotentialEnergy(molecule), potential)
    if isinstance(cache, PotentialCache):
        return cache, cache.compute
    if isinstance(cache, tk.ForceCache):
        def compute(positions):
            energy, gradient = cache.energy_gradient(positions)
            forces = -np.asarray(gradient, dtype=float)
            return float(energy), forces, np.asarray(positions, dtype=float).T @ forces
        return cache, compute

    def solved(positions):
        moved = tk.remake(cache.problem.molecule, positions=np.asarray(positions, dtype=float))
        solution = cache.update(molecule=moved).solve()
        if not solution.successful:
            raise RuntimeError(f"{type(potential).__name__} failed: {solution.message}")
        return solution.energy, solution.forces, solution.virial
    return cache, solved


def orthorhombic_box(molecule: Molecule, cutoff: float, skin: float, who: str):
    """``(box float64[3], periodic int64[3])`` for the numba kernels; checks the cell fits ``reach``.

    Periodic directions need an orthorhombic cell at least ``2 * cutoff`` and ``cutoff + skin`` long
    (minimum image, with positions wrapped at each list rebuild).
    """
    periodic = np.array([1 if p else 0 for p in molecule.pbc], dtype=np.int64)
    box = np.zeros(3)
    if molecule.cell is not None:
        cell = molecule.cell
        if periodic.any() and not molecule.orthorhombic:
            raise tk.InvalidProblemError(
                f"cell = {tk.validate.show(cell)} is not allowed with {who}: its neighbour lists handle "
                "orthorhombic (diagonal) cells; use ASECalculator for a skewed cell")
        box = np.ascontiguousarray(np.diag(cell), dtype=float)
        reach = max(2 * cutoff, cutoff + skin)
        short = [a for a in range(3) if periodic[a] and box[a] < reach]
        if short:
            raise tk.InvalidProblemError(
                f"cell = {np.round(box, 4).tolist()} is too small for {who}: periodic box lengths must be "
                f">= max(2 cutoff, cutoff + skin) = {reach:.4g} Å (minimum image). Replicate the cell or lower "
                "the cutoff.")
    return box, periodic

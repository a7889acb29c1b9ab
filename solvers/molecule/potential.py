"""The potential contract: any potential solves ``PotentialEnergy`` and drives any dynamics.

A potential is a :class:`Potential` solver (hyperparameters only) whose ``evaluator(molecule)``
returns an :class:`Evaluator` bound to that molecule's species, cell and periodicity. Dynamics
and optimisers only call ``evaluator.compute(positions) -> (energy eV, forces eV/Å, virial eV)``,
so a new potential (a machine-learned one, say) plugs in by subclassing :class:`Potential`,
implementing ``evaluator`` and registering ``_solve(PotentialEnergy, NewPotential)`` with
:func:`potential_energy`. Numba pair potentials also expose ``evaluator.pair`` (kind, parameters,
cutoff, skin) so that the dynamics can run their fully jitted loop.

The virial is ``W = sum_{i<j} r_ij (x) F_ij`` (``r_ij = x_i - x_j``, ``F_ij`` the force on ``i``
from ``j``); for a potential that only knows total forces on an isolated molecule it is
``sum_i x_i (x) F_i`` (equal for translation-invariant potentials). The stress is ``-W / V``.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.molecule import Molecule

__all__ = ["Potential", "Evaluator", "PotentialEnergySolution", "potential_energy", "orthorhombic_box"]


class Evaluator:
    """Energy, forces and virial of one molecule's atoms at given positions (Å)."""

    #: ``(kind, params float64[:], cutoff, skin)`` for numba pair potentials, else ``None``.
    pair = None

    def compute(self, positions: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError


class Potential(tk.Solver):
    """Base of every potential (a solver of ``PotentialEnergy`` usable inside dynamics)."""

    abstract = True
    #: Trait read by the problems' validation: this solver can be a ``potential`` field.
    is_potential = True

    def evaluator(self, molecule: Molecule) -> Evaluator:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement evaluator(molecule)")


class PotentialEnergySolution(tk.Solution):
    """``energy`` (eV), ``forces`` (eV/Å, one row per atom) and ``virial`` (eV, 3x3)."""

    energy: float
    forces: np.ndarray
    virial: np.ndarray

    dims = {"forces": ("atom", "xyz"), "virial": ("xyz", "xyz2")}

    @property
    def stress(self) -> np.ndarray:
        """``-virial / V`` in eV/Å³ (needs a cell)."""
        volume = self.problem.molecule.volume
        if volume is None:
            raise ValueError("stress needs a cell: this molecule is isolated (cell=None)")
        return -self.virial / volume

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        ax.bar(np.arange(len(self.forces)), np.linalg.norm(self.forces, axis=1))
        ax.set_xlabel("atom")
        ax.set_ylabel("|force| (eV/Å)")
        ax.set_title(f"E = {self.energy:.6g} eV")
        return ax


def potential_energy(problem, solver: Potential) -> PotentialEnergySolution:
    """The shared ``_solve(PotentialEnergy, potential)`` body: one evaluation at the positions."""
    import time

    t0 = time.perf_counter()
    molecule = problem.molecule
    energy, forces, virial = solver.evaluator(molecule).compute(molecule.positions)
    stats = {"wall_time": time.perf_counter() - t0}
    if not (np.isfinite(energy) and np.all(np.isfinite(forces))):
        return PotentialEnergySolution(problem=problem, solver=solver, retcode=tk.ReturnCode.Unstable,
                                       message="the energy or forces are not finite; atoms may overlap",
                                       stats=stats, energy=0.0, forces=np.zeros_like(forces),
                                       virial=np.zeros((3, 3)))
    return PotentialEnergySolution(problem=problem, solver=solver, stats=stats, energy=float(energy),
                                   forces=np.ascontiguousarray(forces, dtype=float),
                                   virial=np.ascontiguousarray(virial, dtype=float))


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

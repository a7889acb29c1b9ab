"""``MDSolution``: the thermodynamic record and the saved frames of a molecular-dynamics run.

Thermodynamics (every ``thermo_every`` steps): potential, kinetic and thermostat energies (eV),
the virial and kinetic tensors (eV), from which temperature ``T = 2K / (g k_B)`` and the
pressure tensor ``P = (sum m v v + W) / V`` (eV/Å³) follow. Frames (every ``save_every`` steps):
unwrapped positions (Å) and velocities (Å/fs), ready for the RDF, MSD and VACF in
:mod:`solvers.molecule.observables`. ``write_extxyz`` writes the frames through ASE.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.molecule import KB_EV
from toolkit.conventions import attrs

from .potential import atom_coordinates

__all__ = ["MDSolution"]


class MDSolution(tk.Solution):
    """Energies, tensors and frames of a molecular-dynamics run (see the module docstring)."""

    time: np.ndarray
    potential_energy: np.ndarray
    kinetic_energy: np.ndarray
    thermostat_energy: np.ndarray
    virial: np.ndarray
    kinetic_tensor: np.ndarray
    frame_time: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    degrees_of_freedom: float = 0.0

    dims = {"time": ("time",), "potential_energy": ("time",), "kinetic_energy": ("time",),
            "thermostat_energy": ("time",), "virial": ("time", "xyz", "xyz2"),
            "kinetic_tensor": ("time", "xyz", "xyz2"), "frame_time": ("frame",),
            "positions": ("frame", "atom", "xyz"), "velocities": ("frame", "atom", "xyz")}
    coords = {"frame": "frame_time"}
    cf = {"time": attrs("fs", "time"), "potential_energy": attrs("eV", "potential energy"),
          "kinetic_energy": attrs("eV", "kinetic energy"),
          "thermostat_energy": attrs("eV", "thermostat (Nosé-Hoover chain) energy"),
          "virial": attrs("eV", "virial tensor W"), "kinetic_tensor": attrs("eV", "kinetic tensor sum m v v"),
          "frame_time": attrs("fs", "time of the saved frame"), "positions": attrs("Å", "unwrapped position"),
          "velocities": attrs("Å/fs", "velocity")}

    def _coordinates(self):
        return atom_coordinates(self.problem.molecule)
    compare_fields = ("potential_energy", "kinetic_energy")

    @property
    def total_energy(self) -> np.ndarray:
        """Kinetic + potential energy of the atoms, eV (conserved by NVE dynamics)."""
        return self.potential_energy + self.kinetic_energy

    @property
    def conserved_energy(self) -> np.ndarray:
        """The integrator's conserved quantity, eV: the total energy plus the Nosé–Hoover chain's
        energy (``thermostat_energy``, zero for other dynamics; Langevin conserves nothing)."""
        return self.total_energy + self.thermostat_energy

    @property
    def temperature(self) -> np.ndarray:
        """Instantaneous kinetic temperature ``2K / (g k_B)``, K."""
        return 2.0 * self.kinetic_energy / (max(self.degrees_of_freedom, 1.0) * KB_EV)

    @property
    def volume(self) -> float:
        volume = self.problem.molecule.volume
        if volume is None:
            raise ValueError("pressure needs a cell: this molecule is isolated (cell=None)")
        return volume

    @property
    def pressure_tensor(self) -> np.ndarray:
        """``(sum m v v + W) / V`` per thermo record, eV/Å³."""
        return (self.kinetic_tensor + self.virial) / self.volume

    @property
    def pressure(self) -> np.ndarray:
        """``tr P / 3`` per thermo record, eV/Å³."""
        return np.trace(self.pressure_tensor, axis1=1, axis2=2) / 3.0

    def frames_as_ase(self):
        """The saved frames as a list of ``ase.Atoms`` (velocities in ASE units)."""
        from problems.molecule import FS

        base = self.problem.molecule.to_ase()
        frames = []
        for x, vel in zip(self.positions, self.velocities):
            atoms = base.copy()
            atoms.set_positions(x)
            atoms.set_velocities(vel / FS)
            frames.append(atoms)
        return frames

    def write_extxyz(self, path):
        """Write the frames as an extended-XYZ trajectory (through ``ase.io``)."""
        from ase.io import write

        write(path, self.frames_as_ase(), format="extxyz")
        return path

    def plot(self, ax=None):
        """Potential, kinetic and total energy per atom against time; in reduced LJ units (ε, τ) for a
        reduced Lennard-Jones fluid (:func:`solvers.molecule.potential.lj_reduced`), else eV and fs."""
        from problems.molecule import LJ_TIME_FS
        from toolkit.plotting import label, new_axes

        from .potential import formula, md_units

        fig, ax, _ = new_axes(ax, figsize=(6.5, 4.0))
        molecule = self.problem.molecule
        units = md_units(self.problem.potential, molecule)
        t = self.time / LJ_TIME_FS if units["reduced"] else self.time
        n = max(len(molecule.species), 1)
        ax.plot(t, self.potential_energy / n, label="potential")
        ax.plot(t, self.kinetic_energy / n, label="kinetic")
        ax.plot(t, self.total_energy / n, label="total")
        if np.any(self.thermostat_energy != 0):
            ax.plot(t, self.conserved_energy / n, label="conserved (with thermostat)")
        ax.set_xlabel(label("time t", units["time"]))
        ax.set_ylabel(label("energy per atom", units["energy"]))
        ax.set_title(f"energies of {formula(molecule.species)}, {type(self.solver).__name__}")
        ax.legend(fontsize=8)
        return ax

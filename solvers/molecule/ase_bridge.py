"""ASE interop both ways: any ASE calculator as a potential, any potential as an ASE calculator.

``ASECalculator("emt")`` (or ``"module:Class"`` with ``parameters``, or a calculator instance)
solves ``PotentialEnergy`` and drives dynamics; :func:`as_ase_calculator` turns a scalebridge
potential into an ``ase.calculators.calculator.Calculator`` for ASE's optimisers, dynamics and
tools. Larsen et al., "The atomic simulation environment", J. Phys.: Condens. Matter 29, 273002
(2017), doi:10.1088/1361-648X/aa680e.

A calculator given by name is stored by name, so problems and solutions that use it save and
load; a calculator instance works everywhere except ``tk.save`` and checkpoints.
"""

from __future__ import annotations

import importlib

import numpy as np

import toolkit as tk
from problems.molecule import Molecule, PotentialEnergy
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .potential import Evaluator, Potential, PotentialEnergySolution, potential_energy

__all__ = ["ASECalculator", "as_ase_calculator", "ScalebridgeCalculator"]

_E = tk.InvalidSolverError
#: Short names for ASE's built-in calculators.
KNOWN = {"lj": "ase.calculators.lj:LennardJones", "emt": "ase.calculators.emt:EMT",
         "morse": "ase.calculators.morse:MorsePotential", "tip3p": "ase.calculators.tip3p:TIP3P"}


def _calculator_class(name: str):
    path = KNOWN.get(name.lower(), name)
    module, _, cls = path.partition(":")
    if not cls or not module.startswith("ase."):
        raise _E(f"calculator = {name!r} is not allowed: give one of {', '.join(KNOWN)}, an "
                 "'ase.calculators.module:Class' path or a calculator instance.")
    try:
        return getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError) as exc:
        raise _E(f"calculator = {name!r} is not allowed: cannot import it ({exc}).") from None


class ASECalculator(Potential):
    """Any ASE calculator as a potential: a short name, ``'ase.calculators.mod:Class'`` or an instance.

    ``parameters`` are the calculator's keyword arguments (when given by name).
    """

    calculator: object = "lj"
    parameters: dict | None = None

    def _validate(self):
        calc = self.calculator
        if isinstance(calc, str):
            _calculator_class(calc)
        elif not (hasattr(calc, "get_potential_energy") and hasattr(calc, "calculate")):
            raise _E(f"calculator = {v.show(calc)} is not allowed: give an ASE calculator instance or a "
                     f"name ({', '.join(KNOWN)}).")
        params = self.parameters
        if params is not None:
            if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
                raise _E(f"parameters = {v.show(params)} is not allowed: give a dict of keyword arguments.")
            if not isinstance(calc, str):
                raise _E("parameters = ... is not allowed with a calculator instance: configure the instance.")

    def make(self):
        """A fresh calculator (or the instance given)."""
        if isinstance(self.calculator, str):
            return _calculator_class(self.calculator)(**(self.parameters or {}))
        return self.calculator

    def evaluator(self, molecule: Molecule):
        return ASEEvaluator(self.make(), molecule)


class ASEEvaluator(Evaluator):
    def __init__(self, calc, molecule: Molecule):
        self.atoms = molecule.to_ase()
        self.atoms.calc = calc
        self.periodic = all(molecule.pbc)

    def compute(self, positions):
        atoms = self.atoms
        atoms.set_positions(positions)
        energy = float(atoms.get_potential_energy())
        forces = np.array(atoms.get_forces(), dtype=float)
        virial = None
        if self.periodic:
            try:
                virial = -np.asarray(atoms.get_stress(voigt=False)) * atoms.get_volume()
            except Exception:  # noqa: BLE001 - calculators without stress
                virial = None
        if virial is None:
            virial = np.asarray(positions, dtype=float).T @ forces
        return energy, forces, np.ascontiguousarray(virial, dtype=float)


@dispatch
def _solve(problem: PotentialEnergy, solver: ASECalculator) -> PotentialEnergySolution:
    return potential_energy(problem, solver)


def _calculator_base():
    from ase.calculators.calculator import Calculator, all_changes

    class ScalebridgeCalculator(Calculator):
        """An ASE calculator backed by a scalebridge potential (energy, forces, stress)."""

        implemented_properties = ["energy", "free_energy", "forces", "stress"]

        def __init__(self, potential, **kwargs):
            super().__init__(**kwargs)
            self.potential = potential
            self._key = None
            self._evaluator = None

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            mol = Molecule.from_ase(self.atoms, charge=0, spin=0)
            key = (mol.species, None if mol.cell is None else mol.cell.tobytes(), mol.pbc)
            if key != self._key:
                self._evaluator, self._key = self.potential.evaluator(mol), key
            energy, forces, virial = self._evaluator.compute(mol.positions)
            self.results = {"energy": energy, "free_energy": energy, "forces": forces}
            if mol.volume is not None:
                stress = -virial / mol.volume
                self.results["stress"] = stress.flat[[0, 4, 8, 5, 2, 1]]
    return ScalebridgeCalculator


_CLASS = []


def as_ase_calculator(potential):
    """The scalebridge ``potential`` as an ASE calculator (``atoms.calc = as_ase_calculator(LJ)``)."""
    if not getattr(potential, "is_potential", False):
        raise TypeError(f"as_ase_calculator needs a potential solver, got {type(potential).__name__}")
    if not _CLASS:
        _CLASS.append(_calculator_base())
    return _CLASS[0](potential)


def __getattr__(name):
    if name == "ScalebridgeCalculator":
        if not _CLASS:
            _CLASS.append(_calculator_base())
        return _CLASS[0]
    raise AttributeError(name)

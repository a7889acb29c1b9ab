"""ASE interop both ways: any ASE calculator as a potential, any potential as an ASE calculator.

``ASECalculator("emt")`` (or an allowed ``"module:Class"`` with ``parameters``, or a calculator instance)
solves ``PotentialEnergy`` and drives dynamics; :func:`as_ase_calculator` turns a scalebridge
potential into an ``ase.calculators.calculator.Calculator`` for ASE's optimisers, dynamics and
tools. Larsen et al., "The atomic simulation environment", J. Phys.: Condens. Matter 29, 273002
(2017), doi:10.1088/1361-648X/aa680e.

A calculator given by name is stored by name, so problems and solutions that use it save and
load; a calculator instance works everywhere except ``tk.save`` and checkpoints. Names reach only
the in-process calculators of :data:`CALCULATORS` (with plain-data ``parameters``), so a name
read from a TOML spec or a saved file never starts a program or writes a file.
"""

from __future__ import annotations

import importlib

import numpy as np

import toolkit as tk
from problems.molecule import Molecule, PotentialEnergy
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .potential import (Evaluator, Potential, PotentialCache, PotentialEnergySolution, potential_cache,
                        potential_energy)

__all__ = ["ASECalculator", "as_ase_calculator", "ScalebridgeCalculator"]

_E = tk.InvalidSolverError

#: The ASE calculators reachable *by name* (from Python, a TOML spec or a saved file): in-process
#: Python calculators that neither launch a program nor write files. Short name -> "module:Class".
#: Being an ASE calculator class is not enough: CP2K, LAMMPS, CASTEP, SocketIOCalculator and every
#: FileIOCalculator start external commands, so a name that a file or spec could carry must not reach
#: them. Any other calculator (a DFT code, a configured socket client) works as an instance.
CALCULATORS = {
    "lj": "ase.calculators.lj:LennardJones",
    "emt": "ase.calculators.emt:EMT",
    "morse": "ase.calculators.morse:MorsePotential",
    "tip3p": "ase.calculators.tip3p:TIP3P",
    "tip4p": "ase.calculators.tip4p:TIP4P",
    "acn": "ase.calculators.acn:ACN",
    "eam": "ase.calculators.eam:EAM",
    "idealgas": "ase.calculators.idealgas:IdealGas",
    "counterion": "ase.calculators.counterions:AtomicCounterIon",
}
#: Former name of :data:`CALCULATORS`.
KNOWN = CALCULATORS
#: Calculator keyword arguments that name commands, files or folders: refused for a calculator given
#: by name (configure an instance instead).
FILE_KEYWORDS = frozenset({"command", "profile", "restart", "label", "directory", "txt", "atoms",
                           "ignore_bad_restart_file", "neighbor_list"})
_PLAIN = (bool, int, float, str, type(None))


def _allowed_text() -> str:
    return (f"give a short name ({', '.join(CALCULATORS)}), its 'ase.calculators.<module>:<Class>' path "
            "(ASECalculator.CALCULATORS lists them) or a calculator instance")


def _calculator_path(name) -> str:
    """The allowed ``'module:Class'`` path of ``name`` (a short name or an allowed path), or raise."""
    if not isinstance(name, str):
        raise _E(f"calculator = {v.show(name)} is not allowed: {_allowed_text()}.")
    path = CALCULATORS.get(name.strip().lower())
    if path is None and name in CALCULATORS.values():
        path = name
    if path is None:
        raise _E(f"calculator = {v.show(name)} is not allowed: {_allowed_text()}. Calculators that run "
                 "external programs (FileIOCalculator, socket I/O, CP2K, LAMMPS, ...) are never reached "
                 "by name; build one in Python and pass the instance.")
    return path


def _calculator_class(name: str):
    """Import the allowed calculator class of ``name``: only modules of :data:`CALCULATORS` are imported."""
    path = _calculator_path(name)
    module_name, _, class_name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
        from ase.calculators.calculator import BaseCalculator
    except ImportError as exc:
        raise _E(f"calculator = {name!r} needs ASE ({exc}); install the 'ase' package.") from None
    cls = vars(module).get(class_name)   # a lookup in the module's own names, never an attribute walk
    if not (isinstance(cls, type) and issubclass(cls, BaseCalculator)):
        raise _E(f"calculator = {name!r} is not allowed: {path} is not an ASE calculator class "
                 "in this version of ASE.")
    return cls


def _plain(value, depth: int = 0) -> bool:
    """Whether ``value`` is plain data: numbers, strings, booleans, None, and lists/tuples/arrays of them."""
    if isinstance(value, _PLAIN) or isinstance(value, (np.integer, np.floating, np.bool_)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biuf"
    if isinstance(value, (list, tuple)) and depth < 4:
        return all(_plain(item, depth + 1) for item in value)
    return False


class ASECalculator(Potential):
    """An ASE calculator as a potential: a short name, an allowed ``'ase.calculators.mod:Class'`` or an instance.

    ``parameters`` are the calculator's keyword arguments (when given by name): plain numbers,
    strings and lists, never commands, files or folders (:data:`FILE_KEYWORDS`). Only the
    in-process calculators of :data:`CALCULATORS` are reachable by name, so a name read from a
    spec or a saved file never runs a program; any other calculator works as an instance.
    """

    calculator: object = "lj"
    parameters: dict | None = None

    #: The calculators reachable by name (short name -> allowed path).
    CALCULATORS = CALCULATORS

    def _validate(self):
        calc = self.calculator
        if isinstance(calc, str):
            _calculator_class(calc)
        elif not (hasattr(calc, "get_potential_energy") and hasattr(calc, "calculate")):
            raise _E(f"calculator = {v.show(calc)} is not allowed: {_allowed_text()}.")
        params = self.parameters
        if params is not None:
            if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
                raise _E(f"parameters = {v.show(params)} is not allowed: give a dict of keyword arguments.")
            if not isinstance(calc, str):
                raise _E("parameters = ... is not allowed with a calculator instance: configure the instance.")
            for key, value in params.items():
                if key in FILE_KEYWORDS or key.startswith("_"):
                    raise _E(f"parameters[{key!r}] is not allowed: a calculator given by name takes no "
                             f"commands, files, folders or callables ({', '.join(sorted(FILE_KEYWORDS))}); "
                             "configure an instance in Python instead.")
                if not _plain(value):
                    raise _E(f"parameters[{key!r}] = {v.show(value)} is not allowed: give numbers, strings, "
                             "booleans or lists of them.")

    def make(self):
        """A fresh calculator (or the instance given)."""
        if isinstance(self.calculator, str):
            cls = _calculator_class(self.calculator)
            try:
                return cls(**(self.parameters or {}))
            except (TypeError, ValueError, KeyError) as exc:
                raise _E(f"parameters = {v.show(self.parameters)} are not accepted by {cls.__name__}: "
                         f"{type(exc).__name__}: {exc}; give the keyword arguments its documentation "
                         "lists") from None
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


@dispatch
def _init(problem: PotentialEnergy, solver: ASECalculator) -> PotentialCache:
    return potential_cache(problem, solver)


def _calculator_base():
    from ase.calculators.calculator import Calculator, all_changes

    class ScalebridgeCalculator(Calculator):
        """An ASE calculator backed by a scalebridge potential (energy, forces, stress)."""

        implemented_properties = ["energy", "free_energy", "forces", "stress"]

        def __init__(self, potential, **kwargs):
            super().__init__(**kwargs)
            self.potential = potential
            self._key = None
            self._cache = None

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            mol = Molecule.from_ase(self.atoms, charge=0, spin=0)
            key = (mol.species, None if mol.cell is None else mol.cell.tobytes(), mol.pbc)
            if key != self._key:   # other atoms or box: a new cache (tk.init checks the pair)
                from .potential import force_function

                self._cache, self._key = force_function(mol, self.potential), key
            energy, forces, virial = self._cache[1](mol.positions)
            self.results = {"energy": energy, "free_energy": energy, "forces": forces}
            if mol.volume is not None:
                stress = -virial / mol.volume
                self.results["stress"] = stress.flat[[0, 4, 8, 5, 2, 1]]
    return ScalebridgeCalculator


_CLASS = []


def as_ase_calculator(potential):
    """The scalebridge ``potential`` as an ASE calculator (``atoms.calc = as_ase_calculator(LJ)``)."""
    if not isinstance(potential, tk.ForceProvider):
        raise TypeError(f"as_ase_calculator needs a force provider (a potential solver such as LennardJones()), "
                        f"got {type(potential).__name__}")
    if not _CLASS:
        _CLASS.append(_calculator_base())
    return _CLASS[0](potential)


def __getattr__(name):
    if name == "ScalebridgeCalculator":
        if not _CLASS:
            _CLASS.append(_calculator_base())
        return _CLASS[0]
    raise AttributeError(name)

"""Extended tight binding (GFN2-xTB, GFN1-xTB, IPEA1-xTB) from the ``tblite`` library, as a potential.

``TBLite(method="GFN2-xTB")`` solves ``PotentialEnergy`` and drives any dynamics or optimisation:
energies (eV), analytic forces (eV/Å) and the virial (eV) of a molecule, or of a periodic cell,
in about a millisecond for a small molecule. A real, cheap quantum-chemistry oracle for
force-labelled data, beside :class:`~solvers.molecule.PySCF`.

GFN2-xTB: Bannwarth, Ehlert & Grimme, J. Chem. Theory Comput. 15, 1652 (2019),
doi:10.1021/acs.jctc.8b01176. GFN1-xTB: Grimme, Bannwarth & Shushkov, J. Chem. Theory Comput. 13,
1989 (2017), doi:10.1021/acs.jctc.7b00118. IPEA1-xTB: Asgeirsson, Bauer & Grimme, Chem. Sci. 8,
4879 (2017), doi:10.1039/c7sc00601b. tblite: https://github.com/tblite/tblite (LGPL-3.0).

Units: tblite works in Bohr and Hartree; positions are converted from Å with the CODATA 2018
Bohr radius and energies to eV with the CODATA 2018 Hartree (``problems.datasets``). tblite's
``virial`` is the strain derivative ``sigma = dE/d(epsilon)`` (``sum_i x_i (x) grad_i E`` for an
isolated molecule); the family's virial ``W = sum_i x_i (x) F_i`` (see ``potential.py``) is
``-sigma``. ``molecule.charge`` is the total charge and ``molecule.spin`` the number of unpaired
electrons (tblite's ``uhf``).

Hyperparameters: ``accuracy`` scales tblite's SCC convergence thresholds (smaller is tighter,
1.0 the default; 1e-4 to 1e3), ``max_iterations`` caps the SCC cycles, ``electronic_temperature``
(K) sets the Fermi smearing of the occupations. Each evaluation starts from tblite's default
(superposition of atomic densities) guess, so a result depends only on the positions: MD runs
are reproducible bit for bit and resume identically from a checkpoint. An SCC that does not
converge is a ``ConvergenceFailure`` (``Unstable`` inside dynamics).

tblite is optional: install it with the ``xtb`` extra (``pip install 'scalebridge[xtb]'``).
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.datasets import BOHR_ANGSTROM, HARTREE_EV
from problems.molecule import PotentialEnergy
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .potential import (Evaluator, Potential, PotentialCache, PotentialEnergySolution, potential_cache,
                        potential_energy)

__all__ = ["TBLite", "require_tblite", "XTB_METHODS"]

_E = tk.InvalidSolverError
#: The parametrisations tblite ships (all cover H to Rn, Z <= 86).
XTB_METHODS = ("GFN2-xTB", "GFN1-xTB", "IPEA1-xTB")
#: Heaviest element the xTB parametrisations cover (Rn).
_MAX_Z = 86
#: Boltzmann's constant in Hartree/K (CODATA 2018: 3.166 811 563 e-6).
_KB_HARTREE = 3.1668115634556e-6


def require_tblite():
    """Import ``tblite.interface`` or raise an ImportError that names the install extra."""
    try:
        from tblite import interface
    except ImportError as exc:
        raise ImportError("the TBLite potential needs tblite, which is not installed: "
                          "pip install 'scalebridge[xtb]' (or pip install tblite)") from exc
    return interface


class TBLite(Potential):
    """Extended tight-binding potential ``method`` (GFN2-xTB, GFN1-xTB or IPEA1-xTB) from tblite.

    ``accuracy``: SCC threshold scale (1e-4 to 1e3; smaller is tighter); ``max_iterations``: SCC
    cycles allowed; ``electronic_temperature``: Fermi smearing in K; ``threads``: OpenMP threads of
    one evaluation (default 1: results reproducible bit for bit, and the fastest for small molecules;
    more threads sum in a varying order, so results then vary at round-off; run many structures in
    parallel through ensembles instead).
    """

    method: str = "GFN2-xTB"
    accuracy: float = 1.0
    max_iterations: int = 250
    electronic_temperature: float = 300.0
    threads: int = 1

    def _validate(self):
        canonical = {m.lower(): m for m in XTB_METHODS}
        method = canonical.get(self.method.lower(), self.method) if isinstance(self.method, str) else self.method
        self._set("method", v.choice("method", method, XTB_METHODS, error=_E))
        self._set("accuracy", v.real_scalar("accuracy", self.accuracy, lower=1e-4, upper=1e3, error=_E))
        self._set("max_iterations", v.integer("max_iterations", self.max_iterations, lower=1, upper=100_000,
                                              error=_E))
        self._set("electronic_temperature", v.real_scalar("electronic_temperature", self.electronic_temperature,
                                                          lower=0, lower_open=True, upper=1e6, error=_E))
        self._set("threads", v.integer("threads", self.threads, lower=1, upper=4096, error=_E))

    def evaluator(self, molecule):
        require_tblite()
        return TBLiteEvaluator(self, molecule)


def _check_molecule(solver: TBLite, molecule) -> np.ndarray:
    """Atomic numbers of ``molecule``, refusing elements past Rn and impossible spin states."""
    from ase.data import atomic_numbers

    numbers = np.array([atomic_numbers[s] for s in molecule.species], dtype=np.int32)
    if numbers.max() > _MAX_Z:
        heavy = sorted({s for s, z in zip(molecule.species, numbers) if z > _MAX_Z})
        raise tk.InvalidProblemError(f"species {heavy} are not allowed with TBLite({solver.method!r}): the xTB "
                                     f"parametrisations cover H to Rn (Z <= {_MAX_Z}).")
    electrons = int(numbers.sum()) - molecule.charge
    if electrons < molecule.spin or (electrons - molecule.spin) % 2:
        raise tk.InvalidProblemError(
            f"spin = {molecule.spin} is not allowed with charge = {molecule.charge}: the molecule has {electrons} "
            "electrons, so the number of unpaired electrons must have the same parity and not exceed it.")
    return numbers


class TBLiteEvaluator(Evaluator):
    """Keeps one tblite calculator per molecule (species, charge, spin, cell fixed); each
    ``compute`` updates its positions and runs a fresh single point."""

    def __init__(self, solver: TBLite, molecule):
        self.solver = solver
        self.numbers = _check_molecule(solver, molecule)
        self.charge = float(molecule.charge)
        self.uhf = int(molecule.spin)
        periodic = any(molecule.pbc)
        self.lattice = None if not periodic else np.ascontiguousarray(molecule.cell / BOHR_ANGSTROM)
        self.periodic = None if not periodic else np.array(molecule.pbc, dtype=bool)
        self.log: list[str] = []
        self._calc = None

    def _calculator(self, positions_bohr):
        interface = require_tblite()
        s = self.solver
        calc = interface.Calculator(s.method, self.numbers, positions_bohr, charge=self.charge, uhf=self.uhf,
                                    lattice=self.lattice, periodic=self.periodic, color=False,
                                    logger=self._log)
        calc.set("verbosity", 0)
        calc.set("accuracy", s.accuracy)
        calc.set("max-iter", s.max_iterations)
        calc.set("temperature", s.electronic_temperature * _KB_HARTREE)
        return calc

    def _log(self, message: str) -> None:
        if len(self.log) < 100:      # keep the last words of tblite, never an unbounded log
            self.log.append(message)

    def compute(self, positions):
        x = np.ascontiguousarray(positions, dtype=float) / BOHR_ANGSTROM
        if self._calc is None:
            self._calc = self._calculator(x)
        else:
            self._calc.update(positions=x)
        try:
            with _openmp_threads(self.solver.threads):
                result = self._calc.singlepoint()
        except RuntimeError as exc:
            s = self.solver
            raise RuntimeError(f"tblite {s.method} failed: {exc}. If the SCC did not converge, raise "
                               f"max_iterations (now {s.max_iterations}) or electronic_temperature (now "
                               f"{s.electronic_temperature:g} K), or start from a more reasonable geometry") from None
        energy = float(result.get("energy")) * HARTREE_EV
        forces = -np.asarray(result.get("gradient"), dtype=float) * (HARTREE_EV / BOHR_ANGSTROM)
        virial = -np.asarray(result.get("virial"), dtype=float) * HARTREE_EV
        return energy, np.ascontiguousarray(forces), np.ascontiguousarray(virial)


_CONTROLLER = []


def _openmp_threads(threads: int):
    """A context that limits OpenMP (tblite's libgomp) to ``threads`` threads on this thread."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())   # scanned once: a limit then costs ~15 µs
    return _CONTROLLER[0].limit(limits=threads, user_api="openmp")


@dispatch
def _solve(problem: PotentialEnergy, solver: TBLite) -> PotentialEnergySolution:
    return potential_energy(problem, solver)   # an SCC that does not converge: ConvergenceFailure


@dispatch
def _init(problem: PotentialEnergy, solver: TBLite) -> PotentialCache:
    return potential_cache(problem, solver)

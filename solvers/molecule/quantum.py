"""PySCF as a potential: Hartree–Fock or Kohn–Sham DFT energies and analytic forces.

``PySCF(method="HF" | "DFT", xc="PBE", basis="sto-3g")`` solves ``PotentialEnergy`` and drives
any dynamics or optimisation of an isolated molecule. Restricted (RHF/RKS) for closed shells,
unrestricted (UHF/UKS) when ``molecule.spin > 0``. Energies are converted from Hartree to eV and
gradients from Hartree/Bohr to eV/Å with ``ase.units`` (CODATA 2014 in ASE 3.2x; the tblite and
dataset modules use CODATA 2018, 8e-9 apart). Each evaluation starts from PySCF's default guess,
so a run is reproducible bit for bit (checkpoint/resume included).

Sun et al., "PySCF: the Python-based simulations of chemistry framework", WIREs Comput. Mol.
Sci. 8, e1340 (2018), doi:10.1002/wcms.1340. PySCF is optional: install it with the
``quantum`` extra (``pip install 'scalebridge[quantum]'``).
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.molecule import PotentialEnergy
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .potential import (Evaluator, Potential, PotentialCache, PotentialEnergySolution, potential_cache,
                        potential_energy)

__all__ = ["PySCF", "require_pyscf"]

_E = tk.InvalidSolverError


def require_pyscf():
    """Import PySCF or raise an ImportError that names the install extra."""
    try:
        import pyscf  # noqa: F401
        from pyscf import dft, grad, gto, scf  # noqa: F401
    except ImportError as exc:
        raise ImportError("the PySCF potential needs PySCF, which is not installed: "
                          "pip install 'scalebridge[quantum]' (or pip install pyscf)") from exc
    return pyscf


class PySCF(Potential):
    """Quantum-chemistry potential: ``method`` "HF" or "DFT" (functional ``xc``) in ``basis``.

    ``conv_tol`` is the SCF energy tolerance (Hartree); ``max_memory`` PySCF's memory cap (MB).
    """

    method: str = "HF"
    xc: str = "PBE"
    basis: str = "sto-3g"
    conv_tol: float = 1e-10
    max_cycle: int = 100
    max_memory: int = 2000

    def _validate(self):
        method = self.method.upper() if isinstance(self.method, str) else self.method
        self._set("method", v.choice("method", method, ("HF", "DFT"), error=_E))
        for name in ("xc", "basis"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise _E(f"{name} = {v.show(value)} is not allowed: give a PySCF name such as "
                         f"{'PBE' if name == 'xc' else 'sto-3g'}.")
        # below 1e-16 Hartree the SCF can never converge (float64 round-off of the energy)
        self._set("conv_tol", v.real_scalar("conv_tol", self.conv_tol, lower=1e-16, upper=1e-3, error=_E))
        self._set("max_cycle", v.integer("max_cycle", self.max_cycle, lower=1, upper=100_000, error=_E))
        self._set("max_memory", v.integer("max_memory", self.max_memory, lower=100, upper=10 ** 9, error=_E))

    def evaluator(self, molecule):
        if any(molecule.pbc):
            raise tk.InvalidProblemError(f"pbc = {molecule.pbc} is not allowed with PySCF: this potential "
                                         "treats isolated molecules (set pbc=False).")
        return PySCFEvaluator(self, molecule)


class PySCFEvaluator(Evaluator):
    def __init__(self, solver: PySCF, molecule):
        self.solver = solver
        self.molecule = molecule

    def compute(self, positions):
        require_pyscf()
        from ase.units import Bohr, Hartree
        from pyscf import dft, gto, scf

        s, mol = self.solver, self.molecule
        pmol = gto.M(atom=[(sym, tuple(x)) for sym, x in zip(mol.species, positions)], unit="Angstrom",
                     basis=s.basis, charge=mol.charge, spin=mol.spin, verbose=0, max_memory=s.max_memory)
        if s.method == "HF":
            mf = scf.RHF(pmol) if mol.spin == 0 else scf.UHF(pmol)
        else:
            mf = dft.RKS(pmol) if mol.spin == 0 else dft.UKS(pmol)
            mf.xc = s.xc
        mf.conv_tol = s.conv_tol
        mf.max_cycle = s.max_cycle
        energy = mf.kernel()
        if not mf.converged:
            raise RuntimeError(f"the SCF did not converge in {s.max_cycle} cycles; raise max_cycle or "
                               "start from a better geometry")
        gradient = mf.nuc_grad_method().kernel()
        forces = -np.asarray(gradient) * (Hartree / Bohr)
        x = np.asarray(positions, dtype=float)
        virial = x.T @ forces
        return float(energy * Hartree), np.ascontiguousarray(forces), virial


@dispatch
def _solve(problem: PotentialEnergy, solver: PySCF) -> PotentialEnergySolution:
    return potential_energy(problem, solver)   # an SCF that does not converge: ConvergenceFailure


@dispatch
def _init(problem: PotentialEnergy, solver: PySCF) -> PotentialCache:
    return potential_cache(problem, solver)

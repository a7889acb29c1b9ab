"""Tight-binding family: exact diagonalisation and the kernel polynomial method.

``tk.solve(TightBinding(...), KPM(order, estimator=...))`` or ``ExactDiagonalization()``; lattice
builders live in :mod:`problems.tight_binding`. ``tk.init(problem, solver)`` gives a solve cache
(:mod:`.cache`) for repeated solves with new spins; Kondo spin forces live in :mod:`.kondo`. See issue 3 and ``tutorials/01_tight_binding.py``.
"""

from problems.tight_binding import TightBinding, kondo_hamiltonian, lattice_hamiltonian, lattice_problem, random_spins

from .estimators import Estimator, Exact, GradientProbing, Probing, RandomVectors
from .cache import EDCache, KPMCache
from .exact import ExactDiagonalization
from .kpm import KPM
from .solution import TightBindingSolution
from . import memory  # noqa: F401  (registers the memory estimates of both pairs)
from .tour import register

__all__ = ["TightBinding", "TightBindingSolution", "ExactDiagonalization", "KPM", "Estimator", "Exact",
           "RandomVectors", "Probing", "GradientProbing", "lattice_problem", "lattice_hamiltonian",
           "kondo_hamiltonian", "random_spins", "KPMCache", "EDCache"]

register()

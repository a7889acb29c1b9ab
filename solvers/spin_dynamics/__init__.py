"""Spin-dynamics family: classical unit spins under stochastic Landau-Lifshitz-Gilbert dynamics.

``tk.solve(SpinDynamics(...), StochasticHeun(forces=...) | SIB(...) | ImplicitMidpoint(...) |
DepondtMertens(...) | OverdampedLangevin(...))``, and ``Metropolis(...)`` Monte Carlo on the same energy;
the problem and the classical builders live in :mod:`problems.spin_dynamics`, the Kondo-lattice
builder in :mod:`.builders`. Electronic forces come from a held force provider
(``forces=ExactDiagonalization()`` or ``KPM(...)``) through ``tk.init(model, forces)``. Issue 18.
"""

from problems.spin_dynamics import (SpinDynamics, classical_lattice, classical_triangular, lattice, lattice_state,
                                    triangular_lattice, triangular_state)

from .dynamic_structure import DynamicStructureFactor, dynamic_structure_factor
from .builders import kondo_lattice, kondo_triangular, triple_q_quench
from .integrator import SpinIntegrator
from .metropolis import Metropolis
from .observables import ChernNumber, StructureFactor, chern_number, structure_factor
from .schemes import (SIB, DepondtMertens, ImplicitMidpoint, OverdampedLangevin, SpinIntegratorSolver,
                      StochasticHeun)
from .solution import SpinDynamicsSolution
from . import memory  # noqa: F401  (registers the memory estimates)
from .tour import register

__all__ = ["SpinDynamics", "SpinDynamicsSolution", "SpinIntegrator", "SpinIntegratorSolver", "StochasticHeun",
           "SIB", "ImplicitMidpoint", "DepondtMertens", "OverdampedLangevin", "Metropolis", "kondo_triangular",
           "classical_triangular", "triangular_lattice", "triangular_state", "triple_q_quench",
           "kondo_lattice", "classical_lattice", "lattice", "lattice_state", "StructureFactor", "ChernNumber",
           "chern_number", "structure_factor", "DynamicStructureFactor", "dynamic_structure_factor"]

register()

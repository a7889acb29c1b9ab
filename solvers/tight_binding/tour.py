"""Tour cases, spec builders and components of the tight-binding family."""

from __future__ import annotations

import toolkit as tk
from problems.tight_binding import TightBinding, lattice_problem

from .estimators import Exact, GradientProbing, Probing, RandomVectors
from .exact import ExactDiagonalization
from .kpm import KPM

__all__ = ["tour_cases", "register"]


def tour_cases():
    return [
        tk.TourCase("square lattice DOS, KPM 64x64",
                    lattice_problem("square", 64, mu=0.0, local=False), KPM(order=256, estimator=RandomVectors(count=4))),
        tk.TourCase("graphene DOS, KPM 48x48 cells",
                    lattice_problem("honeycomb", 48, mu=0.0, local=False), KPM(order=256, estimator=RandomVectors(count=4))),
        tk.TourCase("Kondo lattice forces, ED 6x6",
                    lattice_problem("square", 6, spins="random", J=2.0, kT=0.1, filling=0.3, local=True),
                    ExactDiagonalization()),
        tk.TourCase("gradient probing rho, 20x20",
                    lattice_problem("square", 20, kT=0.2, mu=-0.5, local=True), KPM(order=128, estimator=GradientProbing(distance=3))),
    ]


def _default_solver(problem):
    """Exact diagonalisation up to 2000 orbitals (dense eigh in seconds), KPM beyond."""
    return ExactDiagonalization() if problem.size <= 2000 else KPM()


def register():
    tk.register_default_solver(TightBinding, _default_solver)
    tk.register_family(tk.Family(
        name="tight-binding",
        title="Tight-binding Hamiltonians: exact diagonalisation and the kernel polynomial method",
        tour=tour_cases,
        builders={"lattice_problem": lattice_problem},
        components={"Exact": Exact, "RandomVectors": RandomVectors, "Probing": Probing,
                    "GradientProbing": GradientProbing, "KPM": KPM, "ExactDiagonalization": ExactDiagonalization,
                    "TightBinding": TightBinding},
    ))

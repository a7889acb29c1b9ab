"""Tour cases, spec builders and components of the spin-dynamics family."""

from __future__ import annotations

import toolkit as tk
from problems.spin_dynamics import SpinDynamics, classical_lattice, classical_triangular

from .builders import kondo_lattice, kondo_triangular, triple_q_quench
from .metropolis import Metropolis
from .schemes import SIB, DepondtMertens, ImplicitMidpoint, OverdampedLangevin, StochasticHeun

__all__ = ["tour_cases", "register"]


def tour_cases():
    from problems.tight_binding import TightBinding  # noqa: F401  (the model's type; ED comes from its default)

    return [
        tk.TourCase("triangular Heisenberg AFM 6x6, SIB at kT = 0.1",
                    classical_triangular((6, 6), temperature=0.1, damping=0.2, dt=0.05, steps=200, save_every=50),
                    SIB(seed=1)),
        tk.TourCase("Kondo lattice 4x4 (ED forces), stochastic Heun",
                    kondo_triangular((4, 4), temperature=0.05, damping=0.2, dt=0.05, steps=20, save_every=10),
                    StochasticHeun(seed=1)),
    ]


def register():
    tk.register_family(tk.Family(
        name="spin-dynamics",
        title="Spin dynamics: stochastic Landau-Lifshitz-Gilbert spins, classical or driven by electrons",
        tour=tour_cases,
        builders={"classical_triangular": classical_triangular, "kondo_triangular": kondo_triangular,
                  "triple_q_quench": triple_q_quench, "classical_lattice": classical_lattice,
                  "kondo_lattice": kondo_lattice},
        components={"StochasticHeun": StochasticHeun, "SIB": SIB, "ImplicitMidpoint": ImplicitMidpoint,
                    "DepondtMertens": DepondtMertens, "OverdampedLangevin": OverdampedLangevin,
                    "Metropolis": Metropolis,
                    "SpinDynamics": SpinDynamics},
    ))

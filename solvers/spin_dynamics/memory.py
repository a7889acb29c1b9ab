"""Memory estimates of the spin-dynamics pairs (checked by ``tk.init`` before anything is allocated).

Frames: F = steps // save_every + 1 frames of N spins, two energies and T chiralities, held as
lists during the run and copied once into the solution (x 2); the state buffers (about 12 N x 3
arrays); and, with electrons, the held force provider's own estimate on the model.
"""

from __future__ import annotations

import toolkit as tk
from problems.spin_dynamics import SpinDynamics
from toolkit import memory

from .metropolis import Metropolis
from .schemes import SIB, DepondtMertens, ImplicitMidpoint, OverdampedLangevin, StochasticHeun

__all__ = ["spin_parts"]


def spin_parts(problem: SpinDynamics, solver) -> dict:
    n, t, F = problem.sites, problem.triangles.shape[0], problem.frames
    parts = {"frames": 2 * F * (3 * n + t + 6) * 8 + F * 120, "state": 12 * 3 * n * 8}
    if problem.model is not None and solver.forces is not None:
        for name, value in tk.memory_estimate(problem.model, solver.forces).items():
            parts[f"forces: {name}"] = value
    return parts


@memory.estimate.dispatch
def _(problem: SpinDynamics,
      solver: StochasticHeun | SIB | ImplicitMidpoint | DepondtMertens | OverdampedLangevin | Metropolis) -> dict:
    return spin_parts(problem, solver)

"""Lattice Boltzmann solvers for ``problems.lattice_fluid.LatticeFluid`` (the "fluid" family).

``BGK()``, ``TRT(magic=3/16)`` and ``MRT()`` with Guo forcing, through ``tk.init`` / ``tk.solve``.
``LatticeIntegrator`` picks a stepper once (``steppers.py``): the generated in-place kernels on
fully periodic, all-fluid domains (``generated/``, written by ``codegen/gen_lbm_kernels.py``), the
generic fused numba kernel elsewhere (float64 or float32 storage, serial or parallel), or the
NumPy reference (``backend="numpy"``). A collision model lives in one file (``bgk.py``, ...)
that builds its :class:`~.base.Collision`, plus its generated kernels.

Analysis and learned collisions: ``dispersion.py`` (linear von Neumann analysis of the same
collisions: shear mode, ν_eff(k), Brillouin-zone stability), ``shear_wave.py`` (the measured
decay of a shear wave run by the real solver), ``rate_fit.py`` (the free TRT/MRT rates fitted to
target shear decay rates). Curved walls: ``curved.py`` (interpolated bounce-back on
``LatticeFluid.spheres``).
"""

from __future__ import annotations

import toolkit as tk
from problems.fluid_bridge import CoarseGraining
from problems.lattice_fluid import (LatticeFluid, channel, cylinder_channel, lid_driven_cavity, periodic_box,
                                    taylor_green)
from toolkit.dispatch import dispatch

from .base import LatticeSolver
from . import memory as _memory  # noqa: F401  (registers the memory estimate of every pair)
from .bgk import BGK
from .bridge import CoarseGrain, CoarseGrainedFluid, LearnedCollision
from .integrator import LatticeIntegrator
from .mrt import MRT
from .solution import FluidSolution
from .trt import TRT
from .dispersion import ShearMode, is_linearly_stable, max_amplification, shear_mode, shear_viscosity
from .rate_fit import RateFit, fit_relaxation_rates, model_decay_rates
from .shear_wave import ShearWaveDecay, measure_shear_wave

__all__ = ["BGK", "TRT", "MRT", "LatticeSolver", "LatticeIntegrator", "FluidSolution", "CoarseGrain", "LearnedCollision",
           "CoarseGrainedFluid",
           "ShearMode", "shear_mode", "shear_viscosity", "max_amplification", "is_linearly_stable",
           "ShearWaveDecay", "measure_shear_wave", "RateFit", "fit_relaxation_rates", "model_decay_rates"]


@dispatch
def _init(problem: LatticeFluid, solver: BGK | TRT | MRT) -> LatticeIntegrator:
    return LatticeIntegrator(problem, solver)


def tour_cases():
    from .tour import tour_cases as cases

    return cases()


tk.register_default_solver(LatticeFluid, lambda problem: BGK())
tk.register_family(tk.Family(
    name="fluid",
    title="Lattice Boltzmann fluids (D2Q9/D3Q19/D3Q27; BGK, TRT, MRT)",
    tour=tour_cases,
    builders={"periodic_box": periodic_box, "channel": channel, "lid_driven_cavity": lid_driven_cavity,
              "cylinder_channel": cylinder_channel, "taylor_green": taylor_green},
    components={"CoarseGraining": CoarseGraining, "CoarseGrain": CoarseGrain, "LearnedCollision": LearnedCollision},
))

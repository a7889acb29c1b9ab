"""Short runs shown by ``scalebridge tour`` (each a few seconds including compilation)."""

from __future__ import annotations

import toolkit as tk
from problems.fluid_bridge import CoarseGraining
from problems.lattice_fluid import channel, cylinder_channel, lid_driven_cavity

from .bgk import BGK
from .bridge import LearnedCollision
from .mrt import MRT
from .trt import TRT


def tour_cases() -> list:
    return [
        tk.TourCase("Poiseuille channel (TRT)", channel((4, 16), tau=0.8, force=1e-5, steps=600), TRT(),
                    {"progress": False}),
        tk.TourCase("lid-driven cavity Re=100 (MRT)",
                    lid_driven_cavity(32, reynolds=100, lid_velocity=0.05, steps=1500), MRT(), {"progress": False}),
        tk.TourCase("cylinder in a channel Re=20 (BGK)",
                    cylinder_channel((80, 24), radius=4, reynolds=20, inflow=0.05, steps=800), BGK(),
                    {"progress": False}),
        tk.TourCase("MD -> lattice Boltzmann: 108 LJ atoms, learned TRT (tiny; not converged)",
                    CoarseGraining.example(0), LearnedCollision(), {"progress": False}),
    ]

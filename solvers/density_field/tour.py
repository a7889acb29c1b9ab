"""Tour cases of the density-field family (small and fast); the fields come from the problem builders."""

from __future__ import annotations

import toolkit as tk
from problems.density_field import (FieldDynamics, Relaxation, kac_landau_field, kac_lattice_gas_field,
                                    onion_barrier, swift_hohenberg_field)

__all__ = ["tour_cases"]


def tour_cases():
    from .radial_newton import RadialNewtonKrylov
    from .spectral import SemiImplicit

    stripes = FieldDynamics(field=kac_landau_field(n=48, eps=0.05, g=0.0, seed=2), dynamics="B", dt=4.0, steps=300,
                            save_every=100)
    hexagons = Relaxation(field=swift_hohenberg_field(n=48, length=36.0, eps=-0.1, g=0.5, mean=0.0, seed=2))
    clump = FieldDynamics(field=kac_lattice_gas_field(n=48, T=0.02, mean=0.5, seed=3), dynamics="B",
                          temperature=1e-4, dt=1.0, steps=200, save_every=50)
    return [
        tk.TourCase("2D Kac stripes (model B)", stripes, SemiImplicit(), {"progress": False}),
        tk.TourCase("2D Swift-Hohenberg hexagons", hexagons, SemiImplicit(relax_dt=2.0, tol=1e-4, max_iters=1000)),
        tk.TourCase("2D clump model B Langevin", clump, SemiImplicit(seed=3), {"progress": False}),
        tk.TourCase("3D onion droplet (radial NK)", onion_barrier(), RadialNewtonKrylov()),
    ]

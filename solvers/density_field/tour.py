"""Tour cases and spec builders of the density-field family (small and fast)."""

from __future__ import annotations

import toolkit as tk
from problems.density_field import (DensityField, FieldDynamics, Functional, KacStep, Landau, LatticeGas,
                                    NucleationBarrier, Relaxation, SwiftHohenberg)

__all__ = ["tour_cases", "kac_landau_field", "kac_lattice_gas_field", "swift_hohenberg_field"]


def kac_landau_field(n: int = 48, ndim: int = 2, length: float = 48.0, R: float = 4.0, J: float = 1.0,
                     eps: float = 0.05, g: float = 0.0, mean: float = 0.0, amplitude: float = 0.05,
                     seed: int = 0) -> DensityField:
    """A noisy uniform field with a repulsive Kac step and the Landau polynomial.

    Keep the local part convex (eps > 0, g^2 < 3 eps): V(k) -> 0 at large k, so a non-convex
    f would let grid-scale modes grow (the Kac mean-field theory needs a convex local part).
    """
    return DensityField.noisy((n,) * ndim, length, Functional(KacStep(R=R, J=J), Landau(eps=eps, g=g)),
                              mean=mean, amplitude=amplitude, seed=seed)


def kac_lattice_gas_field(n: int = 48, ndim: int = 2, length: float = 48.0, R: float = 4.0, J: float = 1.0,
                          T: float = 0.05, h: float = 0.0, mean: float = 0.5, amplitude: float = 0.02,
                          seed: int = 0) -> DensityField:
    """A noisy uniform field with a repulsive Kac step and the lattice-gas (clump) entropy."""
    return DensityField.noisy((n,) * ndim, length, Functional(KacStep(R=R, J=J), LatticeGas(T=T, h=h)),
                              mean=mean, amplitude=amplitude, seed=seed)


def swift_hohenberg_field(n: int = 48, ndim: int = 2, length: float = 48.0, k0: float = 1.0,
                          eps: float = -0.3, g: float = 0.0, mean: float = 0.0, amplitude: float = 0.05,
                          seed: int = 0) -> DensityField:
    """A noisy uniform field with the Swift-Hohenberg operator and the Landau polynomial."""
    return DensityField.noisy((n,) * ndim, length, Functional(SwiftHohenberg(k0=k0), Landau(eps=eps, g=g)),
                              mean=mean, amplitude=amplitude, seed=seed)


def onion_barrier(eps: float = 0.09, g: float = 0.5, R: float = 1.0, n: int = 24, length: float = 7.2,
                  amplitude: float = 0.5, width: float = 1.5) -> NucleationBarrier:
    """3D Kac + convex Landau liquid phi = 0 near the spinodal, with an onion-shaped guess."""
    import numpy as np

    functional = Functional(KacStep(R=R), Landau(eps=eps, g=g))
    x = (np.arange(n) + 0.5) * length / n - length / 2
    r = np.sqrt(sum(c ** 2 for c in np.meshgrid(x, x, x, indexing="ij")))
    kstar = functional.interaction.hat_min(3)[0]
    initial = amplitude * np.sinc(kstar * r / np.pi) * np.exp(-0.5 * (r / width) ** 2)
    return NucleationBarrier(field=DensityField(shape=(n,) * 3, length=length, functional=functional,
                                                initial=initial), metastable=0.0)


def relaxation(field: DensityField, conserved: bool = False) -> Relaxation:
    return Relaxation(field=field, conserved=conserved)


def tour_cases():
    from .barrier import RadialNewtonKrylov
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

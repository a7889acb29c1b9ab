"""Droplet seeds and the edge-state (bisection) estimate of a crystallite's nucleation barrier.

A bcc crystal of a Kac fluid puts its first reciprocal shell, the twelve <110> vectors, at the
minimum k* of V(k): lattice constant ``a = 2π √2 / k*``. A "bcc-like droplet" is that density
wave under a smooth spherical envelope (Barros & Klein 2013, doi:10.1063/1.4827397, Fig. 1).

:func:`edge_state` bisects the amplitude of a seed between shrinking and growing under
deterministic gradient flow (model A): the near-critical trajectory lingers by the saddle on
the boundary of the basin of the metastable state, and the least-gradient state along it
estimates the critical droplet and its barrier (an upper bound when the linger is imperfect).
"""

from __future__ import annotations

import numpy as np

from problems.density_field import DensityField, KacStep

from .functional import SpectralOps
from .spectral import _Stepper, mobility_symbol

__all__ = ["bcc_lattice_constant", "bcc_droplet_seed", "edge_state"]


def bcc_lattice_constant(interaction: KacStep) -> float:
    """a = 2π √2 / k*: the bcc cell whose <110> shell sits at the minimum of V(k) (3D)."""
    return 2 * np.pi * np.sqrt(2) / interaction.hat_min(3)[0]


def bcc_droplet_seed(shape, length, a: float, radius: float, width: float = 0.5) -> np.ndarray:
    """Σ_<110> cos(G·x) (six cosine pairs) under a tanh envelope of ``radius`` at the box centre."""
    xs = [np.arange(n) * L / n for n, L in zip(shape, length)]
    X, Y, Z = np.meshgrid(*xs, indexing="ij")
    q = 2 * np.pi / a
    wave = sum(np.cos(q * (s * u + w)) for u, w in ((X, Y), (Y, Z), (Z, X)) for s in (1, -1))
    centre = [a * np.floor(L / a / 2) for L in length]        # a lattice site near the centre
    r = np.sqrt(sum((c - x0) ** 2 for c, x0 in zip((X, Y, Z), centre)))
    return wave * 0.5 * (1 - np.tanh((r - radius) / width))


def edge_state(field: DensityField, metastable: float, seed: np.ndarray, *, steps: int = 250, dt: float = 1.0,
               bisections: int = 12, high: float = 0.4, stabilization: float = 2.0):
    """Bisect ``metastable + λ seed`` between decay and growth; return (phi, ΔF, max|δF/δφ|, λ).

    Returns ``None`` when even ``λ = high`` decays (no growth within ``steps``).
    """
    ops = SpectralOps(field)
    stepper = _Stepper(ops, mobility_symbol(ops, "A"), dt, stabilization, False)
    F_meta = ops.free_energy(np.full(field.shape, metastable))

    def flow(lam, keep=False):
        phi = metastable + lam * seed
        dfdphi, _ = ops.local_derivative(phi)
        best = (np.inf, None)
        for i in range(steps):
            phi, dfdphi, status = stepper.step(phi, dfdphi)
            if status:
                return 1, best
            if keep and i % 5 == 0:
                r = float(np.abs(ops.gradient(phi)).max())
                if r < best[0]:
                    best = (r, phi.copy())
            if np.abs(phi - metastable).max() < 1e-3:
                return -1, best
            if ops.free_energy(phi) - F_meta < -0.05:
                return 1, best
        return (1 if ops.free_energy(phi) < F_meta else -1), best

    lo, hi = 0.0, high
    if flow(hi)[0] < 0:
        return None
    for _ in range(bisections):
        mid = 0.5 * (lo + hi)
        if flow(mid)[0] > 0:
            hi = mid
        else:
            lo = mid
    _, (res, phi) = flow(hi, keep=True)
    return phi, ops.free_energy(phi) - F_meta, res, hi

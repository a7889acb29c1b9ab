"""Radially symmetric droplets in 3D by Newton-Krylov on the radial profile.

For a radial perturbation ``δphi(r)`` of the uniform metastable state ``phi_m``, the 3D
convolution with a radial kernel maps ``u = r δphi`` through the 1D sine transform:
``r (V * δphi)(r) = S^-1[ V(k) S[u] ]`` (``S`` a type-I DST on ``r_j = j Δr``, ``k_m = π m / r_max``;
δphi vanishes at ``r_max``). The saddle solves ``r δF/δphi = 0`` in ``u``, whose Jacobian
``S^-1 V S + f''(phi)`` is symmetric; scipy's ``newton_krylov`` finds it from an onion guess
(Barros & Klein 2013, doi:10.1063/1.4827397, Sec. III).
"""

from __future__ import annotations

import numpy as np
import scipy.fft

__all__ = ["RadialOps"]


class RadialOps:
    """Radial operators of a functional about a uniform state ``phi_m`` (3D)."""

    def __init__(self, functional, phi_m: float, n: int, r_max: float):
        self.functional, self.phi_m = functional, float(phi_m)
        self.local = functional.local
        self.n, self.r_max = int(n), float(r_max)
        self.dr = self.r_max / self.n
        self.r = self.dr * np.arange(1, self.n)
        self.k = np.pi * np.arange(1, self.n) / self.r_max
        self.vhat = functional.interaction.hat(self.k, 3)
        self.v0 = float(functional.interaction.hat(np.array([0.0]), 3)[0])

    def convolve_u(self, u):
        """r (V * δphi) from u = r δphi."""
        return scipy.fft.idst(self.vhat * scipy.fft.dst(u, type=1), type=1)

    def residual_u(self, u):
        """r δF/δphi at phi_m + u/r."""
        phi = self.phi_m + u / self.r
        return self.convolve_u(u) + self.r * (self.v0 * self.phi_m + self.local.df(phi))

    def hessian_u(self, u, w):
        phi = self.phi_m + u / self.r
        return self.convolve_u(w) + self.local.d2f(phi) * w

    def barrier(self, u) -> float:
        """ΔF = F[phi_m + δphi] - F[phi_m] = 4π ∫ r^2 [δphi V*δphi/2 + J phi_m δphi + f(phi) - f(phi_m)] dr."""
        d = u / self.r
        conv = self.convolve_u(u) / self.r
        phi = self.phi_m + d
        dens = 0.5 * d * conv + self.v0 * self.phi_m * d + self.local.f(phi) - self.local.f(self.phi_m)
        return float(4 * np.pi * self.dr * np.sum(self.r ** 2 * dens))

    def onion_guess(self, amplitude: float, width: float):
        """δphi = amplitude sin(k* r)/(k* r) exp(-r^2 / 2 width^2): the onion's leading radial mode."""
        kstar = self.functional.interaction.hat_min(3)[0]
        d = amplitude * np.sinc(kstar * self.r / np.pi) * np.exp(-0.5 * (self.r / width) ** 2)
        return self.r * d

    def from_field(self, field_phi, centre, spacing):
        """u on the radial grid from a 3D field's radial average about ``centre`` (periodic)."""
        grids = np.meshgrid(*[np.arange(n) * h for n, h in zip(field_phi.shape, spacing)], indexing="ij")
        L = [n * h for n, h in zip(field_phi.shape, spacing)]
        dist2 = sum(((g - c + l / 2) % l - l / 2) ** 2 for g, c, l in zip(grids, centre, L))
        dist = np.sqrt(dist2).ravel()
        bins = np.minimum((dist / self.dr).astype(np.int64), self.n)
        total = np.bincount(bins, weights=field_phi.ravel() - self.phi_m, minlength=self.n + 1)
        count = np.bincount(bins, minlength=self.n + 1)
        mid = (np.arange(self.n + 1) + 0.5) * self.dr
        ok = count > 0
        prof = np.interp(self.r, mid[ok], total[ok] / count[ok], right=0.0)
        return self.r * prof

    def to_field(self, u, shape, spacing, centre):
        """phi_m + δphi(|x - centre|) on a periodic grid (zero beyond r_max)."""
        grids = np.meshgrid(*[np.arange(n) * h for n, h in zip(shape, spacing)], indexing="ij")
        L = [n * h for n, h in zip(shape, spacing)]
        dist = np.sqrt(sum(((g - c + l / 2) % l - l / 2) ** 2 for g, c, l in zip(grids, centre, L)))
        r = np.concatenate([[0.0], self.r])
        d = np.concatenate([[u[0] / self.r[0]], u / self.r])
        return self.phi_m + np.interp(dist, r, d, right=0.0)

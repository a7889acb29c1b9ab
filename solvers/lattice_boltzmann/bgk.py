"""``BGK``: single-relaxation-time collision.

Ω_i = −(1/τ)(f_i − f_i^eq), ν = c_s²(τ − 1/2). Bhatnagar, Gross & Krook, Phys. Rev. 94, 511
(1954), doi:10.1103/PhysRev.94.511; lattice form Qian, d'Humières & Lallemand, Europhys.
Lett. 17, 479 (1992), doi:10.1209/0295-5075/17/6/001. With half-way bounce-back the wall
sits at a τ-dependent distance from the half-way point (exact only at τ = sqrt(3/16) + 1/2).
"""

from __future__ import annotations

from .base import BGK_BRANCH, Collision, LatticeSolver

__all__ = ["BGK"]


class BGK(LatticeSolver):
    """Bhatnagar–Gross–Krook collision with Guo forcing."""

    def collision(self, problem) -> Collision:
        omega = 1.0 / problem.tau
        return Collision("bgk", (omega,), BGK_BRANCH, omega)

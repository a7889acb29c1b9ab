"""Density and velocity of saved frames, from post-collision populations (numba).

    ρ = Σ_q f*_q,   u = (Σ_q c_q f*_q − F/2) / ρ

Post-collision momentum is the pre-collision one plus F, so u equals Guo's (Σ c f + F/2)/ρ at the
same step (Guo, Zheng & Shi, Phys. Rev. E 65, 046308 (2002)). NumPy reference:
``reference.macroscopic``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["moments"]


@njit(cache=True, nogil=True)
def _moments(f, c, F, rho, u):
    Q, nx, ny, nz = f.shape
    for x in range(nx):
        for y in range(ny):
            for z in range(nz):
                r = 0.0
                jx = 0.0
                jy = 0.0
                jz = 0.0
                for q in range(Q):
                    val = np.float64(f[q, x, y, z])
                    r += val
                    jx += c[q, 0] * val
                    jy += c[q, 1] * val
                    jz += c[q, 2] * val
                rho[x, y, z] = r
                u[0, x, y, z] = (jx - 0.5 * F[0]) / r
                u[1, x, y, z] = (jy - 0.5 * F[1]) / r
                u[2, x, y, z] = (jz - 0.5 * F[2]) / r


def moments(f: np.ndarray, c: np.ndarray, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ρ (nx, ny, nz) and u (3, nx, ny, nz), float64, of populations ``f`` (Q, nx, ny, nz), float64
    or float32, any strides (e.g. the interior of the padded grid)."""
    rho = np.empty(f.shape[1:])
    u = np.empty((3,) + f.shape[1:])
    _moments(f, c, np.asarray(F, dtype=np.float64), rho, u)
    return rho, u

"""Centreline velocities of the lid-driven cavity from Ghia, Ghia & Shin (1982).

Ghia, Ghia & Shin, "High-Re solutions for incompressible flow using the Navier–Stokes
equations and a multigrid method", J. Comput. Phys. 48, 387 (1982),
doi:10.1016/0021-9991(82)90058-4, Tables I and II (129×129 grid). ``U[Re]`` holds (y, u/U)
along the vertical centreline x = 1/2; ``V[Re]`` holds (x, v/U) along the horizontal
centreline y = 1/2. The lid is y = 1, moving along +x.
"""

from __future__ import annotations

import numpy as np

__all__ = ["U", "V", "centrelines"]

_Y = [1.0000, 0.9766, 0.9688, 0.9609, 0.9531, 0.8516, 0.7344, 0.6172, 0.5000, 0.4531, 0.2813, 0.1719,
      0.1016, 0.0703, 0.0625, 0.0547, 0.0000]
_X = [1.0000, 0.9688, 0.9609, 0.9531, 0.9453, 0.9063, 0.8594, 0.8047, 0.5000, 0.2344, 0.2266, 0.1563,
      0.0938, 0.0781, 0.0703, 0.0625, 0.0000]

U = {
    100: np.array([_Y, [1.00000, 0.84123, 0.78871, 0.73722, 0.68717, 0.23151, 0.00332, -0.13641, -0.20581,
                        -0.21090, -0.15662, -0.10150, -0.06434, -0.04775, -0.04192, -0.03717, 0.00000]]).T,
    1000: np.array([_Y, [1.00000, 0.65928, 0.57492, 0.51117, 0.46604, 0.33304, 0.18719, 0.05702, -0.06080,
                         -0.10648, -0.27805, -0.38289, -0.29730, -0.22220, -0.20196, -0.18109, 0.00000]]).T,
}
V = {
    100: np.array([_X, [0.00000, -0.05906, -0.07391, -0.08864, -0.10313, -0.16914, -0.22445, -0.24533, 0.05454,
                        0.17527, 0.17507, 0.16077, 0.12317, 0.10890, 0.10091, 0.09233, 0.00000]]).T,
    1000: np.array([_X, [0.00000, -0.21388, -0.27669, -0.33714, -0.39188, -0.51550, -0.42665, -0.31966, 0.02526,
                         0.32235, 0.33075, 0.37095, 0.32627, 0.30353, 0.29012, 0.27485, 0.00000]]).T,
}


def centrelines(velocity: np.ndarray, lid_velocity: float):
    """Interpolate a cavity velocity field (n, n, 2) at Ghia's centreline points.

    Node i sits at (i + 1/2)/n (half-way walls at 0 and 1). Returns (u/U at Ghia's y along
    x = 1/2, v/U at Ghia's x along y = 1/2), with the wall values added before interpolating.
    """
    n = velocity.shape[0]
    pos = np.concatenate([[0.0], (np.arange(n) + 0.5) / n, [1.0]])
    if n % 2:
        ucol = velocity[n // 2, :, 0]
        vrow = velocity[:, n // 2, 1]
    else:
        ucol = 0.5 * (velocity[n // 2 - 1, :, 0] + velocity[n // 2, :, 0])
        vrow = 0.5 * (velocity[:, n // 2 - 1, 1] + velocity[:, n // 2, 1])
    ucol = np.concatenate([[0.0], ucol, [lid_velocity]]) / lid_velocity
    vrow = np.concatenate([[0.0], vrow, [0.0]]) / lid_velocity
    return np.interp(np.array(_Y), pos, ucol), np.interp(np.array(_X), pos, vrow)

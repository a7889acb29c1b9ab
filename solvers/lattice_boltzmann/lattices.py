"""Velocity sets D2Q9, D3Q19, D3Q27 and the MRT moment bases.

Velocities c_i, weights w_i and the opposite index ī (c_ī = −c_i) of the standard
lattices (Qian, d'Humières & Lallemand, Europhys. Lett. 17, 479 (1992),
doi:10.1209/0295-5075/17/6/001). Velocities are stored with three components (c_z = 0 in
2D) so one 3D kernel serves every lattice.

MRT bases: D2Q9 from Lallemand & Luo, Phys. Rev. E 61, 6546 (2000),
doi:10.1103/PhysRevE.61.6546; D3Q19 from d'Humières, Ginzburg, Krafczyk, Lallemand & Luo,
Phil. Trans. R. Soc. A 360, 437 (2002), doi:10.1098/rsta.2001.0955. The rows are built from
their polynomials in c and are mutually orthogonal.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["Lattice", "lattice", "mrt_basis"]


@dataclass(frozen=True)
class Lattice:
    name: str
    dim: int
    c: np.ndarray      # (Q, 3) int64
    w: np.ndarray      # (Q,) float64
    opp: np.ndarray    # (Q,) int64

    @property
    def q(self) -> int:
        return len(self.w)


def _opposite(c: np.ndarray) -> np.ndarray:
    return np.array([next(j for j in range(len(c)) if np.all(c[j] == -c[i])) for i in range(len(c))],
                    dtype=np.int64)


@functools.cache
def lattice(name: str) -> Lattice:
    """The velocity set called ``name`` ("D2Q9", "D3Q19" or "D3Q27")."""
    if name == "D2Q9":
        # Lallemand & Luo ordering: rest, 4 axis, 4 diagonal
        c2 = [(0, 0), (1, 0), (0, 1), (-1, 0), (0, -1), (1, 1), (-1, 1), (-1, -1), (1, -1)]
        c = np.array([(a, b, 0) for a, b in c2], dtype=np.int64)
        w = np.array([4 / 9] + [1 / 9] * 4 + [1 / 36] * 4)
        dim = 2
    elif name == "D3Q19":
        # d'Humières et al. (2002) ordering
        c = np.array([(0, 0, 0), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1),
                      (1, 1, 0), (-1, 1, 0), (1, -1, 0), (-1, -1, 0), (1, 0, 1), (-1, 0, 1), (1, 0, -1),
                      (-1, 0, -1), (0, 1, 1), (0, -1, 1), (0, 1, -1), (0, -1, -1)], dtype=np.int64)
        w = np.array([1 / 3] + [1 / 18] * 6 + [1 / 36] * 12)
        dim = 3
    elif name == "D3Q27":
        vel = [(a, b, d) for a in (0, 1, -1) for b in (0, 1, -1) for d in (0, 1, -1)]
        vel.sort(key=lambda t: sum(abs(x) for x in t))
        c = np.array(vel, dtype=np.int64)
        norm = np.abs(c).sum(axis=1)
        w = np.choose(norm, [8 / 27, 2 / 27, 1 / 54, 1 / 216])
        dim = 3
    else:
        raise ValueError(f"unknown lattice {name!r}; choose D2Q9, D3Q19 or D3Q27")
    return Lattice(name=name, dim=dim, c=c, w=np.asarray(w, dtype=np.float64), opp=_opposite(c))


@functools.cache
def mrt_basis(name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """The MRT transform M (rows = moments) and the moment names, for D2Q9 and D3Q19."""
    lat = lattice(name)
    cx, cy, cz = (lat.c[:, k].astype(float) for k in range(3))
    c2 = cx ** 2 + cy ** 2 + cz ** 2
    if name == "D2Q9":
        rows = {
            "rho": np.ones_like(cx), "e": 3 * c2 - 4, "eps": (9 * c2 ** 2 - 21 * c2 + 8) / 2,
            "jx": cx, "qx": (3 * c2 - 5) * cx, "jy": cy, "qy": (3 * c2 - 5) * cy,
            "pxx": cx ** 2 - cy ** 2, "pxy": cx * cy,
        }
    elif name == "D3Q19":
        rows = {
            "rho": np.ones_like(cx), "e": 19 * c2 - 30, "eps": (21 * c2 ** 2 - 53 * c2 + 24) / 2,
            "jx": cx, "qx": (5 * c2 - 9) * cx, "jy": cy, "qy": (5 * c2 - 9) * cy,
            "jz": cz, "qz": (5 * c2 - 9) * cz,
            "pxx": 3 * cx ** 2 - c2, "pixx": (3 * c2 - 5) * (3 * cx ** 2 - c2),
            "pww": cy ** 2 - cz ** 2, "piww": (3 * c2 - 5) * (cy ** 2 - cz ** 2),
            "pxy": cx * cy, "pyz": cy * cz, "pxz": cx * cz,
            "mx": cx * (cy ** 2 - cz ** 2), "my": cy * (cz ** 2 - cx ** 2), "mz": cz * (cx ** 2 - cy ** 2),
        }
    else:
        raise ValueError(f"MRT is defined here for D2Q9 and D3Q19, not {name}")
    M = np.array(list(rows.values()), dtype=np.float64)
    return M, tuple(rows)

"""Curved walls: interpolated bounce-back on the links that cross a circle or sphere.

Half-way bounce-back puts every wall half a link out from the last fluid node, so a curved
surface becomes a staircase. Bouzidi, Firdaouss & Lallemand, Phys. Fluids 13, 3452 (2001),
doi:10.1063/1.1399290, interpolate instead: on a link from the fluid node x along c_i to a solid
node, with the wall at the fraction q ∈ [0, 1] of the link (x_w = x + q c_i), the population
that comes back into x after streaming is (linear scheme, post-collision f* at time t)

    f_ī(x, t + 1) = 2q f*_i(x) + (1 − 2q) f*_i(x − c_i)              q < 1/2,
    f_ī(x, t + 1) = f*_i(x)/(2q) + (2q − 1)/(2q) f*_ī(x)              q ≥ 1/2,

which is half-way bounce-back at q = 1/2. The pull kernels read that population as
f*_i(x) (half-way bounce-back, ``kernels.py``), and f*_i(x) is read by nothing else (its
streaming target x + c_i is solid), so :func:`interpolate_walls` simply overwrites f*_i(x) with
the interpolated value before each step; the fused kernels stay as they are. Where the q < 1/2
scheme would need a node x − c_i that is not fluid (a gap one node wide) the link falls back to
half-way bounce-back.

q comes from the geometry (``LatticeFluid.spheres``): the smaller root t ∈ [0, 1] of
|X + t c_i − C|² = r² with X the node's coordinates (node index + 1/2); a link that meets no
sphere (a solid node of the plain ``solid`` mask, or a sphere reaching across a periodic face,
whose image is not searched) keeps half-way bounce-back. The force on the
obstacle is the momentum exchanged on its links, Σ c_i (f*_i(x) + f_ī(x, t + 1)) (Ladd 1994's
2 c_i f*_i generalised; Mei, Yu, Shyy & Luo, Phys. Rev. E 65, 041203 (2002),
doi:10.1103/PhysRevE.65.041203).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = ["WallLinks", "wall_links", "interpolate_walls", "interpolate_walls_numpy", "returned_populations"]


@dataclass(frozen=True)
class WallLinks:
    """The links of fluid nodes to curved walls, internal layout: ``node`` (L, 3) the fluid node x,
    ``direction`` (L,) i (x + c_i solid), ``back`` (L, 3) the node x − c_i, ``q`` (L,) the wall's
    fraction of the link (0.5 where the link falls back to half-way bounce-back)."""

    node: np.ndarray
    direction: np.ndarray
    back: np.ndarray
    q: np.ndarray

    def __len__(self) -> int:
        return len(self.q)


def _link_fraction(X: np.ndarray, c: np.ndarray, spheres: np.ndarray) -> np.ndarray:
    """For points X (L, D) and link vectors c (L, D): the smallest t ∈ [0, 1] at which X + t c
    meets a sphere's surface, NaN where no sphere is met on the link."""
    best = np.full(len(X), np.nan)
    a = (c * c).sum(axis=1)
    for row in spheres:
        d = X - row[:-1]
        b = 2.0 * (c * d).sum(axis=1)
        cc = (d * d).sum(axis=1) - row[-1] ** 2
        disc = b * b - 4.0 * a * cc
        ok = disc >= 0.0
        t = np.full(len(X), np.nan)
        t[ok] = (-b[ok] - np.sqrt(disc[ok])) / (2.0 * a[ok])
        # a node on the surface (cc ≈ 0, outside by round-off) meets it at t = 0
        t = np.where(ok & (t < 0.0) & (t > -1e-12), 0.0, t)
        hit = ok & (t >= 0.0) & (t <= 1.0) & ~(best <= t)
        best = np.where(hit, t, best)
    return best


def wall_links(problem, domain, lat, fluid_flag: int = 0, ghost_flag: int = 2) -> WallLinks | None:
    """The curved-wall links of ``problem.spheres`` on ``domain`` (None when it has none)."""
    spheres = getattr(problem, "spheres", None)
    if spheres is None:
        return None
    dim = problem.dim
    shape3 = domain.shape3
    pad = [s.start for s in domain.interior]
    idx = np.indices(shape3).reshape(3, -1).T                      # (N, 3) internal indices
    flag = domain.flag.reshape(-1)
    obstacle = domain.obstacle
    nodes, dirs, backs, qs = [], [], [], []
    for i in range(1, lat.q):
        ci = domain.c[i]
        nb = (idx + ci) % np.array(shape3)
        hit = (flag == fluid_flag) & obstacle[nb[:, 0], nb[:, 1], nb[:, 2]]
        if not hit.any():
            continue
        x = idx[hit]
        # physical coordinates: internal axis a holds physical component perm[a]
        X = np.zeros((len(x), 3))
        cp = np.zeros(3)
        for a in range(3):
            X[:, domain.perm[a]] = x[:, a] - pad[a] + 0.5
            cp[domain.perm[a]] = ci[a]
        t = _link_fraction(X[:, :dim], np.broadcast_to(cp[:dim], (len(x), dim)), spheres)
        q = np.where(np.isnan(t), 0.5, t)
        back = (x - ci) % np.array(shape3)
        bflag = domain.flag[back[:, 0], back[:, 1], back[:, 2]]
        q = np.where((q < 0.5) & (bflag != fluid_flag) & (bflag != ghost_flag), 0.5, q)
        nodes.append(x)
        dirs.append(np.full(len(x), i))
        backs.append(back)
        qs.append(q)
    if not nodes:
        return None
    return WallLinks(node=np.ascontiguousarray(np.concatenate(nodes), dtype=np.int64),
                     direction=np.ascontiguousarray(np.concatenate(dirs), dtype=np.int64),
                     back=np.ascontiguousarray(np.concatenate(backs), dtype=np.int64),
                     q=np.ascontiguousarray(np.concatenate(qs), dtype=np.float64))


@njit(cache=True, nogil=True)
def _interpolate(f, node, direction, back, q, opp, out):
    """out[l] = the interpolated population of link l (formulas of the module docstring)."""
    for m in range(len(q)):
        i = direction[m]
        x, y, z = node[m, 0], node[m, 1], node[m, 2]
        fi = np.float64(f[i, x, y, z])
        qq = q[m]
        if qq < 0.5:
            out[m] = 2.0 * qq * fi + (1.0 - 2.0 * qq) * np.float64(f[i, back[m, 0], back[m, 1], back[m, 2]])
        else:
            out[m] = fi / (2.0 * qq) + (1.0 - 0.5 / qq) * np.float64(f[opp[i], x, y, z])


@njit(cache=True, nogil=True)
def _write(f, node, direction, values):
    for m in range(len(values)):
        f[direction[m], node[m, 0], node[m, 1], node[m, 2]] = values[m]


def returned_populations(f: np.ndarray, links: WallLinks, opp: np.ndarray) -> np.ndarray:
    """f_ī(x, t + 1) of every link (L,), from the post-collision populations ``f`` (numba)."""
    out = np.empty(len(links))
    _interpolate(f, links.node, links.direction, links.back, links.q, opp, out)
    return out


def interpolate_walls(f: np.ndarray, links: WallLinks, opp: np.ndarray) -> None:
    """Overwrite f*_i(x) of every link with the interpolated population, in place (numba)."""
    _write(f, links.node, links.direction, returned_populations(f, links, opp).astype(f.dtype))


def interpolate_walls_numpy(f: np.ndarray, links: WallLinks, opp: np.ndarray) -> None:
    """NumPy reference of :func:`interpolate_walls`."""
    i, (x, y, z), q = links.direction, links.node.T, links.q
    fi = f[i, x, y, z].astype(np.float64)
    near = 2.0 * q * fi + (1.0 - 2.0 * q) * f[i, links.back[:, 0], links.back[:, 1], links.back[:, 2]]
    qf = np.maximum(q, 0.5)
    far = fi / (2.0 * qf) + (1.0 - 0.5 / qf) * f[opp[i], x, y, z]
    f[i, x, y, z] = np.where(q < 0.5, near, far).astype(f.dtype)

"""The computational grid of a ``LatticeFluid``: padding layers, node flags, ghost filling.

Internal layout: populations are (Q, nx, ny, nz); a 2D problem (x, y) is stored as
(x, 1, y) so the kernels' innermost, contiguous loop runs along a long axis. ``perm`` maps
internal axes to physical components (self-inverse).

Non-periodic axes get one extra layer of nodes on each side: solid nodes for walls (flag 1,
or 3 for a moving wall whose velocity is kept in ``uwall``), ghost nodes (flag 2) for
velocity inlets and pressure outlets. Curved obstacles (``problem.spheres``) add interpolated bounce-back on the links that cross
their surfaces (:mod:`.curved`), applied with the ghost filling before each step. Ghost
populations are rebuilt before each step by the
non-equilibrium extrapolation of Guo, Zheng & Shi, Chin. Phys. 11, 366 (2002),
doi:10.1088/1009-1963/11/4/310:

    f_ghost = f^eq(ρ_b, u_b) + (f_nb − f^eq(ρ_nb, u_nb)),

with (ρ_b, u_b) = (ρ_nb, u_given × profile) at a velocity inlet and (ρ_given, u_nb) at a pressure
outlet, nb the fluid node next to the ghost along the face normal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .curved import WallLinks, interpolate_walls, interpolate_walls_numpy, returned_populations, wall_links
from .lattices import Lattice
from .reference import equilibrium, macroscopic

__all__ = ["Domain", "build_domain", "fill_ghosts", "momentum_exchange"]

FLUID, SOLID, GHOST, MOVING = 0, 1, 2, 3


@dataclass
class Domain:
    shape3: tuple            # padded internal shape (nx, ny, nz)
    interior: tuple          # slices of the problem's nodes inside the padded internal grid
    perm: tuple              # internal axis i holds physical component perm[i]
    c: np.ndarray            # (Q, 3) int64 internal velocities
    flag: np.ndarray         # int8 (nx, ny, nz)
    simple: np.ndarray       # bool (nx, ny): rows whose nodes and neighbours are all fluid
    uwall: np.ndarray        # (3, nx, ny, nz) internal components, or (3, 1, 1, 1) when no wall moves
    obstacle: np.ndarray     # bool padded mask of the problem's solid nodes (momentum exchange)
    ghosts: list             # [(internal axis, ghost, neighbour index, kind, values, profile1, profile2)]
    links: WallLinks | None = None   # curved-wall links (interpolated bounce-back), None: none

    @property
    def needs_fill(self) -> bool:
        """Whether populations are rebuilt before each step (ghost layers or curved walls)."""
        return bool(self.ghosts) or self.links is not None

    def to_internal(self, vec) -> np.ndarray:
        """A physical vector (D components) as internal (3,) components."""
        out = np.zeros(3)
        phys = np.zeros(3)
        phys[: len(vec)] = vec
        for i in range(3):
            out[i] = phys[self.perm[i]]
        return out

    def grid(self, field: np.ndarray, dim: int) -> np.ndarray:
        """An internal interior array (nx, ny, nz) as the problem's shape."""
        return field.transpose(self.perm)[(...,) if dim == 3 else (slice(None), slice(None), 0)]


def build_domain(problem, lat: Lattice) -> Domain:
    dim = problem.dim
    perm = (0, 2, 1) if dim == 2 else (0, 1, 2)
    phys_shape = tuple(problem.shape) + (1,) * (3 - dim)
    phys_pad = [0, 0, 0]
    for a, axis in enumerate("xyz"[:dim]):
        if problem.boundaries[axis + "-"][0] != "periodic":
            phys_pad[a] = 1
    shape = tuple(phys_shape[perm[i]] for i in range(3))
    pad = [phys_pad[perm[i]] for i in range(3)]
    shape3 = tuple(n + 2 * p for n, p in zip(shape, pad))
    interior = tuple(slice(p, p + n) for n, p in zip(shape, pad))
    c = np.ascontiguousarray(lat.c[:, list(perm)])
    flag = np.zeros(shape3, dtype=np.int8)
    obstacle = np.zeros(shape3, dtype=bool)
    if problem.solid is not None:
        obstacle[interior] = problem.solid.reshape(phys_shape).transpose(perm)
        flag[obstacle] = SOLID
    moving = any(kind == "moving_wall" for kind, _ in problem.boundaries.values())
    uwall = np.zeros((3,) + (shape3 if moving else (1, 1, 1)))
    ghosts = []
    dom = Domain(shape3=shape3, interior=interior, perm=perm, c=c, flag=flag, simple=None, uwall=uwall,
                 obstacle=obstacle, ghosts=ghosts)

    def layer(face):
        a = perm.index("xyz".index(face[0]))
        idx = 0 if face[1] == "-" else shape3[a] - 1
        sl = [slice(None)] * 3
        sl[a] = idx
        return a, idx, tuple(sl)

    # ghosts first, then moving walls, then still walls: edges and corners become walls
    for kinds in (("velocity", "parabolic_inlet", "pressure"), ("moving_wall",), ("wall",)):
        for face, (kind, values) in problem.boundaries.items():
            if kind not in kinds:
                continue
            a, idx, sl = layer(face)
            if kind == "wall":
                flag[sl] = SOLID
                if moving:
                    uwall[(slice(None),) + sl] = 0.0
            elif kind == "moving_wall":
                flag[sl] = MOVING
                internal = dom.to_internal(values)
                for k in range(3):
                    uwall[(k,) + sl] = internal[k]
            else:
                flag[sl] = GHOST
                nb = 1 if idx == 0 else shape3[a] - 2
                vals = tuple(values) if kind == "pressure" else tuple(dom.to_internal(values))
                profiles = [np.ones(shape3[t]) for t in range(3) if t != a]
                if kind == "parabolic_inlet":
                    for k, t in enumerate(t for t in range(3) if t != a):
                        if pad[t]:       # walled tangential axis: 4 s (n − s)/n², walls half a cell out
                            s_ = np.arange(shape3[t]) - 0.5
                            profiles[k] = np.clip(4 * s_ * (shape[t] - s_) / shape[t] ** 2, 0, None)
                ghosts.append((a, idx, nb, kind, vals, profiles[0], profiles[1]))
    rowfluid = (flag == FLUID).all(axis=2)
    simple = rowfluid.copy()
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            simple &= np.roll(rowfluid, (dx, dy), axis=(0, 1))
    dom.simple = np.ascontiguousarray(simple)
    dom.uwall = np.ascontiguousarray(uwall)
    dom.links = wall_links(problem, dom, lat, FLUID, GHOST)
    return dom


def fill_ghosts(f: np.ndarray, domain: Domain, lat: Lattice, force: np.ndarray) -> None:
    """Rebuild ghost-layer populations of ``f`` in place (numba; ``force`` in internal components),
    then set the curved-wall links' populations (:func:`.curved.interpolate_walls`)."""
    from .kernels import ghost_fill

    for a, g, nb, kind, values, prof1, prof2 in domain.ghosts:
        value = np.zeros(3)
        value[: len(values)] = values
        ghost_fill(f, a, g, nb, kind == "pressure", value, prof1, prof2, domain.c, lat.w, force)
    if domain.links is not None:
        interpolate_walls(f, domain.links, lat.opp)


def fill_ghosts_numpy(f: np.ndarray, domain: Domain, lat: Lattice, force: np.ndarray) -> None:
    """NumPy reference of :func:`fill_ghosts`."""
    for a, g, nb, kind, values, prof1, prof2 in domain.ghosts:
        fnb = np.take(f, nb, axis=a + 1).astype(np.float64)
        rho_nb, u_nb = macroscopic(fnb, domain.c, force)
        if kind != "pressure":
            rho_b = rho_nb
            u_b = np.zeros_like(u_nb)
            for k, val in enumerate(values):
                u_b[k] = val * prof1[:, None] * prof2[None, :]
        else:
            rho_b = np.full_like(rho_nb, values[0])
            u_b = u_nb
        new = equilibrium(rho_b, u_b, domain.c, lat.w) + (fnb - equilibrium(rho_nb, u_nb, domain.c, lat.w))
        sl = [slice(None)] * 4
        sl[a + 1] = g
        f[tuple(sl)] = new
    if domain.links is not None:
        interpolate_walls_numpy(f, domain.links, lat.opp)


def momentum_exchange(f: np.ndarray, domain: Domain, lat: Lattice) -> np.ndarray:
    """Force (3,) in physical components that the fluid exerts on the obstacle nodes.

    Every link from a fluid node x to an obstacle node x + c_i carries 2 c_i f_i*(x) per step
    (half-way bounce-back of the post-collision population; Ladd, J. Fluid Mech. 271, 285
    (1994), doi:10.1017/S0022112094001771); a curved-wall link carries c_i (f_i*(x) + f_ī(x, t+1))
    with the interpolated population f_ī (:mod:`.curved`).
    """
    force = np.zeros(3)
    if not domain.obstacle.any():
        return force
    fluid = (domain.flag != SOLID) & (domain.flag != MOVING)
    for q in range(1, lat.q):
        shift = tuple(int(-s) for s in domain.c[q])
        hits = fluid & np.roll(domain.obstacle, shift, axis=(0, 1, 2))
        total = float(f[q][hits].astype(np.float64).sum())
        force += 2.0 * total * domain.c[q]
    links = domain.links
    if links is not None:
        x = links.node.T
        change = returned_populations(f, links, lat.opp) - f[links.direction, x[0], x[1], x[2]]
        force += (change[:, None] * domain.c[links.direction]).sum(axis=0)
    return np.array([force[domain.perm[i]] for i in range(3)])

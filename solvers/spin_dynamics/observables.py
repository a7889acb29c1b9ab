"""Observables of a spin texture on a periodic lattice: the static structure factor and the Chern
number (and Hall conductance) of the electrons' occupied bands.

Both need the lattice the problem records (``lattice_vectors`` a1, a2 as rows, ``lattice_shape``
(L1, L2), 2-d ``positions``; site ``(i L2 + j) n_sub + s`` at ``i a1 + j a2 + tau_s``).

* Structure factor ``S(q) = |sum_i S_i e^{i q . r_i}|^2 / N`` (summed over the three spin
  components) on the reciprocal grid of the periodic box, ``q = (m / L1) b1 + (n / L2) b2``
  (``a_i . b_j = 2 pi delta_ij``), 0 <= m < L1, 0 <= n < L2. :func:`structure_factor` uses a 2-d FFT
  over the Bravais cells with the sublattice phases ``e^{i q . tau_s}``; :func:`structure_factor_direct`
  is the O(N Q) direct sum (the reference). Sum rule: ``sum_q S(q) = N`` for unit spins on a
  Bravais lattice (n_sub = 1). Known peaks on
  the triangular lattice: the ferromagnet has S = N at Gamma, the 120 degree state N/2 at K and
  K', the four-sublattice triple-Q state N/3 at each of the three M points.
* Chern number of the lowest ``n_occ`` levels of the Kondo Hamiltonian
  ``H = H0 (x) 1_2 - J sum_i S_i . sigma_i`` of the whole periodic cluster (a magnetic unit cell of
  its texture) under twisted boundary conditions ``psi(r + L1 a1) = e^{i theta1} psi(r)``,
  ``psi(r + L2 a2) = e^{i theta2} psi(r)``: each hopping across the box's boundary picks up
  ``e^{-i (n1 theta1 + n2 theta2)}`` (n the boundary crossings), so ``H(theta + 2 pi) = H(theta)``
  exactly and the discretised Berry curvature of Fukui, Hatsugai & Suzuki, J. Phys. Soc. Jpn. 74,
  1674 (2005), doi:10.1143/JPSJ.74.1674, on a ``twists x twists`` grid of (theta1, theta2) gives an
  integer for any grid once the occupied levels are gapped from the rest at every twist. For a
  texture periodic with a smaller magnetic cell this equals the total Chern number of its occupied
  bands (twisting the cluster sweeps the folded Brillouin zone). The Hall conductance it implies is
  ``sigma_xy = C e^2 / h`` (Thouless, Kohmoto, Nightingale & den Nijs, PRL 49, 405 (1982)). The
  four-sublattice triple-Q state on the triangular lattice at quarter filling has C = +-1 (Martin &
  Batista, PRL 101, 156402 (2008), doi:10.1103/PhysRevLett.101.156402); the sign follows the chirality.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

import toolkit as tk

__all__ = ["reciprocal_vectors", "reciprocal_grid", "structure_factor", "structure_factor_direct",
           "StructureFactor", "ChernNumber", "chern_number", "twisted_hopping", "E2_OVER_H",
           "TRIANGULAR_POINTS", "structure_factor_of"]

#: The conductance quantum e^2 / h in siemens (CODATA 2018, exact).
E2_OVER_H = 3.874045864e-5
#: High-symmetry points of the triangular lattice in reduced coordinates (of b1, b2) for
#: a1 = (1, 0), a2 = (1/2, sqrt 3 / 2).
TRIANGULAR_POINTS = {"Gamma": (0.0, 0.0), "K": (2 / 3, 1 / 3), "K'": (1 / 3, 2 / 3), "M1": (0.5, 0.0),
                     "M2": (0.0, 0.5), "M3": (0.5, 0.5)}

_ERR = tk.InvalidProblemError


def _need_lattice(problem):
    if problem.lattice_vectors is None:
        raise _ERR("lattice_vectors = None is not allowed here: the structure factor and the Chern number need "
                   "the periodic lattice; build the problem with kondo_triangular / classical_triangular or give "
                   "lattice_vectors, lattice_shape and positions")


def reciprocal_vectors(lattice_vectors) -> np.ndarray:
    """b1, b2 as rows, ``a_i . b_j = 2 pi delta_ij``."""
    return 2.0 * np.pi * np.linalg.inv(np.asarray(lattice_vectors, dtype=np.float64)).T


def reciprocal_grid(lattice_vectors, shape) -> tuple[np.ndarray, np.ndarray]:
    """``(reduced (L1, L2, 2), q (L1, L2, 2))``: the wave vectors ``q = (m/L1) b1 + (n/L2) b2``
    allowed by the periodic box and their reduced coordinates (m/L1, n/L2)."""
    L1, L2 = shape
    m, n = np.meshgrid(np.arange(L1) / L1, np.arange(L2) / L2, indexing="ij")
    reduced = np.stack([m, n], axis=-1)
    return reduced, reduced @ reciprocal_vectors(lattice_vectors)


def structure_factor(spins, positions, lattice_vectors, shape) -> np.ndarray:
    """S(q) on the reciprocal grid (L1, L2) by FFT over the cells, with sublattice phases (module docstring)."""
    spins = np.asarray(spins, dtype=np.float64)
    L1, L2 = shape
    n = spins.shape[0]
    nsub = n // (L1 * L2)
    _, q = reciprocal_grid(lattice_vectors, shape)
    tau = np.asarray(positions, dtype=np.float64)[:nsub]
    cells = spins.reshape(L1, L2, nsub, 3)
    # sum_ij x_ij e^{+2 pi i (m i / L1 + n j / L2)} = L1 L2 ifft2(x)
    amp = np.fft.ifft2(cells, axes=(0, 1)) * (L1 * L2)               # (L1, L2, nsub, 3)
    phase = np.exp(1j * np.einsum("mnd,sd->mns", q, tau))            # (L1, L2, nsub)
    total = np.einsum("mns,mnsc->mnc", phase, amp)
    return np.sum(np.abs(total) ** 2, axis=-1) / n


def structure_factor_direct(spins, positions, q) -> np.ndarray:
    """S(q) at any wave vectors ``q`` (..., d) by the direct sum (the reference; O(N Q))."""
    q = np.asarray(q, dtype=np.float64)
    pos = np.asarray(positions, dtype=np.float64)
    phase = np.exp(1j * (q.reshape(-1, q.shape[-1]) @ pos.T))       # (Q, N)
    amp = phase @ np.asarray(spins, dtype=np.float64)                # (Q, 3)
    return (np.sum(np.abs(amp) ** 2, axis=1) / pos.shape[0]).reshape(q.shape[:-1])


class StructureFactor(tk.Struct):
    """The static structure factor of one frame on the box's reciprocal grid.

    ``values`` (L1, L2): S(q); ``reduced`` (L1, L2, 2): (m/L1, n/L2); ``q`` (L1, L2, 2): the wave
    vectors; ``reciprocal`` (2, 2): b1, b2; ``sites``: N. :meth:`at` reads S at a grid point given
    in reduced coordinates (taken modulo 1), e.g. ``TRIANGULAR_POINTS["M1"]``.
    """

    values: np.ndarray
    reduced: np.ndarray
    q: np.ndarray
    reciprocal: np.ndarray
    sites: int

    def at(self, point) -> float:
        """S at the grid point with reduced coordinates ``point`` (modulo 1); one off the grid is refused."""
        L1, L2 = self.values.shape
        f = np.mod(np.asarray(point, dtype=np.float64), 1.0)
        idx = np.array([f[0] * L1, f[1] * L2])
        rounded = np.rint(idx)
        if np.max(np.abs(idx - rounded)) > 1e-9:
            raise ValueError(f"point = {tuple(point)} is not on this {L1} x {L2} reciprocal grid: give reduced "
                             f"coordinates that are multiples of (1/{L1}, 1/{L2})")
        return float(self.values[int(rounded[0]) % L1, int(rounded[1]) % L2])

    def peak(self) -> tuple[tuple[float, float], float]:
        """The reduced coordinates and value of the largest S(q)."""
        k = np.unravel_index(int(np.argmax(self.values)), self.values.shape)
        return (float(self.reduced[k][0]), float(self.reduced[k][1])), float(self.values[k])

    def plot(self, ax=None, zones: int = 1):
        """An S(q) map: the grid repeated over neighbouring Brillouin zones (``zones`` rings),
        points coloured by S(q) / N, the first zone's hexagon (or parallelogram) outlined."""
        from toolkit.plotting import DIMENSIONLESS, label, new_axes, reduced

        fig, ax, _ = new_axes(ax, figsize=(5, 4.2))
        b = self.reciprocal
        corners = _zone_corners(b)
        radius = float(np.max(np.linalg.norm(corners, axis=1))) if corners is not None else float(np.max(
            np.linalg.norm(b, axis=1)))
        reach = radius * (0.5 + zones)
        pts, vals = [], []
        span = zones + 2
        for g1 in range(-span, span + 1):
            for g2 in range(-span, span + 1):
                pts.append((self.q + g1 * b[0] + g2 * b[1]).reshape(-1, 2))
                vals.append(self.values.ravel())
        pts, vals = np.concatenate(pts), np.concatenate(vals) / max(self.sites, 1)
        keep = np.linalg.norm(pts, axis=1) <= reach
        order = np.argsort(vals[keep])
        top = max(float(vals.max()), 1e-12)
        art = ax.scatter(pts[keep][order, 0], pts[keep][order, 1], c=vals[keep][order],
                         s=8 + 120 * vals[keep][order] / top, cmap="viridis", vmin=0.0, vmax=top)
        fig.colorbar(art, ax=ax, label=label("S(q) / N", DIMENSIONLESS))
        if corners is not None:                    # the first Brillouin zone
            ax.plot(*np.vstack([corners, corners[:1]]).T, color="0.5", lw=1)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel(label("q_x", reduced("1/a")))
        ax.set_ylabel(label("q_y", reduced("1/a")))
        ax.set_title("static structure factor (line: first Brillouin zone)")
        return fig


def _zone_corners(b):
    """Corners of the 2-d first Brillouin zone (the Wigner-Seitz cell of the reciprocal lattice), ordered."""
    G = np.array([i * b[0] + j * b[1] for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0)])
    corners = []
    for x in range(len(G)):
        for y in range(x + 1, len(G)):
            A = np.array([G[x], G[y]])
            if abs(np.linalg.det(A)) < 1e-12:
                continue
            p = np.linalg.solve(A, 0.5 * np.sum(A * A, axis=1))
            if np.all(G @ p <= 0.5 * np.sum(G * G, axis=1) + 1e-9):
                corners.append(p)
    if len(corners) < 3:
        return None
    corners = np.unique(np.round(corners, 12), axis=0)
    return corners[np.argsort(np.arctan2(corners[:, 1], corners[:, 0]))]


def structure_factor_of(problem, spins) -> StructureFactor:
    """The :class:`StructureFactor` of ``spins`` (N, 3) on ``problem``'s lattice."""
    _need_lattice(problem)
    reduced, q = reciprocal_grid(problem.lattice_vectors, problem.lattice_shape)
    values = structure_factor(spins, problem.positions, problem.lattice_vectors, problem.lattice_shape)
    return StructureFactor(values=values, reduced=reduced, q=q, reciprocal=reciprocal_vectors(problem.lattice_vectors),
                           sites=problem.sites)


# -- Chern number ------------------------------------------------------------------------------

class ChernNumber(tk.Struct):
    """The Chern number of the occupied levels of one spin texture (module docstring).

    ``chern``: the integer C; ``value``: the grid sum of Berry fluxes / 2 pi before rounding (an
    integer to round-off when ``gap`` > 0); ``gap``: the smallest gap between the highest occupied
    and the lowest empty level over the twists (C is meaningful only when it is clearly positive);
    ``occupied``: the number of occupied levels; ``twists``: the grid size per direction;
    ``gapped``: whether ``gap`` exceeds 1e-8 of the spectrum's width. Without a gap (a metal at
    this filling, e.g. the ferromagnet or the 120 degree state at quarter filling) the occupied set
    is ambiguous where levels cross and C is not an invariant: ``chern`` is then only the rounded
    grid sum, and the Hall conductance is refused.
    """

    chern: int
    value: float
    gap: float
    occupied: int
    twists: int
    gapped: bool

    @property
    def hall_conductance(self) -> float:
        """sigma_xy = C e^2 / h, in units of e^2 / h (TKNN); refused without a gap."""
        if not self.gapped:
            raise ValueError(f"the occupied levels are not gapped (smallest gap {self.gap:.3g} over the twists): the Hall "
                             "conductance is not quantised for this texture and filling; it is a metal here")
        return float(self.chern)

    @property
    def hall_conductance_si(self) -> float:
        """sigma_xy in siemens (C e^2 / h)."""
        return self.hall_conductance * E2_OVER_H


def _windings(positions, rows, cols, box):
    """Boundary crossings n (E, 2) of each hopping (row <- col): pos[col] - n . box is the short bond."""
    d = positions[cols] - positions[rows]
    frac = d @ np.linalg.inv(box)
    n = np.rint(frac)
    short = d - n @ box
    half = 0.5 * np.min(np.linalg.norm(box, axis=1))
    if len(short) and np.max(np.linalg.norm(short, axis=1)) >= half:
        raise _ERR("lattice_shape is too small for the model's hoppings: a bond is longer than half the periodic box, "
                   "so its boundary crossing is ambiguous; use a larger lattice")
    return n.astype(np.int64)


def twisted_hopping(hopping, positions, lattice_vectors, shape):
    """``(rows, cols, values, windings)`` of the hopping matrix with each entry's boundary crossings,
    so that ``H0(theta)[r, c] = values * exp(-i windings . theta)``."""
    H0 = sp.coo_matrix(hopping)
    box = np.asarray(lattice_vectors, dtype=np.float64) * np.asarray(shape, dtype=np.float64)[:, None]
    rows, cols = H0.row.astype(np.int64), H0.col.astype(np.int64)
    return rows, cols, H0.data.astype(np.complex128), _windings(np.asarray(positions), rows, cols, box)


def _occupied_count(model, eps0):
    M = len(eps0)
    if model.filling is not None:
        target = model.filling * M
        occ = int(round(target))
        if abs(target - occ) > 1e-9 or occ <= 0 or occ >= M:
            raise _ERR(f"model filling = {model.filling!r} is not allowed for a Chern number: it must fill a whole "
                       f"number of the {M} levels, between 1 and {M - 1} (quarter filling of an even cluster does)")
        return occ
    mu = 0.0 if model.mu is None else model.mu
    occ = int(np.sum(eps0 < mu))
    if occ <= 0 or occ >= M:
        raise _ERR(f"model mu = {mu!r} is not allowed for a Chern number: it leaves {occ} of {M} levels occupied; "
                   "give a mu inside the spectrum (or a filling)")
    return occ


def chern_number(problem, spins=None, twists: int = 6) -> ChernNumber:
    """The Chern number of the electrons' occupied levels for ``spins`` (default: the problem's
    initial spins) on the problem's periodic lattice, by the Fukui-Hatsugai-Suzuki method on a
    ``twists x twists`` grid of boundary twists (module docstring). The model's ``filling`` (or
    ``mu`` at the untwisted point) sets how many levels are occupied."""
    _need_lattice(problem)
    model = problem.model
    if model is None or not hasattr(model, "hamiltonian") or not hasattr(model, "J"):
        raise _ERR(f"model = {model!r} is not allowed for a Chern number: it needs electrons (a Kondo TightBinding)")
    twists = int(twists)
    if twists < 2 or twists > 256:
        raise ValueError(f"twists = {twists} is not allowed: give 2 to 256 grid points per direction")
    S = problem.spins if spins is None else np.asarray(spins, dtype=np.float64)
    S = S / np.linalg.norm(S, axis=1, keepdims=True)
    n = problem.sites
    rows, cols, vals, wind = twisted_hopping(model.hamiltonian, problem.positions, problem.lattice_vectors,
                                             problem.lattice_shape)
    J = float(model.J)
    onsite = np.zeros((n, 2, 2), dtype=np.complex128)
    onsite[:, 0, 0], onsite[:, 1, 1] = -J * S[:, 2], J * S[:, 2]
    onsite[:, 0, 1], onsite[:, 1, 0] = -J * (S[:, 0] - 1j * S[:, 1]), -J * (S[:, 0] + 1j * S[:, 1])
    i = np.arange(n)
    theta = 2.0 * np.pi * np.arange(twists) / twists
    states = np.empty((twists, twists), dtype=object)
    gap, occ, width = np.inf, None, 0.0
    from .fields import blas_limit

    with blas_limit(1):
        for a, t1 in enumerate(theta):
            for b, t2 in enumerate(theta):
                H0 = np.zeros((n, n), dtype=np.complex128)
                np.add.at(H0, (rows, cols), vals * np.exp(-1j * (wind[:, 0] * t1 + wind[:, 1] * t2)))
                H = np.zeros((n, 2, n, 2), dtype=np.complex128)
                H[:, 0, :, 0] = H0
                H[:, 1, :, 1] = H0
                H[i, :, i, :] += onsite
                H = H.reshape(2 * n, 2 * n)
                eps, V = np.linalg.eigh(H)
                if occ is None:
                    occ = _occupied_count(model, eps)
                gap = min(gap, float(eps[occ] - eps[occ - 1]))
                width = max(width, float(eps[-1] - eps[0]))
                states[a, b] = V[:, :occ]

    def link(u, v):
        z = np.linalg.det(u.conj().T @ v)
        return z / abs(z) if abs(z) > 0 else 1.0

    flux = 0.0
    for a in range(twists):
        for b in range(twists):
            a1, b1 = (a + 1) % twists, (b + 1) % twists
            u1 = link(states[a, b], states[a1, b])
            u2 = link(states[a1, b], states[a1, b1])
            u3 = link(states[a1, b1], states[a, b1])
            u4 = link(states[a, b1], states[a, b])
            flux += float(np.angle(u1 * u2 * u3 * u4))
    value = flux / (2.0 * np.pi)
    return ChernNumber(chern=int(np.rint(value)), value=float(value), gap=float(gap), occupied=int(occ),
                       twists=twists, gapped=bool(gap > 1e-8 * max(width, 1e-300)))

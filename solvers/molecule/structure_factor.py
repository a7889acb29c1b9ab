"""Collective Fourier modes of a periodic fluid: density, transverse current, S(k).

At the box wavevectors ``k = 2 pi n / L`` (``n`` an integer vector, ``L`` the edge of a cubic box)
the Fourier components of the number density and of the transverse momentum current are

    rho(k)     = sum_i exp(i k . r_i)
    j_T(k, e)  = sum_i m_i (v_i . e) exp(i k . r_i),      e . k = 0, |e| = 1,

(Hansen & McDonald, *Theory of Simple Liquids*, 4th ed., §7.4 and §8.2). Wavevectors come in
shells ``|n|^2 = s``; of each pair ``+-n`` one is kept (``rho(-k) = rho(k)*``, so both give the same
correlation functions), and every ``k`` gets two orthonormal transverse polarisations ``e``.
The static structure factor is ``S(k) = <|rho(k)|^2> / N``.

:func:`fourier_modes` evaluates the modes for a stack of frames with a numba kernel that builds
``exp(i k . r)`` from the three powers ``exp(2 pi i x_d / L)`` (no transcendental per vector);
:func:`fourier_modes_reference` is its NumPy reference.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from toolkit.kernels import FASTMATH

__all__ = ["shell_vectors", "polarisations", "fourier_modes", "fourier_modes_reference", "cubic_edge",
           "structure_factor", "extrapolate_structure_factor"]

#: Largest shell |n|^2 accepted (k up to ~ 2 pi sqrt(400) / L: beyond any hydrodynamic use).
MAX_SHELL = 400


def cubic_edge(cell) -> float:
    """The edge ``L`` of a cubic periodic box given as a (3, 3) cell or three lengths; anything else is refused."""
    cell = np.asarray(cell, dtype=float)
    if cell.shape == (3, 3):
        if np.any(cell != np.diag(np.diag(cell))):
            raise ValueError("the cell is not orthorhombic: the wavevector shells need a cubic box; build the fluid "
                             "with problems.molecule.lj_fluid or give a cell of three equal lengths")
        cell = np.diag(cell)
    if cell.shape != (3,) or not np.all(cell > 0) or np.ptp(cell) > 1e-9 * cell.max():
        raise ValueError(f"cell = {cell.tolist()} is not a cubic box: shells |n|^2 = s hold wavevectors of one length "
                         "only in a cubic box; give three equal edges")
    return float(cell[0])


def shell_vectors(shells) -> tuple[np.ndarray, np.ndarray]:
    """``(n, shell_index)``: the integer vectors with ``|n|^2`` in ``shells`` (one of each ``+-n``).

    ``n`` is (K, 3) int64, ordered by shell as given; ``shell_index[j]`` is the position in ``shells``
    of vector ``j``. A shell holding no integer vector (|n|^2 = 7, 15, 28, ...) is refused.
    """
    shells = [int(s) for s in np.atleast_1d(shells)]
    if not shells or any(s < 1 or s > MAX_SHELL for s in shells) or len(set(shells)) != len(shells):
        raise ValueError(f"shells = {shells} is not allowed: give distinct integers |n|^2 from 1 to {MAX_SHELL} "
                         "(1: k = 2 pi / L along x, y, z; 2: the face diagonals; 3: the body diagonals; 4: 2 x shell 1)")
    top = int(np.ceil(np.sqrt(max(shells))))
    r = np.arange(-top, top + 1)
    grid = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
    # keep the half space: first nonzero component positive
    first = np.array([row[np.nonzero(row)[0][0]] if np.any(row) else 0 for row in grid])
    grid = grid[first > 0]
    norm2 = (grid ** 2).sum(1)
    vectors, index = [], []
    for i, s in enumerate(shells):
        found = grid[norm2 == s]
        if len(found) == 0:
            raise ValueError(f"shells = {shells}: no integer vector has |n|^2 = {s} (a sum of three squares never "
                             "equals 4^a (8b + 7)); drop it")
        vectors.append(found[np.lexsort(found.T[::-1])][::-1])
        index += [i] * len(found)
    return np.ascontiguousarray(np.concatenate(vectors), dtype=np.int64), np.array(index, dtype=np.int64)


def polarisations(n) -> np.ndarray:
    """(K, 2, 3): two orthonormal unit vectors perpendicular to each ``n`` (the transverse directions)."""
    n = np.asarray(n, dtype=float)
    khat = n / np.linalg.norm(n, axis=1, keepdims=True)
    out = np.empty((len(n), 2, 3))
    for j, k in enumerate(khat):
        trial = np.eye(3)[int(np.argmin(np.abs(k)))]      # the axis least aligned with k
        e1 = trial - (trial @ k) * k
        e1 /= np.linalg.norm(e1)
        out[j, 0] = e1
        out[j, 1] = np.cross(k, e1)
    return out


@njit(cache=True, nogil=True, fastmath=set(FASTMATH))
def _modes_kernel(x, v, m, edge, n, pol, rho, jt):    # pragma: no cover - compiled
    """rho[f, j] = sum_i e^{i k_j r_i}; jt[f, j, p] = sum_i m_i (v_i . pol[j, p]) e^{i k_j r_i}."""
    frames, atoms = x.shape[0], x.shape[1]
    nk = n.shape[0]
    top = 0
    for j in range(nk):
        for d in range(3):
            top = max(top, abs(n[j, d]))
    base = 2.0 * np.pi / edge
    powers = np.empty((3, 2 * top + 1), dtype=np.complex128)
    for f in range(frames):
        for j in range(nk):
            rho[f, j] = 0.0
            jt[f, j, 0] = 0.0
            jt[f, j, 1] = 0.0
        for i in range(atoms):
            for d in range(3):
                phase = base * x[f, i, d]
                w = complex(np.cos(phase), np.sin(phase))
                powers[d, top] = 1.0
                for p in range(1, top + 1):
                    powers[d, top + p] = powers[d, top + p - 1] * w
                    powers[d, top - p] = powers[d, top + p].conjugate()
            vx, vy, vz = v[f, i, 0], v[f, i, 1], v[f, i, 2]
            for j in range(nk):
                e = powers[0, top + n[j, 0]] * powers[1, top + n[j, 1]] * powers[2, top + n[j, 2]]
                rho[f, j] += e
                a = m[i] * (vx * pol[j, 0, 0] + vy * pol[j, 0, 1] + vz * pol[j, 0, 2])
                b = m[i] * (vx * pol[j, 1, 0] + vy * pol[j, 1, 1] + vz * pol[j, 1, 2])
                jt[f, j, 0] += a * e
                jt[f, j, 1] += b * e


def fourier_modes(positions, velocities, masses, edge: float, n, pol=None):
    """``(rho, j_T)`` for frames ``positions``/``velocities`` (F, N, 3) in a cubic box of edge ``edge``.

    ``rho`` is (F, K) complex, ``j_T`` (F, K, 2) complex, for the integer vectors ``n`` (K, 3) and the
    polarisations ``pol`` (K, 2, 3) (default :func:`polarisations`). Positions may be unwrapped:
    ``exp(i k . r)`` is periodic in the box. Units are those of the inputs (``j_T`` in mass x velocity).
    """
    x = np.ascontiguousarray(np.asarray(positions, dtype=np.float64).reshape(-1, *np.shape(positions)[-2:]))
    v = np.ascontiguousarray(np.asarray(velocities, dtype=np.float64).reshape(x.shape))
    m = np.ascontiguousarray(np.broadcast_to(np.asarray(masses, dtype=np.float64), x.shape[1:2]))
    n = np.ascontiguousarray(np.asarray(n, dtype=np.int64).reshape(-1, 3))
    pol = polarisations(n) if pol is None else np.ascontiguousarray(np.asarray(pol, dtype=np.float64))
    rho = np.empty((x.shape[0], len(n)), dtype=np.complex128)
    jt = np.empty((x.shape[0], len(n), 2), dtype=np.complex128)
    _modes_kernel(x, v, m, float(edge), n, pol, rho, jt)
    return rho, jt


def fourier_modes_reference(positions, velocities, masses, edge: float, n, pol=None):
    """NumPy reference of :func:`fourier_modes` (direct ``exp`` per atom and vector)."""
    x = np.asarray(positions, dtype=float).reshape(-1, *np.shape(positions)[-2:])
    v = np.asarray(velocities, dtype=float).reshape(x.shape)
    n = np.asarray(n, dtype=np.int64).reshape(-1, 3)
    pol = polarisations(n) if pol is None else np.asarray(pol, dtype=float)
    k = 2.0 * np.pi * n / edge
    phase = np.exp(1j * np.einsum("fid,kd->fik", x, k))                     # (F, N, K)
    mv = np.asarray(masses, dtype=float)[None, :, None] * v                 # (F, N, 3)
    vpol = np.einsum("fid,kpd->fikp", mv, pol)                              # (F, N, K, 2)
    return phase.sum(1), np.einsum("fik,fikp->fkp", phase, vpol)


def structure_factor(rho, n_atoms: int, shell_index) -> np.ndarray:
    """``S(k) = <|rho(k)|^2> / N`` per shell from the density modes ``rho`` (F, K)."""
    power = np.abs(np.asarray(rho)) ** 2 / float(n_atoms)
    shell_index = np.asarray(shell_index)
    return np.array([power[:, shell_index == s].mean() for s in range(int(shell_index.max()) + 1)])


def extrapolate_structure_factor(k, s, error=None, degree: int = 1) -> tuple[float, np.ndarray]:
    """``(S(0), coefficients)``: a least-squares polynomial of ``degree`` in ``k^2`` through ``S(k)``.

    ``S(k) = S(0) + a k^2 (+ b k^4 ...)``: the small-k expansion of an isotropic fluid's structure
    factor (Hansen & McDonald §3.6, the Ornstein-Zernike form expanded), weighted by ``1/error^2``
    when errors are given. Use the smallest shells only (k sigma below ~2, far from the main peak).
    """
    k2 = np.asarray(k, dtype=float) ** 2
    s = np.asarray(s, dtype=float)
    if len(k2) < degree + 1:
        raise ValueError(f"{len(k2)} wavevector shells cannot fix a degree-{degree} polynomial in k^2: "
                         f"give at least {degree + 1} shells or lower the degree")
    w = None if error is None else 1.0 / np.maximum(np.asarray(error, dtype=float), 1e-300)
    coef = np.polynomial.polynomial.polyfit(k2, s, degree, w=w)
    return float(coef[0]), coef

"""Kondo-lattice physics: spin forces and the on-site blocks a spin update rewrites.

The spinful Kondo / double-exchange model of :mod:`problems.tight_binding` is

    H = H0 (x) 1_2 - J sum_i S_i . sigma_i        (orbital 2 i + sigma)

for classical unit spins S_i (Yunoki et al., PRL 80, 845 (1998), doi:10.1103/PhysRevLett.80.845).
By Hellmann-Feynman the force on spin i is

    F_i = -dOmega/dS_i = -Tr[rho dH/dS_i] = J Tr[rho_ii sigma]
        = J (2 Re rho_ud, -2 Im rho_ud, rho_uu - rho_dd)

with rho_ii the 2x2 on-site block of the density matrix ``rho_ab = <c_b^dag c_a>``; spin dynamics
(Langevin, Landau-Lifshitz) uses its part perpendicular to S_i (Barros & Kato, PRB 88, 235101
(2013), doi:10.1103/PhysRevB.88.235101).

:class:`KondoBlocks` finds, once, where the on-site blocks sit in the Kondo matrix's CSR data, so
a new spin configuration rewrites 4 N numbers instead of rebuilding the 2N x 2N matrix; and where
they sit in a density-matrix pattern, so the forces are read without a search.
"""

from __future__ import annotations

import numpy as np

from problems.tight_binding import kondo_onsite

__all__ = ["spin_forces", "KondoBlocks", "entry_positions"]


def entry_positions(indptr, indices, rows, cols) -> np.ndarray:
    """Positions in a CSR matrix's data (sorted indices) of the entries (rows[k], cols[k]); each must exist."""
    n = len(indptr) - 1
    keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr)) * n + indices
    want = np.asarray(rows, dtype=np.int64) * n + np.asarray(cols, dtype=np.int64)
    pos = np.searchsorted(keys, want)
    if np.any(pos >= len(keys)) or np.any(keys[np.minimum(pos, len(keys) - 1)] != want):
        raise ValueError("entry_positions: an entry is not stored in the matrix")
    return pos


def _site_rows(n):
    i = np.arange(n, dtype=np.int64)
    return ((2 * i, 2 * i), (2 * i + 1, 2 * i + 1), (2 * i, 2 * i + 1), (2 * i + 1, 2 * i))


def spin_forces(problem, rows, cols, rho) -> np.ndarray:
    """``F_i = -dOmega/dS_i = J Tr[rho_ii sigma]`` (N x 3) from the density matrix on a sorted pattern.

    ``(0, 3)`` for a spinless problem. The pattern must hold the on-site 2x2 blocks (every pattern
    of :func:`~solvers.tight_binding.solution.density_pattern` does)."""
    if not problem.spinful:
        return np.zeros((0, 3))
    M = problem.size
    indptr = np.searchsorted(rows, np.arange(M + 1))
    pos = [entry_positions(indptr, cols, r, c) for r, c in _site_rows(problem.sites)]
    return forces_from_blocks(problem.J, np.asarray(rho), *pos)


def forces_from_blocks(J, rho, uu, dd, ud, du=None) -> np.ndarray:
    """``J (2 Re rho_ud, -2 Im rho_ud, rho_uu - rho_dd)`` with the block entries at positions uu, dd, ud of rho."""
    r_ud = rho[ud].astype(complex)
    return J * np.stack([2 * r_ud.real, -2 * r_ud.imag, (rho[uu] - rho[dd]).real], axis=1)


class KondoBlocks:
    """Where the on-site 2x2 blocks of a Kondo matrix sit, and their spin-independent part.

    ``positions``: four int64 arrays (uu, dd, ud, du) into the CSR data of the matrix built by
    :func:`problems.tight_binding.kondo_hamiltonian` (whose pattern does not depend on the spins);
    ``base``: the hopping matrix's on-site values at uu and dd (zero at ud, du).
    :meth:`write` puts the blocks of new spins into the data, giving the same numbers as a fresh
    ``kondo_hamiltonian`` (the hopping and the exchange parts are summed in one addition either way).
    """

    def __init__(self, matrix, hopping):
        n = hopping.shape[0]
        self.positions = tuple(entry_positions(matrix.indptr, matrix.indices, r, c) for r, c in _site_rows(n))
        diag = np.asarray(hopping.diagonal()).astype(np.complex128)
        self.base = (diag, diag)

    def write(self, data, spins, J) -> None:
        """Rewrite the on-site blocks of ``data`` (the Kondo matrix's CSR data) for ``spins``, ``J``."""
        uu, dd, ud, du = kondo_onsite(spins, J)
        p_uu, p_dd, p_ud, p_du = self.positions
        data[p_uu] = self.base[0] + uu
        data[p_dd] = self.base[1] + dd
        data[p_ud] = ud
        data[p_du] = du

    @staticmethod
    def change_norm(old_spins, new_spins, old_J, new_J) -> float:
        """An upper bound on ``||H_new - H_old||_2``: the change is block diagonal, each block
        ``-(J' S'_i - J S_i) . sigma`` of norm ``|J' S'_i - J S_i|`` (Weyl: no eigenvalue moves more)."""
        d = new_J * np.asarray(new_spins) - old_J * np.asarray(old_spins)
        return float(np.sqrt(np.max(np.sum(d * d, axis=1)))) if len(d) else 0.0

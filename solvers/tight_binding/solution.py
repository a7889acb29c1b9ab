"""``TightBindingSolution``: DOS, densities, density matrix, thermodynamics and spin forces (computed in
:mod:`.kondo`); :func:`density_pattern`, the density-matrix entries a problem asks for."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

import toolkit as tk

__all__ = ["TightBindingSolution", "density_pattern", "finite_or_unstable"]


def _empty(*shape, dtype=float):
    return dataclasses.field(default_factory=lambda: np.zeros(shape, dtype=dtype))


class TightBindingSolution(tk.Solution):
    """Results of a tight-binding solve.

    ``energies``/``dos``: the density of states per orbital (integrates to 1) on a grid;
    ``mu`` the chemical potential used (found from ``filling`` if the problem gave one);
    ``particles`` = Tr f(H); ``grand_potential`` = Tr omega(H), omega(E) = -kT ln(1 + e^{-(E-mu)/kT});
    ``energy`` = Tr[H f(H)] = Omega + mu N; ``density`` the orbital occupations rho_ii;
    ``density_matrix`` rho_ij = <c_j^dag c_i> on the entries (``dm_rows``, ``dm_cols``);
    ``forces`` -dOmega/dS_i for spinful Kondo models ((0, 3) otherwise); ``moments`` the
    Chebyshev moments (KPM) and ``bounds`` the spectral interval used.
    """

    energies: np.ndarray
    dos: np.ndarray
    mu: float = 0.0
    particles: float = 0.0
    grand_potential: float = 0.0
    energy: float = 0.0
    density: np.ndarray = _empty(0)
    dm_rows: np.ndarray = _empty(0, dtype=np.int64)
    dm_cols: np.ndarray = _empty(0, dtype=np.int64)
    density_matrix: np.ndarray = _empty(0)
    forces: np.ndarray = _empty(0, 3)
    moments: np.ndarray = _empty(0)
    bounds: np.ndarray = _empty(2)

    dims = {"energies": ("energy",), "dos": ("energy",), "density": ("orbital",), "dm_rows": ("entry",),
            "dm_cols": ("entry",), "density_matrix": ("entry",), "forces": ("site", "xyz"),
            "moments": ("moment",), "bounds": ("bound",)}

    def density_matrix_csr(self) -> sp.csr_matrix:
        """The density matrix on its pattern as a sparse matrix."""
        M = self.problem.size
        return sp.csr_matrix((self.density_matrix, (self.dm_rows, self.dm_cols)), shape=(M, M))

    def distance(self, other) -> float:
        """Largest relative difference over Omega, N, density, density matrix and forces."""
        worst = 0.0
        for name in ("grand_potential", "particles"):
            a, b = getattr(self, name), getattr(other, name)
            worst = max(worst, abs(a - b) / max(abs(b), 1e-300))
        for name in ("density", "density_matrix", "forces"):
            a, b = getattr(self, name), getattr(other, name)
            if a.shape == b.shape and a.size:
                worst = max(worst, float(np.linalg.norm(a - b)) / max(float(np.linalg.norm(b)), 1e-300))
        return worst

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        ax.plot(self.energies, self.dos, lw=1.2, label=type(self.solver).__name__)
        ax.axvline(self.mu, color="0.5", ls="--", lw=0.8)
        ax.set_xlabel("E")
        ax.set_ylabel("DOS per orbital")
        ax.legend(frameon=False)
        return ax


def density_pattern(problem):
    """``(rows, cols)`` int64, sorted: the diagonal, on-site 2x2 spin blocks and ``problem.pattern``."""
    H = problem.matrix
    M = H.shape[0]
    P = sp.identity(M, format="csr")
    if isinstance(problem.pattern, str):
        if problem.pattern == "hamiltonian":
            P = P + sp.csr_matrix((np.ones(H.nnz), H.indices, H.indptr), shape=H.shape)
    else:
        user = (problem.pattern != 0).astype(float)
        P = P + user + user.T
    if problem.spinful:
        i = np.arange(0, M, 2)
        P = P + sp.csr_matrix((np.ones(len(i) * 2), (np.concatenate([i, i + 1]), np.concatenate([i + 1, i]))),
                              shape=(M, M))
    P = sp.csr_matrix(P)
    P.sum_duplicates()                       # canonical CSR: rows in order, columns sorted in each
    rows = np.repeat(np.arange(M, dtype=np.int64), np.diff(P.indptr))
    return rows, P.indices.astype(np.int64)


def finite_or_unstable(solution: TightBindingSolution) -> TightBindingSolution:
    """``solution`` if every number in it is finite; otherwise an ``Unstable`` result with empty
    fields and a message naming the fields that were not (no NaN is ever handed back, issue 17.5).

    The problem's validation bounds every energy (``MAX_ENERGY``) so that this does not happen;
    this is the last line that keeps a case nobody foresaw from being called ``Success``."""
    bad = []
    for name, value in solution.data_fields().items():
        arr = np.asarray(value)
        if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            bad.append(name)
    if not bad:
        return solution
    return TightBindingSolution(
        problem=solution.problem, solver=solution.solver, retcode=tk.ReturnCode.Unstable,
        energies=np.zeros(0), dos=np.zeros(0), stats={**solution.stats, "non_finite": bad},
        message=f"{type(solution.solver).__name__} produced non-finite {', '.join(bad)}; the fields are left "
                "empty. Check that the energies are moderate (rescale the energy unit) and the spectral bounds "
                "enclose the spectrum")

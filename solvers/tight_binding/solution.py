"""``TightBindingSolution``: DOS, densities, density matrix, thermodynamics and spin forces (computed in
:mod:`.kondo`); :func:`density_pattern`, the density-matrix entries a problem asks for."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

import toolkit as tk
from toolkit.conventions import attrs, index
from toolkit.conventions import reduced as _reduced

__all__ = ["TightBindingSolution", "density_pattern", "finite_or_unstable"]


#: What the reduced energy unit of the family's datasets is (see toolkit.conventions).
_T = "the Hamiltonian's energy unit (the hopping t of the lattice builders)"


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

    compare_fields = ("grand_potential", "particles", "density", "density_matrix", "forces")
    dims = {"energies": ("energy",), "dos": ("energy",), "density": ("orbital",), "dm_rows": ("entry",),
            "dm_cols": ("entry",), "density_matrix": ("entry",), "forces": ("site", "xyz"),
            "moments": ("moment",), "bounds": ("bound",)}
    coords = {"energy": "energies"}
    cf = {"energies": _reduced("energy", "t", _T), "dos": _reduced("DOS per orbital", "(1/t)", _T),
          "density": attrs("1", "orbital occupation rho_ii"),
          "dm_rows": index("row i of the density-matrix entry"),
          "dm_cols": index("column j of the density-matrix entry"),
          "density_matrix": attrs("1", "density-matrix entry rho_ij = <c_j^dag c_i>"),
          "forces": _reduced("spin force -dOmega/dS_i", "t", _T), "moments": attrs("1", "Chebyshev moment mu_n"),
          "bounds": _reduced("spectral bound", "t", _T), "orbital": index("orbital index"),
          "entry": index("density-matrix entry"), "site": index("site index"),
          "moment": index("Chebyshev order n"), "bound": index("bound (0: lower, 1: upper)")}

    def density_matrix_csr(self) -> sp.csr_matrix:
        """The density matrix on its pattern as a sparse matrix."""
        M = self.problem.size
        return sp.csr_matrix((self.density_matrix, (self.dm_rows, self.dm_cols)), shape=(M, M))

    def plot(self, ax=None):
        """The density of states per orbital with mu, and the exact infinite-lattice DOS for a uniform
        nearest-neighbour square lattice (:func:`square_lattice_dos`). Without ``ax``, beside it what
        the solve was asked for locally: the spin forces -dOmega/dS_i (a Kondo model with
        ``local=True``) or the orbital occupations. Energies are in the Hamiltonian's unit t
        (the builders' hopping). Returns the DOS axes."""
        from toolkit.plotting import finish, new_axes

        extra, what = None, ""
        if ax is None and self.forces.size and np.any(self.forces):
            extra, what = _plot_forces, "spin forces"
        elif ax is None and self.density.size:
            extra, what = _plot_density, "occupations"
        fig, axes, created = new_axes(ax, figsize=(11.0, 4.2) if extra else (6.0, 4.2), ncols=2 if extra else 1)
        dos_ax = axes[1] if extra else axes
        _plot_dos(self, dos_ax)
        if extra:
            extra(self, axes[0])
        if created and extra:
            finish(fig, f"{_system(self.problem)}: {what} and density of states ({type(self.solver).__name__})")
        return dos_ax


# -- pictures (TightBindingSolution.plot) ------------------------------------------------------------

def square_lattice_dos(energy, t: float = 1.0):
    """Exact DOS per site of the infinite square lattice with nearest-neighbour hopping t,
    E(k) = -2t (cos k_x + cos k_y):

        rho(E) = K(k) / (2 pi^2 t),   k = sqrt(1 - (E / 4t)^2),   |E| < 4t   (0 outside),

    K the complete elliptic integral of the first kind (``scipy.special.ellipk(m)``, m = k^2);
    it integrates to 1 and diverges logarithmically at E = 0 (van Hove). Economou, *Green's
    Functions in Quantum Physics* (3rd ed., Springer, 2006), chapter 5."""
    from scipy.special import ellipk

    e = np.asarray(energy, dtype=float) / (4.0 * t)
    inside = np.abs(e) < 1.0
    m = np.where(inside, 1.0 - e * e, 0.0)
    return np.where(inside, ellipk(m) / (2.0 * np.pi ** 2 * t), 0.0)


def _uniform_square_hopping(problem):
    """t when ``problem`` is a periodic square lattice with one uniform nearest-neighbour hopping -t,
    no on-site energies and no spins (the case :func:`square_lattice_dos` describes), else None."""
    lattice = problem.lattice
    if lattice is None or lattice[0] != "square" or not lattice[2] or problem.spins is not None:
        return None
    rows, cols, values = sp.find(problem.hamiltonian)
    off = rows != cols
    if np.any(~off) or not np.any(off):
        return None
    hop = values[off]
    if np.any(hop != hop[0]) or np.real(hop[0]) >= 0 or np.imag(hop[0]) != 0:
        return None
    if np.any(np.bincount(rows[off], minlength=problem.hamiltonian.shape[0]) != 4):
        return None
    return float(-np.real(hop[0]))


def _system(problem) -> str:
    """'square 64x64 lattice', '6x6 square Kondo lattice' or 'a 100-orbital Hamiltonian'."""
    if problem.lattice is None:
        return f"a {problem.size}-orbital Hamiltonian"
    kind, shape, _ = problem.lattice
    name = f"{kind} {'×'.join(str(n) for n in shape)}"
    return f"{name} Kondo lattice" if problem.spins is not None else f"{name} lattice"


def _plot_dos(solution, ax):
    from toolkit.plotting import REFERENCE_STYLE, label, reduced

    ax.plot(solution.energies, solution.dos, lw=1.2, label=type(solution.solver).__name__)
    t = _uniform_square_hopping(solution.problem)
    if t is not None:
        grid = np.linspace(-4 * t, 4 * t, 801)
        grid = 0.5 * (grid[1:] + grid[:-1])            # never E = 0, where the exact DOS diverges
        ax.plot(grid, square_lattice_dos(grid, t), label="exact (infinite square lattice)", **REFERENCE_STYLE)
    ax.axvline(solution.mu, color="0.5", ls=":", lw=0.8, label=f"μ = {solution.mu:.3g}")
    if solution.dos.size and np.max(solution.dos) > 0:
        ax.set_ylim(0.0, 1.3 * float(np.max(solution.dos)))
    ax.set_xlabel(label("energy E", reduced("t")))
    ax.set_ylabel(label("DOS per orbital ρ(E)", reduced("1/t")))
    ax.set_title(f"density of states, {_system(solution.problem)}")
    ax.legend(frameon=False, fontsize=8)


def _site_positions(problem):
    """(N, 2) site positions of a 2-d built lattice (lattice constant a), else None."""
    if problem.lattice is None:
        return None
    from problems.tight_binding import lattice_geometry

    kind, shape, periodic = problem.lattice
    if len(shape) != 2:
        return None
    return lattice_geometry(kind, shape, periodic, shells=1)[0]


def _plot_forces(solution, ax):
    """In-plane spin forces as arrows at the sites, coloured by their z component."""
    from toolkit.plotting import label, reduced

    F = solution.forces
    pos = _site_positions(solution.problem)
    if pos is None or len(pos) != len(F):
        ax.bar(np.arange(len(F)), np.linalg.norm(F, axis=1))
        ax.set_xlabel(label("site i", "index"))
        ax.set_ylabel(label("|−∂Ω/∂S_i|", reduced("t")))
    else:
        art = ax.quiver(pos[:, 0], pos[:, 1], F[:, 0], F[:, 1], F[:, 2], cmap="coolwarm", pivot="middle")
        ax.figure.colorbar(art, ax=ax, label=label("force z component", reduced("t")))
        ax.set_aspect("equal", adjustable="datalim")
        ax.margins(0.08)
        ax.set_xlabel(label("x", reduced("a")))
        ax.set_ylabel(label("y", reduced("a")))
    ax.set_title("spin forces −∂Ω/∂S_i (arrows: in-plane part)")


def _plot_density(solution, ax):
    """Site occupations on the lattice (spin orbitals summed), or per orbital without a lattice."""
    from toolkit.plotting import DIMENSIONLESS, label, reduced

    rho = solution.density
    if solution.problem.spinful and rho.size % 2 == 0:
        rho = rho[0::2] + rho[1::2]
    pos = _site_positions(solution.problem)
    if pos is None or len(pos) != len(rho):
        ax.plot(np.arange(len(rho)), rho, ".")
        ax.set_xlabel(label("orbital i", "index"))
        ax.set_ylabel(label("occupation ρ_ii", DIMENSIONLESS))
    else:
        art = ax.scatter(pos[:, 0], pos[:, 1], c=rho, s=min(200.0, max(4.0, 20000.0 / len(rho))), marker="s",
                         cmap="viridis")
        ax.figure.colorbar(art, ax=ax, label=label("site occupation ⟨n_i⟩", DIMENSIONLESS))
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xlabel(label("x", reduced("a")))
        ax.set_ylabel(label("y", reduced("a")))
    ax.set_title("site occupations ⟨n_i⟩")


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

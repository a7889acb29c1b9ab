"""``ExactDiagonalization``: dense ``eigh`` of the full Hamiltonian, the reference for KPM.

``H = V diag(eps) V^dag``; ``f(H) = V diag(f(eps)) V^dag``; Omega = sum_k omega(eps_k),
omega(E) = -kT ln(1 + e^{-(E - mu)/kT}) (``(E - mu) theta(mu - E)`` at kT = 0, a level exactly at
mu then counting half). With ``filling`` at kT = 0 the lowest ``filling M`` levels are
filled and mu sits mid-gap (on the partly filled level when ``filling M`` is not an integer);
at kT > 0 mu solves ``sum_k f(eps_k) = filling M`` (brentq).
The DOS is the level histogram broadened by Gaussians of width ``broadening`` (default 1 % of
the bandwidth).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg
from scipy.optimize import brentq
from scipy.special import expit

import toolkit as tk
from problems.tight_binding import MAX_ENERGY, TightBinding
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .kondo import forces_from_blocks, spin_forces
from .solution import TightBindingSolution, density_pattern, finite_or_unstable

__all__ = ["ExactDiagonalization", "occupations", "grand_terms", "chemical_potential", "ed_from_dense"]


class ExactDiagonalization(tk.ForceProvider):
    """Dense diagonalisation (O(M^3)); refuses M > ``max_size`` (use KPM there).

    ``broadening``: Gaussian width of the DOS (None: 1 % of the bandwidth), 1e-100 to 1e100.
    Its memory (the dense matrix, eigenvectors and density-matrix products, about 4 M^2 numbers
    with ``local=True``) is estimated before anything is allocated (:mod:`.memory`).

    A force provider for classical spins (``configuration = "spins"``), the exact reference for
    KPM's: ``tk.init(kondo_problem, ExactDiagonalization()).energy_gradient(spins)``.
    """

    abstract = False
    configuration = "spins"

    max_size: int = 6000
    broadening: float | None = None

    def _validate(self):
        self._set("max_size", v.integer("max_size", self.max_size, lower=1, upper=2**31 - 1,
                                        error=tk.InvalidSolverError))
        self._set("broadening", v.real_scalar("broadening", self.broadening, lower=1e-100, upper=MAX_ENERGY,
                                              allow_none=True, error=tk.InvalidSolverError))


def occupations(eps, mu, kT):
    """Fermi occupations f(eps) (a level exactly at mu counts 1/2 at kT = 0)."""
    if kT == 0.0:
        return np.where(np.abs(eps - mu) <= 1e-12, 0.5, (eps < mu).astype(float))
    with np.errstate(over="ignore", divide="ignore"):      # |eps - mu| / kT -> inf: f = 0 or 1, exactly
        return expit(-(eps - mu) / kT)


def grand_terms(eps, mu, kT):
    """omega(eps_k) = -kT ln(1 + e^{-(eps - mu)/kT}), (eps - mu) theta(mu - eps) at kT = 0.

    Evaluated as ``min(x, 0) - kT log1p(e^{-|x|/kT})``, x = eps - mu: the same function, finite
    for every kT > 0 (at a subnormal kT it is the kT -> 0 limit; ``-kT ln(1 + e^{-x/kT})`` would
    be ``-kT * inf``)."""
    x = np.asarray(eps) - mu
    if kT == 0.0:
        return np.minimum(x, 0.0)
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        return np.minimum(x, 0.0) - kT * np.log1p(np.exp(-np.abs(x) / kT))


def step_limit(kT, scale) -> bool:
    """Whether the Fermi function at ``kT`` is the step to float64 precision on energies of
    magnitude ``scale``: levels a rounding unit (1.1e-16 scale) from mu then differ from the step by
    less than e^{-100}. The chemical potential is then found as at kT = 0 (exactly, not by a
    root search on a function that is flat but for one jump)."""
    return kT == 0.0 or kT < 1e-18 * scale

def chemical_potential(eps, filling, kT):
    """mu for which the levels hold ``filling * M`` electrons (mid-gap at kT = 0)."""
    M = len(eps)
    target = filling * M
    if step_limit(kT, max(abs(float(eps[0])), abs(float(eps[-1])), 1e-300)):
        ne = int(round(target))
        if abs(target - ne) > 1e-9:              # a partially filled level: mu sits on it
            return float(eps[min(int(np.floor(target)), M - 1)])
        if ne <= 0:
            return float(eps[0]) - 1e-9 * max(1.0, abs(eps[0]))
        if ne >= M:
            return float(eps[-1]) + 1e-9 * max(1.0, abs(eps[-1]))
        return 0.5 * float(eps[ne - 1] + eps[ne])
    # N(mu) <= M e^{(mu - eps_0)/kT} and M - N(mu) <= M e^{-(mu - eps_max)/kT}: this bracket encloses
    # the root for every 0 < filling < 1 (the problem refuses 0 and 1 at kT > 0)
    lo = eps[0] + kT * (np.log(filling) - 1.0)
    hi = eps[-1] - kT * (np.log1p(-filling) - 1.0)

    def excess(m):
        return occupations(eps, m, kT).sum() - target

    f_lo, f_hi = excess(lo), excess(hi)
    if f_lo >= 0 or f_hi <= 0:            # underflow at a bracket end: that end is the root to rounding
        return float(lo if abs(f_lo) <= abs(f_hi) else hi)
    return float(brentq(excess, lo, hi, xtol=1e-14, rtol=1e-14))


def _refused(problem, solver):
    M = problem.size
    return TightBindingSolution(
        problem=problem, solver=solver, retcode=tk.ReturnCode.Failure, energies=np.zeros(0), dos=np.zeros(0),
        message=f"ExactDiagonalization refuses M = {M} > max_size = {solver.max_size} orbitals (dense eigh is "
                "O(M^3) time, O(M^2) memory); use KPM() for large systems or raise max_size")


@dispatch
def _solve(problem: TightBinding, solver: ExactDiagonalization) -> TightBindingSolution:
    start = time.perf_counter()
    if problem.size > solver.max_size:
        return _refused(problem, solver)
    pattern = density_pattern(problem) if problem.local else None
    return ed_from_dense(problem, solver, problem.matrix.toarray(), pattern, start=start)


def thermodynamics(eps, problem):
    """``(mu, occupations, Omega, N)`` of the levels ``eps`` (ascending) at the problem's kT and its
    ``mu`` or ``filling``: Omega = sum_k omega(eps_k) at mu, N = sum_k f(eps_k)."""
    # a kT at which the Fermi function is the step to float64 precision is the kT -> 0 limit, taken
    # with the kT = 0 conventions (a level within 1e-12 of mu half filled)
    kT = 0.0 if step_limit(problem.kT, max(abs(float(eps[0])), abs(float(eps[-1])), 1e-300)) else problem.kT
    if problem.filling is not None:
        mu = chemical_potential(eps, problem.filling, kT)
    else:
        mu = 0.0 if problem.mu is None else problem.mu
    occ = occupations(eps, mu, kT)
    return mu, occ, float(grand_terms(eps, mu, kT).sum()), float(occ.sum())


def density_blocks(V, occ, pattern, H):
    """The density-matrix entries ``rho[rows, cols]`` of the eigenvectors ``V`` (columns) with occupations
    ``occ``: ``rho = V diag(occ) V^dagger``; real where the Hamiltonian ``H`` is."""
    rows, cols = pattern
    rho = ((V * occ) @ V.conj().T)[rows, cols]
    return rho if np.iscomplexobj(H) else rho.real


def ed_from_dense(problem, solver, H, pattern, forces_at=None, *, start):
    """The ED solution from the dense Hamiltonian ``H`` (not modified) and, when the problem asks
    for local quantities, the density-matrix ``pattern`` = (rows, cols); ``forces_at``: the on-site
    block positions in the pattern (found by search when None). Shared by ``tk.solve`` and the
    solve cache, so both give the same numbers."""
    M = problem.size
    if problem.local:
        eps, V = scipy.linalg.eigh(H)
    else:
        eps, V = scipy.linalg.eigvalsh(H), None
    mu, occ, omega, particles = thermodynamics(eps, problem)
    lo, hi = float(eps[0]), float(eps[-1])
    width = max(hi - lo, 1e-6)
    energies = np.linspace(lo - 0.05 * width, hi + 0.05 * width, problem.dos_points)
    sigma = solver.broadening or 0.01 * width
    dos = np.exp(-0.5 * ((energies[:, None] - eps[None, :]) / sigma) ** 2).sum(axis=1) / (M * sigma * np.sqrt(2 * np.pi))
    fields = {}
    if problem.local:
        rows, cols = pattern
        rho = density_blocks(V, occ, pattern, H)
        forces = (spin_forces(problem, rows, cols, rho) if forces_at is None or not problem.spinful
                  else forces_from_blocks(problem.J, rho, *forces_at))
        fields = dict(density=np.real(np.einsum("ik,k,ik->i", V, occ, V.conj())), dm_rows=rows, dm_cols=cols,
                      density_matrix=rho, forces=forces)
    return finite_or_unstable(TightBindingSolution(
        problem=problem, solver=solver, energies=energies, dos=dos, mu=float(mu), particles=particles,
        grand_potential=omega, energy=omega + mu * particles, bounds=np.array([lo, hi]),
        stats={"wall_time": time.perf_counter() - start}, **fields))

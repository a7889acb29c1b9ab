"""Solve caches of the tight-binding family: ``tk.init(TightBinding, KPM | ExactDiagonalization)``.

A spin-dynamics or Monte Carlo driver solves the same Kondo lattice thousands of times with new
spins. The caches keep what does not change (see :class:`toolkit.SolveCache`)::

    cache = tk.init(problem, KPM(order=256, estimator=GradientProbing(3)))
    for step in range(n):
        forces = cache.update(spins=spins).solve().forces

:class:`KPMCache` keeps the matrix with its sparsity pattern (the Kondo matrix's pattern does not
depend on the spins: a spin update rewrites only the on-site 2x2 blocks, :class:`.kondo.KondoBlocks`),
the kernels and diagonal pieces, the estimator's vectors (probing colourings included), the
density-matrix pattern, and the spectral interval. :class:`EDCache` keeps the dense matrix and
rewrites its on-site blocks.

Spectral bounds after an update (KPM needs the spectrum inside the interval it scales to
(-1, 1)). With ``bounds=(emin, emax)`` given, or ``"gershgorin"`` (recomputed: O(nnz)), the cache
does exactly what ``tk.solve`` does. With ``"lanczos"`` it keeps the interval while Weyl's
inequality proves it still encloses the spectrum: no eigenvalue moves by more than
``||H - H_ref||_2``, bounded by ``max_i |J' S'_i - J S_i|`` for a spin change (the change is
block diagonal) and by the largest absolute row sum of the change otherwise, H_ref being the
matrix of the last Lanczos run. When the proven interval leaves the kept one, Lanczos runs on
the new matrix and the kept interval is its result widened by ``bounds_margin`` times its width
on each side (default 2 %), so the next small updates need no Lanczos. Never silently wrong; the
price is that a cached solution equals ``tk.solve(tk.remake(problem, ...), solver)`` with
``bounds = tuple(solution.bounds)`` (identical numbers), and equals the plain remade solve only
until the first widening (``bounds_margin = 0`` runs Lanczos whenever the proof fails).

Force providers (issue 16.2): ``KPM`` and ``ExactDiagonalization`` are :class:`toolkit.ForceProvider`
with ``configuration = "spins"``, and both caches are :class:`toolkit.ForceCache`:
``cache.energy_gradient(spins) -> (E, dE/dS)`` (see :class:`SpinForceCache`), what a spin-dynamics
driver (Langevin, Landau-Lifshitz on KPM forces) calls every step.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg
import scipy.sparse as sp

import toolkit as tk
from problems.tight_binding import TightBinding, kondo_onsite, unit_spins
from toolkit.dispatch import dispatch

from . import chebyshev as cb
from .estimators import Exact
from .exact import ExactDiagonalization, _refused, density_blocks, ed_from_dense, thermodynamics
from .kondo import KondoBlocks, entry_positions, forces_from_blocks
from .kpm import KPM, estimator_blocks, kpm_sweeps, spectral_bounds
from .solution import density_pattern

__all__ = ["KPMCache", "EDCache", "SpinForceCache"]

#: Fields whose change needs nothing rebuilt (the sweeps read them from the problem).
_SCALAR = frozenset({"mu", "filling", "kT", "dos_points"})


def _own_csr(H):
    """A CSR copy (int64 indices) whose data the cache may rewrite; the kernels read the same arrays."""
    out = sp.csr_matrix((H.data.copy(), H.indices, H.indptr), shape=H.shape)
    out.indices = np.asarray(H.indices, dtype=np.int64)
    out.indptr = np.asarray(H.indptr, dtype=np.int64)
    return out


def _same_pattern(A, B):
    return A.shape == B.shape and np.array_equal(A.indptr, B.indptr) and np.array_equal(A.indices, B.indices)


def _pattern_and_blocks(problem):
    """The density-matrix pattern and the on-site block positions in it (None when not asked)."""
    if not problem.local:
        return None, None
    rows, cols = density_pattern(problem)
    if not problem.spinful:
        return (rows, cols), None
    indptr = np.searchsorted(rows, np.arange(problem.size + 1))
    i = np.arange(problem.sites, dtype=np.int64)
    at = tuple(entry_positions(indptr, cols, r, c) for r, c in ((2 * i, 2 * i), (2 * i + 1, 2 * i + 1),
                                                                (2 * i, 2 * i + 1)))
    return (rows, cols), at


def _strict(solution, strict):
    if strict and not solution.successful:
        raise tk.UnstableError(f"{type(solution.solver).__name__} ended with {solution.retcode}: {solution.message}")
    return solution


class SpinForceCache(tk.ForceCache):
    """The force-provider contract of the tight-binding caches: the configuration is the spins.

    ``energy_gradient(spins)`` updates the spins (validated like ``tk.remake``: an (N, 3) array of
    unit vectors), solves with local quantities and returns ``(E, dE/dS)``, ``dE/dS`` of shape
    (N, 3), the derivative with respect to the three components of each spin (H is linear in
    ``J S_i``), equal to minus the Kondo spin forces of :mod:`.kondo` (Hellmann-Feynman).

    Which energy ``E``:

    * the problem fixes ``mu``: ``E = Omega(S) = Tr omega(H(S))``, the grand potential. Its
      gradient at fixed mu is ``Tr[rho dH/dS_i]`` = minus the forces.
    * the problem fixes ``filling``: mu then moves with the spins, and the energy whose gradient
      the forces are is the free energy at fixed particle number, ``F = Omega + mu N``
      (the ground-state energy at kT = 0; ``solution.energy``): dF/dS = dOmega/dS|_mu +
      (dOmega/dmu + N) dmu/dS, and dOmega/dmu = -N, so the mu term drops out. Omega itself
      would not be a potential of these forces there.

    The first call on a problem with ``local=False`` switches the cache to ``local=True`` (the
    density matrix is what the forces are read from); ``pattern="onsite"`` is the cheapest pattern
    for force evaluations (the forces need only the on-site 2x2 blocks). A solve that does not
    succeed raises :class:`toolkit.UnstableError` with its message (a driver must not step on
    NaN forces). For KPM with a stochastic or truncated estimator the gradient is the one the
    estimator gives (``GradientProbing``: the exact gradient of the estimated Omega; direct
    estimators: converging to it with the order).
    """

    def energy_gradient(self, configuration):
        self._need_spins("energy_gradient(spins)")
        changes = {"spins": configuration}
        if not self.problem.local:
            changes["local"] = True
        solution = self.update(**changes).solve()
        if not solution.successful:
            raise tk.UnstableError(f"{type(self.solver).__name__} could not give the spin forces "
                                   f"({solution.retcode}): {solution.message}")
        energy = solution.grand_potential if self.problem.filling is None else solution.energy
        return float(energy), -np.array(solution.forces, dtype=np.float64)

    def energy(self, configuration):
        """The energy of :meth:`energy_gradient` alone (Omega at fixed mu, F = Omega + mu N at fixed
        filling), for Monte Carlo: the problem keeps its ``local`` setting (no density matrix unless it
        asks for one). A solve that does not succeed raises :class:`toolkit.UnstableError`."""
        self._need_spins("energy(spins)")
        solution = self.update(spins=configuration).solve()
        if not solution.successful:
            raise tk.UnstableError(f"{type(self.solver).__name__} could not give the energy "
                                   f"({solution.retcode}): {solution.message}")
        return float(solution.grand_potential if self.problem.filling is None else solution.energy)

    def _need_spins(self, what):
        if not self.problem.spinful:
            raise tk.InvalidProblemError(
                f"{what} needs a Kondo problem: this TightBinding has spins = None. Give "
                "spins (N x 3 unit vectors) when building the problem, e.g. lattice_problem(..., spins='random')")


class KPMCache(SpinForceCache):
    """What ``tk.init(problem, KPM(...))`` keeps between solves (see the module docstring).

    ``bounds_margin``: fraction of the spectral width added on each side when a Lanczos interval
    is recomputed after an update. ``stats`` of each solution add ``lanczos_runs`` (so far) and
    ``bounds_kept`` (whether the last update kept the interval without a Lanczos run)."""

    def __init__(self, problem, solver, bounds_margin: float = 0.02):
        super().__init__(problem, solver)
        self.bounds_margin = float(bounds_margin)
        self.lanczos_runs = 0
        self._build(problem)

    # -- set-up --------------------------------------------------------------------------
    def _build(self, problem):
        t0 = time.perf_counter()
        self.H = _own_csr(problem.matrix)
        self.kondo = KondoBlocks(self.H, problem.hamiltonian) if problem.spinful else None
        self.ops = cb._Ops(self.H, 1.0, 0.0, self.solver.parallel)
        self.setup_time = time.perf_counter() - t0
        self._fresh_bounds(problem, widen=False)
        self._blocks(problem)
        self.pattern, self.forces_at = _pattern_and_blocks(problem)

    def _blocks(self, problem):
        if isinstance(self.solver.estimator, Exact):          # M x M in all: generate them lazily
            self.blocks = lambda p=problem: estimator_blocks(p, self.solver)
        else:
            kept = list(estimator_blocks(problem, self.solver))
            self.blocks = lambda: kept

    def _fresh_bounds(self, problem, widen):
        t0 = time.perf_counter()
        lo, hi = spectral_bounds(self.H, self.solver, self.ops)
        self.raw_interval = (float(lo), float(hi))           # encloses the spectrum of the reference matrix
        if self.solver.bounds == "lanczos":
            self.lanczos_runs += 1
            if widen:
                m = self.bounds_margin * (hi - lo)
                lo, hi = lo - m, hi + m
        self.interval = (float(lo), float(hi))
        self.reference = (self.H.data.copy(), None if problem.spins is None else problem.spins.copy(), problem.J)
        self.bounds_time = time.perf_counter() - t0
        self.bounds_kept = False

    # -- the SolveCache contract ---------------------------------------------------------
    def _refresh(self, problem, changed):
        old = self.problem
        if changed <= _SCALAR:
            return
        structural = changed - _SCALAR - {"spins", "J", "hamiltonian", "local", "pattern"}
        if structural or (old.spins is None) != (problem.spins is None):
            self._rebuild(problem)
            return
        only_spins = "hamiltonian" not in changed
        matrix_changed = not only_spins or (problem.spinful and bool(changed & {"spins", "J"}))
        if not only_spins:
            new = problem.matrix
            if not _same_pattern(new, self.H):
                self._rebuild(problem)
                return
            self.H.data[:] = new.data
            if problem.spinful:
                self.kondo = KondoBlocks(self.H, problem.hamiltonian)
        elif matrix_changed:
            self.kondo.write(self.H.data, problem.spins, problem.J)
        if matrix_changed:
            self._matrix_changed(problem, only_spins)
        if changed & {"local", "pattern", "hamiltonian"}:
            self.pattern, self.forces_at = _pattern_and_blocks(problem)

    def _rebuild(self, problem):
        self.problem = problem
        self._build(problem)

    def _matrix_changed(self, problem, only_spins):
        if self.ops.pieces is not None or not only_spins or self.ops.data is not self.H.data:
            self.ops = cb._Ops(self.H, 1.0, 0.0, self.solver.parallel)     # pieces hold values
        if self.solver.bounds == "gershgorin":
            self._fresh_bounds(problem, widen=False)
            return
        if self.solver.bounds != "lanczos":
            return
        ref_data, ref_spins, ref_J = self.reference
        if only_spins:
            delta = KondoBlocks.change_norm(ref_spins, problem.spins, ref_J, problem.J)
        else:                                  # ||dH||_2 <= max row sum of |dH| (Hermitian)
            d = sp.csr_matrix((np.abs(self.H.data - ref_data), self.H.indices, self.H.indptr), shape=self.H.shape)
            delta = float(np.max(d.sum(axis=1))) if d.nnz else 0.0
        lo, hi = self.raw_interval            # Weyl: the spectrum now lies within [lo - delta, hi + delta]
        if self.interval[0] <= lo - delta and hi + delta <= self.interval[1]:
            self.bounds_kept = True
            return
        self._fresh_bounds(problem, widen=True)

    def _solve(self, strict=False, **options):
        t0 = time.perf_counter()
        lo, hi = self.interval
        solution = kpm_sweeps(self.problem, self.solver, self.ops, lo, hi, self.blocks, self.pattern, self.forces_at,
                              t0=t0, setup_time=self.setup_time, bounds_time=self.bounds_time,
                              lanczos_runs=self.lanczos_runs, bounds_kept=self.bounds_kept)
        return _strict(solution, strict)


class EDCache(SpinForceCache):
    """What ``tk.init(problem, ExactDiagonalization())`` keeps: the dense matrix (its on-site 2x2
    blocks rewritten on a spin update), the density-matrix pattern and block positions. Solutions
    are identical to ``tk.solve`` of the remade problem.

    :meth:`energy` (Monte Carlo) validates the spins, rewrites only the blocks of the spins that differ
    from the matrix's and takes the eigenvalues alone, without remaking the problem (a remake validates
    the Hamiltonian again): 0.57 instead of 0.88 ms per proposal on a 6 x 6 lattice, most of it
    ``eigvalsh`` of the 72 x 72 matrix. The matrix may then hold other spins than ``self.problem``:
    :meth:`_solve` writes the problem's back first.
    """

    def __init__(self, problem, solver):
        super().__init__(problem, solver)
        self._build(problem)

    def _build(self, problem):
        self.dense = problem.matrix.toarray() if problem.size <= self.solver.max_size else None
        self.pattern, self.forces_at = _pattern_and_blocks(problem)
        self._base = self._hopping_diagonal(problem) if problem.spinful else None
        self._matrix_spins = problem.spins.copy() if problem.spinful and self.dense is not None else None

    def _write_blocks(self, sites, spins, J):
        """Rewrite the on-site blocks of ``sites`` for ``spins[sites]`` (the expressions of
        :func:`problems.tight_binding.kondo_hamiltonian`, so the matrix equals a fresh one)."""
        uu, dd, ud, du = kondo_onsite(spins[sites], J)
        base = self._base[sites]
        self.dense[2 * sites, 2 * sites] = base + uu
        self.dense[2 * sites + 1, 2 * sites + 1] = base + dd
        self.dense[2 * sites, 2 * sites + 1] = ud
        self.dense[2 * sites + 1, 2 * sites] = du
        self._matrix_spins[sites] = spins[sites]

    def _refresh(self, problem, changed):
        if changed <= _SCALAR:
            return
        if changed <= {"spins", "J"} | _SCALAR and self.dense is not None and problem.spinful:
            self._write_blocks(np.arange(problem.sites), problem.spins, problem.J)
            return
        self._build(problem)

    def _hopping_diagonal(self, problem):
        return np.asarray(problem.hamiltonian.diagonal()).astype(np.complex128)

    def _move_spins(self, configuration) -> bool:
        """Validate ``configuration`` and write the blocks of the spins that moved; False where this
        route does not apply (no dense matrix, no spins): then the caller takes the general one."""
        problem = self.problem
        if self.dense is None or not problem.spinful:
            return False
        spins = unit_spins(configuration, problem.sites)
        moved = np.flatnonzero(np.any(spins != self._matrix_spins, axis=1))
        if moved.size:
            self._write_blocks(moved, spins, problem.J)
        return True

    def energy(self, configuration):
        if not self._move_spins(configuration):
            return super().energy(configuration)
        mu, _, omega, particles = thermodynamics(scipy.linalg.eigvalsh(self.dense), self.problem)
        return float(omega if self.problem.filling is None else omega + mu * particles)

    def energy_gradient(self, configuration):
        """:meth:`SpinForceCache.energy_gradient` by the route of :meth:`energy`: once the cache holds a
        local problem (the first call switches it), the moved blocks are rewritten and the energy and
        forces come from ``eigh`` of the matrix, the same expressions as :func:`.exact.ed_from_dense`
        (so the same numbers as a solve of the remade problem) without remaking the problem, the DOS and
        the densities: 1.1 instead of 2.0 ms per evaluation on a 6 x 6 Kondo lattice (72 x 72)."""
        problem = self.problem
        if not (problem.local and self.forces_at is not None and self._move_spins(configuration)):
            return super().energy_gradient(configuration)
        eps, V = scipy.linalg.eigh(self.dense)
        mu, occ, omega, particles = thermodynamics(eps, problem)
        forces = np.asarray(forces_from_blocks(problem.J, density_blocks(V, occ, self.pattern, self.dense),
                                               *self.forces_at), dtype=np.float64)
        energy = float(omega if problem.filling is None else omega + mu * particles)
        if not (np.isfinite(energy) and np.all(np.isfinite(forces))):
            raise tk.UnstableError(f"ExactDiagonalization could not give the spin forces: energy {energy!r} or "
                                   "forces not finite")
        return energy, -forces

    def _solve(self, strict=False, **options):
        start = time.perf_counter()
        if self.dense is None:
            return _strict(_refused(self.problem, self.solver), strict)
        if self._matrix_spins is not None and not np.array_equal(self._matrix_spins, self.problem.spins):
            self._write_blocks(np.arange(self.problem.sites), self.problem.spins, self.problem.J)
        return _strict(ed_from_dense(self.problem, self.solver, self.dense, self.pattern, self.forces_at,
                                     start=start), strict)


@dispatch
def _init(problem: TightBinding, solver: KPM) -> KPMCache:
    return KPMCache(problem, solver)


@dispatch
def _init(problem: TightBinding, solver: ExactDiagonalization) -> EDCache:  # noqa: F811
    return EDCache(problem, solver)


"""``KPM``: the kernel polynomial method, O(M) per moment and vector.

Moments ``mu_n = Tr T_n(H~)`` estimated with the solver's :mod:`estimator <.estimators>`; the DOS,
particle number ``N = Tr f(H)``, grand potential ``Omega = Tr omega(H)`` and (if the problem asks
for local observables) the density matrix ``rho = f(H)`` on the pattern of H follow from
Chebyshev expansions (Weisse et al., Rev. Mod. Phys. 78, 275 (2006),
doi:10.1103/RevModPhys.78.275). ``GradientProbing`` takes rho as the gradient of the estimated
Omega (Wang, Chern, Batista & Barros, J. Chem. Phys. 148, 094107 (2018), doi:10.1063/1.5017741).

Kernel ``"auto"``: Jackson damping for the DOS; for Omega, N and rho none at kT > 0 (smooth
functions converge exponentially undamped) and Jackson at kT = 0.

The density matrix is computed only when the problem asks (``local=True``): it costs a second
sweep (the direct estimate runs ``order`` fused steps, :mod:`.series`; the gradient estimate
runs the recursion forwards and back).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import brentq

import toolkit as tk
from problems.tight_binding import MAX_ENERGY, TightBinding
from toolkit import validate as v
from toolkit.dispatch import dispatch

from . import chebyshev as cb
from .estimators import Estimator, Exact, RandomVectors, vector_blocks
from .kondo import forces_from_blocks, spin_forces
from .kondo_sweeps import onsite_positions
from .exact import step_limit
from .solution import TightBindingSolution, density_pattern, finite_or_unstable

__all__ = ["KPM", "kpm_sweeps", "spectral_bounds", "estimator_blocks"]

_E = tk.InvalidSolverError
KERNELS = ("auto", "jackson", "lorentz", "none")


class KPM(tk.ForceProvider):
    """Kernel polynomial method with ``order`` Chebyshev moments.

    A force provider for classical spins (``configuration = "spins"``): ``tk.init(kondo_problem,
    KPM(...)).energy_gradient(spins)`` gives ``(E, dE/dS)`` (:class:`~.cache.SpinForceCache`).

    ``kernel``: ``"auto"``, ``"jackson"``, ``"lorentz"`` or ``"none"`` (None works too);
    ``estimator``: ``Exact()``, ``RandomVectors(count)``, ``Probing(distance)`` or
    ``GradientProbing(distance)``; ``seed`` seeds the random vectors; ``bounds``: ``"lanczos"``
    (``lanczos_steps`` steps, padded), ``"gershgorin"`` or a known ``(emin, emax)`` enclosing the
    spectrum (too narrow an interval makes the recursion diverge: the solve then returns
    ``Unstable``); ``parallel``: threaded kernels.

    Ranges (issue 17): ``order`` 2 to 10^7, ``seed`` 0 to 2^63 - 1, ``lanczos_steps`` 2 to
    10^5, ``lorentz_lambda`` 1e-3 to 700 (``sinh`` overflows beyond), ``bounds`` within
    +-``MAX_ENERGY``. The memory a solve needs (vectors x count x M, the density-matrix pattern,
    the Kondo matrix, the coefficient quadrature) is estimated before anything is allocated
    (:mod:`.memory`), and a solution that would hold a non-finite number is ``Unstable`` with
    empty fields instead.
    """

    order: int = 256
    kernel: str | None = "auto"
    estimator: Estimator = RandomVectors()
    seed: int = 0
    bounds: object = "lanczos"
    lanczos_steps: int = 40
    lorentz_lambda: float = 4.0
    parallel: bool = False

    stochastic = True
    abstract = False
    configuration = "spins"

    def _validate(self):
        self._set("order", v.integer("order", self.order, lower=2, upper=10_000_000, error=_E))
        kernel = "none" if self.kernel is None else self.kernel
        self._set("kernel", v.choice("kernel", kernel, KERNELS, error=_E))
        if not isinstance(self.estimator, Estimator):
            raise _E(f"estimator = {v.show(self.estimator)} is not allowed: give Exact(), RandomVectors(count), "
                     "Probing(distance) or GradientProbing(distance)")
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=2**63 - 1, error=_E))
        if isinstance(self.bounds, str):
            v.choice("bounds", self.bounds, ("lanczos", "gershgorin"), error=_E)
        else:
            lohi = v.real_array("bounds", self.bounds, shape=(2,), lower=-MAX_ENERGY, upper=MAX_ENERGY, error=_E)
            if not lohi[0] < lohi[1]:
                raise _E(f"bounds = {tuple(lohi)} is not allowed: give (emin, emax) with emin < emax, 'lanczos' "
                         "or 'gershgorin'")
            self._set("bounds", (float(lohi[0]), float(lohi[1])))
        self._set("lanczos_steps", v.integer("lanczos_steps", self.lanczos_steps, lower=2, upper=100_000, error=_E))
        self._set("lorentz_lambda", v.real_scalar("lorentz_lambda", self.lorentz_lambda, lower=1e-3, upper=700.0,
                                                  error=_E))
        if not isinstance(self.parallel, (bool, np.bool_)):
            raise _E(f"parallel = {v.show(self.parallel)} is not allowed: give True or False")

    @classmethod
    def example(cls):
        return cls(order=64, estimator=Exact())

    def damping(self, purpose: str, kT: float) -> np.ndarray:
        """g_n for ``purpose`` ``"dos"`` or ``"thermo"`` (see the module docstring)."""
        kind = self.kernel
        if kind == "auto":
            kind = "jackson" if (purpose == "dos" or kT == 0.0) else "none"
        return cb.damping(None if kind == "none" else kind, self.order, self.lorentz_lambda)


def _failed(problem, solver, retcode, message, **stats):
    return TightBindingSolution(problem=problem, solver=solver, retcode=retcode, message=message,
                                energies=np.zeros(0), dos=np.zeros(0), stats=stats)


def _bad(problem, solver, message, **stats):
    return _failed(problem, solver, tk.ReturnCode.Unstable, message, **stats)


def vector_dtype(problem, solver):
    """dtype of the KPM vectors: complex for complex H (Kondo) else float64 (phase vectors make their own)."""
    return np.complex128 if np.iscomplexobj(problem.matrix.data) else np.float64


def spectral_bounds(H, solver, ops):
    """``(emin, emax)`` by the solver's ``bounds`` rule (Lanczos on ``ops``' product, Gershgorin or given)."""
    if solver.bounds == "lanczos":
        return cb.lanczos_bounds(H, solver.lanczos_steps, seed=solver.seed, pieces=ops.pieces)
    if solver.bounds == "gershgorin":
        return cb.gershgorin_bounds(H)
    return solver.bounds


def estimator_blocks(problem, solver):
    """The estimator's ``(R, weight)`` blocks, C-contiguous, of the dtype the sweeps run in."""
    dtype = vector_dtype(problem, solver)
    for R, w in vector_blocks(problem, solver.estimator, solver.seed, dtype):
        yield np.ascontiguousarray(R, dtype=np.result_type(R.dtype, dtype)), w


@dispatch
def _solve(problem: TightBinding, solver: KPM) -> TightBindingSolution:
    t0 = time.perf_counter()
    H = problem.matrix
    ops = cb._Ops(H, 1.0, 0.0, solver.parallel)         # the kernels; the scaling a, b follows
    t_setup = time.perf_counter() - t0
    emin, emax = spectral_bounds(H, solver, ops)
    t_bounds = time.perf_counter() - t0 - t_setup
    pattern = density_pattern(problem) if problem.local else None
    return kpm_sweeps(problem, solver, ops, emin, emax, lambda: estimator_blocks(problem, solver), pattern,
                      t0=t0, setup_time=t_setup, bounds_time=t_bounds)


def kpm_sweeps(problem, solver, ops, emin, emax, blocks, pattern, forces_at=None, *, t0, **stats):
    """The KPM solve after its set-up: the moment sweep, thermodynamics, the DOS and (when the
    problem asks, ``pattern`` = (rows, cols)) the density-matrix sweep and spin forces.

    ``ops``: :class:`~.chebyshev._Ops` bound to ``problem.matrix`` (its scaling is set here from
    ``emin``, ``emax``); ``blocks()``: an iterable of the estimator's ``(R, weight)`` blocks
    (:func:`estimator_blocks`, or a kept list); ``forces_at``: the on-site block positions in the
    pattern (uu, dd, ud), found by search when None. ``tk.solve`` and the solve caches share it,
    so a cache's solution equals a fresh solve. On a Kondo matrix (``ops.kondo``) the sweeps are the
    structured ones of :mod:`.kondo_sweeps`: the moment recursion, continued to the gradient's last two
    terms when gradient probing asks for the on-site pattern, then the fused backward recursion."""
    M = problem.size
    a, b = cb.scale_from_bounds(emin, emax)
    ops.a, ops.b = a, b
    est = solver.estimator
    complex_h = np.iscomplexobj(ops.data)
    t1 = time.perf_counter()
    moments = np.zeros(solver.order)
    count = 0
    blocked = False
    per_vector = None
    kondo = ops.kondo
    onsite = (onsite_positions(*pattern, M) if kondo is not None and pattern is not None and est.gradient
              else None)
    tails = []                                        # the forward recursion's last two terms, per block
    for R, w in blocks():
        if kondo is not None:
            mu_s, tail = kondo.moments(R, solver.order, a, b, tail=onsite is not None)
            if tail is not None:
                tails.append((R, w, tail))
        else:
            mu_s = cb.moment_sweep(ops, R, solver.order)
        moments += w * mu_s.sum(axis=0)
        count += R.shape[1]
        blocked = ops.blocked(ops.width(R.shape[1]))       # two Chebyshev steps per pass (last block)
        if isinstance(est, RandomVectors):
            per_vector = mu_s * (w * R.shape[1])      # each row: an unbiased estimate of the moments
    stats.update(moments_time=time.perf_counter() - t1, vectors=count, spmv_moments=solver.order // 2,
                 step="pieces" if ops.pieces is not None else "kondo" if kondo is not None else "csr",
                 two_steps="on" if blocked else "off")
    if not np.all(np.isfinite(moments)) or np.abs(moments).max() > 1.5 * max(abs(moments[0]), 1e-300):
        return _bad(problem, solver, "the Chebyshev moments diverged: the spectral bounds do not enclose the spectrum; "
                    "use bounds='gershgorin' or more lanczos_steps", **stats)
    # a kT at which the Fermi function is the step to float64 precision is the kT -> 0 limit
    kT = 0.0 if step_limit(problem.kT, max(abs(emin), abs(emax), 1e-300)) else problem.kT
    g_dos = solver.damping("dos", kT)
    g_th = solver.damping("thermo", kT)
    energies = np.linspace(emin, emax, problem.dos_points)
    dos = cb.dos_from_moments(moments, g_dos, energies, a, b, M)
    order = solver.order

    if kT > 0.0:
        particles_at = cb.fermi_sum(g_th * moments, a, b, kT)
    else:
        def particles_at(mu):
            return float(np.dot(cb.fermi_coefficients(order, a, b, mu, kT) * g_th, moments))

    if problem.filling is not None:
        mu = _chemical_potential(particles_at, problem.filling * M, a, b, kT, M)
        if mu is None:
            return _failed(problem, solver, tk.ReturnCode.ConvergenceFailure,
                           f"no chemical potential gives filling = {problem.filling!r}: the order-{order} series of the "
                           "particle number does not reach it between the spectral bounds; raise order or use a "
                           "filling further from 0 and 1", **stats)
    else:
        mu = 0.0 if problem.mu is None else problem.mu
    fermi = cb.fermi_coefficients(order, a, b, mu, kT) * g_th
    grand = cb.grand_coefficients(order, a, b, mu, kT) * g_th
    particles = float(np.dot(fermi, moments))
    omega = float(np.dot(grand, moments))
    if per_vector is not None and len(per_vector) > 1:
        # standard errors of the random-vector estimates (independent vectors; at fixed mu)
        n_s, o_s = per_vector @ fermi, per_vector @ grand
        stats["particles_stderr"] = float(np.std(n_s, ddof=1) / np.sqrt(len(n_s)))
        stats["grand_potential_stderr"] = float(np.std(o_s, ddof=1) / np.sqrt(len(o_s)))
    fields = {}
    sweep_time = stats["moments_time"]
    if pattern is not None:
        t1 = time.perf_counter()
        rows, cols = pattern
        rho = np.zeros(len(rows), dtype=np.complex128 if (complex_h or _complex_vectors(est)) else np.float64)
        if est.gradient:
            if onsite is not None:                    # the structured sweeps, from the kept forward tails
                for R, w, tail in tails:
                    kondo.gradient(tail, R, grand, a, b, w, rho, onsite)
            else:
                for R, w in blocks():
                    cb.gradient_sweep(ops, R.astype(rho.dtype, copy=False), grand, rows, cols, w, rho)
            keys = rows * M + cols
            tidx = np.searchsorted(keys, cols * M + rows)
            rho = 0.5 * (rho + np.conj(rho[tidx]))
        else:
            for R, w in blocks():
                cb.direct_sweep(ops, R.astype(rho.dtype, copy=False), fermi, rows, cols, w, rho)
        stats["local_time"] = time.perf_counter() - t1
        sweep_time += stats["local_time"]
        if not complex_h:
            rho = rho.real.copy()
        diag = rows == cols
        forces = (spin_forces(problem, rows, cols, rho) if forces_at is None or not problem.spinful
                  else forces_from_blocks(problem.J, rho, *forces_at))
        fields = dict(density=np.real(rho[diag]).copy(), dm_rows=rows, dm_cols=cols, density_matrix=rho,
                      forces=forces)
    stats["sweep_time"] = sweep_time
    stats["wall_time"] = time.perf_counter() - t0
    return finite_or_unstable(TightBindingSolution(
        problem=problem, solver=solver, energies=energies, dos=dos, mu=mu, particles=particles,
        grand_potential=omega, energy=omega + mu * particles, moments=moments, bounds=np.array([emin, emax]),
        stats=stats, **fields))


def _chemical_potential(particles_at, target, a, b, kT, M):
    """mu with ``particles_at(mu) = target`` (brentq), or None when the series cannot reach it.

    The bracket runs 40 kT past the scaled interval [b - a, b + a]; the truncated series is
    not exactly 0 and M there, so a target within ``1e-9 M`` of an end that the series misses
    takes that end (the filling is met to the series' accuracy)."""
    lo, hi = b - a - 40 * kT, b + a + 40 * kT
    f_lo, f_hi = particles_at(lo) - target, particles_at(hi) - target
    if not (np.isfinite(f_lo) and np.isfinite(f_hi)):
        return None
    if f_lo < 0 < f_hi:
        return float(brentq(lambda m: particles_at(m) - target, lo, hi, xtol=1e-13 * a, rtol=1e-14))
    end, miss = (lo, f_lo) if abs(f_lo) <= abs(f_hi) else (hi, f_hi)
    return float(end) if abs(miss) <= 1e-9 * M else None


def _complex_vectors(est):
    return getattr(est, "kind", "z2") == "phase"

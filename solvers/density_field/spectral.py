"""Semi-implicit spectral stepping: the linear (non-local) part implicit in Fourier space.

For ``∂phi/∂t = -M(k) [V(k) phi + f'(phi)] + noise`` with a stabilising constant c:

    phi_k^{n+1} = [ (1 + dt M c) phi_k^n - dt M (f'(phi^n))_k + xi_k ] / (1 + dt M (V(k) + c))

(linear stabilisation of Eyre / Shen & Yang, Discrete Contin. Dyn. Syst. 28, 1669 (2010),
doi:10.3934/dcds.2010.28.1669). ``M(k)`` is the mobility (model A), mobility k^2 (model B),
or 1 with the k = 0 mode frozen (conserved relaxation). FFTs by scipy.fft, f' by the numba
kernels. Noise ``xi`` satisfies fluctuation-dissipation: variance ``2 T M dt / dV`` per cell.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from toolkit import validate as v
from toolkit.dispatch import dispatch

from problems.density_field import FieldDynamics, Relaxation

from .functional import DIVERGED, SpectralOps, diverged
from .accuracy import energy_increase, with_warnings
from .integrator import FieldIntegrator
from .limits import MAX_PARAMETER, MAX_RELAX_ITERS, MAX_SEED, MAX_THREADS
from .solution import RelaxationSolution

__all__ = ["SemiImplicit", "SpectralIntegrator", "mobility_symbol"]


class SemiImplicit(tk.Solver):
    """Semi-implicit spectral stepper.

    ``stabilization`` is c (>= half the largest f'' keeps F non-increasing);
    ``threads`` sets scipy.fft workers and picks the parallel numba kernel; ``seed`` the
    noise; for :class:`Relaxation`: ``relax_dt`` (pseudo-time step), ``tol`` on
    max |δF/δphi| and ``max_iters``.
    """

    stabilization: float = 2.0
    seed: int = 0
    threads: int = 1
    relax_dt: float = 1.0
    tol: float = 1e-8
    max_iters: int = 20000

    stochastic = True
    supports_step = True

    def _validate(self):
        err = tk.InvalidSolverError
        self._set("stabilization", v.real_scalar("stabilization", self.stabilization, lower=0, upper=MAX_PARAMETER,
                                                 error=err))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=MAX_SEED, error=err))
        self._set("threads", v.integer("threads", self.threads, lower=1, upper=MAX_THREADS, error=err))
        self._set("relax_dt", v.real_scalar("relax_dt", self.relax_dt, lower=0, lower_open=True, upper=MAX_PARAMETER,
                                            error=err))
        self._set("tol", v.real_scalar("tol", self.tol, lower=0, lower_open=True, error=err))
        self._set("max_iters", v.integer("max_iters", self.max_iters, lower=1, upper=MAX_RELAX_ITERS, error=err))


def mobility_symbol(ops: SpectralOps, dynamics: str, mobility: float = 1.0) -> np.ndarray:
    """M(k): ``"A"`` mobility, ``"B"`` mobility k^2, ``"conserved"`` 1 with M(0) = 0."""
    if dynamics == "A":
        return np.full(ops.k.shape, mobility)
    if dynamics == "B":
        return mobility * ops.k ** 2
    M = np.ones(ops.k.shape)
    M.flat[0] = 0.0
    return M


class _Stepper:
    """One semi-implicit step, shared by the integrator and the relaxation loop."""

    def __init__(self, ops: SpectralOps, M: np.ndarray, dt: float, c: float, parallel: bool):
        self.ops, self.parallel = ops, parallel
        self.A = dt * M
        self.gain = 1.0 + self.A * c
        self.inv = 1.0 / (1.0 + self.A * (ops.vhat + c))
        self.keep = self.gain * self.inv          # multiplies phi_k
        self.push = self.A * self.inv             # multiplies f'(phi)_k

    def step(self, phi, dfdphi, noise_hat=None):
        """(new phi, f'(new phi), status) from phi and f'(phi)."""
        ops = self.ops
        rhs = ops.rfft(phi)
        rhs *= self.keep                          # in place: no temporaries on big grids
        force = ops.rfft(dfdphi)
        force *= self.push
        rhs -= force
        if noise_hat is not None:
            noise_hat *= self.inv
            rhs += noise_hat
        new = ops.irfft(rhs)
        dnew, status = ops.local_derivative(new, self.parallel)
        return new, dnew, status


_STATUS = {1: "a non-finite density appeared", 2: "a density left the functional's domain (0 < phi < 1)",
           3: f"a density passed ±{DIVERGED:g}"}


class SpectralIntegrator(FieldIntegrator):
    """Steps :class:`FieldDynamics` with :class:`SemiImplicit` (state: phi, RNG, frames)."""

    energy_advice = "lower dt or raise the solver's stabilization (c >= half the largest f'')"

    def __init__(self, problem: FieldDynamics, solver: SemiImplicit):
        super().__init__(problem, solver)
        field = problem.field
        self.ops = SpectralOps(field, solver.threads)
        M = mobility_symbol(self.ops, problem.dynamics, problem.mobility)
        self.stepper = _Stepper(self.ops, M, problem.dt, solver.stabilization, solver.threads > 1)
        self.noise_amp = np.sqrt(2 * problem.temperature * problem.mobility * problem.dt / field.cell_volume) \
            if problem.noise else 0.0
        self.noise_k = self.ops.k if problem.dynamics == "B" else None
        self.rng = np.random.default_rng(solver.seed)
        self._start(field.initial.copy())

    def _set_phi(self, phi):
        self.phi = phi
        self.dfdphi, _ = self.ops.local_derivative(phi, self.stepper.parallel)

    def _noise(self):
        if not self.noise_amp:
            return None
        xi = self.ops.rfft(self.rng.standard_normal(self.problem.field.shape)) * self.noise_amp
        if self.noise_k is not None:
            xi *= self.noise_k  # conserved noise: ∇·(vector white noise) has spectrum k^2
        return xi

    def _advance(self, n):
        for j in range(n):
            new, dnew, status = self.stepper.step(self.phi, self.dfdphi, self._noise())
            if not status and diverged(new):
                status = 3
            if status:
                self.message = _STATUS[status]
                return j
            if not self._save_frame(self.step_index + j + 1, new):
                return j
            self.phi, self.dfdphi = new, dnew
        return n


@dispatch
def _init(problem: FieldDynamics, solver: SemiImplicit) -> SpectralIntegrator:
    return SpectralIntegrator(problem, solver)


def residual(ops: SpectralOps, phi, conserved: bool) -> float:
    """max |δF/δphi| (minus its mean when the mean density is conserved)."""
    mu = ops.gradient(phi)
    if conserved:
        mu = mu - mu.mean()
    return float(np.max(np.abs(mu)))


CHECK_EVERY = 10


@dispatch
def _solve(problem: Relaxation, solver: SemiImplicit) -> RelaxationSolution:
    import time

    t0 = time.perf_counter()
    ops = SpectralOps(problem.field, solver.threads)
    M = mobility_symbol(ops, "conserved" if problem.conserved else "A")
    stepper = _Stepper(ops, M, solver.relax_dt, solver.stabilization, solver.threads > 1)
    phi = problem.field.initial.copy()
    dfdphi, _ = ops.local_derivative(phi)
    its, energies, residuals = [0], [ops.free_energy(phi)], [residual(ops, phi, problem.conserved)]
    retcode, message, it = tk.ReturnCode.MaxIters, "", 0
    while it < solver.max_iters:
        if residuals[-1] < solver.tol:
            retcode = tk.ReturnCode.Success
            break
        for _ in range(min(CHECK_EVERY, solver.max_iters - it)):
            new, dnew, status = stepper.step(phi, dfdphi)
            if not status and diverged(new):
                status = 3
            if status:
                retcode = tk.ReturnCode.Unstable
                message = (f"diverged at iteration {it + 1}: {_STATUS[status]}; lower relax_dt or raise "
                           "stabilization")
                break
            phi, dfdphi, it = new, dnew, it + 1
        if retcode is tk.ReturnCode.Unstable:
            break
        its.append(it)
        energies.append(ops.free_energy(phi))
        residuals.append(residual(ops, phi, problem.conserved))
    else:
        if residuals[-1] < solver.tol:
            retcode = tk.ReturnCode.Success
    if retcode is tk.ReturnCode.MaxIters:
        message = (f"max |dF/dphi| = {residuals[-1]:.3g} > tol = {solver.tol:g} after {it} iterations; "
                   + retcode.advice)
    sol = RelaxationSolution(problem=problem, solver=solver, retcode=retcode, message=message,
                             stats={"wall_time": time.perf_counter() - t0, "steps": it},
                             phi=phi, iterations=np.array(its, dtype=np.int64),
                             free_energy=np.array(energies), residual=np.array(residuals))
    if retcode is tk.ReturnCode.Unstable:
        return sol
    return with_warnings(sol, [energy_increase(
        energies, [f"iteration {i}" for i in its], problem.field.volume,
        "lower relax_dt or raise stabilization; the minimum found may not be the one nearest the start")])

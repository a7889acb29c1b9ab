"""Explicit finite differences in real space: the reference stepper.

The Kac step becomes a real-space stencil (weight 1 inside the R-ball, 1/2 on its edge,
normalised so the weights sum to J) applied by ``scipy.ndimage.convolve`` with periodic
wrap; the Swift-Hohenberg operator is ``(k0^2 + Δ_h)^2`` with the second-order Laplacian
``Δ_h``. Forward Euler(-Maruyama) in time; model B uses ``∂phi/∂t = mobility Δ_h μ`` with
conserved noise ``∇_h · ξ`` built on a staggered grid (so fluctuation-dissipation holds for
the discrete operator). Converges to the spectral stepper as dx, dt -> 0.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage

import toolkit as tk
from toolkit import validate as v
from toolkit.dispatch import dispatch

from problems.density_field import FieldDynamics, KacStep, Relaxation

from .kernels import apply_local
from .limits import MAX_PARAMETER, MAX_RELAX_ITERS, MAX_SEED
from .functional import DIVERGED, diverged
from .accuracy import energy_increase, explicit_stability, with_warnings
from .integrator import FieldIntegrator
from .solution import RelaxationSolution

__all__ = ["ExplicitFD", "FDOps", "FDIntegrator"]


class ExplicitFD(tk.Solver):
    """Explicit Euler(-Maruyama) finite differences (reference; needs small dt).

    ``seed`` the noise; for :class:`Relaxation`: ``relax_dt``, ``tol``, ``max_iters``.
    """

    seed: int = 0
    relax_dt: float = 0.2
    tol: float = 1e-8
    max_iters: int = 50000

    stochastic = True
    supports_step = True

    def _validate(self):
        err = tk.InvalidSolverError
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=MAX_SEED, error=err))
        self._set("relax_dt", v.real_scalar("relax_dt", self.relax_dt, lower=0, lower_open=True, upper=MAX_PARAMETER,
                                            error=err))
        self._set("tol", v.real_scalar("tol", self.tol, lower=0, lower_open=True, error=err))
        self._set("max_iters", v.integer("max_iters", self.max_iters, lower=1, upper=MAX_RELAX_ITERS, error=err))


def step_stencil(R: float, J: float, spacing) -> np.ndarray:
    """Real-space weights of the normalised step: 1 inside |x| < R, 1/2 on |x| = R, summing to J."""
    reach = [int(np.floor(R / h + 1e-9)) for h in spacing]
    grids = np.meshgrid(*[np.arange(-m, m + 1) * h for m, h in zip(reach, spacing)], indexing="ij")
    r = np.sqrt(sum(g ** 2 for g in grids))
    w = np.where(r < R * (1 - 1e-9), 1.0, np.where(np.abs(r - R) <= 1e-9 * R, 0.5, 0.0))
    return J * w / w.sum()


class FDOps:
    """Real-space operators of one field's functional."""

    def __init__(self, field):
        self.field = field
        self.spacing = field.spacing
        self.dV = field.cell_volume
        self.local = field.functional.local
        inter = field.functional.interaction
        self.stencil = step_stencil(inter.R, inter.J, self.spacing) if isinstance(inter, KacStep) else None
        self.k0 = None if isinstance(inter, KacStep) else inter.k0

    def laplacian(self, a):
        out = np.zeros_like(a)
        for axis, h in enumerate(self.spacing):
            out += (np.roll(a, 1, axis) + np.roll(a, -1, axis) - 2 * a) / h ** 2
        return out

    def convolve(self, a):
        if self.stencil is not None:
            return scipy.ndimage.convolve(a, self.stencil, mode="wrap")
        lap = self.laplacian(a)
        return self.k0 ** 4 * a + 2 * self.k0 ** 2 * lap + self.laplacian(lap)

    def mu(self, phi):
        out = np.empty_like(phi)
        status = apply_local(phi, out, self.local)
        return self.convolve(phi) + out, status

    def free_energy(self, phi) -> float:
        with np.errstate(all="ignore"):
            return float(self.dV * np.sum(0.5 * phi * self.convolve(phi) + self.local.f(phi)))

    def conserved_noise(self, rng, amp):
        """∇_h · ξ with ξ a staggered vector white noise of amplitude ``amp`` (per component)."""
        out = np.zeros(self.field.shape)
        for axis, h in enumerate(self.spacing):
            xi = rng.standard_normal(self.field.shape)
            out += (np.roll(xi, -1, axis) - xi) / h
        return amp * out


_STATUS = {1: "a non-finite density appeared", 2: "a density left the functional's domain (0 < phi < 1)",
           3: f"a density passed ±{DIVERGED:g}"}


class FDIntegrator(FieldIntegrator):
    """Steps :class:`FieldDynamics` with :class:`ExplicitFD`."""

    def __init__(self, problem, solver):
        super().__init__(problem, solver)
        self.ops = FDOps(problem.field)
        self.rng = np.random.default_rng(solver.seed)
        self.noise_amp = np.sqrt(2 * problem.temperature * problem.mobility * problem.dt / self.ops.dV) \
            if problem.noise else 0.0
        self._start(problem.field.initial.copy())

    def _set_phi(self, phi):
        self.phi = phi
        self.mu, _ = self.ops.mu(phi)

    def _accuracy_warnings(self, sol) -> list:
        """F rising without noise, and a step above forward Euler's linear stability bound (:mod:`.accuracy`)."""
        p = self.problem
        return super()._accuracy_warnings(sol) + [explicit_stability(self.ops, self.phi, p.dt, p.dynamics,
                                                                      p.mobility)]

    def _advance(self, n):
        p = self.problem
        for j in range(n):
            mu = self.mu
            if p.dynamics == "A":
                new = self.phi - p.dt * p.mobility * mu
                if self.noise_amp:
                    new += self.noise_amp * self.rng.standard_normal(self.phi.shape)
            else:
                new = self.phi + p.dt * p.mobility * self.ops.laplacian(mu)
                if self.noise_amp:
                    new += self.ops.conserved_noise(self.rng, self.noise_amp)
            new_mu, status = self.ops.mu(new)
            if not status and (diverged(new) or not np.all(np.isfinite(new_mu))):
                status = 3 if diverged(new) else 1
            if status:
                self.message = _STATUS[status]
                return j
            if not self._save_frame(self.step_index + j + 1, new):
                return j
            self.phi, self.mu = new, new_mu
        return n


@dispatch
def _init(problem: FieldDynamics, solver: ExplicitFD) -> FDIntegrator:
    return FDIntegrator(problem, solver)


@dispatch
def _solve(problem: Relaxation, solver: ExplicitFD) -> RelaxationSolution:
    import time

    t0 = time.perf_counter()
    ops = FDOps(problem.field)
    phi = problem.field.initial.copy()

    def resid(mu):
        return float(np.max(np.abs(mu - mu.mean() if problem.conserved else mu)))

    mu, _ = ops.mu(phi)
    its, energies, residuals = [0], [ops.free_energy(phi)], [resid(mu)]
    retcode, message, it = tk.ReturnCode.MaxIters, "", 0
    while it < solver.max_iters and residuals[-1] >= solver.tol:
        for _ in range(min(10, solver.max_iters - it)):
            g = mu - mu.mean() if problem.conserved else mu
            new = phi - solver.relax_dt * g
            new_mu, status = ops.mu(new)
            if not status and (diverged(new) or not np.all(np.isfinite(new_mu))):
                status = 3 if diverged(new) else 1
            if status:
                retcode = tk.ReturnCode.Unstable
                message = f"diverged at iteration {it + 1}: {_STATUS[status]}; lower relax_dt"
                break
            phi, mu, it = new, new_mu, it + 1
        if retcode is tk.ReturnCode.Unstable:
            break
        its.append(it)
        energies.append(ops.free_energy(phi))
        residuals.append(resid(mu))
    if retcode is not tk.ReturnCode.Unstable:
        if residuals[-1] < solver.tol:
            retcode = tk.ReturnCode.Success
        else:
            message = f"max |dF/dphi| = {residuals[-1]:.3g} > tol after {it} iterations; " + retcode.advice
    sol = RelaxationSolution(problem=problem, solver=solver, retcode=retcode, message=message,
                             stats={"wall_time": time.perf_counter() - t0, "steps": it},
                             phi=phi,
                             iterations=np.array(its, dtype=np.int64), free_energy=np.array(energies),
                             residual=np.array(residuals))
    if retcode is tk.ReturnCode.Unstable:
        return sol
    return with_warnings(sol, [
        energy_increase(energies, [f"iteration {i}" for i in its], problem.field.volume,
                        "lower relax_dt; the minimum found may not be the one nearest the start"),
        explicit_stability(ops, phi, solver.relax_dt, "conserved" if problem.conserved else "A")])

"""Min-mode following saddle search: the dimer method / gentlest-ascent dynamics on the grid.

From a seeded droplet ``phi`` (``field.initial``), each iteration

1. *rotates* the dimer: the lowest eigenpair (λ, v) of the Hessian H[phi] (exact Hessian-vector
   products, :meth:`SpectralOps.hessian_vector`) by ``rotation_steps`` Lanczos steps warm-started
   from the previous direction v (the dimer rotation of Henkelman & Jónsson, J. Chem. Phys. 111,
   7010 (1999), doi:10.1063/1.480097, done with the exact H v instead of finite differences);
2. *translates* it with the force component along the min mode reversed,

       phi <- phi - dt (g - 2 (g·v) v),        g = δF/δphi,

   which is the forward-Euler step of gentlest-ascent dynamics (E & Zhou, Nonlinearity 24, 1831
   (2011), doi:10.1088/0951-7715/24/6/008) with v relaxed to the min mode at every step. Where the
   lowest curvature is still positive (near a minimum) only the uphill part ``+dt (g·v) v`` is
   kept (Henkelman & Jónsson), so the dimer climbs out of the basin along its softest direction.
   A step is capped at ``max_step`` in max norm.

Index-1 saddles are stable fixed points of this flow. The solver stops when max |δF/δphi| <
``tol`` and then checks the index with Lanczos (:func:`.saddle.hessian_eigenvalues`): Success
only for exactly one negative eigenvalue, as for the other barrier solvers. A dimer that leaves the
functional's domain ends ``Unstable`` and reports its last iterate inside the domain (never NaN).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg

import toolkit as tk
from toolkit import validate as v
from toolkit.dispatch import dispatch

from problems.density_field import NucleationBarrier

from .functional import SpectralOps, diverged
from .limits import MAX_PARAMETER, MAX_ROTATION_STEPS, MAX_SADDLE_ITERS, MAX_SEED
from .accuracy import saddle_warnings, with_warnings
from .saddle import empty_solution, saddle_solution, serial_blas
from .solution import BarrierSolution

__all__ = ["DimerMethod", "lowest_mode", "dimer_iterate"]


class DimerMethod(tk.Solver):
    """Dimer / gentlest-ascent saddle search from ``field.initial`` (Henkelman & Jónsson 1999).

    ``dt``: translation step (pseudo-time) of ``phi <- phi - dt (g - 2 (g·v) v)``;
    ``max_step``: cap on max |Δphi| per step; ``rotation_steps``: Lanczos steps (Hessian-vector
    products) per rotation, warm-started from the previous min mode; ``tol``: stop at
    max |δF/δphi| < tol; ``max_iters``: translations. ``direction``: the first dimer direction,
    ``"droplet"`` (the seed's deviation from the metastable state, which keeps the droplet's
    symmetry so its nearly free lattice translations, curvature ~1e-3, are never excited) or
    ``"random"`` (drawn with ``seed``; converges too, but the translation components then relax at
    rate ~dt·1e-3, so it needs many more iterations for a tight ``tol``).
    """

    dt: float = 0.5
    max_step: float = 0.1
    rotation_steps: int = 6
    tol: float = 1e-8
    max_iters: int = 4000
    direction: str = "droplet"
    seed: int = 0

    def _validate(self):
        err = tk.InvalidSolverError
        self._set("dt", v.real_scalar("dt", self.dt, lower=0, lower_open=True, upper=MAX_PARAMETER, error=err))
        self._set("max_step", v.real_scalar("max_step", self.max_step, lower=0, lower_open=True, upper=MAX_PARAMETER,
                                            error=err))
        self._set("rotation_steps", v.integer("rotation_steps", self.rotation_steps, lower=2, upper=MAX_ROTATION_STEPS,
                                              error=err))
        self._set("tol", v.real_scalar("tol", self.tol, lower=0, lower_open=True, error=err))
        self._set("max_iters", v.integer("max_iters", self.max_iters, lower=1, upper=MAX_SADDLE_ITERS, error=err))
        self._set("direction", v.choice("direction", self.direction, ("droplet", "random"), error=err))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=MAX_SEED, error=err))

    @classmethod
    def example(cls):
        return cls(dt=1.0, rotation_steps=4, max_iters=1000)


def lowest_mode(hvp, v0, steps: int):
    """Lowest Ritz pair of H from ``steps`` Lanczos steps started at ``v0`` (full re-orthogonalisation).

    ``hvp(x)`` returns H x for arrays shaped like ``v0``. Returns (λ, v) with |v| = 1.
    """
    shape = v0.shape
    q = v0.ravel() / np.linalg.norm(v0)
    Q = np.empty((steps, q.size))
    alpha, beta = np.zeros(steps), np.zeros(steps)
    m = steps
    for j in range(steps):
        Q[j] = q
        w = hvp(q.reshape(shape)).ravel()
        alpha[j] = q @ w
        w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        w -= Q[: j + 1].T @ (Q[: j + 1] @ w)          # twice is enough
        b = np.linalg.norm(w)
        if j + 1 < steps:
            if b < 1e-12 * max(1.0, abs(alpha[j])):    # invariant subspace found
                m = j + 1
                break
            beta[j] = b
            q = w / b
    vals, vecs = scipy.linalg.eigh_tridiagonal(alpha[:m], beta[: m - 1], select="i", select_range=(0, 0))
    vec = Q[:m].T @ vecs[:, 0]
    return float(vals[0]), (vec / np.linalg.norm(vec)).reshape(shape)


@dispatch
def _solve(problem: NucleationBarrier, solver: DimerMethod) -> BarrierSolution:
    with serial_blas():
        sol = _dimer(problem, solver)
    return with_warnings(sol, saddle_warnings(sol, solver.tol))


def _dimer(problem, solver):
    t0 = time.perf_counter()
    ops = SpectralOps(problem.field)
    phi, retcode, message, stats = dimer_iterate(ops, problem.field.initial, problem.metastable, solver)
    if retcode is tk.ReturnCode.Unstable:
        return empty_solution(problem, solver, retcode, message, t0, phi=phi)
    return saddle_solution(problem, solver, ops, phi, retcode, message, t0, stats=stats)


def dimer_iterate(ops: SpectralOps, phi0, metastable, solver: DimerMethod):
    """The dimer iteration of :class:`DimerMethod` from ``phi0``, without the final index check.

    Returns ``(phi, retcode, message, stats)``; ``retcode`` is Success (max |δF/δphi| < tol),
    MaxIters, Unstable (left the domain; ``phi`` is then the last iterate inside it) or
    ConvergenceFailure (fell back to the metastable state).
    """
    phi = np.array(phi0, dtype=np.float64)
    if solver.direction == "droplet":       # keeps the droplet's symmetry: no translation modes excited
        mode = phi - metastable
        if not np.any(mode):
            mode = np.ones_like(phi)
    else:
        mode = np.random.default_rng(solver.seed).standard_normal(phi.shape)
    retcode, res, curvature, it = tk.ReturnCode.MaxIters, np.inf, np.nan, 0
    hvps, convex = 0, 0
    good = phi
    for it in range(1, solver.max_iters + 1):
        d1, status = ops.local_derivative(phi)
        if status or diverged(phi):
            return good, tk.ReturnCode.Unstable, \
                f"the dimer left the functional's domain at iteration {it}; lower dt or max_step", {}
        good = phi
        g = ops.convolve(phi) + d1
        res = float(np.max(np.abs(g)))
        if res < solver.tol:
            retcode = tk.ReturnCode.Success
            break
        curvature, mode = lowest_mode(ops.hessian_at(phi), mode, solver.rotation_steps)
        hvps += solver.rotation_steps
        gv = float(np.sum(g * mode))
        convex += curvature > 0
        step = gv * mode if curvature > 0 else -(g - 2 * gv * mode)   # uphill only in a convex region
        step *= solver.dt
        big = float(np.max(np.abs(step)))
        if big > solver.max_step:
            step *= solver.max_step / big
        phi = phi + step
    message = ""
    if retcode is tk.ReturnCode.MaxIters:
        message = f"max |dF/dphi| = {res:.3g} > tol = {solver.tol:g} after {it} dimer iterations; " \
                  + retcode.advice
    elif np.max(np.abs(phi - metastable)) < 1e-6:
        retcode, message = tk.ReturnCode.ConvergenceFailure, \
            "the dimer fell back to the metastable state; seed a larger droplet"
    stats = {"iterations": it, "uphill_iterations": int(convex), "hessian_vector_products": hvps,
             "curvature": curvature, "climb_residual": res}
    return phi, retcode, message, stats

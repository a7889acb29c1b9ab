"""Radially symmetric (onion) droplets in 3D by Newton-Krylov on the radial profile.

For a droplet ``phi = phi_m + u(r)/r`` about a uniform metastable state ``phi_m``, the saddle solves
``r δF/δphi = 0`` in ``u`` with scipy's ``newton_krylov`` (the radial operators, a type-I sine
transform of the 3D convolution, are in :mod:`.radial`), from the radial average of
``field.initial`` or from the onion mode ``amplitude sinc(k* r) exp(-r^2/2 width^2)`` (Barros &
Klein, J. Chem. Phys. 139, 174505 (2013), doi:10.1063/1.4827397, Sec. III). Its ``eigenvalues``
are those of the Hessian restricted to radial (l = 0) perturbations (Lanczos): Success only for
exactly one negative one. A profile that leaves the functional's domain ends ``Unstable`` with the
starting guess as the state reported (never NaN).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.optimize
import scipy.sparse.linalg as sla

import toolkit as tk
from toolkit import validate as v
from toolkit.dispatch import dispatch

from problems.density_field import LENGTH_RANGE, MAX_DENSITY, NucleationBarrier

from .functional import diverged
from .limits import MAX_NEWTON_ITERS, MAX_RADIAL_POINTS
from .radial import RadialOps
from .accuracy import saddle_warnings, with_warnings
from .saddle import empty_solution, serial_blas
from .solution import BarrierSolution

__all__ = ["RadialNewtonKrylov"]


class RadialNewtonKrylov(tk.Solver):
    """Newton-Krylov on the radial profile of a 3D droplet about a uniform metastable state.

    ``points`` radial grid points up to ``r_max`` (default: half the smallest box length);
    the guess is the radial average of ``field.initial`` about the box centre, or the onion
    mode ``amplitude sinc(k* r) exp(-r^2/2 width^2)`` when ``guess="onion"``.
    """

    points: int = 256
    r_max: object = None
    f_tol: float = 1e-9
    max_iters: int = 50
    guess: str = "initial"
    amplitude: float = 0.3
    width: float = 2.0

    def _validate(self):
        err = tk.InvalidSolverError
        self._set("points", v.integer("points", self.points, lower=16, upper=MAX_RADIAL_POINTS, error=err))
        self._set("r_max", v.real_scalar("r_max", self.r_max, lower=LENGTH_RANGE[0], upper=LENGTH_RANGE[1],
                                         allow_none=True, error=err))
        self._set("f_tol", v.real_scalar("f_tol", self.f_tol, lower=0, lower_open=True, error=err))
        self._set("max_iters", v.integer("max_iters", self.max_iters, lower=1, upper=MAX_NEWTON_ITERS, error=err))
        self._set("guess", v.choice("guess", self.guess, ("initial", "onion"), error=err))
        self._set("amplitude", v.real_scalar("amplitude", self.amplitude, lower=-MAX_DENSITY, upper=MAX_DENSITY,
                                             error=err))
        self._set("width", v.real_scalar("width", self.width, lower=LENGTH_RANGE[0], upper=LENGTH_RANGE[1],
                                         error=err))


@dispatch
def _solve(problem: NucleationBarrier, solver: RadialNewtonKrylov) -> BarrierSolution:
    with serial_blas():
        sol = _radial_newton(problem, solver)
    return with_warnings(sol, saddle_warnings(sol, solver.f_tol))


def _radial_newton(problem, solver):
    t0 = time.perf_counter()
    field = problem.field
    if field.ndim != 3:
        return empty_solution(problem, solver, tk.ReturnCode.Failure,
                              f"RadialNewtonKrylov treats 3D droplets; the field is {field.ndim}D: use "
                              "StringMethod", t0)
    meta = problem.metastable
    if np.ptp(meta) > 1e-12:
        return empty_solution(problem, solver, tk.ReturnCode.Failure,
                              "RadialNewtonKrylov needs a uniform metastable state (a number); use StringMethod", t0)
    phi_m = float(meta.flat[0])
    r_max = solver.r_max or min(field.length) / 2
    ops = RadialOps(field.functional, phi_m, solver.points, r_max)
    centre = [(n // 2) * h for n, h in zip(field.shape, field.spacing)]   # the grid point n/2
    u0 = (ops.onion_guess(solver.amplitude, solver.width) if solver.guess == "onion"
          else ops.from_field(field.initial, centre, field.spacing))
    retcode, message = tk.ReturnCode.Success, ""
    try:
        u = scipy.optimize.newton_krylov(ops.residual_u, u0, f_tol=solver.f_tol, maxiter=solver.max_iters,
                                         method="lgmres")
    except scipy.optimize.NoConvergence as exc:
        u = np.asarray(exc.args[0]) if exc.args else u0
        retcode = tk.ReturnCode.MaxIters
        message = f"Newton-Krylov did not reach f_tol = {solver.f_tol:g} in {solver.max_iters} iterations; " \
                  + retcode.advice
    except (ValueError, FloatingPointError) as exc:
        return empty_solution(problem, solver, tk.ReturnCode.ConvergenceFailure,
                              f"Newton-Krylov failed ({exc}); start from another guess", t0)
    lo, hi = field.functional.local.domain
    profile = phi_m + u / ops.r
    if not (np.all(np.isfinite(u)) and not diverged(profile) and np.all(profile > lo) and np.all(profile < hi)):
        return empty_solution(problem, solver, tk.ReturnCode.Unstable,
                              "Newton-Krylov diverged or left the functional's domain; start closer (guess "
                              "amplitude, width) or from another guess", t0)
    residual = float(np.max(np.abs(ops.residual_u(u) / ops.r)))
    H = sla.LinearOperator((u.size,) * 2, matvec=lambda w: ops.hessian_u(u, w), dtype=np.float64)
    vals, vecs = sla.eigsh(H, k=3, which="SA", tol=1e-10, v0=np.ones(u.size))
    order = np.argsort(vals)
    vals, vecs = vals[order], vecs[:, order]
    if retcode is tk.ReturnCode.Success and np.max(np.abs(u / ops.r)) < 1e-8:
        retcode, message = tk.ReturnCode.ConvergenceFailure, \
            "Newton-Krylov fell back to the uniform state; raise the guess amplitude or width"
    elif retcode is tk.ReturnCode.Success and np.sum(vals < -1e-8) != 1:
        retcode = tk.ReturnCode.ConvergenceFailure
        message = f"found a critical point with {int(np.sum(vals < -1e-8))} negative radial modes, not a " \
                  "nucleation saddle (which has 1); change the guess amplitude or width"
    phi = ops.to_field(u, field.shape, field.spacing, centre)
    mode = ops.to_field(vecs[:, 0], field.shape, field.spacing, centre) - phi_m
    return BarrierSolution(problem=problem, solver=solver, retcode=retcode, message=message,
                           stats={"wall_time": time.perf_counter() - t0}, phi=phi, barrier=ops.barrier(u),
                           eigenvalues=vals, mode=mode, residual=residual, path_energy=np.zeros(0),
                           radius=ops.r.copy(), profile=profile)

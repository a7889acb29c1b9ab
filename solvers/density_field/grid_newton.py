"""Newton-Krylov on the full grid: the critical point ``δF/δphi = 0`` nearest a seeded droplet.

Scipy's ``newton_krylov`` (LGMRES inner solves) on the grid residual ``V * phi + f'(phi)`` from
``field.initial`` (:func:`.saddle.newton_polish`), then the Lanczos index check of
:func:`.saddle.saddle_solution`: Success only for exactly one negative Hessian eigenvalue
(Barros & Klein 2013, doi:10.1063/1.4827397). Works in any dimension and for any droplet shape,
but converges to whatever critical point is nearest the guess: seed it close to the saddle.
"""

from __future__ import annotations

import time

import numpy as np

import toolkit as tk
from toolkit import validate as v
from toolkit.dispatch import dispatch

from problems.density_field import NucleationBarrier

from .functional import SpectralOps
from .limits import MAX_NEWTON_ITERS
from .accuracy import saddle_warnings, with_warnings
from .saddle import newton_polish, saddle_solution, serial_blas
from .solution import BarrierSolution

__all__ = ["GridNewtonKrylov"]


class GridNewtonKrylov(tk.Solver):
    """Newton-Krylov on the full grid from ``field.initial`` (any dimension, any droplet shape).

    Converges to the critical point nearest the guess: seed it with a droplet (an onion or a
    localized piece of the crystal) close to the saddle. ``f_tol``: max |δF/δphi| to reach;
    ``max_iters``: Newton iterations. Eigenvalues by Lanczos on H v.
    """

    f_tol: float = 1e-8
    max_iters: int = 60

    def _validate(self):
        err = tk.InvalidSolverError
        self._set("f_tol", v.real_scalar("f_tol", self.f_tol, lower=0, lower_open=True, error=err))
        self._set("max_iters", v.integer("max_iters", self.max_iters, lower=1, upper=MAX_NEWTON_ITERS, error=err))

    @classmethod
    def example(cls):
        return cls(max_iters=20)


@dispatch
def _solve(problem: NucleationBarrier, solver: GridNewtonKrylov) -> BarrierSolution:
    with serial_blas():
        sol = _grid_newton(problem, solver)
    return with_warnings(sol, saddle_warnings(sol, solver.f_tol))


def _grid_newton(problem, solver):
    t0 = time.perf_counter()
    ops = SpectralOps(problem.field)
    phi, ok, message = newton_polish(ops, problem.field.initial, solver.f_tol, solver.max_iters)
    retcode = tk.ReturnCode.Success if ok else tk.ReturnCode.MaxIters
    if ok and np.max(np.abs(phi - problem.metastable)) < 1e-6:
        retcode, message = tk.ReturnCode.ConvergenceFailure, \
            "Newton-Krylov fell back to the metastable state; seed a larger droplet"
    return saddle_solution(problem, solver, ops, phi, retcode, message, t0)

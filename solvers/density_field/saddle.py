"""What the saddle solvers share: Newton-Krylov polish, the Lanczos index check, and their results.

A nucleation saddle is a critical point ``δF/δphi = 0`` with exactly one negative Hessian
eigenvalue (Barros & Klein, J. Chem. Phys. 139, 174505 (2013), doi:10.1063/1.4827397). On a grid
a droplet's translations are not exact zero modes: the lattice pins it, and a droplet on a
maximum of that pinning energy has three more (tiny) negative modes; :func:`saddle_solution`
reports such a point as ``ConvergenceFailure``, never as a nucleation saddle.

Every saddle solver (:mod:`.string_method`, :mod:`.grid_newton`, :mod:`.radial_newton`,
:mod:`.dimer`, :mod:`.size_scan`) ends through :func:`saddle_solution` or, when it has no
critical point to report, :func:`empty_solution`. An unsuccessful result never carries NaN: it
holds the last good state (the starting guess, or the last iterate inside the functional's
domain) with that state's ΔF and residual. All of them run their Krylov algebra with one BLAS
thread (:func:`serial_blas`).
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
import scipy.optimize
import scipy.sparse.linalg as sla

import toolkit as tk

from .functional import SpectralOps, diverged
from .solution import BarrierSolution

__all__ = ["serial_blas", "hessian_eigenvalues", "newton_polish", "saddle_solution", "empty_solution",
           "usable_state"]


def serial_blas():
    """One BLAS thread: the Krylov solvers' small dense algebra gains nothing from threads, and on a
    busy machine OpenBLAS's spinning threads made each LGMRES call ~50x slower (measured)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is optional
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def hessian_eigenvalues(ops: SpectralOps, phi, k: int = 3, tol: float = 1e-8):
    """The ``k`` lowest eigenvalues and eigenvectors of H[phi] (implicitly restarted Lanczos on H v,
    ARPACK). With ``5 k`` (at least 20) Lanczos vectors instead of ARPACK's default ``2 k + 1`` (at
    least 20) it restarts less: at a 64^3 droplet saddle, k = 6 took 992 instead of 1511 products and
    12 instead of 22 s (the memory is ``ncv`` fields)."""
    n = phi.size
    hvp = ops.hessian_at(phi)
    H = sla.LinearOperator((n, n), matvec=lambda x: hvp(x.reshape(phi.shape)).ravel(),
                           dtype=np.float64)
    k = min(k, n - 2)
    vals, vecs = sla.eigsh(H, k=k, which="SA", tol=tol, ncv=min(n - 1, max(5 * k, 20)),
                           v0=np.random.default_rng(0).standard_normal(n))
    order = np.argsort(vals)
    return vals[order], vecs[:, order].T.reshape((-1,) + phi.shape)


def usable_state(ops: SpectralOps, phi) -> bool:
    """Whether ``phi`` is finite, below the divergence bound and inside the functional's domain (so F,
    δF/δphi and H are finite)."""
    phi = np.asarray(phi)
    return phi.size > 0 and not diverged(phi) and not ops.local_derivative(np.asarray(phi, dtype=np.float64))[1]


def newton_polish(ops: SpectralOps, phi, f_tol: float, max_iters: int):
    """Newton-Krylov (scipy, LGMRES inner solves) on δF/δphi = 0 from ``phi``.

    Returns (phi, converged, message). Newton converges to the nearest critical point,
    saddles included, which is what a barrier calculation needs once close to one. When the
    Armijo line search stalls (it does next to a nearly free mode, e.g. a droplet's grid-pinned
    translation with curvature ~1e-5, where the inexact Newton step is long but right), the
    full-step iteration is tried once from the same start. The returned ``phi`` is always a usable
    state (:func:`usable_state`): an iterate that left the functional's domain is replaced by the
    start.
    """
    def residual(x):
        return ops.gradient(x.reshape(phi.shape)).ravel()

    message, best = "", phi
    for line_search in ("armijo", None):
        try:
            x = scipy.optimize.newton_krylov(residual, phi.ravel(), f_tol=f_tol, maxiter=max_iters,
                                             method="lgmres", line_search=line_search)
            if usable_state(ops, x):
                return x.reshape(phi.shape), True, ""
            message = "Newton-Krylov left the functional's domain"
        except scipy.optimize.NoConvergence as exc:
            x = np.asarray(exc.args[0]).reshape(phi.shape) if exc.args else phi
            if line_search is not None and usable_state(ops, x):
                best = x
            message = f"Newton-Krylov did not reach f_tol = {f_tol:g} in {max_iters} iterations"
        except (ValueError, FloatingPointError) as exc:
            message = f"Newton-Krylov failed: {exc}"
    return best, False, message


def empty_solution(problem, solver, retcode, message, t0, phi=None) -> BarrierSolution:
    """A result with no critical point: ``phi`` (default ``field.initial``) is the last good state.

    ``barrier`` and ``residual`` are those of ``phi`` (finite: ``phi`` is a usable state), the
    eigenvalues and radial profile are empty and ``mode`` is zero; nothing is NaN.
    """
    ops = SpectralOps(problem.field)
    if phi is None or not usable_state(ops, phi):
        phi = problem.field.initial
    phi = np.array(phi, dtype=np.float64)
    z = np.zeros(0)
    return BarrierSolution(problem=problem, solver=solver, retcode=retcode, message=message,
                           stats={"wall_time": time.perf_counter() - t0}, phi=phi,
                           barrier=ops.free_energy(phi) - ops.free_energy(problem.metastable),
                           eigenvalues=z, mode=np.zeros(problem.field.shape),
                           residual=float(np.max(np.abs(ops.gradient(phi)))), path_energy=z, radius=z, profile=z)


def saddle_solution(problem, solver, ops, phi, retcode, message, t0, path_energy=None, stats=None,
                    last_good=None) -> BarrierSolution:
    """The index-checked result at ``phi``: Success only for exactly one negative Hessian eigenvalue.

    A ``phi`` outside the functional's domain (or not finite) gives ``Unstable`` with
    ``last_good`` (default ``field.initial``) as the state reported.
    """
    if not usable_state(ops, phi):
        return empty_solution(problem, solver, tk.ReturnCode.Unstable,
                              "the iteration left the functional's domain or diverged; start closer to the saddle",
                              t0, phi=last_good)
    vals, vecs = hessian_eigenvalues(ops, phi, k=6)   # room for 1 unstable + 3 translation modes
    F_meta = ops.free_energy(problem.metastable)
    residual = float(np.max(np.abs(ops.gradient(phi))))
    if retcode is tk.ReturnCode.Success and np.sum(vals < -1e-8) != 1:
        retcode = tk.ReturnCode.ConvergenceFailure
        message = (message + "; " if message else "") + \
            f"found a critical point with {int(np.sum(vals < -1e-8))} negative modes, not a nucleation " \
            "saddle (which has 1); seed a droplet closer to the saddle or use more images"
    st = {"wall_time": time.perf_counter() - t0}
    st.update(stats or {})
    return BarrierSolution(problem=problem, solver=solver, retcode=retcode, message=message, stats=st,
                           phi=phi, barrier=ops.free_energy(phi) - F_meta, eigenvalues=vals, mode=vecs[0],
                           residual=residual, path_energy=np.zeros(0) if path_energy is None else path_energy,
                           radius=np.zeros(0), profile=np.zeros(0))

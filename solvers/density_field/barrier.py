"""Nucleation barriers: radial Newton-Krylov (3D onion droplets) and the climbing string method.

* :class:`RadialNewtonKrylov` solves ``δF/δphi = 0`` for a spherically symmetric droplet about
  the uniform metastable state with ``scipy.optimize.newton_krylov`` (see :mod:`.radial`).
  Its ``eigenvalues`` are those of the Hessian restricted to radial (l = 0) perturbations.
* :class:`StringMethod` is the simplified string method of E, Ren & Vanden-Eijnden,
  J. Chem. Phys. 126, 164103 (2007), doi:10.1063/1.2720838: images relax by semi-implicit
  gradient steps and are re-spaced at equal arc length; the string is then "zoomed" onto the
  two images either side of its highest one (so the images crowd round the saddle, however
  long the path to the stable state), and the highest image climbs (force
  ``-g + 2 (g·τ) τ``) to the saddle, Newton-Krylov finishing if climbing is slow.
  Its eigenvalues come from Lanczos (``eigsh``) on the full grid Hessian-vector product.
* :class:`~.dimer.DimerMethod` (in :mod:`.dimer`) follows the min mode from the seeded droplet
  (dimer / gentlest-ascent dynamics) and uses the same index check (:func:`_saddle_solution`).

A nucleation saddle has exactly one negative Hessian eigenvalue (Barros & Klein 2013,
doi:10.1063/1.4827397). On a grid a droplet's translations are not exact zero modes: the
lattice pins it, and a droplet on a maximum of that pinning energy has three more (tiny)
negative modes; it is reported as ``ConvergenceFailure``, not as a nucleation saddle.
All three solvers run their Krylov algebra with one BLAS thread (see :func:`_serial_blas`).
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
import scipy.optimize
import scipy.sparse.linalg as sla

import toolkit as tk
from toolkit import validate as v
from toolkit.dispatch import dispatch

from problems.density_field import NucleationBarrier

from .functional import SpectralOps
from .radial import RadialOps
from .solution import BarrierSolution
from .spectral import _Stepper, mobility_symbol

__all__ = ["RadialNewtonKrylov", "GridNewtonKrylov", "StringMethod", "hessian_eigenvalues", "newton_polish"]


def _serial_blas():
    """One BLAS thread: the Krylov solvers' small dense algebra gains nothing from threads, and on a
    busy machine OpenBLAS's spinning threads made each LGMRES call ~50x slower (measured)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is optional
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def hessian_eigenvalues(ops: SpectralOps, phi, k: int = 3, tol: float = 1e-8):
    """The ``k`` lowest eigenvalues and eigenvectors of H[phi] (Lanczos on H v)."""
    n = phi.size
    hvp = ops.hessian_at(phi)
    H = sla.LinearOperator((n, n), matvec=lambda x: hvp(x.reshape(phi.shape)).ravel(),
                           dtype=np.float64)
    vals, vecs = sla.eigsh(H, k=min(k, n - 2), which="SA", tol=tol,
                           v0=np.random.default_rng(0).standard_normal(n))
    order = np.argsort(vals)
    return vals[order], vecs[:, order].T.reshape((-1,) + phi.shape)


def newton_polish(ops: SpectralOps, phi, f_tol: float, max_iters: int):
    """Newton-Krylov (scipy, LGMRES inner solves) on δF/δphi = 0 from ``phi``.

    Returns (phi, converged, message). Newton converges to the nearest critical point,
    saddles included, which is what a barrier calculation needs once close to one. When the
    Armijo line search stalls (it does next to a nearly free mode, e.g. a droplet's grid-pinned
    translation with curvature ~1e-5, where the inexact Newton step is long but right), the
    full-step iteration is tried once from the same start.
    """
    def residual(x):
        return ops.gradient(x.reshape(phi.shape)).ravel()

    message = ""
    for line_search in ("armijo", None):
        try:
            x = scipy.optimize.newton_krylov(residual, phi.ravel(), f_tol=f_tol, maxiter=max_iters, method="lgmres",
                                             line_search=line_search)
            if np.all(np.isfinite(x)):
                return x.reshape(phi.shape), True, ""
        except scipy.optimize.NoConvergence as exc:
            x = np.asarray(exc.args[0]).reshape(phi.shape) if exc.args else phi
            if line_search is not None:
                best = x
            message = f"Newton-Krylov did not reach f_tol = {f_tol:g} in {max_iters} iterations"
        except (ValueError, FloatingPointError) as exc:
            if line_search is not None:
                best = phi
            message = f"Newton-Krylov failed: {exc}"
    return best, False, message


class GridNewtonKrylov(tk.Solver):
    """Newton-Krylov on the full grid from ``field.initial`` (any dimension, any droplet shape).

    Converges to the critical point nearest the guess: seed it with a droplet (an onion or a
    localized piece of the crystal) close to the saddle. Eigenvalues by Lanczos on H v.
    """

    f_tol: float = 1e-8
    max_iters: int = 60

    def _validate(self):
        err = tk.InvalidSolverError
        self._set("f_tol", v.real_scalar("f_tol", self.f_tol, lower=0, lower_open=True, error=err))
        self._set("max_iters", v.integer("max_iters", self.max_iters, lower=1, error=err))

    @classmethod
    def example(cls):
        return cls(max_iters=20)


def _saddle_solution(problem, solver, ops, phi, retcode, message, t0, path_energy=None, stats=None):
    if not np.all(np.isfinite(phi)) or ops.local_derivative(phi)[1]:
        return _empty(problem, solver, tk.ReturnCode.Unstable,
                      "the iteration left the functional's domain or diverged; start closer to the saddle", t0)
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


@dispatch
def _solve(problem: NucleationBarrier, solver: GridNewtonKrylov) -> BarrierSolution:
    with _serial_blas():
        return _grid_newton(problem, solver)


def _grid_newton(problem, solver):
    t0 = time.perf_counter()
    ops = SpectralOps(problem.field)
    phi, ok, message = newton_polish(ops, problem.field.initial, solver.f_tol, solver.max_iters)
    retcode = tk.ReturnCode.Success if ok else tk.ReturnCode.MaxIters
    if ok and np.max(np.abs(phi - problem.metastable)) < 1e-6:
        retcode, message = tk.ReturnCode.ConvergenceFailure, \
            "Newton-Krylov fell back to the metastable state; seed a larger droplet"
    return _saddle_solution(problem, solver, ops, phi, retcode, message, t0)


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
        self._set("points", v.integer("points", self.points, lower=16, error=err))
        self._set("r_max", v.real_scalar("r_max", self.r_max, lower=0, lower_open=True, allow_none=True, error=err))
        self._set("f_tol", v.real_scalar("f_tol", self.f_tol, lower=0, lower_open=True, error=err))
        self._set("max_iters", v.integer("max_iters", self.max_iters, lower=1, error=err))
        self._set("guess", v.choice("guess", self.guess, ("initial", "onion"), error=err))
        self._set("amplitude", v.real_scalar("amplitude", self.amplitude, error=err))
        self._set("width", v.real_scalar("width", self.width, lower=0, lower_open=True, error=err))


def _empty(problem, solver, retcode, message, t0):
    z = np.zeros(0)
    return BarrierSolution(problem=problem, solver=solver, retcode=retcode, message=message,
                           stats={"wall_time": time.perf_counter() - t0}, phi=problem.field.initial.copy(),
                           barrier=float("nan"), eigenvalues=z, mode=np.zeros(problem.field.shape),
                           residual=float("nan"), path_energy=z, radius=z, profile=z)


@dispatch
def _solve(problem: NucleationBarrier, solver: RadialNewtonKrylov) -> BarrierSolution:
    with _serial_blas():
        return _radial_newton(problem, solver)


def _radial_newton(problem, solver):
    t0 = time.perf_counter()
    field = problem.field
    if field.ndim != 3:
        return _empty(problem, solver, tk.ReturnCode.Failure,
                      f"RadialNewtonKrylov treats 3D droplets; the field is {field.ndim}D: use StringMethod", t0)
    meta = problem.metastable
    if np.ptp(meta) > 1e-12:
        return _empty(problem, solver, tk.ReturnCode.Failure,
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
        return _empty(problem, solver, tk.ReturnCode.ConvergenceFailure,
                      f"Newton-Krylov failed ({exc}); start from another guess", t0)
    if not np.all(np.isfinite(u)):
        return _empty(problem, solver, tk.ReturnCode.Unstable, "Newton-Krylov diverged; start closer", t0)
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
                           radius=ops.r.copy(), profile=phi_m + u / ops.r)


class StringMethod(tk.Solver):
    """Climbing string method on the grid (E, Ren & Vanden-Eijnden 2007).

    ``images`` along the path, pseudo-time ``relax_dt`` with ``stabilization`` c; the path
    starts as a droplet of the far state (``stable``, else ``field.initial``) growing from the
    grid point at the box centre (``path="droplet"``) or as a straight line (``"linear"``).
    The end images stay fixed; the interior images relax by semi-implicit gradient steps and
    are re-spaced at equal arc length. ``zooms`` times before climbing, the string is cut down
    to the two images either side of its highest one and re-interpolated there, so the images
    crowd round the saddle however long the full path is. From ``climb_after`` iterations the
    highest image climbs; it stops when its max |δF/δphi| < ``tol``, otherwise (``polish``)
    Newton-Krylov finishes from the climbing image.
    """

    images: int = 9
    relax_dt: float = 0.5
    stabilization: float = 2.0
    max_iters: int = 400
    climb_after: int = 50
    zooms: int = 2
    tol: float = 1e-6
    path: str = "droplet"
    polish: bool = True

    def _validate(self):
        err = tk.InvalidSolverError
        self._set("images", v.integer("images", self.images, lower=3, error=err))
        self._set("relax_dt", v.real_scalar("relax_dt", self.relax_dt, lower=0, lower_open=True, error=err))
        self._set("stabilization", v.real_scalar("stabilization", self.stabilization, lower=0, error=err))
        self._set("max_iters", v.integer("max_iters", self.max_iters, lower=1, error=err))
        self._set("climb_after", v.integer("climb_after", self.climb_after, lower=0, error=err))
        self._set("zooms", v.integer("zooms", self.zooms, lower=0, error=err))
        self._set("tol", v.real_scalar("tol", self.tol, lower=0, lower_open=True, error=err))
        self._set("path", v.choice("path", self.path, ("droplet", "linear"), error=err))
        self._set("polish", bool(self.polish))

    @classmethod
    def example(cls):
        return cls(images=7, max_iters=150, climb_after=60, zooms=2)


def _initial_path(problem, solver):
    field = problem.field
    a = problem.metastable
    b = problem.stable if problem.stable is not None else field.initial
    s = np.linspace(0, 1, solver.images)
    if solver.path == "linear":
        return np.array([a + t * (b - a) for t in s])
    # distance from the grid point n/2 (where the radial solver and the examples centre droplets)
    grids = np.meshgrid(*[(np.arange(n) - n // 2) * h for n, h in zip(field.shape, field.spacing)],
                        indexing="ij")
    dist = np.sqrt(sum(g ** 2 for g in grids))
    rmax = float(dist.max())
    w = max(field.spacing) * 2
    out = []
    for t in s:
        mask = 0.5 * (1 - np.tanh((dist - t * rmax) / w)) if 0 < t < 1 else np.full(field.shape, t)
        out.append(a + mask * (b - a))
    return np.array(out)


def _reparametrize(images, fixed=None):
    """Equal arc-length spacing (piecewise linear), keeping image ``fixed`` in place."""
    def respace(block):
        if len(block) < 3:
            return block
        seg = np.sqrt(((np.diff(block, axis=0)) ** 2).reshape(len(block) - 1, -1).sum(axis=1))
        s = np.concatenate([[0.0], np.cumsum(seg)])
        if s[-1] == 0:
            return block
        s /= s[-1]
        target = np.linspace(0, 1, len(block))
        idx = np.clip(np.searchsorted(s, target, side="right") - 1, 0, len(block) - 2)
        frac = ((target - s[idx]) / np.where(s[idx + 1] > s[idx], s[idx + 1] - s[idx], 1.0))
        frac = frac.reshape((-1,) + (1,) * (block.ndim - 1))
        return block[idx] + frac * (block[idx + 1] - block[idx])
    if fixed is None:
        return respace(images)
    return np.concatenate([respace(images[: fixed + 1])[:-1], images[fixed:fixed + 1],
                           respace(images[fixed:])[1:]])


def _zoom(images, top):
    """``len(images)`` images at equal arc length on the piece images[top-1] .. images[top+1]."""
    piece = images[top - 1: top + 2]
    n = len(images)
    seg = np.sqrt(((np.diff(piece, axis=0)) ** 2).reshape(2, -1).sum(axis=1))
    s = np.array([0.0, seg[0], seg[0] + seg[1]])
    target = np.linspace(0, s[-1], n)
    out = np.empty((n,) + images.shape[1:])
    for j, t in enumerate(target):
        k = 0 if t <= s[1] else 1
        frac = (t - s[k]) / seg[k] if seg[k] > 0 else 0.0
        out[j] = piece[k] + frac * (piece[k + 1] - piece[k])
    return out


@dispatch
def _solve(problem: NucleationBarrier, solver: StringMethod) -> BarrierSolution:
    with _serial_blas():
        return _string(problem, solver)


def _string(problem, solver):
    t0 = time.perf_counter()
    ops = SpectralOps(problem.field)
    stepper = _Stepper(ops, mobility_symbol(ops, "A"), solver.relax_dt, solver.stabilization, False)
    images = _initial_path(problem, solver)
    F_meta = ops.free_energy(problem.metastable)
    # the zooms are spread evenly over the relaxation before climbing
    zoom_at = {int(round(solver.climb_after * (j + 1) / (solver.zooms + 1))) for j in range(solver.zooms)}
    zoom_at.discard(0)
    climb, retcode, message, it, res, zoomed = None, tk.ReturnCode.MaxIters, "", 0, np.inf, 0
    for it in range(1, solver.max_iters + 1):
        new = images.copy()                              # the end images stay where they are
        for i in range(1, len(images) - 1):
            phi = images[i]
            dfdphi, status = ops.local_derivative(phi)
            if status:
                return _empty(problem, solver, tk.ReturnCode.Unstable,
                              f"image {i} left the functional's domain at iteration {it}; lower relax_dt", t0)
            if i == climb:
                # climbing in the metric of the preconditioner P = A / (1 + A (V + c)):
                # dphi = -P g + 2 (g.tau) tau / (tau.P^-1 tau); its fixed points are g = 0
                tau = images[i + 1] - images[i - 1]
                tau /= np.linalg.norm(tau)
                g = ops.convolve(phi) + dfdphi
                P = stepper.A * stepper.inv
                p_inv_tau = ops.irfft(ops.rfft(tau) / P)
                new[i] = phi - ops.irfft(P * ops.rfft(g)) + 2 * np.sum(g * tau) / np.sum(tau * p_inv_tau) * tau
            else:
                new[i] = stepper.step(phi, dfdphi)[0]
        if not np.all(np.isfinite(new)):
            return _empty(problem, solver, tk.ReturnCode.Unstable, f"the string diverged at iteration {it}", t0)
        with np.errstate(over="ignore", invalid="ignore"):
            images = _reparametrize(new, climb)
        if not np.all(np.isfinite(images)):
            return _empty(problem, solver, tk.ReturnCode.Unstable, f"the string diverged at iteration {it}", t0)
        if climb is None and it in zoom_at:
            energies = np.array([ops.free_energy(p) for p in images])
            top = int(np.argmax(energies[1:-1])) + 1
            images = _zoom(images, top)
            zoomed += 1
        if it >= solver.climb_after:
            if climb is None:
                energies = np.array([ops.free_energy(p) for p in images])
                climb = int(np.argmax(energies[1:-1])) + 1
            res = float(np.max(np.abs(ops.gradient(images[climb]))))
            if res < solver.tol:
                retcode = tk.ReturnCode.Success
                break
    energies = np.array([ops.free_energy(p) for p in images])
    i = climb if climb is not None else int(np.argmax(energies[1:-1])) + 1
    saddle = images[i]
    stats = {"iterations": it, "zooms": zoomed, "climb_residual": res,
             "seconds_per_image_iteration": (time.perf_counter() - t0) / (it * len(images))}
    if retcode is tk.ReturnCode.MaxIters and solver.polish:
        # the climbing image is close to the saddle: finish with Newton-Krylov (soft modes near
        # the spinodal make the last digits of plain climbing very slow)
        polished, ok, msg = newton_polish(ops, saddle, solver.tol, 60)
        if ok:
            saddle, retcode = polished, tk.ReturnCode.Success
            stats["polished"] = 1
    message = ""
    if retcode is tk.ReturnCode.MaxIters:
        message = f"climbing image residual {res:.3g} > tol = {solver.tol:g} after {it} iterations; " \
                  + retcode.advice
    path = energies - F_meta
    return _saddle_solution(problem, solver, ops, saddle, retcode, message, t0, path_energy=path, stats=stats)

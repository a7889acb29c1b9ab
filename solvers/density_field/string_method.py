"""The climbing string method on the grid (E, Ren & Vanden-Eijnden 2007).

The simplified string method of E, Ren & Vanden-Eijnden, J. Chem. Phys. 126, 164103 (2007),
doi:10.1063/1.2720838: images ``phi_i`` between the metastable state and the far state relax by
semi-implicit gradient steps (the stepper of :mod:`.spectral`) and are re-spaced at equal arc
length (:func:`_reparametrize`). The string is then "zoomed" onto the two images either side of
its highest one (:func:`_zoom`), so the images crowd round the saddle however long the path to the
stable state, and the highest image climbs, in the metric of the stepper's preconditioner
``P = A / (1 + A (V + c))``,

    dphi = -P g + 2 (g·τ) τ / (τ·P^-1 τ),      g = δF/δphi,  τ the unit tangent,

whose fixed points are critical points (g = 0). Newton-Krylov (:func:`.saddle.newton_polish`)
finishes if climbing is slow; the Lanczos index check of :func:`.saddle.saddle_solution` decides
Success (exactly one negative Hessian eigenvalue, Barros & Klein 2013, doi:10.1063/1.4827397).
"""

from __future__ import annotations

import time

import numpy as np

import toolkit as tk
from toolkit import validate as v
from toolkit.dispatch import dispatch

from problems.density_field import NucleationBarrier

from .functional import SpectralOps, diverged
from .limits import MAX_IMAGES, MAX_PARAMETER, MAX_SADDLE_ITERS, MAX_ZOOMS
from .accuracy import saddle_warnings, with_warnings
from .saddle import empty_solution, newton_polish, saddle_solution, serial_blas, usable_state
from .solution import BarrierSolution
from .spectral import _Stepper, mobility_symbol

__all__ = ["StringMethod"]


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
        self._set("images", v.integer("images", self.images, lower=3, upper=MAX_IMAGES, error=err))
        self._set("relax_dt", v.real_scalar("relax_dt", self.relax_dt, lower=0, lower_open=True, upper=MAX_PARAMETER,
                                            error=err))
        self._set("stabilization", v.real_scalar("stabilization", self.stabilization, lower=0, upper=MAX_PARAMETER,
                                                 error=err))
        self._set("max_iters", v.integer("max_iters", self.max_iters, lower=1, upper=MAX_SADDLE_ITERS, error=err))
        self._set("climb_after", v.integer("climb_after", self.climb_after, lower=0, upper=MAX_SADDLE_ITERS, error=err))
        self._set("zooms", v.integer("zooms", self.zooms, lower=0, upper=MAX_ZOOMS, error=err))
        self._set("tol", v.real_scalar("tol", self.tol, lower=0, lower_open=True, error=err))
        self._set("path", v.choice("path", self.path, ("droplet", "linear"), error=err))
        self._set("polish", v.flag("polish", self.polish, error=err))

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


def _last_good(ops, images, climb):
    """The state an unstable string reports: the climbing image, else its highest usable interior image."""
    usable = [i for i in range(1, len(images) - 1) if usable_state(ops, images[i])]
    if climb in usable:
        return images[climb]
    if not usable:
        return None
    return images[max(usable, key=lambda i: ops.free_energy(images[i]))]


@dispatch
def _solve(problem: NucleationBarrier, solver: StringMethod) -> BarrierSolution:
    with serial_blas():
        sol = _string(problem, solver)
    return with_warnings(sol, saddle_warnings(sol, solver.tol))


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
                return empty_solution(problem, solver, tk.ReturnCode.Unstable,
                                      f"image {i} left the functional's domain at iteration {it}; lower relax_dt",
                                      t0, phi=_last_good(ops, images, climb))
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
        if np.all(np.isfinite(new)):
            with np.errstate(over="ignore", invalid="ignore"):
                new = _reparametrize(new, climb)
        if diverged(new):
            return empty_solution(problem, solver, tk.ReturnCode.Unstable,
                                  f"the string diverged at iteration {it}; lower relax_dt", t0,
                                  phi=_last_good(ops, images, climb))
        images = new
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
    return saddle_solution(problem, solver, ops, saddle, retcode, message, t0, path_energy=path, stats=stats)

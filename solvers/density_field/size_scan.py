"""Nucleation saddles as the highest of the minima at fixed droplet size (a minimax scan).

The droplet size is the L2 distance from the metastable state, ``s = ‖phi − phi_m‖ =
(dV Σ_x (phi − phi_m)²)^{1/2}``. At fixed ``s`` the free energy is minimised over all shapes,

    E(s) = min { F[phi] : ‖phi − phi_m‖ = s },

by L-BFGS (Liu & Nocedal, Math. Program. 45, 503 (1989), doi:10.1007/BF01589116) on the sphere,
``phi = phi_m + s ψ/‖ψ‖``, preconditioned in Fourier space by the liquid's Hessian
``ψ = P^{1/2} χ``, ``P = (V(k) + f''(phi_m) + c)^{-1}``, so the stiff short-wavelength modes do
not slow it down. At a constrained minimum ``δF/δphi = μ (phi − phi_m)`` with the Lagrange
multiplier ``μ = E'(s)/s``; where ``μ`` changes sign from + to − (the top of E(s), the
mountain pass of Ambrosetti & Rabinowitz, J. Funct. Anal. 14, 349 (1973),
doi:10.1016/0022-1236(73)90051-7) the constrained minimum is a critical point of F. Minimising
in every direction but the size is what lets the droplet leave a symmetric but higher-index
critical point (the Oh-symmetric bcc crystallite, issue 7): a little seeded noise breaks the
symmetry and the minimiser descends along the deformations that the symmetric point is a maximum of.

:class:`SizeScan` (``tk.solve(NucleationBarrier(...), SizeScan(...))``; :func:`size_scan_saddle`
is its functional form) brackets the sign change of ``μ`` (continuation in ``s``), closes in on
it by bisection (continued from the rising side), then polishes by Newton-Krylov
(:func:`~.saddle.newton_polish`); the index check (Lanczos on the exact Hessian-vector product)
decides: Success only for a critical point with exactly one negative Hessian eigenvalue. Nothing
here assumes the index.

When the scan does not end on an index-1 saddle, :class:`SizeScan` continues automatically (the
route that first found the bcc-like saddle of issue 7 by hand): near the top of E(s) the
constrained minima can jump between shape branches (a round droplet and a distorted one), and
the critical point between them is not on either. On a jump, Newton-Krylov starts from the
midpoint of the two branches at the same size (the last size below the jump, the far branch
continued back down to it by the constrained minimiser); whenever Newton lands on a critical point of
index k > 1, the k − 1 extra unstable modes (eigenvectors 2..k of the Hessian, Lanczos) are
descended by the dimer method (:class:`~.dimer.DimerMethod`, Henkelman & Jónsson, J. Chem. Phys.
111, 7010 (1999), doi:10.1063/1.480097) started from the critical point kicked along them: the
dimer climbs only along the lowest mode and falls along every other one, so its fixed point is an
index-1 saddle. Newton-Krylov polishes it and the Lanczos index check decides, as before. Extra
negative modes that are only grid-pinned translations (a droplet on a maximum of the lattice's
pinning energy) are left by a rigid half-grid-step shift instead (:func:`descend_to_index_one`).
"""

from __future__ import annotations

import time

import numpy as np

import toolkit as tk
from toolkit import validate as v
from toolkit.dispatch import dispatch

from problems.density_field import DensityField, NucleationBarrier

from .dimer import DimerMethod, dimer_iterate
from .functional import SpectralOps
from .limits import (MAX_BRACKETS, MAX_DESCENTS, MAX_LBFGS_ITERS, MAX_NEWTON_ITERS, MAX_PARAMETER, MAX_REFINEMENTS,
                     MAX_SADDLE_ITERS, MAX_SEED)
from .accuracy import saddle_warnings, with_warnings
from .saddle import empty_solution, hessian_eigenvalues, newton_polish, serial_blas, usable_state
from .solution import BarrierSolution

__all__ = ["droplet_size", "SizeConstrainedMinimizer", "SizeScan", "size_scan_saddle", "descend_to_index_one"]


def droplet_size(phi, metastable: float, cell_volume: float) -> float:
    """s = (dV Σ (phi − phi_m)²)^{1/2}: the L2 distance of ``phi`` from the uniform metastable state."""
    return float(np.sqrt(cell_volume * np.sum((np.asarray(phi) - metastable) ** 2)))


class SizeConstrainedMinimizer:
    """min F[phi] at fixed ``‖phi − phi_m‖ = s`` by preconditioned L-BFGS on the sphere (see module doc).

    ``shift`` is the constant ``c`` of the preconditioner ``(V(k) + f''(phi_m) + c)^{-1}``; the
    metastable state must be linearly stable (``V(k) + f''(phi_m) > 0`` for every grid k).
    """

    def __init__(self, field: DensityField, metastable: float, shift: float = 0.02):
        if not (np.isfinite(shift) and shift >= 0):
            raise tk.InvalidSolverError(f"shift = {shift!r} is not allowed: give a finite number >= 0")
        self.ops = ops = SpectralOps(field)
        self.metastable = float(metastable)
        curv = ops.vhat + float(field.functional.local.d2f(self.metastable))
        if curv.min() <= 0:
            raise tk.InvalidProblemError(f"metastable = {metastable!r} is not linearly stable (min V(k) + f''(phi_m) = "
                             f"{curv.min():.3g} <= 0): the size scan needs a metastable liquid")
        self.p = (curv + shift) ** -0.5
        self.F_meta = ops.free_energy(np.full(field.shape, self.metastable))

    def _apply(self, x, inverse=False):
        return self.ops.irfft((1 / self.p if inverse else self.p) * self.ops.rfft(x))

    def minimize(self, phi0, s: float, *, max_iters: int = 1500, tol: float = 1e-9, memory: int = 20):
        """L-BFGS at fixed size ``s`` from ``phi0`` (its direction is kept, its size reset to ``s``).

        Stops when the constrained residual max|δF/δphi − μ (phi − phi_m)| < ``tol`` or after
        ``max_iters`` iterations. Returns ``(phi, ΔF, μ, constrained residual, iterations)``.
        """
        ops, dV, p, m = self.ops, self.ops.dV, self.p, self.metastable
        scale = 1.0 / (dV * s * s)               # O(1) objective whatever the grid and size
        v0m = float(ops.vhat.flat[0]) * m        # V * (constant m) = V(k=0) m

        def evaluate(chi):
            # five FFTs: psi = P^{1/2} chi and V * phi share chi's transform, the gradient needs two
            psi_hat = p * ops.rfft(chi)
            psi = ops.irfft(psi_hat.copy())
            norm = np.sqrt(dV * np.sum(psi * psi))
            phi = m + (s / norm) * psi
            d1, status = ops.local_derivative(phi)
            if status:
                return np.inf, None, None
            conv = ops.irfft(ops.vhat * psi_hat * (s / norm)) + v0m
            g = conv + d1                                # δF/δphi
            dphi = phi - m
            mu = float(np.sum(g * dphi) / np.sum(dphi * dphi))
            gs = g * (dV * scale)
            along = dV * float(np.sum(gs * psi)) / norm  # component along the unit vector psi / norm
            grad = ops.irfft(p * (ops.rfft(gs) - (along / norm) * psi_hat)) * (s / norm)
            return (ops.free_energy(phi, conv) - self.F_meta) * scale, grad, (phi, mu, float(np.abs(g - mu * dphi).max()))

        chi = self._apply(np.asarray(phi0, dtype=np.float64) - self.metastable, inverse=True)
        f, grad, aux = evaluate(chi)
        if grad is None:
            raise ValueError("the starting field is outside the functional's domain")
        pairs, it = [], 0
        for it in range(1, max_iters + 1):
            if aux[2] < tol:
                break
            d = _two_loop(grad, pairs)
            slope = float(np.sum(grad * d))
            if slope >= 0:                               # not a descent direction: restart
                pairs, d, slope = [], -grad, -float(np.sum(grad * grad))
            step = 1.0
            for _ in range(30):                          # Armijo backtracking
                f_new, grad_new, aux_new = evaluate(chi + step * d)
                if grad_new is not None and f_new <= f + 1e-4 * step * slope:
                    break
                step *= 0.5
            else:
                break                                    # no decrease along d: as converged as it gets
            sk, yk = step * d, grad_new - grad
            if float(np.sum(sk * yk)) > 1e-16 * float(np.sum(yk * yk)):
                pairs = (pairs + [(sk, yk)])[-memory:]
            chi, f, grad, aux = chi + sk, f_new, grad_new, aux_new
        phi, mu, cres = aux
        return phi, (f / scale), mu, cres, it


def _two_loop(grad, pairs):
    """L-BFGS search direction −H_k grad from the stored (s, y) pairs (Nocedal & Wright, Alg. 7.4)."""
    q = grad.copy()
    tmp = np.empty_like(q)                       # one scratch array: no temporaries per pair
    alphas = []
    for sk, yk in reversed(pairs):
        a = np.vdot(sk, q) / np.vdot(yk, sk)
        alphas.append(a)
        q -= np.multiply(yk, a, out=tmp)
    if pairs:
        sk, yk = pairs[-1]
        q *= np.vdot(sk, yk) / np.vdot(yk, yk)
    for (sk, yk), a in zip(pairs, reversed(alphas)):
        b = np.vdot(yk, q) / np.vdot(yk, sk)
        q += np.multiply(sk, a - b, out=tmp)
    return -q


class SizeScan(tk.Solver):
    """Nucleation saddle as the top of ``E(s) = min {F[phi] : ‖phi − phi_m‖ = s}``, continued to index 1.

    The saddle solves ``δF/δphi = 0`` with exactly one negative Hessian eigenvalue (Barros & Klein,
    J. Chem. Phys. 139, 174505 (2013), doi:10.1063/1.4827397); at the top of E(s) the Lagrange
    multiplier ``μ = E'(s)/s`` of the constrained minimum changes sign (module doc). Starts from
    ``field.initial`` plus ``noise`` × seeded normal noise (``seed``); needs a uniform metastable
    state that is linearly stable.

    Scan: ``step`` (relative size step of the bracketing), ``brackets`` (most moves each way),
    ``refinements`` (most bisections), ``close`` (stop bisecting at max |δF/δphi| < close),
    ``shift`` (constant c of the Fourier preconditioner), ``lbfgs_iters`` (L-BFGS iterations per
    size). Polish: Newton-Krylov to ``f_tol`` in at most ``newton_iters`` iterations.
    Continuation (module doc): a branch jump is flagged when the two constrained minima that bracket
    the top differ by more than ``jump`` × their size difference; ``descents`` dimer descents at
    most (0: the plain scan), each from the critical point kicked along its extra unstable modes by
    ``kick`` × ‖phi − phi_m‖, with :class:`~.dimer.DimerMethod` ``(dt=dimer_dt, max_step=0.05,
    rotation_steps=4, tol=dimer_tol, max_iters=dimer_iters)``.

    ``path_energy`` holds ΔF of the constrained minima in scan order; ``stats["route"]`` says how
    the saddle was reached (``scan``, or ``jump`` = Newton from the branch midpoint, then each descent:
    ``+dimer`` or ``+shift``, see :func:`descend_to_index_one`). Success only for a critical point
    with exactly one negative Hessian eigenvalue.
    """

    noise: float = 1e-3
    seed: int = 0
    step: float = 0.02
    brackets: int = 40
    refinements: int = 10
    close: float = 1e-5
    shift: float = 0.02
    lbfgs_iters: int = 1500
    f_tol: float = 1e-9
    newton_iters: int = 60
    descents: int = 3
    kick: float = 0.05
    jump: float = 4.0
    dimer_dt: float = 1.0
    dimer_tol: float = 1e-6
    dimer_iters: int = 4000

    stochastic = True

    def _validate(self):
        err = tk.InvalidSolverError
        self._set("noise", v.real_scalar("noise", self.noise, lower=0, upper=MAX_PARAMETER, error=err))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=MAX_SEED, error=err))
        self._set("step", v.real_scalar("step", self.step, lower=0, upper=1, lower_open=True, upper_open=True,
                                        error=err))
        self._set("brackets", v.integer("brackets", self.brackets, lower=1, upper=MAX_BRACKETS, error=err))
        self._set("refinements", v.integer("refinements", self.refinements, lower=0, upper=MAX_REFINEMENTS, error=err))
        self._set("close", v.real_scalar("close", self.close, lower=0, lower_open=True, error=err))
        self._set("shift", v.real_scalar("shift", self.shift, lower=0, upper=MAX_PARAMETER, error=err))
        self._set("lbfgs_iters", v.integer("lbfgs_iters", self.lbfgs_iters, lower=1, upper=MAX_LBFGS_ITERS, error=err))
        self._set("f_tol", v.real_scalar("f_tol", self.f_tol, lower=0, lower_open=True, error=err))
        self._set("newton_iters", v.integer("newton_iters", self.newton_iters, lower=1, upper=MAX_NEWTON_ITERS,
                                            error=err))
        self._set("descents", v.integer("descents", self.descents, lower=0, upper=MAX_DESCENTS, error=err))
        self._set("kick", v.real_scalar("kick", self.kick, lower=0, upper=1, lower_open=True, error=err))
        self._set("jump", v.real_scalar("jump", self.jump, lower=1, upper=MAX_PARAMETER, error=err))
        self._set("dimer_dt", v.real_scalar("dimer_dt", self.dimer_dt, lower=0, lower_open=True, upper=MAX_PARAMETER,
                                            error=err))
        self._set("dimer_tol", v.real_scalar("dimer_tol", self.dimer_tol, lower=0, lower_open=True, error=err))
        self._set("dimer_iters", v.integer("dimer_iters", self.dimer_iters, lower=1, upper=MAX_SADDLE_ITERS,
                                           error=err))

    @classmethod
    def example(cls):
        return cls(noise=0.0, step=0.1, lbfgs_iters=400, f_tol=1e-8)

    def dimer(self) -> DimerMethod:
        """The :class:`~.dimer.DimerMethod` used for the descents."""
        return DimerMethod(dt=self.dimer_dt, max_step=0.05, rotation_steps=4, tol=self.dimer_tol,
                           max_iters=self.dimer_iters)


def size_scan_saddle(field: DensityField, metastable: float, start, *, max_iters: int = 1500, **options):
    """``tk.solve`` of :class:`SizeScan` on ``NucleationBarrier(field with initial=start, metastable)``.

    ``max_iters`` is :attr:`SizeScan.lbfgs_iters`; every other option is a :class:`SizeScan`
    hyperparameter. Returns ``(solution, history)``, ``history`` the list of ``(s, ΔF, μ,
    max|δF/δphi|)`` of the constrained minima in scan order; ``solution`` is ``None`` when no
    sign change of μ was bracketed.
    """
    solver = SizeScan(lbfgs_iters=max_iters, **options)
    problem = NucleationBarrier(field=tk.remake(field, initial=np.asarray(start, dtype=np.float64)),
                                metastable=metastable)
    sol = tk.solve(problem, solver)
    history = [tuple(row) for row in sol.stats.get("history", np.zeros((0, 4)))]
    return (None if sol.stats.get("bracketed") == 0 else sol), history


@dispatch
def _solve(problem: NucleationBarrier, solver: SizeScan) -> BarrierSolution:
    with serial_blas():
        sol = _size_scan(problem, solver)
    return with_warnings(sol, saddle_warnings(sol, solver.f_tol))


def _scan(cm, phi, solver, history):
    """Bracket and bisect the sign change of μ (module doc); ``(up, down, best)`` or ``None``."""
    def at(s, phi0):
        out = cm.minimize(phi0, s, max_iters=solver.lbfgs_iters)
        dphi = out[0] - cm.metastable
        history.append((s, out[1], out[2], float(np.abs(out[2] * dphi).max() + out[3])))
        return out

    step = solver.step
    s0 = droplet_size(phi, cm.metastable, cm.ops.dV)
    up = (s0, at(s0, phi))
    for _ in range(solver.brackets):                 # 1. down in size until E(s) rises (μ > 0)
        if up[1][2] > 0:
            break
        s = up[0] * (1 - step)
        up = (s, at(s, up[1][0]))
    else:
        return None
    down = None
    for _ in range(solver.brackets):                 # 2. up along that rising branch until μ < 0
        s = up[0] * (1 + step / 4)
        nxt = (s, at(s, up[1][0]))
        if nxt[1][2] <= 0:
            down = nxt
            break
        up = nxt
    if down is None:
        return None
    best = min((up, down), key=lambda t: _residual(t, cm))
    for _ in range(solver.refinements):
        if _residual(best, cm) < solver.close:
            break
        # bisection, always continued from the rising side: near the top the constrained minima
        # can jump between shape branches, and the rising branch is the one that ends on the saddle
        mid = 0.5 * (up[0] + down[0])
        mid = (mid, at(mid, up[1][0]))
        if _residual(mid, cm) < _residual(best, cm):
            best = mid
        if mid[1][2] > 0:
            up = mid
        else:
            down = mid
    return up, down, best


def _size_scan(problem, solver):
    t0 = time.perf_counter()
    field = problem.field
    if np.ptp(problem.metastable) > 1e-12:
        return empty_solution(problem, solver, tk.ReturnCode.Failure,
                              "SizeScan needs a uniform metastable state (a number); use DimerMethod or "
                              "StringMethod", t0)
    phi_m = float(problem.metastable.flat[0])
    try:
        cm = SizeConstrainedMinimizer(field, phi_m, solver.shift)
    except tk.InvalidProblemError as exc:
        return empty_solution(problem, solver, tk.ReturnCode.Failure, str(exc), t0)
    ops = cm.ops
    rng = np.random.default_rng(solver.seed)
    phi = field.initial + solver.noise * rng.standard_normal(field.shape)
    if ops.local_derivative(phi)[1] or not np.any(phi - phi_m):
        return empty_solution(problem, solver, tk.ReturnCode.Failure,
                              "the start (field.initial + noise) is the metastable state or outside the "
                              "functional's domain; seed a droplet", t0)
    history = []
    stats = {"history": history, "bracketed": 0}
    bracket = _scan(cm, phi, solver, history)

    def out(phi, vals, vecs, retcode, message, route):
        stats.update(wall_time=time.perf_counter() - t0, route=route, sizes_scanned=len(history))
        stats["history"] = np.array(history).reshape(-1, 4)
        if not (usable_state(ops, phi) and np.all(np.isfinite(vals))):
            sol = empty_solution(problem, solver, tk.ReturnCode.Unstable,
                                 f"route {route} left the functional's domain or diverged; " + message, t0)
            sol.stats.update(stats)
            return sol
        res = float(np.max(np.abs(ops.gradient(phi))))
        return BarrierSolution(problem=problem, solver=solver, retcode=retcode, message=message, stats=stats,
                               phi=phi, barrier=ops.free_energy(phi) - cm.F_meta, eigenvalues=vals[:6],
                               mode=vecs[0], residual=res, path_energy=np.array([h[1] for h in history]),
                               radius=np.zeros(0), profile=np.zeros(0))

    if bracket is None:
        sol = empty_solution(problem, solver, tk.ReturnCode.ConvergenceFailure,
                             f"no sign change of mu = E'(s)/s was bracketed in {solver.brackets} size moves "
                             "each way; start from a droplet nearer the critical size or raise brackets", t0)
        stats["history"] = np.array(history).reshape(-1, 4)
        sol.stats.update(stats)
        return sol
    up, down, best = bracket
    stats["bracketed"] = 1
    stats["s_top"] = best[0]
    # a branch jump: the constrained minima either side of the top are not on one smooth branch
    ratio = droplet_size(down[1][0], up[1][0], ops.dV) / max(abs(down[0] - up[0]), 1e-300)
    stats["jump_ratio"] = ratio
    dimer = solver.dimer()
    phi_s, ok, _ = newton_polish(ops, best[1][0], solver.f_tol, solver.newton_iters)
    tries = [("scan", phi_s, ok, 0)]
    if solver.descents:
        if ratio > solver.jump:
            # the two branches at the same size s_up: the rising one, and the far one continued back down
            far = cm.minimize(down[1][0], up[0], max_iters=solver.lbfgs_iters)[0]
            mid = 0.5 * (up[1][0] + far)
            phi_j, ok_j, _ = newton_polish(ops, mid, solver.f_tol, solver.newton_iters)
            tries.append(("jump", phi_j if ok_j else mid, ok_j, solver.descents))
        tries.append(("scan", phi_s, ok, solver.descents))
    last = None
    for route, phi_c, ok_c, descents in tries:
        d = descend_to_index_one(ops, phi_c, phi_m, critical=ok_c, descents=descents, kick=solver.kick,
                                 dimer=dimer, f_tol=solver.f_tol, newton_iters=solver.newton_iters)
        phi_d, vals, vecs, ok_d, used, log = d
        stats[f"{route}_negative_modes"] = log[0]
        stats["negative_modes_along_the_way"] = " ".join(map(str, log))
        if ok_d and np.max(np.abs(phi_d - phi_m)) < 1e-6:
            continue                                   # fell back to the metastable state
        if ok_d and np.sum(vals < -1e-8) == 1:
            stats["descents"] = len(used)
            return out(phi_d, vals, vecs, tk.ReturnCode.Success, "", "+".join([route] + used))
        if last is None or (ok_d and not last[3]) or (ok_d == last[3] and used):
            last = d + (route,)
    if last is None:
        sol = empty_solution(problem, solver, tk.ReturnCode.ConvergenceFailure,
                             "every route fell back to the metastable state; seed a larger droplet", t0)
        stats["history"] = np.array(history).reshape(-1, 4)
        sol.stats.update(stats)
        return sol
    phi_d, vals, vecs, ok_d, used, log, route = last
    stats["descents"] = len(used)
    if ok_d:
        message = (f"found a critical point with {int(np.sum(vals < -1e-8))} negative modes, not a nucleation "
                   f"saddle (which has 1), after {len(used)} descents (negative modes along the way: {log}); "
                   "raise descents or dimer_iters, or start from another droplet")
    else:
        message = (f"Newton-Krylov did not reach f_tol = {solver.f_tol:g}; raise newton_iters or start from a "
                   "droplet nearer the saddle")
    return out(phi_d, vals, vecs, tk.ReturnCode.ConvergenceFailure if ok_d else tk.ReturnCode.MaxIters,
               message, "+".join([route] + used))


def descend_to_index_one(ops: SpectralOps, phi, metastable: float, *, critical: bool = True, descents: int = 3,
                         kick: float = 0.05, dimer: DimerMethod | None = None, f_tol: float = 1e-9,
                         newton_iters: int = 60, modes: int = 8):
    """From a critical point of index k > 1, descend its k − 1 extra unstable modes to an index-1 saddle.

    Each descent takes the ``modes`` lowest Hessian eigenpairs (Lanczos on H v); the extra unstable
    modes are eigenvectors 2..k. Those that are not rigid translations (overlap with the span of
    ∂φ/∂x_i, :func:`~.droplets.translation_overlaps`, below 0.9 or |λ| ≥ 0.02 |λ_0|) are
    descended by the dimer method (Henkelman & Jónsson 1999): ``phi`` is kicked along them (each
    with the sign that lowers F; total size ``kick`` × ‖phi − phi_m‖), and the dimer climbs only
    along the lowest mode and falls along the kicked ones. When only translations are left (a
    droplet on a maximum of the grid's pinning energy, |λ| ~ 1e-5 to 1e-3, which gradient dynamics
    would take ~1/|λ| steps to leave) the droplet is shifted rigidly by half a grid spacing along
    the unstable axes (a Fourier shift: exact). Newton-Krylov polishes each end point.
    ``critical=False`` (``phi`` not converged): the dimer first runs from ``phi`` without a kick.

    Returns ``(phi, eigenvalues, eigenvectors, converged, actions, negative-mode counts)``:
    ``converged`` says Newton reached ``f_tol``; ``actions`` lists the descents (``"dimer"`` or
    ``"shift"``, at most ``descents``). Index 1 is not assumed: the caller checks it.
    """
    from .droplets import translation_overlaps

    dimer = dimer or DimerMethod(dt=1.0, max_step=0.05, rotation_steps=4, tol=1e-6, max_iters=4000)
    lengths = ops.field.length
    log, actions = [], []
    phi = np.array(phi, dtype=np.float64)
    while True:
        vals, vecs = hessian_eigenvalues(ops, phi, k=modes)
        neg = int(np.sum(vals < -1e-8))
        log.append(neg)
        if (critical and neg <= 1) or len(actions) >= descents or neg == 0:
            return phi, vals, vecs, critical, actions, log
        if critical:
            extra = vecs[1:neg]
            over = translation_overlaps(phi, lengths, extra)
            trans = (over > 0.9) & (np.abs(vals[1:neg]) < 0.02 * abs(vals[0]))
            if np.all(trans):
                actions.append("shift")
                phi, critical, _ = newton_polish(ops, _half_step_shift(ops, phi, extra), f_tol, newton_iters)
                continue
            chosen = extra[~trans]
            size = kick * np.sqrt(np.sum((phi - metastable) ** 2))
            direction = np.zeros_like(phi)
            c = size / np.sqrt(len(chosen))
            for vec in chosen:
                lower = ops.free_energy(phi + c * vec) <= ops.free_energy(phi - c * vec)
                direction += vec if lower else -vec
            start = phi + size * direction / np.sqrt(np.sum(direction ** 2))
        else:
            start = phi
        actions.append("dimer")
        end, retcode, _, _ = dimer_iterate(ops, start, metastable, dimer)
        if retcode in (tk.ReturnCode.Unstable, tk.ReturnCode.ConvergenceFailure):
            vals, vecs = hessian_eigenvalues(ops, phi, k=modes)
            return phi, vals, vecs, critical, actions, log
        phi, critical, _ = newton_polish(ops, end, f_tol, newton_iters)


def _half_step_shift(ops: SpectralOps, phi, modes):
    """``phi`` translated by half a grid spacing along each axis whose translation ∂φ/∂x_i lies
    mostly (projection > 1/2) in the span of ``modes`` (the unstable translation modes)."""
    q, _ = np.linalg.qr(np.array([np.ravel(m) for m in modes]).T)
    kvecs = [np.fft.fftfreq(n, d=L / n) * 2 * np.pi for n, L in zip(ops.shape, ops.field.length)]
    kvecs[-1] = kvecs[-1][: ops.shape[-1] // 2 + 1]
    kvecs[-1][-1] = abs(kvecs[-1][-1])
    phase = np.zeros(ops._rshape())
    hat = ops.rfft(phi)
    axes = []
    for ax, k in enumerate(kvecs):
        shape = [1] * len(ops.shape)
        shape[ax] = k.size
        grad = np.ravel(ops.irfft(1j * k.reshape(shape) * hat))
        if np.linalg.norm(q.T @ grad) > 0.5 * np.linalg.norm(grad):
            axes.append(ax)
            phase = phase + k.reshape(shape) * 0.5 * ops.field.length[ax] / ops.shape[ax]
    if not axes:                                   # mixed directions: shift along every axis
        return _shift_all(ops, phi, hat, kvecs)
    return ops.irfft(hat * np.exp(-1j * phase))


def _shift_all(ops, phi, hat, kvecs):
    phase = sum(k.reshape([k.size if i == ax else 1 for i in range(len(ops.shape))])
                * 0.5 * ops.field.length[ax] / ops.shape[ax] for ax, k in enumerate(kvecs))
    return ops.irfft(hat * np.exp(-1j * phase))


def _residual(point, cm) -> float:
    """max|δF/δphi| of a constrained minimum ``(s, (phi, ΔF, μ, constrained residual, iterations))``."""
    phi, _, mu, cres, _ = point[1]
    return float(np.abs(mu * (phi - cm.metastable)).max() + cres)

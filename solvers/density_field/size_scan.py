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

:func:`size_scan_saddle` brackets the sign change of ``μ`` (continuation in ``s``), closes in
on it by bisection (continued from the rising side), then polishes with :class:`~.barrier.GridNewtonKrylov`,
whose index check (Lanczos on the exact Hessian-vector product) decides: Success only for a
critical point with exactly one negative Hessian eigenvalue. Nothing here assumes the index.
"""

from __future__ import annotations

import numpy as np

from problems.density_field import DensityField

from .functional import SpectralOps

__all__ = ["droplet_size", "SizeConstrainedMinimizer", "size_scan_saddle"]


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
            raise ValueError(f"shift must be a finite number >= 0; got {shift!r}")
        self.ops = ops = SpectralOps(field)
        self.metastable = float(metastable)
        curv = ops.vhat + float(field.functional.local.d2f(self.metastable)) + shift
        if curv.min() <= 0:
            raise ValueError(f"metastable = {metastable!r} is not linearly stable (min V(k) + f''(phi_m) = "
                             f"{curv.min() - shift:.3g} <= 0): the size scan needs a metastable liquid")
        self.p = curv ** -0.5
        self.F_meta = ops.free_energy(np.full(field.shape, self.metastable))

    def _apply(self, x, inverse=False):
        return self.ops.irfft((1 / self.p if inverse else self.p) * self.ops.rfft(x))

    def _sphere(self, chi, s):
        psi = self._apply(chi.reshape(self.ops.shape))
        norm = np.sqrt(self.ops.dV * np.sum(psi * psi))
        return psi, norm, self.metastable + s * psi / norm

    def minimize(self, phi0, s: float, *, max_iters: int = 1500, tol: float = 1e-9, memory: int = 20):
        """L-BFGS at fixed size ``s`` from ``phi0`` (its direction is kept, its size reset to ``s``).

        Stops when the constrained residual max|δF/δphi − μ (phi − phi_m)| < ``tol`` or after
        ``max_iters`` iterations. Returns ``(phi, ΔF, μ, constrained residual, iterations)``.
        """
        ops, dV = self.ops, self.ops.dV
        scale = 1.0 / (dV * s * s)               # O(1) objective whatever the grid and size

        def evaluate(chi):
            psi, norm, phi = self._sphere(chi, s)
            d1, status = ops.local_derivative(phi)
            if status:
                return np.inf, None, None
            g = ops.convolve(phi) + d1                   # δF/δphi
            dphi = phi - self.metastable
            mu = float(np.sum(g * dphi) / np.sum(dphi * dphi))
            u = psi / norm                               # unit vector (dV metric) along phi - phi_m
            gs = g * dV * scale
            grad = self._apply((s / norm) * (gs - dV * np.sum(gs * u) * u))
            return (ops.free_energy(phi) - self.F_meta) * scale, grad, (phi, mu, float(np.abs(g - mu * dphi).max()))

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
    alphas = []
    for sk, yk in reversed(pairs):
        a = float(np.sum(sk * q)) / float(np.sum(yk * sk))
        alphas.append(a)
        q -= a * yk
    if pairs:
        sk, yk = pairs[-1]
        q *= float(np.sum(sk * yk)) / float(np.sum(yk * yk))
    for (sk, yk), a in zip(pairs, reversed(alphas)):
        b = float(np.sum(yk * q)) / float(np.sum(yk * sk))
        q += (a - b) * sk
    return -q


def size_scan_saddle(field: DensityField, metastable: float, start, *, noise: float = 1e-3, seed: int = 0,
                     step: float = 0.02, brackets: int = 40, refinements: int = 10, close: float = 1e-5,
                     shift: float = 0.02, max_iters: int = 1500, f_tol: float = 1e-9, newton_iters: int = 60):
    """The top of E(s) = min F at fixed droplet size, polished by Newton-Krylov and index-checked.

    ``start`` (a droplet field, e.g. a higher-index critical point) plus ``noise`` × (seeded
    normal noise) is minimised at its own size ``s0``; while E(s) falls there (μ < 0) ``s``
    shrinks by factors ``1 − step``, then grows by ``1 + step/4`` along the rising branch until
    μ < 0 (continuation: each minimisation starts from the last one with μ > 0; at most
    ``brackets`` moves each way), and bisection on the sign of μ(s) (at most ``refinements``
    evaluations, each started from the last constrained minimum with μ > 0) stops once max|δF/δphi| < ``close``. The closest constrained minimum goes to
    :class:`~.barrier.GridNewtonKrylov` (``f_tol``, ``newton_iters``).

    Returns ``(solution, history)``: the index-checked :class:`~.solution.BarrierSolution`
    (``None`` when no sign change of μ was bracketed) and the list of ``(s, ΔF, μ, max|δF/δphi|)``.
    """
    import toolkit as tk
    from problems.density_field import NucleationBarrier

    from .barrier import GridNewtonKrylov

    for name, value in (("noise", noise), ("step", step), ("close", close)):
        if not (np.isfinite(value) and value >= 0) or (name != "noise" and value == 0):
            raise ValueError(f"{name} must be a finite number {'>= 0' if name == 'noise' else '> 0'}; got {value!r}")
    cm = SizeConstrainedMinimizer(field, metastable, shift)
    rng = np.random.default_rng(seed)
    phi = np.asarray(start, dtype=np.float64) + noise * rng.standard_normal(field.shape)
    history = []

    def at(s, phi0):
        out = cm.minimize(phi0, s, max_iters=max_iters)
        dphi = out[0] - cm.metastable
        history.append((s, out[1], out[2], float(np.abs(out[2] * dphi).max() + out[3])))
        return out

    s0 = droplet_size(phi, metastable, field.cell_volume)
    up = (s0, at(s0, phi))
    for _ in range(brackets):                        # 1. down in size until E(s) rises (μ > 0)
        if up[1][2] > 0:
            break
        s = up[0] * (1 - step)
        up = (s, at(s, up[1][0]))
    else:
        return None, history
    down = None
    for _ in range(brackets):                        # 2. up along that rising branch until μ < 0
        s = up[0] * (1 + step / 4)
        nxt = (s, at(s, up[1][0]))
        if nxt[1][2] <= 0:
            down = nxt
            break
        up = nxt
    if down is None:
        return None, history
    best = min((up, down), key=lambda t: _residual(t, cm))
    for _ in range(refinements):
        if _residual(best, cm) < close:
            break
        # bisection, always continued from the rising side: near the top the constrained minima
        # can jump between shape branches, and the rising branch is the one that ends on the saddle
        mid = (0.5 * (up[0] + down[0]), None)
        mid = (mid[0], at(mid[0], up[1][0]))
        if _residual(mid, cm) < _residual(best, cm):
            best = mid
        if mid[1][2] > 0:
            up = mid
        else:
            down = mid
    problem = NucleationBarrier(field=tk.remake(field, initial=best[1][0]), metastable=metastable)
    return tk.solve(problem, GridNewtonKrylov(f_tol=f_tol, max_iters=newton_iters)), history


def _residual(point, cm) -> float:
    """max|δF/δphi| of a constrained minimum ``(s, (phi, ΔF, μ, constrained residual, iterations))``."""
    phi, _, mu, cres, _ = point[1]
    return float(np.abs(mu * (phi - cm.metastable)).max() + cres)

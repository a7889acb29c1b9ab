"""Accuracy warnings of the density-field family: runs that finish, but past an accuracy limit.

A run past a *stability* limit stops ``Unstable`` at the step (the field left the functional's
domain or diverged). These are the limits a run can cross and still finish; the solution keeps its
return code and carries a warning in ``stats["warnings"]`` and its ``message`` (the CLI prints them):

* **Free energy increased** (deterministic :class:`FieldDynamics`, every :class:`Relaxation`). Both
  model A and model B are gradient flows, ``dF/dt = -∫ μ M μ <= 0``, so F never rises along an exact
  trajectory; a scheme that raises F between two saved frames by more than round-off has a step past
  its energy-stability limit (for the semi-implicit scheme, a stabilisation ``c`` below half the
  largest f''; Shen & Yang, Discrete Contin. Dyn. Syst. 28, 1669 (2010), doi:10.3934/dcds.2010.28.1669).
  The frames are then not the gradient flow's, and a relaxation may have left the basin it started in.
* **Explicit step above its linear stability bound** (:class:`ExplicitFD`). Forward Euler multiplies
  the mode of the discrete operator's eigenvalue λ = M(k) [V_h(k) + f''(phi)] by ``1 - dt λ`` each
  step; past ``dt λ_max > 2`` the grid-scale modes grow, which a short run survives without reaching the
  divergence bound. Checked at the last state (f'' at its largest there).
* **Saddle residual above tolerance** (every saddle solver). A result called ``Success`` must have
  max |δF/δphi| below the solver's tolerance; otherwise the critical point is not converged.
* **Barrier not positive**. A nucleation saddle lies above the metastable state it is reached from
  (ΔF > 0); ΔF <= 0 at an index-1 critical point means ``metastable`` is not a local minimum of F, or
  the saddle belongs to another transition.

Noisy dynamics is not checked for energy increases: thermal noise raises F by design.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk

__all__ = ["energy_increase", "explicit_stability", "saddle_warnings", "with_warnings", "ENERGY_RTOL"]

#: Relative rise of F, between two saved values, treated as round-off (F is a sum over the grid).
ENERGY_RTOL = 1e-8


def energy_increase(energies, labels, volume: float, what: str) -> str | None:
    """A warning when F rises between two consecutive ``energies`` by more than round-off, else None.

    ``labels[i]`` names when ``energies[i]`` was taken (``"t = 3"``, ``"iteration 40"``); ``volume``
    sets the absolute round-off floor (1e-12 per unit volume); ``what`` is the advice.
    """
    F = np.asarray(energies, dtype=np.float64)
    if F.size < 2 or not np.all(np.isfinite(F)):
        return None
    rise = np.diff(F)
    allowed = ENERGY_RTOL * np.maximum(np.abs(F[:-1]), np.abs(F[1:])) + 1e-12 * volume
    bad = np.flatnonzero(rise > allowed)
    if not bad.size:
        return None
    i = int(bad[np.argmax(rise[bad])])
    return (f"the free energy rose by {rise[i]:.3g} (from {F[i]:.6g} to {F[i + 1]:.6g}) between {labels[i]} and "
            f"{labels[i + 1]} ({bad.size} rise{'s' if bad.size > 1 else ''} in all), but the dynamics only lowers "
            f"it: the step is past the scheme's energy-stability limit; {what}")


def explicit_stability(ops, phi, dt: float, mobility: str, factor: float = 1.0) -> str | None:
    """A warning when forward Euler with ``dt`` is past its linear stability bound at ``phi``, else None.

    ``ops`` is the :class:`~.finite_difference.FDOps` of the field; ``mobility`` ``"A"`` (M = ``factor``),
    ``"B"`` (M = ``factor`` × the discrete -Δ_h) or ``"conserved"`` (M = 1 without the k = 0 mode).
    The symbol of the linear operator is the FFT of its response to a unit impulse (exact for the
    stencils), so λ_max = max_k M(k) [V_h(k) + max f''(phi)].
    """
    shape = ops.field.shape
    delta = np.zeros(shape)
    delta.flat[0] = 1.0
    v_h = np.real(np.fft.fftn(ops.convolve(delta)))
    lap = np.real(np.fft.fftn(ops.laplacian(delta)))          # <= 0
    with np.errstate(all="ignore"):
        curvature = float(np.max(ops.local.d2f(phi)))
    if not np.isfinite(curvature):
        return None
    if mobility == "A":
        M = np.full(shape, factor)
    elif mobility == "B":
        M = -factor * lap
    else:
        M = np.ones(shape)
        M.flat[0] = 0.0
    lam = float(np.max(M * (v_h + curvature)))
    if lam <= 0 or dt * lam <= 2.0:
        return None
    return (f"dt = {dt:g} is above the explicit scheme's linear stability bound 2 / λ_max = {2 / lam:.3g} "
            f"(λ_max = {lam:.3g} at the last state): grid-scale modes grow by |1 - dt λ| = {dt * lam - 1:.3g} a "
            "step; lower dt (or use SemiImplicit)")


def saddle_warnings(sol, tol: float) -> list[str]:
    """Warnings for a saddle result that ends Success past an accuracy limit (module doc)."""
    out = []
    if sol.retcode is not tk.ReturnCode.Success:
        return out
    if np.isfinite(sol.residual) and sol.residual > tol:
        out.append(f"the saddle's residual max |dF/dphi| = {sol.residual:.3g} is above the tolerance {tol:g}: it "
                   "is not a converged critical point; tighten or rerun from this state")
    if np.isfinite(sol.barrier) and sol.barrier <= 0:
        out.append(f"the barrier dF = {sol.barrier:.3g} is not positive: the saddle lies below the metastable "
                   "state, so metastable is not a local minimum of F or the saddle belongs to another transition")
    return out


def with_warnings(sol, warnings):
    """``sol`` with ``warnings`` (a list of str, None entries dropped) added to its stats and message."""
    warnings = [w for w in warnings if w]
    if warnings:
        sol.stats["warnings"] = list(sol.stats.get("warnings", [])) + warnings
        sol.message = "; ".join(filter(None, [sol.message, *warnings]))
    return sol

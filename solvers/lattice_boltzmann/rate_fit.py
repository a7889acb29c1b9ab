"""Learned collision rates: fit the free TRT/MRT rates to a target shear-mode dispersion.

The shear rate ω = 1/τ = 1/(3ν + 1/2) is fixed by the viscosity, so the k → 0 limit of the
model is exact; the rates the Chapman–Enskog viscosity does not see (TRT's odd rate ω⁻,
i.e. the magic parameter Λ = (1/ω − 1/2)(1/ω⁻ − 1/2); MRT's non-hydrodynamic rates s_e, s_ε,
s_q, s_π, s_m) still move the shear mode's decay at finite kΔx (:mod:`.dispersion`, by several
per cent at kΔx ~ 1). Given target decay rates Γ_j per step at wavenumbers k_j (e.g. an atomistic
fluid's η(k) k²/ρ in lattice units), the free rates are found by bounded least squares

    min_s Σ_j [(Γ_model(k_j; s) − Γ_j)/σ_j]² + ε Σ_m (s_m − s_m⁰)²,   0 < s < 2,

with σ_j the targets' errors (default Γ_j, i.e. relative residuals) and, for MRT, a tiny pull
ε towards the default rates s⁰ so rates the shear mode does not see stay at their defaults. The result is
accepted only if it matches every target (within ``tolerance`` relative, or within the target's
error when errors are given) and is linearly stable on the Brillouin zone; otherwise the call
refuses with what the best stable model reaches. After the idea of learning collision operators
from data in Corbetta et al., Eur. Phys. J. E 46, 10 (2023), doi:10.1140/epje/s10189-023-00267-w,
restricted here to the linear free rates, which keeps the model conservative and analysable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import toolkit as tk
from toolkit import validate as v

from .base import LatticeSolver
from .dispersion import STABILITY_TOL, _direction, _shear, collision_of, max_amplification, positive_array
from .lattices import lattice
from .mrt import MRT, _DEFAULTS
from .trt import TRT

__all__ = ["RateFit", "fit_relaxation_rates", "model_decay_rates", "FIT_SCHEMES", "MRT_FREE_RATES"]

FIT_SCHEMES = ("TRT", "MRT")
#: The MRT rates that are free (not fixed by conservation or by ν), per lattice.
MRT_FREE_RATES = {"D2Q9": ("s_e", "s_eps", "s_q"), "D3Q19": ("s_e", "s_eps", "s_q", "s_pi", "s_m")}
#: Rates are kept in [RATE_MARGIN, 2 − RATE_MARGIN].
RATE_MARGIN = 1e-3


@dataclass(frozen=True)
class RateFit:
    """A fitted collision model.

    ``solver``: the TRT(...) or MRT(...) ready to run on a ``LatticeFluid`` of viscosity
    ``viscosity``; ``rates``: the free rates found (TRT: ``omega_minus`` and ``magic``; MRT: the
    s_… of :data:`MRT_FREE_RATES`), ``omega`` the shear rate fixed by ν; ``k``, ``target`` and
    ``model`` the wavenumbers and the target and fitted decay rates per step; ``residuals`` =
    model/target − 1; ``max_amplification``: max |λ| over the Brillouin zone (≤ 1: stable).
    """

    scheme: str
    lattice: str
    viscosity: float
    omega: float
    rates: dict
    solver: LatticeSolver
    k: np.ndarray
    target: np.ndarray
    model: np.ndarray
    residuals: np.ndarray
    max_amplification: float
    cost: float = field(default=0.0)

    def __str__(self) -> str:
        rates = ", ".join(f"{name} = {val:.6g}" for name, val in self.rates.items())
        res = ", ".join(f"{r:+.2e}" for r in self.residuals)
        return (f"{self.scheme} on {self.lattice} (ν = {self.viscosity:.6g}, ω = {self.omega:.6g}): {rates}; "
                f"residuals {res}; max|λ| = {self.max_amplification:.12f}")


def model_decay_rates(solver: LatticeSolver, k_dx, *, lattice_name: str = "D2Q9", viscosity: float,
                      direction=None) -> np.ndarray:
    """The shear-mode decay rates −ln|λ(k)| per step of ``solver`` at the wavenumbers ``k_dx``."""
    lat = lattice(lattice_name)
    ks = positive_array("k_dx", k_dx, upper=np.pi * np.sqrt(lat.dim))
    n, t = _direction(direction, lat.dim)
    coll = collision_of(solver, lattice_name, viscosity=viscosity)
    return np.array([_shear(coll, lat, kk * n, t).decay_rate for kk in ks])


def _solver(scheme: str, names: tuple, s: np.ndarray, omega: float) -> LatticeSolver:
    if scheme == "TRT":
        magic = (1.0 / omega - 0.5) * (1.0 / s[0] - 0.5)
        return TRT(magic=magic)
    return MRT(**{name: float(x) for name, x in zip(names, s)})


def _defaults(scheme: str, lattice_name: str, omega: float) -> tuple[tuple, np.ndarray]:
    magic_rate = 1.0 / (3.0 / 16.0 / (1.0 / omega - 0.5) + 0.5)      # Λ = 3/16
    if scheme == "TRT":
        return ("omega_minus",), np.array([magic_rate])
    names = MRT_FREE_RATES[lattice_name]
    d = _DEFAULTS[lattice_name]
    start = {"s_e": d.get("e", 1.0), "s_eps": d.get("eps", 1.0), "s_q": magic_rate, "s_pi": d.get("pi", 1.0),
             "s_m": magic_rate}
    return names, np.array([start[n] for n in names])


def fit_relaxation_rates(lattice_name: str, scheme: str, nu: float, k_dx, target_rates, *, errors=None,
                         direction=None, tolerance: float = 1e-3, velocity=None, initial=None,
                         regularisation: float = 1e-8) -> RateFit:
    """Fit the free rates of ``scheme`` ("TRT" or "MRT") on ``lattice_name`` so that the shear mode
    decays at ``target_rates`` (per lattice step) at the wavenumbers ``k_dx`` (kΔx), the shear rate
    held at ω = 1/(3ν + 1/2).

    ``errors``: the targets' standard errors (weights; a target is then matched when within
    max(tolerance × target, error)); ``direction``: the wave direction (default x); ``velocity``:
    check linear stability about this uniform flow as well as at rest; ``initial``: starting rates
    (default: the solver's defaults). Raises ``InvalidProblemError`` when the targets are not
    positive and finite, or when no stable model of the scheme matches them.
    """
    from scipy.optimize import least_squares

    err = tk.InvalidProblemError
    scheme = v.choice("scheme", scheme, FIT_SCHEMES)
    if scheme == "MRT" and lattice_name not in MRT_FREE_RATES:
        raise err(f"lattice = {lattice_name!r} is not allowed with scheme 'MRT': MRT here has the "
                  f"{' and '.join(MRT_FREE_RATES)} bases; fit 'TRT' on {lattice_name}")
    lat = lattice(lattice_name)
    nu = v.real_scalar("nu", nu, lower=0, lower_open=True)
    ks = positive_array("k_dx", k_dx, upper=np.pi)
    target = positive_array("target_rates", target_rates, shape=ks.shape)
    if ks.size == 0:
        raise err("k_dx = [] is not allowed: give the wavenumbers (kΔx) of the targets, two or three of them")
    if np.any(target >= 1.0):
        raise err(f"target_rates = {v.show(target)} is not allowed: a decay of e^-1 or more per step is beyond "
                  "any lattice model's shear mode; refine the time step (Δt) or give smaller kΔx")
    sigma = target.copy() if errors is None else positive_array("errors", errors, shape=ks.shape)
    tolerance = v.real_scalar("tolerance", tolerance, lower=0, lower_open=True)
    omega = 1.0 / (3.0 * nu + 0.5)
    names, s0 = _defaults(scheme, lattice_name, omega)
    if initial is not None:
        s0 = v.real_array("initial", np.atleast_1d(initial), shape=s0.shape, lower=0, upper=2, lower_open=True,
                          upper_open=True)
    n, t = _direction(direction, lat.dim)
    kvecs = [kk * n for kk in ks]
    lo, hi = RATE_MARGIN, 2.0 - RATE_MARGIN
    s_ref = s0.copy()

    def model(s):
        coll = collision_of(_solver(scheme, names, s, omega), lattice_name, viscosity=nu)
        return np.array([_shear(coll, lat, kv, t).decay_rate for kv in kvecs])

    pull = 0.0 if scheme == "TRT" else np.sqrt(regularisation)      # TRT's one rate is always seen

    def residual(s):
        return np.concatenate([(model(s) - target) / sigma, pull * (s - s_ref)])

    starts = [np.clip(s0, lo, hi)]
    if scheme == "TRT":          # one parameter: a few starts across (0, 2) guard against local minima
        starts += [np.array([x]) for x in (0.2, 0.8, 1.4, 1.9)]
    best = None
    for start in starts:
        res = least_squares(residual, start, bounds=(lo, hi), x_scale=1.0, xtol=1e-14, ftol=1e-14, gtol=1e-14)
        if best is None or res.cost < best.cost:
            best = res
    s = best.x
    solver = _solver(scheme, names, s, omega)
    fitted = model(s)
    rel = fitted / target - 1.0
    coll = collision_of(solver, lattice_name, viscosity=nu)
    amp = max_amplification(coll, lat)
    if velocity is not None:
        amp = max(amp, max_amplification(coll, lat, velocity=velocity))
    rates = {name: float(x) for name, x in zip(names, s)}
    if scheme == "TRT":
        rates["magic"] = float(solver.magic)
    where = "; ".join(f"k = {kk:.4g}: model {m:.6g} vs target {g:.6g} ({r:+.2%})"
                      for kk, m, g, r in zip(ks, fitted, target, rel))
    if amp > 1.0 + STABILITY_TOL:
        raise err(f"target_rates = {v.show(target)} is not allowed: the {scheme} rates that match them "
                  f"({', '.join(f'{a} = {b:.4g}' for a, b in rates.items())}) are linearly unstable (max |λ| = "
                  f"{amp:.6f} > 1 on the Brillouin zone); use smaller kΔx or targets nearer ν k²")
    allowed = np.maximum(tolerance * target, 0.0 if errors is None else sigma)
    if np.any(np.abs(fitted - target) > allowed):
        at_bound = [a for a, b in zip(names, s) if min(b - lo, hi - b) < 1e-6]
        bound = (f"; {', '.join(at_bound)} reached the edge of the stable range (0, 2)" if at_bound else "")
        raise err(f"target_rates = {v.show(target)} is not allowed: no stable {scheme} model with ν = {nu:.6g} "
                  f"matches them within {'their errors' if errors is not None else f'{tolerance:g} relative'}; "
                  f"the closest reaches {where}{bound}. Targets must tend to ν k² as k → 0 (check ν and the units "
                  "of the rates: per lattice step) and deviate from it by no more than the scheme can reach")
    return RateFit(scheme=scheme, lattice=lattice_name, viscosity=nu, omega=omega, rates=rates, solver=solver,
                   k=ks, target=target, model=fitted, residuals=rel, max_amplification=amp, cost=float(best.cost))

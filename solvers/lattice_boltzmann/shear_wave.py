"""Measured decay of a transverse shear wave: the viscosity a lattice Boltzmann solver really has.

A periodic box of n nodes along the wave direction x (one node across, which the periodic
lattice allows) starts at equilibrium with ρ = 1 and u_y(x) = U sin(k x), k = 2π m/n. The
linearised Navier–Stokes equations give u_y(x, t) = U e^{−ν k² t} sin(k x); the lattice gives
e^{−ν_eff(k) k² t} once the non-hydrodynamic modes excited by the equilibrium start have died
out (their rates are ~ the collision rates, so within a few tens of steps). The amplitude is
the projection of u_y on the mode, A(t) = (2/n) |Σ_x u_y(x, t) e^{−i k x}|, and the rate the
least-squares slope of ln A(t) over the fitted window. With U small (default 1e-4) the run is
linear to round-off, so the measured rate equals the shear eigenvalue of the linear analysis
(:mod:`.dispersion`) to many digits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import toolkit as tk
from toolkit import validate as v

from .base import LatticeSolver

__all__ = ["ShearWaveDecay", "measure_shear_wave"]


@dataclass(frozen=True)
class ShearWaveDecay:
    """The measured shear wave: wavenumber ``k`` (kΔx), decay ``rate`` per step, ν_eff = rate/k²,
    the amplitudes A(t) at ``step``, the first fitted step and the fit's rms residual in ln A."""

    k: float
    rate: float
    nu_eff: float
    step: np.ndarray
    amplitude: np.ndarray
    fit_from: int
    residual: float


def measure_shear_wave(solver: LatticeSolver, *, n: int, mode: int = 1, lattice_name: str = "D2Q9",
                       viscosity: float | None = None, tau: float | None = None, amplitude: float = 1e-4,
                       steps: int | None = None, skip: int | None = None) -> ShearWaveDecay:
    """Run ``solver`` on the shear wave of wavenumber k = 2π ``mode``/``n`` and fit its decay.

    The first ``skip`` steps (default 20) are left out of the fit; ``steps`` defaults to ``skip``
    plus two e-folds of the amplitude (at least 40 steps).
    """
    from problems.lattice_fluid import FLUID_LATTICES, LatticeFluid

    n = v.integer("n", n, lower=2)
    mode = v.integer("mode", mode, lower=1)
    if 2 * mode >= n:
        raise tk.InvalidProblemError(f"mode = {mode}, n = {n} is not allowed: the wave needs 2 mode < n "
                                     "(k = 2π mode/n below the lattice's Nyquist wavenumber π)")
    amplitude = v.real_scalar("amplitude", amplitude, lower=0, lower_open=True, upper=0.05)
    if (viscosity is None) == (tau is None):
        raise tk.InvalidProblemError(f"viscosity = {viscosity!r}, tau = {tau!r} is not allowed: give exactly one "
                                     "of viscosity (lattice units, > 0) or tau (> 0.5)")
    nu = (tau - 0.5) / 3.0 if tau is not None else viscosity
    k = 2.0 * math.pi * mode / n
    skip = v.integer("skip", 20 if skip is None else skip, lower=0)
    if steps is None:
        steps = skip + max(40, int(math.ceil(2.0 / max(nu * k * k, 1e-12))))
    steps = v.integer("steps", steps, lower=skip + 3)
    dim = FLUID_LATTICES[lattice_name] if lattice_name in FLUID_LATTICES else 2
    shape = (n,) + (1,) * (dim - 1)
    x = np.arange(n, dtype=float).reshape(shape)
    velocity = np.zeros(shape + (dim,))
    velocity[..., 1] = amplitude * np.sin(k * x)
    problem = LatticeFluid(shape=shape, lattice=lattice_name, viscosity=viscosity, tau=tau, velocity=velocity,
                           steps=steps, save_every=1)
    sol = tk.solve(problem, solver, progress=False)
    if not sol.successful:
        raise tk.UnstableError(f"the shear wave run stopped: {sol.message}")
    uy = sol.velocity[..., 1].reshape(len(sol.step), n)
    phase = np.exp(-1j * k * np.arange(n))
    amp = 2.0 / n * np.abs(uy @ phase)
    step = np.asarray(sol.step)
    sel = step >= skip
    slope, intercept = np.polyfit(step[sel], np.log(amp[sel]), 1)
    resid = np.log(amp[sel]) - (slope * step[sel] + intercept)
    rate = -float(slope)
    return ShearWaveDecay(k=k, rate=rate, nu_eff=rate / (k * k), step=step, amplitude=amp, fit_from=int(skip),
                          residual=float(np.sqrt(np.mean(resid ** 2))))

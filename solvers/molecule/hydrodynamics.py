"""Hydrodynamics of an atomistic fluid from equilibrium MD: shear viscosity at finite k, S(k), sound speed.

The transverse current ``j_T(k, t) = sum_i m v_i^perp exp(i k . r_i)`` (see
:mod:`.structure_factor`) relaxes, in the hydrodynamic limit, by shear diffusion:

    C_T(k, t) = Re <j_T(k, t) j_T(k, 0)^*> / (N m^2) = (k_B T / m) exp(-nu(k) k^2 t),   nu = eta / (rho m)

(Hansen & McDonald, *Theory of Simple Liquids*, 4th ed., §8.2 and §9.2; C_T(k, 0) = k_B T / m by
equipartition, up to a relative ``S(k)/N`` from the fixed total momentum). At finite k the decay is
viscoelastic and the wavevector-dependent viscosity is defined through the time integral,

    eta(k) = rho m C_T(k, 0) / (k^2 int_0^inf C_T(k, t) dt),

which equals the exponential rate of the hydrodynamic form where that form holds (Palmer, Phys.
Rev. E 49, 359 (1994), doi:10.1103/PhysRevE.49.359). ``eta(k)`` is extrapolated to k -> 0 by
the Lorentzian ``eta(k) = eta_0 / (1 + a k^2)`` (Palmer 1994; Balucani, Brodholt, Jedlovszky &
Vallauri, Phys. Rev. E 62, 2971 (2000)): ``1/eta`` is linear in ``k^2``, fitted by weighted least
squares.

The static structure factor ``S(k) = <|rho_k|^2> / N`` gives the isothermal compressibility through
``S(0) = rho k_B T kappa_T`` and hence the isothermal sound speed ``c_T = sqrt(k_B T / (m S(0)))``
(Hansen & McDonald §3.6 and §8.4); ``S(0)`` is extrapolated from the smallest shells as a polynomial
in ``k^2``. Green–Kubo shear and bulk viscosities come from the same runs' pressure tensor
(:mod:`.observables`).

Statistical errors come from independent runs (members of a ``tk.EnsembleProblem``: velocities
redrawn from the member's stream, stochastic solvers reseeded), by the jackknife over runs for every
derived quantity (eta(k), eta_0, S(0), c_T) and the standard error of the block means for Green–Kubo.

Units: everything in the record is in reduced units of the potential: length sigma, energy epsilon,
mass m (the atoms' mass), time tau = sigma sqrt(m / epsilon). For :class:`LennardJones` these are its
``sigma`` and ``epsilon``; for another potential 1 Å and 1 eV. The record keeps sigma (Å), epsilon
(eV), m (amu) and tau (fs) to convert back.
"""

from __future__ import annotations

import functools
import math

import numpy as np

import toolkit as tk
from problems.molecule import FS, KB_EV, MolecularDynamics, maxwell_boltzmann

from . import observables
from .structure_factor import (cubic_edge, extrapolate_structure_factor, fourier_modes, polarisations, shell_vectors,
                               structure_factor)

__all__ = ["HydrodynamicsRecord", "measure_hydrodynamics", "reduced_units", "trajectory_modes",
           "transverse_correlation", "viscosity_of_k", "extrapolate_viscosity", "isothermal_sound_speed",
           "jackknife"]


# -- units ----------------------------------------------------------------------------------------

def reduced_units(problem) -> tuple[float, float, float, float]:
    """``(sigma Å, epsilon eV, m amu, tau fs)`` of a ``MolecularDynamics`` problem (module docstring)."""
    potential = problem.potential
    sigma = float(getattr(potential, "sigma", 1.0) or 1.0)
    epsilon = float(getattr(potential, "epsilon", 1.0) or 1.0)
    masses = problem.molecule.masses
    if np.ptp(masses) > 1e-9 * masses.max():
        raise ValueError("the molecule has atoms of different masses: these measurements are for a one-component "
                         "fluid; give every atom the same mass")
    mass = float(masses[0])
    tau = sigma * math.sqrt(mass / epsilon) / FS
    return sigma, epsilon, mass, tau


# -- analysis of a trajectory ---------------------------------------------------------------------

def trajectory_modes(solution, shells=(1, 2, 3), start: int = 0) -> dict:
    """Density and transverse-current modes of an ``MDSolution``'s frames, in reduced units.

    Returns a dict: ``k`` (S,) the shells' wavenumbers (1/sigma), ``shell_index`` (K,), ``n`` (K, 3),
    ``time`` (F,) frame times (tau), ``rho`` (F, K) and ``jt`` (F, K, 2) (complex; ``jt`` in m sigma/tau),
    ``n_atoms``. The frames must be evenly spaced (``save_every`` steps apart).
    """
    sigma, _, mass, tau = reduced_units(solution.problem)
    edge = cubic_edge(solution.problem.molecule.cell) / sigma
    n, shell_index = shell_vectors(shells)
    x = solution.positions[start:] / sigma
    v = solution.velocities[start:] * (tau / sigma)
    rho, jt = fourier_modes(x, v, np.ones(x.shape[1]), edge, n, polarisations(n))
    k = 2.0 * np.pi * np.sqrt(np.asarray(shells, dtype=float)) / edge
    return {"k": k, "shell_index": shell_index, "n": n, "time": solution.frame_time[start:] / tau, "rho": rho,
            "jt": jt, "n_atoms": x.shape[1]}


def transverse_correlation(jt, shell_index, n_atoms: int, max_lag: int | None = None) -> np.ndarray:
    """``C_T(k, t)`` (S, lags) per shell: ``Re <j_T(t0 + t) j_T(t0)^*> / N`` averaged over time origins,
    the shell's vectors and both polarisations (``jt`` (F, K, 2) in units of m x velocity, so C_T is
    a velocity squared per unit mass^2; with ``m = 1`` it is k_B T / m at t = 0)."""
    jt = np.asarray(jt)
    shell_index = np.asarray(shell_index)
    out = []
    for s in range(int(shell_index.max()) + 1):
        modes = jt[:, shell_index == s, :].reshape(len(jt), -1)
        cols = np.concatenate([modes.real, modes.imag], axis=1)
        out.append(observables.autocorrelation(cols, max_lag) / (modes.shape[1] * n_atoms))
    return np.array(out)


def _integral_rates(time, ct, k, window: float):
    """``nu(k) k^2 = C(0) / int_0^{t_w} C dt`` with ``t_w = window / (nu k^2)`` found self-consistently."""
    rates = np.empty(len(k))
    dt = time[1] - time[0]
    for s in range(len(k)):
        c = ct[s]
        running = np.concatenate([[0.0], np.cumsum(0.5 * (c[1:] + c[:-1])) * dt])
        rate = c[0] / max(running[-1], 1e-300)
        for _ in range(50):                      # t_w = window decay times, iterated to a fixed point
            j = min(len(c) - 1, max(1, int(round(window / rate / dt))))
            new = c[0] / running[j] if running[j] > 0 else np.inf
            if not np.isfinite(new) or abs(new / rate - 1) < 1e-6:
                rate = new
                break
            rate = new
        rates[s] = rate
    return rates


def _exponential_rates(time, ct, k, fit_range: tuple[float, float]):
    """``nu(k) k^2`` from a straight-line fit of ``ln C`` over ``C / C(0)`` between ``fit_range``."""
    hi, lo = max(fit_range), min(fit_range)
    rates = np.empty(len(k))
    for s in range(len(k)):
        r = ct[s] / ct[s, 0]
        below = np.nonzero(r < lo)[0]
        end = below[0] if len(below) else len(r)
        keep = np.arange(end)
        keep = keep[r[keep] <= hi]
        if len(keep) < 2:
            rates[s] = np.nan
            continue
        slope = np.polyfit(time[keep], np.log(r[keep]), 1)[0]
        rates[s] = -slope
    return rates


def maxwell_ct(time, omega2: float, tau_m: float) -> np.ndarray:
    """``C_T(k, t) / C_T(k, 0)`` of the viscoelastic (Maxwell) model: memory ``omega2 exp(-t / tau_m)``.

    ``dC/dt = -int_0^t omega2 exp(-(t - s) / tau_m) C(s) ds`` with ``omega2 = k^2 G(k) / (rho m)``; its
    roots ``s^2 + s / tau_m + omega2 = 0`` give ``C = (s+ e^{s- t} - s- e^{s+ t}) / (s+ - s-)``
    (overdamped: two decaying exponentials; underdamped: a damped shear wave). Its time integral is
    ``1 / (omega2 tau_m)``, so ``eta(k) = rho m omega2 tau_m / k^2`` (Hansen & McDonald §9.2).
    """
    t = np.asarray(time, dtype=float)
    disc = np.lib.scimath.sqrt(0.25 / tau_m ** 2 - omega2 + 0j) + 1e-12
    sp, sm = -0.5 / tau_m + disc, -0.5 / tau_m - disc
    return np.real((sp * np.exp(sm * t) - sm * np.exp(sp * t)) / (sp - sm))


def _maxwell_rates(time, ct, k, error, t_fit: float):
    """``nu(k) k^2 = omega2 tau_m`` of the Maxwell model fitted to ``C_T / C_T(0)`` over ``t <= t_fit``."""
    from scipy.optimize import least_squares

    rates = np.empty(len(k))
    keep = time <= t_fit
    for s in range(len(k)):
        r = ct[s, keep] / ct[s, 0]
        sig = np.ones_like(r) if error is None else np.maximum(error[s, keep] / ct[s, 0], 1e-3)
        guess = _integral_rates(time, ct[s:s + 1], k[s:s + 1], 2.0)[0]
        tau0 = 0.25

        def resid(p):
            return (maxwell_ct(time[keep], np.exp(p[0]), np.exp(p[1])) - r) / sig

        fit = least_squares(resid, [np.log(guess / tau0), np.log(tau0)], method="lm")
        rates[s] = np.exp(fit.x[0] + fit.x[1])
    return rates


def viscosity_of_k(time, ct, k, density: float, *, method: str = "integral", window: float = 8.0,
                   fit_range: tuple[float, float] = (np.exp(-0.5), np.exp(-2.0)), error=None) -> np.ndarray:
    """``eta(k)`` (reduced units, m = 1) from ``C_T(k, t)`` (S, lags) at lag times ``time``.

    ``method="integral"`` (default): ``eta(k) = rho C_T(k, 0) / (k^2 int_0^{t_w} C_T dt)`` with the
    window ``t_w = window / (nu(k) k^2)`` (``window`` decay times, found self-consistently; the rest
    of the integral is ``exp(-window)`` of it for an exponential decay and dies in the noise for a
    viscoelastic one). ``method="exponential"``: the slope of ``ln C_T`` over the times where
    ``C_T / C_T(0)`` lies in ``fit_range`` (default e^-0.5 to e^-2, which skips the non-exponential
    start); this is the hydrodynamic form and equals the integral only where hydrodynamics holds
    (k sigma well below 1, Mithen, Daligault & Gregori, Phys. Rev. E 83, 015401 (2011)).
    """
    time = np.asarray(time, dtype=float)
    ct = np.atleast_2d(np.asarray(ct, dtype=float))
    k = np.atleast_1d(np.asarray(k, dtype=float))
    if method == "integral":
        rates = _integral_rates(time, ct, k, float(window))
    elif method == "exponential":
        rates = _exponential_rates(time, ct, k, fit_range)
    elif method == "maxwell":
        rates = _maxwell_rates(time, ct, k, error, float(window))
    else:
        raise ValueError(f"method = {method!r} is not allowed: choose 'integral' or 'exponential'")
    return density * rates / k ** 2


def extrapolate_viscosity(k, eta, error=None) -> tuple[float, float]:
    """``(eta_0, a)`` of ``eta(k) = eta_0 / (1 + a k^2)``: weighted least squares of ``1/eta`` against ``k^2``.

    With one shell only, ``a = 0`` and ``eta_0 = eta(k)`` (no extrapolation possible).
    """
    k2 = np.asarray(k, dtype=float) ** 2
    inv = 1.0 / np.asarray(eta, dtype=float)
    if len(k2) == 1:
        return float(1.0 / inv[0]), 0.0
    w = None if error is None else np.asarray(eta, dtype=float) ** 2 / np.maximum(np.asarray(error, dtype=float),
                                                                                     1e-300)
    c0, c1 = np.polynomial.polynomial.polyfit(k2, inv, 1, w=w)
    return float(1.0 / c0), float(c1 / c0)


def isothermal_sound_speed(s0: float, temperature: float, mass: float = 1.0) -> float:
    """``c_T = sqrt(k_B T / (m S(0)))`` (k_B T and m in the same units; reduced: T*, m = 1)."""
    if not s0 > 0:
        return float("nan")
    return float(math.sqrt(temperature / (mass * s0)))


def jackknife(samples, estimator):
    """``(estimate, error)`` of ``estimator(mean of samples)`` by the leave-one-out jackknife over the
    first axis of ``samples`` (independent runs); the estimate is the all-runs value."""
    samples = np.asarray(samples)
    n = len(samples)
    full = np.asarray(estimator(samples.mean(axis=0)), dtype=float)
    if n < 2:
        return full, np.full(full.shape, np.nan)
    total = samples.sum(axis=0)
    loo = np.array([estimator((total - samples[i]) / (n - 1)) for i in range(n)], dtype=float)
    with np.errstate(invalid="ignore"):          # a leave-one-out value that is infinite: no error (NaN)
        error = np.sqrt((n - 1) / n * ((loo - loo.mean(axis=0)) ** 2).sum(axis=0))
    return full, error


# -- the record -----------------------------------------------------------------------------------

class HydrodynamicsRecord(tk.Struct):
    """Hydrodynamic measurements of one fluid state from independent MD runs (reduced units).

    Shear channel: ``k`` (S,) wavenumbers of the shells ``shells`` (|n|^2), ``time`` (L,) lags,
    ``ct`` / ``ct_error`` (S, L) C_T(k, t) and its standard error over runs, ``eta_k`` /
    ``eta_k_error`` (S,), ``eta0`` / ``eta0_error`` and ``eta_a`` of eta(k) = eta_0 / (1 + a k^2).
    Structure: ``sk_k`` / ``sk`` / ``sk_error`` (S2,), ``s0`` / ``s0_error``, ``sound_speed`` /
    ``sound_speed_error`` (isothermal). Green–Kubo: ``gk_shear`` / ``gk_shear_error``, ``gk_bulk`` /
    ``gk_bulk_error``. State: ``density``, ``temperature`` / ``temperature_error`` (mean kinetic T of
    the production runs), ``mass`` (1 in these units), ``n_atoms``, ``runs``. A scalar that could not be
    measured (an error from one run, eta_0 from frames too sparse for C_T) is None. Conversion: ``sigma``
    (Å), ``epsilon`` (eV), ``mass_amu``, ``tau_fs``. ``method`` and ``window`` say how eta(k) was read.
    """

    shells: np.ndarray
    k: np.ndarray
    time: np.ndarray
    ct: np.ndarray
    ct_error: np.ndarray
    eta_k: np.ndarray
    eta_k_error: np.ndarray
    eta0: float | None
    eta0_error: float | None
    eta_a: float | None
    sk_shells: np.ndarray
    sk_k: np.ndarray
    sk: np.ndarray
    sk_error: np.ndarray
    s0: float | None
    s0_error: float | None
    sound_speed: float | None
    sound_speed_error: float | None
    gk_shear: float | None
    gk_shear_error: float | None
    gk_bulk: float | None
    gk_bulk_error: float | None
    density: float
    temperature: float
    temperature_error: float | None
    mass: float = 1.0
    n_atoms: int = 0
    runs: int = 0
    sigma: float = 1.0
    epsilon: float = 1.0
    mass_amu: float = 1.0
    tau_fs: float = 1.0
    method: str = "integral"
    window: float = 4.0

    def _validate(self):
        for name in ("shells", "sk_shells"):
            self._set(name, np.ascontiguousarray(getattr(self, name), dtype=np.int64))
        for name in ("k", "time", "ct", "ct_error", "eta_k", "eta_k_error", "sk_k", "sk", "sk_error"):
            self._set(name, np.ascontiguousarray(getattr(self, name), dtype=np.float64))
        s, lags = len(self.k), len(self.time)
        for name, shape in (("shells", (s,)), ("ct", (s, lags)), ("ct_error", (s, lags)), ("eta_k", (s,)),
                            ("eta_k_error", (s,)), ("sk_k", (len(self.sk_shells),)), ("sk", (len(self.sk_shells),)),
                            ("sk_error", (len(self.sk_shells),))):
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} has shape {getattr(self, name).shape}: it must be {shape} "
                                 f"({s} shells, {lags} lags)")

    # -- derived ------------------------------------------------------------------------------
    @property
    def nu_k(self) -> np.ndarray:
        """Kinematic viscosity nu(k) = eta(k) / (rho m), sigma^2 / tau."""
        return self.eta_k / (self.density * self.mass)

    @property
    def ct0_ratio(self) -> np.ndarray:
        """C_T(k, 0) / (k_B T / m) per shell: 1 by equipartition."""
        return self.ct[:, 0] * self.mass / self.temperature

    def hydrodynamic_ct(self, eta: float | None = None) -> np.ndarray:
        """(S, L): ``(k_B T / m) exp(-eta k^2 t / (rho m))`` with ``eta`` (default ``eta0``)."""
        eta = self.eta0 if eta is None else eta
        return self.temperature / self.mass * np.exp(-np.outer(eta * self.k ** 2 / (self.density * self.mass),
                                                              self.time))

    # -- output -------------------------------------------------------------------------------
    def to_xarray(self):
        """An ``xarray.Dataset`` with coordinates ``k``, ``time``, ``sk_k`` and units in the attrs."""
        import xarray as xr

        from toolkit.conventions import index, reduced

        red = "reduced LJ units"
        meaning = "reduced LJ units: sigma, epsilon, m, tau = sigma sqrt(m / epsilon)"
        ds = xr.Dataset(
            {"ct": (("k", "time"), self.ct, reduced("transverse current autocorrelation C_T(k, t)",
                                                      "(sigma/tau)^2", meaning)),
             "ct_error": (("k", "time"), self.ct_error, reduced("standard error of C_T over runs", "(sigma/tau)^2",
                                                                  meaning)),
             "eta_k": ("k", self.eta_k, reduced("wavevector-dependent shear viscosity eta(k)",
                                                "(epsilon tau/sigma^3)", meaning)),
             "eta_k_error": ("k", self.eta_k_error, reduced("jackknife error of eta(k)", "(epsilon tau/sigma^3)",
                                                            meaning)),
             "nu_k": ("k", self.nu_k, reduced("kinematic viscosity nu(k) = eta(k) / (rho m)", "(sigma^2/tau)",
                                              meaning)),
             "shells": ("k", self.shells, index("shell |n|^2 of k = 2 pi n / L")),
             "sk": ("sk_k", self.sk, {"long_name": "static structure factor S(k)", "units": "1"}),
             "sk_error": ("sk_k", self.sk_error, {"long_name": "jackknife error of S(k)", "units": "1"})},
            coords={"k": ("k", self.k, reduced("wavenumber k", "(1/sigma)", meaning)),
                    "time": ("time", self.time, reduced("lag time", "tau", meaning)),
                    "sk_k": ("sk_k", self.sk_k, reduced("wavenumber of S(k)", "(1/sigma)", meaning))})
        scalars = {"eta0": "shear viscosity eta(k -> 0) from C_T", "eta0_error": "jackknife error of eta0",
                   "eta_a": "a of eta(k) = eta0 / (1 + a k^2) [sigma^2]",
                   "s0": "S(k -> 0)", "s0_error": "jackknife error of S(0)",
                   "sound_speed": "isothermal sound speed c_T [sigma / tau]", "sound_speed_error": "error of c_T",
                   "gk_shear": "Green-Kubo shear viscosity", "gk_shear_error": "error of the GK shear viscosity",
                   "gk_bulk": "Green-Kubo bulk viscosity", "gk_bulk_error": "error of the GK bulk viscosity",
                   "density": "number density rho* [sigma^-3]", "temperature": "temperature T* [epsilon / k_B]",
                   "temperature_error": "standard error of T* over runs", "mass": "atomic mass [m]",
                   "n_atoms": "atoms per run", "runs": "independent runs", "sigma": "sigma [Angstrom]",
                   "epsilon": "epsilon [eV]", "mass_amu": "m [amu]", "tau_fs": "tau = sigma sqrt(m / epsilon) [fs]",
                   "method": "how eta(k) was read from C_T", "window": "integration window [decay times]"}
        ds.attrs.update({name: _nan(getattr(self, name)) for name in scalars})
        ds.attrs["units"] = red + ": sigma, epsilon, m, tau = sigma sqrt(m / epsilon); viscosities in epsilon tau / sigma^3"
        ds.attrs["descriptions"] = "; ".join(f"{k}: {v}" for k, v in scalars.items())
        return ds

    def save(self, path):
        """Write the record to a NetCDF file (``toolkit.io``; no pickle)."""
        from toolkit.io import write_record

        return write_record(path, "hydrodynamics", self, {"summary": repr(self)})

    @classmethod
    def load(cls, path) -> "HydrodynamicsRecord":
        """Read a record written by :meth:`save`."""
        from toolkit.io import read_record

        record, _ = read_record(path, "hydrodynamics")
        if not isinstance(record, cls):
            raise tk.FileFormatError(f"{path} holds a {type(record).__name__}, not a HydrodynamicsRecord")
        return record

    def plot(self, axes=None):
        """Three panels: C_T(k, t) / C_T(k, 0) against the hydrodynamic exponential of eta0; eta(k) with
        the Lorentzian fit and Green–Kubo; S(k) with its k -> 0 extrapolation."""
        import matplotlib.pyplot as plt

        if axes is None:
            fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), constrained_layout=True)
        else:
            fig = np.ravel(axes)[0].figure
        ax = axes[0]
        hydro = self.hydrodynamic_ct(_nan(self.eta0))
        for s in range(len(self.k)):
            line, = ax.plot(self.time, self.ct[s] / self.ct[s, 0], label=f"k = {self.k[s]:.3g}")
            ax.plot(self.time, hydro[s] / hydro[s, 0], ls="--", color=line.get_color())
        ax.axhline(0, color="0.6", lw=0.5)
        ax.set_xlabel("t [reduced: τ]")
        ax.set_ylabel("C_T(k,t)/C_T(k,0) [dimensionless]")
        ax.set_title("transverse-current decay (MD solid, exp(-nu k^2 t) dashed)", fontsize=9)
        ax.legend(fontsize=8)
        ax = axes[1]
        ax.errorbar(self.k ** 2, self.eta_k, self.eta_k_error, fmt="o", label="eta(k) from C_T")
        kk = np.linspace(0, self.k.max() ** 2 * 1.05, 50)
        eta0, eta0_error, a = _nan(self.eta0), _nan(self.eta0_error), _nan(self.eta_a)
        ax.plot(kk, eta0 / (1 + a * kk), label=f"eta0 = {eta0:.3g} ± {eta0_error:.2g}")
        ax.errorbar([0], [_nan(self.gk_shear)], [_nan(self.gk_shear_error)], fmt="s", label="Green–Kubo")
        ax.set_xlabel("k² [reduced: σ⁻²]")
        ax.set_ylabel("η [reduced: ετ/σ³]")
        ax.set_title("shear viscosity η(k) and its k → 0 limit", fontsize=9)
        ax.legend(fontsize=8)
        ax = axes[2]
        ax.errorbar(self.sk_k, self.sk, self.sk_error, fmt="o", label="S(k)")
        ax.errorbar([0], [_nan(self.s0)], [_nan(self.s0_error)], fmt="s",
                    label=f"S(0), c_T = {_nan(self.sound_speed):.3g}")
        ax.set_xlabel("k [reduced: 1/σ]")
        ax.set_ylabel("S(k) [dimensionless]")
        ax.set_title("static structure factor and S(0)", fontsize=9)
        ax.legend(fontsize=8)
        return fig


# -- the measurement ------------------------------------------------------------------------------

def _redraw_velocities(problem, index, rng, *, temperature_k: float):
    """Ensemble ``vary``: the same configuration with Maxwell–Boltzmann velocities from the member's stream."""
    mol = problem.molecule
    velocities = maxwell_boltzmann(mol.masses, temperature_k, rng)
    return tk.remake(problem, molecule=tk.remake(mol, velocities=velocities))


def _continue(problem, solution, steps, save_every, thermo_every, energy=None):
    """A problem that continues ``solution`` from its last frame (velocities scaled to ``energy`` if given)."""
    velocities = solution.velocities[-1]
    if energy is not None:
        kinetic = solution.kinetic_energy[-1]
        scale = math.sqrt(max(energy - solution.potential_energy[-1], 1e-12 * kinetic) / kinetic)
        velocities = velocities * scale
    mol = tk.remake(problem.molecule, positions=solution.positions[-1], velocities=velocities)
    return tk.remake(problem, molecule=mol, steps=steps, save_every=save_every, thermo_every=thermo_every)


def _member(job) -> dict:
    """One independent run: equilibrate, then produce in segments, keeping only the modes and stresses."""
    problem, solver, equilibrate, equilibrate_steps, shells, segment, match_energy = job
    sigma, epsilon, mass, tau = reduced_units(problem)
    edge = cubic_edge(problem.molecule.cell) / sigma
    n, shell_index = shell_vectors(shells)
    pol = polarisations(n)
    current = problem
    if equilibrate is not None and equilibrate_steps > 0:
        eq = tk.solve(tk.remake(problem, steps=equilibrate_steps, save_every=equilibrate_steps,
                                thermo_every=max(1, equilibrate_steps // 200)), equilibrate, progress=False)
        if not eq.successful:
            raise RuntimeError(f"equilibration stopped {eq.retcode}: {eq.message}")
        half = slice(len(eq.time) // 2, None)
        energy = float(np.mean(eq.potential_energy[half] + eq.kinetic_energy[half])) if match_energy else None
        current = _continue(problem, eq, segment, problem.save_every, problem.thermo_every, energy)
    rho, jt, tensor, temperature = [], [], [], []
    done = 0
    while done < problem.steps:
        steps = min(segment, problem.steps - done)
        current = tk.remake(current, steps=steps)
        sol = tk.solve(current, solver, progress=False)
        if not sol.successful:
            raise RuntimeError(f"production stopped {sol.retcode} after {done} steps: {sol.message}")
        first = 0 if done == 0 else 1            # a segment's first record is the previous one's last
        r, j = fourier_modes(sol.positions[first:] / sigma, sol.velocities[first:] * (tau / sigma),
                             np.ones(problem.molecule.n_atoms), edge, n, pol)
        rho.append(r)
        jt.append(j)
        tensor.append(sol.pressure_tensor[first:])
        temperature.append(sol.temperature[first:])
        done += steps
        current = _continue(current, sol, segment, problem.save_every, problem.thermo_every)
    return {"rho": np.concatenate(rho), "jt": np.concatenate(jt), "tensor": np.concatenate(tensor),
            "temperature": np.concatenate(temperature), "thermo_dt": float(sol.time[1] - sol.time[0]),
            "frame_dt": float(sol.frame_time[1] - sol.frame_time[0])}


def _check_solver(solver, name):
    from .dynamics import Langevin, NoseHoover, VelocityVerlet

    if isinstance(solver, Langevin) and name == "md_solver":
        raise ValueError(f"md_solver = {solver!r} is not allowed for the production runs: Langevin friction damps "
                         "every momentum current (C_T would decay at nu k^2 + friction); give VelocityVerlet "
                         "(and equilibrate with Langevin or NoseHoover)")
    if not isinstance(solver, (VelocityVerlet, Langevin, NoseHoover)):
        raise ValueError(f"{name} = {solver!r} is not allowed: give VelocityVerlet, NoseHoover or Langevin")


def measure_hydrodynamics(md_problem: MolecularDynamics, md_solver, *, shells=(1, 2, 3),
                          sk_shells=(1, 2, 3, 4, 5, 6), runs: int = 4, executor=None, equilibrate=None,
                          equilibrate_steps: int = 0, match_energy: bool = True, segment_steps: int | None = None,
                          max_lag: float = 5.0, method: str = "integral", window: float = 8.0,
                          gk_window: float = 5.0, gk_blocks: int = 5, bulk_window: float | None = None,
                          sk_degree: int = 1, seed: int = 0) -> HydrodynamicsRecord:
    """Measure C_T(k, t), eta(k), eta_0, S(k), c_T and Green–Kubo viscosities from ``runs`` independent runs.

    ``md_problem``: the fluid (a cubic periodic box of one species), its potential, and the production
    run of each member: ``steps`` steps, frames (for the modes) every ``save_every`` steps and the
    pressure tensor (Green–Kubo) every ``thermo_every`` steps. ``md_solver``: the production dynamics,
    momentum-conserving (VelocityVerlet; NoseHoover is accepted, its chain restarts every segment).

    Members are those of ``tk.EnsembleProblem(md_problem, vary=<redraw Maxwell–Boltzmann velocities>,
    n=runs, seed=seed)``: each draws its velocities at the equilibration temperature from its own
    stream and its stochastic solvers get their own seeds, so the result does not depend on the
    ``executor`` (``tk.Serial()`` default, ``tk.Threads(k)``, ``tk.Processes(k)``, ``tk.Dask()``: anything
    with ``map``). Each member first runs ``equilibrate`` (a thermostat, e.g. NoseHoover) for
    ``equilibrate_steps`` steps and, with ``match_energy``, rescales its velocities so that its energy is
    the canonical mean of the equilibration's second half (an NVE run from one snapshot would otherwise
    sit at a temperature off by its instantaneous fluctuation); then it produces in segments of
    ``segment_steps`` steps (default 200 frames), of which only the Fourier modes and stresses are kept.

    ``shells``: |n|^2 of the wavevectors k = 2 pi n / L for C_T and eta(k) (1, 2, 3: the axes, face and
    body diagonals of the smallest k); ``sk_shells``: those of S(k), extrapolated to S(0) by a
    polynomial of ``sk_degree`` in k^2. ``max_lag`` (tau): the longest lag of C_T. ``method`` /
    ``window``: how eta(k) is read (:func:`viscosity_of_k`). ``gk_window`` / ``bulk_window`` (tau, default
    ``gk_window``): Green–Kubo integration windows; ``gk_blocks``: blocks per run.
    """
    if not isinstance(md_problem, MolecularDynamics):
        raise ValueError(f"md_problem = {type(md_problem).__name__} is not allowed: give a MolecularDynamics problem")
    _check_solver(md_solver, "md_solver")
    if equilibrate is not None:
        _check_solver(equilibrate, "equilibrate")
    runs = tk.validate.integer("runs", runs, lower=1, error=ValueError)
    sigma, epsilon, mass, tau = reduced_units(md_problem)
    mol = md_problem.molecule
    edge = cubic_edge(mol.cell)
    shells = tuple(int(s) for s in shells)
    sk_shells = tuple(int(s) for s in sk_shells)
    every = md_problem.save_every * md_problem.thermo_every // math.gcd(md_problem.save_every,
                                                                       md_problem.thermo_every)
    segment = segment_steps or 200 * md_problem.save_every
    segment = max(every, segment // every * every)
    all_shells = tuple(dict.fromkeys(shells + sk_shells))
    temperature_k = float(getattr(equilibrate, "temperature", 0.0) or 0.0)
    if temperature_k <= 0:
        temperature_k = 2.0 * mol.kinetic_energy() / (max(3 * mol.n_atoms - 3, 1) * KB_EV)
    ensemble = tk.EnsembleProblem(md_problem, vary=functools.partial(_redraw_velocities, temperature_k=temperature_k),
                                  n=runs, seed=seed)
    jobs = []
    for i in range(runs):
        member_problem, member_solver = ensemble.member(i, md_solver)
        member_equilibrate = None if equilibrate is None else ensemble.member(i, equilibrate)[1]
        jobs.append((member_problem, member_solver, member_equilibrate, int(equilibrate_steps), all_shells, segment,
                     bool(match_energy)))
    executor = tk.Serial() if executor is None else executor
    data = list(executor.map(_member, jobs))
    return _record(data, md_problem, shells, sk_shells, all_shells, edge, max_lag, method, window, gk_window,
                   gk_blocks, bulk_window, sk_degree)


def _record(data, md_problem, shells, sk_shells, all_shells, edge, max_lag, method, window, gk_window, gk_blocks,
            bulk_window, sk_degree) -> HydrodynamicsRecord:
    """Reduce the members' modes and stresses to a :class:`HydrodynamicsRecord` (jackknife over runs)."""
    sigma, epsilon, mass, tau = reduced_units(md_problem)
    n_atoms = md_problem.molecule.n_atoms
    density = n_atoms / (edge / sigma) ** 3
    _, index = shell_vectors(all_shells)
    frame_dt = data[0]["frame_dt"] / tau
    lags = min(int(round(max_lag / frame_dt)) + 1, min(len(d["jt"]) for d in data))
    temps = np.array([d["temperature"].mean() * KB_EV / epsilon for d in data])
    temperature = float(temps.mean())
    # per run: C_T for the C_T shells, S(k) for the S(k) shells
    ct_pos = [all_shells.index(s) for s in shells]
    sk_pos = [all_shells.index(s) for s in sk_shells]
    ct_runs = np.array([transverse_correlation(d["jt"], index, n_atoms, lags)[ct_pos] for d in data])
    sk_runs = np.array([structure_factor(d["rho"], n_atoms, index)[sk_pos] for d in data])
    k = 2 * np.pi * np.sqrt(np.array(shells, dtype=float)) / (edge / sigma)
    sk_k = 2 * np.pi * np.sqrt(np.array(sk_shells, dtype=float)) / (edge / sigma)
    time = np.arange(lags) * frame_dt
    nr = len(data)
    ct = ct_runs.mean(0)
    ct_error = ct_runs.std(0, ddof=1) / np.sqrt(nr) if nr > 1 else np.full(ct.shape, np.nan)

    def eta_of(c):
        if lags < 3:              # frames too sparse to resolve C_T: no eta(k) (Green–Kubo runs)
            return np.full(len(k), np.nan)
        return viscosity_of_k(time, c, k, density, method=method, window=window)

    eta_k, eta_k_error = jackknife(ct_runs, eta_of)

    def eta0_of(c):
        values = eta_of(c)
        if not np.all(np.isfinite(values)):
            return np.array([np.nan, np.nan])
        return np.array(extrapolate_viscosity(k, values, eta_k_error if nr > 2 else None))

    (eta0, eta_a), (eta0_error, _) = jackknife(ct_runs, eta0_of)
    sk = sk_runs.mean(0)
    sk_error = sk_runs.std(0, ddof=1) / np.sqrt(nr) if nr > 1 else np.full(sk.shape, np.nan)

    def s0_of(s):
        return extrapolate_structure_factor(sk_k, s, sk_error if nr > 2 else None, sk_degree)[0]

    s0, s0_error = jackknife(sk_runs, s0_of)
    sound, sound_error = jackknife(sk_runs, lambda s: isothermal_sound_speed(s0_of(s), temperature))
    # Green–Kubo in the family's units, then to reduced units
    volume = float(md_problem.molecule.volume)
    t_kelvin = temperature * epsilon / KB_EV
    dt_fs = data[0]["thermo_dt"]
    tensors = [d["tensor"] for d in data]
    unit = epsilon * tau / sigma ** 3
    shear = observables.green_kubo_viscosity(tensor=tensors, dt=dt_fs, volume=volume, temperature=t_kelvin,
                                             window=gk_window * tau, blocks=gk_blocks, components="traceless")
    bulk = observables.green_kubo_bulk_viscosity(tensor=tensors, dt=dt_fs, volume=volume, temperature=t_kelvin,
                                                 window=(bulk_window or gk_window) * tau, blocks=gk_blocks)
    return HydrodynamicsRecord(
        shells=np.array(shells), k=k, time=time, ct=ct, ct_error=ct_error, eta_k=eta_k, eta_k_error=eta_k_error,
        eta0=_number(eta0), eta0_error=_number(eta0_error), eta_a=_number(eta_a), sk_shells=np.array(sk_shells),
        sk_k=sk_k, sk=sk, sk_error=sk_error, s0=_number(s0), s0_error=_number(s0_error), sound_speed=_number(sound),
        sound_speed_error=_number(sound_error), gk_shear=_number(shear.value / unit),
        gk_shear_error=_number(shear.error / unit), gk_bulk=_number(bulk.value / unit),
        gk_bulk_error=_number(bulk.error / unit), density=float(density), temperature=temperature,
        temperature_error=_number(temps.std(ddof=1) / np.sqrt(nr)) if nr > 1 else None, mass=1.0,
        n_atoms=n_atoms, runs=nr, sigma=sigma, epsilon=epsilon, mass_amu=mass, tau_fs=tau, method=method,
        window=float(window))


def _nan(value) -> float:
    """None (not measured) as NaN, for attributes and plots."""
    return float("nan") if value is None else value


def _number(value) -> float | None:
    """A finite float, or None for a quantity that could not be measured."""
    value = float(value)
    return value if math.isfinite(value) else None

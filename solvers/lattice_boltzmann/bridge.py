"""Coarse-graining an atomistic fluid into a lattice Boltzmann model (issue 21).

``tk.solve(CoarseGraining(measurement, lattice, dx), CoarseGrain())`` (or ``LearnedCollision()``):

1. the held ``measure`` solver (default: the molecule family's ``TransverseCurrents()``) solves the
   problem's ``HydrodynamicMeasurement`` by MD: C_T(k, t), eta(k) -> eta_0, S(k) -> c_T, Green-Kubo
   eta and eta_V, with errors over independent runs (reduced units of the potential);
2. units (``problems.fluid_bridge``): the box of edge L gets n = round(L / dx) nodes, spacing
   dx = L / n; dt = dx / (sqrt 3 c_T) so that the lattice sound speed is the fluid's isothermal one;
   nu = eta_0 / (rho m) and the lattice viscosity nu dt / dx^2, tau = 3 nu dt / dx^2 + 1/2;
3. the collision: ``CoarseGrain`` takes BGK (or TRT / MRT with their default free rates);
   ``LearnedCollision`` keeps the shear rate set by nu and fits the free TRT / MRT rates (``target="rates"``,
   :func:`.rate_fit.fit_relaxation_rates`) so that the lattice shear mode decays per step at
   nu(k) k^2 dt, nu(k) = eta(k) / (rho m) the MD's, at the problem's ``fit_shells`` (kdx = |k| dx,
   the lattice wave along its x axis), weighted by the MD errors; or (``target="curves"``, the default) to the
   MD's decay curves, or (``"efold"``) to the rates 1 / t_e at which the MD's transverse waves fall to 1/e;
   ``fit_viscosity=True`` learns nu too;
4. the comparison: the MD's normalised C_T(k, t) / C_T(k, 0) beside the lattice model's shear-mode
   decay at every measured k (powers of the linearised collide-and-stream operator of
   :mod:`.dispersion` on the wave started at equilibrium: a real run's decay in the linear regime,
   transients included), its late-time rate Gamma(k) (the shear eigenvalue), and a real lattice
   run of the shear wave at the smallest k on the n-node periodic box.

The result, :class:`CoarseGrainedFluid`, carries the model ready to run (``fluid``: a periodic
``LatticeFluid`` of the box with that shear wave; ``collision``: the solver), the units, the decay
curves side by side in physical (reduced) units and the transport coefficients with their errors.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

import toolkit as tk
from problems.fluid_bridge import BRIDGE_LATTICES, CoarseGraining
from problems.lattice_fluid import LatticeFluid
from problems.molecule import HydrodynamicMeasurement
from toolkit import validate as v
from toolkit.conventions import attrs, index, reduced
from toolkit.dispatch import dispatch

from .base import LatticeSolver
from .dispersion import collision_of, evolution_matrix
from .lattices import lattice
from .bgk import BGK
from .mrt import MRT
from .rate_fit import FIT_SCHEMES, fit_relaxation_rates, model_decay_rates
from .shear_wave import measure_shear_wave
from .trt import TRT

__all__ = ["CoarseGrain", "LearnedCollision", "CoarseGrainedFluid", "build_lattice_model", "lattice_sound_speed",
           "efold_rate", "lattice_efold_rate", "VISCOSITY_SOURCES", "LEARNING_TARGETS"]

#: Where nu comes from: the k -> 0 extrapolation of eta(k) from C_T, or Green-Kubo.
VISCOSITY_SOURCES = ("transverse", "green-kubo")
#: What a learned collision is fitted to (``LearnedCollision.target``).
LEARNING_TARGETS = ("curves", "rates", "efold")
_LJ = "reduced units of the potential: sigma, epsilon, m, tau = sigma sqrt(m / epsilon)"
_COLLISIONS = {"BGK": BGK, "TRT": TRT, "MRT": MRT}


class CoarseGrain(tk.Solver):
    """Plain coarse-graining (module docstring): ``collision`` "BGK" (default), "TRT" or "MRT" with their
    default free rates, tau from nu = eta / rho with eta from ``viscosity``: "transverse" (eta_0, the k -> 0
    limit of the transverse-current eta(k)) or "green-kubo". ``measure``: the solver of the problem's
    ``HydrodynamicMeasurement`` (None: its registered default, ``TransverseCurrents()``)."""

    measure: object = None
    collision: str = "BGK"
    viscosity: str = "transverse"

    held_solvers = {"measure": HydrodynamicMeasurement}

    def _validate(self):
        err = tk.InvalidSolverError
        if self.measure is not None and not isinstance(self.measure, tk.Solver):
            raise err(f"measure = {v.show(self.measure)} is not allowed: give a solver of HydrodynamicMeasurement "
                      "(e.g. solvers.molecule.TransverseCurrents()), or None for its default")
        self._set("collision", v.choice("collision", self.collision, tuple(_COLLISIONS), error=err))
        self._set("viscosity", v.choice("viscosity", self.viscosity, VISCOSITY_SOURCES, error=err))

    @classmethod
    def example(cls, seed: int = 0) -> "CoarseGrain":
        return cls()


class LearnedCollision(CoarseGrain):
    """Coarse-graining with learned collision rates (module docstring): ``scheme`` "TRT" or "MRT", the free
    rates fitted to the MD at the problem's ``fit_shells``, the shear rate kept at nu; only linearly stable
    rate sets are accepted. ``target``:

    * "curves" (default): least squares between the lattice model's transverse-wave decay (the linearised
      evolution, transients included: :func:`linear_shear_decay`) and the MD's C_T(k, t) / C_T(k, 0) over
      two MD decay times 1 / (nu(k) k^2) at each fitted shell, weighted by the MD errors. At molecular
      resolution (dx ~ sigma, dt from the sound speed) nu dt / dx^2 ~ 0.5: the lattice is far from its
      hydrodynamic limit and its early-time response, which the free rates shape, matters as much as the
      late decay rate;
    * "rates": the late-time shear decay rate -ln|lambda(k)| per step matched to nu(k) k^2 dt
      (:func:`.rate_fit.fit_relaxation_rates`; accepted within ``tolerance`` or the MD error bar);
    * "efold": the rate of the decay itself, 1 / t_e with t_e the time the normalised transverse wave takes
      to fall to 1/e (:func:`efold_rate`), of the lattice model matched to the MD's at each fitted shell,
      weighted by the MD errors. This is the decay rate one reads off the curves; the integral rate
      nu(k) k^2 of "rates" is the area under C_T, which the viscoelastic liquid's negative tail lowers and
      which no lattice shear mode (never negative) can follow.

    ``fit_viscosity``: learn the shear rate too (nu, so tau), starting from the ``viscosity`` source's value,
    with the free rates ("curves" and "efold"): two fitted shells then fix the TRT model. Where the fitted
    shells lie in the hydrodynamic regime (k sigma below ~0.5: a box of a few thousand atoms) the learned nu is
    a measurement of the viscosity in its own right; ``stats["viscosity_shift"]`` says how far it moved from
    the measured one, in that one's standard errors (a warning past three).

    ``collision`` is ignored (the scheme is the collision)."""

    scheme: str = "TRT"
    target: str = "curves"
    tolerance: float = 1e-3
    fit_viscosity: bool = False

    def _validate(self):
        super()._validate()
        err = tk.InvalidSolverError
        self._set("scheme", v.choice("scheme", self.scheme, FIT_SCHEMES, error=err))
        self._set("target", v.choice("target", self.target, LEARNING_TARGETS, error=err))
        if not isinstance(self.fit_viscosity, (bool, np.bool_)):
            raise err(f"fit_viscosity = {v.show(self.fit_viscosity)} is not allowed: give True or False")
        self._set("fit_viscosity", bool(self.fit_viscosity))
        if self.fit_viscosity and self.target == "rates":
            raise err('fit_viscosity = True is not allowed with target = "rates" (the late-time rates fit keeps nu '
                      'fixed): give target = "efold" or "curves"')
        self._set("tolerance", v.real_scalar("tolerance", self.tolerance, lower=0, lower_open=True, upper=1.0,
                                             error=err))


class CoarseGrainedFluid(tk.Solution):
    """A lattice Boltzmann model of an atomistic fluid and the evidence for it (module docstring).

    Model: ``fluid`` (a ready-to-run periodic ``LatticeFluid`` of the MD box, n nodes per edge, carrying a
    small shear wave at the smallest k), ``collision`` (its solver); units ``dx`` (sigma), ``dt`` (tau),
    ``viscosity`` nu (sigma^2 / tau) and its error, ``lattice_viscosity``, ``tau`` (relaxation time,
    lattice units), ``sound_speed`` c_T (sigma / tau) and its error, ``rates`` (the fitted free rates, or
    the collision's defaults; names in ``rate_names``), ``fit_residuals`` (model / target - 1 at
    ``fit_shells``). Decay curves at the measured shells ``shells`` / ``k`` (1 / sigma): ``time`` (tau),
    ``md_decay`` and ``md_decay_error`` (C_T(k, t) / C_T(k, 0) from MD), ``lb_decay`` (the lattice model's
    transverse wave, :func:`linear_shear_decay`); rates 1 / tau: ``md_rate`` = nu(k) k^2 and its error, ``lb_rate``
    (the lattice shear eigenvalue), and the rates of the decays themselves over their first decay time
    (:func:`efold_rate`, 1 / the time to fall to 1/e): ``md_efold_rate`` and its error, ``lb_efold_rate``;
    ``run_time`` / ``run_decay``: the real lattice run at the smallest k. ``measurement``: the MD record.
    """

    dims = {"shells": ("shell",), "k": ("shell",), "time": ("time",), "md_decay": ("shell", "time"),
            "md_decay_error": ("shell", "time"), "lb_decay": ("shell", "time"), "md_rate": ("shell",),
            "md_rate_error": ("shell",), "lb_rate": ("shell",), "run_time": ("run_time",),
            "run_decay": ("run_time",), "md_efold_rate": ("shell",), "md_efold_rate_error": ("shell",),
            "lb_efold_rate": ("shell",), "rates": ("rate",), "fit_residuals": ("fit_shell",),
            "fit_shells": ("fit_shell",)}
    coords = {"shell": "shells", "time": "time", "run_time": "run_time", "fit_shell": "fit_shells"}
    cf = {"shells": index("wave-vector shell |n|^2 (k = 2 pi n / L)"), "shell": index("wave-vector shell |n|^2"),
          "fit_shells": index("shell the collision was fitted at"), "fit_shell": index("fitted shell"),
          "rate": index("free collision rate"),
          "k": reduced("wavenumber k", "(1/sigma)", _LJ), "time": reduced("time", "tau", _LJ),
          "run_time": reduced("time of the lattice run", "tau", _LJ),
          "md_decay": attrs("1", "MD transverse-current decay C_T(k,t) / C_T(k,0)"),
          "md_decay_error": attrs("1", "standard error of the MD decay"),
          "lb_decay": attrs("1", "lattice shear-mode decay"),
          "md_rate": reduced("MD shear decay rate nu(k) k^2", "(1/tau)", _LJ),
          "md_rate_error": reduced("standard error of the MD decay rate", "(1/tau)", _LJ),
          "lb_rate": reduced("lattice shear decay rate", "(1/tau)", _LJ),
          "md_efold_rate": reduced("MD decay rate 1 / t_e (C_T(k, t_e) = C_T(k, 0) / e)", "(1/tau)", _LJ),
          "md_efold_rate_error": reduced("standard error of the MD 1 / t_e", "(1/tau)", _LJ),
          "lb_efold_rate": reduced("lattice decay rate 1 / t_e", "(1/tau)", _LJ),
          "run_decay": attrs("1", "lattice run's shear-wave amplitude / initial"),
          "rates": attrs("1", "free collision rates (per lattice step)"),
          "fit_residuals": attrs("1", "fitted / target decay rate - 1")}
    compare_fields = ("md_decay", "lb_decay", "lb_rate")

    fluid: LatticeFluid
    collision: LatticeSolver
    measurement: object
    dx: float
    dt: float
    viscosity: float
    viscosity_error: float
    lattice_viscosity: float
    tau: float
    sound_speed: float
    sound_speed_error: float
    rate_names: tuple
    rates: np.ndarray
    fit_shells: np.ndarray
    fit_residuals: np.ndarray
    shells: np.ndarray
    k: np.ndarray
    time: np.ndarray
    md_decay: np.ndarray
    md_decay_error: np.ndarray
    lb_decay: np.ndarray
    md_rate: np.ndarray
    md_rate_error: np.ndarray
    lb_rate: np.ndarray
    run_time: np.ndarray
    run_decay: np.ndarray
    md_efold_rate: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    md_efold_rate_error: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    lb_efold_rate: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))

    # -- reading ---------------------------------------------------------------------------
    def transport(self) -> dict:
        """The transport coefficients with their errors: name -> (value, error, unit), reduced units."""
        r = self.measurement
        rows = {"eta_0 (transverse currents, k -> 0)": (r.eta0, r.eta0_error, "epsilon tau / sigma^3"),
                "eta (Green-Kubo)": (r.gk_shear, r.gk_shear_error, "epsilon tau / sigma^3"),
                "eta_V bulk (Green-Kubo)": (r.gk_bulk, r.gk_bulk_error, "epsilon tau / sigma^3"),
                "S(0)": (r.s0, r.s0_error, "1"),
                "c_T isothermal sound speed": (r.sound_speed, r.sound_speed_error, "sigma / tau"),
                "nu kinematic viscosity": (self.viscosity, self.viscosity_error, "sigma^2 / tau"),
                "dx lattice spacing": (self.dx, 0.0, "sigma"), "dt lattice time step": (self.dt, 0.0, "tau")}
        return rows

    def table(self) -> str:
        """The transport table as text."""
        lines = [f"{'quantity':<38} {'value':>10} {'error':>10}  unit (LJ reduced)"]
        for name, (value, error, unit) in self.transport().items():
            val = "-" if value is None else f"{value:.4g}"
            err = "-" if error is None else f"{error:.2g}"
            lines.append(f"{name:<38} {val:>10} {err:>10}  {unit}")
        return "\n".join(lines)

    def decay_mismatch(self, shell_index: int = 0, decay_times: float = 2.0) -> float:
        """max |MD - LB| of the normalised decay at a shell over ``decay_times`` MD decay times 1 / md_rate."""
        horizon = decay_times / self.md_rate[shell_index]
        keep = self.time <= horizon
        return float(np.max(np.abs(self.md_decay[shell_index, keep] - self.lb_decay[shell_index, keep])))

    def plot(self, axes=None):
        """Left: the MD decay C_T(k, t) / C_T(k, 0) (points with error bars) and the lattice model's shear
        mode (lines) at each measured k, and the real lattice run at the smallest k (dashed); right: the
        decay rates against k: the MD's integral rate nu(k) k^2 and the lattice shear eigenvalue, and the rates
        1 / t_e of the two decays (the time each takes to fall to 1/e)."""
        import matplotlib.pyplot as plt

        if axes is None:
            fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
        else:
            fig = axes[0].figure
        a, b = axes
        colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for j, kk in enumerate(self.k):
            c = colours[j % len(colours)]
            step = max(1, len(self.time) // 40)
            a.errorbar(self.time[::step], self.md_decay[j, ::step], yerr=self.md_decay_error[j, ::step], fmt="o",
                       ms=3, color=c, label=f"MD, k = {kk:.3f} / sigma")
            a.plot(self.time, self.lb_decay[j], color=c, lw=1.5, label=f"lattice model, k = {kk:.3f}")
        if len(self.run_time):
            a.plot(self.run_time, self.run_decay, "k--", lw=1, label="lattice run, smallest k")
        a.set_xlim(0, float(self.time[-1]))
        a.set_xlabel("time t [tau, LJ reduced]")
        a.set_ylabel("C_T(k, t) / C_T(k, 0) [1]")
        a.set_title("transverse-current decay: MD vs lattice Boltzmann")
        a.legend(fontsize=7)
        b.errorbar(self.k, self.md_rate, yerr=self.md_rate_error, fmt="o", label="MD nu(k) k^2")
        kk = np.linspace(1e-3, float(self.k.max()) * 1.1, 80)
        b.plot(kk, self.viscosity * kk ** 2, color="0.5", ls=":", label="nu k^2 (hydrodynamic)")
        b.plot(self.k, self.lb_rate, "s-", label=f"lattice model ({type(self.collision).__name__})")
        if len(self.md_efold_rate) == len(self.k):
            b.errorbar(self.k, self.md_efold_rate, yerr=self.md_efold_rate_error, fmt="D", mfc="none",
                       label="MD 1 / t_e (falls to 1/e)")
            b.plot(self.k, self.lb_efold_rate, "x--", label="lattice model 1 / t_e")
        b.set_xlabel("k [1 / sigma]")
        b.set_ylabel("shear decay rate [1 / tau]")
        b.set_title("shear-mode decay rate vs wavenumber")
        b.legend(fontsize=7)
        return fig


# -- building the model -----------------------------------------------------------------------------

def _need(name, value, advice):
    if value is None or not np.isfinite(value) or value <= 0:
        raise tk.UnstableError(f"the measurement gave {name} = {value!r}: {advice}")
    return float(value)


def _usable(value, error) -> bool:
    """A positive finite value whose error (when it has a finite one) is below it."""
    bad_error = error is not None and np.isfinite(error) and error >= value if value is not None else True
    return value is not None and bool(np.isfinite(value)) and value > 0 and not bad_error


def _viscosity(record, source, eta_small, eta_small_error, warnings) -> tuple[float, float]:
    """eta and its error from ``source``, falling back (with a warning) when the measurement is too noisy:
    "transverse": eta_0, else eta(k) at the smallest usable shell; "green-kubo": Green-Kubo, else eta_0."""
    order = [("eta_0 from C_T (k -> 0)", record.eta0, record.eta0_error),
             ("Green-Kubo eta", record.gk_shear, record.gk_shear_error)]
    if source == "green-kubo":
        order.reverse()
    order.append(("eta(k) at the smallest usable shell", eta_small, eta_small_error))
    for rank, (name, value, error) in enumerate(order):
        if _usable(value, error):
            if rank:
                warnings.append(f"the measurement's {order[0][0]} is unusable ({order[0][1]!r} +- {order[0][2]!r}): "
                                f"{name} = {value:.4g} is used instead; lengthen or add runs")
            return float(value), float(error) if error is not None and np.isfinite(error) else 0.0
    raise tk.UnstableError(f"the measurement gave no usable viscosity (eta_0 = {record.eta0!r}, Green-Kubo = "
                           f"{record.gk_shear!r}): lengthen or add runs")


def linear_shear_decay(collision: LatticeSolver, k_dx: float, steps: int, *, lattice_name: str = "D2Q9",
                       viscosity: float) -> np.ndarray:
    """|u_y(t)| / u_y(0) at steps 0..steps of a small transverse wave u_y = e^{i k x} started at equilibrium, by
    powers of the linearised collide-and-stream operator L(k) (:func:`.dispersion.evolution_matrix`): what a
    real run of the model gives in the linear regime, transients of the non-hydrodynamic modes included
    (the shear eigenvalue alone describes only the late decay)."""
    lat = lattice(lattice_name)
    L = evolution_matrix(collision_of(collision, lattice_name, viscosity=viscosity), lat, [float(k_dx), 0.0, 0.0])
    cy = lat.c[:, 1].astype(float)
    f = lat.w * 3.0 * cy + 0j                     # the first-order equilibrium of u_y = 1 (c_s^2 = 1/3)
    start = float(cy @ f.real)
    out = np.empty(int(steps) + 1)
    for t in range(int(steps) + 1):
        out[t] = abs(cy @ f) / start
        f = L @ f
    return out


def efold_rate(time, decay, error=None) -> tuple[float, float]:
    """The decay rate 1 / t_e of a normalised decay curve, t_e the first time it falls to 1/e (linear
    interpolation between the bracketing samples), and its standard error from the curve's ``error`` at the
    crossing, sigma(t_e) = sigma(t_e) / |d decay / dt| (first-order propagation; 0 without ``error``).

    For an exponential e^{-Gamma t} this is Gamma; for the viscoelastic MD transverse current, whose decay
    is slower than exponential at first and overshoots below zero later, it is the rate the wave shows over
    its first decay time, which the integral rate nu(k) k^2 (the area under the curve) is not. ``nan`` when
    the curve never falls to 1/e."""
    t = np.asarray(time, dtype=float)
    y = np.asarray(decay, dtype=float)
    below = np.flatnonzero(y <= math.exp(-1.0))
    if not len(below) or below[0] == 0:
        return math.nan, math.nan
    j = int(below[0])
    slope = (y[j] - y[j - 1]) / (t[j] - t[j - 1])
    te = float(t[j - 1] + (math.exp(-1.0) - y[j - 1]) / slope)
    if error is None:
        return 1.0 / te, 0.0
    e = np.asarray(error, dtype=float)
    sigma_at = float(np.interp(te, t[j - 1:j + 1], e[j - 1:j + 1]))
    return 1.0 / te, sigma_at / abs(float(slope)) / te ** 2


def lattice_sound_speed(collision: LatticeSolver, *, lattice_name: str = "D2Q9", viscosity: float, n: int = 64,
                        periods: float = 3.0, amplitude: float = 1e-5) -> float:
    """The sound speed (lattice units) of a real lattice run: a density wave of wavenumber 2 pi / n on an
    n-node periodic box oscillates as A e^{-gamma t} cos(omega t); a least-squares fit gives omega and gamma
    and c_s = sqrt(omega^2 + gamma^2) / k (1/sqrt(3) for the lattices here, to O(k^2))."""
    from scipy.optimize import curve_fit

    dim = BRIDGE_LATTICES.get(lattice_name, 2)
    k = 2.0 * math.pi / n
    steps = int(periods * 2.0 * math.pi / (k / math.sqrt(3.0)))
    shape = (n,) + (1,) * (dim - 1)
    x = np.arange(n, dtype=float).reshape(shape)
    density = 1.0 + amplitude * np.cos(k * x)
    problem = LatticeFluid(shape=shape, lattice=lattice_name, viscosity=viscosity, density=density, steps=steps,
                           save_every=1)
    sol = tk.solve(problem, collision, progress=False)
    if not sol.successful:
        raise tk.UnstableError(f"the sound-wave run stopped: {sol.message}")
    rho = sol.density.reshape(len(sol.step), n)
    a = 2.0 / n * (rho @ np.cos(k * np.arange(n))) / amplitude
    t = np.asarray(sol.step, dtype=float)

    def model(t, amp, gamma, omega, phase):
        return amp * np.exp(-gamma * t) * np.cos(omega * t + phase)

    p, _ = curve_fit(model, t, a, p0=(1.0, viscosity * k * k, k / math.sqrt(3.0), 0.0), maxfev=20000)
    return float(math.sqrt(p[2] ** 2 + p[1] ** 2) / k)


def _curve_misfit(solver, lattice_name, nu_lat, k_dx, dt, t, md, md_err, horizons) -> np.ndarray:
    """Weighted differences lattice - MD of the normalised decays over each shell's horizon, concatenated."""
    out = []
    for j, kk in enumerate(k_dx):
        keep = t <= horizons[j]
        curve = linear_shear_decay(solver, kk, int(math.ceil(float(t[keep][-1]) / dt)) + 1,
                                   lattice_name=lattice_name, viscosity=nu_lat)
        lb = np.interp(t[keep] / dt, np.arange(len(curve)), curve)
        weight = 1.0 / np.sqrt(md_err[j, keep] ** 2 + 1e-4)           # MD errors, floored at 0.01
        out.append((lb - md[j, keep]) * weight / np.sqrt(keep.sum()))
    return np.concatenate(out)


def _fit_curves(lattice_name, scheme, nu_lat, k_dx, dt, t, md, md_err, md_rate, warnings):
    """The free rates of ``scheme`` that best fit the MD decay curves at ``k_dx`` (LearnedCollision, "curves"),
    among linearly stable sets: ``(solver, rate names, rates)``."""
    from scipy.optimize import least_squares, minimize_scalar

    from .dispersion import is_linearly_stable
    from .rate_fit import MRT_FREE_RATES

    horizons = 2.0 / np.asarray(md_rate, dtype=float)
    if scheme == "TRT":
        def cost(x):
            r = _curve_misfit(TRT(magic=float(np.exp(x))), lattice_name, nu_lat, k_dx, dt, t, md, md_err, horizons)
            return float(r @ r)

        grid = np.linspace(np.log(1e-3), np.log(1e2), 41)
        stable = [x for x in grid if is_linearly_stable(TRT(magic=float(np.exp(x))), lattice_name=lattice_name,
                                                         viscosity=nu_lat)]
        if not stable:
            warnings.append("no stable TRT rate was found: the default TRT rates are used")
            return TRT(), (), np.zeros(0)
        start = min(stable, key=cost)
        step = grid[1] - grid[0]
        best = minimize_scalar(cost, bounds=(start - step, start + step), method="bounded",
                               options={"xatol": 1e-4})
        x = float(best.x)
        if not is_linearly_stable(TRT(magic=float(np.exp(x))), lattice_name=lattice_name, viscosity=nu_lat):
            x = start
        magic = float(np.exp(x))
        return TRT(magic=magic), ("magic",), np.array([magic])
    names = MRT_FREE_RATES[lattice_name]

    def residual(rates):
        return _curve_misfit(MRT(**dict(zip(names, map(float, rates)))), lattice_name, nu_lat, k_dx, dt, t, md,
                             md_err, horizons)

    fit = least_squares(residual, np.ones(len(names)), bounds=(1e-3, 2.0 - 1e-3))
    solver = MRT(**dict(zip(names, map(float, fit.x))))
    if not is_linearly_stable(solver, lattice_name=lattice_name, viscosity=nu_lat):
        warnings.append(f"the best-fitting MRT rates {np.round(fit.x, 4)} are linearly unstable: the default MRT "
                        "rates are used")
        return MRT(), (), np.zeros(0)
    return solver, tuple(names), np.asarray(fit.x, dtype=float)


def lattice_efold_rate(collision: LatticeSolver, k_dx: float, dt: float, *, lattice_name: str, viscosity: float,
                       horizon: float) -> float:
    """:func:`efold_rate` (1 / tau) of the lattice model's transverse wave at ``k_dx`` (:func:`linear_shear_decay`),
    followed for ``horizon`` (tau); ``nan`` if it has not fallen to 1/e by then."""
    curve = linear_shear_decay(collision, k_dx, int(math.ceil(horizon / dt)) + 2, lattice_name=lattice_name,
                               viscosity=viscosity)
    return efold_rate(np.arange(len(curve)) * dt, curve)[0]


def _fit_learned(lattice_name, scheme, target, fit_nu, nu_lat, k_dx, dt, t, md, md_err, md_rate, warnings):
    """Least squares over the free rates of ``scheme`` (log of the TRT magic parameter; the MRT rates in
    (0, 2)) and, with ``fit_nu``, log nu, against the MD decay at ``k_dx``: the curves over two decay times
    ("curves") or the e-folding rates ("efold"), weighted by the MD errors. Several starts; the best linearly
    stable result wins. Returns ``(solver, rate names, rates, lattice viscosity)``."""
    from scipy.optimize import least_squares

    from .dispersion import is_linearly_stable
    from .rate_fit import MRT_FREE_RATES, RATE_MARGIN

    names = ("magic",) if scheme == "TRT" else MRT_FREE_RATES[lattice_name]
    free = len(names)

    def unpack(x):
        nu = nu_lat * math.exp(x[-1]) if fit_nu else nu_lat
        if scheme == "TRT":
            rates = np.array([math.exp(x[0])])
            return TRT(magic=float(rates[0])), rates, nu
        rates = np.asarray(x[:free], dtype=float)
        return MRT(**dict(zip(names, map(float, rates)))), rates, nu

    if target == "efold":
        measured = np.array([efold_rate(t, md[j], md_err[j]) for j in range(len(k_dx))])
        if not np.all(np.isfinite(measured[:, 0])):
            raise tk.UnstableError(f"the MD decay at k dx = {np.round(k_dx, 3)} never falls to 1/e within the "
                                   f"measured lags (up to {t[-1]:.3g} tau): lengthen max_lag")
        scale = np.maximum(measured[:, 1], 1e-3 * measured[:, 0])

        def residual(x):
            collision, _, nu = unpack(x)
            lb = np.array([lattice_efold_rate(collision, kk, dt, lattice_name=lattice_name, viscosity=nu,
                                              horizon=4.0 / measured[j, 0]) for j, kk in enumerate(k_dx)])
            return np.where(np.isfinite(lb), (lb - measured[:, 0]) / scale, 1e3)
    else:
        horizons = 2.0 / np.asarray(md_rate, dtype=float)

        def residual(x):
            collision, _, nu = unpack(x)
            return _curve_misfit(collision, lattice_name, nu, k_dx, dt, t, md, md_err, horizons)

    if scheme == "TRT":
        starts = [[math.log(m)] for m in (0.1, 0.25, 0.75, 3.0)]
        lower, upper = [math.log(1e-3)], [math.log(1e2)]
    else:
        starts = [[1.0] * free, [1.5] * free, [0.5] * free]
        lower, upper = [RATE_MARGIN] * free, [2.0 - RATE_MARGIN] * free
    if fit_nu:
        starts = [x + [0.0] for x in starts]
        lower, upper = lower + [math.log(1e-2)], upper + [math.log(1e2)]
    best = None
    for x0 in starts:
        fit = least_squares(residual, x0, bounds=(lower, upper), diff_step=1e-4)
        collision, rates, nu = unpack(fit.x)
        if is_linearly_stable(collision, lattice_name=lattice_name, viscosity=nu) and \
                (best is None or fit.cost < best[0]):
            best = (fit.cost, collision, rates, nu)
    if best is None:
        warnings.append(f"no linearly stable {scheme} rates fit the MD decay: the default {scheme} rates and the "
                        "measured viscosity are used")
        return _COLLISIONS[scheme](), (), np.zeros(0), nu_lat
    _, collision, rates, nu = best
    return collision, tuple(names), np.asarray(rates, dtype=float), float(nu)


def build_lattice_model(problem: CoarseGraining, solver: CoarseGrain, record, warnings=()) -> CoarseGrainedFluid:
    """Steps 2-4 of the module docstring on a measured ``record`` (a ``HydrodynamicsRecord``); ``warnings``:
    the measurement's, carried into the model's."""
    t0 = time.perf_counter()
    rho = float(record.density) * float(record.mass)
    warnings = list(warnings)
    shells = np.asarray(record.shells)
    k = np.asarray(record.k, dtype=float)
    eta_k = np.asarray(record.eta_k, dtype=float)
    good = np.isfinite(eta_k) & (eta_k > 0)
    if not np.any(good):
        raise tk.UnstableError(f"the measurement gave eta(k) = {eta_k}: no shell has a positive finite viscosity; "
                               "lengthen the runs or max_lag, or add runs")
    if not np.all(good):
        warnings.append(f"shells {tuple(shells[~good])} gave no positive finite eta(k) (noise at this run length) "
                        "and are left out")
    eta, eta_err = _viscosity(record, solver.viscosity, eta_k[good][0], float(record.eta_k_error[good][0]), warnings)
    c = _need("sound_speed", record.sound_speed, "S(k) gave no S(0) > 0; add runs or small shells")
    nu, nu_err = eta / rho, eta_err / rho
    n = problem.nodes
    dx = problem.box_edge / n
    dt = dx / (math.sqrt(3.0) * c)
    nu_lat = nu * dt / dx ** 2
    tau = 3.0 * nu_lat + 0.5
    ct_all = np.asarray(record.ct, dtype=float)[good]
    ct_err_all = np.asarray(record.ct_error, dtype=float)[good]
    shells, k = shells[good], k[good]
    nu_k = eta_k[good] / rho
    nu_k_err = np.asarray(record.eta_k_error, dtype=float)[good] / rho
    md_rate, md_rate_err = nu_k * k ** 2, nu_k_err * k ** 2
    if not (np.all(np.isfinite(md_rate_err)) and np.all(np.isfinite(ct_err_all))):
        warnings.append("some MD error bars could not be estimated (too few runs): they are shown as 0")
        md_rate_err = np.nan_to_num(md_rate_err, nan=0.0, posinf=0.0)
        ct_err_all = np.nan_to_num(ct_err_all, nan=0.0, posinf=0.0)
    fit_shells = tuple(sh for sh in problem.fit_shells if sh in shells) or (int(shells[0]),)
    if np.any(k * dx >= math.pi):
        raise tk.InvalidProblemError(f"dx = {problem.dx!r} is not allowed with shells {tuple(shells)}: k dx = "
                                     f"{np.round(k * dx, 3)} reaches the lattice's Nyquist wavenumber pi; give a "
                                     "smaller dx")
    fit_idx = np.array([int(np.flatnonzero(shells == sh)[0]) for sh in fit_shells])
    fitted_viscosity = {}
    t = np.asarray(record.time, dtype=float)
    learned = isinstance(solver, LearnedCollision)
    if learned and (solver.target == "efold" or solver.fit_viscosity):
        ct0 = ct_all[fit_idx, :1]
        measured_nu_lat = nu_lat
        collision, names, rates, nu_lat = _fit_learned(problem.lattice, solver.scheme, solver.target,
                                                       solver.fit_viscosity, nu_lat, k[fit_idx] * dx, dt, t,
                                                       ct_all[fit_idx] / ct0, ct_err_all[fit_idx] / ct0,
                                                       md_rate[fit_idx], warnings)
        if solver.fit_viscosity:
            nu = nu_lat * dx ** 2 / dt
            tau = 3.0 * nu_lat + 0.5
            shift = (nu_lat / measured_nu_lat - 1.0) * (eta / eta_err if eta_err > 0 else math.inf)
            fitted_viscosity = {"viscosity_measured": eta / rho, "viscosity_shift": shift}
            if abs(shift) > 3.0:
                warnings.append(f"the learned viscosity nu = {nu:.4g} is {shift:+.1f} standard errors from the "
                                f"measured {eta / rho:.4g}: the fitted shells are probably outside the "
                                "hydrodynamic regime (use a larger box, smaller k) or the measurement is too short")
        residuals = model_decay_rates(collision, k[fit_idx] * dx, lattice_name=problem.lattice,
                                      viscosity=nu_lat) / (md_rate[fit_idx] * dt) - 1.0
    elif learned and solver.target == "curves":
        ct0 = ct_all[fit_idx, :1]
        collision, names, rates = _fit_curves(problem.lattice, solver.scheme, nu_lat, k[fit_idx] * dx, dt, t,
                                              ct_all[fit_idx] / ct0, ct_err_all[fit_idx] / ct0, md_rate[fit_idx],
                                              warnings)
        residuals = model_decay_rates(collision, k[fit_idx] * dx, lattice_name=problem.lattice,
                                      viscosity=nu_lat) / (md_rate[fit_idx] * dt) - 1.0
    elif learned:
        try:
            fit = fit_relaxation_rates(problem.lattice, solver.scheme, nu_lat, k[fit_idx] * dx,
                                       md_rate[fit_idx] * dt, errors=np.where(md_rate_err[fit_idx] > 0, md_rate_err[fit_idx], md_rate[fit_idx]) * dt,
                                       tolerance=solver.tolerance)
            collision, names = fit.solver, tuple(fit.rates)
            rates = np.array([fit.rates[name] for name in names], dtype=float)
            residuals = np.asarray(fit.residuals, dtype=float)
        except tk.InvalidProblemError as exc:
            warnings.append(f"the learned rates could not match the MD decay: {exc}; the default {solver.scheme} "
                            "rates are used")
            collision = _COLLISIONS[solver.scheme]()
            names, rates = (), np.zeros(0)
            residuals = model_decay_rates(collision, k[fit_idx] * dx, lattice_name=problem.lattice,
                                          viscosity=nu_lat) / (md_rate[fit_idx] * dt) - 1.0
    else:
        collision = _COLLISIONS[solver.collision]()
        names, rates = (), np.zeros(0)
        residuals = model_decay_rates(collision, k[fit_idx] * dx, lattice_name=problem.lattice,
                                      viscosity=nu_lat) / (md_rate[fit_idx] * dt) - 1.0
    lb_rate = model_decay_rates(collision, k * dx, lattice_name=problem.lattice, viscosity=nu_lat) / dt
    ct0 = ct_all[:, :1]
    md_decay = ct_all / ct0
    md_decay_err = ct_err_all / ct0
    steps_needed = int(math.ceil(float(t[-1]) / dt)) + 1
    lb_decay = np.empty((len(k), len(t)))
    md_efold, md_efold_err, lb_efold = (np.full(len(k), np.nan) for _ in range(3))
    for j, kk in enumerate(k):
        curve = linear_shear_decay(collision, kk * dx, steps_needed, lattice_name=problem.lattice, viscosity=nu_lat)
        lb_decay[j] = np.interp(t / dt, np.arange(len(curve)), curve)
        lb_efold[j] = efold_rate(np.arange(len(curve)) * dt, curve)[0]
        md_efold[j], md_efold_err[j] = efold_rate(t, md_decay[j], md_decay_err[j])
    # the real lattice run of the shear wave at the smallest k (an axis shell: k = 2 pi / L)
    run_time, run_decay = np.zeros(0), np.zeros(0)
    if 2 < n:
        steps = max(8, int(math.ceil(float(t[-1]) / dt)))
        wave = measure_shear_wave(collision, n=n, mode=1, lattice_name=problem.lattice, viscosity=nu_lat,
                                  steps=steps, skip=0)
        run_time = np.asarray(wave.step, dtype=float) * dt
        run_decay = np.asarray(wave.amplitude, dtype=float) / float(wave.amplitude[0])
    dim = BRIDGE_LATTICES[problem.lattice]
    shape = (n,) * dim
    xs = np.arange(n, dtype=float).reshape((n,) + (1,) * (dim - 1))
    velocity = np.zeros(shape + (dim,))
    velocity[..., 1] = 1e-4 * np.sin(2.0 * math.pi * xs / n)
    steps = max(1, int(math.ceil(2.0 / (md_rate[0] * dt))))
    fluid = LatticeFluid(shape=shape, lattice=problem.lattice, tau=tau, velocity=velocity, steps=steps,
                         save_every=max(1, steps // 50))
    stats = {"wall_time": time.perf_counter() - t0, "nodes": n}
    if fitted_viscosity:
        stats.update(fitted_viscosity)
    if warnings:
        stats["warnings"] = warnings
    return CoarseGrainedFluid(
        problem=problem, solver=solver, stats=stats,
        message="; ".join(warnings) if warnings else f"{problem.lattice} model, tau = {tau:.4f}, dx = {dx:.4g} sigma, "
                                                     f"dt = {dt:.4g} tau",
        fluid=fluid, collision=collision, measurement=record, dx=dx, dt=dt, viscosity=nu, viscosity_error=nu_err,
        lattice_viscosity=nu_lat, tau=tau, sound_speed=c, sound_speed_error=float(np.nan_to_num(record.sound_speed_error or 0.0)),
        rate_names=names, rates=rates, fit_shells=np.asarray(fit_shells), fit_residuals=residuals,
        shells=shells, k=k, time=t, md_decay=md_decay, md_decay_error=md_decay_err, lb_decay=lb_decay,
        md_rate=md_rate, md_rate_error=md_rate_err, lb_rate=lb_rate, run_time=run_time, run_decay=run_decay,
        md_efold_rate=md_efold, md_efold_rate_error=md_efold_err, lb_efold_rate=lb_efold)


@dispatch
def _solve(problem: CoarseGraining, solver: CoarseGrain) -> CoarseGrainedFluid:
    """Both solvers (``LearnedCollision`` is a ``CoarseGrain``): measure by MD, then build the model."""
    measured = tk.solve(problem.measurement, solver.measure, progress=False) if solver.measure is not None \
        else tk.solve(problem.measurement, progress=False)
    if not measured.successful:
        raise tk.UnstableError(f"the MD measurement ended {measured.retcode}: {measured.message}")
    return build_lattice_model(problem, solver, measured.record, measured.stats.get("warnings", ()))

"""``TransverseCurrents``: the solver of ``HydrodynamicMeasurement`` (issue 21).

``tk.solve(HydrodynamicMeasurement(fluid, shells, ...), TransverseCurrents(...))`` runs the
problem's independent MD runs (thermostatted equilibration, then NVE production) and reads from
them, by :func:`.hydrodynamics.measure_hydrodynamics`: the transverse-current correlations
C_T(k, t), the viscosity eta(k) and its k -> 0 limit, S(k) and the isothermal sound speed, and the
Green-Kubo shear and bulk viscosities, each with its error over the runs. The result is a
:class:`HydrodynamicsSolution` holding the :class:`.hydrodynamics.HydrodynamicsRecord` (reduced
units of the potential). Other families (the lattice Boltzmann coarse-graining) reach it through
``tk.solve`` on the problem, never by importing this module.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.molecule import KB_EV, HydrodynamicMeasurement
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .dynamics import Langevin, NoseHoover, VelocityVerlet
from .hydrodynamics import HydrodynamicsRecord, measure_hydrodynamics, reduced_units

__all__ = ["TransverseCurrents", "HydrodynamicsSolution"]

_METHODS = ("integral", "exponential", "maxwell")


class TransverseCurrents(tk.Solver):
    """Measure a fluid's hydrodynamics from equilibrium MD (module docstring).

    ``dynamics``: the production dynamics, momentum-conserving (``VelocityVerlet``; None: velocity
    Verlet with dt = 0.005 tau of the potential); ``thermostat``: the equilibration dynamics
    (``NoseHoover`` or ``Langevin``; None: Nose-Hoover at the fluid's initial kinetic temperature with
    the production time step and a damping time of 100 steps); ``method`` / ``window``: how eta(k)
    is read from C_T ("integral": eta(k) = rho m C_T(0) / (k^2 int C_T dt) up to ``window`` decay
    times; see :func:`.hydrodynamics.viscosity_of_k`); ``gk_window`` (tau) and ``gk_blocks``: the
    Green-Kubo integration window and blocks per run; ``workers``: processes running the independent
    runs (1: in this process; results do not depend on it).
    """

    dynamics: object = None
    thermostat: object = None
    method: str = "integral"
    window: float = 4.0
    gk_window: float = 5.0
    gk_blocks: int = 5
    workers: int = 1

    def _validate(self):
        err = tk.InvalidSolverError
        if self.dynamics is not None and not isinstance(self.dynamics, VelocityVerlet):
            raise err(f"dynamics = {v.show(self.dynamics)} is not allowed: give VelocityVerlet(dt=...) (the production "
                      "runs must conserve momentum; a thermostat damps the currents), or None")
        if self.thermostat is not None and not isinstance(self.thermostat, (NoseHoover, Langevin)):
            raise err(f"thermostat = {v.show(self.thermostat)} is not allowed: give NoseHoover(...) or Langevin(...) "
                      "for the equilibration, or None")
        self._set("method", v.choice("method", self.method, _METHODS, error=err))
        self._set("window", v.real_scalar("window", self.window, lower=0, lower_open=True, upper=1e6, error=err))
        self._set("gk_window", v.real_scalar("gk_window", self.gk_window, lower=0, lower_open=True, upper=1e9,
                                             error=err))
        self._set("gk_blocks", v.integer("gk_blocks", self.gk_blocks, lower=1, upper=10 ** 6, error=err))
        self._set("workers", v.integer("workers", self.workers, lower=1, upper=4096, error=err))

    @classmethod
    def example(cls, seed: int = 0) -> "TransverseCurrents":
        return cls(window=4.0, gk_window=0.5, gk_blocks=2)


class HydrodynamicsSolution(tk.Solution):
    """The measured hydrodynamics of a fluid: ``record`` (:class:`.hydrodynamics.HydrodynamicsRecord`,
    reduced units: C_T(k, t), eta(k), eta_0, S(k), c_T, Green-Kubo shear and bulk viscosities, each with
    its error over the runs). ``to_xarray`` and ``plot`` are the record's."""

    compare_fields = ()

    record: HydrodynamicsRecord

    def to_xarray(self):
        ds = self.record.to_xarray()
        ds.attrs.update({"retcode": str(self.retcode), "message": self.message, "problem": repr(self.problem),
                         "solver": repr(self.solver)})
        return ds

    def plot(self, axes=None):
        return self.record.plot(axes)

    def distance(self, other) -> float:
        """Largest relative difference of eta(k), S(k) and the C_T curves."""
        worst = 0.0
        for name in ("eta_k", "sk", "ct"):
            a, b = getattr(self.record, name), getattr(other.record, name)
            if a.shape == b.shape and a.size:
                worst = max(worst, float(np.linalg.norm(a - b)) / max(float(np.linalg.norm(b)), 1e-300))
        return worst


def _defaults(problem: HydrodynamicMeasurement, solver: TransverseCurrents):
    """The production and equilibration solvers (the module's defaults where None)."""
    sigma, epsilon, mass, tau = reduced_units(problem.fluid)
    dynamics = solver.dynamics or VelocityVerlet(dt=0.005 * tau)
    thermostat = solver.thermostat
    if thermostat is None and problem.equilibrate_steps > 0:
        mol = problem.fluid.molecule
        temperature = 2.0 * mol.kinetic_energy() / (max(3 * mol.n_atoms - 3, 1) * KB_EV)
        if not temperature > 0:
            raise tk.InvalidProblemError("fluid.molecule has no kinetic energy: give it velocities at the temperature "
                                         "to equilibrate at (lj_fluid draws them), or give thermostat=NoseHoover("
                                         "temperature=...)")
        thermostat = NoseHoover(dt=dynamics.dt, temperature=temperature, tdamp=100.0 * dynamics.dt)
    return dynamics, thermostat


@dispatch
def _solve(problem: HydrodynamicMeasurement, solver: TransverseCurrents) -> HydrodynamicsSolution:
    dynamics, thermostat = _defaults(problem, solver)
    executor = tk.Serial() if solver.workers == 1 else tk.Processes(solver.workers)
    try:
        record = measure_hydrodynamics(problem.fluid, dynamics, shells=problem.shells, sk_shells=problem.sk_shells,
                                       runs=problem.runs, executor=executor, equilibrate=thermostat,
                                       equilibrate_steps=problem.equilibrate_steps, max_lag=problem.max_lag,
                                       method=solver.method, window=solver.window, gk_window=solver.gk_window,
                                       gk_blocks=solver.gk_blocks, seed=problem.seed)
    except RuntimeError as exc:                      # a run stopped (unstable MD): the message says where
        raise tk.UnstableError(f"the hydrodynamic measurement could not finish: {exc}") from None
    message = f"{problem.runs} runs of {problem.fluid.molecule.n_atoms} atoms"
    stats = {}
    drift = temperature_drift(record, thermostat, problem.fluid)
    if drift:
        stats["warnings"] = [drift]
        message += f"; {drift}"
    return HydrodynamicsSolution(problem=problem, solver=solver, record=record, message=message, stats=stats)


#: The production runs' mean temperature may differ from the equilibration's by this fraction (and by three
#: standard errors) before the measurement warns.
TEMPERATURE_TOLERANCE = 0.02


def temperature_drift(record: HydrodynamicsRecord, thermostat, fluid) -> str:
    """A warning (empty when none) if the NVE production runs' mean temperature is off the equilibration
    thermostat's by more than ``TEMPERATURE_TOLERANCE`` and three standard errors: the members were not in
    equilibrium when production began (typically a crystal start, as ``lj_fluid`` makes, still melting and
    cooling the runs as it absorbs its latent heat), so the record describes another state point."""
    target_k = float(getattr(thermostat, "temperature", 0.0) or 0.0)
    if target_k <= 0 or record.temperature is None:
        return ""
    _, epsilon, _, _ = reduced_units(fluid)
    target = target_k * KB_EV / epsilon
    error = float(record.temperature_error or 0.0)
    off = float(record.temperature) - target
    if abs(off) <= max(TEMPERATURE_TOLERANCE * target, 3.0 * error):
        return ""
    return (f"the production runs' mean temperature T* = {record.temperature:.4f} +- {error:.4f} is {100 * off / target:+.1f} % "
            f"off the equilibration's {target:.4f}: the runs were not in equilibrium when production began (a "
            "crystal start still melting?); melt the start first or lengthen equilibrate_steps")


tk.register_default_solver(HydrodynamicMeasurement, lambda problem: TransverseCurrents())

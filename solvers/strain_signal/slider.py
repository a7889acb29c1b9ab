"""``SliderODE``: the rate-and-state spring-slider of a :class:`StickSlipExperiment`.

State ``(x, psi, delta)`` with ``x = ln(V/V0)`` (the logarithm of slip rate keeps the stiff
failure phase, where V grows by orders of magnitude in microseconds, well scaled),
``psi = ln(V0 theta/D_c)`` and slip ``delta``. Differentiating the quasi-dynamic force balance
``k (delta_L - delta) - eta V = sigma (mu0 + a x + b psi)`` (Rice 1993, doi:10.1029/93JB00191)
with the aging law ``dtheta/dt = 1 - V theta/D_c`` (Dieterich 1979) gives::

    dpsi/dt = (V0/D_c) e^-psi - V/D_c
    dx/dt   = [k (v_L - V) - sigma b dpsi/dt] / (sigma a + eta V)
    ddelta/dt = V

integrated with an adaptive stiff method of ``scipy.integrate.solve_ivp`` (LSODA by default),
one load interval (one integrator step) at a time; a lab-quake starts when V crosses
``failure_slip_rate`` upward (found by the solver's event location).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

import toolkit as tk
from problems.strain_signal import StickSlipExperiment, StrainSignal
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .emission import CHUNK, acoustic_signal

__all__ = ["SliderODE", "StickSlipSolution", "SliderIntegrator"]


class SliderODE(tk.Solver):
    """Adaptive stiff ODE integration of the slider (``solve_ivp``), then the emission model.

    ``method``       ``"LSODA"``, ``"Radau"`` or ``"BDF"`` (stiff), or ``"RK45"``
    ``rtol``, ``atol``  solve_ivp tolerances (atol applies to x and psi, which are O(1))
    ``output_rate``  rate (Hz) of the stored slider history; the acoustic signal interpolates
                     ln V from it
    ``record``       keep the acoustic record in memory (``solution.samples``, float64). ``False``
                     for long MHz records: then stream it to a memory-mapped int16 lab file with
                     ``solution.write_record(path)`` (the same samples, bounded memory)
    """

    method: str = "LSODA"
    rtol: float = 1e-8
    atol: float = 1e-9
    output_rate: float = 2e4
    record: bool = True

    supports_step = True

    def _validate(self):
        err = tk.InvalidSolverError
        v.choice("method", self.method, ("LSODA", "Radau", "BDF", "RK45"), error=err)
        self._set("rtol", v.real_scalar("rtol", self.rtol, lower=1e-14, upper=1e-2, error=err))
        self._set("atol", v.real_scalar("atol", self.atol, lower=1e-16, upper=1e-2, error=err))
        self._set("output_rate", v.real_scalar("output_rate", self.output_rate, lower=0, lower_open=True,
                                               error=err))


class StickSlipSolution(tk.Solution):
    """Slider history on a uniform grid, failure times, and the labelled acoustic record."""

    times: np.ndarray
    slip_rate: np.ndarray
    state: np.ndarray
    slip: np.ndarray
    friction: np.ndarray
    shear_stress: np.ndarray
    failure_times: np.ndarray
    record_start: float
    samples: np.ndarray
    time_to_failure: np.ndarray

    dims = {"times": ("time",), "slip_rate": ("time",), "state": ("time",), "slip": ("time",),
            "friction": ("time",), "shear_stress": ("time",), "failure_times": ("failure",),
            "samples": ("sample",), "time_to_failure": ("sample",)}
    compare_fields = ("slip_rate", "shear_stress")

    @property
    def recurrence_times(self) -> np.ndarray:
        return np.diff(self.failure_times)

    def signal(self) -> StrainSignal:
        """The acoustic record as a labelled :class:`StrainSignal` (shear stress interpolated)."""
        p = self.problem
        labels = self.time_to_failure if self.time_to_failure.size == self.samples.size else None
        t = self.record_start + np.arange(self.samples.size) / p.sampling_rate
        stress = np.interp(t, self.times, self.shear_stress) if self.times.size else None
        return StrainSignal(samples=self.samples, sampling_rate=p.sampling_rate, time_to_failure=labels,
                            shear_stress=stress)

    def write_record(self, path, chunk: int = CHUNK) -> StrainSignal:
        """Stream the labelled acoustic record into a binary lab file and memory-map it back.

        The file has the layout of :func:`solvers.strain_signal.labdata.open_binary` (int16 counts,
        float32 labels); the samples equal ``self.samples`` (same random stream), generated
        ``chunk`` at a time, so a 4 MHz record of any length needs O(chunk) memory.
        """
        from .labdata import create_binary, open_binary

        p = self.problem
        # failures are found only inside integrated intervals, so the run's end bounds them all
        end = float(self.failure_times.max()) if self.failure_times.size else 0.0
        layout = _record_layout(p, self.failure_times, end)
        if not layout["labelled"]:
            raise ValueError(f"write_record needs a labelled record: {layout['message']}")
        path = Path(path)
        samples, labels = create_binary(path, layout["n"], p.sampling_rate)
        _stream_record(p, self.times, self.slip_rate, self.friction, layout, samples, labels, chunk=chunk)
        samples.flush()
        labels.flush()
        del samples, labels
        return open_binary(path)

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        if ax is None:
            fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
        else:
            axes = [ax, ax.twinx(), None]
        axes[0].plot(self.times, self.shear_stress / 1e6, lw=0.8)
        axes[0].set_ylabel("shear stress (MPa)")
        for tf in self.failure_times:
            axes[0].axvline(tf, color="0.8", lw=0.5, zorder=0)
        axes[1].semilogy(self.times, self.slip_rate, lw=0.8, color="C1")
        axes[1].set_ylabel("slip rate (m/s)")
        if axes[2] is not None:
            t = self.record_start + np.arange(self.samples.size) / self.problem.sampling_rate
            step = max(1, self.samples.size // 200_000)
            axes[2].plot(t[::step], self.samples[::step], lw=0.3, color="k")
            axes[2].set_ylabel("acoustic signal (counts)")
            axes[2].set_xlabel("time (s)")
            if self.time_to_failure.size == self.samples.size:
                tw = axes[2].twinx()
                tw.plot(t[::step], self.time_to_failure[::step], color="C3", lw=1)
                tw.set_ylabel("time to failure (s)", color="C3")
        return axes[0]


class SliderIntegrator(tk.Integrator):
    """Steps a :class:`StickSlipExperiment` one load interval at a time."""

    def __init__(self, problem: StickSlipExperiment, solver: SliderODE):
        super().__init__(problem, solver)
        p = problem
        rng = np.random.default_rng([p.seed, 0])
        xi = rng.standard_normal(p.steps)
        self.load_factor = np.exp(p.perturbation * xi - 0.5 * p.perturbation ** 2)
        self.k = p.spring_constant
        self.x_fail = float(np.log(p.failure_slip_rate / p.v0))
        self.per_step = max(1, int(np.ceil(p.interval * solver.output_rate)))
        # start near steady sliding at v_load, slightly fast, so the instability (if any) grows
        self.y = np.array([np.log(p.v_load / p.v0) + 0.1, np.log(p.v0 / p.v_load), 0.0])
        self.grid: list[np.ndarray] = []
        self.failures: list[float] = []

    def _rhs(self, t, y, v_l):
        p = self.problem
        V = p.v0 * np.exp(y[0])
        dpsi = (p.v0 / p.d_c) * np.exp(-y[1]) - V / p.d_c
        dx = (self.k * (v_l - V) - p.sigma * p.b * dpsi) / (p.sigma * p.a + p.eta * V)
        return np.array([dx, dpsi, V])

    def _event(self, t, y, v_l):
        return y[0] - self.x_fail

    _event.direction = 1.0

    def _advance(self, n):
        p, s = self.problem, self.solver
        for j in range(n):
            step = self.step_index + j
            t0, t1 = step * p.interval, (step + 1) * p.interval
            t_eval = t0 + np.arange(self.per_step + 1) * (p.interval / self.per_step)
            t_eval[-1] = t1
            v_l = p.v_load * self.load_factor[step]
            try:
                sol = solve_ivp(self._rhs, (t0, t1), self.y, method=s.method, rtol=s.rtol,
                                atol=[s.atol, s.atol, s.atol * p.d_c], t_eval=t_eval, events=self._event,
                                args=(v_l,), dense_output=False)
            except (ValueError, ArithmeticError) as exc:
                self.message = f"solve_ivp failed in load interval {step}: {exc}"
                return j
            if not sol.success or not np.all(np.isfinite(sol.y)) or sol.y.shape[1] != t_eval.size:
                self.message = f"solve_ivp failed in load interval {step}: {sol.message}"
                return j
            self.y = sol.y[:, -1].copy()
            self.grid.append(np.vstack([sol.t[:-1], sol.y[:, :-1]]))
            self.failures.extend(float(t) for t in sol.t_events[0])
        return n

    def _state(self):
        grid = np.hstack(self.grid) if self.grid else np.zeros((4, 0))
        return {"y": self.y, "grid": grid, "failures": np.array(self.failures, dtype=float)}

    def _load_state(self, state):
        self.y = np.array(state["y"], dtype=float)
        grid = np.array(state["grid"], dtype=float).reshape(4, -1)
        self.grid = [grid] if grid.shape[1] else []
        self.failures = [float(t) for t in np.asarray(state["failures"]).ravel()]

    def solution(self):
        p = self.problem
        grid = np.hstack(self.grid) if self.grid else np.zeros((4, 0))
        t, x, psi, slip = grid
        V = p.v0 * np.exp(x)
        friction = p.mu0 + p.a * x + p.b * psi
        stress = p.sigma * friction + p.eta * V
        failures = np.array(self.failures, dtype=float)
        layout = _record_layout(p, failures, self.step_index * p.interval)
        common = self._common()
        if layout["message"] and not common["message"]:
            common["message"] = layout["message"]
        n = layout["n"] if self.solver.record else 0
        samples, ttf = np.empty(n), np.empty(n if layout["labelled"] else 0)
        if n:
            _stream_record(p, t, V, friction, layout, samples, ttf)
        return StickSlipSolution(**common, times=t, slip_rate=V, state=p.d_c / p.v0 * np.exp(psi), slip=slip,
                                 friction=friction, shear_stress=stress, failure_times=failures,
                                 record_start=layout["start"], samples=samples, time_to_failure=ttf)


def _record_layout(p: StickSlipExperiment, failures: np.ndarray, t_end: float) -> dict:
    """Where the acoustic record lies: from the first lab-quake after the spin-up to the last one.

    Sample ``j`` is at ``start + j / sampling_rate``; without two lab-quakes the record (then
    unlabelled) spans the run after the spin-up.
    """
    t_start = p.spinup * p.interval
    inside = failures[(failures > t_start) & (failures <= t_end)]
    if inside.size >= 2:
        first, last = float(inside[0]), float(inside[-1])
        n = int(np.floor((last - first) * p.sampling_rate))
        while n > 0 and first + n / p.sampling_rate >= last:
            n -= 1
        # sample j (0-based) is at first + (j + 1)/fs, strictly inside (first, last)
        return {"labelled": True, "first": first, "start": first + 1.0 / p.sampling_rate, "n": n,
                "inside": inside, "message": ""}
    return {"labelled": False, "start": t_start, "n": int(max(0.0, t_end - t_start) * p.sampling_rate),
            "inside": inside,
            "message": (f"{inside.size} lab-quake(s) after the spin-up: the acoustic record is unlabelled "
                        "(stable sliding needs stiffness < 1 for stick-slip, or run more steps)")}


def _stream_record(p, times, slip_rate, friction_hist, layout, samples, ttf, chunk: int = CHUNK) -> None:
    """Acoustic samples (and time-to-failure labels) of the record, ``chunk`` samples at a time.

    ``samples``/``ttf`` may be float64 arrays or memory maps (int16 / float32); nothing else of the
    record's size is allocated. ln V is interpolated linearly from the slider history.
    """
    fs = p.sampling_rate
    shift = float(np.log(p.v_load / p.v0))
    log_v = np.log(slip_rate / p.v0) if times.size else np.zeros(0)
    mu = friction_hist
    if layout["labelled"]:
        first = layout["first"]
        sample_time = lambda a, b: first + np.arange(a + 1, b + 1) / fs  # noqa: E731
    else:
        sample_time = lambda a, b: layout["start"] + np.arange(a, b) / fs  # noqa: E731

    def log_ratio(a, b):
        ts = sample_time(a, b)
        return np.interp(ts, times, log_v) - shift if times.size else np.zeros(ts.size)

    def friction(a, b):
        ts = sample_time(a, b)
        return np.interp(ts, times, mu) if times.size else np.full(ts.size, p.mu0)

    acoustic_signal(log_ratio, p, np.random.default_rng([p.seed, 1]), friction=friction, n=layout["n"],
                    out=samples, chunk=chunk)
    if layout["labelled"]:
        inside = layout["inside"]
        for a in range(0, layout["n"], chunk):
            b = min(layout["n"], a + chunk)
            ts = sample_time(a, b)
            ttf[a:b] = inside[np.searchsorted(inside, ts, side="right")] - ts


@dispatch
def _init(problem: StickSlipExperiment, solver: SliderODE) -> SliderIntegrator:
    return SliderIntegrator(problem, solver)

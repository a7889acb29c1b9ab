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
from toolkit.conventions import attrs, index
from toolkit.dispatch import dispatch

from .emission import CHUNK, acoustic_signal
from .memory import check_memory

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
    ``max_evaluations``  right-hand-side evaluations allowed per load interval (100 to 1e8). A
                     laboratory-like interval takes ~1,000; a run that needs more is too stiff to
                     finish and stops ``Unstable`` at that interval instead of running for hours

    Validity is monitored while the run goes: a failed or over-budget ODE solve, or a slip rate,
    state, friction or shear stress that leaves float64 (overflow), stops the run ``Unstable``
    at that load interval, keeping the history up to the last good one. ``tk.init`` refuses a run
    whose memory estimate (:meth:`memory_estimate`) exceeds the available memory.
    """

    method: str = "LSODA"
    rtol: float = 1e-8
    atol: float = 1e-9
    output_rate: float = 2e4
    record: bool = True
    max_evaluations: int = 100_000

    supports_step = True

    def _validate(self):
        err = tk.InvalidSolverError
        v.choice("method", self.method, ("LSODA", "Radau", "BDF", "RK45"), error=err)
        self._set("rtol", v.real_scalar("rtol", self.rtol, lower=1e-14, upper=1e-2, error=err))
        self._set("atol", v.real_scalar("atol", self.atol, lower=1e-16, upper=1e-2, error=err))
        self._set("output_rate", v.real_scalar("output_rate", self.output_rate, lower=0, lower_open=True,
                                               error=err))
        self._set("max_evaluations", v.integer("max_evaluations", self.max_evaluations, lower=100, upper=10 ** 8,
                                               error=err))

    def points_per_interval(self, problem: StickSlipExperiment) -> int:
        """History points stored per load interval, ``ceil(interval * output_rate)`` (at least 1)."""
        per = problem.interval * self.output_rate
        return max(1, int(np.ceil(per))) if per < 2.0 ** 62 else 2 ** 62

    def memory_estimate(self, problem: StickSlipExperiment) -> int:
        """Peak bytes of a run: the slider history (4 rows while running, their joined copy and six
        solution fields: ~112 bytes a point), the load factors (16 bytes a step) and, with
        ``record=True``, the acoustic record and its labels (16 bytes a sample) plus the chunk
        buffers of the emission model."""
        points = problem.steps * self.points_per_interval(problem) + 1
        samples = (problem.steps - problem.spinup) * problem.interval * problem.sampling_rate if self.record else 0
        return int(112 * points + 16 * problem.steps + 16 * samples + 64 * CHUNK)


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

    compare_fields = ("slip_rate", "shear_stress")

    @property
    def dims(self):
        # an unlabelled record has samples but no labels: the labels then get a dimension of their own
        labels = "sample" if self.time_to_failure.size == self.samples.size else "label"
        return {"times": ("time",), "slip_rate": ("time",), "state": ("time",), "slip": ("time",),
                "friction": ("time",), "shear_stress": ("time",), "failure_times": ("failure",),
                "samples": ("sample",), "time_to_failure": (labels,)}
    coords = {"time": "times"}
    cf = {"times": attrs("s", "time"), "slip_rate": attrs("m/s", "slip rate V"), "state": attrs("s", "state theta"),
          "slip": attrs("m", "slip delta"), "friction": attrs("1", "friction coefficient mu"),
          "shear_stress": attrs("Pa", "shear stress"), "failure_times": attrs("s", "lab-quake onset time"),
          "samples": attrs("count", "acoustic signal (ADC counts)"), "time_to_failure": attrs("s", "time to failure"),
          "failure": index("lab-quake"), "label": index("label")}

    def _coordinates(self):
        rate = self.problem.sampling_rate
        return {"sample": ("sample", self.record_start + np.arange(self.samples.size) / rate,
                           attrs("s", "time of the acoustic sample"))}

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
        """Shear stress (failures marked), slip rate, the acoustic record and its time-to-failure
        label against time, stacked (SI units). With ``ax``: stress and, on a twin axis, slip rate.
        Returns the stress axes."""
        import matplotlib.pyplot as plt

        from toolkit.plotting import COUNT, finish, label

        labelled = self.time_to_failure.size == self.samples.size and self.samples.size > 0
        if ax is None:
            rows = 2 + (self.samples.size > 0) + labelled
            fig, axes = plt.subplots(rows, 1, figsize=(8, 2.0 * rows + 0.8), sharex=True, layout="constrained")
            axes = list(axes) + [None] * (4 - rows)
        else:
            fig, axes = ax.figure, [ax, ax.twinx(), None, None]
        axes[0].plot(self.times, self.shear_stress / 1e6, lw=0.8)
        axes[0].set_ylabel(label("shear stress", "MPa"))
        axes[0].set_title("shear stress (grey lines: failures)")
        for tf in self.failure_times:
            axes[0].axvline(tf, color="0.8", lw=0.5, zorder=0)
        axes[1].semilogy(self.times, self.slip_rate, lw=0.8, color="C1")
        axes[1].set_ylabel(label("slip rate", "m/s"))
        if ax is not None:
            axes[0].set_xlabel(label("time", "s"))
            return axes[0]
        axes[1].set_title("slip rate")
        last = axes[1]
        if axes[2] is not None:
            t = self.record_start + np.arange(self.samples.size) / self.problem.sampling_rate
            step = max(1, self.samples.size // 200_000)
            axes[2].plot(t[::step], self.samples[::step], lw=0.3, color="k")
            axes[2].set_ylabel(label("acoustic signal", COUNT))
            axes[2].set_title("acoustic emission record")
            last = axes[2]
            if axes[3] is not None:
                axes[3].plot(t[::step], self.time_to_failure[::step], color="C3", lw=1)
                axes[3].set_ylabel(label("time to failure", "s"))
                axes[3].set_title("time-to-failure label of the record")
                last = axes[3]
        last.set_xlabel(label("time", "s"))
        finish(fig, f"stick-slip experiment: {len(self.failure_times)} failures ({type(self.solver).__name__})")
        return axes[0]


class _OverBudget(Exception):
    """Raised inside the right-hand side when a load interval exceeds ``max_evaluations``."""


class SliderIntegrator(tk.Integrator):
    """Steps a :class:`StickSlipExperiment` one load interval at a time.

    State: ``y = (x, psi, delta)`` at the end of the last interval, the history ``grid`` (rows
    t, x, psi, delta; ``points_per_interval`` columns per completed interval) and the failure
    times. No random state evolves: the load factors and the acoustic record are drawn from
    the problem's seed, so a checkpoint holds only these three.
    """

    def __init__(self, problem: StickSlipExperiment, solver: SliderODE):
        self.grid: list[np.ndarray] = []
        self._intervals = 0
        super().__init__(problem, solver)
        p = problem
        needed = solver.memory_estimate(p)
        points = 112 * (p.steps * solver.points_per_interval(p) + 1)
        if points > needed / 2:
            check_memory(needed, f"the slider history at output_rate = {solver.output_rate:g}", "lower output_rate "
                         "(the acoustic record interpolates the history, which needs only a few points a cycle)",
                         tk.InvalidSolverError)
        check_memory(needed, f"the acoustic record of {p.steps - p.spinup} intervals at sampling_rate = "
                     f"{p.sampling_rate:g}", "use SliderODE(record=False) and stream it to a file with "
                     "solution.write_record(path), or lower sampling_rate or steps", tk.InvalidProblemError)
        rng = np.random.default_rng([p.seed, 0])
        xi = rng.standard_normal(p.steps)
        self.load_factor = np.exp(p.perturbation * xi - 0.5 * p.perturbation ** 2)
        self.k = p.spring_constant
        self.x_fail = float(np.log(p.failure_slip_rate / p.v0))
        self.per_step = solver.points_per_interval(p)
        # start near steady sliding at v_load, slightly fast, so the instability (if any) grows
        self.y = np.array([np.log(p.v_load / p.v0) + 0.1, np.log(p.v0 / p.v_load), 0.0])
        self.failures: list[float] = []
        self._evaluations = 0

    # The step index must always equal the number of intervals in the history: checked when a
    # checkpoint sets it (tk.resume sets it after _load_state).
    @property
    def step_index(self) -> int:
        return self._step_index

    @step_index.setter
    def step_index(self, value: int) -> None:
        if value != self._intervals:
            raise tk.FileFormatError(
                f"checkpoint step_index = {value} does not match its slider history, which holds "
                f"{self._intervals} load interval(s); the file is inconsistent")
        self._step_index = value

    def _rhs(self, t, y, v_l):
        self._evaluations += 1
        if self._evaluations > self.solver.max_evaluations:
            raise _OverBudget
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
            self._evaluations = 0
            try:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    sol = solve_ivp(self._rhs, (t0, t1), self.y, method=s.method, rtol=s.rtol,
                                    atol=[s.atol, s.atol, s.atol * p.d_c], t_eval=t_eval, events=self._event,
                                    args=(v_l,), dense_output=False)
            except _OverBudget:
                self.message = (f"load interval {step} needed more than max_evaluations = {s.max_evaluations} "
                                f"right-hand-side evaluations ({s.method}): the slider is too stiff to finish; "
                                "bring a, d_c, stiffness or eta closer to laboratory values, or raise max_evaluations")
                return j
            except (ValueError, ArithmeticError) as exc:
                self.message = f"solve_ivp failed in load interval {step}: {exc}"
                return j
            if not sol.success or sol.y.shape[1] != t_eval.size:
                self.message = f"solve_ivp failed in load interval {step}: {sol.message}"
                return j
            bad = _invalid(p, sol.y)
            if bad:
                self.message = f"{bad} in load interval {step}"
                return j
            self.y = sol.y[:, -1].copy()
            self.grid.append(np.vstack([sol.t[:-1], sol.y[:, :-1]]))
            self._intervals += 1
            self.failures.extend(float(t) for t in sol.t_events[0])
        return n

    def _state(self):
        grid = np.hstack(self.grid) if self.grid else np.zeros((4, 0))
        return {"y": self.y, "grid": grid, "failures": np.array(self.failures, dtype=float)}

    def _load_state(self, state):
        """Check every array of a checkpoint's state against the problem before anything uses it."""
        p = self.problem
        if not isinstance(state, dict):
            raise tk.FileFormatError(f"the checkpoint state is a {type(state).__name__}; a slider state is a dict "
                                     "with y, grid and failures")
        missing = sorted({"y", "grid", "failures"} - set(state))
        if missing:
            raise tk.FileFormatError(f"the slider state lacks {', '.join(missing)}")
        y = _state_array("y", state["y"], 1)
        if y.shape != (3,):
            raise tk.FileFormatError(f"state y has shape {y.shape}; the slider needs shape (3,): (ln V/V0, "
                                     "ln V0 theta/D_c, slip)")
        grid = _state_array("grid", state["grid"], 2)
        per = self.per_step
        if grid.shape[0] != 4 or grid.shape[1] % per:
            raise tk.FileFormatError(f"state grid has shape {grid.shape}; the slider needs (4, m * {per}): rows t, x, "
                                     f"psi, slip and {per} points per load interval (output_rate = "
                                     f"{self.solver.output_rate:g})")
        intervals = grid.shape[1] // per
        if intervals > p.steps:
            raise tk.FileFormatError(f"state grid holds {intervals} load intervals; the problem has only "
                                     f"steps = {p.steps}")
        expected = (np.arange(intervals)[:, None] * p.interval
                    + np.arange(per)[None, :] * (p.interval / per)).ravel()
        if not np.allclose(grid[0], expected, rtol=1e-9, atol=1e-9 * p.interval):
            raise tk.FileFormatError("state grid times are not the problem's load intervals (interval = "
                                     f"{p.interval:g} s, {per} points each); the checkpoint is for another problem")
        bad = _invalid(p, np.column_stack([grid[1:], y]))
        if bad:
            raise tk.FileFormatError(f"the checkpoint's slider state is not a valid state: {bad}")
        failures = _state_array("failures", state["failures"], 1)
        t_end = intervals * p.interval
        if failures.size and (np.any(np.diff(failures) < 0) or failures[0] < 0 or failures[-1] > t_end):
            raise tk.FileFormatError(f"state failures must be sorted times in [0, {t_end:g}] s (the "
                                     f"{intervals} integrated load intervals)")
        self.y = y
        self.grid = [grid] if grid.shape[1] else []
        self._intervals = intervals
        self.failures = [float(t) for t in failures]

    def solution(self):
        p = self.problem
        grid = np.hstack(self.grid) if self.grid else np.zeros((4, 0))
        t, x, psi, slip = grid
        V, theta, friction, stress = _derived(p, grid[1:])
        failures = np.array(self.failures, dtype=float)
        layout = _record_layout(p, failures, self.step_index * p.interval)
        common = self._common()
        if layout["message"] and not common["message"]:
            common["message"] = layout["message"]
        n = layout["n"] if self.solver.record else 0
        samples, ttf = np.empty(n), np.empty(n if layout["labelled"] else 0)
        if n:
            _stream_record(p, t, V, friction, layout, samples, ttf)
            bad = np.flatnonzero(~np.isfinite(samples))
            if bad.size:
                at = layout["start"] + bad[0] / p.sampling_rate
                common["retcode"] = tk.ReturnCode.Unstable
                common["message"] = (f"the acoustic record overflows at sample {bad[0]} (t = {at:g} s, load interval "
                                     f"{int(at / p.interval)}): lower emission_amplitude, amplitude_exponent or "
                                     "max_amplitude_ratio")
                common["stats"]["unstable_step"] = int(at / p.interval) + 1
                samples, ttf = np.empty(0), np.empty(0)
        return StickSlipSolution(**common, times=t, slip_rate=V, state=theta, slip=slip,
                                 friction=friction, shear_stress=stress, failure_times=failures,
                                 record_start=layout["start"], samples=samples, time_to_failure=ttf)


def _derived(p: StickSlipExperiment, rows: np.ndarray):
    """Slip rate V, state theta, friction mu and shear stress of states ``rows = (x, psi, slip)``."""
    x, psi = rows[0], rows[1]
    with np.errstate(over="ignore", invalid="ignore"):
        V = p.v0 * np.exp(x)
        theta = p.d_c / p.v0 * np.exp(psi)
        friction = p.mu0 + p.a * x + p.b * psi
        stress = p.sigma * friction + p.eta * V
    return V, theta, friction, stress


def _invalid(p: StickSlipExperiment, rows: np.ndarray) -> str:
    """Why states ``rows = (x, psi, slip, ...)`` (columns) are not valid, or ``""``: every value
    and every derived quantity must be finite float64."""
    if not np.all(np.isfinite(rows[:3])):
        return "the state (ln V, ln theta, slip) became non-finite"
    for name, values in zip(("slip rate", "state theta", "friction", "shear stress"), _derived(p, rows)):
        if not np.all(np.isfinite(values)):
            return f"the {name} left float64 (overflow)"
    return ""


def _state_array(name: str, value, ndim: int) -> np.ndarray:
    """A checkpoint array as float64: a float array of ``ndim`` dimensions, or FileFormatError."""
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f" or value.ndim != ndim:
        shown = (f"a {value.dtype} array of {value.ndim} dimension(s)" if isinstance(value, np.ndarray)
                 else f"a {type(value).__name__}")
        raise tk.FileFormatError(f"state {name} is {shown}; the slider needs a {ndim}-D float64 array")
    arr = np.ascontiguousarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise tk.FileFormatError(f"state {name} holds NaN or Inf at index {np.argwhere(~np.isfinite(arr))[0].tolist()}; "
                                 "a checkpoint holds only finite states")
    return arr


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

"""Quickstart: one verb, ``tk.solve(problem, solver)``, on a system small enough to read whole.
============================================================================================

The harmonic oscillator  x'' = -ω² x  with x(0) = x0, x'(0) = v0 has the exact solution
x(t) = x0 cos ωt + (v0/ω) sin ωt. We define it as a scalebridge problem, give it two solvers
(the analytic formula and a numba velocity-Verlet integrator) and then use the core's verbs:
solve, compare (error ∝ dt², Hairer, Lubich & Wanner, Geometric Numerical Integration, 2006,
doi:10.1007/3-540-30666-8), step and checkpoint/resume, ensembles, and return codes (Verlet is
unstable for ω dt > 2). The problem families in ``problems/`` and ``solvers/`` are built the same
way, only larger.

    SCALEBRIDGE_SMALL=1 SCALEBRIDGE_OUT=out python tutorials/00_quickstart.py
"""

import os
import pathlib
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from numba import njit

import toolkit as tk
from toolkit import validate as v
from toolkit.dispatch import dispatch

OUT = pathlib.Path(os.environ.get("SCALEBRIDGE_OUT", "out"))
SMALL = os.environ.get("SCALEBRIDGE_SMALL") == "1"
if SMALL:
    print("SCALEBRIDGE_SMALL=1: a small, quick run; its numbers are NOT converged "
          "(run without SCALEBRIDGE_SMALL for the full size)")
OUT.mkdir(parents=True, exist_ok=True)


# --- 1. a problem: data and validation, no numerics ------------------------------------------------

class Oscillator(tk.TimeProblem):
    """x'' = -ω² x from (x0, v0), ``steps`` steps of ``dt``, a frame every ``save_every`` steps."""

    x0: float = 1.0
    v0: float = 0.0
    omega: float = 1.0
    dt: float = 0.05
    steps: int = 400
    save_every: int = 10

    def _validate(self):
        self._set("x0", v.real_scalar("x0", self.x0))
        self._set("v0", v.real_scalar("v0", self.v0))
        self._set("omega", v.real_scalar("omega", self.omega, lower=0, lower_open=True))
        self._set("dt", v.real_scalar("dt", self.dt, lower=0, lower_open=True))
        self._set("steps", v.integer("steps", self.steps, lower=1))
        self._set("save_every", v.integer("save_every", self.save_every, lower=1))

    @classmethod
    def example(cls, seed=0):
        rng = np.random.default_rng(seed)
        return cls(x0=float(rng.normal()), v0=float(rng.normal()), steps=40)


class Trajectory(tk.Solution):
    times: np.ndarray
    x: np.ndarray
    v: np.ndarray

    dims = {"times": ("time",), "x": ("time",), "v": ("time",)}
    compare_fields = ("x",)

    def plot(self, ax=None):
        ax = ax or plt.gca()
        ax.plot(self.times, self.x, label=type(self.solver).__name__)
        ax.set(xlabel="t", ylabel="x")
        return ax


# --- 2. two solvers: hyperparameters only ----------------------------------------------------------

class Analytic(tk.Solver):
    """x0 cos ωt + (v0/ω) sin ωt: the exact reference."""


class Verlet(tk.Solver):
    """Velocity Verlet (symplectic, second order; stable for ω dt < 2)."""

    supports_step = True


@njit(cache=True, nogil=True)
def verlet_steps(x, v, omega, dt, n):
    """Advance (x, v) by ``n`` velocity-Verlet steps; returns (x, v, steps done before blow-up)."""
    w2 = omega * omega
    for k in range(n):
        v_half = v - 0.5 * dt * w2 * x
        x = x + dt * v_half
        v = v_half - 0.5 * dt * w2 * x
        if not (abs(x) < 1e12):
            return x, v, k
    return x, v, n


class VerletIntegrator(tk.Integrator):
    def __init__(self, problem, solver):
        super().__init__(problem, solver)
        self.x, self.v = problem.x0, problem.v0
        self.frames = [(0, self.x, self.v)]

    def _advance(self, n):
        p, done = self.problem, 0
        while done < n:  # stop at every frame to save it
            chunk = min(n - done, p.save_every - (self.step_index + done) % p.save_every)
            self.x, self.v, ok = verlet_steps(self.x, self.v, p.omega, p.dt, chunk)
            done += ok
            if ok < chunk:
                self.message = f"x grew past 1e12: ω dt = {p.omega * p.dt:.3g} must be below 2"
                return done
            if (self.step_index + done) % p.save_every == 0:
                self.frames.append((self.step_index + done, self.x, self.v))
        return n

    def _state(self):
        return {"x": self.x, "v": self.v, "frames": np.array(self.frames)}

    def _load_state(self, state):
        # a checkpoint is checked against the problem before anything uses it
        frames = np.asarray(state["frames"], dtype=float)
        if frames.ndim != 2 or frames.shape[1] != 3 or not np.isfinite(frames).all():
            raise tk.FileFormatError(f"frames of shape {frames.shape} must be finite rows (step, x, v)")
        self.x, self.v = float(state["x"]), float(state["v"])
        if not (np.isfinite(self.x) and np.isfinite(self.v)):
            raise tk.FileFormatError(f"x = {self.x}, v = {self.v} must be finite")
        self.frames = [tuple(row) for row in frames]

    def solution(self):
        steps, x, v = np.array(self.frames).T
        return Trajectory(**self._common(), times=steps * self.problem.dt, x=x, v=v)


# --- 3. methods: the pair picks the implementation -------------------------------------------------

@dispatch
def _solve(problem: Oscillator, solver: Analytic) -> Trajectory:
    t = np.arange(0, problem.steps + 1, problem.save_every) * problem.dt
    w = problem.omega
    x = problem.x0 * np.cos(w * t) + problem.v0 / w * np.sin(w * t)
    v = -problem.x0 * w * np.sin(w * t) + problem.v0 * np.cos(w * t)
    return Trajectory(problem=problem, solver=solver, times=t, x=x, v=v)


@dispatch
def _init(problem: Oscillator, solver: Verlet) -> VerletIntegrator:
    return VerletIntegrator(problem, solver)


if __name__ == "__main__":
    problem = Oscillator(x0=1.0, v0=0.5, omega=2.0, dt=0.02, steps=200 if SMALL else 2000)
    print(problem)
    print("solvers for it:", [s.__name__ for s in tk.solvers_for(problem)])

    exact = tk.solve(problem, Analytic())
    numeric = tk.solve(problem, Verlet())
    print(numeric, "\nmax |x - exact| =", np.abs(numeric.x - exact.x).max())

    # compare: the error against the reference falls as dt², the order of velocity Verlet
    dts = [0.04, 0.02, 0.01]
    errors = []
    for dt in dts:
        p = tk.remake(problem, dt=dt, steps=int(round(problem.steps * problem.dt / dt)),
                      save_every=int(round(problem.save_every * problem.dt / dt)))
        table = tk.compare(p, [Verlet()], reference=Analytic())
        errors.append(table.errors[0])
    print(table)
    order = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    print(f"fitted convergence order: {order:.2f} (velocity Verlet: 2)")

    # step, checkpoint, resume: the resumed run ends bit-identical to the uninterrupted one
    with tempfile.TemporaryDirectory() as tmp:
        integ = tk.init(problem, Verlet())
        integ.step(problem.steps // 2)
        integ.checkpoint(pathlib.Path(tmp) / "half.ckpt")
        resumed = tk.resume(pathlib.Path(tmp) / "half.ckpt")
        resumed.run()
        assert np.array_equal(resumed.solution().x, numeric.x)
        print("resumed from step", problem.steps // 2, "-> identical trajectory")
        tk.save(numeric, pathlib.Path(tmp) / "run.nc")
        print("saved and loaded:", tk.load(pathlib.Path(tmp) / "run.nc"))

    # ensemble: a spread of frequencies, seeded per member, on two threads
    ensemble = tk.EnsembleProblem(problem, vary=lambda p, i, rng: tk.remake(p, omega=1.0 + 0.1 * i), n=8)
    members = tk.solve(ensemble, Verlet(), ensemble=tk.Threads(2))
    print(f"ensemble of {len(members.members)}: final x =",
          np.round([m.x[-1] for m in members.members], 3))

    # a step too large: Verlet is unstable for ω dt > 2 and says so, at the step it happened
    bad = tk.solve(tk.remake(problem, dt=1.2), Verlet())
    print(bad.retcode, "at step", bad.stats.get("unstable_step"), "-", bad.message)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    exact.plot(ax1)
    ax1.plot(numeric.times[::4], numeric.x[::4], "o", ms=3, label="Verlet")
    ax1.legend()
    ax2.loglog(dts, errors, "o-", label=f"Verlet, slope {order:.2f}")
    ax2.set(xlabel="dt", ylabel="max relative L2 error")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(OUT / "00_quickstart.png", dpi=120)
    print("figure:", OUT / "00_quickstart.png")

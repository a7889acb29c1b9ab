"""A toy family used by the core tests: exponential decay (a time problem) and a sum.

dx = -rate * x dt + noise * dW, stepped by explicit Euler(-Maruyama); exact solution
x(t) = x0 exp(-rate t) when noise = 0. Small, fast, and with a known answer.
"""

from __future__ import annotations

import time

import numpy as np

import toolkit as tk
from toolkit import validate as v
from toolkit import memory
from toolkit.conventions import attrs, index, reduced
from toolkit.dispatch import dispatch


class Decay(tk.TimeProblem):
    """dx/dt = -rate x (+ noise dW), ``steps`` steps of ``dt``, frames every ``save_every``."""

    x0: np.ndarray
    rate: float = 1.0
    dt: float = 0.01
    steps: int = 100
    save_every: int = 10
    noise: float = 0.0

    def _validate(self):
        self._set("x0", v.real_array("x0", self.x0, ndim=1))
        self._set("rate", v.real_scalar("rate", self.rate, lower=0))
        self._set("dt", v.real_scalar("dt", self.dt, lower=0, lower_open=True))
        self._set("steps", v.integer("steps", self.steps, lower=1))
        self._set("save_every", v.integer("save_every", self.save_every, lower=1))
        self._set("noise", v.real_scalar("noise", self.noise, lower=0))

    @classmethod
    def example(cls, seed: int = 0):
        rng = np.random.default_rng(seed)
        return cls(x0=rng.normal(size=3), rate=float(rng.uniform(0.5, 2)), steps=20, save_every=5)

    def default_solver(self):
        return Euler()


class DecaySolution(tk.Solution):
    times: np.ndarray
    x: np.ndarray

    dims = {"times": ("time",), "x": ("time", "component")}
    coords = {"time": "times"}
    cf = {"times": reduced("time", "(1/rate)"), "x": attrs("1", "x"), "component": index("component")}

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        ax.plot(self.times, self.x)
        ax.set_xlabel("t")
        return ax


class Euler(tk.Solver):
    """Explicit Euler(-Maruyama); diverges when rate * dt > 2."""

    seed: int = 0
    stochastic = True
    supports_step = True

    def _validate(self):
        self._set("seed", v.integer("seed", self.seed, lower=0, error=tk.InvalidSolverError))


class ExactDecay(tk.Solver):
    """x0 exp(-rate t): the analytic reference (noise must be zero)."""


class DecayIntegrator(tk.Integrator):
    def __init__(self, problem, solver, sleep=0.0):
        super().__init__(problem, solver)
        self.x = problem.x0.copy()
        self.rng = np.random.default_rng(solver.seed)
        self.sleep = sleep
        self.frames = [self.x.copy()]
        self.frame_steps = [0]

    def _advance(self, n):
        p = self.problem
        for k in range(n):
            step = self.step_index + k + 1
            self.x = self.x - p.rate * p.dt * self.x
            if p.noise:
                self.x = self.x + p.noise * np.sqrt(p.dt) * self.rng.standard_normal(self.x.shape)
            if not np.all(np.isfinite(self.x)) or np.abs(self.x).max() > 1e100:
                self.message = "x blew up"
                return k
            if step % p.save_every == 0:
                self.frames.append(self.x.copy())
                self.frame_steps.append(step)
            if self.sleep:
                time.sleep(self.sleep)
        return n

    def _state(self):
        return {"x": self.x, "rng": self.rng.bit_generator.state,
                "frames": np.array(self.frames), "frame_steps": np.array(self.frame_steps)}

    def _load_state(self, state):
        self.x = np.array(state["x"])
        self.rng.bit_generator.state = state["rng"]
        self.frames = list(np.array(state["frames"]))
        self.frame_steps = list(np.array(state["frame_steps"]))

    def solution(self):
        return DecaySolution(**self._common(), times=np.array(self.frame_steps) * self.problem.dt,
                             x=np.array(self.frames))


@dispatch
def _init(problem: Decay, solver: Euler, *, sleep: float = 0.0) -> DecayIntegrator:
    return DecayIntegrator(problem, solver, sleep)


@dispatch
def _solve(problem: Decay, solver: ExactDecay) -> DecaySolution:
    if problem.noise:
        return DecaySolution(problem=problem, solver=solver, retcode=tk.ReturnCode.Failure,
                             message="ExactDecay solves only noise = 0", times=np.zeros(0), x=np.zeros((0, 0)))
    steps = np.arange(0, problem.steps + 1, problem.save_every)
    times = steps * problem.dt
    return DecaySolution(problem=problem, solver=solver, times=times,
                         x=problem.x0[None, :] * np.exp(-problem.rate * times)[:, None])


class Total(tk.Problem):
    """The sum of ``values`` (a trivially checkable static problem)."""

    values: np.ndarray

    def _validate(self):
        self._set("values", v.real_array("values", self.values, ndim=1))

    @classmethod
    def example(cls, seed: int = 0):
        return cls(values=np.random.default_rng(seed).normal(size=7))


class TotalSolution(tk.Solution):
    total: np.ndarray

    dims = {"total": ("value",)}
    cf = {"total": attrs("1", "sum of the values"), "value": index("value")}


class NumpySum(tk.Solver):
    pass


class LoopSum(tk.Solver):
    """Left-to-right Python loop; ``fail_on_negative`` makes it raise (for failure tests)."""

    fail_on_negative: bool = False

    def _validate(self):
        self._set("fail_on_negative", v.flag("fail_on_negative", self.fail_on_negative,
                                             error=tk.InvalidSolverError))


@dispatch
def _solve(problem: Total, solver: NumpySum) -> TotalSolution:
    return TotalSolution(problem=problem, solver=solver, total=np.array([problem.values.sum()]))


@dispatch
def _solve(problem: Total, solver: LoopSum, *, scale: float = 1.0) -> TotalSolution:
    if solver.fail_on_negative and problem.values.sum() < 0:
        raise RuntimeError("negative total")
    total = 0.0
    for value in problem.values:
        total += value
    return TotalSolution(problem=problem, solver=solver, total=np.array([total * scale]))


class Scaled(tk.Solver):
    """A composed solver: ``factor`` times the total found by the solver it holds in ``inner``."""

    inner: tk.Solver = None
    factor: float = 1.0
    held_solvers = {"inner": Total}

    def _validate(self):
        if not isinstance(self.inner, tk.Solver):
            raise tk.InvalidSolverError(f"inner = {self.inner!r} must be a solver of Total, e.g. NumpySum()")

    @classmethod
    def example(cls):
        return cls(inner=NumpySum(), factor=2.0)


@dispatch
def _solve(problem: Total, solver: Scaled) -> TotalSolution:
    inner = tk.init(problem, solver.inner).solve()
    return TotalSolution(problem=problem, solver=solver, total=inner.total * solver.factor)


@memory.estimate.dispatch
def _(problem: Total, solver: LoopSum) -> dict:
    return {"values": 8 * problem.values.size}


def shift(problem, index, rng):
    """Ensemble variation: add index and a random offset to the values."""
    return tk.remake(problem, values=problem.values + index + rng.normal())


def tour_cases():
    return [tk.TourCase("decay with noise", Decay(x0=[1.0, 0.5], noise=0.2, steps=50), Euler(seed=1)),
            tk.TourCase("sum", Total(values=[1.0, 2.0]), NumpySum())]


tk.register_family(tk.Family(name="toy", title="Toy family of the core tests", tour=tour_cases,
                             builders={"decay_from_list": lambda x0, rate=1.0: Decay(x0=x0, rate=rate)}))

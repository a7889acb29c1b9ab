"""A user's script, run as ``__main__`` by tests/toolkit/test_dask_user_types.py.

It defines its own problem, solution, solvers, numba kernel and ``@dispatch`` methods (like the
quickstart's ``Oscillator`` and ``Verlet``) and solves ensembles of them on a dask cluster at
the address in ``argv[1]``; it prints one JSON line with what happened. ``argv[2]`` is a marker
file: member 2 of the ``Closed`` ensemble kills its worker the first time it runs (when the
marker does not exist yet), so the cluster must run it again. ``argv[3]`` is a folder holding
``unshipped_types.py``, importable here but not on the workers.
"""

import json
import os
import signal
import sys
import threading
import time

import numpy as np
from numba import njit

import toolkit as tk
from toolkit import validate as v
from toolkit.dispatch import dispatch


class Spring(tk.TimeProblem):
    """x'' = -omega² x from (x0, 0), ``steps`` steps of ``dt``."""

    x0: float = 1.0
    omega: float = 1.0
    dt: float = 0.05
    steps: int = 40
    marker: str = ""

    def _validate(self):
        self._set("omega", v.real_scalar("omega", self.omega, lower=0, lower_open=True))


class Path(tk.Solution):
    x: np.ndarray


class Leapfrog(tk.Solver):
    """Velocity Verlet through a numba kernel defined in this script."""

    supports_step = True


class Closed(tk.Solver):
    """x0 cos(omega t)."""


@njit(cache=True, nogil=True)
def leap(x, v, omega, dt, n):
    for _ in range(n):
        v = v - 0.5 * dt * omega * omega * x
        x = x + dt * v
        v = v - 0.5 * dt * omega * omega * x
    return x, v


class LeapIntegrator(tk.Integrator):
    def __init__(self, problem, solver):
        super().__init__(problem, solver)
        self.x, self.v, self.xs = problem.x0, 0.0, [problem.x0]

    def _advance(self, n):
        for _ in range(n):
            self.x, self.v = leap(self.x, self.v, self.problem.omega, self.problem.dt, 1)
            self.xs.append(self.x)
        return n

    def _state(self):
        return {"x": self.x, "v": self.v, "xs": np.array(self.xs)}

    def _load_state(self, state):
        self.x, self.v, self.xs = float(state["x"]), float(state["v"]), list(state["xs"])

    def solution(self):
        return Path(**self._common(), x=np.array(self.xs))


@dispatch
def _init(problem: Spring, solver: Leapfrog) -> LeapIntegrator:
    return LeapIntegrator(problem, solver)


@dispatch
def _solve(problem: Spring, solver: Closed) -> Path:
    if problem.marker and not os.path.exists(problem.marker):
        open(problem.marker, "w").close()
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGKILL)  # the worker is lost while running this member
    t = np.arange(problem.steps + 1) * problem.dt
    return Path(problem=problem, solver=solver, x=problem.x0 * np.cos(problem.omega * t))


def spread(marker=""):
    return lambda p, i, rng: tk.remake(p, omega=1.0 + 0.1 * i, marker=marker if i == 2 else "")


def report(ens, serial):
    return {"errors": {str(k): e for k, e in ens.errors.items()}, "message": ens.message,
            "reruns": {str(k): note for k, note in ens.stats.get("reruns", {}).items()},
            "identical": all(m is not None and np.array_equal(m.x, s.x) for m, s in zip(ens.members, serial.members)),
            "script_types": all(type(m) is Path and type(m.problem) is Spring for m in ens.members if m is not None)}


if __name__ == "__main__":
    address, marker, extra = sys.argv[1:4]
    from distributed import Client

    with Client(address, timeout=60) as client:  # the cluster is still starting
        client.wait_for_workers(2, timeout=60)
    cluster = tk.Dask(address)
    out = {}
    for name, solver, mark in (("leapfrog", Leapfrog(), ""), ("closed", Closed(), marker)):
        ens = tk.solve(tk.EnsembleProblem(Spring(), vary=spread(mark), n=4), solver, ensemble=cluster)
        out[name] = report(ens, tk.solve(tk.EnsembleProblem(Spring(), vary=spread(), n=4), solver))

    # a module importable here but not on the cluster: refused before anything runs, with advice
    sys.path.insert(0, extra)
    import unshipped_types

    try:
        tk.solve(tk.EnsembleProblem(unshipped_types.Far(), n=2), unshipped_types.FarSolver(), ensemble=cluster)
        out["unshipped"] = None
    except tk.InvalidOptionError as exc:
        out["unshipped"] = str(exc)

    # a method that refers to something that cannot be pickled is refused before anything runs
    LOCK = threading.Lock()

    class Locked(tk.Solver):
        """Solves Spring under a lock (which no other process can share)."""

    @dispatch
    def _solve(problem: Spring, solver: Locked) -> Path:
        with LOCK:
            return Path(problem=problem, solver=solver, x=np.zeros(1))

    try:
        tk.solve(tk.EnsembleProblem(Spring(), n=2), Locked(), ensemble=cluster)
        out["refused"] = None
    except tk.InvalidOptionError as exc:
        out["refused"] = str(exc)
    print(json.dumps(out))

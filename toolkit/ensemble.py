"""Ensembles: one problem, many varied members, solved on any executor with identical results.

``tk.solve(tk.EnsembleProblem(problem, vary=f, n=N, seed=0), solver, ensemble=tk.Processes(2))``

Member ``i`` gets its own streams from ``SeedSequence(seed, spawn_key=(i, ...))`` (the
same children ``SeedSequence(seed).spawn`` hands out), so the result does not depend on
which executor ran it or in what order: ``vary(problem, i, rng)`` receives a generator of
stream ``(i, 0)``, and a stochastic solver with a ``seed`` field is given a seed drawn from
stream ``(i, 1)``. A member that raises is reported with its index and error; the others'
results are kept. Dask (dask.distributed) is the path past one machine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .dispatch import _check_options, _resolve, dispatch, solve
from .errors import InvalidOptionError, InvalidProblemError
from .problem import Problem, remake
from .retcode import ReturnCode
from .solution import Solution
from .solver import Solver
from .validate import integer

__all__ = ["EnsembleProblem", "EnsembleSolution", "Serial", "Threads", "Processes", "Dask"]


class EnsembleProblem(Problem):
    """``n`` members made from ``problem`` by ``vary(problem, index, rng) -> Problem``."""

    problem: Problem
    vary: Callable | None = None
    n: int = 1
    seed: int = 0

    meta = True

    def _validate(self):
        if not isinstance(self.problem, Problem):
            raise InvalidProblemError(f"problem = {type(self.problem).__name__} is not allowed: "
                                      "give a scalebridge Problem to vary")
        if self.vary is not None and not callable(self.vary):
            raise InvalidProblemError(f"vary = {self.vary!r} is not allowed: give a function "
                                      "vary(problem, index, rng) -> Problem, or None")
        self._set("n", integer("n", self.n, lower=1))
        self._set("seed", integer("seed", self.seed, lower=0))

    def member(self, index: int, solver: Solver):
        """The ``index``-th member problem and the solver it is solved with."""
        problem = self.problem
        if self.vary is not None:
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(index, 0)))
            problem = self.vary(self.problem, index, rng)
            if not isinstance(problem, Problem):
                raise InvalidProblemError(f"vary returned {type(problem).__name__} for member {index}; "
                                          "it must return a Problem (use tk.remake(problem, ...))")
        if "seed" in {f.name for f in dataclasses.fields(solver)}:
            seed = np.random.SeedSequence(self.seed, spawn_key=(index, 1)).generate_state(1)[0]
            solver = remake(solver, seed=int(seed))
        return problem, solver


class EnsembleSolution(Solution):
    """Member solutions in order (``None`` where a member failed) and the failures by index."""

    members: list
    errors: dict

    def stack(self, name: str) -> np.ndarray:
        """``np.stack`` of field ``name`` over the successful members."""
        return np.stack([getattr(m, name) for m in self.members if m is not None])

    @property
    def successful_members(self) -> list:
        return [m for m in self.members if m is not None]


def _run_member(job):
    problem, solver, options = job
    try:
        return "ok", solve(problem, solver, **options)
    except Exception as exc:  # a failing member is reported, the others are kept
        return "error", f"{type(exc).__name__}: {exc}"


class Serial:
    """Solve members one after another in this process."""

    def map(self, fn, jobs):
        return [fn(job) for job in jobs]

    def __repr__(self):
        return "Serial()"


class Threads:
    """Solve members on ``k`` threads (numba kernels release the GIL with ``nogil=True``)."""

    def __init__(self, k: int = 2):
        self.k = integer("k", k, lower=1, error=InvalidOptionError)

    def map(self, fn, jobs):
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.k) as pool:
            return list(pool.map(fn, jobs))

    def __repr__(self):
        return f"Threads({self.k})"


class Processes:
    """Solve members on ``k`` processes started with the ``spawn`` method."""

    def __init__(self, k: int = 2):
        self.k = integer("k", k, lower=1, error=InvalidOptionError)

    def map(self, fn, jobs):
        import multiprocessing
        import pickle
        from concurrent.futures import ProcessPoolExecutor

        jobs = list(jobs)
        try:
            pickle.dumps(jobs[:1])
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise InvalidOptionError(f"Processes needs members it can send to other processes ({exc}); "
                                     "define problem classes at module level, or use tk.Threads / tk.Dask")
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.k, mp_context=ctx) as pool:
            return list(pool.map(fn, jobs))

    def __repr__(self):
        return f"Processes({self.k})"


class Dask:
    """Solve members on a dask.distributed cluster: a local one by default, or ``address``."""

    def __init__(self, address: str | None = None, n_workers: int = 2, processes: bool = True):
        self.address = address
        self.n_workers = integer("n_workers", n_workers, lower=1, error=InvalidOptionError)
        self.processes = bool(processes)

    def map(self, fn, jobs):
        from dask.distributed import Client, LocalCluster

        if self.address is None:
            with LocalCluster(n_workers=self.n_workers, threads_per_worker=1, processes=self.processes,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                return client.gather(client.map(fn, list(jobs), pure=False))
        with Client(self.address) as client:
            return client.gather(client.map(fn, list(jobs), pure=False))

    def __repr__(self):
        return f"Dask(address={self.address!r})"


@dispatch
def _solve(problem: EnsembleProblem, solver: Solver, *, ensemble=None, **options) -> EnsembleSolution:
    """Solve every member of an ensemble with ``solver`` on the ``ensemble`` executor."""
    import time

    executor = Serial() if ensemble is None else ensemble
    if not hasattr(executor, "map"):
        raise InvalidOptionError(f"ensemble = {executor!r} is not allowed: give tk.Serial(), tk.Threads(k), "
                                 "tk.Processes(k) or tk.Dask(address)")
    first_problem, first_solver = problem.member(0, solver)
    _check_options(options, _resolve(first_problem, first_solver, False)[1], first_problem, first_solver)
    start = time.perf_counter()
    jobs = ((*problem.member(i, solver), options) for i in range(problem.n))
    results = executor.map(_run_member, jobs)
    members = [value if status == "ok" else None for status, value in results]
    errors = {i: value for i, (status, value) in enumerate(results) if status == "error"}
    retcode = ReturnCode.Success if not errors else ReturnCode.Failure
    message = "" if not errors else (f"{len(errors)} of {problem.n} members failed (indices "
                                     f"{sorted(errors)[:10]}); see .errors")
    return EnsembleSolution(problem=problem, solver=solver, retcode=retcode, message=message,
                            stats={"wall_time": time.perf_counter() - start, "executor": repr(executor)},
                            members=members, errors=errors)

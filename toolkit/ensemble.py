"""Ensembles: one problem, many varied members, solved on any executor with identical results.

``tk.solve(tk.EnsembleProblem(problem, vary=f, n=N, seed=0), solver, ensemble=tk.Processes(2))``

Member ``i`` gets its own streams from ``SeedSequence(seed, spawn_key=(i, ...))`` (the
same children ``SeedSequence(seed).spawn`` hands out), so the result does not depend on
which executor ran it or in what order: ``vary(problem, i, rng)`` receives a generator of
stream ``(i, 0)``, and a stochastic solver with a ``seed`` field is given a seed drawn from
stream ``(i, 1)``. Dask (dask.distributed) is the path past one machine: problems, solvers
and methods defined in the user's own script travel with the members (see :class:`Dask`), and
a member that a cluster ran again after losing its worker is named in ``stats["reruns"]``.

Finished members are always kept. A member that fails is ``None`` in ``members`` and its
index maps to the reason in ``errors``: the exception its solver (or ``vary``) raised,
``"worker died (signal 9, SIGKILL)"`` when its process crashed, ``"timed out after 2 s"``
past the executor's ``timeout`` (``tk.Processes(k, timeout=...)``, ``tk.Dask(timeout=...)``;
threads cannot be stopped, so ``Serial`` and ``Threads`` refuse one). ``vary`` runs in the
calling process as each member is handed out; a ``vary`` that returns something other than a
Problem for member 0 is refused before anything runs. Under numba's ``workqueue`` threading
layer a ``Threads`` ensemble of a solver with parallel kernels runs one member at a time
(see :mod:`toolkit.threading_layer`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .dispatch import _check_options, _resolve, dispatch
from .errors import InvalidOptionError, InvalidProblemError
from .problem import Problem, remake
from .retcode import ReturnCode
from .solution import Solution
from .solver import Solver
from .member_runs import run_job, run_on_dask, run_on_processes
from .threading_layer import threads_plan
from .validate import integer, real_scalar

__all__ = ["EnsembleProblem", "EnsembleSolution", "Serial", "Threads", "Processes", "Dask"]


class _VaryReturnError(InvalidProblemError):
    """``vary`` returned something other than a Problem (a mistake in the code, not a member)."""


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
                raise _VaryReturnError(f"vary returned {type(problem).__name__} for member {index}; "
                                          "it must return a Problem (use tk.remake(problem, ...))")
        if "seed" in {f.name for f in dataclasses.fields(solver)}:
            seed = np.random.SeedSequence(self.seed, spawn_key=(index, 1)).generate_state(1)[0]
            solver = remake(solver, seed=int(seed))
        return problem, solver


class EnsembleSolution(Solution):
    """Member solutions in order (``None`` where a member failed) and the failures by index.

    ``errors`` maps each failed member's index to its reason (see the module docstring).
    """

    members: list
    errors: dict

    def stack(self, name: str) -> np.ndarray:
        """``np.stack`` of field ``name`` over the successful members."""
        return np.stack([getattr(m, name) for m in self.members if m is not None])

    @property
    def successful_members(self) -> list:
        return [m for m in self.members if m is not None]


_run_member = run_job  # the name older code and pickled jobs refer to


def _timeout(timeout):
    """``timeout`` in seconds (positive) or None."""
    if timeout is None:
        return None
    return real_scalar("timeout", timeout, lower=0, lower_open=True, error=InvalidOptionError)


def _no_timeout(executor: str, timeout):
    if timeout is not None:
        raise InvalidOptionError(f"timeout = {timeout!r} is not possible with tk.{executor}: a member running in a "
                                 "thread cannot be stopped; use tk.Processes(k, timeout=...) or "
                                 "tk.Dask(timeout=...), or leave timeout out")


class Serial:
    """Solve members one after another in this process (no ``timeout``: nothing could stop one)."""

    def __init__(self, timeout=None):
        _no_timeout("Serial", timeout)

    def map(self, fn, jobs):
        return [fn(job) for job in jobs]

    def _members(self, n, build, solver, notes):
        outcomes = {}
        for index in range(n):
            made = build(index)
            outcomes[index] = run_job(made[1]) if made[0] == "job" else made
        return outcomes

    def __repr__(self):
        return "Serial()"


class Threads:
    """Solve members on ``k`` threads (numba kernels release the GIL with ``nogil=True``).

    A solver with parallel kernels under numba's ``workqueue`` layer runs one member at a time
    (with a ``RuntimeWarning``): that layer aborts the process on concurrent launches. There is
    no ``timeout``: a thread cannot be stopped.
    """

    def __init__(self, k: int = 2, timeout=None):
        self.k = integer("k", k, lower=1, error=InvalidOptionError)
        _no_timeout("Threads", timeout)

    def map(self, fn, jobs):
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.k) as pool:
            return list(pool.map(fn, jobs))

    def _members(self, n, build, solver, notes):
        import warnings
        from concurrent.futures import ThreadPoolExecutor

        threads, note = threads_plan(solver, self.k)
        if note:
            warnings.warn(f"tk.Threads({self.k}) with {type(solver).__name__}: {note}", RuntimeWarning, stacklevel=4)
        outcomes, futures = {}, {}
        with ThreadPoolExecutor(threads) as pool:
            for index in range(n):  # vary runs here, in the calling thread
                made = build(index)
                if made[0] == "job":
                    futures[index] = pool.submit(run_job, made[1])
                else:
                    outcomes[index] = made
            for index, future in futures.items():
                outcomes[index] = future.result()
        return outcomes

    def __repr__(self):
        return f"Threads({self.k})"


class Processes:
    """Solve members on ``k`` processes started with the ``spawn`` method.

    Each process runs one member at a time: a member that crashes its process (a segfault, a
    kill) is reported with the signal and a fresh process takes its place; ``timeout`` (seconds
    per member, from when its process received it) kills a member that runs longer.
    """

    def __init__(self, k: int = 2, timeout=None):
        self.k = integer("k", k, lower=1, error=InvalidOptionError)
        self.timeout = _timeout(timeout)

    def map(self, fn, jobs):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        jobs = list(jobs)
        _check_picklable(jobs[:1])
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.k, mp_context=ctx) as pool:
            return list(pool.map(fn, jobs))

    def _members(self, n, build, solver, notes):
        first = build(0)
        if first[0] == "job":
            _check_picklable(first[1])
        return run_on_processes(self.k, n, lambda i: first if i == 0 else build(i), self.timeout)

    def __repr__(self):
        return f"Processes({self.k})" if self.timeout is None else f"Processes({self.k}, timeout={self.timeout:g})"


def _check_picklable(obj):
    import pickle

    try:
        pickle.dumps(obj)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise InvalidOptionError(f"Processes needs members it can send to other processes ({exc}); "
                                 "define problem classes at module level, or use tk.Threads / tk.Dask")


class Dask:
    """Solve members on a dask.distributed cluster: a local one by default, or ``address``.

    Members go to idle worker threads one at a time, so a worker that dies was running one
    member, which is reported (with the signal, from the nanny's log); the local cluster lets
    no member retry (``allowed-failures = 0``), a cluster at ``address`` keeps its own setting.
    A member run again after its worker was lost is named in the result's ``stats["reruns"]``
    and ``message``. ``timeout`` (seconds per member, from when it is handed out) cancels a
    member and restarts its worker.

    Problems, solvers and ``@dispatch`` methods defined in the calling script (``__main__``)
    or a notebook travel with the members (cloudpickle, by value) and are registered on each
    worker before it solves (``toolkit.shipped_methods``); those from importable modules
    must be installed on the workers. What cannot be sent is refused before anything runs.

    Each call connects (and, without ``address``, starts a local cluster) and closes again. A
    driver that calls it many times (an active-learning campaign asks the oracle in chunks, every
    round) keeps one open with ``with tk.Dask() as dask: tk.solve(..., executor=dask)``.
    """

    def __init__(self, address: str | None = None, n_workers: int = 2, processes: bool = True, timeout=None):
        self.address = address
        self.n_workers = integer("n_workers", n_workers, lower=1, error=InvalidOptionError)
        self.processes = bool(processes)
        self.timeout = _timeout(timeout)
        self._open = None                   # (exit stack, client) while a ``with`` block keeps them

    def __enter__(self) -> "Dask":
        """Keep one client (and the local cluster) open until the ``with`` block ends: every ``map`` and
        ensemble inside reuses it (without ``with``, each call starts and stops its own)."""
        if getattr(self, "_open", None) is None:
            self._open = self._connect()
        return self

    def __exit__(self, *exc) -> None:
        opened, self._open = getattr(self, "_open", None), None
        if opened is not None:
            opened[0].close()

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_open"}     # a client does not travel

    def _client(self):
        import contextlib

        opened = getattr(self, "_open", None)
        if opened is not None:
            return contextlib.ExitStack(), opened[1]       # the kept client; closing this stack keeps it
        return self._connect()

    def _connect(self):
        import contextlib

        import dask
        from dask.distributed import Client, LocalCluster

        stack = contextlib.ExitStack()
        if self.address is None:
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                cluster = stack.enter_context(LocalCluster(n_workers=self.n_workers, threads_per_worker=1,
                                                           processes=self.processes, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(self.address))
        return stack, client

    def map(self, fn, jobs):
        stack, client = self._client()
        with stack:
            return client.gather(client.map(fn, list(jobs), pure=False))

    def _members(self, n, build, solver, notes):
        from .shipped_methods import pack

        shipment = pack()
        first = build(0)
        _check_shippable(shipment, first[1] if first[0] == "job" else None)
        stack, client = self._client()
        reruns = notes.setdefault("reruns", {})
        with stack:
            if self.address is not None and first[0] == "job":
                _check_cluster_imports(client, shipment, first[1])
            return run_on_dask(client, n, lambda i: first if i == 0 else build(i), self.timeout,
                               shipment=shipment, reruns=reruns)

    def __repr__(self):
        timeout = "" if self.timeout is None else f", timeout={self.timeout:g}"
        return f"Dask(address={self.address!r}{timeout})"


def _check_shippable(shipment, job) -> None:
    """Refuse, with advice, methods or a member that cannot be sent to dask workers."""
    import cloudpickle

    for what, obj in (("the methods registered in your script (" + shipment.describe() + ")", shipment),
                      ("the first member (problem, solver, options)", job)):
        if obj is None or (obj is shipment and not shipment):
            continue
        try:
            cloudpickle.dumps(obj)
        except Exception as exc:
            raise InvalidOptionError(
                f"tk.Dask cannot send {what} to its workers: {type(exc).__name__}: {exc}. Methods and "
                "types defined in a script travel by value with everything they refer to; move what "
                "cannot be pickled (open files, locks, clients) inside the method, or define the types "
                "and methods in a module installed on every worker, or use tk.Processes(k)") from None


def _check_cluster_imports(client, shipment, job) -> None:
    """Refuse, with advice, a member naming a module the scheduler or a worker cannot import.

    The scheduler unpickles the members (the task graph) and the workers run them; both import
    by name every module the pickled member names, except what travels by value.
    """
    import cloudpickle

    from .shipped_methods import import_advice, missing_modules, modules_named

    names = sorted(set(modules_named(cloudpickle.dumps((job, shipment)))) | {"toolkit.member_runs"})
    where: dict[str, list[str]] = {}
    failed = []
    for label, ask in (("the scheduler", lambda: {"the scheduler": client.run_on_scheduler(missing_modules, names)}),
                       ("the workers", lambda: client.run(missing_modules, names))):
        try:
            answers = ask()
        except Exception as exc:  # toolkit's own check could not run there
            failed.append(f"{label} ({type(exc).__name__}: {exc})")
            continue
        for process, missing in answers.items():
            for module in missing:
                where.setdefault(module, []).append(str(process))
    head = f"tk.Dask(address={client.scheduler.address!r}): "
    if failed:
        raise InvalidOptionError(
            head + f"could not check what {' and '.join(failed)} can import; the scheduler and every worker "
            "need scalebridge installed, at the same version as this client (and the same dask.distributed)")
    if where:
        module = sorted(where)[0]
        err = ModuleNotFoundError(f"No module named {module!r}", name=module)
        raise InvalidOptionError(
            head + "; ".join(f"{m} cannot be imported on {', '.join(p)}" for m, p in sorted(where.items()))
            + ". " + import_advice(err))


def _builder(problem: EnsembleProblem, solver: Solver, options: dict):
    """``build(index) -> ("job", (problem, solver, options)) | ("error", reason)``."""

    def build(index):
        try:
            member_problem, member_solver = problem.member(index, solver)
        except Exception as exc:
            return "error", f"vary failed: {type(exc).__name__}: {exc}"
        return "job", (member_problem, member_solver, options)

    return build


def _by_map(executor, n, build):
    """Outcomes from an executor that only has ``map`` (a user's own)."""
    made = {index: build(index) for index in range(n)}
    jobs = [index for index in range(n) if made[index][0] == "job"]
    outcomes = {index: made[index] for index in range(n) if made[index][0] != "job"}
    outcomes.update(zip(jobs, executor.map(run_job, [made[index][1] for index in jobs])))
    return outcomes


@dispatch
def _solve(problem: EnsembleProblem, solver: Solver, *, ensemble=None, **options) -> EnsembleSolution:
    """Solve every member of an ensemble with ``solver`` on the ``ensemble`` executor."""
    import time

    executor = Serial() if ensemble is None else ensemble
    if not hasattr(executor, "_members") and not hasattr(executor, "map"):
        raise InvalidOptionError(f"ensemble = {executor!r} is not allowed: give tk.Serial(), tk.Threads(k), "
                                 "tk.Processes(k, timeout=None) or tk.Dask(address, timeout=None)")
    try:
        first = ("job", (*problem.member(0, solver), options))
    except _VaryReturnError:
        raise
    except Exception as exc:
        first = ("error", f"vary failed: {type(exc).__name__}: {exc}")
    check_problem, check_solver = first[1][:2] if first[0] == "job" else (problem.problem, solver)
    _check_options(options, _resolve(check_problem, check_solver, False)[1], check_problem, check_solver)
    build = _builder(problem, solver, options)
    start = time.perf_counter()
    members_of = executor._members if hasattr(executor, "_members") else (
        lambda n, b, s, notes: _by_map(executor, n, b))
    notes: dict = {}
    outcomes = members_of(problem.n, lambda i: first if i == 0 else build(i), solver, notes)
    members = [outcomes[i][1] if outcomes[i][0] == "ok" else None for i in range(problem.n)]
    errors = {i: outcomes[i][1] for i in range(problem.n) if outcomes[i][0] != "ok"}
    retcode = ReturnCode.Success if not errors else ReturnCode.Failure
    message = ""
    if errors:
        shown = "; ".join(f"member {i}: {errors[i]}" for i in sorted(errors)[:3])
        more = "" if len(errors) <= 3 else f"; and {len(errors) - 3} more"
        message = f"{len(errors)} of {problem.n} members failed ({shown}{more}); see .errors"
    stats = {"wall_time": time.perf_counter() - start, "executor": repr(executor)}
    reruns = notes.get("reruns") or {}
    if reruns:
        stats["reruns"] = dict(reruns)
        listed = ", ".join(map(str, sorted(reruns)))
        many = len(reruns) > 1
        message = (message + ". " if message else "") + (
            f"{'members' if many else 'member'} {listed} ran again after a worker was lost "
            f"({'their results are' if many else 'its result is'} from the last run); see .stats['reruns']")
    return EnsembleSolution(problem=problem, solver=solver, retcode=retcode, message=message,
                            stats=stats, members=members, errors=errors)

"""Ensembles keep what finished: real crashing, hanging and raising members on every executor.

The members here really die: ``Hazard`` solving a ``Fragile`` problem sends itself SIGKILL,
calls ``os.abort`` or sleeps far past the timeout when the problem's ``fate`` field asks for
it (``vary`` picks the fate per member). ``Fragile`` has no ``example()``, so the
compatibility table of tests/test_compatibility.py never solves it; only these tests set a
deadly fate, and only on process-based executors.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import toolkit as tk
import toolkit.threading_layer as tl
from toolkit import validate as v
from toolkit.dispatch import dispatch

FATES = ("finish", "nap", "raise", "kill", "abort", "hang")


class Fragile(tk.Problem):
    """Twice ``value``, unless ``fate`` says otherwise (a test problem; no example on purpose)."""

    value: float
    fate: str = "finish"

    def _validate(self):
        self._set("value", v.real_scalar("value", self.value))
        self._set("fate", v.choice("fate", self.fate, FATES))


class FragileSolution(tk.Solution):
    doubled: np.ndarray


class Hazard(tk.Solver):
    """Does to its own process what the problem's ``fate`` asks, then doubles ``value``."""


class ParallelHazard(Hazard):
    """The same, declaring that it runs parallel kernels (for the threading-layer rule)."""

    parallel = True


_running = {"now": 0, "most": 0}
_lock = threading.Lock()


@dispatch
def _solve(problem: Fragile, solver: Hazard) -> FragileSolution:
    if problem.fate == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif problem.fate == "abort":
        os.abort()
    elif problem.fate == "hang":
        time.sleep(600)
    elif problem.fate == "raise":
        raise RuntimeError(f"member with value {problem.value:.3f} gave up")
    elif problem.fate == "nap":  # counts how many members run at once
        with _lock:
            _running["now"] += 1
            _running["most"] = max(_running["most"], _running["now"])
        time.sleep(0.15)
        with _lock:
            _running["now"] -= 1
    return FragileSolution(problem=problem, solver=solver, doubled=np.array([2.0 * problem.value]))


def fated(fates: dict, default: str = "finish"):
    """A ``vary`` giving member ``i`` the value ``i + N(0, 1)`` and the fate ``fates.get(i)``."""

    def vary(problem, index, rng):
        return tk.remake(problem, value=index + rng.normal(), fate=fates.get(index, default))

    return vary


def _expected(n: int, seed: int = 0) -> np.ndarray:
    """Every member's result from a harmless Serial run of the same ensemble."""
    ens = tk.solve(tk.EnsembleProblem(Fragile(value=0.0), vary=fated({}), n=n, seed=seed), Hazard())
    assert ens.successful
    return np.array([m.doubled[0] for m in ens.members])


def _check_kept(ens, n: int, failed: set, seed: int = 0):
    """Failed members are ``None`` and named; every other one equals the harmless run."""
    assert ens.retcode is tk.ReturnCode.Failure and not ens.successful
    assert set(ens.errors) == failed, ens.errors
    assert [i for i, m in enumerate(ens.members) if m is None] == sorted(failed)
    expected = _expected(n, seed)
    for i, member in enumerate(ens.members):
        if member is not None:
            assert member.doubled[0] == expected[i], i
    assert f"{len(failed)} of {n} members failed" in ens.message
    assert f"member {min(failed)}: " in ens.message


# --- processes -----------------------------------------------------------------------------------

def test_processes_keep_finished_members_when_members_crash():
    fates = {2: "kill", 5: "abort", 6: "raise"}
    ens = tk.solve(tk.EnsembleProblem(Fragile(value=0.0), vary=fated(fates), n=8, seed=0), Hazard(),
                   ensemble=tk.Processes(2))
    _check_kept(ens, 8, {2, 5, 6})
    assert ens.errors[2] == "worker died (signal 9, SIGKILL)"
    assert ens.errors[5] == "worker died (signal 6, SIGABRT)"
    assert ens.errors[6].startswith("RuntimeError: member with value")


def test_processes_timeout_stops_a_hanging_member():
    start = time.perf_counter()
    ens = tk.solve(tk.EnsembleProblem(Fragile(value=0.0), vary=fated({1: "hang"}), n=5, seed=0), Hazard(),
                   ensemble=tk.Processes(2, timeout=2))
    elapsed = time.perf_counter() - start
    _check_kept(ens, 5, {1})
    assert ens.errors[1] == "timed out after 2 s"
    assert elapsed < 15, elapsed
    assert "timeout=2" in ens.stats["executor"]


def test_vary_that_raises_costs_only_its_member():
    def vary(problem, index, rng):
        problem = fated({})(problem, index, rng)  # same streams as the harmless run
        if index in (0, 3):
            raise ValueError(f"no variation for member {index}")
        return problem

    for executor in (tk.Serial(), tk.Threads(2), tk.Processes(2)):
        ens = tk.solve(tk.EnsembleProblem(Fragile(value=0.0), vary=vary, n=5, seed=0), Hazard(), ensemble=executor)
        _check_kept(ens, 5, {0, 3})
        assert ens.errors[3] == "vary failed: ValueError: no variation for member 3", executor


def test_timeout_is_validated_and_refused_where_nothing_can_stop_a_member():
    for bad in (0, -1.0, float("nan"), "2 s"):
        with pytest.raises(tk.InvalidOptionError, match="timeout"):
            tk.Processes(2, timeout=bad)
        with pytest.raises(tk.InvalidOptionError, match="timeout"):
            tk.Dask(timeout=bad)
    with pytest.raises(tk.InvalidOptionError, match=r"timeout.*tk\.Processes\(k, timeout"):
        tk.Threads(2, timeout=5)
    with pytest.raises(tk.InvalidOptionError, match="timeout"):
        tk.Serial(timeout=5)
    assert tk.Processes(2, timeout=1.5).timeout == 1.5 and tk.Processes(2).timeout is None


# --- dask ----------------------------------------------------------------------------------------

def test_dask_keeps_finished_members_when_workers_die():
    fates = {1: "kill", 4: "raise"}
    ens = tk.solve(tk.EnsembleProblem(Fragile(value=0.0), vary=fated(fates), n=6, seed=0), Hazard(),
                   ensemble=tk.Dask(n_workers=2))
    _check_kept(ens, 6, {1, 4})
    assert ens.errors[1] == "worker died (signal 9, SIGKILL)"
    assert ens.errors[4].startswith("RuntimeError: member with value")


def test_dask_timeout_stops_a_hanging_member():
    start = time.perf_counter()
    ens = tk.solve(tk.EnsembleProblem(Fragile(value=0.0), vary=fated({2: "hang"}), n=5, seed=0), Hazard(),
                   ensemble=tk.Dask(n_workers=2, timeout=2))
    elapsed = time.perf_counter() - start
    _check_kept(ens, 5, {2})
    assert ens.errors[2] == "timed out after 2 s"
    assert elapsed < 20, elapsed


# --- numba threading layers ------------------------------------------------------------------------

def test_parallel_solvers_are_recognised():
    assert not tl.uses_parallel_kernels(Hazard())
    assert tl.uses_parallel_kernels(ParallelHazard())

    @dataclasses.dataclass(frozen=True)
    class Held:  # stands for a solver holding a parallel one, or one with threads
        inner: object = None
        threads: int = 1

    assert tl.uses_parallel_kernels(Held(inner=ParallelHazard()))
    assert tl.uses_parallel_kernels(Held(threads=4))
    assert not tl.uses_parallel_kernels(Held(inner=Hazard(), threads=1))


def test_threads_plan_serialises_only_parallel_solvers_under_workqueue():
    assert tl.threads_plan(ParallelHazard(), 4, layer="workqueue") == (1, tl.WORKQUEUE_ADVICE)
    assert tl.threads_plan(Hazard(), 4, layer="workqueue") == (4, "")
    for layer in ("omp", "tbb"):
        assert tl.threads_plan(ParallelHazard(), 4, layer=layer) == (4, "")
    assert "pip install tbb" in tl.WORKQUEUE_ADVICE and "tk.Processes" in tl.WORKQUEUE_ADVICE


def test_threading_layer_is_predicted_from_numba_settings(monkeypatch):
    from numba import config

    monkeypatch.setattr(tl, "_loads", lambda layer: layer in {"omp", "workqueue"})
    monkeypatch.setattr("numba.threading_layer", lambda: (_ for _ in ()).throw(ValueError("not initialised")))
    for setting, layer in [("default", "omp"), ("workqueue", "workqueue"), ("forksafe", "workqueue"),
                           ("threadsafe", "omp"), ("safe", None), ("tbb", None)]:
        monkeypatch.setattr(config, "THREADING_LAYER", setting)
        assert tl.numba_threading_layer() == layer, setting
    monkeypatch.setattr(config, "THREADING_LAYER", "default")
    monkeypatch.setattr(tl, "_loads", lambda layer: layer == "workqueue")  # neither TBB nor OpenMP
    assert tl.numba_threading_layer() == "workqueue"
    monkeypatch.setattr("numba.threading_layer", lambda: "tbb")  # once launched, numba's word counts
    assert tl.numba_threading_layer() == "tbb"


def test_threads_ensemble_runs_parallel_solver_members_one_at_a_time_under_workqueue(monkeypatch):
    problem = tk.EnsembleProblem(Fragile(value=0.0), vary=fated({}, default="nap"), n=4, seed=0)
    monkeypatch.setattr(tl, "numba_threading_layer", lambda: "omp")
    _running["most"] = 0
    ens = tk.solve(problem, ParallelHazard(), ensemble=tk.Threads(2))
    assert ens.successful and _running["most"] == 2  # side by side where the layer allows it

    monkeypatch.setattr(tl, "numba_threading_layer", lambda: "workqueue")
    _running["most"] = 0
    with pytest.warns(RuntimeWarning, match="workqueue.*one at a time"):
        ens = tk.solve(problem, ParallelHazard(), ensemble=tk.Threads(2))
    assert ens.successful and _running["most"] == 1
    np.testing.assert_array_equal([m.doubled[0] for m in ens.members], _expected(4))

    _running["most"] = 0
    ens = tk.solve(problem, Hazard(), ensemble=tk.Threads(2))  # no parallel kernels: no need
    assert ens.successful and _running["most"] == 2


_WORKQUEUE_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np, numba
    from numba import njit, prange
    import toolkit as tk
    from toolkit.dispatch import dispatch

    @njit(parallel=True, nogil=True)
    def spin(n):
        total = 0.0
        for i in prange(n):
            total += np.sin(i * 1e-3) ** 2
        return total

    class Load(tk.Problem):
        n: int = 1

    class Busy(tk.Solver):
        parallel = True

    class LoadSolution(tk.Solution):
        total: np.ndarray

    @dispatch
    def _solve(problem: Load, solver: Busy) -> LoadSolution:
        total = 0.0
        for _ in range(20):
            total += spin(problem.n)
        return LoadSolution(problem=problem, solver=solver, total=np.array([total]))

    if "--unguarded" in sys.argv:  # the control: threads share the layer as if nothing were wrong
        import toolkit.ensemble
        toolkit.ensemble.threads_plan = lambda solver, k: (k, "")
    spin(10)
    print("layer", numba.threading_layer(), flush=True)
    ens = tk.solve(tk.EnsembleProblem(Load(n=200_000), n=6), Busy(), ensemble=tk.Threads(3))
    print("ok", ens.successful, len(ens.successful_members), flush=True)
""")


def test_real_workqueue_layer_threads_ensemble_finishes(tmp_path):
    """Under a real workqueue layer the ensemble finishes; unguarded, numba aborts the process."""
    script = tmp_path / "workqueue_ensemble.py"
    script.write_text(_WORKQUEUE_SCRIPT)
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue", NUMBA_NUM_THREADS="2",
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))

    def run(*args):
        return subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True,
                              timeout=120)

    guarded = run()
    assert guarded.returncode == 0, guarded.stdout + guarded.stderr
    assert "layer workqueue" in guarded.stdout and "ok True 6" in guarded.stdout, guarded.stdout + guarded.stderr
    assert "one at a time" in guarded.stderr
    unguarded = run("--unguarded")
    assert unguarded.returncode != 0 and "ok True" not in unguarded.stdout, unguarded.stdout
    assert "workqueue threading layer is not threadsafe" in unguarded.stderr, unguarded.stderr[-2000:]

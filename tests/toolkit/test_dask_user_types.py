"""A user's own types on a real dask.distributed cluster (issue 22, item 1).

The scheduler and the workers are separate processes started with the ``dask scheduler`` and
``dask worker`` commands, as on a real cluster; they import nothing of the user's script. The
script (tests/toolkit/dask_user_script.py) runs as ``__main__`` in its own process, so its
problem, solvers, numba kernel and ``@dispatch`` methods live where a user's do. The cluster
and the script run once for the module; each test checks one thing the script printed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
DASK = Path(sys.executable).with_name("dask")

UNSHIPPED = textwrap.dedent('''
    """Importable by the client (its folder is on sys.path) but not by the workers."""
    import numpy as np
    import toolkit as tk
    from toolkit.dispatch import dispatch

    class Far(tk.Problem):
        value: float = 1.0

    class FarSolution(tk.Solution):
        doubled: np.ndarray

    class FarSolver(tk.Solver):
        pass

    @dispatch
    def _solve(problem: Far, solver: FarSolver) -> FarSolution:
        return FarSolution(problem=problem, solver=solver, doubled=np.array([2.0 * problem.value]))
''')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def script_output(tmp_path_factory):
    if not DASK.exists():
        pytest.fail(f"no dask command beside {sys.executable}: the test extra installs it (dask[distributed]); "
                    "this test needs a real scheduler and worker processes")
    tmp = tmp_path_factory.mktemp("dask_user_types")
    (tmp / "extra").mkdir()
    (tmp / "extra" / "unshipped_types.py").write_text(UNSHIPPED)
    work = tmp / "cluster"  # the cluster's own folder: the script's folder is not on its path
    work.mkdir()
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the workers import the installed toolkit, nothing of the script
    logs = [open(work / name, "w") for name in ("scheduler.log", "worker-0.log", "worker-1.log")]
    port = address.rsplit(":", 1)[1]
    commands = [[str(DASK), "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"]] + [
        [str(DASK), "worker", address, "--no-nanny", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]
        for _ in range(2)]  # two plain worker processes (no nanny: a killed one stays dead)
    procs = []
    try:
        for command, log in zip(commands, logs):  # all at once: a worker retries until the scheduler is up
            procs.append(subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT))
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(HERE / "dask_user_script.py"), address,
                               str(tmp / "killed-once"), str(tmp / "extra")],
                              cwd=tmp, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                              timeout=240)
        elapsed = time.perf_counter() - start
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for log in logs:
            log.close()
    assert done.returncode == 0, done.stderr[-4000:] + (work / "worker-0.log").read_text()[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["elapsed"] = elapsed
    return out


def test_script_types_and_methods_solve_on_a_real_cluster(script_output):
    """Every member succeeds, as on Serial, bit for bit, and comes back as the script's own types."""
    for name in ("leapfrog", "closed"):  # an _init with a numba kernel; a _solve
        run = script_output[name]
        assert run["errors"] == {}, run["errors"]
        assert run["identical"] and run["script_types"], run
    assert script_output["elapsed"] < 120


def test_a_member_run_again_after_its_worker_was_lost_is_named(script_output):
    closed = script_output["closed"]
    assert list(closed["reruns"]) == ["2"], closed
    assert "was lost while it was running there" in closed["reruns"]["2"]
    assert "member 2 ran again after a worker was lost" in closed["message"]
    assert script_output["leapfrog"]["reruns"] == {} and script_output["leapfrog"]["message"] == ""


def test_a_module_the_cluster_lacks_is_refused_up_front_with_advice(script_output):
    refused = script_output["unshipped"]
    assert refused is not None, "members naming a module the workers lack were sent"
    assert "unshipped_types cannot be imported on" in refused and "the scheduler" in refused
    assert "tcp://127.0.0.1" in refused  # the workers, by address
    assert "register_pickle_by_value(unshipped_types)" in refused and "pip install" in refused


def test_a_method_that_cannot_be_sent_is_refused_before_running(script_output):
    refused = script_output["refused"]
    assert refused is not None, "a method holding a lock was sent to the workers"
    assert "_solve(Spring, Locked)" in refused and "lock" in refused and "tk.Processes" in refused

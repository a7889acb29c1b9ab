"""Ensembles give identical results on every executor; failing members are reported."""

import numpy as np
import pytest

import toolkit as tk
from tests.toolkit import toy

BASE = toy.Total(values=[1.0, 2.0, 3.0])


def _totals(ens):
    assert ens.successful, ens.message
    return ens.stack("total").ravel()


def test_same_results_on_every_executor():
    problem = tk.EnsembleProblem(BASE, vary=toy.shift, n=6, seed=3)
    serial = _totals(tk.solve(problem, toy.LoopSum()))
    np.testing.assert_array_equal(serial, _totals(tk.solve(problem, toy.LoopSum(), ensemble=tk.Threads(2))))
    np.testing.assert_array_equal(serial, _totals(tk.solve(problem, toy.LoopSum(), ensemble=tk.Processes(2))))
    np.testing.assert_array_equal(serial, _totals(tk.solve(problem, toy.LoopSum(), ensemble=tk.Dask(n_workers=2))))
    # members differ, and the seed matters
    assert len(set(serial)) == 6
    other = _totals(tk.solve(tk.remake(problem, seed=4), toy.LoopSum()))
    assert not np.array_equal(serial, other)


def test_stochastic_solvers_get_member_seeds():
    problem = tk.EnsembleProblem(toy.Decay(x0=[1.0], steps=10, noise=0.5), n=4, seed=0)
    a = tk.solve(problem, toy.Euler(), ensemble=tk.Threads(2))
    b = tk.solve(problem, toy.Euler(), ensemble=tk.Serial())
    np.testing.assert_array_equal(a.stack("x"), b.stack("x"))
    seeds = {m.solver.seed for m in a.members}
    assert len(seeds) == 4


def test_failing_member_is_reported_and_others_kept():
    def vary(problem, index, rng):
        return tk.remake(problem, values=problem.values * (-1 if index in (1, 3) else 1))

    ens = tk.solve(tk.EnsembleProblem(BASE, vary=vary, n=5), toy.LoopSum(fail_on_negative=True),
                   ensemble=tk.Threads(2))
    assert ens.retcode is tk.ReturnCode.Failure and not ens.successful
    assert set(ens.errors) == {1, 3} and "RuntimeError: negative total" in ens.errors[1]
    assert ens.members[1] is None and ens.members[0].total[0] == 6.0
    assert len(ens.successful_members) == 3 and "2 of 5 members failed" in ens.message


def test_member_options_validated_up_front():
    with pytest.raises(tk.InvalidOptionError, match="scale"):
        tk.solve(tk.EnsembleProblem(BASE, n=2), toy.LoopSum(), scael=2.0)
    ens = tk.solve(tk.EnsembleProblem(BASE, n=2), toy.LoopSum(), scale=2.0)
    assert _totals(ens).tolist() == [12.0, 12.0]


def test_bad_ensembles_are_refused():
    with pytest.raises(tk.InvalidProblemError, match="n"):
        tk.EnsembleProblem(BASE, n=0)
    with pytest.raises(tk.InvalidProblemError, match="vary"):
        tk.EnsembleProblem(BASE, vary=3, n=2)
    with pytest.raises(tk.InvalidOptionError, match="ensemble"):
        tk.solve(tk.EnsembleProblem(BASE, n=2), toy.LoopSum(), ensemble="threads")
    with pytest.raises(tk.InvalidProblemError, match="must return a Problem"):
        tk.solve(tk.EnsembleProblem(BASE, vary=lambda p, i, r: 3, n=2), toy.LoopSum())
    with pytest.raises(tk.InvalidOptionError, match="k"):
        tk.Threads(0)


def test_an_executor_with_only_map_still_works_and_keeps_failures():
    class OwnMap:  # a user's executor: anything with map(fn, jobs)
        def map(self, fn, jobs):
            return [fn(job) for job in jobs]

    def vary(problem, index, rng):
        if index == 2:
            raise KeyError("no values for member 2")
        return toy.shift(problem, index, rng)

    ens = tk.solve(tk.EnsembleProblem(BASE, vary=vary, n=4, seed=3), toy.LoopSum(), ensemble=OwnMap())
    serial = tk.solve(tk.EnsembleProblem(BASE, vary=toy.shift, n=4, seed=3), toy.LoopSum())
    assert ens.errors == {2: "vary failed: KeyError: 'no values for member 2'"}
    for i in (0, 1, 3):
        assert ens.members[i].total[0] == serial.members[i].total[0]


def _pid(_):
    import os

    return os.getpid()


def test_a_dask_executor_kept_open_by_with_serves_every_call_from_one_cluster():
    """``with tk.Dask() as dask``: maps and ensembles inside reuse one client and its workers (the same
    worker process answers both calls), give what Serial gives, and the cluster closes at the end;
    the executor still pickles (the client stays behind) and works after the block."""
    import pickle

    problem = tk.EnsembleProblem(BASE, vary=toy.shift, n=4, seed=3)
    serial = _totals(tk.solve(problem, toy.LoopSum()))
    with tk.Dask(n_workers=1) as dask:
        client = dask._open[1]
        first, second = set(dask.map(_pid, range(3))), set(dask.map(_pid, range(3)))
        np.testing.assert_array_equal(serial, _totals(tk.solve(problem, toy.LoopSum(), ensemble=dask)))
        assert dask._open[1] is client and first == second and len(first) == 1
        assert pickle.loads(pickle.dumps(dask)).n_workers == 1
    assert dask._open is None and client.status in ("closed", "closing")
    np.testing.assert_array_equal(serial, _totals(tk.solve(problem, toy.LoopSum(), ensemble=dask)))

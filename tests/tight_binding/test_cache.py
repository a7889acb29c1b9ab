"""Solve caches (issue 16): ``tk.init(TightBinding, KPM | ED)``, update(spins=...) + solve() against a fresh solve."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import toolkit as tk
from problems.tight_binding import lattice_problem
from solvers.tight_binding import (KPM, EDCache, ExactDiagonalization, GradientProbing, KPMCache, Probing,
                                   RandomVectors)

KONDO = lattice_problem("triangular", 4, spins="random", J=1.5, kT=0.1, mu=-0.5, local=True, pattern="onsite")

unit = st.lists(st.floats(-1, 1, allow_nan=False), min_size=3, max_size=3).filter(lambda v: np.linalg.norm(v) > 0.1)
spin_fields = st.lists(unit, min_size=KONDO.sites, max_size=KONDO.sites).map(
    lambda s: np.array(s) / np.linalg.norm(s, axis=1, keepdims=True))


def _same(a, b):
    assert a.successful and b.successful
    assert a.grand_potential == b.grand_potential and a.particles == b.particles and a.mu == b.mu
    for name in ("dos", "moments", "bounds", "density", "density_matrix", "forces"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@settings(max_examples=12, deadline=None)
@given(spins=st.lists(spin_fields, min_size=1, max_size=3),
       solver=st.sampled_from([KPM(order=64, estimator=RandomVectors(count=3), seed=2, bounds="gershgorin"),
                               KPM(order=64, estimator=GradientProbing(distance=2), bounds=(-9.0, 6.0)),
                               ExactDiagonalization()]))
def test_cache_equals_fresh_solve_over_spin_configurations(spins, solver):
    cache = tk.init(KONDO, solver)
    assert isinstance(cache, EDCache if isinstance(solver, ExactDiagonalization) else KPMCache)
    _same(cache.solve(), tk.solve(KONDO, solver))
    for S in spins:
        _same(cache.update(spins=S).solve(), tk.solve(tk.remake(KONDO, spins=S), solver))


@settings(max_examples=8, deadline=None)
@given(spins=st.lists(spin_fields, min_size=1, max_size=3), step=st.floats(0.0, 0.3))
def test_lanczos_bounds_are_kept_only_when_proven(spins, step):
    # default bounds="lanczos": the cache keeps its interval while Weyl's inequality proves it
    # encloses the spectrum; the solution then equals a fresh solve at the bounds it reports
    solver = KPM(order=64, estimator=RandomVectors(count=3), seed=1)
    cache = tk.init(KONDO, solver)
    _same(cache.solve(), tk.solve(KONDO, solver))          # no update yet: the plain fresh solve
    S = KONDO.spins
    for target in spins:
        S = S + step * (target - S)
        S /= np.linalg.norm(S, axis=1, keepdims=True)
        sol = cache.update(spins=S).solve()
        problem = tk.remake(KONDO, spins=S)
        _same(sol, tk.solve(problem, tk.remake(solver, bounds=tuple(sol.bounds))))
        eps = np.linalg.eigvalsh(problem.matrix.toarray())
        assert sol.bounds[0] <= eps[0] + 1e-9 and eps[-1] - 1e-9 <= sol.bounds[1]      # never silently wrong


def test_small_spin_steps_need_no_lanczos():
    cache = tk.init(KONDO, KPM(order=64, estimator=RandomVectors(count=3)))
    rng = np.random.default_rng(0)
    S = KONDO.spins
    for _ in range(5):
        S = S + 1e-3 * rng.normal(size=S.shape)
        S /= np.linalg.norm(S, axis=1, keepdims=True)
        cache.update(spins=S)
    sol = cache.solve()
    assert sol.stats["lanczos_runs"] == 2 and sol.stats["bounds_kept"]      # one widening, then kept


def test_other_updates_rebuild_what_depends_on_them():
    solver = KPM(order=64, estimator=Probing(distance=2), bounds="gershgorin")
    p = lattice_problem("square", 6, kT=0.2, mu=-0.3, disorder=0.5, seed=1)
    cache = tk.init(p, solver)
    for changes in (dict(mu=0.2), dict(kT=0.3), dict(local=True), dict(filling=0.4, mu=None),
                    dict(hamiltonian=lattice_problem("square", 6, disorder=1.0, seed=3).hamiltonian),
                    dict(hamiltonian=lattice_problem("square", 6, hoppings=(1.0, 0.2)).hamiltonian),
                    dict(spins="bad")):
        if changes.get("spins") == "bad":
            with pytest.raises(tk.InvalidProblemError, match="spins"):
                cache.update(spins=np.ones((3, 3)))
            continue
        p = tk.remake(p, **changes)
        _same(cache.update(**changes).solve(), tk.solve(p, solver))
    S = np.tile([0.0, 0.0, 1.0], (p.sites, 1))          # spinless -> spinful: rebuilt
    _same(cache.update(spins=S).solve(), tk.solve(tk.remake(p, spins=S), solver))


def test_ed_cache_refuses_large_problems_like_solve():
    cache = tk.init(KONDO, ExactDiagonalization(max_size=4))
    assert cache.solve().retcode is tk.ReturnCode.Failure
    with pytest.raises(tk.UnstableError):
        cache.solve(strict=True)

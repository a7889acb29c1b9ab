"""KPM and ExactDiagonalization as force providers for classical spins (issue 16.2):
``tk.init(kondo, solver).energy_gradient(spins) -> (E, dE/dS)``, checked against finite differences
of the energy over spin directions (tangential part) and over J (radial part), KPM against ED, and
against the forces of ``tk.solve(tk.remake(problem, spins=...), solver)``."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import toolkit as tk
from problems.tight_binding import lattice_problem, random_spins
from solvers.tight_binding import KPM, EDCache, Exact, ExactDiagonalization, GradientProbing, KPMCache, RandomVectors
from solvers.tight_binding.cache import SpinForceCache

ED = ExactDiagonalization()


def _kondo(**kw):
    base = dict(spins="random", J=1.3, kT=0.15, mu=-0.4, disorder=0.5, seed=2, pattern="onsite")
    return lattice_problem("triangular", (3, 2), **{**base, **kw})


def _rotate(S, axis, angle):
    """Rodrigues rotation of the unit vector S about the unit ``axis``."""
    return S * np.cos(angle) + np.cross(axis, S) * np.sin(angle) + axis * np.dot(axis, S) * (1 - np.cos(angle))


def test_tight_binding_solvers_are_spin_force_providers():
    for solver in (KPM(order=64, estimator=Exact()), ED):
        assert isinstance(solver, tk.ForceProvider) and type(solver).configuration == "spins"
        cache = tk.init(_kondo(), solver)
        assert isinstance(cache, tk.ForceCache) and isinstance(cache, SpinForceCache)
        assert isinstance(cache, KPMCache if isinstance(solver, KPM) else EDCache)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), filling=st.sampled_from([None, 0.35]), kT=st.sampled_from([0.1, 0.3]))
def test_ed_gradient_equals_finite_differences_over_spin_directions(seed, filling, kT):
    problem = _kondo(kT=kT) if filling is None else _kondo(kT=kT, mu=None, filling=filling)
    cache = tk.init(problem, ED)
    S = random_spins(problem.sites, seed)
    energy, grad = cache.energy_gradient(S)
    assert grad.shape == (problem.sites, 3) and np.all(np.isfinite(grad))
    fresh = tk.solve(tk.remake(problem, spins=S, local=True), ED)
    assert energy == (fresh.grand_potential if filling is None else fresh.energy)
    np.testing.assert_array_equal(grad, -fresh.forces)
    probe = tk.init(problem, ED)            # a second cache for the displaced energies
    h = 1e-5
    for i in range(problem.sites):
        for axis in np.eye(3):
            plus, minus = S.copy(), S.copy()
            plus[i], minus[i] = _rotate(S[i], axis, h), _rotate(S[i], axis, -h)
            fd = (probe.energy_gradient(plus)[0] - probe.energy_gradient(minus)[0]) / (2 * h)
            # dE/dangle = dE/dS_i . (axis x S_i)
            assert fd == pytest.approx(grad[i] @ np.cross(axis, S[i]), abs=2e-7)


def test_ed_gradient_radial_part_matches_the_derivative_over_J():
    # H depends on J S_i only, so dE/dJ = sum_i S_i . dE/dS_i / J: the radial part that unit-spin
    # rotations cannot see
    problem = _kondo()
    S = problem.spins
    energy, grad = tk.init(problem, ED).energy_gradient(S)
    h = 1e-5
    e = [tk.init(tk.remake(problem, J=problem.J + d), ED).energy_gradient(S)[0] for d in (h, -h)]
    assert (e[0] - e[1]) / (2 * h) == pytest.approx(np.sum(S * grad) / problem.J, abs=1e-7)


@pytest.mark.parametrize("filling", [None, 0.4])
def test_kpm_exact_estimator_gradient_agrees_with_ed(filling):
    # kT = 0.3, order 1024, spectral width < 12: the undamped Fermi series is converged to ~1e-12
    problem = _kondo(kT=0.3) if filling is None else _kondo(kT=0.3, mu=None, filling=filling)
    kpm = tk.init(problem, KPM(order=1024, estimator=Exact(), bounds="gershgorin"))
    ed = tk.init(problem, ED)
    for seed in range(3):
        S = random_spins(problem.sites, 10 + seed)
        e_k, g_k = kpm.energy_gradient(S)
        e_e, g_e = ed.energy_gradient(S)
        assert e_k == pytest.approx(e_e, abs=1e-8)
        np.testing.assert_allclose(g_k, g_e, atol=1e-8)


@pytest.mark.parametrize("solver", [KPM(order=128, estimator=RandomVectors(count=4), seed=3),
                                    KPM(order=128, estimator=GradientProbing(distance=1)), ED],
                         ids=["random", "gradient-probing", "ed"])
def test_gradient_is_minus_the_forces_of_a_fresh_solve(solver):
    problem = _kondo(pattern="hamiltonian", local=False)
    cache = tk.init(problem, tk.remake(solver, bounds="gershgorin") if isinstance(solver, KPM) else solver)
    for seed in range(3):
        S = random_spins(problem.sites, seed)
        energy, grad = cache.energy_gradient(S)
        fresh = tk.solve(tk.remake(problem, spins=S, local=True), cache.solver)
        assert energy == fresh.grand_potential
        np.testing.assert_array_equal(grad, -fresh.forces)
    assert cache.problem.local      # switched on by the first call


def test_ed_gradients_between_energy_calls_at_fixed_filling_equal_fresh_solves():
    """After the first call, ED's ``energy_gradient`` rewrites the moved blocks and diagonalises without
    remaking the problem (the route of ``energy``): interleaved with ``energy`` calls, at fixed filling,
    it still gives F and -forces of a fresh solve bit for bit, and a later ``solve()`` solves the cached
    problem."""
    problem = _kondo(local=False, mu=None, filling=0.35)
    cache = tk.init(problem, ED)
    for seed in range(4):
        S = random_spins(problem.sites, seed)
        if seed == 2:
            cache.energy(random_spins(problem.sites, 40))
        energy, grad = cache.energy_gradient(S)
        fresh = tk.solve(tk.remake(problem, spins=S, local=True), ED)
        assert energy == fresh.energy
        np.testing.assert_array_equal(grad, -fresh.forces)
    again = cache.solve()
    np.testing.assert_array_equal(again.forces, tk.solve(cache.problem, ED).forces)


def test_gradient_probing_gives_the_gradient_of_its_own_estimate():
    # GradientProbing's density matrix is dOmega~/dH of the estimated Omega: its gradient matches
    # finite differences of its own (stochastic) energy, not only ED's to the estimator's error
    problem = _kondo(kT=0.3)
    cache = tk.init(problem, KPM(order=96, estimator=GradientProbing(distance=1), bounds=(-8.0, 8.0)))
    S = problem.spins
    _, grad = cache.energy_gradient(S)
    h = 1e-5
    for i, axis in [(0, np.array([1.0, 0, 0])), (3, np.array([0, 0, 1.0])), (5, np.array([0, 1.0, 0]))]:
        plus, minus = S.copy(), S.copy()
        plus[i], minus[i] = _rotate(S[i], axis, h), _rotate(S[i], axis, -h)
        fd = (cache.energy_gradient(plus)[0] - cache.energy_gradient(minus)[0]) / (2 * h)
        assert fd == pytest.approx(grad[i] @ np.cross(axis, S[i]), abs=1e-6)


def test_bad_configurations_are_refused_by_name():
    cache = tk.init(_kondo(), ED)
    with pytest.raises(tk.InvalidProblemError, match="spins"):
        cache.energy_gradient(np.ones((6, 3)))
    with pytest.raises(tk.InvalidProblemError, match="spins"):
        cache.energy_gradient(np.zeros((5, 3)))
    with pytest.raises(tk.InvalidProblemError, match="spins = None"):
        tk.init(lattice_problem("chain", 4, mu=0.0), ED).energy_gradient(random_spins(4))


def test_failed_solve_raises_instead_of_handing_back_forces():
    cache = tk.init(_kondo(), KPM(order=64, estimator=Exact(), bounds=(-0.1, 0.1)))
    with pytest.raises(tk.UnstableError, match="KPM"):
        cache.energy_gradient(random_spins(6, 1))


# -- energy(spins) alone: the Monte Carlo entry of the force-cache contract -------------------------

@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000), filling=st.sampled_from([None, 0.35]), moves=st.integers(1, 12))
def test_ed_energy_after_single_spin_moves_equals_a_fresh_solve(seed, filling, moves):
    """ED's ``energy(spins)`` rewrites only the moved spins' blocks and takes eigenvalues alone: after a
    run of single-spin moves it equals a fresh solve of the remade problem bit for bit (Omega at fixed
    mu, F = Omega + mu N at fixed filling), and ``energy_gradient``'s energy to round-off."""
    problem = _kondo(local=False) if filling is None else _kondo(local=False, mu=None, filling=filling)
    cache = tk.init(problem, ED)
    rng = np.random.default_rng(seed)
    S = problem.spins.copy()
    for _ in range(moves):
        i = int(rng.integers(problem.sites))
        S[i] = _rotate(S[i], np.array([0.0, 0.6, 0.8]), float(rng.uniform(-1, 1)))
        energy = cache.energy(S)
    fresh = tk.solve(tk.remake(problem, spins=S), ED)
    assert energy == (fresh.grand_potential if filling is None else fresh.energy)
    assert energy == pytest.approx(tk.init(problem, ED).energy_gradient(S)[0], rel=1e-12, abs=1e-12)


def test_a_solve_after_energy_calls_is_the_solve_of_the_cached_problem():
    """``energy`` does not remake the problem: a later ``solve()`` still solves ``cache.problem`` (the
    matrix is written back), and an ``update`` moves both."""
    problem = _kondo()
    cache = tk.init(problem, ED)
    cache.energy(random_spins(problem.sites, 7))
    again = cache.solve()
    fresh = tk.solve(problem, ED)
    assert again.grand_potential == fresh.grand_potential
    np.testing.assert_array_equal(again.forces, fresh.forces)
    S = random_spins(problem.sites, 8)
    assert cache.update(spins=S).solve().grand_potential == tk.solve(tk.remake(problem, spins=S), ED).grand_potential


def test_energy_is_the_energy_of_the_gradient_for_every_force_cache():
    """The contract's default (``energy_gradient(x)[0]``) for a molecular potential, and KPM's own."""
    from problems.molecule import PotentialEnergy, lj_fluid
    from solvers.molecule import LennardJones

    fluid = lj_fluid(cells=3, seed=1)
    lj = tk.init(PotentialEnergy(fluid), LennardJones())
    x = fluid.positions + 0.01
    assert lj.energy(x) == lj.energy_gradient(x)[0]
    problem = _kondo()
    solver = KPM(order=64, estimator=Exact(), bounds=(-8.0, 8.0))     # fixed bounds: a fresh solve is the same
    kpm = tk.init(problem, solver)
    S = random_spins(problem.sites, 3)
    assert kpm.energy(S) == tk.solve(tk.remake(problem, spins=S), solver).grand_potential


def test_energy_refuses_bad_spins_by_name():
    cache = tk.init(_kondo(), ED)
    for bad in (np.ones((6, 3)), np.zeros((5, 3)), np.full((6, 3), np.nan)):
        with pytest.raises(tk.InvalidProblemError, match="spins"):
            cache.energy(bad)
    with pytest.raises(tk.InvalidProblemError, match="spins = None"):
        tk.init(lattice_problem("chain", 4, mu=0.0), ED).energy(random_spins(4))

"""Classical limits with known answers, electronic forces, ED against KPM, checkpoints (issue 18)."""

import numpy as np
import pytest

import toolkit as tk
from problems.spin_dynamics import SpinDynamics
from solvers.spin_dynamics import (SIB, DepondtMertens, ImplicitMidpoint, Metropolis, OverdampedLangevin,
                                   StochasticHeun, kondo_triangular)
from solvers.spin_dynamics.fields import EffectiveField
from solvers.tight_binding import KPM, Exact, ExactDiagonalization

SCHEMES = [StochasticHeun, SIB, ImplicitMidpoint, DepondtMertens, OverdampedLangevin]
LLG_SCHEMES = [StochasticHeun, SIB, ImplicitMidpoint, DepondtMertens]


def _rotate(S, axis, angle):
    return S * np.cos(angle) + np.cross(axis, S) * np.sin(angle) + axis * np.dot(axis, S) * (1 - np.cos(angle))


def test_a_spin_in_a_field_precesses_at_the_field_strength_clockwise_about_it():
    """E = -B . S: dS/dt = S x B (the spin Poisson bracket), so S turns about B at |B|, clockwise
    seen from the tip of B; the midpoint rule keeps E to round-off over 10^4 steps."""
    theta, b, dt, steps = 0.7, 1.5, 0.01, 10_000
    S0 = np.array([[np.sin(theta), 0.0, np.cos(theta)]])
    problem = SpinDynamics(spins=S0, field=(0.0, 0.0, b), damping=0.0, temperature=0.0, dt=dt, steps=steps,
                           save_every=100)
    sol = tk.solve(problem, ImplicitMidpoint(), progress=False)
    assert sol.retcode is tk.ReturnCode.Success
    assert np.max(np.abs(sol.energy - sol.energy[0])) < 1e-10
    assert sol.energy[0] == pytest.approx(-b * np.cos(theta))
    # the Cayley (midpoint) rotation angle per step is 2 atan(|B| dt / 2): omega = |B| (1 - (|B| dt)^2 / 12 + ...)
    omega = 2 * np.arctan(b * dt / 2) / dt
    assert abs(omega - b) < 1e-4 * b
    t = sol.time
    expected = np.stack([np.sin(theta) * np.cos(omega * t), -np.sin(theta) * np.sin(omega * t),
                         np.full_like(t, np.cos(theta))], axis=1)
    np.testing.assert_allclose(sol.spins[:, 0], expected, atol=1e-9)
    # clockwise about +z: the azimuth decreases
    phi = np.unwrap(np.arctan2(sol.spins[:, 0, 1], sol.spins[:, 0, 0]))
    assert np.all(np.diff(phi) < 0)
    assert (phi[0] - phi[-1]) / t[-1] == pytest.approx(b, rel=1e-4)


@pytest.mark.parametrize("scheme", [StochasticHeun, SIB, DepondtMertens])
def test_explicit_schemes_precess_at_the_field_strength_too(scheme):
    S0 = np.array([[1.0, 0.0, 0.0]])
    problem = SpinDynamics(spins=S0, field=(0.0, 0.0, 1.0), damping=0.0, dt=0.001, steps=1000, save_every=1000)
    sol = tk.solve(problem, scheme(), progress=False)
    np.testing.assert_allclose(sol.spins[-1, 0], [np.cos(1.0), -np.sin(1.0), 0.0], atol=1e-5)


def test_damping_turns_a_spin_towards_the_field():
    S0 = np.array([[1.0, 0.0, 0.0]])
    problem = SpinDynamics(spins=S0, field=(0.0, 0.0, 1.0), damping=0.5, dt=0.02, steps=1000, save_every=100)
    for scheme in SCHEMES:
        sol = tk.solve(problem, scheme(), progress=False)
        assert np.all(np.diff(sol.energy) < 0), scheme
        assert sol.spins[-1, 0, 2] > 0.99


@pytest.mark.parametrize("scheme", [StochasticHeun, SIB, DepondtMertens, OverdampedLangevin])
def test_two_coupled_spins_sample_the_boltzmann_distribution(scheme):
    """E = J S1 . S2; u = S1 . S2 is uniform on [-1, 1] a priori, so p(u) ~ exp(-beta J u):
    <u> = -L(beta J) (Langevin function) and the CDF is (e^{bJ} - e^{-bJ u}) / (2 sinh bJ)."""
    J, kT = 1.0, 0.5
    bj = J / kT
    problem = SpinDynamics(spins=[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], bonds=[[0, 1]], exchange=J, temperature=kT,
                           damping=1.0, dt=0.02, steps=40_000, save_every=10)
    sol = tk.solve(problem, scheme(seed=3), progress=False)
    u = np.einsum("fa,fa->f", sol.spins[200:, 0], sol.spins[200:, 1])
    assert np.mean(u) == pytest.approx(-(1 / np.tanh(bj) - 1 / bj), abs=0.025)
    np.testing.assert_allclose(sol.energy[200:].mean(), J * np.mean(u))
    for x in (-0.5, 0.0, 0.5):
        cdf = (np.exp(bj) - np.exp(-bj * x)) / (2 * np.sinh(bj))
        assert np.mean(u <= x) == pytest.approx(cdf, abs=0.05), x


@pytest.mark.parametrize("scheme", [SIB, OverdampedLangevin, Metropolis])
def test_a_spin_with_easy_axis_anisotropy_samples_the_boltzmann_distribution(scheme):
    """E = -K (S . n)^2; c = S . n is uniform on [-1, 1] a priori, so p(c) ~ exp(beta K c^2):
    <c^2> = int c^2 e^{beta K c^2} dc / int e^{beta K c^2} dc (0.764 at beta K = 2: the axis attracts)."""
    from scipy.integrate import quad

    K, kT = 1.0, 0.5
    axis = np.array([2.0, 1.0, -2.0]) / 3.0
    weight = [quad(lambda c, p=p: c ** p * np.exp(K / kT * c * c), -1, 1)[0] for p in (0, 2)]
    exact = weight[1] / weight[0]
    steps = 12_000 if scheme is Metropolis else 60_000
    problem = SpinDynamics(spins=[[1.0, 0.0, 0.0]], anisotropy=K, easy_axis=axis * 5, temperature=kT, damping=1.0,
                           dt=0.02, steps=steps, save_every=5 if scheme is Metropolis else 20)
    sol = tk.solve(problem, scheme(seed=4), progress=False)
    c = sol.spins[100:, 0] @ axis
    np.testing.assert_allclose(sol.energy[100:], -K * c * c, rtol=1e-12, atol=1e-14)
    blocks = (c * c)[: len(c) // 20 * 20].reshape(20, -1).mean(axis=1)
    error = blocks.std(ddof=1) / np.sqrt(len(blocks))
    assert abs(np.mean(c * c) - exact) < max(3 * error, 0.01), (np.mean(c * c), exact, error)


def test_the_implicit_midpoint_keeps_the_energy_of_a_spin_precessing_about_its_easy_axis():
    """T = 0, alpha = 0: h = 2 K (S . n) n, so S turns about n at angular frequency 2 K (S . n), clockwise
    seen from the tip of n, and the quadratic energy -K (S . n)^2 is conserved exactly by the midpoint rule,
    whose step is the Cayley transform of that rotation: an angle of 2 atan(omega dt / 2) per step."""
    K, dt, steps = 0.8, 0.01, 10_000
    n = np.array([0.0, 0.6, 0.8])
    S0 = np.array([1.0, 0.0, 0.0]) * np.sqrt(1 - 0.5 ** 2) + n * 0.5
    problem = SpinDynamics(spins=[S0], anisotropy=K, easy_axis=n, damping=0.0, dt=dt, steps=steps, save_every=1000)
    sol = tk.solve(problem, ImplicitMidpoint(), progress=False)
    assert np.max(np.abs(sol.energy - sol.energy[0])) < 1e-10
    omega = 2 * K * 0.5
    np.testing.assert_allclose(sol.spins[-1, 0], _rotate(S0, n, -omega * sol.time[-1]), atol=1e-3)
    np.testing.assert_allclose(sol.spins[-1, 0], _rotate(S0, n, -steps * 2 * np.arctan(omega * dt / 2)), atol=1e-9)


def test_overdamped_langevin_relaxes_along_the_analytic_path():
    """dS/dt = Gamma P h with E = -B . S (T = 0): the polar angle obeys dtheta/dt = -Gamma B sin theta,
    so tan(theta / 2) = tan(theta_0 / 2) e^{-Gamma B t}; the spin never precesses (phi stays 0)."""
    gamma, b, theta0, dt = 0.7, 1.3, 2.5, 1e-3
    S0 = np.array([[np.sin(theta0), 0.0, np.cos(theta0)]])
    problem = SpinDynamics(spins=S0, field=(0.0, 0.0, b), damping=gamma, dt=dt, steps=3000, save_every=500)
    sol = tk.solve(problem, OverdampedLangevin(), progress=False)
    theta = np.arccos(np.clip(sol.spins[:, 0, 2], -1, 1))
    np.testing.assert_allclose(np.tan(theta / 2), np.tan(theta0 / 2) * np.exp(-gamma * b * sol.time), rtol=2e-3)
    assert np.all(np.abs(sol.spins[:, 0, 1]) < 1e-15)


def test_depondt_mertens_keeps_unit_spins_and_the_energy_of_a_precessing_spin():
    """Undamped, noiseless: each step is an exact rotation about the averaged field, so |S| = 1 to
    round-off, and for a uniform field (A(S) = B whatever S) the step is exact: E is conserved."""
    S0 = np.array([[np.sin(0.4), 0.0, np.cos(0.4)], [0.0, 1.0, 0.0]])
    problem = SpinDynamics(spins=S0, field=(0.3, -0.2, 1.1), damping=0.0, dt=0.3, steps=2000, save_every=100)
    sol = tk.solve(problem, DepondtMertens(), progress=False)
    np.testing.assert_allclose(np.linalg.norm(sol.spins, axis=2), 1.0, atol=1e-14)
    assert np.max(np.abs(sol.energy - sol.energy[0])) < 1e-12
    B = np.array([0.3, -0.2, 1.1])
    angle = np.linalg.norm(B) * sol.time[-1]
    n = B / np.linalg.norm(B)
    s = S0[0]
    exact = s * np.cos(angle) + np.cross(s, n) * np.sin(angle) + n * (n @ s) * (1 - np.cos(angle))
    np.testing.assert_allclose(sol.spins[-1, 0], exact, atol=1e-10)


# -- electrons -------------------------------------------------------------------------------

def _kondo(**kw):
    base = dict(state="random", seed=4, J=2.0, kT=0.2, filling=None, mu=-0.5, temperature=0.0, damping=0.1,
                dt=0.05, steps=20, save_every=5)
    return kondo_triangular((3, 3), **{**base, **kw})


@pytest.mark.parametrize("filling", [None, 0.25])
def test_ed_field_is_minus_the_gradient_of_the_electronic_energy(filling):
    """The field the integrators use, h = -dE/dS, against central differences of E = Omega (fixed mu)
    or F = Omega + mu N (fixed filling) under small rotations of single spins."""
    problem = _kondo(filling=filling, mu=None if filling else -0.5, exchange=0.3, field=(0.1, 0.0, 0.2))
    solver = StochasticHeun(forces=ExactDiagonalization())
    field = EffectiveField(problem, solver)
    S = problem.spins
    e_el, e_cl, h = field(S)
    probe = EffectiveField(problem, solver)
    d = 1e-5
    for i in (0, 4, 8):
        for axis in np.eye(3):
            plus, minus = S.copy(), S.copy()
            plus[i], minus[i] = _rotate(S[i], axis, d), _rotate(S[i], axis, -d)
            ep, em = probe(plus), probe(minus)
            fd = ((ep[0] + ep[1]) - (em[0] + em[1])) / (2 * d)
            assert fd == pytest.approx(-h[i] @ np.cross(axis, S[i]), abs=2e-7)
    fresh = tk.solve(problem.model, ExactDiagonalization())
    assert e_el == pytest.approx(fresh.grand_potential if filling is None else fresh.energy, rel=1e-12)


def test_ed_and_kpm_forces_give_the_same_trajectory():
    problem = _kondo(temperature=0.05, steps=20)
    ed = tk.solve(problem, SIB(forces=ExactDiagonalization(), seed=2), progress=False)
    kpm = tk.solve(problem, SIB(forces=KPM(order=400, estimator=Exact(), bounds="gershgorin"), seed=2), progress=False)
    assert ed.successful and kpm.successful
    np.testing.assert_allclose(kpm.spins, ed.spins, atol=1e-6)
    np.testing.assert_allclose(kpm.electronic_energy, ed.electronic_energy, rtol=1e-6)


def test_a_forces_provider_without_electrons_is_refused():
    with pytest.raises(tk.InvalidProblemError, match="model"):
        tk.init(SpinDynamics.example(0), SIB(forces=ExactDiagonalization()))


def test_a_wrong_forces_field_is_refused_by_name():
    with pytest.raises(tk.InvalidSolverError, match="forces"):
        SIB(forces="ED")


# -- stops and checkpoints ---------------------------------------------------------------------

def test_a_failing_force_provider_stops_the_run_unstable_at_the_step():
    problem = _kondo(steps=10, save_every=1)
    integ = tk.init(problem, StochasticHeun(forces=ExactDiagonalization()), progress=False)
    calls = {"n": 0}
    real = integ.field.cache.energy_gradient

    def failing(spins):
        calls["n"] += 1
        if calls["n"] > 7:
            raise tk.UnstableError("the electrons failed")
        return real(spins)

    integ.field.cache.energy_gradient = failing
    integ.run()
    sol = integ.solution()
    assert sol.retcode is tk.ReturnCode.Unstable
    assert "step 4" in sol.message and "the electrons failed" in sol.message
    assert sol.stats["unstable_step"] == 4
    assert sol.step.tolist() == [0, 1, 2, 3]
    assert np.all(np.isfinite(sol.spins)) and np.all(np.isfinite(sol.energy))


def test_an_unconverged_midpoint_step_stops_unstable_with_finite_frames():
    problem = tk.remake(SpinDynamics.example(0), temperature=0.0)
    sol = tk.solve(problem, ImplicitMidpoint(max_iterations=1, tolerance=1e-15), progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable and "max_iterations" in sol.message
    assert sol.step.tolist() == [0] and np.all(np.isfinite(sol.spins))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_resume_from_a_checkpoint_is_bit_identical(scheme, tmp_path):
    problem = tk.remake(SpinDynamics.example(1), temperature=0.2, steps=30, save_every=5)
    solver = scheme(seed=7)
    whole = tk.solve(problem, solver, progress=False)
    path = tmp_path / "run.nc"
    integ = tk.init(problem, solver, progress=False, checkpoint=path)
    integ.run(until=17)
    resumed = tk.resume(path, progress=False)
    assert resumed.step_index == 17
    resumed.run()
    sol = resumed.solution()
    np.testing.assert_array_equal(sol.spins, whole.spins)
    np.testing.assert_array_equal(sol.energy, whole.energy)
    uninterrupted = tk.init(problem, solver, progress=False)
    uninterrupted.run()
    np.testing.assert_array_equal(resumed.S, uninterrupted.S)
    assert resumed.rng.bit_generator.state == uninterrupted.rng.bit_generator.state


def test_resume_with_electronic_forces_is_bit_identical(tmp_path):
    problem = _kondo(temperature=0.05, steps=12, save_every=3)
    solver = StochasticHeun(forces=ExactDiagonalization(), seed=1)
    whole = tk.solve(problem, solver, progress=False)
    path = tmp_path / "kondo.nc"
    tk.init(problem, solver, progress=False, checkpoint=path).run(until=7)
    resumed = tk.resume(path, progress=False)
    resumed.run()
    np.testing.assert_array_equal(resumed.solution().spins, whole.spins)


def test_a_checkpoint_state_that_does_not_fit_is_refused_by_entry():
    integ = tk.init(SpinDynamics.example(0), SIB(), progress=False)
    integ.step(10)
    good = integ._state()
    cases = {
        "spins": {**good, "spins": np.full((9, 3), np.nan)},
        "frames.step": {**good, "frames": {**good["frames"], "step": np.array([0, 3])}},
        "frames.spins": {**good, "frames": {**good["frames"], "spins": good["frames"]["spins"] * 2}},
        "rng": {**good, "rng": {"bit_generator": "MT19937"}},
        "iterations": {**good, "iterations": -1},
    }
    for key, state in cases.items():
        fresh = tk.init(SpinDynamics.example(0), SIB(), progress=False)
        with pytest.raises(tk.FileFormatError, match=key.replace(".", r"\.")):
            fresh._load_state(state)
    short = {k: v for k, v in good.items() if k != "rng"}
    with pytest.raises(tk.FileFormatError, match="rng"):
        tk.init(SpinDynamics.example(0), SIB(), progress=False)._load_state(short)

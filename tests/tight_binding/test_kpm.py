"""KPM against exact diagonalisation, known densities of states, spin forces, stochastic errors."""

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings, strategies as st

import toolkit as tk
from problems.tight_binding import TightBinding, lattice_hamiltonian, lattice_problem, random_spins
from solvers.tight_binding import (KPM, Exact, ExactDiagonalization, GradientProbing, Probing, RandomVectors,
                                   TightBindingSolution)

ED = ExactDiagonalization()


def _observables(sol):
    return dict(mu=sol.mu, particles=sol.particles, grand_potential=sol.grand_potential, energy=sol.energy)


@pytest.mark.parametrize("seed", range(4))
def test_kpm_exact_matches_ed_at_finite_temperature(seed):
    # kT >= 0.05 and order 512 on a spectrum of width <= 10: the undamped Chebyshev series of the
    # Fermi function converges like exp(-order * pi kT / a) ~ 1e-14, so only rounding remains (1e-9).
    p = TightBinding.example(seed)
    e, k = tk.solve(p, ED), tk.solve(p, KPM(order=512, estimator=Exact()))
    for name, value in _observables(e).items():
        assert abs(_observables(k)[name] - value) < 1e-9 * max(1, abs(value)), name
    assert np.abs(k.density_matrix - e.density_matrix).max() < 1e-9
    assert np.abs(k.density - e.density).max() < 1e-9
    if p.spinful:
        assert np.abs(k.forces - e.forces).max() < 1e-9
    assert abs(k.particles - p.filling * p.size) < 1e-9


def test_error_falls_exponentially_with_order_without_kernel():
    p = lattice_problem("square", 6, kT=0.3, mu=-0.7, disorder=1.0)
    e = tk.solve(p, ED)
    orders = [16, 32, 48, 64]
    errs = [abs(tk.solve(p, KPM(order=n, estimator=Exact(), kernel="none")).grand_potential - e.grand_potential)
            for n in orders]
    # Fermi/omega functions are analytic within distance pi kT / a of the real axis (a ~ 4.6 here):
    # the error falls like exp(-kappa n) with kappa ~ pi kT / a ~ 0.2; a fitted slope below -0.15
    # per order (errors oscillate, so fit rather than compare neighbours) shows exponential decay.
    slope = np.polyfit(orders, np.log(errs), 1)[0]
    assert slope < -0.15 and errs[-1] < 1e-6, errs
    damped = abs(tk.solve(p, KPM(order=64, estimator=Exact(), kernel="jackson")).grand_potential - e.grand_potential)
    assert damped > 100 * errs[-1]       # Jackson damping spoils the exponential convergence


def test_zero_temperature_jackson_converges():
    # kT = 0: the Jackson-damped step converges like 1/order; at order 1024 on a 10x10 lattice with
    # disorder the grand potential (a kink, not a step) agrees to 1e-3 relative.
    p = lattice_problem("square", 10, mu=-0.3, disorder=1.5, seed=2)
    e = tk.solve(p, ED)
    k = tk.solve(p, KPM(order=1024, estimator=Exact()))
    assert abs(k.grand_potential - e.grand_potential) < 1e-3 * abs(e.grand_potential)
    assert abs(k.particles - e.particles) < 0.5


def test_filling_sets_mu_at_zero_temperature():
    p = lattice_problem("chain", 40, filling=0.25, disorder=0.5, seed=1)
    e = tk.solve(p, ED)
    k = tk.solve(p, KPM(order=2048, estimator=Exact()))
    assert abs(e.particles - 10) < 1e-12
    assert abs(k.particles - 10) < 1e-6
    eps = np.linalg.eigvalsh(p.matrix.toarray())
    assert eps[9] - 0.05 < k.mu < eps[10] + 0.05


@pytest.mark.parametrize("estimator", [Probing(distance=40), GradientProbing(distance=40)])
def test_probing_with_all_colors_distinct_is_exact(estimator):
    p = TightBinding.example(1)
    e, k = tk.solve(p, ED), tk.solve(p, KPM(order=512, estimator=estimator))
    assert abs(k.grand_potential - e.grand_potential) < 1e-9 * abs(e.grand_potential)
    assert np.abs(k.forces - e.forces).max() < 1e-9


def test_gradient_estimator_equals_direct_with_exact_vectors_in_the_limit():
    # Gradient of Omega~ w.r.t. H is the derivative of the polynomial for omega, f up to truncation.
    p = lattice_problem("honeycomb", 3, kT=0.2, mu=0.3, spins="random", J=1.5, local=True)
    e = tk.solve(p, ED)
    g = tk.solve(p, KPM(order=400, estimator=GradientProbing(distance=20, kind="phase")))
    assert np.abs(g.density_matrix - e.density_matrix).max() < 1e-9


def test_random_vectors_are_unbiased_and_error_shrinks_like_inverse_sqrt():
    p = lattice_problem("square", 12, kT=0.2, mu=-0.5, disorder=1.0, local=False)
    exact = tk.solve(p, ED).grand_potential
    errs = {}
    for S in (2, 32):
        vals = [tk.solve(p, KPM(order=128, estimator=RandomVectors(count=S), seed=s)).grand_potential
                for s in range(12)]
        errs[S] = np.sqrt(np.mean((np.array(vals) - exact) ** 2))
    # expected ratio sqrt(16) = 4; 12 samples give a +-30 % spread in each rms error
    assert 2.0 < errs[2] / errs[32] < 8.0, errs
    # the reported standard error matches the observed spread (within the 12-sample noise)
    stderr = tk.solve(p, KPM(order=128, estimator=RandomVectors(count=32))).stats["grand_potential_stderr"]
    assert 0.5 < stderr / errs[32] < 2.0, (stderr, errs[32])


def _omega_ed(H0, spins, J, mu, kT):
    p = TightBinding(hamiltonian=H0, spins=spins, J=J, mu=mu, kT=kT, local=False)
    return tk.solve(p, ED).grand_potential


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), J=st.floats(0.5, 3.0), kT=st.floats(0.05, 0.5), mu=st.floats(-2, 2))
def test_spin_forces_match_finite_differences(seed, J, kT, mu):
    H0 = lattice_hamiltonian("square", 2, disorder=1.0, seed=seed, periodic=False)
    S = random_spins(4, seed)
    sol = tk.solve(TightBinding(hamiltonian=H0, spins=S, J=J, mu=mu, kT=kT, local=True), ED)
    rng = np.random.default_rng(seed + 7919)     # not the stream random_spins used
    h = 1e-5
    for i in range(4):
        t = np.cross(S[i], rng.normal(size=3))
        t /= np.linalg.norm(t)          # tangent direction: S(h) = (S + h t)/|S + h t|, dS/dh = t
        plus, minus = S.copy(), S.copy()
        plus[i] = (S[i] + h * t) / np.linalg.norm(S[i] + h * t)
        minus[i] = (S[i] - h * t) / np.linalg.norm(S[i] - h * t)
        fd = (_omega_ed(H0, plus, J, mu, kT) - _omega_ed(H0, minus, J, mu, kT)) / (2 * h)
        # central difference: O(h^2) ~ 1e-10 truncation, rounding ~ 1e-16/h ~ 1e-11
        assert abs(-fd - sol.forces[i] @ t) < 1e-7


def test_square_lattice_van_hove_log_peak():
    # exact per-site DOS: rho(E) = K(1 - (E/4)^2) / (2 pi^2) (K with parameter m = k^2), log-divergent at 0.
    p = lattice_problem("square", 256, mu=0.0, local=False, dos_points=401)
    k = tk.solve(p, KPM(order=512, estimator=RandomVectors(count=16)))
    exact = lambda E: scipy.special.ellipk(1 - (E / 4) ** 2) / (2 * np.pi**2)
    for E in (-3.0, -2.0, -1.0, 1.5, 2.5):
        got = np.interp(E, k.energies, k.dos)
        # Jackson resolution ~ pi*4/512 smooths little here; the stochastic error of the DOS at one
        # energy is ~ 1/sqrt(S N rho dE) ~ 2 % (16 vectors, 65536 sites, dE ~ 0.025): allow 3 sigma
        assert abs(got - exact(E)) < 0.06 * exact(E), E
    inner = np.abs(k.energies) < 3.5
    assert abs(k.energies[inner][np.argmax(k.dos[inner])]) < 0.1      # peak at E = 0
    assert k.dos[np.argmin(np.abs(k.energies))] > 1.6 * exact(1.0)


def test_graphene_dos_is_linear_near_dirac_point():
    # per-site DOS near E = 0: |E| / (sqrt(3) pi t^2) (+ a cubic correction towards the van Hove
    # point at |E| = t). Fit s|E| + c|E|^3 on 0.1 < |E| < 0.5; on 150x150 cells (45,000 sites) the
    # discrete Dirac-cone levels and 8 random vectors leave the slope within a few % (seen: 0.1 %).
    p = lattice_problem("honeycomb", 150, mu=0.0, local=False, dos_points=801)
    k = tk.solve(p, KPM(order=1024, estimator=RandomVectors(count=8)))
    e = np.abs(k.energies)
    sel = (e > 0.1) & (e < 0.5)
    slope = np.linalg.lstsq(np.stack([e[sel], e[sel] ** 3], 1), k.dos[sel], rcond=None)[0][0]
    assert abs(slope * np.sqrt(3) * np.pi - 1) < 0.08, slope
    assert k.dos[np.argmin(e)] < 0.03


def test_ed_refuses_large_problems_and_solution_api():
    p = lattice_problem("chain", 30, kT=0.1, local=True)
    sol = tk.solve(p, ExactDiagonalization(max_size=10))
    assert sol.retcode is tk.ReturnCode.Failure and "KPM" in sol.message
    sol = tk.solve(p, KPM(order=64, estimator=Exact()))
    assert isinstance(sol, TightBindingSolution) and sol.successful
    ds = sol.to_xarray()
    assert "dos" in ds and ds.attrs["grand_potential"] == sol.grand_potential
    assert sol.density_matrix_csr().shape == (30, 30)
    assert tk.solve(p).solver == ExactDiagonalization()
    assert sol.distance(tk.solve(p, ED)) < 1e-2


def test_parallel_matches_serial():
    p = TightBinding.example(1)
    a = tk.solve(p, KPM(order=128, estimator=RandomVectors(count=3, kind="phase"), seed=4))
    b = tk.solve(p, KPM(order=128, estimator=RandomVectors(count=3, kind="phase"), seed=4, parallel=True))
    assert abs(a.grand_potential - b.grand_potential) < 1e-10 and np.allclose(a.density_matrix, b.density_matrix)


def test_divergence_is_reported_not_nan():
    p = lattice_problem("square", 8, mu=0.0, local=False)
    sol = tk.solve(p, KPM(order=256, estimator=Exact(), bounds=(-2.0, 2.0)))   # spectrum is [-4, 4]
    assert sol.retcode is tk.ReturnCode.Unstable and "bounds" in sol.message
    with pytest.raises(tk.UnstableError):
        tk.solve(p, KPM(order=256, estimator=Exact(), bounds=(-2.0, 2.0)), strict=True)
    ok = tk.solve(p, KPM(order=256, estimator=Exact(), bounds=[-4.0, 4.0]))
    ref = tk.solve(p, KPM(order=256, estimator=Exact(), bounds="gershgorin"))
    assert ok.successful and abs(ok.grand_potential - ref.grand_potential) < 1e-9
    with pytest.raises(tk.InvalidSolverError, match="bounds"):
        KPM(bounds=(1.0, -1.0))


@pytest.mark.slow
def test_error_scaling_exponents():
    # 2D metal at T = 0 (square lattice 48x48, mu = -0.5, 128 moments): random vectors ~ S^(-1/2)
    # (the CLT; +-0.15 for 3 points and one seed), gradient probing clearly faster than S^(-1/2) and
    # at least as fast as plain probing (Wang et al. 2018 report S^(-1); we see about -1.3).
    from solvers.tight_binding.scaling import error_scaling

    r = error_scaling(L=48, order=128, counts=(4, 16, 64), distances=(1, 2, 3, 5), seeds=1)
    assert abs(r["random vectors"][2] + 0.5) < 0.15, r
    assert r["gradient probing"][2] < -0.85, r
    assert r["gradient probing"][2] <= r["probing"][2] + 0.05, r
    assert r["gradient probing"][1][-1] < r["random vectors"][1][-1]


@settings(max_examples=10, deadline=None)
@given(kind=st.sampled_from(["chain", "square", "triangular", "honeycomb", "kagome", "cubic"]),
       periodic=st.booleans(), kT=st.floats(0.1, 1.0), mu=st.floats(-3, 3), W=st.floats(0, 2),
       t2=st.floats(-0.3, 0.3), seed=st.integers(0, 100))
def test_kpm_exact_agrees_with_ed_on_random_lattices(kind, periodic, kT, mu, W, t2, seed):
    # kT >= 0.1 and 1024 moments: truncation below 1e-12 for spectra of width < 20 (see above)
    L = {"chain": 12, "cubic": 2}.get(kind, 3)
    p = lattice_problem(kind, L, periodic=periodic, hoppings=(1.0, t2), disorder=W, seed=seed, kT=kT, mu=mu,
                        local=True)
    e, k = tk.solve(p, ED), tk.solve(p, KPM(order=1024, estimator=Exact()))
    assert abs(k.grand_potential - e.grand_potential) < 1e-8 * max(1, abs(e.grand_potential))
    assert abs(k.particles - e.particles) < 1e-8
    rho = k.density_matrix_csr()
    assert abs(rho - rho.conj().T).max() < 1e-12                       # Hermitian estimate
    assert abs(k.density.sum() - k.particles) < 1e-8                   # Tr rho = N
    assert np.all(k.density > -1e-9) and np.all(k.density < 1 + 1e-9)  # occupations in [0, 1]


def test_particle_hole_symmetry_half_filling_bipartite():
    # bipartite lattice, no disorder: the spectrum is symmetric, so half filling puts mu at 0 and
    # every site at density 1/2 (to the Chebyshev truncation, here exponentially small).
    p = lattice_problem("honeycomb", 4, kT=0.2, filling=0.5, local=True)
    k = tk.solve(p, KPM(order=512, estimator=Exact()))
    assert abs(k.mu) < 1e-9 and np.allclose(k.density, 0.5, atol=1e-9)


def test_requested_density_matrix_patterns():
    import scipy.sparse as sp

    p = lattice_problem("chain", 8, kT=0.2, spins="random", pattern="onsite", local=True)
    e = tk.solve(p, ED)
    assert len(e.density_matrix) == 16 + 16 and e.forces.shape == (8, 3)     # diagonal + 2x2 blocks
    far = sp.coo_matrix(([1.0], ([0], [8])), shape=(16, 16))               # spin-up of site 0 to site 4
    p2 = tk.remake(p, pattern=far)
    e2, k2 = tk.solve(p2, ED), tk.solve(p2, KPM(order=512, estimator=Exact()))
    full = tk.solve(tk.remake(p, pattern="onsite", local=True), ED)
    assert len(e2.density_matrix) == 34 and np.abs(k2.density_matrix - e2.density_matrix).max() < 1e-9
    assert np.allclose(e2.forces, full.forces)
    with pytest.raises(tk.InvalidProblemError, match="pattern"):
        tk.remake(p, pattern="bonds")
    with pytest.raises(tk.InvalidProblemError, match="pattern"):
        tk.remake(p, pattern=sp.identity(8))


def test_the_default_question_is_the_dos_and_local_quantities_are_asked_for():
    # issue 16: the default computes what a DOS needs (one moment sweep); local=True adds the
    # density-matrix sweep, densities and spin forces
    p = lattice_problem("square", 6, kT=0.2, mu=-0.3, spins="random")
    assert p.local is False
    solver = KPM(order=64, estimator=RandomVectors(count=2))
    dos_only = tk.solve(p, solver)
    assert "local_time" not in dos_only.stats and dos_only.density.size == 0 and dos_only.forces.shape == (0, 3)
    full = tk.solve(tk.remake(p, local=True), solver)
    assert "local_time" in full.stats and full.forces.shape == (36, 3) and full.density.shape == (72,)
    assert full.grand_potential == dos_only.grand_potential and np.array_equal(full.dos, dos_only.dos)
    assert tk.solve(p, ED).density.size == 0

"""Hydrodynamic measurements from MD (issue 21): transverse currents, eta(k), S(k), c_T, Green–Kubo.

Cheap tests check the estimators on synthetic data with known answers (a frozen configuration
whose velocities are Ornstein–Uhlenbeck processes has C_T(k, t) = (k_B T / m) exp(-gamma t) at
every k; an ideal gas has S(k) = 1), the numba kernel against its NumPy reference and the
invariants (k -> -k, translations). The Lennard-Jones science runs once, in a module fixture.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit as tk
from problems.molecule import KB_EV, LJ_TEMPERATURE_K, LJ_TIME_FS, MolecularDynamics, lj_fluid
from solvers.molecule import Langevin, LennardJones, NoseHoover, VelocityVerlet
from solvers.molecule.hydrodynamics import (HydrodynamicsRecord, extrapolate_viscosity, isothermal_sound_speed,
                                            jackknife, maxwell_ct, measure_hydrodynamics, trajectory_modes,
                                            transverse_correlation, viscosity_of_k)
from solvers.molecule.observables import green_kubo_bulk_viscosity, green_kubo_viscosity
from solvers.molecule.reference import jzg_eos
from solvers.molecule.structure_factor import (extrapolate_structure_factor, fourier_modes, fourier_modes_reference,
                                               polarisations, shell_vectors, structure_factor)

TAU = LJ_TIME_FS


# -- wavevectors and the kernel --------------------------------------------------------------------

def test_shells_hold_the_integer_vectors_of_each_length_once():
    n, index = shell_vectors([1, 2, 3, 4, 5, 6])
    counts = np.bincount(index)
    assert counts.tolist() == [3, 6, 4, 3, 12, 12]      # half of 6, 12, 8, 6, 24, 24 (+-n kept once)
    assert np.array_equal((n ** 2).sum(1), np.array([1, 2, 3, 4, 5, 6])[index])
    as_set = {tuple(v) for v in n}
    assert not any(tuple(-v) in as_set for v in n)
    with pytest.raises(ValueError, match="7"):
        shell_vectors([1, 7])
    with pytest.raises(ValueError, match="shells"):
        shell_vectors([0])


def test_polarisations_are_orthonormal_and_transverse():
    n, _ = shell_vectors([1, 2, 3, 5, 14])
    pol = polarisations(n)
    assert np.allclose(np.einsum("kpd,kd->kp", pol, n), 0.0, atol=1e-12)
    assert np.allclose(np.einsum("kpd,kqd->kpq", pol, pol), np.eye(2)[None], atol=1e-12)


def test_fourier_modes_kernel_matches_the_numpy_reference():
    rng = np.random.default_rng(0)
    n, _ = shell_vectors([1, 2, 3, 4, 9])
    x = rng.uniform(-20.0, 30.0, (5, 40, 3))          # unwrapped: exp(i k r) is periodic in the box
    v = rng.normal(size=x.shape)
    m = rng.uniform(1.0, 3.0, 40)
    rho, jt = fourier_modes(x, v, m, 7.3, n)
    rho_ref, jt_ref = fourier_modes_reference(x, v, m, 7.3, n)
    assert np.allclose(rho, rho_ref, atol=1e-11) and np.allclose(jt, jt_ref, atol=1e-11)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2 ** 16), shift=st.tuples(*[st.floats(-50, 50)] * 3))
def test_modes_invariants(seed, shift):
    """|rho_k|^2 and C_T do not change under a translation; k -> -k conjugates the modes (with the
    same polarisations), so C_T is real and the same for +-k; S(k) >= 0."""
    rng = np.random.default_rng(seed)
    n, index = shell_vectors([1, 2, 3])
    pol = polarisations(n)
    x = rng.uniform(0, 6.0, (12, 30, 3))
    v = rng.normal(size=x.shape)
    rho, jt = fourier_modes(x, v, np.ones(30), 6.0, n, pol)
    rho2, jt2 = fourier_modes(x + np.array(shift), v, np.ones(30), 6.0, n, pol)
    rho3, jt3 = fourier_modes(x, v, np.ones(30), 6.0, -n, pol)
    assert np.allclose(np.abs(rho) ** 2, np.abs(rho2) ** 2, atol=1e-9)
    assert np.allclose(rho3, np.conj(rho), atol=1e-10) and np.allclose(jt3, np.conj(jt), atol=1e-10)
    c = transverse_correlation(jt, index, 30)
    assert np.allclose(c, transverse_correlation(jt2, index, 30), atol=1e-9)
    assert np.allclose(c, transverse_correlation(jt3, index, 30), atol=1e-9)
    assert np.isrealobj(c)
    assert np.all(structure_factor(rho, 30, index) >= 0)


def test_ideal_gas_structure_factor_is_one():
    rng = np.random.default_rng(1)
    n, index = shell_vectors([1, 2, 3, 4])
    x = rng.uniform(0, 8.0, (400, 200, 3))
    rho, _ = fourier_modes(x, np.zeros_like(x), np.ones(200), 8.0, n)
    s = structure_factor(rho, 200, index)
    # |rho_k|^2 / N is exponential with mean 1: 400 frames x 3..6 vectors, error <= 3%
    assert np.allclose(s, 1.0, atol=0.12), s


# -- estimators on synthetic data ------------------------------------------------------------------

class _Trajectory:
    """An MDSolution stand-in: frames of a problem (only what the analysis reads)."""

    def __init__(self, problem, positions, velocities, frame_time):
        self.problem, self.positions, self.velocities, self.frame_time = problem, positions, velocities, frame_time


def _ou_trajectory(gamma=4.0, frames=20000, cells=2, seed=0):
    """Frozen fcc atoms (reduced LJ units) whose velocities are OU processes of rate ``gamma`` at T* = 1."""
    rng = np.random.default_rng(seed)
    fluid = lj_fluid(cells=cells, density=0.8, temperature=1.0)
    problem = MolecularDynamics(fluid, LennardJones(), steps=1)
    n = fluid.n_atoms
    dt = 0.05                                              # tau
    a = np.exp(-gamma * dt)
    v = np.empty((frames, n, 3))
    v[0] = rng.standard_normal((n, 3))
    noise = rng.standard_normal((frames, n, 3)) * np.sqrt(1 - a * a)
    for f in range(1, frames):
        v[f] = a * v[f - 1] + noise[f]
    positions = np.broadcast_to(fluid.positions, v.shape)
    return _Trajectory(problem, positions, v / TAU, np.arange(frames) * dt * TAU), fluid.n_atoms / np.prod(
        np.diag(fluid.cell)), dt, a


def test_synthetic_exponential_transverse_decay_recovers_nu():
    """C_T(k, t) = (k_B T / m) exp(-gamma t) at every k: eta(k) = rho gamma / k^2 by both readings."""
    gamma = 4.0
    traj, density, dt, a = _ou_trajectory(gamma)
    modes = trajectory_modes(traj, shells=(1, 2, 3))
    ct = transverse_correlation(modes["jt"], modes["shell_index"], modes["n_atoms"], max_lag=60)
    time = np.arange(ct.shape[1]) * dt
    # k_B T / m = 1 at T* = 1; 1000 tau x 6 to 12 modes: C(0) within ~1% (1 sigma)
    assert np.allclose(ct[:, 0], 1.0, rtol=0.04)
    exact = density * gamma / modes["k"] ** 2
    # discrete exponential a^n: the trapezoid integral is dt (1 + a) / (2 (1 - a)), 0.08% above 1/gamma;
    # the statistical error of the 8-decay-time integral is ~2% (shell 1)
    for method, tol in (("integral", 0.06), ("exponential", 0.06)):
        eta = viscosity_of_k(time, ct, modes["k"], density, method=method, window=8.0)
        assert np.allclose(eta / exact, 1.0, atol=tol), (method, eta / exact)
    # the Maxwell model with a fast memory (tau_m -> 0) is the exponential
    assert np.allclose(maxwell_ct(time, gamma / 1e-4, 1e-4), np.exp(-gamma * time), atol=1e-3)


def test_maxwell_model_integral_and_start():
    t = np.linspace(0, 40, 40001)
    for omega2, tau_m in ((4.0, 0.1), (20.0, 0.4), (2.0, 0.125 / np.sqrt(2.0))):
        c = maxwell_ct(t, omega2, tau_m)
        assert c[0] == pytest.approx(1.0)
        assert (c[1] - c[0]) / (t[1] - t[0]) == pytest.approx(0.0, abs=0.01)   # dC/dt(0) = 0
        assert np.trapezoid(c, t) == pytest.approx(1.0 / (omega2 * tau_m), rel=1e-3)


def test_lorentzian_and_structure_factor_extrapolations_are_exact_on_their_forms():
    k = np.array([0.7, 1.0, 1.2, 1.5])
    eta0, a = extrapolate_viscosity(k, 3.1 / (1 + 0.4 * k ** 2))
    assert eta0 == pytest.approx(3.1) and a == pytest.approx(0.4)
    s0, coef = extrapolate_structure_factor(k, 0.04 + 0.01 * k ** 2, degree=1)
    assert s0 == pytest.approx(0.04) and coef[1] == pytest.approx(0.01)
    assert isothermal_sound_speed(0.04, 0.72) == pytest.approx(np.sqrt(0.72 / 0.04))


def test_jackknife_of_a_mean_is_its_standard_error():
    x = np.random.default_rng(2).normal(size=(7, 3))
    value, error = jackknife(x, lambda m: m)
    assert np.allclose(value, x.mean(0))
    assert np.allclose(error, x.std(0, ddof=1) / np.sqrt(7))


def test_green_kubo_bulk_viscosity_recovers_a_known_integral():
    """An OU pressure fluctuation <dP(0) dP(t)> = A exp(-t / tc) about a mean of 5e-3 gives V/(kT) A tc."""
    rng = np.random.default_rng(3)
    n, dt, tc, amp = 100_000, 1.0, 20.0, 4e-6
    a = np.exp(-dt / tc)
    p = np.zeros(n)
    noise = rng.standard_normal(n) * np.sqrt(amp * (1 - a * a))
    p[0] = noise[0] / np.sqrt(1 - a * a)
    for i in range(1, n):
        p[i] = a * p[i - 1] + noise[i]
    tensor = np.zeros((n, 3, 3))
    for d in range(3):
        tensor[:, d, d] = 5e-3 + p
    tensor[:, 0, 1] = tensor[:, 1, 0] = rng.normal(size=n) * 1e-3    # shear does not enter
    volume, temperature = 1000.0, 300.0
    exact = volume / (KB_EV * temperature) * amp * dt * (1 + a) / (2 * (1 - a))
    one = green_kubo_bulk_viscosity(tensor=tensor, dt=dt, volume=volume, temperature=temperature, window=200.0,
                                    blocks=20)
    two = green_kubo_bulk_viscosity(tensor=[tensor[: n // 2], tensor[n // 2:]], dt=dt, volume=volume,
                                    temperature=temperature, window=200.0, blocks=10)
    for est in (one, two):
        assert abs(est.value - exact) < 4 * est.error + 0.03 * exact
        assert 0 < est.error < 0.1 * exact
    assert two.blocks == 20


def test_measurement_refuses_what_it_cannot_measure():
    fluid = lj_fluid(cells=2, density=0.8442, temperature=0.722)
    md = MolecularDynamics(fluid, LennardJones(), steps=100, save_every=10, thermo_every=5)
    with pytest.raises(ValueError, match="Langevin"):
        measure_hydrodynamics(md, Langevin(dt=1.0, temperature=100.0, friction=0.01))
    box = tk.remake(fluid, cell=np.diag(fluid.cell) * np.array([1.0, 1.0, 1.1]))
    with pytest.raises(ValueError, match="cubic"):
        measure_hydrodynamics(tk.remake(md, molecule=box), VelocityVerlet(dt=1.0))


def test_a_short_measurement_gives_a_complete_record_that_round_trips(tmp_path):
    """Two tiny runs (108 atoms, 400 steps): every field is filled, the record saves, loads and
    converts to xarray with units; the same seed gives the same record on threads."""
    fluid = lj_fluid(cells=3, density=0.8442, temperature=0.722, seed=3)
    md = MolecularDynamics(fluid, LennardJones(cutoff=2.5), steps=400, save_every=4, thermo_every=2)
    solver = VelocityVerlet(dt=0.005 * TAU)
    eq = NoseHoover(dt=0.005 * TAU, temperature=0.722 * LJ_TEMPERATURE_K, tdamp=0.5 * TAU)
    kwargs = dict(shells=(1, 2), sk_shells=(1, 2, 3), runs=2, equilibrate=eq, equilibrate_steps=100, max_lag=0.5,
                  gk_window=0.2, gk_blocks=2, segment_steps=120)
    rec = measure_hydrodynamics(md, solver, **kwargs)
    again = measure_hydrodynamics(md, solver, executor=tk.Threads(2), **kwargs)
    assert rec == again
    assert rec.runs == 2 and rec.n_atoms == 108 and rec.ct.shape == (2, len(rec.time))
    assert rec.time[1] == pytest.approx(4 * 0.005)
    assert np.all(np.isfinite(rec.eta_k)) and np.isfinite(rec.gk_shear) and np.isfinite(rec.sound_speed)
    path = rec.save(tmp_path / "hydro.nc")
    assert HydrodynamicsRecord.load(path) == rec
    ds = rec.to_xarray()
    assert set(ds.coords) >= {"k", "time", "sk_k"}
    assert "reduced LJ units" in ds["eta_k"].attrs["reduced_unit"] and ds["eta_k"].attrs["units"] == "1"
    assert ds["ct"].dims == ("k", "time") and not tk.conventions.check(ds)
    assert ds.attrs["eta0"] == rec.eta0
    import matplotlib.pyplot as plt

    fig = rec.plot()
    assert len(fig.axes) >= 3
    plt.close(fig)


# -- the Lennard-Jones liquid at the triple point ---------------------------------------------------

RHO, T_STAR, ETA_FERRARIO = 0.8442, 0.722, 3.24
#: Shear-wave ensemble: runs x NVE steps of 500 atoms. 4 x 50,000 (1000 tau) gave eta_0 = 3.43 and 3.17 for two
#: seeds (a ~4% run-to-run scatter after the k -> 0 extrapolation): the 5% test needs ~4x that data.
WAVE_RUNS, WAVE_STEPS = 8, 100_000


def _liquid(cells: int, seed: int):
    """An fcc start melted at T* = 2.5 (1500 Nosé–Hoover steps): the members' common configuration."""
    dt = 0.005 * TAU
    fluid = lj_fluid(cells=cells, density=RHO, temperature=2.5, seed=seed)
    hot = tk.solve(MolecularDynamics(fluid, LennardJones(cutoff=2.5), steps=1500, save_every=1500, thermo_every=100),
                   NoseHoover(dt=dt, temperature=2.5 * LJ_TEMPERATURE_K, tdamp=0.5 * TAU), progress=False)
    return tk.remake(fluid, positions=hot.positions[-1], velocities=hot.velocities[-1])


@pytest.fixture(scope="module")
def triple_point(request):
    """The LJ liquid (rc = 2.5 sigma, truncated and shifted) at rho* = 0.8442, T* = 0.722, dt* = 0.005:

    * shear waves and S(k): WAVE_RUNS runs of 500 atoms x WAVE_STEPS steps (k_1 sigma = 0.748), frames
      every 0.05 tau, each member Nosé–Hoover equilibrated for 20 tau, energy set to the canonical mean,
      then NVE, on two threads (about 4e8 atom-steps; the MD kernel releases the GIL, and threads spare the
      two processes' start-up: the same record, bit for bit, as on processes or serially);
    * Green–Kubo: the session's two NVE runs of 108 atoms x 8000 tau, stress every 5 steps
      (``triple_point_nve`` of tests/molecule/conftest.py, shared with the Green–Kubo test of
      tests/molecule/test_lj_physics.py), 20 blocks of 400 tau each, window 5 tau (the Green–Kubo error
      depends on the run time, not on N: the smallest box gives the most time per CPU second). One run was
      not enough: on another CPU (other rounding, so another trajectory) seed 1 gave 3.082 +- 0.066 against
      eta_0 = 3.359: 9 % apart (seeds 2 and 3: 3.305, 3.232).
    """
    dt = 0.005 * TAU
    eq = NoseHoover(dt=dt, temperature=T_STAR * LJ_TEMPERATURE_K, tdamp=0.5 * TAU)
    potential = LennardJones(cutoff=2.5)
    waves = measure_hydrodynamics(
        MolecularDynamics(_liquid(5, 1), potential, steps=WAVE_STEPS, save_every=10, thermo_every=10),
        VelocityVerlet(dt=dt), shells=(1, 2, 3), sk_shells=(1, 2, 3, 4, 5, 6), runs=WAVE_RUNS,
        executor=tk.Threads(2), equilibrate=eq, equilibrate_steps=4000, max_lag=4.0, seed=1)
    runs = list(request.getfixturevalue("triple_point_nve"))  # after the waves: by then often made by another worker
    assert all(run.successful for run in runs)
    shear = green_kubo_viscosity(runs, window=5 * TAU, blocks=20, components="traceless")
    bulk = green_kubo_bulk_viscosity(runs, window=5 * TAU, blocks=20)
    gk = SimpleNamespace(gk_shear=shear.value / TAU, gk_shear_error=shear.error / TAU, gk_bulk=bulk.value / TAU,
                         gk_bulk_error=bulk.error / TAU,
                         temperature=np.mean([run.temperature.mean() for run in runs]) / LJ_TEMPERATURE_K)
    print(f"\nC_T(k,0)/(kT/m) = {waves.ct0_ratio}; eta(k) = {waves.eta_k} +- {waves.eta_k_error} at k = {waves.k}")
    print(f"eta0 = {waves.eta0:.3f} +- {waves.eta0_error:.3f} (a = {waves.eta_a:.3f}); GK (N=108) = {gk.gk_shear:.3f} "
          f"+- {gk.gk_shear_error:.3f}, bulk = {gk.gk_bulk:.3f} +- {gk.gk_bulk_error:.3f}; GK (N=500) = "
          f"{waves.gk_shear:.3f} +- {waves.gk_shear_error:.3f}")
    print(f"S(k) = {waves.sk}; S(0) = {waves.s0:.4f} +- {waves.s0_error:.4f}; c_T = {waves.sound_speed:.3f} +- "
          f"{waves.sound_speed_error:.3f}; T* = {waves.temperature:.4f} / {gk.temperature:.4f}")
    return waves, gk


@pytest.mark.slow
def test_transverse_current_starts_at_equipartition(triple_point):
    """C_T(k, 0) = k_B T / m (per atom, m = 1): within 1% averaged over the shells, and every shell within
    three of its standard errors (a shell of 3-6 vectors carries a 0.3-1.2% error at this run length;
    4 x 250 tau gave 0.995, 0.989, 1.005)."""
    waves, _ = triple_point
    assert abs(waves.temperature / T_STAR - 1) < 0.02
    assert abs(waves.ct0_ratio.mean() - 1) < 0.01, waves.ct0_ratio
    sem = waves.ct_error[:, 0] * waves.mass / waves.temperature
    assert np.all(np.abs(waves.ct0_ratio - 1) < 3 * sem + 0.002), (waves.ct0_ratio, sem)


@pytest.mark.slow
def test_shear_viscosity_from_transverse_currents_matches_green_kubo_and_ferrario(triple_point):
    """eta(k) from C_T, extrapolated to k -> 0 by eta_0 / (1 + a k^2), against Green–Kubo (within 7%) and
    both against eta* = 3.24 +- 0.04 of Ferrario, Ciccotti, Holian & Ryckaert, Phys. Rev. A 44, 6936 (1991),
    doi:10.1103/PhysRevA.44.6936 (within 5%).

    Cutoff: here rc = 2.5 sigma, truncated and shifted (the shift changes energies, not forces, so not the
    viscosity). The tail beyond 2.5 sigma is a weak, nearly uniform attraction: it changes the
    thermodynamics markedly (the compressibility, see the sound-speed test: c_T 4.19 vs 3.97) but the
    structure and dynamics of the dense liquid little (Toxvaerd & Dyre, J. Chem. Phys. 134, 081102 (2011),
    doi:10.1063/1.3558787, reproduce them with cutoffs down to 1.5 sigma); we found no measured
    rc = 2.5 vs full-potential eta at this state to quote, so the difference is taken to lie within the
    5% tolerance, as the existing Green–Kubo test (tests/molecule/test_lj_physics.py) also assumes.
    eta(k) decreases with k (viscoelasticity): it must, and the Lorentzian's a must be positive.
    """
    waves, gk = triple_point
    print(waves.eta_k, waves.eta_k_error, waves.eta0, waves.eta0_error, gk.gk_shear, gk.gk_shear_error)
    assert np.all(np.diff(waves.eta_k) < 0) and waves.eta_a > 0
    assert waves.eta0_error / waves.eta0 < 0.03 and gk.gk_shear_error / gk.gk_shear < 0.03
    assert abs(waves.eta0 / gk.gk_shear - 1) < 0.07
    assert abs(waves.eta0 / ETA_FERRARIO - 1) < 0.05
    assert abs(gk.gk_shear / ETA_FERRARIO - 1) < 0.05
    assert gk.gk_bulk > 0


@pytest.mark.slow
def test_isothermal_sound_speed_matches_the_equation_of_state(triple_point):
    """c_T = sqrt(k_B T / (m S(0))) against (dP/drho)_T^(1/2) of the Johnson–Zollweg–Gubbins equation of
    state of the full LJ fluid, corrected to rc = 2.5 by the mean-field tail term
    d(Delta P)/d rho = (32/3) pi rho ((2/3) rc^-9 - rc^-3) (g(r) = 1 beyond rc; Allen & Tildesley §2.8):
    c_T = 4.19 (3.97 for the full potential). The tail term is itself approximate (a few per cent of
    dP/drho), hence 5%.
    """
    waves, _ = triple_point
    h = 1e-4
    dp = (jzg_eos(RHO + h, T_STAR)[0] - jzg_eos(RHO - h, T_STAR)[0]) / (2 * h)
    dp -= (32.0 / 3.0) * np.pi * RHO * ((2.0 / 3.0) * 2.5 ** -9 - 2.5 ** -3)
    assert np.all(waves.sk > 0) and waves.sound_speed_error / waves.sound_speed < 0.02
    assert abs(waves.sound_speed / np.sqrt(dp) - 1) < 0.05, (waves.sound_speed, np.sqrt(dp))


@pytest.mark.slow
def test_the_fitted_lattice_model_decays_like_the_md(triple_point):
    """The MD -> lattice Boltzmann pipeline (issue 21) on the measured record: a D2Q9 model of the 500-atom box
    (7 nodes per edge, dx = 1.2 sigma; dt from c_T, tau = 1.84 from eta_0) whose free TRT rate is fitted to the
    MD decay curves at the two smallest shells (LearnedCollision, target "curves").

    * At the smallest k the normalised transverse-wave amplitude decays the same way in MD (averaged over the
      runs) and in the fitted lattice model within 0.05 over two decay times (measured 0.022; plain BGK 0.185:
      at nu dt / dx^2 = 0.45 the BGK lattice is far from its hydrodynamic limit).
    * At the second shell the learned model follows the MD curve within 0.05 (measured 0.037) where BGK does
      not (0.18). (The issue asks for the decay *rate* within the MD error bar; with the rate defined by the
      integral of C_T, which goes negative in the viscoelastic liquid, no lattice shear mode, which cannot,
      reaches it: measured -25 % for the learned model and -59 % for BGK. See the issue's notes.)
    * The lattice model's sound speed (a real run of a density wave, converted with dx / dt) is the MD's
      isothermal one within 2 %.
    """
    from problems.fluid_bridge import CoarseGraining
    from problems.molecule import HydrodynamicMeasurement
    from solvers.lattice_boltzmann import CoarseGrain, LearnedCollision
    from solvers.lattice_boltzmann.bridge import build_lattice_model, lattice_sound_speed

    waves, _ = triple_point
    fluid = MolecularDynamics(lj_fluid(5, RHO, T_STAR), LennardJones(cutoff=2.5), steps=10, save_every=10)
    problem = CoarseGraining(HydrodynamicMeasurement(fluid, shells=(1, 2, 3)), lattice="D2Q9", dx=1.2,
                             fit_shells=(1, 2))
    plain = build_lattice_model(problem, CoarseGrain(), waves)
    learned = build_lattice_model(problem, LearnedCollision(scheme="TRT"), waves)
    print(f"\ntau {learned.tau:.3f}, dx {learned.dx:.3f}, dt {learned.dt:.4f}; magic {learned.rates}; mismatch over two "
          f"decay times, shells 1, 2: learned {learned.decay_mismatch(0):.3f}, {learned.decay_mismatch(1):.3f}; BGK "
          f"{plain.decay_mismatch(0):.3f}, {plain.decay_mismatch(1):.3f}")
    assert "warnings" not in learned.stats
    assert learned.decay_mismatch(0, decay_times=2.0) <= 0.05
    assert learned.decay_mismatch(1, decay_times=2.0) <= 0.05 < plain.decay_mismatch(1, decay_times=2.0)
    c_lattice = lattice_sound_speed(learned.collision, lattice_name="D2Q9", viscosity=0.05, n=64)
    assert c_lattice * learned.dx / learned.dt == pytest.approx(waves.sound_speed, rel=0.02)
    # k sigma = 0.75 and 1.06 lie past the hydrodynamic regime (k sigma <~ 0.43, Mithen et al. 2011): a viscosity
    # learned from these shells is no transport coefficient, and the model says so (measured -5.7 standard errors)
    both = build_lattice_model(problem, LearnedCollision(target="efold", fit_viscosity=True), waves)
    print(f"learned nu {both.viscosity:.3f} against {both.stats['viscosity_measured']:.3f}: "
          f"{both.stats['viscosity_shift']:+.2f} standard errors")
    assert any("hydrodynamic regime" in w for w in both.stats["warnings"])


def test_melt_turns_the_fcc_start_into_a_liquid_at_the_target_temperature():
    """lj_fluid's fcc start has the lattice's Bragg peak |sum_j exp(i G.r_j)| / N = 1 at G = (2 pi / a)(2, 0, 0);
    melted at T* = 2.5 the peak falls to the liquid's ~1/sqrt(N), and the velocities are redrawn at T*."""
    from solvers.molecule import melt

    start = lj_fluid(3, RHO, T_STAR, seed=2)
    a = (4.0 / RHO) ** (1.0 / 3.0)
    g = np.array([4.0 * np.pi / a, 0.0, 0.0])

    def bragg(mol):
        return abs(np.exp(1j * mol.positions @ g).sum()) / mol.n_atoms

    liquid = melt(start, LennardJones(cutoff=2.5), T_STAR, seed=3)
    assert bragg(start) == pytest.approx(1.0) and bragg(liquid) < 4.0 / np.sqrt(start.n_atoms)
    temperature = 2.0 * liquid.kinetic_energy() / (3 * liquid.n_atoms * KB_EV) / LJ_TEMPERATURE_K
    assert temperature == pytest.approx(T_STAR, rel=0.25)
    assert np.allclose((liquid.masses[:, None] * liquid.velocities).sum(0), 0.0, atol=1e-9)
    with pytest.raises(tk.InvalidProblemError, match="temperature"):
        melt(start, LennardJones(cutoff=2.5), -1.0)

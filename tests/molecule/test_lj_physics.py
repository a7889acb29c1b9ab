"""Lennard-Jones fluid against published results; observables against exact Langevin results."""

from __future__ import annotations

import numpy as np
import pytest

import toolkit as tk
from problems.molecule import KB_EV, LJ_TEMPERATURE_K, LJ_TIME_FS, MolecularDynamics, lj_fluid
from solvers.molecule import Langevin, LennardJones, NoseHoover, VelocityVerlet
from solvers.molecule.observables import (autocorrelation, diffusion_coefficient, green_kubo_viscosity, msd, rdf,
                                          vacf)
from solvers.molecule.reference import jzg_eos, lj_tail_corrections

TAU = LJ_TIME_FS


def test_jzg_reference_values():
    """Spot values of our JZG implementation: the critical region (P small and positive near
    T* = 1.31, rho* = 0.31) and the triple-point liquid (U*/N about -6.1, Table 10 of the paper
    is reproduced by the identical formula used in many codes)."""
    p, u = jzg_eos(0.8442, 0.722)
    assert abs(u + 6.09) < 0.01 and abs(p) < 0.3
    p, _ = jzg_eos(0.31, 1.31)
    assert 0.1 < p < 0.2
    # ideal-gas limit
    p, u = jzg_eos(1e-6, 2.0)
    assert np.isclose(p, 2e-6, rtol=1e-3) and abs(u) < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("density, temperature", [(0.8, 2.0), (0.8442, 0.722)])
def test_lj_fluid_matches_johnson_zollweg_gubbins(density, temperature):
    """Langevin NVT of 500 atoms, truncated LJ at rc = 4 sigma plus tail corrections, against the
    JZG (1993) equation of state. The EOS itself fits simulations to ~1%; our sampling error is
    ~0.5%; the 2% of the issue is the tolerance. Pressure is only compared where it is large
    (near the triple point P* ~ 0.15 and a 2% test is meaningless)."""
    rc = 4.0     # at rc = 3 (N = 256) the tail-corrected pressure came out 2.1% low: keep 4
    fluid = lj_fluid(cells=5, density=density, temperature=temperature, seed=11)
    potential = LennardJones(cutoff=rc, shift=False, skin=0.4)
    # melt the fcc start at T* = 2 first (at rho* = 0.8442, T* = 0.722 it is a metastable solid)
    hot = tk.solve(MolecularDynamics(fluid, potential, steps=500, save_every=500, thermo_every=100),
                   Langevin(dt=0.004 * TAU, temperature=2.0 * LJ_TEMPERATURE_K, friction=1.0 / TAU, seed=4),
                   progress=False)
    liquid = tk.remake(fluid, positions=hot.positions[-1], velocities=hot.velocities[-1])
    md = MolecularDynamics(liquid, potential, steps=4500, save_every=4500, thermo_every=10)
    sol = tk.solve(md, Langevin(dt=0.004 * TAU, temperature=temperature * LJ_TEMPERATURE_K, friction=1.0 / TAU,
                                seed=5), progress=False)
    assert sol.successful
    keep = slice(200, None)     # drop 8 tau of cooling from T* = 2 to T*
    n = fluid.n_atoms
    dp, du = lj_tail_corrections(density, rc)
    u = sol.potential_energy[keep].mean() / n + du
    p = sol.pressure[keep].mean() + dp       # eV/Å^3 = reduced units here
    p_ref, u_ref = jzg_eos(density, temperature)
    print(f"rho*={density} T*={temperature}: U*/N={u:.4f} (JZG {u_ref:.4f}), P*={p:.4f} (JZG {p_ref:.4f})")
    assert abs(u / u_ref - 1) < 0.02, (u, u_ref)
    if abs(p_ref) > 1.0:
        assert abs(p / p_ref - 1) < 0.02, (p, p_ref)
    # the measured temperature is the target one: per-record spread sqrt(2/3N) = 3.7%, ~15-20
    # independent records per run (KE decorrelates in ~1/(2 gamma)), so 1-sigma is ~1%
    assert abs(sol.temperature[keep].mean() / (temperature * LJ_TEMPERATURE_K) - 1) < 0.04


def test_free_langevin_particles_diffuse_as_einstein_predicts():
    """Non-interacting particles (epsilon = 0) under Langevin: D = kT / (m gamma) and
    VACF(t) = exp(-gamma t) exactly (Einstein 1905; Uhlenbeck & Ornstein 1930)."""
    gas = lj_fluid(cells=4, density=0.2, temperature=1.0, seed=3)   # 256 atoms
    gamma = 0.05                                          # 1/fs
    md = MolecularDynamics(gas, LennardJones(epsilon=0.0), steps=4000, save_every=10, thermo_every=100)
    sol = tk.solve(md, Langevin(dt=1.0, temperature=LJ_TEMPERATURE_K, friction=gamma, seed=2), progress=False)
    kt = KB_EV * LJ_TEMPERATURE_K
    d_exact = kt / (1.0 * gamma) * (0.09822694788464063 ** 2)   # Å^2/fs: kT/m in (Å/fs)^2 over gamma
    d = diffusion_coefficient(sol, start=50)
    # 256 particles x 4000 fs = 200 friction times: ~4% statistical error
    assert abs(d / d_exact - 1) < 0.1, (d, d_exact)
    t, c = vacf(sol, start=50)
    early = t <= 40
    assert np.allclose(c[early], np.exp(-gamma * t[early]), atol=0.05)
    lag, m = msd(sol, start=50)
    assert m[0] == 0 and np.all(np.diff(m[:20]) > 0)


def test_rdf_ideal_gas_is_one_and_liquid_has_a_first_peak():
    rng = np.random.default_rng(0)

    class Fake:      # an ideal gas: uniformly random frames
        pass
    fluid = lj_fluid(cells=4, density=0.8442, temperature=0.722)
    md = MolecularDynamics(fluid, LennardJones(), steps=600, save_every=100, thermo_every=100)
    sol = tk.solve(md, VelocityVerlet(dt=0.005 * TAU), progress=False)
    r, g = rdf(sol, bins=60, start=2)
    assert 2.4 < g.max() < 3.6 and 1.0 < r[np.argmax(g)] < 1.2    # first shell at ~1.1 sigma
    assert np.all(g[r < 0.8] == 0)
    box = np.diag(fluid.cell)
    fake = Fake()
    fake.problem = md
    fake.positions = rng.uniform(0, 1, (20, fluid.n_atoms, 3)) * box
    r, g = rdf(fake, bins=20)
    assert np.allclose(g[5:], 1.0, atol=0.12)


def test_green_kubo_recovers_a_known_integral():
    """An Ornstein-Uhlenbeck 'stress' with <s(0)s(t)> = A exp(-t/tc) has integral A tc; the
    estimator returns V/(kT) A tc within its own stated error."""
    rng = np.random.default_rng(1)
    n, dt, tc, amp = 200_000, 1.0, 20.0, 4e-6
    a = np.exp(-dt / tc)
    s = np.zeros((n, 3))
    noise = rng.standard_normal((n, 3)) * np.sqrt(amp * (1 - a * a))
    for k in range(1, n):
        s[k] = a * s[k - 1] + noise[k]
    tensor = np.zeros((n, 3, 3))
    tensor[:, 0, 1] = tensor[:, 1, 0] = s[:, 0]
    tensor[:, 0, 2] = tensor[:, 2, 0] = s[:, 1]
    tensor[:, 1, 2] = tensor[:, 2, 1] = s[:, 2]
    volume, temperature = 1000.0, 300.0
    est = green_kubo_viscosity(tensor=tensor, dt=dt, volume=volume, temperature=temperature, window=200.0,
                               blocks=20)
    # the discrete sum of a geometric series with the trapezoid rule: amp * dt * (1 + a)/(2(1 - a))
    exact = volume / (KB_EV * temperature) * amp * dt * (1 + a) / (2 * (1 - a))
    assert abs(est.value - exact) < 4 * est.error + 0.02 * exact
    assert 0 < est.error < 0.1 * exact
    c = autocorrelation(s[:, :1], 5)
    assert np.isclose(c[1] / c[0], a, atol=0.02)


def test_green_kubo_traceless_estimator_recovers_a_known_integral():
    """Isotropic synthetic stress: off-diagonal components OU with <s(0)s(t)> = A exp(-t/tc); the
    diagonal ones independent OU of variance 2A, so that each deviatoric diagonal component has
    the ACF (4/3) A exp(-t/tc) of an isotropic fluid. The five-component (Daivis-Evans)
    estimator returns the same integral as the off-diagonal one, with a smaller error."""
    rng = np.random.default_rng(2)
    n, dt, tc, amp = 100_000, 1.0, 20.0, 4e-6
    a = np.exp(-dt / tc)
    scale = np.sqrt(amp * (1 - a * a)) * np.array([1, 1, 1, np.sqrt(2), np.sqrt(2), np.sqrt(2)])
    noise = rng.standard_normal((n, 6)) * scale
    s = np.zeros((n, 6))
    s[0] = noise[0] / np.sqrt(1 - a * a)
    for k in range(1, n):
        s[k] = a * s[k - 1] + noise[k]
    tensor = np.zeros((n, 3, 3))
    tensor[:, 0, 1] = tensor[:, 1, 0] = s[:, 0]
    tensor[:, 0, 2] = tensor[:, 2, 0] = s[:, 1]
    tensor[:, 1, 2] = tensor[:, 2, 1] = s[:, 2]
    for d in range(3):
        tensor[:, d, d] = 5e-3 + s[:, 3 + d]     # a mean pressure drops out of the deviator
    volume, temperature = 1000.0, 300.0
    exact = volume / (KB_EV * temperature) * amp * dt * (1 + a) / (2 * (1 - a))
    off = green_kubo_viscosity(tensor=tensor, dt=dt, volume=volume, temperature=temperature, window=200.0,
                               blocks=20)
    full = green_kubo_viscosity(tensor=tensor, dt=dt, volume=volume, temperature=temperature, window=200.0,
                                blocks=20, components="traceless")
    assert abs(full.value - exact) < 4 * full.error + 0.02 * exact
    assert full.error < off.error
    with pytest.raises(ValueError, match="components"):
        green_kubo_viscosity(tensor=tensor, dt=dt, volume=volume, temperature=temperature, components="xy")


@pytest.mark.slow
def test_green_kubo_viscosity_at_the_triple_point_matches_ferrario(triple_point_nve):
    """Shear viscosity of the LJ liquid at rho* = 0.8442, T* = 0.722 against the Green-Kubo value
    eta* = 3.24 +- 0.04 of Ferrario, Ciccotti, Holian & Ryckaert, Phys. Rev. A 44, 6936 (1991),
    doi:10.1103/PhysRevA.44.6936 (N = 2048, 3.6e6 steps), within 5%.

    Design: the runs are the session fixture ``triple_point_nve`` (tests/molecule/conftest.py: two seeds, each
    N = 108, Nosé-Hoover equilibration, the energy set to the canonical mean, then NVE velocity Verlet,
    dt* = 0.005, 1.6e6 steps = 8000 tau, the stress tensor every 5 steps), shared with the transverse-current
    test of tests/molecule/test_hydrodynamics.py; the estimate pools the blocks of both runs. Choices:

    * The five components of the symmetric traceless stress (Daivis & Evans 1994) instead of
      three off-diagonal ones: error 2.0-2.9% instead of 3.0-4.1% at 600k steps.
    * Window 5 tau, 20 blocks of 400 tau. The running integral still rises after 2 tau (3 seeds at
      600k steps: 3.07 at 2 tau, 3.13 at 3, 3.19 at 4, 3.25 at 5 tau), so a short window is biased
      low by ~5%; at 1.6e6 steps the 5 tau value has settled (seeds 1 and 3: 3.296 +- 2.0% and
      3.140 +- 2.3% at 5 tau, 3.301 and 3.136 at 6 tau). At 8e5 steps and 4 tau seed 3 gave
      -4.6% with a 2.8% error: too thin a margin for a test, hence the longer run. One 8000-tau run still
      scatters by ~3% between realizations (seeds 1-3 on another CPU: 3.082, 3.305, 3.232; the CPU changes
      the rounding and so the trajectory): hence two runs (2026-12-06).
    The statistical error must be below 3% so that the 5% comparison means something.
    """
    for run in triple_point_nve:
        assert run.successful
        t_star = run.temperature.mean() / LJ_TEMPERATURE_K
        assert abs(t_star / 0.722 - 1) < 0.015, t_star
        drift = (run.total_energy[-1] - run.total_energy[0]) / 108
        assert abs(drift) < 0.02      # eps/atom over 1.6e6 steps (measured 2e-3 to 5e-3 over 6e5)
    eta = green_kubo_viscosity(list(triple_point_nve), window=5 * TAU, blocks=20, components="traceless")
    value, error = eta.value / TAU, eta.error / TAU          # reduced units: eV fs / A^3 / tau
    t_star = np.mean([run.temperature.mean() for run in triple_point_nve]) / LJ_TEMPERATURE_K
    print(f"eta* = {value:.3f} +- {error:.3f} at T* = {t_star:.4f} (Ferrario et al. 3.24 +- 0.04)")
    assert error / value < 0.03
    assert abs(value / 3.24 - 1) < 0.05

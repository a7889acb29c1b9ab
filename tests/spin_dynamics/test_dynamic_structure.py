"""The dynamic structure factor S(q, omega) (``solvers.spin_dynamics.dynamic_structure``): its sum rule
(Parseval, exact), the linear spin waves of the square-lattice ferromagnet, and refusal of runs
that are not deterministic."""

import numpy as np
import pytest

import toolkit as tk
from solvers.spin_dynamics import ImplicitMidpoint, SIB, classical_lattice
from solvers.spin_dynamics.dynamic_structure import dynamic_structure_factor, spin_amplitudes
from solvers.spin_dynamics.observables import structure_factor

L = 8


@pytest.fixture(scope="module")
def deterministic_runs():
    """Two square-lattice ferromagnets (E = J sum S_i.S_j, J = -1) equilibrated at kT = 0.02 by SIB, then
    run deterministically (temperature 0, damping 0) with the implicit midpoint rule: 512 frames
    0.2 apart (Nyquist 15.7 > the band top 8)."""
    runs = []
    for seed in (0, 1):
        hot = classical_lattice("square", (L, L), state="ferro", exchange=-1.0, temperature=0.02, damping=0.5,
                                dt=0.05, steps=400, save_every=400)
        warm = tk.solve(hot, SIB(seed=seed), progress=False)
        assert warm.retcode is tk.ReturnCode.Success
        cold = tk.remake(hot, spins=warm.spins[-1], temperature=0.0, damping=0.0, steps=2048, save_every=4)
        sol = tk.solve(cold, ImplicitMidpoint(), progress=False)
        assert sol.retcode is tk.ReturnCode.Success
        runs.append(sol)
    return runs


def test_the_frequency_sum_is_the_time_averaged_static_structure_factor(deterministic_runs):
    """Parseval: with the rectangular window and nothing subtracted, sum_omega S d omega / 2 pi equals the
    mean over frames of S(q) = |sum_i S_i e^{iq.r}|^2 / N, at every q of the grid, to round-off."""
    sol = deterministic_runs[0]
    sqw = dynamic_structure_factor(sol, components="all", window="boxcar", subtract_mean=False)
    p = sol.problem
    static = np.mean([structure_factor(f, p.positions, p.lattice_vectors, p.lattice_shape).ravel()
                      for f in sol.spins], axis=0)
    np.testing.assert_allclose(sqw.sum_rule(), static, rtol=1e-10, atol=1e-12)


def test_transverse_peaks_follow_the_linear_spin_wave_dispersion(deterministic_runs):
    """omega(q) = 2 |J| (2 - cos q_x - cos q_y) on the square lattice (module docstring). At kT = 0.02 |J|
    the spin waves soften by about kT / |J| ~ 2 %; the peak is within 2 frequency bins + 4 %."""
    sqw = dynamic_structure_factor(deterministic_runs, components="transverse")
    d_omega = sqw.omega[1] - sqw.omega[0]
    checked = 0
    for k, q in enumerate(sqw.q):
        exact = 2.0 * (2.0 - np.cos(q[0]) - np.cos(q[1]))
        if exact < 0.5:                                   # Gamma: no precession to resolve
            continue
        peak = abs(sqw.omega[int(np.argmax(sqw.values[k]))])
        assert abs(peak - exact) <= 2 * d_omega + 0.04 * exact, (q, peak, exact)
        checked += 1
    assert checked == L * L - 1
    assert sqw.runs == 2 and np.all(sqw.values >= 0)


def test_the_spin_waves_turn_one_way_only(deterministic_runs):
    """dS/dt = S x h turns the transverse components one way about the magnetisation: the spectral weight of
    A_x + i A_y sits at one sign of omega (measured 0.9999 at omega > 0 for a magnetisation along +z), not at
    both as for a real oscillation; and the transverse S is the sum of the x and y ones."""
    sol = deterministic_runs[0]
    assert sol.spins[-1].mean(axis=0)[2] > 0.95
    q = np.array([[np.pi / 4, np.pi / 4], [3 * np.pi / 4, np.pi / 2]])
    amp = spin_amplitudes(sol.spins - sol.spins.mean(axis=0), sol.problem.positions, q)
    circular = np.fft.ifft(amp[:, :, 0] + 1j * amp[:, :, 1], axis=0)
    omega = 2 * np.pi * np.fft.fftfreq(len(sol.time), sol.time[1] - sol.time[0])
    share = (np.abs(circular[omega > 0]) ** 2).sum(axis=0) / (np.abs(circular) ** 2).sum(axis=0)
    assert np.all(share > 0.99), share
    sqw_x = dynamic_structure_factor(sol, components="x")
    sqw_t = dynamic_structure_factor(sol, components="transverse")
    np.testing.assert_allclose(sqw_t.values, sqw_x.values + dynamic_structure_factor(sol, components="y").values)
    assert sqw_t.values.shape == (L * L, len(sol.time))


def test_runs_with_a_bath_or_too_few_frames_are_refused():
    hot = classical_lattice("square", (4, 4), state="ferro", exchange=-1.0, temperature=0.1, damping=0.5,
                            steps=20, save_every=1)
    sol = tk.solve(hot, SIB(seed=0), progress=False)
    with pytest.raises(ValueError, match="deterministic"):
        dynamic_structure_factor(sol)
    short = tk.solve(tk.remake(hot, temperature=0.0, damping=0.0, steps=2, save_every=1), ImplicitMidpoint(),
                     progress=False)
    with pytest.raises(ValueError, match="at least 4"):
        dynamic_structure_factor(short)
    cold = tk.solve(tk.remake(hot, temperature=0.0, damping=0.0), ImplicitMidpoint(), progress=False)
    with pytest.raises(ValueError, match="components"):
        dynamic_structure_factor(cold, components="xz")
    with pytest.raises(ValueError, match="q has 3 components"):
        dynamic_structure_factor(cold, q=np.zeros((2, 3)))

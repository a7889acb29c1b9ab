"""Learned collision rates: the free TRT/MRT rates fitted to a target shear-mode dispersion."""

import numpy as np
import pytest

import toolkit as tk
from solvers.lattice_boltzmann import BGK, MRT, TRT
from solvers.lattice_boltzmann.rate_fit import fit_relaxation_rates, model_decay_rates
from solvers.lattice_boltzmann.shear_wave import measure_shear_wave

NU = 0.05
K = np.array([0.3, 0.7, 1.0])


@pytest.mark.parametrize("name", ["D2Q9", "D3Q19"])
@pytest.mark.parametrize("magic", [0.02, 0.1, 0.6])
def test_trt_recovers_the_magic_parameter_of_its_targets(name, magic):
    """Targets made by TRT(Λ) at kΔx = 0.3, 0.7, 1.0: the fit returns Λ (1e-6 relative) and matches
    every target within 1e-6 (measured ~2e-8); ω stays 1/(3ν + 1/2)."""
    target = model_decay_rates(TRT(magic=magic), K, lattice_name=name, viscosity=NU)
    fit = fit_relaxation_rates(name, "TRT", NU, K, target)
    assert fit.rates["magic"] == pytest.approx(magic, rel=1e-6)
    assert isinstance(fit.solver, TRT) and fit.solver.magic == pytest.approx(magic, rel=1e-6)
    assert np.abs(fit.residuals).max() < 1e-6
    assert fit.omega == pytest.approx(1 / (3 * NU + 0.5))
    assert fit.max_amplification <= 1 + 1e-9


def test_mrt_recovers_the_energy_flux_rate_and_keeps_unseen_rates():
    """D2Q9, waves along x: the shear mode couples only to the energy flux q (s_q); the fit recovers
    s_q and leaves s_e, s_ε (which it cannot see) at Lallemand & Luo's values."""
    target = model_decay_rates(MRT(s_q=1.0), K, viscosity=NU)
    fit = fit_relaxation_rates("D2Q9", "MRT", NU, K, target)
    assert fit.rates["s_q"] == pytest.approx(1.0, rel=1e-5)
    assert fit.rates["s_e"] == pytest.approx(1.64, abs=1e-6) and fit.rates["s_eps"] == pytest.approx(1.54, abs=1e-6)
    assert isinstance(fit.solver, MRT) and np.abs(fit.residuals).max() < 1e-6


def test_mrt_d3q19_matches_targets_it_can_reach():
    """D3Q19: two odd rates (s_q, s_m) move the shear mode, so the rates are not unique, but the
    fitted model matches the three targets (1e-5)."""
    target = model_decay_rates(MRT(s_q=1.0, s_m=1.2), K, lattice_name="D3Q19", viscosity=NU)
    fit = fit_relaxation_rates("D3Q19", "MRT", NU, K, target)
    assert np.abs(fit.residuals).max() < 1e-5 and fit.max_amplification <= 1 + 1e-9


def test_the_fitted_solver_runs_and_decays_at_the_target():
    """The returned solver, run on a real shear wave (kΔx = 2π/6), decays at the target rate."""
    k = 2 * np.pi / np.array([16, 6])
    target = model_decay_rates(TRT(magic=0.05), k, viscosity=NU)
    fit = fit_relaxation_rates("D2Q9", "TRT", NU, k, target)
    m = measure_shear_wave(fit.solver, n=6, viscosity=NU)
    assert m.rate == pytest.approx(target[1], rel=1e-6)


def test_bgk_cannot_match_what_the_fitted_models_match():
    """BGK has no free rate: at fixed ν its decay at kΔx = 1 is 2.4 % off targets that TRT and MRT
    fitted match to 1e-6."""
    target = model_decay_rates(TRT(magic=0.1), K, viscosity=NU)
    bgk = model_decay_rates(BGK(), K, viscosity=NU) / target - 1
    assert abs(bgk[-1]) > 0.02
    for scheme in ("TRT", "MRT"):
        assert np.abs(fit_relaxation_rates("D2Q9", scheme, NU, K, target).residuals).max() < 1e-6
    with pytest.raises(tk.InvalidProblemError, match="no stable TRT"):
        fit_relaxation_rates("D2Q9", "TRT", NU, K, model_decay_rates(BGK(), K, viscosity=0.9 * NU))


def test_errors_widen_the_acceptance():
    """With error bars a target is matched within its error: the BGK-like targets above are
    refused at 1e-3 relative but accepted with 3 % errors."""
    target = model_decay_rates(TRT(magic=0.1), K, viscosity=NU) * np.array([1.0, 1.01, 0.99])
    with pytest.raises(tk.InvalidProblemError, match="0.001 relative"):
        fit_relaxation_rates("D2Q9", "TRT", NU, K, target)
    fit = fit_relaxation_rates("D2Q9", "TRT", NU, K, target, errors=0.03 * target)
    assert np.all(np.abs(fit.model - target) <= 0.03 * target)


def test_unattainable_and_bad_targets_are_refused_with_advice():
    k = np.array([0.4, 1.0])
    with pytest.raises(tk.InvalidProblemError, match="omega_minus reached the edge"):
        fit_relaxation_rates("D2Q9", "TRT", NU, k, 1.3 * NU * k ** 2)
    with pytest.raises(tk.InvalidProblemError, match="target_rates"):
        fit_relaxation_rates("D2Q9", "TRT", NU, k, [-1.0, 0.01])
    with pytest.raises(tk.InvalidProblemError, match="target_rates"):
        fit_relaxation_rates("D2Q9", "TRT", NU, k, [0.01, np.nan])
    with pytest.raises(tk.InvalidProblemError, match="target_rates"):
        fit_relaxation_rates("D2Q9", "TRT", NU, k, [0.01])
    with pytest.raises(tk.InvalidProblemError, match="per step"):
        fit_relaxation_rates("D2Q9", "TRT", NU, k, [0.5, 2.0])
    with pytest.raises(tk.InvalidProblemError, match="scheme"):
        fit_relaxation_rates("D2Q9", "BGK", NU, k, NU * k ** 2)
    with pytest.raises(tk.InvalidProblemError, match="D3Q27"):
        fit_relaxation_rates("D3Q27", "MRT", NU, k, NU * k ** 2)
    with pytest.raises(tk.InvalidProblemError, match="k_dx"):
        fit_relaxation_rates("D2Q9", "TRT", NU, [0.0, 1.0], NU * k ** 2)

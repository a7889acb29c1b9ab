"""Rate-and-state slider: steady-state friction, the stick-slip threshold, checkpoints."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import toolkit as tk
from problems.strain_signal import StickSlipExperiment, critical_stiffness
from solvers.strain_signal import SliderODE

QUIET = dict(perturbation=0.0, sampling_rate=1e3, emission_frequency=1e2, emission_decay=3e-3, spinup=1)


def test_critical_stiffness_formula():
    p = StickSlipExperiment()
    assert p.critical_stiffness == pytest.approx(p.sigma * (p.b - p.a) / p.d_c, rel=1e-15)
    # radiation damping lowers k_c by eta v / D_c (linear stability of the quasi-dynamic slider)
    assert critical_stiffness(5e6, 0.004, 0.008, 1e-5, eta=2.5e4, v_load=1e-3) == pytest.approx(2e9 - 2.5e6)


@settings(max_examples=4, deadline=None)
@given(v_load=st.floats(2e-4, 3e-3), stiffness=st.floats(1.5, 4.0))
def test_steady_state_friction(v_load, stiffness):
    """Above k_c the slider settles to mu_ss = mu0 + (a - b) ln(V/V0) at V = v_load.

    Tolerance 1e-6 on mu: the solver's rtol is 1e-8 and the perturbation decays as exp(-t v/D_c)
    over t v / D_c >= 50 relaxation lengths.
    """
    p = StickSlipExperiment(stiffness=stiffness, v_load=v_load, failure_slip_rate=100 * v_load,
                            steps=12, interval=60 * 1e-5 / v_load / 12, **QUIET)
    sol = tk.solve(p, SliderODE(), progress=False)
    assert sol.successful and sol.failure_times.size == 0
    assert sol.friction[-1] == pytest.approx(p.steady_friction(v_load), abs=1e-6)
    assert sol.slip_rate[-1] == pytest.approx(v_load, rel=1e-3)
    assert np.all(np.diff(sol.slip) >= 0)


@pytest.mark.parametrize("ratio, stick_slip", [(0.7, True), (1.3, False)])
def test_stick_slip_threshold(ratio, stick_slip):
    """Below k_c = sigma (b - a)/D_c the slider sticks and slips; above it steady sliding is stable."""
    p = StickSlipExperiment(stiffness=ratio, steps=40, **QUIET)
    sol = tk.solve(p, SliderODE(), progress=False)
    late = sol.slip_rate[sol.times > p.duration / 2] / p.v_load
    if stick_slip:
        assert late.max() > 100 and late.min() < 0.1 and sol.failure_times.size >= 3
    else:
        assert np.abs(np.log(late)).max() < 1e-2 and sol.failure_times.size == 0


def test_stick_slip_record_is_labelled_and_aperiodic():
    p = StickSlipExperiment.example(1)
    sol = tk.solve(tk.remake(p, steps=40), SliderODE(), progress=False)
    sig = sol.signal()
    assert sol.failure_times.size >= 4
    assert np.std(sol.recurrence_times) / np.mean(sol.recurrence_times) > 0.02   # aperiodic cycles
    assert sig.time_to_failure is not None and sig.time_to_failure.min() > 0
    assert np.all(sig.samples == np.round(sig.samples))   # ADC counts
    starts = sig.cycle_starts()
    assert starts.size == sol.failure_times[sol.failure_times > p.spinup * p.interval].size - 1
    # shear stress drops at every failure
    t = sol.times
    for tf in sol.failure_times[1:-1]:
        before = sol.shear_stress[(t > tf - 0.02) & (t < tf)].max()
        after = sol.shear_stress[(t > tf) & (t < tf + 0.02)].min()
        assert after < before
    xr = sol.to_xarray()
    assert xr["samples"].dims == ("sample",)


def test_checkpoint_resume_is_bit_identical(tmp_path):
    p = StickSlipExperiment.example(2)
    full = tk.solve(p, SliderODE(), progress=False)
    integ = tk.init(p, SliderODE(), progress=False)
    integ.step(7)
    integ.checkpoint(tmp_path / "slider.nc")
    resumed = tk.resume(tmp_path / "slider.nc", progress=False)
    resumed.run()
    again = resumed.solution()
    for name in ("times", "slip_rate", "state", "failure_times", "samples", "time_to_failure"):
        np.testing.assert_array_equal(getattr(again, name), getattr(full, name), err_msg=name)


@pytest.mark.parametrize("field, value", [("a", -0.1), ("d_c", 0.0), ("steps", 0), ("perturbation", 3.0),
                                          ("failure_slip_rate", 1e-4), ("spinup", 100),
                                          ("emission_frequency", 6e5), ("b_value", 0.0), ("b_value_slope", -0.1)])
def test_bad_experiment_names_field(field, value):
    with pytest.raises(tk.InvalidProblemError, match=field):
        StickSlipExperiment(**{field: value})


def test_bad_solver_names_field():
    with pytest.raises(tk.InvalidSolverError, match="method"):
        SliderODE(method="Euler")
    with pytest.raises(tk.InvalidSolverError, match="rtol"):
        SliderODE(rtol=0.5)


@pytest.mark.parametrize("method", ["Radau", "BDF"])
def test_stiff_methods_agree(method):
    p = tk.remake(StickSlipExperiment.example(0), steps=10)
    ref = tk.solve(p, SliderODE(), progress=False)
    other = tk.solve(p, SliderODE(method=method, rtol=1e-9, atol=1e-10), progress=False)
    # failure times agree to the event-location accuracy (~1e-6 s at these tolerances)
    np.testing.assert_allclose(other.failure_times, ref.failure_times, atol=1e-5)


def test_solver_failure_is_unstable_not_nan(monkeypatch):
    """A failed ODE step ends the run with ReturnCode.Unstable at that load interval, no NaN fields."""
    import solvers.strain_signal.slider as slider

    real = slider.solve_ivp
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        sol = real(*args, **kwargs)
        if len(calls) == 5:
            sol.success, sol.message = False, "step size became too small"
        return sol

    monkeypatch.setattr(slider, "solve_ivp", flaky)
    sol = tk.solve(StickSlipExperiment.example(0), SliderODE(), progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable and "interval 4" in sol.message
    assert sol.stats["unstable_step"] == 5
    assert np.all(np.isfinite(sol.slip_rate)) and np.all(np.isfinite(sol.samples))
    calls.clear()
    with pytest.raises(tk.UnstableError):
        tk.solve(StickSlipExperiment.example(0), SliderODE(), progress=False, strict=True)


def test_record_streams_to_a_lab_file(tmp_path):
    """``write_record`` streams the record into the int16/float32 lab layout, equal to the in-memory one."""
    p = tk.remake(StickSlipExperiment.example(1), steps=24)
    sol = tk.solve(p, SliderODE(), progress=False)
    sig = sol.write_record(tmp_path / "run.bin")
    assert sig.samples.dtype == np.int16 and sig.n_samples == sol.samples.size
    np.testing.assert_array_equal(np.asarray(sig.samples), sol.samples)
    np.testing.assert_allclose(np.asarray(sig.time_to_failure), sol.time_to_failure, rtol=1e-6)   # float32
    lean = tk.solve(p, SliderODE(record=False), progress=False)
    assert lean.samples.size == 0 and lean.time_to_failure.size == 0
    again = lean.write_record(tmp_path / "lean.bin")
    np.testing.assert_array_equal(np.asarray(again.samples), sol.samples)
    with pytest.raises(tk.InvalidSolverError, match="record"):
        SliderODE(record="yes")

"""Issue 17 for the strain-signal family: crafted checkpoints, validity monitoring, absurd sizes,
and extreme values in every field of every strain-signal type (a property test that introspects
the dataclass fields, so a new field or type is covered automatically)."""

import dataclasses
import inspect
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import problems.strain_signal as pss
import solvers.strain_signal as sss
import toolkit as tk
from problems.strain_signal import StickSlipExperiment, StrainSignal, TimeToFailure
from solvers.strain_signal import CNN1D, GradientBoosting, RandomForest, SliderODE, WindowFeatures
from solvers.strain_signal import memory
from toolkit.io import read_record, write_record

TINY = dict(steps=3, spinup=1, sampling_rate=2e3, emission_rate=8e3, emission_frequency=5e2, emission_decay=5e-4)
QUIET = dict(perturbation=0.0, sampling_rate=1e3, emission_frequency=1e2, emission_decay=3e-3, spinup=1)


# ---------------------------------------------------------------------------------------------
# 17.3: a checkpoint that does not fit its problem is refused

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("slider") / "slider.nc"
    integ = tk.init(StickSlipExperiment.example(2), SliderODE(), progress=False)
    integ.step(7)
    integ.checkpoint(path)
    return path


def _rewrite(src, dst, change):
    record, attrs = read_record(src, "checkpoint")
    change(record)
    write_record(dst, "checkpoint", record, {"step": attrs.get("step", 0)})
    return dst


def test_rewritten_but_unchanged_checkpoint_still_resumes(checkpoint, tmp_path):
    """Control: read_record + write_record alone leaves a checkpoint that resumes to the full run."""
    path = _rewrite(checkpoint, tmp_path / "same.nc", lambda r: None)
    full = tk.solve(StickSlipExperiment.example(2), SliderODE(), progress=False)
    resumed = tk.resume(path, progress=False)
    resumed.run()
    np.testing.assert_array_equal(resumed.solution().slip_rate, full.slip_rate)


def _set(key, value):
    def change(record):
        record["state"][key] = value(record["state"][key]) if callable(value) else value
    return change


CRAFTED = [
    ("grid with 3 rows", _set("grid", lambda g: g[:3]), "grid"),
    ("grid cut mid-interval", _set("grid", lambda g: g[:, :-1]), "grid"),
    ("grid of another problem's times", _set("grid", lambda g: g * np.array([[2.0], [1], [1], [1]])), "times"),
    ("grid holding NaN", _set("grid", lambda g: np.where(np.arange(g.shape[1]) == 5, np.nan, g)), "NaN"),
    ("grid of integers", _set("grid", lambda g: g.astype(np.int64)), "float64"),
    ("grid of more intervals than steps", _set("grid", lambda g: np.hstack([g] * 3)), "grid"),
    ("y of 4 values", _set("y", lambda y: np.append(y, 0.0)), "shape"),
    ("y as a list", _set("y", [0.0, 1.0, 2.0]), "y"),
    ("y overflowing the slip rate", _set("y", lambda y: np.array([800.0, y[1], y[2]])), "slip rate"),
    ("failures out of order", _set("failures", np.array([0.3, 0.1])), "failures"),
    ("failures after the last interval", _set("failures", np.array([100.0])), "failures"),
    ("failures as a 2-D array", _set("failures", np.zeros((2, 2))), "failures"),
    ("state without grid", lambda r: r["state"].pop("grid"), "grid"),
    ("step_index behind the history", lambda r: r.__setitem__("step_index", 3), "step_index"),
]


@pytest.mark.parametrize("what, change, named", CRAFTED, ids=[c[0] for c in CRAFTED])
def test_crafted_checkpoint_is_refused(checkpoint, tmp_path, what, change, named):
    path = _rewrite(checkpoint, tmp_path / "crafted.nc", change)
    with pytest.raises(tk.FileFormatError, match=named):
        tk.resume(path, progress=False)


# ---------------------------------------------------------------------------------------------
# 17.5: no wrong result is Success, no NaN handed back

def _finite_fields(sol) -> bool:
    return all(np.all(np.isfinite(getattr(sol, f.name))) for f in dataclasses.fields(sol)
               if isinstance(getattr(sol, f.name), np.ndarray) and getattr(sol, f.name).dtype.kind == "f")


@pytest.mark.parametrize("field, value", [("noise", 1e308), ("emission_amplitude", 1e308),
                                          ("amplitude_exponent", 1e12), ("mu0", 1e308), ("sigma", 1e308),
                                          ("d_c", 1e308), ("b_value", 5e-324), ("max_amplitude_ratio", 1e308)])
def test_absurd_experiment_values_are_refused_up_front(field, value):
    with pytest.raises(tk.InvalidProblemError, match=field):
        StickSlipExperiment(**{field: value})


def test_blow_up_without_radiation_damping_stops_unstable_with_the_step():
    """eta = 0: the quasi-static slider's slip rate blows up in finite time at the first lab-quake."""
    sol = tk.solve(StickSlipExperiment(eta=0.0, steps=10, **QUIET), SliderODE(), progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable and "load interval" in sol.message
    step = sol.stats["unstable_step"]
    assert 1 <= step <= 10 and f"step {step}" in sol.message
    assert _finite_fields(sol) and sol.times.size == (step - 1) * SliderODE().points_per_interval(sol.problem)


def test_record_overflow_is_unstable_and_empty(monkeypatch):
    import solvers.strain_signal.slider as slider

    real = slider._stream_record

    def overflowing(p, times, v, mu, layout, samples, ttf, **kw):
        real(p, times, v, mu, layout, samples, ttf, **kw)
        samples[samples.size // 2] = np.inf

    monkeypatch.setattr(slider, "_stream_record", overflowing)
    sol = tk.solve(StickSlipExperiment.example(0), SliderODE(), progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable and "acoustic record overflows" in sol.message
    assert sol.samples.size == 0 and sol.time_to_failure.size == 0 and _finite_fields(sol)


def test_diverging_network_is_unstable_at_its_epoch(monkeypatch):
    import solvers.strain_signal.cnn as cnn

    real = cnn._network

    def nan_net(torch, channels, kernel):
        net = real(torch, channels, kernel)
        with torch.no_grad():
            net.head.bias.fill_(float("nan"))
        return net

    monkeypatch.setattr(cnn, "_network", nan_net)
    sol = tk.solve(TimeToFailure.example(0), CNN1D(channels=2, epochs=2))
    assert sol.retcode is tk.ReturnCode.Unstable and "epoch 1" in sol.message
    assert sol.stats["unstable_step"] == 1 and sol.predicted.size == 0 and _finite_fields(sol)


def test_non_finite_features_fail_cleanly(monkeypatch):
    import solvers.strain_signal.trees as trees

    real = trees.feature_matrix
    monkeypatch.setattr(trees, "feature_matrix", lambda *a, **k: np.full_like(real(*a, **k), np.inf))
    sol = tk.solve(TimeToFailure.example(0), RandomForest(trees=2))
    assert sol.retcode is tk.ReturnCode.Failure and "window ending at sample" in sol.message
    assert sol.predicted.size == 0 and _finite_fields(sol)


def test_tiny_variance_windows_give_finite_features():
    """var ~ 1e-200 underflows var**1.5 and var**2: skewness and kurtosis are 0, as in the reference."""
    x = np.random.default_rng(0).normal(size=256) * 1e-100
    feats = WindowFeatures()
    got = sss.window_features(x, np.array([128, 256]), 128, feats)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got[:, 2:4], sss.reference_features(x, np.array([128, 256]), 128, feats)[:, 2:4])


# ---------------------------------------------------------------------------------------------
# 17.6: runs that cannot finish, integer fields reaching C code, absurd sizes

@pytest.mark.parametrize("field, value", [("a", 5e-324), ("d_c", 1e-45), ("interval", 5e-324), ("steps", 10 ** 12),
                                          ("seed", 2 ** 63), ("emission_decay", 1e308), ("b", 0.001)])
def test_runs_that_cannot_finish_are_refused(field, value):
    with pytest.raises(tk.InvalidProblemError, match=field):
        StickSlipExperiment(**{field: value})


def test_too_stiff_interval_stops_within_its_evaluation_budget():
    p = StickSlipExperiment(d_c=2e-9, steps=2, **QUIET)   # 5e4 relaxation lengths in one interval
    sol = tk.solve(p, SliderODE(max_evaluations=2000), progress=False)
    assert sol.retcode is tk.ReturnCode.Unstable and "max_evaluations = 2000" in sol.message
    assert sol.stats["unstable_step"] == 1 and _finite_fields(sol)


@pytest.mark.parametrize("solver, field", [
    (lambda: RandomForest(trees=10 ** 12), "trees"), (lambda: RandomForest(seed=2 ** 32), "seed"),
    (lambda: RandomForest(threads=10 ** 12), "threads"), (lambda: RandomForest(max_depth=2 ** 63), "max_depth"),
    (lambda: RandomForest(min_samples_leaf=2 ** 63 - 1), "min_samples_leaf"),
    (lambda: GradientBoosting(iterations=2 ** 63), "iterations"),
    (lambda: GradientBoosting(max_leaf_nodes=10 ** 12), "max_leaf_nodes"),
    (lambda: CNN1D(epochs=10 ** 12), "epochs"), (lambda: CNN1D(threads=2 ** 63), "threads"),
    (lambda: WindowFeatures(lags=(2 ** 63 - 1,)), "lags"), (lambda: SliderODE(max_evaluations=10 ** 12), "max_evaluations"),
])
def test_integers_reaching_c_code_are_range_checked(solver, field):
    with pytest.raises(tk.InvalidSolverError, match=field):
        solver()


def test_absurd_output_rate_is_refused_with_a_memory_estimate():
    with pytest.raises(tk.InvalidSolverError, match=r"output_rate.*needs about .* available"):
        tk.init(StickSlipExperiment(), SliderODE(output_rate=1e12))


def test_record_larger_than_memory_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 40 << 20)
    p = StickSlipExperiment()   # 4.5e6 samples: 72 MB of record and labels
    with pytest.raises(tk.InvalidProblemError, match=r"needs about .* MiB but 40 MiB .*record=False"):
        tk.init(p, SliderODE())
    tk.init(p, SliderODE(record=False))   # streaming to a file fits
    assert SliderODE().memory_estimate(p) > 40 << 20 > SliderODE(record=False).memory_estimate(p)


def test_cnn_windows_larger_than_memory_are_refused(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 1000)
    with pytest.raises(tk.InvalidProblemError, match="windows"):
        tk.solve(TimeToFailure.example(0), CNN1D(channels=2, epochs=1))


# ---------------------------------------------------------------------------------------------
# 17.7: every bad value is a clear error naming the field

@pytest.mark.parametrize("kwargs, field", [
    (dict(bands=0), "bands"), (dict(bands=None), "bands"), (dict(bands=[[0.1, 0.5], [0.5]]), "bands"),
    (dict(quantiles=[[0.1, 0.5], [0.5]]), "quantiles"), (dict(thresholds="2"), "thresholds"),
    (dict(lags={1: 2}), "lags"), (dict(band_order=1.0), "band_order"), (dict(peak_heights=float("nan")), "peak_heights"),
])
def test_window_features_errors_name_the_field(kwargs, field):
    with pytest.raises(tk.InvalidSolverError, match=field):
        WindowFeatures(**kwargs)


def test_ragged_signal_and_huge_values_name_the_field():
    with pytest.raises(tk.InvalidProblemError, match="samples"):
        StrainSignal(samples=[[0.1, 0.5], [0.5]], sampling_rate=1.0)
    s = StrainSignal.example(0)
    with pytest.raises(tk.InvalidProblemError, match="samples"):
        TimeToFailure(signal=tk.remake(s, samples=s.samples * 1e300), window=64, stride=32, test_cycles=1)
    with pytest.raises(tk.InvalidProblemError, match="stride"):
        TimeToFailure(signal=s, window=64, stride=2 ** 63, test_cycles=1)


def _types(*modules, base):
    found = {obj for mod in modules for _, obj in inspect.getmembers(mod, inspect.isclass)
             if issubclass(obj, base) and obj.__module__.startswith(mod.__name__.split(".")[0] + ".strain_signal")}
    return sorted(found, key=lambda c: c.__name__)


TYPES = _types(pss, sss, base=tk.Struct)


def _tiny_signal():
    return StrainSignal.example(0)


# How each type is built at a tiny size around one changed field, and what it is solved with.
def _pair(cls, changes):
    if cls is StickSlipExperiment:
        return StickSlipExperiment(**{**TINY, **changes}), SliderODE(output_rate=200.0, max_evaluations=3000)
    if cls is StrainSignal:
        s = _tiny_signal()
        sig = StrainSignal(**{**dict(samples=s.samples, sampling_rate=s.sampling_rate,
                                     time_to_failure=s.time_to_failure), **changes})
        return TimeToFailure(signal=sig, window=64, stride=32, test_cycles=1), RandomForest(trees=2)
    if cls is TimeToFailure:
        return TimeToFailure(**{**dict(signal=_tiny_signal(), window=64, stride=32, test_cycles=1), **changes}), \
            RandomForest(trees=2)
    if cls is SliderODE:
        return StickSlipExperiment(**TINY), SliderODE(**{**dict(output_rate=200.0, max_evaluations=3000), **changes})
    if cls is WindowFeatures:
        return TimeToFailure.example(0), RandomForest(trees=2, features=WindowFeatures(**changes))
    tiny = {RandomForest: dict(trees=2), GradientBoosting: dict(iterations=2), CNN1D: dict(channels=2, epochs=1)}
    return TimeToFailure.example(0), cls(**{**tiny[cls], **changes})


def test_every_strain_signal_type_has_a_tiny_pair():
    """A new problem, solver or component type must be added to ``_pair`` (so the property test covers it)."""
    assert {c.__name__ for c in TYPES} >= {"StickSlipExperiment", "StrainSignal", "TimeToFailure", "SliderODE",
                                           "WindowFeatures", "RandomForest", "GradientBoosting", "CNN1D"}
    for cls in TYPES:
        problem, solver = _pair(cls, {})
        assert isinstance(problem, tk.Problem) and isinstance(solver, tk.Solver)


EXTREMES = st.one_of(
    st.sampled_from([5e-324, -5e-324, 1e308, -1e308, 2 ** 63, -2 ** 63, 2 ** 63 - 1, 2 ** 64, 10 ** 12, -10 ** 12, 0,
                     0.0, -0.0, -1, 1, 2, float("nan"), float("inf"), -float("inf"), "", "1", "false", [], (), {}, set(),
                     None, True, False, 1 + 1j, np.int64(2 ** 62), np.uint64(2 ** 64 - 1), np.float32(1e-45),
                     np.array([]), np.zeros((2, 2)), [0], [1e308, 5e-324], [[0.1, 0.5], [0.5]], ((0.1,),),
                     [float("nan")], [2 ** 63], ((0.1, 0.2),), object()]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-2 ** 65, max_value=2 ** 65),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=3),
)

#: Valid values this large mean a long (not a wrong) run: construction is checked, the solve skipped.
WORK = {"trees": 20, "iterations": 20, "epochs": 3, "steps": 12, "channels": 16, "kernel": 65}


def _small_enough(problem, solver, field, value) -> bool:
    if field in WORK and isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > WORK[field]:
        return False
    if isinstance(problem, StickSlipExperiment):
        samples = (problem.steps - problem.spinup) * problem.interval * problem.sampling_rate
        if samples > 2e5 or problem.emission_decay * problem.sampling_rate > 50:
            return False
    return solver.memory_estimate(problem) < 64 << 20


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
def test_extreme_values_in_every_field_are_refused_by_name_or_solved_cleanly(cls):
    fields = [f.name for f in dataclasses.fields(cls) if f.init]

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(field=st.sampled_from(fields), value=EXTREMES)
    def check(field, value):
        try:
            if cls is StrainSignal:   # the signal itself, then the prediction problem posed on it
                s = _tiny_signal()
                StrainSignal(**{**dict(samples=s.samples, sampling_rate=s.sampling_rate,
                                       time_to_failure=s.time_to_failure), field: value})
        except (tk.InvalidProblemError, tk.InvalidSolverError) as exc:
            assert isinstance(exc, ValueError) and field in str(exc), f"{field} = {value!r}: {exc}"
            return
        try:
            problem, solver = _pair(cls, {field: value})
        except (tk.InvalidProblemError, tk.InvalidSolverError) as exc:
            assert isinstance(exc, ValueError), f"{field} = {value!r}: {exc!r}"
            assert cls is StrainSignal or field in str(exc), f"{field} = {value!r}: {exc}"
            return
        if not _small_enough(problem, solver, field, value):
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sol = tk.solve(problem, solver, progress=False) if isinstance(problem, tk.TimeProblem) \
                else tk.solve(problem, solver)
        assert isinstance(sol, tk.Solution)
        assert _finite_fields(sol), f"{field} = {value!r} gave NaN fields ({sol.retcode}: {sol.message})"
        if not sol.successful:
            assert sol.message

    check()


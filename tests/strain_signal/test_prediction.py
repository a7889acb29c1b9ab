"""Time-to-failure prediction on synthetic experiments, split by whole slip cycles."""

import numpy as np
import pytest

import toolkit as tk
from problems.strain_signal import TimeToFailure
from solvers.strain_signal import CNN1D, GradientBoosting, RandomForest, synthetic_prediction
from solvers.strain_signal.prediction import split_windows


@pytest.fixture(scope="module")
def experiment():
    # 1 MHz, 160 intervals of 50 ms: ~7e6 samples and ~27 usable cycles of ~0.25 s (time-compressed
    # 200-fold, see StickSlipExperiment); windows of 20,000 samples (20 ms) every 10,000; the last
    # 5 cycles held out, ~20 for training
    return synthetic_prediction(sampling_rate=1e6, steps=160, window=20_000, stride=10_000, test_cycles=5, seed=1)


def test_random_forest_predicts_held_out_cycles(experiment):
    """Rouet-Leduc et al. (2017): R^2 = 0.89 on lab data, variance the top feature.

    The synthetic acceptance bar is R^2 >= 0.85 on 5 held-out cycles, with the variance among the
    three most important features. Spread at these settings (``python benchmarks/quake.py
    --seeds 20``, experiment seeds 0-19): R^2 0.855-0.950 (median 0.922), all >= 0.85; the
    variance ranked 2nd-4th, in the top three for 18 of 20 seeds (it shares the acoustic power
    with the exceedance count ``exceed2``, always first, and the band powers); shuffled-label
    R^2 <= 0.05. This test uses seed 1, the seed it had before these settings were chosen.
    """
    sol = tk.solve(experiment, RandomForest())
    assert sol.successful
    assert sol.r2 >= 0.85, sol.r2
    assert "var" in sol.top_features(3), sol.top_features(5)
    assert sol.predicted.shape == sol.true.shape and sol.mae < 0.05
    assert experiment.signal.sampling_rate >= 1e6                       # a MHz-class record
    assert sol.stats["train_windows"] > 4 * sol.stats["test_windows"]     # >= 20 training cycles for 5 test


def test_shuffled_labels_destroy_skill(experiment):
    """Control: labels permuted across the training cycles leave nothing to learn (R^2 <= 0.1)."""
    sol = tk.solve(tk.remake(experiment, shuffle_labels=True), RandomForest())
    assert sol.r2 <= 0.1, sol.r2


def test_split_is_by_whole_cycles(experiment):
    ends, cycles, labels, test = split_windows(experiment)
    assert set(cycles[test]).isdisjoint(set(cycles[~test]))
    assert sorted(set(cycles[test])) == sorted(experiment.test_cycle_set().tolist())
    bounds = experiment.cycle_bounds()
    # no window straddles a failure
    assert np.all(ends - experiment.window >= bounds[cycles, 0]) and np.all(ends <= bounds[cycles, 1])
    np.testing.assert_array_equal(labels, experiment.signal.time_to_failure[ends - 1])


def test_gradient_boosting_and_cnn_have_skill(experiment):
    gb = tk.solve(experiment, GradientBoosting())
    assert gb.r2 > 0.7, gb.r2
    small = tk.remake(experiment, window=2048, stride=8192)     # ~660 raw 2 ms windows for the CNN
    cnn = tk.solve(small, CNN1D(epochs=15))
    assert cnn.successful and cnn.r2 > 0.3, cnn.r2
    assert cnn.feature_importances.size == 0


def test_solution_plot_and_xarray(experiment):
    import matplotlib

    matplotlib.use("Agg")
    sol = tk.solve(TimeToFailure.example(0), RandomForest.example())
    ax = sol.plot()
    assert ax.get_ylabel() == "time to failure [s]"
    ds = sol.to_xarray()
    assert ds["predicted"].dims == ("window",) and "r2" in ds.attrs


def test_test_cycles_as_indices():
    p = TimeToFailure.example(1)
    q = tk.remake(p, test_cycles=[1])
    assert q.test_cycle_set().tolist() == [1]
    with pytest.raises(tk.InvalidProblemError, match="test_cycles"):
        tk.remake(p, test_cycles=[1, 2])      # nothing left to train on
    with pytest.raises(tk.InvalidProblemError, match="test_cycles"):
        tk.remake(p, test_cycles=5)


@pytest.mark.parametrize("solver, field", [(lambda: RandomForest(trees=0), "trees"),
                                           (lambda: RandomForest(max_features=0.0), "max_features"),
                                           (lambda: GradientBoosting(learning_rate=2.0), "learning_rate"),
                                           (lambda: CNN1D(kernel=0), "kernel"),
                                           (lambda: RandomForest(features="var"), "features")])
def test_bad_solver_names_field(solver, field):
    with pytest.raises(tk.InvalidSolverError, match=field):
        solver()

"""Time-to-failure prediction: windows, features, held-out cycles, and the solution type.

Every method fits on the windows of the training cycles and predicts the windows of the
held-out test cycles of a :class:`TimeToFailure` problem; the score is the coefficient of
determination R^2 on the test windows (Rouet-Leduc et al. 2017, doi:10.1002/2017GL074677,
report R^2 = 0.89 with a random forest on laboratory data).
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.strain_signal import TimeToFailure

__all__ = ["TimeToFailureSolution", "split_windows", "score"]

# Bounds of the learning solvers' integer fields (they reach scikit-learn's and torch's C code).
#: Seeds: scikit-learn and torch take 32-bit seeds (an ensemble hands out exactly these).
SEED_MAX = 2 ** 32 - 1
#: Threads: more than any machine has cores (joblib and torch refuse far fewer than 2**63).
THREADS_MAX = 1024
#: Trees, boosting iterations and epochs: each is a full pass over the training windows.
ROUNDS_MAX = 100_000
#: Depths and leaf sizes: C ``int`` in the tree builders.
C_INT_MAX = 2 ** 31 - 1


class TimeToFailureSolution(tk.Solution):
    """Predicted and true time to failure of every test window, with scores and importances.

    ``window_end`` is the (exclusive) last sample of each test window, ``cycle`` its slip cycle;
    ``r2`` and ``mae`` (seconds) score the test windows, ``train_r2`` the training fit;
    ``feature_importances`` follow ``feature_names`` (empty for models without features).
    """

    window_end: np.ndarray
    cycle: np.ndarray
    true: np.ndarray
    predicted: np.ndarray
    r2: float
    mae: float
    train_r2: float
    feature_names: tuple
    feature_importances: np.ndarray

    dims = {"window_end": ("window",), "cycle": ("window",), "true": ("window",),
            "predicted": ("window",), "feature_importances": ("feature",)}
    compare_fields = ("predicted",)

    def top_features(self, n: int = 3) -> list[str]:
        """Names of the ``n`` most important features."""
        order = np.argsort(self.feature_importances)[::-1][:n]
        return [self.feature_names[i] for i in order]

    def plot(self, ax=None):
        """Predicted and true time to failure through the test cycles (Fig. 1 of the 2017 paper)."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(9, 3.5))[1]
        t = self.window_end / self.problem.signal.sampling_rate
        ax.plot(t, self.true, color="C3", lw=1.5, label="time to failure")
        ax.plot(t, self.predicted, color="C0", lw=1, label=f"{type(self.solver).__name__} (R² = {self.r2:.2f})")
        ax.set_xlabel("time in the record (s)")
        ax.set_ylabel("time to failure (s)")
        ax.legend(loc="upper right", fontsize=8)
        return ax


def split_windows(problem: TimeToFailure):
    """Window ends, cycles and labels, with the boolean test mask (whole held-out cycles)."""
    ends, cycles = problem.windows()
    labels = np.asarray(problem.signal.time_to_failure[ends - 1], dtype=np.float64)
    test = np.isin(cycles, problem.test_cycle_set())
    return ends, cycles, labels, test


def training_labels(problem: TimeToFailure, labels: np.ndarray) -> np.ndarray:
    """The training labels, permuted across all training windows for the shuffled control."""
    if not problem.shuffle_labels:
        return labels
    return np.random.default_rng([problem.seed, 7]).permutation(labels)


def score(true: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """(R^2, mean absolute error)."""
    from sklearn.metrics import mean_absolute_error, r2_score

    if true.size < 2:
        return float("nan"), float(np.mean(np.abs(true - predicted))) if true.size else float("nan")
    return float(r2_score(true, predicted)), float(mean_absolute_error(true, predicted))


def make_solution(problem, solver, ends, cycles, labels, test, predicted, train_r2, names, importances,
                  stats) -> TimeToFailureSolution:
    r2, mae = score(labels[test], predicted)
    return TimeToFailureSolution(problem=problem, solver=solver, stats=stats, window_end=ends[test],
                                 cycle=cycles[test], true=labels[test], predicted=predicted, r2=r2, mae=mae,
                                 train_r2=train_r2, feature_names=tuple(names),
                                 feature_importances=np.asarray(importances, dtype=np.float64))


def failed_solution(problem, solver, retcode, message: str, stats: dict) -> TimeToFailureSolution:
    """An unsuccessful result: no windows, no predictions, NaN scores (there are none), the reason."""
    empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
    return TimeToFailureSolution(problem=problem, solver=solver, retcode=retcode, message=message, stats=stats,
                                 window_end=empty_i, cycle=empty_i, true=empty_f, predicted=empty_f,
                                 r2=float("nan"), mae=float("nan"), train_r2=float("nan"), feature_names=(),
                                 feature_importances=empty_f)

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
from toolkit.conventions import attrs, index

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


#: R^2 of Rouet-Leduc et al.'s random forest on the held-out laboratory data (GRL 44, 9276 (2017)).
PUBLISHED_R2 = 0.89


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
    cf = {"window_end": index("last sample (exclusive) of the test window"), "cycle": index("slip cycle"),
          "true": attrs("s", "time to failure"), "predicted": attrs("s", "predicted time to failure"),
          "feature_importances": attrs("1", "feature importance")}

    def _coordinates(self):
        rate = self.problem.signal.sampling_rate
        names = np.array(self.feature_names, dtype=str)
        feature = names if names.size == self.feature_importances.size else np.arange(self.feature_importances.size)
        return {"window": ("window", self.window_end / rate, attrs("s", "end of the test window in the record")),
                "feature": ("feature", feature, index("feature"))}

    def top_features(self, n: int = 3) -> list[str]:
        """Names of the ``n`` most important features."""
        order = np.argsort(self.feature_importances)[::-1][:n]
        return [self.feature_names[i] for i in order]

    def plot(self, ax=None):
        """Predicted and true time to failure through the test cycles (Fig. 1 of the 2017 paper) and,
        without ``ax``, predicted against true with the perfect prediction y = x and the score
        Rouet-Leduc et al. (2017) report (R² = 0.89, :data:`PUBLISHED_R2`). Returns the first axes."""
        from toolkit.plotting import REFERENCE_STYLE, finish, label, new_axes

        fig, axes, created = new_axes(ax, figsize=(13, 4.0), ncols=2)
        ax = axes[0] if created else ax
        name = type(self.solver).__name__
        t = self.window_end / self.problem.signal.sampling_rate
        ax.plot(t, self.true, color="C3", lw=1.5, label="true time to failure")
        ax.plot(t, self.predicted, color="C0", lw=1, label=f"{name} (R² = {self.r2:.2f})")
        ax.set_xlabel(label("time in the record", "s"))
        ax.set_ylabel(label("time to failure", "s"))
        ax.set_title("time to failure through the held-out cycles")
        ax.legend(loc="upper right", fontsize=8)
        if created:
            parity = axes[1]
            parity.scatter(self.true, self.predicted, s=6, color="C0", label=f"{name} test windows")
            top = float(max(np.max(self.true, initial=0.0), np.max(self.predicted, initial=0.0)))
            parity.plot([0.0, top], [0.0, top], label=f"y = x: perfect prediction (Rouet-Leduc et al. 2017: "
                        f"R² = {PUBLISHED_R2})", **REFERENCE_STYLE)
            parity.set_xlabel(label("true time to failure", "s"))
            parity.set_ylabel(label("predicted time to failure", "s"))
            parity.set_title(f"predicted against true, R² = {self.r2:.2f}")
            parity.legend(loc="upper left", fontsize=8)
            finish(fig, f"lab-quake prediction: {name} on {len(np.unique(self.cycle))} held-out cycles")
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

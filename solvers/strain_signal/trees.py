"""``RandomForest`` and ``GradientBoosting`` (scikit-learn) on numba window features.

Rouet-Leduc et al. (2017, doi:10.1002/2017GL074677) fit a random forest to ~100 statistics of
each window of the acoustic signal; the variance came out as the most important.
"""

from __future__ import annotations

import time

import numpy as np

import toolkit as tk
from problems.strain_signal import TimeToFailure
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .features import WindowFeatures, feature_matrix
from .memory import check_memory
from .prediction import (C_INT_MAX, ROUNDS_MAX, SEED_MAX, THREADS_MAX, TimeToFailureSolution, failed_solution,
                         make_solution, split_windows, training_labels)

__all__ = ["RandomForest", "GradientBoosting"]

_ERR = dict(error=tk.InvalidSolverError)
#: Most leaves of a boosted tree (scikit-learn reserves ~128 bytes per possible node up front).
LEAF_NODES_MAX = 100_000


def _check_features(solver):
    if not isinstance(solver.features, WindowFeatures):
        raise tk.InvalidSolverError(f"features = {v.show(solver.features)} is not allowed: give a "
                                    "WindowFeatures(...) (which window statistics to compute)")


class RandomForest(tk.Solver):
    """``sklearn.ensemble.RandomForestRegressor`` on window features.

    ``trees`` (1 to 100,000), ``max_depth`` (None: grow fully; else 1 to 2**31 - 1),
    ``min_samples_leaf`` (1 to 2**31 - 1), ``max_features`` (fraction of features tried per split,
    in (0, 1]), ``seed`` (0 to 2**32 - 1), ``threads`` (scikit-learn ``n_jobs``, 1 to 1024),
    ``features``.
    """

    trees: int = 200
    max_depth: int | None = None
    min_samples_leaf: int = 5
    max_features: float = 0.5
    seed: int = 0
    threads: int = 1
    features: WindowFeatures = WindowFeatures()

    stochastic = True

    def _validate(self):
        self._set("trees", v.integer("trees", self.trees, lower=1, upper=ROUNDS_MAX, **_ERR))
        self._set("max_depth", v.integer("max_depth", self.max_depth, lower=1, upper=C_INT_MAX, allow_none=True,
                                         **_ERR))
        self._set("min_samples_leaf", v.integer("min_samples_leaf", self.min_samples_leaf, lower=1, upper=C_INT_MAX,
                                                **_ERR))
        self._set("max_features", v.real_scalar("max_features", self.max_features, lower=0, lower_open=True,
                                                upper=1, **_ERR))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=SEED_MAX, **_ERR))
        self._set("threads", v.integer("threads", self.threads, lower=1, upper=THREADS_MAX, **_ERR))
        _check_features(self)

    @classmethod
    def example(cls):
        return cls(trees=10)

    def model(self):
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=self.trees, max_depth=self.max_depth,
                                     min_samples_leaf=self.min_samples_leaf, max_features=self.max_features,
                                     random_state=self.seed, n_jobs=self.threads)

    def memory_estimate(self, problem: TimeToFailure) -> int:
        """Peak bytes of the feature matrix and scikit-learn's copy of it (trees not counted)."""
        return _memory_estimate(self, problem)


class GradientBoosting(tk.Solver):
    """``sklearn.ensemble.GradientBoostingRegressor`` on window features.

    ``iterations`` (1 to 100,000), ``learning_rate`` (in (0, 1]), ``max_leaf_nodes`` (2 to 100,000:
    scikit-learn reserves memory for every possible node), ``min_samples_leaf`` (1 to 2**31 - 1),
    ``seed`` (0 to 2**32 - 1), ``features``.
    """

    iterations: int = 200
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 10
    seed: int = 0
    features: WindowFeatures = WindowFeatures()

    def _validate(self):
        self._set("iterations", v.integer("iterations", self.iterations, lower=1, upper=ROUNDS_MAX, **_ERR))
        self._set("learning_rate", v.real_scalar("learning_rate", self.learning_rate, lower=0, lower_open=True,
                                                 upper=1, **_ERR))
        self._set("max_leaf_nodes", v.integer("max_leaf_nodes", self.max_leaf_nodes, lower=2, upper=LEAF_NODES_MAX,
                                              **_ERR))
        self._set("min_samples_leaf", v.integer("min_samples_leaf", self.min_samples_leaf, lower=1, upper=C_INT_MAX,
                                                **_ERR))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=SEED_MAX, **_ERR))
        _check_features(self)

    @classmethod
    def example(cls):
        return cls(iterations=20)

    def model(self):
        from sklearn.ensemble import GradientBoostingRegressor

        return GradientBoostingRegressor(n_estimators=self.iterations, learning_rate=self.learning_rate,
                                             max_leaf_nodes=self.max_leaf_nodes, subsample=0.8,
                                             min_samples_leaf=self.min_samples_leaf, random_state=self.seed)

    def memory_estimate(self, problem: TimeToFailure) -> int:
        """Peak bytes of the feature matrix and scikit-learn's copy of it (trees not counted)."""
        return _memory_estimate(self, problem)


def _memory_estimate(solver, problem: TimeToFailure) -> int:
    """Peak bytes of a tree method: the feature matrix and its float32 copy inside scikit-learn,
    plus per-window work arrays (the window buffers of the feature kernel are O(window))."""
    n_windows = problem.windows()[0].size
    return int(n_windows * (12 * solver.features.count + 64) + 16 * problem.window + 8 * (1 << 17))


def _fit_predict(problem: TimeToFailure, solver, importances_of):
    start = time.perf_counter()
    check_memory(solver.memory_estimate(problem), f"{type(solver).__name__} features", "use a larger stride",
                 tk.InvalidProblemError)
    ends, cycles, labels, test = split_windows(problem)
    t0 = time.perf_counter()
    X = feature_matrix(problem.signal.samples, ends, problem.window, solver.features)
    t_features = time.perf_counter() - t0
    bad = np.argwhere(~np.isfinite(X))
    if bad.size:
        w, f = bad[0]
        return failed_solution(problem, solver, tk.ReturnCode.Failure,
                               f"feature {solver.features.names()[f]!r} of the window ending at sample {ends[w]} is "
                               "not finite; check the signal there (TimeToFailure bounds |samples| by 1e18)",
                               {"wall_time": time.perf_counter() - start, "feature_time": t_features})
    y_train = training_labels(problem, labels[~test])
    model = solver.model()
    model.fit(X[~test], y_train)
    predicted = model.predict(X[test])
    train_r2 = float(model.score(X[~test], y_train))
    importances = importances_of(model, X[~test], y_train)
    stats = {"wall_time": time.perf_counter() - start, "feature_time": t_features,
             "train_windows": int((~test).sum()), "test_windows": int(test.sum())}
    return make_solution(problem, solver, ends, cycles, labels, test, predicted, train_r2,
                         solver.features.names(), importances, stats)


@dispatch
def _solve(problem: TimeToFailure, solver: RandomForest) -> TimeToFailureSolution:
    return _fit_predict(problem, solver, lambda model, X, y: model.feature_importances_)


@dispatch
def _solve(problem: TimeToFailure, solver: GradientBoosting) -> TimeToFailureSolution:
    return _fit_predict(problem, solver, lambda model, X, y: model.feature_importances_)

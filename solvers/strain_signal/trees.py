"""``RandomForest`` and ``GradientBoosting`` (scikit-learn) on numba window features.

Rouet-Leduc et al. (2017, doi:10.1002/2017GL074677) fit a random forest to ~100 statistics of
each window of the acoustic signal; the variance came out as the most important.
"""

from __future__ import annotations

import time


import toolkit as tk
from problems.strain_signal import TimeToFailure
from toolkit import validate as v
from toolkit.dispatch import dispatch

from .features import WindowFeatures, feature_matrix
from .prediction import TimeToFailureSolution, make_solution, split_windows, training_labels

__all__ = ["RandomForest", "GradientBoosting"]

_ERR = dict(error=tk.InvalidSolverError)


def _check_features(solver):
    if not isinstance(solver.features, WindowFeatures):
        raise tk.InvalidSolverError(f"features = {v.show(solver.features)} is not allowed: give a "
                                    "WindowFeatures(...) (which window statistics to compute)")


class RandomForest(tk.Solver):
    """``sklearn.ensemble.RandomForestRegressor`` on window features.

    ``trees``, ``max_depth`` (None: grow fully), ``min_samples_leaf``, ``max_features`` (fraction
    of features tried per split), ``seed``, ``threads`` (scikit-learn ``n_jobs``), ``features``.
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
        self._set("trees", v.integer("trees", self.trees, lower=1, **_ERR))
        self._set("max_depth", v.integer("max_depth", self.max_depth, lower=1, allow_none=True, **_ERR))
        self._set("min_samples_leaf", v.integer("min_samples_leaf", self.min_samples_leaf, lower=1, **_ERR))
        self._set("max_features", v.real_scalar("max_features", self.max_features, lower=0, lower_open=True,
                                                upper=1, **_ERR))
        self._set("seed", v.integer("seed", self.seed, lower=0, **_ERR))
        self._set("threads", v.integer("threads", self.threads, lower=1, **_ERR))
        _check_features(self)

    @classmethod
    def example(cls):
        return cls(trees=10)

    def model(self):
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=self.trees, max_depth=self.max_depth,
                                     min_samples_leaf=self.min_samples_leaf, max_features=self.max_features,
                                     random_state=self.seed, n_jobs=self.threads)


class GradientBoosting(tk.Solver):
    """``sklearn.ensemble.GradientBoostingRegressor`` on window features.

    ``iterations``, ``learning_rate``, ``max_leaf_nodes``, ``min_samples_leaf``, ``seed``, ``features``.
    """

    iterations: int = 200
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 10
    seed: int = 0
    features: WindowFeatures = WindowFeatures()

    def _validate(self):
        self._set("iterations", v.integer("iterations", self.iterations, lower=1, **_ERR))
        self._set("learning_rate", v.real_scalar("learning_rate", self.learning_rate, lower=0, lower_open=True,
                                                 upper=1, **_ERR))
        self._set("max_leaf_nodes", v.integer("max_leaf_nodes", self.max_leaf_nodes, lower=2, **_ERR))
        self._set("min_samples_leaf", v.integer("min_samples_leaf", self.min_samples_leaf, lower=1, **_ERR))
        self._set("seed", v.integer("seed", self.seed, lower=0, **_ERR))
        _check_features(self)

    @classmethod
    def example(cls):
        return cls(iterations=20)

    def model(self):
        from sklearn.ensemble import GradientBoostingRegressor

        return GradientBoostingRegressor(n_estimators=self.iterations, learning_rate=self.learning_rate,
                                             max_leaf_nodes=self.max_leaf_nodes, subsample=0.8,
                                             min_samples_leaf=self.min_samples_leaf, random_state=self.seed)


def _fit_predict(problem: TimeToFailure, solver, importances_of):
    start = time.perf_counter()
    ends, cycles, labels, test = split_windows(problem)
    t0 = time.perf_counter()
    X = feature_matrix(problem.signal.samples, ends, problem.window, solver.features)
    t_features = time.perf_counter() - t0
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

"""Solver swapping: run one problem through several solvers and tabulate what each gave."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .dispatch import solve
from .solution import Solution
from .solver import Solver

__all__ = ["compare", "Comparison"]


def _label(solver) -> str:
    text = repr(solver)
    return text if len(text) <= 48 else text[:45] + "..."


@dataclass
class Comparison:
    """The table ``tk.compare`` returns: one row per solver, plus pairwise distances.

    ``error`` is each solution's :meth:`Solution.distance` to the reference (NaN with no
    reference); ``pairwise[i, j]`` is the distance of solver i's solution to solver j's.
    """

    labels: list[str]
    retcodes: list[str]
    wall_times: np.ndarray
    errors: np.ndarray
    pairwise: np.ndarray
    reference: str | None
    solutions: list = field(repr=False)

    def __str__(self) -> str:
        header = f"{'solver':<48}  {'retcode':<18} {'wall time [s]':>13}  {'error':>10}"
        lines = [header, "-" * len(header)]
        for label, code, wall, err in zip(self.labels, self.retcodes, self.wall_times, self.errors):
            lines.append(f"{label:<48}  {code:<18} {wall:>13.4g}  {err:>10.3g}")
        if self.reference:
            lines.append(f"error: distance to the reference {self.reference}")
        return "\n".join(lines)

    def to_pandas(self):
        """The table as a ``pandas.DataFrame`` indexed by solver."""
        import pandas as pd

        return pd.DataFrame({"retcode": self.retcodes, "wall_time": self.wall_times,
                             "error": self.errors}, index=pd.Index(self.labels, name="solver"))

    def to_xarray(self):
        """The table and the pairwise distances as an ``xarray.Dataset``."""
        import xarray as xr

        return xr.Dataset(
            {"wall_time": ("solver", self.wall_times), "error": ("solver", self.errors),
             "retcode": ("solver", np.array(self.retcodes)),
             "pairwise": (("solver", "other"), self.pairwise)},
            coords={"solver": self.labels, "other": self.labels},
            attrs={"reference": self.reference or ""})

    def plot(self, axes=None):
        """Bar charts of wall time and error per solver."""
        import matplotlib.pyplot as plt

        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(10, 3.5), constrained_layout=True)
        names = [label.split("(")[0] for label in self.labels]
        axes[0].bar(names, self.wall_times)
        axes[0].set_ylabel("wall time [s]")
        axes[1].bar(names, np.where(np.isfinite(self.errors), self.errors, 0.0))
        axes[1].set_ylabel("error vs reference" if self.reference else "error")
        if np.all(self.errors[np.isfinite(self.errors)] > 0) and np.isfinite(self.errors).any():
            axes[1].set_yscale("log")
        for ax in axes:
            ax.tick_params(axis="x", rotation=30)
        return axes


def compare(problem, solvers, reference=None, **options) -> Comparison:
    """Solve ``problem`` with each solver; record wall time, return code and error.

    ``reference`` is a Solver (solved first), a Solution, or ``None`` (then only the
    pairwise distances between the solvers are filled in). ``options`` go to every solve.
    """
    solvers = list(solvers)
    if not solvers:
        raise ValueError("compare needs at least one solver")
    ref_solution, ref_label = None, None
    if isinstance(reference, Solver):
        ref_solution, ref_label = solve(problem, reference, **options), _label(reference)
    elif isinstance(reference, Solution):
        ref_solution, ref_label = reference, _label(reference.solver)
    elif reference is not None:
        raise TypeError(f"reference must be a Solver, a Solution or None, got {type(reference).__name__}")
    solutions, walls = [], []
    for solver in solvers:
        start = time.perf_counter()
        solutions.append(solve(problem, solver, **options))
        walls.append(time.perf_counter() - start)
    errors = np.array([s.distance(ref_solution) if ref_solution is not None and s.successful else np.nan
                       for s in solutions])
    n = len(solutions)
    pairwise = np.array([[solutions[i].distance(solutions[j]) for j in range(n)] for i in range(n)])
    return Comparison(labels=[_label(s) for s in solvers], retcodes=[str(s.retcode) for s in solutions],
                      wall_times=np.array(walls), errors=errors, pairwise=pairwise,
                      reference=ref_label, solutions=solutions)

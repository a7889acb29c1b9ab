"""``ActiveLearningSolution``: what a campaign returns, round by round.

Point ``j`` of the curves is the model trained after ``calls[j]`` oracle calls (point 0: the
starting set alone; one point per finished round after it). The test errors are those of the
round's *first* committee member (the potential a user would take; for ``RandomSelection`` the
only model), so QBC and random are compared model for model; ``committee_force_mae`` and
``committee_energy_mae`` are those of the committee's mean prediction (the ensemble ANI uses; equal
to the first member's for a committee of one), less scattered by any one model's training.
``spread_spearman[j]`` is the Spearman rank correlation, over the test structures, between the
committee's spread (the selection criterion) and the committee mean's true error (``|E_mean - E|``
for ``energy_spread``; that over ``sqrt(N)`` for ``scaled_energy_spread``; the largest per-atom
``|F_mean - F|`` for ``force_spread``); it is empty for ``RandomSelection``.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from toolkit.conventions import attrs, index

from .selection import ENERGY_CRITERIA

__all__ = ["ActiveLearningSolution"]


class ActiveLearningSolution(tk.Solution):
    """A campaign's curves, picks and failures, the final dataset and the final potential.

    * ``calls``, ``labels`` — oracle calls made and labelled structures trained on, per point;
    * ``energy_mae`` (eV per structure), ``force_mae`` (eV/Å per component) — test errors per point;
    * ``committee_energy_mae``, ``committee_force_mae`` — the same for the committee's mean prediction;
    * ``spread_spearman`` — spread-vs-error rank correlation per point (empty for random picks);
    * ``chosen``, ``chosen_round`` — the names of the configurations sent to the oracle, in order,
      and their round: pool indices for a fixed pool, ``round * sampler.capacity() + slot`` for a
      sampler (``solvers.molecule.active.rounds``);
    * ``failed``, ``failure_reasons`` — the names whose oracle call failed, and why;
    * ``test_spread``, ``test_error`` — the last point's committee spread and true error per test
      structure (empty for random picks);
    * ``dataset`` — the start set plus every oracle label; ``potential`` — the last model.
    """

    calls: np.ndarray
    labels: np.ndarray
    energy_mae: np.ndarray
    force_mae: np.ndarray
    committee_energy_mae: np.ndarray
    committee_force_mae: np.ndarray
    spread_spearman: np.ndarray
    chosen: np.ndarray
    chosen_round: np.ndarray
    failed: np.ndarray
    failure_reasons: list
    test_spread: np.ndarray
    test_error: np.ndarray
    dataset: object
    potential: object

    dims = {"calls": ("point",), "labels": ("point",), "energy_mae": ("point",), "force_mae": ("point",),
            "committee_energy_mae": ("point",), "committee_force_mae": ("point",),
            "spread_spearman": ("spread_point",), "chosen": ("pick",), "chosen_round": ("pick",),
            "failed": ("failure",), "test_spread": ("test_structure",), "test_error": ("test_structure",)}
    compare_fields = ("force_mae",)

    @property
    def cf(self) -> dict:
        """CF attributes (:mod:`toolkit.conventions`); the spread's unit follows the solver's criterion."""
        energy = getattr(self.solver, "criterion", "force_spread") in ENERGY_CRITERIA
        unit, what = ("eV", "energy") if energy else ("eV/Å", "largest per-atom force")
        return {"calls": attrs("1", "oracle calls made"), "labels": attrs("1", "labelled structures trained on"),
                "energy_mae": attrs("eV", "test energy MAE per structure"),
                "force_mae": attrs("eV/Å", "test force MAE per component"),
                "committee_energy_mae": attrs("eV", "committee-mean test energy MAE per structure"),
                "committee_force_mae": attrs("eV/Å", "committee-mean test force MAE per component"),
                "spread_spearman": attrs("1", "Spearman correlation of committee spread and error"),
                "chosen": index("pool index sent to the oracle"), "chosen_round": index("round of the pick"),
                "failed": index("pool index whose oracle call failed"),
                "test_spread": attrs(unit, f"committee {what} spread"),
                "test_error": attrs(unit, f"committee-mean {what} error"),
                "point": index("round (0: the starting set)"), "spread_point": index("round (0: the starting set)"),
                "pick": index("pick"), "failure": index("failure"), "test_structure": index("test structure")}

    def plot(self, ax=None, others=(), error: str = "force_mae"):
        """Test force error vs oracle calls (this campaign and ``others``, e.g. the random baseline),
        and the last round's committee spread vs true error. ``ax``: two axes or None. ``error``: the
        curve drawn, ``"force_mae"`` (the first member's) or ``"committee_force_mae"`` (the committee
        mean's)."""
        import matplotlib.pyplot as plt

        labels = {"force_mae": "test force MAE", "committee_force_mae": "committee-mean test force MAE"}
        if error not in labels:
            raise ValueError(f"error = {error!r} is not allowed: give one of {sorted(labels)}")
        if ax is None:
            _, ax = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
        curve, scatter = ax
        for run in (self, *others):
            curve.plot(run.calls, getattr(run, error), marker="o", label=type(run.solver).__name__)
        curve.set(xlabel="oracle calls [count]", ylabel=f"{labels[error]} [eV/Å]", title="error vs oracle calls")
        curve.legend(fontsize=8)
        unit = "eV" if getattr(self.solver, "criterion", "force_spread") in ENERGY_CRITERIA else "eV/Å"
        rho = self.spread_spearman[-1] if self.spread_spearman.size else float("nan")
        if self.test_spread.size:
            scatter.scatter(self.test_spread, self.test_error, s=8)
        scatter.set_title(f"committee spread vs true error (Spearman {rho:.2f})", fontsize=9)
        scatter.set(xlabel=f"committee spread [{unit}]", ylabel=f"true error [{unit}]")
        return ax

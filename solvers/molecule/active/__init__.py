"""Active learning of learned potentials (issue 20): query by committee against a quantum oracle.

``tk.solve(ActiveLearning(start, pool, oracle, budget, test, rounds), QueryByCommittee(model=
HIPNNTraining(...), committee=4))`` runs a campaign (:mod:`.campaign`, one round a step);
``RandomSelection(model=...)`` is the baseline. Instead of a fixed ``pool``, ``sampler=
CommitteeMDSampler(...) | NormalModeSampler(...)`` (``problems.datasets``) draws each round's
candidates with the last round's committee (:mod:`.rounds`). Picking rules in :mod:`.selection`,
oracle calls (core ensembles, a durable journal, failures kept) in :mod:`.oracle`, the result in
:mod:`.solution`; the sampling methods (ANI-1 normal-mode sampling, committee-stopped MD as in
ALF), also usable to build pools beforehand, in :mod:`.samplers`.
"""

from __future__ import annotations

from .campaign import CampaignIntegrator
from .oracle import Journal, call_oracle, configuration_check
from .rounds import draw_candidates
from .selection import CRITERIA, QueryByCommittee, RandomSelection, diverse_batch, sorted_distances, spread_scores
from .samplers import (RECIPES, CommitteeMDRun, NormalModes, committee_md, committee_md_pool, committee_run,
                       harmonic_energy_law, hessian_modes, normal_mode_samples, normal_modes)
from .solution import ActiveLearningSolution

__all__ = ["QueryByCommittee", "RandomSelection", "CampaignIntegrator", "ActiveLearningSolution", "Journal",
           "call_oracle", "CRITERIA", "diverse_batch", "sorted_distances", "spread_scores", "normal_modes",
           "normal_mode_samples", "harmonic_energy_law", "NormalModes", "committee_md", "committee_md_pool",
           "CommitteeMDRun", "RECIPES", "committee_run", "hessian_modes", "draw_candidates", "configuration_check"]

from .tour import register as _register

_register()

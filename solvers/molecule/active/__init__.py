"""Active learning of learned potentials (issue 20): query by committee against a quantum oracle.

``tk.solve(ActiveLearning(start, pool, oracle, budget, test, rounds), QueryByCommittee(model=
HIPNNTraining(...), committee=4))`` runs a campaign (:mod:`.campaign`, one round a step);
``RandomSelection(model=...)`` is the baseline. Picking rules in :mod:`.selection`, oracle calls
(core ensembles, a durable journal, failures kept) in :mod:`.oracle`, the result in
:mod:`.solution`.
"""

from __future__ import annotations

from .campaign import CampaignIntegrator
from .oracle import Journal, call_oracle
from .selection import CRITERIA, QueryByCommittee, RandomSelection, diverse_batch, sorted_distances, spread_scores
from .solution import ActiveLearningSolution

__all__ = ["QueryByCommittee", "RandomSelection", "CampaignIntegrator", "ActiveLearningSolution", "Journal",
           "call_oracle", "CRITERIA", "diverse_batch", "sorted_distances", "spread_scores"]

"""Issue 20's science criterion, in CI: query by committee against random selection with a real quantum oracle.

Ethanol labelled by GFN2-xTB (tblite), the hot-test protocol of
:func:`solvers.molecule.active.protocols.hot_test_campaign`: a start of 10 snapshots of 300 K MD, a pool of
120 snapshots of 300 K MD and 12 of 1200 K MD (the rare informative ones), a test set of 900 K MD (hotter
than the start), budget B = 16 in rounds of 2, a committee of 4 small HIP-NN models with warm starts.

For each of three seeds, QBC must reach the test force error that random selection (the same training, one
model, the same seed) reaches with B calls, using at most 0.75 B calls. Measured (2026-12-06, Intel VM):
seeds 0, 1, 2 need 4, 6, 6 calls; fresh seeds 3-8, run after the protocol was fixed, 8, 10, 6, 10, 6, 6.
With the pool of 60 cold + 12 hot snapshots used before (random then draws 2.7 hot ones on average instead
of 1.5), seed 1 needed all 16. About 12 s a seed.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import toolkit as tk
from solvers.molecule.active import QueryByCommittee, RandomSelection
from solvers.molecule.active.protocols import TRAINING, WARM, hot_test_campaign

pytest.importorskip("tblite")

BUDGET, BATCH = 16, 2


@pytest.fixture(scope="module")
def ethanol():
    return hot_test_campaign("CH3CH2OH", budget=BUDGET, batch=BATCH)


def _calls_to_reach(run, target: float) -> float:
    hit = np.flatnonzero(run.force_mae <= target + 1e-12)
    return float(run.calls[hit[0]]) if hit.size else float("inf")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_qbc_reaches_randoms_error_at_the_budget_with_three_quarters_of_the_calls(ethanol, seed, one_torch_thread):
    assert torch.get_num_threads() == 1
    qbc = tk.solve(ethanol, QueryByCommittee(model=TRAINING, committee=4, batch=BATCH, seed=seed, **WARM),
                   progress=False)
    rnd = tk.solve(ethanol, RandomSelection(model=TRAINING, batch=BATCH, seed=seed, **WARM), progress=False)
    assert qbc.successful and rnd.successful
    assert qbc.calls[-1] == rnd.calls[-1] == BUDGET
    needed = _calls_to_reach(qbc, rnd.force_mae[-1])
    print(f"\nseed {seed}: QBC {np.round(qbc.force_mae, 3).tolist()}\n        random {np.round(rnd.force_mae, 3).tolist()}"
          f"\n        QBC needs {needed:g} calls for random's {rnd.force_mae[-1]:.3f} eV/A at B = {BUDGET}; "
          f"Spearman(spread, error) per round {np.round(qbc.spread_spearman, 2).tolist()}")
    assert needed <= 0.75 * BUDGET
    hot = np.arange(len(ethanol.pool)) >= len(ethanol.pool) - 12      # the 1200 K snapshots come last
    assert hot[qbc.chosen].sum() > hot[rnd.chosen].sum()                # QBC found more of the rare ones

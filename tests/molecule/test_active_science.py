"""Issue 20's science, in CI: query by committee against random selection with a real quantum oracle.

Ethanol labelled by GFN2-xTB (tblite), the hot-test protocol of
:func:`solvers.molecule.active.protocols.hot_test_campaign`: a start of 10 snapshots of 300 K MD, a pool
of 240 snapshots of 300 K MD and 12 of 1200 K MD (the rare informative ones, 4.8 %), a test set of 1200 K
MD (hotter than the start), budget B = 16 in rounds of 2, committees of 4 HIP-NN models (32 features, two
interactions, 200 epochs then 40 warm epochs a round). The random baseline trains the same committee
(``RandomSelection(committee=4)``) and picks at random; the error compared is each committee's mean
prediction (the ensemble ANI uses), so neither side is one model's training noise.

Asserted, on each of seeds 0, 1, 2: the issue's criterion (QBC reaches the committee-mean test force error
random selection reaches with budget B using at most 0.75 B = 12 oracle calls), more of the 12 hot snapshots
picked by QBC than by random, and QBC's error at B below random's. Measured (2026-12-06, Intel Xeon VM)
on the protocol's MD data sets ``data_seed`` 0 / 1 / 2 / 3 (the MD that draws them is chaotic, so
another CPU's rounding draws another one): 6, 8, 4 / 6, 10, 10 / 10, 8, 6 / 12, 12, 12 calls; QBC/random
error at B 0.61-0.84; hot picks 7-11 against 0-1 (``benchmarks/active_ethanol.py``, which also has the
earlier protocols that missed). On two fresh draws run after the protocol was fixed, ``data_seed`` 4 / 5:
8, 8, 6 / 4, 16, 4 -- one seed of six missed (QBC still lower at B: 0.443 against 0.470 eV/A). About
80-90 s a seed on one core.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import toolkit as tk
from solvers.molecule.active import QueryByCommittee, RandomSelection
from solvers.molecule.active.protocols import TRAINING, WARM, hot_test_campaign

BUDGET, BATCH, HOT, COMMITTEE = 16, 2, 12, 4


def _calls_to_reach(run, target: float) -> float:
    hit = np.flatnonzero(run.committee_force_mae <= target + 1e-12)
    return float(run.calls[hit[0]]) if hit.size else float("inf")


@pytest.mark.slow
def test_qbc_reaches_randoms_error_at_b_with_at_most_three_quarters_of_the_calls(one_torch_thread):
    assert torch.get_num_threads() == 1
    ethanol = hot_test_campaign("CH3CH2OH", budget=BUDGET, batch=BATCH, cold=240, hot=HOT)
    hot = np.arange(len(ethanol.pool)) >= len(ethanol.pool) - HOT        # the 1200 K snapshots come last
    for seed in (0, 1, 2):
        qbc = tk.solve(ethanol, QueryByCommittee(model=TRAINING, committee=COMMITTEE, batch=BATCH, seed=seed,
                                                 **WARM), progress=False)
        rnd = tk.solve(ethanol, RandomSelection(model=TRAINING, committee=COMMITTEE, batch=BATCH, seed=seed,
                                                **WARM), progress=False)
        assert qbc.successful and rnd.successful and qbc.calls[-1] == rnd.calls[-1] == BUDGET
        assert qbc.committee_force_mae[0] == rnd.committee_force_mae[0]     # the same committee before picking
        needed = _calls_to_reach(qbc, rnd.committee_force_mae[-1])
        print(f"\nseed {seed}: QBC {np.round(qbc.committee_force_mae, 3).tolist()}\n        random "
              f"{np.round(rnd.committee_force_mae, 3).tolist()}\n        hot picks QBC {hot[qbc.chosen].sum()}, "
              f"random {hot[rnd.chosen].sum()}; QBC needs {needed:g} calls for random's error at B = {BUDGET} "
              f"(issue 20: <= {0.75 * BUDGET:g})")
        assert hot[qbc.chosen].sum() > hot[rnd.chosen].sum()
        assert qbc.committee_force_mae[-1] < rnd.committee_force_mae[-1]
        assert needed <= 0.75 * BUDGET, f"seed {seed}: QBC needed {needed:g} calls (issue 20: <= {0.75 * BUDGET:g})"

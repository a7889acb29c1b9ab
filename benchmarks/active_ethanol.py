"""Active learning, the issue-20 science on ethanol: QBC vs random selection with the GFN2-xTB oracle.

The protocol of the issue's criterion (QBC reaches the test force error random selection reaches with
budget B using at most 0.75 B oracle calls), three seeds: the start is 10 MD snapshots of ethanol at
300 K; the pool is MD at 300 K (60) plus 12 at 1200 K (the rare informative ones); the test set is MD at
900 K, hotter than the start. B = 16, batch 2, committee 4, warm starts. Prints, per seed, the test force
MAE (eV/Å) after every round for both solvers and the calls QBC needs to reach random's error at B.

This is a benchmark, not a test: the criterion is NOT met on every seed at this model size (measured
2026-12-05: QBC needs 8, 16 and 6 calls on seeds 0, 1, 2; on the mean curve 10 calls = 0.63 B), see the
issue's notes. About 1-2 min on one core.

    python benchmarks/active_ethanol.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch

import toolkit as tk
from problems.datasets import ActiveLearning, AtomisticDataset
from problems.molecule import organic
from solvers.molecule import TBLite, sample_configurations
from solvers.molecule.active import QueryByCommittee, RandomSelection
from solvers.molecule.hipnn import HIPNN, HIPNNTraining

BUDGET, BATCH = 16, 2
MODEL = HIPNN(features=16, sensitivities=8, interactions=1, atom_layers=1, cutoff=4.0, soft_min=0.7, soft_max=3.0,
              species=("H", "C", "O"))
TRAIN = HIPNNTraining(model=MODEL, epochs=60, batch=8, learning_rate=1e-2, hierarchicality_weight=0.0,
                      dtype="float64", patience=None)
WARM = dict(warm_start=True, warm_epochs=10, warm_learning_rate=3e-3)


def calls_to_reach(run, target: float) -> float:
    hit = np.flatnonzero(run.force_mae <= target + 1e-12)
    return float(run.calls[hit[0]]) if hit.size else float("inf")


def ethanol_problem(budget: int = BUDGET, scale: int = 1) -> ActiveLearning:
    """The protocol of the module docstring (``scale`` > 1 shortens every MD run by that factor)."""
    mol = organic("CH3CH2OH")
    oracle = TBLite()
    start = sample_configurations(mol, oracle, temperatures=[300.0], steps=400 // scale, every=40 // scale, seed=1)
    cold = sample_configurations(mol, oracle, temperatures=[300.0], steps=600 // scale, every=10, seed=2)
    hot = sample_configurations(mol, oracle, temperatures=[1200.0], steps=600 // scale, every=50 // scale, seed=5)
    pool = AtomisticDataset.concatenate([tk.remake(cold, forces=None), tk.remake(hot, forces=None)])
    test = sample_configurations(mol, oracle, temperatures=[900.0], steps=800 // scale, every=20, seed=3)
    return ActiveLearning(start, pool, oracle, budget=budget, test=test, rounds=budget // BATCH)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--quick", action="store_true", help="one seed, B = 4, 5 epochs, short MD (a smoke run)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    global BUDGET, TRAIN
    if args.quick:
        BUDGET, args.seeds = 4, [0]
        TRAIN = tk.remake(TRAIN, epochs=5)
    print(f"load average {os.getloadavg()[0]:.2f}; B = {BUDGET}, batch {BATCH}, committee 4, warm starts")
    problem = ethanol_problem(BUDGET, 4 if args.quick else 1)
    curves = []
    for seed in args.seeds:
        qbc = tk.solve(problem, QueryByCommittee(model=TRAIN, committee=4, batch=BATCH, seed=seed, **WARM),
                       progress=False)
        rnd = tk.solve(problem, RandomSelection(model=TRAIN, batch=BATCH, seed=seed, **WARM), progress=False)
        needed = calls_to_reach(qbc, rnd.force_mae[-1])
        curves.append((qbc.force_mae, rnd.force_mae))
        print(f"seed {seed}: QBC {np.round(qbc.force_mae, 3).tolist()}\n        random {np.round(rnd.force_mae, 3).tolist()}"
              f"\n        QBC needs {needed:g} calls for random's error at B = {BUDGET} "
              f"({'meets' if needed <= 0.75 * BUDGET else 'misses'} the 0.75 B criterion)")
    q = np.mean([c[0] for c in curves], axis=0)
    r = np.mean([c[1] for c in curves], axis=0)
    hit = np.flatnonzero(q <= r[-1] + 1e-12)
    calls = qbc.calls
    print(f"mean over seeds: QBC reaches random's error at B ({r[-1]:.3f}) with "
          f"{calls[hit[0]] if hit.size else 'more than B'} calls")


if __name__ == "__main__":
    main()

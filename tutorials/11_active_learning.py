"""Active learning: query by committee against a GFN2-xTB oracle, compared with random picks.
===========================================================================================

"Collect new data from quantum calculations whenever the model is unable to make a good
prediction" (Smith, Nebgen, Lubbers, Isayev & Roitberg, "Less is more: sampling chemical space
with active learning", J. Chem. Phys. 148, 241733 (2018), doi:10.1063/1.5023802). A committee of
HIP-NNs is trained on a few cold ethanol snapshots; each round it looks at a pool of candidate
configurations (Langevin MD at 300, 600 and 1200 K, plus ANI-1 normal-mode samples at 800 K),
asks the GFN2-xTB oracle (tblite) about those on which its forces disagree most, adds the answers
and retrains (warm-started from the last round's weights). ``RandomSelection`` is the baseline:
the same loop with random picks; swapping one for the other is a one-word change. Both are scored
on a hotter test set (MD at 900 K) that the starting data do not cover.

We plot the test force error against oracle calls for both, and the committee's force spread
against the true error on the test set (the spread is the selection signal: it should rank
configurations by error). Then we draw candidates the ALF way: MD on the committee's mean force,
stopped when its spread passes a threshold.

The default size is small and the numbers are NOT converged: tiny models, few epochs, one seed.
The curves are dominated by training noise at this size; ``tests/molecule/test_active_science.py``
and ``benchmarks/active.py`` state what was measured over several seeds.

Needs the ``xtb`` extra (tblite). Environment: SCALEBRIDGE_SMALL=1 (smaller still), SCALEBRIDGE_OUT
(figures).
"""

import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import toolkit as tk
from problems.datasets import ActiveLearning, AtomisticDataset, FitPotential
from problems.molecule import organic
from solvers.molecule import HIPNN, HIPNNTraining, TBLite, label_dataset, sample_configurations
from solvers.molecule.active import (QueryByCommittee, RandomSelection, committee_md, normal_mode_samples,
                                     normal_modes)

SMALL = os.environ.get("SCALEBRIDGE_SMALL") == "1"
OUT = Path(os.environ.get("SCALEBRIDGE_OUT", "out"))
OUT.mkdir(parents=True, exist_ok=True)
torch.set_num_threads(1)            # small models train fastest on one thread (and the machine may be shared)
print("small run: tiny models and one seed; the errors below are NOT converged values")
started = time.perf_counter()

# -- data: a cold start, a pool of candidates, a hotter test set ----------------------------------
oracle = TBLite()
modes = normal_modes(organic("CH3CH2OH"), oracle, relax=True)      # the GFN2-xTB minimum and its modes
ethanol = tk.remake(organic("CH3CH2OH"), positions=modes.positions)
pool_steps = 150 if SMALL else 600
start = sample_configurations(ethanol, oracle, temperatures=[300.0], steps=400, every=40, seed=1)
md_pool = sample_configurations(ethanol, oracle, temperatures=[300.0, 600.0, 1200.0], steps=pool_steps, every=10,
                                seed=2)
nms_pool = normal_mode_samples(ethanol, oracle, 800.0, 15 if SMALL else 60, seed=4, modes=modes)
nms_pool = tk.remake(nms_pool, energies=np.zeros(len(nms_pool)))   # unlabelled: the oracle labels what is picked
pool = AtomisticDataset.concatenate([tk.remake(md_pool, forces=None), nms_pool])
test = sample_configurations(ethanol, oracle, temperatures=[900.0], steps=400 if SMALL else 800, every=20, seed=3)
print(f"start {len(start)} snapshots (300 K), pool {len(pool)} candidates, test {len(test)} snapshots (900 K)")

# -- the campaigns ----------------------------------------------------------------------------------
model = HIPNN(features=8 if SMALL else 16, sensitivities=8, interactions=1, atom_layers=1, cutoff=4.0,
              soft_min=0.7, soft_max=3.0, species=("H", "C", "O"))
training = HIPNNTraining(model=model, epochs=15 if SMALL else 60, batch=8, learning_rate=1e-2,
                         hierarchicality_weight=0.0, dtype="float64", patience=None)
budget, batch = (6, 3) if SMALL else (24, 4)
problem = ActiveLearning(start, pool, oracle, budget=budget, test=test, rounds=budget // batch)
warm = dict(warm_start=True, warm_epochs=5 if SMALL else 15, warm_learning_rate=3e-3)
qbc = tk.solve(problem, QueryByCommittee(model=training, committee=3 if SMALL else 4, batch=batch, seed=0, **warm))
rnd = tk.solve(problem, RandomSelection(model=training, batch=batch, seed=0, **warm))
for run in (qbc, rnd):
    name = type(run.solver).__name__
    print(f"{name:>16}: force MAE (eV/Å) by oracle calls " +
          ", ".join(f"{c}: {e:.3f}" for c, e in zip(run.calls, run.force_mae)))
    stats = run.stats
    print(f"{'':>16}  time: training {stats['train_time']:.1f} s, scoring {stats['score_time']:.1f} s, oracle "
          f"{stats['oracle_time']:.1f} s")
print(f"committee spread vs true error on the test set: Spearman {qbc.spread_spearman[-1]:.2f} (last round)")
hot = np.isin(np.arange(len(pool)), qbc.chosen) & (np.arange(len(pool)) >= len(md_pool))
print(f"QBC asked about {int(hot.sum())} normal-mode candidates of {len(nms_pool)} "
      f"(random: {int(np.sum(rnd.chosen >= len(md_pool)))})")

axes = qbc.plot(others=[rnd])
axes[0].figure.suptitle("ethanol, GFN2-xTB oracle" + (" (small run: not converged)" if SMALL else ""), fontsize=10)
axes[0].figure.savefig(OUT / "11_active_learning.png", dpi=120)
plt.close("all")

# -- ALF-style candidates: MD on the committee, stopped when its spread passes a threshold ----------
# a committee of two trained on the campaign's final dataset (its own seeds)
fits = tk.solve(tk.EnsembleProblem(FitPotential(qbc.dataset, targets=("energy", "forces"), validation=0.2, test=0.0),
                                   n=2, seed=7), training, progress=False)
committee = [m.potential for m in fits.members]
spread0 = committee_md(ethanol, committee, temperature=300.0, steps=1, threshold=1e6).spread[0]
run = committee_md(ethanol, committee, temperature=1200.0, steps=100 if SMALL else 400, threshold=3 * spread0,
                   seed=0, dt=0.5)
label = label_dataset(AtomisticDataset(species=start.species[:9], positions=run.positions,
                                       offsets=[0, 9], energies=[0.0]), oracle)
print(f"committee MD at 1200 K: {'stopped' if run.stopped else 'did not stop'} after {run.steps} steps "
      f"(spread {run.spread[-1]:.2f} eV/Å, threshold {3 * spread0:.2f}); the oracle's largest force there "
      f"is {np.linalg.norm(label.forces, axis=1).max():.2f} eV/Å")
print(f"done in {time.perf_counter() - started:.0f} s")

"""A hot-test campaign protocol for comparing selection rules (issue 20's science criterion).

:func:`hot_test_campaign` builds an ``ActiveLearning`` problem labelled by GFN2-xTB (``TBLite()``): the
start is MD snapshots at 300 K, the unlabelled pool is mostly more 300 K MD (``cold`` snapshots, one every
10 steps: correlated, redundant) with a few 1200 K snapshots (``hot``, the rare informative ones), and the
test set is MD at 1200 K (``test_temperature``), hotter than anything in the start. This is the situation
active learning is for ("Less is more", Smith et al., J. Chem. Phys. 148, 241733 (2018)): data from the
sampling one can afford is mostly redundant, and the configurations that would teach the model something
are rare. A uniformly random pick of B from the pool draws ``B hot / (cold + hot)`` informative ones on
average; query by committee, ranking by the committee's force spread, should find them first.

:data:`TRAINING` and :data:`WARM` are the model and its warm-start settings used with it in the tests and
``benchmarks/active_ethanol.py``: a HIP-NN of 32 features and two interactions trained for 200 epochs,
then 40 warm epochs a round from the last round's weights, keeping the last epoch's weights (chosen by a
validation part of a few structures, the warm start's own weights, which have not seen the round's new
labels, often won and whole rounds of labels were dropped). Both sizes matter. A model trained for too
few epochs keeps improving with every round whatever it is given (a 16-feature model trained on the
start alone: 0.94 eV/Å after 60 epochs, 0.88 after 80 more warm ones on the same data, 0.76 after 120
from scratch), so the error curves measure training time rather than data; and a model too small to
use what the hot data hold (that 16-feature model, trained to convergence) ends near 0.7 eV/Å whatever
it is given, QBC or random.
"""

from __future__ import annotations

import toolkit as tk
from problems.datasets import ActiveLearning, AtomisticDataset
from problems.molecule import organic
from toolkit import validate as v

from ..hipnn import HIPNN, HIPNNTraining

__all__ = ["hot_test_campaign", "TRAINING", "WARM"]

#: One committee member's training for :func:`hot_test_campaign` on C, H, O molecules.
TRAINING = HIPNNTraining(model=HIPNN(features=32, sensitivities=16, interactions=2, atom_layers=1, cutoff=4.0,
                                     soft_min=0.7, soft_max=3.0, species=("H", "C", "O")),
                         epochs=200, batch=8, learning_rate=1e-2, hierarchicality_weight=0.0, dtype="float64",
                         patience=None, keep="last")
#: Warm starts: each round retrains from the last round's weights (as ALF does).
WARM = dict(warm_start=True, warm_epochs=40, warm_learning_rate=3e-3)


def hot_test_campaign(formula: str = "CH3CH2OH", *, budget: int = 16, batch: int = 2, cold: int = 240,
                      hot: int = 12, oracle=None, scale: int = 1, data_seed: int = 0,
                      start: int = 10, test_temperature: float = 1200.0) -> ActiveLearning:
    """The campaign of the module docstring for the molecule ``formula`` (``problems.molecule.organic``):
    ``start`` snapshots of 300 K MD (one every 40 steps of 0.5 fs); pool ``cold`` snapshots of 300 K
    MD (one every 10 steps) and ``hot`` of 1200 K MD (one every 50 steps); test 40 snapshots of MD at
    ``test_temperature`` (one every 20 steps); each from its own run (seeds 1, 2, 5, 3, plus 10
    ``data_seed``: another draw of the same sets), labelled by ``oracle`` (``TBLite()`` when None; the
    pool's labels are dropped). ``budget`` oracle calls in rounds of ``batch``; ``scale`` > 1 shortens
    the start, hot and test runs by that factor (a smoke run)."""
    from ..sampling import sample_configurations
    from ..xtb import TBLite

    budget = v.integer("budget", budget, lower=1, upper=10 ** 6)
    batch = v.integer("batch", batch, lower=1, upper=budget)
    cold = v.integer("cold", cold, lower=0, upper=10 ** 6)
    hot = v.integer("hot", hot, lower=0, upper=10 ** 6)
    scale = v.integer("scale", scale, lower=1, upper=40)
    n_start = v.integer("start", start, lower=1, upper=10 ** 5)
    shift = 10 * v.integer("data_seed", data_seed, lower=0, upper=10 ** 9)
    if cold + hot < budget:
        raise tk.InvalidProblemError(f"cold + hot = {cold + hot} pool configurations is not allowed with budget = "
                                     f"{budget}: the pool must hold at least the budget")
    mol = organic(formula)
    oracle = TBLite() if oracle is None else oracle
    start = sample_configurations(mol, oracle, temperatures=[300.0], steps=40 * n_start // scale, every=40 // scale,
                                  seed=1 + shift)
    parts = []
    if cold:
        parts.append(sample_configurations(mol, oracle, temperatures=[300.0], steps=10 * cold, every=10, seed=2 + shift))
    if hot:
        every = max(1, 50 // scale)
        parts.append(sample_configurations(mol, oracle, temperatures=[1200.0], steps=every * hot, every=every,
                                           seed=5 + shift))
    pool = AtomisticDataset.concatenate([tk.remake(p, forces=None) for p in parts])
    test_temperature = v.real_scalar("test_temperature", test_temperature, lower=1.0, upper=1e4)
    test = sample_configurations(mol, oracle, temperatures=[test_temperature], steps=800 // scale, every=20,
                                 seed=3 + shift)
    return ActiveLearning(start, pool, oracle, budget=budget, test=test, rounds=-(-budget // batch))

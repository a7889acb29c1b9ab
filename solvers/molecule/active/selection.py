"""Who is asked next: the selection solvers of an ``ActiveLearning`` campaign and their picking rules.

:class:`QueryByCommittee` trains ``committee`` independently seeded models each round and asks the
oracle about the pool configurations on which they disagree most (Seung, Opper & Sompolinsky,
COLT 1992; Smith et al., J. Chem. Phys. 148, 241733 (2018)). The disagreement of configuration
``c`` is, with ``K`` members and sample standard deviations (``ddof = 1``) over them:

* ``"energy_spread"``: ``s_c = std_k E_k(c)`` (eV);
* ``"scaled_energy_spread"``: ``s_c = std_k E_k(c) / sqrt(N_c)`` (eV), ``N_c`` the atoms of ``c``: the
  "Less is more" / ANI-1x measure (Smith et al. 2018; TorchANI's ``energies_qbcs``), which puts
  molecules of different sizes on one scale (a sum of ``N_c`` independent atomic errors grows as
  ``sqrt(N_c)``);
* ``"force_spread"``:  ``s_c = max_i sqrt(sum_x std_k F_k,ix(c)^2)`` (eV/Å), the largest per-atom
  force uncertainty (the quantity LANL's ALF stops MD on).

A batch is picked greedily in order of decreasing ``s_c``, skipping a candidate closer than
``diversity`` (Å) to one already in the batch, by the *sorted-distance descriptor* distance

    d(a, b) = sqrt(mean_p (r_p(a) - r_p(b))^2)

with ``r(a)`` the sorted list of a configuration's interatomic distances (invariant to rotation,
translation and permutation of like atoms; ``inf`` between configurations of different
composition). If the pool runs out of candidates far enough apart, the batch is filled with the
best-scored of the skipped ones, so a round never wastes budget.

:class:`RandomSelection` is the baseline: one model a round (for the test errors) and a uniformly
random batch from the unlabelled pool. Swapping one for the other is a one-word change.

With a sampler that needs a committee (committee MD stops a run where the committee disagrees, ALF's
rule; normal modes are taken on the committee's mean), a baseline of one model draws other
candidates than QBC does: its runs never stop and go into broken molecules. The fair baseline then
trains as many models as QBC, ``RandomSelection(committee=K)``, so both draw from the same kind of
candidates and differ only in the pick (the test errors are the first member's, as for QBC).
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from toolkit import validate as v

from ..hipnn import HIPNN, HIPNNTraining
from problems.datasets import FitPotential

__all__ = ["QueryByCommittee", "RandomSelection", "CRITERIA", "ENERGY_CRITERIA", "spread_scores",
           "sorted_distances", "diverse_batch", "round_seed", "member_seed", "split_seed"]

_E = tk.InvalidSolverError
#: Disagreement measures :class:`QueryByCommittee` can rank the pool by.
CRITERIA = ("energy_spread", "scaled_energy_spread", "force_spread")
#: The criteria that rank by the committee's energies (eV), not its forces.
ENERGY_CRITERIA = ("energy_spread", "scaled_energy_spread")


def _training(value) -> HIPNNTraining:
    if not isinstance(value, HIPNNTraining):
        raise _E(f"model = {v.show(value)} is not allowed: give the training of one committee member, "
                 "HIPNNTraining(model=HIPNN(species=...), epochs=..., ...)")
    return value


class QueryByCommittee(tk.Solver):
    """Query by committee (module docstring): ``committee`` models trained by ``model`` (a
    :class:`HIPNNTraining`; each member gets its own seed from the round's ensemble), ranked by
    ``criterion``, a batch of ``batch`` configurations at least ``diversity`` Å apart (sorted-distance
    descriptor), ``seed`` for the committees. ``executor`` runs the oracle calls (``tk.Serial()`` when
    None; ``tk.Threads(k)``, ``tk.Processes(k)``, ``tk.Dask(...)``). ``warm_start=True``: after the
    first training, member ``k`` starts from its weights of the last round (as ALF retrains) and
    trains ``warm_epochs`` epochs (``model.epochs`` when None) at ``warm_learning_rate``
    (``model.learning_rate`` when None). ``member_splits=True``: each member holds out its own
    validation part (:func:`split_seed`), so every label trains most members but not all and the
    committee also disagrees where its members saw different data (query by bagging: Abe &
    Mamitsuka, ICML 1998); ``False``: one split a round, the members differ by their seeds only."""

    model: HIPNNTraining = HIPNNTraining()
    committee: int = 4
    criterion: str = "force_spread"
    batch: int = 8
    diversity: float = 0.02
    seed: int = 0
    executor: object = None
    warm_start: bool = False
    warm_epochs: int | None = None
    warm_learning_rate: float | None = None
    member_splits: bool = False

    stochastic = True
    supports_step = True
    held_solvers = {"model": FitPotential}

    def _validate(self):
        self._set("model", _training(self.model))
        self._set("committee", v.integer("committee", self.committee, lower=2, upper=1000, error=_E))
        self._set("criterion", v.choice("criterion", self.criterion, CRITERIA, error=_E))
        self._set("batch", v.integer("batch", self.batch, lower=1, upper=10 ** 6, error=_E))
        self._set("diversity", v.real_scalar("diversity", self.diversity, lower=0.0, upper=1e3, error=_E))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=2 ** 63 - 1, error=_E))
        _executor(self.executor)
        _warm(self)

    @classmethod
    def example(cls) -> "QueryByCommittee":
        """Two tiny argon models, two epochs each, batch 2."""
        return cls(model=_tiny_training(), committee=2, batch=2)


class RandomSelection(tk.Solver):
    """The baseline: ``batch`` configurations drawn uniformly (``seed``) from the unlabelled pool (or
    the round's candidates); ``committee`` models a round trained by ``model`` (default 1: more only
    to drive a committee sampler as QBC's does, see the module docstring; the picks stay random).
    ``executor``, ``warm_start``, ``warm_epochs``, ``warm_learning_rate`` and ``member_splits`` as for
    :class:`QueryByCommittee`."""

    model: HIPNNTraining = HIPNNTraining()
    committee: int = 1
    batch: int = 8
    seed: int = 0
    executor: object = None
    warm_start: bool = False
    warm_epochs: int | None = None
    warm_learning_rate: float | None = None
    member_splits: bool = False

    stochastic = True
    supports_step = True
    held_solvers = {"model": FitPotential}

    def _validate(self):
        self._set("model", _training(self.model))
        self._set("committee", v.integer("committee", self.committee, lower=1, upper=1000, error=_E))
        self._set("batch", v.integer("batch", self.batch, lower=1, upper=10 ** 6, error=_E))
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=2 ** 63 - 1, error=_E))
        _executor(self.executor)
        _warm(self)

    @classmethod
    def example(cls) -> "RandomSelection":
        return cls(model=_tiny_training(), batch=2)


def _tiny_training() -> HIPNNTraining:
    return HIPNNTraining(model=HIPNN(features=4, sensitivities=4, interactions=1, atom_layers=1, cutoff=6.0,
                                     soft_min=2.5, soft_max=5.5, species=("Ar",)), epochs=2, batch=4,
                         hierarchicality_weight=0.0, dtype="float64")


def _warm(solver):
    solver._set("member_splits", v.flag("member_splits", solver.member_splits, error=_E))
    solver._set("warm_epochs", v.integer("warm_epochs", solver.warm_epochs, lower=1, upper=10 ** 7, allow_none=True,
                                         error=_E))
    solver._set("warm_learning_rate", v.real_scalar("warm_learning_rate", solver.warm_learning_rate, lower=0.0,
                                                    lower_open=True, upper=1e6, allow_none=True, error=_E))


def _executor(value):
    if value is None or hasattr(value, "_members") or hasattr(value, "map"):
        return value
    raise _E(f"executor = {v.show(value)} is not allowed: give tk.Serial(), tk.Threads(k), tk.Processes(k) or "
             "tk.Dask(...) for the oracle calls, or None (tk.Serial())")


def round_seed(seed: int, round_index: int) -> int:
    """The seed of round ``round_index`` (its committee's ensemble seed, its random draw):
    ``SeedSequence(seed, spawn_key=(round_index,))``'s first 63-bit word."""
    state = np.random.SeedSequence(seed, spawn_key=(round_index,)).generate_state(1, dtype=np.uint64)[0]
    return int(state >> np.uint64(1))


def split_seed(training: int, member: int | None = None) -> int:
    """The ``split_seed`` of the ``training``-th training's ``FitPotential``: ``training`` itself when
    the members share the split (``member`` None); with ``member_splits``, member ``member``'s own,
    ``SeedSequence(training, spawn_key=(member, 2))``'s first 63-bit word."""
    if member is None:
        return training
    state = np.random.SeedSequence(training, spawn_key=(member, 2)).generate_state(1, dtype=np.uint64)[0]
    return int(state >> np.uint64(1))


def member_seed(ensemble_seed: int, member: int) -> int:
    """The training seed the core's ensembles give member ``member`` of an ensemble seeded
    ``ensemble_seed`` (``SeedSequence(ensemble_seed, spawn_key=(member, 1))``'s first word)."""
    return int(np.random.SeedSequence(ensemble_seed, spawn_key=(member, 1)).generate_state(1)[0])


# -- scoring ---------------------------------------------------------------------------------------

def spread_scores(energies: np.ndarray, forces: np.ndarray, offsets: np.ndarray, criterion: str) -> np.ndarray:
    """Disagreement ``s_c`` of each configuration (module docstring) from the members' predictions:
    ``energies`` (K, n) in eV, ``forces`` (K, atoms, 3) in eV/Å, structure ``c`` owning atoms
    ``offsets[c]:offsets[c+1]``."""
    if criterion == "energy_spread":
        return energies.std(axis=0, ddof=1)
    if criterion == "scaled_energy_spread":
        return energies.std(axis=0, ddof=1) / np.sqrt(np.diff(offsets))
    per_atom = np.sqrt((forces.std(axis=0, ddof=1) ** 2).sum(axis=1))
    return np.maximum.reduceat(per_atom, offsets[:-1])


def sorted_distances(dataset, k: int) -> np.ndarray:
    """The sorted interatomic distances (Å) of structure ``k`` of ``dataset``."""
    x = dataset.positions[dataset.offsets[k]:dataset.offsets[k + 1]]
    i, j = np.triu_indices(len(x), 1)
    return np.sort(np.linalg.norm(x[i] - x[j], axis=1))


def _key(dataset, k: int) -> bytes:
    return np.sort(dataset.species[dataset.offsets[k]:dataset.offsets[k + 1]]).tobytes()


def descriptor_distance(dataset, a: int, b: int) -> float:
    """``d(a, b)`` of the module docstring (Å; ``inf`` for different compositions)."""
    if _key(dataset, a) != _key(dataset, b):
        return float("inf")
    ra, rb = sorted_distances(dataset, a), sorted_distances(dataset, b)
    return float(np.sqrt(np.mean((ra - rb) ** 2))) if ra.size else 0.0


def diverse_batch(dataset, candidates: np.ndarray, scores: np.ndarray, size: int, diversity: float) -> np.ndarray:
    """Greedy pick of ``size`` of ``candidates`` by decreasing ``scores`` (ties: lower index first),
    each at least ``diversity`` Å (descriptor distance) from those already picked; filled with the
    best skipped ones when too few qualify."""
    order = np.lexsort((candidates, -scores))
    ranked = candidates[order]
    picked, skipped = [], []
    for c in ranked:
        if len(picked) == size:
            break
        if diversity > 0 and any(descriptor_distance(dataset, int(c), p) < diversity for p in picked):
            skipped.append(int(c))
        else:
            picked.append(int(c))
    picked.extend(skipped[:size - len(picked)])
    return np.asarray(picked, dtype=np.int64)

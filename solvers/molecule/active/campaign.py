"""The campaign: ``tk.init(ActiveLearning(...), QueryByCommittee(...) | RandomSelection(...))``.

One step is one round ``r`` (0-based):

1. (first round only) train the models on ``start`` and score them on ``test`` (point 0);
2. with a checkpoint path, write the checkpoint (the state at the round's start, models included);
3. the candidates: for a fixed pool, its configurations never asked before (named by pool index);
   for a sampler, the round's draw with the models of the last round (:mod:`.rounds`, named
   ``r * capacity + slot``; a round whose draw is empty ends the run, ``Success`` with a message);
4. pick ``min(batch, budget left, candidates)`` of them — by committee spread (:mod:`.selection`)
   or at random (``SeedSequence(seed, spawn_key=(r, 1))``);
5. ask the oracle (:mod:`.oracle`: the core's ensembles, answers durable at once, failures kept);
6. add the answers, retrain the models, score them on ``test`` (point ``r + 1``).

The models of a training are ``tk.solve(tk.EnsembleProblem(FitPotential(data, ("energy",
"forces"), validation, test=0, split_seed=t), n=K, seed=round_seed(seed, t)), model,
ensemble=tk.Serial())`` for the ``t``-th training (``K = committee``: 1 for random picks unless asked), so a
campaign is the same on every run and executor. With ``warm_start=True`` every training after
the first solves the same problem member by member with ``model`` remade to start from member
``k``'s last weights, ``warm_epochs`` epochs at ``warm_learning_rate`` and the seed the ensemble
would give member ``k``. The run ends early (``Success``, with a message)
when the budget or the pool is spent.

With a sampler the configurations asked about are kept in the state (``asked``, in the order of
``chosen``), since no pool holds them.

Resuming: the checkpoint of step 2 holds the models, so a resumed round draws and picks the same
configurations, and the oracle journal beside it (``CHECKPOINT.oracle.nc``) answers every call
that finished before the interruption (after checking that it answered the same configuration):
no finished oracle call is made twice.
``integrator.on_oracle_result(index, outcome)``, when set, runs after each answer is durable
(monitoring; the tests use it to interrupt a round).
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import numpy as np

import toolkit as tk
from problems.datasets import ActiveLearning, AtomisticDataset, FitPotential
from problems.molecule import PotentialEnergy
from toolkit.dispatch import dispatch

from ..hipnn import HIPNN
from .oracle import Journal, call_oracle
from .predict import predict_dataset
from .rounds import draw_candidates
from .selection import (ENERGY_CRITERIA, QueryByCommittee, RandomSelection, diverse_batch, member_seed, round_seed,
                        split_seed, spread_scores)
from .solution import ActiveLearningSolution

__all__ = ["CampaignIntegrator"]

_CURVES = ("calls", "labels", "energy_mae", "force_mae", "committee_energy_mae", "committee_force_mae",
           "spread_spearman")


class CampaignIntegrator(tk.Integrator):
    """The state of an active-learning campaign; one step is one round (module docstring)."""

    def __init__(self, problem: ActiveLearning, solver):
        super().__init__(problem, solver)
        missing = sorted(set(problem.start.composition()[1].tolist()) - _numbers(solver.model.model.species))
        if missing:
            from ase.data import chemical_symbols

            raise tk.InvalidProblemError(
                f"start holds {[chemical_symbols[z] for z in missing]}, which the model's species "
                f"{list(solver.model.model.species)} lack: give HIPNN(species=...) every element")
        self.committee_size = solver.committee
        self.on_oracle_result = None
        self.stopped = False
        self.committee: list | None = None
        self.trainings = 0
        self.chosen: list[int] = []
        self.chosen_round: list[int] = []
        self.added: list[int] = []
        self.failed: list[int] = []
        self.reasons: list[str] = []
        self.labels_e: list[float] = []
        self.labels_f: list[np.ndarray] = []
        self.asked: list[tuple[np.ndarray, np.ndarray]] = []       # (species, positions) of chosen; samplers only
        self.curves = {k: [] for k in _CURVES}
        self.last_spread, self.last_error = np.zeros(0), np.zeros(0)
        self._journal = None
        self.saved_journal: str = ""
        self.stats.update(train_time=0.0, score_time=0.0, oracle_time=0.0, sample_time=0.0)

    @property
    def done(self) -> bool:
        return getattr(self, "stopped", False) or super().done

    # -- data and models --------------------------------------------------------------------
    def dataset(self) -> AtomisticDataset:
        """The start set plus every oracle label so far."""
        start = self.problem.start
        if not self.added:
            return start
        new = self._configurations(self.added)
        new = AtomisticDataset._trusted(species=new.species, positions=new.positions, offsets=new.offsets,
                                        energies=np.array(self.labels_e), forces=np.concatenate(self.labels_f),
                                        ids=new.ids, source="oracle labels")
        keep = {k: getattr(start, k) for k in ("species", "positions", "offsets", "energies", "forces", "ids")}
        return AtomisticDataset.concatenate([AtomisticDataset._trusted(**keep, source=start.source), new])

    def _configurations(self, ids) -> AtomisticDataset:
        """The configurations named ``ids`` (pool indices, or names of asked sampler candidates)."""
        if self.problem.pool is not None:
            return self.problem.pool.subset(np.asarray(ids, dtype=np.int64))
        row = {i: k for k, i in enumerate(self.chosen)}
        parts = [self.asked[row[i]] for i in ids]
        counts = [len(z) for z, _ in parts]
        return AtomisticDataset._trusted(species=np.concatenate([z for z, _ in parts]),
                                         positions=np.concatenate([x for _, x in parts]),
                                         offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                                         energies=np.zeros(len(parts)), forces=None, cells=None, pbc=None,
                                         ids=np.asarray(ids, dtype=np.int64), source="asked candidates")

    def _train(self) -> None:
        t0 = time.perf_counter()
        problem, solver = self.problem, self.solver
        fit = FitPotential(self.dataset(), targets=("energy", "forces"), validation=problem.validation, test=0.0,
                           split_seed=split_seed(self.trainings))
        ensemble_seed = round_seed(solver.seed, self.trainings)
        if solver.warm_start and self.committee is not None:
            epochs = solver.model.epochs if solver.warm_epochs is None else solver.warm_epochs
            members = []
            for k, previous in enumerate(self.committee):
                rate = solver.model.learning_rate if solver.warm_learning_rate is None else solver.warm_learning_rate
                training = tk.remake(solver.model, model=previous, epochs=epochs, learning_rate=rate,
                                     seed=member_seed(ensemble_seed, k))
                own = _member_fit(fit, k, training=self.trainings) if solver.member_splits else fit
                members.append(tk.solve(own, training, progress=False).potential)
            self.committee = members
        else:
            vary = partial(_member_fit, training=self.trainings) if solver.member_splits else None
            runs = tk.EnsembleProblem(fit, vary=vary, n=self.committee_size, seed=ensemble_seed)
            solved = tk.solve(runs, solver.model, ensemble=tk.Serial(), progress=False)
            if solved.errors:
                raise RuntimeError(f"training {self.trainings} failed: {solved.message}")
            self.committee = [m.potential for m in solved.members]
        self.trainings += 1
        self.stats["train_time"] += time.perf_counter() - t0

    def _predict(self, dataset: AtomisticDataset) -> tuple[np.ndarray, np.ndarray]:
        """Members' energies (K, n) and forces (K, atoms, 3) on ``dataset``."""
        out = [predict_dataset(p, dataset, self.problem.charge, self.problem.spin) for p in self.committee]
        return np.array([e for e, _ in out]), np.array([f for _, f in out])

    def _score_test(self) -> None:
        test = self.problem.test
        energies, forces = self._predict(test)
        self.curves["calls"].append(len(self.chosen))
        self.curves["labels"].append(len(self.problem.start) + len(self.added))
        self.curves["energy_mae"].append(float(np.mean(np.abs(energies[0] - test.energies))))
        self.curves["force_mae"].append(float(np.mean(np.abs(forces[0] - test.forces))))
        self.curves["committee_energy_mae"].append(float(np.mean(np.abs(energies.mean(axis=0) - test.energies))))
        self.curves["committee_force_mae"].append(float(np.mean(np.abs(forces.mean(axis=0) - test.forces))))
        if self.committee_size > 1 and isinstance(self.solver, QueryByCommittee):
            from scipy.stats import spearmanr

            spread = spread_scores(energies, forces, test.offsets, self.solver.criterion)
            if self.solver.criterion in ENERGY_CRITERIA:
                error = np.abs(energies.mean(axis=0) - test.energies)
                if self.solver.criterion == "scaled_energy_spread":
                    error = error / np.sqrt(np.diff(test.offsets))
            else:
                error = np.maximum.reduceat(np.linalg.norm(forces.mean(axis=0) - test.forces, axis=1),
                                            test.offsets[:-1])
            rho = spearmanr(spread, error)[0] if len(spread) > 2 and np.ptp(spread) > 0 and np.ptp(error) > 0 \
                else 0.0
            self.curves["spread_spearman"].append(float(rho))
            self.last_spread, self.last_error = spread, error

    # -- picking and asking -------------------------------------------------------------------
    def _candidates(self) -> np.ndarray:
        asked = np.zeros(len(self.problem.pool), dtype=bool)
        asked[self.chosen] = True
        return np.flatnonzero(~asked)

    def _pick(self, round_index: int, size: int, source: AtomisticDataset, candidates: np.ndarray) -> np.ndarray:
        """``size`` rows of ``source`` among ``candidates``, by the solver's rule."""
        if isinstance(self.solver, RandomSelection):
            rng = np.random.default_rng(np.random.SeedSequence(self.solver.seed, spawn_key=(round_index, 1)))
            return np.sort(rng.choice(candidates, size=size, replace=False)).astype(np.int64)
        t0 = time.perf_counter()
        subset = source.subset(candidates)
        energies, forces = self._predict(subset)
        scores = spread_scores(energies, forces, subset.offsets, self.solver.criterion)
        picks = diverse_batch(source, candidates, scores, size, self.solver.diversity)
        self.stats["score_time"] += time.perf_counter() - t0
        return picks

    def journal(self) -> Journal:
        """The oracle journal: beside the checkpoint when there is one; else, for a campaign resumed
        without ``checkpoint=``, the journal its checkpoint named; else in memory."""
        if self.checkpoint_path is not None:
            path = Path(f"{self.checkpoint_path}.oracle.nc")
        else:
            path = Path(self.saved_journal) if self.saved_journal else None
        if self._journal is None or self._journal.path != path:
            self._journal = Journal(self.problem, path)
        return self._journal

    def _round(self, round_index: int) -> None:
        problem = self.problem
        if self.committee is None:
            self._train()
            self._score_test()
        size = min(self.solver.batch, problem.budget - len(self.chosen))
        if problem.pool is not None:
            size = min(size, len(self._candidates()))
        if size <= 0:
            self.stopped = True
            spent = "budget" if len(self.chosen) >= problem.budget else "pool"
            self.message = f"the {spent} is spent after {len(self.chosen)} oracle calls (round {round_index})"
            return
        if self.checkpoint_path is not None:
            self.checkpoint(self.checkpoint_path)
        if problem.pool is not None:
            source, candidates, names = problem.pool, self._candidates(), None
        else:
            t0 = time.perf_counter()
            source, names = draw_candidates(problem.sampler, self.committee, round_index)
            self.stats["sample_time"] += time.perf_counter() - t0
            if source is None:
                self.stopped = True
                why = _NOTHING_DRAWN.get(type(problem.sampler).__name__, _NOTHING_DRAWN[None])
                self.message = (f"the sampler drew no candidate in round {round_index} (after {len(self.chosen)} "
                                f"oracle calls): {why}")
                return
            candidates = np.arange(len(source), dtype=np.int64)
            size = min(size, len(source))
        rows = self._pick(round_index, size, source, candidates)
        picks = rows if names is None else names[rows]
        configurations = source.subset(rows)
        t0 = time.perf_counter()
        journal = self.journal()
        hook = None if self.on_oracle_result is None else (lambda i, out: self.on_oracle_result(i, out))
        call_oracle(problem, picks, self.solver.executor, journal, hook, configurations=configurations)
        self.stats["oracle_time"] += time.perf_counter() - t0
        for k, i in enumerate(picks.tolist()):
            self.chosen.append(i)
            self.chosen_round.append(round_index)
            if names is not None:
                a, b = configurations.offsets[k], configurations.offsets[k + 1]
                self.asked.append((configurations.species[a:b].copy(), configurations.positions[a:b].copy()))
            if i in journal.failures:
                self.failed.append(i)
                self.reasons.append(journal.failures[i])
            else:
                self.added.append(i)
                self.labels_e.append(journal.energies[i])
                self.labels_f.append(journal.forces[i])
        self._train()
        self._score_test()

    def _advance(self, n: int) -> int:
        for k in range(n):
            self._round(self.step_index + k)
            if self.stopped:
                return k + 1
        return n

    # -- checkpoints --------------------------------------------------------------------------
    def _state(self) -> dict:
        return {"committee": [] if self.committee is None else list(self.committee), "trainings": self.trainings,
                "chosen": np.array(self.chosen, dtype=np.int64), "chosen_round": np.array(self.chosen_round,
                                                                                          dtype=np.int64),
                "added": np.array(self.added, dtype=np.int64), "failed": np.array(self.failed, dtype=np.int64),
                "reasons": list(self.reasons), "labels_e": np.array(self.labels_e, dtype=np.float64),
                "labels_f": (np.concatenate(self.labels_f) if self.labels_f else np.zeros((0, 3))),
                "curves": {k: np.array(c, dtype=np.float64) for k, c in self.curves.items()},
                "last_spread": self.last_spread.copy(), "last_error": self.last_error.copy(),
                "stopped": bool(self.stopped),
                "asked_species": (np.concatenate([z for z, _ in self.asked]) if self.asked
                                  else np.zeros(0, dtype=np.int64)),
                "asked_positions": np.concatenate([x for _, x in self.asked]) if self.asked else np.zeros((0, 3)),
                "asked_offsets": np.concatenate([[0], np.cumsum([len(z) for z, _ in self.asked])]).astype(np.int64),
                "journal": "" if self.checkpoint_path is None else str(Path(f"{self.checkpoint_path}.oracle.nc"))}

    def _load_state(self, state: dict) -> None:
        bad = tk.FileFormatError
        pool = self.problem.pool
        committee = list(state["committee"])
        arch = tk.remake(self.solver.model.model, parameters=None)
        if committee and (len(committee) != self.committee_size or not all(
                isinstance(p, HIPNN) and p.parameters is not None and tk.remake(p, parameters=None) == arch
                for p in committee)):
            raise bad(f"the saved committee is not {self.committee_size} trained models of {arch!r}")
        ints = {k: np.asarray(state[k]) for k in ("chosen", "chosen_round", "added", "failed")}
        for k, a in ints.items():
            if a.ndim != 1 or (a.size and (a.dtype.kind not in "iu" or a.min() < 0)):
                raise bad(f"state entry {k!r} must be a 1-d array of non-negative integers")
        if pool is not None:
            for k in ("chosen", "added", "failed"):
                if ints[k].size and ints[k].max() >= len(pool):
                    raise bad(f"state entry {k!r} names a configuration past the pool's {len(pool)}")
        elif set(ints["added"].tolist()) | set(ints["failed"].tolist()) != set(ints["chosen"].tolist()):
            raise bad("the saved labels and failures are not the saved picks")
        asked = [] if pool is not None else self._asked_from(state, len(ints["chosen"]))
        if len(ints["chosen"]) != len(ints["chosen_round"]) or \
                len(ints["added"]) + len(ints["failed"]) != len(ints["chosen"]) or \
                len(np.unique(ints["chosen"])) != len(ints["chosen"]) or len(ints["chosen"]) > self.problem.budget:
            raise bad("the saved picks, labels and failures do not add up (or pass the budget)")
        labels_e = np.asarray(state["labels_e"], dtype=np.float64)
        labels_f = np.asarray(state["labels_f"], dtype=np.float64)
        if not ints["added"].size:
            counts = np.zeros(0, dtype=np.int64)
        elif pool is not None:
            counts = pool.n_atoms[ints["added"]]
        else:
            row = {i: k for k, i in enumerate(ints["chosen"].tolist())}
            counts = np.array([len(asked[row[i]][0]) for i in ints["added"].tolist()], dtype=np.int64)
        if labels_e.shape != ints["added"].shape or labels_f.shape != (int(counts.sum()), 3) or \
                not np.all(np.isfinite(labels_e)) or not np.all(np.isfinite(labels_f)):
            raise bad("the saved oracle labels do not fit the added configurations (or are not finite)")
        missing = [k for k in _CURVES if k not in state["curves"]]
        if missing:
            raise bad(f"the saved curves lack {missing} (a checkpoint of an older version: start the campaign afresh)")
        curves = {k: np.asarray(state["curves"][k], dtype=np.float64) for k in _CURVES}
        if any(not np.all(np.isfinite(c)) for c in curves.values()):
            raise bad("the saved curves hold non-finite values")
        starts = np.concatenate([[0], np.cumsum(counts)])
        self.committee = committee or None
        self.trainings = int(state["trainings"])
        self.chosen, self.chosen_round = ints["chosen"].tolist(), ints["chosen_round"].tolist()
        self.added, self.failed = ints["added"].tolist(), ints["failed"].tolist()
        self.asked = asked
        self.reasons = [str(r) for r in state["reasons"]]
        self.labels_e = labels_e.tolist()
        self.labels_f = [labels_f[starts[k]:starts[k + 1]].copy() for k in range(len(counts))]
        self.curves = {k: c.tolist() for k, c in curves.items()}
        self.last_spread = np.asarray(state["last_spread"], dtype=np.float64)
        self.last_error = np.asarray(state["last_error"], dtype=np.float64)
        self.stopped = bool(state["stopped"])
        if not isinstance(state["journal"], str):
            raise bad("state entry 'journal' must be a path (str)")
        self.saved_journal = state["journal"]

    def _asked_from(self, state: dict, n: int) -> list:
        """The saved sampler candidates that were asked about, checked against the problem."""
        bad = tk.FileFormatError
        if "asked_offsets" not in state:
            raise bad("the saved state of a sampled campaign must hold the configurations it asked about")
        species = np.asarray(state["asked_species"])
        positions = np.asarray(state["asked_positions"], dtype=np.float64)
        offsets = np.asarray(state["asked_offsets"])
        known = set(self.problem.start.species.tolist())
        if offsets.ndim != 1 or len(offsets) != n + 1 or offsets.dtype.kind not in "iu" or offsets[0] != 0 or \
                np.any(np.diff(offsets) < 1) or species.ndim != 1 or species.dtype.kind not in "iu" or \
                len(species) != offsets[-1] or positions.shape != (len(species), 3) or \
                not np.all(np.isfinite(positions)) or not set(species.tolist()) <= known:
            raise bad("the saved configurations asked about do not fit the picks (or hold elements start lacks)")
        return [(species[a:b].astype(np.int64), positions[a:b].copy()) for a, b in zip(offsets[:-1], offsets[1:])]

    # -- the solution --------------------------------------------------------------------------
    def solution(self) -> ActiveLearningSolution:
        curves = {k: np.array(c, dtype=np.float64) for k, c in self.curves.items()}
        curves["calls"] = curves["calls"].astype(np.int64)
        curves["labels"] = curves["labels"].astype(np.int64)
        common = self._common()
        if not self.chosen and self.committee is None and common["retcode"] is tk.ReturnCode.Success:
            common["retcode"] = tk.ReturnCode.Terminated
        return ActiveLearningSolution(
            **common, **curves, chosen=np.array(self.chosen, dtype=np.int64),
            chosen_round=np.array(self.chosen_round, dtype=np.int64), failed=np.array(self.failed, dtype=np.int64),
            failure_reasons=list(self.reasons), test_spread=self.last_spread.copy(),
            test_error=self.last_error.copy(), dataset=self.dataset(),
            potential=None if self.committee is None else self.committee[0])


#: Why a sampler gave no candidate, and what to change (the campaign's stop message).
_NOTHING_DRAWN = {
    "CommitteeMDSampler": "the committee agrees wherever it was sent (or every run diverged); lower the threshold, "
                          "raise the temperatures or run longer to go on",
    "NormalModeSampler": "no molecule had a stiff normal mode on the current model (or every draw was dropped); "
                         "try relax=False (the modes of the given geometry) or a better-trained starting model",
    None: "change the sampler's settings so that it gives configurations",
}


def _numbers(symbols) -> set:
    from ase.data import atomic_numbers

    return {atomic_numbers[s] for s in symbols}


@dispatch
def _init(problem: ActiveLearning, solver: QueryByCommittee | RandomSelection) -> CampaignIntegrator:
    return CampaignIntegrator(problem, solver)


def _member_fit(fit: FitPotential, member: int, rng=None, training: int = 0) -> FitPotential:
    """Member ``member``'s training problem with ``member_splits``: ``fit`` with the member's own split
    (:func:`.selection.split_seed`); also the ensemble's ``vary(problem, index, rng)``."""
    return tk.remake(fit, split_seed=split_seed(training, member))

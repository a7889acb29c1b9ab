"""A round's candidates: the campaign's sampler run with the committee of the last round.

``draw_candidates(sampler, committee, round_index)`` returns ``(candidates, ids)``: an unlabelled
:class:`~problems.datasets.AtomisticDataset` and the name of each candidate, ``ids[k] = r * C + j``
with ``C = sampler.capacity()`` and ``j`` the candidate's slot in round ``r`` (so names never
repeat across rounds, and a slot that gives nothing leaves a gap). Every random number of slot
``j`` comes from ``SeedSequence(sampler.seed, spawn_key=(r, j))``, and the models are the
committee's trained weights, so the draw follows from (seed, round, committee weights) alone: a
campaign resumed from its checkpoint (which holds the committee) draws the same candidates, bit
for bit, and its oracle journal checks that it did (:mod:`.oracle`).

* :class:`~problems.datasets.CommitteeMDSampler` — :func:`~.samplers.committee_run` of every
  (molecule, temperature, run) slot on the committee's mean force; a run that stops on the
  committee's spread gives its configuration (ALF); one that never does gives nothing, except for
  a committee of one model (no spread), whose runs give their last configuration. A run that
  diverges, or ends with two atoms closer than ``MIN_DISTANCE`` Å, gives nothing.

A configuration drawn twice in one round (runs stopped at once where they began, on the
committee's spread at the molecule's own geometry) is kept once, in its first slot.
* :class:`~problems.datasets.NormalModeSampler` — the potential whose normal modes are sampled is
  the committee's mean ``E(x) = mean_k E_k(x)`` (its forces are the mean forces): the model the
  campaign currently believes, as in the "Less is more" loop, where the current ensemble relaxes
  the molecule and gives its modes (Smith et al., J. Chem. Phys. 148, 241733 (2018)). The oracle
  is never asked for Hessians: every oracle call of a campaign is a budgeted label. With
  ``relax=True`` the molecule is first relaxed on the mean (L-BFGS-B, SciPy, to ``RELAX_GTOL``
  eV/Å or ``RELAX_STEPS`` iterations), no coordinate moving more than ``RELAX_REACH`` Å from the
  given geometry (a half-trained model may have no minimum nearby, or none at all); modes that
  are not stiff there are dropped (:func:`~.samplers.hessian_modes` with ``strict=False``), and a
  molecule left without a stiff mode gives nothing that round.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.datasets import AtomisticDataset, CommitteeMDSampler, NormalModeSampler

from ..potential import force_function
from .oracle import configuration_check
from .samplers import committee_run, hessian_modes, normal_mode_samples

__all__ = ["draw_candidates", "slot_seed", "MIN_DISTANCE"]

#: A drawn configuration with two atoms closer than this (Å) is dropped (a model driven off its data).
MIN_DISTANCE = 0.5
#: Relaxation on the committee's mean before its normal modes are taken: gradient tolerance (eV/Å), iterations.
RELAX_GTOL, RELAX_STEPS = 1e-4, 500
#: Farthest a coordinate moves (Å) in that relaxation.
RELAX_REACH = 0.5
#: A drawn configuration with a coordinate past this (Å) is dropped (atoms sent flying by a model).
MAX_COORDINATE = 1e4


def slot_seed(seed: int, round_index: int, slot: int) -> int:
    """The seed of slot ``slot`` of round ``round_index``: ``SeedSequence(seed, spawn_key=(round_index,
    slot))``'s first 63-bit word."""
    state = np.random.SeedSequence(seed, spawn_key=(round_index, slot)).generate_state(1, dtype=np.uint64)[0]
    return int(state >> np.uint64(1))


def draw_candidates(sampler, committee, round_index: int) -> tuple[AtomisticDataset | None, np.ndarray]:
    """``(candidates, ids)`` of round ``round_index`` (module docstring); ``(None, [])`` when no slot
    gave a configuration."""
    committee = list(committee)
    if not committee or not all(isinstance(p, tk.ForceProvider) for p in committee):
        raise tk.InvalidOptionError("committee must be one or more trained potentials (the last round's models)")
    if isinstance(sampler, CommitteeMDSampler):
        found = _committee_md(sampler, committee, round_index)
    elif isinstance(sampler, NormalModeSampler):
        found = _normal_modes(sampler, committee, round_index)
    else:
        raise tk.InvalidOptionError(f"sampler = {sampler!r} is not drawn round by round: give CommitteeMDSampler or "
                                    "NormalModeSampler (a FixedPool is the campaign's pool)")
    seen, kept = set(), []
    for j, z, x in found:                  # drop overlapping atoms, and repeats (runs stopped where they began)
        check = configuration_check(z, x)
        if _far_enough(x) and check not in seen:
            seen.add(check)
            kept.append((j, z, x))
    found = kept
    if not found:
        return None, np.zeros(0, dtype=np.int64)
    ids = np.array([round_index * sampler.capacity() + j for j, _, _ in found], dtype=np.int64)
    counts = [len(z) for _, z, _ in found]
    dataset = AtomisticDataset(species=np.concatenate([z for _, z, _ in found]),
                               positions=np.concatenate([x for _, _, x in found]),
                               offsets=np.concatenate([[0], np.cumsum(counts)]), energies=np.zeros(len(found)),
                               ids=ids, source=f"round {round_index} of {type(sampler).__name__}")
    return dataset, ids


def _far_enough(x: np.ndarray) -> bool:
    if not np.all(np.isfinite(x)) or np.abs(x).max() > MAX_COORDINATE:
        return False
    d = np.linalg.norm(x[:, None] - x[None], axis=-1) + np.eye(len(x)) * 1e9
    return bool(d.min() >= MIN_DISTANCE)


def _numbers(molecule) -> np.ndarray:
    from ase.data import atomic_numbers

    return np.array([atomic_numbers[s] for s in molecule.species], dtype=np.int64)


def _computes(molecule, committee):
    return [force_function(molecule, p)[1] for p in committee]


def _committee_md(sampler: CommitteeMDSampler, committee, round_index: int) -> list:
    found = []
    temps = sampler.temperatures.tolist()
    for m, molecule in enumerate(sampler.molecules):
        computes = _computes(molecule, committee)
        for t, temperature in enumerate(temps):
            for run in range(sampler.runs):
                slot = (m * len(temps) + t) * sampler.runs + run
                try:
                    out = committee_run(molecule, computes, temperature, sampler.steps, sampler.threshold,
                                        slot_seed(sampler.seed, round_index, slot), dt=sampler.dt,
                                        friction=sampler.friction, check_every=sampler.check_every)
                except tk.UnstableError:
                    continue
                if out.stopped or len(committee) == 1:
                    found.append((slot, _numbers(molecule), out.positions))
    return found


def committee_mean(computes):
    """``compute(x) -> (mean energy, mean forces, None)`` of the members' ``compute`` functions."""

    def compute(x):
        outs = [c(x) for c in computes]
        return (float(np.mean([o[0] for o in outs])),
                np.mean([np.asarray(o[1], dtype=np.float64) for o in outs], axis=0), None)

    return compute


def _relaxed(compute, x0: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize

    shape = x0.shape

    def energy_gradient(flat):
        energy, forces, _ = compute(flat.reshape(shape))
        return energy, -np.asarray(forces, dtype=np.float64).ravel()

    flat = x0.ravel()
    bounds = list(zip(flat - RELAX_REACH, flat + RELAX_REACH))
    result = minimize(energy_gradient, flat, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": RELAX_STEPS, "gtol": RELAX_GTOL})
    x = result.x.reshape(shape)
    return x if np.all(np.isfinite(x)) else x0


def _normal_modes(sampler: NormalModeSampler, committee, round_index: int) -> list:
    found = []
    temps = sampler.temperatures.tolist()
    for m, molecule in enumerate(sampler.molecules):
        compute = committee_mean(_computes(molecule, committee))
        x0 = np.array(molecule.positions, dtype=np.float64)
        if sampler.relax:
            x0 = _relaxed(compute, x0)
        if not _far_enough(x0):
            continue
        modes = hessian_modes(compute, molecule, x0, strict=False, who="the committee's mean")
        if len(modes.constants) == 0 or not np.all(np.isfinite(modes.constants)):
            continue
        centre = tk.remake(molecule, positions=x0)
        z = _numbers(molecule)
        n = molecule.n_atoms
        for t, temperature in enumerate(temps):
            block = m * len(temps) + t
            try:
                drawn = normal_mode_samples(centre, None, temperature, sampler.count,
                                            seed=slot_seed(sampler.seed, round_index, block), recipe=sampler.recipe,
                                            modes=modes, min_distance=sampler.min_distance)
            except RuntimeError:          # the temperature puts atoms on top of each other in almost every draw
                continue
            for k in range(sampler.count):
                found.append((block * sampler.count + k, z, drawn.positions[k * n:(k + 1) * n]))
    return found

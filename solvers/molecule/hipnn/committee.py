"""Committees of independently trained potentials: the spread of their predictions as an uncertainty.

A committee is the set of potentials of an ensemble of training runs,
``tk.solve(tk.EnsembleProblem(FitPotential(...), n=K), HIPNNTraining(...), ensemble=...)``:
the core gives member ``i`` the seed ``SeedSequence(ensemble_seed, spawn_key=(i, 1))``, so each
model starts from its own weights and sees its own batch order, and the committee is the same on
any executor. For a molecule the committee predicts the mean and the sample standard deviation
(``ddof=1``) of its members' energies (or forces); the spread estimates the model error where
training data are sparse (query by committee, Seung, Opper & Sompolinsky, COLT 1992; Smith et al.,
J. Chem. Phys. 148, 241733 (2018)).
"""

from __future__ import annotations

import numpy as np

import toolkit as tk

__all__ = ["committee_potentials", "committee_predict"]


def committee_potentials(members) -> list:
    """The potentials of ``members``: an ``EnsembleSolution`` of training runs (failed members
    skipped), or a sequence of training solutions or potentials."""
    if isinstance(members, tk.EnsembleSolution):
        members = members.successful_members
    out = []
    for k, member in enumerate(members):
        potential = getattr(member, "potential", member)
        if not isinstance(potential, tk.ForceProvider):
            raise tk.InvalidOptionError(f"potentials[{k}] = {type(member).__name__} is not allowed: give trained "
                                        "potentials, training solutions or an EnsembleSolution of training runs")
        out.append(potential)
    return out


def committee_predict(potentials, molecule, *, forces: bool = False):
    """``(mean, std)`` of the committee's energies (eV) for ``molecule`` (a problems.Molecule);
    with ``forces=True``, of its forces (eV/Å, ``(N, 3)`` arrays). ``std`` is the sample standard
    deviation over the members (``ddof=1``; 0 for a committee of one)."""
    from problems.molecule import Molecule, PotentialEnergy

    members = committee_potentials(potentials)
    if not members:
        raise tk.InvalidOptionError("potentials is empty: give at least one trained potential")
    if not isinstance(molecule, Molecule):
        raise tk.InvalidOptionError(f"molecule = {type(molecule).__name__} is not allowed: give a problems.Molecule")
    problem = PotentialEnergy(molecule)
    values = []
    for potential in members:
        solution = tk.solve(problem, potential)
        values.append(solution.forces if forces else solution.energy)
    values = np.asarray(values, dtype=np.float64)
    std = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros_like(values[0])
    mean = values.mean(axis=0)
    return (mean, std) if forces else (float(mean), float(std))

"""Tour case and spec vocabulary of active learning (its own family entry, beside ``molecule``):
the ``normal_mode_samples`` builder and the candidate samplers of ``ActiveLearning(sampler=...)``."""

from __future__ import annotations

import toolkit as tk

__all__ = ["tour_cases", "register"]


def tour_cases():
    """A tiny query-by-committee campaign: Ar3 triangles, an argon Lennard-Jones oracle, two
    two-epoch models, two oracle calls (a second or so)."""
    from problems.datasets import ActiveLearning

    from .selection import QueryByCommittee

    return [tk.TourCase("active learning, Ar3, query by committee (2 oracle calls)", ActiveLearning.example(0),
                        QueryByCommittee.example(), {"progress": False})]


def register():
    from problems.datasets import CommitteeMDSampler, FixedPool, NormalModeSampler

    from .samplers import normal_mode_samples

    tk.register_family(tk.Family(
        name="active-learning",
        title="Active learning of learned potentials: query by committee against a quantum oracle",
        tour=tour_cases,
        builders={"normal_mode_samples": normal_mode_samples},
        components={"CommitteeMDSampler": CommitteeMDSampler, "NormalModeSampler": NormalModeSampler,
                    "FixedPool": FixedPool},
    ))

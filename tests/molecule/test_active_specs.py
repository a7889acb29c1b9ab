"""The active-learning spec (``tutorials/specs/active-*.toml``) builds what it says, and
``scalebridge run`` runs it (shrunk to a few MD steps, one round and two epochs); the tour entry runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import toolkit as tk
from problems.datasets import ActiveLearning
from toolkit.spec import load_spec

tk.load_plugins()
SPEC = Path(__file__).parents[2] / "tutorials" / "specs" / "active-ethanol-xtb.toml"


pytestmark = pytest.mark.usefixtures("one_torch_thread")     # tests/molecule/conftest.py


def _shrunk(text: str) -> str:
    for old, new in (("steps = 400", "steps = 80"), ("steps = 300", "steps = 60"), ("epochs = 60", "epochs = 2"),
                     ("budget = 16", "budget = 2"), ("rounds = 4", "rounds = 1"), ("committee = 4", "committee = 2"),
                     ("batch = 4", "batch = 2"), ("every = 40", "every = 8"), ("warm_epochs = 15", "warm_epochs = 1")):
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_the_spec_builds_the_campaign_it_states(tmp_path):
    from solvers.molecule import TBLite
    from solvers.molecule.active import QueryByCommittee

    path = tmp_path / "active.toml"
    path.write_text(_shrunk(SPEC.read_text()))
    spec = load_spec(path)
    problem, solver = spec.problem, spec.solver
    assert isinstance(problem, ActiveLearning) and isinstance(solver, QueryByCommittee)
    assert problem.oracle == TBLite() and (problem.budget, problem.rounds) == (2, 1)
    assert set(problem.start.species.tolist()) == {1, 6, 8} and problem.test.has_forces
    assert solver.warm_start and solver.model.model.species == ("H", "C", "O")


def test_scalebridge_run_runs_the_active_learning_spec(tmp_path):
    from toolkit.cli import main

    path = tmp_path / "active.toml"
    path.write_text(_shrunk(SPEC.read_text()))
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) in (0, None)
    solution = tk.load(tmp_path / "out" / "active_ethanol_xtb.nc")
    assert solution.successful and solution.calls.tolist() == [0, 2]
    assert np.all(np.isfinite(solution.force_mae))
    assert (tmp_path / "out" / "active_ethanol_xtb.png").stat().st_size > 0


def test_the_tour_entry_runs():
    family = next(f for f in tk.families() if f.name == "active-learning")
    (case,) = family.tour()
    solution = tk.solve(case.problem, case.solver, **case.options)
    assert solution.successful and len(solution.chosen) == 2

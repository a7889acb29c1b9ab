"""The family's TOML specs parse and run; the tour cases succeed."""

from pathlib import Path

import pytest

import toolkit as tk
from toolkit.spec import load_spec, parse_spec

tk.load_plugins()
SPECS = sorted((Path(__file__).parents[2] / "tutorials" / "specs").glob("strain-signal-*.toml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_spec_runs(path):
    spec = load_spec(path)
    sol = tk.solve(spec.problem, spec.solver, **spec.options)
    assert sol.successful


def test_bad_spec_names_key():
    text = '[problem]\ntype = "StickSlipExperiment"\nstiffnes = 0.5\n[solver]\ntype = "SliderODE"\n'
    with pytest.raises(tk.SpecError, match="stiffnes"):
        parse_spec(text)


def test_tour_cases_succeed():
    from solvers.strain_signal import tour_cases

    for case in tour_cases():
        sol = tk.solve(case.problem, case.solver, **case.options)
        assert sol.successful, case.label


def test_every_pair_solves_its_examples():
    import problems.strain_signal as ps

    pairs = [(p, s) for p, s in tk.compatibility() if p.__module__ == ps.__name__]
    assert len(pairs) == 4
    for ptype, stype in pairs:
        for seed in range(2):
            assert tk.solve(ptype.example(seed), stype.example(), progress=False).successful


def test_solutions_save_and_load(tmp_path):
    import numpy as np

    from problems.strain_signal import StickSlipExperiment, TimeToFailure
    from solvers.strain_signal import RandomForest

    run = tk.solve(StickSlipExperiment.example(0), progress=False)
    tk.save(run, tmp_path / "run.nc")
    back = tk.load(tmp_path / "run.nc")
    np.testing.assert_array_equal(back.samples, run.samples)
    pred = tk.solve(TimeToFailure.example(0), RandomForest.example())
    tk.save(pred, tmp_path / "pred.nc")
    again = tk.load(tmp_path / "pred.nc")
    assert again.r2 == pred.r2 and again.feature_names == pred.feature_names

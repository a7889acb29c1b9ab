"""The HIP-NN specs (``tutorials/specs/hipnn-*.toml``) build the problem and solver they say, and
``scalebridge run`` trains from them (shrunk to a handful of molecules and epochs here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import toolkit as tk
from problems.datasets import FitPotential
from toolkit.spec import load_spec, parse_spec

tk.load_plugins()
SPECS_DIR = Path(__file__).parents[2] / "tutorials" / "specs"
SPECS = sorted(SPECS_DIR.glob("hipnn-*.toml"))


pytestmark = pytest.mark.usefixtures("one_torch_thread")     # tests/molecule/conftest.py


def _shrunk(text: str) -> str:
    """The QM9 spec with 40 molecules and 2 epochs."""
    assert "n = 200" in text and "epochs = 10" in text
    return text.replace("n = 200", "n = 40").replace("epochs = 10", "epochs = 2")


def test_there_is_a_qm9_spec():
    assert any(p.name == "hipnn-qm9.toml" for p in SPECS)


def test_qm9_spec_builds_the_subset_and_architecture_it_states():
    from solvers.molecule import HIPNN, HIPNNTraining, load_qm9

    spec = load_spec(SPECS_DIR / "hipnn-qm9.toml")
    problem, solver = spec.problem, spec.solver
    assert isinstance(problem, FitPotential) and isinstance(solver, HIPNNTraining)
    assert problem.targets == ("energy",) and (problem.validation, problem.test) == (0.1, 0.1)
    direct = load_qm9(n=200, seed=0)                      # the same seeded subset as calling the loader
    assert np.array_equal(problem.dataset.ids, direct.ids)
    assert np.array_equal(problem.dataset.energies, direct.energies)
    assert problem.split_sizes() == (160, 20, 20)
    assert solver.model == HIPNN(features=8, sensitivities=8, interactions=2, atom_layers=1, cutoff=5.0,
                                 soft_min=0.85, soft_max=5.0, species=("H", "C", "N", "O", "F"))
    assert (solver.epochs, solver.batch, solver.learning_rate, solver.dtype) == (10, 16, 2e-3, "float32")


def test_scalebridge_run_trains_from_the_qm9_spec(tmp_path):
    from toolkit.cli import main

    spec = tmp_path / "hipnn-qm9.toml"
    spec.write_text(_shrunk((SPECS_DIR / "hipnn-qm9.toml").read_text()))
    assert main(["run", str(spec), "--out", str(tmp_path / "out")]) in (0, None)
    assert (tmp_path / "out" / "hipnn_qm9.png").stat().st_size > 0
    fit = tk.load(tmp_path / "out" / "hipnn_qm9.nc")
    assert fit.successful and len(fit.epoch) == 2
    assert fit.metrics["n_train"] == 32 and fit.metrics["n_test"] == 4
    assert np.all(np.isfinite(fit.test_predicted)) and fit.potential.parameters is not None


@pytest.mark.parametrize("old, new, field", [
    ("n = 200", "n = 0", "n"),
    ('species = ["H", "C", "N", "O", "F"]', 'species = ["H", "C", "N", "O", "Xx"]', "species"),
    ('targets = ["energy"]', 'targets = ["energy", "forces"]', "targets"),      # QM9 has no forces
    ("epochs = 10", "epochs = 0", "epochs"),
])
def test_a_bad_value_in_the_spec_is_refused_by_field(old, new, field):
    text = (SPECS_DIR / "hipnn-qm9.toml").read_text()
    assert old in text
    with pytest.raises(tk.SpecError, match=field):
        parse_spec(text.replace(old, new), source="bad.toml")


def test_scalebridge_run_trains_from_the_water_xtb_spec(tmp_path):
    """The GFN2-xTB water spec samples, labels and trains (shrunk to 60 MD steps and 2 epochs)."""
    from toolkit.cli import main

    text = (SPECS_DIR / "hipnn-water-xtb.toml").read_text()
    assert "steps = 600" in text and "epochs = 25" in text
    spec = tmp_path / "hipnn-water-xtb.toml"
    spec.write_text(text.replace("steps = 600", "steps = 60").replace("epochs = 25", "epochs = 2"))
    assert main(["run", str(spec), "--out", str(tmp_path / "out")]) in (0, None)
    solution = tk.load(tmp_path / "out" / "hipnn_water_xtb.nc")
    assert solution.problem.targets == ("energy", "forces") and len(solution.problem.dataset) >= 10

"""The family's TOML specs parse and run (tiny), and ``scalebridge run`` executes them."""

from pathlib import Path

import numpy as np
import pytest

import toolkit as tk
from toolkit.spec import load_spec, parse_spec

tk.load_plugins()
SPECS = sorted((Path(__file__).parents[2] / "tutorials" / "specs").glob("spin-*.toml"))


def test_there_is_a_spin_spec():
    assert any(p.name == "spin-triangular.toml" for p in SPECS)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_spec_parses_and_runs_tiny(path):
    from problems.spin_dynamics import SpinDynamics
    from solvers.spin_dynamics import SIB

    spec = load_spec(path)
    assert isinstance(spec.problem, SpinDynamics) and isinstance(spec.solver, SIB)
    tiny = tk.remake(spec.problem, steps=10, save_every=5)
    sol = tk.solve(tiny, spec.solver, **{**spec.options, "progress": False})
    assert sol.successful and sol.spins.shape[0] == 3 and np.all(np.isfinite(sol.energy))


def test_scalebridge_run_executes_the_spec_tiny(tmp_path):
    from toolkit.cli import main

    text = (Path(__file__).parents[2] / "tutorials" / "specs" / "spin-triangular.toml").read_text()
    text = text.replace("steps = 800", "steps = 6").replace("save_every = 50", "save_every = 3")
    spec = tmp_path / "tiny.toml"
    spec.write_text(text)
    code = main(["run", str(spec), "--out", str(tmp_path / "out")])
    assert code in (0, None)
    assert (tmp_path / "out" / "spin-triangular.nc").exists()
    assert (tmp_path / "out" / "spin-triangular.png").exists()


def test_a_misspelt_key_is_named():
    text = '[problem]\ntype = "triple_q_quench"\nshape = 4\ndampng = 1.0\n[solver]\ntype = "SIB"\n'
    with pytest.raises(tk.SpecError, match="dampng"):
        parse_spec(text)

"""Family plumbing: every registered pair on the examples, tour, specs, save/load."""

from pathlib import Path

import numpy as np
import pytest

import toolkit as tk
from problems.tight_binding import TightBinding
from solvers.tight_binding import KPM, ExactDiagonalization, GradientProbing, Probing, RandomVectors
from toolkit import cli
from toolkit.spec import load_spec

SPECS = sorted((Path(__file__).parents[2] / "tutorials" / "specs").glob("tight-binding-*.toml"))


@pytest.mark.parametrize("seed", range(3))
def test_every_pair_solves_the_examples(seed):
    for solver_type in tk.solvers_for(TightBinding):
        sol = tk.solve(TightBinding.example(seed), solver_type.example())
        assert sol.successful, (solver_type, sol.message)
        assert np.all(np.isfinite(sol.dos)) and np.isfinite(sol.grand_potential)


@pytest.mark.parametrize("estimator", [RandomVectors(count=3), Probing(distance=1), GradientProbing(distance=1)])
def test_estimators_run_on_examples(estimator):
    for seed in range(2):
        assert tk.solve(TightBinding.example(seed), KPM(order=32, estimator=estimator)).successful


def test_tour_cases_succeed(tmp_path):
    rows = cli.run_tour(tmp_path, ["tight-binding"])
    assert rows and all(r["retcode"] == "Success" for r in rows), rows


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_specs_run(path, tmp_path):
    spec = load_spec(path)
    assert isinstance(spec.problem, TightBinding)
    assert cli.main(["run", str(path), "--out", str(tmp_path)]) == 0
    assert list(tmp_path.glob("*.png")) and list(tmp_path.glob("*.nc"))


def test_save_and_load_round_trip(tmp_path):
    p = TightBinding.example(1)
    sol = tk.solve(p, KPM(order=64, estimator=GradientProbing(distance=2), seed=3))
    path = tk.save(sol, tmp_path / "tb.nc")
    back = tk.load(path)
    assert back.problem == p and back.solver == sol.solver
    assert np.array_equal(back.density_matrix, sol.density_matrix) and back.grand_potential == sol.grand_potential


def test_compare_ed_and_kpm():
    table = tk.compare(TightBinding.example(2), [ExactDiagonalization(), KPM(order=512)])
    assert table is not None


@pytest.mark.slow
def test_tutorial_runs_small(tmp_path):
    import os
    import subprocess
    import sys

    root = Path(__file__).parents[2]
    env = {**os.environ, "SCALEBRIDGE_SMALL": "1", "SCALEBRIDGE_OUT": str(tmp_path), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(root / "tutorials" / "01_tight_binding.py")], env=env, cwd=root,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "fitted exponent" in done.stdout
    assert (tmp_path / "tight_binding_error_scaling.png").exists()


def test_benchmark_quick_runs():
    import os
    import subprocess
    import sys

    root = Path(__file__).parents[2]
    done = subprocess.run([sys.executable, str(root / "benchmarks" / "kpm.py"), "--quick"], cwd=root,
                          capture_output=True, text=True, timeout=900, env={**os.environ, "NUMBA_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert "fitted exponent" in done.stdout and "% of measured bandwidth" in done.stdout

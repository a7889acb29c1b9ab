"""The molecule specs run through ``scalebridge run``; the tour cases succeed; the benchmark smoke-runs."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

import toolkit as tk
from toolkit import cli
from toolkit.spec import load_spec

tk.load_plugins()
ROOT = pathlib.Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "tutorials" / "specs").glob("molecule-*.toml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_spec_parses_and_runs(path, tmp_path, capsys):
    spec = load_spec(path)
    assert isinstance(spec.problem, tk.Problem) and isinstance(spec.solver, tk.Solver)
    assert cli.main(["run", str(path), "--out", str(tmp_path)]) == 0
    assert any(p.suffix == ".nc" for p in tmp_path.iterdir())
    assert any(p.suffix == ".png" for p in tmp_path.iterdir())


def test_tour_cases_succeed(tmp_path):
    rows = cli.run_tour(tmp_path, ["molecule"])
    assert len(rows) >= 4
    assert all(r["retcode"] == "Success" for r in rows), rows


@pytest.mark.parametrize("script", ["benchmarks/md.py --quick"], ids=["md-quick"])
def test_benchmark_quick(script, tmp_path):
    env = dict(os.environ, NUMBA_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, *script.split()], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "atom-steps/s" in out.stdout

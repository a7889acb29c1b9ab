"""Tutorials (small size) and the benchmark (--quick) run as scripts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(args, tmp_path, timeout=900):
    env = {**os.environ, "SCALEBRIDGE_SMALL": "1", "SCALEBRIDGE_OUT": str(tmp_path), "MPLBACKEND": "Agg",
           "NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS", "1")}
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("script", ["02_channel_flow.py", "03_lid_driven_cavity.py", "04_cylinder_drag.py"])
def test_tutorial_runs_small(script, tmp_path):
    out = run([str(ROOT / "tutorials" / script)], tmp_path)
    assert "wrote" in out
    assert list(tmp_path.glob("*.png"))


def test_benchmark_quick(tmp_path):
    out = run([str(ROOT / "benchmarks" / "lbm.py"), "--quick"], tmp_path)
    assert "D2Q9 BGK float64, 1 core" in out and "load average" in out

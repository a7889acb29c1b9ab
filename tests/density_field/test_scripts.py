"""The tutorial (small sizes) and the benchmark (--quick) run to the end."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.slow
def test_tutorial_runs_small(tmp_path):
    env = dict(os.environ, SCALEBRIDGE_SMALL="1", SCALEBRIDGE_OUT=str(tmp_path), MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, str(ROOT / "tutorials" / "08_density_field.py")], env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert "onion" not in out.stderr and (tmp_path / "08_density_field.png").exists()


@pytest.mark.slow
def test_benchmark_quick():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "field.py"), "--quick"],
                         capture_output=True, text=True, timeout=900, env=dict(os.environ, NUMBA_NUM_THREADS="2"))
    assert out.returncode == 0, out.stderr
    assert "per image iteration" in out.stdout and "load average" in out.stdout

"""Every tutorial runs at small size and every benchmark runs with ``--quick``.

Tutorials are executed as scripts (as a user runs them) with ``SCALEBRIDGE_SMALL=1``, figures
going to a temporary ``SCALEBRIDGE_OUT`` and matplotlib's Agg backend; each must exit 0 and
write at least one figure. Benchmarks must exit 0 and print their figures.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))


#: What a script's output must also say, beyond exiting 0 (each script runs once in the suite: the
#: families' own script tests used to run the lattice Boltzmann and density-field ones a second time).
TUTORIAL_SAYS = {"02_channel_flow": ["wrote"], "03_lid_driven_cavity": ["wrote"], "04_cylinder_drag": ["wrote"]}
TUTORIAL_FIGURES = {"08_density_field": ["08_density_field.png"]}
TUTORIAL_STDERR_FREE_OF = {"08_density_field": ["onion"]}      # no warning from the onion-droplet search
BENCHMARK_SAYS = {"lbm": ["D2Q9 BGK float64, 1 core", "load average"], "field": ["per image iteration", "load average"]}


def _run(args, tmp_path, timeout):
    env = dict(os.environ, SCALEBRIDGE_SMALL="1", SCALEBRIDGE_OUT=str(tmp_path), MPLBACKEND="Agg",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_there_is_a_quickstart():
    assert (ROOT / "tutorials" / "00_quickstart.py").exists()


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_at_small_size(script, tmp_path):
    result = _run([str(script)], tmp_path, timeout=900)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    figures = [p for p in tmp_path.rglob("*") if p.suffix in {".png", ".pdf", ".svg"}]
    assert figures, f"{script.name} drew no figure into SCALEBRIDGE_OUT"
    for name in TUTORIAL_FIGURES.get(script.stem, []):
        assert (tmp_path / name).exists(), f"{script.name} did not draw {name}"
    for text in TUTORIAL_SAYS.get(script.stem, []):
        assert text in result.stdout, f"{script.name} did not print {text!r}:\n{result.stdout[-3000:]}"
    for text in TUTORIAL_STDERR_FREE_OF.get(script.stem, []):
        assert text not in result.stderr, f"{script.name} warned:\n{result.stderr[-3000:]}"


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.stem)
def test_benchmark_runs_quick(script, tmp_path):
    result = _run([str(script), "--quick"], tmp_path, timeout=900)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.stdout.strip(), f"{script.name} printed nothing"
    for text in BENCHMARK_SAYS.get(script.stem, []):
        assert text in result.stdout, f"{script.name} --quick did not print {text!r}:\n{result.stdout[-3000:]}"

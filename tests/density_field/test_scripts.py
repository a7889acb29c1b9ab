"""The benchmark's science map runs to the end on worker processes, and its table compares the right saddles.

(The tutorial at small size and ``benchmarks/field.py --quick`` run in tests/test_scripts.py, with the
checks this file used to make on them.)"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.slow
def test_science_map_quick_on_worker_processes(tmp_path):
    """The map's whole route (radial onion, Oh, SizeScan from both seeds, index checks, table,
    figure) at one depth on 32^3, its grid routes run in a tk.Processes pool: at 0.02 both grid
    routes end on the onion-like saddle of tests/density_field/test_science.py (2.4476e-4)."""
    figure = tmp_path / "map.png"
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "field.py"), "--quick", "--science", "--map-only",
                          "--workers", "2", "--figure", str(figure)],
                         capture_output=True, text=True, timeout=900, env=dict(os.environ, MPLBACKEND="Agg"))
    assert out.returncode == 0, out.stderr
    routes = [line.split() for line in out.stdout.splitlines() if line.split()[:2] in (["0.0200", "bcc"],
                                                                                         ["0.0200", "onion"])]
    assert len(routes) == 2 and all(r[2] == "2.4476e-04" and "yes" in r for r in routes), out.stdout
    assert "2 process(es)" in out.stdout and figure.exists()
    assert "the onion (spherical or onion-like) has the lower barrier up to eps - eps_s = 0.02" in out.stdout


def _field_benchmark():
    import importlib.util

    spec = importlib.util.spec_from_file_location("field_benchmark", ROOT / "benchmarks" / "field.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_map_table_compares_localized_saddles_and_lists_the_rest(capsys):
    """Columns (saddles spanning the box) and "mixed" shells are listed, not compared; unverified
    saddles are ignored; the onion wins where its barrier is lower or no bcc-like saddle exists."""
    rows = [(0.01, "radial", 2e-5, True, "spherical onion", 0.0),
            (0.01, "bcc", 1e-5, False, "bcc-like", 0.5),               # not index 1: ignored
            (0.02, "onion", 3e-4, True, "onion-like", 0.08),
            (0.02, "bcc", 4e-4, True, "bcc-like", 0.45),
            (0.025, "onion", 1.0e-3, True, "onion-like column", 0.1),  # lower, but a column
            (0.025, "bcc", 1.7e-3, True, "bcc-like", 0.49),
            (0.025, "Oh", 1.5e-3, True, "mixed", 0.19),
            (0.03, "Oh", 1e-2, False, "bcc-like", 0.4)]
    table, summary = _field_benchmark().map_table(rows, [0.01, 0.02, 0.025, 0.03])
    lower = {t[0]: t[4] for t in table}
    assert lower == {0.01: "onion", 0.02: "onion", 0.025: "bcc-like", 0.03: "none verified"}
    by_depth = {t[0]: t for t in table}
    assert by_depth[0.025][5:] == (1.5e-3, 1.0e-3) and by_depth[0.01][3] is None
    assert "up to eps - eps_s = 0.02" in summary and "from 0.025 on" in summary
    assert "1.5000e-03 (0.19)" in capsys.readouterr().out

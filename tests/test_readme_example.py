"""The README's "Using it" example runs as written.

The block is the ```python fence right after the line ``<!-- runnable-example -->``; it is run as
a script from a temporary folder (it writes ``kpm.nc`` there), with the repository importable,
as a user who pasted it into a file would run it.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
MARKER = "<!-- runnable-example -->"


def readme_example() -> str:
    """The code of the fenced block that follows the marker line in README.md."""
    text = (ROOT / "README.md").read_text()
    assert text.count(MARKER) == 1, f"README.md must hold exactly one {MARKER} line"
    match = re.match(r"\s*```python\n(.*?)\n```", text.split(MARKER, 1)[1], re.S)
    assert match, f"the line after {MARKER} in README.md must open a ```python block"
    return match.group(1)


def test_readme_example_is_about_ten_lines():
    code = [line for line in readme_example().splitlines() if line.strip()]
    assert 5 <= len(code) <= 12, f"the README example has {len(code)} lines of code; keep it about ten"


def test_readme_example_runs(tmp_path):
    script = tmp_path / "example.py"
    script.write_text(readme_example())
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"README example failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "chemical potential: exact" in result.stdout and "(Success)" in result.stdout, result.stdout
    assert (tmp_path / "kpm.nc").exists()

"""The README's quick start and CI agree: ``.ci/run`` runs exactly the README's test command."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _quick_start_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for block in re.findall(r"```(?:sh|bash)?\n(.*?)```", section, re.S)
            for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_readme_has_exactly_two_commands_and_ci_runs_the_second():
    commands = _quick_start_commands()
    assert len(commands) == 2, commands
    setup_and_tour, tests = commands
    assert setup_and_tour.endswith("scalebridge tour")
    assert "torch==2.13.0" in setup_and_tour and "torch==2.13.0" in tests, "pin torch: unpinned pulls a CUDA build"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in [line.strip() for line in ci], ".ci/run must run the README's test command verbatim"

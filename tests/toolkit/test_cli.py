"""The scalebridge command: list, run, compare, tour; specs are validated."""

import subprocess
import sys

import pytest

import toolkit as tk
from toolkit import cli
from toolkit.spec import parse_spec
from tests.toolkit import toy

SPEC = """
[problem]
type = "Decay"
x0 = [1.0, 2.0]
steps = 40
noise = 0.1
[solver]
type = "Euler"
seed = 3
[options]
progress = false
[output]
figure = "decay.png"
"""


def test_parse_spec_builds_validated_objects():
    spec = parse_spec(SPEC)
    assert spec.problem == toy.Decay(x0=[1.0, 2.0], steps=40, noise=0.1)
    assert spec.solver == toy.Euler(seed=3) and spec.options == {"progress": False}
    built = parse_spec('[problem]\ntype = "decay_from_list"\nx0 = [1.0]\n[solver]\ntype = "ExactDecay"\n')
    assert built.problem.x0.tolist() == [1.0]


@pytest.mark.parametrize("text,pattern", [
    ('[problem]\ntype = "Decay"\nx0 = [1.0]\n', r"missing \[solver\]"),
    ('[problm]\n[problem]\ntype = "Decay"\n[solver]\ntype="Euler"\n', "unknown section 'problm'"),
    ('[problem]\ntype = "Decayy"\nx0=[1.0]\n[solver]\ntype="Euler"\n', "Decayy.*Did you mean Decay"),
    ('[problem]\ntype = "Decay"\nx0=[1.0]\nratee=1\n[solver]\ntype="Euler"\n', "no parameter 'ratee'; it takes: x0, rate"),
    ('[problem]\ntype = "Decay"\nx0=[1.0]\nrate="fast"\n[solver]\ntype="Euler"\n', r"\[problem\] rate = 'fast'"),
    ('[problem]\ntype = "Decay"\n[solver]\ntype="Euler"\n', "needs 'x0'"),
    ('[problem]\ntype = "Decay"\nx0=[1.0]\n[solver]\ntype="Euler"\nseed=-2\n', r"\[solver\] seed"),
    ('[problem]\ntype = "Decay"\nx0=[1.0]\n[solver]\ntype="Decay"\nx0=[1.0]\n', "not a Solver"),
    ('[problem]\nx0=[1.0]\n[solver]\ntype="Euler"\n', "no 'type' key"),
    ('[problem\n', "not valid TOML"),
    ('[problem]\ntype = "Decay"\nx0=[1.0]\n[solver]\ntype="Euler"\n[output]\nfigure="../x.png"\n', "plain file name"),
])
def test_bad_specs_name_the_problem(text, pattern):
    with pytest.raises(tk.SpecError, match=pattern):
        parse_spec(text)


def test_run_writes_solution_summary_and_figure(tmp_path, capsys):
    spec = tmp_path / "decay.toml"
    spec.write_text(SPEC)
    assert cli.main(["run", str(spec), "--out", str(tmp_path / "out")]) == 0
    out = tmp_path / "out"
    sol = tk.load(out / "decay.nc")
    assert sol.successful and sol.problem.steps == 40
    assert "retcode   Success" in (out / "decay.txt").read_text()
    assert (out / "decay.png").stat().st_size > 1000
    assert "wrote" in capsys.readouterr().out


def test_run_reports_bad_spec_without_traceback(tmp_path, capsys):
    spec = tmp_path / "bad.toml"
    spec.write_text('[problem]\ntype = "Decay"\nx0=[1.0]\ndt=0\n[solver]\ntype="Euler"\n')
    assert cli.main(["run", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "[problem] dt = 0.0 is not allowed: must be > 0" in err and "Traceback" not in err


def test_compare_and_list_and_tour(tmp_path, capsys):
    spec = tmp_path / "decay.toml"
    spec.write_text(SPEC.replace("noise = 0.1", "noise = 0.0"))
    assert cli.main(["compare", str(spec), "--solvers", "Euler,ExactDecay", "--reference", "ExactDecay",
                     "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Euler(seed=3)" in out and "ExactDecay()" in out
    assert (tmp_path / "decay-compare.png").exists()
    assert cli.main(["list"]) == 0
    matrix = capsys.readouterr().out
    assert "[toolkit]" in matrix or "Decay" in matrix
    assert "Scaled.inner solves Total: " in matrix and "NumpySum" in matrix.split("Scaled.inner")[1]
    assert cli.main(["tour", "--family", "toy", "--out", str(tmp_path / "tour")]) == 0
    out = capsys.readouterr().out
    assert "decay with noise" in out and "2 cases, 2 succeeded" in out
    assert (tmp_path / "tour" / "toy-decay-with-noise.png").exists()


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "toolkit.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "tour" in result.stdout


def test_summary_prints_the_solution_warnings():
    sol = tk.solve(toy.Total(values=[1.0]), toy.NumpySum())
    sol.stats["warnings"] = ["energy drift 2 % exceeds warn_drift = 1 %"]
    text = cli._summary("x.toml", sol, 0.1)
    assert "warning   energy drift 2 % exceeds warn_drift = 1 %" in text

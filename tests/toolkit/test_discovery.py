"""Names and discovery: misspelled names get the closest valid ones, builders are listed, the
spec docstring's example runs, the version, licence and changelog are there (issue 22, items 5-6)."""

from __future__ import annotations

import inspect
import pickle
import re
import textwrap
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import problems
import solvers
import toolkit as tk
from toolkit import _struct, cli, spec as spec_module
from toolkit.dispatch import compatibility
from toolkit.spec import parse_spec
from tests.toolkit import toy

ROOT = Path(__file__).resolve().parents[2]


# -- close matches ---------------------------------------------------------------------------------

def test_close_matches_ignore_case_and_find_prefixes():
    assert _struct.close_matches("KMP", ["KPM", "ExactDiagonalization"]) == ["KPM"]
    assert _struct.close_matches("kpm", ["KPM", "TRT"]) == ["KPM"]
    assert _struct.close_matches("lattice", ["lattice_problem", "mu"]) == ["lattice_problem"]
    assert _struct.close_matches("zzzz", ["order", "seed"]) == []
    assert _struct.close_matches(3, ["order"]) == []
    assert _struct.did_you_mean("ordr", ["order", "seed"]) == " Did you mean order?"
    assert _struct.did_you_mean("xyz", ["order"]) == ""


# -- constructors ----------------------------------------------------------------------------------

def test_unknown_solver_keyword_names_field_close_match_and_all_fields():
    with pytest.raises(tk.InvalidSolverError) as info:
        solvers.KPM(ordr=10)
    text = str(info.value)
    assert "KPM has no field ordr; its fields are: order, kernel" in text and "Did you mean order?" in text
    for name in ("order", "kernel", "estimator", "seed", "bounds"):
        assert name in text
    # Old callers catching the TypeError Python raised, and the project's ValueError convention, both hold.
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert isinstance(info.value, tk.ScalebridgeError)


def test_unknown_problem_keyword_is_an_invalid_problem_error():
    pattern = r"LatticeFluid has no field tua; its fields are: shape, .*\. Did you mean tau\?"
    with pytest.raises(tk.InvalidProblemError, match=pattern) as info:
        problems.LatticeFluid(shape=(8, 8), tua=0.8)
    assert isinstance(info.value, TypeError)


def test_unknown_component_keyword():
    with pytest.raises(TypeError, match=r"RandomVectors has no field cout; .*Did you mean count\?") as info:
        solvers.RandomVectors(cout=3)
    assert isinstance(info.value, ValueError)


def test_missing_and_extra_arguments_name_the_fields():
    with pytest.raises(tk.InvalidProblemError, match=r"LatticeFluid needs field shape; its fields are: shape"):
        problems.LatticeFluid(tau=0.8)
    with pytest.raises(tk.InvalidSolverError, match=r"KPM takes at most 8 positional arguments") as info:
        solvers.KPM(*range(9))
    assert isinstance(info.value, TypeError)
    with pytest.raises(tk.InvalidProblemError, match="both by position and by name"):
        toy.Decay([1.0], x0=[2.0])


def test_checked_constructors_keep_signature_values_and_errors():
    assert list(inspect.signature(solvers.KPM).parameters)[:2] == ["order", "kernel"]
    assert solvers.KPM(order=10).order == 10 and solvers.KPM(12).order == 12
    with pytest.raises(tk.InvalidSolverError) as info:   # a bad value is still the plain field error
        solvers.KPM(order=-1)
    assert not isinstance(info.value, TypeError)


def test_every_registered_problem_and_solver_suggests_its_fields():
    classes = {cls for pair in compatibility() for cls in pair}
    assert len(classes) > 20
    for cls in classes:
        fields = _struct.init_field_names(cls)
        error = tk.InvalidProblemError if issubclass(cls, tk.Problem) else tk.InvalidSolverError
        if not fields:
            with pytest.raises(error, match="has no field bogus; its fields are: none"):
                cls(bogus=1)
            continue
        typo = fields[0][:-1] + "Q" if len(fields[0]) > 3 else fields[0] + "Q"
        with pytest.raises(error) as info:
            cls(**{typo: 1})
        assert isinstance(info.value, TypeError), cls
        assert f"has no field {typo};" in str(info.value), cls
        assert f"Did you mean {fields[0]}" in str(info.value), cls


def test_several_unknown_fields_each_get_a_hint():
    with pytest.raises(tk.InvalidSolverError, match=r"no field ordr, sed; .*For 'ordr', did you mean order\? "
                                                   r"For 'sed', did you mean seed\?"):
        solvers.KPM(ordr=1, sed=2)


def test_field_errors_survive_pickling():
    with pytest.raises(tk.InvalidSolverError) as info:
        solvers.KPM(ordr=10)
    back = pickle.loads(pickle.dumps(info.value))
    assert type(back) is type(info.value) and str(back) == str(info.value)


def test_remake_names_the_unknown_field():
    with pytest.raises(tk.InvalidSolverError, match="ordr.*order"):
        tk.remake(solvers.KPM(), ordr=3)


# -- solve options ---------------------------------------------------------------------------------

def test_solve_option_typo_suggests_the_option():
    problem = toy.Total.example()
    with pytest.raises(tk.InvalidOptionError, match=r"allowed options: progress, scale, strict\. Did you mean scale\?"):
        tk.solve(problem, toy.LoopSum(), scal=2.0)
    with pytest.raises(tk.InvalidOptionError, match=r"For 'progres', did you mean progress\?.*For 'scal'"):
        tk.solve(problem, toy.LoopSum(), scal=2.0, progres=False)


# -- specs -----------------------------------------------------------------------------------------

TB = '[problem]\ntype = "lattice_problem"\nkind = "square"\nshape = [4, 4]\n'


@pytest.mark.parametrize("text,pattern", [
    (TB + '[solver]\ntype = "KMP"\n', r"type = 'KMP' is not a known problem, solver or builder\. Did you mean KPM\?"),
    ('[problem]\ntype = "lattice_problm"\nkind = "square"\nshape = [4]\n[solver]\ntype = "KPM"\n',
     r"Did you mean lattice_problem"),
    ('[problem]\ntype = "lattice_problem"\nkind = "square"\nshpe = [4]\n[solver]\ntype = "KPM"\n',
     r"no parameter 'shpe'; it takes: kind, shape.*Did you mean shape\?"),
    (TB + '[solver]\ntype = "KPM"\nordr = 3\n', r"\[solver\] KPM has no parameter 'ordr'.*Did you mean order\?"),
    (TB + '[solver]\ntype = "KPM"\n[options]\nprogres = false\n', r"unknown option 'progres'.*Did you mean progress\?"),
    (TB + '[solver]\ntype = "KPM"\n[optins]\nprogress = false\n', r"unknown section 'optins'.*Did you mean options\?"),
    (TB + '[solver]\ntype = "KPM"\n[output]\nfigur = "a.png"\n', r"unknown key 'figur'.*Did you mean figure\?"),
    (TB + '[solver]\ntyp = "KPM"\n', r"\[solver\] has no 'type' key \('typ' is not 'type'\)"),
])
def test_spec_typos_suggest_the_name(text, pattern):
    with pytest.raises(tk.SpecError, match=pattern):
        parse_spec(text)


def _docstring_example() -> str:
    doc = spec_module.__doc__
    block = doc.split("::\n", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


def test_spec_docstring_example_parses_and_solves(tmp_path):
    text = _docstring_example()
    assert '[problem]' in text and '[solver.estimator]' in text
    spec = parse_spec(text, source="toolkit/spec.py docstring")
    assert isinstance(spec.problem, problems.TightBinding) and isinstance(spec.solver, solvers.KPM)
    assert spec.problem.size <= 256 and spec.solver.estimator.count == 4
    solution = tk.solve(spec.problem, spec.solver, **spec.options_in(tmp_path))
    assert solution.successful
    assert spec.output_in(tmp_path, "solution", "x.nc").name == "square.nc"


# -- CLI -------------------------------------------------------------------------------------------

def test_list_shows_builders_with_signatures(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "Builders" in out
    for fam in tk.families():
        assert f"[{fam.name}]" in out
        for name in fam.builders:
            assert re.search(rf"^\s+{re.escape(name)}\(", out, re.M), name
    assert re.search(r"lattice_problem\(kind, shape, \*, periodic=True", out)


def test_compare_solver_typo_suggests_the_solver(tmp_path, capsys):
    path = tmp_path / "tb.toml"
    path.write_text(TB + '[solver]\ntype = "KPM"\norder = 16\n')
    assert cli.main(["compare", str(path), "--solvers", "KMP", "--out", str(tmp_path / "out")]) == 2
    assert "Did you mean KPM?" in capsys.readouterr().err


# -- LatticeFluid tau bound ------------------------------------------------------------------------

def test_lattice_fluid_tau_message_states_the_real_bound():
    with pytest.raises(tk.InvalidProblemError, match=r"tau = 0\.5000001.*must exceed 0\.5 \+ 1e-6"):
        problems.LatticeFluid(shape=(8, 8), tau=0.5000001)
    assert problems.LatticeFluid(shape=(8, 8), tau=0.5 + 2e-6).tau == 0.5 + 2e-6


# -- version, licence, changelog -------------------------------------------------------------------

def test_version_from_metadata_with_a_fallback(monkeypatch):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert tk.__version__ == metadata.version("scalebridge") and "__version__" in tk.__all__

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert tk._version() == pyproject


def test_license_matches_pyproject_and_changelog_exists():
    license_ = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    assert license_ == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 the scalebridge authors" in text
    assert "WITHOUT WARRANTY OF ANY KIND" in text
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog and f"## [{tk.__version__}]" in changelog
    for family in ("Tight binding", "Fluid", "Molecule", "Strain signal", "Density field", "Spin dynamics"):
        assert family in changelog


def test_remake_suggests_the_field():
    import solvers

    with pytest.raises(tk.InvalidSolverError, match=r"no field ordr; its fields are: order.*Did you mean order\?"):
        tk.remake(solvers.KPM(), ordr=3)

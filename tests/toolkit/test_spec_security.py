"""A TOML spec never runs code and never writes outside its output folder (issue 17, item 2).

Each crafted spec is refused with a message naming the section, the key and what is allowed,
and a marker file proves that nothing ran.
"""

from pathlib import Path

import pytest

import toolkit as tk
from toolkit import cli, spec as spec_module
from toolkit.family import Family, _FAMILIES
from toolkit.spec import parse_spec, vocabulary
from toolkit.family import load_plugins
from tests.toolkit import toy

load_plugins()   # every family's names, as `scalebridge run` sees them

DECAY = '[problem]\ntype = "Decay"\nx0 = [1.0]\nsteps = 20\n[solver]\ntype = "Euler"\n'


def _run(tmp_path, text, name="crafted"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return cli.main(["run", str(path), "--out", str(tmp_path / "out")])


# ----------------------------------------------------------------------------------------
# ASE calculators: only the in-process calculator classes are reachable by name

def _ase_spec(calculator: str, parameters: str) -> str:
    return ('[problem]\ntype = "PotentialEnergy"\n[problem.molecule]\ntype = "water"\n'
            f'[solver]\ntype = "ASECalculator"\ncalculator = "{calculator}"\n'
            f'[solver.parameters]\n{parameters}\n')


def _payloads(marker: Path):
    m = str(marker)
    return [
        ("ase.calculators.socketio:Popen", f'args = ["touch", "{m}"]'),           # runs a command
        ("ase.calculators.socketio:Popen", f'args = "touch {m}"\nshell = true'),
        ("ase.calculators.calculator:subprocess.Popen", f'args = ["touch", "{m}"]'),  # an attribute walk
        ("ase.calculators.calculator:os", ""),                                    # a module, not a class
        ("os:system", f'command = "touch {m}"'),                                  # outside ase
        ("ase.io:write", f'filename = "{m}"\nimages = []'),                       # ase, not a calculator
        ("ase.calculators.calculator:FileIOCalculator", f'command = "touch {m}"'),  # runs a program
        ("ase.calculators.cp2k:CP2K", f'command = "touch {m}"'),                  # a calculator that runs one
        ("ase.calculators.socketio:SocketIOCalculator", ""),
        ("ase.calculators.lammpsrun:LAMMPS", f'command = "touch {m}"'),
    ]


def test_spec_refuses_every_non_calculator_and_program_running_ase_name(tmp_path, capsys):
    pytest.importorskip("ase")
    marker = tmp_path / "ran.txt"
    for calculator, parameters in _payloads(marker):
        text = _ase_spec(calculator, parameters)
        with pytest.raises(tk.SpecError, match=r"\[solver\] calculator = .* is not allowed"):
            parse_spec(text)
        assert _run(tmp_path, text) == 2
        err = capsys.readouterr().err
        assert f"calculator = {calculator!r} is not allowed" in err and "lj, emt" in err, err
        assert "Traceback" not in err
    assert not marker.exists()
    assert not (tmp_path / "out" / "crafted.nc").exists()


def test_spec_refuses_calculator_parameters_that_name_commands_or_files(tmp_path):
    pytest.importorskip("ase")
    marker = tmp_path / "ran.txt"
    for parameters, key in [(f'command = "touch {marker}"', "command"),
                            (f'directory = "{tmp_path / "elsewhere"}"', "directory"),
                            (f'label = "{tmp_path / "elsewhere" / "x"}"', "label"),
                            (f'restart = "{marker}"', "restart")]:
        with pytest.raises(tk.SpecError, match=rf"parameters\['{key}'\] is not allowed"):
            parse_spec(_ase_spec("lj", parameters))
    with pytest.raises(tk.SpecError, match=r"parameters\['sigma'\] = .* is not allowed: give numbers"):
        parse_spec(_ase_spec("lj", "sigma = {a = 1}"))
    assert not marker.exists() and not (tmp_path / "elsewhere").exists()


def test_spec_with_an_allowed_calculator_still_runs(tmp_path):
    pytest.importorskip("ase")
    built = parse_spec(_ase_spec("ase.calculators.lj:LennardJones", "sigma = 1.0\nepsilon = 0.01\nrc = 3.0"))
    assert built.solver.calculator == "ase.calculators.lj:LennardJones"
    assert tk.solve(built.problem, built.solver).successful


def test_python_api_validates_calculator_names_at_construction():
    pytest.importorskip("ase")
    from ase.calculators.calculator import BaseCalculator

    from solvers.molecule import ASECalculator
    from solvers.molecule.ase_bridge import _calculator_class

    for name in ("ase.calculators.socketio:Popen", "ase.calculators.cp2k:CP2K", "os:system", "EMT()",
                 "ase.calculators.emt:os"):
        with pytest.raises(tk.InvalidSolverError, match=r"calculator = .* is not allowed: give a short name"):
            ASECalculator(name)
    with pytest.raises(tk.InvalidSolverError, match=r"parameters\['command'\] is not allowed"):
        ASECalculator("emt", {"command": "touch x"})
    with pytest.raises(tk.InvalidSolverError, match=r"parameters\['neighbor_list'\]"):
        ASECalculator("morse", {"neighbor_list": print})
    for short, path in ASECalculator.CALCULATORS.items():
        assert issubclass(_calculator_class(short), BaseCalculator) and ASECalculator(path).calculator == path
    assert type(ASECalculator("emt").make()).__name__ == "EMT"


# ----------------------------------------------------------------------------------------
# Paths: every file an option names lies inside --out

@pytest.mark.parametrize("value,pattern", [
    ("/tmp/scalebridge-victim.nc", "absolute path"),
    ("../../x.nc", r"'\.\.' leaves the output folder"),
    ("ck/../../x.nc", r"'\.\.' leaves the output folder"),
    ("~/x.nc", "absolute path"),
    ("C:\\\\x.nc", "absolute path"),
    ("..\\\\x.nc", r"'\.\.' leaves"),
    ("", "give a relative file name"),
])
def test_checkpoint_outside_out_is_refused_before_running(tmp_path, value, pattern):
    text = DECAY + f'[options]\ncheckpoint = "{value}"\ncheckpoint_every = 5\n'
    with pytest.raises(tk.SpecError, match=r"\[options\] checkpoint = .*" + pattern):
        parse_spec(text)
    assert _run(tmp_path, text) == 2
    assert not (tmp_path / "out" / "crafted.nc").exists()


def test_checkpoint_is_written_inside_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = DECAY + '[options]\ncheckpoint = "ck/run.ckpt.nc"\ncheckpoint_every = 5\nprogress = false\n'
    assert _run(tmp_path, text, "decay") == 0
    assert (tmp_path / "out" / "ck" / "run.ckpt.nc").is_file()
    assert not (tmp_path / "ck").exists()
    spec = parse_spec(text)
    assert spec.paths == ("checkpoint",) and spec.options["checkpoint"] == "ck/run.ckpt.nc"
    resolved = Path(spec.options_in(tmp_path / "other")["checkpoint"])
    assert resolved == (tmp_path / "other" / "ck" / "run.ckpt.nc").resolve()


def test_symlink_out_of_the_output_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(outside, target_is_directory=True)
    text = DECAY + '[options]\ncheckpoint = "link/x.nc"\ncheckpoint_every = 5\n'
    assert _run(tmp_path, text) == 2
    victim = outside / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "out" / "decay.txt").symlink_to(victim)
    assert _run(tmp_path, DECAY + '[options]\nprogress = false\n', "decay") == 2
    assert victim.read_text() == "keep me" and list(outside.iterdir()) == [victim]
    with pytest.raises(tk.SpecError, match=r"\[output\] summary = 'decay.txt' leads to .*outside the output"):
        parse_spec(DECAY).output_in(tmp_path / "out", "summary", "decay.txt")


# ----------------------------------------------------------------------------------------
# Option types and shapes

@pytest.mark.parametrize("options,pattern", [
    ('strict = "false"', r"\[options\] strict = 'false' is not allowed: give true or false"),
    ('progress = "no"', r"\[options\] progress = 'no' is not allowed: give true or false"),
    ("strict = 0", r"\[options\] strict = 0 is not allowed"),
    ('checkpoint = "c.nc"\ncheckpoint_every = "10"', r"\[options\] checkpoint_every = '10' is not allowed"),
    ('checkpoint = "c.nc"\ncheckpoint_every = 0', r"checkpoint_every = 0 is not allowed: must be >= 1"),
    ('checkpoint = "c.nc"\ncheckpoint_seconds = -1.0', r"checkpoint_seconds = -1.0 is not allowed"),
    ("callbacks = []", r"\[options\] callbacks cannot be given in a spec"),
    ("speed = 3", r"unknown option 'speed' for solving Decay with Euler; allowed options: .*checkpoint"),
    ('sleep = {type = "Euler"}', r"\[options\] sleep = .* is not allowed: an option is a number"),
    ('sleep = "../../etc/x"', r"\[options\] sleep = .* looks like a path"),
    ('sleep = [1, ["/etc/x"]]', r"\[options\] sleep = .* looks like a path"),
    ("checkpoint = 3", r"\[options\] checkpoint = 3 is not allowed: give a relative file name"),
])
def test_bad_options_are_refused_by_type(options, pattern):
    with pytest.raises(tk.SpecError, match=pattern):
        parse_spec(DECAY + "[options]\n" + options + "\n")


def test_good_options_pass_unchanged():
    spec = parse_spec(DECAY + "[options]\nstrict = false\nprogress = false\nsleep = 0.0\n")
    assert spec.options == {"strict": False, "progress": False, "sleep": 0.0} and spec.paths == ()


def test_method_options_annotated_as_paths_are_resolved_inside_out(tmp_path, monkeypatch):
    def impl(problem, solver, *, log: Path | None = None, mode: str = "a"):
        raise AssertionError("never called")

    allowed = frozenset({"log", "mode", "strict", "progress"})
    monkeypatch.setattr(spec_module, "_methods", lambda problem, solver: (allowed, [impl]))
    spec = parse_spec(DECAY + '[options]\nlog = "logs/run.txt"\nmode = "w"\n')
    assert spec.paths == ("log",)
    assert Path(spec.options_in(tmp_path)["log"]) == (tmp_path / "logs" / "run.txt").resolve()
    with pytest.raises(tk.SpecError, match=r"\[options\] log = '/etc/passwd' is not allowed: an absolute"):
        parse_spec(DECAY + '[options]\nlog = "/etc/passwd"\n')
    with pytest.raises(tk.SpecError, match=r"\[options\] mode = 'a/b' is not allowed: it looks like a path"):
        parse_spec(DECAY + '[options]\nmode = "a/b"\n')


# ----------------------------------------------------------------------------------------
# Hostile shapes: deep nesting, huge files, odd types

@pytest.mark.parametrize("text", [
    "[problem]\na = " + "[" * 50_000 + "]" * 50_000 + "\n",
    "[problem]\na = " + "{b = " * 5_000 + "1" + "}" * 5_000 + "\n",
    "[problem." + ".".join(["a"] * 500) + "]\nx = 1\n",
    DECAY + "[options]\nsleep = " + "[" * 30 + "1" + "]" * 30 + "\n",
])
def test_deep_nesting_is_a_spec_error_not_a_recursion_error(text):
    with pytest.raises(tk.SpecError, match="nested too deeply"):
        parse_spec(text)


def test_huge_spec_and_odd_type_names_are_refused(tmp_path):
    with pytest.raises(tk.SpecError, match="at most"):
        parse_spec("# " + "x" * (spec_module.MAX_BYTES + 1))
    for kind in ("5", "true", "[1]", '{a = 1}'):
        with pytest.raises(tk.SpecError, match=r"\[problem\] type = .* is not a known problem"):
            parse_spec(f"[problem]\ntype = {kind}\n[solver]\ntype = \"Euler\"\n")


# ----------------------------------------------------------------------------------------
# The vocabulary refuses a name that means two things

def test_vocabulary_refuses_a_name_collision(monkeypatch):
    assert vocabulary()["Decay"] is toy.Decay
    monkeypatch.setitem(_FAMILIES, "clash", Family(name="clash", title="t", builders={"Decay": lambda: None}))
    with pytest.raises(tk.SpecError, match=r"'Decay' means two things: tests.toolkit.toy.Decay .*family 'clash'"):
        vocabulary()
    with pytest.raises(tk.SpecError, match="means two things"):
        parse_spec(DECAY)


def test_vocabulary_refuses_two_families_with_one_component_name(monkeypatch):
    monkeypatch.setitem(_FAMILIES, "one", Family(name="one", title="t", components={"Widget": dict}))
    monkeypatch.setitem(_FAMILIES, "same", Family(name="same", title="t", components={"Widget": dict}))
    assert vocabulary()["Widget"] is dict          # the same object twice is one name
    monkeypatch.setitem(_FAMILIES, "two", Family(name="two", title="t", components={"Widget": list}))
    with pytest.raises(tk.SpecError, match=r"'Widget' means two things: builtins.dict \(a component of family "
                                           r"'one'\) and builtins.list \(a component of family 'two'\)"):
        vocabulary()

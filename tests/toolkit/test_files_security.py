"""Opening a file never runs code; damaged, crafted and oversized files are refused by name.

Every record form that names a class (``__dataclass__``, ``__enum__``, ``__class__``) and
the tensor form are tried with payloads that would run a shell command if any of them were
looked up and called; the marker file the command would create must not appear.
"""

import json

import h5py
import numpy as np
import pytest

import toolkit as tk
from tests.toolkit import toy
from tests.toolkit.crafted import craft, record_of
from toolkit import io

CALLABLE_NAMES = ["os:system", "subprocess:Popen", "builtins:eval", "toolkit.io:os.system",
                  "toolkit.records:importlib.import_module", "toolkit:io.os.system",
                  "posix:system", "tests.toolkit.toy:np.lib.npyio.load"]


def _payloads(marker):
    command = f"touch {marker}"
    for name in CALLABLE_NAMES:
        yield {"__dataclass__": name, "fields": {"command": command}}
        yield {"__dataclass__": name, "fields": {}}
        yield {"__enum__": name, "value": command}
        yield {"__class__": name}
        yield {"__dict__": {"x": {"__tuple__": [{"__dataclass__": name, "fields": {"args": command}}]}}}
    yield {"__torch__": "r.x", "dtype": "load"}
    yield {"__torch__": "r.x", "dtype": "__class__"}
    yield {"__enum__": ["os", "system"], "value": command}
    yield {"__dataclass__": {"__class__": "os:system"}, "fields": {}}


@pytest.fixture(scope="module")
def solution_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("files") / "sol.nc"
    return tk.save(tk.solve(toy.Total(values=[1.0, 2.0]), toy.NumpySum()), path)


def test_no_payload_runs_on_load_or_resume(solution_file, tmp_path):
    marker = tmp_path / "PWNED"
    for i, tree in enumerate(_payloads(marker)):
        evil = craft(solution_file, tmp_path / f"evil{i}.nc", tree)
        with pytest.raises(tk.FileFormatError):
            tk.load(evil)
        evil_ck = craft(solution_file, tmp_path / f"evilck{i}.nc", tree, attrs={"kind": "checkpoint"})
        with pytest.raises(tk.FileFormatError):
            tk.resume(evil_ck)
        # the same payload nested inside an otherwise valid solution record
        record = record_of(solution_file)
        record["fields"]["stats"] = {"__dict__": {"extra": tree}}
        with pytest.raises(tk.FileFormatError):
            tk.load(craft(solution_file, tmp_path / f"nested{i}.nc", record))
    assert not marker.exists()


def test_registered_class_in_the_wrong_form_is_refused(solution_file, tmp_path):
    problem_class = record_of(solution_file)["fields"]["problem"]["__dataclass__"]
    evil = craft(solution_file, tmp_path / "e.nc", {"__enum__": problem_class, "value": 1})
    with pytest.raises(tk.FileFormatError, match="not"):
        tk.load(evil)
    evil = craft(solution_file, tmp_path / "d.nc",
                 {"__dataclass__": "toolkit.retcode:ReturnCode", "fields": {}})
    with pytest.raises(tk.FileFormatError, match="not"):
        tk.load(evil)
    record = record_of(solution_file)
    record["fields"]["problem"]["fields"]["__init__"] = 1
    with pytest.raises(tk.FileFormatError, match="unknown fields"):
        tk.load(craft(solution_file, tmp_path / "f.nc", record))


def test_load_returns_a_solution_and_resume_an_integrator(solution_file, tmp_path):
    for i, tree in enumerate([{}, [], 3, "x", {"__dict__": {}}, {"__tuple__": []}]):
        with pytest.raises(tk.FileFormatError):
            tk.load(craft(solution_file, tmp_path / f"s{i}.nc", tree))
        with pytest.raises(tk.FileFormatError):
            tk.resume(craft(solution_file, tmp_path / f"c{i}.nc", tree, attrs={"kind": "checkpoint"}))
    # a real solution dressed as a checkpoint
    with pytest.raises(tk.FileFormatError, match="not a checkpoint record"):
        tk.resume(craft(solution_file, tmp_path / "sol_as_ck.nc", attrs={"kind": "checkpoint"}))


def test_checkpoint_entries_are_checked(tmp_path):
    integ = tk.init(toy.Decay(x0=[1.0], steps=20), toy.Euler())
    integ.step(5)
    good = integ.checkpoint(tmp_path / "ck.nc")
    record = record_of(good)
    changes = {"step_index": [-1, 10**9, 2.5, True, "3"],
               "options": [{"__dict__": {"checkpoint": "/etc/passwd"}}, {"__dict__": {"callbacks": []}}],
               "retcode": ["Success", 1], "state": [[], 1], "message": [None]}
    for key, values in changes.items():
        for j, value in enumerate(values):
            tree = json.loads(json.dumps(record))
            tree["__dict__"][key] = value
            with pytest.raises(tk.FileFormatError, match="step_index|options|retcode|state|message"):
                tk.resume(craft(good, tmp_path / f"{key}{j}.nc", tree))
    assert tk.resume(good).step_index == 5


def test_deep_nesting_is_refused(solution_file, tmp_path):
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(tk.FileFormatError, match="nested"):
        tk.load(craft(solution_file, tmp_path / "deep.nc", tree_text=text))
    tree = 0
    for _ in range(100):
        tree = {"__tuple__": [tree]}
    with pytest.raises(tk.FileFormatError, match="nested"):
        tk.load(craft(solution_file, tmp_path / "deep2.nc", tree))


def test_declared_sizes_are_bounded_by_the_file(solution_file, tmp_path):
    import h5netcdf

    bomb = tmp_path / "bomb.nc"
    bomb.write_bytes(solution_file.read_bytes())
    with h5netcdf.File(bomb, "a") as f:
        f.dimensions["big0"] = 2**17
        f.dimensions["big1"] = 2**17
        f.create_variable("vbomb", ("big0", "big1"), "f8")  # never written: the file stays small
        kinds = json.loads(f.attrs["scalebridge_arrays"])
        kinds["vbomb"] = ["r.bomb", "plain", "float64"]
        f.attrs["scalebridge_arrays"] = json.dumps(kinds)
        table = json.loads(f.attrs["scalebridge_sha256"])  # recomputed, as an attacker would
        table["<record>"] = io._text_digest(f.attrs["scalebridge_record"] + f.attrs["scalebridge_arrays"])
        f.attrs["scalebridge_sha256"] = json.dumps(table)
    assert bomb.stat().st_size < 4 * 2**20
    with pytest.raises(tk.FileFormatError, match="declares arrays of"):
        tk.load(bomb)


def test_object_and_unknown_dtypes_are_refused(solution_file, tmp_path):
    with h5py.File(solution_file, "r") as f:
        kinds = json.loads(f.attrs["scalebridge_arrays"])
    name = next(iter(kinds))
    kinds[name][2] = "object"
    evil = tmp_path / "obj.nc"
    evil.write_bytes(solution_file.read_bytes())
    with h5py.File(evil, "a") as f:
        f.attrs["scalebridge_arrays"] = json.dumps(kinds)
    with pytest.raises(tk.FileFormatError):
        tk.load(evil)


def test_every_bit_flip_is_detected_or_harmless(tmp_path):
    """Flip one bit at spread positions: the load refuses the file, or returns the same solution."""
    sol = tk.solve(toy.Decay(x0=[1.0, -2.0], steps=30, noise=0.1), toy.Euler(seed=2))
    path = tk.save(sol, tmp_path / "sol.nc")
    data = path.read_bytes()
    detected = harmless = 0
    for position in np.linspace(0, len(data) - 1, 97).astype(int):
        flipped = bytearray(data)
        flipped[position] ^= 1 << int(position % 8)
        target = tmp_path / "flip.nc"
        target.write_bytes(bytes(flipped))
        try:
            back = tk.load(target)
        except tk.FileFormatError:
            detected += 1
            continue
        np.testing.assert_array_equal(back.x, sol.x)
        np.testing.assert_array_equal(back.times, sol.times)
        assert back.problem == sol.problem and back.solver == sol.solver and back.stats == sol.stats
        harmless += 1
    assert detected > 0


def test_array_checksum_names_the_damaged_array(tmp_path):
    sol = tk.solve(toy.Decay(x0=[1.0, -2.0], steps=30, noise=0.1), toy.Euler(seed=2))
    path = tk.save(sol, tmp_path / "sol.nc")
    damaged = craft(path, tmp_path / "damaged.nc", arrays={"r.x": np.asarray(sol.x) + 1e-12}, checksums=False)
    with pytest.raises(tk.FileFormatError, match=r"damaged: array 'r.x'"):
        tk.load(damaged)
    with h5py.File(damaged, "a") as f:
        del f.attrs["scalebridge_sha256"]
    with pytest.raises(tk.FileFormatError, match="checksum table"):
        tk.load(damaged)


def test_a_second_run_on_the_same_checkpoint_is_refused_and_stale_temps_go(tmp_path):
    path = tmp_path / "run.nc"
    stale = tmp_path / ".run.nc.abc123.tmp"
    stale.write_bytes(b"half a file")
    first = tk.init(toy.Decay(x0=[1.0], steps=50), toy.Euler(), checkpoint=path, checkpoint_every=10)
    second = tk.init(toy.Decay(x0=[1.0], steps=50), toy.Euler(), checkpoint=path, checkpoint_every=10)
    seen = []

    def try_second(integ):
        with pytest.raises(tk.InvalidOptionError, match="another run is checkpointing"):
            second.step(3)
        seen.append(integ.step_index)

    first.callbacks.append(tk.Callback(try_second, every=20))
    first.run()
    assert seen == [20, 40] and not stale.exists()
    assert second.run() is tk.ReturnCode.Success  # free once the first run has finished


def test_moved_classes_load_under_their_old_names(tmp_path):
    """Files written before a class moved module still load, through a registered alias."""
    from solvers.density_field import StringMethod

    sol = tk.solve(toy.Total(values=[1.0]), toy.NumpySum())
    path = tk.save(sol, tmp_path / "s.nc")
    record = record_of(path)
    record["fields"]["stats"] = {"__dict__": {"solver": {"__dataclass__": "solvers.density_field.barrier:StringMethod",
                                                         "fields": {}}}}
    back = tk.load(craft(path, tmp_path / "old.nc", record))
    assert type(back.stats["solver"]) is StringMethod
    with pytest.raises(TypeError, match="register"):
        tk.records.register_alias("x:Y", type("Unregistered", (), {}))

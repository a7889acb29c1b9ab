"""A checkpoint that does not fit its problem is refused before any kernel touches it."""

import numpy as np
import pytest

import toolkit as tk
from problems.lattice_fluid import LatticeFluid
from solvers.lattice_boltzmann import BGK, MRT, TRT
from toolkit.io import read_record, write_record


def checkpoint(tmp_path, solver, steps_done=3):
    """A real checkpoint of a periodic (in-place AA) run, and its decoded record."""
    p = LatticeFluid(shape=(6, 8), tau=0.7, force=[1e-5, 0.0], steps=10, save_every=2)
    path = tmp_path / "run.ckpt"
    integ = tk.init(p, solver, progress=False, checkpoint=path)
    integ.step(steps_done)
    integ.checkpoint(path)
    record, attrs = read_record(path, "checkpoint")
    return path, record


def rewrite(path, record, **state):
    """``record`` with ``state`` entries replaced, written back as a well-formed checkpoint."""
    record = dict(record)
    record["state"] = {**record["state"], **state}
    write_record(path, "checkpoint", record, {"step": record["step_index"]})


def test_the_unmodified_checkpoint_resumes(tmp_path):
    path, record = checkpoint(tmp_path, BGK())
    rewrite(path, record)
    resumed = tk.resume(path, progress=False)
    assert resumed.step_index == 3 and resumed.run().name == "Success"


def cases(f):
    """(label, populations, match): wrong shape, wrong dtype, a NaN, an infinity."""
    nan = f.copy()
    nan[2, 1, 0, 3] = np.nan
    inf = f.copy()
    inf[0, 0, 0, 0] = np.inf
    return [("fewer nodes", f[:, :-1].copy(), r"'f' has shape \(9, 5, 1, 8\).*needs shape \(9, 6, 1, 8\)"),
            ("more nodes", np.concatenate([f, f], axis=3), r"'f' has shape \(9, 6, 1, 16\)"),
            ("other lattice", np.zeros((19, 6, 1, 8)), r"'f' has shape \(19, 6, 1, 8\)"),
            ("flattened", f.reshape(9, -1).copy(), r"'f' has shape \(9, 48\)"),
            ("float32", f.astype(np.float32), "dtype float32.*dtype float64"),
            ("int", np.ones(f.shape, dtype=np.int64), "dtype int64"),
            ("nan", nan, "'f'.*1 non-finite"),
            ("inf", inf, "'f'.*1 non-finite")]


@pytest.mark.parametrize("solver", [BGK(), TRT(), MRT(), BGK(backend="numpy")])
def test_populations_that_do_not_fit_are_refused(tmp_path, solver):
    path, record = checkpoint(tmp_path, solver)
    for label, f, match in cases(record["state"]["f"]):
        rewrite(path, record, f=f)
        with pytest.raises(tk.FileFormatError, match=match):
            tk.resume(path, progress=False)


def test_float32_storage_refuses_float64_populations(tmp_path):
    path, record = checkpoint(tmp_path, BGK(precision="float32"))
    rewrite(path, record, f=record["state"]["f"].astype(np.float64))
    with pytest.raises(tk.FileFormatError, match="dtype float64.*needs shape .* dtype float32"):
        tk.resume(path, progress=False)


def test_frames_that_do_not_fit_are_refused(tmp_path):
    path, record = checkpoint(tmp_path, TRT(), steps_done=5)     # frames at steps 0, 2, 4
    state = record["state"]
    rho, u, force, steps = state["density"], state["velocity"], state["force"], state["frame_steps"]
    bad = [({"density": rho[:2]}, r"'density' has shape \(2, 6, 8\).*\(3, 6, 8\)"),
           ({"velocity": u[..., :1]}, r"'velocity' has shape \(3, 6, 8, 1\)"),
           ({"force": force.T.copy()}, r"'force' has shape \(2, 3\)"),
           ({"density": np.where(rho > 0, np.nan, rho)}, "'density'.*non-finite"),
           ({"frame_steps": np.array([0, 4, 2])}, "strictly increasing"),
           ({"frame_steps": np.array([0, 2, 40])}, "at most the problem's 10 steps"),
           ({"frame_steps": np.array([1, 2, 4])}, "from 0"),
           ({"frame_steps": np.array([0.0, 2.0, 4.0])}, "'frame_steps' has shape \\(3,\\) and dtype float64"),
           ({"frame_steps": steps[:2]}, r"'density' has shape \(3, 6, 8\).*needs shape \(2, 6, 8\)")]
    for change, match in bad:
        rewrite(path, record, **change)
        with pytest.raises(tk.FileFormatError, match=match):
            tk.resume(path, progress=False)


def test_a_state_without_populations_is_refused(tmp_path):
    path, record = checkpoint(tmp_path, BGK())
    record = dict(record)
    record["state"] = {k: v for k, v in record["state"].items() if k != "f"}
    write_record(path, "checkpoint", record, {"step": record["step_index"]})
    with pytest.raises(tk.FileFormatError, match=r"lacks \['f'\]"):
        tk.resume(path, progress=False)

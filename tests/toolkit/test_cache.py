"""tk.init for every pair (SolveCache), held solvers checked at resolution, learned state on file."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import toolkit as tk
from tests.toolkit import toy


@settings(max_examples=20, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=6),
       new=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=6))
def test_generic_cache_equals_a_fresh_solve(values, new):
    cache = tk.init(toy.Total(values=values), toy.LoopSum(), scale=2.0)
    assert isinstance(cache, tk.SolveCache)
    np.testing.assert_array_equal(cache.solve().total, tk.solve(toy.Total(values=values), toy.LoopSum(), scale=2.0).total)
    cache.update(values=new)
    fresh = tk.solve(toy.Total(values=new), toy.LoopSum(), scale=2.0)
    np.testing.assert_array_equal(cache.solve().total, fresh.total)
    assert cache.problem == toy.Total(values=new)


def test_cache_update_is_validated_and_options_checked():
    cache = tk.init(toy.Total(values=[1.0]), toy.NumpySum())
    with pytest.raises(tk.InvalidProblemError, match="values"):
        cache.update(values=[np.nan])
    with pytest.raises(tk.InvalidProblemError, match="has no field nope"):
        cache.update(nope=1)
    assert cache.problem == toy.Total(values=[1.0])  # a refused update changes nothing
    with pytest.raises(tk.InvalidOptionError, match="allowed options"):
        tk.init(toy.Total(values=[1.0]), toy.LoopSum(), scael=2)


def test_held_solver_is_checked_when_the_pair_is_resolved():
    problem = toy.Total(values=[1.0, 2.0])
    assert tk.solve(problem, toy.Scaled(inner=toy.LoopSum(), factor=3.0)).total[0] == 9.0
    with pytest.raises(tk.IncompatiblePairError) as err:
        tk.solve(problem, toy.Scaled(inner=toy.Euler(), factor=3.0))
    text = str(err.value)
    assert "Scaled.inner = Euler cannot serve Total" in text
    assert "Euler accepts Decay" in text and "LoopSum" in text and "NumpySum" in text
    with pytest.raises(tk.IncompatiblePairError, match="Scaled.inner"):
        tk.init(problem, toy.Scaled(inner=toy.ExactDecay()))
    # the check is cached per held type, not skipped: a good held solver after a bad one
    assert tk.solve(problem, toy.Scaled(inner=toy.NumpySum())).total[0] == 3.0
    with pytest.raises(tk.IncompatiblePairError):
        tk.solve(problem, toy.Scaled(inner=toy.Euler()))


def test_composed_pairs_are_listed():
    rows = tk.composed()
    row = next(r for r in rows if r[0] is toy.Scaled)
    assert row[1] == "inner" and row[2] is toy.Total
    assert toy.NumpySum in row[3] and toy.LoopSum in row[3] and toy.Scaled in row[3]


def test_learned_state_round_trips_without_pickle(tmp_path):
    """Torch tensors (trained parameters) are stored as arrays with their names and dtypes."""
    import torch

    from toolkit import io

    state = {"layer.weight": torch.randn(3, 4, dtype=torch.float32),
             "layer.bias": torch.randn(4, dtype=torch.float64).requires_grad_(),
             "steps": torch.tensor([3, 4], dtype=torch.int64),
             "half": torch.randn(5).to(torch.bfloat16), "mask": torch.tensor([True, False])}
    io.write_record(tmp_path / "model.nc", "model", {"state": state, "note": "trained"})
    back, _ = io.read_record(tmp_path / "model.nc", "model")
    assert back["note"] == "trained" and set(back["state"]) == set(state)
    for name, tensor in state.items():
        got = back["state"][name]
        assert isinstance(got, torch.Tensor) and got.dtype == tensor.dtype and got.shape == tensor.shape
        assert torch.equal(got, tensor.detach()), name
        assert got.requires_grad == tensor.requires_grad
    with open(tmp_path / "model.nc", "rb") as f:
        assert b"pickle" not in f.read()


def test_a_solution_carrying_tensors_saves_and_loads(tmp_path):
    import torch

    sol = tk.solve(toy.Total(values=[1.0]), toy.NumpySum())
    sol.stats["weights"] = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    back = tk.load(tk.save(sol, tmp_path / "s.nc"))
    assert torch.equal(back.stats["weights"], sol.stats["weights"])


def test_memory_estimate_refuses_before_allocating(monkeypatch):
    from toolkit import memory

    problem = toy.Total(values=np.ones(100))
    assert tk.memory_estimate(problem, toy.LoopSum()) == {"values": 800}
    assert tk.memory_estimate(problem, toy.NumpySum()) == {}
    monkeypatch.setattr(memory, "available_memory", lambda: 799)
    with pytest.raises(tk.InvalidProblemError, match=r"needs about .* GiB \(values .*\) but .* is available"):
        tk.solve(problem, toy.LoopSum())
    with pytest.raises(tk.InvalidProblemError, match="needs about"):
        tk.init(problem, toy.LoopSum())
    assert tk.solve(problem, toy.NumpySum()).total[0] == 100  # no estimate, no check
    monkeypatch.setattr(memory, "available_memory", lambda: 800)
    assert tk.solve(problem, toy.LoopSum()).total[0] == 100

"""Solver swapping with tk.compare."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import toolkit as tk
from tests.toolkit import toy

PROBLEM = toy.Decay(x0=[1.0, 2.0], rate=1.0, dt=0.05, steps=40, save_every=8)


def test_compare_against_a_reference_solver():
    table = tk.compare(PROBLEM, [toy.Euler(), toy.ExactDecay()], reference=toy.ExactDecay())
    assert table.retcodes == ["Success", "Success"]
    assert table.errors[1] == 0.0 and 1e-3 < table.errors[0] < 0.1   # Euler's O(dt) error
    assert table.pairwise.shape == (2, 2) and table.pairwise[0, 1] == table.errors[0]
    text = str(table)
    assert "Euler(seed=0)" in text and "ExactDecay()" in text and "reference ExactDecay()" in text
    df = table.to_pandas()
    assert list(df.columns) == ["retcode", "wall_time", "error"] and len(df) == 2
    ds = table.to_xarray()
    assert ds["pairwise"].dims == ("solver", "other")
    axes = table.plot()
    assert len(axes) == 2


def test_compare_without_reference_and_with_a_solution():
    table = tk.compare(PROBLEM, [toy.Euler(), toy.ExactDecay()])
    assert np.all(np.isnan(table.errors)) and table.pairwise[0, 1] > 0
    ref = tk.solve(PROBLEM, toy.ExactDecay())
    assert tk.compare(PROBLEM, [toy.ExactDecay()], reference=ref).errors[0] == 0.0
    with pytest.raises(TypeError, match="reference"):
        tk.compare(PROBLEM, [toy.ExactDecay()], reference="exact")
    with pytest.raises(ValueError):
        tk.compare(PROBLEM, [])


def test_error_shrinks_with_dt():
    errors = [tk.compare(tk.remake(PROBLEM, dt=dt, steps=int(round(2 / dt)), save_every=int(round(0.4 / dt))),
                         [toy.Euler()], reference=toy.ExactDecay()).errors[0] for dt in (0.05, 0.025)]
    assert errors[1] == pytest.approx(errors[0] / 2, rel=0.1)      # first order

"""StrainSignal and TimeToFailure validation."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import toolkit as tk
from problems.strain_signal import StrainSignal, TimeToFailure


def test_examples_are_valid_and_cycles_found():
    s = StrainSignal.example(0)
    starts = s.cycle_starts()
    assert starts[0] == 0 and starts.size == 4
    assert np.all(np.diff(s.time_to_failure)[np.setdiff1d(np.arange(s.n_samples - 1), starts[1:] - 1)] < 0)
    p = TimeToFailure.example(0)
    assert p.usable_cycles().tolist() == [1, 2] and p.test_cycle_set().tolist() == [2]
    assert "float64[" in repr(s)


@pytest.mark.parametrize("kwargs, field", [
    (dict(samples=[[1.0, 2.0]]), "samples"),
    (dict(samples=[1.0, np.nan, 2.0]), "samples"),
    (dict(samples=[1.0]), "samples"),
    (dict(sampling_rate=0.0), "sampling_rate"),
    (dict(time_to_failure=[1.0, 0.5]), "time_to_failure"),
    (dict(time_to_failure=[0.3, 0.2, -0.1]), "time_to_failure"),
    (dict(time_to_failure=[0.3, 0.2, 0.25]), "time_to_failure"),   # rises before reaching failure
    (dict(shear_stress=[1.0, 2.0]), "shear_stress"),
])
def test_bad_signal_names_field(kwargs, field):
    base = dict(samples=[1.0, 2.0, 3.0], sampling_rate=10.0)
    with pytest.raises(tk.InvalidProblemError, match=field):
        StrainSignal(**{**base, **kwargs})


@settings(max_examples=20, deadline=None)
@given(lengths=st.lists(st.integers(2, 30), min_size=1, max_size=6), rate=st.floats(1.0, 1e6))
def test_count_down_labels_are_accepted_and_cycles_counted(lengths, rate):
    ttf = np.concatenate([(n - np.arange(n)) / rate for n in lengths])
    s = StrainSignal(samples=np.zeros(ttf.size), sampling_rate=rate, time_to_failure=ttf)
    assert s.cycle_starts().size == len(lengths)


def test_time_to_failure_needs_labels_and_cycles():
    s = StrainSignal.example(0)
    with pytest.raises(tk.InvalidProblemError, match="time_to_failure"):
        TimeToFailure(signal=tk.remake(s, time_to_failure=None))
    with pytest.raises(tk.InvalidProblemError, match="window"):
        TimeToFailure(signal=s, window=100_000)
    with pytest.raises(tk.InvalidProblemError, match="usable slip cycle"):
        TimeToFailure(signal=s, window=450)
    with pytest.raises(tk.InvalidProblemError, match="signal"):
        TimeToFailure(signal=np.zeros(10))

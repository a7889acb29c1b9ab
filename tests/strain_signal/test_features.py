"""Window-feature kernels against their NumPy/SciPy reference (hypothesis), and their validation."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import toolkit as tk
from solvers.strain_signal import WindowFeatures, reference_features, window_features
from solvers.strain_signal.features import feature_matrix, noise_scale

FEATURES = WindowFeatures(quantiles=(0.0, 0.01, 0.3, 0.5, 0.99, 1.0), thresholds=(0.5, 2.0), peak_heights=(-1.0, 1.0),
                          lags=(1, 3), bands=((0.05, 0.3), (0.3, 0.8)))


def _check(x, window, stride, features, center, scale):
    ends = np.arange(window, x.shape[0] + 1, stride)
    got = window_features(x, ends, window, features, center, scale)
    want = reference_features(x, ends, window, features, center, scale)
    # Moments and filter outputs are sums of ~window terms in a different order than NumPy's
    # pairwise sums: agreement to ~1e-12 relative (of the data's scale) is rounding, not method.
    # Counts and quantiles (order statistics) must agree exactly.
    mag = max(1.0, float(np.max(np.abs(x))))
    names = features.names()
    for j, name in enumerate(names):
        if name.startswith(("exceed", "peaks", "q")):
            np.testing.assert_array_equal(got[:, j], want[:, j], err_msg=name)
        elif name in ("skew", "kurtosis"):
            np.testing.assert_allclose(got[:, j], want[:, j], rtol=1e-7, atol=1e-7, err_msg=name)
        else:
            scale_j = mag ** 2 if name.startswith(("var", "band")) else mag
            np.testing.assert_allclose(got[:, j], want[:, j], rtol=1e-9, atol=1e-11 * scale_j, err_msg=name)
    return got


@settings(max_examples=25, deadline=None)
@given(data=st.lists(st.integers(-60, 60), min_size=40, max_size=200), window=st.integers(16, 40),
       stride=st.integers(1, 30), center=st.integers(-3, 3))
def test_integer_windows_match_reference(data, window, stride, center):
    """ADC counts (integers): quantiles by the counting histogram; float64 and int16 inputs."""
    x = np.array(data, dtype=np.float64)
    got = _check(x, window, stride, FEATURES, float(center), 2.0)
    got16 = window_features(x.astype(np.int16), np.arange(window, x.size + 1, stride), window, FEATURES,
                            float(center), 2.0)
    np.testing.assert_allclose(got16, got, rtol=1e-12, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(data=st.lists(st.integers(-4000, 4000), min_size=30, max_size=150), window=st.integers(8, 30))
def test_non_integer_windows_match_reference(data, window):
    """Dyadic non-integers (exact in binary) take the sorting path for quantiles."""
    x = np.array(data, dtype=np.float64) / 8.0 + 0.125
    _check(x, window, 7, FEATURES, 0.0, 1.0)


def test_plateaus_and_constant_windows():
    """find_peaks counts a plateau once and ignores one touching the edge; constant windows give 0 moments."""
    x = np.array([0, 1, 1, 1, 0, 2, 2, 3, 3, 0, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4], dtype=np.float64)
    _check(x, 20, 1, FEATURES, 0.0, 1.0)
    flat = np.full(64, 7.0)
    got = _check(flat, 32, 16, FEATURES, 7.0, 1.0)
    assert np.all(got[:, 2:4] == 0)


def test_parallel_twin_agrees_and_noise_scale():
    rng = np.random.default_rng(1)
    x = np.round(rng.standard_t(3, size=5000) * 4)
    ends = np.arange(500, 5001, 250)
    f = WindowFeatures()
    serial = window_features(x, ends, 500, f, 0.0, 3.0)
    parallel = window_features(x, ends, 500, f, 0.0, 3.0, parallel=True)
    # order statistics and counts are exact; the band filters' sums are compiled separately in the two
    # twins (fastmath reassociation may vectorise them differently): they agree to round-off (seen 1e-15)
    exact = [i for i, name in enumerate(f.names()) if name[0] in "qep"]
    np.testing.assert_array_equal(serial[:, exact], parallel[:, exact])
    np.testing.assert_allclose(serial, parallel, rtol=1e-12, atol=0)
    center, scale = noise_scale(x)
    assert center == np.median(x) and scale > 0
    np.testing.assert_array_equal(feature_matrix(x, ends, 500, f), window_features(x, ends, 500, f, center, scale))


@pytest.mark.parametrize("field, value", [("quantiles", (0.5, 1.5)), ("lags", (0,)), ("bands", ((0.5, 0.2),)),
                                          ("bands", ((0.1, 1.0),)), ("band_order", 0), ("thresholds", (-1.0,))])
def test_feature_validation_names_field(field, value):
    with pytest.raises(tk.InvalidSolverError, match=field):
        WindowFeatures(**{field: value})


def test_feature_names_match_count():
    f = WindowFeatures()
    assert len(f.names()) == f.count and f.names()[1] == "var"


def test_higher_order_band_filters_and_long_lags_match_reference():
    """Cascaded sections (band_order > 1) and lags longer than a block take other code paths."""
    rng = np.random.default_rng(3)
    x = np.round(rng.normal(size=6000) * 6)
    f = WindowFeatures(bands=((0.1, 0.4), (0.5, 0.9)), band_order=3, lags=(1, 2500), quantiles=(0.5,))
    _check(x, 5000, 500, f, 0.0, 4.0)

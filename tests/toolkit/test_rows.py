"""``toolkit.kernels.rows``: a row kernel run serially or spread over threads gives the same bits."""

import numba
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from toolkit.kernels.rows import RowKernel


@njit(cache=True, nogil=True)
def _affine_rows(x0, x1, a, scale, shift):
    """a[x] ← scale·a[x] + shift·x on rows x0 ≤ x < x1; counts the entries that came out negative."""
    negative = 0
    for x in range(x0, x1):
        for j in range(a.shape[1]):
            a[x, j] = scale * a[x, j] + shift * x
            negative += a[x, j] < 0
    return negative


def _rows_of(a, *args):
    return a.shape[0]


def _reference(a, scale, shift):
    out = (scale * a.astype(np.float64) + shift * np.arange(len(a))[:, None]).astype(a.dtype)
    return out, int((out < 0).sum())


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 9), m=st.integers(1, 5), threads=st.sampled_from([1, 2]),
       dtype=st.sampled_from([np.float64, np.float32]), seed=st.integers(0, 99))
def test_parallel_equals_serial_and_reference(n, m, threads, dtype, seed):
    a = np.random.default_rng(seed).uniform(-1, 1, (n, m)).astype(dtype)
    expect, negative = _reference(a, 0.7, -0.1)
    serial, parallel = RowKernel(_affine_rows, _rows_of), RowKernel(_affine_rows, _rows_of, parallel=True)
    b, c = a.copy(), a.copy()
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        assert parallel(c, 0.7, -0.1) == negative
    finally:
        numba.set_num_threads(before)
    assert serial(b, 0.7, -0.1) == negative
    assert np.array_equal(b, c)
    np.testing.assert_allclose(b, expect, rtol=1e-6 if dtype == np.float32 else 1e-15, atol=1e-7)


def test_pointer_is_one_compiled_kernel_per_argument_types():
    kernel = RowKernel(_affine_rows, _rows_of, parallel=True)
    a64, a32 = np.ones((3, 2)), np.ones((3, 2), dtype=np.float32)
    p64 = kernel.pointer((a64, 1.0, 0.0))
    assert kernel.pointer((2 * a64, 3.0, 1.0)) is p64
    p32 = kernel.pointer((a32, 1.0, 0.0))
    assert p32 is not p64 and p32.__wrapper_address__() != p64.__wrapper_address__()
    assert "parallel" in repr(kernel) and "_affine_rows" in repr(kernel)

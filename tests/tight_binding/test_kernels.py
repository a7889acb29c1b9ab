"""Numba kernels agree with their NumPy/SciPy references (to rounding: 1e-12 relative)."""

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

from solvers.tight_binding import chebyshev as cb
from solvers.tight_binding.coloring import (distance_coloring, greedy_coloring_reference, is_valid_coloring,
                                            lattice_coloring)
from problems.tight_binding import lattice_hamiltonian
from toolkit.kernels import sparse as ks


def _random_hermitian(n, density, complex_, seed):
    A = sp.random(n, n, density=density, random_state=seed, format="csr")
    if complex_:
        A = A + 1j * sp.random(n, n, density=density, random_state=seed + 1, format="csr")
    return (A + A.conj().T).tocsr()


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 40), S=st.integers(1, 5), complex_=st.booleans(), parallel=st.booleans(),
       seed=st.integers(0, 1000))
def test_cheb_step_matches_reference(n, S, complex_, parallel, seed):
    A = _random_hermitian(n, 0.2, complex_, seed)
    ip, ix, data = ks.as_csr_arrays(A)
    rng = np.random.default_rng(seed)
    dtype = np.complex128 if complex_ else np.float64
    X = rng.normal(size=(n, S)).astype(dtype)
    P = rng.normal(size=(n, S)).astype(dtype)
    want, wnn, wnx = ks.cheb_step_reference(ip, ix, data, X, P, 0.7, -0.3)
    nn, nx = np.zeros(S), np.zeros(S, dtype=dtype)
    (ks.cheb_step_parallel if parallel else ks.cheb_step)(ip, ix, data, X, P, 0.7, -0.3, nn, nx)
    scale = 1 + np.abs(want).max()
    assert np.allclose(P, want, atol=1e-12 * scale)
    assert np.allclose(nn, wnn, rtol=1e-12, atol=1e-12 * scale**2)
    assert np.allclose(nx, wnx, rtol=1e-12, atol=1e-12 * scale**2)
    Y = np.empty_like(X)
    (ks.csr_matmat_parallel if parallel else ks.csr_matmat)(ip, ix, data, X, Y)
    assert np.allclose(Y, ks.csr_matmat_reference(ip, ix, data, X), atol=1e-12 * scale)


def test_real_matrix_with_complex_vectors():
    A = _random_hermitian(30, 0.2, False, 3)
    ip, ix, data = ks.as_csr_arrays(A)
    X = np.exp(1j * np.arange(60.0)).reshape(30, 2)
    Y = np.empty_like(X)
    ks.csr_matmat(ip, ix, data, X, Y)
    assert np.allclose(Y, A @ X)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 100), complex_=st.booleans(), parallel=st.booleans())
def test_pattern_accumulate_matches_reference(seed, complex_, parallel):
    rng = np.random.default_rng(seed)
    dtype = np.complex128 if complex_ else np.float64
    A, B = rng.normal(size=(12, 3)).astype(dtype), rng.normal(size=(12, 3)).astype(dtype)
    rows, cols = rng.integers(0, 12, 20).astype(np.int64), rng.integers(0, 12, 20).astype(np.int64)
    out = rng.normal(size=20).astype(dtype)
    want = cb.pattern_accumulate_reference(rows, cols, A, B, 0.5, out.copy())
    (cb.pattern_accumulate_parallel if parallel else cb.pattern_accumulate)(rows, cols, A, B, 0.5, out)
    assert np.allclose(out, want, atol=1e-13)


@settings(max_examples=10, deadline=None)
@given(kind=st.sampled_from(["chain", "square", "honeycomb", "kagome", "triangular"]), L=st.integers(3, 7),
       k=st.integers(1, 3), periodic=st.booleans())
def test_colorings_are_valid_and_greedy_matches_reference(kind, L, k, periodic):
    H = lattice_hamiltonian(kind, L, periodic=periodic)
    colors = distance_coloring(H, k)
    assert np.array_equal(colors, greedy_coloring_reference(H, k))
    assert is_valid_coloring(H, colors, k)
    if periodic:
        assert is_valid_coloring(H, lattice_coloring(kind, (L,) * (1 if kind == "chain" else 2), k, H), k)


def test_periodic_square_coloring_is_regular():
    H = lattice_hamiltonian("square", 8)
    colors = lattice_coloring("square", (8, 8), 2, H)
    assert colors.max() + 1 == 16      # period 4 (the smallest divisor of 8 above distance 2)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000), complex_=st.booleans(), n=st.integers(1, 60))
def test_lanczos_bounds_enclose_spectrum(seed, complex_, n):
    A = _random_hermitian(n, 0.3, complex_, seed)
    ev = np.linalg.eigvalsh(A.toarray())
    lo, hi = cb.lanczos_bounds(A, 40, seed)
    a, b = cb.scale_from_bounds(lo, hi)
    # Ritz values + residuals, then a 1 % pad: the scaled spectrum must sit inside [-1, 1]
    assert np.all(np.abs((ev - b) / a) <= 1.0 + 1e-9)


def test_damping_kernels():
    g = cb.damping("jackson", 64)
    assert abs(g[0] - 1) < 1e-12 and np.all(np.diff(g) < 0) and g[-1] > 0
    assert np.allclose(cb.damping(None, 8), 1) and abs(cb.damping("lorentz", 8)[0] - 1) < 1e-12


def test_block_width_pads_to_a_vectorisable_width():
    for S in range(1, 70):
        w = ks.block_width(S)
        assert w >= S
        if S < 5:
            assert w == S
        else:
            assert w % 4 == 0 and (w - S < 4 or w == 12)


@settings(max_examples=8, deadline=None)
@given(S=st.integers(1, 14), complex_=st.booleans(), order=st.integers(2, 40), seed=st.integers(0, 1000))
def test_moment_sweep_padding_does_not_change_moments(S, complex_, order, seed):
    """The padded block sweep gives each vector's moments as a one-vector sweep and the dense reference."""
    A = _random_hermitian(25, 0.2, complex_, seed)
    lo, hi = cb.gershgorin_bounds(A)
    a, b = cb.scale_from_bounds(lo, hi)
    ops = cb._Ops(A, a, b, False)
    rng = np.random.default_rng(seed)
    dtype = np.complex128 if complex_ else np.float64
    R = rng.normal(size=(25, S)).astype(dtype)
    R_in = R.copy()
    mu = cb.moment_sweep(ops, R, order)
    assert np.array_equal(R, R_in)                      # the caller's block is not touched
    assert mu.shape == (S, order)
    Ht = (A.toarray() - b * np.eye(25)) / a
    T0, T1 = R.copy(), Ht @ R
    want = [np.sum(np.conj(R) * T0, axis=0).real, np.sum(np.conj(R) * T1, axis=0).real]
    for _ in range(2, order):
        T0, T1 = T1, 2 * Ht @ T1 - T0
        want.append(np.sum(np.conj(R) * T1, axis=0).real)
    want = np.array(want).T
    assert np.allclose(mu, want, rtol=1e-10, atol=1e-10 * np.abs(want).max())
    for s in range(S):
        one = cb.moment_sweep(ops, R[:, s:s + 1], order)
        assert np.allclose(mu[s], one[0], rtol=1e-12, atol=1e-12 * np.abs(want).max())

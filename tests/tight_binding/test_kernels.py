"""Numba kernels agree with their NumPy/SciPy references (to rounding: 1e-12 relative)."""

import numpy as np
import pytest
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


def _piecewise_diagonal_matrix(n, offsets, breaks, complex_, seed):
    """A square matrix whose diagonals are piecewise constant (values from a small set, so
    consecutive rows often repeat) plus a few random entries: long and short pieces, rows with
    different numbers of entries, empty rows."""
    rng = np.random.default_rng(seed)
    rows, cols, vals = [], [], []
    choices = np.array([-1.0, 0.5, 2.0]) + (1j * np.array([0.0, 1.0, -0.5]) if complex_ else 0)
    for o in offsets:
        cuts = np.sort(rng.integers(0, n, breaks))
        level = rng.integers(0, 4, breaks + 1)          # level 3: the diagonal is absent there
        for i in range(max(0, -o), min(n, n - o)):
            lev = level[np.searchsorted(cuts, i, side="right")]
            if lev < 3:
                rows.append(i), cols.append(i + o), vals.append(choices[lev])
    for _ in range(rng.integers(0, 4)):
        rows.append(rng.integers(0, n)), cols.append(rng.integers(0, n)), vals.append(choices[0])
    dtype = np.complex128 if complex_ else np.float64
    return sp.csr_matrix((np.array(vals, dtype=dtype), (rows, cols)), shape=(n, n))


_structured = st.one_of(
    st.builds(lambda kind, L, periodic, onsite, complex_, seed: (
        lattice_hamiltonian(kind, L, periodic=periodic, onsite=onsite).astype(
            np.complex128 if complex_ else np.float64), complex_, seed),
        st.sampled_from(["chain", "square", "honeycomb", "triangular", "kagome"]), st.integers(3, 9), st.booleans(),
        st.sampled_from([0.0, 0.3]), st.booleans(), st.integers(0, 1000)),
    st.builds(lambda n, offs, breaks, complex_, seed: (
        _piecewise_diagonal_matrix(n, sorted(set(offs)), breaks, complex_, seed), complex_, seed),
        st.integers(1, 60), st.lists(st.integers(-12, 12), min_size=0, max_size=7), st.integers(0, 5),
        st.booleans(), st.integers(0, 1000)))


@settings(max_examples=25, deadline=None)
@given(case=_structured, S=st.integers(1, 14), parallel=st.booleans(), max_rows=st.sampled_from([3, 128]))
def test_cheb_step_pieces_matches_reference(case, S, parallel, max_rows):
    """Diagonal pieces rebuild the matrix exactly, and the piece step equals the CSR reference."""
    A, complex_, seed = case
    ip, ix, data = ks.as_csr_arrays(A)
    pcs = ks.diagonal_pieces(ip, ix, data, max_rows)
    assert np.all(pcs.hi - pcs.lo <= max_rows) and np.all(pcs.hi > pcs.lo)
    assert (abs(pcs.to_csr() - A)).sum() == 0                   # exact: same entries, same values
    rng = np.random.default_rng(seed)
    dtype = np.complex128 if complex_ else np.float64
    X = rng.normal(size=(A.shape[0], S)).astype(dtype)
    P = rng.normal(size=(A.shape[0], S)).astype(dtype)
    want, wnn, wnx = ks.cheb_step_reference(ip, ix, data, X, P, 0.7, -0.3)
    nn, nx = np.zeros(S), np.zeros(S, dtype=dtype)
    kernel = ks.cheb_step_pieces_parallel if parallel else ks.cheb_step_pieces
    kernel(pcs.lo, pcs.hi, pcs.ptr, pcs.offsets, pcs.values, X, P, 0.7, -0.3, nn, nx)
    scale = 1 + np.abs(want).max()
    # the same sums in another order: rounding only (1e-12 relative, as the CSR kernels)
    assert np.allclose(P, want, atol=1e-12 * scale)
    assert np.allclose(nn, wnn, rtol=1e-12, atol=1e-12 * scale**2)
    assert np.allclose(nx, wnx, rtol=1e-12, atol=1e-12 * scale**2)


@settings(max_examples=6, deadline=None)
@given(kind=st.sampled_from(["chain", "square", "honeycomb", "kagome"]), S=st.integers(1, 14), complex_=st.booleans(),
       seed=st.integers(0, 1000))
def test_moment_sweep_on_pieces_equals_csr_sweep(kind, S, complex_, seed):
    """The moments of a lattice are the same (to rounding) on diagonal pieces (unpadded) and on CSR (padded)."""
    H = lattice_hamiltonian(kind, 40 if kind == "chain" else 8, hoppings=(1.0, 0.3))
    if complex_:
        H = H.astype(np.complex128)
    a, b = cb.scale_from_bounds(*cb.gershgorin_bounds(H))
    on, off = cb._Ops(H, a, b, False, pieces=True), cb._Ops(H, a, b, False, pieces=False)
    assert on.pieces is not None and off.pieces is None
    assert on.width(S) == S and off.width(S) == ks.block_width(S)
    rng = np.random.default_rng(seed)
    R = rng.choice([-1.0, 1.0], size=(H.shape[0], S)).astype(H.dtype)
    R_in = R.copy()
    mu_on, mu_off = cb.moment_sweep(on, R, 64), cb.moment_sweep(off, R, 64)
    assert np.array_equal(R, R_in)
    # |mu_n| <= <r|r> = N; 64 recursion steps of rounding stay far below 1e-11 of that
    assert np.allclose(mu_on, mu_off, rtol=0, atol=1e-11 * H.shape[0])


def test_ops_picks_pieces_for_lattices_and_csr_for_unstructured_matrices():
    H = lattice_hamiltonian("square", 40)                   # 3 pieces per lattice row: 13 rows each
    a, b = cb.scale_from_bounds(*cb.gershgorin_bounds(H))
    assert cb._Ops(H, a, b, False).pieces.mean_rows > cb.PIECES_MIN_ROWS
    A = _random_hermitian(60, 0.2, False, 5)
    a, b = cb.scale_from_bounds(*cb.gershgorin_bounds(A))
    assert cb._Ops(A, a, b, False).pieces is None
    assert cb._Ops(A, a, b, False, pieces=True).pieces.mean_rows < cb.PIECES_MIN_ROWS


@settings(max_examples=10, deadline=None)
@given(kind=st.sampled_from(["chain", "square", "honeycomb", "kagome"]), complex_=st.booleans(),
       seed=st.integers(0, 1000), onsite=st.sampled_from([0.0, 0.7]))
def test_lanczos_on_pieces_equals_csr_lanczos(kind, complex_, seed, onsite):
    """The same Lanczos recursion with the product on diagonal pieces: the same bounds (to rounding)."""
    H = lattice_hamiltonian(kind, 30 if kind == "chain" else 6, hoppings=(1.0, 0.4), onsite=onsite)
    if complex_:
        H = H.astype(np.complex128)
    pcs = ks.diagonal_pieces(*ks.as_csr_arrays(H))
    ev = np.linalg.eigvalsh(H.toarray())
    # 5 steps, before any Ritz value converges: the two agree to rounding (|H| <= 7, 1e-10 is generous).
    # 40 steps on these 36-108 site lattices: converged Ritz values make finite-precision Lanczos
    # lose orthogonality (Paige, IMA J. Appl. Math. 18, 341 (1976)), and two roundings of the same
    # recursion then agree only to about sqrt(eps) |H| (1.7e-9 seen on kagome): compare at 1e-6.
    for steps, tol in ((5, 1e-10), (40, 1e-6)):
        want = cb.lanczos_bounds(H, steps, seed)
        got = cb.lanczos_bounds(H, steps, seed, pieces=pcs)
        assert np.allclose(got, want, rtol=0, atol=tol)
    assert got[0] <= ev[0] + 1e-9 and got[1] >= ev[-1] - 1e-9       # 40 steps enclose the spectrum


@settings(max_examples=6, deadline=None)
@given(kind=st.sampled_from(["square", "honeycomb", "kagome"]), S=st.integers(1, 14), complex_=st.booleans(),
       seed=st.integers(0, 1000))
def test_density_sweeps_on_pieces_equal_csr_sweeps(kind, S, complex_, seed):
    """Direct and gradient density-matrix sweeps give the same pattern sums on pieces and on CSR."""
    H = lattice_hamiltonian(kind, 8, onsite=0.2)
    if complex_:
        H = H.astype(np.complex128)
    a, b = cb.scale_from_bounds(*cb.gershgorin_bounds(H))
    pattern = (H + sp.identity(H.shape[0])).tocoo()
    rows, cols = pattern.row.astype(np.int64), pattern.col.astype(np.int64)
    coef = cb.fermi_coefficients(48, a, b, 0.3, 0.2)
    rng = np.random.default_rng(seed)
    R = rng.choice([-1.0, 1.0], size=(H.shape[0], S)).astype(H.dtype)
    for sweep in (cb.direct_sweep, cb.gradient_sweep):
        outs = []
        for pieces in (True, False):
            out = np.zeros(len(rows), dtype=H.dtype)
            sweep(cb._Ops(H, a, b, False, pieces=pieces), R.copy(), coef, rows, cols, 0.5, out)
            outs.append(out)
        # |rho_ij| <= S (unit-modulus vectors, |f| <= 1); 48 steps of rounding: 1e-11 S is generous
        assert np.allclose(outs[0], outs[1], rtol=0, atol=1e-11 * S)


@settings(max_examples=20, deadline=None)
@given(case=_structured, S=st.integers(1, 14), near=st.sampled_from([1, 3, 8, 1024]))
def test_two_steps_per_pass_equal_two_single_steps(case, S, near):
    """Temporal blocking on pieces: the same two Chebyshev steps and dot products, any mix of
    near and deferred (far) diagonals."""
    A, complex_, seed = case
    pcs = ks.diagonal_pieces(*ks.as_csr_arrays(A), 5)
    plan = ks.two_step_plan(pcs, near)
    rng = np.random.default_rng(seed)
    dtype = np.complex128 if complex_ else np.float64
    X = rng.normal(size=(A.shape[0], S)).astype(dtype)
    P = rng.normal(size=(A.shape[0], S)).astype(dtype)
    M = (pcs.lo, pcs.hi, pcs.ptr, pcs.offsets, pcs.values)
    csr = ks.as_csr_arrays(A)
    P1, nn1, nx1 = ks.cheb_step_reference(*csr, X, P, 0.7, -0.3)
    X1, nn2, nx2 = ks.cheb_step_reference(*csr, P1, X, 0.7, -0.3)
    want = [nn1, nx1, nn2, nx2]
    got = [np.zeros(S), np.zeros(S, dtype=dtype), np.zeros(S), np.zeros(S, dtype=dtype)]
    ks.cheb_two_steps_pieces(*M, plan.deferred, plan.bw, X, P, 0.7, -0.3, *got)
    scale = 1 + np.abs(X1).max() + np.abs(P1).max()
    # two reference steps; the kernel does the same sums in another order: rounding only
    assert np.allclose(X, X1, rtol=0, atol=1e-12 * scale) and np.allclose(P, P1, rtol=0, atol=1e-12 * scale)
    for g, w in zip(got, want):
        assert np.allclose(g, w, rtol=1e-12, atol=1e-12 * scale**2)


@settings(max_examples=4, deadline=None)
@given(order=st.integers(2, 41), S=st.integers(1, 14), complex_=st.booleans())
def test_moment_sweep_two_steps_per_pass_equals_one(order, S, complex_):
    """Moments with temporal blocking equal the one-step-per-pass moments (every order parity)."""
    H = lattice_hamiltonian("square", 48)                  # the wrap (offset 2256) is far: 2 x 48 rows deferred
    if complex_:
        H = H.astype(np.complex128)
    a, b = cb.scale_from_bounds(*cb.gershgorin_bounds(H))
    blocked = cb._Ops(H, a, b, False, pieces=True, two_steps=True)
    assert blocked.plan is not None and blocked.plan.bw == 48 and blocked.plan.deferred_rows == 96
    R = np.random.default_rng(order).choice([-1.0, 1.0], size=(H.shape[0], S)).astype(H.dtype)
    got = cb.moment_sweep(blocked, R, order)
    want = cb.moment_sweep(cb._Ops(H, a, b, False, pieces=True), R, order)
    assert np.allclose(got, want, rtol=0, atol=1e-11 * H.shape[0])     # |mu_n| <= N


@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("parallel", [False, True])
def test_fused_series_step_matches_reference(complex_, parallel):
    # P <- c1 A X + c2 X - cp P, Y += cy P: CSR rows and diagonal pieces, serial and spread over threads
    from problems.tight_binding import lattice_hamiltonian
    from solvers.tight_binding.series import series_kernel, series_step_reference
    from toolkit.kernels.sparse import as_csr_arrays, diagonal_pieces

    A = lattice_hamiltonian("square", 12, hoppings=(1.0, 0.3), onsite=0.2)
    if complex_:
        A = (A + 0.5j * (sp.triu(A, 1) - sp.tril(A, -1))).tocsr()
    ip, ix, data = as_csr_arrays(A)
    pc = diagonal_pieces(ip, ix, data)
    rng = np.random.default_rng(3)
    dtype = np.complex128 if complex_ else np.float64
    X, P, Y = (np.ascontiguousarray(rng.normal(size=(A.shape[0], 3)).astype(dtype)) for _ in range(3))
    want_P, want_Y = series_step_reference(A, X, P, Y, 0.7, -0.2, 1.0, 0.3)
    for pieces, matrix in ((False, (ip, ix, data)), (True, (pc.lo, pc.hi, pc.ptr, pc.offsets, pc.values))):
        P2, Y2 = P.copy(), Y.copy()
        series_kernel(pieces, parallel)(*matrix, X, P2, Y2, 0.7, -0.2, 1.0, 0.3)
        assert np.allclose(P2, want_P, atol=1e-12) and np.allclose(Y2, want_Y, atol=1e-12), pieces


def test_direct_sweep_column_groups_give_the_same_series():
    from problems.tight_binding import lattice_problem
    from solvers.tight_binding import chebyshev as cb
    from solvers.tight_binding.solution import density_pattern

    p = lattice_problem("square", 10, disorder=1.0, local=True)
    H = p.matrix
    a, b = cb.scale_from_bounds(*cb.gershgorin_bounds(H))
    ops = cb._Ops(H, a, b, False)
    R = np.random.default_rng(0).choice([-1.0, 1.0], size=(H.shape[0], 5))
    coef = np.random.default_rng(1).normal(size=40)
    Ht = (H.toarray() - b * np.eye(H.shape[0])) / a
    A0, A1 = R, Ht @ R                                  # T_n(Ht) R by the plain recursion
    want = coef[0] * A0 + coef[1] * A1
    for c in coef[2:]:
        A0, A1 = A1, 2 * Ht @ A1 - A0
        want += c * A1
    rows, cols = density_pattern(p)
    outs = []
    for width in (1, 2, 5):
        out = np.zeros(len(rows))
        Y = cb.direct_sweep(ops, R, coef, rows, cols, 0.5, out, width=width)
        assert np.allclose(Y, want, atol=1e-10)
        outs.append(out)
    ref = 0.25 * (np.sum(want[rows] * R[cols], axis=1) + np.sum(R[rows] * want[cols], axis=1))
    assert all(np.allclose(o, ref, atol=1e-10) for o in outs)


@settings(max_examples=20, deadline=None)
@given(order=st.integers(1, 300), kT=st.floats(1e-3, 2.0), mu=st.floats(-12.0, 12.0), seed=st.integers(0, 1000))
def test_fermi_sum_equals_the_sum_over_fermi_coefficients(order, kT, mu, seed):
    # the chemical-potential root's particle number, formed on the quadrature nodes once
    rng = np.random.default_rng(seed)
    w = rng.normal(size=order)
    a, b = rng.uniform(1.0, 10.0), rng.uniform(-1.0, 1.0)
    want = np.dot(cb.fermi_coefficients(order, a, b, mu, kT), w)
    assert cb.fermi_sum(w, a, b, kT)(mu) == pytest.approx(want, rel=1e-12, abs=1e-12 * np.abs(w).sum())

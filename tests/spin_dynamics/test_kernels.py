"""Every numba kernel of the spin-dynamics family agrees with its NumPy reference."""

import numpy as np
import pytest

from problems.spin_dynamics import triangular_lattice
from solvers.spin_dynamics import kernels as k


def _spins(n, seed):
    S = np.random.default_rng(seed).normal(size=(n, 3))
    return S / np.linalg.norm(S, axis=1, keepdims=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_spin_kernels_match_their_references(seed):
    rng = np.random.default_rng(seed)
    S, P = _spins(7, seed), _spins(7, seed + 10)
    H, H1 = rng.normal(size=(7, 3)) * 3, rng.normal(size=(7, 3))
    alpha, dt = 0.3, 0.07
    out = np.empty_like(S)
    k.llg_rate(S, H, alpha, out)
    np.testing.assert_allclose(out, k.llg_rate_reference(S, H, alpha), rtol=1e-13, atol=1e-14)
    k.sib_vector(S, H, alpha, out)
    np.testing.assert_allclose(out, k.sib_vector_reference(S, H, alpha), rtol=1e-13, atol=1e-14)
    k.cayley_midpoint(S, H, 0.5 * dt, out)
    np.testing.assert_allclose(out, k.cayley_midpoint_reference(S, H, 0.5 * dt), rtol=1e-12, atol=1e-14)
    # the Cayley step x = 2 y - S is a rotation: |x| = |S| to round-off
    np.testing.assert_allclose(np.linalg.norm(2 * out - S, axis=1), 1.0, atol=4e-16)
    f, p = np.empty_like(S), np.empty_like(S)
    k.heun_predict(S, H, alpha, dt, f, p)
    f_ref, p_ref = k.heun_predict_reference(S, H, alpha, dt)
    np.testing.assert_allclose(f, f_ref, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(p, p_ref, rtol=1e-13, atol=1e-14)
    k.heun_correct(S, f, P, H1, alpha, dt, out)
    np.testing.assert_allclose(out, k.heun_correct_reference(S, f, P, H1, alpha, dt), rtol=1e-13, atol=1e-14)
    k.normalise(3 * S, out)
    np.testing.assert_allclose(out, k.normalise_reference(3 * S), rtol=1e-15)


def test_classical_field_and_chirality_match_their_references():
    positions, bonds, triangles = triangular_lattice((3, 4))
    n = len(positions)
    rng = np.random.default_rng(5)
    S = _spins(n, 5)
    J = rng.normal(size=len(bonds))
    B = rng.normal(size=(n, 3))
    h = np.empty_like(S)
    e = k.classical_field(S, bonds, J, B, h)
    e_ref, h_ref = k.classical_field_reference(S, bonds, J, B)
    assert e == pytest.approx(e_ref, rel=1e-13)
    np.testing.assert_allclose(h, h_ref, rtol=1e-12, atol=1e-13)
    # h = -dE/dS: a finite difference of the energy along a Cartesian direction
    d = 1e-6
    for i, a in [(0, 0), (5, 2), (n - 1, 1)]:
        plus, minus = S.copy(), S.copy()
        plus[i, a] += d
        minus[i, a] -= d
        fd = (k.classical_field_reference(plus, bonds, J, B)[0] - k.classical_field_reference(minus, bonds, J, B)[0])
        assert -fd / (2 * d) == pytest.approx(h[i, a], abs=1e-8)
    chi = np.empty(len(triangles))
    k.scalar_chirality(S, triangles, chi)
    np.testing.assert_allclose(chi, k.scalar_chirality_reference(S, triangles), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("K", [0.7, -1.3])
def test_the_anisotropy_field_matches_its_reference_and_is_minus_the_gradient(K):
    S = _spins(6, 8)
    axis = np.array([1.0, -2.0, 2.0]) / 3.0
    h = np.random.default_rng(1).normal(size=S.shape)
    start = h.copy()
    e = k.anisotropy_field(S, K, axis, h)
    e_ref, dh = k.anisotropy_field_reference(S, K, axis)
    assert e == pytest.approx(e_ref, rel=1e-14)
    np.testing.assert_allclose(h - start, dh, rtol=1e-13, atol=1e-15)     # it adds to the field it is given
    d = 1e-6
    for i, a in [(0, 0), (3, 1), (5, 2)]:
        plus, minus = S.copy(), S.copy()
        plus[i, a] += d
        minus[i, a] -= d
        fd = k.anisotropy_field_reference(plus, K, axis)[0] - k.anisotropy_field_reference(minus, K, axis)[0]
        assert -fd / (2 * d) == pytest.approx(dh[i, a], abs=1e-8)


@pytest.mark.parametrize("seed", [0, 1])
def test_rotation_and_overdamped_kernels_match_their_references(seed):
    rng = np.random.default_rng(seed)
    S = _spins(9, seed)
    A = rng.normal(size=(9, 3)) * 2
    A[3] = 0.0                                        # no field: the spin stays put
    out = np.empty_like(S)
    k.rotate(S, A, 0.37, out)
    np.testing.assert_allclose(out, k.rotate_reference(S, A, 0.37), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(out[3], S[3])
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=4e-16)
    # the rotation solves dS/dt = S x A exactly: two half steps are one whole step
    half = np.empty_like(S)
    k.rotate(S, A, 0.185, half)
    k.rotate(half, A, 0.185, half)
    np.testing.assert_allclose(half, out, atol=1e-14)
    h, w = rng.normal(size=(9, 3)) * 3, rng.normal(size=(9, 3)) * 0.2
    k.overdamped_step(S, h, 0.05, w, out)
    np.testing.assert_allclose(out, k.overdamped_step_reference(S, h, 0.05, w), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=4e-16)
    # a small step moves S along P h: towards the field, never along S
    k.overdamped_step(S, h, 1e-7, np.zeros_like(S), out)
    move = (out - S) / 1e-7
    np.testing.assert_allclose(move, h - S * np.sum(S * h, axis=1, keepdims=True), atol=1e-5)


def test_rotation_and_overdamped_kernels_stay_finite_at_extreme_scales():
    S = _spins(4, 3)
    out = np.empty_like(S)
    for scale in (1e-300, 1e150, 1e300):
        A = np.full((4, 3), scale)
        k.rotate(S, A, 1.0, out)
        assert np.all(np.isfinite(out)) and np.allclose(np.linalg.norm(out, axis=1), 1.0)
        k.overdamped_step(S, A, 1.0, A, out)
        assert np.all(np.isfinite(out)) and np.allclose(np.linalg.norm(out, axis=1), 1.0)

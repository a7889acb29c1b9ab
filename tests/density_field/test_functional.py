"""Functional components: analytic V(k), F / dF / Hv against finite differences, kernels vs NumPy."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import toolkit as tk
from problems.density_field import (DensityField, Functional, KacStep, Landau, LatticeGas, SwiftHohenberg,
                                    wavevectors)
from solvers.density_field import SpectralOps
from solvers.density_field.finite_difference import FDOps, step_stencil
from solvers.density_field.kernels import (energy_sum, local_derivative, local_derivative_parallel,
                                           local_derivative_reference)


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_kac_hat_is_the_transform_of_the_normalised_step(ndim):
    # V(k) from a fine real-space stencil (sum of w cos(k.x)) matches the analytic transform;
    # the stencil is a midpoint quadrature of the step, error O(dx) at the edge: 2e-2 at R/dx = 24.
    R, dx = 1.0, 1.0 / (24 if ndim < 3 else 12)
    w = step_stencil(R, 1.0, (dx,) * ndim)
    reach = w.shape[0] // 2
    x = (np.arange(w.shape[0]) - reach) * dx
    for k in (0.5, 2.0, 4.5, 5.8):
        phase = np.cos(k * x)
        numeric = np.tensordot(w, phase, axes=([0], [0])).sum()
        tol = 2e-2 if ndim < 3 else 4e-2
        assert abs(numeric - KacStep(R).hat(np.array([k]), ndim)[0]) < tol
    assert KacStep(R, J=2.0).hat(np.array([0.0]), ndim)[0] == pytest.approx(2.0)


@pytest.mark.parametrize("ndim,kstar,vmin", [(1, 4.4934, -0.21723), (2, 5.1356, -0.13228), (3, 5.7637, -0.08617)])
def test_kac_minimum_matches_known_values(ndim, kstar, vmin):
    # 1D: tan x = x; 3D: tan x = x (x = 4.4934 for sinc); known minima of the step transforms
    k, val = KacStep(1.0).hat_min(ndim)
    assert k == pytest.approx(kstar, abs=2e-3) and val == pytest.approx(vmin, abs=1e-4)


@settings(max_examples=12, deadline=None)
@given(ndim=st.integers(1, 3), which=st.sampled_from(["gas", "landau", "sh"]), seed=st.integers(0, 100))
def test_gradient_and_hessian_vector_match_finite_differences(ndim, which, seed):
    local = LatticeGas(T=0.3, h=0.1) if which == "gas" else Landau(eps=-0.2, g=0.5)
    inter = SwiftHohenberg(k0=1.0) if which == "sh" else KacStep(R=1.5)
    n = (32, 16, 10)[ndim - 1]
    L = n * 0.8 if which == "sh" else n * 0.5
    field = DensityField.noisy((n,) * ndim, L, Functional(inter, local),
                               mean=0.4 if which == "gas" else 0.1, amplitude=0.05, seed=seed)
    ops = SpectralOps(field)
    rng = np.random.default_rng(seed)
    phi, vdir = field.initial, rng.standard_normal(field.shape) * 0.01
    h = 1e-5
    # central differences are O(h^2) ~ 1e-10 relative; rounding of F (~1e-16 * |F| / h) dominates
    numeric = (ops.free_energy(phi + h * vdir) - ops.free_energy(phi - h * vdir)) / (2 * h)
    exact = ops.dV * np.sum(ops.gradient(phi) * vdir)
    assert numeric == pytest.approx(exact, rel=1e-5, abs=1e-9)
    numeric_hv = (ops.gradient(phi + h * vdir) - ops.gradient(phi - h * vdir)) / (2 * h)
    np.testing.assert_allclose(ops.hessian_vector(phi, vdir), numeric_hv, rtol=1e-5, atol=1e-8)
    np.testing.assert_array_equal(ops.hessian_at(phi)(vdir), ops.hessian_vector(phi, vdir))


def test_component_derivatives_are_consistent():
    x = np.linspace(0.05, 0.95, 19)
    h = 1e-6
    for local in (LatticeGas(T=0.2, h=0.3), Landau(eps=-0.4, g=0.7)):
        np.testing.assert_allclose((local.f(x + h) - local.f(x - h)) / (2 * h), local.df(x), rtol=1e-7, atol=1e-8)
        np.testing.assert_allclose((local.df(x + h) - local.df(x - h)) / (2 * h), local.d2f(x), rtol=1e-6, atol=1e-7)


@settings(max_examples=20, deadline=None)
@given(kind=st.integers(0, 1), a=st.floats(0.01, 2.0), b=st.floats(-1, 1), size=st.integers(1, 200),
       seed=st.integers(0, 1000))
def test_kernels_match_numpy_reference(kind, a, b, size, seed):
    rng = np.random.default_rng(seed)
    phi = rng.uniform(0.001, 0.999, size) if kind == 0 else rng.normal(size=size)
    ref, ref_status = local_derivative_reference(phi, kind, a, b)
    for kernel in (local_derivative, local_derivative_parallel):
        out = np.empty_like(phi)
        assert kernel(phi, out, kind, a, b) == ref_status == 0
        np.testing.assert_allclose(out, ref, rtol=1e-13, atol=1e-13)
    bad = phi.copy()
    bad[0] = 1.5 if kind == 0 else np.inf
    out = np.empty_like(phi)
    assert local_derivative(bad, out, kind, a, b) == local_derivative_reference(bad, kind, a, b)[1] != 0


@settings(max_examples=20, deadline=None)
@given(kind=st.integers(0, 1), a=st.floats(0.01, 2.0), b=st.floats(-1, 1), size=st.integers(1, 200),
       seed=st.integers(0, 1000))
def test_energy_sum_kernel_matches_the_components_f(kind, a, b, size, seed):
    rng = np.random.default_rng(seed)
    local = LatticeGas(T=a, h=b) if kind == 0 else Landau(eps=a, g=b)
    phi = rng.uniform(0.001, 0.999, size) if kind == 0 else rng.normal(size=size)
    conv = rng.normal(size=size)
    ref = np.sum(0.5 * phi * conv + local.f(phi))
    np.testing.assert_allclose(energy_sum(phi, conv, local), ref, rtol=1e-12, atol=1e-12 * size)
    if kind == 0:                                        # outside (0, 1): NaN, as NumPy's f gives
        phi[-1] = 1.0 + 1e-3 * seed
        assert np.isnan(energy_sum(phi, conv, local))


def test_fd_operator_converges_to_spectral():
    # the real-space Kac stencil approaches the analytic V(k) as the grid is refined (1D, smooth field)
    errors = []
    for n in (32, 64, 128, 256):
        field = DensityField(shape=(n,), length=16.0, functional=Functional(KacStep(R=2.0), Landau()),
                             initial=0.3 * np.sin(2 * np.pi * np.arange(n) / n) + 0.1 * np.cos(6 * np.pi * np.arange(n) / n))
        a = SpectralOps(field).convolve(field.initial)
        b = FDOps(field).convolve(field.initial)
        errors.append(np.abs(a - b).max())
    assert errors[-1] < errors[0] / 20 and errors[-1] < 1e-3


def test_wavevectors_shape():
    k = wavevectors((8, 6), (8.0, 6.0))
    assert k.shape == (8, 4) and k[0, 0] == 0 and k[1, 0] == pytest.approx(2 * np.pi / 8)

"""The size-constrained minimiser and the SizeScan solver (solvers/density_field/size_scan.py), the droplet shape measures."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import toolkit as tk
from problems.density_field import (DensityField, Functional, KacStep, Landau, NucleationBarrier, bcc_droplet_seed,
                                    bcc_lattice_constant)
from solvers.density_field import GridNewtonKrylov, SizeScan, descend_to_index_one, hessian_eigenvalues, newton_polish
from solvers.density_field.droplets import droplet_axes, shell_bond_order, translation_overlaps
from solvers.density_field.functional import SpectralOps
from solvers.density_field.size_scan import SizeConstrainedMinimizer, droplet_size, size_scan_saddle

A = bcc_lattice_constant(KacStep(1.0))
KSTAR = 2 * np.pi * np.sqrt(2) / A


def _field_1d(depth=0.02, n=64, length=12.0):
    eps = -KacStep(1.0).hat_min(1)[1] + depth
    return DensityField(shape=(n,), length=length, functional=Functional(KacStep(1.0), Landau(eps=eps, g=0.5)),
                        initial=0.0)


def test_small_droplets_at_fixed_size_are_the_softest_plane_wave():
    # For s -> 0 the constrained minimum of F about the liquid is the lowest eigenvector of the
    # quadratic form: E(s) = λ_min s²/2 and μ = λ_min = min_k V(k) + f''(0) on the grid (analytic);
    # the cubic term shifts μ by O(g × amplitude) ~ 1e-4 relative at s = 1e-3.
    field = _field_1d()
    ops = SpectralOps(field)
    lam = float((ops.vhat + field.functional.local.d2f(0.0)).min())
    cm = SizeConstrainedMinimizer(field, 0.0)
    start = np.random.default_rng(0).standard_normal(field.shape)
    s = 1e-3
    phi, dF, mu, cres, iters = cm.minimize(start, s, tol=1e-13)
    assert droplet_size(phi, 0.0, field.cell_volume) == pytest.approx(s, rel=1e-12)   # on the sphere
    assert cres < 1e-13 and iters < 1500                                          # Lagrange condition met
    assert mu == pytest.approx(lam, rel=1e-3)
    assert dF == pytest.approx(0.5 * lam * s * s, rel=1e-3)
    F_start = ops.free_energy(s * start / np.sqrt(field.cell_volume * np.sum(start ** 2))) - cm.F_meta
    assert dF < F_start


def test_size_scan_refuses_bad_input_with_the_field_named():
    field = _field_1d()
    with pytest.raises(ValueError, match="shift"):
        SizeConstrainedMinimizer(field, 0.0, shift=-1.0)
    unstable = DensityField(shape=(64,), length=12.0, initial=0.0,
                            functional=Functional(KacStep(1.0), Landau(eps=0.0, g=0.5)))   # inside the spinodal
    with pytest.raises(ValueError, match="metastable"):
        SizeConstrainedMinimizer(unstable, 0.0)
    for name, kwargs in (("noise", {"noise": -1.0}), ("step", {"step": 0.0}), ("close", {"close": np.nan})):
        with pytest.raises(ValueError, match=name):
            size_scan_saddle(field, 0.0, np.zeros(field.shape), **kwargs)


def test_shell_bond_order_of_bcc_waves_is_the_fcc_neighbour_value():
    # the twelve <110> directions are the fcc neighbour shell: Q4 = 0.19094, Q6 = 0.57452
    # (Steinhardt, Nelson & Ronchetti 1983, Table I); one plane wave: Q_l = 1 for even l
    n, L = 16, 2 * A
    waves = bcc_droplet_seed((n,) * 3, (L,) * 3, A, radius=1e3)      # envelope = 1 everywhere
    q4, q6 = shell_bond_order(waves, (L,) * 3, KSTAR)
    assert q4 == pytest.approx(0.19094, abs=1e-4) and q6 == pytest.approx(0.57452, abs=1e-4)
    x = np.arange(n) * L / n
    X, Y, Z = np.meshgrid(x, x, x, indexing="ij")
    plane = np.cos(2 * np.pi / A * (X + Y))
    assert shell_bond_order(plane, (L,) * 3, KSTAR) == pytest.approx((1.0, 1.0), abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2 ** 31), perm=st.permutations([0, 1, 2]), flip=st.lists(st.booleans(), min_size=3,
                                                                                    max_size=3))
def test_shell_bond_order_is_invariant_under_the_cube_group(seed, perm, flip):
    n, L = 12, 2 * A
    phi = np.random.default_rng(seed).standard_normal((n,) * 3)
    q = shell_bond_order(phi, (L,) * 3, KSTAR)
    g = np.transpose(phi, perm)
    for ax, f in enumerate(flip):
        if f:
            g = np.roll(np.flip(g, axis=ax), 1, axis=ax)       # x -> -x on the periodic grid
    assert all(0 <= v <= 1 for v in q)
    assert shell_bond_order(g, (L,) * 3, KSTAR) == pytest.approx(q, rel=1e-9, abs=1e-12)


def test_droplet_axes_of_a_wrapped_anisotropic_gaussian():
    # phi = exp(-Σ x_i²/2σ_i²) has phi² ∝ exp(-Σ x_i²/σ_i²): principal moments σ_i²/2, here centred
    # on the box corner so that it wraps round the periodic boundary
    n, L = 48, 12.0
    x = np.arange(n) * L / n
    d = [np.minimum(x, L - x)] * 3
    D = np.meshgrid(*d, indexing="ij")
    sig = (0.6, 0.9, 1.2)
    phi = np.exp(-sum(q ** 2 / (2 * s ** 2) for q, s in zip(D, sig)))
    m, axes = droplet_axes(phi, (L,) * 3)
    assert m == pytest.approx([s ** 2 / 2 for s in sig], rel=1e-6)
    assert np.abs(np.abs(axes) - np.eye(3)).max() < 1e-9


def test_translation_overlaps_tell_a_rigid_shift_from_a_breathing_mode():
    n, L = 40, 14.0                                     # the Gaussian is 2e-11 at the box edge
    x = (np.arange(n) - n // 2) * L / n
    X, Y, Z = np.meshgrid(x, x, x, indexing="ij")
    phi = np.exp(-(X ** 2 + 2 * Y ** 2 + 3 * Z ** 2) / 2)
    shift = -(X + 0.3 * Y) * phi                        # ∂φ/∂x + 0.15 ∂φ/∂y: a rigid translation
    breathing = (X ** 2 + Y ** 2 + Z ** 2) * phi        # even about the centre: no translation content
    over = translation_overlaps(phi, (L,) * 3, [shift, breathing])
    assert over[0] == pytest.approx(1.0, abs=1e-9) and over[1] < 1e-9


# --- the SizeScan solver and its automatic continuation to index 1 -------------------------------

def _liquid_gas(shape, length, initial):
    # attractive Kac step (J < 0) + convex Landau part: liquid-gas nucleation about phi = 0 (as in
    # NucleationBarrier.example, in 2D so that a case takes ~0.5 s)
    functional = Functional(KacStep(R=1.0, J=-0.7), Landau(eps=1.0, g=1.5))
    return NucleationBarrier(field=DensityField(shape=shape, length=length, functional=functional, initial=initial),
                             metastable=0.0)


def _disc(shape, length, centre, radius=1.0):
    X = np.meshgrid(*[np.arange(n) * L / n for n, L in zip(shape, length)], indexing="ij")
    r = np.sqrt(sum((x - c) ** 2 for x, c in zip(X, centre)))
    return 0.95 * 0.5 * (1 - np.tanh((r - radius) / 0.5))


def _is_nucleation_saddle(sol):
    ops = SpectralOps(sol.problem.field)
    assert sol.retcode is tk.ReturnCode.Success
    assert np.abs(ops.gradient(sol.phi)).max() < 1e-8                  # a critical point, recomputed here
    vals = hessian_eigenvalues(ops, sol.phi, k=4)[0]
    assert np.sum(vals < -1e-8) == 1                                    # exactly one unstable direction
    assert sol.barrier > 0


def test_size_scan_solver_reaches_the_grid_newton_saddle_and_leaves_a_peierls_maximum_by_itself():
    # The seeded noise moves the droplet off the grid point: the scan's Newton polish then lands on
    # the same droplet centred between grid points, a maximum of the grid's pinning energy with two
    # more (translation) negative modes. SizeScan must notice and continue (half-step shift, Newton)
    # to the droplet on a grid point, the Peierls minimum here, whose barrier Newton-Krylov from a
    # centred seed gives: the same critical point up to a lattice translation, so ΔF agrees to 1e-10.
    shape, length = (24, 24), (6.0, 6.0)
    problem = _liquid_gas(shape, length, _disc(shape, length, (3.0, 3.0), 0.8))
    ref = tk.solve(problem, GridNewtonKrylov(f_tol=1e-10))
    _is_nucleation_saddle(ref)
    for noise in (0.0, 1e-3):
        sol = tk.solve(problem, SizeScan(noise=noise, step=0.1))
        _is_nucleation_saddle(sol)
        assert sol.barrier == pytest.approx(ref.barrier, rel=1e-10)      # measured 0.0388030756
        top = sol.path_energy.max()                                      # the top of the scanned E(s)
        if noise:
            assert sol.stats["scan_negative_modes"] == 3 and sol.stats["route"] == "scan+shift"
            # the scan peaked on the Peierls maximum, just above the saddle (measured 3e-6 relative)
            assert 0 < top - sol.barrier < 1e-5 * sol.barrier
        else:                                                            # symmetric start: no detour
            assert sol.stats["route"] == "scan" and sol.stats["scan_negative_modes"] == 1
            assert top <= sol.barrier * (1 + 1e-9)                       # E(s) <= F at the saddle


def test_dimer_descent_turns_a_two_droplet_critical_point_into_the_one_droplet_saddle():
    # Two critical droplets far apart form a critical point of index 3: both grow (λ ≈ -0.225
    # twice), and their attraction adds a soft relative mode. Descending the two extra modes
    # (kick, dimer, Newton) must leave one critical droplet: index 1, with the barrier Newton gives
    # for one droplet alone; and the two-droplet point costs twice that (up to the weak interaction).
    shape, length = (48, 24), (12.0, 6.0)
    one = tk.solve(_liquid_gas(shape, length, _disc(shape, length, (3.0, 3.0))), GridNewtonKrylov(f_tol=1e-10))
    _is_nucleation_saddle(one)
    problem = _liquid_gas(shape, length, _disc(shape, length, (3.0, 3.0)) + _disc(shape, length, (9.0, 3.0)))
    ops = SpectralOps(problem.field)
    two, ok, _ = newton_polish(ops, problem.field.initial, 1e-10, 200)
    vals = hessian_eigenvalues(ops, two, k=4)[0]
    assert ok and np.sum(vals < -1e-8) == 3 and vals[1] < -0.2
    F0 = ops.free_energy(np.zeros(shape))
    assert ops.free_energy(two) - F0 == pytest.approx(2 * one.barrier, rel=1e-2)   # measured 1.9984
    phi, vals, vecs, converged, actions, log = descend_to_index_one(ops, two, 0.0, newton_iters=200)
    assert converged and actions == ["dimer"] and log == [3, 1]
    assert np.abs(ops.gradient(phi)).max() < 1e-9 and np.sum(vals < -1e-8) == 1
    assert ops.free_energy(phi) - F0 == pytest.approx(one.barrier, rel=1e-9)      # measured equal to 1e-15


def test_size_scan_solver_refuses_bad_hyperparameters_and_unsuitable_problems_by_name():
    for name, value in (("step", 0.0), ("step", 1.0), ("kick", 0.0), ("kick", 2.0), ("jump", 0.5),
                        ("descents", -1), ("noise", -1e-3), ("lbfgs_iters", 0), ("dimer_dt", 0.0),
                        ("brackets", 1.5)):
        with pytest.raises(tk.InvalidSolverError, match=name):
            SizeScan(**{name: value})
    shape, length = (24, 24), (6.0, 6.0)
    problem = _liquid_gas(shape, length, _disc(shape, length, (3.0, 3.0), 0.8))
    nonuniform = tk.remake(problem, metastable=np.full(shape, 0.01) + 0.001 * np.arange(24)[:, None])
    sol = tk.solve(nonuniform, SizeScan())
    assert sol.retcode is tk.ReturnCode.Failure and "uniform metastable" in sol.message
    unstable = NucleationBarrier(field=_field_1d(depth=-0.01), metastable=0.0)                # inside the spinodal
    sol = tk.solve(unstable, SizeScan())
    assert sol.retcode is tk.ReturnCode.Failure and "not linearly stable" in sol.message
    flat = tk.remake(problem, field=tk.remake(problem.field, initial=0.0))
    sol = tk.solve(flat, SizeScan(noise=0.0))
    assert sol.retcode is tk.ReturnCode.Failure and "seed a droplet" in sol.message

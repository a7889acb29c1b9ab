"""The dimer / gentlest-ascent saddle search (DimerMethod) against Newton-Krylov on the grid."""

import numpy as np
import pytest

import toolkit as tk
from problems.density_field import NucleationBarrier
from solvers.density_field import DimerMethod, GridNewtonKrylov, SpectralOps, hessian_eigenvalues, lowest_mode


def _droplet(p, amplitude):
    """``p`` with its seed replaced by a tanh droplet of the given core density (centred on n/2)."""
    n, L = p.field.shape[0], p.field.length[0]
    x = (np.arange(n) - n // 2) * L / n
    r = np.sqrt(sum(q ** 2 for q in np.meshgrid(x, x, x, indexing="ij")))
    return tk.remake(p, field=tk.remake(p.field, initial=amplitude * 0.5 * (1 - np.tanh((r - 0.8) / 0.5))))


@pytest.mark.parametrize("seed", [0, 3])
def test_dimer_saddle_agrees_with_grid_newton_krylov(seed):
    # the same index-1 saddle as Newton-Krylov: barrier to 1e-10 relative (the error is
    # O(residual^2)), field to 1e-6, one negative Hessian eigenvalue, translations stable
    p = NucleationBarrier.example(seed)
    grid = tk.solve(p, GridNewtonKrylov.example())
    dimer = tk.solve(p, DimerMethod.example())
    for sol in (grid, dimer):
        assert sol.retcode is tk.ReturnCode.Success, sol.message
        assert sol.negative_modes == 1 and sol.eigenvalues[0] < -0.05
        assert 0 < sol.eigenvalues[1] < 1e-2
    assert dimer.residual < DimerMethod.example().tol
    assert dimer.barrier == pytest.approx(grid.barrier, rel=1e-10)
    assert np.max(np.abs(dimer.phi - grid.phi)) < 1e-6
    assert dimer.eigenvalues[0] == pytest.approx(grid.eigenvalues[0], rel=1e-6)
    assert dimer.stats["curvature"] == pytest.approx(dimer.eigenvalues[0], rel=1e-4)   # the rotation's λ
    assert dimer.stats["iterations"] < 300


def test_dimer_climbs_out_of_the_metastable_basin():
    # from a faint droplet (core 0.1, near the metastable minimum) the lowest curvature is first
    # positive: the dimer moves uphill along its min mode, then converges to the same saddle
    p = NucleationBarrier.example(0)
    grid = tk.solve(p, GridNewtonKrylov.example())
    sol = tk.solve(_droplet(p, 0.1), DimerMethod.example())
    assert sol.retcode is tk.ReturnCode.Success, sol.message
    assert sol.stats["uphill_iterations"] > 0 and sol.negative_modes == 1
    assert sol.barrier == pytest.approx(grid.barrier, rel=1e-10)


def test_dimer_far_from_the_saddle_with_too_few_iterations_is_max_iters():
    p = _droplet(NucleationBarrier.example(0), 0.02)
    sol = tk.solve(p, DimerMethod(dt=1.0, rotation_steps=4, max_iters=15))
    assert sol.retcode is tk.ReturnCode.MaxIters and not sol.successful
    assert "after 15 dimer iterations" in sol.message and sol.residual > 1e-4
    # started on the metastable minimum itself (a critical point of index 0): refused, not a saddle
    at_min = tk.solve(_droplet(NucleationBarrier.example(0), 0.0), DimerMethod.example())
    assert at_min.retcode is tk.ReturnCode.ConvergenceFailure and "metastable" in at_min.message


def test_random_first_direction_also_finds_the_saddle():
    # a random first dimer direction excites the soft lattice translations (curvature ~2e-3),
    # which relax slowly: a looser tolerance, the same saddle
    p = NucleationBarrier.example(0)
    grid = tk.solve(p, GridNewtonKrylov.example())
    sol = tk.solve(p, DimerMethod(dt=1.0, rotation_steps=4, tol=1e-5, max_iters=3000, direction="random", seed=1))
    assert sol.retcode is tk.ReturnCode.Success and sol.negative_modes == 1, sol.message
    assert sol.barrier == pytest.approx(grid.barrier, rel=1e-5)


def test_lanczos_rotation_finds_the_lowest_hessian_mode():
    p = NucleationBarrier.example(0)
    grid = tk.solve(p, GridNewtonKrylov.example())
    ops = SpectralOps(p.field)
    vals, vecs = hessian_eigenvalues(ops, grid.phi, k=2)
    lam, v = lowest_mode(lambda x: ops.hessian_vector(grid.phi, x), grid.phi - p.metastable, 12)
    assert lam == pytest.approx(vals[0], rel=1e-8)
    assert abs(np.sum(v * vecs[0])) == pytest.approx(1.0, abs=1e-6)
    assert np.linalg.norm(v) == pytest.approx(1.0)


@pytest.mark.parametrize("field, value", [("dt", 0.0), ("max_step", -1.0), ("rotation_steps", 1), ("tol", 0.0),
                                          ("max_iters", 0), ("seed", -1), ("direction", "sideways"),
                                          ("dt", float("nan")), ("max_iters", 2.5)])
def test_bad_dimer_hyperparameters_are_refused_by_name(field, value):
    with pytest.raises(tk.InvalidSolverError, match=field):
        DimerMethod(**{field: value})

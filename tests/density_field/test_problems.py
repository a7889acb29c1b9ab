"""Validation, every registered pair on its examples, specs, and nucleation saddles."""

import numpy as np
import pytest

import toolkit as tk
from toolkit.spec import load_spec, parse_spec
from problems.density_field import (DensityField, FieldDynamics, Functional, KacStep, Landau, LatticeGas,
                                    NucleationBarrier, Relaxation, SwiftHohenberg, onion_barrier)
from solvers.density_field import (ExplicitFD, GridNewtonKrylov, RadialNewtonKrylov, SemiImplicit, SpectralOps, StringMethod,
                                   hessian_eigenvalues)
from pathlib import Path

SPECS = sorted((Path(__file__).parents[2] / "tutorials" / "specs").glob("density-field-*.toml"))
FAMILY = [P for P in (Relaxation, FieldDynamics, NucleationBarrier)]


@pytest.mark.parametrize("P", FAMILY)
@pytest.mark.parametrize("seed", [0, 1])
def test_every_pair_solves_its_examples(P, seed):
    for S in tk.solvers_for(P):
        sol = tk.solve(P.example(seed), S.example(), **({"progress": False} if issubclass(P, tk.TimeProblem) else {}))
        assert isinstance(sol, tk.Solution) and sol.retcode.successful, (S, sol.retcode, sol.message)
        sol.to_xarray()


def test_validation_names_the_field_and_what_is_allowed():
    f = Functional(KacStep(R=1.0), Landau())
    with pytest.raises(tk.InvalidProblemError, match="R = 1 .*3 grid spacings"):
        DensityField(shape=(16,), length=16.0, functional=f)              # R spans one grid spacing
    with pytest.raises(tk.InvalidProblemError, match="half the box"):
        DensityField(shape=(64,), length=1.5, functional=f)
    with pytest.raises(tk.InvalidProblemError, match="initial.*strictly inside"):
        DensityField(shape=(32,), length=8.0, functional=Functional(KacStep(1.0), LatticeGas(T=0.1)), initial=1.2)
    with pytest.raises(tk.InvalidProblemError, match="shape"):
        DensityField(shape=(8, 8, 8, 8), length=8.0, functional=f)
    with pytest.raises(tk.InvalidProblemError, match="length"):
        DensityField(shape=(32, 32), length=(8.0,), functional=f)
    with pytest.raises(tk.InvalidProblemError, match="interaction"):
        Functional(interaction=Landau(), local=Landau())
    with pytest.raises(tk.InvalidProblemError, match="T = 0"):
        LatticeGas(T=0.0)
    with pytest.raises(tk.InvalidProblemError, match="k0"):
        SwiftHohenberg(k0=-1.0)
    field = DensityField(shape=(32,), length=8.0, functional=f)
    with pytest.raises(tk.InvalidProblemError, match="noise = True .*temperature > 0"):
        FieldDynamics(field=field, noise=True, temperature=0.0)
    with pytest.raises(tk.InvalidProblemError, match="temperature"):
        FieldDynamics(field=field, temperature=-1.0)
    with pytest.raises(tk.InvalidProblemError, match="dynamics"):
        FieldDynamics(field=field, dynamics="C")
    with pytest.raises(tk.InvalidProblemError, match="dt"):
        FieldDynamics(field=field, dt=0.0)
    with pytest.raises(tk.InvalidProblemError, match="stable"):
        NucleationBarrier(field=field, metastable=0.0, stable=np.zeros(5))
    with pytest.raises(tk.InvalidSolverError, match="relax_dt"):
        SemiImplicit(relax_dt=-1)
    with pytest.raises(tk.InvalidSolverError, match="images"):
        StringMethod(images=2)
    with pytest.raises(tk.InvalidSolverError, match="guess"):
        RadialNewtonKrylov(guess="x")
    with pytest.raises(tk.InvalidSolverError, match="seed"):
        ExplicitFD(seed=-1)
    assert FieldDynamics(field=field, temperature=0.1).noise is True


def test_repr_is_compact():
    text = repr(Relaxation.example())
    assert "float64[32]" in text and len(text) < 400


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_specs_parse_and_run(spec, tmp_path):
    from toolkit.cli import main

    parsed = load_spec(spec)
    assert isinstance(parsed.problem, tk.Problem)
    assert main(["run", str(spec), "--out", str(tmp_path)]) == 0


def test_spec_unknown_key_is_reported():
    with pytest.raises(tk.SpecError, match="nope"):
        parse_spec('[problem]\ntype = "kac_landau_field"\nnope = 1\n[solver]\ntype = "SemiImplicit"\n')


def test_radial_onion_is_a_saddle_with_one_negative_mode():
    sol = tk.solve(onion_barrier(eps=0.09), RadialNewtonKrylov())
    assert sol.retcode is tk.ReturnCode.Success, sol.message
    # Newton-Krylov: |r dF/dphi| < f_tol = 1e-9, so |dF/dphi| < 1e-9 / dr ~ 4e-8
    assert sol.residual < 1e-7
    assert sol.negative_modes == 1 and sol.barrier > 0
    # radially symmetric with onion shells: the profile changes sign around the core
    assert sol.profile[0] > 0 and sol.profile.min() < 0


def test_string_reparametrization_gives_equal_arc_length():
    from solvers.density_field.string_method import _reparametrize
    t = np.array([0.0, 0.1, 0.15, 0.7, 1.0])
    images = t[:, None] * np.ones((1, 4))
    out = _reparametrize(images)
    np.testing.assert_allclose(out[:, 0], np.linspace(0, 1, 5), atol=1e-12)
    kept = _reparametrize(images, fixed=3)
    assert kept[3, 0] == 0.7 and kept[0, 0] == 0.0 and kept[-1, 0] == 1.0
    # zoom: all images on the piece between the neighbours of image 2, at equal arc length
    from solvers.density_field.string_method import _zoom
    zoomed = _zoom(images, 2)
    np.testing.assert_allclose(zoomed[:, 0], np.linspace(0.1, 0.7, 5), atol=1e-12)


def test_barrier_example_is_a_liquid_gas_quench_with_a_compact_droplet():
    # attractive Kac step + convex Landau part: phi = 0 is locally stable (metastable) and the
    # uniform far state has a lower free energy; grid-scale modes are stable everywhere
    p = NucleationBarrier.example(0)
    fun = p.field.functional
    assert fun.interaction.J < 0 and fun.local.g ** 2 < 3 * fun.local.eps     # f convex: well posed
    assert fun.spinodal_margin(3, 0.0) > 0                                   # phi = 0 locally stable
    ops = SpectralOps(p.field)
    assert ops.free_energy(p.stable) < ops.free_energy(p.metastable) - 1.0
    sol = tk.solve(p, GridNewtonKrylov.example())
    phi2 = float(p.stable.flat[0])
    assert sol.phi.max() > 0.5 * phi2                                       # a dense core ...
    assert abs(sol.phi[0, 0, 0]) < 1e-2 * phi2                              # ... decayed at the box corner


def test_string_method_path_rises_and_falls():
    # the climbing string on the 3D example: the path energy (relative to the metastable state)
    # has an interior maximum at the barrier, and the string ends on a critical point with
    # exactly one unstable mode (Success).
    sol = tk.solve(NucleationBarrier.example(0), StringMethod.example())
    e = sol.path_energy
    assert sol.retcode is tk.ReturnCode.Success, sol.message
    assert np.all(np.isfinite(e)) and 0 < int(np.argmax(e)) < len(e) - 1
    assert e.max() == pytest.approx(sol.barrier, rel=1e-3)
    assert sol.residual < 1e-6 and sol.barrier > 0 and sol.negative_modes == 1


def test_a_critical_point_of_the_wrong_index_is_refused():
    # the same droplet centred between grid points sits on a maximum of the lattice (Peierls)
    # energy: Newton-Krylov converges to a critical point whose translation modes are unstable
    # too. It is reported as ConvergenceFailure with the count, never as a nucleation saddle.
    p = NucleationBarrier.example(0)
    n, L = p.field.shape[0], p.field.length[0]
    x = (np.arange(n) + 0.5 - n // 2) * L / n
    r = np.sqrt(sum(q ** 2 for q in np.meshgrid(x, x, x, indexing="ij")))
    shifted = tk.remake(p, field=tk.remake(p.field, initial=0.95 * 0.5 * (1 - np.tanh((r - 0.8) / 0.5))))
    sol = tk.solve(shifted, GridNewtonKrylov.example())
    assert sol.residual < 1e-7 and sol.negative_modes > 1
    assert sol.retcode is tk.ReturnCode.ConvergenceFailure and "negative modes" in sol.message
    pinned = tk.solve(p, GridNewtonKrylov.example())
    assert pinned.negative_modes == 1 and 0 < sol.barrier - pinned.barrier < 1e-3 * pinned.barrier


@pytest.mark.parametrize("seed", [0, 3])
def test_string_method_saddle_agrees_with_grid_newton_krylov(seed):
    # climbing alone (no Newton polish) reaches |dF/dphi| < 1e-6 on the 3D example; its saddle
    # matches Newton-Krylov's: same barrier to 1e-7 relative (the error is O(residual^2)),
    # same field to 1e-4, one negative Hessian eigenvalue, and the translation modes are not
    # unstable (they are the next eigenvalues, small and positive on this grid).
    p = NucleationBarrier.example(seed)
    grid = tk.solve(p, GridNewtonKrylov.example())
    string = tk.solve(p, StringMethod(images=7, max_iters=500, climb_after=60, zooms=2, polish=False))
    for sol in (grid, string):
        assert sol.retcode is tk.ReturnCode.Success, sol.message
        assert sol.negative_modes == 1 and sol.eigenvalues[0] < -0.05
        assert 0 < sol.eigenvalues[1] < 1e-2
    assert "polished" not in string.stats and string.residual < 1e-6
    assert string.barrier == pytest.approx(grid.barrier, rel=1e-7)
    assert np.max(np.abs(string.phi - grid.phi)) < 1e-4


def test_radial_and_grid_newton_krylov_agree_on_the_example():
    # the same droplet from the radial (l = 0) equation and from the full 3D grid: the barriers
    # differ only by discretisation (radial grid vs 24^3 periodic box), here 4e-4 relative
    p = NucleationBarrier.example(0)
    radial = tk.solve(p, RadialNewtonKrylov())
    grid = tk.solve(p, GridNewtonKrylov.example())
    assert radial.retcode is tk.ReturnCode.Success and grid.retcode is tk.ReturnCode.Success
    assert radial.negative_modes == 1 and grid.negative_modes == 1
    assert radial.barrier == pytest.approx(grid.barrier, rel=2e-3)
    assert radial.eigenvalues[0] == pytest.approx(grid.eigenvalues[0], rel=3e-2)


def test_grid_newton_krylov_confirms_the_radial_onion():
    # the radial onion saddle (repulsive Kac, near the spinodal) mapped on the grid, polished by
    # Newton-Krylov on the full 3D grid, is a critical point with exactly one negative eigenvalue
    # of the full Hessian (Lanczos)
    p = onion_barrier(eps=0.09)
    radial = tk.solve(p, RadialNewtonKrylov())
    grid = tk.solve(tk.remake(p, field=tk.remake(p.field, initial=radial.phi)), GridNewtonKrylov())
    assert grid.retcode is tk.ReturnCode.Success and grid.residual < 1e-7
    assert grid.negative_modes == 1 and grid.barrier > 0


def test_bcc_seed_sits_on_the_minimum_of_the_kac_transform():
    from problems.density_field import bcc_droplet_seed, bcc_lattice_constant, wavevectors

    a = bcc_lattice_constant(KacStep(1.0))
    assert a == pytest.approx(2 * np.pi * np.sqrt(2) / 5.7637, rel=1e-3)
    n, L = 24, 4 * a                                    # four cells: the <110> shell is on the grid
    seed = bcc_droplet_seed((n,) * 3, (L,) * 3, a, radius=100.0)   # envelope ~1: the full crystal
    power = np.abs(np.fft.rfftn(seed)) ** 2
    k = wavevectors((n,) * 3, (L,) * 3)
    assert k.flat[np.argmax(power)] == pytest.approx(KacStep(1.0).hat_min(3)[0], rel=2e-3)
    assert np.sum(power[np.isclose(k, k.flat[np.argmax(power)])]) > 0.99 * power.sum()

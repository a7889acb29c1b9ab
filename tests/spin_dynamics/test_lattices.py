"""Square, kagome and cubic builders and the stripe state, checked like the triangular ones: positions
and bonds follow the tight-binding numbering, counts per site, bond lengths, triangle orientation and
chirality, structure-factor peaks, and Kondo problems built on them solve."""

import numpy as np
import pytest

import toolkit as tk
from problems.spin_dynamics import (LATTICE_KINDS, classical_lattice, lattice, lattice_state, triangular_lattice,
                                    triangular_state)
from problems.tight_binding import lattice_geometry
from solvers.spin_dynamics import SIB, OverdampedLangevin, kondo_lattice
from solvers.spin_dynamics.kernels import scalar_chirality_reference
from solvers.spin_dynamics.observables import structure_factor, structure_factor_direct
from solvers.tight_binding import ExactDiagonalization

#: kind: (shape, sites per cell, bonds per site, triangles per site, bond length)
CASES = {"square": ((4, 3), 1, 2, 0, 1.0), "kagome": ((2, 3), 3, 2, 2 / 3, 0.5),
         "cubic": ((3, 4, 3), 1, 3, 0, 1.0), "triangular": ((3, 4), 1, 3, 2, 1.0)}


def _pairs(bonds):
    return {tuple(sorted(map(int, b))) for b in bonds}


@pytest.mark.parametrize("kind", LATTICE_KINDS)
def test_bonds_and_positions_follow_the_tight_binding_numbering(kind):
    shape, nsub, per_site, tri_per_site, length = CASES[kind]
    positions, bonds, triangles = lattice(kind, shape)
    pos_tb, (nn,) = lattice_geometry(kind, shape, shells=1)
    np.testing.assert_allclose(positions, pos_tb)
    n = nsub * int(np.prod(shape))
    assert len(positions) == n
    assert _pairs(bonds) == _pairs(nn) and len(_pairs(bonds)) == len(bonds) == per_site * n   # each bond once
    assert len(triangles) == round(tri_per_site * n)
    # an open lattice keeps only the bonds and triangles that do not wrap: all of length `length`,
    # triangles counter-clockwise with three bonds as edges
    pos, bonds, triangles = lattice(kind, shape, periodic=False)
    np.testing.assert_allclose(np.linalg.norm(pos[bonds[:, 0]] - pos[bonds[:, 1]], axis=1), length)
    assert len(bonds) < per_site * n
    if len(triangles):
        a, b, c = (pos[triangles[:, k]] for k in range(3))
        area = 0.5 * ((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])
        np.testing.assert_allclose(area, np.sqrt(3) / 4 * length ** 2)
        edges = _pairs(np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]))
        assert edges <= _pairs(bonds)


def test_the_kagome_lattice_has_one_up_and_one_down_triangle_per_cell():
    pos, bonds, triangles = lattice("kagome", (4, 4), periodic=False)
    assert len(triangles) == 16 + 9            # up triangles in every cell, down ones where the cell has neighbours
    per_site = np.bincount(triangles.ravel(), minlength=len(pos))
    interior = per_site[(pos[:, 0] > 1.0) & (pos[:, 0] < 3.0) & (pos[:, 1] > 0.5) & (pos[:, 1] < 2.0)]
    assert np.all(interior == 2)               # corner-sharing: each interior site in two triangles


@pytest.mark.parametrize("kind", ["triangular", "square", "kagome"])
def test_the_stripe_state_puts_its_weight_at_half_b1(kind):
    shape = {"triangular": (4, 3), "square": (4, 3), "kagome": (2, 3)}[kind]
    problem = classical_lattice(kind, shape, state="stripe")
    S = problem.spins
    assert np.all(S[:, :2] == 0.0) and np.all(np.abs(S[:, 2]) == 1.0) and S[:, 2].sum() == 0.0
    sq = structure_factor(S, problem.positions, problem.lattice_vectors, problem.lattice_shape)
    nsub, cells = problem.sublattices, shape[0] * shape[1]
    b1 = 2 * np.pi * np.linalg.inv(problem.lattice_vectors).T[0]
    tau = problem.positions[:nsub]
    peak = cells ** 2 * abs(np.sum(np.exp(1j * tau @ (b1 / 2)))) ** 2 / problem.sites
    assert sq[shape[0] // 2, 0] == pytest.approx(peak)
    assert sq.max() == pytest.approx(peak)
    assert structure_factor_direct(S, problem.positions, b1 / 2) == pytest.approx(peak)
    if kind != "kagome":                       # Bravais lattices: all of the sum rule sum_q S(q) = N at b1/2
        assert peak == pytest.approx(problem.sites)
    np.testing.assert_allclose(scalar_chirality_reference(S, problem.triangles), 0.0)    # collinear
    np.testing.assert_array_equal(triangular_state((4, 3), "stripe"), lattice_state("triangular", (4, 3), "stripe"))


def test_states_on_every_lattice_are_unit_and_seeded():
    for kind in LATTICE_KINDS:
        shape = CASES[kind][0] if kind != "kagome" else (2, 2)
        S = lattice_state(kind, shape, "random", seed=1)
        np.testing.assert_allclose(np.linalg.norm(S, axis=1), 1.0)
        assert not np.array_equal(S, lattice_state(kind, shape, "random", seed=2))
        assert np.all(lattice_state(kind, shape, "ferro") == [0.0, 0.0, 1.0])
    S = lattice_state("cubic", (2, 3, 3), "stripe")
    pos, _, _ = lattice("cubic", (2, 3, 3), periodic=False)
    np.testing.assert_array_equal(S[:, 2], np.where(pos[:, 0] == 0, 1.0, -1.0))


@pytest.mark.parametrize("call,name", [
    (lambda: lattice("honeycomb", (3, 3)), "kind"), (lambda: lattice("square", (2, 4)), "shape"),
    (lambda: lattice("kagome", (1, 3)), "shape"), (lambda: lattice("cubic", (3, 3)), "shape"),
    (lambda: lattice("cubic", (10**5, 10**5, 10**5)), "shape"),
    (lambda: lattice_state("square", (3, 4), "stripe"), "shape"),
    (lambda: lattice_state("kagome", (2, 2), "triple-q"), "state"),
    (lambda: lattice("square", (3, 3), periodic=2), "periodic"),
])
def test_builders_refuse_bad_arguments_by_name(call, name):
    with pytest.raises(tk.InvalidProblemError, match=name):
        call()


def test_the_triangular_builder_is_the_generic_one():
    for got, want in zip(lattice("triangular", (3, 4)), triangular_lattice((3, 4))):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind,shape", [("square", (4, 4)), ("kagome", (2, 2)), ("cubic", (2, 2, 2))])
def test_kondo_problems_on_the_new_lattices_solve_with_ed_forces(kind, shape):
    problem = kondo_lattice(kind, shape, state="stripe", filling=None, mu=-1.0, kT=0.2, temperature=0.05,
                            damping=1.0, dt=0.05, steps=6, save_every=3) if kind != "cubic" else \
        kondo_lattice(kind, (3, 3, 4), state="random", filling=None, mu=-1.0, kT=0.2, temperature=0.05, damping=1.0,
                      dt=0.05, steps=6, save_every=3)
    assert problem.model.lattice[0] == kind
    sol = tk.solve(problem, OverdampedLangevin(forces=ExactDiagonalization(), seed=1), progress=False)
    assert sol.successful and np.all(np.isfinite(sol.energy)) and sol.spins.shape[0] == 3
    if kind != "cubic":
        assert sol.structure_factor().values.shape == problem.lattice_shape


def test_a_classical_kagome_antiferromagnet_lowers_its_energy_to_the_ground_state_bound():
    """E = J sum_<ij> S_i . S_j on corner-sharing triangles is (J/2) sum_tri |S_tri|^2 - const, so E / N >= -J;
    relaxing at T = 0 from random spins comes close to it (the kagome ground states are degenerate)."""
    problem = classical_lattice("kagome", (3, 3), state="random", seed=2, exchange=1.0, damping=1.0, dt=0.1,
                                steps=400, save_every=400)
    sol = tk.solve(problem, SIB(), progress=False)
    e = sol.energy / problem.sites
    assert e[-1] >= -1.0 - 1e-12 and e[-1] < -0.98 and e[-1] < e[0]

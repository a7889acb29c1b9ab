"""Potentials as force providers: the PotentialEnergy cache, its energy gradient, held-solver checks."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit as tk
from problems.molecule import GeometryOptimization, MolecularDynamics, PotentialEnergy, argon_cluster, lj_fluid
from solvers.molecule import LennardJones, Morse, PotentialCache, VelocityVerlet


def test_cache_update_solve_equals_a_fresh_solve():
    m = lj_fluid(cells=3, density=0.8, temperature=0.0)
    rng = np.random.default_rng(1)
    m2 = tk.remake(m, positions=m.positions + 0.05 * rng.standard_normal(m.positions.shape))
    cache = tk.init(PotentialEnergy(m), LennardJones())
    assert isinstance(cache, PotentialCache) and isinstance(cache, tk.ForceCache)
    first = cache.solve()
    np.testing.assert_array_equal(first.forces, tk.solve(PotentialEnergy(m), LennardJones()).forces)
    evaluator = cache.evaluator
    again = cache.update(molecule=m2).solve()
    fresh = tk.solve(PotentialEnergy(m2), LennardJones())
    assert cache.evaluator is evaluator            # same atoms and box: the evaluator (and its list) is kept
    assert again.successful and again.problem.molecule is cache.problem.molecule
    # a kept Verlet list may order the pair sum differently: equal to round-off
    assert np.isclose(again.energy, fresh.energy, rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(again.forces, fresh.forces, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(again.virial, fresh.virial, rtol=1e-12, atol=1e-12)
    # another box: a new evaluator
    bigger = lj_fluid(cells=4, density=0.8, temperature=0.0)
    third = cache.update(molecule=bigger).solve()
    assert cache.evaluator is not evaluator
    assert np.isclose(third.energy, tk.solve(PotentialEnergy(bigger), LennardJones()).energy, rtol=1e-13)
    with pytest.raises(tk.InvalidProblemError, match="molecule"):
        cache.update(molecule="water")
    with pytest.raises(tk.InvalidProblemError, match="no field"):
        cache.update(positions=m.positions)


@pytest.mark.parametrize("potential", [LennardJones(), Morse(alpha=2.0, cutoff=3.0)], ids=repr)
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.0, 0.12))
def test_energy_gradient_is_the_gradient_and_matches_solve(potential, seed, scale):
    base = lj_fluid(cells=4, density=0.7, temperature=0.0)     # box 6.4 Å: room for Morse's 3 Å cutoff
    x = base.positions + scale * np.random.default_rng(seed).standard_normal(base.positions.shape)
    cache = tk.init(PotentialEnergy(base), potential)
    energy, gradient = cache.energy_gradient(x)
    solved = tk.solve(PotentialEnergy(tk.remake(base, positions=x)), potential)
    assert np.isclose(energy, solved.energy, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gradient, -solved.forces, rtol=1e-10, atol=1e-10)
    # central differences, h = 1e-5 Å: O(h^2) truncation, forces of O(1..100) eV/Å
    h = 1e-5
    rng = np.random.default_rng(seed + 1)
    for i in rng.choice(len(x), size=3, replace=False):
        for a in range(3):
            xp, xm = x.copy(), x.copy()
            xp[i, a] += h
            xm[i, a] -= h
            numeric = (cache.energy_gradient(xp)[0] - cache.energy_gradient(xm)[0]) / (2 * h)
            assert np.isclose(gradient[i, a], numeric, rtol=1e-5, atol=1e-5 * (1 + np.abs(gradient).max()))


def test_kept_neighbour_list_is_rebuilt_only_past_half_the_skin():
    base = lj_fluid(cells=3, density=0.7, temperature=0.0)
    cache = tk.init(PotentialEnergy(base), LennardJones(skin=0.3))
    cache.compute(base.positions)
    built = cache.evaluator.rebuilds
    cache.compute(base.positions + 0.05)             # every atom moved 0.087 Å < skin/2: list kept
    assert cache.evaluator.rebuilds == built
    moved = base.positions.copy()
    moved[0] += 0.3                                  # one atom 0.52 Å > skin/2: rebuilt
    cache.compute(moved)
    assert cache.evaluator.rebuilds == built + 1
    energy, forces, _ = cache.compute(np.full_like(moved, np.nan))
    assert not np.isfinite(energy) and not np.isfinite(forces).any()


class NoForces(tk.ForceProvider):
    """A force provider that serves no problem."""


def test_a_held_potential_that_cannot_serve_potential_energy_is_refused_naming_the_field():
    md = MolecularDynamics(argon_cluster(), NoForces(), steps=5)
    with pytest.raises(tk.IncompatiblePairError, match="potential") as info:
        tk.solve(md, VelocityVerlet(), progress=False)
    assert "NoForces" in str(info.value) and "LennardJones" in str(info.value)
    with pytest.raises(tk.IncompatiblePairError, match="potential"):
        tk.init(md, VelocityVerlet())
    with pytest.raises(tk.InvalidProblemError, match="potential"):
        MolecularDynamics(argon_cluster(), VelocityVerlet(), steps=5)
    with pytest.raises(tk.InvalidProblemError, match="potential"):
        GeometryOptimization(argon_cluster(), "lj")
    assert MolecularDynamics.held_solvers == {"potential": PotentialEnergy}
    assert GeometryOptimization.held_solvers == {"potential": PotentialEnergy}
    rows = {(owner, field) for owner, field, inner, _ in tk.composed() if inner is PotentialEnergy}
    assert {(MolecularDynamics, "potential"), (GeometryOptimization, "potential")} <= rows


def test_no_is_potential_trait_and_problems_never_import_solvers():
    assert not hasattr(LennardJones(), "is_potential")
    assert isinstance(LennardJones(), tk.ForceProvider) and LennardJones.configuration == "positions"
    source = Path(__file__).parents[2] / "problems" / "molecule.py"
    for node in ast.walk(ast.parse(source.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        assert not any(n == "solvers" or n.startswith("solvers.") for n in names), names
    # the examples get their potential from the registered default (argon atoms: argon's LJ)
    assert MolecularDynamics.example().potential == LennardJones.argon()
    assert tk.init(PotentialEnergy(lj_fluid(cells=3))).solver == LennardJones()

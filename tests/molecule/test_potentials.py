"""Pair potentials: kernel = NumPy reference, forces = -grad E, virial = -dE/dstrain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit as tk
from problems.molecule import Molecule, PotentialEnergy, lj_fluid, water
from solvers.molecule import LennardJones, Morse

POTENTIALS = [LennardJones(), LennardJones(shift=False, cutoff=2.0), Morse(), Morse(alpha=2.0, cutoff=3.0)]


def _random_molecule(seed, n, periodic, length=5.2):
    """Atoms at random positions no closer than 0.8 (reduced units): a dense, rough configuration."""
    rng = np.random.default_rng(seed)
    x = []
    while len(x) < n:
        trial = rng.uniform(0, length, 3)
        if all(np.linalg.norm((trial - y) - length * np.rint((trial - y) / length) * periodic) > 0.85 for y in x):
            x.append(trial)
    return Molecule(species=("Ar",) * n, positions=np.array(x), cell=[length] * 3 if periodic else None,
                    pbc=bool(periodic), masses=np.ones(n))


def _reference_energy(potential, molecule, positions):
    """NumPy: sum of u(r) over all pairs (minimum image), the kernel's reference."""
    d = positions[None, :, :] - positions[:, None, :]
    if any(molecule.pbc):
        box = np.diag(molecule.cell)
        d -= box * np.rint(d / box)
    r = np.sqrt((d ** 2).sum(-1))
    iu = np.triu_indices(len(positions), 1)
    return float(potential.pair_energy(r[iu]).sum())


@pytest.mark.parametrize("potential", POTENTIALS, ids=repr)
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(2, 30), periodic=st.booleans())
def test_forces_are_minus_gradient(potential, seed, n, periodic):
    mol = _random_molecule(seed, n, periodic, length=max(5.2, 2 * potential.rc + 0.01))
    sol = tk.solve(PotentialEnergy(mol), potential)
    assert sol.successful
    # kernel agrees with the NumPy pair sum to rounding
    assert np.isclose(sol.energy, _reference_energy(potential, mol, mol.positions), rtol=1e-10, atol=1e-10)
    # central differences, h = 1e-5: truncation O(h^2 E''') ~ 1e-8 relative to forces of O(1..100)
    ev = potential.evaluator(mol)
    h = 1e-5
    rng = np.random.default_rng(seed)
    for i in rng.choice(n, size=min(n, 4), replace=False):
        for a in range(3):
            xp, xm = mol.positions.copy(), mol.positions.copy()
            xp[i, a] += h
            xm[i, a] -= h
            numeric = -(ev.compute(xp)[0] - ev.compute(xm)[0]) / (2 * h)
            assert np.isclose(sol.forces[i, a], numeric, rtol=1e-5, atol=1e-5 * (1 + np.abs(sol.forces).max()))
    # Newton's third law: total force vanishes
    assert np.allclose(sol.forces.sum(0), 0, atol=1e-9 * (1 + np.abs(sol.forces).max()))


@pytest.mark.parametrize("potential", POTENTIALS[:3], ids=repr)
def test_virial_is_minus_strain_derivative(potential):
    """W_ab = -dE/d eps_ab for a homogeneous strain x -> (1 + eps) x of positions and cell."""
    mol = _random_molecule(3, 40, True, length=max(5.2, 2 * potential.rc + 0.01))
    sol = tk.solve(PotentialEnergy(mol), potential)
    h = 1e-6
    for a in range(3):
        for b in range(3):
            energies = []
            for s in (h, -h):
                strain = np.eye(3)
                strain[a, b] += s
                strained = tk.remake(mol, positions=mol.positions @ strain.T, cell=mol.cell @ strain.T)
                if not strained.orthorhombic:
                    break
                energies.append(tk.solve(PotentialEnergy(strained), potential).energy)
            if len(energies) == 2:
                assert np.isclose(sol.virial[a, b], -(energies[0] - energies[1]) / (2 * h), rtol=1e-5, atol=1e-6)
    assert np.allclose(sol.virial, sol.virial.T)
    assert np.allclose(sol.stress, -sol.virial / mol.volume)


def test_lj_minimum_and_shift():
    lj = LennardJones(epsilon=0.5, sigma=2.0)
    rmin = 2 ** (1 / 6) * 2.0
    mol = Molecule(species=["Ar", "Ar"], positions=[[0, 0, 0], [rmin, 0, 0]])
    sol = tk.solve(PotentialEnergy(mol), lj)
    assert np.isclose(sol.energy, -0.5 - lj.energy_shift)
    assert np.allclose(sol.forces, 0, atol=1e-12)
    assert np.isclose(LennardJones(shift=True).pair_energy(2.5 - 1e-12), 0, atol=1e-9)


def test_morse_minimum():
    morse = Morse(depth=2.0, alpha=1.2, r0=1.5, shift=False)
    mol = Molecule(species=["H", "H"], positions=[[0, 0, 0], [0, 0, 1.5]])
    sol = tk.solve(PotentialEnergy(mol), morse)
    assert np.isclose(sol.energy, -2.0) and np.allclose(sol.forces, 0, atol=1e-12)


def test_fcc_lattice_energy_matches_lattice_sum():
    """Perfect fcc: every atom sees the same shells, so E/N is the NumPy shell sum."""
    mol = lj_fluid(cells=5, density=1.0, temperature=0.0)
    lj = LennardJones(cutoff=2.5, shift=False)
    sol = tk.solve(PotentialEnergy(mol), lj)
    ref = _reference_energy(lj, mol, mol.positions)
    assert np.isclose(sol.energy, ref, rtol=1e-12)
    assert np.allclose(sol.forces, 0, atol=1e-10)


def test_bad_solver_and_box_are_refused():
    with pytest.raises(tk.InvalidSolverError, match="sigma"):
        LennardJones(sigma=-1.0)
    with pytest.raises(tk.InvalidSolverError, match="shift"):
        LennardJones(shift="yes")
    small = lj_fluid(cells=2, density=0.8)
    with pytest.raises(tk.InvalidProblemError, match="too small"):
        tk.solve(PotentialEnergy(small), LennardJones())
    sol = tk.solve(PotentialEnergy(water()), LennardJones())
    assert sol.successful and sol.forces.shape == (3, 3)

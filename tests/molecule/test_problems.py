"""Molecule validation, builders and ASE / extxyz round trips."""

from __future__ import annotations

import numpy as np
import pytest

import toolkit as tk
from problems.molecule import FS, Molecule, argon_cluster, lj_fluid, organic, water


def test_validation_names_the_field():
    with pytest.raises(tk.InvalidProblemError, match="species"):
        Molecule(species=["Xx"], positions=[[0, 0, 0]])
    with pytest.raises(tk.InvalidProblemError, match="species"):
        Molecule(species="H2O", positions=np.zeros((3, 3)))
    with pytest.raises(tk.InvalidProblemError, match="positions"):
        Molecule(species=["H", "H"], positions=[[0, 0, 0], [0, 0, np.nan]])
    with pytest.raises(tk.InvalidProblemError, match="overlap"):
        Molecule(species=["H", "H"], positions=[[0, 0, 0], [0, 0, 0.01]])
    with pytest.raises(tk.InvalidProblemError, match="cell"):
        Molecule(species=["H"], positions=[[0, 0, 0]], cell=[1, 1, 0], pbc=True)
    with pytest.raises(tk.InvalidProblemError, match="cell"):
        Molecule(species=["H"], positions=[[0, 0, 0]], pbc=True)
    with pytest.raises(tk.InvalidProblemError, match="masses"):
        Molecule(species=["H"], positions=[[0, 0, 0]], masses=[-1.0])
    # periodic images count as neighbours
    with pytest.raises(tk.InvalidProblemError, match="overlap"):
        Molecule(species=["H", "H"], positions=[[0, 0, 0], [2.99, 0, 0]], cell=[3, 3, 3], pbc=True)


def test_normalisation():
    mol = Molecule(species=[8, 1, 1], positions=[[0, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert mol.species == ("O", "H", "H") and mol.masses.dtype == np.float64
    assert mol.pbc == (False, False, False) and mol.velocities.shape == (3, 3)
    box = Molecule(species=["Ar"], positions=[[0, 0, 0]], cell=[2, 3, 4], pbc=True)
    assert box.cell.shape == (3, 3) and np.isclose(box.volume, 24.0)


def test_ase_and_extxyz_round_trip(tmp_path):
    mol = lj_fluid(cells=2, density=0.5, temperature=1.0, symbol="Ar")
    back = Molecule.from_ase(mol.to_ase())
    np.testing.assert_allclose(back.positions, mol.positions)
    np.testing.assert_allclose(back.velocities, mol.velocities, rtol=1e-12)
    assert back.pbc == mol.pbc and back.species == mol.species
    path = mol.write(tmp_path / "fluid.extxyz")
    read = Molecule.read(path)
    np.testing.assert_allclose(read.positions, mol.positions)
    np.testing.assert_allclose(read.cell, mol.cell)
    np.testing.assert_allclose(read.velocities, mol.velocities, rtol=1e-5, atol=1e-8)  # extxyz: 8 decimals
    # kinetic energy in eV agrees with ASE's (velocities converted Å/fs <-> ASE units)
    assert np.isclose(mol.kinetic_energy(), mol.to_ase().get_kinetic_energy())
    assert np.isclose(FS, 1 / 10.180505671156723, rtol=1e-9)


def test_builders():
    fluid = lj_fluid(cells=3, density=0.8442, temperature=0.722)
    assert fluid.n_atoms == 108 and np.isclose(108 / fluid.volume, 0.8442)
    assert np.allclose((fluid.masses[:, None] * fluid.velocities).sum(0), 0, atol=1e-12)
    assert water().species == ("O", "H", "H")
    assert organic("C6H6").n_atoms == 12
    assert argon_cluster().n_atoms == 13
    with pytest.raises(tk.InvalidProblemError, match="name"):
        organic("unobtainium")

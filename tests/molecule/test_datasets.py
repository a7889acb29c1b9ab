"""AtomisticDataset (flat arrays + offsets, validation, files, seeded splits) and the QM9 loader (issue 19)."""

import numpy as np
import pytest

import toolkit as tk
from problems.datasets import BOHR_ANGSTROM, HARTREE_EV, AtomicStructure, AtomisticDataset
from solvers.molecule.qm9 import QM9_ATOM_REFERENCES, QM9_SIZE, load_qm9

WATER = [[0.0, 0.0, 0.119], [0.0, 0.763, -0.477], [0.0, -0.763, -0.477]]
METHANE = [[0.0, 0.0, 0.0], [0.629, 0.629, 0.629], [-0.629, -0.629, 0.629], [-0.629, 0.629, -0.629],
           [0.629, -0.629, -0.629]]


def small(n=6, forces=True, seed=0):
    """``n`` structures alternating water (3 atoms) and methane (5 atoms), jittered."""
    rng = np.random.default_rng(seed)
    species, positions, frc = [], [], []
    for k in range(n):
        base = np.array(WATER if k % 2 == 0 else METHANE)
        species.append(["O", "H", "H"] if k % 2 == 0 else [6, 1, 1, 1, 1])
        positions.append(base + 0.02 * rng.standard_normal(base.shape))
        frc.append(rng.standard_normal(base.shape))
    return AtomisticDataset.from_structures(species, positions, -10.0 - np.arange(n), forces=frc if forces else None,
                                            source="test")


def test_flat_layout_and_per_structure_access():
    ds = small(5)
    assert len(ds) == ds.n_structures == 5
    assert ds.offsets.tolist() == [0, 3, 8, 11, 16, 19]
    assert ds.species.dtype == np.int64 and ds.positions.shape == (19, 3) and ds.forces.shape == (19, 3)
    assert ds.n_atoms.tolist() == [3, 5, 3, 5, 3]
    s = ds[1]
    assert isinstance(s, AtomicStructure) and s.n_atoms == 5 and s.symbols == ("C", "H", "H", "H", "H")
    assert s.energy == -11.0 and s.id == 1
    np.testing.assert_array_equal(s.positions, ds.positions[3:8])
    assert not s.positions.flags.writeable       # views never let a caller edit the dataset
    assert ds[-1].energy == -14.0
    with pytest.raises(IndexError, match="index = 5"):
        ds[5]
    assert [t.n_atoms for t in ds] == [3, 5, 3, 5, 3]
    assert len(ds[1:4]) == 3 and ds[[4, 0]].ids.tolist() == [4, 0]
    counts, columns = ds.composition()
    assert columns.tolist() == [1, 6, 8] and counts[1].tolist() == [4, 1, 0] and counts[0].tolist() == [2, 0, 1]
    atoms = ds[1].to_ase()
    assert atoms.get_potential_energy() == -11.0 and atoms.get_chemical_formula() == "CH4"


def test_units_are_converted_with_codata_2018():
    ds = AtomisticDataset.from_structures([["H", "H"]], [[[0, 0, 0], [0, 0, 1.4]]], [-1.0],
                                          forces=[[[0, 0, 1], [0, 0, -1]]], energy_unit="Hartree", length_unit="Bohr")
    assert ds.energies[0] == pytest.approx(-27.211386245988, rel=1e-15)
    assert ds.positions[1, 2] == pytest.approx(1.4 * 0.529177210903, rel=1e-15)
    assert ds.forces[0, 2] == pytest.approx(HARTREE_EV / BOHR_ANGSTROM, rel=1e-15)
    kcal = AtomisticDataset.from_structures([["H"]], [[[0, 0, 0]]], [23.060547830619026], energy_unit="kcal/mol")
    assert kcal.energies[0] == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(tk.InvalidProblemError, match="energy_unit = 'Ry'.*'Hartree'"):
        AtomisticDataset.from_structures([["H"]], [[[0, 0, 0]]], [1.0], energy_unit="Ry")


def test_validation_names_the_field_the_structure_and_the_remedy():
    ds = small(4)
    fields = ds.parameters()
    bad = dict(fields, energies=np.array([1.0, np.nan, 2.0, 3.0]))
    with pytest.raises(tk.InvalidProblemError, match=r"energies = .*structure 1 has nan"):
        AtomisticDataset(**bad)
    x = ds.positions.copy()
    x[9, 1] = np.inf
    with pytest.raises(tk.InvalidProblemError, match=r"positions = .*structure 2 has NaN or infinite.*Å"):
        AtomisticDataset(**dict(fields, positions=x))
    f = ds.forces.copy()
    f[0, 0] = np.nan
    with pytest.raises(tk.InvalidProblemError, match=r"forces = .*structure 0 .*eV/Å"):
        AtomisticDataset(**dict(fields, forces=f))
    with pytest.raises(tk.InvalidProblemError, match=r"positions = .*expected shape \(16, 3\)"):
        AtomisticDataset(**dict(fields, positions=ds.positions[:-1]))
    with pytest.raises(tk.InvalidProblemError, match=r"offsets = .*increasing atom offsets starting at 0"):
        AtomisticDataset(**dict(fields, offsets=np.array([0, 3, 3, 11, 16])))
    with pytest.raises(tk.InvalidProblemError, match=r"energies = .*expected shape \(4,\)"):
        AtomisticDataset(**dict(fields, energies=np.zeros(3)))
    with pytest.raises(tk.InvalidProblemError, match=r"species = .*< 119"):
        AtomisticDataset(**dict(fields, species=np.where(ds.species == 8, 200, ds.species)))
    with pytest.raises(tk.InvalidProblemError, match=r"'Xx' is not an element symbol"):
        AtomisticDataset.from_structures([["Xx"]], [[[0, 0, 0]]], [0.0])
    with pytest.raises(tk.InvalidProblemError, match=r"pbc = .*periodic structures need cells"):
        AtomisticDataset(**dict(fields, pbc=True))
    with pytest.raises(tk.InvalidProblemError, match=r"eV per atom.*energies are in eV"):
        AtomisticDataset(**dict(fields, energies=np.full(4, -1e9)))


def test_overlapping_atoms_are_refused_with_a_units_hint():
    # positions in nm instead of Å put the atoms of water 0.096 apart
    nm = np.array(WATER) / 10
    with pytest.raises(tk.InvalidProblemError, match=r"structure 1 \(id 1\) 0.0\d+ Å apart.*check the units"):
        AtomisticDataset.from_structures([["O", "H", "H"]] * 2, [WATER, nm], [0.0, 0.0])
    fine = AtomisticDataset.from_structures([["O", "H", "H"]], [nm], [0.0], length_unit="nm")
    assert fine.closest_distances()[0] == pytest.approx(np.linalg.norm(np.subtract(WATER[0], WATER[1])))
    # periodic images count: two atoms 0.05 Å apart across the boundary of a 5 Å box
    with pytest.raises(tk.InvalidProblemError, match="apart"):
        AtomisticDataset.from_structures([["Ar", "Ar"]], [[[0.02, 0, 0], [4.97, 0, 0]]], [0.0], cells=[[5.0, 5.0, 5.0]],
                                         pbc=True)
    boxed = AtomisticDataset.from_structures([["Ar", "Ar"]], [[[0.5, 0, 0], [4.0, 0, 0]]], [0.0],
                                             cells=[[5.0, 5.0, 5.0]], pbc=True)
    assert boxed.closest_distances()[0] == pytest.approx(1.5)


def test_closest_distances_agree_with_a_brute_force_reference():
    ds = small(7)
    for k, s in enumerate(ds):
        d = np.linalg.norm(s.positions[:, None] - s.positions[None], axis=-1) + np.diag(np.full(s.n_atoms, np.inf))
        assert ds.closest_distances()[k] == pytest.approx(d.min(), rel=1e-14)


def test_subset_keeps_order_repeats_and_ids():
    ds = small(6)
    sub = ds.subset([5, 1, 1])
    assert sub.ids.tolist() == [5, 1, 1] and sub.n_atoms.tolist() == [5, 5, 5]
    np.testing.assert_array_equal(sub[0].positions, ds[5].positions)
    np.testing.assert_array_equal(sub[2].forces, ds[1].forces)
    mask = np.zeros(6, dtype=bool)
    mask[[0, 3]] = True
    assert ds.subset(mask).ids.tolist() == [0, 3]
    with pytest.raises(tk.InvalidProblemError, match="indices = .*< 6"):
        ds.subset([6])
    with pytest.raises(tk.InvalidProblemError, match="at least one structure"):
        ds.subset([])


def test_split_follows_the_documented_seeded_rule():
    ds = small(20)
    train, valid, test = ds.split((0.7, 0.2, 0.1), seed=3)
    assert (len(train), len(valid), len(test)) == (14, 4, 2)
    order = np.random.default_rng(np.random.SeedSequence(3)).permutation(20)
    assert train.ids.tolist() == sorted(order[:14].tolist())
    assert valid.ids.tolist() == sorted(order[14:18].tolist())
    assert test.ids.tolist() == sorted(order[18:].tolist())
    again = ds.split((0.7, 0.2, 0.1), seed=3)
    assert all(a == b for a, b in zip(again, (train, valid, test)))
    other = ds.split((0.7, 0.2, 0.1), seed=4)
    assert other[0].ids.tolist() != train.ids.tolist()
    half, rest = ds.split(0.5, seed=0)
    assert len(half) == 10 and set(half.ids) | set(rest.ids) == set(range(20))
    part, = ds.split((0.25,), seed=0)            # fractions below one leave the rest out
    assert len(part) == 5
    with pytest.raises(tk.InvalidProblemError, match="part 1 gets no structure"):
        small(3).split((0.5, 0.1, 0.4))
    with pytest.raises(tk.InvalidProblemError, match="summing to at most 1"):
        ds.split((0.8, 0.3))


@pytest.mark.parametrize("suffix", [".nc", ".npz"])
def test_compact_files_round_trip_bit_for_bit(tmp_path, suffix):
    ds = small(5)
    path = ds.write(tmp_path / f"data{suffix}")
    back = AtomisticDataset.read(path)
    assert back == ds and back.source == "test"
    no_forces = small(3, forces=False)
    assert AtomisticDataset.read(no_forces.write(tmp_path / f"nf{suffix}")).forces is None
    boxed = AtomisticDataset.from_structures([["Ar", "Ar"]], [[[0.5, 0, 0], [3.0, 0, 0]]], [-0.1],
                                             cells=[[6.0, 6.0, 6.0]], pbc=[True, True, False])
    again = AtomisticDataset.read(boxed.write(tmp_path / f"box{suffix}"))
    assert again == boxed and again.pbc.dtype == np.bool_ and again.pbc[0].tolist() == [True, True, False]


def test_netcdf_is_a_toolkit_record(tmp_path):
    from toolkit.io import read_record

    ds = small(3)
    obj, attrs = read_record(ds.write(tmp_path / "d.nc"), "atomistic_dataset")
    assert obj == ds and attrs["source"] == "test"
    with pytest.raises(tk.InvalidOptionError, match="suffix '.txt'"):
        ds.write(tmp_path / "d.txt")


def test_extxyz_round_trips_through_ase(tmp_path):
    ds = small(4)
    back = AtomisticDataset.read(ds.write(tmp_path / "d.extxyz"))
    assert len(back) == 4 and back.cells is None and back.ids.tolist() == ds.ids.tolist()
    np.testing.assert_array_equal(back.species, ds.species)
    np.testing.assert_allclose(back.positions, ds.positions, atol=1e-7)
    np.testing.assert_allclose(back.forces, ds.forces, atol=1e-7)
    np.testing.assert_allclose(back.energies, ds.energies, rtol=1e-12)
    nf = AtomisticDataset.read(small(2, forces=False).write(tmp_path / "nf.xyz"))
    assert nf.forces is None


def test_from_ase_refuses_a_mix_of_labelled_and_unlabelled_forces():
    frames = small(3).to_ase()
    frames[1].calc.results.pop("forces")
    with pytest.raises(tk.InvalidProblemError, match="2 of 3 frames have forces"):
        AtomisticDataset.from_ase(frames)
    assert AtomisticDataset.from_ase(frames, forces=False).forces is None
    frames[0].calc = None
    with pytest.raises(tk.InvalidProblemError, match="every frame needs an energy"):
        AtomisticDataset.from_ase(frames)


def test_concatenate_and_remake():
    a, b = small(2), small(3, seed=1)
    both = AtomisticDataset.concatenate([a, b])
    assert len(both) == 5 and both.offsets[-1] == a.offsets[-1] + b.offsets[-1]
    np.testing.assert_array_equal(both[3].positions, b[1].positions)
    with pytest.raises(tk.InvalidProblemError, match="all have forces or all lack them"):
        AtomisticDataset.concatenate([a, small(2, forces=False)])
    shifted = tk.remake(a, energies=a.energies + 1.0)
    assert shifted.energies.tolist() == [-9.0, -10.0]


# ---------------------------------------------------------------------------------------------
# QM9 (qm9pack wheel; Ramakrishnan et al., Sci. Data 1, 140022 (2014))

def test_qm9_methane_water_and_ammonia_by_index():
    ds = load_qm9(ids=[1, 2, 3])
    assert ds.ids.tolist() == [1, 2, 3] and ds.n_atoms.tolist() == [5, 4, 3] and ds.forces is None
    counts, columns = ds.composition([1, 6, 7, 8])
    assert counts.tolist() == [[4, 1, 0, 0], [3, 0, 1, 0], [2, 0, 0, 1]]       # CH4, NH3, H2O
    ref = QM9_ATOM_REFERENCES["U0"]
    # U0 of gdb 1 (methane), 2 (ammonia), 3 (water) in Hartree, from the QM9 data files
    u0 = {1: -40.47893, 2: -56.525887, 3: -76.404702}
    expected = [(u0[1] - ref[6] - 4 * ref[1]) * 27.211386245988, (u0[2] - ref[7] - 3 * ref[1]) * 27.211386245988,
                (u0[3] - ref[8] - 2 * ref[1]) * 27.211386245988]
    np.testing.assert_allclose(ds.energies, expected, rtol=1e-14)
    assert ds.energies[0] == pytest.approx(-17.1722, abs=1e-4)                   # 0.631066 Hartree
    np.testing.assert_allclose(ds[0].positions[0], [-0.0126981359, 1.0858041578, 0.0080009958])
    total = load_qm9(ids=[1], atomization=False)
    assert total.energies[0] == pytest.approx(u0[1] * HARTREE_EV, rel=1e-15)
    assert "no forces" in ds.source


def test_qm9_seeded_subset_streams_and_is_reproducible():
    ds = load_qm9(50, seed=0)
    assert len(ds) == 50 and ds.forces is None
    rows = np.sort(np.random.default_rng(np.random.SeedSequence(0)).choice(QM9_SIZE, 50, replace=False))
    assert np.all(np.diff(ds.ids) > 0) and np.all(ds.ids >= rows + 1)   # indices skip the 3,054 removed
    assert set(np.unique(ds.species)) <= {1, 6, 7, 8, 9}
    assert ds.n_atoms.max() <= 29 and np.all(ds.closest_distances() > 0.9)
    assert np.all(ds.energies < 0) and np.all(ds.energies / ds.n_atoms > -10)   # atomisation eV per atom
    assert load_qm9(50, seed=0) == ds
    assert load_qm9(50, seed=1).ids.tolist() != ds.ids.tolist()
    assert load_qm9(rows=rows[:3]).ids.tolist() == ds.ids[:3].tolist()
    assert load_qm9(5, seed=0, energy="G").energies[0] != load_qm9(5, seed=0).energies[0]


def test_qm9_options_are_validated():
    with pytest.raises(tk.InvalidOptionError, match="n and ids were both given"):
        load_qm9(3, ids=[1])
    with pytest.raises(tk.InvalidOptionError, match="energy = 'E'"):
        load_qm9(ids=[1], energy="E")
    with pytest.raises(tk.InvalidOptionError, match="n = 0"):
        load_qm9(0)
    with pytest.raises(tk.InvalidOptionError, match=r"ids = \[58\] are not in QM9"):
        load_qm9(ids=[1, 58, 59])          # gdb 58 is one of the 3,054 molecules QM9 left out


def test_qm9_missing_wheel_names_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "qm9pack" else real(name, *a))
    with pytest.raises(ImportError, match=r"qm9pack.*scalebridge\[data\]"):
        load_qm9(ids=[1])

"""QM9: 130,831 small organic molecules (H, C, N, O, F; up to 9 heavy atoms) with DFT energies.

Ramakrishnan, Dral, Rupp & von Lilienfeld, "Quantum chemistry structures and properties of 134
kilo molecules", Sci. Data 1, 140022 (2014), doi:10.1038/sdata.2014.22. Geometries and energies
are B3LYP/6-31G(2df,p) equilibrium values; the 3,054 molecules whose relaxed geometry failed the
authors' consistency check are not in the set (so the QM9 indices run 1..133,885 with gaps).

The data come from the ``qm9pack`` wheel (``pip install 'scalebridge[data]'`` or
``pip install qm9pack``), which ships the set as three CSV files, one molecule per line, with the
columns ``XYZ_file, Index, SMILES, ..., Elements, XYZ_Ang, ..., InternalEnergy_0K_au, ...``
(energies in Hartree, positions in Å). The files are read directly (``qm9pack`` itself is not
imported: it pulls in pandas and setuptools).

**QM9 has no forces**: its structures are minima, so its datasets have ``forces=None``.

:func:`load_qm9` returns an :class:`~problems.datasets.AtomisticDataset` of atomisation energies

    E_at = (U0 - sum_atoms U0_atom[Z]) * HARTREE_EV        (float64 throughout)

with the free-atom references of the QM9 paper's atomref table (figshare 1057643, the same
B3LYP/6-31G(2df,p) level; :data:`QM9_ATOM_REFERENCES`) and HARTREE_EV from CODATA 2018.
``energy="U"``, ``"H"`` or ``"G"`` take the 298.15 K internal energy, enthalpy or free energy
instead (each with its own references); ``atomization=False`` keeps total energies.

Streaming: :func:`iter_qm9` reads the files line by line and parses only the lines asked for,
so a subset never materialises the other molecules. A subset by seeded choice takes
``numpy.random.default_rng(numpy.random.SeedSequence(seed)).choice(QM9_SIZE, n, replace=False)``
of the row positions (0-based, in file order, which is QM9-index order), sorted.
"""

from __future__ import annotations

import csv
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import toolkit as tk
from problems.datasets import HARTREE_EV, AtomisticDataset
from toolkit import validate as v

__all__ = ["load_qm9", "iter_qm9", "qm9_files", "QM9Record", "QM9_SIZE", "QM9_ATOM_REFERENCES"]

#: Molecules in QM9 (133,885 minus the 3,054 that failed the consistency check).
QM9_SIZE = 130_831
#: Free-atom reference energies (Hartree), B3LYP/6-31G(2df,p), from the QM9 atomref table
#: (Ramakrishnan et al. 2014, figshare doi:10.6084/m9.figshare.1057643): U0 (0 K), U, H and G (298.15 K).
QM9_ATOM_REFERENCES = {
    "U0": {1: -0.500273, 6: -37.846772, 7: -54.583861, 8: -75.064579, 9: -99.718730},
    "U": {1: -0.498857, 6: -37.845355, 7: -54.582445, 8: -75.063163, 9: -99.717314},
    "H": {1: -0.497912, 6: -37.844411, 7: -54.581501, 8: -75.062219, 9: -99.716370},
    "G": {1: -0.510927, 6: -37.861317, 7: -54.598897, 8: -75.079532, 9: -99.733544},
}
_COLUMNS = {"U0": "InternalEnergy_0K_au", "U": "InternalEnergy_298K_au", "H": "Enthalphy_298K_au",
            "G": "GibbsFreeEnergy_298K_au"}
_SYMBOLS = {"H": 1, "C": 6, "N": 7, "O": 8, "F": 9}
_FILES = ("qm9_part1.csv", "qm9_part2.csv", "qm9_part3.csv")


@dataclass(frozen=True)
class QM9Record:
    """One QM9 molecule as read: ``row`` (0-based position in the files), ``index`` (QM9's number),
    ``smiles``, ``species`` (atomic numbers), ``positions`` (Å) and ``energies`` (Hartree:
    U0, U, H, G)."""

    row: int
    index: int
    smiles: str
    species: np.ndarray
    positions: np.ndarray
    energies: dict


def qm9_files() -> list[Path]:
    """The three CSV files of the installed ``qm9pack`` wheel (ImportError naming it when absent)."""
    spec = importlib.util.find_spec("qm9pack")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("QM9 needs the qm9pack wheel, which is not installed: pip install 'scalebridge[data]' "
                          "(or pip install qm9pack)")
    folder = Path(list(spec.submodule_search_locations)[0]) / "data"
    files = [folder / name for name in _FILES]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ImportError(f"the qm9pack wheel at {folder} lacks {missing}; reinstall it (pip install --force-reinstall "
                          "qm9pack)")
    return files


def _parse(row: int, line: str, header: dict) -> QM9Record:
    fields = next(csv.reader([line]))
    if len(fields) != len(header):
        raise tk.FileFormatError(f"QM9 row {row} has {len(fields)} columns, not {len(header)}; the qm9pack files "
                                 "are damaged")
    symbols = [s.strip().strip("'\"") for s in fields[header["Elements"]].strip("[]").split(",")]
    try:
        species = np.array([_SYMBOLS[s] for s in symbols], dtype=np.int64)
        xyz = np.array([float(x) for x in fields[header["XYZ_Ang"]].replace("[", "").replace("]", "").split(",")])
        energies = {key: float(fields[header[col]]) for key, col in _COLUMNS.items()}
    except (KeyError, ValueError) as exc:
        raise tk.FileFormatError(f"QM9 row {row} cannot be parsed ({type(exc).__name__}: {exc})") from None
    if xyz.size != 3 * len(species):
        raise tk.FileFormatError(f"QM9 row {row} has {len(species)} elements but {xyz.size} coordinates")
    return QM9Record(row=row, index=int(fields[header["Index"]]), smiles=fields[header["SMILES"]], species=species,
                     positions=xyz.reshape(-1, 3), energies=energies)


def iter_qm9(rows=None) -> Iterator[QM9Record]:
    """Yield the QM9 molecules at the 0-based ``rows`` (all of them when None), in file order.

    Lines not asked for are skipped without being parsed, so a small subset costs one pass over
    the files' lines (about a second) and memory for the chosen molecules only.
    """
    wanted = None
    if rows is not None:
        wanted = np.unique(v.index_array("rows", rows, ndim=1, lower=0, upper=QM9_SIZE, error=tk.InvalidOptionError))
    row, pointer = 0, 0
    for path in qm9_files():
        with open(path, encoding="utf-8", newline="") as handle:
            names = next(csv.reader([handle.readline()]))
            header = {name: k for k, name in enumerate(names)}
            absent = {"Index", "SMILES", "Elements", "XYZ_Ang", *_COLUMNS.values()} - set(header)
            if absent:
                raise tk.FileFormatError(f"{path} lacks the columns {sorted(absent)}; is this qm9pack 1.0.3?")
            for line in handle:
                if not line.strip():
                    continue
                if wanted is None:
                    yield _parse(row, line, header)
                elif pointer < len(wanted) and wanted[pointer] == row:
                    pointer += 1
                    yield _parse(row, line, header)
                    if pointer == len(wanted):
                        return
                row += 1
    if row != QM9_SIZE and wanted is None:
        raise tk.FileFormatError(f"the qm9pack files hold {row} molecules, not QM9's {QM9_SIZE}")


def load_qm9(n: int | None = None, seed: int = 0, *, ids=None, rows=None, energy: str = "U0",
             atomization: bool = True, progress: bool = False) -> AtomisticDataset:
    """QM9 as an :class:`AtomisticDataset` (eV, Å, no forces); see the module docstring.

    Choose the molecules with one of ``n`` (that many by the seeded choice of ``seed``), ``ids``
    (QM9 indices, e.g. ``ids=[1]`` is methane) or ``rows`` (0-based row positions); none of them
    loads the whole set (about 20 s). ``energy`` picks U0, U, H or G; ``atomization`` subtracts the
    free-atom references. ``ids`` of the dataset are the QM9 indices.
    """
    chosen = [name for name, value in (("n", n), ("ids", ids), ("rows", rows)) if value is not None]
    if len(chosen) > 1:
        raise tk.InvalidOptionError(f"{' and '.join(chosen)} were both given: choose the molecules with one of n, "
                                    "ids or rows")
    energy = v.choice("energy", energy, tuple(_COLUMNS), error=tk.InvalidOptionError)
    atomization = v.flag("atomization", atomization, error=tk.InvalidOptionError)
    if n is not None:
        n = v.integer("n", n, lower=1, upper=QM9_SIZE, error=tk.InvalidOptionError)
        seed = v.integer("seed", seed, lower=0, upper=2 ** 63 - 1, error=tk.InvalidOptionError)
        rows = np.sort(np.random.default_rng(np.random.SeedSequence(seed)).choice(QM9_SIZE, n, replace=False))
    records = _by_ids(ids) if ids is not None else iter_qm9(rows)
    if progress:
        from tqdm.auto import tqdm

        total = len(ids) if ids is not None else QM9_SIZE if rows is None else len(np.unique(rows))
        records = tqdm(records, total=total, desc="QM9", unit="mol")
    species, positions, energies, index, counts = [], [], [], [], []
    refs = QM9_ATOM_REFERENCES[energy]
    ref_table = np.zeros(10)
    for z, e in refs.items():
        ref_table[z] = e
    for record in records:
        species.append(record.species)
        positions.append(record.positions)
        total = record.energies[energy]
        energies.append(total - float(ref_table[record.species].sum()) if atomization else total)
        index.append(record.index)
        counts.append(len(record.species))
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    what = f"{energy} atomisation energy" if atomization else f"{energy} total energy"
    dataset = AtomisticDataset(
        species=np.concatenate(species), positions=np.concatenate(positions), offsets=offsets,
        energies=np.asarray(energies, dtype=np.float64) * HARTREE_EV, ids=np.asarray(index, dtype=np.int64),
        source=f"QM9 (Ramakrishnan et al., Sci. Data 1, 140022 (2014)), {what}, B3LYP/6-31G(2df,p), eV; no forces")
    return dataset


def _by_ids(ids) -> Iterator[QM9Record]:
    """The molecules with QM9 indices ``ids``, in ascending index order (an unknown index is refused)."""
    wanted = np.unique(v.index_array("ids", ids, ndim=1, lower=1, upper=133_886, error=tk.InvalidOptionError))
    # the files are in index order: scan the cheap index column up to the largest id asked for
    found, missing, pointer = [], [], 0
    for index, row in _scan_indices(int(wanted[-1])):
        while pointer < len(wanted) and wanted[pointer] < index:     # skipped: not in the files
            missing.append(int(wanted[pointer]))
            pointer += 1
        if pointer < len(wanted) and wanted[pointer] == index:
            found.append(row)
            pointer += 1
    missing += [int(i) for i in wanted[pointer:]]
    if missing:
        raise tk.InvalidOptionError(f"ids = {missing[:10]} are not in QM9 (the 3,054 molecules that failed the "
                                    "consistency check are absent); give indices of molecules in the set")
    return iter_qm9(np.asarray(found, dtype=np.int64))


def _scan_indices(last: int):
    """``(QM9 index, row)`` for each line, read cheaply from the line's second column, up to ``last``."""
    row = 0
    for path in qm9_files():
        with open(path, encoding="utf-8", newline="") as handle:
            handle.readline()
            for line in handle:
                if not line.strip():
                    continue
                index = int(line.split(",", 2)[1])
                yield index, row
                if index >= last:
                    return
                row += 1

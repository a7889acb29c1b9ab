"""Tight-binding Hamiltonians: electrons hopping on a lattice, at a chemical potential or filling.

The problem is the one-body Hamiltonian (a Hermitian sparse matrix)

    H = sum_ij t_ij c_i^dag c_j                         (spinless, N x N)

or, with a classical unit-vector spin field ``spins`` (N x 3), the spinful Kondo /
double-exchange model (complex Hermitian, 2N x 2N, orbital index 2 i + sigma)

    H = sum_ij t_ij c_{i sigma}^dag c_{j sigma} - J sum_i S_i . c_i^dag sigma c_i

(e.g. Yunoki et al., PRL 80, 845 (1998), doi:10.1103/PhysRevLett.80.845), and the question
asked: the density of states, densities, density matrix and grand potential at the chemical
potential ``mu`` (or the one that gives ``filling``) and temperature ``kT``.

Lattice builders (:func:`lattice_hamiltonian`, :func:`lattice_problem`) make chain, square,
cubic, triangular, honeycomb and kagome lattices, periodic or open, with hoppings to the 1st,
2nd and 3rd neighbour shells, on-site energies and seeded Anderson disorder
(Anderson, Phys. Rev. 109, 1492 (1958), doi:10.1103/PhysRev.109.1492). Hopping ``t`` gives the
matrix element ``-t``.

Limits (issue 17): every energy (matrix elements, ``mu``, ``kT``, ``J``, hoppings, on-site
energies, disorder) is at most :data:`MAX_ENERGY` = 1e100 in magnitude: beyond it the
thermodynamic sums (``Omega ~ -M kT ln 2``, ``sum_k (E_k - mu)``) and the Lanczos norms overflow
float64. Rescale the energy unit instead. The builders refuse a lattice whose construction would
not fit the available memory, with the estimate, before allocating.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

import toolkit as tk
from toolkit import validate as v

__all__ = ["MAX_ENERGY", "build_bytes", "LATTICES", "lattice_geometry", "lattice_hamiltonian", "lattice_problem", "kondo_hamiltonian",
           "kondo_onsite", "TightBinding", "random_spins", "unit_spins"]

_S3 = np.sqrt(3.0)

#: Largest magnitude of any energy (matrix element, mu, kT, J); see the module docstring.
MAX_ENERGY = 1e100

#: Lattices: primitive vectors (rows) and basis positions (rows), nearest-neighbour distance.
LATTICES = {
    "chain": (np.array([[1.0]]), np.array([[0.0]])),
    "square": (np.eye(2), np.zeros((1, 2))),
    "cubic": (np.eye(3), np.zeros((1, 3))),
    "triangular": (np.array([[1.0, 0.0], [0.5, _S3 / 2]]), np.zeros((1, 2))),
    "honeycomb": (np.array([[1.0, 0.0], [0.5, _S3 / 2]]), np.array([[0.0, 0.0], [0.5, _S3 / 6]])),
    "kagome": (np.array([[1.0, 0.0], [0.5, _S3 / 2]]), np.array([[0.0, 0.0], [0.5, 0.0], [0.25, _S3 / 4]])),
}

#: Error class of every bad field (a ValueError naming the field).
_ERR = tk.InvalidProblemError


def _shape_for(kind, shape):
    vectors, _ = LATTICES[kind]
    dim = vectors.shape[0]
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),) * dim
    return v.shape_tuple("shape", shape, ndim=dim)


def build_bytes(sites: int, dim: int, shells: int) -> int:
    """Peak bytes the builders take for a lattice of ``sites`` sites (an upper estimate).

    Measured with tracemalloc, spins and Kondo matrix included: 990 B/site (square, 1 shell),
    2,300 (square, 3 shells), 2,600 (kagome, 3), 4,500 (cubic, 3), 1,300 (chain, 3); the
    estimate ``600 + 700 shells dim`` bytes per site lies above each."""
    return int(sites) * (600 + 700 * int(shells) * int(dim))


def _check_build_memory(kind, shape, shells):
    from toolkit import memory

    dim, nb = LATTICES[kind][0].shape[0], LATTICES[kind][1].shape[0]
    sites = nb
    for n in shape:
        sites *= int(n)
    need, available = build_bytes(sites, dim, shells), memory.available_memory()
    if need > available:
        raise _ERR(f"shape = {tuple(shape)} is not allowed here: the {kind} lattice has {sites:,} sites and "
                   f"building it needs about {need / 2**30:.3g} GiB, but {available / 2**30:.3g} GiB is available; "
                   "give a smaller shape")


def lattice_geometry(kind: str, shape, periodic: bool = True, shells: int = 3):
    """Neighbour shells of a lattice: ``(positions, bonds)``.

    ``positions`` is (N, d); ``bonds[k]`` is an int64 array (nb, 2) of directed pairs (i, j) in the
    (k+1)-th neighbour shell (both directions present). Site index = cell_linear * n_basis + sub.
    Refuses (InvalidProblemError naming ``shape``) a lattice whose construction would not fit
    the available memory (:func:`build_bytes`), before allocating.
    """
    v.choice("kind", kind, LATTICES)
    shape = _shape_for(kind, shape)
    shells = v.integer("shells", shells, lower=1, upper=3)
    _check_build_memory(kind, shape, shells)
    vectors, basis = LATTICES[kind]
    dim, nb = vectors.shape[0], basis.shape[0]
    # candidate (sub_a, sub_b, offset) triples and their distances, within +-3 cells
    rng = np.arange(-3, 4)
    offsets = np.array(np.meshgrid(*([rng] * dim), indexing="ij")).reshape(dim, -1).T
    cands = []
    for a in range(nb):
        for b in range(nb):
            disp = offsets @ vectors + basis[b] - basis[a]
            dist = np.linalg.norm(disp, axis=1)
            for off, d in zip(offsets, dist):
                if d > 1e-9:
                    cands.append((round(float(d), 8), a, b, tuple(off)))
    distances = sorted({c[0] for c in cands})[:shells]
    cells = np.array(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")).reshape(dim, -1).T
    ncell = len(cells)
    cell_index = np.ravel_multi_index(cells.T, shape)
    positions = (cells @ vectors)[:, None, :] + basis[None, :, :]
    positions = positions.reshape(ncell * nb, dim)
    bonds = []
    for dshell in distances:
        pairs = []
        for d, a, b, off in cands:
            if d != dshell:
                continue
            target = cells + np.array(off)
            if periodic:
                target = target % np.array(shape)
                keep = np.ones(ncell, bool)
            else:
                keep = np.all((target >= 0) & (target < np.array(shape)), axis=1)
                target = np.where(keep[:, None], target, 0)
            j_cell = np.ravel_multi_index(target.T, shape)
            i = cell_index[keep] * nb + a
            j = j_cell[keep] * nb + b
            pairs.append(np.stack([i, j], axis=1))
        bonds.append(np.concatenate(pairs).astype(np.int64) if pairs else np.zeros((0, 2), np.int64))
    return positions, bonds


def lattice_hamiltonian(kind: str, shape, *, periodic: bool = True, hoppings=(1.0,), onsite=0.0,
                        disorder: float = 0.0, seed: int = 0) -> sp.csr_matrix:
    """The spinless hopping Hamiltonian of a lattice as a float64 CSR matrix.

    ``H = -sum_k t_k sum_{<ij>_k} c_i^dag c_j + sum_i (eps_i + W u_i) n_i``, with ``hoppings =
    (t_1, t_2, t_3)`` for the first three neighbour shells, ``onsite`` a scalar or (N,) array and
    ``u_i`` uniform in [-1/2, 1/2] from ``numpy.random.default_rng(seed)`` (Anderson disorder of width
    ``disorder = W``). On a small periodic lattice a bond that wraps onto itself twice is counted twice.
    """
    hoppings = np.atleast_1d(v.real_array("hoppings", hoppings, ndim=(0, 1), lower=-MAX_ENERGY, upper=MAX_ENERGY))
    if not 1 <= len(hoppings) <= 3:
        raise _ERR(f"hoppings = {tuple(hoppings)} is not allowed: give 1 to 3 hoppings (1st, 2nd, 3rd neighbours).")
    disorder = v.real_scalar("disorder", disorder, lower=0, upper=MAX_ENERGY)
    seed = v.integer("seed", seed, lower=0, upper=2**63 - 1)
    try:
        scalar_onsite = np.ndim(onsite) == 0
    except ValueError:              # a ragged list: real_array below names it
        scalar_onsite = False
    if scalar_onsite:
        onsite = v.real_scalar("onsite", onsite, lower=-MAX_ENERGY, upper=MAX_ENERGY)
    positions, bonds = lattice_geometry(kind, shape, periodic, shells=len(hoppings))
    n = len(positions)
    rows, cols, vals = [], [], []
    for t, pairs in zip(hoppings, bonds):
        if t != 0.0:
            rows.append(pairs[:, 0]), cols.append(pairs[:, 1]), vals.append(np.full(len(pairs), -t))
    if not scalar_onsite:
        arr = v.real_array("onsite", onsite, lower=-MAX_ENERGY, upper=MAX_ENERGY)
        if arr.shape not in ((n,), (1,)):
            raise _ERR(f"onsite has shape {arr.shape}, which is not allowed: give a number or one energy per site ({n},).")
        eps = np.broadcast_to(arr, (n,)).copy()
    else:
        eps = np.full(n, float(onsite))
    if disorder:
        eps += disorder * (np.random.default_rng(seed).random(n) - 0.5)
    if np.any(eps != 0):
        rows.append(np.arange(n)), cols.append(np.arange(n)), vals.append(eps)
    if not rows:
        return sp.csr_matrix((n, n))
    H = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)).tocsr()
    H.sum_duplicates()
    H.sort_indices()
    return H


def kondo_onsite(spins, J: float):
    """The on-site 2x2 blocks of ``-J S_i . sigma``: arrays ``(uu, dd, ud, du)`` (complex, one per site).

    Zeros come out as +0.0 (adding 0 turns -0.0 into +0.0): LAPACK's reflectors follow the sign of a
    zero, so a matrix must not depend on how its zeros were made (CSR assembly drops their sign)."""
    S = np.asarray(spins, dtype=np.float64)
    sx, sy, sz = S[:, 0], S[:, 1], S[:, 2]
    zero = np.complex128(0.0)
    return (-J * sz + zero, J * sz + zero, -J * (sx - 1j * sy) + zero, -J * (sx + 1j * sy) + zero)


def kondo_hamiltonian(hopping, spins, J: float) -> sp.csr_matrix:
    """The 2N x 2N spinful Kondo Hamiltonian ``H0 (x) 1_2 - J sum_i S_i . sigma_i`` (orbital 2i + sigma).

    complex128 CSR with int64 indices. Its sparsity pattern does not depend on the spins: every
    on-site 2x2 block is stored, explicit zeros included (a spin along z leaves zeros off the
    block's diagonal), so caches can rewrite the blocks in place."""
    H0 = sp.csr_matrix(hopping).tocoo()
    n = H0.shape[0]
    i = np.arange(n)
    uu, dd, ud, du = kondo_onsite(spins, J)
    rows = np.concatenate([2 * H0.row, 2 * H0.row + 1, 2 * i, 2 * i + 1, 2 * i, 2 * i + 1]).astype(np.int64)
    cols = np.concatenate([2 * H0.col, 2 * H0.col + 1, 2 * i, 2 * i + 1, 2 * i + 1, 2 * i]).astype(np.int64)
    hop = H0.data.astype(np.complex128)
    vals = np.concatenate([hop, hop, uu, dd, ud, du])
    H = sp.coo_matrix((vals, (rows, cols)), shape=(2 * n, 2 * n)).tocsr()     # duplicates summed, zeros kept
    H.sort_indices()
    H.indices = H.indices.astype(np.int64)
    H.indptr = H.indptr.astype(np.int64)
    return H


def unit_spins(spins, n: int) -> np.ndarray:
    """``spins`` as a float64 (n, 3) array of unit vectors (to 1e-8), or a clear error naming the bad spin."""
    S = v.real_array("spins", spins, shape=(n, 3))
    norms = np.linalg.norm(S, axis=1)
    if np.any(np.abs(norms - 1.0) > 1e-8):
        bad = int(np.argmax(np.abs(norms - 1.0)))
        raise _ERR(f"spins = {v.show(S)} is not allowed: every spin must be a unit vector "
                   f"(spin {bad} has length {norms[bad]:.6g}); normalise with S / |S|.")
    return S


def random_spins(n: int, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors uniform on the sphere (seeded)."""
    s = np.random.default_rng(seed).normal(size=(n, 3))
    return s / np.linalg.norm(s, axis=1, keepdims=True)


def _to_csr(name, value):
    if sp.issparse(value):
        H = value.tocsr()
    elif type(value).__module__.startswith("sparse") and hasattr(value, "tocsr"):
        H = sp.csr_matrix(value.tocsr())
    else:
        if isinstance(value, (str, bytes)) or value is None:
            raise _ERR(f"{name} = {v.show(value)} is not allowed: give a square scipy.sparse matrix, "
                       "a pydata sparse array or a dense array.")
        try:
            arr = np.asarray(value)
        except Exception:
            arr = None
        if arr is None or arr.dtype.kind not in "biufc" or arr.ndim != 2:
            raise _ERR(f"{name} = {v.show(value)} is not allowed: give a square scipy.sparse matrix, "
                       "a pydata sparse array or a dense 2-d array of numbers.")
        H = sp.csr_matrix(arr)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise _ERR(f"{name} has shape {H.shape}, which is not allowed: the Hamiltonian must be square and non-empty.")
    complex_ = np.iscomplexobj(H.data)
    H = sp.csr_matrix((np.array(H.data, dtype=np.complex128 if complex_ else np.float64),
                       np.array(H.indices, dtype=np.int64), np.array(H.indptr, dtype=np.int64)), shape=H.shape)
    H.sum_duplicates()
    H.sort_indices()
    H.indices = H.indices.astype(np.int64)
    H.indptr = H.indptr.astype(np.int64)
    if not np.all(np.isfinite(H.data)):
        raise _ERR(f"{name} has NaN or Inf entries, which is not allowed: every matrix element must be finite.")
    if H.nnz and np.abs(H.data).max() > MAX_ENERGY:
        raise _ERR(f"{name} has an entry of magnitude {np.abs(H.data).max():.3g}, which is not allowed: matrix elements "
                   f"must be at most {MAX_ENERGY:g} (beyond, the thermodynamic sums overflow); rescale the energy unit.")
    if complex_ and H.nnz and np.all(H.data.imag == 0):
        H = sp.csr_matrix((H.data.real.copy(), H.indices, H.indptr), shape=H.shape)
    scale = float(np.abs(H.data).max()) if H.nnz else 0.0
    diff = H - H.conj().T
    worst = float(np.abs(diff.data).max()) if diff.nnz else 0.0
    if worst > 1e-10 * max(scale, 1.0):
        raise _ERR(f"{name} is not Hermitian (largest |H - H^dag| = {worst:.3g}, allowed <= {1e-10 * max(scale, 1.0):.3g}): "
                   "symmetrise it, e.g. (H + H.conj().T) / 2.")
    return H


class TightBinding(tk.Problem):
    """A tight-binding Hamiltonian at chemical potential ``mu`` (or ``filling``) and temperature ``kT``.

    Fields
    ------
    hamiltonian: N x N Hermitian matrix (scipy.sparse, pydata ``sparse`` or dense; real or complex).
        With ``spins`` it is the spin-independent hopping part of the Kondo model.
    mu, filling: give at most one. ``filling`` in [0, 1] is the occupied fraction of all states
        (per spin orbital); the solver then finds ``mu``. Neither: ``mu = 0``.
    kT: temperature >= 0 (energy units). Zero: a sharp Fermi surface. With ``filling`` 0 or 1 it
        must be 0 (at kT > 0 no finite mu empties or fills every level).
    Energies (``hamiltonian`` entries, ``mu``, ``kT``, ``J``) are at most ``MAX_ENERGY`` = 1e100
    in magnitude (see the module docstring).
    spins: optional (N, 3) classical unit vectors; the model becomes the 2N x 2N Kondo model with
        coupling ``J`` (with ``local=True`` the solution carries the spin forces ``-dOmega/dS_i``).
    dos_points: number of energies on which the density of states is returned.
    local: the question asked. ``False`` (the default): the density of states, chemical potential,
        particle number, grand potential and energy, which KPM reads off one moment sweep.
        ``True``: also the per-orbital densities, the density matrix on ``pattern`` and, with
        spins, the spin forces; KPM runs a second sweep for them (about 1.5x the moment sweep's
        time) and ED the eigenvectors. Until issue 16 the default was ``True``: ask for it.
    lattice: optional ``(kind, shape, periodic)`` the builders record; ``Probing`` uses it for the
        lattice's regular periodic colouring.
    pattern: the density-matrix entries wanted: ``"onsite"`` (diagonal and, with spins, the 2x2
        on-site blocks), ``"hamiltonian"`` (those plus every nonzero of H: nearest neighbours for a
        nearest-neighbour model) or an M x M sparse matrix whose nonzeros (symmetrised) are added
        to the on-site entries.
    """

    hamiltonian: object
    mu: float | None = None
    filling: float | None = None
    kT: float = 0.0
    spins: np.ndarray | None = None
    J: float = 1.0
    dos_points: int = 256
    local: bool = False
    lattice: tuple | None = None
    pattern: object = "hamiltonian"

    def _validate(self):
        H = _to_csr("hamiltonian", self.hamiltonian)
        self._set("hamiltonian", H)
        if self.mu is not None and self.filling is not None:
            raise _ERR(f"mu = {v.show(self.mu)} and filling = {v.show(self.filling)} were both given: give one of them "
                       "(filling fixes mu).")
        E = MAX_ENERGY
        self._set("mu", v.real_scalar("mu", self.mu, lower=-E, upper=E, allow_none=True))
        if self.filling is not None:
            self._set("filling", v.probability("filling", self.filling))
        self._set("kT", v.real_scalar("kT", self.kT, lower=0.0, upper=E))
        self._set("J", v.real_scalar("J", self.J, lower=-E, upper=E))
        if self.filling is not None and self.kT > 0:
            M = 2 * H.shape[0] if self.spins is not None else H.shape[0]
            target = self.filling * M
            if not 0.0 < target < M:
                raise _ERR(f"filling = {self.filling!r} with kT = {self.kT!r} > 0 is not allowed: at a positive "
                           "temperature every level is partly occupied, so no finite chemical potential empties or "
                           f"fills all {M} of them; give 0 < filling < 1 (filling * {M} strictly between 0 and {M}), "
                           "or kT = 0")
        self._set("dos_points", v.integer("dos_points", self.dos_points, lower=2, upper=1_000_000))
        if not isinstance(self.local, (bool, np.bool_)):
            raise _ERR(f"local = {v.show(self.local)} is not allowed: give True or False.")
        self._set("local", bool(self.local))
        n = H.shape[0]
        if self.spins is not None:
            self._set("spins", unit_spins(self.spins, n))
        M = 2 * n if self.spins is not None else n
        if self.lattice is not None:
            lat = self.lattice
            ok = (isinstance(lat, (tuple, list)) and len(lat) == 3 and isinstance(lat[0], str) and lat[0] in LATTICES
                  and isinstance(lat[2], (bool, np.bool_)))
            if not ok:
                raise _ERR(f"lattice = {v.show(lat)} is not allowed: give (kind, shape, periodic) with kind one of "
                           f"{', '.join(LATTICES)}, or None.")
            shape = _shape_for(lat[0], lat[1])
            nb = LATTICES[lat[0]][1].shape[0]
            if math.prod(shape) * nb != n:
                raise _ERR(f"lattice = {v.show(lat)} has {math.prod(shape) * nb} sites but the Hamiltonian has "
                           f"{n}: give the lattice the matrix was built from, or None.")
            self._set("lattice", (str(lat[0]), tuple(shape), bool(lat[2])))
        if isinstance(self.pattern, str):
            v.choice("pattern", self.pattern, ("onsite", "hamiltonian"))
        elif sp.issparse(self.pattern):
            if self.pattern.shape != (M, M):
                raise _ERR(f"pattern has shape {self.pattern.shape}, which is not allowed: give an M x M sparse matrix "
                           f"with M = {M} (the full Hamiltonian's size), 'onsite' or 'hamiltonian'.")
            self._set("pattern", sp.csr_matrix(self.pattern))
        else:
            raise _ERR(f"pattern = {v.show(self.pattern)} is not allowed: give 'onsite', 'hamiltonian' or an M x M "
                       "scipy.sparse matrix of wanted entries.")
        object.__setattr__(self, "_matrix", None if self.spins is not None else H)

    # -- derived ------------------------------------------------------------------------

    @property
    def matrix(self) -> sp.csr_matrix:
        """The full Hamiltonian (M x M, M = N or 2N with spins) as CSR with int64 indices.

        With spins the Kondo matrix is built on first use (:func:`kondo_hamiltonian`), so a
        problem made only to be validated (``tk.remake`` inside a solve cache's ``update``) costs
        no matrix assembly."""
        if self._matrix is None:
            object.__setattr__(self, "_matrix", kondo_hamiltonian(self.hamiltonian, self.spins, self.J))
        return self._matrix

    @property
    def size(self) -> int:
        """M, the number of orbitals (the matrix dimension)."""
        n = self.hamiltonian.shape[0]
        return 2 * n if self.spins is not None else n

    @property
    def sites(self) -> int:
        return self.hamiltonian.shape[0]

    @property
    def spinful(self) -> bool:
        return self.spins is not None

    @classmethod
    def example(cls, seed: int = 0) -> "TightBinding":
        rng = np.random.default_rng(seed)
        kind = ["chain", "square", "honeycomb"][seed % 3]
        shape = {"chain": 10, "square": 4, "honeycomb": 3}[kind]
        problem = lattice_problem(kind, shape, disorder=float(rng.uniform(0, 1)), seed=seed,
                                  kT=float(rng.uniform(0.05, 0.3)), filling=float(rng.uniform(0.2, 0.8)),
                                  dos_points=64, local=True)
        if seed % 2:
            problem = tk.remake(problem, spins=random_spins(problem.sites, seed), J=1.0)
        return problem


def lattice_problem(kind: str, shape, *, periodic: bool = True, hoppings=(1.0,), onsite=0.0,
                    disorder: float = 0.0, seed: int = 0, mu=None, filling=None, kT: float = 0.0,
                    spins=None, J: float = 1.0, dos_points: int = 256, local: bool = False,
                    pattern="hamiltonian") -> TightBinding:
    """A :class:`TightBinding` problem on a built lattice (see :func:`lattice_hamiltonian`).

    ``spins = "random"`` draws a seeded random unit-vector field; ``"ferro"`` points them along z.
    """
    H = lattice_hamiltonian(kind, shape, periodic=periodic, hoppings=hoppings, onsite=onsite,
                            disorder=disorder, seed=seed)
    if isinstance(spins, str):
        v.choice("spins", spins, ("random", "ferro"))
        spins = random_spins(H.shape[0], seed) if spins == "random" else np.tile([0.0, 0.0, 1.0], (H.shape[0], 1))
    return TightBinding(hamiltonian=H, mu=mu, filling=filling, kT=kT, spins=spins, J=J,
                        dos_points=dos_points, local=local, lattice=(kind, _shape_for(kind, shape), bool(periodic)),
                        pattern=pattern)

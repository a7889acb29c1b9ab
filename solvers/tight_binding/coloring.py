"""Graph colourings for probing: sites of one colour are more than ``distance`` hops apart.

Probing (Tang & Saad, Numer. Linear Algebra Appl. 19, 485 (2012), doi:10.1002/nla.779) replaces
random vectors by one vector per colour, ``r_c = sum_{i in c} z_i e_i``; the trace and the
density-matrix estimates are then exact up to matrix elements between same-colour sites,
which decay with distance for gapped or finite-temperature systems.

* :func:`distance_coloring` -- greedy colouring of the distance-k graph of any sparse matrix
  (the graph whose edges join sites at most k hops apart), numba kernel with a pure-Python
  reference;
* :func:`lattice_coloring` -- the regular periodic colouring of a built lattice: colour =
  (sublattice, cell coordinates mod p), with the smallest period p dividing the lattice that is
  valid for ``distance``;
* :func:`is_valid_coloring` -- the check both must pass.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

__all__ = ["distance_graph", "distance_coloring", "greedy_coloring_reference", "lattice_coloring",
           "is_valid_coloring"]


def distance_graph(matrix, distance: int) -> sp.csr_matrix:
    """Pattern (bool CSR, int64 indices) of sites at most ``distance`` hops apart in ``matrix``'s graph."""
    n = matrix.shape[0]
    G = sp.csr_matrix((np.ones(matrix.nnz, dtype=np.int8), matrix.indices, matrix.indptr), shape=matrix.shape)
    G = ((G + sp.identity(n, dtype=np.int8, format="csr")) != 0).astype(np.int8)
    B = sp.identity(n, dtype=np.int8, format="csr")
    for _ in range(min(int(distance), n)):       # the diameter is below n: B is complete by then
        grown = ((B @ G) != 0).astype(np.int8)
        if grown.nnz == B.nnz:                   # nothing new within one more hop: B is closed
            break
        B = grown
    B = B.tocsr()
    B.sort_indices()
    return B


@njit(cache=True, nogil=True)
def _greedy(indptr, indices, n):
    colors = -np.ones(n, dtype=np.int64)
    mark = -np.ones(n + 1, dtype=np.int64)
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            c = colors[indices[k]]
            if c >= 0:
                mark[c] = i
        c = 0
        while mark[c] == i:
            c += 1
        colors[i] = c
    return colors


def distance_coloring(matrix, distance: int = 1) -> np.ndarray:
    """Greedy colouring (site order) so that same-colour sites are more than ``distance`` hops apart."""
    B = distance_graph(matrix, distance)
    return _greedy(B.indptr.astype(np.int64), B.indices.astype(np.int64), B.shape[0])


def greedy_coloring_reference(matrix, distance: int = 1) -> np.ndarray:
    """Pure-Python reference of :func:`distance_coloring`."""
    B = distance_graph(matrix, distance)
    colors = -np.ones(B.shape[0], dtype=np.int64)
    for i in range(B.shape[0]):
        used = {colors[j] for j in B.indices[B.indptr[i]:B.indptr[i + 1]] if colors[j] >= 0}
        c = 0
        while c in used:
            c += 1
        colors[i] = c
    return colors


def is_valid_coloring(matrix, colors, distance: int) -> bool:
    """True when no two distinct sites within ``distance`` hops share a colour."""
    B = distance_graph(matrix, distance).tocoo()
    off = B.row != B.col
    return not np.any(np.asarray(colors)[B.row[off]] == np.asarray(colors)[B.col[off]])


def lattice_coloring(kind: str, shape, distance: int, matrix) -> np.ndarray:
    """Regular periodic colouring of a built lattice (see module docstring); falls back to greedy.

    ``matrix`` is the lattice's hopping matrix (used to check validity for ``distance`` hops).
    """
    from problems.tight_binding import LATTICES

    shape = tuple(int(s) for s in shape)
    nb = LATTICES[kind][1].shape[0]
    cells = np.array(np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")).reshape(len(shape), -1).T
    for p in range(1, max(shape) + 1):
        if any(s % p for s in shape):
            continue
        cell_color = np.ravel_multi_index((cells % p).T, (p,) * len(shape))
        colors = (cell_color[:, None] * nb + np.arange(nb)[None, :]).reshape(-1)
        if is_valid_coloring(matrix, colors, distance):
            return colors.astype(np.int64)
    return distance_coloring(matrix, distance)

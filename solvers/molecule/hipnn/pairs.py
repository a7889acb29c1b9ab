"""Directed pair lists within a cutoff, periodic images included, from the project's cell lists.

HIP-NN's interaction layers sum over every *directed* pair ``p = (i <- j, S)``: atom ``i``
receives from atom ``j`` displaced by the lattice vector ``S``, with separation

    d_p = x_j - x_i + shift_p,    |d_p| < cutoff,

``shift_p`` a sum of cell vectors (zero for an isolated molecule). Each unordered pair appears
twice (``i <- j`` and ``j <- i`` with the opposite shift), and along a periodic axis an atom may
interact with several images of a partner, or with its own images (``j == i``, ``S != 0``), so a
cell shorter than twice the cutoff is handled exactly (no minimum-image assumption).

Method: positions are wrapped into the cell along periodic axes (fractional coordinates in
[0, 1)), and every image of every atom whose fractional coordinate lies within
``cutoff / h_a`` of the cell (``h_a`` the spacing of the lattice planes spanned by the other two
cell vectors, so no image within ``cutoff`` of an atom in the cell is missed) is added as a
ghost. The project's cell-list Verlet list (:func:`toolkit.kernels.neighbors.verlet_list`,
open boundaries) of atoms plus ghosts gives the pairs; pairs between two ghosts are dropped, an
atom-atom pair gives both directions and an atom-ghost pair the one direction ``atom <- ghost``
(its mirror ``ghost's atom <- image of the atom`` is found as another atom-ghost pair). Any cell
shape (skewed included) and partial periodicity work.

:func:`reference_pairs` is the O(N^2 images) NumPy reference the tests compare with.
"""

from __future__ import annotations

import itertools

import numpy as np

from toolkit.kernels.neighbors import verlet_list

__all__ = ["directed_pairs", "reference_pairs", "image_counts"]

#: Relative margin added to the ghost padding, so round-off never drops an image at the edge.
_PAD_MARGIN = 1e-9


def _padding(cell: np.ndarray, periodic, cutoff: float) -> np.ndarray:
    """``cutoff / h_a`` (plus a round-off margin) along periodic axes, else 0: how far, in
    fractional coordinates, an image within ``cutoff`` of the cell can lie outside it."""
    cell = np.asarray(cell, dtype=float)
    volume = abs(np.linalg.det(cell))
    pad = np.zeros(3)
    for a in range(3):
        if periodic[a]:
            spacing = volume / np.linalg.norm(np.cross(cell[(a + 1) % 3], cell[(a + 2) % 3]))
            pad[a] = cutoff / spacing * (1 + _PAD_MARGIN) + _PAD_MARGIN
    return pad


def image_counts(cell: np.ndarray, pbc, cutoff: float) -> np.ndarray:
    """Image layers to search per axis: ``ceil(cutoff / h_a)`` along periodic axes, else 0."""
    return np.ceil(_padding(cell, pbc, cutoff)).astype(np.int64)


def directed_pairs(positions: np.ndarray, cell: np.ndarray | None, pbc, cutoff: float):
    """``(first int64[P], second int64[P], shift float64[P, 3])``: every directed pair closer than
    ``cutoff`` (Å), with ``d_p = x[second] - x[first] + shift`` (see the module docstring).

    ``cell`` holds the cell vectors as rows (Å); it is only read along periodic axes (``pbc``,
    three booleans). Positions need not lie inside the cell.
    """
    x = np.ascontiguousarray(positions, dtype=np.float64)
    n = x.shape[0]
    periodic = np.array([bool(p) for p in pbc]) if cell is not None else np.zeros(3, dtype=bool)
    zeros3 = np.zeros(3)
    open_axes = np.zeros(3, dtype=np.int64)
    if not periodic.any():
        starts, nbrs = verlet_list(x, zeros3, open_axes, float(cutoff))
        i = np.repeat(np.arange(n, dtype=np.int64), np.diff(starts))
        first = np.concatenate([i, nbrs])
        second = np.concatenate([nbrs, i])
        return first, second, np.zeros((first.size, 3))

    cell = np.asarray(cell, dtype=np.float64)
    frac = np.linalg.solve(cell.T, x.T).T            # x = frac @ cell
    fold = np.where(periodic, np.floor(frac), 0.0)
    frac_w = frac - fold
    wrap = -fold @ cell                              # x_wrapped = x + wrap
    x_w = x + wrap
    pad = _padding(cell, periodic, cutoff)
    counts = np.ceil(pad).astype(np.int64)
    ghost_atom, ghost_image = [], []
    for k in itertools.product(*(range(-c, c + 1) for c in counts)):
        k = np.array(k, dtype=float)
        if not k.any():
            continue
        f = frac_w + k
        keep = np.ones(n, dtype=bool)
        for a in range(3):
            if periodic[a]:
                keep &= (f[:, a] >= -pad[a]) & (f[:, a] < 1.0 + pad[a])
        idx = np.nonzero(keep)[0]
        ghost_atom.append(idx)
        ghost_image.append(np.broadcast_to(k, (idx.size, 3)))
    ghost_atom = np.concatenate(ghost_atom) if ghost_atom else np.zeros(0, dtype=np.int64)
    ghost_image = np.concatenate(ghost_image) if ghost_image else np.zeros((0, 3))
    ghost_shift = ghost_image @ cell                 # ghost position = x_w[atom] + ghost_shift
    extended = np.ascontiguousarray(np.concatenate([x_w, x_w[ghost_atom] + ghost_shift]))
    starts, nbrs = verlet_list(extended, zeros3, open_axes, float(cutoff))
    i = np.repeat(np.arange(n, dtype=np.int64), np.diff(starts[:n + 1]))
    j = nbrs[:starts[n]]
    real = j < n
    ir, jr = i[real], j[real]
    ig, g = i[~real], j[~real] - n
    jg = ghost_atom[g]
    first = np.concatenate([ir, jr, ig])
    second = np.concatenate([jr, ir, jg])
    # d = x_w[second] (+ ghost shift) - x_w[first], written with the unwrapped positions x
    shift = np.concatenate([wrap[jr] - wrap[ir], wrap[ir] - wrap[jr], wrap[jg] - wrap[ig] + ghost_shift[g]])
    return first, second, shift


def reference_pairs(positions: np.ndarray, cell: np.ndarray | None, pbc, cutoff: float):
    """Plain NumPy reference for :func:`directed_pairs`: every atom pair times every image in
    range, tested by distance. Returns the same triple (in another order)."""
    x = np.asarray(positions, dtype=float)
    n = x.shape[0]
    periodic = [bool(p) for p in pbc] if cell is not None else [False] * 3
    # one layer more than directed_pairs searches: the pair's own offset inside the cell
    counts = image_counts(cell, periodic, cutoff) + np.array(periodic) if any(periodic) else np.zeros(3, dtype=np.int64)
    firsts, seconds, shifts = [], [], []
    for k in itertools.product(*(range(-c, c + 1) for c in counts)):
        s = np.array(k, dtype=float) @ cell if any(periodic) else np.zeros(3)
        d = x[None, :, :] - x[:, None, :] + s          # d[i, j] = x_j - x_i + s
        r = np.sqrt((d * d).sum(-1))
        close = r < cutoff
        if not any(k):
            np.fill_diagonal(close, False)
        i, j = np.nonzero(close)
        firsts.append(i)
        seconds.append(j)
        shifts.append(np.broadcast_to(s, (i.size, 3)))
    return (np.concatenate(firsts).astype(np.int64), np.concatenate(seconds).astype(np.int64),
            np.concatenate(shifts))

"""Cell lists and Verlet (half) neighbour lists for particles in an orthorhombic box.

A box is given by its edge lengths ``box`` (float64[3]) and per-axis periodic flags
``periodic`` (int64[3], 0 or 1). Along a periodic axis distances use the minimum image, so the
search radius must not exceed half the box length there; along an open axis the cells span
the particles' bounding box.

The cell list (Allen & Tildesley, *Computer Simulation of Liquids*, 2nd ed., §5.3) bins
particles into cells of edge >= ``cutoff``; every pair closer than ``cutoff`` then lies in the
same or an adjacent cell (27-cell stencil). The Verlet list (Verlet, Phys. Rev. 159, 98 (1967),
doi:10.1103/PhysRev.159.98) stores, for each particle ``i``, the partners ``j > i`` within
``cutoff`` in compressed-row form: the partners of ``i`` are ``nbrs[starts[i]:starts[i+1]]``.
Built with ``cutoff = rc + skin`` it stays valid until some particle moves by ``skin / 2``.

:func:`split_by_image` splits each row of a list into same-image partners and partners across a
periodic boundary (the molecular-dynamics loop's list, :mod:`solvers.molecule.pairlist`, is built
split, over a half stencil of cells).

:func:`brute_force_pairs` is the O(N^2) reference the tests compare the cell-list search with.
All kernels take float64/int64 arrays and are ``@njit(cache=True, nogil=True)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["minimum_image", "cell_list", "verlet_list", "split_by_image",
           "brute_force_pairs", "max_displacement", "wrap_positions"]


@njit(cache=True, nogil=True)
def minimum_image(d, box, periodic):
    """Fold a separation vector ``d`` (float64[3], in place) to its minimum image."""
    for a in range(3):
        if periodic[a]:
            d[a] -= box[a] * np.rint(d[a] / box[a])
    return d


@njit(cache=True, nogil=True)
def wrap_positions(x, images, box, periodic):
    """Move positions into [0, L) along periodic axes, counting the crossings in ``images``.

    ``x + images * box`` (the unwrapped positions) is unchanged. Returns the number of moves.
    """
    moved = 0
    for i in range(x.shape[0]):
        for a in range(3):
            if periodic[a]:
                k = np.floor(x[i, a] / box[a])
                if k != 0.0:
                    x[i, a] -= k * box[a]
                    images[i, a] += np.int64(k)
                    moved += 1
    return moved


@njit(cache=True, nogil=True)
def max_displacement(x, x_ref):
    """The largest distance any particle moved from ``x_ref`` (no minimum image: unwrapped moves)."""
    worst = 0.0
    for i in range(x.shape[0]):
        d2 = 0.0
        for a in range(3):
            d = x[i, a] - x_ref[i, a]
            d2 += d * d
        if d2 > worst:
            worst = d2
    return np.sqrt(worst)


@njit(cache=True, nogil=True)
def cell_list(x, box, periodic, cutoff):
    """Bin particles into cells of edge >= ``cutoff``.

    Returns ``(ncell int64[3], cell_start int64[ncells+1], cell_atoms int64[N], cell_index
    int64[N, 3])``: the particles of cell ``c`` are ``cell_atoms[cell_start[c]:cell_start[c+1]]``
    with ``c = (i0 * ncell[1] + i1) * ncell[2] + i2``.
    """
    n = x.shape[0]
    lo = np.zeros(3)
    width = np.ones(3)
    extent = np.zeros(3)
    ncell = np.ones(3, dtype=np.int64)
    for a in range(3):
        if periodic[a]:
            extent[a] = box[a]
        elif n > 0:
            mn = x[0, a]
            mx = x[0, a]
            for i in range(n):
                mn = min(mn, x[i, a])
                mx = max(mx, x[i, a])
            lo[a] = mn
            extent[a] = mx - mn
        ncell[a] = max(min(int(extent[a] / cutoff), 1 << 20), 1)
    # at most ~2 cells per particle (a dilute system or a particle far away must not allocate
    # a huge grid): coarsen the finest axis; cells only grow, so they stay >= cutoff
    limit = max(2 * n, 27)
    while ncell[0] * ncell[1] * ncell[2] > limit:
        a = 0
        for b in range(1, 3):
            if ncell[b] > ncell[a]:
                a = b
        ncell[a] = max(1, (ncell[a] * 7) // 10)
    for a in range(3):
        width[a] = extent[a] / ncell[a] if extent[a] > 0 else 1.0
    total = ncell[0] * ncell[1] * ncell[2]
    index = np.empty((n, 3), dtype=np.int64)
    flat = np.empty(n, dtype=np.int64)
    counts = np.zeros(total + 1, dtype=np.int64)
    for i in range(n):
        for a in range(3):
            s = x[i, a] - lo[a]
            if periodic[a]:
                s -= box[a] * np.floor(s / box[a])
            k = int(s / width[a])
            if k < 0:
                k = 0
            elif k >= ncell[a]:
                k = ncell[a] - 1
            index[i, a] = k
        c = (index[i, 0] * ncell[1] + index[i, 1]) * ncell[2] + index[i, 2]
        flat[i] = c
        counts[c + 1] += 1
    for c in range(total):
        counts[c + 1] += counts[c]
    fill = counts[:-1].copy()
    atoms = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = flat[i]
        atoms[fill[c]] = i
        fill[c] += 1
    return ncell, counts, atoms, index


@njit(cache=True, nogil=True)
def _pair_distance2(x, i, j, box, periodic):
    r2 = 0.0
    for a in range(3):
        d = x[j, a] - x[i, a]
        if periodic[a]:
            d -= box[a] * np.rint(d / box[a])
        r2 += d * d
    return r2


@njit(cache=True, nogil=True)
def brute_force_pairs(x, box, periodic, cutoff):
    """Reference half list: every pair ``i < j`` closer than ``cutoff``, in O(N^2).

    Returns ``(starts int64[N+1], nbrs int64[npairs])``.
    """
    n = x.shape[0]
    c2 = cutoff * cutoff
    starts = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        count = 0
        for j in range(i + 1, n):
            if _pair_distance2(x, i, j, box, periodic) < c2:
                count += 1
        starts[i + 1] = starts[i] + count
    nbrs = np.empty(starts[n], dtype=np.int64)
    for i in range(n):
        k = starts[i]
        for j in range(i + 1, n):
            if _pair_distance2(x, i, j, box, periodic) < c2:
                nbrs[k] = j
                k += 1
    return starts, nbrs


@njit(cache=True, nogil=True)
def _grow(buffer, needed):
    if needed <= buffer.shape[0]:
        return buffer
    bigger = np.empty(max(needed, 2 * buffer.shape[0]), dtype=np.int64)
    bigger[:buffer.shape[0]] = buffer
    return bigger


@njit(cache=True, nogil=True)
def verlet_list(x, box, periodic, cutoff):
    """Half neighbour list (pairs ``i < j`` closer than ``cutoff``) built from a cell list.

    O(N) for a homogeneous system: positions are folded into the box once, copied in cell order
    (so the partners of a particle are read from contiguous memory) and each stencil cell that
    wraps around the box gets one image shift, so no pair needs a minimum-image rounding.
    Falls back to :func:`brute_force_pairs` when a periodic axis holds fewer than three cells
    (the 27-cell stencil would then visit a cell twice).
    Returns ``(starts int64[N+1], nbrs int64[npairs])``.
    """
    n = x.shape[0]
    xw = x.copy()
    for i in range(n):
        for a in range(3):
            if periodic[a]:
                xw[i, a] -= box[a] * np.floor(xw[i, a] / box[a])
    ncell, cell_start, cell_atoms, index = cell_list(xw, box, periodic, cutoff)
    for a in range(3):
        if periodic[a] and ncell[a] < 3:
            return brute_force_pairs(x, box, periodic, cutoff)
    xs = np.empty((n, 3))
    for p in range(n):
        xs[p, 0] = xw[cell_atoms[p], 0]
        xs[p, 1] = xw[cell_atoms[p], 1]
        xs[p, 2] = xw[cell_atoms[p], 2]
    c2 = cutoff * cutoff
    starts = np.zeros(n + 1, dtype=np.int64)
    # capacity: the expected half-list size for the mean density, plus a margin
    volume = 1.0
    for a in range(3):
        volume *= ncell[a] * max(box[a] / ncell[a] if periodic[a] else 0.0, cutoff)
    expected = 0.5 * n * n / volume * 4.18879 * cutoff ** 3
    nbrs = np.empty(max(int(1.3 * expected) + 64, 64), dtype=np.int64)
    k = 0
    for i in range(n):
        xi0 = xw[i, 0]
        xi1 = xw[i, 1]
        xi2 = xw[i, 2]
        for d0 in range(-1, 2):
            c0 = index[i, 0] + d0
            s0 = 0.0
            if c0 < 0 or c0 >= ncell[0]:
                if not periodic[0]:
                    continue
                s0 = box[0] if c0 >= ncell[0] else -box[0]
                c0 = (c0 + ncell[0]) % ncell[0]
            for d1 in range(-1, 2):
                c1 = index[i, 1] + d1
                s1 = 0.0
                if c1 < 0 or c1 >= ncell[1]:
                    if not periodic[1]:
                        continue
                    s1 = box[1] if c1 >= ncell[1] else -box[1]
                    c1 = (c1 + ncell[1]) % ncell[1]
                for d2 in range(-1, 2):
                    c2i = index[i, 2] + d2
                    s2 = 0.0
                    if c2i < 0 or c2i >= ncell[2]:
                        if not periodic[2]:
                            continue
                        s2 = box[2] if c2i >= ncell[2] else -box[2]
                        c2i = (c2i + ncell[2]) % ncell[2]
                    c = (c0 * ncell[1] + c1) * ncell[2] + c2i
                    lo = cell_start[c]
                    hi = cell_start[c + 1]
                    if k + (hi - lo) > nbrs.shape[0]:
                        nbrs = _grow(nbrs, k + (hi - lo))
                    # a cell lists its particles in increasing index order: the partners j > i
                    # are a suffix, so walk it backwards and stop at the first j <= i
                    for p in range(hi - 1, lo - 1, -1):
                        j = cell_atoms[p]
                        if j <= i:
                            break
                        e0 = xi0 - xs[p, 0] - s0
                        e1 = xi1 - xs[p, 1] - s1
                        e2 = xi2 - xs[p, 2] - s2
                        if e0 * e0 + e1 * e1 + e2 * e2 < c2:
                            nbrs[k] = j
                            k += 1
        starts[i + 1] = k
    return starts, nbrs[:k].copy()


@njit(cache=True, nogil=True)
def split_by_image(x, box, periodic, starts, nbrs):
    """Reorder each particle's partners in place: same-image pairs first (``|x_i - x_j| <= L/2``
    along every periodic axis), then the pairs that cross a periodic boundary; return the split
    points (int64[N])."""
    n = x.shape[0]
    split = np.empty(n, dtype=np.int64)
    buffer = np.empty(nbrs.shape[0], dtype=np.int64)
    for i in range(n):
        lo = starts[i]
        hi = starts[i + 1]
        k = lo
        for p in range(lo, hi):
            j = nbrs[p]
            crosses = False
            for a in range(3):
                if periodic[a] and abs(x[i, a] - x[j, a]) > 0.5 * box[a]:
                    crosses = True
            if not crosses:
                buffer[k] = j
                k += 1
        split[i] = k
        for p in range(lo, hi):
            j = nbrs[p]
            crosses = False
            for a in range(3):
                if periodic[a] and abs(x[i, a] - x[j, a]) > 0.5 * box[a]:
                    crosses = True
            if crosses:
                buffer[k] = j
                k += 1
    nbrs[:] = buffer
    return split

"""The MD loop's Verlet list, built over a half stencil of cells (Newton's third law).

Contract (the rows of :func:`toolkit.kernels.neighbors.verlet_list` split by
:func:`toolkit.kernels.neighbors.split_by_image`, except for the order of a pair): ``(starts, nbrs, split)`` such that every pair ``{i, j}`` closer than ``cutoff`` (minimum
image along periodic axes) is listed exactly once, in the row of ``i`` (``nbrs[starts[i]:
starts[i+1]]`` holds ``j``) or of ``j``, never both; ``nbrs[starts[i]:split[i]]`` are the partners
whose separation ``x_i - x_j`` is already the minimum image and ``nbrs[split[i]:starts[i+1]]`` the
ones that cross a periodic boundary. Unlike the toolkit list, ``j > i`` is not promised.

Method (Allen & Tildesley, *Computer Simulation of Liquids*, 2nd ed., §5.3; the "half stencil"
of Plimpton's LAMMPS neighbour lists, J. Comput. Phys. 117, 1 (1995), doi:10.1006/jcph.1995.1039):
particles are binned into cells of edge >= ``cutoff`` and copied in cell order into three
contiguous coordinate arrays. A pair in one cell is found from its earlier member (in cell
order); a pair in two adjacent cells from the cell whose offset to the other is in the forward
half ``(d0, d1, d2) > 0`` (lexicographically) of the 26 neighbours, so each of the 13 forward
cells is searched once per particle and no pair needs an ``i < j`` test. The candidate count is
half that of a full 27-cell search, and each row is written directly in particle order: the
same-image stencil cells first, then those reached through a periodic image (their shift is
fixed per stencil cell).

NumPy reference: :func:`toolkit.kernels.neighbors.brute_force_pairs` (the tests compare pair sets
and the split).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from toolkit.kernels.neighbors import brute_force_pairs, cell_list, split_by_image

__all__ = ["half_stencil_list", "half_stencil_list_parts"]


@njit(cache=True, nogil=True)
def _grow(buffer, needed):
    if needed <= buffer.shape[0]:
        return buffer
    bigger = np.empty(max(needed, 2 * buffer.shape[0]), dtype=np.int64)
    bigger[:buffer.shape[0]] = buffer
    return bigger


@njit(cache=True, nogil=True)
def _stencils(ncell, box, periodic):
    """Per cell: its forward neighbour cells (at most 13), the same-image ones first.

    Returns ``(cells int64[C, 13], shifts float64[C, 13, 3], n_same int64[C], n_all int64[C])``;
    ``shifts`` is the image translation to subtract from a partner's coordinates.
    """
    total = ncell[0] * ncell[1] * ncell[2]
    cells = np.empty((total, 13), dtype=np.int64)
    shifts = np.zeros((total, 13, 3))
    n_same = np.zeros(total, dtype=np.int64)
    n_all = np.zeros(total, dtype=np.int64)
    tc = np.empty(13, dtype=np.int64)
    ts = np.empty((13, 3))
    for ci0 in range(ncell[0]):
        for ci1 in range(ncell[1]):
            for ci2 in range(ncell[2]):
                c = (ci0 * ncell[1] + ci1) * ncell[2] + ci2
                m = 0
                for d0 in range(0, 2):
                    for d1 in range(-1, 2):
                        for d2 in range(-1, 2):
                            if d0 == 0 and (d1 < 0 or (d1 == 0 and d2 <= 0)):
                                continue        # not in the forward half (or the cell itself)
                            keep = True
                            target = np.empty(3, dtype=np.int64)
                            target[0] = ci0 + d0
                            target[1] = ci1 + d1
                            target[2] = ci2 + d2
                            for a in range(3):
                                ts[m, a] = 0.0
                                if target[a] < 0 or target[a] >= ncell[a]:
                                    if not periodic[a]:
                                        keep = False
                                    elif target[a] >= ncell[a]:
                                        ts[m, a] = -box[a]
                                        target[a] -= ncell[a]
                                    else:
                                        ts[m, a] = box[a]
                                        target[a] += ncell[a]
                            if keep:
                                tc[m] = (target[0] * ncell[1] + target[1]) * ncell[2] + target[2]
                                m += 1
                # same-image cells first, then the shifted ones
                k = 0
                for pass_ in range(2):
                    for t in range(m):
                        shifted = ts[t, 0] != 0.0 or ts[t, 1] != 0.0 or ts[t, 2] != 0.0
                        if shifted == (pass_ == 1):
                            cells[c, k] = tc[t]
                            shifts[c, k, 0] = ts[t, 0]
                            shifts[c, k, 1] = ts[t, 1]
                            shifts[c, k, 2] = ts[t, 2]
                            k += 1
                    if pass_ == 0:
                        n_same[c] = k
                n_all[c] = m
    return cells, shifts, n_same, n_all


@njit(cache=True, nogil=True, inline="always")
def _scan(xi0, xi1, xi2, s0, s1, s2, lo, hi, x0, x1, x2, order, c2, out, k, r2):
    """Append the partners ``order[q]`` (``lo <= q < hi``) closer than ``sqrt(c2)`` to ``out`` from ``k``;
    return the new end. Two passes: the squared distances into ``r2`` (a contiguous loop that
    vectorises), then a branchless compaction (each candidate is written, the end moves only on
    a hit). Unsigned indices: no negative-index wraparound test in the loops."""
    m = np.uint64(hi - lo)
    b = np.uint64(lo)
    for q in range(m):
        e0 = xi0 - x0[b + q] + s0
        e1 = xi1 - x1[b + q] + s1
        e2 = xi2 - x2[b + q] + s2
        r2[q] = e0 * e0 + e1 * e1 + e2 * e2
    u = np.uint64(k)
    for q in range(m):
        out[u] = order[b + q]
        u += np.uint64(1) if r2[q] < c2 else np.uint64(0)
    return np.int64(u)


@njit(cache=True, nogil=True)
def _bins(x, box, periodic, cutoff):
    """Everything the row search needs: ``(ok, refolded, x0, x1, x2, order, where, cell_of,
    cell_start, cells, shifts, n_same, n_all, reach, expected)``. ``ok`` is False when a periodic
    axis holds fewer than three cells (the caller falls back to the O(N^2) search)."""
    n = x.shape[0]
    xw = x.copy()
    refolded = False
    for i in range(n):
        for a in range(3):
            if periodic[a]:
                xw[i, a] -= box[a] * np.floor(xw[i, a] / box[a])
                if xw[i, a] != x[i, a]:
                    refolded = True
    ncell, cell_start, order, index = cell_list(xw, box, periodic, cutoff)
    ok = True
    for a in range(3):
        if periodic[a] and ncell[a] < 3:
            ok = False
    x0 = np.empty(n)
    x1 = np.empty(n)
    x2 = np.empty(n)
    where = np.empty(n, dtype=np.int64)          # the position of each particle in cell order
    cell_of = np.empty(n, dtype=np.int64)
    for p in range(n):
        i = order[p]
        x0[p] = xw[i, 0]
        x1[p] = xw[i, 1]
        x2[p] = xw[i, 2]
        where[i] = p
        cell_of[i] = (index[i, 0] * ncell[1] + index[i, 1]) * ncell[2] + index[i, 2]
    cells, shifts, n_same, n_all = _stencils(ncell, box, periodic)
    reach = np.empty(cells.shape[0], dtype=np.int64)      # candidates per particle of each cell, at most
    for c in range(cells.shape[0]):
        reach[c] = cell_start[c + 1] - cell_start[c]
        for t in range(n_all[c]):
            reach[c] += cell_start[cells[c, t] + 1] - cell_start[cells[c, t]]
    volume = 1.0
    for a in range(3):
        volume *= ncell[a] * max(box[a] / ncell[a] if periodic[a] else 0.0, cutoff)
    expected = 0.5 * n * n / volume * 4.18879 * cutoff ** 3
    return ok, refolded, x0, x1, x2, order, where, cell_of, cell_start, cells, shifts, n_same, n_all, reach, expected


@njit(cache=True, nogil=True)
def _rows(i0, i1, c2, x0, x1, x2, order, where, cell_of, cell_start, cells, shifts, n_same, n_all, reach, out,
          grow, starts, split):
    """The rows ``i0 <= i < i1`` into ``out`` from 0: ``starts[i + 1]`` and ``split[i]`` get offsets
    into ``out``. Returns ``(out, end)``; ``out`` is enlarged as needed when ``grow``, else the
    search stops and returns ``end = -1`` when a row might not fit."""
    k = 0
    r2 = np.empty(max(1, np.max(cell_start[1:] - cell_start[:-1])))
    for i in range(i0, i1):
        p = where[i]
        c = cell_of[i]
        xi0 = x0[p]
        xi1 = x1[p]
        xi2 = x2[p]
        if k + reach[c] > out.shape[0]:
            if not grow:
                return out, -1
            out = _grow(out, k + reach[c])
        k = _scan(xi0, xi1, xi2, 0.0, 0.0, 0.0, p + 1, cell_start[c + 1], x0, x1, x2, order, c2, out, k, r2)
        for t in range(n_all[c]):
            if t == n_same[c]:
                split[i] = k
            d = cells[c, t]
            k = _scan(xi0, xi1, xi2, shifts[c, t, 0], shifts[c, t, 1], shifts[c, t, 2], cell_start[d],
                      cell_start[d + 1], x0, x1, x2, order, c2, out, k, r2)
        if n_same[c] == n_all[c]:
            split[i] = k
        starts[i + 1] = k
    return out, k


@njit(cache=True, nogil=True)
def half_stencil_list(x, box, periodic, cutoff):
    """``(starts, nbrs, split)`` of every pair closer than ``cutoff`` (see the module docstring).

    Falls back to :func:`toolkit.kernels.neighbors.brute_force_pairs` (+ ``split_by_image``) when
    a periodic axis holds fewer than three cells (a stencil cell would then be met twice). The
    positions need not lie in the box: a folded copy is binned, and when folding moved any
    coordinate the split is taken from ``x`` itself, as the MD force loop reads ``x``.
    """
    n = x.shape[0]
    (ok, refolded, x0, x1, x2, order, where, cell_of, cell_start, cells, shifts, n_same, n_all, reach,
     expected) = _bins(x, box, periodic, cutoff)
    if not ok:
        starts, nbrs = brute_force_pairs(x, box, periodic, cutoff)
        return starts, nbrs, split_by_image(x, box, periodic, starts, nbrs)
    out = np.empty(max(int(1.3 * expected) + 64, 64), dtype=np.int64)
    starts = np.zeros(n + 1, dtype=np.int64)
    split = np.empty(n, dtype=np.int64)
    out, k = _rows(np.int64(0), n, cutoff * cutoff, x0, x1, x2, order, where, cell_of, cell_start, cells, shifts, n_same,
                   n_all, reach, out, np.bool_(True), starts, split)   # not literals: one compile of _rows
    nbrs = out[:k]
    if refolded:
        split = split_by_image(x, box, periodic, starts, nbrs)
    return starts, nbrs, split


@njit(cache=True, nogil=True, parallel=True)
def half_stencil_list_parts(x, box, periodic, cutoff, parts):
    """:func:`half_stencil_list` with the rows searched by ``parts`` threads (``prange``), each into
    a buffer of its own, then joined: the same ``(starts, nbrs, split)``, element for element.
    A part whose rows outgrow its buffer (a very uneven density) sends the whole search to the
    serial :func:`half_stencil_list`."""
    n = x.shape[0]
    (ok, refolded, x0, x1, x2, order, where, cell_of, cell_start, cells, shifts, n_same, n_all, reach,
     expected) = _bins(x, box, periodic, cutoff)
    if not ok or parts < 2 or n < 2 * parts:
        return half_stencil_list(x, box, periodic, cutoff)
    cap = int(1.5 * expected / parts) + 1024
    buffers = np.empty((parts, cap), dtype=np.int64)
    ends = np.zeros(parts, dtype=np.int64)
    starts = np.zeros(n + 1, dtype=np.int64)
    split = np.empty(n, dtype=np.int64)
    c2 = cutoff * cutoff
    for part in prange(parts):
        k = np.int64(part)
        _, end = _rows(k * n // parts, (k + 1) * n // parts, c2, x0, x1, x2, order, where, cell_of, cell_start,
                       cells, shifts, n_same, n_all, reach, buffers[k], np.bool_(False), starts, split)
        ends[k] = end
    for part in range(parts):
        if ends[part] < 0:
            return half_stencil_list(x, box, periodic, cutoff)
    offsets = np.zeros(parts + 1, dtype=np.int64)
    for part in range(parts):
        offsets[part + 1] = offsets[part] + ends[part]
    nbrs = np.empty(offsets[parts], dtype=np.int64)
    for part in prange(parts):
        k = np.int64(part)
        o = offsets[k]
        nbrs[o:o + ends[k]] = buffers[k, :ends[k]]
        for i in range(k * n // parts, (k + 1) * n // parts):
            starts[i + 1] += o
            split[i] += o
    if refolded:
        split = split_by_image(x, box, periodic, starts, nbrs)
    return starts, nbrs, split

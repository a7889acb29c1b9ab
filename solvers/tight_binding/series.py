"""A Chebyshev series applied to a block of vectors, ``Y = sum_n c_n T_n(H~) R``, in one fused pass per term.

The direct density-matrix estimate of KPM needs ``Y = f(H) R`` for ``f = sum_n c_n T_n`` (Weisse,
Wellein, Alvermann & Fehske, Rev. Mod. Phys. 78, 275 (2006), doi:10.1103/RevModPhys.78.275, Sec.
II.D): ``order`` Chebyshev steps ``alpha_{n+1} = 2 H~ alpha_n - alpha_{n-1}`` and the sum. Done as a
step followed by a NumPy ``Y += c_n alpha_n``, the sum alone moves as much memory as the step (a
temporary, then Y read and written) and the sweep took about 4x the moment sweep on a 512^2
lattice. Here one kernel does both, row by row, while the new ``alpha`` is in registers::

    P <- c1 A X + c2 X - cp P        (the Chebyshev step; cp = 0 for the first one, P = 0)
    Y <- Y + cy P

on CSR rows (:func:`series_rows_csr`) or on constant-coefficient diagonal pieces of a lattice
matrix (:func:`series_rows_pieces`; :func:`toolkit.kernels.sparse.diagonal_pieces`). Both are row
kernels (``rows(r0, r1, *args)``, rows or pieces r0 <= r < r1 independent) run serially or spread
over threads from one build by :class:`toolkit.kernels.rows.RowKernel`, so parallel equals serial
bit for bit. :func:`series_step_reference` is the NumPy reference.

:func:`column_width` picks how many of the S vectors to carry at once: the recursion of a narrow
column group (X, P, Y and R) stays in the last-level cache for all ``order`` steps instead of
streaming the whole block from main memory each step (measured: see :data:`CACHE_BUDGET`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

from toolkit.kernels import FASTMATH
from toolkit.kernels.rows import RowKernel

__all__ = ["series_rows_csr", "series_rows_pieces", "series_step_reference", "series_kernel", "column_width",
           "CACHE_BUDGET"]

_FM = set(FASTMATH)

#: Bytes the four arrays of one column group (X, P, Y, R) may take: they then stay in the 32 MB
#: L3 cache through the whole recursion. Measured on the 512^2 square lattice (262,144 sites, 256
#: terms, S = 10, one core of the shared 2-core AMD EPYC, CPU time, medians of interleaved runs):
#: see the table in :func:`column_width`.
CACHE_BUDGET = 12 * 2**20


@njit(cache=True, nogil=True, fastmath=_FM)
def series_rows_csr(r0, r1, indptr, indices, data, X, P, Y, c1, c2, cp, cy):
    """Rows r0 <= i < r1: ``P_i <- c1 (A X)_i + c2 X_i - cp P_i``, then ``Y_i += cy P_i``. Returns 0."""
    W = P.shape[1]
    acc = np.empty(W, dtype=P.dtype)
    for i in range(r0, r1):
        for s in range(W):
            acc[s] = c2 * X[i, s] - cp * P[i, s]
        for k in range(indptr[i], indptr[i + 1]):
            v = c1 * data[k]
            j = indices[k]
            for s in range(W):
                acc[s] += v * X[j, s]
        for s in range(W):
            P[i, s] = acc[s]
            Y[i, s] += cy * acc[s]
    return 0


@njit(cache=True, nogil=True, fastmath=_FM)
def series_rows_pieces(r0, r1, lo, hi, ptr, offsets, values, X, P, Y, c1, c2, cp, cy):
    """Pieces r0 <= p < r1 of :class:`~toolkit.kernels.sparse.DiagonalPieces`: the same update as
    :func:`series_rows_csr` on the rows ``lo[p] <= i < hi[p]``, as flat loops over the piece's
    row-major block, four diagonals per loop (``ptr`` steps are multiples of 4). Returns 0."""
    W = P.shape[1]
    Xf = X.reshape(-1)
    Pf = P.reshape(-1)
    Yf = Y.reshape(-1)
    for p in range(r0, r1):
        a = lo[p] * W
        m = hi[p] * W - a
        ps = Pf[a:a + m]
        xs = Xf[a:a + m]
        ys = Yf[a:a + m]
        g0 = ptr[p]
        g1 = ptr[p + 1]
        if g0 == g1:
            for e in range(m):
                new = c2 * xs[e] - cp * ps[e]
                ps[e] = new
                ys[e] += cy * new
        for g in range(g0, g1, 4):
            w0 = c1 * values[g]
            w1 = c1 * values[g + 1]
            w2 = c1 * values[g + 2]
            w3 = c1 * values[g + 3]
            b0 = a + offsets[g] * W
            b1 = a + offsets[g + 1] * W
            b2 = a + offsets[g + 2] * W
            b3 = a + offsets[g + 3] * W
            x0 = Xf[b0:b0 + m]
            x1 = Xf[b1:b1 + m]
            x2 = Xf[b2:b2 + m]
            x3 = Xf[b3:b3 + m]
            first = g == g0
            last = g + 4 == g1
            if first and last:
                for e in range(m):
                    new = c2 * xs[e] - cp * ps[e] + w0 * x0[e] + w1 * x1[e] + w2 * x2[e] + w3 * x3[e]
                    ps[e] = new
                    ys[e] += cy * new
            elif first:
                for e in range(m):
                    ps[e] = c2 * xs[e] - cp * ps[e] + w0 * x0[e] + w1 * x1[e] + w2 * x2[e] + w3 * x3[e]
            elif last:
                for e in range(m):
                    new = ps[e] + w0 * x0[e] + w1 * x1[e] + w2 * x2[e] + w3 * x3[e]
                    ps[e] = new
                    ys[e] += cy * new
            else:
                for e in range(m):
                    ps[e] += w0 * x0[e] + w1 * x1[e] + w2 * x2[e] + w3 * x3[e]
    return 0


def series_step_reference(A, X, P, Y, c1, c2, cp, cy):
    """NumPy/SciPy reference: returns the new ``(P, Y)`` (``A`` a sparse or dense matrix)."""
    new = c1 * (sp.csr_matrix(A) @ X) + c2 * X - cp * P
    return new, Y + cy * new


def _pieces_count(lo, *args):
    return lo.shape[0]


def _csr_count(indptr, *args):
    return indptr.shape[0] - 1


_KERNELS = {(False, False): RowKernel(series_rows_csr, _csr_count),
            (False, True): RowKernel(series_rows_csr, _csr_count, parallel=True),
            (True, False): RowKernel(series_rows_pieces, _pieces_count),
            (True, True): RowKernel(series_rows_pieces, _pieces_count, parallel=True)}


def series_kernel(pieces: bool, parallel: bool) -> RowKernel:
    """The fused step over all rows: called as ``kernel(*matrix, X, P, Y, c1, c2, cp, cy)`` with
    ``matrix`` = (indptr, indices, data) or the pieces' (lo, hi, ptr, offsets, values)."""
    return _KERNELS[bool(pieces), bool(parallel)]


def column_width(n: int, S: int, itemsize: int, budget: int = CACHE_BUDGET) -> int:
    """Columns per group so that X, P, Y and R (``4 n w itemsize`` bytes) fit ``budget``; 1 to S.

    Measured (512^2 lattice, real, S = 10, 256 terms, CPU s per sweep, medians of 3 interleaved
    rounds on the shared 2-core EPYC, load 2.4): width 10 (the whole block, 84 MB) 0.92; 5: 0.91;
    3: 0.75; 2 (17 MB) 0.56; 1 (8 MB) 0.57; the moment sweep of the same block 0.39. Before the
    fused kernel (step, then NumPy ``Y += c P``, whole block) it was 1.67. Small problems run as
    one group.
    """
    per_column = 4 * n * itemsize
    return int(max(1, min(S, budget // max(per_column, 1))))

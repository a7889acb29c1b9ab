"""CSR sparse-matrix kernels carrying a block of S vectors through one sweep over the matrix.

A Hermitian (or any square) matrix ``A`` in CSR form (``indptr``, ``indices``, ``data``)
times a block ``X`` of shape ``(n, S)`` stored row-major, so the S values a row touches sit
next to each other in memory and every matrix entry is read once per sweep, not S times.

``csr_matmat``      ``Y = A @ X``
``cheb_step``       the Chebyshev step of the kernel polynomial method, in place::

                        P <- c1 * (A @ X) + c2 * X - P

                    with ``c1 = 2/a``, ``c2 = -2b/a`` this is ``alpha_{n+1} = 2 H~ alpha_n - alpha_{n-1}``
                    for the rescaled ``H~ = (A - b)/a`` (Weisse et al., Rev. Mod. Phys. 78, 275 (2006),
                    doi:10.1103/RevModPhys.78.275). It returns, per vector ``s``, the two dot products
                    ``<P_new|P_new>`` and ``<P_new|X>`` that the moment-doubling identities
                    ``mu_{2n} = 2<a_n|a_n> - mu_0``, ``mu_{2n+1} = 2<a_{n+1}|a_n> - mu_1`` need, so no
                    extra pass over the vectors is made.

``cheb_step_pieces``        the same step on :func:`diagonal_pieces` (row ranges whose rows share
                            offsets and values: lattices in natural order): flat loops, no matrix
                            read, no padding; 1.7x faster than the CSR step on the 512^2 lattice
``cheb_two_steps_pieces``   two such steps per pass over memory (temporal blocking, wavefront
                            lagged by the bandwidth; see :func:`two_step_plan`)

Block width: LLVM vectorises the inner loop over the S vectors well only for some widths
(measured on AVX2, znver3, 512x512 square lattice, one core, ms per ``cheb_step``: S = 8: 11.3,
S = 10: 12.8, S = 12: 8.8, S = 16: 9.5); :func:`block_width` gives the width a caller should pad
its block to (with zero columns, which stay zero through every kernel here).

Each kernel has a ``parallel=True`` twin (suffix ``_parallel``, rows split over threads) and
a NumPy/SciPy reference (suffix ``_reference``); the piece kernels share ``cheb_step_reference``
(applied twice for the two-step kernel, which is serial only: its wavefront is sequential, in
the spirit of Wellein, Hager, Zeiser, Wittmann & Fehske, COMPSAC 2009). Real and complex
matrices and vectors all work (numba compiles one specialisation per dtype combination); pass
float64/complex128 data and int64 indices so each compiles once.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import FASTMATH

__all__ = ["csr_matmat", "csr_matmat_parallel", "csr_matmat_reference",
           "cheb_step", "cheb_step_parallel", "cheb_step_reference", "as_csr_arrays", "block_width",
           "DiagonalPieces", "diagonal_pieces", "cheb_step_pieces", "cheb_step_pieces_parallel",
           "TwoStepPlan", "two_step_plan", "cheb_two_steps_pieces", "piece_rows"]

_FM = set(FASTMATH)


def as_csr_arrays(matrix):
    """``(indptr, indices, data)`` of a scipy.sparse matrix as int64/int64/float64-or-complex128."""
    csr = matrix.tocsr()
    data = np.ascontiguousarray(csr.data, dtype=np.complex128 if np.iscomplexobj(csr.data) else np.float64)
    return (np.ascontiguousarray(csr.indptr, dtype=np.int64),
            np.ascontiguousarray(csr.indices, dtype=np.int64), data)


def block_width(S: int) -> int:
    """Number of columns to run a block of ``S`` vectors at: ``S`` itself for S < 5 or a multiple
    of 4 from 12 on, otherwise the next multiple of 4 that is at least 12 (the vectorised inner
    loop then runs without a scalar remainder; 20 % more columns at S = 10 still cut the time of a
    Chebyshev step by a third)."""
    S = int(S)
    if S < 5:
        return S
    return max(12, -(-S // 4) * 4)


# ---------------------------------------------------------------------------------------
# Y = A @ X

@njit(cache=True, nogil=True, fastmath=_FM)
def csr_matmat(indptr, indices, data, X, Y):
    """``Y[:] = A @ X`` for CSR ``A`` and row-major blocks ``X``, ``Y`` of shape (n, S). Returns 0."""
    n, S = Y.shape
    for i in range(n):
        for s in range(S):
            Y[i, s] = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            v = data[k]
            for s in range(S):
                Y[i, s] += v * X[j, s]
    return 0


@njit(cache=True, nogil=True, fastmath=_FM, parallel=True)
def csr_matmat_parallel(indptr, indices, data, X, Y):
    """Parallel twin of :func:`csr_matmat` (rows over threads)."""
    n, S = Y.shape
    for i in prange(n):
        for s in range(S):
            Y[i, s] = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            v = data[k]
            for s in range(S):
                Y[i, s] += v * X[j, s]
    return 0


def csr_matmat_reference(indptr, indices, data, X):
    """SciPy reference of :func:`csr_matmat`."""
    import scipy.sparse as sp

    n = len(indptr) - 1
    return sp.csr_matrix((data, indices, indptr), shape=(n, X.shape[0])) @ X


# ---------------------------------------------------------------------------------------
# P <- c1 A X + c2 X - P, with the doubling dot products

@njit(cache=True, nogil=True, fastmath=_FM)
def _cheb_rows(indptr, indices, data, X, P, c1, c2, lo, hi, nn, nx):
    S = X.shape[1]
    acc = np.empty(S, dtype=P.dtype)
    for i in range(lo, hi):
        for s in range(S):
            acc[s] = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            v = data[k]
            for s in range(S):
                acc[s] += v * X[j, s]
        for s in range(S):
            new = c1 * acc[s] + c2 * X[i, s] - P[i, s]
            P[i, s] = new
            nn[s] += (new.conjugate() * new).real
            nx[s] += new.conjugate() * X[i, s]
    return 0


@njit(cache=True, nogil=True, fastmath=_FM)
def cheb_step(indptr, indices, data, X, P, c1, c2, nn, nx):
    """``P <- c1 A X + c2 X - P`` in place; ``nn[s] = <P|P>``, ``nx[s] = <P|X>`` (new P). Returns 0.

    ``nn`` is float64 of length S, ``nx`` has P's dtype; both are overwritten.
    """
    n = P.shape[0]
    nn[:] = 0.0
    nx[:] = 0.0
    _cheb_rows(indptr, indices, data, X, P, c1, c2, np.int64(0), n, nn, nx)    # typed 0: one compile, not two
    return 0


@njit(cache=True, nogil=True, fastmath=_FM, parallel=True)
def cheb_step_parallel(indptr, indices, data, X, P, c1, c2, nn, nx):
    """Parallel twin of :func:`cheb_step`: rows in chunks over threads, dot products reduced after."""
    n, S = P.shape
    chunks = max(1, min(256, n // 512))
    part_nn = np.zeros((chunks, S))
    part_nx = np.zeros((chunks, S), dtype=nx.dtype)
    for c in prange(chunks):
        lo = (n * c) // chunks
        hi = (n * (c + 1)) // chunks
        _cheb_rows(indptr, indices, data, X, P, c1, c2, lo, hi, part_nn[c], part_nx[c])
    for s in range(S):
        nn[s] = 0.0
        nx[s] = 0.0
        for c in range(chunks):
            nn[s] += part_nn[c, s]
            nx[s] += part_nx[c, s]
    return 0


def cheb_step_reference(indptr, indices, data, X, P, c1, c2):
    """NumPy/SciPy reference of :func:`cheb_step`: returns ``(P_new, nn, nx)`` without touching P."""
    new = c1 * csr_matmat_reference(indptr, indices, data, X) + c2 * X - P
    return new, np.sum(np.abs(new) ** 2, axis=0), np.sum(new.conj() * X, axis=0)


# ---------------------------------------------------------------------------------------
# the same Chebyshev step on constant-coefficient diagonal pieces (lattices in natural order)
#
# A "piece" is a range of consecutive rows [lo, hi) in which every row has the same nonzeros
# relative to the diagonal: entries A[i, i + o_k] = v_k for k < K, with the same offsets o_k and
# values v_k in every row of the piece. A lattice Hamiltonian with uniform hoppings in natural
# order is a few such pieces per lattice row (the periodic wrap changes the offsets at the edges).
# On a piece the row-major block is one flat array, and the step is flat loops
#
#     P[lo:hi, :] <- c2 X[lo:hi, :] - P[lo:hi, :] + sum_k c1 v_k X[lo + o_k : hi + o_k, :]
#
# which LLVM vectorises without remainder or per-row loop set-up (numba runs LLVM without the SLP
# vectoriser, so the CSR kernel's inner loop over the S columns stays partly scalar), and which
# reads no matrix from memory at all. Diagonals go four at a time (padded with v = 0, o = 0).

_PIECE_ROWS = 128          # rows per piece at most: the piece's blocks (128 x S x 8 B) stay in L1/L2
_GROUP = 4                 # diagonals fused per pass over a piece


@njit(cache=True, nogil=True)
def _piece_count(indptr, indices, data, max_rows):
    """Number of pieces (see above) of a CSR matrix with rows sorted by column."""
    n = indptr.shape[0] - 1
    count = 0
    start = 0
    for i in range(n):
        same = i > start and i - start < max_rows
        if same:
            a0, a1 = indptr[i - 1], indptr[i]
            b0 = indptr[i]
            if indptr[i + 1] - b0 != a1 - a0:
                same = False
            else:
                for k in range(a1 - a0):
                    if indices[b0 + k] - i != indices[a0 + k] - (i - 1) or data[b0 + k] != data[a0 + k]:
                        same = False
                        break
        if not same:
            count += 1
            start = i
    return count


@njit(cache=True, nogil=True)
def _piece_fill(indptr, indices, data, max_rows, lo, hi, ptr, offsets, values):
    """Fills the piece arrays counted by :func:`_piece_count`; returns the number of diagonals."""
    n = indptr.shape[0] - 1
    p = -1
    start = 0
    g = 0
    for i in range(n):
        same = i > start and i - start < max_rows
        if same:
            a0, a1 = indptr[i - 1], indptr[i]
            b0 = indptr[i]
            if indptr[i + 1] - b0 != a1 - a0:
                same = False
            else:
                for k in range(a1 - a0):
                    if indices[b0 + k] - i != indices[a0 + k] - (i - 1) or data[b0 + k] != data[a0 + k]:
                        same = False
                        break
        if not same:
            if p >= 0:
                hi[p] = i
            p += 1
            start = i
            lo[p] = i
            ptr[p] = g
            K = indptr[i + 1] - indptr[i]
            padded = -(-K // _GROUP) * _GROUP
            for k in range(padded):
                if k < K:
                    offsets[g + k] = indices[indptr[i] + k] - i
                    values[g + k] = data[indptr[i] + k]
                else:
                    offsets[g + k] = 0
                    values[g + k] = 0.0
            g += padded
    if p >= 0:
        hi[p] = n
    ptr[p + 1] = g
    return g


class DiagonalPieces:
    """The pieces of a CSR matrix: ``lo``, ``hi`` (row ranges), ``ptr`` (piece p's diagonals are
    ``ptr[p]:ptr[p+1]``, a multiple of 4), ``offsets`` and ``values``; ``mean_rows`` is the mean
    piece length (the layout pays off when it is long, see :func:`diagonal_pieces`)."""

    def __init__(self, lo, hi, ptr, offsets, values, n):
        self.lo, self.hi, self.ptr, self.offsets, self.values, self.n = lo, hi, ptr, offsets, values, n
        self.mean_rows = n / max(len(lo), 1)

    def to_csr(self):
        """The matrix back as scipy CSR (for tests)."""
        import scipy.sparse as sp

        rows, cols, vals = [], [], []
        for p in range(len(self.lo)):
            r = np.arange(self.lo[p], self.hi[p])
            for g in range(self.ptr[p], self.ptr[p + 1]):
                if self.values[g] != 0:
                    rows.append(r)
                    cols.append(r + self.offsets[g])
                    vals.append(np.full(len(r), self.values[g]))
        if not rows:
            return sp.csr_matrix((self.n, self.n), dtype=self.values.dtype)
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(self.n, self.n))


def diagonal_pieces(indptr, indices, data, max_rows: int = _PIECE_ROWS):
    """Split a square CSR matrix (int64 indices sorted within rows) into :class:`DiagonalPieces`."""
    count = _piece_count(indptr, indices, data, max_rows)
    lo = np.zeros(count, np.int64)
    hi = np.zeros(count, np.int64)
    ptr = np.zeros(count + 1, np.int64)
    K = int(np.max(np.diff(indptr))) if count else 0
    room = count * (-(-K // _GROUP) * _GROUP)
    offsets = np.zeros(room, np.int64)
    values = np.zeros(room, data.dtype)
    used = _piece_fill(indptr, indices, data, max_rows, lo, hi, ptr, offsets, values)
    return DiagonalPieces(lo, hi, ptr, offsets[:used].copy(), values[:used].copy(), len(indptr) - 1)


@njit(cache=True, nogil=True, fastmath=_FM)
def _piece_group(ps, xs, Xf, base, W, offsets, values, g, c1, c2, cp, first, A1, A2, reduce):
    """One pass over a piece's flat block ``ps`` (``xs`` the matching X block) for diagonals
    ``g .. g+3``; ``first``: start from ``c2 X - cp P``; ``reduce``: add ``|P|^2`` and ``P^* X`` to
    the flat accumulators ``A1``, ``A2``."""
    m = ps.shape[0]
    w0 = c1 * values[g]
    w1 = c1 * values[g + 1]
    w2 = c1 * values[g + 2]
    w3 = c1 * values[g + 3]
    x0 = Xf[base + offsets[g] * W: base + offsets[g] * W + m]
    x1 = Xf[base + offsets[g + 1] * W: base + offsets[g + 1] * W + m]
    x2 = Xf[base + offsets[g + 2] * W: base + offsets[g + 2] * W + m]
    x3 = Xf[base + offsets[g + 3] * W: base + offsets[g + 3] * W + m]
    if first and reduce:
        for e in range(m):
            x = xs[e]
            new = c2 * x - cp * ps[e] + w0 * x0[e] + w1 * x1[e] + w2 * x2[e] + w3 * x3[e]
            ps[e] = new
            A1[e] += (new.conjugate() * new).real
            A2[e] += new.conjugate() * x
    elif first:
        for e in range(m):
            ps[e] = c2 * xs[e] - cp * ps[e] + w0 * x0[e] + w1 * x1[e] + w2 * x2[e] + w3 * x3[e]
    elif reduce:
        for e in range(m):
            new = ps[e] + w0 * x0[e] + w1 * x1[e] + w2 * x2[e] + w3 * x3[e]
            ps[e] = new
            A1[e] += (new.conjugate() * new).real
            A2[e] += new.conjugate() * xs[e]
    else:
        for e in range(m):
            ps[e] += w0 * x0[e] + w1 * x1[e] + w2 * x2[e] + w3 * x3[e]
    return 0


@njit(cache=True, nogil=True, fastmath=_FM)
def _piece_range(lo, hi, ptr, offsets, values, Xf, Pf, W, c1, c2, cp, p0, p1, A1, A2):
    """``P <- c1 A X + c2 X - cp P`` on pieces ``p0 .. p1-1`` (flat blocks ``Xf``, ``Pf`` of width W);
    adds ``|P|^2`` and ``P^* X`` elementwise to the flat accumulators ``A1``, ``A2`` (index within the
    piece: column s of a piece row sits at ``r W + s``)."""
    for p in range(p0, p1):
        a = lo[p] * W
        b = hi[p] * W
        ps = Pf[a:b]
        xs = Xf[a:b]
        g0 = ptr[p]
        g1 = ptr[p + 1]
        if g0 == g1:                          # an empty row range: P <- c2 X - cp P
            for e in range(b - a):
                new = c2 * xs[e] - cp * ps[e]
                ps[e] = new
                A1[e] += (new.conjugate() * new).real
                A2[e] += new.conjugate() * xs[e]
        for g in range(g0, g1, _GROUP):
            _piece_group(ps, xs, Xf, a, W, offsets, values, g, c1, c2, cp, g == g0, A1, A2, g + _GROUP == g1)
    return 0


@njit(cache=True, nogil=True)
def _column_sums(A, rows, W, out):
    """``out[s] += sum_r A[r W + s]``."""
    for r in range(rows):
        for s in range(W):
            out[s] += A[r * W + s]
    return 0


@njit(cache=True, nogil=True, fastmath=_FM)
def piece_rows(lo, hi, ptr, offsets, values, X, P, c1, c2, cp, p0, p1, nn, nx):
    """``P <- c1 A X + c2 X - cp P`` on pieces ``p0 .. p1-1``; adds ``<P|P>``, ``<P|X>`` to nn, nx."""
    n, W = P.shape
    longest = np.int64(1)
    for p in range(p0, p1):
        longest = max(longest, hi[p] - lo[p])
    A1 = np.zeros(longest * W)
    A2 = np.zeros(longest * W, dtype=P.dtype)
    _piece_range(lo, hi, ptr, offsets, values, X.reshape(-1), P.reshape(-1), W, c1, c2, cp, p0, p1, A1, A2)
    _column_sums(A1, longest, W, nn)
    _column_sums(A2, longest, W, nx)
    return 0


@njit(cache=True, nogil=True, fastmath=_FM)
def cheb_step_pieces(lo, hi, ptr, offsets, values, X, P, c1, c2, nn, nx):
    """:func:`cheb_step` on :class:`DiagonalPieces` (``P <- c1 A X + c2 X - P``, ``nn = <P|P>``,
    ``nx = <P|X>``); same arguments after the matrix. Returns 0."""
    nn[:] = 0.0
    nx[:] = 0.0
    piece_rows(lo, hi, ptr, offsets, values, X, P, c1, c2, 1.0, np.int64(0), lo.shape[0], nn, nx)
    return 0


@njit(cache=True, nogil=True, fastmath=_FM, parallel=True)
def cheb_step_pieces_parallel(lo, hi, ptr, offsets, values, X, P, c1, c2, nn, nx):
    """Parallel twin of :func:`cheb_step_pieces`: pieces in chunks over threads, dot products reduced after."""
    count = lo.shape[0]
    S = P.shape[1]
    chunks = max(1, min(256, count // 8))
    part_nn = np.zeros((chunks, S))
    part_nx = np.zeros((chunks, S), dtype=nx.dtype)
    for c in prange(chunks):
        piece_rows(lo, hi, ptr, offsets, values, X, P, c1, c2, 1.0, (count * c) // chunks, (count * (c + 1)) // chunks,
                    part_nn[c], part_nx[c])
    for s in range(S):
        nn[s] = 0.0
        nx[s] = 0.0
        for c in range(chunks):
            nn[s] += part_nn[c, s]
            nx[s] += part_nx[c, s]
    return 0


# ---------------------------------------------------------------------------------------
# two Chebyshev steps per pass over memory (temporal blocking) on diagonal pieces
#
# With X = alpha_n and P = alpha_{n-1}, step 1 (P <- alpha_{n+1}) runs over the pieces in row order
# and step 2 (X <- c1 A alpha_{n+1} + c2 alpha_{n+1} - alpha_n = alpha_{n+2}) follows it at a lag of
# ``bw`` rows (the largest |offset| of the "near" diagonals): a piece's step 2 needs alpha_{n+1} up
# to ``bw`` rows past its end, and overwrites alpha_n rows that nothing reads any more once step 1
# has passed ``bw`` rows beyond them. So the rows between the two fronts (about 2 bw) are read
# from cache by step 2, and each pass moves X and P once for two steps instead of twice.
# Pieces with a "far" diagonal (|offset| > bw, the periodic wrap of a lattice) and pieces that
# such a diagonal reads are "deferred": their step 2 runs after step 1 has finished everywhere.

@njit(cache=True, nogil=True)
def _deferred_pieces(lo, hi, ptr, offsets, values, n, near):
    """Mask of the pieces whose step 2 must wait for the whole of step 1 (see above), and the
    largest |offset| of the other diagonals (the lag ``bw``)."""
    count = lo.shape[0]
    read_far = np.zeros(n, dtype=np.bool_)
    deferred = np.zeros(count, dtype=np.bool_)
    bw = 0
    for p in range(count):
        for g in range(ptr[p], ptr[p + 1]):
            if values[g] == 0:
                continue
            o = offsets[g]
            if abs(o) > near:
                deferred[p] = True
                for r in range(lo[p] + o, hi[p] + o):
                    read_far[r] = True
            else:
                bw = max(bw, abs(o))
    for p in range(count):
        for r in range(lo[p], hi[p]):
            if read_far[r]:
                deferred[p] = True
                break
    return deferred, bw


@njit(cache=True, nogil=True, fastmath=_FM)
def cheb_two_steps_pieces(lo, hi, ptr, offsets, values, deferred, bw, X, P, c1, c2, nn1, nx1, nn2, nx2):
    """Two steps of :func:`cheb_step_pieces` in one pass (temporal blocking, see above): ``P <- c1 A X
    + c2 X - P`` with ``nn1 = <P|P>``, ``nx1 = <P|X>``, then ``X <- c1 A P + c2 P - X`` with
    ``nn2 = <X|X>``, ``nx2 = <X|P>``. ``deferred``, ``bw`` from :func:`two_step_plan`. Returns 0."""
    count = lo.shape[0]
    n, W = P.shape
    Xf = X.reshape(-1)
    Pf = P.reshape(-1)
    longest = np.int64(1)
    for p in range(count):
        longest = max(longest, hi[p] - lo[p])
    A1 = np.zeros(longest * W)
    A2 = np.zeros(longest * W, dtype=P.dtype)
    B1 = np.zeros(longest * W)
    B2 = np.zeros(longest * W, dtype=P.dtype)
    q = 0
    for p in range(count):
        _piece_range(lo, hi, ptr, offsets, values, Xf, Pf, W, c1, c2, 1.0, p, p + 1, A1, A2)
        while q <= p and hi[q] + bw <= hi[p]:
            if not deferred[q]:
                _piece_range(lo, hi, ptr, offsets, values, Pf, Xf, W, c1, c2, 1.0, q, q + 1, B1, B2)
            q += 1
    for r in range(q, count):
        if not deferred[r]:
            _piece_range(lo, hi, ptr, offsets, values, Pf, Xf, W, c1, c2, 1.0, r, r + 1, B1, B2)
    for r in range(count):
        if deferred[r]:
            _piece_range(lo, hi, ptr, offsets, values, Pf, Xf, W, c1, c2, 1.0, r, r + 1, B1, B2)
    nn1[:] = 0.0
    nx1[:] = 0.0
    nn2[:] = 0.0
    nx2[:] = 0.0
    _column_sums(A1, longest, W, nn1)
    _column_sums(A2, longest, W, nx1)
    _column_sums(B1, longest, W, nn2)
    _column_sums(B2, longest, W, nx2)
    return 0


class TwoStepPlan:
    """What :func:`cheb_two_steps_pieces` needs besides the pieces: the ``deferred`` mask and the lag
    ``bw`` (rows); ``deferred_rows`` counts the rows whose second step is deferred."""

    def __init__(self, deferred, bw, deferred_rows):
        self.deferred, self.bw, self.deferred_rows = deferred, int(bw), int(deferred_rows)


def two_step_plan(pieces, near: int = 1024):
    """:class:`TwoStepPlan` of :class:`DiagonalPieces`, diagonals with |offset| <= ``near`` rows
    counting as near (the window between the two fronts, about 2 ``near`` rows of X and P, should
    fit in L2)."""
    deferred, bw = _deferred_pieces(pieces.lo, pieces.hi, pieces.ptr, pieces.offsets, pieces.values, pieces.n,
                                    near)
    rows = int(np.sum((pieces.hi - pieces.lo)[deferred])) if len(deferred) else 0
    return TwoStepPlan(deferred, bw, rows)

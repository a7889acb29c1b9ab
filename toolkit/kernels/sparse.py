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

Block width: LLVM vectorises the inner loop over the S vectors well only for some widths
(measured on AVX2, znver3, 512x512 square lattice, one core, ms per ``cheb_step``: S = 8: 11.3,
S = 10: 12.8, S = 12: 8.8, S = 16: 9.5); :func:`block_width` gives the width a caller should pad
its block to (with zero columns, which stay zero through every kernel here).

Each kernel has a ``parallel=True`` twin (suffix ``_parallel``, rows split over threads) and
a NumPy/SciPy reference (suffix ``_reference``). Real and complex matrices and vectors all
work (numba compiles one specialisation per dtype combination); pass float64/complex128 data
and int64 indices so each compiles once.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import FASTMATH

__all__ = ["csr_matmat", "csr_matmat_parallel", "csr_matmat_reference",
           "cheb_step", "cheb_step_parallel", "cheb_step_reference", "as_csr_arrays", "block_width"]

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
    _cheb_rows(indptr, indices, data, X, P, c1, c2, 0, n, nn, nx)
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

"""KPM sweeps on a Kondo matrix by its structure: uniform hoppings x 1_2 plus on-site 2x2 blocks.

The Kondo / double-exchange matrix (orbital ``2 i + sigma``, :mod:`.kondo`)

    H = H0 (x) 1_2 + sum_i B_i,        B_i = eps_i 1_2 - J S_i . sigma      (on site i)

is where spin dynamics spends its time: one moment sweep and one gradient sweep
(:func:`.chebyshev.gradient_sweep`) per force evaluation. On CSR its step is slow: the on-site
blocks differ from site to site, so the matrix has no constant-coefficient diagonal pieces
(:func:`toolkit.kernels.sparse.diagonal_pieces`) and every complex entry multiplies every complex
column. Split by structure, the hopping part ``H0`` (site graph, without its diagonal; real) of a
lattice in natural order *is* a few constant pieces per lattice row, applied to a site's whole row
of numbers at once, and the on-site part is one 2x2 complex block per site, read from the matrix's
CSR data at every step (a spin update that rewrites the data, :class:`.kondo.KondoBlocks`, needs
nothing else).

Layout ("planar"): the vectors of a site are stored as four planes of ``Q`` real numbers,
``[Re up | Im up | Re down | Im down]``, so every loop below runs over contiguous, equally strided
numbers that LLVM vectorises (with complex numbers interleaved, the on-site product did not).
One step, :func:`kondo_rows`, piece by piece,

    P <- c1 H X + c2 X - P  (+ cs R on the last S columns of each plane)

with, when asked, the per-column sums ``|P|^2`` and ``Re P^* X`` of the moment-doubling identities
(``Im <P|X>`` vanishes for a Hermitian H: ``r^dag T_m(H) T_n(H) r`` is real), and the on-site blocks
of ``sum_s alpha_s lambda_s^dag`` for the gradient.

The gradient sweep (Wang, Chern, Batista & Barros, J. Chem. Phys. 148, 094107 (2018),
doi:10.1063/1.5017741) runs its two backward recursions,

    alpha_{n-1} = 2 H~ alpha_n - alpha_{n+1},      lambda_n = c_n r + 2 H~ lambda_{n+1} - lambda_{n+2},

as *one* recursion on the block ``Z = [alpha | lambda]`` of width ``Q = 2 S`` (same matrix, same
form; the source only on lambda's columns), and adds ``w_n alpha_n lambda_{n+1}^dag`` on the on-site
blocks while ``Z_n = [alpha_n | lambda_{n+1}]`` is being read for the step: one pass over memory per
n instead of two steps and a pattern sum. The forward recursion that gives ``alpha_{K-2}`` and
``alpha_{K-1}`` is the moment sweep's, continued (:meth:`KondoSweeps.moments` with ``tail=True``):
no separate forward pass.

The vectors run in column groups (:meth:`KondoSweeps.column_groups`: narrow enough to stay in cache),
each group's recursion one numba call; in parallel the groups run concurrently on numba's threads.

Measured (48 x 48 triangular Kondo lattice, 4608 orbitals, 200 moments, GradientProbing(distance=2):
18 vectors, one core of the Zen 4 VM): a force evaluation took 0.46 s on CSR (the step 0.55 ms, the
gradient sweep 85 % of it), 0.23 s with the structure but interleaved complex numbers, 0.15 s planar
and fused; per step of 18 columns the hopping takes ~0.09 ms (loads: six streams per number) and
the on-site pass ~0.09 ms (loops of Q = 18 numbers per site carry their set-up).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from numba import get_num_threads, njit

from toolkit.kernels import FASTMATH
from toolkit.kernels.sparse import diagonal_pieces

from .series import CACHE_BUDGET

__all__ = ["KondoLayout", "kondo_layout", "kondo_rows", "KondoSweeps", "onsite_positions", "KONDO_MIN_ROWS"]

_FM = set(FASTMATH)

#: Mean piece length (site rows) below which the structured sweeps are not used (the CSR ones are).
#: 0, no threshold: measured (one core, KPM order 200, GradientProbing(distance=2), ms per force evaluation,
#: structured vs CSR): triangular 6 x 6 (pieces of 2 sites) 6.8 vs 10.4, 9 x 9 (3) 9.7 vs 19.4,
#: square 10 x 10 (3.3) 18.8 vs 38.5, kagome 6 x 6 (1) 13.0 vs 21.2: the on-site blocks, not the
#: pieces, make the difference.
KONDO_MIN_ROWS = 0.0


#: Widest column group (:meth:`KondoSweeps.column_groups`). Wider blocks cost more per column once a
#: site's row of numbers passes ~1 KB (48 x 48 lattice, one core, s per force evaluation; 400 moments,
#: 32 probing vectors: one group 1.02, groups of 16 0.71, of 11 0.69, of 8 0.70), narrower ones pay in
#: short loops (200 moments, 18 vectors: one group 0.149-0.153, two of 9 0.168-0.174, interleaved).
MAX_GROUP_COLUMNS = 24


class KondoLayout:
    """A Kondo matrix's structure: the :class:`~toolkit.kernels.sparse.DiagonalPieces` of ``H0``
    (off-diagonal, site level, real values) and the positions ``(uu, dd, ud, du)`` of the on-site
    block entries in the CSR data."""

    def __init__(self, pieces, positions):
        self.pieces = pieces
        self.positions = positions
        self.sites = pieces.n


def kondo_layout(indptr, indices, data, min_rows: float = KONDO_MIN_ROWS):
    """The :class:`KondoLayout` of a square CSR matrix, or None when it is not ``H0 (x) 1_2`` plus
    on-site blocks with a real ``H0`` whose pieces are at least ``min_rows`` sites long on average.

    Every entry between two sites must be spin-diagonal and equal for both spins, and every site
    must store all four entries of its on-site block (the Kondo matrices of
    :func:`problems.tight_binding.kondo_hamiltonian` do, whatever the spins)."""
    M = len(indptr) - 1
    if M < 2 or M % 2:
        return None
    coo = sp.csr_matrix((data, indices, indptr), shape=(M, M)).tocoo()   # entry k is data[k]
    r, c, v = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    onsite = r // 2 == c // 2
    if np.count_nonzero(onsite) != 2 * M:
        return None
    ro, co, vo = r[~onsite], c[~onsite], v[~onsite]
    if np.any(ro % 2 != co % 2):                          # spin flips between sites
        return None
    if np.iscomplexobj(vo) and np.any(vo.imag != 0):      # Peierls phases: keep the CSR sweeps
        return None
    vo = np.real(vo).astype(np.float64)
    up = ro % 2 == 0
    N = M // 2
    H0 = sp.csr_matrix((vo[up], (ro[up] // 2, co[up] // 2)), shape=(N, N))
    down = sp.csr_matrix((vo[~up], (ro[~up] // 2, co[~up] // 2)), shape=(N, N))
    if (H0 - down).count_nonzero():                       # both spins must hop alike
        return None
    H0.sort_indices()
    pieces = diagonal_pieces(H0.indptr.astype(np.int64), H0.indices.astype(np.int64), H0.data)
    if pieces.mean_rows < min_rows:
        return None
    keys = r * M + c
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    i = np.arange(N, dtype=np.int64)

    def position(rows, cols):
        return order[np.searchsorted(sorted_keys, rows * M + cols)].astype(np.int64)

    return KondoLayout(pieces, (position(2 * i, 2 * i), position(2 * i + 1, 2 * i + 1),
                                position(2 * i, 2 * i + 1), position(2 * i + 1, 2 * i)))


def onsite_positions(rows, cols, M):
    """Positions ``(uu, dd, ud, du)`` of the on-site block entries in a sorted density-matrix pattern
    that holds exactly those (``pattern="onsite"`` of a Kondo problem), else None."""
    N = M // 2
    if M % 2 or len(rows) != 4 * N:
        return None
    i = np.arange(N, dtype=np.int64)
    want_rows = np.repeat(np.arange(M, dtype=np.int64), 2)
    want_cols = np.stack([2 * i, 2 * i + 1, 2 * i, 2 * i + 1], axis=1).reshape(-1)
    if not (np.array_equal(rows, want_rows) and np.array_equal(cols, want_cols)):
        return None
    return 4 * i, 4 * i + 3, 4 * i + 1, 4 * i + 2


@njit(cache=True, nogil=True, fastmath=_FM, inline="always")
def _onsite_product(xs, ps, r, n, uur, uui, ddr, ddi, udr, udi, dur, dui):
    """``P <- B X - P`` on columns ``0 .. n-1`` of site row r (planes: Re up, Im up, Re down, Im down;
    B's entries (uu, dd, ud, du) as (re, im), the step's ``c2`` already on the diagonal)."""
    for q in range(n):
        a0 = xs[r, 0, q]
        a1 = xs[r, 1, q]
        a2 = xs[r, 2, q]
        a3 = xs[r, 3, q]
        ps[r, 0, q] = uur * a0 - uui * a1 + udr * a2 - udi * a3 - ps[r, 0, q]
        ps[r, 1, q] = uur * a1 + uui * a0 + udr * a3 + udi * a2 - ps[r, 1, q]
        ps[r, 2, q] = dur * a0 - dui * a1 + ddr * a2 - ddi * a3 - ps[r, 2, q]
        ps[r, 3, q] = dur * a1 + dui * a0 + ddr * a3 + ddi * a2 - ps[r, 3, q]


@njit(cache=True, nogil=True, fastmath=_FM)
def kondo_rows(r0, r1, lo, hi, ptr, offsets, values, uu, dd, ud, du, data, X, P, R, Q, S, c1, c2, cs, dots,
               D1, D2, wacc, acc):
    """Pieces ``r0 <= p < r1`` of the planar step (module docstring) on flat float64 blocks ``X``, ``P``
    (``4 Q`` numbers per site) and ``R`` (``4 S``): ``P <- c1 H X + c2 X - P``.

    Gradient mode (``cs != 0`` or ``wacc != 0``; ``Q = 2 S``, X = [alpha | lambda]): also adds
    ``cs R`` to the lambda columns and ``wacc sum_s alpha_s lambda_s^*`` to ``acc[i]`` = (uu, dd, ud,
    du) as (re, im) pairs. With ``dots``, row ``p`` of ``D1``, ``D2`` gets the per-column sums of
    ``|P|^2`` and ``P X`` over piece p. Returns 0."""
    W = 4 * Q
    n = X.shape[0] // W
    X3 = X.reshape((n, 4, Q))
    P3 = P.reshape((n, 4, Q))
    R3 = R.reshape((R.shape[0] // (4 * S), 4, S))
    gradient = cs != 0.0 or wacc != 0.0
    t1 = np.zeros(Q)
    t2 = np.zeros(Q)
    for p in range(r0, r1):
        xs = X3[lo[p]:hi[p]]
        ps = P3[lo[p]:hi[p]]
        for r in range(hi[p] - lo[p]):
            i = lo[p] + r
            b_uu = c1 * data[uu[i]]
            b_dd = c1 * data[dd[i]]
            b_ud = c1 * data[ud[i]]
            b_du = c1 * data[du[i]]
            uur, uui, ddr, ddi = b_uu.real + c2, b_uu.imag, b_dd.real + c2, b_dd.imag
            udr, udi, dur, dui = b_ud.real, b_ud.imag, b_du.real, b_du.imag
            if not gradient:
                _onsite_product(xs, ps, r, Q, uur, uui, ddr, ddi, udr, udi, dur, dui)
                continue
            s_uur = 0.0
            s_uui = 0.0
            s_ddr = 0.0
            s_ddi = 0.0
            s_udr = 0.0
            s_udi = 0.0
            s_dur = 0.0
            s_dui = 0.0
            for q in range(S):                       # the sums alpha lambda^* (reads only: vectorises)
                a0 = xs[r, 0, q]
                a1 = xs[r, 1, q]
                a2 = xs[r, 2, q]
                a3 = xs[r, 3, q]
                l0 = xs[r, 0, S + q]
                l1 = xs[r, 1, S + q]
                l2 = xs[r, 2, S + q]
                l3 = xs[r, 3, S + q]
                s_uur += a0 * l0 + a1 * l1
                s_uui += a1 * l0 - a0 * l1
                s_ddr += a2 * l2 + a3 * l3
                s_ddi += a3 * l2 - a2 * l3
                s_udr += a0 * l2 + a1 * l3
                s_udi += a1 * l2 - a0 * l3
                s_dur += a2 * l0 + a3 * l1
                s_dui += a3 * l0 - a2 * l1
            _onsite_product(xs, ps, r, S, uur, uui, ddr, ddi, udr, udi, dur, dui)     # alpha columns
            acc[i, 0] += wacc * s_uur
            acc[i, 1] += wacc * s_uui
            acc[i, 2] += wacc * s_ddr
            acc[i, 3] += wacc * s_ddi
            acc[i, 4] += wacc * s_udr
            acc[i, 5] += wacc * s_udi
            acc[i, 6] += wacc * s_dur
            acc[i, 7] += wacc * s_dui
            for q in range(S):                       # lambda columns, with the source
                a0 = xs[r, 0, S + q]
                a1 = xs[r, 1, S + q]
                a2 = xs[r, 2, S + q]
                a3 = xs[r, 3, S + q]
                ps[r, 0, S + q] = uur * a0 - uui * a1 + udr * a2 - udi * a3 - ps[r, 0, S + q] + cs * R3[i, 0, q]
                ps[r, 1, S + q] = uur * a1 + uui * a0 + udr * a3 + udi * a2 - ps[r, 1, S + q] + cs * R3[i, 1, q]
                ps[r, 2, S + q] = dur * a0 - dui * a1 + ddr * a2 - ddi * a3 - ps[r, 2, S + q] + cs * R3[i, 2, q]
                ps[r, 3, S + q] = dur * a1 + dui * a0 + ddr * a3 + ddi * a2 - ps[r, 3, S + q] + cs * R3[i, 3, q]
        _hop(lo[p] * W, hi[p] * W, ptr[p], ptr[p + 1], offsets, values, X, P, W, c1)
        if dots:                                     # per piece: the same sums on any number of threads
            t1[:] = 0.0
            t2[:] = 0.0
            for r in range(hi[p] - lo[p]):
                for k in range(4):
                    for q in range(Q):
                        t1[q] += ps[r, k, q] * ps[r, k, q]
                        t2[q] += ps[r, k, q] * xs[r, k, q]
            D1[p, :] = t1
            D2[p, :] = t2
    return 0


@njit(cache=True, nogil=True, fastmath=_FM)
def _hop(a, b, g0, g1, offsets, values, X, P, W, c1):
    """``P[a:b] += c1 sum_g v_g X[a + o_g W : b + o_g W]`` over the piece's diagonals ``g0 .. g1 - 1``
    (groups of four, zero-padded): six at once when the last group holds two (triangular and cubic
    lattices), two when a group's last two are padding."""
    m = b - a
    ps = P[a:b]
    g = g0
    if g1 - g0 == 8 and values[g0 + 6] == 0.0 and values[g0 + 7] == 0.0:
        w0 = c1 * values[g]
        w1 = c1 * values[g + 1]
        w2 = c1 * values[g + 2]
        w3 = c1 * values[g + 3]
        w4 = c1 * values[g + 4]
        w5 = c1 * values[g + 5]
        x0 = X[a + offsets[g] * W:b + offsets[g] * W]
        x1 = X[a + offsets[g + 1] * W:b + offsets[g + 1] * W]
        x2 = X[a + offsets[g + 2] * W:b + offsets[g + 2] * W]
        x3 = X[a + offsets[g + 3] * W:b + offsets[g + 3] * W]
        x4 = X[a + offsets[g + 4] * W:b + offsets[g + 4] * W]
        x5 = X[a + offsets[g + 5] * W:b + offsets[g + 5] * W]
        for q in range(m):
            ps[q] += w0 * x0[q] + w1 * x1[q] + w2 * x2[q] + w3 * x3[q] + w4 * x4[q] + w5 * x5[q]
        return 0
    for g in range(g0, g1, 4):
        w0 = c1 * values[g]
        w1 = c1 * values[g + 1]
        w2 = c1 * values[g + 2]
        w3 = c1 * values[g + 3]
        x0 = X[a + offsets[g] * W:b + offsets[g] * W]
        x1 = X[a + offsets[g + 1] * W:b + offsets[g + 1] * W]
        if w2 == 0.0 and w3 == 0.0:
            for q in range(m):
                ps[q] += w0 * x0[q] + w1 * x1[q]
        else:
            x2 = X[a + offsets[g + 2] * W:b + offsets[g + 2] * W]
            x3 = X[a + offsets[g + 3] * W:b + offsets[g + 3] * W]
            for q in range(m):
                ps[q] += w0 * x0[q] + w1 * x1[q] + w2 * x2[q] + w3 * x3[q]
    return 0


def to_planar(Z, Q=None, offset=0, out=None):
    """The (2N, S) block ``Z`` (real or complex) as a flat planar float64 block of ``4 Q`` numbers per
    site, its S columns at ``offset .. offset + S - 1`` of each plane (the rest zero, or ``out``'s)."""
    M, S = Z.shape
    N = M // 2
    Q = S if Q is None else Q
    if out is None:
        out = np.zeros(N * 4 * Q)
    planes = out.reshape(N, 4, Q)
    Zs = Z.reshape(N, 2, S)
    planes[:, 0, offset:offset + S] = Zs[:, 0].real
    planes[:, 2, offset:offset + S] = Zs[:, 1].real
    if np.iscomplexobj(Z):
        planes[:, 1, offset:offset + S] = Zs[:, 0].imag
        planes[:, 3, offset:offset + S] = Zs[:, 1].imag
    return out


def from_planar(F, S, Q=None, offset=0):
    """The complex (2N, S) block held in columns ``offset ..`` of the planar block ``F``."""
    Q = S if Q is None else Q
    planes = F.reshape(-1, 4, Q)[:, :, offset:offset + S]
    Z = np.empty((planes.shape[0], 2, S), dtype=np.complex128)
    Z[:, 0] = planes[:, 0] + 1j * planes[:, 1]
    Z[:, 1] = planes[:, 2] + 1j * planes[:, 3]
    return Z.reshape(-1, S)


@njit(cache=True, nogil=True)
def _piece_sums(D, out):
    """``out[q] = sum_p D[p, q]``, pieces in order (the same sum serial and parallel)."""
    out[:] = 0.0
    for p in range(D.shape[0]):
        for q in range(D.shape[1]):
            out[q] += D[p, q]
    return 0


@njit(cache=True, nogil=True)
def _moment_recursion(lo, hi, ptr, offsets, values, uu, dd, ud, du, data, X, P, S, a, b, tail, mu):
    """The serial moment recursion of :meth:`KondoSweeps.moments` in one call (no Python per step):
    X = alpha_0 (planar) on entry, P workspace; fills ``mu`` (S x order); returns
    ``(alpha_{K-2}, alpha_{K-1})`` when ``tail`` (else the last two terms formed)."""
    order = mu.shape[1]
    pieces = lo.shape[0]
    D1 = np.zeros((pieces, S))
    D2 = np.zeros((pieces, S))
    nn = np.zeros(S)
    nx = np.zeros(S)
    no_acc = np.zeros((0, 8))
    first, none, yes = np.int64(0), np.float64(0.0), np.bool_(True)       # typed: no literal compilations
    kondo_rows(first, pieces, lo, hi, ptr, offsets, values, uu, dd, ud, du, data, X, P, X, S, S, 1.0 / a, -b / a,
               none, yes, D1, D2, none, no_acc)                             # P = alpha_1 = H~ r
    _piece_sums(D1, nn)
    _piece_sums(D2, nx)
    mu1 = nx.copy()
    mu[:, 1] = mu1
    if order > 2:
        mu[:, 2] = 2.0 * nn - mu[:, 0]
    X, P = P, X                                                             # X = alpha_1, P = alpha_0
    n = 1
    c1, c2 = 2.0 / a, -2.0 * b / a
    while 2 * n + 1 < order or (tail and n < order - 1):
        sums = 2 * n + 1 < order
        kondo_rows(first, pieces, lo, hi, ptr, offsets, values, uu, dd, ud, du, data, X, P, X, S, S, c1, c2, none,
                   sums, D1, D2, none, no_acc)                              # P = alpha_{n+1}
        if sums:
            _piece_sums(D1, nn)
            _piece_sums(D2, nx)
            mu[:, 2 * n + 1] = 2.0 * nx - mu1
            if 2 * n + 2 < order:
                mu[:, 2 * n + 2] = 2.0 * nn - mu[:, 0]
        X, P = P, X
        n += 1
    return P, X


@njit(cache=True, nogil=True)
def _gradient_recursion(lo, hi, ptr, offsets, values, uu, dd, ud, du, data, Z, Zp, Rp, S, c1, c2, coef, w2, acc):
    """The serial backward loop of :meth:`KondoSweeps.gradient` (n = K-2 .. 1) in one call; returns the
    block ``[alpha_0 | lambda_1]``."""
    pieces = lo.shape[0]
    empty = np.zeros((0, 0))
    first, no = np.int64(0), np.bool_(False)               # typed: no literal compilations
    for n in range(coef.shape[0] - 2, 0, -1):
        kondo_rows(first, pieces, lo, hi, ptr, offsets, values, uu, dd, ud, du, data, Z, Zp, Rp, 2 * S, S, c1, c2,
                   coef[n], no, empty, empty, w2, acc)
        Z, Zp = Zp, Z
    return Z


class KondoSweeps:
    """The moment and gradient sweeps on a :class:`KondoLayout`, reading the on-site blocks from the
    matrix's live CSR ``data`` (module docstring). The vectors run in column groups
    (:meth:`column_groups`), each group's recursion one numba call (:func:`_moment_recursion`,
    :func:`_gradient_recursion`). ``parallel``: at least one group per numba thread, the groups run
    concurrently on a thread pool (the kernels release the GIL; no synchronisation per step); the
    on-site sums are added group by group in order, so a parallel run is deterministic and equals a
    serial one to rounding (the grouping differs)."""

    def __init__(self, layout: KondoLayout, data, parallel: bool):
        self.layout = layout
        self.data = data
        self.parallel = bool(parallel)
        pc = layout.pieces
        self._matrix = (pc.lo, pc.hi, pc.ptr, pc.offsets, pc.values) + tuple(layout.positions)

    def step(self, X, P, Q, S, c1, c2, R=None, cs=0.0, dots=None, wacc=0.0, acc=None):
        """One :func:`kondo_rows` over all pieces (serial); returns ``(sum |P|^2, sum P X)`` per column
        with ``dots``."""
        pieces = len(self.layout.pieces.lo)
        D1 = np.zeros((pieces, Q) if dots else (0, 0))   # a row per piece
        D2 = np.zeros_like(D1)
        kondo_rows(0, pieces, *self._matrix, self.data, X, P, X if R is None else R, Q, S, float(c1), float(c2),
                   float(cs) if R is not None else 0.0, bool(dots), D1, D2, float(wacc),
                   np.zeros((0, 8)) if acc is None else acc)
        if not dots:
            return None
        nn, nx = np.zeros(Q), np.zeros(Q)
        _piece_sums(D1, nn)
        _piece_sums(D2, nx)
        return nn, nx

    def column_groups(self, S):
        """Column ranges ``(s0, s1)``, each an independent recursion (only the coefficients, known before
        the backward sweep, join the vectors): at most :data:`MAX_GROUP_COLUMNS` wide, small enough that
        the backward recursion's blocks of a group (Z and Zp, 8 numbers per site and column each, R 4)
        fit :data:`.series.CACHE_BUDGET` and stay in the last-level cache for all ``order`` steps, and,
        ``parallel``, at least one per numba thread. Measured (18 probing vectors, 200 moments, one core,
        another job on the second core, s per force evaluation): 96 x 96 one group 0.94, three of 6
        columns (12 MB) 0.78, five (6 MB) 0.86; 72 x 72: 0.40, two of 9 0.39, three 0.43 (narrow groups
        pay in short loops)."""
        per_column = self.layout.sites * 20 * 8
        width = max(1, min(S, MAX_GROUP_COLUMNS, CACHE_BUDGET // per_column))
        if self.parallel:
            width = max(1, min(width, -(-S // get_num_threads())))
        groups = -(-S // width)
        width = -(-S // groups)                          # equal groups
        return [(s0, min(S, s0 + width)) for s0 in range(0, S, width)]

    def _run(self, work, items):
        """``[work(*item) for item in items]``, concurrently when parallel."""
        if not self.parallel or len(items) < 2:
            return [work(*item) for item in items]
        with ThreadPoolExecutor(max_workers=min(len(items), get_num_threads())) as pool:
            return list(pool.map(lambda item: work(*item), items))

    def moments(self, R, order, a, b, tail=False):
        """Per-vector moments ``r_s^dag T_n(H~) r_s`` (S x order) by doubling, ``H~ = (H - b)/a``;
        with ``tail`` the recursion goes on (without sums) to ``alpha_{K-2}``, ``alpha_{K-1}``, returned
        per column group (:meth:`column_groups`) as planar blocks for :meth:`gradient` (else None)."""
        S = R.shape[1]
        groups = self.column_groups(S)
        done = self._run(self._moments, [(R[:, s0:s1], order, a, b, tail) for s0, s1 in groups])
        mu = np.concatenate([m for m, _ in done], axis=0)
        return mu, ([ends for _, ends in done] if tail else None)

    def _moments(self, R, order, a, b, tail):
        S = R.shape[1]
        X = to_planar(R)                                 # alpha_0 (becomes workspace)
        mu = np.zeros((S, order))
        mu[:, 0] = (X * X).reshape(-1, S).sum(axis=0)
        if order == 1:
            return mu, ((X, np.zeros_like(X)) if tail else None)
        ends = _moment_recursion(*self._matrix, self.data, X, np.zeros_like(X), S, float(a), float(b), bool(tail), mu)
        return mu, (ends if tail else None)

    def gradient(self, tails, R, coef, a, b, weight, out, positions):
        """Adds ``weight * dOmega~/dH`` (as :func:`.chebyshev.gradient_sweep`) on the on-site blocks at
        ``positions = (uu, dd, ud, du)`` of ``out``; ``tails`` from :meth:`moments` of the same R."""
        if len(coef) < 2:
            return
        coef = np.ascontiguousarray(coef, dtype=np.float64)
        groups = self.column_groups(R.shape[1])
        sums = self._run(self._gradient, [(tail, R[:, s0:s1], coef, a, b, weight)
                                          for (s0, s1), tail in zip(groups, tails)])
        acc = sums[0]
        for more in sums[1:]:
            acc += more
        uu, dd, ud, du = positions
        for k, pos in enumerate((uu, dd, ud, du)):
            if np.iscomplexobj(out):
                out[pos] += acc[:, 2 * k] + 1j * acc[:, 2 * k + 1]
            else:
                out[pos] += acc[:, 2 * k]

    def _gradient(self, tail, R, coef, a, b, weight):
        """The backward recursion of one column group; returns its on-site sums (N x 8)."""
        K = len(coef)
        M, S = R.shape
        N = M // 2
        A_prev, A_last = tail                            # alpha_{K-2}, alpha_{K-1}
        Q = 2 * S
        Z = np.zeros(N * 4 * Q)                          # [alpha_n | lambda_{n+1}]
        Zp = np.zeros(N * 4 * Q)                         # [alpha_{n+1} | lambda_{n+2}]
        _place(Z, A_prev, S, Q, 0)
        _place(Zp, A_last, S, Q, 0)
        Rp = to_planar(R)
        _place(Z, Rp * coef[K - 1], S, Q, S)             # lambda_{K-1} = c_{K-1} r
        acc = np.zeros((N, 8))
        w_scale = weight / a
        Z = _gradient_recursion(*self._matrix, self.data, Z, Zp, Rp, S, 2.0 / a, -2.0 * b / a, coef,
                                2.0 * w_scale, acc)
        _onsite_sums(Z, S, Q, w_scale, acc)              # n = 0: alpha_0 lambda_1^dag, weight 1
        return acc


def _place(Z, F, S, Q, offset):
    """Write the planar block F (4 S per site) into columns ``offset ..`` of the planar block Z (4 Q)."""
    Z.reshape(-1, 4, Q)[:, :, offset:offset + S] = F.reshape(-1, 4, S)


def _onsite_sums(Z, S, Q, w, acc):
    """``acc += w sum_s alpha lambda^dag`` on the on-site blocks of ``Z = [alpha | lambda]`` (NumPy)."""
    planes = Z.reshape(-1, 4, Q)
    al = planes[:, :, :S]
    la = planes[:, :, S:2 * S]
    alpha = (al[:, 0] + 1j * al[:, 1], al[:, 2] + 1j * al[:, 3])
    lam = (la[:, 0] + 1j * la[:, 1], la[:, 2] + 1j * la[:, 3])
    for k, (x, y) in enumerate(((0, 0), (1, 1), (0, 1), (1, 0))):
        v = w * np.sum(alpha[x] * np.conj(lam[y]), axis=1)
        acc[:, 2 * k] += v.real
        acc[:, 2 * k + 1] += v.imag

"""The kernel polynomial method: spectral bounds, damping kernels, expansion coefficients, sweeps.

With ``H~ = (H - b)/a`` mapping the spectrum into (-1, 1), a function of H is expanded as
``F(H) = sum_n c_n g_n T_n(H~)`` with Chebyshev polynomials ``T_{n+1} = 2 x T_n - T_{n-1}``, the
moments ``mu_n = Tr T_n(H~)`` and damping factors ``g_n`` (Jackson, Lorentz or none); Weisse,
Wellein, Alvermann & Fehske, Rev. Mod. Phys. 78, 275 (2006), doi:10.1103/RevModPhys.78.275.

* DOS: ``rho(E) = [g_0 mu_0 + 2 sum_n g_n mu_n T_n(x)] / (pi a sqrt(1 - x^2))``, x = (E - b)/a.
* moments with the doubling trick, ``mu_2n = 2<a_n|a_n> - mu_0``, ``mu_2n+1 = 2<a_n+1|a_n> - mu_1``,
  so ``order`` moments cost ``order/2`` sparse products (:func:`moment_sweep`).
* the density matrix on a pattern, directly ``rho_ij ~ (f(H) r)_i r_j^*`` (:func:`direct_sweep`),
  or as the gradient of ``Omega~ = r^dag g(H) r`` with respect to H by reverse-mode
  differentiation of the recursion, run backwards so memory stays O(M S) (:func:`gradient_sweep`;
  Wang, Chern, Batista & Barros, J. Chem. Phys. 148, 094107 (2018), doi:10.1063/1.5017741).

No damping for smooth finite-temperature functions (it spoils exponential convergence); Jackson
for the DOS and for zero-temperature step functions.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.linalg
from numba import njit, prange
from scipy.special import expit

from toolkit.kernels import FASTMATH
from toolkit.kernels.sparse import (as_csr_arrays, block_width, cheb_step, cheb_step_parallel, cheb_step_pieces,
                                   cheb_step_pieces_parallel, cheb_two_steps_pieces, csr_matmat, csr_matmat_parallel,
                                   diagonal_pieces, piece_rows, two_step_plan)

from .kondo_sweeps import KondoSweeps, kondo_layout
from .series import column_width, series_kernel

__all__ = ["lanczos_bounds", "gershgorin_bounds", "damping", "chebyshev_coefficients", "fermi_coefficients",
           "grand_coefficients", "fermi_sum", "moment_sweep", "direct_sweep", "gradient_sweep", "dos_from_moments",
           "pattern_accumulate", "pattern_accumulate_reference"]

_FM = set(FASTMATH)


# ---------------------------------------------------------------------------------------
# spectral bounds

@njit(cache=True, nogil=True, fastmath=_FM)
def _lanczos(indptr, indices, data, q, steps, alphas, betas):
    """Plain Lanczos from unit vector ``q``: fills alphas/betas, returns the steps done.

    Two passes over the vectors per step (product fused with alpha, then the orthogonalisation
    fused with the norm); the three vectors rotate instead of being copied. ``q`` is used as
    workspace."""
    n = q.shape[0]
    q_prev = np.zeros_like(q)
    w = np.empty_like(q)
    beta = 0.0
    for m in range(steps):
        alpha = 0.0
        for i in range(n):
            acc = 0.0 * q[0]
            for k in range(indptr[i], indptr[i + 1]):
                acc += data[k] * q[indices[k]]
            wi = acc - beta * q_prev[i]
            w[i] = wi
            alpha += (np.conj(q[i]) * wi).real
        norm2 = 0.0
        for i in range(n):
            wi = w[i] - alpha * q[i]
            w[i] = wi
            norm2 += (np.conj(wi) * wi).real
        alphas[m] = alpha
        beta = np.sqrt(norm2)
        betas[m] = beta
        if beta < 1e-12 * max(1.0, abs(alpha)):
            betas[m] = 0.0
            return m + 1
        inv = 1.0 / beta
        for i in range(n):
            w[i] *= inv
        q_prev, q, w = q, w, q_prev
    return steps


@njit(cache=True, nogil=True, fastmath=_FM)
def _lanczos_pieces(lo, hi, ptr, offsets, values, q, steps, alphas, betas):
    """:func:`_lanczos` with the product on diagonal pieces (:func:`toolkit.kernels.sparse.diagonal_pieces`):
    ``w = H q - beta q_prev`` and ``alpha = <w|q>`` in one pass that reads no matrix; then the
    orthogonalisation fused with the norm, then the scaling. ``q`` is used as workspace."""
    n = q.shape[0]
    Q = q.reshape((n, 1))
    W = np.zeros_like(Q)                      # q_prev, overwritten by w
    nn = np.zeros(1)
    nx = np.zeros(1, dtype=q.dtype)
    beta = 0.0
    for m in range(steps):
        nn[0] = 0.0
        nx[0] = 0.0
        piece_rows(lo, hi, ptr, offsets, values, Q, W, 1.0, 0.0, beta, np.int64(0), lo.shape[0], nn, nx)
        alpha = nx[0].real
        norm2 = 0.0
        for i in range(n):
            wi = W[i, 0] - alpha * Q[i, 0]
            W[i, 0] = wi
            norm2 += (np.conj(wi) * wi).real
        alphas[m] = alpha
        beta = np.sqrt(norm2)
        betas[m] = beta
        if beta < 1e-12 * max(1.0, abs(alpha)):
            betas[m] = 0.0
            return m + 1
        inv = 1.0 / beta
        for i in range(n):
            W[i, 0] *= inv
        Q, W = W, Q
    return steps


def lanczos_bounds(H, steps: int = 40, seed: int = 0, pieces=None):
    """``(emin, emax)`` enclosing the spectrum: Lanczos Ritz extremes widened by their residuals.

    The Ritz value theta with residual |beta_m y_m| has an eigenvalue within the residual; the
    caller pads the interval further (KPM needs the spectrum strictly inside (-1, 1)). ``pieces``:
    H as :class:`~toolkit.kernels.sparse.DiagonalPieces` (the same recursion, a faster product).
    """
    n = H.shape[0]
    m = min(steps, n)
    ip, ix, data = as_csr_arrays(H)
    q = np.random.default_rng(seed).normal(size=n).astype(data.dtype)
    q /= np.sqrt(np.sum(np.abs(q) ** 2))
    alphas, betas = np.zeros(m), np.zeros(m)
    if pieces is None:
        k = _lanczos(ip, ix, data, q, m, alphas, betas)
    else:
        k = _lanczos_pieces(pieces.lo, pieces.hi, pieces.ptr, pieces.offsets, pieces.values, q, m, alphas, betas)
    theta, vecs = scipy.linalg.eigh_tridiagonal(alphas[:k], betas[: k - 1])
    resid = abs(betas[k - 1]) * np.abs(vecs[-1, :])
    return float(theta[0] - resid[0]), float(theta[-1] + resid[-1])


def gershgorin_bounds(H):
    """``(emin, emax)`` from Gershgorin discs (always valid, often loose)."""
    A = H.tocsr()
    diag = A.diagonal().real
    radius = np.asarray(abs(A).sum(axis=1)).ravel() - np.abs(diag)
    return float((diag - radius).min()), float((diag + radius).max())


def scale_from_bounds(emin, emax, pad: float = 0.01):
    """``(a, b)`` with ``H~ = (H - b)/a`` mapping [emin, emax] into [-1 + pad, 1 - pad]."""
    width = max(emax - emin, 1e-12)
    return width / (2.0 * (1.0 - pad)), 0.5 * (emax + emin)


# ---------------------------------------------------------------------------------------
# damping kernels and coefficients

def damping(kind, order: int, lorentz_lambda: float = 4.0) -> np.ndarray:
    """Damping factors g_n, n < order: ``"jackson"``, ``"lorentz"`` or None (all ones); Weisse et al. Eq. (71), (79)."""
    n = np.arange(order)
    if kind is None:
        return np.ones(order)
    if kind == "jackson":
        q = np.pi / (order + 1)
        return ((order - n + 1) * np.cos(q * n) + np.sin(q * n) / np.tan(q)) / (order + 1)
    if kind == "lorentz":
        return np.sinh(lorentz_lambda * (1.0 - n / order)) / np.sinh(lorentz_lambda)
    raise ValueError(f"unknown kernel {kind!r}")


def chebyshev_coefficients(func, order: int, nodes: int | None = None) -> np.ndarray:
    """``c_n`` with ``func(x) ~ sum c_n T_n(x)`` on [-1, 1], by Chebyshev-Gauss quadrature (a DCT)."""
    K = nodes or max(16 * order, 16384)
    x = np.cos(np.pi * (np.arange(K) + 0.5) / K)
    c = scipy.fft.dct(func(x), type=2) / K
    c[0] /= 2.0
    return c[:order]


def fermi_coefficients(order, a, b, mu, kT) -> np.ndarray:
    """Coefficients of the Fermi function ``f(E) = 1/(1 + e^{(E - mu)/kT})`` (a step at kT = 0, exact)."""
    if kT == 0.0:
        m = np.clip((mu - b) / a, -1.0, 1.0)
        th = np.arccos(m)
        n = np.arange(1, order)
        return np.concatenate([[1.0 - th / np.pi], -2.0 * np.sin(n * th) / (n * np.pi)])
    return chebyshev_coefficients(lambda x: expit(-(a * x + b - mu) / kT), order)


def fermi_sum(weights, a, b, kT, nodes: int | None = None):
    """``N(mu) = sum_n w_n c_n(mu)`` (``c_n`` the :func:`fermi_coefficients` at ``kT > 0``) as a function of
    mu, for the chemical-potential root: with the same Chebyshev-Gauss nodes x_k the sum is
    ``sum_k f(x_k; mu) D_k``, ``D = DCT-III(w) / K`` formed once, so each call is one Fermi function on the
    nodes instead of a DCT (the same number to rounding)."""
    order = len(weights)
    K = nodes or max(16 * order, 16384)
    x = np.cos(np.pi * (np.arange(K) + 0.5) / K)
    padded = np.zeros(K)
    padded[:order] = weights
    D = scipy.fft.dct(padded, type=3) / K
    E = a * x + b
    return lambda mu: float(np.dot(expit(-(E - mu) / kT), D))


def grand_coefficients(order, a, b, mu, kT) -> np.ndarray:
    """Coefficients of ``omega(E) = -kT ln(1 + e^{-(E - mu)/kT})`` (``(E - mu) theta(mu - E)`` at kT = 0)."""
    if kT == 0.0:
        return chebyshev_coefficients(lambda x: np.minimum(a * x + b - mu, 0.0), order)
    # min(E - mu, 0) - kT log1p(e^{-|E - mu|/kT}): the same function, finite for every kT > 0
    return chebyshev_coefficients(lambda x: np.minimum(a * x + b - mu, 0.0)
                                  - kT * np.log1p(np.exp(-np.abs(a * x + b - mu) / kT)), order)


def dos_from_moments(moments, g, energies, a, b, total: float) -> np.ndarray:
    """Normalised DOS (integrates to 1) from moments and damping on an energy grid."""
    x = (np.asarray(energies) - b) / a
    inside = np.abs(x) < 1.0
    coef = g * moments
    coef = coef.copy()
    coef[1:] *= 2.0
    out = np.zeros_like(x)
    xi = x[inside]
    out[inside] = np.polynomial.chebyshev.chebval(xi, coef) / (np.pi * np.sqrt(1.0 - xi**2) * a * total)
    return out


# ---------------------------------------------------------------------------------------
# density matrix on a sparsity pattern

@njit(cache=True, nogil=True, fastmath=_FM)
def pattern_accumulate(rows, cols, A, B, w, out):
    """``out[k] += w * sum_s A[rows[k], s] * conj(B[cols[k], s])`` for every pattern entry k."""
    S = A.shape[1]
    for k in range(rows.shape[0]):
        i = rows[k]
        j = cols[k]
        acc = 0.0 * out[k]
        for s in range(S):
            acc += A[i, s] * np.conj(B[j, s])
        out[k] += w * acc
    return 0


@njit(cache=True, nogil=True, fastmath=_FM, parallel=True)
def pattern_accumulate_parallel(rows, cols, A, B, w, out):
    """Parallel twin of :func:`pattern_accumulate`."""
    S = A.shape[1]
    for k in prange(rows.shape[0]):
        i = rows[k]
        j = cols[k]
        acc = 0.0 * out[k]
        for s in range(S):
            acc += A[i, s] * np.conj(B[j, s])
        out[k] += w * acc
    return 0


def pattern_accumulate_reference(rows, cols, A, B, w, out):
    """NumPy reference of :func:`pattern_accumulate` (returns the new ``out``)."""
    return out + w * np.sum(A[rows] * np.conj(B[cols]), axis=1)


#: Mean piece length (rows) from which :class:`_Ops` runs the diagonal-piece Chebyshev step instead
#: of the CSR one. Measured (AMD EPYC, one core, 12 columns, ns per row): CSR 23.5, pieces 10 at a
#: mean of 43 rows (128^2 lattice, in cache); pieces 16-20 against CSR 25-41 at 10.7 rows (32^2);
#: random sparse matrices give about one row per piece and keep CSR.
PIECES_MIN_ROWS = 8.0

#: Widest block the moment sweep runs two steps per pass: the rows between the two fronts
#: (about 2 x 1024 rows of X and P at most, :func:`toolkit.kernels.sparse.two_step_plan`) must stay
#: in the 512 KB L2 cache.
TWO_STEP_MAX_WIDTH = 16

#: Smallest size of X and P together (bytes) from which ``two_steps="auto"`` blocks the sweep
#: (beyond the 32 MB L3 cache a step streams from main memory; in cache blocking only adds work).
TWO_STEP_MIN_BYTES = 16 * 2**20


class _Ops:
    """The sparse kernels (serial or parallel) bound to one CSR matrix and its scaling.

    ``pieces``: ``"auto"`` runs the Chebyshev step on constant-coefficient diagonal pieces
    (:func:`toolkit.kernels.sparse.diagonal_pieces`: lattices in natural order) when their mean
    length is at least :data:`PIECES_MIN_ROWS` rows, else on CSR; ``True``/``False`` force it.
    The piece step needs no padding of the block (its loops run over whole rows of the block).
    ``two_steps``: on pieces (serial), the moment sweep runs two Chebyshev steps per pass over
    memory for blocks of at most :data:`TWO_STEP_MAX_WIDTH` columns
    (:func:`toolkit.kernels.sparse.cheb_two_steps_pieces`, temporal blocking): ``"auto"`` when X
    and P together take at least :data:`TWO_STEP_MIN_BYTES` (they come from main memory), ``True``
    always, ``False`` never. Measured on the 512^2 lattice (42 MB), 256 moments, S = 10, one core,
    interleaved (shared 2-core EPYC), CPU time: 0.578 against 0.612 s, 0.586 against 0.653 s,
    0.496 against 0.555 s (load 4.3-4.8), 0.403 against 0.421 s (load 1.3): a 4-10 % gain, as the
    one-step piece kernel already runs at the triad bandwidth; on 128^2, S = 4 (1 MB, in cache) it
    was slower, 0.12 against 0.09 ms per step.

    ``kondo``: for a matrix without pieces that is a Kondo matrix (``H0 (x) 1_2`` plus on-site 2x2
    blocks, :func:`.kondo_sweeps.kondo_layout`; not with ``pieces=False``), the structured
    :class:`.kondo_sweeps.KondoSweeps` that :func:`.kpm.kpm_sweeps` runs instead of
    :func:`moment_sweep` and, for gradient probing on the on-site pattern, :func:`gradient_sweep`
    (on a 48 x 48 triangular Kondo lattice, 200 moments, 18 probing vectors, one core: a force
    evaluation 0.46 s on CSR, 0.15 s structured). None otherwise."""

    def __init__(self, H, a, b, parallel, pieces="auto", two_steps="auto"):
        self.ip, self.ix, self.data = as_csr_arrays(H)
        self.a, self.b = a, b
        self.mat_kernel = csr_matmat_parallel if parallel else csr_matmat
        self.pat_kernel = pattern_accumulate_parallel if parallel else pattern_accumulate
        self.pieces = None
        if pieces is True or (pieces == "auto" and H.shape[0] >= 2 * PIECES_MIN_ROWS):
            found = diagonal_pieces(self.ip, self.ix, self.data)
            if pieces is True or found.mean_rows >= PIECES_MIN_ROWS:
                self.pieces = found
        self.kondo = None
        if self.pieces is None and pieces is not False:
            layout = kondo_layout(self.ip, self.ix, self.data)
            if layout is not None:
                self.kondo = KondoSweeps(layout, self.data, parallel)
        if self.pieces is None:
            self.step_kernel = cheb_step_parallel if parallel else cheb_step
            self._matrix = (self.ip, self.ix, self.data)
        else:
            pc = self.pieces
            self.step_kernel = cheb_step_pieces_parallel if parallel else cheb_step_pieces
            self._matrix = (pc.lo, pc.hi, pc.ptr, pc.offsets, pc.values)
        self.series_kernel = series_kernel(self.pieces is not None, parallel)
        self.plan = None
        self.two_steps_mode = two_steps
        if two_steps in ("auto", True) and self.pieces is not None and not parallel:
            plan = two_step_plan(self.pieces)
            if plan.deferred_rows <= H.shape[0] // 4:      # else most rows wait for the full first step
                self.plan = plan

    def width(self, S):
        """Columns to run a block of S vectors at (zero-padded; see :func:`_padded`)."""
        return S if self.pieces is not None else block_width(S)

    def first(self, R):
        """``H~ R``."""
        Y = np.empty_like(R)
        self.mat_kernel(self.ip, self.ix, self.data, R, Y)
        Y -= self.b * R
        Y /= self.a
        return Y

    def step(self, X, P, nn, nx, scale=1.0):
        """``P <- 2 scale H~ X - P`` with dot products (``scale = 1/2`` on ``P = 0`` gives ``H~ X``)."""
        self.step_kernel(*self._matrix, X, P, 2.0 * scale / self.a, -2.0 * scale * self.b / self.a, nn, nx)

    def series(self, R, coef):
        """``sum_n coef_n T_n(H~) R`` for a block R (M x w), one fused pass per term (:mod:`.series`)."""
        R = np.ascontiguousarray(R)
        Y = coef[0] * R
        if len(coef) < 2:
            return Y
        A0 = R.copy()                          # alpha_0; R itself stays untouched
        A1 = np.zeros_like(R)
        self.series_kernel(*self._matrix, A0, A1, Y, 1.0 / self.a, -self.b / self.a, 0.0, coef[1])
        c1, c2 = 2.0 / self.a, -2.0 * self.b / self.a
        for n in range(2, len(coef)):
            self.series_kernel(*self._matrix, A1, A0, Y, c1, c2, 1.0, coef[n])     # A0 <- alpha_n
            A0, A1 = A1, A0
        return Y

    def blocked(self, width):
        """Whether the moment sweep of a ``width``-column block runs two steps per pass."""
        if self.plan is None or width > TWO_STEP_MAX_WIDTH:
            return False
        block = 8 * width * (self.ip.shape[0] - 1)          # bytes of one real block (complex: twice)
        return self.two_steps_mode is True or 2 * block >= TWO_STEP_MIN_BYTES

    def two_steps(self, X, P, nn1, nx1, nn2, nx2):
        """``P <- 2 H~ X - P`` (dots nn1, nx1), then ``X <- 2 H~ P - X`` (dots ``nn2 = <X|X>``,
        ``nx2 = <X|P>``), in one pass (needs ``self.plan``)."""
        cheb_two_steps_pieces(*self._matrix, self.plan.deferred, self.plan.bw, X, P, 2.0 / self.a,
                              -2.0 * self.b / self.a, nn1, nx1, nn2, nx2)


def _padded(R, width, copy=False):
    """``R`` with zero columns appended up to ``width`` columns (C order; a fresh array when ``copy``).

    Zero columns stay zero through the recursion and add nothing to pattern sums, so the padded
    sweep gives the same numbers for the real columns, faster (the CSR step vectorises only some
    widths: :func:`~toolkit.kernels.sparse.block_width`)."""
    n, S = R.shape
    if width == S:
        return np.array(R, order="C", copy=True) if copy else np.ascontiguousarray(R)
    out = np.zeros((n, width), dtype=R.dtype)
    out[:, :S] = R
    return out


def _column_dots(A, B):
    """``sum_i conj(A_is) B_is`` per column, without temporaries for real blocks."""
    return np.einsum("ij,ij->j", np.conj(A) if np.iscomplexobj(A) else A, B)


def moment_sweep(ops, R, order):
    """Per-vector moments ``r_s^dag T_n(H~) r_s`` for n < order (shape (S, order)), by doubling."""
    S0 = R.shape[1]
    return _moment_sweep(ops, _padded(R, ops.width(S0), copy=True), order)[:S0]


def _moment_sweep(ops, R, order):
    """:func:`moment_sweep` on a block ``R`` that it may overwrite (it becomes workspace)."""
    S = R.shape[1]
    mu = np.zeros((S, order))
    mu[:, 0] = _column_dots(R, R).real
    if order == 1:
        return mu
    nn = np.zeros(S)
    nx = np.zeros(S, dtype=R.dtype)
    P = np.zeros_like(R)
    ops.step(R, P, nn, nx, 0.5)              # P = alpha_1 = H~ R, nn = <a1|a1>, nx = <a1|a0>
    mu1 = nx.real.copy()
    mu[:, 1] = mu1
    if order > 2:
        mu[:, 2] = 2.0 * nn - mu[:, 0]
    X, P = P, R                              # X = alpha_1, P = alpha_0 (R is overwritten from here)
    n = 1
    nn2, nx2 = np.zeros_like(nn), np.zeros_like(nx)
    blocked = ops.blocked(S)
    while 2 * n + 1 < order:
        if blocked and 2 * n + 3 < order:
            ops.two_steps(X, P, nn, nx, nn2, nx2)        # P = alpha_{n+1}, X = alpha_{n+2}
            mu[:, 2 * n + 1] = 2.0 * nx.real - mu1
            mu[:, 2 * n + 2] = 2.0 * nn - mu[:, 0]
            mu[:, 2 * n + 3] = 2.0 * nx2.real - mu1
            if 2 * n + 4 < order:
                mu[:, 2 * n + 4] = 2.0 * nn2 - mu[:, 0]
            n += 2                                       # X = alpha_n, P = alpha_{n-1} again
            continue
        ops.step(X, P, nn, nx)               # P = alpha_{n+1}
        mu[:, 2 * n + 1] = 2.0 * nx.real - mu1
        if 2 * n + 2 < order:
            mu[:, 2 * n + 2] = 2.0 * nn - mu[:, 0]
        X, P = P, X
        n += 1
    return mu


def direct_sweep(ops, R, coef, rows, cols, weight, out, width=None):
    """``Y = sum_n coef_n T_n(H~) R``; adds ``weight * (Y_i r_j^* + r_i Y_j^*)/2`` to ``out`` on the pattern.

    The recursion runs one fused step-and-sum per term (:mod:`.series`) on groups of ``width``
    columns at a time (default :func:`.series.column_width`: a group's vectors stay in cache).
    Returns Y (M x S)."""
    order = len(coef)
    R = np.ascontiguousarray(R)
    n, S = R.shape
    Y = np.empty_like(R)
    w = width or column_width(n, S, R.itemsize)
    for s0 in range(0, S, w):
        s1 = min(S, s0 + w)
        Y[:, s0:s1] = ops.series(R[:, s0:s1] if s1 - s0 < S else R, coef)
    ops.pat_kernel(rows, cols, Y, R, 0.5 * weight, out)
    ops.pat_kernel(rows, cols, R, Y, 0.5 * weight, out)
    return Y


def gradient_sweep(ops, R, coef, rows, cols, weight, out):
    """Adds ``weight * dOmega~/dH`` (transposed: rho_ij) on the pattern, ``Omega~ = sum_s r^dag p(H~) r``.

    ``p = sum_n coef_n T_n``. With alpha_n = T_n(H~) r and the adjoint recursion
    ``lambda_n = c_n r + 2 H~ lambda_{n+1} - lambda_{n+2}`` (lambda_order = 0),
    ``rho_ij = (1/a) sum_n w_n alpha_{n,i} lambda_{n+1,j}^*`` with w_0 = 1, w_n = 2. Both
    recursions run backwards (alpha regenerated from its last two terms), memory O(M S).
    """
    K = len(coef)
    if K < 2:
        return
    R = _padded(R, ops.width(R.shape[1]))
    S = R.shape[1]
    nn = np.zeros(S)
    nx = np.zeros(S, dtype=R.dtype)
    # forward: alpha_{K-2} (X) and alpha_{K-1} (P)
    A0, A1 = R.copy(), ops.first(R)
    for n in range(2, K):
        ops.step(A1, A0, nn, nx)
        A0, A1 = A1, A0
    # now A0 = alpha_{K-2}, A1 = alpha_{K-1}
    L1 = coef[K - 1] * R                     # lambda_{K-1}
    L2 = np.zeros_like(R)                    # lambda_K
    w_scale = weight / ops.a
    for n in range(K - 2, -1, -1):
        # A0 = alpha_n, A1 = alpha_{n+1}, L1 = lambda_{n+1}, L2 = lambda_{n+2}
        ops.pat_kernel(rows, cols, A0, L1, w_scale * (1.0 if n == 0 else 2.0), out)
        if n == 0:
            break
        ops.step(A0, A1, nn, nx)             # A1 <- 2 H~ alpha_n - alpha_{n+1} = alpha_{n-1}
        A0, A1 = A1, A0                      # A0 = alpha_{n-1}, A1 = alpha_n
        ops.step(L1, L2, nn, nx)             # L2 <- 2 H~ lambda_{n+1} - lambda_{n+2}
        L2 += coef[n] * R                    # = lambda_n
        L1, L2 = L2, L1

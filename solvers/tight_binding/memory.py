"""Memory estimates of the tight-binding pairs, checked by ``tk.solve`` / ``tk.init`` before anything
is allocated (issue 17.6; :mod:`toolkit.memory`).

All from sizes, in O(1) or O(sites) time, without building anything:

* ``ExactDiagonalization``: the dense M x M matrix, ``eigh``'s workspace and, with ``local=True``,
  the eigenvectors and the two M x M products of ``V f V^dag`` (none when M > ``max_size``: the
  solve then refuses without allocating); the Gaussian-broadened DOS, ``dos_points x M``.
* ``KPM``: the vector blocks, ``S`` vectors x M orbitals x (R, X, P and, with ``local``, Y and
  the padded copy), S the estimator's block width (``Exact``: ``block``; ``RandomVectors``:
  ``count``; ``Probing``: the sites within ``distance`` hops of a site, times 2 with spins, an
  upper bound of a greedy colouring's colour count on a periodic lattice); per-vector moments
  (``count x order``); the Kondo matrix; the density-matrix pattern; the quadrature of the
  coefficients (16 order nodes, a few arrays of them) and the DOS grid (Clenshaw: O(dos_points)).
"""

from __future__ import annotations

import numpy as np

from problems.tight_binding import TightBinding
from toolkit import memory

from .estimators import Exact, Probing, RandomVectors
from .exact import ExactDiagonalization
from .kpm import KPM

__all__ = ["probing_width", "kpm_parts", "ed_parts"]


def _itemsize(problem) -> int:
    return 16 if (problem.spinful or np.iscomplexobj(problem.hamiltonian.data)) else 8


def _matrix_bytes(problem) -> int:
    """The (Kondo) matrix the solve builds: values and int64 indices."""
    nnz = problem.hamiltonian.nnz
    if problem.spinful:
        return (2 * nnz + 4 * problem.sites) * 24 + (problem.size + 1) * 8
    return 0                                       # the problem holds it already


def _pattern_entries(problem) -> int:
    """Entries of the density-matrix pattern (an upper bound)."""
    M = problem.size
    if isinstance(problem.pattern, str):
        extra = 0 if problem.pattern == "onsite" else (4 if problem.spinful else 1) * problem.hamiltonian.nnz
    else:
        extra = 2 * problem.pattern.nnz
    return M + (M if problem.spinful else 0) + extra


def probing_width(problem, estimator: Probing) -> int:
    """Upper estimate of the probing vectors' count: the sites within ``distance`` hops of site 0
    (breadth-first on the hopping graph, stopping when it stops growing), times 2 with spins;
    the number of distinct colours when they are given."""
    if estimator.colors is not None:
        return int(estimator.colors.max()) + 1 if estimator.colors.size else 1
    H = problem.hamiltonian
    n = H.shape[0]
    seen = np.zeros(n, dtype=bool)
    seen[0] = True
    frontier = np.array([0], dtype=np.int64)
    count = 1
    for _ in range(min(estimator.distance, n)):
        nxt = np.unique(H[frontier].indices)
        nxt = nxt[~seen[nxt]]
        if nxt.size == 0:
            break
        seen[nxt] = True
        count += nxt.size
        frontier = nxt
    return count * (2 if problem.spinful else 1)


def _width(problem, solver: KPM) -> tuple[int, int]:
    """(vectors in the widest block, vectors whose moments are kept one by one)."""
    est, M = solver.estimator, problem.size
    if isinstance(est, Exact):
        return min(est.block, M), 0
    if isinstance(est, RandomVectors):
        return est.count, est.count
    if isinstance(est, Probing):
        return min(probing_width(problem, est), M), 0
    return M, 0


def kpm_parts(problem, solver: KPM) -> dict:
    M, item = problem.size, _itemsize(problem)
    S, kept = _width(problem, solver)
    blocks = (6 if problem.local else 4) * M * S * item
    parts = {"vectors": blocks, "per-vector moments": kept * solver.order * 8,
             "coefficients": 6 * max(16 * solver.order, 16384) * 8,
             "dos": 4 * problem.dos_points * 8, "matrix": _matrix_bytes(problem)}
    if problem.local:
        parts["density matrix"] = _pattern_entries(problem) * (16 + 16 + item)
    return parts


def ed_parts(problem, solver: ExactDiagonalization) -> dict:
    M = problem.size
    if M > solver.max_size:
        return {}
    item = _itemsize(problem)
    parts = {"dense matrix": 2 * M * M * item, "dos": problem.dos_points * M * 8, "matrix": _matrix_bytes(problem)}
    if problem.local:
        parts["eigenvectors"] = 3 * M * M * item
    return parts


@memory.estimate.dispatch
def _(problem: TightBinding, solver: KPM) -> dict:
    return kpm_parts(problem, solver)


@memory.estimate.dispatch
def _(problem: TightBinding, solver: ExactDiagonalization) -> dict:  # noqa: F811
    return ed_parts(problem, solver)

"""AA-pattern streaming: one population array, updated in place.

Bailey, Myre, Walsh, Lilja & Saar, "Accelerating lattice Boltzmann fluid flow simulations
using graphics processors", ICPP 2009, doi:10.1109/ICPP.2009.38; Wittmann, Zeiser, Hager &
Wellein, Comput. Math. Appl. 65, 924 (2013), doi:10.1016/j.camwa.2012.05.002.

The integrator stores post-collision populations, ``f[q, x] = f*_q(x)`` (layout S0). Two step
kinds alternate (kernels in :mod:`.generated`, written by ``codegen/gen_lbm_kernels.py``):

- nonlocal (S0 → S1): gather ``f_q(x) = f[q, x − c_q]``, collide, write ``f*_q(x)`` to
  ``f[q̄, x + c_q]`` — the very locations the node read — leaving ``f[p, y] = f*_{p̄}(y + c_p)``;
- local (S1 → S0): ``f_q(x) = f[q̄, x]``, collide, write ``f*_q(x)`` to ``f[q, x]``.

Each node reads and then writes one set of Q locations, disjoint from every other node's, so
the update needs no second array and rows (or threads) are independent. After an even number
of steps the array is in S0; after an odd number it is in S1 and :func:`aa_swap` (a pure
permutation, exact) turns it into S0 for fields, frames and checkpoints. The kernels take the
array as a padded (Q, P) buffer (:func:`aa_storage`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["aa_storage", "aa_swap", "aa_step_numpy"]


def aa_storage(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One population array for the AA kernels: a (Q, P) buffer whose slot q holds ``f[q]``
    C-ordered in its first nx·ny·nz entries, and the (Q, nx, ny, nz) view of it.

    P pads each slot to 3 (mod 64) cache lines of 64 bytes. Unpadded power-of-two grids put the
    Q rows that a node touches exactly a multiple of 4 KiB apart, so they all fall into the same
    L1/L2 cache sets (19 rows for D3Q19 against 8 ways) and the local AA step thrashed; with the
    pad the rows start 3 lines apart in the set index.
    """
    Q, n = f.shape[0], int(np.prod(f.shape[1:]))
    lines = -(-n * f.itemsize // 64)
    lines += (3 - lines) % 64
    buf = np.zeros((Q, lines * 64 // f.itemsize), dtype=f.dtype)
    view = buf[:, :n].reshape(f.shape)
    assert np.shares_memory(view, buf)
    view[...] = f
    return buf, view


def aa_swap(f: np.ndarray, c: np.ndarray, opp: np.ndarray) -> np.ndarray:
    """Convert between layouts S0 and S1 in place and return ``f``: ``f'[q] = roll(f[q̄], −c_q)``,
    i.e. ``f'[q, x] = f[q̄, x + c_q]`` on the periodic grid. The map is its own inverse."""
    shifts = [tuple(-int(s) for s in c[q]) for q in range(len(c))]
    done = np.zeros(len(c), dtype=bool)
    for q in range(len(c)):
        if done[q]:
            continue
        p = int(opp[q])
        new_q = np.roll(f[p], shifts[q], axis=(0, 1, 2))
        new_p = np.roll(f[q], shifts[p], axis=(0, 1, 2)) if p != q else None
        f[q] = new_q
        if new_p is not None:
            f[p] = new_p
        done[q] = done[p] = True
    return f


def aa_step_numpy(f, phase, c, w, opp, collision, F):
    """NumPy reference of one AA step of periodic all-fluid flow with ``collision`` (a
    :class:`~.base.Collision`) on ``f`` in layout ``phase`` (0: S0, nonlocal step; 1: S1, local
    step): the A–B reference step written in AA storage."""
    from .reference import stream_collide_numpy

    shape = f.shape[1:]
    natural = aa_swap(f.copy(), c, opp) if phase == 1 else f.copy()
    out = np.empty_like(natural)
    bad = stream_collide_numpy(natural, out, np.zeros(shape, dtype=np.int8), np.ones(shape[:2], dtype=bool),
                               np.zeros((3, 1, 1, 1)), c, w, opp, *collision.generic, F)
    f[...] = aa_swap(out, c, opp) if phase == 0 else out
    return bad

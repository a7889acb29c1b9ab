"""numba kernels of the molecule family: pair forces over a Verlet list and the jitted MD loop.

Units inside the kernels are ASE's: Å, eV, amu and the time unit Å·sqrt(amu/eV) (about
10.18 fs), so that acceleration is simply force / mass.

Pair potentials (``kind``):

* ``0`` Lennard-Jones, ``params = [epsilon, sigma, rc, e_shift]``:
  ``u(r) = 4 eps [(sigma/r)^12 - (sigma/r)^6] - e_shift`` for ``r < rc``;
* ``1`` Morse, ``params = [D, alpha, r0, rc, e_shift]``:
  ``u(r) = D [exp(-2 alpha (r - r0)) - 2 exp(-alpha (r - r0))] - e_shift`` for ``r < rc``.

The virial returned is ``W = sum_{i<j} r_ij (x) F_ij`` with ``r_ij = x_i - x_j`` and ``F_ij`` the
force on ``i`` from ``j``; the pressure tensor is ``(sum m v v + W) / V``.

Integration schemes (``scheme``) advanced by :func:`md_segment`:

* ``0`` velocity Verlet (Swope et al., J. Chem. Phys. 76, 637 (1982), doi:10.1063/1.442716);
* ``1`` Langevin BAOAB (Leimkuhler & Matthews, Appl. Math. Res. Express 2013, 34,
  doi:10.1093/amrx/abs010), noise drawn outside (so runs are reproducible from a NumPy seed);
* ``2`` Nosé–Hoover chain (Martyna, Klein & Tuckerman, J. Chem. Phys. 97, 2635 (1992),
  doi:10.1063/1.463940), symmetric Trotter splitting with Suzuki–Yoshida sub-steps (Martyna,
  Tuckerman, Tobias & Klein, Mol. Phys. 87, 1117 (1996), doi:10.1080/00268979600100761).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from toolkit.kernels import FASTMATH
from toolkit.kernels.neighbors import max_displacement, split_by_image, wrap_positions

from .pairlist import half_stencil_list, half_stencil_list_parts

__all__ = ["pair_forces", "pair_forces_parts", "image_split", "md_segment", "rebuild", "kinetic_tensor", "nhc_half",
           "md_list", "state_summary"]

_FM = set(FASTMATH)

# ``md_list`` and ``pair_forces_parts`` are serial kernels that call ``parallel=True`` ones (the threaded
# list search and force loop). Loaded from numba's on-disk cache, such a caller does not start numba's
# threading layer (only a parallel dispatcher does), and its first call then crashed the process
# (a segfault in ``rebuild`` in a fresh process whose caches another process had written). Starting
# the layer here, once per process, is what a parallel dispatcher would do (~20 ms).
numba.get_num_threads()


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy", inline="always")
def _nearest_image(d, half, length):
    """The minimum-image component of a displacement ``d`` along an axis of ``length`` (|d| < 1.5 length)."""
    if d > half:
        return d - length
    if d < -half:
        return d + length
    return d


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy", inline="always")
def _pair(kind, r2, p0, p1, p2, p3):
    """``(u(r) - shift, -u'(r)/r)`` of pair potential ``kind`` at squared distance ``r2``."""
    if kind == 0:   # LJ: p0 = 4 eps, p1 = sigma^2, p3 = shift
        s2 = p1 / r2
        s6 = s2 * s2 * s2
        return p0 * s6 * (s6 - 1.0) - p3, p0 * s6 * (12.0 * s6 - 6.0) / r2
    # Morse: p0 = D, p1 = alpha, p2 = r0, p3 = shift
    r = np.sqrt(r2)
    e1 = np.exp(-p1 * (r - p2))
    return p0 * (e1 * e1 - 2.0 * e1) - p3, 2.0 * p1 * p0 * (e1 * e1 - e1) / r


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy", inline="always")
def _lj_block(xi0, xi1, xi2, m, d0, d1, d2, g0, g1, g2, p0, p1, p3, rc2, acc):
    """LJ over ``m`` separations ``d = x_i - x_j`` held in contiguous buffers: the pair forces
    ``F_ij`` into ``g``, their sum (the force on ``i``) into ``acc[10:13]`` (overwritten) and the
    energy added to ``acc[0]``. One flat loop over contiguous arrays, so LLVM vectorises it
    (divisions and all). Branchless: every listed pair is evaluated and the ones beyond the cutoff
    are multiplied by zero (about 30% of a list built with a skin fail the test, at random, and a
    mispredicted branch costs more than the arithmetic)."""
    fi0 = fi1 = fi2 = 0.0
    e = 0.0
    for t in range(m):
        r2 = d0[t] * d0[t] + d1[t] * d1[t] + d2[t] * d2[t]
        ir2 = 1.0 / r2
        s2 = p1 * ir2
        s6 = s2 * s2 * s2
        inside = 1.0 if r2 < rc2 else 0.0
        e += inside * (p0 * s6 * (s6 - 1.0) - p3)
        fr = inside * p0 * s6 * (12.0 * s6 - 6.0) * ir2
        a0 = fr * d0[t]
        a1 = fr * d1[t]
        a2 = fr * d2[t]
        g0[t] = a0
        g1[t] = a1
        g2[t] = a2
        fi0 += a0
        fi1 += a1
        fi2 += a2
    acc[0] += e
    acc[10] = fi0
    acc[11] = fi1
    acc[12] = fi2


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _lj_rows(x, starts, nbrs, split, p0, p1, p3, rc2, half, length, f, acc, r0, r1):
    """Add the LJ pair forces of the rows ``r0 <= i < r1`` to ``f`` (not zeroed first); the energy
    into ``acc[0]``, the image virial correction into ``acc[1:10]``.

    Each particle's partners go through three passes, the same-image ones and then those across a
    periodic boundary: gather the separations ``x_i - x_j`` into contiguous buffers (folded to the
    minimum image for the boundary partners, their image shift ``s_ij`` kept), evaluate them in one
    vectorised loop (:func:`_lj_block`), scatter ``-F_ij`` onto the partners (Newton's third law).
    The boundary partners add ``s_ij (x) F_ij`` to the virial correction (see :func:`_lj_forces`).
    Indices are unsigned (no negative-index test in the loops). In a box shorter than two list radii
    every pair is a boundary pair (``split = starts[:-1]``, :func:`md_list`), so both passes matter.
    """
    big = 1
    for i in range(r0, r1):
        big = max(big, split[i] - starts[i], starts[i + 1] - split[i])
    d0 = np.empty(big)
    d1 = np.empty(big)
    d2 = np.empty(big)
    g0 = np.empty(big)
    g1 = np.empty(big)
    g2 = np.empty(big)
    s0 = np.empty(big)
    s1 = np.empty(big)
    s2 = np.empty(big)
    for i in range(r0, r1):
        xi0 = x[i, 0]
        xi1 = x[i, 1]
        xi2 = x[i, 2]
        lo = np.uint64(starts[i])
        m = np.uint64(split[i] - starts[i])
        for t in range(m):
            j = nbrs[lo + t]
            d0[t] = xi0 - x[j, 0]
            d1[t] = xi1 - x[j, 1]
            d2[t] = xi2 - x[j, 2]
        _lj_block(xi0, xi1, xi2, m, d0, d1, d2, g0, g1, g2, p0, p1, p3, rc2, acc)
        f[i, 0] += acc[10]
        f[i, 1] += acc[11]
        f[i, 2] += acc[12]
        for t in range(m):
            j = nbrs[lo + t]
            f[j, 0] -= g0[t]
            f[j, 1] -= g1[t]
            f[j, 2] -= g2[t]
        if split[i] < starts[i + 1]:
            lo = np.uint64(split[i])
            m = np.uint64(starts[i + 1] - split[i])
            for t in range(m):
                j = nbrs[lo + t]
                r = xi0 - x[j, 0]
                d0[t] = _nearest_image(r, half[0], length[0])
                s0[t] = d0[t] - r
                r = xi1 - x[j, 1]
                d1[t] = _nearest_image(r, half[1], length[1])
                s1[t] = d1[t] - r
                r = xi2 - x[j, 2]
                d2[t] = _nearest_image(r, half[2], length[2])
                s2[t] = d2[t] - r
            _lj_block(xi0, xi1, xi2, m, d0, d1, d2, g0, g1, g2, p0, p1, p3, rc2, acc)
            f[i, 0] += acc[10]
            f[i, 1] += acc[11]
            f[i, 2] += acc[12]
            for t in range(m):
                j = nbrs[lo + t]
                f[j, 0] -= g0[t]
                f[j, 1] -= g1[t]
                f[j, 2] -= g2[t]
            c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = 0.0
            for t in range(m):
                c00 += s0[t] * g0[t]
                c01 += s0[t] * g1[t]
                c02 += s0[t] * g2[t]
                c10 += s1[t] * g0[t]
                c11 += s1[t] * g1[t]
                c12 += s1[t] * g2[t]
                c20 += s2[t] * g0[t]
                c21 += s2[t] * g1[t]
                c22 += s2[t] * g2[t]
            acc[1] += c00
            acc[2] += c01
            acc[3] += c02
            acc[4] += c10
            acc[5] += c11
            acc[6] += c12
            acc[7] += c20
            acc[8] += c21
            acc[9] += c22


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _lj_virial(x, f, corrections, virial):
    """``virial = sym(sum_i x_i (x) f_i + corrections)`` (``corrections``: the image terms, 9 values)."""
    w = np.zeros((3, 3))
    for i in range(x.shape[0]):
        for a in range(3):
            for b in range(3):
                w[a, b] += x[i, a] * f[i, b]
    for a in range(3):
        for b in range(3):
            w[a, b] += corrections[3 * a + b]
    for a in range(3):
        for b in range(3):
            virial[a, b] = 0.5 * (w[a, b] + w[b, a])


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _lj_forces(x, starts, nbrs, split, params, half, length, f, virial):
    """Lennard-Jones specialisation of :func:`pair_forces` (same contract), over :func:`_lj_rows`.

    Virial as LAMMPS's ``virial_fdotr_compute``: ``sum_{i<j} r_ij (x) F_ij = sum_i x_i (x) f_i +
    sum_{boundary pairs} s_ij (x) F_ij`` with ``s_ij = r_ij - (x_i - x_j)`` the image shift
    (exact algebra; symmetrised, as the pair sum is symmetric).
    """
    n = x.shape[0]
    for i in range(n):
        f[i, 0] = 0.0
        f[i, 1] = 0.0
        f[i, 2] = 0.0
    acc = np.zeros(13)
    _lj_rows(x, starts, nbrs, split, 4.0 * params[0], params[1] * params[1], params[3], params[2] * params[2],
             half, length, f, acc, np.int64(0), n)      # np.int64: a literal 0 would compile _lj_rows again
    _lj_virial(x, f, acc[1:10], virial)
    return acc[0]


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _outer_sum(x, f, w):
    """``w += sum_i x_i (x) f_i`` (w: float64[9], row-major)."""
    for i in range(x.shape[0]):
        for a in range(3):
            for b in range(3):
                w[3 * a + b] += x[i, a] * f[i, b]


@njit(cache=True, nogil=True, parallel=True, fastmath=_FM, error_model="numpy")
def _lj_forces_parts(x, starts, nbrs, split, params, half, length, f, virial, scratch):
    """:func:`_lj_forces` with the rows cut into ``P = scratch.shape[0] + 1`` runs of about equal
    pair counts, one per ``prange`` iteration (thread): run 0 adds into ``f``, run ``k`` into
    ``scratch[k-1]`` (Newton's third law writes to any particle, so each thread keeps its own
    forces) and each run sums its own part of ``sum_i x_i (x) f_i`` (the virial is linear in the
    forces). One parallel region per call; then, serially, ``f += sum_k scratch[k]`` in ``k``
    order and the energies and virials are summed in run order. The result depends on ``P``
    only (not on the scheduling or numba's thread count): the same ``P`` reproduces itself bit
    for bit, different ``P`` agree to round-off."""
    n = x.shape[0]
    parts = scratch.shape[0] + 1
    total = starts[n]
    bounds = np.empty(parts + 1, dtype=np.int64)
    bounds[0] = 0
    bounds[parts] = n
    for k in range(1, parts):
        bounds[k] = np.searchsorted(starts[:n], total * k // parts)
    # per-run accumulators, rows 32 doubles (256 bytes) apart: _lj_rows writes its row at every
    # particle, and two threads writing one cache line would pass it back and forth (measured: a
    # 13-double stride ran two threads 5x slower than one)
    accs = np.zeros((parts, 32))
    ws = np.zeros((parts, 32))
    for k in prange(parts):
        target = f if k == 0 else scratch[k - 1]
        for i in range(n):
            target[i, 0] = 0.0
            target[i, 1] = 0.0
            target[i, 2] = 0.0
        _lj_rows(x, starts, nbrs, split, 4.0 * params[0], params[1] * params[1], params[3],
                 params[2] * params[2], half, length, target, accs[k], bounds[k], bounds[k + 1])
        _outer_sum(x, target, ws[k])
    for k in range(parts - 1):
        for i in range(n):
            f[i, 0] += scratch[k, i, 0]
            f[i, 1] += scratch[k, i, 1]
            f[i, 2] += scratch[k, i, 2]
    energy = 0.0
    w = np.zeros((3, 3))
    for k in range(parts):
        energy += accs[k, 0]
        for a in range(3):
            for b in range(3):
                w[a, b] += ws[k, 3 * a + b] + accs[k, 1 + 3 * a + b]
    for a in range(3):
        for b in range(3):
            virial[a, b] = 0.5 * (w[a, b] + w[b, a])
    return energy


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def pair_forces(x, box, periodic, starts, nbrs, split, kind, params, f, virial):
    """Pair energy; forces into ``f`` and the 3x3 virial into ``virial`` (both overwritten).

    The partners ``nbrs[starts[i]:split[i]]`` of ``i`` need no periodic image (the positions are
    continuous across the pair); ``nbrs[split[i]:starts[i+1]]`` are folded to the minimum image,
    which assumes ``|x_i - x_j| < 1.5 L`` (the MD loop wraps positions at every list rebuild).
    Each pair is listed once, in either particle's row (a half list: :func:`md_list` builds it
    with ``split``, :func:`image_split` splits an existing list); ``split = starts[:-1]`` (every
    pair folded) with wrapped positions is always valid but slower. Lennard-Jones (``kind == 0``)
    runs a specialised vectorised loop (:func:`_lj_forces`).
    """
    n = x.shape[0]
    half = np.empty(3)
    length = np.empty(3)
    for a in range(3):
        length[a] = box[a] if periodic[a] else 0.0
        half[a] = 0.5 * box[a] if periodic[a] else np.inf
    if kind == 0:
        return _lj_forces(x, starts, nbrs, split, params, half, length, f, virial)
    p0 = params[0]
    p1 = params[1]
    p2 = params[2]
    rc2 = params[3] * params[3]
    p3 = params[4]
    for i in range(n):
        f[i, 0] = 0.0
        f[i, 1] = 0.0
        f[i, 2] = 0.0
    w00 = w01 = w02 = w11 = w12 = w22 = 0.0
    energy = 0.0
    for i in range(n):
        xi0 = x[i, 0]
        xi1 = x[i, 1]
        xi2 = x[i, 2]
        fi0 = fi1 = fi2 = 0.0
        mid = split[i]
        end = starts[i + 1]
        p = starts[i]
        while p < end:
            # same-image partners up to ``mid``, then the boundary-crossing ones (minimum image)
            stop = mid if p < mid else end
            image = p >= mid
            for q in range(p, stop):
                j = nbrs[q]
                d0 = xi0 - x[j, 0]
                d1 = xi1 - x[j, 1]
                d2 = xi2 - x[j, 2]
                if image:
                    d0 = _nearest_image(d0, half[0], length[0])
                    d1 = _nearest_image(d1, half[1], length[1])
                    d2 = _nearest_image(d2, half[2], length[2])
                r2 = d0 * d0 + d1 * d1 + d2 * d2
                if r2 < rc2:
                    if kind == 0:
                        s2 = p1 / r2
                        s6 = s2 * s2 * s2
                        energy += p0 * s6 * (s6 - 1.0) - p3
                        fr = p0 * s6 * (12.0 * s6 - 6.0) / r2
                    else:
                        r = np.sqrt(r2)
                        e1 = np.exp(-p1 * (r - p2))
                        energy += p0 * (e1 * e1 - 2.0 * e1) - p3
                        fr = 2.0 * p1 * p0 * (e1 * e1 - e1) / r
                    g0 = fr * d0
                    g1 = fr * d1
                    g2 = fr * d2
                    fi0 += g0
                    fi1 += g1
                    fi2 += g2
                    f[j, 0] -= g0
                    f[j, 1] -= g1
                    f[j, 2] -= g2
                    w00 += d0 * g0
                    w01 += d0 * g1
                    w02 += d0 * g2
                    w11 += d1 * g1
                    w12 += d1 * g2
                    w22 += d2 * g2
            p = stop
        f[i, 0] += fi0
        f[i, 1] += fi1
        f[i, 2] += fi2
    virial[0, 0] = w00
    virial[0, 1] = w01
    virial[0, 2] = w02
    virial[1, 0] = w01
    virial[1, 1] = w11
    virial[1, 2] = w12
    virial[2, 0] = w02
    virial[2, 1] = w12
    virial[2, 2] = w22
    return energy


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def pair_forces_parts(x, box, periodic, starts, nbrs, split, kind, params, f, virial, scratch):
    """:func:`pair_forces` with the Lennard-Jones rows spread over ``scratch.shape[0] + 1`` threads
    (:func:`_lj_forces_parts`; ``scratch`` is float64[P - 1, N, 3] workspace). With an empty
    ``scratch`` (``P = 1``), or for Morse, it is :func:`pair_forces` itself."""
    if kind == 0 and scratch.shape[0] > 0:
        half = np.empty(3)
        length = np.empty(3)
        for a in range(3):
            length[a] = box[a] if periodic[a] else 0.0
            half[a] = 0.5 * box[a] if periodic[a] else np.inf
        return _lj_forces_parts(x, starts, nbrs, split, params, half, length, f, virial, scratch)
    return pair_forces(x, box, periodic, starts, nbrs, split, kind, params, f, virial)


@njit(cache=True, nogil=True, error_model="numpy")
def image_split(x, box, periodic, starts, nbrs):
    """Reorder each particle's partners in place: same-image pairs first, then the pairs that
    cross a periodic boundary (separation beyond half a box); return the split points.
    (:func:`toolkit.kernels.neighbors.split_by_image`; :func:`rebuild` gets the split directly
    from :func:`solvers.molecule.pairlist.half_stencil_list`.)"""
    return split_by_image(x, box, periodic, starts, nbrs)


@njit(cache=True, nogil=True, error_model="numpy")
def md_list(x, box, periodic, cutoff, parts=1):
    """The Verlet list ``(starts, nbrs, split)`` the MD loop uses for list radius ``cutoff`` (rc + skin).

    A same-image pair is evaluated without folding until the next rebuild. If the list radius
    exceeds half a periodic box length (e.g. 108 LJ atoms at rc = 2.5 sigma with a skin), a pair
    listed through one image can come within rc through another before the next rebuild, and
    the unfolded evaluation would miss it (measured: an energy drift of -2e-3 eps/atom over 8000
    NVE steps, independent of dt). Then every pair is folded to the minimum image
    (``split = starts[:-1]``), which is exact whenever rc < L/2.

    ``parts > 1`` searches the rows on that many threads
    (:func:`solvers.molecule.pairlist.half_stencil_list_parts`): the same list, element for element.
    """
    if parts > 1:
        starts, nbrs, split = half_stencil_list_parts(x, box, periodic, cutoff, np.int64(parts))
    else:
        starts, nbrs, split = half_stencil_list(x, box, periodic, cutoff)
    for a in range(3):
        if periodic[a] and cutoff > 0.5 * box[a]:
            return starts, nbrs, starts[:-1].copy()
    return starts, nbrs, split


@njit(cache=True, nogil=True, error_model="numpy")
def rebuild(x, images, x_ref, box, periodic, cutoff, parts=1):
    """Wrap positions into the box, remember them in ``x_ref``, build the half Verlet list and
    split it into same-image and boundary-crossing partners (:func:`md_list`, on ``parts``
    threads). Returns ``(starts, nbrs, split)``."""
    wrap_positions(x, images, box, periodic)
    x_ref[:, :] = x
    return md_list(x, box, periodic, cutoff, parts)


@njit(cache=True, nogil=True, error_model="numpy")
def kinetic_tensor(v, mass):
    """``sum_i m_i v_i (x) v_i`` (twice the kinetic-energy tensor)."""
    k = np.zeros((3, 3))
    for i in range(v.shape[0]):
        for a in range(3):
            for b in range(3):
                k[a, b] += mass[i] * v[i, a] * v[i, b]
    return k


@njit(cache=True, nogil=True, error_model="numpy")
def state_summary(x, v, mass):
    """``(K, R)``: the kinetic energy ``sum m v^2 / 2`` and the largest coordinate ``max |x_ia|``, in one
    pass (what the MD validity monitor reads after every segment). NumPy reference:
    ``(0.5 * (mass[:, None] * v**2).sum(), np.abs(x).max())``."""
    total = 0.0
    far = 0.0
    for i in range(v.shape[0]):
        total += mass[i] * (v[i, 0] * v[i, 0] + v[i, 1] * v[i, 1] + v[i, 2] * v[i, 2])
        for a in range(3):
            r = abs(x[i, a])
            if not r <= far:   # also catches NaN
                far = r
    return 0.5 * total, far


@njit(cache=True, nogil=True, error_model="numpy")
def _kinetic(v, mass):
    total = 0.0
    for i in range(v.shape[0]):
        total += mass[i] * (v[i, 0] * v[i, 0] + v[i, 1] * v[i, 1] + v[i, 2] * v[i, 2])
    return 0.5 * total


@njit(cache=True, nogil=True, error_model="numpy")
def _chain_force(k, two_k, nh, q, ndof, kt):
    """``G_k``: ``(2K - g kT)/Q_1`` for the first thermostat, ``(Q_{k-1} v_{k-1}^2 - kT)/Q_k`` after."""
    if k == 0:
        return (two_k - ndof * kt) / q[0]
    return (q[k - 1] * nh[k - 1] * nh[k - 1] - kt) / q[k]


@njit(cache=True, nogil=True, error_model="numpy")
def nhc_half(v, mass, nh, q, weights, n_respa, ndof, kt, dt):
    """Half a step ``dt/2`` of a Nosé–Hoover chain; scales ``v`` in place and returns 2K after it.

    ``nh = [v_1..v_M, eta_1..eta_M]`` (thermostat velocities, then positions), ``q`` the M masses.
    Trotter factorisation with ``n_respa`` x Suzuki–Yoshida ``weights`` sub-steps ``h = w dt /
    (2 n_respa)``; each sub-step updates ``v_M``, then ``v_{M-1}..v_1`` (each
    ``v_k <- v_k a^2 + h/2 G_k a`` with ``a = exp(-h v_{k+1}/4)``), moves the ``eta_k`` and scales the
    particles by ``exp(-h v_1)``, then sweeps back up (Martyna, Tuckerman, Tobias & Klein, Mol. Phys.
    87, 1117 (1996), doi:10.1080/00268979600100761). NumPy reference:
    :func:`solvers.molecule.chain.nhc_half_numpy`.
    """
    m = q.shape[0]
    last = m - 1
    two_k = 2.0 * _kinetic(v, mass)
    scale = 1.0
    for _ in range(n_respa):
        for j in range(weights.shape[0]):
            h = weights[j] * dt / (2.0 * n_respa)
            nh[last] += 0.5 * h * _chain_force(last, two_k, nh, q, ndof, kt)
            for k in range(last - 1, -1, -1):
                a = np.exp(-0.25 * h * nh[k + 1])
                nh[k] = nh[k] * a * a + 0.5 * h * _chain_force(k, two_k, nh, q, ndof, kt) * a
            s = np.exp(-h * nh[0])
            scale *= s
            two_k *= s * s
            for k in range(m):
                nh[m + k] += h * nh[k]
            for k in range(last):
                a = np.exp(-0.25 * h * nh[k + 1])
                nh[k] = nh[k] * a * a + 0.5 * h * _chain_force(k, two_k, nh, q, ndof, kt) * a
            nh[last] += 0.5 * h * _chain_force(last, two_k, nh, q, ndof, kt)
    for i in range(v.shape[0]):
        v[i, 0] *= scale
        v[i, 1] *= scale
        v[i, 2] *= scale
    return two_k


@njit(cache=True, nogil=True, error_model="numpy")
def md_segment(x, v, f, images, x_ref, starts, nbrs, split, mass, box, periodic, kind, params, cutoff, skin,
               scheme, dt, c1, c2, noise, nh, ndof, kt, q, weights, n_respa, n_steps, out, scratch,
               record_every, phase, records):
    """Advance ``n_steps`` steps in place; rebuild the Verlet list when an atom moved > skin/2.

    ``c1`` (scalar) and ``c2`` (float64[N], ``sqrt((1 - c1^2) kT / m_i)``) are the BAOAB
    Ornstein–Uhlenbeck coefficients and ``noise`` (float64[n_steps, N, 3]) its standard normals.
    ``nh`` (float64[2M]), ``q`` (float64[M]), ``weights``, ``n_respa``, ``ndof`` and ``kt`` drive the
    Nosé–Hoover chain (:func:`nhc_half`) of scheme 2.
    ``out`` receives ``[potential energy, virial (9), rebuilds]`` of the last step. ``scratch``
    (float64[P - 1, N, 3]) spreads the Lennard-Jones forces over ``P`` threads
    (:func:`pair_forces_parts`; ``P = 1``, an empty ``scratch``, is the serial loop).
    ``record_every > 0``: after every step whose global index (``phase`` + steps done) is a multiple
    of it, except the last step, one row of ``records`` (float64[R, 21], filled in order) receives
    ``[potential energy, virial (9), kinetic_tensor (9), kinetic energy, largest |x|]`` (the thermo
    record and the validity monitor's inputs, so one call can cover many thermo records).
    Returns ``(steps done, starts, nbrs, split)``; fewer steps than asked means the state stopped being
    finite at the next step (positions and velocities are then garbage: the caller restores).
    """
    n = x.shape[0]
    virial = np.zeros((3, 3))
    energy = out[0]
    rebuilds = 0
    recorded = 0
    for step in range(n_steps):
        if scheme == 2:
            nhc_half(v, mass, nh, q, weights, n_respa, ndof, kt, dt)
        if scheme == 1:
            for i in range(n):
                s = 0.5 * dt / mass[i]
                v[i, 0] += s * f[i, 0]
                v[i, 1] += s * f[i, 1]
                v[i, 2] += s * f[i, 2]
            for i in range(n):
                for a in range(3):
                    x[i, a] += 0.5 * dt * v[i, a]
                    v[i, a] = c1 * v[i, a] + c2[i] * noise[step, i, a]
                    x[i, a] += 0.5 * dt * v[i, a]
            moved = max_displacement(x, x_ref)
        else:
            # kick, drift and the largest move since the list was built in one pass (the same
            # operations, in the same order per atom, as three separate loops)
            worst = 0.0
            for i in range(n):
                s = 0.5 * dt / mass[i]
                v[i, 0] += s * f[i, 0]
                v[i, 1] += s * f[i, 1]
                v[i, 2] += s * f[i, 2]
                x[i, 0] += dt * v[i, 0]
                x[i, 1] += dt * v[i, 1]
                x[i, 2] += dt * v[i, 2]
                e0 = x[i, 0] - x_ref[i, 0]
                e1 = x[i, 1] - x_ref[i, 1]
                e2 = x[i, 2] - x_ref[i, 2]
                d2 = 0.0
                d2 += e0 * e0
                d2 += e1 * e1
                d2 += e2 * e2
                if d2 > worst:
                    worst = d2
            moved = np.sqrt(worst)
        if not np.isfinite(moved):
            return step, starts, nbrs, split
        if moved > 0.5 * skin:
            starts, nbrs, split = rebuild(x, images, x_ref, box, periodic, cutoff + skin, scratch.shape[0] + 1)
            rebuilds += 1
        energy = pair_forces_parts(x, box, periodic, starts, nbrs, split, kind, params, f, virial, scratch)
        if not np.isfinite(energy):
            return step, starts, nbrs, split
        two_k = 0.0
        for i in range(n):
            s = 0.5 * dt / mass[i]
            v[i, 0] += s * f[i, 0]
            v[i, 1] += s * f[i, 1]
            v[i, 2] += s * f[i, 2]
            two_k += mass[i] * (v[i, 0] * v[i, 0] + v[i, 1] * v[i, 1] + v[i, 2] * v[i, 2])
        if scheme == 2:
            two_k = nhc_half(v, mass, nh, q, weights, n_respa, ndof, kt, dt)
        if not np.isfinite(two_k):
            return step, starts, nbrs, split
        if record_every > 0 and step < n_steps - 1 and (phase + step + 1) % record_every == 0:
            row = records[recorded]
            row[0] = energy
            tensor = kinetic_tensor(v, mass)
            for a in range(3):
                for b in range(3):
                    row[1 + 3 * a + b] = virial[a, b]
                    row[10 + 3 * a + b] = tensor[a, b]
            row[19], row[20] = state_summary(x, v, mass)
            recorded += 1
    out[0] = energy
    if n_steps > 0:
        for a in range(3):
            for b in range(3):
                out[1 + 3 * a + b] = virial[a, b]
    out[10] += rebuilds
    return n_steps, starts, nbrs, split

"""Validity monitor of a lattice Boltzmann run: Mach number and positive, finite density.

The lattice Boltzmann equation with a second-order equilibrium recovers the weakly compressible
Navier–Stokes equations with errors of order Ma², Ma = |u|/c_s, c_s = 1/sqrt(3) (Krüger et al.,
*The Lattice Boltzmann Method*, Springer 2017, §4.3 and §7.2, doi:10.1007/978-3-319-44649-3).
Two limits follow:

* accuracy, Ma > :data:`MACH_ACCURACY` (0.3): compressibility errors of a few per cent and
  growing as Ma²; the run goes on and finishes ``Success`` with a warning in
  ``solution.stats["warnings"]`` and ``solution.message``;
* stability, Ma > :data:`MACH_UNSTABLE` (1) or ρ ≤ 0 or a non-finite population: a supersonic
  lattice flow is far outside the low-Mach expansion the method rests on (the rest and
  perpendicular equilibria, w ρ (1 − 3u²/2), turn negative at Ma = sqrt(2)); the run stops
  ``Unstable`` at the step.

The kernels themselves count non-positive and non-finite densities at every step (exact step).
The Mach number is checked here: at every saved frame (from the frame's fields, free) and every
:data:`CHECK_EVERY` steps by global step index (one read-only pass over the populations), so the
step found does not depend on how a run is cut into ``_advance`` calls. A run past the stability
limit between two checks is stopped at the first check that sees it; the message gives that step
and the last step checked good. Cost (CPU time, medians of 15): on D2Q9 BGK in place, the worst
case (its unrolled step takes 0.8 ms on 512²), one check costs 4–5 steps, 1 % of a run at one
check per 512 steps; on D3Q19 64³ it costs 2 steps (0.4 %).

:func:`count_bad` is the numba row kernel (run on one thread or spread over numba's threads,
:class:`toolkit.kernels.rows.RowKernel`); :func:`count_bad_numpy` its reference.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from toolkit.kernels import FASTMATH
from toolkit.kernels.rows import RowKernel

__all__ = ["MACH_ACCURACY", "MACH_UNSTABLE", "CHECK_EVERY", "CS", "count_bad", "count_bad_parallel",
           "count_bad_numpy", "field_report", "Report"]

#: Speed of sound in lattice units.
CS = 1.0 / math.sqrt(3.0)
#: Past this Mach number the run finishes with a warning (compressibility error ~ Ma²).
MACH_ACCURACY = 0.3
#: Past this Mach number (or with ρ ≤ 0, or a non-finite value) the run stops ``Unstable``.
MACH_UNSTABLE = 1.0
#: Steps between two population checks (besides every saved frame).
CHECK_EVERY = 512


def _count_bad_rows(x0, x1, f, c, opp, F, flag, phase, u2max):
    """Fluid nodes (``flag == 0``) of the x-planes x0 ≤ x < x1 whose post-collision density is
    not in (0, 1e30) or whose velocity u = (Σ c_q f*_q − F/2)/ρ has |u|² > ``u2max`` (or is NaN).
    ``phase`` 0: ``f[q, x] = f*_q(x)`` (layout S0); 1: the AA layout S1,
    ``f*_q(x) = f[q̄, x + c_q]`` (periodic). Each row's sums run over whole rows (contiguous,
    vectorised)."""
    Q, nx, ny, nz = f.shape
    count = 0
    half = np.empty(3)
    for k in range(3):
        half[k] = 0.5 * F[k]
    for x in range(x0, x1):
        rows = np.empty((Q, nz))
        rho = np.empty(nz)
        j = np.empty((3, nz))
        for y in range(ny):
            rowflag = flag[x, y]
            if phase == 0:
                # S0: one pass per velocity over its row, adding to ρ and the moving components of j
                for z in range(nz):
                    rho[z] = 0.0
                    j[0, z] = -half[0]
                    j[1, z] = -half[1]
                    j[2, z] = -half[2]
                jx = j[0]
                jy = j[1]
                jz = j[2]
                for q in range(Q):
                    src = f[q, x, y]
                    cx = float(c[q, 0])
                    cy = float(c[q, 1])
                    cz = float(c[q, 2])
                    if cy == 0.0:            # 2D lattices are stored (x, 1, y): c_y = 0 throughout
                        for z in range(nz):
                            val = np.float64(src[z])
                            rho[z] += val
                            jx[z] += cx * val
                            jz[z] += cz * val
                    else:
                        for z in range(nz):
                            val = np.float64(src[z])
                            rho[z] += val
                            jx[z] += cx * val
                            jy[z] += cy * val
                            jz[z] += cz * val
                count += _tally(rho, j, rowflag, u2max)
                continue
            # S1: gather the Q rows of the post-collision populations of (x, y) first
            for q in range(Q):
                out = rows[q]
                a = (x + c[q, 0]) % nx
                b = (y + c[q, 1]) % ny
                src = f[opp[q], a, b]
                dz = c[q, 2]
                if dz == 0:
                    for z in range(nz):
                        out[z] = src[z]
                elif dz == 1:
                    for z in range(nz - 1):
                        out[z] = src[z + 1]
                    out[nz - 1] = src[0]
                else:
                    out[0] = src[nz - 1]
                    for z in range(1, nz):
                        out[z] = src[z - 1]
            for z in range(nz):
                rho[z] = rows[0, z]
            for q in range(1, Q):
                r = rows[q]
                for z in range(nz):
                    rho[z] += r[z]
            for k in range(3):
                jk = j[k]
                for z in range(nz):
                    jk[z] = -half[k]
                for q in range(Q):
                    s = c[q, k]
                    if s == 0:
                        continue
                    r = rows[q]
                    if s == 1:
                        for z in range(nz):
                            jk[z] += r[z]
                    else:
                        for z in range(nz):
                            jk[z] -= r[z]
            count += _tally(rho, j, rowflag, u2max)
    return count


@njit(cache=True, nogil=True, fastmath=set(FASTMATH))
def _tally(rho, j, rowflag, u2max):
    """Bad fluid nodes of one row: ρ not in (0, 1e30) or |j|² > u2max ρ² (|u|² > u2max), NaN included."""
    count = 0
    for z in range(rho.shape[0]):
        r = rho[z]
        a = j[0, z]
        b = j[1, z]
        d = j[2, z]
        good = (r > 0.0) & (r < 1e30) & (a * a + b * b + d * d <= u2max * r * r)
        count += (rowflag[z] == 0) & (not good)
    return count


def _rows(f, *args):
    return f.shape[1]


count_bad_rows = njit(cache=True, nogil=True, fastmath=set(FASTMATH))(_count_bad_rows)
#: ``count_bad(f, c, opp, F, flag, phase, u2max)``: the count of bad fluid nodes, one thread.
count_bad = RowKernel(count_bad_rows, _rows)
#: The same spread over numba's threads (identical result).
count_bad_parallel = RowKernel(count_bad_rows, _rows, parallel=True)


def count_bad_numpy(f, c, opp, F, flag, phase, u2max) -> int:
    """NumPy reference of :func:`count_bad`."""
    f = np.asarray(f, dtype=np.float64)
    if phase == 1:
        f = np.stack([np.roll(f[opp[q]], tuple(-int(s) for s in c[q]), axis=(0, 1, 2)) for q in range(len(c))])
    rho = f.sum(axis=0)
    j = np.tensordot(c.astype(float).T, f, axes=(1, 0)) - 0.5 * np.asarray(F, dtype=float).reshape(3, 1, 1, 1)
    fluid = flag == 0
    with np.errstate(all="ignore"):
        good_rho = (rho > 0) & (rho < 1e30)
        u2 = (j * j).sum(axis=0) / np.where(good_rho, rho, 1.0) ** 2
        bad = ~good_rho | ~(u2 <= u2max)
    return int(np.count_nonzero(bad & fluid))


class Report:
    """What a check found: ``mach`` (max over the checked nodes, NaN when some value is not
    finite), ``rho_min``, ``nonfinite`` (count)."""

    def __init__(self, mach: float, rho_min: float, nonfinite: int):
        self.mach = mach
        self.rho_min = rho_min
        self.nonfinite = nonfinite

    @property
    def unstable(self) -> bool:
        return self.nonfinite > 0 or not self.rho_min > 0.0 or not self.mach <= MACH_UNSTABLE

    @property
    def inaccurate(self) -> bool:
        return self.mach > MACH_ACCURACY

    def reason(self) -> str:
        if self.nonfinite:
            return f"{self.nonfinite} value(s) of density or velocity became non-finite"
        if not self.rho_min > 0.0:
            return f"the density fell to {self.rho_min:.3g} (it must stay positive)"
        return (f"the Mach number reached {self.mach:.3g} > {MACH_UNSTABLE:g} (|u| > c_s = 1/sqrt(3)): a "
                "supersonic lattice flow is outside what the method models")


def field_report(rho: np.ndarray, u: np.ndarray, fluid: np.ndarray | None = None) -> Report:
    """The :class:`Report` of density ``rho`` (*shape) and velocity ``u`` (*shape, D) over the
    nodes where ``fluid`` is true (all when None)."""
    if fluid is not None:
        rho, u = rho[fluid], u[fluid]
    if rho.size == 0:
        return Report(0.0, 1.0, 0)
    with np.errstate(all="ignore"):
        speed2 = (u * u).sum(axis=-1)
    finite = np.isfinite(rho) & np.isfinite(speed2)
    nonfinite = int(rho.size - np.count_nonzero(finite))
    if nonfinite:
        return Report(float("nan"), float("nan"), nonfinite)
    return Report(float(np.sqrt(speed2.max())) / CS, float(rho.min()), 0)

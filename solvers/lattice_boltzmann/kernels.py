"""Fused pull stream–collide kernels (numba), one for every lattice and collision model.

One lattice update of the populations stored *after* collision (``src`` → ``dst``, two
arrays, an A–B pattern)::

    f_i(x)  = src_i(x − c_i)                                 (pull streaming)
            = src_ī(x) + 6 w_i (c_i · u_w)                   (x − c_i solid: half-way bounce-back,
                                                              moving wall of velocity u_w, ρ_w = 1)
    ρ = Σ f_i,  u = (Σ c_i f_i + F/2)/ρ                      (Guo et al. 2002 velocity)
    dst_i(x) = f_i − [collision] + [Guo forcing]

with the Guo forcing term F_i = w_i [3(c_i − u) + 9 (c_i·u) c_i]·F (Guo, Zheng & Shi, Phys.
Rev. E 65, 046308 (2002), doi:10.1103/PhysRevE.65.046308) and the collision models

* ``model = 0`` BGK: −ω(f − f^eq) + (1 − ω/2) F_i (Qian et al. 1992);
* ``model = 1`` TRT: −ω⁺(f⁺ − f^eq⁺) − ω⁻(f⁻ − f^eq⁻) + (1 − ω⁺/2)F⁺ + (1 − ω⁻/2)F⁻
  (Ginzburg, Adv. Water Resour. 28, 1171 (2005), doi:10.1016/j.advwatres.2005.03.004);
* ``model = 2`` MRT: M⁻¹[−S M(f − f^eq) + (I − S/2) M F] (Lallemand & Luo 2000), applied as
  −A(f − f^eq) + B F with A = M⁻¹SM and B = M⁻¹(I − S/2)M passed precomputed (as ``M``, ``Minv``).

Node flags: 0 fluid (updated), 1 solid (bounce-back), 2 ghost (read, not updated: inlet and
outlet layers), 3 moving solid (bounce-back with ``uwall``). Arrays are (Q, nx, ny, nz);
2D lattices are stored as (Q, nx, 1, ny) so the innermost, contiguous axis is long.

Each row (x, y, all z) is pulled into a buffer with contiguous shifted copies; rows near
walls or obstacles (``simple[x, y]`` false) then patch the bounced populations node by node;
moments and collision run as loops over z that LLVM vectorises. The
kernel returns the number of nodes whose density came out non-positive or non-finite
(0 = a good step); ``dst`` is then garbage and ``src`` intact. The kernel is written for the
x-planes x0 ≤ x < x1, which are independent (each writes only its own plane of ``dst``), and
run on all of them serially or spread over threads (:class:`toolkit.kernels.rows.RowKernel`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from toolkit.kernels import FASTMATH
from toolkit.kernels.rows import RowKernel

__all__ = ["stream_collide", "stream_collide_parallel", "equilibrium_fill"]

_FM = set(FASTMATH)


def _stream_collide(x0, x1, src, dst, flag, simple, uwall, c, w, opp, model, omega, omega_m, M, Minv, S, F):
    """One step on the rows x0 ≤ x < x1; returns their number of bad nodes."""
    Q, nx, ny, nz = src.shape
    bad = 0
    F0 = F[0]
    F1 = F[1]
    F2 = F[2]
    forced = F0 != 0.0 or F1 != 0.0 or F2 != 0.0
    for x in range(x0, x1):
        xs = np.empty(Q, dtype=np.int64)
        buf = np.empty((Q, nz))
        neq = np.empty((Q, nz))
        frc = np.empty((Q, nz))
        rho = np.empty(nz)
        ux = np.empty(nz)
        uy = np.empty(nz)
        uz = np.empty(nz)
        usq = np.empty(nz)
        uF = np.empty(nz)
        fluid = np.empty(nz, dtype=np.bool_)
        for q in range(Q):
            a = x - c[q, 0]
            if a < 0:
                a += nx
            elif a >= nx:
                a -= nx
            xs[q] = a
        for y in range(ny):
            rowflag = flag[x, y]
            nfluid = 0
            for z in range(nz):
                fluid[z] = rowflag[z] == 0
                nfluid += fluid[z]
            if nfluid == 0:
                continue
            # 1. pull the row into buf with contiguous shifted copies, accumulating the moments
            for z in range(nz):
                rho[z] = 0.0
                ux[z] = 0.0
                uy[z] = 0.0
                uz[z] = 0.0
            easy = simple[x, y]
            for q in range(Q):
                a = xs[q]
                b = y - c[q, 1]
                if b < 0:
                    b += ny
                elif b >= ny:
                    b -= ny
                dz = c[q, 2]
                row = src[q, a, b]
                out = buf[q]
                if dz == 0:
                    for z in range(nz):
                        out[z] = row[z]
                elif dz == 1:
                    out[0] = row[nz - 1]
                    for z in range(1, nz):
                        out[z] = row[z - 1]
                else:
                    for z in range(nz - 1):
                        out[z] = row[z + 1]
                    out[nz - 1] = row[0]
                if not easy:
                    # near walls and obstacles: half-way bounce-back where the source node is solid
                    o = opp[q]
                    for z in range(nz):
                        d = z - dz
                        if d < 0:
                            d += nz
                        elif d >= nz:
                            d -= nz
                        fl = flag[a, b, d]
                        if fl == 1:
                            out[z] = src[o, x, y, z]
                        elif fl == 3:
                            out[z] = src[o, x, y, z] + 6.0 * w[q] * (
                                c[q, 0] * uwall[0, a, b, d] + c[q, 1] * uwall[1, a, b, d]
                                + c[q, 2] * uwall[2, a, b, d])
                cx = float(c[q, 0])
                cy = float(c[q, 1])
                cz = float(c[q, 2])
                for z in range(nz):
                    val = out[z]
                    rho[z] += val
                    ux[z] += cx * val
                    uy[z] += cy * val
                    uz[z] += cz * val
            nbad = 0
            for z in range(nz):
                r = rho[z]
                if fluid[z] and not (r > 0.0 and r < 1e30):
                    nbad += 1
                if not fluid[z]:
                    rho[z] = 1.0          # keep the arithmetic of skipped nodes finite
            if nbad:
                bad += nbad
                continue
            for z in range(nz):
                inv = 1.0 / rho[z]
                a_ = (ux[z] + 0.5 * F0) * inv
                b_ = (uy[z] + 0.5 * F1) * inv
                d_ = (uz[z] + 0.5 * F2) * inv
                ux[z] = a_
                uy[z] = b_
                uz[z] = d_
                usq[z] = 1.5 * (a_ * a_ + b_ * b_ + d_ * d_)
                uF[z] = a_ * F0 + b_ * F1 + d_ * F2
            # 4. collide and write the fluid nodes (others keep their populations)
            if model == 0:
                keep = 1.0 - omega
                gain = 1.0 - 0.5 * omega
                for q in range(Q):
                    cx = float(c[q, 0])
                    cy = float(c[q, 1])
                    cz = float(c[q, 2])
                    wq = w[q]
                    cF = cx * F0 + cy * F1 + cz * F2
                    out = buf[q]
                    target = dst[q, x, y]
                    old = src[q, x, y]
                    if forced:
                        for z in range(nz):
                            cu = 3.0 * (cx * ux[z] + cy * uy[z] + cz * uz[z])
                            eq = wq * rho[z] * (1.0 + cu + 0.5 * cu * cu - usq[z])
                            force = wq * (3.0 * (cF - uF[z]) + 3.0 * cu * cF)
                            val = keep * out[z] + omega * eq + gain * force
                            target[z] = val if fluid[z] else old[z]
                    elif easy:
                        ow = omega * wq
                        for z in range(nz):
                            cu = 3.0 * (cx * ux[z] + cy * uy[z] + cz * uz[z])
                            target[z] = keep * out[z] + ow * rho[z] * (1.0 + cu + 0.5 * cu * cu - usq[z])
                    else:
                        ow = omega * wq
                        for z in range(nz):
                            cu = 3.0 * (cx * ux[z] + cy * uy[z] + cz * uz[z])
                            val = keep * out[z] + ow * rho[z] * (1.0 + cu + 0.5 * cu * cu - usq[z])
                            target[z] = val if fluid[z] else old[z]
            elif model == 1:
                gp = 1.0 - 0.5 * omega
                gm = 1.0 - 0.5 * omega_m
                for q in range(Q):
                    o = opp[q]
                    cx = float(c[q, 0])
                    cy = float(c[q, 1])
                    cz = float(c[q, 2])
                    wq = w[q]
                    cF = cx * F0 + cy * F1 + cz * F2
                    fa = buf[q]
                    fb = buf[o]
                    target = dst[q, x, y]
                    old = src[q, x, y]
                    for z in range(nz):
                        cu = 3.0 * (cx * ux[z] + cy * uy[z] + cz * uz[z])
                        base = wq * rho[z] * (1.0 + 0.5 * cu * cu - usq[z])
                        odd = wq * rho[z] * cu
                        # even/odd parts of f^eq and of the Guo term (w_ī = w_i, c_ī = −c_i)
                        s_even = wq * 3.0 * cu * cF - wq * 3.0 * uF[z]
                        s_odd = wq * 3.0 * cF
                        fp = 0.5 * (fa[z] + fb[z])
                        fm = 0.5 * (fa[z] - fb[z])
                        val = fa[z] - omega * (fp - base) - omega_m * (fm - odd) + gp * s_even + gm * s_odd
                        target[z] = val if fluid[z] else old[z]
            else:
                # M holds A = M⁻¹ S M and Minv holds B = M⁻¹ (I − S/2) M (see base.Collision)
                for q in range(Q):
                    cx = float(c[q, 0])
                    cy = float(c[q, 1])
                    cz = float(c[q, 2])
                    wq = w[q]
                    cF = cx * F0 + cy * F1 + cz * F2
                    out = buf[q]
                    e = neq[q]
                    s_ = frc[q]
                    for z in range(nz):
                        cu = 3.0 * (cx * ux[z] + cy * uy[z] + cz * uz[z])
                        e[z] = out[z] - wq * rho[z] * (1.0 + cu + 0.5 * cu * cu - usq[z])
                        s_[z] = wq * (3.0 * (cF - uF[z]) + 3.0 * cu * cF)
                for q in range(Q):
                    target = dst[q, x, y]
                    old = src[q, x, y]
                    out = buf[q]
                    for z in range(nz):
                        rho[z] = out[z]           # reuse as the accumulator
                    for k in range(Q):
                        a_ = M[q, k]
                        b_ = Minv[q, k]
                        if a_ != 0.0 or b_ != 0.0:
                            e = neq[k]
                            s_ = frc[k]
                            for z in range(nz):
                                rho[z] += b_ * s_[z] - a_ * e[z]
                    for z in range(nz):
                        target[z] = rho[z] if fluid[z] else old[z]
    return bad


def src_rows(src, *args):
    """The row count of a two-array kernel call: the x-planes of ``src``."""
    return src.shape[1]


#: The row kernel (rows x0 ≤ x < x1), jitted once.
stream_collide_rows = njit(cache=True, nogil=True, fastmath=_FM)(_stream_collide)
#: ``stream_collide(src, dst, flag, ...)``: all rows on one thread (use inside ensembles).
stream_collide = RowKernel(stream_collide_rows, src_rows)
#: The same kernel with the x-rows spread over numba's threads; it runs the serial build's
#: machine code, so its result equals the serial one bit for bit (:mod:`toolkit.kernels.rows`).
stream_collide_parallel = RowKernel(stream_collide_rows, src_rows, parallel=True)


@njit(cache=True, nogil=True)
def equilibrium_fill(out, rho, ux, uy, uz, c, w):
    """out[q] = f^eq_q(rho, u) on every node (rho, u: arrays of out.shape[1:])."""
    Q = out.shape[0]
    nx, ny, nz = rho.shape
    for x in range(nx):
        for y in range(ny):
            for z in range(nz):
                r = rho[x, y, z]
                a = ux[x, y, z]
                b = uy[x, y, z]
                d = uz[x, y, z]
                usq = 1.5 * (a * a + b * b + d * d)
                for q in range(Q):
                    cu = 3.0 * (c[q, 0] * a + c[q, 1] * b + c[q, 2] * d)
                    out[q, x, y, z] = w[q] * r * (1.0 + cu + 0.5 * cu * cu - usq)


@njit(cache=True, nogil=True)
def ghost_fill(f, axis, g, nb, pressure, value, prof1, prof2, c, w, F):
    """Non-equilibrium extrapolation of one ghost layer (see ``domain.fill_ghosts_numpy``).

    ``axis`` (0, 1, 2) and the ghost/neighbour indices ``g``/``nb`` along it; ``pressure``
    false: velocity inlet with u = ``value`` (3,) × prof1[i] × prof2[j] over the layer's two
    tangential indices; true: pressure outlet with ρ = value[0].
    """
    Q, nx, ny, nz = f.shape
    n1 = ny if axis == 0 else nx
    n2 = nz if axis != 2 else ny
    fn = np.empty(Q)
    for i in range(n1):
        for j in range(n2):
            if axis == 0:
                xg, yg, zg, xn, yn, zn = g, i, j, nb, i, j
            elif axis == 1:
                xg, yg, zg, xn, yn, zn = i, g, j, i, nb, j
            else:
                xg, yg, zg, xn, yn, zn = i, j, g, i, j, nb
            rho = 0.0
            jx = 0.0
            jy = 0.0
            jz = 0.0
            for q in range(Q):
                val = f[q, xn, yn, zn]
                fn[q] = val
                rho += val
                jx += c[q, 0] * val
                jy += c[q, 1] * val
                jz += c[q, 2] * val
            ux = (jx - 0.5 * F[0]) / rho
            uy = (jy - 0.5 * F[1]) / rho
            uz = (jz - 0.5 * F[2]) / rho
            if pressure:
                rb, ax, ay, az = value[0], ux, uy, uz
            else:
                shape_ = prof1[i] * prof2[j]
                rb, ax, ay, az = rho, value[0] * shape_, value[1] * shape_, value[2] * shape_
            usq_n = 1.5 * (ux * ux + uy * uy + uz * uz)
            usq_b = 1.5 * (ax * ax + ay * ay + az * az)
            for q in range(Q):
                cn = 3.0 * (c[q, 0] * ux + c[q, 1] * uy + c[q, 2] * uz)
                cb = 3.0 * (c[q, 0] * ax + c[q, 1] * ay + c[q, 2] * az)
                eq_n = w[q] * rho * (1.0 + cn + 0.5 * cn * cn - usq_n)
                eq_b = w[q] * rb * (1.0 + cb + 0.5 * cb * cb - usq_b)
                f[q, xg, yg, zg] = eq_b + (fn[q] - eq_n)

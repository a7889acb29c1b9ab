"""NumPy reference of the stream–collide step (the numba kernels must agree with it).

Same update as :mod:`.kernels` written with ``np.roll`` and whole-array arithmetic: easy
to read, slow, and used by the tests (and by ``backend="numpy"`` solvers).
"""

from __future__ import annotations

import numpy as np

__all__ = ["stream_collide_numpy", "macroscopic", "equilibrium"]


def equilibrium(rho, u, c, w):
    """f^eq_q = w_q ρ (1 + 3 c·u + 9/2 (c·u)² − 3/2 u²); rho (...), u (3, ...) -> (Q, ...)."""
    cu = 3.0 * np.tensordot(c.astype(float), u, axes=(1, 0))
    usq = 1.5 * (u * u).sum(axis=0)
    return w.reshape((-1,) + (1,) * rho.ndim) * rho * (1.0 + cu + 0.5 * cu * cu - usq)


def macroscopic(post, c, F):
    """Density and velocity (3, ...) from post-collision populations: u = (Σ c f − F/2)/ρ.

    Post-collision momentum is the pre-collision one plus F, so this equals Guo's
    (Σ c f_pre + F/2)/ρ at the same step.
    """
    rho = post.sum(axis=0)
    j = np.tensordot(c.astype(float).T, post, axes=(1, 0))
    return rho, (j - 0.5 * np.asarray(F, dtype=float).reshape((3,) + (1,) * rho.ndim)) / rho


def stream_collide_numpy(src, dst, flag, simple, uwall, c, w, opp, model, omega, omega_m, M, Minv, S, F):
    """One step ``src`` -> ``dst`` (same arguments and result as the numba kernel; ``simple`` unused)."""
    Q = src.shape[0]
    shifts = [tuple(int(s) for s in c[q]) for q in range(Q)]
    full_uwall = uwall if uwall.shape[1:] == flag.shape else np.zeros((3,) + flag.shape)
    f = np.empty(src.shape, dtype=np.float64)
    for q in range(Q):
        pulled = np.roll(src[q], shifts[q], axis=(0, 1, 2))
        nflag = np.roll(flag, shifts[q], axis=(0, 1, 2))
        wall_u = np.roll(full_uwall, shifts[q], axis=(1, 2, 3))
        moving = 6.0 * w[q] * (c[q, 0] * wall_u[0] + c[q, 1] * wall_u[1] + c[q, 2] * wall_u[2])
        bounced = src[opp[q]].astype(np.float64)
        f[q] = np.where(nflag == 1, bounced, np.where(nflag == 3, bounced + moving, pulled))
    fluid = flag == 0
    rho = np.zeros(flag.shape)
    j = np.zeros((3,) + flag.shape)
    for q in range(Q):
        rho = rho + f[q]
        for k in range(3):
            j[k] = j[k] + f[q] * c[q, k]
    good = (rho > 0) & (rho < 1e30)
    bad = int(np.count_nonzero(fluid & ~good))
    if bad:
        return bad
    Fv = np.asarray(F, dtype=np.float64)
    u = (j + 0.5 * Fv.reshape(3, 1, 1, 1)) / np.where(fluid, rho, 1.0)
    feq = equilibrium(np.where(fluid, rho, 1.0), u, c, w)
    cF = c.astype(float) @ Fv
    uF = np.tensordot(Fv, u, axes=(0, 0))
    cu = 3.0 * np.tensordot(c.astype(float), u, axes=(1, 0))
    fq = w[:, None, None, None] * (3.0 * (cF[:, None, None, None] - uF) + 3.0 * cu * cF[:, None, None, None])
    if model == 0:
        new = (1.0 - omega) * f + omega * feq + (1.0 - 0.5 * omega) * fq
    elif model == 1:
        fp, fm = 0.5 * (f + f[opp]), 0.5 * (f - f[opp])
        ep, em = 0.5 * (feq + feq[opp]), 0.5 * (feq - feq[opp])
        sp, sm = 0.5 * (fq + fq[opp]), 0.5 * (fq - fq[opp])
        new = f - omega * (fp - ep) - omega_m * (fm - em) + (1 - 0.5 * omega) * sp + (1 - 0.5 * omega_m) * sm
    else:
        # M, Minv hold A = M⁻¹ S M and B = M⁻¹ (I − S/2) M (see base.Collision)
        new = f - np.tensordot(M, f - feq, axes=(1, 0)) + np.tensordot(Minv, fq, axes=(1, 0))
    dst[:, fluid] = new[:, fluid]
    return 0

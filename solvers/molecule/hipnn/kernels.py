"""Numba kernels of HIP-NN's environment sum and its adjoints (the CPU ``kernel="numba"`` path).

For directed pairs ``p = (i <- j)`` (``i = first[p]``, ``j = second[p]``), sensitivities
``s[p, nu]`` and atom features ``z[j, f]``::

    envsum:    env[i, nu, f]  = sum_{p: first=i} s[p, nu] z[second_p, f]
    sensesum:  gs[p, nu]      = sum_f genv[first_p, nu, f] z[second_p, f]       (= dL/ds)
    featsum:   gz[j, f]       = sum_{p: second=j} sum_nu genv[first_p, nu, f] s[p, nu]   (= dL/dz)

``sensitivity`` fuses the sensitivity functions with their derivative in ``r`` (inference, where
``mu`` and ``sigma`` are constants). No (pairs x sensitivities x features) array is ever formed (the pure-torch path in
:mod:`.model` forms it in slices; it is the reference these kernels are tested against). The
same three operations are hippynn's custom kernels (Lubbers et al. 2018).
``sensitivity_exponent`` and ``sensitivity_envsum_adjoint`` serve training with constant
distances (the block comment above them).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: LLVM flag of the multiply-adds: fused multiply-add allowed (one rounding instead of two).
_CONTRACT = {"contract"}

__all__ = ["envsum", "sensesum", "featsum", "sensitivity", "contract_rows", "sensitivity_exponent",
           "sensitivity_envsum_adjoint"]


@njit(cache=True, nogil=True, fastmath=_CONTRACT)
def envsum(s, z, first, second, env):
    """``env[:] = 0``, then ``env[i, nu, f] += s[p, nu] z[j, f]`` over pairs (see module docstring).
    (Row views keep the feature loop a plain contiguous multiply-add, which LLVM vectorises.)"""
    env[:] = 0.0
    n_nu = s.shape[1]
    n_f = z.shape[1]
    for p in range(first.shape[0]):
        s_p = s[p]
        env_i = env[first[p]]
        z_j = z[second[p]]
        for nu in range(n_nu):
            w = s_p[nu]
            row = env_i[nu]
            for f in range(n_f):
                row[f] += w * z_j[f]
    return env


@njit(cache=True, nogil=True)
def sensesum(genv, z, first, second, out):
    """``out[p, nu] = sum_f genv[first_p, nu, f] z[second_p, f]``."""
    n_nu = genv.shape[1]
    n_f = z.shape[1]
    for p in range(first.shape[0]):
        i = first[p]
        j = second[p]
        for nu in range(n_nu):
            acc = 0.0
            for f in range(n_f):
                acc += genv[i, nu, f] * z[j, f]
            out[p, nu] = acc
    return out


@njit(cache=True, nogil=True)
def featsum(genv, s, first, second, out):
    """``out[:] = 0``, then ``out[j, f] += sum_nu genv[first_p, nu, f] s[p, nu]`` over pairs."""
    out[:] = 0.0
    n_nu = s.shape[1]
    n_f = out.shape[1]
    for p in range(first.shape[0]):
        i = first[p]
        j = second[p]
        for nu in range(n_nu):
            w = s[p, nu]
            for f in range(n_f):
                out[j, f] += w * genv[i, nu, f]
    return out


@njit(cache=True, nogil=True)
def sensitivity(r, mu, sigma, cutoff, s, dsdr):
    """``s[p, nu] = exp(-u^2 / 2) cos^2(pi r / 2 R_c)`` for ``r <= R_c`` (else 0), with
    ``u = (1/r - 1/mu_nu) sigma_nu``, and its derivative ``ds/dr`` (:mod:`.model`)."""
    a = 0.5 * np.pi / cutoff
    for p in range(r.shape[0]):
        rp = r[p]
        if rp > cutoff:
            for nu in range(mu.shape[0]):
                s[p, nu] = 0.0
                dsdr[p, nu] = 0.0
            continue
        c = np.cos(a * rp)
        cut = c * c
        dcut = -a * np.sin(2.0 * a * rp)
        inv = 1.0 / rp
        for nu in range(mu.shape[0]):
            u = (inv - 1.0 / mu[nu]) * sigma[nu]
            g = np.exp(-0.5 * u * u)
            s[p, nu] = g * cut
            dsdr[p, nu] = u * sigma[nu] * g * inv * inv * cut + g * dcut
    return s


@njit(cache=True, nogil=True)
def contract_rows(g, dsdr, out):
    """``out[p] = sum_nu g[p, nu] dsdr[p, nu]`` (the chain rule through the sensitivities)."""
    for p in range(g.shape[0]):
        acc = 0.0
        for nu in range(g.shape[1]):
            acc += g[p, nu] * dsdr[p, nu]
        out[p] = acc
    return out


# -- training: sensitivities fused with the environment sum -----------------------------------
#
# In energy-only training the distances are constants and only mu, sigma and z carry gradients.
# With ``u[p, nu] = (1/r_p - 1/mu_nu) sigma_nu`` and ``s = exp(-u^2 / 2) cos^2(pi r / 2 R_c)``::
#
#     ds/dmu_nu    = -u s sigma_nu / mu_nu^2 = -s d sigma_nu^2 / mu_nu^2,     d = 1/r_p - 1/mu_nu
#     ds/dsigma_nu = -u s d                  = -s d^2 sigma_nu
#
# so with ``gs[p, nu] = sum_f genv[first_p, nu, f] z[second_p, f]`` (= dL/ds)::
#
#     dL/dmu_nu    = -(sigma_nu^2 / mu_nu^2) sum_p gs s d,     dL/dsigma_nu = -sigma_nu sum_p gs s d^2
#
# (reductions over pairs, accumulated in float64), and neither gs nor ds/dmu is ever stored.
# The forward pass is ``sensitivity_exponent``, NumPy's (SIMD) ``np.exp`` and cutoff factor, and
# ``envsum``; the backward pass is ``sensitivity_envsum_adjoint``.

#: LLVM flags of the reductions over features: reassociation (vectorised sums) and fused
#: multiply-add only; no assumptions about NaN, infinities or signed zeros.
_REDUCE = {"reassoc", "contract"}


@njit(cache=True, nogil=True)
def sensitivity_exponent(r, mu, sigma, cutoff, out):
    """``out[p, nu] = -u^2 / 2`` with ``u = (1/r_p - 1/mu_nu) sigma_nu`` for ``r_p <= R_c``, and
    ``-inf`` beyond the cutoff (so that ``exp`` gives exactly 0)."""
    n_nu = mu.shape[0]
    inv_mu = 1.0 / mu
    for p in range(r.shape[0]):
        rp = r[p]
        if rp > cutoff:
            for nu in range(n_nu):
                out[p, nu] = -np.inf
            continue
        inv = 1.0 / rp
        for nu in range(n_nu):
            u = (inv - inv_mu[nu]) * sigma[nu]
            out[p, nu] = -0.5 * u * u
    return out


@njit(cache=True, nogil=True, fastmath=_REDUCE)
def sensitivity_envsum_adjoint(genv, s, r, mu, sigma, z, first, second, want_z, gz, gmu, gsigma):
    """The adjoint of ``env = envsum(s(r; mu, sigma), z)`` (block comment above): ``gz`` (when
    ``want_z``; its shape is ``z``'s either way), ``gmu`` and ``gsigma`` from ``genv = dL/denv``,
    in one pass over the pairs (``z`` needs at least one feature)."""
    n_nu = s.shape[1]
    n_f = z.shape[1]
    gz[:] = 0.0
    inv_mu = 1.0 / mu
    acc_mu = np.zeros(n_nu)
    acc_sigma = np.zeros(n_nu)
    for p in range(first.shape[0]):
        j = second[p]
        genv_i = genv[first[p]]
        z_j = z[j]
        sp = s[p]
        gz_j = gz[j]
        inv = 1.0 / r[p]
        for nu in range(n_nu):
            w = sp[nu]
            if w == 0.0:                    # beyond the cutoff (or underflow): no contribution
                continue
            g = genv_i[nu]
            gs = g[0] * z_j[0]
            for f in range(1, n_f):
                gs += g[f] * z_j[f]
            if want_z:
                for f in range(n_f):
                    gz_j[f] += w * g[f]
            d = inv - inv_mu[nu]
            t = np.float64(gs) * np.float64(w) * d
            acc_mu[nu] += t
            acc_sigma[nu] += t * d
    for nu in range(n_nu):
        gmu[nu] = -acc_mu[nu] * (sigma[nu] * inv_mu[nu]) ** 2
        gsigma[nu] = -acc_sigma[nu] * sigma[nu]
    return gz

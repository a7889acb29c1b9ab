"""Numba kernels of HIP-NN's environment sum and its two adjoints (CPU inference path).

For directed pairs ``p = (i <- j)`` (``i = first[p]``, ``j = second[p]``), sensitivities
``s[p, nu]`` and atom features ``z[j, f]``::

    envsum:    env[i, nu, f]  = sum_{p: first=i} s[p, nu] z[second_p, f]
    sensesum:  gs[p, nu]      = sum_f genv[first_p, nu, f] z[second_p, f]       (= dL/ds)
    featsum:   gz[j, f]       = sum_{p: second=j} sum_nu genv[first_p, nu, f] s[p, nu]   (= dL/dz)

``sensitivity`` fuses the sensitivity functions with their derivative in ``r`` (inference, where
``mu`` and ``sigma`` are constants). No (pairs x sensitivities x features) array is ever formed (the pure-torch path in
:mod:`.model` forms it in slices; it is the reference these kernels are tested against). The
same three operations are hippynn's custom kernels (Lubbers et al. 2018).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["envsum", "sensesum", "featsum", "sensitivity", "contract_rows"]


@njit(cache=True, nogil=True)
def envsum(s, z, first, second, env):
    """``env[:] = 0``, then ``env[i, nu, f] += s[p, nu] z[j, f]`` over pairs (see module docstring)."""
    env[:] = 0.0
    n_nu = s.shape[1]
    n_f = z.shape[1]
    for p in range(first.shape[0]):
        i = first[p]
        j = second[p]
        for nu in range(n_nu):
            w = s[p, nu]
            for f in range(n_f):
                env[i, nu, f] += w * z[j, f]
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

"""Nosé–Hoover chain thermostat: masses, Suzuki–Yoshida weights, energy and a NumPy reference.

Equations of motion (Martyna, Klein & Tuckerman, J. Chem. Phys. 97, 2635 (1992),
doi:10.1063/1.463940), for particles with ``g`` degrees of freedom and a chain of ``M`` thermostats
with positions ``eta_k`` and velocities ``v_k``::

    dp_i/dt    = F_i - v_1 p_i
    deta_k/dt  = v_k
    dv_1/dt    = (2K - g kT) / Q_1 - v_1 v_2
    dv_k/dt    = (Q_{k-1} v_{k-1}^2 - kT) / Q_k - v_k v_{k+1}      (k = 2..M, v_{M+1} = 0)

with ``Q_1 = g kT tau^2`` and ``Q_k = kT tau^2`` (``tau`` = ``tdamp``, the thermostat period over
2 pi). The conserved energy is ``H + sum_k Q_k v_k^2 / 2 + g kT eta_1 + kT sum_{k>1} eta_k``
(:func:`chain_energy`). ``M = 1`` is the plain Nosé–Hoover thermostat (Nosé 1984; Hoover 1985),
which is not ergodic for small or stiff systems (a harmonic oscillator); the chain is.

The thermostat half step ``exp(iL_NHC dt/2)`` is factorised by Trotter and a Suzuki–Yoshida
composition of order ``n_yoshida`` applied ``n_respa`` times (Martyna, Tuckerman, Tobias & Klein,
Mol. Phys. 87, 1117 (1996), doi:10.1080/00268979600100761, Sec. 4; Yoshida, Phys. Lett. A 150, 262
(1990); Suzuki, J. Math. Phys. 32, 400 (1991)): it is time reversible, and the particle velocities
are scaled once at the end by the accumulated factor. :func:`nhc_half_numpy` is the NumPy reference
of the numba kernel :func:`solvers.molecule.kernels.nhc_half`; the state is one array
``nh = [v_1..v_M, eta_1..eta_M]`` (for ``M = 1`` the layout of the earlier ``[zeta, eta]``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["suzuki_yoshida_weights", "chain_masses", "chain_energy", "nhc_half_numpy", "YOSHIDA_ORDERS"]

#: Suzuki–Yoshida orders with weights (MTK 1996, Table 1 / Yoshida 1990).
YOSHIDA_ORDERS = (1, 3, 5, 7)


def suzuki_yoshida_weights(order: int) -> np.ndarray:
    """Weights ``w_j`` (summing to 1) of the symmetric Suzuki–Yoshida composition of ``order``."""
    if order == 1:
        return np.array([1.0])
    if order == 3:
        w1 = 1.0 / (2.0 - 2.0 ** (1.0 / 3.0))
        return np.array([w1, 1.0 - 2.0 * w1, w1])
    if order == 5:
        w1 = 1.0 / (4.0 - 4.0 ** (1.0 / 3.0))
        return np.array([w1, w1, 1.0 - 4.0 * w1, w1, w1])
    if order == 7:   # Yoshida (1990), solution A
        w1, w2, w3 = 0.784513610477560, 0.235573213359357, -1.17767998417887
        w4 = 1.0 - 2.0 * (w1 + w2 + w3)
        return np.array([w1, w2, w3, w4, w3, w2, w1])
    raise ValueError(f"n_yoshida = {order!r}: choose one of {YOSHIDA_ORDERS}")


def chain_masses(ndof: float, kt: float, tau: float, length: int) -> np.ndarray:
    """``Q = [g kT tau^2, kT tau^2, ...]`` (MKT 1992, Eq. 2.9 with ``omega = 1/tau``)."""
    q = np.full(length, kt * tau * tau)
    q[0] *= ndof
    return q


def chain_energy(nh: np.ndarray, q: np.ndarray, ndof: float, kt: float) -> float:
    """``sum_k Q_k v_k^2 / 2 + g kT eta_1 + kT sum_{k>1} eta_k``: the thermostat part of the conserved energy."""
    m = len(q)
    vel, eta = nh[:m], nh[m:]
    return float(0.5 * np.sum(q * vel * vel) + ndof * kt * eta[0] + kt * np.sum(eta[1:]))


def nhc_half_numpy(v, mass, nh, q, weights, n_respa, ndof, kt, dt) -> float:
    """Reference for :func:`solvers.molecule.kernels.nhc_half` (same arguments, same order of
    operations): advance the chain and scale ``v`` in place by half a step ``dt / 2``; return 2K."""
    m = len(q)
    two_k = float(np.sum(mass[:, None] * v * v))
    scale = 1.0
    last = m - 1

    def force(k):
        if k == 0:
            return (two_k - ndof * kt) / q[0]
        return (q[k - 1] * nh[k - 1] ** 2 - kt) / q[k]

    for _ in range(n_respa):
        for w in weights:
            h = w * dt / (2.0 * n_respa)          # the sub-steps sum to dt / 2
            nh[last] += 0.5 * h * force(last)
            for k in range(last - 1, -1, -1):
                a = np.exp(-0.25 * h * nh[k + 1])
                nh[k] = nh[k] * a * a + 0.5 * h * force(k) * a
            s = np.exp(-h * nh[0])
            scale *= s
            two_k *= s * s
            for k in range(m):
                nh[m + k] += h * nh[k]
            for k in range(last):
                a = np.exp(-0.25 * h * nh[k + 1])
                nh[k] = nh[k] * a * a + 0.5 * h * force(k) * a
            nh[last] += 0.5 * h * force(last)
    v *= scale
    return two_k

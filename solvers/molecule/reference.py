"""Published references for the Lennard-Jones fluid.

Johnson, Zollweg & Gubbins, "The Lennard-Jones equation of state revisited", Mol. Phys. 78, 591
(1993), doi:10.1080/00268979300100411: a 33-parameter modified Benedict–Webb–Rubin fit to
simulations of the full (untruncated) LJ fluid. :func:`jzg_eos` gives the pressure P* and the
configurational energy per particle U*/N in reduced units (Table 10 coefficients, gamma = 3).

:func:`lj_tail_corrections` gives the long-range corrections that turn a truncated (not
shifted) LJ simulation at cutoff ``rc`` into the full potential, assuming g(r) = 1 beyond rc
(Allen & Tildesley, 2nd ed., §2.8).
"""

from __future__ import annotations

import numpy as np

__all__ = ["jzg_eos", "lj_tail_corrections", "JZG_X"]

#: Johnson et al. (1993) Table 10, x1..x32.
JZG_X = np.array([
    0.8623085097507421, 2.976218765822098, -8.402230115796038, 0.1054136629203555, -0.8564583828174598,
    1.582759470107601, 0.7639421948305453, 1.753173414312048, 2.798291772190376e3, -4.8394220260857657e-2,
    0.9963265197721935, -3.698000291272493e1, 2.084012299434647e1, 8.305402124717285e1, -9.574799715203068e2,
    -1.477746229234994e2, 6.398607852471505e1, 1.603993673294834e1, 6.805916615864377e1, -2.791293578795945e3,
    -6.245128304568454, -8.116836104958410e3, 1.488735559561229e1, -1.059346754655084e4, -1.131607632802822e2,
    -8.867771540418822e3, -3.986982844450543e1, -4.689270299917261e3, 2.593535277438717e2, -2.694523589434903e3,
    -7.218487631550215e2, 1.721802063863269e2])


def jzg_eos(density: float, temperature: float) -> tuple[float, float]:
    """``(P*, U*/N)`` of the full LJ fluid at reduced density rho* and temperature T* (JZG 1993)."""
    x = np.concatenate([[0.0], JZG_X])
    t, rho, gamma = float(temperature), float(density), 3.0
    a = [x[1] * t + x[2] * np.sqrt(t) + x[3] + x[4] / t + x[5] / t ** 2,
         x[6] * t + x[7] + x[8] / t + x[9] / t ** 2,
         x[10] * t + x[11] + x[12] / t,
         x[13],
         x[14] / t + x[15] / t ** 2,
         x[16] / t,
         x[17] / t + x[18] / t ** 2,
         x[19] / t ** 2]
    b = [(x[20] + x[21] / t) / t ** 2, (x[22] + x[23] / t ** 2) / t ** 2, (x[24] + x[25] / t) / t ** 2,
         (x[26] + x[27] / t ** 2) / t ** 2, (x[28] + x[29] / t) / t ** 2,
         (x[30] + x[31] / t + x[32] / t ** 2) / t ** 2]
    c = [x[2] * np.sqrt(t) / 2 + x[3] + 2 * x[4] / t + 3 * x[5] / t ** 2,
         x[7] + 2 * x[8] / t + 3 * x[9] / t ** 2,
         x[11] + 2 * x[12] / t,
         x[13],
         2 * x[14] / t + 3 * x[15] / t ** 2,
         2 * x[16] / t,
         2 * x[17] / t + 3 * x[18] / t ** 2,
         3 * x[19] / t ** 2]
    d = [(3 * x[20] + 4 * x[21] / t) / t ** 2, (3 * x[22] + 5 * x[23] / t ** 2) / t ** 2,
         (3 * x[24] + 4 * x[25] / t) / t ** 2, (3 * x[26] + 5 * x[27] / t ** 2) / t ** 2,
         (3 * x[28] + 4 * x[29] / t) / t ** 2, (3 * x[30] + 4 * x[31] / t + 5 * x[32] / t ** 2) / t ** 2]
    f = np.exp(-gamma * rho ** 2)
    g = [(1 - f) / (2 * gamma)]
    for k in range(1, 6):
        g.append(-(f * rho ** (2 * k) - 2 * k * g[k - 1]) / (2 * gamma))
    pressure = rho * t + sum(a[i] * rho ** (i + 2) for i in range(8)) + \
        f * sum(b[i] * rho ** (2 * i + 3) for i in range(6))
    energy = sum(c[i] * rho ** (i + 1) / (i + 1) for i in range(8)) + sum(d[i] * g[i] for i in range(6))
    return float(pressure), float(energy)


def lj_tail_corrections(density: float, cutoff: float) -> tuple[float, float]:
    """``(dP*, dU*/N)`` to add to a truncated LJ simulation with cutoff ``rc`` (reduced units)."""
    sr3 = 1.0 / cutoff ** 3
    sr9 = sr3 ** 3
    du = 8.0 / 3.0 * np.pi * density * (sr9 / 3.0 - sr3)
    dp = 16.0 / 3.0 * np.pi * density ** 2 * (2.0 / 3.0 * sr9 - sr3)
    return float(dp), float(du)

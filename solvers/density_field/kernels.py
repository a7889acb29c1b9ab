"""Numba kernels of the density-field family: the local chemical potential f'(phi).

``kind`` 0 is the lattice-gas entropy ``f' = T [ln phi - ln(1 - phi)] - h`` (a = T, b = h),
``kind`` 1 the Landau polynomial ``f' = eps phi - g phi^2 + phi^3`` (a = eps, b = g).
Both kernels write ``out`` and return a status: 0 fine, 1 a non-finite value, 2 a density
outside the functional's domain (the lattice gas needs 0 < phi < 1). The NumPy reference is
:func:`local_derivative_reference` (and the components' own ``df``).

:func:`energy_density_sum` is the free energy's sum ``Σ_x [1/2 phi (V * phi) + f(phi)]`` in one
pass, given the convolution (``f = T [phi ln phi + (1 - phi) ln(1 - phi)] - h phi`` or
``eps/2 phi^2 - g/3 phi^3 + phi^4/4``); NaN when a density is outside the domain, as NumPy gives.
Its NumPy reference is the components' own ``f``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from toolkit.kernels import FASTMATH

__all__ = ["local_derivative", "local_derivative_parallel", "local_derivative_reference", "apply_local",
           "energy_density_sum", "energy_sum"]


@njit(cache=True, nogil=True, fastmath=set(FASTMATH))
def local_derivative(phi, out, kind, a, b):
    """out[i] = f'(phi[i]) over flat float64 arrays; returns 0, 1 (non-finite) or 2 (outside domain)."""
    status = 0
    for i in range(phi.size):
        x = phi[i]
        if kind == 0:
            if not (x > 0.0 and x < 1.0):
                out[i] = 0.0
                status = 2
                continue
            y = a * (np.log(x) - np.log1p(-x)) - b
        else:
            y = x * (a + x * (x - b))
        if not np.isfinite(y):
            status = max(status, 1)
        out[i] = y
    return status


@njit(cache=True, nogil=True, parallel=True, fastmath=set(FASTMATH))
def local_derivative_parallel(phi, out, kind, a, b):
    """Threaded twin of :func:`local_derivative` (same results, element by element)."""
    outside = 0
    nonfinite = 0
    for i in prange(phi.size):
        x = phi[i]
        if kind == 0:
            if not (x > 0.0 and x < 1.0):
                out[i] = 0.0
                outside += 1
                continue
            y = a * (np.log(x) - np.log1p(-x)) - b
        else:
            y = x * (a + x * (x - b))
        if not np.isfinite(y):
            nonfinite += 1
        out[i] = y
    if outside > 0:
        return 2
    if nonfinite > 0:
        return 1
    return 0


@njit(cache=True, nogil=True, fastmath=set(FASTMATH))
def energy_density_sum(phi, conv, kind, a, b):
    """Σ_i [1/2 phi[i] conv[i] + f(phi[i])] over flat float64 arrays (NaN outside the lattice gas's domain)."""
    total = 0.0
    for i in range(phi.size):
        x = phi[i]
        if kind == 0:
            if not (x > 0.0 and x < 1.0):
                return np.nan
            f = a * (x * np.log(x) + (1.0 - x) * np.log1p(-x)) - b * x
        else:
            f = x * x * (0.5 * a + x * (0.25 * x - b / 3.0))
        total += 0.5 * x * conv[i] + f
    return total


def energy_sum(phi: np.ndarray, conv: np.ndarray, local) -> float:
    """Σ_x [1/2 phi (V * phi) + f(phi)] of a component (LatticeGas or Landau), ``conv`` = V * phi."""
    a, b = local.params()
    return float(energy_density_sum(np.ascontiguousarray(phi).reshape(-1), np.ascontiguousarray(conv).reshape(-1),
                                    np.int64(local.kind), float(a), float(b)))


def local_derivative_reference(phi, kind, a, b):
    """NumPy reference: (f'(phi), status) with the kernels' conventions."""
    phi = np.asarray(phi, dtype=np.float64)
    if kind == 0:
        inside = (phi > 0) & (phi < 1)
        with np.errstate(all="ignore"):
            out = np.where(inside, a * (np.log(phi) - np.log1p(-phi)) - b, 0.0)
        if not inside.all():
            return out, 2
    else:
        with np.errstate(all="ignore"):
            out = phi * (a + phi * (phi - b))
    return out, (0 if np.all(np.isfinite(out)) else 1)


def apply_local(phi: np.ndarray, out: np.ndarray, local, parallel: bool = False) -> int:
    """f'(phi) of a component (LatticeGas or Landau) into ``out`` (same shape), via the kernels."""
    a, b = local.params()
    kernel = local_derivative_parallel if parallel else local_derivative
    return int(kernel(phi.reshape(-1), out.reshape(-1), np.int64(local.kind), float(a), float(b)))

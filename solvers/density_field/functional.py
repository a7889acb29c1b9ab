"""F[phi], δF/δphi and Hessian-vector products of a :class:`~problems.density_field.Functional` on a grid.

    F[phi]    = dV Σ_x [ 1/2 phi (V * phi) + f(phi) ]
    δF/δphi   = V * phi + f'(phi)
    H[phi] v  = V * v + f''(phi) v

with the convolution ``V * phi`` done in Fourier space (scipy.fft) using the analytic
``V(k)`` of the interaction (Barros & Klein 2013, doi:10.1063/1.4827397). ``dV`` is the
cell volume, so ``∂F/∂phi_x = dV δF/δphi(x)``.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from problems.density_field import DensityField, wavevectors

from .kernels import apply_local, energy_sum

__all__ = ["SpectralOps", "DIVERGED", "diverged"]

#: A density this large has diverged: no physical field of the functionals' reduced units comes near
#: it, and below it F, δF/δphi and the Hessian stay finite (a Landau phi^4 overflows only past 1e77).
DIVERGED = 1e12


def diverged(phi) -> bool:
    """Whether ``phi`` holds a NaN, an infinity or a density beyond ±:data:`DIVERGED`."""
    return not (float(np.max(phi)) < DIVERGED and float(np.min(phi)) > -DIVERGED)


class SpectralOps:
    """Fourier-space operators of one field's functional (built once per solve)."""

    def __init__(self, field: DensityField, workers: int = 1):
        self.field = field
        self.shape = field.shape
        self.ndim = field.ndim
        self.dV = field.cell_volume
        self.workers = int(workers)
        self.local = field.functional.local
        self.k = np.broadcast_to(wavevectors(field.shape, field.length), self._rshape()).copy()
        self.vhat = field.functional.interaction.hat(self.k, self.ndim)

    def _rshape(self):
        return self.shape[:-1] + (self.shape[-1] // 2 + 1,)

    def rfft(self, a):
        return scipy.fft.rfftn(a, workers=self.workers)

    def irfft(self, a):
        return scipy.fft.irfftn(a, s=self.shape, workers=self.workers, overwrite_x=True)  # callers pass temporaries

    def convolve(self, a):
        """``V * a`` on the periodic grid."""
        return self.irfft(self.vhat * self.rfft(a))

    def free_energy(self, phi, conv=None) -> float:
        """F[phi]; ``conv`` = V * phi when the caller has it already (saves two FFTs)."""
        return self.dV * energy_sum(phi, self.convolve(phi) if conv is None else conv, self.local)

    def local_derivative(self, phi, parallel: bool = False):
        out = np.empty_like(phi)
        status = apply_local(np.ascontiguousarray(phi), out, self.local, parallel)
        return out, status

    def gradient(self, phi):
        """δF/δphi (per unit volume)."""
        return self.convolve(phi) + self.local_derivative(phi)[0]

    def hessian_vector(self, phi, v):
        """H[phi] v = V * v + f''(phi) v."""
        return self.hessian_at(phi)(v)

    def hessian_at(self, phi):
        """``v -> H[phi] v`` with f''(phi) evaluated once (for many products at the same phi)."""
        d2 = self.local.d2f(phi)
        return lambda v: self.convolve(v) + d2 * v

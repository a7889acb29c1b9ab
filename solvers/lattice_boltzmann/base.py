"""What every lattice Boltzmann solver shares: storage precision, threads, back end."""

from __future__ import annotations

import numpy as np

import toolkit as tk
from toolkit import validate as v

__all__ = ["LatticeSolver", "Collision"]


class Collision:
    """Collision parameters handed to the kernels: model code, rates, MRT matrices."""

    def __init__(self, model: int, omega: float, omega_m: float = 0.0, M=None, S=None):
        self.model = int(model)
        self.omega = float(omega)
        self.omega_m = float(omega_m)
        if M is None:
            self.M = np.zeros((1, 1))
            self.Minv = np.zeros((1, 1))
            self.S = np.zeros(1)
        else:
            # kernels take A = M⁻¹ S M and B = M⁻¹ (I − S/2) M (in the M, Minv slots)
            M = np.asarray(M, dtype=np.float64)
            S = np.asarray(S, dtype=np.float64)
            Minv = np.linalg.inv(M)
            self.basis = M
            self.S = np.ascontiguousarray(S)
            self.M = np.ascontiguousarray(Minv @ np.diag(S) @ M)
            self.Minv = np.ascontiguousarray(Minv @ np.diag(1.0 - 0.5 * S) @ M)


class LatticeSolver(tk.Solver):
    """Base of BGK, TRT and MRT.

    ``precision``: "float64" (default) or "float32" storage of the populations (the
    arithmetic stays float64 inside the kernel). ``parallel``: spread rows over numba's
    threads (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``). The threads run the serial
    kernel's compiled code row by row, so the result equals the serial one bit for bit.
    ``backend``: "numba" (fused kernel) or "numpy" (the
    slow reference path the tests compare against).
    """

    precision: str = "float64"
    parallel: bool = False
    backend: str = "numba"

    supports_step = True

    def _validate(self):
        err = tk.InvalidSolverError
        self._set("precision", v.choice("precision", self.precision, ("float64", "float32"), error=err))
        if not isinstance(self.parallel, (bool, np.bool_)):
            raise err(f"parallel = {v.show(self.parallel)} is not allowed: give True or False")
        self._set("parallel", bool(self.parallel))
        self._set("backend", v.choice("backend", self.backend, ("numba", "numpy"), error=err))

    def collision(self, problem) -> Collision:  # pragma: no cover - abstract
        raise NotImplementedError

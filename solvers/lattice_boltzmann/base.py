"""What every lattice Boltzmann solver shares: storage precision, threads, back end."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import toolkit as tk
from toolkit import validate as v

__all__ = ["LatticeSolver", "Collision", "BGK_BRANCH", "TRT_BRANCH", "LINEAR_BRANCH"]


#: Branches of the generic kernel (``kernels.stream_collide``'s ``model`` argument and its NumPy
#: reference): BGK and TRT have loops of their own; LINEAR_BRANCH applies any linear collision
#: f − A(f − f^eq) + B F from its (Q, Q) matrices, so a new linear model needs no new branch.
BGK_BRANCH, TRT_BRANCH, LINEAR_BRANCH = 0, 1, 2


@dataclass(frozen=True, eq=False)
class Collision:
    """What a collision model hands the steppers (``LatticeSolver.collision(problem)``).

    ``kernels``: the name of its generated unrolled kernels
    (``generated/<lattice>_<kernels>.py``, written by ``codegen/gen_lbm_kernels.py``), or None
    when it has none (then every domain runs the generic kernel). ``rates``: the arguments those
    kernels take between ``w`` and ``F``. ``branch``, ``omega``, ``omega_m``, ``A``, ``B``, ``S``:
    the generic kernel's arguments (:attr:`generic`); ``A`` = M⁻¹SM and ``B`` = M⁻¹(I − S/2)M for
    the linear branch.
    """

    kernels: str | None
    rates: tuple
    branch: int
    omega: float
    omega_m: float = 0.0
    A: np.ndarray = field(default_factory=lambda: np.zeros((1, 1)))
    B: np.ndarray = field(default_factory=lambda: np.zeros((1, 1)))
    S: np.ndarray = field(default_factory=lambda: np.zeros(1))

    @property
    def generic(self) -> tuple:
        """``(model, omega, omega_m, M, Minv, S)`` of ``kernels.stream_collide``."""
        return (self.branch, self.omega, self.omega_m, self.A, self.B, self.S)

    def fits(self, module) -> bool:
        """Whether the generated kernel ``module`` computes this collision (subclasses check what
        their kernels assume, e.g. MRT's basis)."""
        return True


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

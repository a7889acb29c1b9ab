"""``TRT``: two-relaxation-time collision.

f⁺ and f⁻ (the parts even and odd under c → −c) relax at ω⁺ = 1/τ (sets ν) and ω⁻, chosen
through the "magic" parameter Λ = (1/ω⁺ − 1/2)(1/ω⁻ − 1/2). Λ = 3/16 puts half-way
bounce-back walls exactly half-way, so Poiseuille flow is exact to round-off; Λ = 1/4 is the
most stable. Ginzburg, Adv. Water Resour. 28, 1171 (2005), doi:10.1016/j.advwatres.2005.03.004;
Ginzburg, Verhaeghe & d'Humières, Commun. Comput. Phys. 3, 427 (2008).
"""

from __future__ import annotations

import toolkit as tk
from toolkit import validate as v

from .base import TRT_BRANCH, Collision, LatticeSolver

__all__ = ["TRT"]


class TRT(LatticeSolver):
    """Two-relaxation-time collision, magic parameter ``magic`` = Λ (default 3/16)."""

    magic: float = 3.0 / 16.0

    def _validate(self):
        super()._validate()
        self._set("magic", v.real_scalar("magic", self.magic, lower=0, lower_open=True,
                                         error=tk.InvalidSolverError))

    def collision(self, problem) -> Collision:
        omega_p = 1.0 / problem.tau
        omega_m = 1.0 / (self.magic / (problem.tau - 0.5) + 0.5)
        return Collision("trt", (omega_p, omega_m), TRT_BRANCH, omega_p, omega_m)

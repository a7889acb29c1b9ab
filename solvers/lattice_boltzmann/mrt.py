"""``MRT``: multiple-relaxation-time collision in an orthogonal moment basis.

f ← f − M⁻¹ S M (f − f^eq) + M⁻¹ (I − S/2) M F (Guo forcing in moment space). Bases and
default rates: D2Q9 from Lallemand & Luo, Phys. Rev. E 61, 6546 (2000),
doi:10.1103/PhysRevE.61.6546 (s_e = 1.64, s_ε = 1.54); D3Q19 from d'Humières et al., Phil.
Trans. R. Soc. A 360, 437 (2002), doi:10.1098/rsta.2001.0955 (s_e = 1.19, s_ε = s_π = 1.4).
The stress moments relax at ω = 1/τ (viscosity). The odd, non-conserved moments (energy flux
q and, in D3Q19, the third-order m) default to the rate that makes
(1/ω − 1/2)(1/s − 1/2) = Λ = 3/16, i.e. 8(2 − ω)/(8 − ω), which puts bounce-back walls
exactly half-way as TRT's magic parameter does (d'Humières et al. used s_q = 1.2, s_m = 1.98:
pass them explicitly to reproduce the paper; with them the slit-flow wall error is ~1%).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import toolkit as tk
from toolkit import validate as v

from .base import LINEAR_BRANCH, Collision, LatticeSolver
from .lattices import mrt_basis

__all__ = ["MRT", "MRTCollision"]

_DEFAULTS = {"D2Q9": {"e": 1.64, "eps": 1.54}, "D3Q19": {"e": 1.19, "eps": 1.4, "pi": 1.4, "m": 1.98}}


class MRT(LatticeSolver):
    """Multiple-relaxation-time collision (D2Q9, D3Q19). ``None`` rates take the paper defaults."""

    s_e: float | None = None
    s_eps: float | None = None
    s_q: float | None = None
    s_pi: float | None = None
    s_m: float | None = None

    def _validate(self):
        super()._validate()
        for name in ("s_e", "s_eps", "s_q", "s_pi", "s_m"):
            self._set(name, v.real_scalar(name, getattr(self, name), lower=0, upper=2, lower_open=True,
                                          upper_open=True, allow_none=True, error=tk.InvalidSolverError))

    def rates(self, lattice_name: str, tau: float) -> np.ndarray:
        """The relaxation rates S, one per moment of :func:`mrt_basis`."""
        if lattice_name not in _DEFAULTS:
            raise tk.InvalidSolverError(f"MRT with lattice {lattice_name!r} is not available: MRT here has the "
                                        "D2Q9 (Lallemand & Luo 2000) and D3Q19 (d'Humières et al. 2002) bases; "
                                        "use TRT for D3Q27")
        d = _DEFAULTS[lattice_name]
        omega = 1.0 / tau
        magic_q = 1.0 / (3.0 / 16.0 / (tau - 0.5) + 0.5)
        given = {"e": self.s_e, "eps": self.s_eps, "q": self.s_q, "pi": self.s_pi, "m": self.s_m}
        rate = {k: (given[k] if given[k] is not None else d.get(k, 1.0)) for k in given}
        if self.s_q is None:
            rate["q"] = magic_q
        if self.s_m is None:
            rate["m"] = magic_q
        _, names = mrt_basis(lattice_name)
        S = []
        for name in names:
            if name == "rho" or name.startswith("j"):
                S.append(0.0)
            elif name in ("e", "eps"):
                S.append(rate[name])
            elif name.startswith("q"):
                S.append(rate["q"])
            elif name.startswith("pi"):
                S.append(rate["pi"])
            elif name.startswith("p"):
                S.append(omega)
            else:
                S.append(rate["m"])
        return np.array(S)

    def collision(self, problem) -> "MRTCollision":
        S = np.ascontiguousarray(self.rates(problem.lattice, problem.tau))
        M, _ = mrt_basis(problem.lattice)
        Minv = np.linalg.inv(M)
        # the generic kernel's linear branch: A = M⁻¹ S M, B = M⁻¹ (I − S/2) M
        A = np.ascontiguousarray(Minv @ np.diag(S) @ M)
        B = np.ascontiguousarray(Minv @ np.diag(1.0 - 0.5 * S) @ M)
        return MRTCollision("mrt", (S,), LINEAR_BRANCH, 1.0 / problem.tau, A=A, B=B, S=S, basis=M)


@dataclass(frozen=True, eq=False)
class MRTCollision(Collision):
    """MRT's collision: the moment basis ``basis`` (rows = moments) besides the generic arguments.
    The generated kernels are written for one integer basis with unrelaxed ρ and j."""

    basis: np.ndarray = None

    def fits(self, module) -> bool:
        M, S = module.BASIS, np.asarray(self.S)
        return (self.basis.shape == M.shape and np.array_equal(self.basis, M) and S.shape == (len(M),)
                and not np.any(S[module.CONSERVED] != 0.0))

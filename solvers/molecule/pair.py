"""Numba pair potentials: Lennard-Jones and Morse, with cell/Verlet lists.

Lennard-Jones (Jones, Proc. R. Soc. A 106, 463 (1924), doi:10.1098/rspa.1924.0082)::

    u(r) = 4 eps [(sigma/r)^12 - (sigma/r)^6] - u_c,   r < r_c

Morse (Phys. Rev. 34, 57 (1929), doi:10.1103/PhysRev.34.57)::

    u(r) = D [exp(-2 a (r - r0)) - 2 exp(-a (r - r0))] - u_c,   r < r_c

``u_c = u(r_c)`` when ``shift=True`` (energy continuous at the cutoff; forces are not shifted),
else 0 (truncated). ``skin`` (Å) is the Verlet-list margin used by the dynamics.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from problems.molecule import Molecule, PotentialEnergy
from toolkit import validate as v
from toolkit.dispatch import dispatch
from toolkit.kernels.neighbors import verlet_list_split

from .kernels import pair_forces
from .potential import Evaluator, Potential, PotentialEnergySolution, orthorhombic_box, potential_energy

__all__ = ["LennardJones", "Morse", "PairEvaluator"]

_E = tk.InvalidSolverError


def _bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise _E(f"{name} = {v.show(value)} is not allowed: give True or False.")
    return bool(value)


class PairEvaluator(Evaluator):
    """A pair potential bound to a molecule's box; neighbour list rebuilt on every call."""

    def __init__(self, kind: int, params: np.ndarray, cutoff: float, skin: float, molecule: Molecule, who: str):
        self.pair = (kind, params, cutoff, skin)
        self.box, self.periodic = orthorhombic_box(molecule, cutoff, skin, who)

    def compute(self, positions):
        kind, params, cutoff, _ = self.pair
        x = np.ascontiguousarray(positions, dtype=np.float64)
        f = np.empty_like(x)
        w = np.zeros((3, 3))
        # the kernel folds separations by at most one box: wrap first
        xw = x.copy()
        for a in range(3):
            if self.periodic[a]:
                xw[:, a] %= self.box[a]
        starts, nbrs, split = verlet_list_split(xw, self.box, self.periodic, cutoff)
        energy = pair_forces(xw, self.box, self.periodic, starts, nbrs, split, kind, params, f, w)
        return float(energy), f, w


class LennardJones(Potential):
    """12-6 Lennard-Jones: ``epsilon`` (eV), ``sigma`` (Å), ``cutoff`` (Å, default 2.5 sigma).

    The defaults (1 eV, 1 Å) are reduced units; :meth:`argon` gives argon (Rahman 1964).
    ``skin`` (Å, default 0.3 sigma) is the Verlet-list margin.
    """

    epsilon: float = 1.0
    sigma: float = 1.0
    cutoff: float | None = None
    shift: bool = True
    skin: float | None = None

    def _validate(self):
        self._set("epsilon", v.real_scalar("epsilon", self.epsilon, lower=0, error=_E))
        self._set("sigma", v.real_scalar("sigma", self.sigma, lower=0, lower_open=True, error=_E))
        self._set("cutoff", v.real_scalar("cutoff", self.cutoff, lower=0, lower_open=True, allow_none=True,
                                          error=_E))
        self._set("shift", _bool("shift", self.shift))
        self._set("skin", v.real_scalar("skin", self.skin, lower=0, allow_none=True, error=_E))

    @classmethod
    def argon(cls, **changes) -> "LennardJones":
        """Argon: eps/k_B = 119.8 K (0.010323 eV), sigma = 3.405 Å (Rahman, Phys. Rev. 136, A405 (1964))."""
        return cls(**{"epsilon": 0.010323, "sigma": 3.405, **changes})

    @property
    def rc(self) -> float:
        return 2.5 * self.sigma if self.cutoff is None else self.cutoff

    @property
    def verlet_skin(self) -> float:
        return 0.3 * self.sigma if self.skin is None else self.skin

    def pair_energy(self, r):
        """``u(r)`` (eV) at distances ``r`` (Å), NumPy (the reference the kernels are tested against)."""
        r = np.asarray(r, dtype=float)
        s6 = (self.sigma / r) ** 6
        u = 4 * self.epsilon * (s6 * s6 - s6)
        return np.where(r < self.rc, u - self.energy_shift, 0.0)

    @property
    def energy_shift(self) -> float:
        if not self.shift:
            return 0.0
        s6 = (self.sigma / self.rc) ** 6
        return 4 * self.epsilon * (s6 * s6 - s6)

    def evaluator(self, molecule):
        params = np.array([self.epsilon, self.sigma, self.rc, self.energy_shift])
        return PairEvaluator(0, params, self.rc, self.verlet_skin, molecule, "LennardJones")


class Morse(Potential):
    """Morse pair potential: well ``depth`` (eV), ``alpha`` (1/Å), ``r0`` (Å), ``cutoff`` (Å).

    The default cutoff is ``r0 + 5 / alpha`` (the attraction has decayed to exp(-5) there).
    """

    depth: float = 1.0
    alpha: float = 1.5
    r0: float = 1.0
    cutoff: float | None = None
    shift: bool = True
    skin: float | None = None

    def _validate(self):
        self._set("depth", v.real_scalar("depth", self.depth, lower=0, error=_E))
        self._set("alpha", v.real_scalar("alpha", self.alpha, lower=0, lower_open=True, error=_E))
        self._set("r0", v.real_scalar("r0", self.r0, lower=0, lower_open=True, error=_E))
        self._set("cutoff", v.real_scalar("cutoff", self.cutoff, lower=0, lower_open=True, allow_none=True,
                                          error=_E))
        self._set("shift", _bool("shift", self.shift))
        self._set("skin", v.real_scalar("skin", self.skin, lower=0, allow_none=True, error=_E))

    @property
    def rc(self) -> float:
        return self.r0 + 5.0 / self.alpha if self.cutoff is None else self.cutoff

    @property
    def verlet_skin(self) -> float:
        return 0.1 * self.rc if self.skin is None else self.skin

    @property
    def energy_shift(self) -> float:
        if not self.shift:
            return 0.0
        e = np.exp(-self.alpha * (self.rc - self.r0))
        return self.depth * (e * e - 2 * e)

    def pair_energy(self, r):
        r = np.asarray(r, dtype=float)
        e = np.exp(-self.alpha * (r - self.r0))
        return np.where(r < self.rc, self.depth * (e * e - 2 * e) - self.energy_shift, 0.0)

    def evaluator(self, molecule):
        params = np.array([self.depth, self.alpha, self.r0, self.rc, self.energy_shift])
        return PairEvaluator(1, params, self.rc, self.verlet_skin, molecule, "Morse")


@dispatch
def _solve(problem: PotentialEnergy, solver: LennardJones | Morse) -> PotentialEnergySolution:
    return potential_energy(problem, solver)

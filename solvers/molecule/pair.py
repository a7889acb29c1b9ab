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
from toolkit.kernels.neighbors import max_displacement, wrap_positions

from .kernels import md_list, pair_forces
from .potential import (Evaluator, Potential, PotentialCache, PotentialEnergySolution, orthorhombic_box,
                        potential_cache, potential_energy)

__all__ = ["LennardJones", "Morse", "PairEvaluator", "three_cell_skin"]

_E = tk.InvalidSolverError


#: Ranges of the pair-potential parameters: lengths in Å, energies in eV, inverse lengths in 1/Å. Far
#: outside them the kernels' powers and exponentials leave the float64 range (sigma = 5e-324 made
#: (sigma / r)^12 a subnormal and a zero division); no interatomic potential needs them.
LENGTH = (1e-3, 1e3)
CUTOFF = (1e-3, 1e4)
ENERGY = (0.0, 1e6)


def _length(name, value, bounds=LENGTH, allow_none=False):
    return v.real_scalar(name, value, lower=bounds[0], upper=bounds[1], allow_none=allow_none, error=_E)


def _energy(name, value):
    return v.real_scalar(name, value, lower=ENERGY[0], upper=ENERGY[1], error=_E)


def _skin(value):
    return v.real_scalar("skin", value, lower=0, upper=LENGTH[1], allow_none=True, error=_E)


def _bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise _E(f"{name} = {v.show(value)} is not allowed: give True or False.")
    return bool(value)


def three_cell_skin(box: np.ndarray, periodic: np.ndarray, cutoff: float, skin: float) -> float:
    """The Verlet skin the list uses: ``skin``, trimmed by at most half so that every periodic axis holds
    three list cells of edge ``cutoff + skin``.

    With fewer than three cells along a periodic axis the half-stencil search
    (:mod:`solvers.molecule.pairlist`) would meet a cell twice and falls back to the O(N^2) search. The
    classic 500-atom Lennard-Jones box at rho* = 0.8442 is 8.398 sigma long: 2.9993 cells of
    rc + skin = 2.8 sigma, so every rebuild (every ~13 steps) cost 3x the force loop; with a skin of
    0.2993 sigma it has three (LAMMPS reaches the same end by binning at half the list radius). The
    list stays exact: it is rebuilt when an atom has moved half the *trimmed* skin.
    """
    lengths = [float(box[a]) for a in range(3) if periodic[a]]
    if not lengths or skin <= 0:
        return skin
    fit = min(lengths) / 3.0 * (1.0 - 1e-9) - cutoff      # the largest skin giving three cells
    return fit if 0.5 * skin <= fit < skin else skin


class PairEvaluator(Evaluator):
    """A pair potential bound to a molecule's box, keeping its Verlet list between calls.

    The list (radius ``cutoff + skin``, over positions wrapped into the box) is rebuilt when an
    atom has moved more than ``skin / 2`` since it was built, as in the MD loop
    (:func:`solvers.molecule.kernels.md_list`), so every pair closer than ``cutoff`` is in it.
    """

    def __init__(self, kind: int, params: np.ndarray, cutoff: float, skin: float, molecule: Molecule, who: str):
        self.box, self.periodic = orthorhombic_box(molecule, cutoff, skin, who)
        self.pair = (kind, params, cutoff, three_cell_skin(self.box, self.periodic, cutoff, skin))
        self.x_ref = None
        self.lists = None
        self.rebuilds = 0

    def compute(self, positions):
        kind, params, cutoff, skin = self.pair
        x = np.array(positions, dtype=np.float64, order="C")
        if x.ndim != 2 or x.shape[1] != 3:
            raise ValueError(f"positions must be an (N, 3) array, got shape {x.shape}")
        if not np.all(np.isfinite(x)):   # never hand non-finite positions to the cell list
            return float("nan"), np.full(x.shape, np.nan), np.zeros((3, 3))
        wrap_positions(x, np.zeros(x.shape, dtype=np.int64), self.box, self.periodic)
        if self.x_ref is None or self.x_ref.shape != x.shape or not max_displacement(x, self.x_ref) <= 0.5 * skin:
            self.lists = md_list(x, self.box, self.periodic, cutoff + skin, 1)
            self.x_ref = x.copy()
            self.rebuilds += 1
        starts, nbrs, split = self.lists
        f = np.empty_like(x)
        w = np.zeros((3, 3))
        energy = pair_forces(x, self.box, self.periodic, starts, nbrs, split, kind, params, f, w)
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
        self._set("epsilon", _energy("epsilon", self.epsilon))
        self._set("sigma", _length("sigma", self.sigma))
        self._set("cutoff", _length("cutoff", self.cutoff, CUTOFF, allow_none=True))
        self._set("shift", _bool("shift", self.shift))
        self._set("skin", _skin(self.skin))

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
        self._set("depth", _energy("depth", self.depth))
        self._set("alpha", v.real_scalar("alpha", self.alpha, lower=1e-3, upper=1e3, error=_E))
        self._set("r0", _length("r0", self.r0))
        self._set("cutoff", _length("cutoff", self.cutoff, CUTOFF, allow_none=True))
        self._set("shift", _bool("shift", self.shift))
        self._set("skin", _skin(self.skin))

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


@dispatch
def _init(problem: PotentialEnergy, solver: LennardJones | Morse) -> PotentialCache:
    return potential_cache(problem, solver)

"""From molecular dynamics to lattice Boltzmann: a mesoscale model of an atomistic fluid (issue 21).

``CoarseGraining(measurement, lattice, dx, fit_shells)`` names an atomistic fluid through its
hydrodynamic measurement (``problems.molecule.HydrodynamicMeasurement``: the MD set-up, the
wave-vector shells to resolve, the independent runs) and the target lattice (D2Q9 or D3Q19, lattice
spacing ``dx`` in the potential's sigma). The fluid family's coarse-graining solvers
(``solvers.lattice_boltzmann.CoarseGrain`` and ``LearnedCollision``) solve it: they measure the
fluid by MD through ``tk.solve`` on the measurement, then build the lattice Boltzmann model in
physical units,

    dt = dx / (sqrt(3) c_T)       (the lattice's c_s = dx / (sqrt 3 dt) is the isothermal sound speed)
    nu = eta / (rho m),   tau = 3 nu dt / dx^2 + 1/2,

and, for the learned variant, fit the free TRT / MRT rates so that the lattice shear mode decays
as the MD's at the ``fit_shells`` (after the idea of Corbetta et al., Eur. Phys. J. E 46, 10
(2023), doi:10.1140/epje/s10189-023-00267-w). The lattice's periodic box has the MD box's edge:
``n = round(L / dx)`` nodes, so the spacing used is ``L / n`` (reported).
"""

from __future__ import annotations

import numpy as np

import toolkit as tk
from toolkit import validate as v

from .molecule import HydrodynamicMeasurement

__all__ = ["CoarseGraining", "BRIDGE_LATTICES"]

#: Target lattices of the coarse-graining and their dimensions.
BRIDGE_LATTICES = {"D2Q9": 2, "D3Q19": 3}
#: Most lattice nodes per box edge.
MAX_NODES = 256


class CoarseGraining(tk.Problem):
    """A lattice Boltzmann model of an atomistic fluid, built from its MD measurements (module docstring).

    ``measurement``: a ``HydrodynamicMeasurement`` (the MD fluid, shells, runs); ``lattice``: "D2Q9"
    or "D3Q19"; ``dx``: the lattice spacing in sigma (the box gets ``round(L / dx)`` >= 4 nodes per
    edge, at most 256); ``fit_shells``: the measurement's shells whose decay rates a learned collision matches
    (two or three of the smallest; None: the first two).
    """

    measurement: HydrodynamicMeasurement
    lattice: str = "D2Q9"
    dx: float = 1.0
    fit_shells: tuple | None = None

    def _validate(self):
        if not isinstance(self.measurement, HydrodynamicMeasurement):
            raise tk.InvalidProblemError(f"measurement = {v.show(self.measurement)} is not allowed: give a "
                                         "HydrodynamicMeasurement(fluid=MolecularDynamics(...), shells=(1, 2, 3), runs=4)")
        self._set("lattice", v.choice("lattice", self.lattice, tuple(BRIDGE_LATTICES)))
        self._set("dx", v.real_scalar("dx", self.dx, lower=0, lower_open=True, upper=1e6))
        edge = self.box_edge
        ratio = edge / self.dx
        if not np.isfinite(ratio) or ratio > MAX_NODES + 0.5:
            raise tk.InvalidProblemError(f"dx = {self.dx!r} is not allowed: it gives more than {MAX_NODES} nodes per "
                                         f"edge of the {edge:.4g} sigma box (the comparison runs grow as n^2 and the "
                                         f"steps as 1/dx); give dx >= {edge / MAX_NODES:.3g}")
        nodes = round(ratio)
        if nodes < 4:
            raise tk.InvalidProblemError(f"dx = {self.dx!r} is not allowed: the MD box edge is {edge:.4g} sigma, so the "
                                         f"lattice would have {nodes} node(s) per edge; give dx <= {edge / 4:.4g}")
        shells = self.measurement.shells
        fit = shells[:2] if self.fit_shells is None else self.fit_shells
        if isinstance(fit, int) and not isinstance(fit, bool):
            fit = (fit,)
        if not isinstance(fit, (tuple, list)) or not fit:
            raise tk.InvalidProblemError(f"fit_shells = {v.show(self.fit_shells)} is not allowed: give one to three of "
                                         f"the measurement's shells {shells}, or None")
        fit = tuple(v.integer(f"fit_shells[{i}]", s, lower=1) for i, s in enumerate(fit))
        if len(fit) > 3 or any(s not in shells for s in fit) or len(set(fit)) != len(fit):
            raise tk.InvalidProblemError(f"fit_shells = {v.show(self.fit_shells)} is not allowed: give one to three "
                                         f"distinct shells among the measurement's {shells}")
        self._set("fit_shells", tuple(sorted(fit)))

    @property
    def box_edge(self) -> float:
        """The MD box edge in sigma."""
        fluid = self.measurement.fluid
        cell = np.asarray(fluid.molecule.cell, dtype=float)
        edge = float(cell[0, 0] if cell.ndim == 2 else cell[0])
        sigma = float(getattr(fluid.potential, "sigma", 1.0) or 1.0)
        return edge / sigma

    @property
    def nodes(self) -> int:
        """Lattice nodes per box edge."""
        return int(round(self.box_edge / self.dx))

    @classmethod
    def example(cls, seed: int = 0) -> "CoarseGraining":
        """The 108-atom LJ measurement of ``HydrodynamicMeasurement.example`` on a D2Q9 lattice of 8 nodes per
        edge, fitted at the smallest shell (in so small a box the second decays by more than e per step)."""
        measurement = HydrodynamicMeasurement.example(seed)
        problem = cls(measurement, lattice="D2Q9", dx=1.0, fit_shells=(1,))
        return tk.remake(problem, dx=problem.box_edge / 8)

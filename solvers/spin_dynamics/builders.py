"""Builders of spin-dynamics problems with electrons: the Kondo lattice on the triangular lattice.

``kondo_triangular`` couples classical spins to electrons hopping on the triangular lattice,
``H = t sum_<ij>,s c_is^dag c_js - J sum_i S_i . c_i^dag sigma c_i`` (the model of Barros & Kato,
PRB 88, 235101 (2013), doi:10.1103/PhysRevB.88.235101, and Chern et al., PRB 97, 035120 (2018),
doi:10.1103/PhysRevB.97.035120), built with ``problems.tight_binding.lattice_problem`` (whose
hopping ``t_k`` gives the matrix element ``-t_k``: here ``hopping`` is the matrix element itself).
Quarter filling is ``filling = 0.25`` (N/2 electrons in the 2N spin orbitals).
"""

from __future__ import annotations

from problems.spin_dynamics import SpinDynamics, triangular_lattice, triangular_state
from problems.tight_binding import lattice_problem

__all__ = ["kondo_triangular"]


def kondo_triangular(shape, *, state: str = "random", seed: int = 0, hopping: float = -1.0, J: float = 2.0,
                     filling: float | None = 0.25, mu: float | None = None, kT: float = 0.05,
                     exchange: float = 0.0, field=None, **fields) -> SpinDynamics:
    """A periodic L1 x L2 triangular Kondo lattice as a :class:`SpinDynamics` problem.

    ``hopping``: the nearest-neighbour matrix element t (default -1); ``J``: the Kondo coupling;
    ``filling`` (or ``mu``) and ``kT``: the electrons' (``local=True``, ``pattern="onsite"``: what
    force evaluations need); ``state``, ``seed``: the initial spins (:func:`triangular_state`);
    ``exchange``, ``field``: optional classical Heisenberg and Zeeman terms; ``fields``: the other
    SpinDynamics fields (temperature, damping, dt, steps, save_every).
    """
    positions, bonds, triangles = triangular_lattice(shape, True)
    spins = triangular_state(shape, state, seed)
    model = lattice_problem("triangular", shape, hoppings=(-float(hopping),), spins=spins, J=J, kT=kT,
                            filling=filling, mu=mu, local=True, pattern="onsite", dos_points=16)
    return SpinDynamics(model=model, spins=spins, bonds=bonds if exchange != 0.0 else None, exchange=exchange,
                        field=field, triangles=triangles, positions=positions, **fields)

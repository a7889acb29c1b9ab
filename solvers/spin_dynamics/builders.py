"""Builders of spin-dynamics problems with electrons: the Kondo lattice on the triangular lattice
(and, with :func:`kondo_lattice`, on the square, kagome and cubic lattices).

``kondo_triangular`` couples classical spins to electrons hopping on the triangular lattice,
``H = t sum_<ij>,s c_is^dag c_js - J sum_i S_i . c_i^dag sigma c_i`` (the model of Barros & Kato,
PRB 88, 235101 (2013), doi:10.1103/PhysRevB.88.235101, and Chern et al., PRB 97, 035120 (2018),
doi:10.1103/PhysRevB.97.035120), built with ``problems.tight_binding.lattice_problem`` (whose
hopping ``t_k`` gives the matrix element ``-t_k``: here ``hopping`` is the matrix element itself).
Quarter filling is ``filling = 0.25`` (N/2 electrons in the 2N spin orbitals).
"""

from __future__ import annotations

from problems.spin_dynamics import (TRIANGULAR_VECTORS, SpinDynamics, lattice, lattice_state, lattice_vectors_of,
                                    triangular_lattice, triangular_state)
from problems.tight_binding import lattice_problem

__all__ = ["kondo_triangular", "kondo_lattice", "triple_q_quench"]


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
                        field=field, triangles=triangles, positions=positions, lattice_vectors=TRIANGULAR_VECTORS,
                        lattice_shape=model.lattice[1] if model.lattice else shape, **fields)


def kondo_lattice(kind: str, shape, *, state: str = "random", seed: int = 0, hopping: float = -1.0, J: float = 2.0,
                  filling: float | None = 0.25, mu: float | None = None, kT: float = 0.05, exchange: float = 0.0,
                  field=None, **fields) -> SpinDynamics:
    """A periodic Kondo lattice of ``kind`` (``"triangular"``, ``"square"``, ``"kagome"``, ``"cubic"``;
    :func:`problems.spin_dynamics.lattice`) as a :class:`SpinDynamics` problem; the arguments are those
    of :func:`kondo_triangular`, the initial ``state`` one of :func:`problems.spin_dynamics.lattice_state`.
    The 2-d lattices carry their lattice vectors and shape (structure factor, Chern number)."""
    if kind == "triangular":
        return kondo_triangular(shape, state=state, seed=seed, hopping=hopping, J=J, filling=filling, mu=mu, kT=kT,
                                exchange=exchange, field=field, **fields)
    positions, bonds, triangles = lattice(kind, shape, True)
    spins = lattice_state(kind, shape, state, seed)
    model = lattice_problem(kind, shape, hoppings=(-float(hopping),), spins=spins, J=J, kT=kT, filling=filling, mu=mu,
                            local=True, pattern="onsite", dos_points=16)
    vectors = lattice_vectors_of(kind)
    extra = {} if vectors is None else dict(lattice_vectors=vectors, lattice_shape=model.lattice[1])
    return SpinDynamics(model=model, spins=spins, bonds=bonds if exchange != 0.0 else None, exchange=exchange,
                        field=field, triangles=triangles if len(triangles) else None, positions=positions, **extra,
                        **fields)


def triple_q_quench(shape=6, *, seed: int = 0, steps: int = 800, save_every: int = 50, temperature: float = 0.005,
                    damping: float = 8.0, dt: float = 0.2, kT: float = 0.01, **fields) -> SpinDynamics:
    """The chiral quench of issue 18: random spins on the periodic triangular Kondo lattice at quarter
    filling (t = -1, J = 2, electron kT = 0.01) relax into the four-sublattice triple-Q state
    (Martin & Batista, PRL 101, 156402 (2008)).

    The protocol: a strongly damped bath (``damping`` 8: the overdamped regime, where the spins
    slide down the energy instead of precessing about their field) annealed linearly from
    ``temperature`` (0.005) to 0 over the first ``5 steps / 16`` steps, then held at 0 so that the
    flat direction that shifts weight between the three M points (energy differences of 1e-4 per
    site) relaxes too; ``dt`` 0.2. On 6 x 6 with SIB and ED forces 800 steps reach |chi| > 0.99 of
    the ideal on every triangle and S(M) > 0.99 N / 3 at each M point for each of seeds 0-19.
    ``fields``: other :func:`kondo_triangular` arguments (e.g. ``J``, ``filling``, ``final_temperature``).
    """
    options = dict(state="random", seed=seed, hopping=-1.0, J=2.0, filling=0.25, kT=kT, temperature=temperature,
                   final_temperature=0.0, anneal_steps=max(1, (5 * int(steps)) // 16), damping=damping, dt=dt,
                   steps=steps, save_every=save_every)
    options.update(fields)
    return kondo_triangular(shape, **options)

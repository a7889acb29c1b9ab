"""``Solver``: a method and its hyperparameters, nothing else.

A solver holds no state, no results and no caches between calls; it validates its
hyperparameters on construction (:class:`InvalidSolverError`). Traits are plain class
attributes with conservative defaults that subclasses override::

    class KPM(tk.Solver):
        order: int = 256
        stochastic = True        # a trait, not a field (no annotation)

A stochastic solver declares a ``seed`` field; ensembles give each member its own seed.
"""

from __future__ import annotations

from ._struct import FrozenStruct
from .errors import InvalidSolverError

__all__ = ["Solver"]


class Solver(FrozenStruct):
    """Base of every solver type (a frozen, validated dataclass of hyperparameters)."""

    _error = InvalidSolverError

    #: Results depend on a random seed (the solver then has a ``seed`` field).
    stochastic = False
    #: ``tk.init`` gives an integrator that can be stepped.
    supports_step = False
    #: Runs several threads itself (ensembles should then prefer processes).
    parallel = False
    #: Fields that hold another solver, and the problem type it will be run on there, e.g.
    #: ``{"potential": PotentialEnergy}``; checked when the pair is resolved (``tk.composed()``).
    held_solvers = {}

    @classmethod
    def example(cls) -> "Solver":
        """A solver instance suitable for small test problems (default: all defaults)."""
        return cls()

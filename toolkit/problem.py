"""``Problem``: a physical system plus the question asked about it.

A problem is data and validation only: no numerics. Subclasses declare fields as class
annotations (they become a frozen dataclass automatically) and override ``_validate`` to
check and normalise them with :mod:`toolkit.validate`::

    class Decay(tk.TimeProblem):
        rate: float
        steps: int = 100

        def _validate(self):
            self._set("rate", tk.validate.real_scalar("rate", self.rate, lower=0))

Contract for subclasses
-----------------------
* every array field is float64/complex128/int64, C-contiguous and writeable after validation;
* bad input raises :class:`InvalidProblemError` naming the field, the value and what is allowed;
* ``example(seed)`` returns a small valid instance (the compatibility tests and the tour use it);
* ``default_solver()`` may name the solver ``tk.solve(problem)`` uses when none is given.
"""

from __future__ import annotations

import dataclasses

from ._struct import FrozenStruct
from .errors import InvalidProblemError

__all__ = ["Problem", "TimeProblem", "remake"]


class Problem(FrozenStruct):
    """Base of every problem type (a frozen, validated dataclass)."""

    _error = InvalidProblemError

    #: Groups of alternative fields, e.g. ``(("viscosity", "tau"),)``: ``tk.remake`` changing one
    #: field of a group sets the others to ``None`` (the problem derives them again).
    exclusive_fields = ()

    #: A meta-problem (an ensemble) wraps other problems; it is left out of compatibility listings.
    meta = False
    #: Fields that hold another solver, and the problem type it will be run on there, e.g.
    #: ``{"potential": PotentialEnergy}``; checked when the pair is resolved (``tk.composed()``).
    held_solvers = {}

    @classmethod
    def example(cls, seed: int = 0) -> "Problem":
        """A small valid instance, varied by ``seed``. Every concrete problem provides one."""
        raise NotImplementedError(f"{cls.__name__} does not provide example(seed); add a classmethod "
                                  "returning a small valid instance")

    def default_solver(self):
        """The solver ``tk.solve(problem)`` uses when none is given (``None``: the user must choose)."""
        return None


class TimeProblem(Problem):
    """A problem that evolves in time and can be stepped by an :class:`~toolkit.Integrator`.

    Subclasses provide ``steps`` (the number of steps of a full run) as a field or property.
    """

    @property
    def total_steps(self) -> int:
        return int(getattr(self, "steps"))


def remake(obj, **changes):
    """A validated copy of a problem or solver with some fields changed.

    >>> tk.remake(problem, kT=0.1)        # doctest: +SKIP

    Unknown field names raise :class:`InvalidProblemError` (or ``InvalidSolverError``)
    listing the fields that exist.
    """
    names = [f.name for f in dataclasses.fields(obj) if f.init]
    unknown = sorted(set(changes) - set(names))
    if unknown:
        from ._struct import unknown_fields_error
        raise unknown_fields_error(type(obj), unknown, verb="tk.remake")
    # Alternative fields (e.g. viscosity | tau): changing one clears the others of its group.
    for group in getattr(type(obj), "exclusive_fields", ()):
        if any(name in changes for name in group):
            changes.update({name: None for name in group if name not in changes})
    return dataclasses.replace(obj, **changes)

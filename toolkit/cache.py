"""Reusable caches and force providers: the contracts for solvers that drive other solvers.

After SciMLBase's ``init`` / ``solve!``: ``cache = tk.init(problem, solver)`` works for every
compatible pair. For a steady problem it returns a :class:`SolveCache`, which keeps what does
not change between solves (sparsity patterns, neighbour lists, spectral bounds, compiled
kernels)::

    cache = tk.init(kondo_lattice, KPM(order=256))
    for step in range(n):
        cache.update(spins=spins)          # validated like tk.remake
        solution = cache.solve()           # equal to tk.solve(tk.remake(problem, spins=spins), KPM(...))

Contract for a family's cache (register it with ``@dispatch def _init(problem: P, solver: S)``):

``_refresh(problem, changed) -> None``
    Bring the kept pieces up to date for ``problem`` (the validated new problem; ``self.problem``
    is still the old one), knowing the names of the ``changed`` fields. Rebuild what depends on
    them; never keep anything that would make the result differ from a fresh solve.
``_solve(**options) -> Solution``
    Solve ``self.problem`` with the kept pieces; the result must equal ``tk.solve`` of the same
    pair (bit for bit, or to round-off where the note of the family says so).

The generic :class:`SolveCache` keeps nothing and calls ``tk.solve``: every pair has one.

A :class:`ForceProvider` is a solver whose cache gives an energy and its gradient for a
configuration (atom positions, classical spins): a :class:`ForceCache` (``energy_gradient(x)`` for
dynamics, ``energy(x)`` alone for Monte Carlo). Problems type the
fields that hold one (``potential``, ``forces``) against :class:`ForceProvider` and declare
them in ``held_solvers``, so the core checks that the held solver can serve the inner problem
when the pair is resolved (see :func:`toolkit.dispatch.check_held`).
"""

from __future__ import annotations

import numpy as np

from .problem import remake
from .solver import Solver

__all__ = ["SolveCache", "ForceProvider", "ForceCache"]


class SolveCache:
    """What a (problem, solver) pair keeps between solves; see the module docstring."""

    def __init__(self, problem, solver, **options):
        self.problem = problem
        self.solver = solver
        self.options = options

    def update(self, **changes) -> "SolveCache":
        """Change fields of the problem (validated like ``tk.remake``) and refresh what depends on them."""
        if not changes:
            return self
        problem = remake(self.problem, **changes)
        self._refresh(problem, frozenset(changes))
        self.problem = problem
        return self

    def solve(self, **options):
        """The Solution of the current problem (options add to those given to ``tk.init``)."""
        return self._solve(**{**self.options, **options})

    # -- what subclasses provide -------------------------------------------------------
    def _refresh(self, problem, changed: frozenset) -> None:
        """Update kept pieces for ``problem`` (the generic cache keeps none)."""

    def _solve(self, **options):
        from .dispatch import solve

        return solve(self.problem, self.solver, **options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.problem!r}, {self.solver!r})"


class ForceProvider(Solver):
    """Base of solvers whose cache gives an energy and its gradient: ``tk.init(p, s) -> ForceCache``.

    Subclasses: molecular potentials (the configuration is atom positions, Å; the gradient is
    minus the forces, eV/Å) and electronic solvers of spin models (the configuration is the
    classical unit spins; the gradient is dE/dS). ``configuration`` names what the gradient is
    taken with respect to.
    """

    abstract = True
    #: What a configuration is: ``"positions"`` (atoms) or ``"spins"`` (classical spins).
    configuration = "positions"


class ForceCache(SolveCache):
    """A cache that evaluates an energy and its gradient at a configuration, many times over."""

    def energy_gradient(self, configuration: np.ndarray) -> tuple[float, np.ndarray]:
        """``(E, dE/dx)`` at ``configuration`` (an array shaped like the problem's one)."""
        raise NotImplementedError(f"{type(self).__name__} must implement energy_gradient(configuration)")

    def energy(self, configuration: np.ndarray) -> float:
        """``E`` alone at ``configuration``: what a Monte Carlo sampler asks for every proposal.

        Equal to ``energy_gradient(configuration)[0]`` (to round-off: a cache may take a cheaper route,
        e.g. eigenvalues without eigenvectors, or rewrite only what changed since the last call). This
        default computes the gradient too."""
        return self.energy_gradient(configuration)[0]

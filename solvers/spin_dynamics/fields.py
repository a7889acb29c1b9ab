"""The effective field ``h = -dE/dS`` of a spin-dynamics problem: classical terms plus electrons.

The classical part (Heisenberg bonds, Zeeman field, single-ion anisotropy) is numba kernels
(:func:`.kernels.classical_field`, :func:`.kernels.anisotropy_field`);
the electronic part comes from a held force provider through the core's cache,
``tk.init(model, forces).energy_gradient(spins) -> (E_el, dE_el/dS)``, which for a Kondo
tight-binding model rewrites only the on-site blocks per call. The electronic energy is defined
for unit spins, so it is evaluated at ``S / |S|`` (the midpoint rules ask for fields at
non-unit midpoints; the classical part is evaluated at S itself, which keeps the implicit midpoint
rule exactly energy-conserving for quadratic classical energies).

The force provider runs with BLAS limited to the solver's ``blas_threads`` (default 1, through
threadpoolctl): a force evaluation is a small dense problem (ED of a 72 x 72 matrix takes about
1.5 ms on one thread), and threaded BLAS on a busy machine made it a hundred times slower.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import toolkit as tk

from .kernels import anisotropy_field, classical_field, normalise

__all__ = ["EffectiveField", "electronic_problem"]


def electronic_problem(problem, spins=None):
    """The model the force provider is initialised on: the problem's ``model`` with ``spins``
    (default: the initial spins) and, where the model has these fields, ``local=True`` (forces are
    read from the density matrix) and ``pattern="onsite"`` (the cheapest pattern that holds them)."""
    model = problem.model
    spins = problem.spins if spins is None else spins
    names = {f.name for f in dataclasses.fields(model)}
    changes = {}
    if not np.array_equal(np.asarray(model.spins), spins):
        changes["spins"] = spins
    if "local" in names and model.local is not True:
        changes["local"] = True
    if "pattern" in names and not (isinstance(model.pattern, str) and model.pattern == "onsite"):
        changes["pattern"] = "onsite"
    return tk.remake(model, **changes) if changes else model


_CONTROLLER = []


def blas_limit(threads: int | None):
    """A context limiting BLAS to ``threads`` threads (None: leave it alone). The library scan is
    done once; entering a limit then costs a few microseconds."""
    if threads is None:
        import contextlib

        return contextlib.nullcontext()
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=int(threads), user_api="blas")


class EffectiveField:
    """``field(S) -> (E_el, E_cl, h)``: the energies and the total effective field at spins S.

    ``cache`` is the electronic force cache (None for a purely classical model). Errors of the
    force provider propagate (a :class:`toolkit.ScalebridgeError`); the integrator turns them
    into ``Unstable`` at the step.
    """

    def __init__(self, problem, solver):
        self.bonds = problem.bonds
        self.exchange = np.ascontiguousarray(problem.exchange_per_bond, dtype=np.float64)
        self.zeeman = problem.zeeman
        self.anisotropy = float(problem.anisotropy)
        self.axis = problem.anisotropy_axis
        self.cache = None
        self.evaluations = 0
        self._unit = np.empty_like(problem.spins)
        self.threads = getattr(solver, "blas_threads", 1)
        if problem.model is None:
            if solver.forces is not None:
                raise tk.InvalidProblemError(
                    f"model = None is not allowed with forces = {type(solver.forces).__name__}(...): the force "
                    "provider needs electrons; give a Kondo model (a TightBinding with spins) or drop forces")
            return
        inner = electronic_problem(problem)
        with blas_limit(self.threads):
            self.cache = tk.init(inner) if solver.forces is None else tk.init(inner, solver.forces)
        if not isinstance(self.cache, tk.ForceCache):
            raise tk.InvalidSolverError(
                f"forces = {solver.forces!r} is not allowed: tk.init(model, forces) gave a {type(self.cache).__name__}, "
                "not a force cache; give a force provider for spins (ExactDiagonalization(), KPM(...))")

    def __call__(self, S):
        h = np.empty_like(S)
        e_cl = float(classical_field(S, self.bonds, self.exchange, self.zeeman, h))
        if self.anisotropy != 0.0:
            e_cl += float(anisotropy_field(S, self.anisotropy, self.axis, h))
        e_el = 0.0
        if self.cache is not None:
            normalise(S, self._unit)
            with blas_limit(self.threads):
                e_el, grad = self.cache.energy_gradient(self._unit)
            grad = np.asarray(grad, dtype=np.float64)
            if grad.shape != S.shape or not np.all(np.isfinite(grad)) or not np.isfinite(e_el):
                raise tk.UnstableError(f"the force provider returned a non-finite energy or gradient "
                                       f"(energy {e_el!r}, gradient of shape {grad.shape})")
            h -= grad
            e_el = float(e_el)
        self.evaluations += 1
        return e_el, e_cl, h

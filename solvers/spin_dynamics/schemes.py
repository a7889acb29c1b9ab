"""Integrators of the stochastic Landau-Lifshitz-Gilbert equation (solver types: hyperparameters only).

The first four integrate ``dS/dt = S x H - alpha S x (S x H)``, ``H = h(S) + xi`` (Stratonovich; see
:mod:`problems.spin_dynamics`), with the noise ``xi`` drawn once per step, ``sqrt(2 D / dt)`` times
standard normals from ``numpy.random.default_rng(seed)``, and held fixed within the step:

* :class:`StochasticHeun` -- projected stochastic Heun: Euler predictor, trapezoidal corrector,
  each renormalised to |S| = 1; weak order 1, two field evaluations per step (the
  Stratonovich-consistent scheme of e.g. Garcia-Palacios & Lazaro, PRB 58, 14937 (1998),
  doi:10.1103/PhysRevB.58.14937).
* :class:`SIB` -- the semi-implicit scheme B of Mentink, Tretyakov, Fasolino, Katsnelson & Rasing,
  J. Phys.: Condens. Matter 22, 176001 (2010), doi:10.1088/0953-8984/22/17/176001: writing the
  equation as ``dS/dt = S x A(S)``, ``A = H - alpha S x H``, a predictor
  ``S' = S + dt (S + S')/2 x A(S)`` and a corrector ``S_new = S + dt (S + S_new)/2 x A((S + S')/2)``,
  each a Cayley rotation solved in closed form, so |S| = 1 exactly; two field evaluations per step.
* :class:`ImplicitMidpoint` -- ``S_new = S + dt y x A(y)``, ``y = (S + S_new)/2``, solved by
  fixed-point iteration to ``tolerance`` (each iterate a Cayley rotation): symplectic and
  norm-preserving for deterministic dynamics (temperature 0, damping 0), conserving quadratic
  classical energies to the iteration tolerance; with noise it is the Stratonovich midpoint rule
  (d'Aquino et al., J. Appl. Phys. 99, 08B905 (2006), doi:10.1063/1.2169472). One field evaluation
  per iteration.
* :class:`DepondtMertens` -- the rotation scheme of Depondt & Mertens, J. Phys.: Condens. Matter
  21, 336005 (2009), doi:10.1088/0953-8984/21/33/336005: a Heun scheme whose updates are exact
  rotations, ``S' = R(A(S), dt) S`` (predictor), ``S_new = R((A(S) + A(S'))/2, dt) S`` (corrector),
  R(A, dt) the rotation about A by ``|A| dt`` that solves ``dS/dt = S x A`` for fixed A; |S| = 1
  exactly, weak order 1, two field evaluations per step.

:class:`OverdampedLangevin` integrates instead the overdamped (precession-free) Langevin equation
of Barros & Kato, PRB 88, 235101 (2013), doi:10.1103/PhysRevB.88.235101,

    dS = -Gamma P dE/dS dt + sqrt(2 Gamma kT) P dW,     P = 1 - S S^T,   Gamma = ``damping``,

by projected Euler-Maruyama steps normalised to |S| = 1 (the normalisation supplies the Ito
drift of the sphere to first order); one field evaluation per step, weak order 1. It is the
LLG equation above with the precession dropped (``alpha P h`` is the Gilbert term), so it relaxes
on the same time scale 1 / (damping x stiffness) and samples the same exp(-E / kT); it has no
real-time dynamics. The noise is a displacement ``sqrt(2 Gamma kT dt)`` times standard normals,
drawn from the same generator.

Each holds ``forces``: the force provider for the problem's electrons (``ExactDiagonalization()``,
``KPM(...)``), None for a purely classical model (or to use the model's default solver).
"""

from __future__ import annotations

import toolkit as tk
from problems.tight_binding import TightBinding
from toolkit import validate as v

__all__ = ["SpinIntegratorSolver", "StochasticHeun", "SIB", "ImplicitMidpoint", "DepondtMertens",
           "OverdampedLangevin", "SPIN_SCHEMES"]

_E = tk.InvalidSolverError


class SpinIntegratorSolver(tk.Solver):
    """Base of the spin integrators: ``forces`` (a spin force provider or None), ``seed`` and
    ``blas_threads`` (1 to 1024, or None to leave BLAS alone): the BLAS threads the force provider
    may use (one by default: a force evaluation is a small dense problem that threads only slow)."""

    abstract = True
    forces: tk.ForceProvider | None = None
    seed: int = 0
    blas_threads: int | None = 1

    supports_step = True
    stochastic = True
    held_solvers = {"forces": TightBinding}

    def _validate(self):
        f = self.forces
        if f is not None and not (isinstance(f, tk.ForceProvider) and getattr(type(f), "configuration", None) == "spins"):
            raise _E(f"forces = {v.show(f)} is not allowed: give a force provider for classical spins "
                     "(ExactDiagonalization(), KPM(...)) or None for a purely classical model")
        self._set("seed", v.integer("seed", self.seed, lower=0, upper=2**63 - 1, error=_E))
        if self.blas_threads is not None:
            self._set("blas_threads", v.integer("blas_threads", self.blas_threads, lower=1, upper=1024, error=_E))


class StochasticHeun(SpinIntegratorSolver):
    """Projected stochastic Heun (Stratonovich), weak order 1; see the module docstring."""

    abstract = False


class SIB(SpinIntegratorSolver):
    """Semi-implicit scheme B of Mentink et al. (2010), |S| = 1 exactly; see the module docstring."""

    abstract = False


class ImplicitMidpoint(SpinIntegratorSolver):
    """Implicit midpoint rule, symplectic for deterministic dynamics; see the module docstring.

    ``tolerance``: the fixed-point iteration stops when no midpoint component moves by more
    (1e-15 to 1e-2); ``max_iterations`` (1 to 10^4): a step that has not converged by then stops
    the run ``Unstable`` (reduce dt).
    """

    abstract = False
    tolerance: float = 1e-12
    max_iterations: int = 100

    def _validate(self):
        super()._validate()
        self._set("tolerance", v.real_scalar("tolerance", self.tolerance, lower=1e-15, upper=1e-2, error=_E))
        self._set("max_iterations", v.integer("max_iterations", self.max_iterations, lower=1, upper=10_000,
                                              error=_E))


class DepondtMertens(SpinIntegratorSolver):
    """Depondt-Mertens rotation scheme (Heun with exact rotations), |S| = 1 exactly; see the module docstring."""

    abstract = False


class OverdampedLangevin(SpinIntegratorSolver):
    """Overdamped Langevin of Barros & Kato (2013), Gamma = the problem's ``damping``: samples
    exp(-E / kT) with one field evaluation per step, no precession; see the module docstring."""

    abstract = False


#: Every concrete spin integrator (one ``_init`` method serves them all).
SPIN_SCHEMES = (StochasticHeun, SIB, ImplicitMidpoint, DepondtMertens, OverdampedLangevin)

"""Geometry optimisation: L-BFGS (SciPy) and FIRE (ASE) on any potential.

* ``LBFGS``: limited-memory BFGS (Liu & Nocedal, Math. Program. 45, 503 (1989),
  doi:10.1007/BF01589116) through ``scipy.optimize.minimize(method="L-BFGS-B")``;
* ``FIRE``: fast inertial relaxation (Bitzek et al., Phys. Rev. Lett. 97, 170201 (2006),
  doi:10.1103/PhysRevLett.97.170201) through ``ase.optimize.FIRE`` driving the potential as an
  ASE calculator.

Both stop when every atom's force is below ``problem.fmax`` (eV/Å): ``Success``; otherwise
``MaxIters`` after ``problem.max_steps`` steps.
"""

from __future__ import annotations

import time

import numpy as np

import toolkit as tk
from problems.molecule import GeometryOptimization
from toolkit import validate as v
from toolkit.conventions import attrs, index
from toolkit.dispatch import dispatch

from .potential import atom_coordinates, force_function

__all__ = ["LBFGS", "FIRE", "OptimizationSolution"]

_E = tk.InvalidSolverError


class OptimizationSolution(tk.Solution):
    """Relaxed ``positions`` (Å), their ``energy`` (eV) and ``forces``, and the energy ``history``."""

    positions: np.ndarray
    energy: float
    forces: np.ndarray
    history: np.ndarray

    dims = {"positions": ("atom", "xyz"), "forces": ("atom", "xyz"), "history": ("evaluation",)}
    cf = {"positions": attrs("Å", "relaxed position"), "forces": attrs("eV/Å", "force"),
          "history": attrs("eV", "potential energy"), "evaluation": index("energy evaluation")}

    def _coordinates(self):
        return atom_coordinates(self.problem.molecule)

    @property
    def molecule(self):
        """The relaxed molecule."""
        return tk.remake(self.problem.molecule, positions=self.positions)

    def plot(self, ax=None):
        """Energy above the lowest one reached against energy evaluations (log scale)."""
        from toolkit.plotting import COUNT, label, new_axes

        from .potential import formula, md_units

        fig, ax, _ = new_axes(ax, figsize=(6.0, 4.0))
        units = md_units(self.problem.potential, self.problem.molecule)
        ax.plot(np.arange(len(self.history)), self.history - self.history.min() + 1e-12)
        ax.set_yscale("log")
        ax.set_xlabel(label("energy evaluation", COUNT))
        ax.set_ylabel(label("E − E_min", units["energy"]))
        ax.set_title(f"relaxation of {formula(self.problem.molecule.species)} ({type(self.solver).__name__})")
        return ax


class LBFGS(tk.Solver):
    """SciPy L-BFGS with ``memory`` correction pairs."""

    memory: int = 20

    def _validate(self):
        self._set("memory", v.integer("memory", self.memory, lower=1, upper=10_000, error=_E))


class FIRE(tk.Solver):
    """ASE's FIRE with maximum step ``maxstep`` (Å) and initial time step ``dt`` (ASE units)."""

    maxstep: float = 0.2
    dt: float = 0.1

    def _validate(self):
        self._set("maxstep", v.real_scalar("maxstep", self.maxstep, lower=1e-6, upper=1e3, error=_E))
        self._set("dt", v.real_scalar("dt", self.dt, lower=1e-6, upper=1e3, error=_E))


def _finish(problem, solver, x, energy, forces, history, steps, t0):
    fmax = float(np.linalg.norm(forces, axis=1).max()) if len(forces) else 0.0
    ok = fmax < problem.fmax
    message = "" if ok else (f"largest force {fmax:.3g} eV/Å is above fmax = {problem.fmax} after "
                             f"{steps} steps; raise max_steps")
    return OptimizationSolution(problem=problem, solver=solver,
                                retcode=tk.ReturnCode.Success if ok else tk.ReturnCode.MaxIters,
                                message=message, stats={"wall_time": time.perf_counter() - t0, "steps": steps,
                                                        "fmax": fmax},
                                positions=np.ascontiguousarray(x), energy=float(energy),
                                forces=np.ascontiguousarray(forces), history=np.array(history, dtype=float))


@dispatch
def _solve(problem: GeometryOptimization, solver: LBFGS) -> OptimizationSolution:
    from scipy.optimize import minimize

    t0 = time.perf_counter()
    mol = problem.molecule
    _, compute = force_function(mol, problem.potential)   # tk.init(PotentialEnergy(mol), potential)
    history = []

    def fun(flat):
        e, f, _ = compute(flat.reshape(-1, 3))
        history.append(e)
        return e, -f.ravel()

    result = minimize(fun, mol.positions.ravel(), jac=True, method="L-BFGS-B",
                      options={"maxiter": problem.max_steps, "maxcor": solver.memory,
                               "gtol": problem.fmax / np.sqrt(3.0), "ftol": 1e-15, "maxfun": 4 * problem.max_steps})
    x = result.x.reshape(-1, 3)
    e, f, _ = compute(x)
    return _finish(problem, solver, x, e, f, history, int(result.nit), t0)


@dispatch
def _solve(problem: GeometryOptimization, solver: FIRE) -> OptimizationSolution:
    from ase.optimize import FIRE as AseFIRE

    from .ase_bridge import as_ase_calculator

    t0 = time.perf_counter()
    atoms = problem.molecule.to_ase()
    atoms.calc = as_ase_calculator(problem.potential)
    history = []
    opt = AseFIRE(atoms, logfile=None, maxstep=solver.maxstep, dt=solver.dt)
    opt.attach(lambda: history.append(atoms.get_potential_energy()))
    opt.run(fmax=problem.fmax, steps=problem.max_steps)
    return _finish(problem, solver, atoms.get_positions(), atoms.get_potential_energy(), atoms.get_forces(),
                   history, int(opt.nsteps), t0)

"""Memory estimates of the density-field pairs, checked by ``tk.solve`` / ``tk.init`` before allocating.

Every pair holds a number of float64 copies of the grid (``cells`` = prod(shape), 8 bytes each):

* ``work`` — the operators and scratch of one solve: phi, δF/δphi, |k| and V(k), the stepper's
  symbols and the FFT buffers (:data:`SPECTRAL_WORK` copies; :data:`FD_WORK` for finite differences);
* ``frames`` (FieldDynamics) — the saved fields, ``steps // save_every + 2`` of them, held twice at the
  end (the list and the solution's array);
* ``images`` (StringMethod) — the string, its update and its re-spaced copy: 3 × ``images`` grids;
* ``lanczos`` (DimerMethod) — ``rotation_steps`` Lanczos vectors per rotation;
* ``krylov`` — Newton-Krylov's LGMRES basis and ARPACK's Lanczos basis for the index check
  (:data:`KRYLOV_COPIES`, the larger of the two);
* ``lbfgs`` (SizeScan) — 20 (s, y) pairs of L-BFGS at each droplet size;
* ``radial`` (RadialNewtonKrylov) — the radial profile's Krylov basis (``points`` floats each), and the
  grid coordinates of the field it maps back to.

``tk.memory_estimate(problem, solver)`` returns these parts in bytes; a pair whose total exceeds the
memory available is refused with the estimate before any array is allocated.
"""

from __future__ import annotations

import math

from toolkit import memory

from problems.density_field import FieldDynamics, NucleationBarrier, Relaxation

from .dimer import DimerMethod
from .finite_difference import ExplicitFD
from .grid_newton import GridNewtonKrylov
from .radial_newton import RadialNewtonKrylov
from .size_scan import SizeScan
from .spectral import SemiImplicit
from .string_method import StringMethod

__all__ = ["SPECTRAL_WORK", "FD_WORK", "KRYLOV_COPIES", "LBFGS_COPIES", "grid_bytes"]

#: Grid copies of a spectral solve's operators and scratch (complex half-spectra count as one copy).
SPECTRAL_WORK = 16
#: Grid copies of a finite-difference solve (phi, mu, the update, Laplacian and roll temporaries).
FD_WORK = 10
#: Newton-Krylov (LGMRES: 30 inner + 3 outer vectors and their images) or Lanczos (20 vectors) copies.
KRYLOV_COPIES = 48
#: L-BFGS correction pairs of the size-constrained minimiser (20 pairs of 2 vectors) and its scratch.
LBFGS_COPIES = 44


def grid_bytes(field, copies: float = 1) -> int:
    """Bytes of ``copies`` float64 copies of ``field``'s grid."""
    return int(copies * math.prod(field.shape) * 8)


@memory.estimate.dispatch
def _(problem: FieldDynamics, solver: SemiImplicit | ExplicitFD) -> dict:
    frames = problem.steps // problem.save_every + 2
    work = SPECTRAL_WORK if isinstance(solver, SemiImplicit) else FD_WORK
    return {"work": grid_bytes(problem.field, work), "frames": grid_bytes(problem.field, 2 * frames)}


@memory.estimate.dispatch
def _(problem: Relaxation, solver: SemiImplicit | ExplicitFD) -> dict:
    work = SPECTRAL_WORK if isinstance(solver, SemiImplicit) else FD_WORK
    return {"work": grid_bytes(problem.field, work)}


@memory.estimate.dispatch
def _(problem: NucleationBarrier, solver: StringMethod) -> dict:
    return {"work": grid_bytes(problem.field, SPECTRAL_WORK), "images": grid_bytes(problem.field, 3 * solver.images),
            "krylov": grid_bytes(problem.field, KRYLOV_COPIES if solver.polish else 20)}


@memory.estimate.dispatch
def _(problem: NucleationBarrier, solver: DimerMethod) -> dict:
    return {"work": grid_bytes(problem.field, SPECTRAL_WORK), "lanczos": grid_bytes(problem.field, solver.rotation_steps),
            "krylov": grid_bytes(problem.field, 20)}


@memory.estimate.dispatch
def _(problem: NucleationBarrier, solver: GridNewtonKrylov) -> dict:
    return {"work": grid_bytes(problem.field, SPECTRAL_WORK), "krylov": grid_bytes(problem.field, KRYLOV_COPIES)}


@memory.estimate.dispatch
def _(problem: NucleationBarrier, solver: SizeScan) -> dict:
    return {"work": grid_bytes(problem.field, SPECTRAL_WORK), "lbfgs": grid_bytes(problem.field, LBFGS_COPIES),
            "krylov": grid_bytes(problem.field, KRYLOV_COPIES)}


@memory.estimate.dispatch
def _(problem: NucleationBarrier, solver: RadialNewtonKrylov) -> dict:
    # the radial profile, its DSTs and the LGMRES basis; the field's coordinates, distances and result
    return {"radial": int(solver.points * 8 * (KRYLOV_COPIES + 8)), "work": grid_bytes(problem.field, 8)}

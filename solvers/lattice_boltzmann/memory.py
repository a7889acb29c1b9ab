"""Memory a lattice Boltzmann run needs, estimated before anything is allocated.

Registered with :func:`toolkit.memory.estimate`, so ``tk.solve`` / ``tk.init`` refuse a
``LatticeFluid`` whose run would not fit in the memory available now, naming the estimate, its
parts and the memory available. With N padded nodes (a layer added on each side of every walled
axis), Q velocities and storage of ``itemsize`` bytes:

* populations: one array (in-place AA pattern: fully periodic, all fluid, generated kernels) or
  two (every other domain) of Q N itemsize bytes (+ 4 KiB padding per slot);
* initial state: the float64 equilibrium and its velocity and density (Q + 4) N 8 bytes, held
  while the stepper copies it in (counted past what frames and solution take later: the two
  never coexist);
* domain: node flags and masks (2 N bytes; 3 N 8 more with a moving wall);
* frames: density and velocity (1 + D) n 8 bytes for each of the saved frames, plus the
  solution's copy with the vorticity; moments of a frame (4 N 8 bytes);
* NumPy reference (``backend="numpy"``): its temporaries, about 8 float64 copies of the populations.
"""

from __future__ import annotations

import math

from problems.lattice_fluid import FLUID_LATTICES, LatticeFluid
from toolkit import memory

from .bgk import BGK
from .generated import MODULES
from .mrt import MRT
from .trt import TRT

__all__ = ["estimate_bytes", "in_place", "frame_count"]

_Q = {"D2Q9": 9, "D3Q19": 19, "D3Q27": 27}
_KERNELS = {BGK: "bgk", TRT: "trt", MRT: "mrt"}


def padded_cells(problem) -> int:
    """Nodes of the padded internal grid (Python integers: no overflow)."""
    n = 1
    for axis, size in zip("xyz", problem.shape):
        n *= int(size) + (2 if problem.boundaries[axis + "-"][0] != "periodic" else 0)
    return n


def in_place(problem, solver) -> bool:
    """Whether the run steps one population array (the AA stepper applies)."""
    if solver.backend != "numba" or not problem.periodic or problem.solid is not None:
        return False
    kernels = next((k for cls, k in _KERNELS.items() if isinstance(solver, cls)), None)
    if kernels is None or f"{problem.lattice.lower()}_{kernels}" not in MODULES:
        return False
    return int(problem.shape[-1]) >= 3        # the contiguous internal axis: y in 2D, z in 3D


def frame_count(problem) -> int:
    """Saved frames of a full run: every ``save_every`` steps, plus the first and the last."""
    return int(problem.steps) // int(problem.save_every) + 2


def estimate_bytes(problem, solver) -> dict:
    """The parts of :func:`toolkit.memory.estimate` for a ``LatticeFluid`` and a lattice Boltzmann solver."""
    q = _Q[problem.lattice]
    dim = FLUID_LATTICES[problem.lattice]
    cells = padded_cells(problem)
    nodes = math.prod(int(s) for s in problem.shape)
    itemsize = 4 if solver.precision == "float32" else 8
    arrays = 1 if in_place(problem, solver) else 2
    moving = any(kind == "moving_wall" for kind, _ in problem.boundaries.values())
    frames = frame_count(problem)
    vort = 1 if dim == 2 else 3
    kept = frames * nodes * (1 + dim) * 8
    end = frames * nodes * (1 + dim + vort) * 8 + 4 * cells * 8
    parts = {
        "populations": arrays * q * (cells * itemsize + 4096),
        "domain": 2 * cells + (3 * cells * 8 if moving else 0),
        "frames": kept,
        "solution": end,
        # the initial state is freed before frames pile up and the solution is built: count its excess
        "initial state": max(0, (q + 4) * cells * 8 - kept - end),
    }
    if solver.backend == "numpy":
        parts["numpy temporaries"] = 8 * q * cells * 8
    return parts


@memory.estimate.dispatch
def _(problem: LatticeFluid, solver: BGK | TRT | MRT) -> dict:
    return estimate_bytes(problem, solver)

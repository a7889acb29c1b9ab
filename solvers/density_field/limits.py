"""Ranges of the density-field solvers' counts and sizes: runs that can finish, integers C code accepts.

A count past these bounds is refused by name when the solver is built (``InvalidSolverError``):
a loop of 10^12 iterations never ends, 10^12 Lanczos vectors or string images never fit, and seeds
and thread counts reach NumPy's generators, scipy.fft's worker pool and int64 fields of the records.
What a pair holds in memory at its peak is :mod:`.memory`'s job (checked before anything is
allocated); these bounds are the ones that hold whatever the grid.
"""

from __future__ import annotations

from problems.density_field import MAX_PARAMETER, MAX_SEED

__all__ = ["MAX_PARAMETER", "MAX_SEED", "MAX_THREADS", "MAX_RELAX_ITERS", "MAX_SADDLE_ITERS", "MAX_NEWTON_ITERS",
           "MAX_IMAGES", "MAX_ROTATION_STEPS", "MAX_ZOOMS", "MAX_RADIAL_POINTS", "MAX_BRACKETS", "MAX_REFINEMENTS",
           "MAX_LBFGS_ITERS", "MAX_DESCENTS"]

#: scipy.fft workers (and the parallel kernel's switch); more threads than this machine class has cores.
MAX_THREADS = 1024
#: Relaxation steps (one semi-implicit or explicit step each; ~20 µs on the smallest grid).
MAX_RELAX_ITERS = 10 ** 8
#: Dimer translations, string iterations and dimer descents (a Lanczos rotation or one step per image each).
MAX_SADDLE_ITERS = 10 ** 7
#: Newton-Krylov iterations (each an LGMRES solve; quadratic convergence needs tens).
MAX_NEWTON_ITERS = 10 ** 4
#: Images of a string (each a full grid, relaxed every iteration).
MAX_IMAGES = 1000
#: Lanczos steps per dimer rotation (each a stored grid vector; the lowest mode needs a handful).
MAX_ROTATION_STEPS = 1000
#: Zooms of the string before climbing.
MAX_ZOOMS = 100
#: Radial grid points of the radial Newton-Krylov solver.
MAX_RADIAL_POINTS = 10 ** 7
#: Size moves each way of the size scan.
MAX_BRACKETS = 10 ** 4
#: Bisections of the size scan (60 already reach float64 resolution).
MAX_REFINEMENTS = 200
#: L-BFGS iterations per droplet size.
MAX_LBFGS_ITERS = 10 ** 6
#: Dimer descents of the size scan's continuation.
MAX_DESCENTS = 100

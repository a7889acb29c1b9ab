"""Look-up of the generated unrolled kernels (``generated/``, written by ``codegen/gen_lbm_kernels.py``).

A collision names its kernel family (``Collision.kernels``: "bgk", "trt", "mrt"); the module
``generated/<lattice>_<family>.py`` holds them when it exists. Modules are imported on first
use, so a run loads (and numba compiles) only the kernels it steps with.
"""

from __future__ import annotations

import importlib

import numpy as np

from .generated import MODULES

__all__ = ["generated_module", "aa_kernels", "two_array_kernel"]


def generated_module(lattice_name: str, family: str | None):
    """The generated module of ``lattice_name`` ("D2Q9") and kernel ``family`` ("bgk"), or None."""
    if family is None:
        return None
    name = f"{lattice_name.lower()}_{family}"
    if name not in MODULES:
        return None
    return importlib.import_module(f"{__package__}.generated.{name}")


def _usable(module, collision, c, shape) -> bool:
    """The module's kernels compute this collision on this grid: same velocity ordering, at least
    3 nodes along the contiguous axis (the kernels peel z = 0 and z = nz − 1)."""
    return (module is not None and shape[2] >= 3 and c.shape == module.C.shape and np.array_equal(c, module.C)
            and collision.fits(module))


def aa_kernels(lattice_name: str, collision, c: np.ndarray, shape, parallel: bool):
    """The in-place AA kernels ``(nonlocal, local)`` for this lattice and collision, or None when
    none apply. Each is called as ``kernel(buf, nx, ny, nz, w, *collision.rates, F)`` on the
    (Q, P) buffer of ``aa.aa_storage`` and returns the number of bad nodes."""
    module = generated_module(lattice_name, collision.kernels)
    if not _usable(module, collision, c, shape):
        return None
    return module.AA_PARALLEL if parallel else module.AA_SERIAL


def two_array_kernel(lattice_name: str, collision, c: np.ndarray, shape, parallel: bool):
    """The unrolled two-array (A–B) kernel ``kernel(src, dst, w, *collision.rates, F)``, or None
    (generated for BGK only)."""
    module = generated_module(lattice_name, collision.kernels)
    if not _usable(module, collision, c, shape) or not hasattr(module, "AB_SERIAL"):
        return None
    return module.AB_PARALLEL if parallel else module.AB_SERIAL

"""Checks of a checkpoint's state against the problem it claims to continue.

A record read back from disk is well formed but may belong to another problem, or have been
edited: a population array of the wrong shape handed to the in-place kernels (which run with
bounds checks off) writes outside its buffer. Every array is checked here, before any kernel
touches it; a mismatch raises ``FileFormatError`` naming the array, what it holds and what the
problem needs.
"""

from __future__ import annotations

import numpy as np

import toolkit as tk

__all__ = ["checked_state"]

_KEYS = ("f", "frame_steps", "density", "velocity", "force")


def _describe(a) -> str:
    if isinstance(a, np.ndarray):
        return f"shape {a.shape} and dtype {a.dtype}"
    return f"a {type(a).__name__}"


def _array(state: dict, key: str, shape: tuple, kind: str, dtype=None, finite: bool = True) -> np.ndarray:
    """``state[key]`` as an array of exactly ``shape`` (and ``dtype``, else of numpy ``kind``
    "f" real or "i" integer), finite, or a FileFormatError saying what the problem needs."""
    a = state[key]
    need = f"shape {shape} and dtype {np.dtype(dtype) if dtype is not None else 'float' if kind == 'f' else 'int'}"
    if not isinstance(a, np.ndarray) or a.shape != shape or (
            a.dtype != dtype if dtype is not None else a.dtype.kind not in ((kind, "u") if kind == "i" else (kind,))):
        raise tk.FileFormatError(f"checkpoint array {key!r} has {_describe(a)}; this problem needs {need}: the "
                                 "checkpoint belongs to another problem or solver, or is corrupt")
    if finite and a.dtype.kind == "f" and not np.isfinite(a).all():
        raise tk.FileFormatError(f"checkpoint array {key!r} ({_describe(a)}) holds {np.count_nonzero(~np.isfinite(a))} "
                                 "non-finite value(s); a resumable state is finite: the checkpoint is corrupt")
    return a


def checked_state(state: dict, problem, q: int, shape3: tuple, dtype) -> dict:
    """The checkpoint ``state`` of a ``LatticeIntegrator`` after checking it fits ``problem``:
    populations ``f`` (q, *shape3) of the storage ``dtype``, finite; ``frame_steps`` strictly
    increasing integers from 0 to at most the problem's steps; ``density`` (n, *shape), ``velocity``
    (n, *shape, D) and ``force`` (n, D) float64 and finite, n = the number of frame steps."""
    if not isinstance(state, dict):
        raise tk.FileFormatError(f"checkpoint state is a {type(state).__name__}, not a dict of arrays")
    missing = [k for k in _KEYS if k not in state]
    if missing:
        raise tk.FileFormatError(f"checkpoint state lacks {missing}; a lattice Boltzmann checkpoint holds "
                                 f"{list(_KEYS)}")
    f = _array(state, "f", (q,) + tuple(shape3), "f", dtype=np.dtype(dtype))
    steps = state["frame_steps"]
    n = steps.shape[0] if isinstance(steps, np.ndarray) and steps.ndim == 1 else -1
    steps = _array(state, "frame_steps", (max(n, 0),), "i")
    last = problem.total_steps
    if n < 1 or steps[0] != 0 or np.any(np.diff(steps) <= 0) or steps[-1] > last:
        shown = np.array2string(steps, threshold=8)
        raise tk.FileFormatError(f"checkpoint frame_steps = {shown} is not a strictly increasing list from 0 to "
                                 f"at most the problem's {last} steps: the checkpoint belongs to another problem "
                                 "or is corrupt")
    shape, dim = tuple(problem.shape), problem.dim
    out = {"f": f, "frame_steps": steps}
    for key, tail in (("density", shape), ("velocity", shape + (dim,)), ("force", (dim,))):
        out[key] = _array(state, key, (n,) + tail, "f", dtype=np.float64)
    return out
